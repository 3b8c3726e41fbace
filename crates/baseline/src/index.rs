//! A baseline made ready for checking: hash tables from pair, function, space and
//! address to what was learned, built once at load.
use crate::model::{BaselineFile, Pair, Values};
use crate::{Map as HashMap, Set as HashSet};
use otsentry_core::AppProto;
use otsentry_core::Space;
use std::net::IpAddr;

/// A conversation's identity: client, server, protocol.
pub type PairKey = (IpAddr, IpAddr, AppProto);

/// How a baseline is read when checking (thresholds a site tunes; see the README).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Settings {
    /// Values beyond the learned minimum and maximum by up to this share of their span
    /// still pass, once a range is trusted.
    pub margin: f64,
    /// Samples an address needs before its range is trusted; below it, only the values
    /// seen pass.
    pub min_samples: u64,
    /// A burst: more requests within one second than `burst_factor` times the most
    /// learned, plus `burst_slack`.
    pub burst_factor: f64,
    pub burst_slack: u32,
    /// A poll has stopped when no request came for `stop_factor` times the longest
    /// silence learned between two requests, and at least `min_stop_ms`.
    pub stop_factor: f64,
    pub min_stop_ms: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { margin: 0.1, min_samples: 10, burst_factor: 3.0, burst_slack: 10, stop_factor: 3.0, min_stop_ms: 2000.0 }
    }
}

/// One pair's tables.
#[derive(Debug, Default)]
pub(crate) struct PairIndex {
    /// Into the file's `pairs`.
    pub(crate) at: usize,
    pub(crate) functions: HashSet<u32>,
    /// Per (function, space): learned address intervals, sorted, not touching.
    pub(crate) ranges: HashMap<(u32, Space), Vec<(u32, u32)>>,
    /// Per (space, address): into the pair's `values`.
    pub(crate) values: HashMap<(Space, u32), usize>,
}

/// A loaded baseline.
#[derive(Debug, Default)]
pub struct Baseline {
    pub file: BaselineFile,
    pub(crate) assets: HashMap<IpAddr, usize>,
    /// Each pair's tables, and where they are by pair.
    pub(crate) indexes: Vec<PairIndex>,
    pub(crate) pairs: HashMap<PairKey, usize>,
    /// Every client's values per (server, space, address), for writes from a client
    /// the baseline does not know.
    pub(crate) server_values: HashMap<(IpAddr, Space, u32), Values>,
    /// Every client of a (server, protocol), with what they did toward it: for the
    /// requests of a client the baseline does not know.
    pub(crate) servers: HashMap<(IpAddr, AppProto), ServerIndex>,
}

/// What all clients did toward one server.
#[derive(Debug, Default)]
pub(crate) struct ServerIndex {
    pub(crate) clients: Vec<IpAddr>,
    pub(crate) functions: HashMap<u32, String>,
    pub(crate) ranges: HashMap<(u32, Space), Vec<(u32, u32)>>,
}

impl Baseline {
    pub fn new(file: BaselineFile) -> Baseline {
        let mut b = Baseline { assets: file.assets.iter().enumerate().map(|(i, a)| (a.ip, i)).collect(), ..Default::default() };
        for (at, p) in file.pairs.iter().enumerate() {
            let mut index = PairIndex { at, functions: p.functions.iter().map(|f| f.code).collect(), ..Default::default() };
            let server = b.servers.entry((p.server, p.protocol)).or_default();
            server.clients.push(p.client);
            for f in &p.functions {
                server.functions.entry(f.code).or_insert_with(|| f.name.clone());
            }
            for r in &p.ranges {
                index.ranges.entry((r.function, r.space.0)).or_default().push((r.start, r.end));
                server.ranges.entry((r.function, r.space.0)).or_default().push((r.start, r.end));
            }
            for list in index.ranges.values_mut() {
                *list = merged(std::mem::take(list));
            }
            for (i, v) in p.values.iter().enumerate() {
                index.values.insert((v.space.0, v.address), i);
                b.server_values.entry((p.server, v.space.0, v.address)).and_modify(|all| union(all, v)).or_insert_with(|| v.clone());
            }
            b.pairs.insert((p.client, p.server, p.protocol), b.indexes.len());
            b.indexes.push(index);
        }
        for server in b.servers.values_mut() {
            for list in server.ranges.values_mut() {
                *list = merged(std::mem::take(list));
            }
        }
        b.file = file;
        b
    }

    pub(crate) fn pair(&self, index: &PairIndex) -> Option<&Pair> {
        self.file.pairs.get(index.at)
    }

    /// Assets and value addresses, as the file holds them (for `rules check`).
    pub fn sizes(&self) -> (usize, usize, usize) {
        let values = self.file.pairs.iter().map(|p| p.values.len()).sum();
        (self.file.assets.len(), self.file.pairs.len(), values)
    }
}

/// Intervals sorted and joined where they overlap or touch.
pub(crate) fn merged(mut list: Vec<(u32, u32)>) -> Vec<(u32, u32)> {
    list.sort_unstable();
    let mut out: Vec<(u32, u32)> = Vec::with_capacity(list.len());
    for (s, e) in list {
        match out.last_mut() {
            Some(last) if s <= last.1.saturating_add(1) => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

/// `all` widened by `more` (their samples, extremes and, while few, values).
pub(crate) fn union(all: &mut Values, more: &Values) {
    all.samples += more.samples;
    all.min = all.min.min(more.min);
    all.max = all.max.max(more.max);
    all.set = match (all.set.take(), &more.set) {
        (Some(mut a), Some(b)) => {
            for v in b {
                if !a.contains(v) {
                    a.push(*v);
                }
            }
            a.sort_by(f64::total_cmp);
            (a.len() <= crate::SET_MAX).then_some(a)
        }
        _ => None,
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_join_where_they_meet() {
        assert_eq!(merged(vec![(10, 19), (0, 9), (30, 31), (25, 30)]), vec![(0, 19), (25, 31)]);
        assert_eq!(merged(vec![(0, u32::MAX), (5, 6)]), vec![(0, u32::MAX)]);
    }
}
