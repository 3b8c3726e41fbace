//! The flow stage: packets to flows, TCP segments to ordered stream bytes, stream bytes
//! to protocol detection; EVE `flow` records and stream anomalies out.
use crate::apps::{AppSink, Parser};
use crate::charge::{Charged, Holders};
use crate::deferral::{Item, OwnedSubject, Place, SenderItem};
use crate::detect::{Detected, Detector};
use crate::events::{EventCtx, Out};
use crate::relay::{RelayEvent, RelayWatch, Relayed};
use crate::scan::{Reason, ScanTracker};
use crate::sender::{HostTable, Print, Seen, SenderWatch, CREDIT_EVERY};
use otsentry_core::{
    AnomalyKind, AppProto, Direction, FlowBody, FlowKey, FlowRecord, IpProto, Layer, MemoryBudget, MemoryKind, Pending, PortMap, StreamCx,
    TcpBody, Timestamp,
};
use otsentry_flow::{
    Budget, Delivery, EndReason, Flow, FlowConfig, FlowRef, FlowTable, GapReason, StreamConfig, TcpState, ACK, FIN, RST, SYN,
};
use otsentry_wire::{IpInfo, Macs, TcpInfo, Transport};
use std::net::SocketAddr;
use std::sync::Arc;

/// The packet being handled.
pub(crate) struct PacketCx<'p> {
    pub(crate) ts: Timestamp,
    pub(crate) pcap_cnt: u64,
    pub(crate) vlans: &'p [u16],
    pub(crate) wire_len: u64,
    pub(crate) macs: Option<Macs>,
    /// The frame as captured (for evidence).
    pub(crate) frame: &'p otsentry_capture::RawFrame<'p>,
}

/// What the engine keeps per flow above the flow crate.
#[derive(Debug, Default)]
pub(crate) struct AppState {
    app: Option<AppProto>,
    /// The protocol the server port is configured for, and the client port's (which
    /// becomes the server's if protocol evidence swaps the two).
    expected: Option<AppProto>,
    expected_if_swapped: Option<AppProto>,
    detector: Detector,
    /// Set by a handshake or a configured server port; otherwise protocol evidence may
    /// still swap client and server.
    dir_settled: bool,
    swap: bool,
    /// For ICMP's Community ID: whether the first packet came from `key.lo`, its type and code.
    icmp: Option<(bool, u8, u8)>,
    /// The detected protocol's dissector and its per-direction partial PDUs.
    parser: Option<Parser>,
    pending: [Pending; 2],
    community_id: Option<String>,
    /// Whether detected protocols get a dissector.
    dissect: bool,
    relay: RelayWatch,
    sender: SenderWatch,
    /// Its zones and the policy checks made, once a policy is loaded.
    zones: crate::segment::FlowZones,
    /// Its conversation in the baseline detector, and what it told the asset book.
    marks: crate::apps::Marks,
    /// Its recent packets, kept for alerts' evidence.
    ring: Option<Box<crate::evidence::Ring>>,
    /// What the memory budget holds for it beyond its table slot.
    charged: Charged,
}

impl AppState {
    /// What it is charged for: its dissector's size, and what it holds.
    pub(crate) fn holdings(&self) -> (usize, usize) {
        (self.parser.as_ref().map_or(0, Parser::size), self.app_held())
    }

    pub(crate) fn charged(&mut self) -> &mut Charged {
        &mut self.charged
    }

    /// Heap bytes held for PDUs in progress: pending stream bytes, the dissector's own
    /// buffers and transactions, probe bytes.
    fn app_held(&self) -> usize {
        let [a, b] = &self.pending;
        let probing = if self.detector.is_done() { 0 } else { self.detector.held() };
        a.held() + b.held() + probing + self.parser.as_ref().map_or(0, Parser::held)
    }
}

/// Packet-time seconds between sweeps for idle flows.
pub(crate) const SWEEP_EVERY_NS: i64 = 1_000_000_000;

pub(crate) struct FlowStage {
    pub(crate) table: FlowTable<AppState>,
    ports: PortMap,
    dissect: bool,
    stream_cfg: StreamConfig,
    next_sweep: i64,
    scans: ScanTracker,
    hosts: HostTable,
    /// Idle flows end at sweeps a reader orders for every worker at once (several
    /// workers), not at each worker's own packets.
    swept_by_markers: bool,
    /// Whether any rule reads `sender` and `relay` events: their per-packet watch is
    /// skipped otherwise.
    watch_senders: bool,
    watch_relays: bool,
    pub(crate) memory: MemoryBudget,
    pub(crate) holders: Holders,
    /// Flows holding out-of-order TCP bytes, in the order they began to.
    pub(crate) stream_holders: Holders,
}

