//! The ClickHouse feed's shared parts: the URL and the password (from the environment or a
//! file, never a flag), `otsentry clickhouse init`, and what a run leaves in the spools
//! (the sink itself is an output kind: `outputs/clickhouse.rs`).
use crate::usage::UsageError;
use otsentry_clickhouse::{Server, Settings};
use otsentry_core::SinkCounts;
use std::path::{Path, PathBuf};

/// The environment variable that holds the ClickHouse password.
pub(crate) const PASSWORD_ENV: &str = "OTSENTRY_CLICKHOUSE_PASSWORD";
/// The spool's cap when none is given.
pub(crate) const DEFAULT_SPOOL_MAX: u64 = 1 << 30;

/// The URL as the configuration file gives it, checked when read (a flag's is checked
/// before any capture is read; clap would echo a refused value, password and all).
pub(crate) fn parse_url(text: &str) -> Result<String, String> {
    Settings::from_url(text).map(|_| text.to_string())
}

/// Where and as whom to connect.
#[derive(Clone)]
pub(crate) struct ClickHouseChoice {
    pub(crate) url: String,
    pub(crate) password_file: Option<PathBuf>,
    /// For https: the CA that signed the server's certificate (else the system's CAs).
    pub(crate) ca_file: Option<PathBuf>,
}

impl ClickHouseChoice {
    pub(crate) fn settings(&self) -> anyhow::Result<Settings> {
        let mut s = Settings::from_url(&self.url).map_err(UsageError)?;
        if let Some(ca) = &self.ca_file {
            if !s.endpoint.starts_with("https:") {
                return Err(UsageError(format!("--clickhouse-ca {}: the URL is not https", ca.display())).into());
            }
            s.ca_file = Some(ca.clone());
        }
        s.password = match &self.password_file {
            Some(path) => Some(read_password(path)?),
            None => std::env::var(PASSWORD_ENV).ok(),
        };
        Ok(s)
    }
}

fn read_password(path: &Path) -> anyhow::Result<String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| UsageError(format!("{}: cannot read the ClickHouse password: {e}", path.display())))?;
    // A trailing newline is the editor's, not the password's.
    Ok(text.strip_suffix('\n').map(|t| t.strip_suffix('\r').unwrap_or(t)).unwrap_or(&text).to_string())
}

/// Says what each spool still holds at the end of a run (left for the next run on it).
pub(crate) fn report_spools(outputs: &[SinkCounts]) {
    for c in outputs {
        let Some(s) = &c.spool else { continue };
        if s.pending_batches > 0 {
            crate::report::say!(
                "otsentry: warning: {} did not take everything: {} batches ({} bytes) stay in the spool {}; the next run with --spool {} sends them first",
                c.name,
                s.pending_batches,
                s.pending_bytes,
                s.dir,
                s.dir
            );
        }
        if s.dead_lettered > 0 {
            crate::report::say!(
                "otsentry: warning: {}: {} records refused for good are in {}/{}",
                c.name,
                s.dead_lettered,
                s.dir,
                otsentry_sink::DEAD_LETTER
            );
        }
    }
}

/// `otsentry clickhouse init`.
pub(crate) fn init(choice: &ClickHouseChoice, retention_days: Option<u32>, cluster: Option<&str>) -> anyhow::Result<()> {
    let settings = choice.settings()?;
    let name = settings.name();
    let server = Server::new(settings, otsentry_clickhouse::Catalog::new(otsentry_engine::descriptors())).map_err(UsageError)?;
    let report = match cluster {
        Some(c) => otsentry_clickhouse::init_cluster(&server, retention_days, c),
        None => otsentry_clickhouse::init(&server, retention_days),
    };
    let report = report.map_err(|f| match f {
        otsentry_clickhouse::Failure::Transient(t) => anyhow::anyhow!(t),
        otsentry_clickhouse::Failure::Credentials(t) | otsentry_clickhouse::Failure::Refused(t) => UsageError(t).into(),
    })?;
    let list =
        |v: &[u32]| if v.is_empty() { "none".to_string() } else { v.iter().map(|n| format!("{n:04}")).collect::<Vec<_>>().join(", ") };
    crate::report::say!(
        "{name}: ClickHouse {} ({} layout{}): migrations applied now: {}; already applied: {}; {} tables checked{}",
        report.version,
        report.layout.name(),
        cluster.map(|c| format!(", cluster {c}: replicated tables *_local, Distributed over them")).unwrap_or_default(),
        list(&report.applied),
        list(&report.already),
        server.catalog().tables().len(),
        report.retention_days.map(|d| format!("; rows kept {d} days")).unwrap_or_default()
    );
    Ok(())
}
