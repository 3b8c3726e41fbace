//! Checking traffic against a baseline. Each finding is raised once per run for what
//! it is about (an asset, a pair, a pair's function or space, an address, an identity
//! attribute, a pair's timing) and counted after that; each says what was expected
//! and what was seen.
use crate::index::{Baseline, PairIndex, PairKey, ServerIndex, Settings};
use crate::model::{Pair, Values};
use crate::Map as HashMap;
use otsentry_core::AppProto;
use otsentry_core::{CapMap, MemoryBudget, MemoryKind, Observer, Space, Timestamp};
use std::net::IpAddr;
use std::sync::Arc;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    NewAsset,
    NewPair,
    NewFunction,
    Range,
    Value,
    Identity,
    PollStopped,
    Burst,
}

impl Kind {
    pub const ALL: [Kind; 8] =
        [Kind::NewAsset, Kind::NewPair, Kind::NewFunction, Kind::Range, Kind::Value, Kind::Identity, Kind::PollStopped, Kind::Burst];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::NewAsset => "new_asset",
            Kind::NewPair => "new_pair",
            Kind::NewFunction => "new_function",
            Kind::Range => "range",
            Kind::Value => "value",
            Kind::Identity => "identity",
            Kind::PollStopped => "poll_stopped",
            Kind::Burst => "burst",
        }
    }
}

/// One departure from the baseline.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    pub kind: Kind,
    /// The asset (new asset, identity) or the pair's client and server.
    pub client: IpAddr,
    pub server: Option<IpAddr>,
    pub protocol: Option<AppProto>,
    pub function: Option<(u32, &'static str)>,
    pub space: Option<Space>,
    pub address: Option<u32>,
    pub write: bool,
    /// The value written (value findings).
    pub value: Option<f64>,
    /// The learned range and its samples (value findings).
    pub learned: Option<(f64, f64, u64)>,
    pub expected: String,
    pub seen: String,
}

impl Finding {
    fn new(kind: Kind, client: IpAddr, server: Option<IpAddr>, protocol: Option<AppProto>, expected: String, seen: String) -> Finding {
        Finding {
            kind,
            client,
            server,
            protocol,
            function: None,
            space: None,
            address: None,
            write: false,
            value: None,
            learned: None,
            expected,
            seen,
        }
    }
}

/// What a finding is about, so it is raised once.
type Subject = (Kind, IpAddr, Option<IpAddr>, Option<AppProto>, Option<u32>, Option<Space>, Option<u32>);

/// One pair's run: its tables in the baseline (none for a new pair) and its timing.
#[derive(Debug)]
struct PairRun {
    key: PairKey,
    index: Option<usize>,
    /// Requests in the current second of capture time, and how many make a burst.
    second: i64,
    in_second: u64,
    burst_over: u64,
    last: Option<Timestamp>,
    stopped: bool,
    /// The accesses that passed lately: a poll repeats the same few requests, and
    /// these spare it the table lookups.
    passed: Recent,
}

/// The last functions and ranges that passed, in small rings (no hashing).
#[derive(Debug, Default)]
struct Recent {
    functions: [Option<u32>; 4],
    ranges: [Option<(u32, Space, u32, u32)>; 8],
    next_function: usize,
    next_range: usize,
}

impl Recent {
    fn function(&self, code: u32) -> bool {
        self.functions.contains(&Some(code))
    }
    fn pass_function(&mut self, code: u32) {
        if let Some(slot) = self.functions.get_mut(self.next_function % 4) {
            *slot = Some(code);
        }
        self.next_function += 1;
    }
    fn range(&self, r: (u32, Space, u32, u32)) -> bool {
        self.ranges.contains(&Some(r))
    }
    fn pass_range(&mut self, r: (u32, Space, u32, u32)) {
        if let Some(slot) = self.ranges.get_mut(self.next_range % 8) {
            *slot = Some(r);
        }
        self.next_range += 1;
    }
}

