//! Real ClickHouse servers for tests, each private to its test: Debian's 18.16
//! (`clickhouse-server` from a configuration of our own, its own ports and data) and a
//! current engine (`../shared/tools/clickhouse-current.py` on the `chdb` package).
//! Tests talk to them over plain HTTP from std, independently of the sink under test.
//! Missing software is a skip reported where a person sees it, and a failure under
//! `CI=true`.
use crate::shared::{report_suite, SuiteOutcome};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Generation {
    /// Debian's clickhouse-server 18.16.
    Legacy,
    /// The current engine of the chdb package.
    Current,
}

/// The user with a password on the 18.16 servers (the default user has none).
pub const SENSOR_USER: &str = "sensor";
pub const SENSOR_PASSWORD: &str = "sensor-secret";

pub struct TestServer {
    pub generation: Generation,
    pub port: u16,
    /// With [`TestServer::start_tls`]: the https port and the CA that signed its certificate.
    pub https: Option<(u16, PathBuf)>,
    dir: PathBuf,
    child: Option<Child>,
    command: Vec<String>,
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free local port")
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The Python with chdb: `$OTSENTRY_CHDB_PYTHON`, else `target/venv-ch` (made by
/// `scripts/siem-deps`).
fn chdb_python() -> PathBuf {
    std::env::var_os("OTSENTRY_CHDB_PYTHON").map_or_else(|| workspace().join("target/venv-ch/bin/python"), PathBuf::from)
}

fn shared_tools() -> PathBuf {
    let base = std::env::var_os("OTSENTRY_SHARED").map_or_else(|| workspace().join("../shared"), PathBuf::from);
    base.join("tools")
}

const NO_LEGACY: &str = "clickhouse-server (18.16) is not installed: apt-get install -y clickhouse-server (scripts/siem-deps)";

fn legacy_binary() -> Option<&'static str> {
    ["/usr/sbin/clickhouse-server", "/usr/bin/clickhouse-server"].into_iter().find(|p| Path::new(p).exists())
}

/// A visible skip, or under `CI=true` a failure: the software a test needs is missing.
#[track_caller]
pub(crate) fn skip<T>(reason: &str) -> Option<T> {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI=true requires the ClickHouse servers' software: {reason}");
    }
    report_suite(SuiteOutcome::Skipped(reason));
    None
}

impl TestServer {
    /// Starts a private server of `generation` with its data under `dir`; `None` (the
    /// skip reported) if the software is not installed here.
    #[track_caller]
    pub fn start(generation: Generation, dir: &Path) -> Option<TestServer> {
        Self::start_with(generation, dir, false)
    }

    /// An 18.16 server with https too, its certificate (for 127.0.0.1) signed by a CA
    /// of its own (made with the openssl command).
    #[track_caller]
    pub fn start_tls(dir: &Path) -> Option<TestServer> {
        Self::start_with(Generation::Legacy, dir, true)
    }

    #[track_caller]
    fn start_with(generation: Generation, dir: &Path, tls: bool) -> Option<TestServer> {
        std::fs::create_dir_all(dir).expect("server dir");
        let port = free_port();
        let https = if tls {
            if Command::new("openssl").arg("version").output().is_err() {
                return skip("the openssl command is missing (apt-get install -y openssl)");
            }
            make_certificates(dir);
            Some((free_port(), dir.join("ca.crt")))
        } else {
            None
        };
        let command = match generation {
            Generation::Legacy => {
                let Some(bin) = legacy_binary() else { return skip(NO_LEGACY) };
                write_legacy_config(dir, port, free_port(), https.as_ref().map(|h| h.0));
                vec![bin.to_string(), format!("--config-file={}", dir.join("config.xml").display())]
            }
            Generation::Current => {
                let python = chdb_python();
                let script = shared_tools().join("clickhouse-current.py");
                if !python.exists() {
                    return skip(&format!("no Python with chdb at {} (scripts/siem-deps, or set OTSENTRY_CHDB_PYTHON)", python.display()));
                }
                if !script.exists() {
                    return skip(&format!("{} not found (set OTSENTRY_SHARED)", script.display()));
                }
                let data = dir.join("data");
                vec![
                    python.display().to_string(),
                    script.display().to_string(),
                    "--port".into(),
                    port.to_string(),
                    "--data".into(),
                    data.display().to_string(),
                ]
            }
        };
        let mut server = TestServer { generation, port, https, dir: dir.to_path_buf(), child: None, command };
        server.launch();
        report_suite(SuiteOutcome::Ran);
        Some(server)
    }

    /// An 18.16 server on the given ports, with `extra` XML in its configuration (a
    /// cluster node); `None` (the skip reported) if clickhouse-server is not installed.
    #[track_caller]
    pub fn start_node(dir: &Path, http: u16, tcp: u16, extra: &str) -> Option<TestServer> {
        std::fs::create_dir_all(dir).expect("server dir");
        let Some(bin) = legacy_binary() else { return skip(NO_LEGACY) };
        write_legacy_config_with(dir, http, tcp, None, extra);
        let command = vec![bin.to_string(), format!("--config-file={}", dir.join("config.xml").display())];
        let mut server =
            TestServer { generation: Generation::Legacy, port: http, https: None, dir: dir.to_path_buf(), child: None, command };
        server.launch();
        Some(server)
    }

