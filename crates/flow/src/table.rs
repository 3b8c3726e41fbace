//! The flow table: one entry per conversation (canonical 5-tuple plus VLAN).
//!
//! Flows sit in a list ordered by when they were last *linked*, not last seen: a packet
//! only stamps its flow's time, so the hot path touches one flow and no neighbours.
//! Sweeps walk the list from its old end, expiring idle flows and re-linking live ones
//! at the new end (so each flow is visited about once per shortest timeout); at the
//! flow cap the same walk gives recently seen flows a second chance (the CLOCK
//! algorithm) and evicts the first one not seen since it was linked. A flow therefore
//! expires within one shortest timeout (plus one sweep interval) after its own.
//!
//! `T` is the caller's per-flow state (the engine keeps its protocol dissectors there),
//! so this crate knows nothing of protocols.
use crate::stream::{Budget, Stream, StreamConfig};
use otsentry_core::{Direction, FlowKey, IpProto, MemoryBudget, MemoryKind, Timestamp};
use std::hash::BuildHasher;

/// Caps and timeouts of the table. Timeouts run on packet time in replay.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowConfig {
    /// Most flows held at once; a new flow beyond it evicts the least recently seen.
    pub max_flows: usize,
    /// TCP connection that completed a handshake or was picked up midstream.
    pub tcp_idle_ns: i64,
    /// TCP connection after FIN from both sides or a RST.
    pub tcp_closed_ns: i64,
    pub udp_idle_ns: i64,
    pub other_idle_ns: i64,
    pub stream: StreamConfig,
    /// Out-of-order bytes held by all streams together.
    pub reassembly_memcap: usize,
    /// Mixed into every flow id (the sensor's name, hashed): the same flow seen by two
    /// sensors gets two ids.
    pub id_salt: u64,
}

const SECOND: i64 = 1_000_000_000;

impl Default for FlowConfig {
    fn default() -> Self {
        FlowConfig {
            max_flows: 1_000_000,
            // Control sessions poll every few seconds and live for months; an hour of
            // silence is a long time on a control network.
            tcp_idle_ns: 3600 * SECOND,
            tcp_closed_ns: 30 * SECOND,
            udp_idle_ns: 300 * SECOND,
            other_idle_ns: 60 * SECOND,
            stream: StreamConfig::default(),
            reassembly_memcap: 64 * 1024 * 1024,
            id_salt: 0,
        }
    }
}

/// TCP connection state as the flow record reports it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TcpState {
    #[default]
    None,
    SynSent,
    SynRecv,
    Established,
    /// One side sent a FIN.
    Closing,
    Closed,
}

impl TcpState {
    pub fn as_str(self) -> &'static str {
        match self {
            TcpState::None => "none",
            TcpState::SynSent => "syn_sent",
            TcpState::SynRecv => "syn_recv",
            TcpState::Established => "established",
            TcpState::Closing => "closing",
            TcpState::Closed => "closed",
        }
    }
}

/// TCP side of a flow: flags seen and both streams, indexed by [`Direction::index`].
#[derive(Clone, Debug, Default)]
#[repr(C)]
pub struct TcpConn {
    pub state: TcpState,
    pub flags: [u8; 2],
    /// Whether the connection was picked up without seeing its handshake.
    pub midstream: bool,
    fins: [bool; 2],
    pub streams: [Stream; 2],
}

pub const FIN: u8 = 0x01;
pub const SYN: u8 = 0x02;
pub const RST: u8 = 0x04;
pub const ACK: u8 = 0x10;

impl TcpConn {
    /// Track the handshake and teardown from one packet's flags.
    pub fn on_flags(&mut self, dir: Direction, flags: u8) {
        let s = dir.index();
        if let Some(f) = self.flags.get_mut(s) {
            *f |= flags;
        }
        let syn = flags & SYN != 0;
        let ack = flags & ACK != 0;
        self.state = match self.state {
            _ if flags & RST != 0 => TcpState::Closed,
            TcpState::None if syn && !ack => TcpState::SynSent,
            TcpState::None if syn => TcpState::SynRecv,
            TcpState::None => {
                self.midstream = true;
                TcpState::Established
            }
            TcpState::SynSent if syn && ack => TcpState::SynRecv,
            TcpState::SynRecv if ack && !syn && dir == Direction::ToServer => TcpState::Established,
            other => other,
        };
        if flags & FIN != 0 {
            if let Some(f) = self.fins.get_mut(s) {
                *f = true;
            }
            self.state = if self.fins == [true, true] { TcpState::Closed } else { TcpState::Closing };
        }
    }
}

