//! S7comm jobs and user data, and S7comm-plus functions, by what they do, for the
//! segmentation policy.
use crate::names::{function_group_name, function_name, plus_function_name, subfunction_name};
use otsentry_core::{ClassRow, FunctionClass};

use FunctionClass::{Control, Diagnostic, Identification, Management, Program, Read, Write};

/// PI services that change what the PLC holds (insert, delete, compress, copy RAM to
/// ROM); the others (start, and those not known) change its state.
const PROGRAM_SERVICES: [&str; 4] = ["_INSE", "_DELE", "_GARB", "_MODU"];
/// PI services that start the PLC or reset its memory.
const MANAGEMENT_SERVICES: [&str; 2] = ["P_PROGRAM", "_MSRST"];

/// The class of a job with `function` (and, for a PI service, its service name).
pub fn job_class(function: u8, pi_service: Option<&str>) -> FunctionClass {
    match function {
        // Communication setup opens every conversation, reads included.
        0x04 | 0xF0 => Read,
        0x05 => Write,
        0x1A..=0x1F => Program,
        0x28 if pi_service.is_some_and(|s| PROGRAM_SERVICES.contains(&s)) => Program,
        0x28 if pi_service.is_some_and(|s| MANAGEMENT_SERVICES.contains(&s)) => Management,
        // PLC stop.
        0x29 => Management,
        // CPU services, other PI services, and codes not known.
        _ => Control,
    }
}

/// The class of a user data request in function `group` with `subfunction`.
pub fn userdata_class(group: u8, subfunction: u8) -> FunctionClass {
    match (group, subfunction) {
        (0x0, _) => Control,
        (0x1, 0x01 | 0x0C | 0x0E | 0x13) => Diagnostic,
        (0x1, 0x02) => Write,
        (0x1, 0x0F) => Program,
        (0x2, _) => Read,
        (0x3, _) => Identification,
        (0x4, 0x01) => Identification,
        (0x4, _) => Diagnostic,
        (0x6, _) => Write,
        (0x7, 0x01 | 0x03) => Read,
        (0xF, _) => Program,
        // Forces, passwords, clock setting, and what is not known.
        _ => Control,
    }
}

/// The class of an S7comm-plus request with `function`.
pub fn plus_class(function: u16) -> FunctionClass {
    match function {
        0x04BB | 0x0524 | 0x054C | 0x0586 => Read,
        0x04F2 | 0x0542 => Write,
        0x04CA | 0x04D4 => Program,
        // Sequences and invocations (start, stop), and what is not known.
        _ => Control,
    }
}

/// Every job, user data function and S7comm-plus function the dissector names.
pub fn class_table() -> Vec<ClassRow> {
    let mut rows = Vec::new();
    for f in 0..=255u8 {
        let name = function_name(f);
        if name == "unknown" {
            continue;
        }
        rows.push(ClassRow { code: format!("job 0x{f:02X}"), name, class: job_class(f, None) });
        if f == 0x28 {
            for s in PROGRAM_SERVICES.into_iter().chain(MANAGEMENT_SERVICES) {
                rows.push(ClassRow { code: format!("job 0x28 {s}"), name: "pi_service", class: job_class(f, Some(s)) });
            }
        }
    }
    for group in 0..=0xFu8 {
        if function_group_name(group) == "unknown" {
            continue;
        }
        let mut any = false;
        for sub in 0..=255u8 {
            let name = subfunction_name(group, sub);
            if name != "unknown" {
                any = true;
                rows.push(ClassRow { code: format!("userdata {group:X}/0x{sub:02X}"), name, class: userdata_class(group, sub) });
            }
        }
        if !any {
            rows.push(ClassRow {
                code: format!("userdata {group:X}/*"),
                name: function_group_name(group),
                class: userdata_class(group, 0),
            });
        }
    }
    for f in 0..=0xFFFFu16 {
        let name = plus_function_name(f);
        if name != "unknown" {
            rows.push(ClassRow { code: format!("plus 0x{f:04X}"), name, class: plus_class(f) });
        }
    }
    rows.push(ClassRow { code: "other".into(), name: "unknown", class: job_class(0x77, None) });
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stops_downloads_and_passwords_are_not_reads() {
        assert_eq!(job_class(0x04, None), Read);
        assert_eq!(job_class(0xF0, None), Read);
        assert_eq!(job_class(0x05, None), Write);
        assert_eq!(job_class(0x1B, None), Program);
        assert_eq!(job_class(0x29, None), Management);
        assert_eq!(job_class(0x28, Some("P_PROGRAM")), Management);
        assert_eq!(job_class(0x28, Some("P_UNKNOWN")), Control);
        assert_eq!(job_class(0x28, Some("_INSE")), Program);
        assert_eq!(userdata_class(0x4, 0x01), Identification);
        assert_eq!(userdata_class(0x5, 0x01), Control);
        assert_eq!(userdata_class(0x7, 0x02), Control);
        assert_eq!(plus_class(0x04F2), Write);
        let table = class_table();
        assert!(table.iter().any(|r| r.name == "plc_stop" && r.class == Management));
        assert!(table.iter().any(|r| r.name == "read_szl" && r.class == Identification));
    }
}
