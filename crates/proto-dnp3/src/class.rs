//! DNP3 application functions by what they do, for the segmentation policy.
use crate::app::function_name;
use otsentry_core::{ClassRow, FunctionClass};

use FunctionClass::{Control, Diagnostic, Management, Program, Read, Write};

/// The class of an application fragment with `function`.
pub fn function_class(function: u8) -> FunctionClass {
    match function {
        // A confirm and the responses carry data the master asked for.
        0x00 | 0x01 | 0x81 | 0x82 => Read,
        // Point writes and operating outputs change process data.
        0x02..=0x06 => Write,
        0x17 => Diagnostic,
        // Configuration saves and activation, file transfer: what the device runs on.
        0x13 | 0x19..=0x1F => Program,
        // Cold and warm restart, initialise data and application, start and stop it.
        0x0D..=0x12 => Management,
        // Freezes, unsolicited reporting, classes, time, authentication, and reserved
        // codes.
        _ => Control,
    }
}

/// Every function the dissector names, with its class.
pub fn class_table() -> Vec<ClassRow> {
    let mut rows: Vec<ClassRow> = (0..=255u8)
        .filter(|&code| function_name(code) != "reserved")
        .map(|code| ClassRow { code: format!("0x{code:02X}"), name: function_name(code), class: function_class(code) })
        .collect();
    rows.push(ClassRow { code: "other".into(), name: "reserved", class: function_class(0x50) });
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restarts_and_file_transfer_are_not_reads() {
        assert_eq!(function_class(0x01), Read);
        assert_eq!(function_class(0x05), Write);
        assert_eq!(function_class(0x0D), Management);
        assert_eq!(function_class(0x12), Management);
        assert_eq!(function_class(0x14), Control, "enable unsolicited is not a restart");
        assert_eq!(function_class(0x19), Program);
        assert_eq!(function_class(0x60), Control);
        assert_eq!(class_table().len(), 37 + 1);
    }
}
