use crate::alerting::{AlertHook, Alerting};
use crate::events::Out;
use crate::flows::{FlowStage, PacketCx};
use crate::l2::ArpTable;
use otsentry_capture::{RawFrame, ReaderKind};
use otsentry_core::{Anomaly, AnomalyBody, AnomalyKind, EventHeader, Layer, Summary, Timestamp};
use otsentry_rules::{RuleSet, Subject};
use otsentry_sink::Outputs;
use otsentry_wire::{decode_into, decode_transport, Defragmenter, IpInfo, Packet, StopKind, Transport};
use std::net::IpAddr;
use std::sync::Arc;

use crate::options::{Detection, PipelineOptions};

/// The run's outputs as the flow stage borrows them: field by field, so the
/// defragmenter can still lend a datagram meanwhile.
macro_rules! out {
    ($pipeline:expr) => {
        Out {
            outputs: $pipeline.outputs.as_mut(),
            summary: &mut $pipeline.summary,
            input: $pipeline.input.as_ref(),
            alerting: &mut $pipeline.alerting,
            apps: &$pipeline.opts.apps,
            segmentation: $pipeline.segmentation.as_mut(),
            baseline: $pipeline.baseline.as_mut(),
            roles: $pipeline.roles.as_mut(),
            evidence: $pipeline.evidence.as_mut(),
            inventory: $pipeline.inventory.as_mut(),
            report: $pipeline.report.as_deref_mut(),
        }
    };
}

/// The pipeline every source feeds (capture files in replay, interfaces in sense):
/// decoding, flows, dissectors, detection, the policy and the baseline, the outputs.
pub struct Pipeline {
    opts: PipelineOptions,
    outputs: Option<Outputs>,
    summary: Summary,
    defrag: Defragmenter,
    flows: FlowStage,
    /// The input being read, named in every record.
    input: Option<Arc<str>>,
    alerting: Alerting,
    arp: ArpTable,
    segmentation: Option<crate::segment::Segmentation>,
    baseline: Option<crate::baselining::Baselining>,
    baseline_tick: i64,
    max_frame: Option<u32>,
    /// Clients watched during the warm-up, and when it ends (set by the first packet).
    roles: Option<crate::roles::RoleWatch>,
    warmup_end: Option<i64>,
    inferred: Option<crate::roles::InferredSets>,
    /// One worker of several: the warm-up's end comes as a marker, so every worker sees
    /// it at the same point of the capture (behind a reader, so do sweeps and the
    /// baseline's tick: the flow stage knows).
    worker: bool,
    evidence: Option<crate::evidence::Keeper>,
    inventory: Option<crate::assets::Inventory>,
    report: Option<Box<otsentry_baseline::Learner>>,
    /// When a live learning ends (set by its first packet).
    learn_end: Option<i64>,
    /// The baseline checked against was learned by this run: a reload that names no
    /// baseline file keeps it.
    learned_live: bool,
}

impl Pipeline {
    pub fn new(opts: PipelineOptions, outputs: Option<Outputs>) -> Self {
        let mut flows = FlowStage::new(opts.flow, opts.ports.clone(), !opts.skip_dissectors, opts.memory.clone());
        watch_for(&mut flows, &opts.rules);
        if let Some(b) = opts.baseline.as_ref().map(|b| &b.file).or(opts.learn.as_ref()) {
            flows.known_forwarders(&b.assets);
        }
        let alerting = Alerting::new(opts.rules.clone(), opts.memory.clone());
        let roles = opts.warmup.as_ref().map(|_| crate::roles::RoleWatch::default());
        let segmentation = opts.policy.clone().map(crate::segment::Segmentation::new);
        use crate::baselining::Baselining;
        let baseline = match (&opts.learn, &opts.baseline) {
            (Some(file), _) => {
                let learner = otsentry_baseline::Learner::from_file(file.clone());
                Some(Baselining::Learn(Box::new(if opts.learn_lean { learner.lean() } else { learner })))
            }
            (None, Some(b)) => Some(Baselining::detect(b.clone(), opts.baseline_settings, &opts.memory)),
            (None, None) => None,
        };
        let arp = ArpTable::with_memory(opts.memory.clone());
        let evidence = opts.evidence.as_ref().map(|s| crate::evidence::Keeper::new(s, opts.memory.clone()));
        let inventory =
            outputs.as_ref().filter(|o| o.wants("asset")).map(|_| crate::assets::Inventory::new(&opts.memory, opts.vendors.clone()));
        let report = opts.report_learner.then(|| Box::new(otsentry_baseline::Learner::default().lean()));
        Pipeline {
            inventory,
            report,
            defrag: Defragmenter::new(opts.defrag),
            opts,
            outputs,
            summary: Summary { protocols: crate::registry::protocol_counts(), ..Summary::default() },
            flows,
            input: None,
            alerting,
            arp,
            segmentation,
            baseline,
            baseline_tick: i64::MIN,
            max_frame: None,
            roles,
            warmup_end: None,
            inferred: None,
            worker: false,
            evidence,
            learn_end: None,
            learned_live: false,
        }
    }

