//! Checking events against a [`RuleSet`]: the candidate rules of the event's type and
//! function, their conditions by field id, then thresholds and suppression per tracked
//! key. State is bounded; what is dropped is counted.
use crate::compile::RuleSet;
use crate::index::Gate;
use crate::rule::{Clause, Cond, Dir, Distinct, FlowMatch, Rule, Threshold, Track};
use otsentry_core::{AlertInfo, CapMap, FieldAccess, FieldValue, MemoryBudget, MemoryKind, Stage, Timestamp};
use std::fmt::Write as _;
use std::net::IpAddr;
use std::sync::Arc;

/// The flow and packet an event travels in, as rules see them.
#[derive(Clone, Copy, Debug)]
pub struct Subject<'a> {
    pub ts: Timestamp,
    /// Who sent the event (for a transaction, the requester).
    pub src: IpAddr,
    pub dst: IpAddr,
    pub src_port: Option<u16>,
    pub dst_port: Option<u16>,
    pub vlan: &'a [u16],
    /// The event travels from the flow's client to its server.
    pub to_server: bool,
    pub flow_id: u64,
}

/// A rule that fired.
#[derive(Clone, Debug)]
pub struct Hit {
    pub info: Arc<AlertInfo>,
    /// What matched, in words.
    pub detail: String,
    /// Set by a deferring detector for a rule whose threshold or suppression tracks a
    /// key that spans address pairs: not an alert yet, until [`Detector::gate_deferred`]
    /// (the one owner of that state, in capture order) lets it through.
    pub deferred: Option<DeferredGate>,
}

/// What a deferred rule match needs to pass its threshold and suppression elsewhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeferredGate {
    rule: u32,
    ts: Timestamp,
    src: IpAddr,
    dst: IpAddr,
    flow_id: u64,
    distinct: DistinctValue,
}

/// The value a threshold's `distinct` counts, read from the event where it matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DistinctValue {
    /// No distinct count (or one by source address, read from the subject).
    NotAsked,
    Value(u64),
    /// The event lacks the field: never counted.
    Missing,
}

/// What the detector did, for the summary.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DetectCounts {
    /// Rule matches, before thresholds and suppression.
    pub matched: u64,
    /// Matches a threshold held back (below its count).
    pub thresholded: u64,
    /// Alerts a suppression window or the site's tuning silenced.
    pub suppressed: u64,
    /// Live tracking entries that gave way to newer ones (at [`MAX_STATE`] or the memory
    /// budget's detection share), oldest first.
    pub state_dropped: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Key {
    One(IpAddr),
    Pair(IpAddr, IpAddr),
    Flow(u64),
    Rule,
}

#[derive(Clone, Debug, Default)]
struct Window {
    start: i64,
    count: u32,
    seen: Vec<u64>,
}

/// What a window or deadline is charged: its key and value, and the table's overhead.
const ENTRY_BYTES: usize = 96;

/// Tracking entries kept at most, per kind (thresholds, suppressions).
pub const MAX_STATE: usize = 100_000;

/// Checks events against one rule set, with its own threshold and suppression state.
#[derive(Debug)]
pub struct Detector {
    set: Arc<RuleSet>,
    state: State,
    /// Leave the thresholds and suppressions that span address pairs to another
    /// detector ([`Hit::deferred`]).
    defer: bool,
}

/// Per tracked key: open threshold windows and suppression deadlines.
#[derive(Debug)]
struct State {
    // Seeded per run, as the flow table's: the keys are addresses the traffic chooses.
    windows: CapMap<(u32, Key), Window>,
    quiet_until: CapMap<(u32, Key), i64>,
    counts: DetectCounts,
    memory: MemoryBudget,
}

impl State {
    fn new(memory: MemoryBudget, counts: DetectCounts) -> State {
        // Half the detection share each for windows and deadlines (other detection
        // state draws on the rest), and never more than MAX_STATE of either.
        let max = memory.entries(MemoryKind::Detection, 250, ENTRY_BYTES, 1024).min(MAX_STATE);
        let (windows, quiet_until) = (
            CapMap::new(max, memory.clone(), MemoryKind::Detection, ENTRY_BYTES),
            CapMap::new(max, memory.clone(), MemoryKind::Detection, ENTRY_BYTES),
        );
        State { windows, quiet_until, counts, memory }
    }
}

/// A source address as one word: an IPv4 address as its value, an IPv6 one folded (with
/// the top bit set, so the two never meet).
fn source_word(ip: IpAddr) -> u64 {
    match ip {
        IpAddr::V4(v4) => u64::from(u32::from(v4)),
        IpAddr::V6(v6) => {
            let b = u128::from(v6);
            ((b >> 64) as u64 ^ b as u64) | 1 << 63
        }
    }
}