    fn launch(&mut self) {
        let log = std::fs::File::create(self.dir.join("server.out")).expect("server log");
        let child = Command::new(&self.command[0])
            .args(&self.command[1..])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", self.command[0]));
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(120);
        while Instant::now() < deadline {
            if self.query("SELECT 1").is_ok_and(|r| r.trim() == "1") {
                return;
            }
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
                let out = std::fs::read_to_string(self.dir.join("server.out")).unwrap_or_default();
                panic!("{:?} server exited ({status}) on start:\n{out}", self.generation);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("{:?} server on port {} did not answer within 120 s", self.generation, self.port);
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Runs `sql` as the default user; the body on success, the error text otherwise.
    pub fn query(&self, sql: &str) -> Result<String, String> {
        http_post(self.port, sql, None)
    }

    /// Stops the server at once (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port and data.
    pub fn restart(&mut self) {
        self.kill();
        self.launch();
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One HTTP/1.0 POST of `sql` to the server, optionally as `user:password`.
pub fn http_post(port: u16, sql: &str, auth: Option<(&str, &str)>) -> Result<String, String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    stream.set_read_timeout(Some(Duration::from_secs(60))).map_err(|e| e.to_string())?;
    let mut head = format!("POST /?default_format=TabSeparated HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\n", sql.len());
    if let Some((user, password)) = auth {
        head.push_str(&format!("X-ClickHouse-User: {user}\r\nX-ClickHouse-Key: {password}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).and_then(|_| stream.write_all(sql.as_bytes())).map_err(|e| e.to_string())?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&response).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").ok_or_else(|| format!("no HTTP response: {text:?}"))?;
    // Chunked bodies come only from HTTP/1.1; we asked for 1.0.
    if head.starts_with("HTTP/1.1 200") || head.starts_with("HTTP/1.0 200") {
        Ok(body.to_string())
    } else {
        Err(body.trim().to_string())
    }
}

/// `ca.crt` and a server certificate for 127.0.0.1 it signed (`server.crt`, `server.key`).
fn make_certificates(dir: &Path) {
    let run = |args: &[&str]| {
        let out = Command::new("openssl").args(args).current_dir(dir).output().expect("run openssl");
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "2",
        "-subj",
        "/CN=otsentry test CA",
    ]);
    run(&["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"]);
    std::fs::write(
        dir.join("san.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
    )
    .expect("write san.ext");
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.crt",
        "-days",
        "2",
        "-extfile",
        "san.ext",
    ]);
}

fn write_legacy_config(dir: &Path, http: u16, tcp: u16, https: Option<u16>) {
    write_legacy_config_with(dir, http, tcp, https, "");
}

/// An 18.16 configuration with `extra` XML inside `<yandex>` (a cluster node's ZooKeeper,
/// macros and remote servers).
pub(crate) fn write_legacy_config_with(dir: &Path, http: u16, tcp: u16, https: Option<u16>, extra: &str) {
    let d = dir.display();
    let tls = match https {
        Some(port) => format!(
            "<https_port>{port}</https_port>\n  <openSSL><server><certificateFile>{d}/server.crt</certificateFile><privateKeyFile>{d}/server.key</privateKeyFile><verificationMode>none</verificationMode><loadDefaultCAFile>false</loadDefaultCAFile><cacheSessions>true</cacheSessions><disableProtocols>sslv2,sslv3</disableProtocols><preferServerCiphers>true</preferServerCiphers></server></openSSL>"
        ),
        None => String::new(),
    };
    let config = format!(
        r#"<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>{d}/server.log</log><errorlog>{d}/server.err.log</errorlog><size>10M</size><count>1</count></logger>
  <http_port>{http}</http_port>
  <tcp_port>{tcp}</tcp_port>
  {tls}
  <listen_host>127.0.0.1</listen_host>
  <max_concurrent_queries>100</max_concurrent_queries>
  <mark_cache_size>268435456</mark_cache_size>
  <uncompressed_cache_size>268435456</uncompressed_cache_size>
  <path>{d}/data/</path>
  <tmp_path>{d}/data/tmp/</tmp_path>
  <user_files_path>{d}/data/user_files/</user_files_path>
  <format_schema_path>{d}/data/format_schemas/</format_schema_path>
  <users_config>{d}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mlock_executable>false</mlock_executable>
  {extra}
</yandex>
"#
    );
    let users = format!(
        r#"<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>4000000000</max_memory_usage></default></profiles>
  <users>
    <default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default>
    <{SENSOR_USER}><password>{SENSOR_PASSWORD}</password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></{SENSOR_USER}>
  </users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
"#
    );
    std::fs::write(dir.join("config.xml"), config).expect("write config.xml");
    std::fs::write(dir.join("users.xml"), users).expect("write users.xml");
}