    /// One worker of several (the pool of workers): cross-pair work is deferred to the cross
    /// stage (`forward_raised`: alerts also go there, for the run's hook), and time is
    /// kept by the reader's markers.
    /// `markers`: sweeps and the baseline's tick come from the reader's markers (a
    /// worker that reads its own capture handle keeps them by its own packets).
    pub(crate) fn worker(opts: PipelineOptions, outputs: Option<Outputs>, forward_raised: bool, markers: bool) -> Self {
        let (rules, memory) = (opts.rules.clone(), opts.memory.clone());
        let mut p = Pipeline::new(opts, outputs);
        p.alerting = Alerting::deferring(rules, forward_raised, memory);
        if markers {
            p.flows.sweep_by_markers();
        }
        p.worker = true;
        p
    }

    /// The capture-order number of what is handled next (a frame or a marker).
    #[inline]
    pub(crate) fn set_seq(&mut self, seq: u64) {
        if let Some(d) = self.alerting.deferral() {
            d.set_seq(seq);
        }
    }

    /// The cross-pair work deferred since the last call.
    pub(crate) fn take_deferred(&mut self) -> Vec<(u64, crate::deferral::Item)> {
        self.alerting.deferral().map(crate::deferral::Deferral::take).unwrap_or_default()
    }

    /// The sender watch's table of forwarders (from the baseline), for the cross stage.
    pub(crate) fn take_hosts(&mut self) -> crate::sender::HostTable {
        self.flows.take_hosts()
    }

    /// A sweep the reader ordered: flows idle at `now` end.
    pub(crate) fn sweep(&mut self, now: Timestamp) {
        self.flows.expire(now, &mut out!(self));
    }

    /// The baseline's look for polls that stopped, at `now`, as the reader ordered it.
    pub(crate) fn baseline_tick(&mut self, now: Timestamp) {
        if self.baseline.is_some() {
            crate::baseline::tick(&mut out!(self), now);
        }
    }

    /// The warm-up ended at a marker: this worker's watch goes to the cross stage, which
    /// merges every worker's and sends the rebuilt rules back ([`Pipeline::warmed_up`]).
    pub(crate) fn end_warmup(&mut self) {
        let Some(watch) = self.roles.take() else { return };
        if let Some(d) = self.alerting.deferral() {
            d.push(crate::deferral::Item::Roles(Box::new(watch)));
        }
    }

    /// The sets every worker's warm-up inferred, and the rules rebuilt with them.
    pub(crate) fn warmed_up(&mut self, sets: crate::roles::InferredSets, rules: Option<Arc<RuleSet>>) {
        if let Some(rules) = rules {
            watch_for(&mut self.flows, &rules);
            self.alerting.replace_rules(rules.clone());
            self.opts.rules = rules;
        }
        self.inferred = Some(sets);
    }

    /// Ends every flow still open now (a worker, before its last report).
    pub(crate) fn end_flows(&mut self) {
        let mut out = out!(self);
        self.flows.finish(&mut out);
    }

