//! Protocols and data spaces as a baseline file writes them (`modbus`,
//! `modbus/unit1/holding_registers`, `s7/DB5`, `dnp3/10/g12`): each protocol's crate
//! names its own; a file is read against the registered protocols, which the reader
//! holds for the length of the read.
use otsentry_core::{AppProto, Space};
use std::cell::RefCell;

thread_local! {
    /// The protocols a file being read may name.
    static KNOWN: RefCell<Vec<AppProto>> = const { RefCell::new(Vec::new()) };
}

/// Runs `read` with `protocols` as those a file may name.
pub(crate) fn reading<T>(protocols: &[AppProto], read: impl FnOnce() -> T) -> T {
    let before = KNOWN.with(|k| k.replace(protocols.to_vec()));
    let out = read();
    KNOWN.with(|k| k.replace(before));
    out
}

pub fn name(space: Space) -> String {
    space.name()
}

/// The space `text` names, or why it names none.
pub(crate) fn parse(text: &str) -> Result<Space, String> {
    KNOWN.with(|k| Space::parse(text, &k.borrow()))
}

/// The protocol `name` names, or why it names none.
pub(crate) fn protocol(name: &str) -> Result<AppProto, String> {
    KNOWN.with(|k| {
        let known = k.borrow();
        known.iter().find(|p| p.name() == name).copied().ok_or_else(|| {
            let names: Vec<&str> = known.iter().map(|p| p.name()).collect();
            format!("{name:?} is not a protocol (one of {})", names.join(", "))
        })
    })
}

/// Reads a pair's `protocol` by name.
pub(crate) fn read_protocol<'de, D: serde::Deserializer<'de>>(d: D) -> Result<AppProto, D::Error> {
    let text = <String as serde::Deserialize>::deserialize(d)?;
    protocol(&text).map_err(serde::de::Error::custom)
}
