//! The fuzz harness, shared by the cargo-fuzz target and the corpus replay test.

use crate::{ModbusConfig, ModbusDissector};
use otsentry_core::{Direction, Dissector, PduEvent, PduSink, Pending, ProtocolCounts, StreamCx, Timestamp};

struct Sink {
    counts: ProtocolCounts,
}

impl PduSink for Sink {
    fn pdu<E: PduEvent>(&mut self, _cx: &StreamCx, event: &E) {
        // Serialise every record, as the EVE writer would.
        let _ = serde_json::to_vec(event.body());
    }
    fn counts(&mut self) -> &mut ProtocolCounts {
        &mut self.counts
    }
    fn anomaly(&mut self, _cx: &StreamCx, _event: &'static str, _offset: u64, _reason: String) {}
}

/// Feed `data` to one flow's dissector as a conversation: each chunk's first byte picks
/// the direction (bit 0), whether a gap precedes it (bit 1) and its length (the rest).
pub fn run(data: &[u8]) {
    let mut d = ModbusDissector::new(ModbusConfig { max_open: 8 });
    let mut sink = Sink { counts: ProtocolCounts::default() };
    let mut pending = [Pending::default(), Pending::default()];
    let mut offsets = [0u64; 2];
    let mut rest = data;
    while let Some((&ctl, after)) = rest.split_first() {
        let len = usize::from(ctl >> 2).min(after.len());
        let (chunk, next) = after.split_at_checked(len).unwrap_or((after, &[]));
        let side = usize::from(ctl & 1);
        let dir = if side == 0 { Direction::ToServer } else { Direction::ToClient };
        let (Some(p), Some(off)) = (pending.get_mut(side), offsets.get_mut(side)) else { break };
        let cx = StreamCx { ts: Timestamp::from_secs_nanos(0, u32::from(ctl) * 1000), dir, offset: *off };
        if ctl & 2 != 0 {
            p.gap(&mut d, &cx, 1, &mut sink);
        }
        p.feed(&mut d, &cx, chunk, 1024, &mut sink);
        *off += chunk.len() as u64;
        rest = next;
    }
    d.finish(Timestamp::default(), &mut sink);
    assert!(sink.counts.modbus.exceptions <= sink.counts.modbus.pdus);
}