/// The run's state against one baseline.
pub struct Detector {
    baseline: Arc<Baseline>,
    settings: Settings,
    findings: Vec<Finding>,
    raised: CapMap<Subject, u64>,
    /// Pairs seen this run, by the slot [`Detector::slot`] gave them.
    runs: Vec<PairRun>,
    slots: HashMap<PairKey, u32>,
    hosts: CapMap<IpAddr, ()>,
    next_tick: i64,
    untracked: u64,
}

/// Findings, new hosts and pairs followed at most (each also charged to the memory
/// budget's detection share).
const MAX_TRACKED: usize = 65_536;

impl Detector {
    pub fn new(baseline: Arc<Baseline>, settings: Settings) -> Detector {
        Detector::with_memory(baseline, settings, MemoryBudget::default())
    }

    /// A detector whose findings and new hosts are charged to `memory` (the oldest
    /// give way at the cap: a finding forgotten may be raised again).
    pub fn with_memory(baseline: Arc<Baseline>, settings: Settings, memory: MemoryBudget) -> Detector {
        Detector {
            baseline,
            settings,
            findings: Vec::new(),
            raised: CapMap::new(MAX_TRACKED, memory.clone(), MemoryKind::Detection, 96),
            runs: Vec::new(),
            slots: HashMap::default(),
            hosts: CapMap::new(MAX_TRACKED, memory, MemoryKind::Detection, 48),
            next_tick: i64::MIN,
            untracked: 0,
        }
    }

    /// New pairs beyond MAX_TRACKED: raised, but their timing is not followed.
    pub fn untracked_pairs(&self) -> u64 {
        self.untracked
    }

    /// Whether findings wait to be drained.
    #[inline]
    pub fn has_findings(&self) -> bool {
        !self.findings.is_empty()
    }