impl FlowStage {
    pub(crate) fn new(cfg: FlowConfig, ports: PortMap, dissect: bool, memory: MemoryBudget) -> Self {
        FlowStage {
            table: FlowTable::with_memory(cfg, memory.clone()),
            scans: ScanTracker::with_memory(memory.clone()),
            hosts: HostTable::with_memory(memory.clone()),
            memory,
            holders: Holders::default(),
            stream_holders: Holders::default(),
            ports,
            dissect,
            stream_cfg: cfg.stream,
            next_sweep: i64::MIN,
            swept_by_markers: false,
            watch_senders: true,
            watch_relays: true,
        }
    }

    /// MACs a baseline saw serving more than one address are routers: a session that
    /// shifts onto one of them may be a second path, not a third party.
    pub(crate) fn known_forwarders(&mut self, assets: &[otsentry_baseline::Asset]) {
        let mut served: std::collections::HashMap<[u8; 6], usize> = std::collections::HashMap::new();
        for m in assets.iter().flat_map(|a| &a.macs) {
            *served.entry(m.0).or_default() += 1;
        }
        self.hosts.known_forwarders(served.into_iter().filter(|&(_, n)| n > 1).map(|(m, _)| m));
    }

    /// One worker of several: sweeps come from the reader's markers.
    pub(crate) fn sweep_by_markers(&mut self) {
        self.swept_by_markers = true;
    }

    /// Whether the reader's markers keep time (the baseline's tick too).
    pub(crate) fn swept_by_markers(&self) -> bool {
        self.swept_by_markers
    }

    /// The host table's forwarders, for the cross stage to start from.
    pub(crate) fn take_hosts(&mut self) -> HostTable {
        std::mem::take(&mut self.hosts)
    }

    /// Watch senders and relays only for the rules that read them.
    pub(crate) fn watch(&mut self, senders: bool, relays: bool) {
        self.watch_senders = senders;
        self.watch_relays = relays;
    }

