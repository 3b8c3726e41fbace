//! The configuration file (`--config FILE`, YAML): one key per flag, flags win. Every
//! mistake is an error naming the file, the line and the key; `config check` also
//! checks the rule, variables and tuning files it names.
use crate::cli::{self, parse_app_port, AppPort, AppSetting, Reader};
use serde::de::{Deserializer, Error as _};
use serde::Deserialize;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};

/// One mistake in a configuration file: where, which key, what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Issue {
    pub(crate) line: usize,
    pub(crate) column: usize,
    /// The key at fault (`replay.max-flows`), or empty for the file as a whole.
    pub(crate) key: String,
    pub(crate) message: String,
}

impl std::fmt::Display for Issue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: ", self.line, self.column)?;
        if !self.key.is_empty() {
            write!(f, "{}: ", self.key)?;
        }
        f.write_str(&self.message)
    }
}

/// A configuration file that cannot be used: every mistake found, as
/// `file:line:column: key: message`, one per line.
#[derive(Debug)]
pub(crate) struct ConfigError {
    pub(crate) file: PathBuf,
    pub(crate) issues: Vec<Issue>,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, issue) in self.issues.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{}:{issue}", self.file.display())?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct Config {
    #[serde(default, deserialize_with = "log_level")]
    pub(crate) log_level: Option<tracing::Level>,
    #[serde(default)]
    pub(crate) replay: RunConfig,
    #[serde(default)]
    pub(crate) sense: RunConfig,
}

/// The keys of `replay:` and `sense:`, named as the commands' flags: the detection and
/// output keys both take, and each command's own (checked by [`parse`] to be in the
/// right section), declared once.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RunConfig {
    // `sense` only.
    pub(crate) interface: Option<Vec<String>>,
    pub(crate) bpf: Option<String>,
    #[serde(default, deserialize_with = "snaplen")]
    pub(crate) snaplen: Option<u32>,
    #[serde(default, deserialize_with = "buffer_size")]
    pub(crate) buffer_size: Option<u32>,
    pub(crate) immediate: Option<bool>,
    pub(crate) promiscuous: Option<bool>,
    #[serde(default, deserialize_with = "read_timeout")]
    pub(crate) read_timeout: Option<std::time::Duration>,
    pub(crate) fanout: Option<bool>,
    #[serde(default, deserialize_with = "learn_for")]
    pub(crate) learn_for: Option<std::time::Duration>,
    pub(crate) baseline_out: Option<PathBuf>,
    #[serde(default, deserialize_with = "stats_interval")]
    pub(crate) stats_interval: Option<std::time::Duration>,
    #[serde(default, deserialize_with = "silence_alert")]
    pub(crate) silence_alert: Option<std::time::Duration>,
    #[serde(default, deserialize_with = "asset_interval")]
    pub(crate) asset_interval: Option<std::time::Duration>,
    pub(crate) report: Option<PathBuf>,
    #[serde(default, deserialize_with = "report_interval")]
    pub(crate) report_interval: Option<std::time::Duration>,
    pub(crate) user: Option<String>,
    pub(crate) group: Option<String>,
    pub(crate) allow_root: Option<bool>,
    #[serde(default, deserialize_with = "metrics")]
    pub(crate) metrics: Option<std::net::SocketAddr>,
    // Both. The outputs' keys (`outputs:`, and shorthands such as `eve:`,
    // `clickhouse-types:`) are declared by the output kinds and read apart.
    #[serde(skip)]
    pub(crate) outputs: crate::outputs::FileOutputs,
    #[serde(default, deserialize_with = "host")]
    pub(crate) host: Option<String>,
    #[serde(default, deserialize_with = "eve_max_items")]
    pub(crate) eve_max_items: Option<u32>,
    pub(crate) summary_json: Option<PathBuf>,
    pub(crate) reader: Option<Reader>,
    pub(crate) checksum_anomalies: Option<bool>,
    pub(crate) no_checksums: Option<bool>,
    #[serde(default, deserialize_with = "app_ports")]
    pub(crate) app_port: Option<Vec<AppPort>>,
    #[serde(default, deserialize_with = "max_flows")]
    pub(crate) max_flows: Option<NonZeroUsize>,
    #[serde(default, deserialize_with = "memory_cap")]
    pub(crate) memory_cap: Option<u64>,
    pub(crate) evidence_dir: Option<PathBuf>,
    pub(crate) manuf: Option<PathBuf>,
    #[serde(default, deserialize_with = "evidence_severity")]
    pub(crate) evidence_severity: Option<otsentry_core::Severity>,
    pub(crate) evidence_packets: Option<NonZeroUsize>,
    #[serde(default, deserialize_with = "evidence_ring_bytes")]
    pub(crate) evidence_ring_bytes: Option<u64>,
    pub(crate) evidence_after: Option<u32>,
    #[serde(default, deserialize_with = "evidence_max_disk")]
    pub(crate) evidence_max_disk: Option<u64>,
    #[serde(default, deserialize_with = "dnp3_max_objects")]
    pub(crate) dnp3_max_objects: Option<u32>,
    #[serde(default, deserialize_with = "app_settings")]
    pub(crate) app_setting: Option<Vec<AppSetting>>,
    pub(crate) recursive: Option<bool>,
    pub(crate) quiet: Option<bool>,
    #[serde(default, deserialize_with = "paths")]
    pub(crate) rules: Option<Vec<PathBuf>>,
    pub(crate) no_default_rules: Option<bool>,
    pub(crate) no_rules: Option<bool>,
    pub(crate) strict: Option<bool>,
    pub(crate) vars: Option<PathBuf>,
    pub(crate) tuning: Option<PathBuf>,
    #[serde(default, deserialize_with = "warmup")]
    pub(crate) warmup: Option<crate::cli::WarmupChoice>,
    #[serde(default, deserialize_with = "workers")]
    pub(crate) workers: Option<crate::cli::Workers>,
    pub(crate) policy: Option<PathBuf>,
    pub(crate) baseline: Option<PathBuf>,
    #[serde(default, deserialize_with = "baseline_margin")]
    pub(crate) baseline_margin: Option<f64>,
    #[serde(default, deserialize_with = "baseline_min_samples")]
    pub(crate) baseline_min_samples: Option<u64>,
    #[serde(default, deserialize_with = "baseline_burst_factor")]
    pub(crate) baseline_burst_factor: Option<f64>,
    #[serde(default, deserialize_with = "baseline_stop_factor")]
    pub(crate) baseline_stop_factor: Option<f64>,
}

