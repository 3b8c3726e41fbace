//! TCP reassembly of one direction: split points, reordering, overlaps, gaps, caps.
use otsentry_flow::{Budget, Delivery, GapReason, Stream, StreamConfig};
use proptest::prelude::*;

/// What a consumer saw: the bytes in order (gaps as `None` runs) and the conflicts.
#[derive(Debug, Default)]
struct Seen {
    bytes: Vec<Option<u8>>,
    gaps: Vec<(u64, u64, GapReason)>,
    conflicts: Vec<(u64, u64)>,
    data_calls: usize,
}

impl Seen {
    fn take(&mut self, d: Delivery<'_>) {
        match d {
            Delivery::Data { offset, bytes } => {
                assert_eq!(offset, self.bytes.len() as u64, "data must be delivered in order");
                self.bytes.extend(bytes.iter().copied().map(Some));
                self.data_calls += 1;
            }
            Delivery::Gap { offset, len, reason } => {
                assert_eq!(offset, self.bytes.len() as u64, "a gap starts where data stopped");
                self.bytes.extend(std::iter::repeat_n(None, len as usize));
                self.gaps.push((offset, len, reason));
            }
            Delivery::Conflict { offset, len } => self.conflicts.push((offset, len)),
        }
    }

    fn complete(&self) -> Option<Vec<u8>> {
        self.bytes.iter().copied().collect()
    }
}

struct Harness {
    stream: Stream,
    cfg: StreamConfig,
    budget: Budget,
    seen: Seen,
    isn: u32,
}

impl Harness {
    fn new(isn: u32) -> Self {
        Self::with(isn, StreamConfig::default(), Budget::new(1 << 20))
    }

    fn with(isn: u32, cfg: StreamConfig, budget: Budget) -> Self {
        let mut stream = Stream::default();
        stream.syn(isn);
        Harness { stream, cfg, budget, seen: Seen::default(), isn }
    }

    /// Send `bytes` at stream offset `off`.
    fn send(&mut self, off: usize, bytes: &[u8]) {
        let seq = self.isn.wrapping_add(1).wrapping_add(off as u32);
        let seen = &mut self.seen;
        self.stream.segment(&self.cfg, &mut self.budget, seq, bytes, false, &mut |d| seen.take(d));
    }

    fn ack(&mut self, off: usize) {
        self.stream.acked(self.isn.wrapping_add(1).wrapping_add(off as u32));
    }

    fn finish(&mut self) {
        let seen = &mut self.seen;
        self.stream.finish(&mut self.budget, &mut |d| seen.take(d));
    }
}

fn message(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 + 3) as u8).collect()
}

#[test]
fn every_split_point_of_a_three_segment_stream_is_delivered_in_order_without_copies() {
    let data = message(24);
    for i in 0..=data.len() {
        for j in i..=data.len() {
            let mut h = Harness::new(0xFFFF_FFF0); // sequence numbers wrap inside the stream
            h.send(0, &data[..i]);
            h.send(i, &data[i..j]);
            h.send(j, &data[j..]);
            assert_eq!(h.seen.complete().unwrap(), data, "split at {i},{j}");
            assert_eq!(h.stream.held_bytes(), 0, "in-order data is never buffered");
            assert_eq!(h.budget.peak, 0, "split at {i},{j}: nothing copied");
        }
    }
}

fn permutations(n: usize) -> Vec<Vec<usize>> {
    if n == 0 {
        return vec![vec![]];
    }
    let mut all = Vec::new();
    for p in permutations(n - 1) {
        for at in 0..=p.len() {
            let mut q = p.clone();
            q.insert(at, n - 1);
            all.push(q);
        }
    }
    all
}

