//! `otsentry report` and `otsentry inventory`: captures replayed with learning on and the
//! rules, policy and baseline as a sensor would run them; what was learned (assets,
//! identities, conversations), the alerts and the flows' capture loss become a report:
//! one self-contained HTML page, its data as JSON, the asset table as text or CSV.
pub(crate) mod live;
mod tally;

use crate::learn::write_whole;
use crate::report::say;
use crate::rules::RuleChoice;
use otsentry_baseline::{BaselineFile, Role};
use otsentry_engine::{Pipeline, PipelineOptions};
use otsentry_report::model::worse;
use otsentry_report::{Asset, Conversation, Header, Report, Zone};
use otsentry_sink::{OutputOptions, Outputs, TypeSet};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What a report is made from.
pub(crate) struct Sources {
    pub(crate) inputs: Vec<PathBuf>,
    pub(crate) recursive: bool,
    pub(crate) rules: RuleChoice,
    pub(crate) policy: Option<PathBuf>,
    pub(crate) baseline: Option<PathBuf>,
    pub(crate) manuf: PathBuf,
    pub(crate) memory_cap: u64,
}

impl From<crate::cli::ReportSources> for Sources {
    fn from(a: crate::cli::ReportSources) -> Sources {
        let rules =
            RuleChoice { rules: a.rules, no_default: a.no_default_rules, none: false, vars: a.vars, tuning: a.tuning, strict: false };
        let memory_cap = a.memory_cap.unwrap_or_else(crate::cli::default_memory_cap);
        Sources { inputs: a.inputs, recursive: a.recursive, rules, policy: a.policy, baseline: a.baseline, manuf: a.manuf, memory_cap }
    }
}

/// `otsentry report`: the page (and the JSON), each written whole or not at all.
pub(crate) fn report(sources: &Sources, html: Option<&Path>, json: Option<&Path>, quiet: bool) -> anyhow::Result<()> {
    let report = gather(sources)?;
    if let Some(path) = json {
        write_whole(path, &otsentry_report::json(&report))?;
    }
    if let Some(path) = html {
        write_whole(path, &otsentry_report::html(&report))?;
    }
    if !quiet {
        say!(
            "report: {} assets, {} conversations, {} alerts{}{}",
            report.assets.len(),
            report.conversations.len(),
            report.alerts.len() as u64 + report.alerts_not_listed,
            html.map(|p| format!("; page {}", p.display())).unwrap_or_default(),
            json.map(|p| format!("; data {}", p.display())).unwrap_or_default()
        );
    }
    Ok(())
}

/// `otsentry inventory`: the asset table on stdout, or as CSV into a file.
pub(crate) fn inventory(sources: &Sources, csv: Option<&Path>) -> anyhow::Result<()> {
    let report = gather(sources)?;
    if let Some(path) = csv {
        return write_whole(path, &otsentry_report::inventory_csv(&report));
    }
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{:<39} {:<17} {:<12} {:<14} {:<16} {:<24} IDENTITY", "IP", "MAC", "ROLE", "ZONE", "PROTOCOLS", "VENDOR")?;
    for a in &report.assets {
        let identity: Vec<String> = a.identity.iter().map(|(k, v)| format!("{k}={v}")).collect();
        writeln!(
            out,
            "{:<39} {:<17} {:<12} {:<14} {:<16} {:<24} {}",
            a.ip,
            a.macs.first().map_or("", String::as_str),
            a.role,
            a.zone,
            a.protocols.join(","),
            a.vendor.as_deref().unwrap_or(""),
            identity.join(" ")
        )?;
    }
    Ok(())
}

