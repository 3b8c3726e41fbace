//! Learning: every flow's addresses and MACs, every request's function, ranges and
//! written values, every identity a device gives, and the timing of each pair's
//! requests; written out as a [`BaselineFile`] in a stable order.
use crate::index::{merged, union, PairKey};
use crate::model::{Asset, BaselineFile, Function, Learned, Mac, Pair, Range, Role, SpaceName, Values, FORMAT};
use crate::Map as HashMap;
use otsentry_core::{FunctionClass, Observer, Space, Timestamp};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::IpAddr;

/// Most intervals kept per repeated request (enough for a median and a percentile).
const INTERVALS_MAX: usize = 4096;
/// Most address intervals kept per (function, space): past it the nearest are joined.
const RANGES_MAX: usize = 256;
/// Most addresses and conversations learned: a flood of spoofed sources must not take
/// the machine's memory (what is past them is counted in `learned.not_followed`).
pub const MAX_LEARNED: usize = 100_000;

#[derive(Clone, Debug, Default)]
struct AssetState {
    macs: BTreeSet<Mac>,
    roles: BTreeSet<Role>,
    identity: BTreeMap<String, String>,
    seen: Seen,
}

/// First and last sighting: this run's, and a file's (RFC 3339 text sorts as time).
#[derive(Clone, Debug, Default)]
struct Seen {
    first: Option<String>,
    last: Option<String>,
    now: Option<(Timestamp, Timestamp)>,
}

impl Seen {
    fn at(&mut self, ts: Timestamp) {
        self.now = Some(match self.now {
            Some((first, last)) => (first.min(ts), last.max(ts)),
            None => (ts, ts),
        });
    }

    fn texts(&self) -> (String, String) {
        let mut first = self.first.clone();
        let mut last = self.last.clone();
        if let Some((f, l)) = self.now {
            let (f, l) = (f.rfc3339_micros().to_string(), l.rfc3339_micros().to_string());
            first = Some(first.map_or(f.clone(), |o| o.min(f)));
            last = Some(last.map_or(l.clone(), |o| o.max(l)));
        }
        (first.unwrap_or_default(), last.unwrap_or_default())
    }
}

#[derive(Clone, Debug, Default)]
struct PairState {
    requests: u64,
    seen: Seen,
    functions: BTreeMap<u32, (String, u64)>,
    classes: BTreeSet<FunctionClass>,
    ranges: Ranges,
    values: BTreeMap<(Space, u32), Values>,
    polls: Polls,
    /// Its answers' times (a report's), once one came.
    times: Option<crate::ResponseTimes>,
    /// Request times of the last second, and the most seen within one.
    window: VecDeque<Timestamp>,
    max_per_second: u32,
    /// A file's period, kept when this run saw too few repeats to measure one.
    old_period: Option<(f64, f64)>,
    /// The pair's last request and its longest silence between two, in milliseconds.
    last: Option<Timestamp>,
    max_gap_ms: Option<f64>,
    /// Captures read when its last request came (a silence spans no capture boundary).
    captures_at: usize,
}

/// Address intervals (first, last, uses) per (function, space, write).
type Ranges = BTreeMap<(u32, Space, bool), Vec<(u32, u32, u64)>>;
/// Per repeated request (function, space and first address): its last time and the
/// intervals between its repeats, in milliseconds.
type Polls = HashMap<(u32, Option<(Space, u32)>), (Timestamp, Vec<f64>)>;

/// Accumulates a baseline.
#[derive(Clone, Debug, Default)]
pub struct Learner {
    assets: BTreeMap<IpAddr, AssetState>,
    pairs: BTreeMap<PairKey, PairState>,
    captures: Vec<String>,
    seen: Seen,
    requests: u64,
    /// Only what an inventory needs (see [`Learner::lean`]).
    lean: bool,
    /// Sightings and requests of addresses and conversations past [`MAX_LEARNED`].
    not_followed: u64,
    /// Where those go, unkept.
    spare_pair: PairState,
    spare_asset: AssetState,
}

impl Learner {
    /// This learner, learning only assets, identities, conversations and their functions:
    /// no address ranges, written values, polling periods or request rates, which cost
    /// most per request and which a report does not show.
    pub fn lean(mut self) -> Learner {
        self.lean = true;
        self
    }

    pub fn new() -> Learner {
        Learner::default()
    }