fn snaplen<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    match u32::deserialize(d)? {
        n @ 64..=262_144 => Ok(Some(n)),
        n => Err(D::Error::custom(format!("snaplen: {n} is not in 64..=262144"))),
    }
}

fn buffer_size<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    cli::parse_buffer_size(&scalar(d)?).map(Some).map_err(|e| D::Error::custom(format!("buffer-size: {e}")))
}

fn read_timeout<'de, D: Deserializer<'de>>(d: D) -> Result<Option<std::time::Duration>, D::Error> {
    cli::parse_read_timeout(&scalar(d)?).map(Some).map_err(|e| D::Error::custom(format!("read-timeout: {e}")))
}

fn learn_for<'de, D: Deserializer<'de>>(d: D) -> Result<Option<std::time::Duration>, D::Error> {
    crate::eve::parse_duration(&scalar(d)?).map(Some).map_err(|e| D::Error::custom(format!("learn-for: {e}")))
}

fn stats_interval<'de, D: Deserializer<'de>>(d: D) -> Result<Option<std::time::Duration>, D::Error> {
    cli::parse_stats_interval(&scalar(d)?).map(Some).map_err(|e| D::Error::custom(format!("stats-interval: {e}")))
}

fn asset_interval<'de, D: Deserializer<'de>>(d: D) -> Result<Option<std::time::Duration>, D::Error> {
    cli::parse_asset_interval(&scalar(d)?).map(Some).map_err(|e| D::Error::custom(format!("asset-interval: {e}")))
}

fn report_interval<'de, D: Deserializer<'de>>(d: D) -> Result<Option<std::time::Duration>, D::Error> {
    cli::parse_report_interval(&scalar(d)?).map(Some).map_err(|e| D::Error::custom(format!("report-interval: {e}")))
}

