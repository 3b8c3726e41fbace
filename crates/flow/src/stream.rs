//! TCP reassembly for one direction of a connection.
//!
//! Bytes are handed out in stream order as [`Delivery`] items. When a segment arrives in
//! order and nothing is buffered, the packet's own bytes are lent out (the fast path);
//! only out-of-order data is copied. Overlaps keep the first copy seen, and report a
//! conflict when a later copy differs. Holes end in a [`Delivery::Gap`] so a parser can
//! resynchronise: when the peer has acknowledged bytes the capture never saw (capture
//! loss), when a cap forces progress, or when the flow ends. An acknowledged hole is only
//! skipped once later data from the same side arrives (or the flow ends): a SPAN port may
//! mirror the receiver's ACK before the data it acknowledges, and that data must not be
//! thrown away as late.
//!
//! Sequence numbers are mapped to 64-bit stream offsets from the first byte this
//! direction carried (or the first one seen, on a midstream pickup), so wrap-around is
//! handled once here.
use otsentry_core::{MemoryBudget, MemoryKind};

/// Caps for one direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamConfig {
    /// Out-of-order bytes one direction may hold.
    pub max_buffered: usize,
    /// Out-of-order segments one direction may hold.
    pub max_segments: usize,
}

impl Default for StreamConfig {
    fn default() -> Self {
        StreamConfig { max_buffered: 256 * 1024, max_segments: 256 }
    }
}

/// Out-of-order bytes shared by every stream of a flow table, under its own limit and
/// the run's memory budget (shared with other workers' tables).
#[derive(Clone, Debug)]
pub struct Budget {
    pub limit: usize,
    pub used: usize,
    pub peak: usize,
    memory: MemoryBudget,
}

impl Budget {
    pub fn new(limit: usize) -> Self {
        Budget::shared(limit, MemoryBudget::default())
    }

    /// A table's budget that also draws on the run's memory budget.
    pub fn shared(limit: usize, memory: MemoryBudget) -> Self {
        Budget { limit, used: 0, peak: 0, memory }
    }

    fn take(&mut self, n: usize) -> bool {
        if self.limit.saturating_sub(self.used) < n || !self.memory.try_charge(MemoryKind::Reassembly, n as u64) {
            // The stream skips its first hole to make room: held bytes gave way.
            self.memory.gave_way(MemoryKind::Reassembly, 1);
            return false;
        }
        self.used += n;
        self.peak = self.peak.max(self.used);
        true
    }

    fn give(&mut self, n: usize) {
        let n = n.min(self.used);
        self.used -= n;
        self.memory.release(MemoryKind::Reassembly, n as u64);
    }
}

/// Why a hole in the stream was skipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GapReason {
    /// The peer acknowledged bytes that the capture never carried: capture loss.
    Acked,
    /// A reassembly cap was reached; the hole was skipped to free the buffer.
    Overflow,
    /// The flow ended with the hole still open.
    End,
}

/// What a stream hands to its consumer, in stream order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery<'a> {
    /// The next bytes of the stream, starting at `offset`.
    Data { offset: u64, bytes: &'a [u8] },
    /// `len` bytes at `offset` will never be seen.
    Gap { offset: u64, len: u64, reason: GapReason },
    /// A retransmission carried different bytes for `len` bytes at `offset`; the
    /// first copy was kept.
    Conflict { offset: u64, len: u64 },
}

/// Counters of one direction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StreamStats {
    /// Bytes skipped because the peer acknowledged them but they were never captured.
    pub missed_bytes: u64,
    /// Bytes skipped because a cap forced progress.
    pub overflow_bytes: u64,
    /// Bytes skipped at the end of the flow.
    pub end_gap_bytes: u64,
    /// Bytes that arrived again, or after their place was skipped.
    pub retransmitted_bytes: u64,
    pub overlap_conflicts: u64,
    pub gaps: u64,
    pub ooo_segments: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Held {
    offset: u64,
    data: Box<[u8]>,
}

impl Held {
    fn end(&self) -> u64 {
        self.offset + self.data.len() as u64
    }
}

/// Acknowledgements further ahead than this are not believed (larger than any window).
const MAX_ACK_AHEAD: u32 = 1 << 30;

/// One direction of a TCP connection.
///
/// `repr(C)` keeps what every segment reads and writes in the first 64 bytes (one cache
/// line); the counters after them change only on unusual segments.
#[derive(Clone, Debug, Default)]
#[repr(C)]
pub struct Stream {
    /// Sequence number of the next byte to deliver; `None` until anything is known.
    next_seq: Option<u32>,
    /// Sequence number that the FIN occupies, once seen.
    fin_seq: Option<u32>,
    /// Stream offset of the next byte to deliver.
    next_off: u64,
    /// Stream offset up to which the peer has acknowledged.
    acked_off: u64,
    /// Out-of-order data, sorted by offset, never overlapping, all after `next_off`.
    held: Vec<Held>,
    held_bytes: usize,
    pub stats: StreamStats,
}