    pub(crate) fn packet(&mut self, p: &PacketCx<'_>, ip: &IpInfo<'_>, transport: &Transport<'_>, out: &mut Out<'_>) {
        if p.ts.as_nanos() >= self.next_sweep && !self.swept_by_markers {
            self.expire(p.ts, out);
        }
        let (sport, dport, tcp, udp_payload) = match *transport {
            Transport::Tcp(t) => (t.src_port, t.dst_port, Some(t), None),
            Transport::Udp(u) => (u.src_port, u.dst_port, None, Some(u.payload)),
            _ => (0, 0, None, None),
        };
        let vlan = p.vlans.first().copied().unwrap_or(0);
        let (key, src_is_lo) = FlowKey::new(ip.proto, SocketAddr::new(ip.src, sport), SocketAddr::new(ip.dst, dport), vlan);
        let mut settled = false;
        let ports = &self.ports;
        let flags = tcp.map(|t| t.flags);
        let lookup =
            self.table.lookup(p.ts, key, src_is_lo, || orient(ports, ip.proto, sport, dport, flags, &mut settled), AppState::default);
        if let Some(evicted) = lookup.evicted {
            credit_rest(&mut self.hosts, &evicted, out);
            end_flow(*evicted, EndReason::Evicted, &mut self.table.budget, &self.memory, out);
        }
        let Some((flow, budget)) = self.table.get_with_budget(lookup.flow) else { return };
        if lookup.created {
            flow.user.dissect = self.dissect;
            // Without the sender watch to arm it, the relay watch tracks every segment.
            flow.user.relay.armed = !self.watch_senders;
            flow.user.expected = self.ports.get(ip.proto, flow.server().port());
            flow.user.expected_if_swapped = self.ports.get(ip.proto, flow.client().port());
            flow.user.dir_settled = settled;
            if matches!(ip.proto, IpProto::ICMP | IpProto::ICMPV6) {
                let (t, c) = (ip.payload.first().copied().unwrap_or(0), ip.payload.get(1).copied().unwrap_or(0));
                flow.user.icmp = Some((src_is_lo, t, c));
            }
        }
        if let Some(keeper) = out.evidence.as_deref_mut() {
            keeper.begin(&mut flow.user.ring, p.frame, p.pcap_cnt);
        }
        let dir = flow.direction(src_is_lo);
        let s = dir.index();
        if let (Some(n), Some(b)) = (flow.packets.get_mut(s), flow.bytes.get_mut(s)) {
            *n += 1;
            *b += p.wire_len;
        }
        let ctx = event_ctx(flow, p.ts, Some(p.pcap_cnt), p.vlans, out.input);
        if out.baseline.is_some() || out.report.is_some() {
            crate::baseline::hosts(out, &ctx, (ip.src, p.macs.map(|m| m.src)), ip.dst, lookup.created);
        }
        if out.inventory.is_some() {
            let src = (ip.src, p.macs.map(|m| m.src));
            crate::inventory::packet(out, &mut flow.user.marks.assets, (p.ts, Some(p.pcap_cnt)), s, src, ip.dst, lookup.created);
        }
        if out.segmentation.is_some() && flow.user.zones.needs(None) {
            // The protocol alone, from the first packet (a SYN to RDP counts); a
            // dissector's requests add their function classes.
            let app = flow.user.app.or(flow.user.expected);
            let service = otsentry_policy::service_of(app, ip.proto, ctx.server().port());
            ctx.segmentation(out, &mut flow.user.zones, service, None);
        }
        // A ping to a host this source has not pinged in the window; a handshake reset.
        let echo = matches!((ip.proto, ip.payload.first()), (IpProto::ICMP, Some(8)) | (IpProto::ICMPV6, Some(128)));
        let mut attempt = (lookup.created && echo).then_some((0, Reason::Echo));
        // Out-of-order bytes near the reassembly share's limit: the oldest holders give way.
        let mut tight = false;
        if let Some(t) = tcp {
            let before = flow.tcp.as_ref().map(|c| c.state);
            tcp_segment(flow, budget, &self.stream_cfg, dir, &t, &ctx, out);
            if budget.used > 0 && flow.tcp.as_ref().is_some_and(|c| c.streams.iter().any(|s| s.held_bytes() > 0)) {
                if !flow.user.charged.stream_queued {
                    flow.user.charged.stream_queued = true;
                    self.stream_holders.push(lookup.flow, flow.id);
                }
                let reassembly = MemoryKind::Reassembly;
                tight = self.memory.used(reassembly) > self.memory.limit(reassembly) / 10 * 9;
            }
            // Every CREDIT_EVERY-th packet of a side credits its address (credit_rest
            // counts on that); a bare ACK is not fingerprinted: it carries nothing a
            // forger needs (commands, reports and resets do).
            let credit = self.watch_senders && flow.packets.get(s).is_some_and(|n| n % CREDIT_EVERY == 0);
            let bare = t.flags == ACK && t.payload.is_empty();
            if self.watch_senders && (!bare || credit) {
                let print = Print::new(p.macs.map(|m| m.src), ip.ttl);
                let seen = if bare { Seen::default() } else { flow.user.sender.packet(s == 1, print, p.ts.as_nanos()) };
                flow.user.relay.armed |= seen.changed;
                if seen.any() || credit {
                    // The receiving MAC serves the destination: a gateway shows as
                    // serving many before it sends for them.
                    let received = p.macs.map(|m| (Print::new(Some(m.dst), 0), ip.dst));
                    sender_events(&mut self.hosts, &flow.user.sender, (seen, credit, print, received), ip.src, (s, dir), &ctx, out);
                }
            }
            if let (true, Some(macs), false, true) = (flow.user.relay.armed, p.macs, t.payload.is_empty(), self.watch_relays) {
                let relayed = flow.user.relay.segment(s == 1, t.seq, t.payload.len(), macs);
                if relayed != Relayed::No {
                    relay_event(relayed, macs, &t, dir, &ctx, out);
                }
            }
            if t.flags & RST != 0 {
                attempt = match (before, dir) {
                    (Some(TcpState::SynSent), _) | (Some(TcpState::SynRecv), Direction::ToClient) => {
                        Some((ctx.server().port(), Reason::Refused))
                    }
                    (Some(TcpState::SynRecv), Direction::ToServer) => Some((ctx.server().port(), Reason::HalfOpen)),
                    _ => None,
                };
            }
        } else if let Some(payload) = udp_payload {
            app_data(&mut flow.user, &ctx, dir, 0, payload, true, out);
        }
        if flow.user.swap {
            flow.user.swap = false;
            flow.user.dir_settled = true;
            flow.user.zones.reset();
            flow.user.marks = crate::apps::Marks::default();
            flow.swap_direction();
        }
        if let Some(keeper) = out.evidence.as_deref_mut() {
            keeper.end(&mut flow.user.ring);
        }
        // Only a packet with data (or one that ends the flow's streams) changes what its
        // application layer holds.
        let carried = tcp.map_or(udp_payload.is_some(), |t| !t.payload.is_empty() || t.flags & (FIN | RST) != 0);
        let over = carried && charge(&self.memory, &mut self.holders, lookup.flow, flow);
        if let Some((port, reason)) = attempt {
            let (client, server) = (ctx.client().ip(), ctx.server().ip());
            if let Some(d) = out.alerting.deferral() {
                let place =
                    Place { subject: OwnedSubject::of(&ctx.subject(Direction::ToServer, p.ts)), header: ctx.header(Direction::ToServer) };
                d.push(Item::Scan { src: client, dst: server, port, reason, place: Box::new(place) });
            } else if let Some(event) = self.scans.attempt(p.ts.as_nanos(), client, server, port, reason) {
                out.detect(&|| ctx.subject(Direction::ToServer, p.ts), &event, Some(("scan", &event)), &mut || {
                    ctx.header(Direction::ToServer)
                });
            }
        }
        if over {
            self.shed_oldest(p.ts, out);
        }
        if tight {
            self.streams_give_way(p.ts, out);
        }
    }

