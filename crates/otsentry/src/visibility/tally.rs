//! What a report keeps of a run's alerts and flows, taken as they are written (a sink),
//! so a capture of millions of flows costs bounded memory: capture loss by address pair,
//! alerts by address and by conversation, and the first alerts listed one by one.
use otsentry_report::model::worse;
use otsentry_report::{Alert, MAX_ALERTS};
use otsentry_sink::{Batch, RecordSink, SinkError};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// Addresses and pairs followed at most, each table (the rest are counted, not kept).
pub(crate) const MAX_KEYS: usize = 200_000;

/// Alerts on a key: how many, the worst severity, and whether the policy forbids it.
#[derive(Clone, Debug, Default)]
pub(crate) struct AlertCount {
    pub(crate) count: u64,
    pub(crate) worst: Option<String>,
    pub(crate) forbidden: bool,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Tally {
    /// Bytes missed and carried by the flows of (source, destination).
    pub(crate) loss: HashMap<(String, String), (u64, u64)>,
    /// Alerts by address, and by (source, destination, application protocol).
    pub(crate) by_ip: HashMap<String, AlertCount>,
    pub(crate) by_pair: HashMap<(String, String, String), AlertCount>,
    pub(crate) alerts: Vec<Alert>,
    pub(crate) not_listed: u64,
    /// Flows and alerts not tallied by key: their tables were full.
    pub(crate) untallied: u64,
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

/// `key`'s entry of `map`, unless the map is full and lacks it.
fn entry<K: std::hash::Hash + Eq, V: Default>(map: &mut HashMap<K, V>, key: K) -> Option<&mut V> {
    if map.len() >= MAX_KEYS && !map.contains_key(&key) {
        return None;
    }
    Some(map.entry(key).or_default())
}

impl Tally {
    fn take(&mut self, line: &[u8]) {
        let Ok(r) = serde_json::from_slice::<Value>(line) else { return };
        let (src, dst) = (text(&r["src_ip"]), text(&r["dest_ip"]));
        match r["event_type"].as_str() {
            Some("flow") => {
                let missed = r["tcp"]["missed_bytes"].as_u64().unwrap_or(0);
                let carried = r["flow"]["bytes_toserver"].as_u64().unwrap_or(0) + r["flow"]["bytes_toclient"].as_u64().unwrap_or(0);
                match entry(&mut self.loss, (src, dst)) {
                    Some(e) => *e = (e.0 + missed, e.1 + carried + missed),
                    None => self.untallied += 1,
                }
            }
            Some("alert") => {
                let meta = &r["alert"]["metadata"];
                let severity = meta["severity"][0].as_str().unwrap_or("medium").to_string();
                let rule = meta["rule_id"][0].as_str().unwrap_or_default().to_string();
                let app = text(&r["app_proto"]);
                let mut full = false;
                for ip in [&src, &dst].into_iter().filter(|ip| !ip.is_empty()) {
                    match entry(&mut self.by_ip, ip.clone()) {
                        Some(c) => {
                            c.count += 1;
                            c.worst = worse(c.worst.take(), &severity);
                        }
                        None => full = true,
                    }
                }
                match entry(&mut self.by_pair, (src.clone(), dst.clone(), app.clone())) {
                    Some(c) => {
                        c.count += 1;
                        c.worst = worse(c.worst.take(), &severity);
                        c.forbidden |= rule.starts_with("policy.segmentation");
                    }
                    None => full = true,
                }
                self.untallied += u64::from(full);
                if self.alerts.len() >= MAX_ALERTS {
                    self.not_listed += 1;
                    return;
                }
                self.alerts.push(Alert {
                    timestamp: text(&r["timestamp"]),
                    severity,
                    rule_id: rule,
                    signature: text(&r["alert"]["signature"]),
                    techniques: meta["mitre_technique_id"]
                        .as_array()
                        .map(|l| l.iter().filter_map(|t| t.as_str().map(str::to_string)).collect())
                        .unwrap_or_default(),
                    src,
                    dst,
                    protocol: app,
                    detail: text(&r["alert"]["detail"]),
                });
            }
            _ => {}
        }
    }
}

/// The sink that fills a shared [`Tally`].
pub(crate) struct TallySink(pub(crate) Arc<Mutex<Tally>>);

/// The record types a tally takes.
pub(crate) const TALLIED: [&str; 2] = ["alert", "flow"];

impl RecordSink for TallySink {
    fn name(&self) -> String {
        "report".to_string()
    }

    fn write(&mut self, batch: &Batch) -> Result<(), SinkError> {
        let mut t = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        for (_, line) in batch.lines() {
            t.take(line);
        }
        Ok(())
    }
}