    /// A learner that extends `file` (`learn --update`).
    pub fn from_file(file: BaselineFile) -> Learner {
        let mut l = Learner { captures: file.learned.captures, requests: file.learned.requests, ..Default::default() };
        l.seen.first = file.learned.from;
        l.seen.last = file.learned.to;
        for a in file.assets {
            let seen = Seen { first: Some(a.first_seen), last: Some(a.last_seen), now: None };
            let state = AssetState { macs: a.macs.into_iter().collect(), roles: a.roles.into_iter().collect(), identity: a.identity, seen };
            l.assets.insert(a.ip, state);
        }
        for p in file.pairs {
            let mut s = PairState {
                requests: p.requests,
                seen: Seen { first: Some(p.first_seen), last: Some(p.last_seen), now: None },
                max_per_second: p.max_per_second,
                old_period: p.period_ms.zip(p.jitter_ms),
                max_gap_ms: p.max_gap_ms,
                ..Default::default()
            };
            s.functions = p.functions.into_iter().map(|f| (f.code, (f.name, f.count))).collect();
            for r in p.ranges {
                s.ranges.entry((r.function, r.space.0, r.write)).or_default().push((r.start, r.end, r.count));
            }
            s.values = p.values.into_iter().map(|v| ((v.space.0, v.address), v)).collect();
            l.pairs.insert((p.client, p.server, p.protocol), s);
        }
        l
    }

    /// A capture read (named in the file's `learned.captures`).
    pub fn capture(&mut self, name: &str) {
        if !self.captures.iter().any(|c| c == name) {
            self.captures.push(name.to_string());
        }
    }

    /// A packet from `ip` (with its source MAC) at `ts`.
    pub fn host(&mut self, ip: IpAddr, mac: Option<[u8; 6]>, ts: Timestamp) {
        if self.assets.len() >= MAX_LEARNED && !self.assets.contains_key(&ip) {
            self.not_followed += 1;
            return;
        }
        let a = self.assets.entry(ip).or_default();
        if let Some(m) = mac {
            a.macs.insert(Mac(m));
        }
        a.seen.at(ts);
        self.seen.at(ts);
    }

    /// A request of `pair` at `ts` of `class`: the returned observer takes what it says.
    pub fn request(&mut self, pair: PairKey, ts: Timestamp, class: Option<FunctionClass>) -> RequestLearn<'_> {
        self.requests += 1;
        let p = if self.pairs.len() >= MAX_LEARNED && !self.pairs.contains_key(&pair) {
            self.not_followed += 1;
            self.spare_pair = PairState::default();
            &mut self.spare_pair
        } else {
            self.pairs.entry(pair).or_default()
        };
        p.requests += 1;
        p.seen.at(ts);
        p.classes.extend(class);
        if self.lean {
            return RequestLearn { pair: p, ts, function: None, first: None, lean: true };
        }
        while p.window.front().is_some_and(|&t| ts.0.saturating_sub(t.0) >= 1_000_000_000) {
            p.window.pop_front();
        }
        p.window.push_back(ts);
        p.max_per_second = p.max_per_second.max(p.window.len() as u32);
        if let Some(last) = p.last.replace(ts) {
            // Across captures (or a capture that goes back in time) there is no silence.
            let gap = ts.0.saturating_sub(last.0) as f64 / 1e6;
            if gap > 0.0 && self.captures.len() == p.captures_at {
                p.max_gap_ms = Some(round3(p.max_gap_ms.map_or(gap, |g| g.max(gap))));
            }
        }
        p.captures_at = self.captures.len();
        RequestLearn { pair: p, ts, function: None, first: None, lean: false }
    }

    /// An answer of `pair`'s, `us` microseconds after its request (a conversation
    /// learned already; kept for reports, not written to the file).
    pub fn response_time(&mut self, pair: &PairKey, us: i64) {
        if let Some(p) = self.pairs.get_mut(pair) {
            p.times.get_or_insert_with(Default::default).add(us);
        }
    }

    /// Each conversation's median response time in milliseconds, where answers were timed.
    pub fn response_medians(&self) -> BTreeMap<PairKey, f64> {
        self.pairs.iter().filter_map(|(k, p)| Some((*k, p.times.as_ref()?.median_ms()?))).collect()
    }

    /// A response from `server`: the returned observer takes its identity.
    pub fn response(&mut self, server: IpAddr) -> IdentityLearn<'_> {
        if self.assets.len() >= MAX_LEARNED && !self.assets.contains_key(&server) {
            self.spare_asset = AssetState::default();
            return IdentityLearn { asset: &mut self.spare_asset };
        }
        IdentityLearn { asset: self.assets.entry(server).or_default() }
    }

    /// Every MAC seen (for [`crate::Vendors::load`]).
    pub fn macs(&self) -> Vec<[u8; 6]> {
        let mut all: Vec<[u8; 6]> = self.assets.values().flat_map(|a| a.macs.iter().map(|m| m.0)).collect();
        all.sort_unstable();
        all.dedup();
        all
    }

    /// The baseline, in its stable order; vendors looked up in `vendors`.
    pub fn finish(mut self, vendors: &crate::Vendors) -> BaselineFile {
        for ((client, server, protocol), p) in &self.pairs {
            self.assets.entry(*server).or_default().roles.insert(Role::of_server(*protocol));
            let client_roles = &mut self.assets.entry(*client).or_default().roles;
            client_roles.extend(p.classes.iter().filter_map(|c| Role::of_client(*c)));
            // A conversation whose requests have no class yet is taken as a master's.
            if p.classes.is_empty() {
                client_roles.insert(Role::Master);
            }
        }
        let assets = self
            .assets
            .into_iter()
            .map(|(ip, a)| {
                let (first_seen, last_seen) = a.seen.texts();
                let vendor = a.macs.iter().next().and_then(|m| vendors.of(m.0)).map(str::to_string);
                Asset {
                    ip,
                    macs: a.macs.into_iter().collect(),
                    vendor,
                    roles: a.roles.into_iter().collect(),
                    identity: a.identity,
                    first_seen,
                    last_seen,
                }
            })
            .collect();
        let pairs = self.pairs.into_iter().map(|(key, p)| pair(key, p)).collect();
        let (from, to) = self.seen.texts();
        let learned =
            Learned { captures: self.captures, from: Some(from), to: Some(to), requests: self.requests, not_followed: self.not_followed };
        BaselineFile { otsentry_baseline: FORMAT, learned, assets, pairs }
    }
}