impl Stream {
    pub fn held_bytes(&self) -> usize {
        self.held_bytes
    }

    /// Bytes handed on as data: every offset passed that was not a gap.
    pub fn delivered_bytes(&self) -> u64 {
        let s = &self.stats;
        self.next_off - (s.missed_bytes + s.overflow_bytes + s.end_gap_bytes)
    }

    /// A SYN from this side: the stream starts after it.
    pub fn syn(&mut self, seq: u32) {
        if self.next_seq.is_none() {
            self.next_seq = Some(seq.wrapping_add(1));
        }
    }

    /// Offset of sequence number `seq`, which may be before the stream's start (negative).
    fn offset_of(&self, next_seq: u32, seq: u32) -> i128 {
        i128::from(self.next_off) + i128::from(seq.wrapping_sub(next_seq) as i32)
    }

    /// A segment from this side. A FIN is noted for acknowledgement arithmetic.
    pub fn segment(
        &mut self,
        cfg: &StreamConfig,
        budget: &mut Budget,
        seq: u32,
        payload: &[u8],
        fin: bool,
        out: &mut impl FnMut(Delivery<'_>),
    ) {
        if fin {
            self.fin_seq = Some(seq.wrapping_add(payload.len() as u32));
        }
        if payload.is_empty() {
            self.next_seq.get_or_insert(seq);
            return;
        }
        // The common case: the next bytes, nothing held.
        if self.next_seq == Some(seq) && self.held.is_empty() {
            self.deliver_borrowed(self.next_off, payload, out);
            return;
        }
        // Midstream pickup: the first segment seen sets the origin.
        let next_seq = *self.next_seq.get_or_insert(seq);
        let start = self.offset_of(next_seq, seq);
        let end = start + payload.len() as i128;
        let next = i128::from(self.next_off);
        if end <= next {
            self.stats.retransmitted_bytes += payload.len() as u64;
            return;
        }
        let skip = usize::try_from(next - start).unwrap_or(0).min(payload.len());
        self.stats.retransmitted_bytes += skip as u64;
        let data = payload.get(skip..).unwrap_or_default();
        let offset = u64::try_from(start.max(next)).unwrap_or(self.next_off);
        if offset > self.next_off && self.acked_off > self.next_off {
            // Data beyond an acknowledged hole: the hole's bytes are not coming.
            let to = self.held.first().map_or(offset, |h| h.offset.min(offset)).min(self.acked_off);
            self.skip_to(to, GapReason::Acked, out);
            self.drain(budget, out);
        }

        if offset == self.next_off && self.held.is_empty() {
            self.deliver_borrowed(offset, data, out);
            return;
        }
        self.hold(cfg, budget, offset, data, out);
        self.drain(budget, out);
    }

    fn deliver_borrowed(&mut self, offset: u64, data: &[u8], out: &mut impl FnMut(Delivery<'_>)) {
        out(Delivery::Data { offset, bytes: data });
        self.advance(data.len() as u64);
    }

    fn advance(&mut self, n: u64) {
        self.next_off += n;
        if let Some(s) = self.next_seq.as_mut() {
            *s = s.wrapping_add(n as u32);
        }
    }

    /// Buffer the parts of `data` (at `offset`) that no held segment covers yet, and
    /// report differing bytes where one does.
    fn hold(&mut self, cfg: &StreamConfig, budget: &mut Budget, offset: u64, data: &[u8], out: &mut impl FnMut(Delivery<'_>)) {
        self.stats.ooo_segments += u64::from(offset > self.next_off);
        let end = offset + data.len() as u64;
        let mut pieces: Vec<(u64, u64)> = Vec::new();
        let mut cursor = offset;
        for h in self.held.iter().filter(|h| h.end() > offset && h.offset < end) {
            if h.offset > cursor {
                pieces.push((cursor, h.offset));
            }
            let (lo, hi) = (h.offset.max(offset), h.end().min(end));
            let theirs = h.data.get(to_usize(lo - h.offset)..to_usize(hi - h.offset));
            let ours = data.get(to_usize(lo - offset)..to_usize(hi - offset));
            self.stats.retransmitted_bytes += hi - lo;
            if theirs != ours {
                self.stats.overlap_conflicts += 1;
                out(Delivery::Conflict { offset: lo, len: hi - lo });
            }
            cursor = cursor.max(hi);
        }
        if cursor < end {
            pieces.push((cursor, end));
        }
        for (lo, hi) in pieces {
            let bytes = data.get(to_usize(lo - offset)..to_usize(hi - offset)).unwrap_or_default();
            self.hold_piece(cfg, budget, lo, bytes, out);
        }
    }

    fn hold_piece(&mut self, cfg: &StreamConfig, budget: &mut Budget, offset: u64, bytes: &[u8], out: &mut impl FnMut(Delivery<'_>)) {
        loop {
            if offset == self.next_off && self.held.first().is_none_or(|h| h.offset > offset) {
                // The piece is next in line; it need not be copied.
                self.deliver_borrowed(offset, bytes, out);
                return;
            }
            let fits = self.held.len() < cfg.max_segments && self.held_bytes + bytes.len() <= cfg.max_buffered;
            if fits && budget.take(bytes.len()) {
                let at = self.held.partition_point(|h| h.offset < offset);
                self.held.insert(at, Held { offset, data: bytes.into() });
                self.held_bytes += bytes.len();
                return;
            }
            // Over a cap: skip the first hole to make progress, then try again. With
            // nothing held, the hole is the one before this piece.
            let first = self.held.first().map_or(offset, |h| h.offset.min(offset));
            self.skip_to(first, GapReason::Overflow, out);
            self.drain(budget, out);
        }
    }

    /// Skip the hole before `offset` (if any).
    fn skip_to(&mut self, offset: u64, reason: GapReason, out: &mut impl FnMut(Delivery<'_>)) {
        if offset <= self.next_off {
            return;
        }
        let len = offset - self.next_off;
        out(Delivery::Gap { offset: self.next_off, len, reason });
        self.stats.gaps += 1;
        match reason {
            GapReason::Acked => self.stats.missed_bytes += len,
            GapReason::Overflow => self.stats.overflow_bytes += len,
            GapReason::End => self.stats.end_gap_bytes += len,
        }
        self.advance(len);
    }

    /// Deliver held segments that are now in order.
    fn drain(&mut self, budget: &mut Budget, out: &mut impl FnMut(Delivery<'_>)) {
        let mut taken = 0;
        for h in &self.held {
            if h.offset > self.next_off {
                break;
            }
            let skip = to_usize(self.next_off - h.offset);
            if let Some(rest) = h.data.get(skip..).filter(|r| !r.is_empty()) {
                out(Delivery::Data { offset: self.next_off, bytes: rest });
                self.next_off += rest.len() as u64;
                self.next_seq = self.next_seq.map(|s| s.wrapping_add(rest.len() as u32));
            }
            taken += 1;
        }
        for h in self.held.drain(..taken) {
            self.held_bytes -= h.data.len();
            budget.give(h.data.len());
        }
    }

    /// The peer acknowledged up to `ack`. Bytes before it that were never seen are
    /// missing from the capture; they are skipped as a gap when later data arrives or the
    /// flow ends.
    pub fn acked(&mut self, ack: u32) {
        let Some(next_seq) = self.next_seq else {
            // Midstream: the peer tells us where this side's stream stands.
            self.next_seq = Some(ack);
            return;
        };
        let mut ahead = ack.wrapping_sub(next_seq);
        if ahead == 0 || ahead > MAX_ACK_AHEAD {
            return;
        }
        if self.fin_seq.is_some_and(|f| ack == f.wrapping_add(1)) {
            ahead -= 1; // The FIN's sequence number carries no byte.
        }
        self.acked_off = self.acked_off.max(self.next_off + u64::from(ahead));
    }

    /// The flow ends: skip acknowledged holes (capture loss) and deliver what is held,
    /// across its holes.
    pub fn finish(&mut self, budget: &mut Budget, out: &mut impl FnMut(Delivery<'_>)) {
        loop {
            let first = self.held.first().map(|h| h.offset);
            if self.acked_off > self.next_off {
                let to = first.map_or(self.acked_off, |f| f.min(self.acked_off));
                self.skip_to(to, GapReason::Acked, out);
            } else if let Some(f) = first {
                self.skip_to(f, GapReason::End, out);
            } else {
                break;
            }
            self.drain(budget, out);
        }
    }

    /// Older streams need the reassembly budget: skip the holes before what is held (as
    /// a cap would) and deliver it; the stream goes on from there.
    pub fn give_way(&mut self, budget: &mut Budget, out: &mut impl FnMut(Delivery<'_>)) {
        while let Some(first) = self.held.first().map(|h| h.offset) {
            self.skip_to(first, GapReason::Overflow, out);
            self.drain(budget, out);
        }
    }

    /// Drop what is held without delivering it (the flow is evicted under pressure).
    pub fn release(&mut self, budget: &mut Budget) {
        budget.give(self.held_bytes);
        self.held.clear();
        self.held_bytes = 0;
    }
}

fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}