    /// A scan attempt seen outside any flow (an ARP request).
    pub(crate) fn scan_attempt(
        &mut self,
        now: i64,
        src: std::net::IpAddr,
        dst: std::net::IpAddr,
        reason: Reason,
    ) -> Option<crate::scan::ScanEvent> {
        self.scans.attempt(now, src, dst, 0, reason)
    }

    /// Addresses the sender watch forgot when its table filled.
    pub(crate) fn hosts_dropped(&self) -> u64 {
        self.hosts.dropped()
    }

    /// Sources the scan tracker forgot when it filled.
    pub(crate) fn scan_sources_dropped(&self) -> u64 {
        self.scans.dropped()
    }

    /// Time passes (a live sensor's clock): flows idle past their timeout end now.
    pub(crate) fn expire(&mut self, now: Timestamp, out: &mut Out<'_>) {
        let (hosts, memory) = (&mut self.hosts, &self.memory);
        self.table.expire(now, &mut |f, why, budget| {
            credit_rest(hosts, &f, out);
            end_flow(f, why, budget, memory, out)
        });
        let table = &mut self.table;
        self.holders.compact(table.len(), |r, id| table.get_mut(r).is_some_and(|f| f.id == id && f.user.charged.queued));
        self.stream_holders.compact(table.len(), |r, id| table.get_mut(r).is_some_and(|f| f.id == id && f.user.charged.stream_queued));
        self.next_sweep = now.as_nanos().saturating_add(SWEEP_EVERY_NS);
    }

    /// A new baseline detector starts: no flow has a conversation in it yet.
    pub(crate) fn forget_baseline_slots(&mut self) {
        self.table.for_each_mut(&mut |f| f.user.marks.baseline_slot = None);
    }

    /// Every live flow's dissector counts handed to the summary (periodic stats), so
    /// counters grow while flows live, not only when they end.
    pub(crate) fn publish(&mut self, out: &mut Out<'_>) {
        let counts = &mut out.summary.protocols;
        self.table.for_each_mut(&mut |f| {
            if let Some(parser) = f.user.parser.as_mut() {
                parser.publish(counts);
            }
        });
    }

    /// End of run: every flow still open ends now.
    pub(crate) fn finish(&mut self, out: &mut Out<'_>) {
        let (hosts, memory) = (&mut self.hosts, &self.memory);
        self.table.drain(&mut |f, why, budget| {
            credit_rest(hosts, &f, out);
            end_flow(f, why, budget, memory, out)
        });
        self.counts(out.summary);
    }

    /// The flow table's counters, into the summary (idempotent).
    pub(crate) fn counts(&self, summary: &mut otsentry_core::Summary) {
        let st = &self.table.stats;
        summary.flows = st.created;
        let streams = &mut summary.streams;
        streams.flows_timed_out = st.timed_out;
        streams.flows_evicted = st.evicted;
        streams.peak_active_flows = st.peak_active;
        streams.active_flows = self.table.len() as u64;
        streams.reassembly_peak_bytes = self.table.budget.peak as u64;
        summary.memory = self.memory.counts();
    }
}