    /// The warm-up's watch as it stands (a worker's, at the end of a first pass).
    pub(crate) fn take_roles(&mut self) -> Option<crate::roles::RoleWatch> {
        self.roles.take()
    }

    /// The host sets inferred so far (at the warm-up's end, or from the whole run when
    /// it has no end).
    pub fn inferred(&self) -> Option<crate::roles::InferredSets> {
        self.inferred.clone().or_else(|| self.roles.as_ref().map(crate::roles::RoleWatch::sets))
    }

    /// Host sets a first pass inferred, for the summary to name.
    pub fn set_inferred(&mut self, sets: crate::roles::InferredSets) {
        self.inferred = Some(sets);
    }

    /// Ends the warm-up once `now` passes it: the sets inferred, the rules rebuilt with
    /// them (a rebuild that fails keeps the rules as they were, logged).
    fn warmup_clock(&mut self, now: i64) {
        let Some(w) = self.opts.warmup.as_ref() else { return };
        let Some(duration) = w.duration_ns else { return };
        let end = *self.warmup_end.get_or_insert(now.saturating_add(duration));
        if now < end || self.roles.is_none() {
            return;
        }
        let sets = self.roles.take().map(|r| r.sets()).unwrap_or_default();
        if let Some(rules) = warmed_up_rules(w.sources.as_deref(), &sets) {
            self.alerting.replace_rules(rules);
        }
        self.inferred = Some(sets);
    }

    /// A live learning's time is up: the learner is handed over, and what it learned
    /// checks the traffic from this packet on.
    #[cold]
    fn learning_clock(&mut self, now: i64) {
        let Some(l) = self.opts.learn_for.as_ref() else { return };
        let end = *self.learn_end.get_or_insert(now.saturating_add(l.duration_ns));
        if now < end {
            return;
        }
        let Some(l) = self.opts.learn_for.take() else { return };
        let Some(crate::baselining::Baselining::Learn(learner)) = self.baseline.take() else { return };
        let baseline = (l.learned.lock().unwrap_or_else(std::sync::PoisonError::into_inner))(*learner);
        self.opts.learn = None;
        // The learner's conversation slots mean nothing to the detector.
        self.flows.forget_baseline_slots();
        if let Some(b) = &baseline {
            self.flows.known_forwarders(&b.file.assets);
            tracing::info!(
                assets = b.file.assets.len(),
                conversations = b.file.pairs.len(),
                "learning ended: checking against the learned baseline"
            );
        }
        let settings = self.opts.baseline_settings;
        self.learned_live = baseline.is_some();
        self.baseline = baseline.clone().map(|b| crate::baselining::Baselining::detect(b, settings, &self.opts.memory));
        self.opts.baseline = baseline;
    }

    /// Swaps in a reloaded detection between two packets. Rule windows, the policy's
    /// and the baseline's per-conversation state start afresh (the old ones judged
    /// other files); counters carry on. Host sets the warm-up inferred still apply.
    pub fn reload(&mut self, d: Detection) {
        let rules = reloaded_rules(&d, self.inferred.as_ref());
        if let Some(w) = self.opts.warmup.as_mut() {
            w.sources.clone_from(&d.sources);
        }
        watch_for(&mut self.flows, &rules);
        self.alerting.replace_rules(rules.clone());
        self.opts.rules = rules;
        self.segmentation = d.policy.clone().map(crate::segment::Segmentation::new);
        self.opts.policy = d.policy;
        // While learning the learner stays; a learned baseline stays unless a file replaces it.
        let learning = matches!(self.baseline, Some(crate::baselining::Baselining::Learn(_)));
        let keep = learning || (self.learned_live && d.baseline.is_none());
        if !keep {
            let settings = self.opts.baseline_settings;
            self.baseline = d.baseline.clone().map(|b| crate::baselining::Baselining::detect(b, settings, &self.opts.memory));
            self.opts.baseline = d.baseline;
            self.learned_live = false;
        }
        self.summary.sensor.reloads += 1;
        tracing::info!(rules = self.opts.rules.active(), "reloaded");
    }

