//! Alerts as a person reads them on stdout when EVE is not going there: one line per
//! alert as it is raised, then the counts by rule.
use otsentry_core::{Alert, Summary};
use std::io::Write;

/// Column widths of the fixed columns.
const TIME: usize = 26;
const SEVERITY: usize = 8;
const PEERS: usize = 45;
const PROTO: usize = 11;

fn head() -> String {
    format!(
        "{:<TIME$}  {:<SEVERITY$}  {:<PEERS$}  {:<PROTO$}  {}  [TECHNIQUE]",
        "TIME", "SEVERITY", "SOURCE -> DESTINATION", "PROTOCOL", "WHAT HAPPENED"
    )
}

fn endpoint(ip: Option<std::net::IpAddr>, port: Option<u16>) -> String {
    match (ip, port) {
        (Some(std::net::IpAddr::V6(ip)), Some(p)) => format!("[{ip}]:{p}"),
        (Some(ip), Some(p)) => format!("{ip}:{p}"),
        (Some(ip), None) => ip.to_string(),
        (None, _) => "-".to_string(),
    }
}

/// One alert's line.
pub(crate) fn row(a: &Alert) -> String {
    let h = &a.header;
    let time =
        serde_json::to_value(h.timestamp).ok().and_then(|v| v.as_str().map(|s| s.get(..26).unwrap_or(s).to_string())).unwrap_or_default();
    let peers = format!("{} -> {}", endpoint(h.src_ip, h.src_port), endpoint(h.dest_ip, h.dest_port));
    let info = &a.alert.info;
    let what = if a.alert.detail.is_empty() { info.signature.to_string() } else { format!("{}: {}", info.signature, a.alert.detail) };
    let techniques: Vec<&str> = info.techniques.iter().map(|t| t.id).collect();
    format!(
        "{time:<TIME$}  {:<SEVERITY$}  {peers:<PEERS$}  {:<PROTO$}  {what}  [{}]",
        info.severity.as_str(),
        h.app_proto.unwrap_or("-"),
        techniques.join(" ")
    )
}

/// The hook that prints each alert (the head line before the first).
pub(crate) fn printer() -> otsentry_engine::AlertHook {
    let mut first = true;
    Box::new(move |a: &Alert| {
        let mut out = std::io::stdout().lock();
        if first {
            let _ = writeln!(out, "{}", head());
            first = false;
        }
        let _ = writeln!(out, "{}", row(a));
    })
}

/// The closing counts, by rule then by severity.
pub(crate) fn totals(s: &Summary) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    let a = &s.alerts;
    if a.total == 0 {
        return writeln!(out, "no alerts ({} rules checked)", a.rules);
    }
    writeln!(out)?;
    writeln!(out, "{} alerts by rule:", a.total)?;
    let mut rules: Vec<_> = a.by_rule.iter().collect();
    rules.sort_by(|x, y| y.1.cmp(x.1).then(x.0.cmp(y.0)));
    for (rule, n) in rules {
        writeln!(out, "  {n:>7}  {rule}")?;
    }
    let sev: Vec<String> =
        ["critical", "high", "medium", "low", "info"].iter().filter_map(|k| a.by_severity.get(*k).map(|n| format!("{k} {n}"))).collect();
    writeln!(out, "by severity: {}", sev.join(", "))?;
    if a.suppressed > 0 {
        writeln!(out, "{} more matches suppressed by suppression windows or tuning", a.suppressed)?;
    }
    out.flush()
}
