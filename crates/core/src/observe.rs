//! What a protocol event tells a learned baseline: the function a request used, the
//! data it read or wrote, the values it wrote, and who a device says it is. Each
//! dissector's events describe themselves through [`Observer`]; the baseline crate
//! learns from these calls and checks against them, knowing no protocol.

/// A data space a request addresses: a Modbus table of one unit, an S7 memory area (a
/// data block by number), a DNP3 object group of one outstation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Space {
    Modbus {
        unit: u8,
        table: ModbusTable,
    },
    /// S7 area code (0x84 data blocks, 0x83 flags, 0x82 outputs ...) and DB number (0
    /// outside data blocks).
    S7 {
        area: u8,
        db: u16,
    },
    /// DNP3 outstation (link address) and object group.
    Dnp3 {
        outstation: u16,
        group: u8,
    },
}

/// The four Modbus data tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ModbusTable {
    Coils,
    DiscreteInputs,
    InputRegisters,
    HoldingRegisters,
    /// Function 20/21 file records: the file number.
    File(u16),
}

/// Receives what an event tells (see the module's notes). Addresses count in the
/// space's own unit: registers and coils, S7 bytes, DNP3 point indexes.
pub trait Observer {
    /// A request of function `code`, named `name`. The code is the protocol's own,
    /// with a sub-function folded in where the function alone says little (Modbus
    /// diagnostics, MEI and UMAS; S7 user data groups): see each dissector's `observe`.
    fn function(&mut self, code: u32, name: &'static str);
    /// The request reads (or, with `write`, writes) `count` units of `space` from `start`.
    fn range(&mut self, space: Space, start: u32, count: u32, write: bool);
    /// It writes `value` at `address` of `space`.
    fn value(&mut self, space: Space, address: u32, value: f64);
    /// The server says what it is: `attribute` (vendor, product, model, firmware,
    /// hardware, serial, name) is `value`.
    fn identity(&mut self, attribute: &'static str, value: &str);
}

/// Identity attributes, in the order a baseline file lists them.
pub const IDENTITY_ATTRIBUTES: [&str; 7] = ["vendor", "product", "model", "firmware", "hardware", "serial", "name"];
