//! `otsentry policy check` (what a draft policy would forbid on captures, and which of
//! its conduits nothing used) and `otsentry policy suggest` (the narrowest conduits
//! that allow what the captures hold, between the zones of a zones file).
use crate::rules::{load as load_rules, RuleChoice};
use anyhow::Context;
use otsentry_capture::plan;
use otsentry_core::{Forbidden, SegmentationCounts};
use otsentry_engine::{Pipeline, PipelineOptions, Policy};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Replays `inputs` under `policy` (no rules: only the policy's findings are wanted).
fn findings(policy: Arc<Policy>, inputs: &[PathBuf]) -> anyhow::Result<SegmentationCounts> {
    let rules = load_rules(&RuleChoice { none: true, ..Default::default() })?;
    let mut run = Pipeline::new(PipelineOptions { rules: Arc::new(rules), policy: Some(policy), ..Default::default() }, None);
    for input in &plan(inputs, false)?.inputs {
        run.run_input(input, &mut |_, _| {})?;
    }
    Ok(run.finish(0.0).segmentation)
}

fn class(f: &Forbidden) -> &str {
    f.function_class.unwrap_or("-")
}

fn conduit_text(p: &Policy, i: usize) -> String {
    let Some(c) = p.conduits.get(i) else { return String::new() };
    let services = c.services.as_ref().map_or("any".to_string(), |s| s.iter().map(|s| s.name()).collect::<Vec<_>>().join(", "));
    let classes = c.classes.as_ref().map_or("all".to_string(), |c| c.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", "));
    format!("line {}: {} -> {} ({services}; functions {classes})", c.line, p.zone(c.from).name, p.zone(c.to).name)
}

/// What `policy check` found forbidden (exit 3 unless `--exit-zero`).
#[derive(Debug)]
pub(crate) struct FoundForbidden(pub(crate) usize);

impl std::fmt::Display for FoundForbidden {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} forbidden conversations", self.0)
    }
}

impl std::error::Error for FoundForbidden {}

/// `otsentry policy check --policy DRAFT CAPTURE...`
pub(crate) fn check(policy_path: &Path, inputs: &[PathBuf], json: Option<&Path>, exit_zero: bool) -> anyhow::Result<()> {
    let policy = Arc::new(otsentry_engine::load_policy(policy_path)?);
    let found = findings(policy.clone(), inputs)?;
    let mut by_pair: BTreeMap<(&str, &str), Vec<&Forbidden>> = BTreeMap::new();
    for f in &found.conversations {
        by_pair.entry((f.src_zone.as_str(), f.dest_zone.as_str())).or_default().push(f);
    }
    let mut out = std::io::stdout().lock();
    if by_pair.is_empty() {
        writeln!(out, "nothing forbidden: every conversation stays in a zone or has a conduit")?;
    }
    for ((from, to), rows) in &by_pair {
        writeln!(out, "{from} -> {to}: {} forbidden", rows.len())?;
        writeln!(
            out,
            "  {:<12} {:<15} {:<40} {:>8}  {:<26}  LAST SEEN",
            "PROTOCOL", "CLASS", "SOURCE -> DESTINATION", "COUNT", "FIRST SEEN"
        )?;
        for f in rows {
            let pair = format!("{} -> {}", f.src_ip, f.dest_ip);
            let (first, last) = (f.first_seen.rfc3339_micros().to_string(), f.last_seen.rfc3339_micros().to_string());
            writeln!(out, "  {:<12} {:<15} {pair:<40} {:>8}  {first:<26}  {last}", f.protocol, class(f), f.count)?;
        }
    }
    let unused: Vec<usize> = found.conduits_used.iter().enumerate().filter(|(_, n)| **n == 0).map(|(i, _)| i).collect();
    for &i in &unused {
        writeln!(out, "unused conduit, {}", conduit_text(&policy, i))?;
    }
    if let Some(path) = json {
        let groups: Vec<serde_json::Value> = by_pair
            .iter()
            .map(|((from, to), rows)| serde_json::json!({"src_zone": from, "dest_zone": to, "conversations": rows}))
            .collect();
        let unused: Vec<serde_json::Value> = unused
            .iter()
            .filter_map(|&i| policy.conduits.get(i).map(|c| (i, c)))
            .map(|(i, c)| serde_json::json!({"line": c.line, "from": policy.zone(c.from).name, "to": policy.zone(c.to).name, "text": conduit_text(&policy, i)}))
            .collect();
        let doc = serde_json::json!({"forbidden": groups, "unused_conduits": unused, "dropped": found.dropped});
        std::fs::write(path, serde_json::to_string_pretty(&doc)? + "\n").with_context(|| format!("{}: cannot write", path.display()))?;
    }
    out.flush()?;
    match found.conversations.len() {
        n if n > 0 && !exit_zero => Err(FoundForbidden(n).into()),
        _ => Ok(()),
    }
}

