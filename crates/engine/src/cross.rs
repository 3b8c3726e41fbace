//! State that spans address pairs, with several workers: the scan tracker, the sender
//! watch's host table, the baseline's asset findings and the rules' thresholds and
//! suppressions by source, destination or rule. Workers split traffic by address pair,
//! so none of them sees all of it; each defers that work ([`crate::deferral`]) stamped
//! with the capture order of what caused it, and one [`CrossStage`] applies every
//! worker's items in that order. The results are those one worker would give, whatever
//! the number of workers.
use crate::alerting::Alerting;
use crate::deferral::{Item, Place};
use crate::scan::ScanTracker;
use crate::sender::HostTable;
use otsentry_core::{Alert, EventHeader, Summary, Timestamp};
use otsentry_sink::Outputs;
use std::collections::VecDeque;

/// The one owner of cross-pair state: applies every worker's items in capture order,
/// raises what they cause through the full rules, and writes those alerts.
pub(crate) struct CrossStage {
    alerting: Alerting,
    scans: ScanTracker,
    hosts: HostTable,
    outputs: Option<Outputs>,
    pub(crate) summary: Summary,
    /// Each worker's items not yet applied, and how far in capture order it has got.
    queues: Vec<VecDeque<(u64, Item)>>,
    done: Vec<u64>,
    /// Warm-up watches gathered so far (all workers send theirs at the same marker).
    roles: Vec<crate::roles::RoleWatch>,
    roles_done: Option<crate::roles::RoleWatch>,
    /// Asset findings raised so far (each once, as one detector would).
    assets_raised: std::collections::HashSet<crate::baseline::AssetSubject>,
    /// The run's asset book, when the outputs take `asset` records.
    inventory: Option<crate::assets::Inventory>,
}

impl CrossStage {
    pub(crate) fn new(
        alerting: Alerting,
        hosts: HostTable,
        outputs: Option<Outputs>,
        workers: usize,
        memory: otsentry_core::MemoryBudget,
        vendors: Option<std::sync::Arc<otsentry_baseline::Vendors>>,
    ) -> CrossStage {
        let inventory = outputs.as_ref().filter(|o| o.wants("asset")).map(|_| crate::assets::Inventory::new(&memory, vendors));
        CrossStage {
            inventory,
            alerting,
            scans: ScanTracker::with_memory(memory),
            hosts,
            outputs,
            summary: Summary::default(),
            queues: (0..workers).map(|_| VecDeque::new()).collect(),
            done: vec![0; workers],
            roles: Vec::new(),
            roles_done: None,
            assets_raised: std::collections::HashSet::new(),
        }
    }

    pub(crate) fn alerting(&mut self) -> &mut Alerting {
        &mut self.alerting
    }

    /// A worker's items, and the capture position it has handled everything up to.
    pub(crate) fn offer(&mut self, worker: usize, items: Vec<(u64, Item)>, done: u64) {
        if let Some(q) = self.queues.get_mut(worker) {
            q.extend(items);
        }
        if let Some(d) = self.done.get_mut(worker) {
            *d = (*d).max(done);
        }
        self.release(self.done.iter().copied().min().unwrap_or(0));
    }

    /// Applies every item up to `upto` in capture order (ties, from a marker every worker
    /// saw, in worker order).
    fn release(&mut self, upto: u64) {
        loop {
            let next = self.queues.iter().enumerate().filter_map(|(w, q)| q.front().map(|(seq, _)| (*seq, w))).min();
            let Some((_, w)) = next.filter(|(seq, _)| *seq <= upto) else { return };
            if let Some((_, item)) = self.queues.get_mut(w).and_then(VecDeque::pop_front) {
                self.apply(item);
            }
        }
    }

    /// Everything left, at the end of the run.
    pub(crate) fn drain(&mut self) {
        self.release(u64::MAX);
    }

    /// Whether every worker's warm-up watch is in.
    pub(crate) fn has_roles(&self) -> bool {
        self.roles_done.is_some()
    }

    /// The warm-up's watches, merged, once every worker has sent its own.
    pub(crate) fn take_roles(&mut self) -> Option<crate::roles::RoleWatch> {
        self.roles_done.take()
    }

