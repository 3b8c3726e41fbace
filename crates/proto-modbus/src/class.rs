//! Modbus functions by what they do, for the segmentation policy: every code maps to
//! one [`FunctionClass`]; diagnostics, MEI and UMAS requests by their sub-code.
use crate::function::{diagnostic_name, umas_name, Function};
use otsentry_core::{ClassRow, FunctionClass};

use FunctionClass::{Control, Diagnostic, Identification, Management, Program, Read, Write};

/// The class of a request with `function`, and its diagnostics sub-function, MEI type or
/// UMAS code where it has one.
pub fn function_class(function: u8, diagnostic: Option<u16>, mei: Option<u8>, umas: Option<u8>) -> FunctionClass {
    match function {
        1..=4 | 7 | 20 | 24 => Read,
        5 | 6 | 15 | 16 | 21..=23 => Write,
        11 | 12 => Diagnostic,
        // Restart communications and force listen-only take the device off the bus.
        8 => match diagnostic {
            Some(0x01 | 0x04) => Management,
            None => Control,
            Some(_) => Diagnostic,
        },
        17 => Identification,
        // Read Device Identification; CANopen general reference (13) reaches the bus.
        43 => match mei {
            Some(0x0E) => Identification,
            _ => Control,
        },
        90 => umas.map_or(Control, umas_class),
        // User-defined and reserved codes: unknown, so denied unless control is.
        _ => Control,
    }
}

fn umas_class(code: u8) -> FunctionClass {
    match code {
        0x01..=0x06 => Identification,
        0x20 | 0x22 | 0x24 | 0x70 => Read,
        0x23 | 0x25 | 0x71 => Write,
        0x26 | 0x30..=0x35 => Program,
        0x0A | 0x12 | 0x39 | 0x50 | 0x58 | 0x73 => Diagnostic,
        // Take and release the PLC's reservation, start and stop it.
        0x10 | 0x11 | 0x40 | 0x41 => Management,
        // Codes not listed.
        _ => Control,
    }
}

/// Every function the dissector names, with its class: the table `otsentry policy
/// classes` prints.
pub fn class_table() -> Vec<ClassRow> {
    let mut rows = Vec::new();
    for code in 1..=127u8 {
        let f = Function(code);
        let name = f.name();
        if matches!(name, "reserved" | "user_defined") {
            continue;
        }
        match code {
            8 => {
                for sub in [0x00u16, 0x01, 0x02, 0x03, 0x04, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F, 0x10, 0x11, 0x12, 0x14] {
                    let class = function_class(code, Some(sub), None, None);
                    rows.push(ClassRow { code: format!("8/{sub}"), name: diagnostic_name(sub), class });
                }
            }
            43 => {
                rows.push(ClassRow {
                    code: "43/14".into(),
                    name: "read_device_identification",
                    class: function_class(43, None, Some(14), None),
                });
                rows.push(ClassRow {
                    code: "43/13".into(),
                    name: "canopen_general_reference",
                    class: function_class(43, None, Some(13), None),
                });
            }
            90 => {
                for umas in 0..=255u8 {
                    let name = umas_name(umas);
                    if name != "unknown" {
                        rows.push(ClassRow { code: format!("90/0x{umas:02X}"), name, class: umas_class(umas) });
                    }
                }
            }
            _ => rows.push(ClassRow { code: code.to_string(), name, class: function_class(code, None, None, None) }),
        }
    }
    rows.push(ClassRow { code: "65-72, 100-110".into(), name: "user_defined", class: function_class(65, None, None, None) });
    rows.push(ClassRow { code: "other".into(), name: "reserved", class: function_class(0, None, None, None) });
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dangerous_functions_are_not_reads() {
        assert_eq!(function_class(3, None, None, None), Read);
        assert_eq!(function_class(16, None, None, None), Write);
        assert_eq!(function_class(8, Some(0x04), None, None), Management);
        assert_eq!(function_class(8, Some(0x00), None, None), Diagnostic);
        assert_eq!(function_class(43, None, Some(14), None), Identification);
        assert_eq!(function_class(90, None, None, Some(0x41)), Management);
        assert_eq!(function_class(90, None, None, Some(0x34)), Program);
        assert_eq!(function_class(90, None, None, Some(0x22)), Read);
        assert_eq!(function_class(200, None, None, None), Control);
        let table = class_table();
        assert!(table.iter().any(|r| r.code == "90/0x41" && r.name == "stop_plc" && r.class == Management));
        // Each code appears once.
        let mut codes: Vec<&str> = table.iter().map(|r| r.code.as_str()).collect();
        codes.sort_unstable();
        let n = codes.len();
        codes.dedup();
        assert_eq!(codes.len(), n);
    }
}