#[test]
fn all_24_orders_of_a_four_segment_window_reassemble() {
    let data = message(40);
    let cuts = [0, 7, 18, 29, 40];
    let orders = permutations(4);
    assert_eq!(orders.len(), 24);
    for order in orders {
        let mut h = Harness::new(1000);
        for &k in &order {
            h.send(cuts[k], &data[cuts[k]..cuts[k + 1]]);
        }
        assert_eq!(h.seen.complete().unwrap(), data, "order {order:?}");
        assert!(h.seen.conflicts.is_empty());
        assert_eq!(h.stream.held_bytes(), 0, "order {order:?}");
        assert_eq!(h.budget.used, 0, "order {order:?}: budget returned");
        assert_eq!(h.stream.stats.ooo_segments > 0, order != [0, 1, 2, 3], "order {order:?}");
    }
}

#[test]
fn retransmission_of_delivered_data_is_trimmed_and_counted() {
    let data = message(30);
    let mut h = Harness::new(5);
    h.send(0, &data[..20]);
    h.send(10, &data[10..30]); // overlaps 10 delivered bytes
    h.send(0, &data[..5]); // wholly old
    assert_eq!(h.seen.complete().unwrap(), data);
    assert_eq!(h.stream.stats.retransmitted_bytes, 15);
}

#[test]
fn a_conflicting_overlap_keeps_the_first_copy_and_is_reported() {
    let data = message(30);
    let mut h = Harness::new(77);
    h.send(20, &data[20..30]); // held out of order
    let mut forged = data[15..30].to_vec();
    forged[8] ^= 0xFF; // stream byte 23 differs from the held copy
    h.send(15, &forged);
    h.send(0, &data[..15]);
    assert_eq!(h.seen.complete().unwrap(), data, "first copy wins");
    assert_eq!(h.seen.conflicts, vec![(20, 10)]);
    assert_eq!(h.stream.stats.overlap_conflicts, 1);
}

#[test]
fn an_agreeing_overlap_is_not_a_conflict() {
    let data = message(30);
    let mut h = Harness::new(77);
    h.send(20, &data[20..30]);
    h.send(12, &data[12..25]);
    h.send(0, &data[..12]);
    assert_eq!(h.seen.complete().unwrap(), data);
    assert!(h.seen.conflicts.is_empty());
}

#[test]
fn an_acknowledged_hole_becomes_a_gap_when_later_data_arrives() {
    let data = message(80);
    let mut h = Harness::new(9);
    h.send(0, &data[..20]);
    h.send(40, &data[40..60]); // 20..40 lost by the SPAN port
    h.ack(60); // the receiver had them all
    assert!(h.seen.gaps.is_empty(), "not yet: the data may only be late");
    h.send(60, &data[60..80]);
    assert_eq!(h.seen.gaps, vec![(20, 20, GapReason::Acked)]);
    assert_eq!(h.stream.stats.missed_bytes, 20);
    assert_eq!(h.seen.bytes.len(), 80);
    assert_eq!(h.seen.bytes[40..].iter().map(|b| b.unwrap()).collect::<Vec<_>>(), &data[40..]);
    // The lost segment turning up after all is old news.
    h.send(20, &data[20..40]);
    assert_eq!(h.seen.bytes.len(), 80);
    assert_eq!(h.stream.stats.retransmitted_bytes, 20);
}

#[test]
fn data_acknowledged_before_it_is_seen_is_not_a_gap() {
    // A SPAN port mirrored the receiver's ACK ahead of the data it acknowledges.
    let data = message(40);
    let mut h = Harness::new(9);
    h.send(0, &data[..20]);
    h.ack(40);
    h.send(20, &data[20..40]);
    assert_eq!(h.seen.complete().unwrap(), data);
    assert_eq!(h.stream.stats.missed_bytes, 0);
}

#[test]
fn an_acknowledged_hole_still_open_at_the_end_is_capture_loss() {
    let data = message(60);
    let mut h = Harness::new(9);
    h.send(0, &data[..20]);
    h.send(40, &data[40..50]);
    h.ack(60);
    h.finish();
    assert_eq!(h.seen.gaps, vec![(20, 20, GapReason::Acked), (50, 10, GapReason::Acked)]);
    assert_eq!(h.stream.stats.missed_bytes, 30);
    assert_eq!(h.stream.stats.end_gap_bytes, 0);
}