    /// A reload that failed: the old set stays; counted, and raised as a health event.
    pub fn reload_failed(&mut self, why: &str, now: Timestamp) {
        self.summary.sensor.reloads_failed += 1;
        tracing::error!(error = %why, "reload failed; the rules, policy and baseline in use stay");
        self.health(&crate::health::HealthEvent::new("reload_failed", why.to_string()), now);
    }

    /// A health event of the sensor itself, checked against the rules (the pack's
    /// "Sensor health" rules) and counted by kind.
    pub fn health(&mut self, event: &crate::health::HealthEvent, now: Timestamp) {
        *self.summary.sensor.health.entry(event.kind.to_string()).or_default() += 1;
        tracing::warn!(kind = event.kind, interface = event.interface.as_deref(), output = event.output.as_deref(), reason = %event.reason, "sensor health");
        out!(self).detect(&|| crate::health::HealthEvent::subject(now), event, Some(("health", event)), &mut || EventHeader {
            timestamp: now,
            ..EventHeader::default()
        });
    }

    /// A `snapshot` record of every asset (a sensor's periodic one), if the outputs
    /// take `asset` records.
    pub fn asset_snapshot(&mut self, now: Timestamp) {
        if let (Some(inv), Some(o)) = (self.inventory.as_mut(), self.outputs.as_mut()) {
            inv.snapshot(now, o);
        }
    }

    /// What the report learner has learned so far (a copy), if it keeps one.
    pub fn report_learner(&self) -> Option<otsentry_baseline::Learner> {
        self.report.as_deref().cloned()
    }

    /// Hand each alert to `hook` as it is raised (besides EVE, if on).
    pub fn on_alert(&mut self, hook: AlertHook) {
        self.alerting.set_hook(hook);
    }

    /// One frame from any source: counted, decoded, handed to flows and detection.
    /// `pcap_cnt` is its number in its input (records name it).
    pub fn frame(&mut self, frame: &RawFrame<'_>, pcap_cnt: u64) {
        self.summary.packets += 1;
        self.summary.bytes += frame.data.len() as u64;
        if self.roles.is_some() && !self.worker {
            self.warmup_clock(frame.ts.as_nanos());
        }
        if self.opts.learn_for.is_some() {
            self.learning_clock(frame.ts.as_nanos());
        }
        if self.max_frame.is_some_and(|max| frame.origlen > max) {
            // Longer than the link carries: merged by an offload before capture.
            self.summary.decode.oversize += 1;
        }
        let mut pkt = Packet::empty();
        decode_into(frame.linktype.0, frame.data, frame.origlen, &self.opts.decode, &mut pkt);
        let p = PacketCx { ts: frame.ts, pcap_cnt, vlans: pkt.vlans(), wire_len: frame.data.len() as u64, macs: pkt.macs, frame };
        self.on_packet(&p, &pkt);
        if self.baseline.is_some() && !self.flows.swept_by_markers() && frame.ts.as_nanos() >= self.baseline_tick {
            // Polls that stopped, looked for once per second of capture time.
            self.baseline_tick = frame.ts.as_nanos().saturating_add(1_000_000_000);
            crate::baseline::tick(&mut out!(self), frame.ts);
        }
        if let Some(o) = self.outputs.as_mut() {
            o.tick();
        }
    }

    /// Time passes without packets (a live sensor's clock, at least once a second):
    /// idle flows end, polls that stopped are raised, rule windows age, and a batch
    /// that waited long enough is handed to the sinks.
    pub fn tick(&mut self, now: Timestamp) {
        self.flows.expire(now, &mut out!(self));
        if self.baseline.is_some() {
            self.baseline_tick = now.as_nanos().saturating_add(1_000_000_000);
            crate::baseline::tick(&mut out!(self), now);
        }
        self.alerting.age(now);
        if let Some(o) = self.outputs.as_mut() {
            o.tick_now();
        }
    }

    /// The largest frame the capture's links carry whole (live capture); longer ones
    /// are counted in `decode.oversize`.
    pub fn set_max_frame(&mut self, max: Option<u32>) {
        self.max_frame = max;
    }