    /// Findings since the last call, in the order raised.
    pub fn drain(&mut self) -> std::vec::Drain<'_, Finding> {
        self.findings.drain(..)
    }

    /// Departures counted per kind, raised or repeated.
    pub fn counts(&self) -> Vec<(&'static str, u64)> {
        Kind::ALL
            .iter()
            .map(|k| (k.as_str(), self.raised.iter().filter(|(s, _)| s.0 == *k).map(|(_, n)| n).sum()))
            .filter(|(_, n)| *n > 0)
            .collect()
    }

    /// A packet from `ip`: new to the baseline?
    pub fn host(&mut self, ip: IpAddr) {
        if self.baseline.assets.contains_key(&ip) || self.hosts.get(&ip).is_some() {
            return;
        }
        self.hosts.insert(ip, ());
        let expected = format!("one of the {} learned assets", self.baseline.file.assets.len());
        let f = Finding::new(Kind::NewAsset, ip, None, None, expected, ip.to_string());
        raise(&mut self.raised, &mut self.findings, f);
    }

    /// The slot of `pair` for [`Detector::request`] (a flow keeps it: one lookup per
    /// flow, not per request). A pair the baseline lacks is raised here, once.
    pub fn slot(&mut self, pair: PairKey) -> u32 {
        if let Some(&slot) = self.slots.get(&pair) {
            return slot;
        }
        // Beyond the cap a new pair is still raised, but not followed (its slot is none).
        let tracked = self.runs.len() < MAX_TRACKED;
        self.untracked += u64::from(!tracked);
        let slot = if tracked { u32::try_from(self.runs.len()).unwrap_or(u32::MAX) } else { u32::MAX };
        let index = self.baseline.pairs.get(&pair).copied();
        let most = index.and_then(|i| self.baseline.indexes.get(i)).and_then(|i| self.baseline.pair(i)).map_or(0, |p| p.max_per_second);
        let burst_over = (f64::from(most) * self.settings.burst_factor) as u64 + u64::from(self.settings.burst_slack);
        let run =
            PairRun { key: pair, index, second: i64::MIN, in_second: 0, burst_over, last: None, stopped: false, passed: Recent::default() };
        if tracked {
            self.runs.push(run);
            self.slots.insert(pair, slot);
        }
        if index.is_none() {
            let (client, server, protocol) = pair;
            let expected = match self.baseline.servers.get(&(server, protocol)) {
                Some(s) => format!("{} clients: {}", protocol.name(), list(s.clients.iter().map(ToString::to_string))),
                None => format!("no {} client of {server}", protocol.name()),
            };
            let f = Finding::new(Kind::NewPair, client, Some(server), Some(protocol), expected, client.to_string());
            raise(&mut self.raised, &mut self.findings, f);
        }
        slot
    }

    /// A request of the pair in `slot` at `ts`: checks its timing, and returns the
    /// observer that checks what it does.
    pub fn request(&mut self, slot: u32, ts: Timestamp) -> RequestCheck<'_> {
        let b: &Baseline = &self.baseline;
        let mut run = self.runs.get_mut(slot as usize);
        let mut index = None;
        if let Some(run) = run.as_deref_mut() {
            run.last = Some(ts);
            run.stopped = false;
            // Counted per second of capture time (the learned most is per sliding
            // second, never fewer).
            let second = ts.0.div_euclid(1_000_000_000);
            if second != run.second {
                (run.second, run.in_second) = (second, 0);
            }
            run.in_second += 1;
            index = run.index.and_then(|i| b.indexes.get(i)).and_then(|i| Some((i, b.pair(i)?)));
            if run.in_second == run.burst_over + 1 {
                let (client, server, protocol) = run.key;
                let most = index.map_or(0, |(_, p)| p.max_per_second);
                let expected = format!("at most {most} requests within one second");
                let seen = format!("more than {} within one second", run.burst_over);
                let f = Finding::new(Kind::Burst, client, Some(server), Some(protocol), expected, seen);
                raise(&mut self.raised, &mut self.findings, f);
            }
        }
        RequestCheck {
            baseline: b,
            settings: &self.settings,
            raised: &mut self.raised,
            findings: &mut self.findings,
            run,
            index,
            function: None,
        }
    }

    /// A response from `server`: the returned observer checks the identity it gives.
    pub fn response(&mut self, server: IpAddr) -> IdentityCheck<'_> {
        IdentityCheck { baseline: &self.baseline, server, raised: &mut self.raised, findings: &mut self.findings }
    }

    /// Time passes (call per packet; works once per second of capture time): polls
    /// that stopped.
    pub fn tick(&mut self, now: Timestamp) {
        if now.0 < self.next_tick {
            return;
        }
        self.next_tick = now.0.saturating_add(1_000_000_000);
        for run in &mut self.runs {
            let (client, server, protocol) = run.key;
            let Some(last) = run.last.filter(|_| !run.stopped) else { continue };
            let Some(p) = run.index.and_then(|i| self.baseline.indexes.get(i)).and_then(|i| self.baseline.pair(i)) else { continue };
            // A pair that polls: its most repeated request has a period.
            let (Some(period), Some(gap)) = (p.period_ms, p.max_gap_ms) else { continue };
            let quiet_ms = now.0.saturating_sub(last.0) as f64 / 1e6;
            let limit = (self.settings.stop_factor * gap).max(self.settings.min_stop_ms);
            if quiet_ms > limit {
                run.stopped = true;
                let jitter = p.jitter_ms.unwrap_or(0.0);
                let expected = format!("a request every {period} ms (± {jitter} ms), silences of at most {gap} ms");
                let seen = format!("none for {:.1} s", quiet_ms / 1000.0);
                let f = Finding::new(Kind::PollStopped, client, Some(server), Some(protocol), expected, seen);
                raise(&mut self.raised, &mut self.findings, f);
            }
        }
    }
}

/// Records `f` unless its subject was raised already (then counts it).
fn raise(raised: &mut CapMap<Subject, u64>, findings: &mut Vec<Finding>, f: Finding) {
    // Accesses outside the learned ranges are one finding per function and space (a
    // scan of a register table is one), the rest per address where they have one.
    let address = if f.kind == Kind::Range { None } else { f.address };
    let subject = (f.kind, f.client, f.server, f.protocol, f.function.map(|x| x.0), f.space, address);
    let n = raised.get_or_insert_with(subject, || 0);
    *n += 1;
    if *n == 1 {
        findings.push(f);
    }
}

