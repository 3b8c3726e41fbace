//! S7comm and S7comm-plus anomalies: one `Copy` kind per event name.

/// What is wrong with ISO-on-TCP, S7comm or S7comm-plus traffic; [`S7Anomaly::name`] is
/// the event name anomaly records and rules use (`s7comm.bad_tpkt_length`, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum S7Anomaly {
    /// A TPKT length that disagrees with what it carries.
    BadTpktLength,
    /// A TPKT version other than 3.
    BadTpktVersion,
    /// A COTP length indicator that does not fit the TPKT.
    CotpLength,
    /// A COTP TPDU code that is not defined.
    CotpUnknownType,
    /// An S7comm PDU whose header does not parse.
    Malformed,
    /// COTP data units that grow past the reassembly cap.
    ReassemblyOverflow,
    /// Bytes skipped to find the next TPKT header.
    Resync,
    /// A job or ack function code that is not defined.
    UnknownFunction,
    /// A COTP payload that is neither S7comm nor S7comm-plus.
    UnknownProtocol,
    /// An S7comm-plus PDU that does not parse.
    PlusMalformed,
    /// A data item whose value overruns the data.
    DataOverrun,
    /// Fewer items than the item count announces.
    ItemCountMismatch,
    /// Parameter and data lengths that disagree with the bytes.
    LengthMismatch,
    /// A parameter too short for its function, or an item specification that overruns it.
    ParamOverrun,
    /// A ROSCTR (message type) that is not defined.
    UnknownRosctr,
}

impl S7Anomaly {
    /// The event name, with the protocol prefix.
    pub const fn name(self) -> &'static str {
        match self {
            S7Anomaly::BadTpktLength => "s7comm.bad_tpkt_length",
            S7Anomaly::BadTpktVersion => "s7comm.bad_tpkt_version",
            S7Anomaly::CotpLength => "s7comm.cotp_length",
            S7Anomaly::CotpUnknownType => "s7comm.cotp_unknown_type",
            S7Anomaly::Malformed => "s7comm.malformed",
            S7Anomaly::ReassemblyOverflow => "s7comm.reassembly_overflow",
            S7Anomaly::Resync => "s7comm.resync",
            S7Anomaly::UnknownFunction => "s7comm.unknown_function",
            S7Anomaly::UnknownProtocol => "s7comm.unknown_protocol",
            S7Anomaly::PlusMalformed => "s7comm_plus.malformed",
            S7Anomaly::DataOverrun => "s7comm.data_overrun",
            S7Anomaly::ItemCountMismatch => "s7comm.item_count_mismatch",
            S7Anomaly::LengthMismatch => "s7comm.length_mismatch",
            S7Anomaly::ParamOverrun => "s7comm.param_overrun",
            S7Anomaly::UnknownRosctr => "s7comm.unknown_rosctr",
        }
    }

    /// Whether it is counted as S7comm-plus's.
    pub const fn plus(self) -> bool {
        matches!(self, S7Anomaly::PlusMalformed)
    }
}