    /// The reader capture files are read with.
    pub(crate) fn reader(&self) -> ReaderKind {
        self.opts.reader
    }

    /// Names the input records come from (`pcap_filename`).
    pub(crate) fn set_input(&mut self, name: &str) {
        self.input = Some(Arc::from(name));
        if let Some(crate::baselining::Baselining::Learn(l)) = self.baseline.as_mut() {
            l.capture(name);
        }
    }

    pub(crate) fn summary_mut(&mut self) -> &mut Summary {
        &mut self.summary
    }

    pub(crate) fn summary_ref(&self) -> &Summary {
        &self.summary
    }

    /// Writes `record` to the outputs that take its type.
    pub(crate) fn write<R: otsentry_core::Record>(&mut self, record: &R) {
        if let Some(o) = self.outputs.as_mut().filter(|o| o.wants(record.event_type())) {
            o.write(record);
        }
    }

    /// Hands the batch being filled to the sinks now.
    pub(crate) fn flush_outputs(&mut self) {
        if let Some(o) = self.outputs.as_mut() {
            o.flush();
        }
    }

    // Once per frame, from `frame` alone: inlined, as it was before it grew.
    #[inline(always)]
    fn on_packet(&mut self, p: &PacketCx<'_>, pkt: &Packet<'_>) {
        let (ts, pcap_cnt) = (p.ts, p.pcap_cnt);
        let d = &mut self.summary.decode;
        d.ipv4_checksum_errors += u64::from(pkt.checksum.ipv4);
        d.tcp_checksum_errors += u64::from(pkt.checksum.tcp);
        d.udp_checksum_errors += u64::from(pkt.checksum.udp);
        d.tunnelled += u64::from(pkt.tunnel.is_some());
        if pkt.ip.is_none() && pkt.stop.is_none() {
            d.non_ip += 1;
        }

        if let Some(stop) = &pkt.stop {
            let snaplen = pkt.snaplen_cut
                && matches!(
                    stop.kind,
                    StopKind::Truncated { .. } | StopKind::IpLengthExceedsFrame { .. } | StopKind::ShortLinkHeader { .. }
                );
            if snaplen {
                // The capture kept fewer bytes than the wire carried: not malformed.
                d.snaplen_truncated += 1;
            } else {
                self.summary.decode_errors += 1;
                let reason = stop.kind.to_string();
                self.anomaly(ts, pcap_cnt, pkt, stop.event(), stop.layer, stop.offset, reason);
            }
        }
        if self.opts.checksum_anomalies {
            for (bad, event, layer) in [
                (pkt.checksum.ipv4, "decoder.ipv4.invalid_checksum", Layer::Ipv4),
                (pkt.checksum.tcp, "decoder.tcp.invalid_checksum", Layer::Tcp),
                (pkt.checksum.udp, "decoder.udp.invalid_checksum", Layer::Udp),
            ] {
                if bad {
                    let offset = pkt.ip.map_or(0, |ip| ip.offset);
                    self.anomaly(ts, pcap_cnt, pkt, event, layer, offset, "checksum does not verify".into());
                }
            }
        }
        if let Some(ip) = pkt.ip.as_ref().filter(|ip| ip.fragment.is_none()) {
            if pkt.stop.is_none() {
                flow_packet(&mut self.flows, &mut out!(self), p, ip, &pkt.transport);
            } else if pkt.snaplen_cut {
                // Headers survived the snap length but the payload did not: count the
                // packet in its flow; the missing bytes show up as a gap when acknowledged.
                flow_packet(&mut self.flows, &mut out!(self), p, ip, &header_only(&pkt.transport));
            }
        }
        if let Some(ip) = pkt.ip.filter(|ip| ip.fragment.is_some()) {
            self.summary.decode.fragments += 1;
            let inserted = self.defrag.insert(ts, &ip);
            let event = inserted.event;
            // Decode the reassembled datagram's transport while the defragmenter lends it.
            let whole = inserted.datagram.map(|dg| decode_transport(&dg, &self.opts.decode));
            let whole_stop = whole.as_ref().and_then(|w| w.stop.clone());
            if let Some((dg, w)) = inserted.datagram.as_ref().zip(whole.as_ref()).filter(|(_, w)| w.stop.is_none()) {
                flow_packet(&mut self.flows, &mut out!(self), p, dg, &w.transport);
            }
            let whole_checksum = whole.as_ref().map(|w| w.checksum);
            if whole.is_some() {
                self.summary.decode.datagrams_reassembled += 1;
            }
            if let Some(c) = whole_checksum {
                let d = &mut self.summary.decode;
                d.tcp_checksum_errors += u64::from(c.tcp);
                d.udp_checksum_errors += u64::from(c.udp);
            }
            if let Some(ev) = event {
                self.anomaly(ts, pcap_cnt, pkt, ev.event(ip.src.is_ipv6()), Layer::Fragment, ip.offset, ev.reason());
            }
            if let Some(stop) = whole_stop {
                self.summary.decode_errors += 1;
                // The bad header lives in the datagram, not in this frame: point at the
                // completing fragment's IP header and say where in the datagram it is.
                let reason = format!("reassembled datagram, payload byte {}: {}", stop.offset, stop.kind);
                self.anomaly(ts, pcap_cnt, pkt, stop.event(), stop.layer, ip.offset, reason);
            }
        }
        if let Some(arp) = &pkt.arp {
            self.summary.decode.arp += 1;
            self.on_arp(ts, pcap_cnt, pkt, arp);
        }
    }

