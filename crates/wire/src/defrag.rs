//! IPv4 and IPv6 defragmentation under a memory cap.
//!
//! DNP3 over UDP and tunnelled mirrors fragment. Policy: the first copy of a byte wins
//! (a later, different copy is a conflict anomaly, the classic evasion); trains expire
//! on packet time; a fragment that would pass the memory or train cap is dropped and
//! counted, never buffered.
use crate::{Fragment, IpInfo};
use otsentry_core::{IpProto, Timestamp};
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

/// Largest IPv4 payload: total length is 16 bits and includes a 20-byte header.
const MAX_IPV4_PAYLOAD: u32 = 65_535 - 20;
/// Largest IPv6 payload without jumbograms: the payload length field is 16 bits.
const MAX_IPV6_PAYLOAD: u32 = 65_535;

#[derive(Clone, Copy, Debug)]
pub struct DefragConfig {
    /// Bytes buffered across all pending datagrams.
    pub max_bytes: usize,
    /// Pending datagrams at once.
    pub max_trains: usize,
    /// A train not completed within this much packet time is discarded.
    pub timeout_ns: i64,
}

impl Default for DefragConfig {
    fn default() -> Self {
        DefragConfig { max_bytes: 16 << 20, max_trains: 8192, timeout_ns: 30_000_000_000 }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DefragStats {
    pub fragments: u64,
    pub reassembled: u64,
    /// Fragments refused (caps, oversize) and fragments of expired trains.
    pub dropped: u64,
    pub expired_trains: u64,
    /// Overlaps whose bytes agreed (retransmissions).
    pub overlaps: u64,
    /// Overlaps whose bytes disagreed.
    pub conflicts: u64,
}

/// A problem worth an anomaly event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefragEvent {
    /// An overlapping fragment carried different bytes; the first copy was kept.
    OverlapConflict { offset: u32, len: u32 },
    /// The fragment would end past the largest possible datagram.
    TooLarge { end: u32, max: u32 },
    /// The memory or train cap was reached; the fragment was dropped.
    CapReached { buffered: usize },
}

impl DefragEvent {
    pub fn event(&self, ipv6: bool) -> &'static str {
        match (self, ipv6) {
            (DefragEvent::OverlapConflict { .. }, false) => "decoder.ipv4.frag_overlap",
            (DefragEvent::OverlapConflict { .. }, true) => "decoder.ipv6.frag_overlap",
            (DefragEvent::TooLarge { .. }, false) => "decoder.ipv4.frag_pkt_too_large",
            (DefragEvent::TooLarge { .. }, true) => "decoder.ipv6.frag_pkt_too_large",
            (DefragEvent::CapReached { .. }, _) => "defrag.memcap",
        }
    }