fn silence_alert<'de, D: Deserializer<'de>>(d: D) -> Result<Option<std::time::Duration>, D::Error> {
    cli::parse_silence_alert(&scalar(d)?).map(Some).map_err(|e| D::Error::custom(format!("silence-alert: {e}")))
}

fn metrics<'de, D: Deserializer<'de>>(d: D) -> Result<Option<std::net::SocketAddr>, D::Error> {
    cli::parse_metrics(&scalar(d)?).map(Some).map_err(|e| D::Error::custom(format!("metrics: {e}")))
}

fn host<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    cli::parse_host(&String::deserialize(d)?).map(Some).map_err(|e| D::Error::custom(format!("host: {e}")))
}

fn baseline_margin<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    cli::parse_share(&scalar(d)?).map(Some).map_err(|e| D::Error::custom(format!("baseline-margin: {e}")))
}

fn baseline_burst_factor<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    cli::parse_factor(&scalar(d)?).map(Some).map_err(|e| D::Error::custom(format!("baseline-burst-factor: {e}")))
}

fn baseline_stop_factor<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    cli::parse_factor(&scalar(d)?).map(Some).map_err(|e| D::Error::custom(format!("baseline-stop-factor: {e}")))
}

fn baseline_min_samples<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    match u64::deserialize(d)? {
        0 => Err(D::Error::custom("baseline-min-samples: at least 1")),
        n => Ok(Some(n)),
    }
}

fn log_level<'de, D: Deserializer<'de>>(d: D) -> Result<Option<tracing::Level>, D::Error> {
    let text = String::deserialize(d)?;
    text.parse().map(Some).map_err(|_| D::Error::custom(format!("log-level: {text:?} is not one of error, warn, info, debug, trace")))
}

fn app_ports<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<AppPort>>, D::Error> {
    let specs = Vec::<String>::deserialize(d)?;
    specs.iter().map(|s| parse_app_port(s).map_err(|e| D::Error::custom(format!("app-port: {e}")))).collect::<Result<_, _>>().map(Some)
}

fn app_settings<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<AppSetting>>, D::Error> {
    let specs = Vec::<String>::deserialize(d)?;
    let parse = |s: &String| otsentry_engine::parse_app_setting(s).map_err(|e| D::Error::custom(format!("app-setting: {e}")));
    specs.iter().map(parse).collect::<Result<_, _>>().map(Some)
}

fn max_flows<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NonZeroUsize>, D::Error> {
    cli::max_flows(u64::deserialize(d)?).map(Some).map_err(|e| D::Error::custom(format!("max-flows: {e}")))
}

/// A scalar read as text (YAML reads `100` as a number, `100M` as a string).
fn scalar<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(match serde_yaml_ng::Value::deserialize(d)? {
        serde_yaml_ng::Value::String(s) => s,
        serde_yaml_ng::Value::Number(n) => n.to_string(),
        other => return Err(D::Error::custom(format!("{other:?}: expected a number or a string"))),
    })
}

fn memory_cap<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    cli::parse_memory_cap(&scalar(d)?).map(Some).map_err(|e| D::Error::custom(format!("memory-cap: {e}")))
}

fn evidence_severity<'de, D: Deserializer<'de>>(d: D) -> Result<Option<otsentry_core::Severity>, D::Error> {
    cli::parse_severity(&scalar(d)?).map(Some).map_err(|e| D::Error::custom(format!("evidence-severity: {e}")))
}

fn evidence_ring_bytes<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    crate::eve::parse_size(&scalar(d)?).map(Some).map_err(|e| D::Error::custom(format!("evidence-ring-bytes: {e}")))
}

fn evidence_max_disk<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    crate::eve::parse_size(&scalar(d)?).map(Some).map_err(|e| D::Error::custom(format!("evidence-max-disk: {e}")))
}

/// One path, or a list of them.
fn paths<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<PathBuf>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(PathBuf),
        Many(Vec<PathBuf>),
    }
    Ok(Some(match OneOrMany::deserialize(d)? {
        OneOrMany::One(p) => vec![p],
        OneOrMany::Many(v) => v,
    }))
}