    /// An ARP packet: the binding table learns from it, rules check it.
    fn on_arp(&mut self, ts: Timestamp, pcap_cnt: u64, pkt: &Packet<'_>, arp: &otsentry_wire::ArpInfo) {
        let event = self.arp.observe(ts.as_nanos(), arp);
        let (src, dst) = (IpAddr::V4(arp.sender_ip), IpAddr::V4(arp.target_ip));
        let at = PacketAt { ts, pcap_cnt, pkt, src: Some(src), dst: Some(dst), ports: (None, None), input: self.input.clone() };
        // A request for another address is also a step of a sweep.
        let request = arp.operation == 1 && !event.gratuitous && !arp.sender_ip.is_unspecified();
        let sweep = match self.alerting.deferral() {
            Some(d) if request => {
                let place = crate::deferral::Place { subject: crate::deferral::OwnedSubject::of(&at.subject()), header: at.header() };
                let reason = crate::scan::Reason::ArpRequest;
                d.push(crate::deferral::Item::Scan { src, dst, port: 0, reason, place: Box::new(place) });
                None
            }
            _ => request.then(|| self.flows.scan_attempt(ts.as_nanos(), src, dst, crate::scan::Reason::ArpRequest)).flatten(),
        };
        let mut out = out!(self);
        out.detect(&|| at.subject(), &event, Some(("arp", &event)), &mut || at.header());
        if let Some(scan) = sweep {
            out.detect(&|| at.subject(), &scan, Some(("scan", &scan)), &mut || at.header());
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn anomaly(
        &mut self,
        ts: Timestamp,
        pcap_cnt: u64,
        pkt: &Packet<'_>,
        event: &'static str,
        layer: Layer,
        offset: usize,
        reason: String,
    ) {
        crate::events::count_anomaly(&mut self.summary, event);
        let ports = match pkt.transport {
            Transport::Tcp(t) => (Some(t.src_port), Some(t.dst_port)),
            Transport::Udp(u) => (Some(u.src_port), Some(u.dst_port)),
            _ => (None, None),
        };
        let (src, dst) = (pkt.ip.map(|ip| ip.src), pkt.ip.map(|ip| ip.dst));
        let at = PacketAt { ts, pcap_cnt, pkt, src, dst, ports, input: self.input.clone() };
        let body = AnomalyBody { kind: AnomalyKind::Decode, event, layer, offset, reason };
        let mut out = out!(self);
        out.detect(&|| at.subject(), &body, Some(("anomaly", &body)), &mut || at.header());
        if out.wants("anomaly") {
            out.write(&Anomaly { header: at.header(), body });
        }
    }

    /// Whether every output's reader went away (`--eve - | head`): nothing more can be
    /// written.
    pub fn outputs_closed(&self) -> bool {
        self.outputs.as_ref().is_some_and(Outputs::all_closed)
    }

    /// One flag per sink that makes it reopen its output once set (by a SIGHUP handler).
    pub fn reopen_flags(&self) -> Vec<Arc<std::sync::atomic::AtomicBool>> {
        self.outputs.as_ref().map(Outputs::reopen_flags).unwrap_or_default()
    }

    /// End the run: end the flows, let every sink write what it holds, and return the
    /// summary with its rates and the sinks' counters.
    pub fn finish(self, elapsed_s: f64) -> Summary {
        self.finish_learning(elapsed_s).0
    }

    /// Ends the run as [`Pipeline::finish`] does, with the baseline learned, if learning.
    pub fn finish_learning(mut self, elapsed_s: f64) -> (Summary, Option<otsentry_baseline::Learner>) {
        let mut out = out!(self);
        self.flows.finish(&mut out);
        if let (Some(seg), Some(o)) = (&self.segmentation, self.outputs.as_mut()) {
            if o.wants("segmentation") {
                seg.records().for_each(|r| o.write(&r));
            }
        }
        if let Some(o) = self.outputs.take() {
            self.summary.outputs = o.finish();
        }
        self.fill_counts();
        let learner = match self.baseline.take() {
            Some(crate::baselining::Baselining::Learn(l)) => Some(*l),
            _ => None,
        };
        self.summary.finish(elapsed_s);
        (self.summary, learner)
    }

    /// The run's counters so far, with every live flow's per-function counts published
    /// and each output's delivery counters (periodic stats): what the summary would say
    /// if the run ended now, without ending anything.
    pub fn snapshot(&mut self, elapsed_s: f64) -> Summary {
        let mut out = out!(self);
        self.flows.publish(&mut out);
        self.fill_counts();
        let mut s = self.summary.clone();
        if let Some(o) = self.outputs.as_ref() {
            s.outputs = o.counts();
        }
        s.finish(elapsed_s);
        s
    }

    /// Each output's delivery counters so far.
    pub(crate) fn output_counts(&self) -> Vec<otsentry_core::SinkCounts> {
        self.outputs.as_ref().map(Outputs::counts).unwrap_or_default()
    }

    /// Records serialised but not yet written by every output (what a hard stop loses).
    pub fn unwritten(&self) -> u64 {
        self.outputs.as_ref().map_or(0, Outputs::unwritten)
    }

    /// The counters kept outside the summary while the run goes, copied in (idempotent).
    fn fill_counts(&mut self) {
        self.flows.counts(&mut self.summary);
        self.summary.decode.fragments_dropped = self.defrag.stats.dropped;
        self.alerting.finish(&mut self.summary);
        if let Some(sets) = &self.inferred {
            let a = &mut self.summary.alerts;
            for (name, hosts) in sets.named() {
                a.inferred.insert(name.to_string(), hosts.len() as u64);
            }
        }
        self.summary.decode.arp_bindings_dropped = self.arp.dropped();
        self.summary.evidence = self.evidence.as_ref().map(crate::evidence::Keeper::counts);
        if let Some(seg) = &self.segmentation {
            self.summary.segmentation = seg.counts();
        }
        self.summary.streams.scan_sources_dropped = self.flows.scan_sources_dropped();
        self.summary.streams.sender_hosts_dropped = self.flows.hosts_dropped();
        if !self.worker {
            self.summary.streams.assets_dropped = self.inventory.as_ref().map_or(0, crate::assets::Inventory::dropped);
        }
        if let Some(crate::baselining::Baselining::Detect(d)) = self.baseline.as_ref() {
            self.summary.baseline = d.counts().into_iter().map(|(k, n)| (k.to_string(), n)).collect();
            if d.untracked_pairs() > 0 {
                // New pairs past the detector's cap: raised, but their timing not followed.
                self.summary.baseline.insert("pairs_not_followed".to_string(), d.untracked_pairs());
            }
            if self.worker {
                // A worker's detector meets a new asset once per worker that sees it;
                // the cross stage counts each once.
                self.summary.baseline.remove(otsentry_baseline::Kind::NewAsset.as_str());
            }
        }
    }
}

/// The rules rebuilt with the host sets a warm-up inferred (`None`: nothing to rebuild
/// from, or the rebuild failed, logged: the rules stay as they were).
pub(crate) fn warmed_up_rules(sources: Option<&otsentry_rules::Sources>, sets: &crate::roles::InferredSets) -> Option<Arc<RuleSet>> {
    tracing::info!(
        hmi = sets.hmi.len(),
        engineering = sets.engineering.len(),
        masters = sets.masters.len(),
        "warm-up ended: host sets inferred"
    );
    match crate::registry::rules_with(sources?, sets) {
        Ok(rules) => Some(rules),
        Err(e) => {
            tracing::warn!(error = %e, "warm-up: the rules could not be rebuilt with the inferred sets; keeping them");
            None
        }
    }
}

/// A reload's rules, rebuilt with the host sets a warm-up inferred when it has them
/// (a rebuild that fails uses the reload's rules without them, logged).
pub(crate) fn reloaded_rules(d: &Detection, inferred: Option<&crate::roles::InferredSets>) -> Arc<RuleSet> {
    match (inferred, &d.sources) {
        (Some(sets), Some(sources)) => crate::registry::rules_with(sources, sets).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "reload: the rules could not be rebuilt with the inferred host sets; using them without");
            d.rules.clone()
        }),
        _ => d.rules.clone(),
    }
}

