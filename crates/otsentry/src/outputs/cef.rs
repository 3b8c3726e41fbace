//! The CEF output: alerts (by choice anomalies and stats) as CEF over syslog to a
//! SIEM's collector, over UDP, TCP, TLS or RELP, behind a spool if one is given.
use super::{any, size, types_key, Context, Entry, Key, Kind};
use crate::usage::UsageError;
use otsentry_cef::syslog::Framing;
use otsentry_cef::transport::{Target, TlsFiles, Transport};
use otsentry_cef::{CefOptions, CefSink, CefStartError, DEFAULT_MAX_MESSAGE, MIN_MAX_MESSAGE};
use otsentry_sink::RecordSink;
use std::path::PathBuf;

pub(crate) const KIND: Kind = Kind {
    name: "cef",
    keys: &[
        Key {
            name: "cef",
            flag: "cef",
            value_name: "URL",
            help: "Send alerts as CEF over syslog to a SIEM's collector: udp://HOST:PORT (at most once), tcp://HOST:PORT or tls://HOST:PORT (octet-counted, at least once with --cef-spool), relp://HOST:PORT (each message acknowledged; with --cef-spool nothing is lost).",
            list: false,
            check: |t| Target::parse(t).map(drop),
            late: false,
            orphan: "",
        },
        types_key(
            "cef-types",
            "Record types to send as CEF: alert (default), anomaly, stats (the sensor's health), asset (asset changes), comma-separated.",
            "chooses what --cef gets",
        ),
        Key {
            name: "framing",
            flag: "cef-framing",
            value_name: "rfc5424|rfc3164",
            help: "The syslog header: rfc5424 (default) or rfc3164 for receivers that predate it.",
            list: false,
            check: |t| framing(t).map(drop),
            late: false,
            orphan: "is the syslog header of --cef",
        },
        Key {
            name: "max-message",
            flag: "cef-max-message",
            value_name: "SIZE",
            help: "The receiver's largest message, header included (rsyslog's maxMessageSize; default 8K, at least 480): a longer event has its longest values cut, each ending in [cut].",
            list: false,
            check: |t| max_message(t).map(drop),
            late: false,
            orphan: "is the message size of --cef",
        },
        Key {
            name: "facility",
            flag: "cef-facility",
            value_name: "N|localN",
            help: "The syslog facility: 0-23, or local0-local7 (default local0).",
            list: false,
            check: |t| facility(t).map(drop),
            late: false,
            orphan: "is the facility of --cef",
        },
        Key {
            name: "ca",
            flag: "cef-ca",
            value_name: "FILE",
            help: "For tls://: trust the CA certificates (PEM) in FILE instead of the system's.",
            list: false,
            check: any,
            late: false,
            orphan: "is the CA of --cef",
        },
        Key {
            name: "cert",
            flag: "cef-cert",
            value_name: "FILE",
            help: "For tls://: the client certificate (PEM) for receivers that ask for one, with --cef-key.",
            list: false,
            check: any,
            late: false,
            orphan: "is the client certificate of --cef",
        },
        Key {
            name: "key",
            flag: "cef-key",
            value_name: "FILE",
            help: "For tls://: the client certificate's private key (PEM).",
            list: false,
            check: any,
            late: false,
            orphan: "is the client key of --cef",
        },
        Key {
            name: "spool",
            flag: "cef-spool",
            value_name: "DIR",
            help: "Keep batches the receiver cannot take now in DIR and send them, in order, when it answers (TCP, TLS, RELP).",
            list: false,
            check: any,
            late: false,
            orphan: "keeps batches for --cef",
        },
        Key {
            name: "spool-max",
            flag: "cef-spool-max",
            value_name: "SIZE",
            help: "The most the CEF spool holds (default 1G).",
            list: false,
            check: size,
            late: false,
            orphan: "caps the spool of --cef",
        },
    ],
    default_types: Some(&["alert"]),
    build,
    verify: |entry| sink(entry, "").map(drop),
};

