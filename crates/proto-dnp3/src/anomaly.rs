//! DNP3 anomalies: one `Copy` kind per Suricata-compatible event name.

/// What is wrong with DNP3 traffic; [`Dnp3Anomaly::name`] is the event name anomaly
/// records and rules use (`dnp3.bad_link_crc`, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Dnp3Anomaly {
    /// A link header whose CRC does not verify.
    BadLinkCrc,
    /// A link data block whose CRC does not verify.
    BadTransportCrc,
    /// A transport segment out of sequence.
    BadTransportSeq,
    /// More requests outstanding than an outstation serves.
    Flooded,
    /// A link length too small for the header.
    LenTooSmall,
    /// One master addressing many link addresses.
    LinkAddressScan,
    /// An application fragment or object that does not parse.
    Malformed,
    /// An operate on a session that selected nothing.
    OperateWithoutSelect,
    /// A fragment larger than the reassembly cap.
    ReassemblyOverflow,
    /// Requests sent without waiting for answers.
    RequestBurst,
    /// A reserved link address.
    ReservedAddress,
    /// A reserved application function.
    ReservedFunction,
    /// Bytes skipped to find the next link header.
    Resync,
    /// A select the outstation accepted, never operated.
    SelectNotOperated,
    /// A fragment whose segments go on too long.
    TooLongReassembly,
    /// More object headers than the cap.
    TooManyObjects,
    /// More points than the cap.
    TooManyPoints,
    /// An object group and variation of no known size.
    UnknownObject,
}

impl Dnp3Anomaly {
    /// The event name, with the protocol prefix.
    pub const fn name(self) -> &'static str {
        match self {
            Dnp3Anomaly::BadLinkCrc => "dnp3.bad_link_crc",
            Dnp3Anomaly::BadTransportCrc => "dnp3.bad_transport_crc",
            Dnp3Anomaly::BadTransportSeq => "dnp3.bad_transport_seq",
            Dnp3Anomaly::Flooded => "dnp3.flooded",
            Dnp3Anomaly::LenTooSmall => "dnp3.len_too_small",
            Dnp3Anomaly::LinkAddressScan => "dnp3.link_address_scan",
            Dnp3Anomaly::Malformed => "dnp3.malformed",
            Dnp3Anomaly::OperateWithoutSelect => "dnp3.operate_without_select",
            Dnp3Anomaly::ReassemblyOverflow => "dnp3.reassembly_overflow",
            Dnp3Anomaly::RequestBurst => "dnp3.request_burst",
            Dnp3Anomaly::ReservedAddress => "dnp3.reserved_address",
            Dnp3Anomaly::ReservedFunction => "dnp3.reserved_function",
            Dnp3Anomaly::Resync => "dnp3.resync",
            Dnp3Anomaly::SelectNotOperated => "dnp3.select_not_operated",
            Dnp3Anomaly::TooLongReassembly => "dnp3.too_long_reassembly",
            Dnp3Anomaly::TooManyObjects => "dnp3.too_many_objects",
            Dnp3Anomaly::TooManyPoints => "dnp3.too_many_points",
            Dnp3Anomaly::UnknownObject => "dnp3.unknown_object",
        }
    }
}
