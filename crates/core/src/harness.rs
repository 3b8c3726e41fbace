//! What the protocol crates' fuzz harnesses share: a sink that serialises every event as
//! the EVE writer would, and a conversation fed from fuzz bytes.
use crate::dissect::{Dissector, PduEvent, PduSink, Pending, StreamCx};
use crate::flow::Direction;
use crate::observe::{Observer, Space};
use crate::sections::ProtocolCounts;
use crate::time::Timestamp;

/// Serialises every event body (so serialisation is fuzzed too) and keeps the counts.
#[derive(Debug, Default)]
pub struct SerializingSink {
    pub counts: ProtocolCounts,
    pub anomalies: u64,
}

impl PduSink for SerializingSink {
    fn pdu<E: PduEvent>(&mut self, _cx: &StreamCx, event: &E) {
        let _ = serde_json::to_vec(event.body());
    }
    fn counts(&mut self) -> &mut ProtocolCounts {
        &mut self.counts
    }
    fn anomaly(&mut self, _cx: &StreamCx, _event: &'static str, _offset: u64, reason: std::fmt::Arguments<'_>) {
        // Formatted, so the fuzzers reach every reason's formatting.
        let _ = reason.to_string();
        self.anomalies += 1;
    }
}

/// Feed `data` to one flow's dissector as a conversation of chunks. Each chunk's first
/// byte picks the direction (bit 0) and a gap before it (bit 1; with a length of 0, the
/// memory budget's shedding instead); with `datagrams`, bit 2 makes it a datagram and the
/// length is the rest (at most 31), else the length is bits 2 and up (at most 63). Ends
/// with `finish`.
pub fn conversation<D: Dissector>(d: &mut D, data: &[u8], datagrams: bool, pending_cap: usize, sink: &mut SerializingSink) {
    let mut pending = [Pending::default(), Pending::default()];
    let mut offsets = [0u64; 2];
    let mut rest = data;
    while let Some((&ctl, after)) = rest.split_first() {
        let len = usize::from(if datagrams { ctl >> 3 } else { ctl >> 2 }).min(after.len());
        let (chunk, next) = after.split_at_checked(len).unwrap_or((after, &[]));
        let side = usize::from(ctl & 1);
        let dir = if side == 0 { Direction::ToServer } else { Direction::ToClient };
        let (Some(p), Some(off)) = (pending.get_mut(side), offsets.get_mut(side)) else { break };
        let cx = StreamCx { ts: Timestamp::from_secs_nanos(0, u32::from(ctl) * 1000), dir, offset: *off };
        if ctl & 2 != 0 && len == 0 {
            // The memory budget wants room: both directions' partial PDUs and the
            // dissector's own holdings go, as the engine sheds them, and nothing stays.
            for (q, dir) in pending.iter_mut().zip([Direction::ToServer, Direction::ToClient]) {
                q.shed(d, &StreamCx { dir, ..cx }, sink);
                assert_eq!(q.held(), 0, "a shed pending buffer holds nothing");
            }
            d.shed();
            assert_eq!(d.held(), 0, "a shed dissector holds nothing");
            rest = next;
            continue;
        }
        if ctl & 2 != 0 {
            p.gap(d, &cx, 1, sink);
        }
        if datagrams && ctl & 4 != 0 {
            d.datagram(&cx, chunk, sink);
        } else {
            p.feed(d, &cx, chunk, pending_cap, sink);
        }
        *off += chunk.len() as u64;
        rest = next;
    }
    d.finish(Timestamp::default(), sink);
}

/// Writes down every [`Observer`] call, for the dissectors' `observe` tests.
#[derive(Debug, Default)]
pub struct Recorder {
    pub calls: Vec<String>,
}

impl Observer for Recorder {
    fn function(&mut self, code: u32, name: &'static str) {
        self.calls.push(format!("function {code} {name}"));
    }
    fn range(&mut self, space: Space, start: u32, count: u32, write: bool) {
        self.calls.push(format!("range {} {start}+{count} write={write}", space.name()));
    }
    fn value(&mut self, space: Space, address: u32, value: f64) {
        self.calls.push(format!("value {} {address} = {value}", space.name()));
    }
    fn identity(&mut self, attribute: &'static str, value: &str) {
        self.calls.push(format!("identity {attribute} {value}"));
    }
}