/// Replays the captures and assembles the report. With a baseline to check against,
/// learning takes a pass of its own (the pipeline either learns or checks).
fn gather(s: &Sources) -> anyhow::Result<Report> {
    let plan = otsentry_capture::plan(&s.inputs, s.recursive)?;
    let rules = Arc::new(crate::rules::load(&s.rules)?);
    let policy = s.policy.as_deref().map(otsentry_engine::load_policy).transpose()?;
    let checked = s.baseline.as_deref().map(otsentry_engine::load_baseline).transpose()?.map(Arc::new);
    let tally = Arc::new(std::sync::Mutex::new(tally::Tally::default()));
    let mut outputs = Outputs::new(OutputOptions::default());
    outputs.add_for(Box::new(tally::TallySink(tally.clone())), TypeSet::of(&tally::TALLIED))?;
    let detect = PipelineOptions {
        rules,
        policy: policy.clone().map(Arc::new),
        baseline: checked.clone(),
        learn: checked.is_none().then(Default::default),
        learn_lean: true,
        // The state of a flood is bounded as a replay's is.
        memory: otsentry_core::MemoryBudget::new(s.memory_cap),
        ..Default::default()
    };
    let mut run = Pipeline::new(detect, Some(outputs));
    for input in &plan.inputs {
        run.run_input(input, &mut |_, _| {})?;
    }
    let (summary, mut learner) = run.finish_learning(0.0);
    if learner.is_none() {
        let mut learning = Pipeline::new(PipelineOptions { learn: Some(Default::default()), learn_lean: true, ..Default::default() }, None);
        for input in &plan.inputs {
            learning.run_input(input, &mut |_, _| {})?;
        }
        learner = learning.finish_learning(0.0).1;
    }
    let learner = learner.ok_or_else(|| anyhow::anyhow!("learning was not on"))?;
    let times = learner.response_medians();
    let learned = Learned { file: crate::learn::finish(learner, &s.manuf), times };
    let captures = plan.inputs.iter().map(|i| i.name.clone()).collect();
    let tally = std::mem::take(&mut *tally.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
    if tally.untallied > 0 {
        say!(
            "otsentry: warning: {} flows and alerts past the report's tables ({} keys each) are not in its counts",
            tally.untallied,
            tally::MAX_KEYS
        );
    }
    Ok(assemble(&learned, tally, policy.as_ref(), header(&summary, captures, &learned.file, policy.is_some())))
}

pub(super) fn header(summary: &otsentry_core::Summary, captures: Vec<String>, learned: &BaselineFile, policy: bool) -> Header {
    // PDUs: every protocol's count of its units (DNP3 counts fragments).
    let protocols = serde_json::to_value(&summary.protocols).unwrap_or(Value::Null);
    let pdus = protocols
        .as_object()
        .map(|m| m.values().filter_map(|p| p.get("pdus").or_else(|| p.get("fragments")).and_then(Value::as_u64)).sum())
        .unwrap_or(0);
    Header {
        otsentry_version: env!("CARGO_PKG_VERSION").to_string(),
        captures,
        from: learned.learned.from.clone(),
        to: learned.learned.to.clone(),
        packets: summary.packets,
        pdus,
        capture_loss_pct: summary.streams.capture_loss_pct,
        policy,
    }
}

/// The role that places an asset: what it does most that matters most.
fn role_of(roles: &[Role]) -> &'static str {
    if roles.contains(&Role::Engineering) {
        "engineering"
    } else if roles.contains(&Role::Master) {
        "master"
    } else if roles.contains(&Role::Plc) {
        "plc"
    } else if roles.contains(&Role::Outstation) {
        "outstation"
    } else {
        "other"
    }
}

/// Bands without a policy: engineering and HMIs above masters, PLCs and outstations
/// below, the rest at the bottom.
const ROLE_BANDS: [(&str, &str, i32); 4] = [
    ("engineering", "Engineering and HMIs", 30),
    ("master", "Masters", 20),
    ("plc", "PLCs and outstations", 10),
    ("other", "Other hosts", 0),
];

/// What a report shows of what was learned: the baseline `learned` with `times` (each
/// conversation's median response time, which the file does not keep).
pub(super) struct Learned {
    pub(super) file: BaselineFile,
    pub(super) times: BTreeMap<otsentry_baseline::PairKey, f64>,
}