fn key(track: Track, s: &Subject<'_>) -> Key {
    match track {
        Track::Src => Key::One(s.src),
        Track::Dst => Key::One(s.dst),
        Track::Pair => Key::Pair(s.src, s.dst),
        Track::Flow => Key::Flow(s.flow_id),
        Track::Rule => Key::Rule,
    }
}

fn flow_holds(f: &FlowMatch, s: &Subject<'_>) -> bool {
    if f.open {
        return true;
    }
    let port = |t: &Option<crate::value::Test>, p: Option<u16>| match (t, p) {
        (None, _) => true,
        (Some(t), Some(p)) => t.accepts(FieldValue::U64(u64::from(p))),
        (Some(_), None) => false,
    };
    f.src.as_ref().is_none_or(|a| a.matches(s.src))
        && f.dst.as_ref().is_none_or(|a| a.matches(s.dst))
        && port(&f.src_port, s.src_port)
        && port(&f.dst_port, s.dst_port)
        && f.vlan.as_ref().is_none_or(|t| s.vlan.iter().any(|&v| t.accepts(FieldValue::U64(u64::from(v)))))
}

#[inline(always)]
fn cond_holds<E: FieldAccess + ?Sized>(c: &Cond, e: &E, elem: usize) -> bool {
    e.value(c.field, elem).is_some_and(|v| c.test.accepts(v))
}

/// The first element of `group` meeting every condition, if one does.
fn group_match<E: FieldAccess + ?Sized>(group: u8, conds: &[Cond], e: &E) -> Option<usize> {
    (0..e.elements(group)).find(|&i| conds.iter().all(|c| cond_holds(c, e, i)))
}

#[inline(always)]
fn clause_holds<E: FieldAccess + ?Sized>(c: &Clause, e: &E) -> bool {
    c.single.iter().all(|c| cond_holds(c, e, 0)) && c.groups.iter().all(|(g, conds)| group_match(*g, conds, e).is_some())
}

fn show(v: FieldValue<'_>, out: &mut String) {
    let _ = match v {
        FieldValue::U64(x) => write!(out, "{x}"),
        FieldValue::I64(x) => write!(out, "{x}"),
        FieldValue::F64(x) => write!(out, "{x}"),
        FieldValue::Bool(x) => write!(out, "{x}"),
        FieldValue::Str(x) => write!(out, "{x}"),
        FieldValue::Bytes(x) => x.iter().try_for_each(|b| write!(out, "{b:02x}")),
        FieldValue::Ip(x) => write!(out, "{x}"),
    };
}

/// `name=value` for each field the rule matched on and each it asks to show.
fn detail<E: FieldAccess + ?Sized>(rule: &Rule, e: &E) -> String {
    let mut out = String::new();
    let schema = e.schema();
    let mut put = |id, elem| {
        if let (Some(def), Some(v)) = (schema.def(id), e.value(id, elem)) {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(def.name.split_once('.').map_or(def.name, |(_, rest)| rest));
            out.push('=');
            show(v, &mut out);
            // A code with a name beside it (`function` and `function_name`): both.
            let named = schema.find(&format!("{}_name", def.name)).and_then(|n| e.value(n, elem));
            if let Some(FieldValue::Str(name)) = named {
                out.push_str(" (");
                out.push_str(name);
                out.push(')');
            }
        }
    };
    for field in rule.key_field.iter().copied().chain(rule.clause.single.iter().map(|c| c.field)) {
        put(field, 0);
    }
    for (g, conds) in &rule.clause.groups {
        if let Some(elem) = group_match(*g, conds, e) {
            conds.iter().for_each(|c| put(c.field, elem));
        }
    }
    for &id in &rule.show {
        put(id, 0);
    }
    out
}

impl Detector {
    pub fn new(set: Arc<RuleSet>) -> Self {
        Detector::with_memory(set, MemoryBudget::default())
    }

    /// A detector whose tracking state is charged to `memory`.
    pub fn with_memory(set: Arc<RuleSet>, memory: MemoryBudget) -> Self {
        Detector { set, state: State::new(memory, DetectCounts::default()), defer: false }
    }

    /// A detector for one worker of several: a rule whose threshold or suppression
    /// tracks a source, a destination or the rule itself (state that spans address
    /// pairs, which other workers also see) is matched here and gated by the one
    /// detector that sees every worker's matches in capture order.
    pub fn deferring(set: Arc<RuleSet>, memory: MemoryBudget) -> Self {
        Detector { set, state: State::new(memory, DetectCounts::default()), defer: true }
    }

