//! From rule hits to alerts: the record with the flow's header and the matched event's
//! protocol object, counted in the summary, written to EVE and handed to the caller's
//! hook (the terminal table). Runs whether or not EVE output is on.
use otsentry_core::{Alert, AlertBody, EventHeader, FieldAccess, Summary};
use otsentry_rules::{Detector, Hit, RuleSet, Subject};
use serde::Serialize;
use std::sync::Arc;

/// Called with each alert as it is raised (on the thread that orders them when several
/// workers run).
pub type AlertHook = Box<dyn FnMut(&Alert) + Send>;

/// The run's rule state and where its alerts go besides EVE.
pub(crate) struct Alerting {
    detector: Detector,
    /// Counters of the rules replaced at the warm-up's end.
    carried: otsentry_rules::DetectCounts,
    hook: Option<AlertHook>,
    /// Hits of the event being checked (reused: most events raise none).
    hits: Vec<Hit>,
    /// One worker of several: cross-pair work waits here for the cross stage.
    deferral: Option<crate::deferral::Deferral>,
    /// What the detector's windows and deadlines are charged to.
    memory: otsentry_core::MemoryBudget,
}

impl Alerting {
    pub(crate) fn new(rules: Arc<RuleSet>, memory: otsentry_core::MemoryBudget) -> Self {
        Alerting {
            detector: Detector::with_memory(rules, memory.clone()),
            carried: Default::default(),
            hook: None,
            hits: Vec::new(),
            deferral: None,
            memory,
        }
    }

    /// A worker's alerting: rules whose thresholds span pairs, and the alerts for the
    /// hook, go to the cross stage through its deferral.
    pub(crate) fn deferring(rules: Arc<RuleSet>, forward_raised: bool, memory: otsentry_core::MemoryBudget) -> Self {
        Alerting {
            detector: Detector::deferring(rules, memory.clone()),
            deferral: Some(crate::deferral::Deferral::new(forward_raised)),
            ..Alerting::new(Arc::new(RuleSet::empty()), memory)
        }
    }

    /// Where a worker defers cross-pair work (`None`: this run keeps it itself).
    #[inline]
    pub(crate) fn deferral(&mut self) -> Option<&mut crate::deferral::Deferral> {
        self.deferral.as_mut()
    }

    /// A deferred match through this (the cross stage's) detector's thresholds.
    pub(crate) fn gate_deferred(&mut self, gate: &otsentry_rules::DeferredGate, matched: String) -> Option<String> {
        self.detector.gate_deferred(gate, matched)
    }

    /// An alert the cross stage let through: counted, and to the hook.
    pub(crate) fn raise(&mut self, alert: &Alert, summary: &mut Summary) {
        count(summary, alert);
        self.hook(alert);
    }

    /// The hook, for an alert a worker raised.
    pub(crate) fn hook(&mut self, alert: &Alert) {
        if let Some(hook) = self.hook.as_mut() {
            hook(alert);
        }
    }

    pub(crate) fn set_hook(&mut self, hook: AlertHook) {
        self.hook = Some(hook);
    }

    /// Checks `event`; for each hit, builds the alert and passes it to `emit` (which
    /// writes it) after counting it and calling the hook.
    // The event, how to build its alert, and where the alert goes: each is one argument.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn check<'s, E: FieldAccess + ?Sized, B: Serialize + ?Sized>(
        &mut self,
        subject: &dyn Fn() -> Subject<'s>,
        event: &E,
        body: Option<(&'static str, &B)>,
        header: &mut dyn FnMut() -> EventHeader,
        summary: &mut Summary,
        mut evidence: Option<&mut crate::evidence::Keeper>,
        emit: &mut dyn FnMut(&Alert),
    ) {
        let hits = &mut self.hits;
        self.detector.check_lazy(subject, event, &mut |h| hits.push(h));
        if self.hits.is_empty() {
            return;
        }
        for hit in std::mem::take(&mut self.hits) {
            let app = body.and_then(|(name, b)| serde_json::value::to_raw_value(b).ok().map(|raw| (name, raw)));
            let mut alert = Alert { header: header(), alert: AlertBody { info: hit.info, detail: hit.detail }, app, evidence: None };
            if let (Some(gate), Some(d)) = (hit.deferred, self.deferral.as_mut()) {
                d.push(crate::deferral::Item::Gate(gate, Box::new(alert)));
                continue;
            }
            if let Some(keeper) = evidence.as_deref_mut() {
                keeper.attach(&mut alert);
            }
            count(summary, &alert);
            if let Some(hook) = self.hook.as_mut() {
                hook(&alert);
            }
            if let Some(d) = self.deferral.as_mut().filter(|d| d.forward_raised) {
                d.push(crate::deferral::Item::Raised(Box::new(alert.clone())));
            }
            emit(&alert);
        }
    }

    /// Threshold windows and suppressions that ended by `now` are forgotten.
    pub(crate) fn age(&mut self, now: otsentry_core::Timestamp) {
        self.detector.age(now);
    }

    /// Replaces the rules (the warm-up ended and inferred the host sets); windows and
    /// suppressions start afresh, the counters carry on.
    pub(crate) fn replace_rules(&mut self, rules: Arc<RuleSet>) {
        let counts = self.detector.counts();
        let memory = self.memory.clone();
        self.detector = if self.deferral.is_some() { Detector::deferring(rules, memory) } else { Detector::with_memory(rules, memory) };
        self.carried = counts;
    }

    /// The detector's counters and the rule count, into the summary.
    pub(crate) fn finish(&self, summary: &mut Summary) {
        let mut c = self.detector.counts();
        c.matched += self.carried.matched;
        c.thresholded += self.carried.thresholded;
        c.suppressed += self.carried.suppressed;
        c.state_dropped += self.carried.state_dropped;
        let a = &mut summary.alerts;
        let rules = self.detector.rules();
        a.rules = rules.active() as u64;
        let dormant: Vec<_> = rules.listing().iter().filter(|l| !l.disabled && !l.missing.is_empty()).collect();
        a.dormant = dormant.len() as u64;
        let mut waiting: Vec<String> = dormant.iter().flat_map(|l| l.missing.iter().cloned()).collect();
        waiting.sort_unstable();
        waiting.dedup();
        a.waiting_for = waiting;
        a.matched = c.matched;
        a.thresholded = c.thresholded;
        a.suppressed = c.suppressed;
        a.state_dropped = c.state_dropped;
    }
}

fn count(summary: &mut Summary, alert: &Alert) {
    let a = &mut summary.alerts;
    let info = &alert.alert.info;
    a.total += 1;
    *a.by_rule.entry(info.rule_id.to_string()).or_default() += 1;
    for t in &info.techniques {
        *a.by_technique.entry(t.id.to_string()).or_default() += 1;
    }
    *a.by_severity.entry(info.severity.as_str().to_string()).or_default() += 1;
}