/// One suggested conduit and the traffic behind it.
#[derive(Default)]
struct Suggestion<'f> {
    classes: BTreeMap<&'static str, u64>,
    packets: u64,
    pairs: Vec<(&'f str, &'f str)>,
    first: Option<otsentry_core::Timestamp>,
    last: Option<otsentry_core::Timestamp>,
}

/// `otsentry policy suggest --zones ZONES CAPTURE...`
pub(crate) fn suggest(zones_path: &Path, inputs: &[PathBuf], out_path: Option<&Path>) -> anyhow::Result<()> {
    let policy = otsentry_engine::load_policy(zones_path)?;
    if !policy.conduits.is_empty() {
        anyhow::bail!(
            "{}: suggest starts from zones alone, and this file has {} conduits (check a draft with `otsentry policy check`)",
            zones_path.display(),
            policy.conduits.len()
        );
    }
    let text = std::fs::read_to_string(zones_path).with_context(|| format!("{}: cannot read", zones_path.display()))?;
    let unknown = policy.zone(policy.unknown).name.clone();
    let unknown = unknown.as_str();
    let found = findings(Arc::new(policy), inputs)?;
    let mut groups: BTreeMap<(&str, &str, &str), Suggestion> = BTreeMap::new();
    for f in &found.conversations {
        let g = groups.entry((f.src_zone.as_str(), f.dest_zone.as_str(), f.protocol.as_str())).or_default();
        match f.function_class {
            Some(c) => *g.classes.entry(c).or_default() += f.count,
            None => {
                g.packets += f.count;
                g.pairs.push((f.src_ip.as_str(), f.dest_ip.as_str()));
            }
        }
        g.first = Some(g.first.map_or(f.first_seen, |t| t.min(f.first_seen)));
        g.last = Some(g.last.map_or(f.last_seen, |t| t.max(f.last_seen)));
    }
    let ot = |proto: &str| otsentry_engine::proto_named(proto).is_some();
    let mut yaml = text.trim_end().to_string();
    yaml.push_str("\n\n# Suggested by `otsentry policy suggest`: the narrowest conduits that allow what the\n# captures hold. Review each before use.\nconduits:\n");
    if groups.is_empty() {
        yaml.push_str("  []\n");
    }
    for ((from, to, proto), g) in &groups {
        let span = match (g.first, g.last) {
            (Some(a), Some(b)) => format!("{} to {}", a.rfc3339_micros(), b.rfc3339_micros()),
            _ => String::new(),
        };
        let shown: Vec<String> = g.pairs.iter().take(3).map(|(a, b)| format!("{a} -> {b}")).collect();
        let more = g.pairs.len().saturating_sub(3);
        let _ = writeln!(
            yaml,
            "  # {} conversation(s), {} packets, {span}: {}{}",
            g.pairs.len(),
            g.packets,
            shown.join(", "),
            if more > 0 { format!(" and {more} more") } else { String::new() }
        );
        if *from == unknown || *to == unknown {
            let _ = writeln!(yaml, "  # {unknown:?} holds the addresses in no zone: give these hosts a zone rather than allow it.");
        }
        if ot(proto) {
            let uses: Vec<String> = g.classes.iter().map(|(c, n)| format!("{c} {n}")).collect();
            let _ = writeln!(yaml, "  # requests by class: {}", if uses.is_empty() { "none".to_string() } else { uses.join(", ") });
        }
        let _ = writeln!(
            yaml,
            "  - from: {}\n    to: {}\n    protocols: [{}]",
            serde_json::to_string(from)?,
            serde_json::to_string(to)?,
            serde_json::to_string(proto)?
        );
        if ot(proto) {
            let classes: Vec<&str> = g.classes.keys().copied().collect();
            let _ = writeln!(yaml, "    functions: [{}]", classes.join(", "));
        }
        yaml.push_str("    initiator: from\n");
    }
    // What is suggested must load as a policy.
    otsentry_engine::parse_policy(Path::new("<suggested>"), &yaml)
        .map_err(|e| anyhow::anyhow!("the suggested policy does not load (a bug): {e}"))?;
    match out_path {
        Some(p) => std::fs::write(p, &yaml).with_context(|| format!("{}: cannot write", p.display()))?,
        None => std::io::stdout().lock().write_all(yaml.as_bytes())?,
    }
    Ok(())
}