fn warmup<'de, D: Deserializer<'de>>(d: D) -> Result<Option<crate::cli::WarmupChoice>, D::Error> {
    crate::cli::parse_warmup(&scalar(d)?).map(Some).map_err(|e| D::Error::custom(format!("warmup: {e}")))
}

fn workers<'de, D: Deserializer<'de>>(d: D) -> Result<Option<crate::cli::Workers>, D::Error> {
    crate::cli::parse_workers(&scalar(d)?).map(Some).map_err(|e| D::Error::custom(format!("workers: {e}")))
}

fn eve_max_items<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    match u32::deserialize(d)? {
        0 => Err(D::Error::custom("eve-max-items: at least 1")),
        n => Ok(Some(n)),
    }
}

fn dnp3_max_objects<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    match u32::deserialize(d)? {
        0 => Err(D::Error::custom("dnp3-max-objects: at least 1")),
        n => Ok(Some(n)),
    }
}

/// Reads and checks the file at `path`.
pub(crate) fn load(path: &Path) -> Result<Config, ConfigError> {
    let whole =
        |message: String| ConfigError { file: path.to_path_buf(), issues: vec![Issue { line: 1, column: 1, key: String::new(), message }] };
    let text = std::fs::read_to_string(path).map_err(|e| {
        whole(match e.kind() {
            std::io::ErrorKind::NotFound => "no such file or directory".into(),
            std::io::ErrorKind::IsADirectory => "is a directory, not a configuration file".into(),
            std::io::ErrorKind::InvalidData => "not UTF-8 text".into(),
            _ => format!("cannot read: {e}"),
        })
    })?;
    parse(&text).map_err(|issues| ConfigError { file: path.to_path_buf(), issues })
}

/// The keys a section takes, as serde knows them (declared once, in [`RunConfig`]).
fn section_keys() -> Vec<String> {
    let probe = serde_yaml_ng::from_str::<RunConfig>("zz-not-a-key: 0").err().map(|e| e.to_string()).unwrap_or_default();
    let list = probe.split("expected one of ").nth(1).unwrap_or_default();
    list.split(", ").map(|k| k.split('`').nth(1).unwrap_or_default().to_string()).filter(|k| !k.is_empty()).collect()
}

/// serde's message without the position it appends (positions are given apart).
fn bare(message: &str) -> String {
    message.split(" at line ").next().unwrap_or(message).to_string()
}

