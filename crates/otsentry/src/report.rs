//! What a person sees on stderr: a progress line on a terminal, hints, and the run's
//! summary. Nothing here fails the run: a closed stderr loses only these lines.
use otsentry_capture::Skipped;
use otsentry_core::{CodeCounts, CodeNames, Summary};
use std::io::{IsTerminal, Write};

/// `eprintln!` that never panics (it would on a closed stderr).
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}
pub(crate) use say;

/// Skipped entries listed one by one before the rest are only counted.
const SKIPPED_SHOWN: usize = 5;

/// Tells what was passed over in directories and archives.
pub(crate) fn skipped(skipped: &[Skipped], quiet: bool) {
    if quiet || skipped.is_empty() {
        return;
    }
    for s in skipped.iter().take(SKIPPED_SHOWN) {
        say!("otsentry: skipped {}: {}", s.name, s.reason);
    }
    if skipped.len() > SKIPPED_SHOWN {
        say!("otsentry: skipped {} more (listed in the summary JSON's skipped_inputs)", skipped.len() - SKIPPED_SHOWN);
    }
}

/// Files smaller than this finish too fast for a progress line to help.
const LARGE_INPUT: u64 = 32 << 20;

pub(crate) struct Progress {
    enabled: bool,
    active: bool,
    name: String,
}

impl Progress {
    pub(crate) fn new(quiet: bool) -> Self {
        Progress { enabled: !quiet && std::io::stderr().is_terminal(), active: false, name: String::new() }
    }

    pub(crate) fn start(&mut self, name: &str) {
        self.name = name.rsplit('/').next().unwrap_or(name).to_string();
    }

    pub(crate) fn update(&mut self, done: u64, total: u64) {
        if !self.enabled || total < LARGE_INPUT || done == 0 {
            return;
        }
        self.active = true;
        let pct = done.saturating_mul(100) / total.max(1);
        let filled = usize::try_from(pct / 5).unwrap_or(20);
        let mut err = std::io::stderr();
        let _ = write!(err, "\r{} [{}{}] {pct:3}%", self.name, "#".repeat(filled), " ".repeat(20 - filled.min(20)));
        let _ = err.flush();
    }

    pub(crate) fn end(&mut self) {
        if self.active {
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
            self.active = false;
        }
    }
}

/// `name count, ...` by count, the names EVE uses (the code where there is none).
/// Function counts by name, most first; the codes a protocol reserves or leaves to
/// vendors (or that no name is known for) grouped into one entry each, with how many
/// codes (a fuzzer's capture would otherwise list "reserved 1" a hundred times).
/// A protocol's section as its crate lays it out: its PDU count and the other numbers
/// that are not zero, then each count by code that has names, with them (a split by
/// direction, `function_requests`, adds nothing to the named total).
fn section_line(section: &otsentry_core::Section) -> String {
    let counters = section.layout().counters;
    let numbers = counters
        .iter()
        .filter(|(_, kind)| *kind == otsentry_core::CounterKind::Count)
        .map(|(name, _)| (name, section.count(name)))
        .filter(|(name, n)| *n > 0 || **name == section.headline())
        .map(|(name, n)| format!("{n} {}", name.replace('_', " ")));
    let mut line = numbers.collect::<Vec<_>>().join(", ");
    for (name, _) in counters.iter().filter(|(_, kind)| *kind == otsentry_core::CounterKind::Codes) {
        if let (Some(codes), Some(names)) = (section.codes(name), section.names_of(name).and_then(|n| section.names(n))) {
            line.push_str(&by_name(codes, names));
        }
    }
    line
}

fn by_name(counts: &CodeCounts, names: &CodeNames) -> String {
    let mut named: std::collections::BTreeMap<&str, (u64, usize)> = std::collections::BTreeMap::new();
    let mut v: Vec<(String, u64)> = Vec::new();
    for (code, n) in counts {
        let name = names.get(code).map_or(code.as_str(), String::as_str);
        if matches!(name, "reserved" | "unknown" | "user_defined") {
            let e = named.entry(name).or_default();
            (e.0, e.1) = (e.0 + n, e.1 + 1);
        } else {
            v.push((name.to_string(), *n));
        }
    }
    v.extend(named.into_iter().map(|(name, (n, codes))| match codes {
        1 => (name.to_string(), n),
        _ => (format!("{name} ({codes} codes)"), n),
    }));
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let list: Vec<String> = v.iter().map(|(name, n)| format!("{name} {n}")).collect();
    if list.is_empty() {
        String::new()
    } else {
        format!(" ({})", list.join(", "))
    }
}