/// Where a packet-level event (a decode anomaly, an ARP packet) happened: its header
/// and what rules see of it, built only when wanted.
struct PacketAt<'p> {
    ts: Timestamp,
    pcap_cnt: u64,
    pkt: &'p Packet<'p>,
    src: Option<IpAddr>,
    dst: Option<IpAddr>,
    ports: (Option<u16>, Option<u16>),
    input: Option<Arc<str>>,
}

impl<'p> PacketAt<'p> {
    fn header(&self) -> EventHeader {
        EventHeader {
            timestamp: self.ts,
            pcap_cnt: Some(self.pcap_cnt),
            src_ip: self.src,
            src_port: self.ports.0,
            dest_ip: self.dst,
            dest_port: self.ports.1,
            proto: self.pkt.ip.map(|ip| ip.proto),
            vlan: otsentry_core::Vlans::from_slice(self.pkt.vlans()),
            pcap_filename: self.input.clone(),
            ..Default::default()
        }
    }

    /// Rules see unspecified addresses for a packet without IP.
    fn subject(&self) -> Subject<'p> {
        let unspecified = IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED);
        Subject {
            ts: self.ts,
            src: self.src.unwrap_or(unspecified),
            dst: self.dst.unwrap_or(unspecified),
            src_port: self.ports.0,
            dst_port: self.ports.1,
            vlan: self.pkt.vlans(),
            to_server: true,
            flow_id: 0,
        }
    }
}

/// A transport header without its payload.
fn header_only<'a>(t: &Transport<'a>) -> Transport<'a> {
    match *t {
        Transport::Tcp(tcp) => Transport::Tcp(otsentry_wire::TcpInfo { payload: &[], ..tcp }),
        Transport::Udp(udp) => Transport::Udp(otsentry_wire::UdpInfo { payload: &[], ..udp }),
        other => other,
    }
}

/// Hand a packet to the flow stage.
fn flow_packet(flows: &mut FlowStage, out: &mut Out<'_>, p: &PacketCx<'_>, ip: &IpInfo<'_>, transport: &Transport<'_>) {
    flows.packet(p, ip, transport, out);
}

/// The flow stage watches senders and relays only when a rule reads their events.
fn watch_for(flows: &mut FlowStage, rules: &RuleSet) {
    let reads = |event: &str| rules.listing().iter().any(|l| l.event == event && !l.disabled);
    flows.watch(reads("sender"), reads("relay"));
}