/// Parses configuration text: every mistake found, each with its line, column and key.
pub(crate) fn parse(text: &str) -> Result<Config, Vec<Issue>> {
    use serde_yaml_ng::Value;
    // An empty file (or one of comments only) is an empty configuration.
    if text.lines().all(|l| l.trim().is_empty() || l.trim_start().starts_with('#')) {
        return Ok(Config::default());
    }
    let value: Value = serde_yaml_ng::from_str(text).map_err(|e| {
        let (line, column) = e.location().map_or((1, 1), |l| otsentry_core::line_and_column(text, l.index()));
        vec![Issue { line, column, key: String::new(), message: bare(&e.to_string()) }]
    })?;
    let mut issues = Vec::new();
    let issue = |section: Option<&str>, key: &str, message: String| {
        let (line, column) = locate(text, section, key);
        Issue { line, column, key: section.map_or(key.to_string(), |s| format!("{s}.{key}")), message }
    };
    let Value::Mapping(top) = value else {
        return Err(vec![Issue {
            line: 1,
            column: 1,
            key: String::new(),
            message: "expected a mapping of keys (log-level, replay, sense)".into(),
        }]);
    };
    let mut keys = section_keys();
    keys.extend(crate::outputs::shorthand_keys().map(String::from));
    keys.push("outputs".into());
    // What passes key by key, kept for the checks across keys: every mistake is found.
    let mut clean = serde_yaml_ng::Mapping::new();
    let mut outputs: Vec<(String, crate::outputs::FileOutputs)> = Vec::new();
    for (k, v) in &top {
        let name = k.as_str().unwrap_or_default();
        match name {
            "replay" | "sense" => {
                let entries = match v {
                    Value::Mapping(m) => m.clone(),
                    Value::Null => Default::default(),
                    _ => {
                        issues.push(issue(None, name, "expected a mapping of keys".into()));
                        continue;
                    }
                };
                let mut kept = serde_yaml_ng::Mapping::new();
                let mut outs = crate::outputs::FileOutputs::default();
                for (k2, v2) in entries {
                    let key = k2.as_str().unwrap_or_default().to_string();
                    if key == "outputs" {
                        let (entries, entry_issues) = crate::outputs::entries_from_yaml(name, &v2);
                        outs.entries.extend(entries);
                        for i in entry_issues {
                            let (line, column) = locate_entry(text, name, i.index, &i.key);
                            let at = if i.index == usize::MAX { String::new() } else { format!("[{}]", i.index) };
                            let dot = if i.key.is_empty() { String::new() } else { format!(".{}", i.key) };
                            issues.push(Issue { line, column, key: format!("{name}.outputs{at}{dot}"), message: i.message });
                        }
                        continue;
                    }
                    if let Some((kind, output_key)) = crate::outputs::shorthand_key(&key) {
                        match crate::outputs::values(output_key, &v2) {
                            Ok(values) => outs.shorthand.push((kind, output_key, values)),
                            Err(message) => issues.push(issue(Some(name), &key, message)),
                        }
                        continue;
                    }
                    if !keys.contains(&key) {
                        let near = otsentry_core::nearest(&key, keys.iter().map(String::as_str));
                        let hint = near.map(|n| format!(" (did you mean `{n}`?)")).unwrap_or_default();
                        issues.push(issue(Some(name), &key, format!("unknown key{hint}")));
                        continue;
                    }
                    let one: Value = Value::Mapping([(k2.clone(), v2.clone())].into_iter().collect());
                    match serde_yaml_ng::from_value::<RunConfig>(one) {
                        Ok(_) => {
                            kept.insert(k2, v2);
                        }
                        Err(e) => {
                            let message = bare(&e.to_string());
                            // Our own checks name their key first; serde's do not.
                            let message = message.strip_prefix(&format!("{key}: ")).map(str::to_string).unwrap_or(message);
                            issues.push(issue(Some(name), &key, message));
                        }
                    }
                }
                clean.insert(k.clone(), Value::Mapping(kept));
                outputs.push((name.to_string(), outs));
            }
            "log-level" => {
                let one: Value = Value::Mapping([(k.clone(), v.clone())].into_iter().collect());
                match serde_yaml_ng::from_value::<Config>(one) {
                    Ok(_) => {
                        clean.insert(k.clone(), v.clone());
                    }
                    Err(e) => {
                        let message = bare(&e.to_string());
                        let message = message.strip_prefix("log-level: ").map(str::to_string).unwrap_or(message);
                        issues.push(issue(None, name, message));
                    }
                }
            }
            other => {
                let near = otsentry_core::nearest(other, ["log-level", "replay", "sense"]);
                let hint = near.map(|n| format!(" (did you mean `{n}`?)")).unwrap_or_default();
                issues.push(issue(None, other, format!("unknown key{hint}")));
            }
        }
    }
    let mut config: Config = serde_yaml_ng::from_value(Value::Mapping(clean))
        .map_err(|e| vec![Issue { line: 1, column: 1, key: String::new(), message: bare(&e.to_string()) }])?;
    for (section, outs) in outputs {
        match section.as_str() {
            "replay" => config.replay.outputs = outs,
            _ => config.sense.outputs = outs,
        }
    }
    for (section, r) in [("replay", &config.replay), ("sense", &config.sense)] {
        if r.checksum_anomalies == Some(true) && r.no_checksums == Some(true) {
            issues.push(issue(Some(section), "no-checksums", "checksum-anomalies and no-checksums cannot both be on".into()));
        }
        if r.rules.is_some() && r.no_rules == Some(true) {
            issues.push(issue(Some(section), "no-rules", "rules and no-rules cannot both be set".into()));
        }
        if r.learn_for.is_some() != r.baseline_out.is_some() {
            let key = if r.learn_for.is_some() { "learn-for" } else { "baseline-out" };
            issues.push(issue(Some(section), key, "learn-for and baseline-out go together".into()));
        }
        if r.report_interval.is_some() && r.report.is_none() {
            issues.push(issue(Some(section), "report-interval", "report-interval says how often report is rewritten: set report".into()));
        }
        if r.learn_for.is_some() && r.baseline.is_some() {
            issues.push(issue(Some(section), "learn-for", "learn-for learns a new baseline: leave baseline out".into()));
        }
    }
    let r = &config.replay;
    let sense_only = [
        ("interface", r.interface.is_some()),
        ("bpf", r.bpf.is_some()),
        ("snaplen", r.snaplen.is_some()),
        ("buffer-size", r.buffer_size.is_some()),
        ("immediate", r.immediate.is_some()),
        ("promiscuous", r.promiscuous.is_some()),
        ("read-timeout", r.read_timeout.is_some()),
        ("fanout", r.fanout.is_some()),
        ("learn-for", r.learn_for.is_some()),
        ("baseline-out", r.baseline_out.is_some()),
        ("stats-interval", r.stats_interval.is_some()),
        ("silence-alert", r.silence_alert.is_some()),
        ("asset-interval", r.asset_interval.is_some()),
        ("report", r.report.is_some()),
        ("report-interval", r.report_interval.is_some()),
        ("user", r.user.is_some()),
        ("group", r.group.is_some()),
        ("allow-root", r.allow_root.is_some()),
        ("metrics", r.metrics.is_some()),
    ];
    let r = &config.sense;
    let replay_only = [("reader", r.reader.is_some()), ("recursive", r.recursive.is_some())];
    for (section, key, other) in
        sense_only.iter().map(|(k, set)| ("replay", *k, *set)).chain(replay_only.iter().map(|(k, set)| ("sense", *k, *set)))
    {
        if other {
            let owner = if section == "replay" { "sense" } else { "replay" };
            issues.push(issue(Some(section), key, format!("a key of {owner}, not of {section}")));
        }
    }
    if issues.is_empty() {
        Ok(config)
    } else {
        issues.sort_by_key(|i| (i.line, i.column));
        Err(issues)
    }
}