/// Why a flow left the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndReason {
    Timeout,
    /// Evicted to make room under the flow cap.
    Evicted,
    /// The run ended (replay) or the sensor stopped.
    Shutdown,
}

impl EndReason {
    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::Timeout => "timeout",
            EndReason::Evicted => "forced",
            EndReason::Shutdown => "shutdown",
        }
    }
}

/// One conversation. `repr(C)`: what every packet touches comes first, together.
#[derive(Clone, Debug)]
#[repr(C)]
pub struct Flow<T> {
    pub key: FlowKey,
    /// Whether the client (the side that opened it, or was judged to) is `key.lo`.
    pub client_is_lo: bool,
    pub last: Timestamp,
    /// Packets and bytes, indexed by [`Direction::index`].
    pub packets: [u64; 2],
    pub bytes: [u64; 2],
    pub tcp: Option<TcpConn>,
    pub user: T,
    pub id: u64,
    pub start: Timestamp,
}

impl<T> Flow<T> {
    /// The direction of a packet whose source is `key.lo` (or not).
    pub fn direction(&self, src_is_lo: bool) -> Direction {
        if src_is_lo == self.client_is_lo {
            Direction::ToServer
        } else {
            Direction::ToClient
        }
    }

    /// Client and server endpoints.
    pub fn client(&self) -> std::net::SocketAddr {
        if self.client_is_lo {
            self.key.lo
        } else {
            self.key.hi
        }
    }

    pub fn server(&self) -> std::net::SocketAddr {
        if self.client_is_lo {
            self.key.hi
        } else {
            self.key.lo
        }
    }

    /// Swap client and server, with the per-direction counters and streams.
    pub fn swap_direction(&mut self) {
        self.client_is_lo = !self.client_is_lo;
        self.packets.swap(0, 1);
        self.bytes.swap(0, 1);
        if let Some(tcp) = self.tcp.as_mut() {
            tcp.flags.swap(0, 1);
            tcp.streams.swap(0, 1);
            tcp.fins.swap(0, 1);
        }
    }

    fn idle_limit(&self, cfg: &FlowConfig) -> i64 {
        match (self.key.proto, self.tcp.as_ref().map(|t| t.state)) {
            (_, Some(TcpState::Closed)) => cfg.tcp_closed_ns,
            (IpProto::TCP, _) => cfg.tcp_idle_ns,
            (IpProto::UDP, _) => cfg.udp_idle_ns,
            _ => cfg.other_idle_ns,
        }
    }
}

/// Counters of the table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TableStats {
    pub created: u64,
    pub timed_out: u64,
    pub evicted: u64,
    pub peak_active: u64,
}

const NIL: u32 = u32::MAX;

struct Slot<T> {
    prev: u32,
    next: u32,
    /// Packet time at which the flow was put at the head of the list.
    linked_at: Timestamp,
    flow: Option<Flow<T>>,
}

/// A flow handle valid until the next call that may remove flows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowRef(u32);

/// The result of looking up a packet's flow.
pub struct Lookup<T> {
    pub flow: FlowRef,
    pub created: bool,
    /// A flow evicted to make room, for the caller to report (and finish its streams,
    /// which still hold budget).
    pub evicted: Option<Box<Flow<T>>>,
}

pub struct FlowTable<T> {
    cfg: FlowConfig,
    /// Slot numbers by key hash; keys are compared in the slots (a small index stays in
    /// cache).
    index: hashbrown::HashTable<u32>,
    hasher: foldhash::fast::RandomState,
    slots: Vec<Slot<T>>,
    free: Vec<u32>,
    /// Most recently seen.
    head: u32,
    /// Least recently seen.
    tail: u32,
    /// The last flow looked up: polls and their answers come in runs of one flow.
    last: Option<(FlowKey, u32)>,
    pub budget: Budget,
    pub stats: TableStats,
    /// The run's budget: every flow is charged `flow_bytes` to its flows kind.
    memory: MemoryBudget,
    flow_bytes: u64,
}

