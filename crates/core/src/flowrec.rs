//! The EVE `flow` record, written when a conversation ends (or the run does).
use crate::record::{EventHeader, Record};
use crate::time::Timestamp;
use serde::Serialize;

/// A finished flow: `src` in the header is the client.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FlowRecord {
    #[serde(skip)]
    pub header: EventHeader,
    pub flow: FlowBody,
    pub tcp: Option<TcpBody>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FlowBody {
    pub pkts_toserver: u64,
    pub pkts_toclient: u64,
    pub bytes_toserver: u64,
    pub bytes_toclient: u64,
    /// Times of the first and last packet.
    pub start: Timestamp,
    pub end: Timestamp,
    /// Whole seconds from start to end.
    pub age: i64,
    /// `new` (one direction only), `established` or `closed`.
    pub state: &'static str,
    /// `timeout`, `forced` (evicted under the flow cap) or `shutdown` (end of run).
    pub reason: &'static str,
    pub alerted: bool,
}

/// TCP detail of a flow, including what reassembly saw.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct TcpBody {
    /// Flags seen, as two hex digits (Suricata's form), in total and per direction.
    pub tcp_flags: String,
    pub tcp_flags_ts: String,
    pub tcp_flags_tc: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub syn: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub fin: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub rst: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub psh: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub ack: bool,
    pub state: &'static str,
    /// Picked up without its handshake.
    pub midstream: bool,
    pub gaps: u64,
    /// Acknowledged by the receiver but never captured, both directions.
    pub missed_bytes: u64,
    pub overlap_conflicts: u64,
}

impl TcpBody {
    /// Fill the flag fields from the flags seen to the server and to the client.
    pub fn with_flags(ts: u8, tc: u8) -> Self {
        let all = ts | tc;
        TcpBody {
            tcp_flags: format!("{all:02x}"),
            tcp_flags_ts: format!("{ts:02x}"),
            tcp_flags_tc: format!("{tc:02x}"),
            fin: all & 0x01 != 0,
            syn: all & 0x02 != 0,
            rst: all & 0x04 != 0,
            psh: all & 0x08 != 0,
            ack: all & 0x10 != 0,
            ..Default::default()
        }
    }
}

impl Record for FlowRecord {
    type Body = FlowBody;
    type Extra = TcpBody;
    fn event_type(&self) -> &'static str {
        "flow"
    }
    fn header(&self) -> &EventHeader {
        &self.header
    }
    fn body(&self) -> &FlowBody {
        &self.flow
    }
    fn extra(&self) -> Option<(&'static str, &TcpBody)> {
        self.tcp.as_ref().map(|t| ("tcp", t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_print_as_suricata_does() {
        let t = TcpBody::with_flags(0x1B, 0x12);
        assert_eq!((t.tcp_flags.as_str(), t.tcp_flags_ts.as_str(), t.tcp_flags_tc.as_str()), ("1b", "1b", "12"));
        assert!(t.syn && t.fin && t.psh && t.ack && !t.rst);
        let v = serde_json::to_value(&t).unwrap();
        assert!(v.get("rst").is_none(), "unset flags are left out");
    }
}