/// Line and column (1-based) of `key:` at the top level, or inside `section:`; the
/// section's (or the file's first) line when it is not written.
pub(crate) fn locate(text: &str, section: Option<&str>, key: &str) -> (usize, usize) {
    let written = |l: &str, k: &str| l.trim_start().strip_prefix(k).is_some_and(|rest| rest.trim_start().starts_with(':'));
    let lines: Vec<&str> = text.lines().collect();
    let (from, to) = match section {
        None => (0, lines.len()),
        Some(s) => {
            let Some(start) = lines.iter().position(|l| !l.starts_with([' ', '\t']) && written(l, s)) else { return (1, 1) };
            let end = lines
                .iter()
                .enumerate()
                .skip(start + 1)
                .find(|(_, l)| !l.is_empty() && !l.starts_with([' ', '\t', '#']))
                .map_or(lines.len(), |(i, _)| i);
            (start + 1, end)
        }
    };
    (from..to)
        .find(|&i| lines.get(i).is_some_and(|l| written(l, key) && (section.is_some() || !l.starts_with([' ', '\t']))))
        .map_or((from.max(1), 1), |i| (i + 1, lines.get(i).map_or(0, |l| l.len() - l.trim_start().len()) + 1))
}

/// Line and column of entry `index` (from 0) of `section.outputs`, at `key` when the
/// entry writes it; the list's line when the entry is not found.
fn locate_entry(text: &str, section: &str, index: usize, key: &str) -> (usize, usize) {
    let (list_line, _) = locate(text, Some(section), "outputs");
    let lines: Vec<&str> = text.lines().collect();
    let indent = |l: &str| l.len() - l.trim_start().len();
    let Some(list_indent) = lines.get(list_line.saturating_sub(1)).map(|l| indent(l)) else { return (list_line, 1) };
    let mut seen = 0;
    let mut i = list_line;
    while let Some(line) = lines.get(i) {
        let t = line.trim_start();
        if !t.is_empty() && !t.starts_with('#') && indent(line) <= list_indent && !t.starts_with('-') {
            break;
        }
        if t.starts_with('-') && indent(line) >= list_indent {
            if seen == index {
                // The entry's own lines: its first, then those indented deeper.
                let entry_indent = indent(line);
                let mut j = i;
                while let Some(l) = lines.get(j) {
                    if j > i && (indent(l) <= entry_indent || l.trim_start().starts_with('-')) && !l.trim().is_empty() {
                        break;
                    }
                    let body = if j == i { l.trim_start().trim_start_matches('-').trim_start() } else { l.trim_start() };
                    if !key.is_empty() && body.strip_prefix(key).is_some_and(|r| r.trim_start().starts_with(':')) {
                        return (j + 1, l.len() - body.len() + 1);
                    }
                    j += 1;
                }
                return (i + 1, indent(line) + 1);
            }
            seen += 1;
        }
        i += 1;
    }
    (list_line, 1)
}

