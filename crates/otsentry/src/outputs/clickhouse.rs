//! The ClickHouse output: every record into its table, behind a spool if one is given.
use super::{any, size, types_key, Context, Entry, Key, Kind};
use crate::siem::ClickHouseChoice;
use crate::usage::UsageError;
use otsentry_clickhouse::{ClickHouseSink, Server, StartError};
use otsentry_sink::RecordSink;
use std::path::PathBuf;

pub(crate) const KIND: Kind = Kind {
    name: "clickhouse",
    keys: &[
        Key {
            name: "clickhouse",
            flag: "clickhouse",
            value_name: "URL",
            help: "Send every record to ClickHouse too: http[s]://[USER@]HOST:PORT[/DATABASE] (default database otsentry; create its tables with `otsentry clickhouse init`). The password comes from OTSENTRY_CLICKHOUSE_PASSWORD or --clickhouse-password-file.",
            list: false,
            check: |t| crate::siem::parse_url(t).map(drop),
            late: true,
            orphan: "",
        },
        types_key(
            "clickhouse-types",
            "Record types to send to ClickHouse, comma-separated as for --eve-types; default all (--eve-types chooses for the EVE output only).",
            "chooses what --clickhouse gets",
        ),
        Key {
            name: "password-file",
            flag: "clickhouse-password-file",
            value_name: "FILE",
            help: "Read the ClickHouse password from FILE.",
            list: false,
            check: any,
            late: false,
            orphan: "is the password of --clickhouse",
        },
        Key {
            name: "ca",
            flag: "clickhouse-ca",
            value_name: "FILE",
            help: "For an https URL: trust the CA certificates (PEM) in FILE instead of the system's.",
            list: false,
            check: any,
            late: false,
            orphan: "is the CA of --clickhouse",
        },
        Key {
            name: "spool",
            flag: "spool",
            value_name: "DIR",
            help: "Keep batches ClickHouse cannot take now in DIR (checksummed, forced to disk) and send them, in order, when it answers again, in this run or the next on DIR.",
            list: false,
            check: any,
            late: false,
            orphan: "keeps batches for --clickhouse",
        },
        Key {
            name: "spool-max",
            flag: "spool-max",
            value_name: "SIZE",
            help: "The most the spool holds (bytes, or with K, M, G; default 1G): beyond it batches are refused, counted and reported.",
            list: false,
            check: size,
            late: false,
            orphan: "caps the spool of --clickhouse",
        },
    ],
    default_types: None,
    build,
    verify,
};

/// Where and as whom to connect, from an entry.
pub(crate) fn choice(entry: &Entry) -> ClickHouseChoice {
    ClickHouseChoice {
        url: entry.target().to_string(),
        password_file: entry.get("password-file").map(PathBuf::from),
        ca_file: entry.get("ca").map(PathBuf::from),
    }
}

/// The URL, the password file and the CA file, read (no connection).
fn verify(entry: &Entry) -> anyhow::Result<()> {
    crate::siem::parse_url(entry.target()).map_err(|e| entry.error("clickhouse", &e))?;
    choice(entry).settings().map(drop)
}

/// The ClickHouse sink, checked, behind the spool if one is given. Unreachable at start:
/// with a spool, records wait in it; without one, the run does not start.
fn build(entry: &Entry, cx: &Context<'_>) -> anyhow::Result<Box<dyn RecordSink>> {
    verify(entry)?;
    let settings = choice(entry).settings()?;
    let server = Server::new(settings, otsentry_clickhouse::Catalog::new(otsentry_engine::descriptors())).map_err(UsageError)?;
    let mut sink = ClickHouseSink::new(server);
    let spool = entry.get("spool").map(PathBuf::from);
    match (sink.check(), &spool) {
        (Ok(()), _) => {}
        (Err(StartError::Config(e)), _) => return Err(UsageError(e).into()),
        (Err(StartError::Unreachable(e)), Some(dir)) => {
            crate::report::say!("otsentry: warning: {e}: records wait in the spool {} until ClickHouse answers", dir.display());
        }
        (Err(StartError::Unreachable(e)), None) => anyhow::bail!("{e} (with --spool DIR, records would wait for it there)"),
    }
    let Some(dir) = spool else { return Ok(Box::new(sink)) };
    let cap = entry.parsed("spool-max", crate::eve::parse_size)?.unwrap_or(crate::siem::DEFAULT_SPOOL_MAX);
    super::spooled(sink, &dir, cap, cx.quiet)
}
