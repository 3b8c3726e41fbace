//! Every shared capture against its reviewed list of expected alerts
//! (`fixtures/expected-alerts.yaml`), as suricata-verify does for Suricata: the built-in
//! pack, no variables file, every alert of severity medium and above. An alert the list
//! does not name fails, and so does a listed alert that does not fire (or fires a number
//! of times outside its count), and a capture the list does not cover.
//! `OTSENTRY_BLESS=1` rewrites the list from what fires, keeping the reasons given and
//! marking new entries UNREVIEWED, which fails until a person writes the reason.
mod pack;

use otsentry_core::Severity;
use otsentry_pcapgen::shared;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expected {
    rule: String,
    /// Exactly this many, or a range `a-b`.
    count: Count,
    reason: String,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Count {
    Exactly(u64),
    Range(String),
}

impl Count {
    fn holds(&self, n: u64) -> bool {
        match self {
            Count::Exactly(c) => *c == n,
            Count::Range(r) => match r.split_once('-').map(|(a, b)| (a.trim().parse::<u64>(), b.trim().parse::<u64>())) {
                Some((Ok(a), Ok(b))) => (a..=b).contains(&n),
                _ => panic!("count {r:?}: a number or a range a-b"),
            },
        }
    }
}

const UNREVIEWED: &str = "UNREVIEWED";

fn list_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/expected-alerts.yaml")
}

/// Alerts of medium and above by rule id.
fn fired(capture: &Path) -> BTreeMap<String, u64> {
    let mut by_rule = BTreeMap::new();
    for a in pack::alerts(capture).iter().filter(|a| a.alert.info.severity >= Severity::Medium) {
        *by_rule.entry(a.alert.info.rule_id.to_string()).or_default() += 1;
    }
    by_rule
}

#[test]
fn every_shared_capture_raises_exactly_its_expected_alerts() {
    let Some(dir) = shared::pcaps_dir() else { return };
    let text = std::fs::read_to_string(list_path()).unwrap_or_default();
    let list: BTreeMap<String, Vec<Expected>> = serde_yaml_ng::from_str(&text).expect("fixtures/expected-alerts.yaml parses");
    let captures = shared::captures(&dir, &shared::scratch_dir());
    assert!(captures.len() >= 90, "{} shared captures found", captures.len());
    let mut failures = Vec::new();
    let mut blessed = String::from(HEADER);
    for cap in &captures {
        let got = fired(&cap.path);
        let want = list.get(&cap.name);
        if want.is_none() {
            failures.push(format!("{}: not in the list", cap.name));
        }
        let want = want.map(Vec::as_slice).unwrap_or_default();
        for e in want {
            let n = got.get(&e.rule).copied().unwrap_or(0);
            if !e.count.holds(n) {
                failures.push(format!("{}: {} fired {n} times, expected {:?}", cap.name, e.rule, e.count));
            }
            if e.reason.trim().is_empty() || e.reason == UNREVIEWED {
                failures.push(format!("{}: {} has no reason", cap.name, e.rule));
            }
        }
        for (rule, n) in &got {
            if !want.iter().any(|e| &e.rule == rule) {
                failures.push(format!("{}: {rule} fired {n} times and is not expected", cap.name));
            }
        }
        blessed.push_str(&bless_entry(&cap.name, &got, want));
    }
    let names: Vec<&str> = captures.iter().map(|c| c.name.as_str()).collect();
    failures.extend(list.keys().filter(|k| !names.contains(&k.as_str())).map(|k| format!("{k}: listed but not a shared capture")));
    if std::env::var("OTSENTRY_BLESS").is_ok_and(|v| v == "1") {
        std::fs::write(list_path(), blessed).expect("bless");
        return;
    }
    assert!(failures.is_empty(), "{} differences from fixtures/expected-alerts.yaml:\n{}", failures.len(), failures.join("\n"));
}

const HEADER: &str = "\
# The alerts of severity medium and above that the built-in pack (no variables file) must
# raise on each capture in ../shared/pcaps, with a count (or range a-b) and the reason.
# Checked by crates/engine/tests/expected_alerts.rs; `OTSENTRY_BLESS=1` rewrites counts
# and keeps reasons. Routine captures list nothing unless a reason says why they alert.
";

fn bless_entry(name: &str, got: &BTreeMap<String, u64>, want: &[Expected]) -> String {
    if got.is_empty() {
        return format!("{name}: []\n");
    }
    let mut s = format!("{name}:\n");
    for (rule, n) in got {
        let old = want.iter().find(|e| &e.rule == rule);
        let count = match old.map(|e| &e.count) {
            Some(Count::Range(r)) if old.is_some_and(|e| e.count.holds(*n)) => r.clone(),
            _ => n.to_string(),
        };
        let reason = old.map_or(UNREVIEWED, |e| e.reason.as_str());
        s.push_str(&format!("  - rule: {rule}\n    count: {count}\n    reason: {}\n", yaml_str(reason)));
    }
    s
}

fn yaml_str(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}