pub(super) fn assemble(learned: &Learned, tally: tally::Tally, policy: Option<&otsentry_policy::Policy>, header: Header) -> Report {
    let times = &learned.times;
    let learned = &learned.file;
    // A class by its name.
    let class_name =
        |c: otsentry_core::FunctionClass| serde_json::to_value(c).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
    // Zones: the policy's, or bands by role.
    let mut zones: Vec<Zone> = match policy {
        Some(p) => p
            .zones
            .iter()
            .map(|z| {
                let rank = match &z.level {
                    Some(otsentry_policy::Level::Purdue(n)) => i32::from(*n) * 10,
                    Some(otsentry_policy::Level::Dmz) => 35,
                    None => -10,
                };
                Zone { name: z.name.clone(), level: z.level.as_ref().map(|l| l.name()), rank }
            })
            .collect(),
        None => ROLE_BANDS.iter().map(|(_, name, rank)| Zone { name: name.to_string(), level: None, rank: *rank }).collect(),
    };
    zones.sort_by_key(|z| std::cmp::Reverse(z.rank));
    // A MAC serving several addresses is a router's: its maker says nothing of them.
    let mut mac_users: HashMap<String, usize> = HashMap::new();
    for a in &learned.assets {
        for m in &a.macs {
            *mac_users.entry(m.to_string()).or_default() += 1;
        }
    }
    let mut protocols: HashMap<IpAddr, Vec<String>> = HashMap::new();
    for p in &learned.pairs {
        for ip in [p.client, p.server] {
            let list = protocols.entry(ip).or_default();
            let name = p.protocol.name().to_string();
            if !list.contains(&name) {
                list.push(name);
            }
        }
    }
    let mut assets: Vec<Asset> = learned
        .assets
        .iter()
        .map(|a| {
            let macs: Vec<String> = a.macs.iter().map(ToString::to_string).collect();
            let alone = macs.first().is_some_and(|m| mac_users.get(m) == Some(&1));
            let role = role_of(&a.roles);
            let zone = match policy {
                Some(p) => p.zone(p.zone_of(a.ip, 0)).name.clone(),
                None => {
                    let band = if role == "outstation" { "plc" } else { role };
                    ROLE_BANDS.iter().find(|(r, _, _)| *r == band).map_or("Other hosts", |(_, n, _)| n).to_string()
                }
            };
            let mut protos = protocols.get(&a.ip).cloned().unwrap_or_default();
            protos.sort();
            Asset {
                ip: a.ip.to_string(),
                macs,
                vendor: a.vendor.clone().filter(|_| alone),
                role: role.to_string(),
                roles: a.roles.iter().map(|r| r.name().to_string()).collect(),
                identity: a.identity.clone(),
                protocols: protos,
                first_seen: a.first_seen.clone(),
                last_seen: a.last_seen.clone(),
                zone,
                alerts: 0,
                max_severity: None,
            }
        })
        .collect();
    // Function classes by protocol and function name.
    let classes: HashMap<(&str, &str), String> = otsentry_engine::class_tables()
        .into_iter()
        .flat_map(|(proto, rows)| rows.into_iter().map(move |r| ((proto, r.name), class_name(r.class))))
        .collect();
    let mut conversations: Vec<Conversation> = learned
        .pairs
        .iter()
        .map(|p| {
            let proto = p.protocol.name();
            let mut mix: BTreeMap<String, u64> = BTreeMap::new();
            for f in &p.functions {
                let class = classes.get(&(proto, f.name.as_str())).cloned().unwrap_or_else(|| "control".to_string());
                *mix.entry(class).or_default() += f.count;
            }
            let mut functions: Vec<(String, u64)> = p.functions.iter().map(|f| (f.name.clone(), f.count)).collect();
            functions.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
            Conversation {
                client: p.client.to_string(),
                server: p.server.to_string(),
                protocol: proto.to_string(),
                requests: p.requests,
                classes: mix,
                functions,
                first_seen: p.first_seen.clone(),
                last_seen: p.last_seen.clone(),
                response_ms: times.get(&(p.client, p.server, p.protocol)).copied(),
                ..Conversation::default()
            }
        })
        .collect();
    // Alerts by address and by conversation (either direction, its protocol or none).
    for a in &mut assets {
        if let Some(c) = tally.by_ip.get(&a.ip) {
            a.alerts = c.count;
            a.max_severity = c.worst.clone();
        }
    }
    for c in &mut conversations {
        let mut sum = (0u64, 0u64);
        for (from, to) in [(&c.client, &c.server), (&c.server, &c.client)] {
            if let Some((m, t)) = tally.loss.get(&(from.clone(), to.clone())) {
                sum = (sum.0 + m, sum.1 + t);
            }
            for app in [c.protocol.as_str(), ""] {
                if let Some(n) = tally.by_pair.get(&(from.clone(), to.clone(), app.to_string())) {
                    c.alerts += n.count;
                    if let Some(w) = &n.worst {
                        c.max_severity = worse(c.max_severity.take(), w);
                    }
                    c.forbidden |= n.forbidden;
                }
            }
        }
        // Capture loss from the conversation's flows' missed bytes, where any were missed.
        c.loss_pct = (sum.0 > 0 && sum.1 > 0).then(|| sum.0 as f64 * 100.0 / sum.1 as f64);
    }
    let (alerts, not_listed) = (tally.alerts, tally.not_listed);
    Report { header, zones, assets, conversations, alerts, alerts_not_listed: not_listed }
}
