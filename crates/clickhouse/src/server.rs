//! One ClickHouse server over HTTP, through the official crate on a tokio runtime this
//! sink owns: what to connect to, the server's version, its tables' columns, and which
//! failures are worth retrying.
use crate::schema::{Catalog, Layout, Table, TableColumns};
use bytes::Bytes;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// Where and as whom to connect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// `http://host:port` or `https://host:port`, without user, database or password.
    pub endpoint: String,
    pub user: Option<String>,
    /// From an environment variable or a file, never from a flag.
    pub password: Option<String>,
    pub database: String,
    /// For https: the CA certificate (PEM) that signed the server's certificate.
    pub ca_file: Option<PathBuf>,
    /// Each request's limit.
    pub timeout: Duration,
}

/// The default database.
pub const DATABASE: &str = "otsentry";

impl Settings {
    /// `http[s]://[user@]host[:port][/database]`. A password in the URL is refused: URLs
    /// end up in process lists, shell histories and logs.
    pub fn from_url(url: &str) -> Result<Settings, String> {
        let parsed = url::Url::parse(url).map_err(|e| format!("{url:?} is not a URL: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(format!("{url:?}: the scheme must be http or https (ClickHouse's HTTP interface)"));
        }
        if parsed.password().is_some() {
            return Err(format!(
                "the ClickHouse URL holds a password: give it in OTSENTRY_CLICKHOUSE_PASSWORD or a file (--clickhouse-password-file), not in {}",
                redact(url)
            ));
        }
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(format!("{url:?}: no query or fragment (the database is the path: http://host:8123/otsentry)"));
        }
        let host = parsed.host_str().filter(|h| !h.is_empty()).ok_or_else(|| format!("{url:?} names no host"))?;
        let port = parsed.port_or_known_default().unwrap_or(8123);
        let path = parsed.path().trim_matches('/');
        if path.contains('/') {
            return Err(format!("{url:?}: the path is the database, one name"));
        }
        let database = if path.is_empty() { DATABASE.to_string() } else { path.to_string() };
        if !database.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!("{url:?}: database {database:?} must be letters, digits and _"));
        }
        let user = (!parsed.username().is_empty()).then(|| parsed.username().to_string());
        let host = if host.contains(':') && !host.starts_with('[') { format!("[{host}]") } else { host.to_string() };
        Ok(Settings {
            endpoint: format!("{}://{host}:{port}", parsed.scheme()),
            user,
            password: None,
            database,
            ca_file: None,
            timeout: Duration::from_secs(30),
        })
    }

    /// How the summary and logs name the destination (no credentials).
    pub fn name(&self) -> String {
        format!("clickhouse:{}/{}", self.endpoint, self.database)
    }
}

/// An HTTP client for https: the CA file's certificates are trusted if one is given,
/// else the system's.
fn https_client<B>(
    settings: &Settings,
) -> Result<hyper_util::client::legacy::Client<hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>, B>, String>
where
    B: hyper::body::Body + Send,
    B::Data: Send,
{
    use rustls::pki_types::{pem::PemObject, CertificateDer};
    let mut roots = rustls::RootCertStore::empty();
    match &settings.ca_file {
        Some(path) => {
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|it| it.collect::<Result<Vec<_>, _>>())
                .map_err(|e| format!("{}: not a PEM certificate file: {e}", path.display()))?;
            if certs.is_empty() {
                return Err(format!("{}: holds no certificate", path.display()));
            }
            for cert in certs {
                roots.add(cert).map_err(|e| format!("{}: {e}", path.display()))?;
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(found.certs);
            if roots.is_empty() {
                return Err(format!(
                    "{}: no system CA certificates found; give the server's CA with --clickhouse-ca FILE",
                    settings.name()
                ));
            }
        }
    }
    let tls = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let mut http = hyper_util::client::legacy::connect::HttpConnector::new();
    http.enforce_http(false);
    http.set_keepalive(Some(Duration::from_secs(60)));
    let https = hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(tls).https_only().enable_http1().wrap_connector(http);
    Ok(hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(2))
        .build(https))
}

/// `url` with any password replaced.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Err(_) => "the URL".to_string(),
    }
}

/// A failed request, classified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// Worth trying again: the server or the network may recover.
    #[error("{0}")]
    Transient(String),
    /// The server refused who we are: a configuration error at start, retried later
    /// in a run (credentials can be fixed while records wait in the spool).
    #[error("{0}")]
    Credentials(String),
    /// The request itself is wrong (schema, data): trying again cannot help.
    #[error("{0}")]
    Refused(String),
}