/// The flow charged what it holds now (its dissector, its application buffers), and
/// queued as a holder when it begins to hold; true when application buffers are over
/// their limit.
#[inline]
fn charge(memory: &MemoryBudget, holders: &mut Holders, r: FlowRef, flow: &mut Flow<AppState>) -> bool {
    let user = &mut flow.user;
    // Probing, a dissector whose holdings changed, or probe bytes still charged after
    // detection gave up: otherwise nothing moved.
    let due = match user.parser.as_mut() {
        Some(p) => p.take_changed(),
        None => user.charged.app != 0,
    };
    if !due && user.detector.is_done() {
        return false;
    }
    let (dissector, app) = (user.parser.as_ref().map_or(0, Parser::size), user.app_held());
    if dissector == user.charged.dissector as usize && app == user.charged.app as usize {
        return false;
    }
    charge_change(memory, holders, r, flow, (dissector, app))
}

#[cold]
#[inline(never)]
fn charge_change(
    memory: &MemoryBudget,
    holders: &mut Holders,
    r: FlowRef,
    flow: &mut Flow<AppState>,
    (dissector, app): (usize, usize),
) -> bool {
    let user = &mut flow.user;
    let over = crate::charge::settle(memory, &mut user.charged, dissector, app);
    if app > 0 && !user.charged.queued {
        user.charged.queued = true;
        holders.push(r, flow.id);
    }
    over
}

/// A sender watch's rare work: the host check when a session side opens or resumes, the
/// session event when it changed, the address's periodic credit; `received`: the MAC
/// the packet went to, and the address it serves. With several workers, the cross stage
/// does the host table's part.
#[cold]
#[inline(never)]
fn sender_events(
    hosts: &mut HostTable,
    watch: &SenderWatch,
    (seen, credit, print, received): (Seen, bool, Print, Option<(Print, std::net::IpAddr)>),
    src: std::net::IpAddr,
    (side, dir): (usize, Direction),
    ctx: &EventCtx<'_>,
    out: &mut Out<'_>,
) {
    // Both sides of a flow with one address (a loopback trace) are two senders for it.
    let own = ctx.client().ip() != ctx.server().ip();
    let first = watch.first(side);
    if let Some(d) = out.alerting.deferral() {
        if let Some((print, ip)) = received {
            d.push(Item::SentFor { print, ip });
        }
        let place = Place { subject: OwnedSubject::of(&ctx.subject(dir, ctx.ts)), header: ctx.header(dir) };
        d.push(Item::Sender(Box::new(SenderItem { seen, credit, print, src, own, first, place })));
        return;
    }
    if let Some((print, ip)) = received {
        hosts.sent_for(print, ip);
    }
    for event in crate::sender::host_check(hosts, seen, credit, print, src, own, first).into_iter().flatten() {
        out.detect(&|| ctx.subject(dir, ctx.ts), &event, Some(("sender", &event)), &mut || ctx.header(dir));
    }
}

/// A relayed segment: counted, and raised when it is the flow's first.
#[cold]
#[inline(never)]
fn relay_event(relayed: Relayed, macs: Macs, t: &TcpInfo<'_>, dir: Direction, ctx: &EventCtx<'_>, out: &mut Out<'_>) {
    out.summary.streams.relayed_segments += 1;
    if let Relayed::First(original) = relayed {
        let event = RelayEvent::new(original, macs, t.seq, t.payload.len());
        out.detect(&|| ctx.subject(dir, ctx.ts), &event, Some(("relay", &event)), &mut || ctx.header(dir));
    }
}

/// A session's packets its address's fingerprints have not been credited with yet.
fn credit_rest(hosts: &mut HostTable, flow: &Flow<AppState>, out: &mut Out<'_>) {
    for (side, ip) in [(0, flow.client().ip()), (1, flow.server().ip())] {
        let dir = if side == 0 { Direction::ToServer } else { Direction::ToClient };
        let Some(print) = flow.user.sender.first(dir.index()) else { continue };
        let sent = flow.packets.get(dir.index()).copied().unwrap_or(0);
        // One at the session side's opening, CREDIT_EVERY at each multiple.
        let credited = 1 + sent / CREDIT_EVERY * CREDIT_EVERY;
        if sent > credited {
            match out.alerting.deferral() {
                Some(d) => d.push(Item::Credit { ip, print, packets: sent - credited }),
                None => hosts.credit(ip, print, sent - credited),
            }
        }
    }
}