fn pair((client, server, protocol): PairKey, p: PairState) -> Pair {
    let (first_seen, last_seen) = p.seen.texts();
    let (period_ms, jitter_ms) = match period(&p.polls) {
        Some((period, jitter)) => (Some(period), Some(jitter)),
        None => (p.old_period.map(|o| o.0), p.old_period.map(|o| o.1)),
    };
    let functions = p.functions.into_iter().map(|(code, (name, count))| Function { code, name, count }).collect();
    let ranges = p
        .ranges
        .into_iter()
        .flat_map(|((function, space, write), list)| {
            list.into_iter().map(move |(start, end, count)| Range { function, space: SpaceName(space), start, end, write, count })
        })
        .collect();
    let values = p.values.into_values().collect();
    Pair {
        client,
        server,
        protocol,
        requests: p.requests,
        first_seen,
        last_seen,
        period_ms,
        jitter_ms,
        max_gap_ms: p.max_gap_ms,
        max_per_second: p.max_per_second,
        functions,
        ranges,
        values,
    }
}

/// The median interval of the most repeated request, and the 95th percentile of the
/// distance from it; none below three repeats.
fn period(polls: &Polls) -> Option<(f64, f64)> {
    let (_, (_, intervals)) =
        polls.iter().filter(|(_, (_, i))| i.len() >= 3).max_by_key(|(k, (_, i))| (i.len(), std::cmp::Reverse(**k)))?;
    let mut sorted = intervals.clone();
    sorted.sort_by(f64::total_cmp);
    let median = *sorted.get(sorted.len() / 2)?;
    let mut spread: Vec<f64> = sorted.iter().map(|x| (x - median).abs()).collect();
    spread.sort_by(f64::total_cmp);
    let jitter = *spread.get((spread.len() * 95 / 100).min(spread.len() - 1))?;
    Some((round3(median), round3(jitter)))
}

/// Milliseconds to the microsecond, so the file does not carry float noise.
fn round3(ms: f64) -> f64 {
    (ms * 1000.0).round() / 1000.0
}