impl Failure {
    /// The same failure with its text changed.
    pub(crate) fn map(self, f: impl FnOnce(String) -> String) -> Failure {
        match self {
            Failure::Transient(t) => Failure::Transient(f(t)),
            Failure::Credentials(t) => Failure::Credentials(f(t)),
            Failure::Refused(t) => Failure::Refused(f(t)),
        }
    }
}

/// ClickHouse error codes that pass: too many simultaneous queries (202), socket timeout
/// (209), network error (210), memory limit (241), too many parts (252), timeout (159),
/// read-only replica (242), unknown status of insert (319), keeper (999), all
/// connection tries failed (279), no free connection (203).
const TRANSIENT_CODES: &[u32] = &[159, 202, 203, 209, 210, 241, 242, 252, 279, 319, 999];
/// Unknown user (192), wrong password (193), password required (194), address not
/// allowed (195), access denied (497), authentication failed (516).
const CREDENTIAL_CODES: &[u32] = &[192, 193, 194, 195, 497, 516];

/// The `Code: N` in a ClickHouse error text (`Code: 193, e.displayText() = ...` on 18.16,
/// `Code: 241. DB::Exception: ...` on current servers).
pub fn error_code(text: &str) -> Option<u32> {
    let rest = &text[text.find("Code: ")? + 6..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// The error and its causes, `: `-separated (a connection error says why it failed).
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let next = c.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        cause = c.source();
    }
    text
}

pub fn classify(e: &clickhouse::error::Error) -> Failure {
    use clickhouse::error::Error as E;
    let text = chain(e);
    match e {
        // A certificate the server's CA does not vouch for: who we talk to is wrong.
        E::Network(_) if text.contains("certificate") => Failure::Credentials(text),
        E::Network(_) | E::TimedOut => Failure::Transient(text),
        E::BadResponse(body) => match error_code(body) {
            Some(code) if TRANSIENT_CODES.contains(&code) => Failure::Transient(text),
            Some(code) if CREDENTIAL_CODES.contains(&code) => Failure::Credentials(text),
            Some(_) => Failure::Refused(text),
            // No ClickHouse code: a proxy or an empty 5xx body. Client errors (4xx) are ours.
            None if body.starts_with('4') => Failure::Refused(text),
            None => Failure::Transient(text),
        },
        _ => Failure::Refused(text),
    }
}

/// An INSERT under way.
pub struct Inserting {
    insert: clickhouse::insert_formatted::InsertFormatted,
    what: String,
}

/// An INSERT whose rows are all sent, the server's answer still to come.
pub struct Landing {
    answer: tokio::task::JoinHandle<Result<(), clickhouse::error::Error>>,
    what: String,
}

/// A connection: the crate's client and the runtime it runs on.
pub struct Server {
    settings: Settings,
    /// Our tables on it.
    catalog: Catalog,
    runtime: tokio::runtime::Runtime,
    client: clickhouse::Client,
    /// Our tables are Distributed (a cluster): inserts wait for the shards.
    distributed: std::sync::atomic::AtomicBool,
}