/// Whether a new flow's first packet comes from its client, and whether that is
/// certain (a handshake or a configured server port) rather than a guess.
fn orient(ports: &PortMap, proto: IpProto, sport: u16, dport: u16, flags: Option<u8>, settled: &mut bool) -> bool {
    *settled = true;
    match flags {
        Some(f) if f & SYN != 0 && f & ACK == 0 => return true,
        Some(f) if f & SYN != 0 => return false,
        _ => {}
    }
    let transport = if flags.is_some() { IpProto::TCP } else { proto };
    match (ports.get(transport, dport), ports.get(transport, sport)) {
        (Some(_), None) => return true,
        (None, Some(_)) => return false,
        _ => {}
    }
    // A guess from the ports: servers listen on the lower, well-known one.
    *settled = false;
    !(sport < 1024 && dport >= 1024)
}

/// The context of events about `flow` and the packet at hand.
pub(crate) fn event_ctx<'p>(
    flow: &Flow<AppState>,
    ts: Timestamp,
    pcap_cnt: Option<u64>,
    vlans: &'p [u16],
    input: Option<&'p Arc<str>>,
) -> EventCtx<'p> {
    EventCtx {
        flow_id: flow.id,
        key: flow.key,
        client_is_lo: flow.client_is_lo,
        icmp: flow.user.icmp,
        app: flow.user.app,
        ts,
        pcap_cnt,
        vlans,
        input,
    }
}

fn tcp_segment(
    flow: &mut Flow<AppState>,
    budget: &mut Budget,
    cfg: &StreamConfig,
    dir: Direction,
    t: &TcpInfo<'_>,
    ctx: &EventCtx<'_>,
    out: &mut Out<'_>,
) {
    let Flow { tcp, user, .. } = flow;
    let Some(conn) = tcp.as_mut() else { return };
    let was_none = conn.state == TcpState::None;
    conn.on_flags(dir, t.flags);
    if was_none && conn.midstream {
        out.summary.streams.tcp_midstream += 1;
    }
    let [to_server, to_client] = &mut conn.streams;
    let (mine, theirs) = match dir {
        Direction::ToServer => (to_server, to_client),
        Direction::ToClient => (to_client, to_server),
    };
    let fin = t.flags & FIN != 0;
    if t.flags & SYN != 0 {
        mine.syn(t.seq);
        if !t.payload.is_empty() {
            let seq = t.seq.wrapping_add(1);
            mine.segment(cfg, budget, seq, t.payload, fin, &mut |d| on_delivery(user, ctx, dir, d, out));
        }
    } else {
        mine.segment(cfg, budget, t.seq, t.payload, fin, &mut |d| on_delivery(user, ctx, dir, d, out));
    }
    if t.flags & ACK != 0 {
        theirs.acked(t.ack);
    }
}

pub(crate) fn on_delivery(user: &mut AppState, ctx: &EventCtx<'_>, dir: Direction, d: Delivery<'_>, out: &mut Out<'_>) {
    match d {
        Delivery::Data { offset, bytes } => app_data(user, ctx, dir, offset, bytes, false, out),
        Delivery::Gap { offset, len, reason } => {
            user.detector.gap(dir.index());
            if let Some(parser) = user.parser.as_mut() {
                let cx = StreamCx { ts: ctx.ts, dir, offset: offset + len };
                let mut sink =
                    AppSink { ctx, out: &mut *out, community_id: &mut user.community_id, zones: &mut user.zones, marks: &mut user.marks };
                if let Some(pending) = user.pending.get_mut(dir.index()) {
                    parser.gap(pending, &cx, len, &mut sink);
                }
            }
            let (event, why) = match reason {
                GapReason::Acked => ("stream.reassembly_seq_gap", "acknowledged by the receiver but never captured"),
                GapReason::Overflow => ("stream.reassembly_overflow", "skipped: the reassembly cap was reached"),
                GapReason::End => return,
            };
            ctx.anomaly(out, dir, AnomalyKind::Stream, event, Layer::Stream, offset, format_args!("{len} stream bytes {why}"));
        }
        Delivery::Conflict { offset, len } => {
            let reason = format_args!("{len} retransmitted bytes differ from the first copy, which was kept");
            ctx.anomaly(out, dir, AnomalyKind::Stream, "stream.reassembly_overlap_different_data", Layer::Stream, offset, reason);
        }
    }
}