/// A commented configuration that `config check` accepts, printed by `config example`.
pub(crate) const EXAMPLE: &str = include_str!("config_example.yaml");

#[cfg(test)]
mod tests {
    use super::*;

    /// Every issue of `text`, one per line.
    fn issues(text: &str) -> String {
        parse(text).unwrap_err().iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
    }

    #[test]
    fn every_mistake_is_reported_in_one_pass() {
        let text = "replay:\n  max-flow: 10\n  eve-types: [alert, flows]\n  quiet: maybe\nsense:\n  recursive: true\nlog-level: loud\n";
        let all = issues(text);
        for want in [
            "2:3: replay.max-flow: unknown key (did you mean `max-flows`?)",
            "3:3: replay.eve-types: \"flows\" is not an EVE record type",
            "4:3: replay.quiet: invalid type",
            "6:3: sense.recursive: a key of replay, not of sense",
            "7:1: log-level: \"loud\" is not one of",
        ] {
            assert!(all.contains(want), "want {want:?} in:\n{all}");
        }
    }

    #[test]
    fn the_example_parses_to_what_it_says() {
        let c = parse(EXAMPLE).unwrap();
        assert_eq!(c.log_level, Some(tracing::Level::WARN));
        let r = c.replay;
        assert_eq!(r.outputs.get("eve"), Some(&["events.jsonl".to_string()][..]));
        assert_eq!(r.host.as_deref(), Some("plant1-sensor"));
        assert_eq!(r.max_flows.map(NonZeroUsize::get), Some(1_000_000));
        assert_eq!(r.app_port.map(|p| p.len()), Some(2));
        assert_eq!(r.dnp3_max_objects, Some(2048));
        assert_eq!(
            (r.outputs.get("eve-rotate-size"), r.outputs.get("eve-rotate-interval")),
            (Some(&["512M".to_string()][..]), Some(&["1d".to_string()][..]))
        );
        assert_eq!(r.outputs.get("eve-fsync"), Some(&["never".to_string()][..]));
        assert_eq!(r.eve_max_items, Some(1024));
        assert_eq!(r.outputs.get("eve-types").map(<[String]>::len), Some(10));
        assert_eq!(r.outputs.get("spool-max"), Some(&["1G".to_string()][..]));
        assert_eq!(
            r.outputs.entries.iter().map(|e| (e.target(), e.origin.as_str())).collect::<Vec<_>>(),
            [("alerts.jsonl", "replay.outputs[0]")]
        );
        let bad = issues("replay:\n  spool: /tmp/s\n  clickhouse: http://u:pw@h:8123\n");
        assert!(bad.contains("clickhouse: the ClickHouse URL holds a password") && bad.starts_with("3:") && !bad.contains("pw@"), "{bad}");
        let bad = issues("replay:\n  eve-types: [alert, flows]\n");
        assert!(bad.contains("\"flows\" is not an EVE record type") && bad.starts_with("2:"), "{bad}");
        let bad = issues("replay:\n  eve: x\n  clickhouse-types: [alert, modbuss]\n");
        assert!(bad.contains("clickhouse-types: \"modbuss\" is not an EVE record type") && bad.starts_with("3:"), "{bad}");
        let ok = parse("replay:\n  clickhouse-types: [alert, modbus]\n").unwrap();
        assert_eq!(ok.replay.outputs.get("clickhouse-types"), Some(&["alert".to_string(), "modbus".to_string()][..]));
        assert_eq!((r.recursive, r.quiet, r.no_checksums), (Some(false), Some(false), Some(false)));
        let s = parse(EXAMPLE).unwrap().sense;
        assert_eq!(s.interface, Some(vec!["eth1".to_string()]));
        assert_eq!((s.snaplen, s.buffer_size, s.immediate, s.promiscuous), (Some(262_144), Some(64 << 20), Some(false), Some(true)));
        assert_eq!(
            (s.read_timeout, s.stats_interval),
            (Some(std::time::Duration::from_millis(100)), Some(std::time::Duration::from_secs(30)))
        );
        assert_eq!(s.outputs.get("eve"), Some(&["/var/log/otsentry/eve.json".to_string()][..]));
        assert_eq!(s.outputs.get("eve-rotate-size"), Some(&["512M".to_string()][..]));
    }