    /// Passes a match another detector deferred through this one's threshold and
    /// suppression state: the alert's detail (`matched`, what matched, with the count
    /// added) if it is to be raised.
    pub fn gate_deferred(&mut self, gate: &DeferredGate, matched: String) -> Option<String> {
        let Detector { set, state, .. } = self;
        let rule = set.rules.get(gate.rule as usize)?;
        let s = Subject {
            ts: gate.ts,
            src: gate.src,
            dst: gate.dst,
            src_port: None,
            dst_port: None,
            vlan: &[],
            to_server: true,
            flow_id: gate.flow_id,
        };
        state.gate(gate.rule, rule, &s, gate.distinct, || matched)
    }

    pub fn rules(&self) -> &Arc<RuleSet> {
        &self.set
    }

    /// Swap in a new rule set whole (a reload): thresholds and suppressions start
    /// afresh, as rule numbers change; the counters carry on.
    pub fn replace(&mut self, set: Arc<RuleSet>) {
        // Deferring or not, the detector stays what it was.
        self.set = set;
        self.state = State::new(self.state.memory.clone(), self.counts());
    }

    /// Time passes (a live sensor's clock, with or without events): threshold windows
    /// and suppression deadlines that ended by `now` are forgotten, so a quiet network
    /// does not keep them.
    pub fn age(&mut self, now: Timestamp) {
        let now = now.as_nanos();
        let set = &self.set;
        self.state.windows.retain(|(rule, _), w| {
            let span = set.rules.get(*rule as usize).and_then(|r| r.threshold.as_ref()).map_or(0, |t| t.nanos);
            now.saturating_sub(w.start) <= span
        });
        self.state.quiet_until.retain(|_, until| *until > now);
    }

    /// Threshold windows and suppression deadlines held.
    pub fn state_len(&self) -> usize {
        self.state.windows.len() + self.state.quiet_until.len()
    }

    /// What the detector has done so far.
    pub fn counts(&self) -> DetectCounts {
        let s = &self.state;
        DetectCounts { state_dropped: s.counts.state_dropped + s.windows.dropped + s.quiet_until.dropped, ..s.counts }
    }

    /// Checks one event; `hit` is called for each alert it raises.
    pub fn check<E: FieldAccess + ?Sized>(&mut self, s: &Subject<'_>, e: &E, hit: &mut dyn FnMut(Hit)) {
        self.check_lazy(&|| *s, e, hit);
    }

    /// As [`Detector::check`], building the subject only if a rule gets far enough to
    /// need it (most candidates fail on the event's own fields first).
    pub fn check_lazy<'s, E: FieldAccess + ?Sized>(&mut self, subject: &dyn Fn() -> Subject<'s>, e: &E, hit: &mut dyn FnMut(Hit)) {
        let Detector { set, state, defer } = self;
        let schema = e.schema();
        let stage = e.stage();
        let Some(lists) = set.index.lists(schema, stage) else { return };
        let mut cached: Option<Subject<'s>> = None;
        let list = lists.get(e.key());
        let gated = match list.gate {
            Some(Gate::Field(f)) => e.value(f, 0).is_none(),
            Some(Gate::Groups(mask)) => {
                let mut m = mask;
                let mut empty = true;
                while m != 0 && empty {
                    empty = e.elements(m.trailing_zeros() as u8) == 0;
                    m &= m - 1;
                }
                empty
            }
            None => false,
        };
        if gated {
            return;
        }
        for &n in &list.rules {
            let Some(rule) = set.rules.get(n as usize) else { continue };
            if !clause_holds(&rule.clause, e) {
                continue;
            }
            let s = *cached.get_or_insert_with(subject);
            if matches(rule, stage, &s, e) {
                state.counts.matched += 1;
                let distinct = distinct_value(rule, e);
                if *defer && rule.spans_pairs() {
                    let gate = DeferredGate { rule: n, ts: s.ts, src: s.src, dst: s.dst, flow_id: s.flow_id, distinct };
                    hit(Hit { info: rule.info.clone(), detail: detail(rule, e), deferred: Some(gate) });
                } else if let Some(detail) = state.gate(n, rule, &s, distinct, || detail(rule, e)) {
                    hit(Hit { info: rule.info.clone(), detail, deferred: None });
                }
            }
        }
    }
}