/// Stream bytes at `offset` (or a whole datagram) in `dir`: detection first, then the
/// detected protocol's dissector.
fn app_data(user: &mut AppState, ctx: &EventCtx<'_>, dir: Direction, offset: u64, bytes: &[u8], datagram: bool, out: &mut Out<'_>) {
    if user.detector.is_done() {
        if let Some(parser) = user.parser.as_mut() {
            // Detection may have finished earlier in this packet's deliveries (held
            // segments drained after a hole filled): the packet's context predates it.
            let fixed;
            let (ctx, dir) = if ctx.app == user.app && !user.swap {
                (ctx, dir)
            } else {
                fixed = EventCtx { app: user.app, client_is_lo: ctx.client_is_lo != user.swap, ..*ctx };
                (&fixed, if user.swap { dir.reverse() } else { dir })
            };
            let cx = StreamCx { ts: ctx.ts, dir, offset };
            let mut sink = AppSink { ctx, out, community_id: &mut user.community_id, zones: &mut user.zones, marks: &mut user.marks };
            parser.deliver(user.pending.get_mut(dir.index()), &cx, bytes, datagram, &mut sink);
        }
        return;
    }
    let port = user.expected.or(user.expected_if_swapped);
    let verdict = if datagram {
        user.detector.offer_datagram(dir.index(), bytes, port)
    } else {
        user.detector.offer(dir.index(), offset, bytes, port)
    };
    match verdict {
        Detected::Pending => {}
        Detected::Found { proto, dir: evidence } => {
            user.app = Some(proto);
            *out.summary.streams.app_protocols.entry(proto.name().to_string()).or_default() += 1;
            // The bytes say which way they travel: a midstream flow learns its client.
            let mut ctx = EventCtx { app: Some(proto), ..*ctx };
            let mut dir = dir;
            if let Some(e) = evidence.filter(|&e| !user.dir_settled && e != dir) {
                user.swap = true;
                std::mem::swap(&mut user.expected, &mut user.expected_if_swapped);
                ctx.client_is_lo = !ctx.client_is_lo;
                dir = e;
            }
            if !user.expected.is_some_and(|e| e.same_family(proto)) {
                let expected = user.expected.map_or("no OT protocol", |e| e.name());
                let (name, port) = (proto.name(), ctx.server().port());
                let reason = format_args!("{name} found on port {port}, which is configured for {expected}");
                ctx.anomaly(out, dir, AnomalyKind::Applayer, "applayer.ot_protocol_unexpected_port", Layer::App, 0, reason);
            }
            if !user.dissect {
                return;
            }
            user.parser = crate::registry::parser_for(proto, out.apps);
            start_parser(user, &ctx, dir, offset, bytes, datagram, out);
        }
        Detected::Failed => {
            if let Some(e) = user.expected {
                let (port, name) = (ctx.server().port(), e.name());
                let reason = format_args!("port {port} is configured for {name} but the traffic is not {name}");
                ctx.anomaly(out, dir, AnomalyKind::Applayer, "applayer.ot_port_unexpected_protocol", Layer::App, 0, reason);
            }
        }
    }
}

/// Hand a new dissector what detection looked at: the other direction's held bytes,
/// then this delivery (with what was held before it).
fn start_parser(user: &mut AppState, ctx: &EventCtx<'_>, dir: Direction, offset: u64, bytes: &[u8], datagram: bool, out: &mut Out<'_>) {
    let held = user.detector.take_held();
    let Some(parser) = user.parser.as_mut() else { return };
    let mut sink = AppSink { ctx, out, community_id: &mut user.community_id, zones: &mut user.zones, marks: &mut user.marks };
    let this = dir.index();
    for (s, (start, bytes_held)) in held.iter().enumerate().filter(|(s, h)| *s != this && !h.1.is_empty()) {
        let other = if s == 0 { Direction::ToServer } else { Direction::ToClient };
        if let Some(pending) = user.pending.get_mut(s) {
            parser.stream(pending, &StreamCx { ts: ctx.ts, dir: other, offset: *start }, bytes_held, &mut sink);
        }
    }
    // Detection holds stream bytes only, so a datagram is always this delivery's own.
    let (start, mine) = match held.get(this) {
        Some((start, h)) if !h.is_empty() && !datagram => (*start, h.as_slice()),
        _ => (offset, bytes),
    };
    parser.deliver(user.pending.get_mut(this), &StreamCx { ts: ctx.ts, dir, offset: start }, mine, datagram, &mut sink);
}