    fn apply(&mut self, item: Item) {
        match item {
            Item::Gate(gate, mut alert) => {
                if let Some(detail) = self.alerting.gate_deferred(&gate, std::mem::take(&mut alert.alert.detail)) {
                    alert.alert.detail = detail;
                    self.alerting.raise(&alert, &mut self.summary);
                    self.write(&alert);
                }
            }
            Item::Raised(alert) => self.alerting.hook(&alert),
            Item::Scan { src, dst, port, reason, place } => {
                if let Some(event) = self.scans.attempt(place.subject.ts.as_nanos(), src, dst, port, reason) {
                    self.detect(&place, &event, "scan");
                }
            }
            Item::Sender(s) => {
                let events = crate::sender::host_check(&mut self.hosts, s.seen, s.credit, s.print, s.src, s.own, s.first);
                for event in events.into_iter().flatten() {
                    self.detect(&s.place, &event, "sender");
                }
            }
            Item::SentFor { print, ip } => self.hosts.sent_for(print, ip),
            Item::Credit { ip, print, packets } => self.hosts.credit(ip, print, packets),
            Item::AssetFinding(found) => {
                let (f, place) = &*found;
                if crate::baseline::asset_subject(f).is_some_and(|key| self.assets_raised.insert(key)) {
                    if f.kind == otsentry_baseline::Kind::NewAsset {
                        *self.summary.baseline.entry(f.kind.as_str().to_string()).or_default() += 1;
                    }
                    let event = crate::baseline::Event::of(f);
                    self.detect(place, &event, "baseline");
                }
            }
            Item::Asset(a) => {
                if let Some(inv) = self.inventory.as_mut() {
                    inv.record(&a.sighting, a.at, a.input.as_ref(), self.outputs.as_mut());
                }
            }
            Item::Roles(watch) => {
                self.roles.push(*watch);
                if self.roles.len() == self.queues.len() {
                    let mut all = crate::roles::RoleWatch::default();
                    for w in self.roles.drain(..) {
                        all.merge(w);
                    }
                    self.roles_done = Some(all);
                }
            }
        }
    }

    fn detect<E: otsentry_core::FieldAccess + serde::Serialize>(&mut self, place: &Place, event: &E, name: &'static str) {
        let CrossStage { alerting, outputs, summary, .. } = self;
        alerting.check(
            &|| place.subject.subject(),
            event,
            Some((name, event)),
            &mut || place.header.clone(),
            summary,
            None,
            &mut |alert| {
                if let Some(o) = outputs.as_mut() {
                    o.write(alert);
                }
            },
        );
    }

    fn write(&mut self, alert: &Alert) {
        if let Some(o) = self.outputs.as_mut().filter(|o| o.wants("alert")) {
            o.write(alert);
        }
    }

    /// A health event of the sensor, checked against the rules here (every worker sees
    /// the same sensor).
    pub(crate) fn health(&mut self, event: &crate::health::HealthEvent, now: Timestamp) {
        *self.summary.sensor.health.entry(event.kind.to_string()).or_default() += 1;
        let CrossStage { alerting, outputs, summary, .. } = self;
        alerting.check(
            &|| crate::health::HealthEvent::subject(now),
            event,
            Some(("health", event)),
            &mut || EventHeader { timestamp: now, ..EventHeader::default() },
            summary,
            None,
            &mut |a| {
                if let Some(o) = outputs.as_mut() {
                    o.write(a);
                }
            },
        );
    }

    pub(crate) fn outputs(&self) -> Option<&Outputs> {
        self.outputs.as_ref()
    }

    pub(crate) fn outputs_mut(&mut self) -> Option<&mut Outputs> {
        self.outputs.as_mut()
    }

    /// A `snapshot` record of every asset, if the outputs take them.
    pub(crate) fn asset_snapshot(&mut self, now: Timestamp) {
        if let (Some(inv), Some(o)) = (self.inventory.as_mut(), self.outputs.as_mut()) {
            inv.snapshot(now, o);
        }
    }

    /// Each output's counters (the sinks every worker shares).
    pub(crate) fn output_counts(&self) -> Vec<otsentry_core::SinkCounts> {
        self.outputs.as_ref().map(Outputs::counts).unwrap_or_default()
    }

    /// Records serialised but not yet written (what a hard stop loses), as far as the
    /// sinks' queues tell; the workers' unfilled batches are not in it.
    pub(crate) fn unwritten(&self) -> u64 {
        self.outputs.as_ref().map_or(0, Outputs::unwritten)
    }

    /// Its counters into `summary` (alerts it raised, its tables' drops).
    pub(crate) fn counts(&self) -> Summary {
        let mut s = self.summary.clone();
        self.alerting.finish(&mut s);
        s.streams.scan_sources_dropped = self.scans.dropped();
        s.streams.sender_hosts_dropped = self.hosts.dropped();
        s.streams.assets_dropped = self.inventory.as_ref().map_or(0, crate::assets::Inventory::dropped);
        s
    }

    /// Ends: the outputs written out, the final counters.
    pub(crate) fn finish(mut self) -> (Summary, Vec<otsentry_core::SinkCounts>) {
        self.drain();
        let sinks = self.outputs.take().map(Outputs::finish).unwrap_or_default();
        (self.counts(), sinks)
    }
}