/// Up to eight items, then how many more.
fn list(items: impl Iterator<Item = String>) -> String {
    let all: Vec<String> = items.collect();
    let shown = all.iter().take(8).cloned().collect::<Vec<_>>().join(", ");
    match all.len() {
        0..=8 => shown,
        n => format!("{shown} and {} more", n - 8),
    }
}

/// A function code as people write it: decimal alone, hex with a sub-function folded in.
fn code_text(code: u32) -> String {
    if code < 0x100 {
        code.to_string()
    } else {
        format!("0x{code:X}")
    }
}

fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// Whether `v` passes the learned `values` under `s`: one of the values seen while
/// they are few, else within the learned range widened by the margin.
fn value_passes(values: &Values, v: f64, s: &Settings) -> bool {
    match &values.set {
        Some(set) if values.samples < s.min_samples => set.contains(&v),
        _ => {
            let m = s.margin * (values.max - values.min);
            v >= values.min - m && v <= values.max + m
        }
    }
}

/// What [`value_passes`] lets through, in words.
fn value_expected(values: &Values, s: &Settings) -> String {
    let samples = values.samples;
    match &values.set {
        Some(set) if samples < s.min_samples => format!("one of {} ({samples} samples)", list(set.iter().map(|x| number(*x)))),
        _ => format!("{}..{} ({samples} samples)", number(values.min), number(values.max)),
    }
}

/// Checks one request (see [`Observer`]).
pub struct RequestCheck<'d> {
    baseline: &'d Baseline,
    settings: &'d Settings,
    raised: &'d mut CapMap<Subject, u64>,
    findings: &'d mut Vec<Finding>,
    /// The pair's run (none for a slot [`Detector::slot`] never gave: nothing is checked).
    run: Option<&'d mut PairRun>,
    index: Option<(&'d PairIndex, &'d Pair)>,
    /// The request's function, when the pair knows it (ranges are checked for these).
    function: Option<(u32, &'static str)>,
}

impl RequestCheck<'_> {
    fn pair(&self) -> PairKey {
        self.run.as_ref().map_or((IpAddr::from([0, 0, 0, 0]), IpAddr::from([0, 0, 0, 0]), AppProto::new(0, "none")), |r| r.key)
    }

    fn finding(&self, kind: Kind, expected: String, seen: String) -> Finding {
        let (client, server, protocol) = self.pair();
        Finding { function: self.function, ..Finding::new(kind, client, Some(server), Some(protocol), expected, seen) }
    }
}

impl RequestCheck<'_> {
    /// What all clients did toward this server (for a client the baseline lacks).
    fn server(&self) -> Option<&ServerIndex> {
        let (_, server, protocol) = self.pair();
        self.baseline.servers.get(&(server, protocol))
    }
}