/// Adds `[start, end]` (with `count` uses) to `list`, joining where they meet; past
/// [`RANGES_MAX`] the two nearest are joined.
fn add_range(list: &mut Vec<(u32, u32, u64)>, start: u32, end: u32, count: u64) {
    if let Some(r) = list.iter_mut().find(|r| r.0 == start && r.1 == end) {
        r.2 += count;
        return;
    }
    list.push((start, end, count));
    let total: u64 = list.iter().map(|r| r.2).sum();
    let spans = merged(list.iter().map(|r| (r.0, r.1)).collect());
    if spans.len() < list.len() {
        // Overlapping intervals become their union; counts add up within each.
        *list = spans.iter().map(|&(s, e)| (s, e, list.iter().filter(|r| r.0 >= s && r.1 <= e).map(|r| r.2).sum())).collect();
    }
    while list.len() > RANGES_MAX {
        let nearest = list
            .windows(2)
            .enumerate()
            .min_by_key(|(_, w)| w.get(1).map_or(0, |r| r.0).saturating_sub(w.first().map_or(0, |l| l.1)))
            .map_or(1, |(i, _)| i + 1);
        let right = list.remove(nearest);
        if let Some(left) = list.get_mut(nearest - 1) {
            *left = (left.0, right.1.max(left.1), left.2 + right.2);
        }
    }
    debug_assert_eq!(list.iter().map(|r| r.2).sum::<u64>(), total);
}

/// What one request says (see [`Observer`]); its repeat timing is taken when dropped.
pub struct RequestLearn<'l> {
    pair: &'l mut PairState,
    ts: Timestamp,
    function: Option<u32>,
    first: Option<(Space, u32)>,
    lean: bool,
}

impl Observer for RequestLearn<'_> {
    fn function(&mut self, code: u32, name: &'static str) {
        self.function = Some(code);
        self.pair.functions.entry(code).or_insert_with(|| (name.to_string(), 0)).1 += 1;
    }

    fn range(&mut self, space: Space, start: u32, count: u32, write: bool) {
        let Some(function) = self.function.filter(|_| !self.lean) else { return };
        self.first.get_or_insert((space, start));
        let end = start.saturating_add(count.max(1) - 1);
        add_range(self.pair.ranges.entry((function, space, write)).or_default(), start, end, 1);
    }

    fn value(&mut self, space: Space, address: u32, value: f64) {
        if !value.is_finite() || self.lean {
            return;
        }
        let one = Values { space: SpaceName(space), address, samples: 1, min: value, max: value, set: Some(vec![value]) };
        self.pair.values.entry((space, address)).and_modify(|v| union(v, &one)).or_insert(one);
    }

    fn identity(&mut self, _attribute: &'static str, _value: &str) {}
}

impl Drop for RequestLearn<'_> {
    fn drop(&mut self) {
        let Some(function) = self.function.filter(|_| !self.lean) else { return };
        let ts = self.ts;
        let (last, intervals) = self.pair.polls.entry((function, self.first)).or_insert((ts, Vec::new()));
        let ms = ts.0.saturating_sub(last.0) as f64 / 1e6;
        if ms > 0.0 && intervals.len() < INTERVALS_MAX {
            intervals.push(ms);
        }
        *last = ts;
    }
}

/// A device's identity, as its response gives it.
pub struct IdentityLearn<'l> {
    asset: &'l mut AssetState,
}

impl Observer for IdentityLearn<'_> {
    fn function(&mut self, _code: u32, _name: &'static str) {}
    fn range(&mut self, _space: Space, _start: u32, _count: u32, _write: bool) {}
    fn value(&mut self, _space: Space, _address: u32, _value: f64) {}
    fn identity(&mut self, attribute: &'static str, value: &str) {
        if !value.is_empty() {
            self.asset.identity.insert(attribute.to_string(), value.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A flood of sources is learned up to the cap; the rest is counted, not kept.
    #[test]
    fn addresses_and_conversations_stop_at_the_cap() {
        let mut l = Learner::new().lean();
        let server: IpAddr = "10.0.0.1".parse().unwrap();
        let ts = Timestamp::from_secs_nanos(1_768_464_000, 0);
        let extra = 25;
        for i in 0..(MAX_LEARNED as u32 + extra) {
            let client = IpAddr::from(std::net::Ipv4Addr::from(0x0B00_0000 + i));
            l.host(client, None, ts);
            drop(l.request((client, server, otsentry_core::AppProto::new(900, "test")), ts, Some(FunctionClass::Read)));
        }
        l.host(server, None, ts);
        let file = l.finish(&crate::Vendors::default());
        assert!(file.assets.len() <= MAX_LEARNED + 1, "{}", file.assets.len());
        assert_eq!(file.pairs.len(), MAX_LEARNED);
        // The refused sightings (past the cap, and the server once the table was full)
        // and the refused requests.
        assert!(file.learned.not_followed >= 2 * u64::from(extra), "{}", file.learned.not_followed);
        assert_eq!(file.learned.requests, MAX_LEARNED as u64 + u64::from(extra));
    }
}