/// The memory budget needs room: the flow drops its partial PDUs, pending transactions
/// and probe bytes, with an anomaly when PDUs were lost.
pub(crate) fn shed_flow(flow: &mut Flow<AppState>, now: Timestamp, out: &mut Out<'_>) {
    let vlan = [flow.key.vlan];
    let vlans: &[u16] = if flow.key.vlan != 0 { &vlan } else { &[] };
    let ctx = event_ctx(flow, now, None, vlans, out.input);
    let user = &mut flow.user;
    let bytes = user.charged.app;
    user.detector.shed();
    let Some(parser) = user.parser.as_mut() else { return };
    let mut sink =
        AppSink { ctx: &ctx, out: &mut *out, community_id: &mut user.community_id, zones: &mut user.zones, marks: &mut user.marks };
    let lost = parser.shed(&mut user.pending, now, &mut sink);
    if lost > 0 {
        let reason =
            format_args!("{lost} PDUs in progress or awaiting an answer dropped ({bytes} bytes held) to stay within the memory budget");
        ctx.anomaly(out, Direction::ToServer, AnomalyKind::Applayer, "applayer.memcap_shed", Layer::App, 0, reason);
    }
}

/// A flow leaves the table: deliver what its streams hold, count, and write its record.
fn end_flow(mut flow: Flow<AppState>, why: EndReason, budget: &mut Budget, memory: &MemoryBudget, out: &mut Out<'_>) {
    crate::charge::release(memory, &mut flow.user.charged);
    let vlan = [flow.key.vlan];
    let vlans: &[u16] = if flow.key.vlan != 0 { &vlan } else { &[] };
    let ctx = event_ctx(&flow, flow.last, None, vlans, out.input);
    let mut tcp_body = None;
    if let Some(conn) = flow.tcp.as_mut() {
        let user = &mut flow.user;
        for (s, stream) in conn.streams.iter_mut().enumerate() {
            let dir = if s == 0 { Direction::ToServer } else { Direction::ToClient };
            stream.finish(budget, &mut |d| on_delivery(user, &ctx, dir, d, out));
        }

        let st = &mut out.summary.streams;
        for stream in &conn.streams {
            st.delivered_bytes += stream.delivered_bytes();
            let x = &stream.stats;
            st.gaps += x.gaps;
            st.missed_bytes += x.missed_bytes;
            st.overflow_bytes += x.overflow_bytes;
            st.end_gap_bytes += x.end_gap_bytes;
            st.retransmitted_bytes += x.retransmitted_bytes;
            st.overlap_conflicts += x.overlap_conflicts;
        }
        if out.wants("flow") {
            let [flags_ts, flags_tc] = conn.flags;
            let mut body = TcpBody::with_flags(flags_ts, flags_tc);
            for x in conn.streams.iter().map(|s| &s.stats) {
                body.gaps += x.gaps;
                body.missed_bytes += x.missed_bytes;
                body.overlap_conflicts += x.overlap_conflicts;
            }
            body.state = conn.state.as_str();
            body.midstream = conn.midstream;
            tcp_body = Some(body);
        }
    }
    if let Some(parser) = flow.user.parser.as_mut() {
        parser.finish(
            flow.last,
            &mut AppSink {
                ctx: &ctx,
                out: &mut *out,
                community_id: &mut flow.user.community_id,
                zones: &mut flow.user.zones,
                marks: &mut flow.user.marks,
            },
        );
    }
    if !out.wants("flow") {
        return;
    }
    let ([pkts_ts, pkts_tc], [bytes_ts, bytes_tc]) = (flow.packets, flow.bytes);
    let state = match flow.tcp.as_ref().map(|c| c.state) {
        Some(TcpState::Closed) => "closed",
        _ if pkts_ts > 0 && pkts_tc > 0 => "established",
        _ => "new",
    };
    let mut header = ctx.header(Direction::ToServer);
    header.timestamp = flow.start;
    let record = FlowRecord {
        header,
        flow: FlowBody {
            pkts_toserver: pkts_ts,
            pkts_toclient: pkts_tc,
            bytes_toserver: bytes_ts,
            bytes_toclient: bytes_tc,
            start: flow.start,
            end: flow.last,
            age: flow.last.secs() - flow.start.secs(),
            state,
            reason: why.as_str(),
            alerted: false,
        },
        tcp: tcp_body,
    };
    out.write(&record);
}