impl Observer for RequestCheck<'_> {
    fn function(&mut self, code: u32, name: &'static str) {
        if self.run.as_ref().is_some_and(|r| r.passed.function(code)) {
            self.function = Some((code, name));
            return;
        }
        let known = match self.index {
            Some((index, _)) => index.functions.contains(&code),
            // A new client: judged by what any client did toward the server.
            None => match self.server() {
                Some(server) if self.run.is_some() => server.functions.contains_key(&code),
                _ => return,
            },
        };
        if known {
            self.function = Some((code, name));
            if let Some(r) = self.run.as_mut() {
                r.passed.pass_function(code);
            }
            return;
        }
        let expected = match (self.index, self.server()) {
            (Some((_, pair)), _) => list(pair.functions.iter().map(|f| format!("{} ({})", f.name, code_text(f.code)))),
            (None, server) => {
                let mut all: Vec<(&u32, &String)> = server.map(|s| s.functions.iter().collect()).unwrap_or_default();
                all.sort();
                format!("{} (any client)", list(all.iter().map(|(c, n)| format!("{n} ({})", code_text(**c)))))
            }
        };
        let f =
            Finding { function: Some((code, name)), ..self.finding(Kind::NewFunction, expected, format!("{name} ({})", code_text(code))) };
        raise(self.raised, self.findings, f);
    }

    fn range(&mut self, space: Space, start: u32, count: u32, write: bool) {
        let Some((code, _)) = self.function else { return };
        let end = start.saturating_add(count.max(1) - 1);
        let access = (code, space, start, end);
        if self.run.as_ref().is_some_and(|r| r.passed.range(access)) {
            return;
        }
        let learned = match self.index {
            Some((index, _)) => index.ranges.get(&(code, space)),
            None => self.server().and_then(|s| s.ranges.get(&(code, space))),
        };
        if learned.is_some_and(|l| l.iter().any(|&(s, e)| s <= start && end <= e)) {
            if let Some(r) = self.run.as_mut() {
                r.passed.pass_range(access);
            }
            return;
        }
        let name = crate::space::name(space);
        let expected = match learned {
            Some(l) => format!("{name} {}", list(l.iter().map(|(s, e)| if s == e { s.to_string() } else { format!("{s}-{e}") }))),
            None => format!("no access to {name}"),
        };
        let seen = if start == end { format!("{name} {start}") } else { format!("{name} {start}-{end}") };
        let f = Finding { space: Some(space), address: Some(start), write, ..self.finding(Kind::Range, expected, seen) };
        raise(self.raised, self.findings, f);
    }

    fn value(&mut self, space: Space, address: u32, value: f64) {
        if self.run.is_none() {
            return;
        }
        let (_, server, _) = self.pair();
        let mine = self.index.and_then(|(i, p)| i.values.get(&(space, address)).and_then(|&at| p.values.get(at)));
        let (learned, whose) = match mine {
            Some(v) => (v, ""),
            None => match self.baseline.server_values.get(&(server, space, address)) {
                Some(v) => (v, ", written by other clients"),
                None => return,
            },
        };
        if value_passes(learned, value, self.settings) {
            return;
        }
        let expected = value_expected(learned, self.settings);
        let name = crate::space::name(space);
        let f = Finding {
            space: Some(space),
            address: Some(address),
            write: true,
            value: Some(value),
            learned: Some((learned.min, learned.max, learned.samples)),
            ..self.finding(Kind::Value, format!("{name} {address}: {expected}{whose}"), format!("{name} {address}: {}", number(value)))
        };
        raise(self.raised, self.findings, f);
    }

    fn identity(&mut self, _attribute: &'static str, _value: &str) {}
}

/// Checks a response's identity against the server's learned one.
pub struct IdentityCheck<'d> {
    baseline: &'d Baseline,
    server: IpAddr,
    raised: &'d mut CapMap<Subject, u64>,
    findings: &'d mut Vec<Finding>,
}

impl Observer for IdentityCheck<'_> {
    fn function(&mut self, _code: u32, _name: &'static str) {}
    fn range(&mut self, _space: Space, _start: u32, _count: u32, _write: bool) {}
    fn value(&mut self, _space: Space, _address: u32, _value: f64) {}
    fn identity(&mut self, attribute: &'static str, value: &str) {
        // Looked up here: most responses say nothing of identity.
        let asset = self.baseline.assets.get(&self.server).and_then(|&i| self.baseline.file.assets.get(i));
        let Some(learned) = asset.and_then(|a| a.identity.get(attribute)) else { return };
        if learned == value || value.is_empty() {
            return;
        }
        let at = otsentry_core::IDENTITY_ATTRIBUTES.iter().position(|a| *a == attribute).map(|i| i as u32);
        let f = Finding {
            address: at,
            ..Finding::new(Kind::Identity, self.server, None, None, format!("{attribute} {learned}"), format!("{attribute} {value}"))
        };
        raise(self.raised, self.findings, f);
    }
}
