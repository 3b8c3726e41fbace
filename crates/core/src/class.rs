//! What a protocol function does, in the seven classes a segmentation policy allows or
//! denies (IEC 62443 conduits name them so): every function code of every dissector
//! maps to exactly one.
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FunctionClass {
    /// Reads process data (registers, points, variables).
    Read,
    /// Changes process data (setpoints, outputs, points).
    Write,
    /// Changes what the device runs: logic and block downloads, deletes, firmware.
    Program,
    /// Operational control of the process and its reporting: time, freezes, unsolicited
    /// reporting, classes, mode changes short of stopping. Functions a dissector does not
    /// know are taken as control (denied unless allowed).
    Control,
    /// Counters, event logs, diagnostic registers.
    Diagnostic,
    /// Who the device is: identification objects, SZL, device attributes.
    Identification,
    /// Device management: restarting, stopping, starting, initialising a device or its
    /// application, forcing it to listen only, reserving it. An HMI's polling conduit
    /// may allow control and never these.
    Management,
}

impl FunctionClass {
    pub const ALL: [FunctionClass; 7] = [
        FunctionClass::Read,
        FunctionClass::Write,
        FunctionClass::Program,
        FunctionClass::Control,
        FunctionClass::Diagnostic,
        FunctionClass::Identification,
        FunctionClass::Management,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FunctionClass::Read => "read",
            FunctionClass::Write => "write",
            FunctionClass::Program => "program",
            FunctionClass::Control => "control",
            FunctionClass::Diagnostic => "diagnostic",
            FunctionClass::Identification => "identification",
            FunctionClass::Management => "management",
        }
    }

    pub fn from_name(name: &str) -> Option<FunctionClass> {
        FunctionClass::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

/// One row of a protocol's class table: a function (or sub-function) code, its name in
/// EVE, and its class.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClassRow {
    /// How the code is written (`3`, `8/4` for a sub-function, `0x29`).
    pub code: String,
    pub name: &'static str,
    pub class: FunctionClass,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for c in FunctionClass::ALL {
            assert_eq!(FunctionClass::from_name(c.as_str()), Some(c));
            assert_eq!(serde_json::to_string(&c).unwrap(), format!("\"{}\"", c.as_str()));
        }
        assert_eq!(FunctionClass::from_name("delete"), None);
    }
}