    pub fn reason(&self) -> String {
        match self {
            DefragEvent::OverlapConflict { offset, len } => {
                format!("fragment bytes {offset}..{} differ from an earlier copy; first copy kept", offset + len)
            }
            DefragEvent::TooLarge { end, max } => {
                format!("fragment ends at byte {end}, past the maximum payload {max}")
            }
            DefragEvent::CapReached { buffered } => format!("defragmentation cap reached with {buffered} bytes buffered; fragment dropped"),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct TrainKey {
    src: IpAddr,
    dst: IpAddr,
    proto: u8,
    id: u32,
}

struct Train {
    buf: Vec<u8>,
    /// Received byte ranges, sorted and merged.
    have: Vec<(u32, u32)>,
    total: Option<u32>,
    first_ts: Timestamp,
    ttl: u8,
    fragments: u64,
}

/// Outcome of one fragment.
pub struct Inserted<'d> {
    /// The whole datagram, when this fragment completed it.
    pub datagram: Option<IpInfo<'d>>,
    pub event: Option<DefragEvent>,
}

pub struct Defragmenter {
    config: DefragConfig,
    trains: HashMap<TrainKey, Train>,
    /// Trains in arrival order, for expiry without scanning the table.
    order: VecDeque<(Timestamp, TrainKey)>,
    buffered: usize,
    done: Vec<u8>,
    pub stats: DefragStats,
}

impl Defragmenter {
    pub fn new(config: DefragConfig) -> Self {
        Defragmenter {
            config,
            trains: HashMap::new(),
            order: VecDeque::new(),
            buffered: 0,
            done: Vec::new(),
            stats: DefragStats::default(),
        }
    }

    /// Bytes currently buffered.
    pub fn buffered(&self) -> usize {
        self.buffered
    }

    pub fn pending(&self) -> usize {
        self.trains.len()
    }

    fn expire(&mut self, now: Timestamp) {
        while let Some(&(ts, key)) = self.order.front() {
            if now.as_nanos().saturating_sub(ts.as_nanos()) < self.config.timeout_ns {
                break;
            }
            self.order.pop_front();
            if let Some(train) = self.trains.get(&key) {
                if train.first_ts == ts {
                    self.remove(&key, true);
                }
            }
        }
    }

    fn remove(&mut self, key: &TrainKey, expired: bool) -> Option<Train> {
        let train = self.trains.remove(key)?;
        self.buffered = self.buffered.saturating_sub(train.buf.capacity());
        if expired {
            self.stats.expired_trains += 1;
            self.stats.dropped += train.fragments;
        }
        Some(train)
    }

    /// Add one fragment (`ip.fragment` must be set); `ip.payload` is its data.
    pub fn insert<'d>(&'d mut self, now: Timestamp, ip: &IpInfo<'_>) -> Inserted<'d> {
        let none = |event| Inserted { datagram: None, event };
        let Some(Fragment { id, offset, more }) = ip.fragment else {
            return none(None);
        };
        self.stats.fragments += 1;
        self.expire(now);
        let len = u32::try_from(ip.payload.len()).unwrap_or(u32::MAX);
        let end = offset.saturating_add(len);
        let max = if ip.src.is_ipv6() { MAX_IPV6_PAYLOAD } else { MAX_IPV4_PAYLOAD };
        if end > max {
            self.stats.dropped += 1;
            return none(Some(DefragEvent::TooLarge { end, max }));
        }
        let key = TrainKey { src: ip.src, dst: ip.dst, proto: ip.proto.0, id };
        if !self.trains.contains_key(&key) {
            if self.trains.len() >= self.config.max_trains {
                self.stats.dropped += 1;
                return none(Some(DefragEvent::CapReached { buffered: self.buffered }));
            }
            let train = Train { buf: Vec::new(), have: Vec::new(), total: None, first_ts: now, ttl: ip.ttl, fragments: 0 };
            self.trains.insert(key, train);
            self.order.push_back((now, key));
        }
        let (buffered, max_bytes) = (self.buffered, self.config.max_bytes);
        let Some(train) = self.trains.get_mut(&key) else {
            return none(None);
        };
        let grow = (end as usize).saturating_sub(train.buf.len());
        if buffered + grow > max_bytes {
            self.stats.dropped += 1;
            if train.fragments == 0 {
                self.remove(&key, false);
            }
            return none(Some(DefragEvent::CapReached { buffered }));
        }
        let before = train.buf.capacity();
        if grow > 0 {
            train.buf.resize(end as usize, 0);
        }
        let after = train.buf.capacity();
        self.buffered = self.buffered + after - before;
        train.fragments += 1;
        if offset == 0 {
            train.ttl = ip.ttl;
        }
        let event = train.merge(offset, end, ip.payload, &mut self.stats);
        if !more {
            train.total = Some(match train.total {
                Some(t) => t.min(end),
                None => end,
            });
        }
        let complete = matches!((train.total, train.have.as_slice()), (Some(t), [(0, e)]) if *e >= t);
        if !complete {
            return none(event);
        }
        let Some(mut train) = self.remove(&key, false) else {
            return none(event);
        };
        self.stats.reassembled += 1;
        train.buf.truncate(train.total.unwrap_or(0) as usize);
        self.done = train.buf;
        let datagram = IpInfo {
            src: ip.src,
            dst: ip.dst,
            proto: IpProto(key.proto),
            ttl: train.ttl,
            offset: ip.offset,
            fragment: None,
            payload: &self.done,
        };
        Inserted { datagram: Some(datagram), event }
    }
}

impl Train {
    /// Copy `data` into the gaps of `offset..end`, compare it where bytes already exist.
    fn merge(&mut self, offset: u32, end: u32, data: &[u8], stats: &mut DefragStats) -> Option<DefragEvent> {
        let mut event = None;
        let mut cursor = offset;
        let mut overlapped = false;
        for &(a, b) in &self.have {
            if b <= cursor || a >= end {
                continue;
            }
            overlapped = true;
            // Gap before this range: ours to fill.
            if a > cursor {
                copy(&mut self.buf, cursor, a, data, offset);
            }
            let (ov_a, ov_b) = (a.max(cursor), b.min(end));
            let old = self.buf.get(ov_a as usize..ov_b as usize);
            let new = data.get((ov_a - offset) as usize..(ov_b - offset) as usize);
            if old != new && event.is_none() {
                stats.conflicts += 1;
                event = Some(DefragEvent::OverlapConflict { offset: ov_a, len: ov_b - ov_a });
            }
            cursor = ov_b;
        }
        if cursor < end {
            copy(&mut self.buf, cursor, end, data, offset);
        }
        if overlapped && event.is_none() {
            stats.overlaps += 1;
        }
        self.have.push((offset, end));
        self.have.sort_unstable();
        let mut merged: Vec<(u32, u32)> = Vec::with_capacity(self.have.len());
        for &(a, b) in &self.have {
            match merged.last_mut() {
                Some(last) if a <= last.1 => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        self.have = merged;
        event
    }
}

fn copy(buf: &mut [u8], from: u32, to: u32, data: &[u8], data_start: u32) {
    if let (Some(dst), Some(src)) =
        (buf.get_mut(from as usize..to as usize), data.get((from - data_start) as usize..(to - data_start) as usize))
    {
        dst.copy_from_slice(src);
    }
}