    #[test]
    fn each_command_s_own_keys_stay_in_its_section() {
        let err = issues("sense:\n  interface: [eth1]\n  recursive: true\n");
        assert!(err.contains("3:3: sense.recursive: a key of replay, not of sense"), "{err}");
        let err = issues("replay:\n  eve: x\n  stats-interval: 5s\n");
        assert!(err.contains("3:3: replay.stats-interval: a key of sense, not of replay"), "{err}");
        let err = issues("sense:\n  stats-interval: 5x\n");
        assert!(err.contains("2:3: sense.stats-interval: \"5x\""), "{err}");
        assert_eq!(parse("sense:\n  stats-interval: 0\n").unwrap().sense.stats_interval, Some(std::time::Duration::ZERO));
    }

    #[test]
    fn every_mistake_names_its_line_and_key() {
        for (text, want) in [
            ("replay:\n  max-flows: 0\n", "max-flows: 0 cannot work"),
            ("replay:\n  bogus: 1\n", "replay.bogus: unknown key"),
            ("replay:\n  max-flow: 1\n", "replay.max-flow: unknown key (did you mean `max-flows`?)"),
            ("replay:\n  reader: foo\n", "replay.reader: unknown variant `foo`"),
            ("replay:\n  app-port: [modbus=5020, \"modbus\"]\n", "app-port: \"modbus\": expected PROTO=PORT"),
            ("replay:\n  quiet: maybe\n", "replay.quiet: invalid type: string \"maybe\", expected a boolean"),
            ("# top\nlog-level: loud\n", "log-level: \"loud\" is not one of"),
            ("# top\nreplays:\n  eve: x\n", "replays: unknown key (did you mean `replay`?)"),
        ] {
            let err = issues(text);
            assert!(err.contains(want), "{text:?}: {err}");
            assert!(err.starts_with("2:"), "{text:?}: {err}");
        }
    }

    #[test]
    fn keys_that_cannot_hold_together_name_the_line() {
        let err = issues("replay:\n  checksum-anomalies: true\n  no-checksums: true\n");
        assert!(err.contains("3:3: replay.no-checksums: checksum-anomalies and no-checksums cannot both be on"), "{err}");
        let err = issues("sense:\n  interface: [eth1]\n  learn-for: 1d\n");
        assert!(err.contains("3:3: sense.learn-for: learn-for and baseline-out go together"), "{err}");
        let err = issues("sense:\n  learn-for: 1d\n  baseline-out: /tmp/b.yaml\n  baseline: /tmp/a.yaml\n");
        assert!(err.contains("sense.learn-for: learn-for learns a new baseline"), "{err}");
        let err = issues("sense:\n  memory-cap: 1M\n  evidence-severity: loud\n");
        assert!(err.contains("2:3: sense.memory-cap: \"1M\": at least 64M"), "{err}");
        assert!(err.contains("3:3: sense.evidence-severity"), "{err}");
    }

    #[test]
    fn an_empty_file_is_an_empty_configuration() {
        assert!(parse("").unwrap().replay.outputs.get("eve").is_none());
        assert!(parse("# nothing yet\n\n").unwrap().log_level.is_none());
    }
}
