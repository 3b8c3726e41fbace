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
    /// Response times by (client, server), from the protocol records that carry them
    /// (Modbus's `response_time_us`).
    pub(crate) response: HashMap<(String, String), Times>,
}

/// Response-time buckets: bucket `i` holds times from 10 µs × 2^(i/4) up to the next
/// (the first, anything shorter; the last, anything longer: 10 µs to 10 s in steps of
/// 19 %), so a median is known to within 10 % in bounded memory.
const BUCKETS: usize = 81;
#[derive(Clone, Debug)]
pub(crate) struct Times(Box<[u32; BUCKETS]>);

impl Default for Times {
    fn default() -> Self {
        Times(Box::new([0; BUCKETS]))
    }
}

fn bucket(us: i64) -> usize {
    if us <= 10 {
        return 0;
    }
    let i = (4.0 * (us as f64 / 10.0).log2()).floor() as usize;
    i.min(BUCKETS - 1)
}

/// The median of `times` in milliseconds: its bucket's geometric middle.
pub(crate) fn median_ms(times: &Times) -> Option<f64> {
    let total: u64 = times.0.iter().map(|&n| u64::from(n)).sum();
    let mut seen = 0u64;
    for (i, &n) in times.0.iter().enumerate() {
        seen += u64::from(n);
        if total > 0 && seen * 2 >= total {
            return Some(0.01 * 2f64.powf((i as f64 + 0.5) / 4.0));
        }
    }
    None
}

/// The fields a response time is read from (without a JSON tree: there is one per
/// transaction).
#[derive(Debug)]
struct TimeFields {
    paths: otsentry_sink::reader::Paths,
    fields: otsentry_sink::reader::Fields,
}

impl Default for TimeFields {
    fn default() -> Self {
        let paths = otsentry_sink::reader::Paths::new([vec!["src_ip"], vec!["dest_ip"], vec!["modbus", "response_time_us"]]);
        TimeFields { paths, fields: otsentry_sink::reader::Fields::default() }
    }
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
    /// A transaction's response time, from `line` (a protocol record).
    fn time(&mut self, reader: &mut TimeFields, line: &[u8]) {
        if reader.fields.read(&reader.paths, line).is_err() {
            return;
        }
        let f = &reader.fields;
        let Some(us) = f.text(line, 2).and_then(|t| t.parse::<i64>().ok()) else { return };
        let (Some(client), Some(server)) = (f.text(line, 0), f.text(line, 1)) else { return };
        let key = (client.into_owned(), server.into_owned());
        match entry(&mut self.response, key) {
            Some(t) => {
                if let Some(n) = t.0.get_mut(bucket(us)) {
                    *n += 1;
                }
            }
            None => self.untallied += 1,
        }
    }

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
pub(crate) struct TallySink(pub(crate) Arc<Mutex<Tally>>, TimeFields);

impl TallySink {
    pub(crate) fn new(tally: Arc<Mutex<Tally>>) -> TallySink {
        TallySink(tally, TimeFields::default())
    }
}

/// The record types a tally takes: alerts, flows, and those with response times.
pub(crate) const TALLIED: [&str; 3] = ["alert", "flow", "modbus"];

impl RecordSink for TallySink {
    fn name(&self) -> String {
        "report".to_string()
    }

    fn write(&mut self, batch: &Batch) -> Result<(), SinkError> {
        let mut t = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        for (ty, line) in batch.lines() {
            if ty == "modbus" {
                t.time(&mut self.1, line);
            } else {
                t.take(line);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_is_within_ten_percent() {
        for (samples, median_us) in [(vec![10_000i64; 5], 10_000.0), (vec![200, 250, 300, 2_000_000, 400], 300.0), (vec![5], 10.0)] {
            let mut t = Times::default();
            for us in samples {
                t.0[bucket(us)] += 1;
            }
            let got = median_ms(&t).unwrap() * 1000.0;
            assert!((got / median_us - 1.0).abs() <= 0.1 || median_us <= 10.0, "{got} µs for {median_us}");
        }
        assert_eq!(median_ms(&Times::default()), None);
        assert_eq!(bucket(i64::MAX), BUCKETS - 1);
    }

    #[test]
    fn modbus_records_give_their_pair_a_response_time() {
        let mut tally = Tally::default();
        let mut reader = TimeFields::default();
        for us in [900, 1_000, 1_100] {
            let line = format!(
                r#"{{"event_type":"modbus","src_ip":"10.0.0.1","dest_ip":"10.0.0.2","modbus":{{"function":3,"response_time_us":{us}}}}}"#
            );
            tally.time(&mut reader, line.as_bytes());
        }
        tally.time(&mut reader, br#"{"event_type":"modbus","src_ip":"10.0.0.1","dest_ip":"10.0.0.2","modbus":{"function":3}}"#);
        let t = &tally.response[&("10.0.0.1".to_string(), "10.0.0.2".to_string())];
        let ms = median_ms(t).unwrap();
        assert!((0.9..=1.1).contains(&ms), "{ms}");
    }
}
