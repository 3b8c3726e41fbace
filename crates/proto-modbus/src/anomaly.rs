//! Modbus anomalies: one `Copy` kind per Suricata-compatible event name, so a dissector
//! cannot raise an event no rule or tool knows (there is no catch-all).

/// What is wrong with Modbus traffic; [`ModbusAnomaly::name`] is the event name anomaly
/// records and rules use (`modbus.invalid_length`, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ModbusAnomaly {
    /// The MBAP protocol identifier is not 0.
    InvalidProtocolId,
    /// A length field disagrees with the bytes, or a PDU is too short for its function.
    InvalidLength,
    /// A unit identifier no device answers to.
    InvalidUnitIdentifier,
    /// A function code that is not defined.
    InvalidFunctionCode,
    /// A field outside the values its function allows.
    InvalidValue,
    /// An exception code that is not defined.
    InvalidExceptionCode,
    /// A response that does not answer its request (function, quantity).
    ValueMismatch,
    /// A response with no request.
    UnsolicitedResponse,
    /// More requests outstanding than a device serves.
    Flooded,
    /// An ADU longer than the specification's 260 bytes.
    PduTooLong,
    /// Bytes skipped to find the next MBAP header.
    Resync,
    /// One client addressing many unit identifiers.
    UnitIdScan,
}

impl ModbusAnomaly {
    /// The event name, as Suricata's Modbus parser names it, with the protocol prefix.
    pub const fn name(self) -> &'static str {
        match self {
            ModbusAnomaly::InvalidProtocolId => "modbus.invalid_protocol_id",
            ModbusAnomaly::InvalidLength => "modbus.invalid_length",
            ModbusAnomaly::InvalidUnitIdentifier => "modbus.invalid_unit_identifier",
            ModbusAnomaly::InvalidFunctionCode => "modbus.invalid_function_code",
            ModbusAnomaly::InvalidValue => "modbus.invalid_value",
            ModbusAnomaly::InvalidExceptionCode => "modbus.invalid_exception_code",
            ModbusAnomaly::ValueMismatch => "modbus.value_mismatch",
            ModbusAnomaly::UnsolicitedResponse => "modbus.unsolicited_response",
            ModbusAnomaly::Flooded => "modbus.flooded",
            ModbusAnomaly::PduTooLong => "modbus.pdu_too_long",
            ModbusAnomaly::Resync => "modbus.resync",
            ModbusAnomaly::UnitIdScan => "modbus.unit_id_scan",
        }
    }
}