impl<T> FlowTable<T> {
    pub fn new(cfg: FlowConfig) -> Self {
        FlowTable::with_memory(cfg, MemoryBudget::default())
    }

    /// A table whose flows and out-of-order bytes are charged to `memory`: a new flow
    /// beyond the flows kind's limit evicts one as the flow cap does.
    pub fn with_memory(cfg: FlowConfig, memory: MemoryBudget) -> Self {
        // The slot, and the index's entry with its control byte at its load factor.
        let flow_bytes = (std::mem::size_of::<Slot<T>>() + 16) as u64;
        FlowTable {
            cfg,
            index: hashbrown::HashTable::new(),
            hasher: foldhash::fast::RandomState::default(),
            slots: Vec::new(),
            free: Vec::new(),
            head: NIL,
            tail: NIL,
            last: None,
            budget: Budget::shared(cfg.reassembly_memcap, memory.clone()),
            stats: TableStats::default(),
            memory,
            flow_bytes,
        }
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    pub fn get_mut(&mut self, r: FlowRef) -> Option<&mut Flow<T>> {
        self.slots.get_mut(r.0 as usize).and_then(|s| s.flow.as_mut())
    }

    /// The flow a packet of `key` belongs to, made if new (its client is the packet's
    /// source unless `client_is_src` says otherwise), and marked as just seen.
    pub fn lookup(
        &mut self,
        ts: Timestamp,
        key: FlowKey,
        src_is_lo: bool,
        client_is_src: impl FnOnce() -> bool,
        user: impl FnOnce() -> T,
    ) -> Lookup<T> {
        let hit = match self.last {
            Some((k, i)) if k == key => Some(i),
            _ => {
                let hash = self.hasher.hash_one(key);
                let slots = &self.slots;
                self.index.find(hash, |&i| slots.get(i as usize).and_then(|s| s.flow.as_ref()).is_some_and(|f| f.key == key)).copied()
            }
        };
        if let Some(i) = hit {
            self.last = Some((key, i));
            if let Some(f) = self.slot_flow(i) {
                f.last = f.last.max(ts);
            }
            return Lookup { flow: FlowRef(i), created: false, evicted: None };
        }
        let charged = self.index.len() < self.cfg.max_flows.max(1) && self.memory.try_charge(MemoryKind::Flows, self.flow_bytes);
        // Under the budget shared with other workers' tables this table may hold none:
        // then the new flow is charged over the limit, by at most one flow per table.
        let evicted = if !charged && !self.index.is_empty() {
            self.stats.evicted += 1;
            self.memory.gave_way(MemoryKind::Flows, 1);
            self.evict_one(ts).map(Box::new)
        } else {
            None
        };
        if !charged {
            self.memory.charge(MemoryKind::Flows, self.flow_bytes);
        }
        let client_is_lo = src_is_lo == client_is_src();
        let tcp = (key.proto == IpProto::TCP).then(TcpConn::default);
        let id = flow_id(self.cfg.id_salt, &key, ts);
        let flow = Flow { id, key, client_is_lo, start: ts, last: ts, packets: [0; 2], bytes: [0; 2], tcp, user: user() };
        let i = match self.free.pop() {
            Some(i) => {
                if let Some(s) = self.slots.get_mut(i as usize) {
                    s.flow = Some(flow);
                }
                i
            }
            None => {
                self.slots.push(Slot { prev: NIL, next: NIL, linked_at: ts, flow: Some(flow) });
                (self.slots.len() - 1) as u32
            }
        };
        self.link_head(i, ts);
        let hash = self.hasher.hash_one(key);
        let (slots, hasher) = (&self.slots, &self.hasher);
        self.index.insert_unique(hash, i, |&j| slots.get(j as usize).and_then(|s| s.flow.as_ref()).map_or(0, |f| hasher.hash_one(f.key)));
        self.last = Some((key, i));
        self.stats.created += 1;
        self.stats.peak_active = self.stats.peak_active.max(self.index.len() as u64);
        Lookup { flow: FlowRef(i), created: true, evicted }
    }

    /// CLOCK: from the old end, re-link flows seen since they were linked; remove the
    /// first that was not.
    fn evict_one(&mut self, now: Timestamp) -> Option<Flow<T>> {
        for _ in 0..=self.slots.len() {
            let i = self.tail;
            let slot = self.slots.get(i as usize)?;
            let seen_since = slot.flow.as_ref().is_some_and(|f| f.last > slot.linked_at);
            if !seen_since {
                return self.remove(i);
            }
            self.unlink(i);
            self.link_head(i, now);
        }
        self.pop_tail()
    }

    /// Remove flows idle for longer than their timeout at packet time `now`, oldest first.
    ///
    /// A removed flow's streams still hold their out-of-order bytes, charged to the
    /// budget passed along: finish or release them.
    pub fn expire(&mut self, now: Timestamp, out: &mut dyn FnMut(Flow<T>, EndReason, &mut Budget)) {
        let shortest = self.cfg.tcp_closed_ns.min(self.cfg.tcp_idle_ns).min(self.cfg.udp_idle_ns).min(self.cfg.other_idle_ns);
        let horizon = now.as_nanos().saturating_sub(shortest);
        // Each flow linked before the horizon is visited once: expired, or re-linked now.
        let mut budget = self.index.len();
        while budget > 0 {
            budget -= 1;
            let i = self.tail;
            let Some(slot) = self.slots.get(i as usize) else { break };
            if slot.linked_at.as_nanos() > horizon {
                break; // linked recently: it and everything newer were seen within `shortest`
            }
            let Some(f) = slot.flow.as_ref() else { break };
            let idle = now.as_nanos().saturating_sub(f.last.as_nanos());
            if idle >= f.idle_limit(&self.cfg) {
                if let Some(flow) = self.remove(i) {
                    self.stats.timed_out += 1;
                    out(flow, EndReason::Timeout, &mut self.budget);
                }
            } else {
                self.unlink(i);
                self.link_head(i, now);
            }
        }
    }

    /// Visit every live flow (periodic stats), in no particular order.
    pub fn for_each_mut(&mut self, visit: &mut dyn FnMut(&mut Flow<T>)) {
        self.slots.iter_mut().filter_map(|s| s.flow.as_mut()).for_each(visit);
    }

    /// Remove every flow (end of run), oldest first.
    pub fn drain(&mut self, out: &mut dyn FnMut(Flow<T>, EndReason, &mut Budget)) {
        while let Some(flow) = self.pop_tail() {
            out(flow, EndReason::Shutdown, &mut self.budget);
        }
    }

    /// A flow and the reassembly budget its streams draw on.
    pub fn get_with_budget(&mut self, r: FlowRef) -> Option<(&mut Flow<T>, &mut Budget)> {
        let flow = self.slots.get_mut(r.0 as usize).and_then(|s| s.flow.as_mut())?;
        Some((flow, &mut self.budget))
    }

    fn slot_flow(&mut self, i: u32) -> Option<&mut Flow<T>> {
        self.slots.get_mut(i as usize).and_then(|s| s.flow.as_mut())
    }

    fn pop_tail(&mut self) -> Option<Flow<T>> {
        if self.tail == NIL {
            return None;
        }
        self.remove(self.tail)
    }

    fn remove(&mut self, i: u32) -> Option<Flow<T>> {
        self.unlink(i);
        let flow = self.slots.get_mut(i as usize)?.flow.take()?;
        self.memory.release(MemoryKind::Flows, self.flow_bytes);
        let hash = self.hasher.hash_one(flow.key);
        if let Ok(entry) = self.index.find_entry(hash, |&j| j == i) {
            entry.remove();
        }
        if self.last.is_some_and(|(_, l)| l == i) {
            self.last = None;
        }
        self.free.push(i);
        Some(flow)
    }

    fn link_head(&mut self, i: u32, now: Timestamp) {
        let old = self.head;
        if let Some(s) = self.slots.get_mut(i as usize) {
            s.prev = NIL;
            s.next = old;
            s.linked_at = now;
        }
        if let Some(s) = self.slots.get_mut(old as usize) {
            s.prev = i;
        }
        self.head = i;
        if self.tail == NIL {
            self.tail = i;
        }
    }

    fn unlink(&mut self, i: u32) {
        let Some((prev, next)) = self.slots.get(i as usize).map(|s| (s.prev, s.next)) else { return };
        match self.slots.get_mut(prev as usize) {
            Some(p) => p.next = next,
            None => self.head = next,
        }
        match self.slots.get_mut(next as usize) {
            Some(n) => n.prev = prev,
            None => self.tail = prev,
        }
    }
}

fn mix(z: u64) -> u64 {
    let mut z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Flow ids look random (as Suricata's do) and come from the flow itself: its key and
/// first packet's time, and the sensor's salt. So the same capture replayed gets the
/// same ids, and flows of different captures (other times) do not collide. Below 2^53
/// so JSON readers keep them exact.
fn flow_id(salt: u64, key: &FlowKey, start: Timestamp) -> u64 {
    let words = |a: &std::net::SocketAddr| -> [u64; 2] {
        let ip = match a.ip() {
            std::net::IpAddr::V4(v4) => u128::from(u32::from(v4)),
            std::net::IpAddr::V6(v6) => u128::from(v6),
        };
        [(ip >> 64) as u64 ^ u64::from(a.port()) << 48, ip as u64]
    };
    let [a, b] = words(&key.lo);
    let [c, d] = words(&key.hi);
    let parts = [u64::from(key.proto.0) << 16 | u64::from(key.vlan), a, b, c, d, start.as_nanos() as u64];
    parts.iter().fold(mix(salt), |z, &p| mix(z ^ p)) & ((1 << 53) - 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::SocketAddr;

    fn key(port: u16) -> (FlowKey, bool) {
        let a: SocketAddr = format!("10.0.0.1:{port}").parse().unwrap();
        let b: SocketAddr = "10.0.0.2:502".parse().unwrap();
        FlowKey::new(IpProto::TCP, a, b, 0)
    }

    fn at(s: i64) -> Timestamp {
        Timestamp::from_secs_nanos(s, 0)
    }

    #[test]
    fn flow_ids_are_distinct_reproducible_and_json_safe() {
        let (k, _) = key(40000);
        let ids: std::collections::HashSet<u64> = (1..10_000).map(|n| flow_id(0, &key(n).0, Timestamp(n as i64))).collect();
        assert_eq!(ids.len(), 9_999);
        assert!(ids.iter().all(|&i| i < 1 << 53 && i > 0));
        // The same flow at the same time is the same id; at another time, or on another
        // sensor, another.
        assert_eq!(flow_id(7, &k, Timestamp(5)), flow_id(7, &k, Timestamp(5)));
        assert_ne!(flow_id(7, &k, Timestamp(5)), flow_id(7, &k, Timestamp(6)));
        assert_ne!(flow_id(7, &k, Timestamp(5)), flow_id(8, &k, Timestamp(5)));
    }

    #[test]
    fn the_cap_evicts_the_least_recently_seen_flow() {
        let cfg = FlowConfig { max_flows: 3, ..Default::default() };
        let mut t: FlowTable<()> = FlowTable::new(cfg);
        for p in 1..=3 {
            let (k, lo) = key(p);
            assert!(t.lookup(at(i64::from(p)), k, lo, || true, || ()).created);
        }
        let (k1, lo1) = key(1);
        assert!(!t.lookup(at(4), k1, lo1, || true, || ()).created); // 1 is fresh again
        let (k4, lo4) = key(4);
        let l = t.lookup(at(5), k4, lo4, || true, || ());
        assert_eq!(l.evicted.map(|f| f.key), Some(key(2).0));
        assert_eq!(t.len(), 3);
        assert_eq!(t.stats.evicted, 1);
    }

    #[test]
    fn the_memory_budget_evicts_as_the_flow_cap_does_and_charges_go_back() {
        // 1 MiB: the flows share (four tenths) holds a few thousand slots of ().
        let memory = MemoryBudget::new(1 << 20);
        let per_flow = (std::mem::size_of::<Slot<()>>() + 16) as u64;
        let room = (memory.limit(MemoryKind::Flows) / per_flow) as u16;
        let mut t: FlowTable<()> = FlowTable::with_memory(FlowConfig::default(), memory.clone());
        for p in 0..room + 5 {
            let (k, lo) = key(p);
            t.lookup(at(i64::from(p)), k, lo, || true, || ());
        }
        assert_eq!(t.len(), usize::from(room));
        assert_eq!(t.stats.evicted, 5);
        assert_eq!(memory.counts().kind(MemoryKind::Flows).map(|k| k.given_way), Some(5));
        assert_eq!(memory.used(MemoryKind::Flows), u64::from(room) * per_flow);
        t.drain(&mut |_, _, _| {});
        assert_eq!(memory.used(MemoryKind::Flows), 0);
    }

    #[test]
    fn idle_flows_time_out_on_packet_time() {
        let cfg = FlowConfig { udp_idle_ns: 10 * SECOND, tcp_idle_ns: 100 * SECOND, ..Default::default() };
        let mut t: FlowTable<()> = FlowTable::new(cfg);
        let (k, lo) = key(1);
        t.lookup(at(0), k, lo, || true, || ());
        let a: SocketAddr = "10.0.0.1:9".parse().unwrap();
        let b: SocketAddr = "10.0.0.2:20000".parse().unwrap();
        let (u, ulo) = FlowKey::new(IpProto::UDP, a, b, 0);
        t.lookup(at(1), u, ulo, || true, || ());
        let mut gone = Vec::new();
        t.expire(at(20), &mut |f, r, _| gone.push((f.key.proto, r)));
        assert_eq!(gone, vec![(IpProto::UDP, EndReason::Timeout)]);
        t.expire(at(101), &mut |f, r, _| gone.push((f.key.proto, r)));
        assert_eq!(gone.len(), 2);
        assert!(t.is_empty());
        assert_eq!(t.stats.timed_out, 2);
    }

    #[test]
    fn live_flows_survive_sweeps_and_idle_ones_expire_within_the_shortest_timeout() {
        let cfg = FlowConfig {
            tcp_idle_ns: 100 * SECOND,
            tcp_closed_ns: 10 * SECOND,
            udp_idle_ns: 10 * SECOND,
            other_idle_ns: 10 * SECOND,
            ..Default::default()
        };
        let mut t: FlowTable<()> = FlowTable::new(cfg);
        let (live, live_lo) = key(1);
        let (idle, idle_lo) = key(2);
        t.lookup(at(0), idle, idle_lo, || true, || ());
        let mut expired_at = None;
        for s in 0..400 {
            t.lookup(at(s), live, live_lo, || true, || ());
            t.expire(at(s), &mut |f, why, _| {
                assert_eq!((f.key, why), (idle, EndReason::Timeout), "only the idle flow expires");
                expired_at = Some(s);
            });
        }
        let when = expired_at.expect("the idle flow expired");
        assert!((100..=111).contains(&when), "expired at {when} s, timeout 100 s, shortest 10 s");
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn a_handshake_sets_the_states_and_fins_close() {
        let mut c = TcpConn::default();
        c.on_flags(Direction::ToServer, SYN);
        assert_eq!(c.state, TcpState::SynSent);
        c.on_flags(Direction::ToClient, SYN | ACK);
        c.on_flags(Direction::ToServer, ACK);
        assert_eq!(c.state, TcpState::Established);
        c.on_flags(Direction::ToServer, FIN | ACK);
        assert_eq!(c.state, TcpState::Closing);
        c.on_flags(Direction::ToClient, FIN | ACK);
        assert_eq!(c.state, TcpState::Closed);
        assert!(!c.midstream);
        let mut m = TcpConn::default();
        m.on_flags(Direction::ToClient, ACK);
        assert!(m.midstream);
        assert_eq!(m.state, TcpState::Established);
    }
}