/// The rest of a rule once its clause holds: direction, flow conditions, `unless`.
fn matches<E: FieldAccess + ?Sized>(rule: &Rule, stage: Stage, s: &Subject<'_>, e: &E) -> bool {
    let dir_ok = match rule.direction {
        None => true,
        Some(Dir::Request) => stage == Stage::Request || (stage == Stage::Message && s.to_server),
        Some(Dir::Response) => stage == Stage::Transaction || (stage == Stage::Message && !s.to_server),
    };
    dir_ok && flow_holds(&rule.flow, s) && !rule.unless.iter().any(|(f, c)| flow_holds(f, s) && clause_holds(c, e))
}

/// The value the rule's threshold counts distinct ones of, read while the event is at hand.
fn distinct_value<E: FieldAccess + ?Sized>(rule: &Rule, e: &E) -> DistinctValue {
    match rule.threshold.as_ref().and_then(|t| t.distinct) {
        Some(Distinct::Field(id)) => match e.value(id, 0) {
            Some(FieldValue::U64(v)) => DistinctValue::Value(v),
            _ => DistinctValue::Missing,
        },
        Some(Distinct::Src) | None => DistinctValue::NotAsked,
    }
}

impl State {
    /// Thresholds, then suppression: the alert's detail (`detail()` with the count) if
    /// it is to be raised.
    fn gate(&mut self, n: u32, rule: &Rule, s: &Subject<'_>, distinct: DistinctValue, detail: impl FnOnce() -> String) -> Option<String> {
        if rule
            .site_suppress
            .iter()
            .any(|(src, dst)| src.as_ref().is_none_or(|a| a.matches(s.src)) && dst.as_ref().is_none_or(|a| a.matches(s.dst)))
        {
            self.counts.suppressed += 1;
            return None;
        }
        let now = s.ts.as_nanos();
        let mut extra = None;
        if let Some(t) = &rule.threshold {
            match self.count(n, t, s, distinct, now) {
                Some(count) => extra = Some(count),
                None => {
                    self.counts.thresholded += 1;
                    return None;
                }
            }
        }
        if let Some(sup) = rule.suppress {
            let k = (n, key(sup.track, s));
            if self.quiet_until.get(&k).is_some_and(|&until| now < until) {
                self.counts.suppressed += 1;
                return None;
            }
            self.quiet_until.insert(k, now.saturating_add(sup.nanos));
        }
        let mut d = detail();
        if let (Some(count), Some(t)) = (extra, &rule.threshold) {
            if !d.is_empty() {
                d.push(' ');
            }
            let what = match t.distinct {
                Some(Distinct::Field(id)) => rule.schema.def(id).map_or("matches".to_string(), |def| format!("distinct {}", def.name)),
                Some(Distinct::Src) => "distinct sources".to_string(),
                None => "matches".to_string(),
            };
            let _ = write!(d, "({} {what} within {} s", count.0, t.nanos / 1_000_000_000);
            // A sweep names what it tried: the analyst sees the codes or ids at once.
            for (i, v) in count.1.iter().enumerate() {
                let sep = if i == 0 { ": " } else { ", " };
                let _ = match (t.distinct, u32::try_from(*v)) {
                    (Some(Distinct::Src), Ok(v4)) => write!(d, "{sep}{}", std::net::Ipv4Addr::from(v4)),
                    (Some(Distinct::Src), Err(_)) => write!(d, "{sep}an IPv6 address"),
                    _ => write!(d, "{sep}{v}"),
                };
            }
            d.push(')');
        }
        Some(d)
    }

    /// Counts a match in its window; the count when it reaches the threshold, with the
    /// distinct values counted (sorted; none without `distinct`).
    fn count(&mut self, n: u32, t: &Threshold, s: &Subject<'_>, distinct: DistinctValue, now: i64) -> Option<(u32, Vec<u64>)> {
        let k = (n, key(t.track, s));
        let w = self.windows.get_or_insert_with(k, || Window { start: now, ..Default::default() });
        if now - w.start > t.nanos || now < w.start {
            *w = Window { start: now, ..Default::default() };
        }
        match t.distinct {
            Some(which) => {
                let v = match (which, distinct) {
                    (Distinct::Field(_), DistinctValue::Value(v)) => v,
                    (Distinct::Field(_), _) => return None,
                    (Distinct::Src, _) => source_word(s.src),
                };
                // Kept sorted: a sweep's hundred values are found by bisection.
                let Err(at) = w.seen.binary_search(&v) else { return None };
                w.seen.insert(at, v);
                w.count = w.seen.len() as u32;
            }
            None => w.count += 1,
        }
        if w.count >= t.count {
            let count = w.count;
            let seen = std::mem::take(&mut w.seen);
            *w = Window { start: now, ..Default::default() };
            Some((count, seen))
        } else {
            None
        }
    }
}