#[test]
fn an_acknowledged_hole_with_nothing_held_is_skipped_before_new_data() {
    let data = message(50);
    let mut h = Harness::new(9);
    h.send(0, &data[..10]);
    h.ack(30);
    h.send(30, &data[30..50]);
    assert_eq!(h.seen.gaps, vec![(10, 20, GapReason::Acked)]);
    assert_eq!(h.seen.data_calls, 2);
    assert_eq!(h.budget.peak, 0, "resumed data takes the fast path");
}

#[test]
fn an_ack_of_the_fin_is_not_capture_loss() {
    let mut h = Harness::new(100);
    let seen = &mut h.seen;
    h.stream.segment(&h.cfg, &mut h.budget, 101, b"abcd", true, &mut |d| seen.take(d));
    h.ack(5); // 4 bytes and the FIN
    assert!(h.seen.gaps.is_empty());
    assert_eq!(h.stream.stats.missed_bytes, 0);
}

#[test]
fn acknowledgements_far_ahead_are_not_believed() {
    let mut h = Harness::new(100);
    h.send(0, b"abcd");
    h.ack(0x7000_0000);
    assert!(h.seen.gaps.is_empty());
}

#[test]
fn a_midstream_pickup_starts_at_the_first_segment_seen() {
    let data = message(30);
    let mut stream = Stream::default();
    let mut budget = Budget::new(1 << 20);
    let cfg = StreamConfig::default();
    let mut seen = Seen::default();
    let seq = 0xFFFF_FFFA; // wraps during the second segment
    stream.segment(&cfg, &mut budget, seq, &data[..10], false, &mut |d| seen.take(d));
    stream.segment(&cfg, &mut budget, seq.wrapping_add(20), &data[20..], false, &mut |d| seen.take(d));
    stream.segment(&cfg, &mut budget, seq.wrapping_add(10), &data[10..20], false, &mut |d| seen.take(d));
    assert_eq!(seen.complete().unwrap(), data);
}

#[test]
fn a_midstream_side_is_placed_by_the_peers_acknowledgement() {
    let mut stream = Stream::default();
    let mut budget = Budget::new(1 << 20);
    let cfg = StreamConfig::default();
    let mut seen = Seen::default();
    stream.acked(5000);
    stream.segment(&cfg, &mut budget, 5010, b"later", false, &mut |d| seen.take(d));
    stream.segment(&cfg, &mut budget, 5000, b"0123456789", false, &mut |d| seen.take(d));
    assert_eq!(seen.complete().unwrap(), b"0123456789later");
}

#[test]
fn the_segment_cap_forces_gaps_and_counts_them() {
    let cfg = StreamConfig { max_buffered: 1 << 20, max_segments: 3 };
    let mut h = Harness::with(0, cfg, Budget::new(1 << 20));
    let data = message(200);
    // Every other 10-byte segment, never the first: a flood of holes.
    for k in (1..20).step_by(2) {
        h.send(k * 10, &data[k * 10..k * 10 + 10]);
        assert!(h.stream.held_bytes() <= 30, "held {}", h.stream.held_bytes());
    }
    assert!(h.stream.stats.overflow_bytes > 0);
    assert!(h.seen.gaps.iter().all(|g| g.2 == GapReason::Overflow));
    h.finish();
    assert_eq!(h.budget.used, 0);
    // Every byte that arrived was delivered; every hole is a gap.
    let delivered: usize = h.seen.bytes.iter().filter(|b| b.is_some()).count();
    assert_eq!(delivered, 100);
    assert_eq!(h.stream.stats.overflow_bytes + h.stream.stats.end_gap_bytes, 100);
}