pub(crate) fn human_summary(s: &Summary) {
    let files = s.inputs.len();
    let skipped = if s.decode.files_skipped > 0 { format!(", {} skipped", s.decode.files_skipped) } else { String::new() };
    let live = s.inputs.iter().any(|i| i.container == "interface");
    let what = if live { "interface(s)" } else { "capture(s)" };
    let d = &s.decode;
    let p = &s.protocols;
    if live {
        let c = &s.capture;
        say!(
            "otsentry: the kernel passed {} packets, dropped {} (buffer full) and {} (interface)",
            c.kernel_packets,
            c.kernel_drops,
            c.kernel_ifdrops
        );
    }
    say!(
        "otsentry: {files} {what}{skipped}, {} packets ({} bytes) in {:.3} s, {:.0} packets/s",
        s.packets,
        s.bytes,
        s.elapsed_s,
        s.packets_per_sec
    );
    say!(
        "  decode: {} errors, {} snaplen-cut, {} non-IP, {} tunnelled, {} fragments ({} datagrams reassembled, {} dropped), checksum errors ipv4 {} tcp {} udp {}",
        s.decode_errors,
        d.snaplen_truncated,
        d.non_ip,
        d.tunnelled,
        d.fragments,
        d.datagrams_reassembled,
        d.fragments_dropped,
        d.ipv4_checksum_errors,
        d.tcp_checksum_errors,
        d.udp_checksum_errors
    );
    let st = &s.streams;
    let apps: Vec<String> = st.app_protocols.iter().map(|(k, v)| format!("{k} {v}")).collect();
    say!(
        "  flows: {} ({} TCP midstream, {} evicted, {} timed out), apps: {}; streams: {} gaps, {} bytes never captured ({:.3}% capture loss), {} overlap conflicts",
        s.flows,
        st.tcp_midstream,
        st.flows_evicted,
        st.flows_timed_out,
        if apps.is_empty() { "none".to_string() } else { apps.join(", ") },
        st.gaps,
        st.missed_bytes,
        st.capture_loss_pct,
        st.overlap_conflicts
    );
    for section in p.iter() {
        say!("  {}: {}", section.name(), section_line(section));
    }
    say!("  alerts: {}", s.alerts.total);
}

/// The host sets a warm-up inferred, in one line (stderr).
pub(crate) fn inferred(sets: &otsentry_engine::InferredSets, from: &str, quiet: bool) {
    if quiet {
        return;
    }
    let list = |v: &[std::net::IpAddr]| match v {
        [] => "none".to_string(),
        hosts if hosts.len() <= 4 => hosts.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
        hosts => format!("{} hosts", hosts.len()),
    };
    let sets: Vec<String> = sets.named().iter().map(|(name, hosts)| format!("{name} {}", list(hosts))).collect();
    say!(
        "otsentry: host sets inferred from {from}: {} (clients that polled for a while and wrote, programmed or operated; --vars FILE overrides, `otsentry learn --vars-out FILE` writes them for review)",
        sets.join("; ")
    );
}

/// Rules that stay quiet for want of a host set, in one line (stderr).
pub(crate) fn dormant(rules: &otsentry_engine::RuleSet, why: &str, quiet: bool) {
    let dormant: Vec<_> = rules.listing().iter().filter(|l| !l.disabled && !l.missing.is_empty()).collect();
    if quiet || dormant.is_empty() {
        return;
    }
    let mut sets: Vec<&str> = dormant.iter().flat_map(|l| l.missing.iter().map(String::as_str)).collect();
    sets.sort_unstable();
    sets.dedup();
    say!(
        "otsentry: {} rules quiet until ${} {} ({why})",
        dormant.len(),
        sets.join(", $"),
        if sets.len() == 1 { "is defined" } else { "are defined" }
    );
}

/// A duration the way a person writes it (`15m`, `90s`, `2h`).
pub(crate) fn duration(d: std::time::Duration) -> String {
    let s = d.as_secs();
    match s {
        0 => format!("{}ms", d.as_millis()),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}