impl Server {
    /// A server holding `catalog`'s tables (the engine's and the registered protocols').
    pub fn new(settings: Settings, catalog: Catalog) -> Result<Server, String> {
        // One I/O thread of its own: a batch's rows stream to the server, and the server
        // answers the inserts already sent, while the sink's thread encodes the next ones.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("otsentry-clickhouse-io")
            .enable_all()
            .build()
            .map_err(|e| format!("starting the ClickHouse sink's runtime: {e}"))?;
        let mut client = match settings.endpoint.starts_with("https:") {
            true => clickhouse::Client::with_http_client(https_client(&settings)?),
            false => clickhouse::Client::default(),
        };
        client = client.with_url(&settings.endpoint).with_validation(false);
        if let Some(user) = &settings.user {
            client = client.with_user(user);
        }
        if let Some(password) = &settings.password {
            client = client.with_password(password);
        }
        Ok(Server { settings, catalog, runtime, client, distributed: std::sync::atomic::AtomicBool::new(false) })
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    fn run<T>(&self, what: &str, f: impl std::future::Future<Output = Result<T, clickhouse::error::Error>>) -> Result<T, Failure> {
        let limit = self.settings.timeout;
        let result = self.runtime.block_on(async { tokio::time::timeout(limit, f).await });
        let name = self.settings.name();
        match result {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(classify(&e).map(|t| format!("{name}: {what}: {t}"))),
            Err(_) => Err(Failure::Transient(format!("{name}: {what}: no answer within {limit:?}"))),
        }
    }

    /// A query's result as text (TabSeparated).
    pub fn query_text(&self, sql: &str) -> Result<String, Failure> {
        let bytes = self.run(sql, async {
            let mut cursor = self.client.query_raw(sql).fetch_bytes("TabSeparated")?;
            cursor.collect().await
        })?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    pub fn execute(&self, sql: &str) -> Result<(), Failure> {
        self.run(sql, self.client.query_raw(sql).execute())
    }

    /// Runs `sql` with query settings (`distributed_ddl_task_timeout`, ...).
    pub fn execute_with(&self, sql: &str, settings: &[(&str, &str)]) -> Result<(), Failure> {
        let mut q = self.client.query_raw(sql);
        for (k, v) in settings {
            q = q.with_setting(*k, *v);
        }
        self.run(sql, q.execute())
    }

    /// The server's version (`18.16.1`, `26.1.3.52`).
    pub fn version(&self) -> Result<String, Failure> {
        Ok(self.query_text("SELECT version()")?.trim().to_string())
    }

    /// Starts an INSERT of RowBinary rows (`columns` in order) into `table`; rows go
    /// with [`Server::send`], and it lands whole (one block) once [`Server::wait`] says
    /// so of its [`Server::finish`], or not at all if dropped before finishing.
    pub fn start_insert(&self, table: &str, columns: &str) -> Inserting {
        let sql = format!(
            "INSERT INTO {}.{} ({columns}) FORMAT RowBinary",
            crate::schema::ident(&self.settings.database),
            crate::schema::ident(table)
        );
        let limit = Some(self.settings.timeout);
        let mut insert = self.client.insert_formatted_with(sql).with_timeouts(limit, limit);
        if self.distributed.load(std::sync::atomic::Ordering::Relaxed) {
            // Through a Distributed table, the insert is answered only once every shard
            // wrote its rows (else it is answered when queued on the node we talk to,
            // which may die with it). The setting exists on 18.16 and current servers.
            insert = insert.with_setting("insert_distributed_sync", "1");
        }
        Inserting { insert, what: format!("INSERT INTO {table}") }
    }

    pub fn send(&self, inserting: &mut Inserting, rows: Bytes) -> Result<(), Failure> {
        let Inserting { insert, what } = inserting;
        self.run(what, insert.send(rows))
    }

    /// Ends an INSERT without waiting for the server to write it: it answers in the
    /// background while the caller goes on, and [`Server::wait`] takes the answer.
    pub fn finish(&self, inserting: Inserting) -> Landing {
        let Inserting { insert, what } = inserting;
        Landing { answer: self.runtime.spawn(insert.end()), what }
    }

    /// The server's answer to a finished INSERT: only then has it landed.
    pub fn wait(&self, landing: Landing) -> Result<(), Failure> {
        let Landing { answer, what } = landing;
        // A task that never answered (the runtime stopping) may be tried again.
        self.run(&what, async { answer.await.unwrap_or_else(|e| Err(clickhouse::error::Error::Network(Box::new(e)))) })
    }

    /// The database's name inside a SQL string literal.
    fn quoted_database(&self) -> String {
        self.settings.database.replace('\\', "\\\\").replace('\'', "\\'")
    }

    /// Every column of the database's tables: table -> (column -> type).
    pub fn columns(&self) -> Result<BTreeMap<String, BTreeMap<String, String>>, Failure> {
        let db = self.quoted_database();
        let text = self.query_text(&format!("SELECT table, name, type FROM system.columns WHERE database = '{db}'"))?;
        let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for line in text.lines() {
            let mut f = line.splitn(3, '\t');
            if let (Some(t), Some(n), Some(ty)) = (f.next(), f.next(), f.next()) {
                // TabSeparated escapes quotes in the type (`DateTime(\'UTC\')`).
                out.entry(t.to_string()).or_default().insert(n.to_string(), ty.replace("\\'", "'"));
            }
        }
        Ok(out)
    }

    /// The layout of each of our tables as found, in the catalog's order, or what is wrong
    /// with the first table that matches neither layout.
    pub fn check_tables(&self) -> Result<Vec<Layout>, Failure> {
        let found = self.columns()?;
        let db = self.quoted_database();
        let engines = self.query_text(&format!("SELECT engine FROM system.tables WHERE database = '{db}' AND name = 'alerts'"))?;
        self.distributed.store(engines.trim() == "Distributed", std::sync::atomic::Ordering::Relaxed);
        self.catalog
            .tables()
            .iter()
            .map(|t| check_table(t, &self.settings.database, found.get(t.name)))
            .collect::<Result<Vec<_>, String>>()
            .map_err(Failure::Refused)
    }
}

/// Which layout `found` (a table's columns) has, or what differs from the nearer one.
/// Columns of our own beyond the layout's (a DBA's additions) are allowed.
pub fn check_table(table: &Table, database: &str, found: Option<&BTreeMap<String, String>>) -> Result<Layout, String> {
    let Some(found) = found else {
        return Err(format!("table {database}.{} does not exist: run `otsentry clickhouse init`", table.name));
    };
    let layout = match found.get("timestamp").map(String::as_str) {
        Some(t) if t.starts_with("DateTime64") => Layout::Current,
        _ => Layout::Legacy,
    };
    for (name, ty) in table.server_columns(layout) {
        match found.get(&name) {
            None => return Err(format!("table {database}.{}: column `{name}` ({ty}) is missing ({} layout)", table.name, layout.name())),
            Some(have) if have != ty => {
                return Err(format!(
                    "table {database}.{}: column `{name}` is {have}, expected {ty} ({} layout)",
                    table.name,
                    layout.name()
                ));
            }
            Some(_) => {}
        }
    }
    Ok(layout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_give_endpoint_user_and_database_and_refuse_passwords() {
        let s = Settings::from_url("http://sensor@127.0.0.1:28123/siem").unwrap();
        assert_eq!((s.endpoint.as_str(), s.user.as_deref(), s.database.as_str()), ("http://127.0.0.1:28123", Some("sensor"), "siem"));
        let s = Settings::from_url("https://ch.example:8443").unwrap();
        assert_eq!((s.endpoint.as_str(), s.user, s.database.as_str()), ("https://ch.example:8443", None, "otsentry"));
        assert_eq!(Settings::from_url("http://[::1]:8123/").unwrap().endpoint, "http://[::1]:8123");
        let err = Settings::from_url("http://u:hunter2@h:8123").unwrap_err();
        assert!(err.contains("OTSENTRY_CLICKHOUSE_PASSWORD") && !err.contains("hunter2"), "{err}");
        for bad in ["tcp://h:9000", "h:8123", "http://h:8123/a/b", "http://h:8123/db?x=1", "http://h:8123/bad-name"] {
            assert!(Settings::from_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn error_codes_are_read_from_both_generations_texts() {
        assert_eq!(error_code("Code: 193, e.displayText() = DB::Exception: Wrong password for user sensor"), Some(193));
        assert_eq!(error_code("Code: 241. DB::Exception: Memory limit (total) exceeded"), Some(241));
        assert_eq!(error_code("Code: 60"), Some(60));
        assert_eq!(error_code("502 Bad Gateway"), None);
        let bad = |s: &str| classify(&clickhouse::error::Error::BadResponse(s.into()));
        assert!(matches!(bad("Code: 252. DB::Exception: Too many parts (300)"), Failure::Transient(_)));
        assert!(matches!(bad("Code: 516. DB::Exception: default: Authentication failed"), Failure::Credentials(_)));
        assert!(matches!(bad("Code: 16, e.displayText() = DB::Exception: No such column x"), Failure::Refused(_)));
        assert!(matches!(bad("503 Service Unavailable"), Failure::Transient(_)));
        assert!(matches!(bad("404 Not Found"), Failure::Refused(_)));
        assert!(matches!(classify(&clickhouse::error::Error::TimedOut), Failure::Transient(_)));
    }

    #[test]
    fn a_table_matches_a_layout_or_says_what_differs() {
        let t = Catalog::new([]).table_for("alert").unwrap();
        for layout in [Layout::Legacy, Layout::Current] {
            let mut cols: BTreeMap<String, String> = t.server_columns(layout).into_iter().map(|(n, ty)| (n, ty.to_string())).collect();
            assert_eq!(check_table(t, "otsentry", Some(&cols)), Ok(layout));
            cols.insert("dba_note".into(), "String".into());
            assert_eq!(check_table(t, "otsentry", Some(&cols)), Ok(layout));
            cols.insert("severity".into(), "String".into());
            let err = check_table(t, "otsentry", Some(&cols)).unwrap_err();
            assert!(err.contains("`severity` is String, expected UInt8"), "{err}");
            cols.remove("severity");
            assert!(check_table(t, "otsentry", Some(&cols)).unwrap_err().contains("`severity` (UInt8) is missing"));
        }
        assert!(check_table(t, "otsentry", None).unwrap_err().contains("otsentry clickhouse init"));
    }
}