fn framing(text: &str) -> Result<Framing, String> {
    match text.trim() {
        "rfc5424" => Ok(Framing::Rfc5424),
        "rfc3164" => Ok(Framing::Rfc3164),
        _ => Err(format!("{text:?}: rfc5424 or rfc3164")),
    }
}

fn max_message(text: &str) -> Result<usize, String> {
    let n = crate::eve::parse_size(text)?;
    usize::try_from(n)
        .ok()
        .filter(|&n| (MIN_MAX_MESSAGE..=1 << 20).contains(&n))
        .ok_or_else(|| format!("{text:?}: from {MIN_MAX_MESSAGE} bytes to 1M"))
}

fn facility(text: &str) -> Result<u8, String> {
    let t = text.trim();
    let n = match t.strip_prefix("local") {
        Some(d) => d.parse::<u8>().ok().filter(|&d| d <= 7).map(|d| 16 + d),
        None => t.parse::<u8>().ok().filter(|&n| n <= 23),
    };
    n.ok_or_else(|| format!("{text:?}: a facility from 0 to 23, or local0 to local7"))
}

/// The output's settings, every file it names checked, and its spool.
fn options(entry: &Entry, host: &str) -> anyhow::Result<(CefOptions, Option<PathBuf>)> {
    let target = Target::parse(entry.target()).map_err(|e| entry.error("cef", &e))?;
    let path = |name: &str| -> anyhow::Result<Option<PathBuf>> {
        let Some(p) = entry.get(name).map(PathBuf::from) else { return Ok(None) };
        if target.transport != Transport::Tls {
            return Err(entry.error(name, "TLS files are for a tls:// receiver"));
        }
        if !p.is_file() {
            return Err(entry.error(name, &format!("{}: no such file", p.display())));
        }
        Ok(Some(p))
    };
    let tls = TlsFiles { ca: path("ca")?, cert: path("cert")?, key: path("key")? };
    let spool = entry.get("spool").map(PathBuf::from);
    if spool.is_some() && target.transport == Transport::Udp {
        return Err(entry.error("spool", "UDP is at most once: a spool cannot know what arrived (use tcp://, tls:// or relp://)"));
    }
    let opts = CefOptions {
        tls,
        framing: entry.parsed("framing", framing)?.unwrap_or(Framing::Rfc5424),
        max_message: entry.parsed("max-message", max_message)?.unwrap_or(DEFAULT_MAX_MESSAGE),
        facility: entry.parsed("facility", facility)?.unwrap_or(16),
        version: env!("CARGO_PKG_VERSION").to_string(),
        ..CefOptions::new(target, host)
    };
    Ok((opts, spool))
}

/// The sink for `entry`, every file it names read (TLS files included), not connected;
/// and its spool.
fn sink(entry: &Entry, host: &str) -> anyhow::Result<(CefSink, Option<PathBuf>)> {
    let (opts, spool) = options(entry, host)?;
    let sink = CefSink::new(opts, otsentry_engine::record_types()).map_err(|e| entry.error("cef", &e.to_string()))?;
    Ok((sink, spool))
}

fn build(entry: &Entry, cx: &Context<'_>) -> anyhow::Result<Box<dyn RecordSink>> {
    let (mut sink, spool) = sink(entry, cx.host)?;
    match (sink.check(), &spool) {
        (Ok(()), _) => {}
        (Err(CefStartError::Config(e)), _) => return Err(UsageError(format!("{}: {e}", entry.setting("cef"))).into()),
        (Err(CefStartError::Unreachable(e)), Some(dir)) => {
            crate::report::say!("otsentry: warning: {e}: records wait in the spool {} until the receiver answers", dir.display());
        }
        (Err(CefStartError::Unreachable(e)), None) => {
            anyhow::bail!("{e} (with a spool (--cef-spool DIR), records would wait for it there)")
        }
    }
    let Some(dir) = spool else { return Ok(Box::new(sink)) };
    let cap = entry.parsed("spool-max", crate::eve::parse_size)?.unwrap_or(crate::siem::DEFAULT_SPOOL_MAX);
    super::spooled(sink, &dir, cap, cx.quiet)
}