#[test]
fn the_byte_cap_and_the_shared_budget_are_never_exceeded() {
    let cfg = StreamConfig { max_buffered: 64, max_segments: 100 };
    let mut budget = Budget::new(100);
    let mut streams: Vec<Stream> = (0..4).map(|_| Stream::default()).collect();
    let data = message(1000);
    for s in &mut streams {
        s.syn(0);
    }
    let mut delivered = 0usize;
    for round in 0..40 {
        for s in &mut streams {
            let off = 10 + round * 23 % 900;
            s.segment(&cfg, &mut budget, 1 + off as u32, &data[off..off + 20], false, &mut |d| {
                if let Delivery::Data { bytes, .. } = d {
                    delivered += bytes.len();
                }
            });
            assert!(s.held_bytes() <= 64);
            assert!(budget.used <= 100);
        }
    }
    assert!(budget.peak <= 100);
    assert!(streams.iter().map(|s| s.stats.overflow_bytes).sum::<u64>() > 0);
    assert!(delivered > 0);
    for s in &mut streams {
        s.release(&mut budget);
    }
    assert_eq!(budget.used, 0);
}

#[test]
fn finish_delivers_what_is_held_across_holes() {
    let data = message(30);
    let mut h = Harness::new(3);
    h.send(10, &data[10..20]);
    h.send(25, &data[25..30]);
    h.finish();
    assert_eq!(h.seen.gaps, vec![(0, 10, GapReason::End), (20, 5, GapReason::End)]);
    assert_eq!(h.stream.stats.end_gap_bytes, 15);
}

proptest! {
    /// Any segmentation, delivered in any order with duplicates, reassembles exactly.
    #[test]
    fn any_order_with_duplicates_reassembles(
        data in proptest::collection::vec(any::<u8>(), 1..300),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..12),
        order in any::<prop::sample::Index>(),
        dups in proptest::collection::vec(any::<prop::sample::Index>(), 0..6),
        isn in any::<u32>(),
    ) {
        let mut points: Vec<usize> = cuts.iter().map(|c| c.index(data.len())).collect();
        points.extend([0, data.len()]);
        points.sort_unstable();
        points.dedup();
        let mut segs: Vec<(usize, usize)> = points.windows(2).map(|w| (w[0], w[1])).collect();
        for d in &dups {
            let s = segs[d.index(segs.len())];
            segs.push(s);
        }
        // A deterministic shuffle from one index.
        let n = segs.len();
        let mut k = order.index(usize::MAX / 2) | 1;
        for i in (1..n).rev() {
            k = k.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            segs.swap(i, (k >> 33) % (i + 1));
        }
        let mut h = Harness::new(isn);
        for (a, b) in segs {
            h.send(a, &data[a..b]);
        }
        prop_assert_eq!(h.seen.complete().unwrap(), data);
        prop_assert!(h.seen.conflicts.is_empty());
        prop_assert_eq!(h.budget.used, 0);
    }
}

#[test]
fn a_stream_giving_way_skips_its_holes_delivers_what_it_held_and_goes_on() {
    let data = message(40);
    let mut h = Harness::new(1000);
    h.send(0, &data[..10]);
    // Two held pieces past two holes (10..15 and 25..30 never come).
    h.send(15, &data[15..25]);
    h.send(30, &data[30..35]);
    assert_eq!((h.stream.held_bytes(), h.budget.used), (15, 15));
    let seen = &mut h.seen;
    h.stream.give_way(&mut h.budget, &mut |d| seen.take(d));
    assert_eq!((h.stream.held_bytes(), h.budget.used), (0, 0), "everything held was given back");
    assert_eq!(h.seen.gaps, vec![(10, 5, GapReason::Overflow), (25, 5, GapReason::Overflow)]);
    assert_eq!(h.stream.stats.overflow_bytes, 10);
    // The stream goes on in order from where it stood.
    h.send(35, &data[35..40]);
    let got: Vec<Option<u8>> = h.seen.bytes.clone();
    assert_eq!(got.len(), 40);
    assert!(got[35..].iter().zip(&data[35..]).all(|(a, b)| *a == Some(*b)));
}
