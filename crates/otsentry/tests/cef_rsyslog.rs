//! The CEF output into a real receiver: Debian's rsyslog, started by the test on
//! loopback with UDP, TCP, TLS (a CA and certificates made here; the receiver asks for
//! the client's) and RELP inputs, writing each message as received to a file per input.
//! Every alert of a replay arrives over TCP, TLS and RELP (UDP is counted, not
//! asserted), every CEF field of it read back by a parser of this test's own; over
//! RELP, nothing is lost across two receiver kills.
use otsentry_pcapgen::feed::feed;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn otsentry() -> Command {
    Command::new(env!("CARGO_BIN_EXE_otsentry"))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("otsentry-cef-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn fixture(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(rel).display().to_string()
}

/// Why this test cannot run here: a visible skip, or a failure under `CI=true`.
fn unavailable(why: &str) {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI=true requires rsyslog and openssl: {why}");
    }
    otsentry_pcapgen::shared::report_suite(otsentry_pcapgen::shared::SuiteOutcome::Skipped(why));
}

fn have(tool: &str) -> bool {
    Command::new("sh").args(["-c", &format!("command -v {tool}")]).output().is_ok_and(|o| !o.stdout.is_empty())
}

/// A port nothing listens on now (TCP and UDP).
fn free_port() -> u16 {
    loop {
        let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = tcp.local_addr().unwrap().port();
        if std::net::UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

#[track_caller]
fn sh(cmd: &str, dir: &Path) {
    let o = Command::new("sh").args(["-c", cmd]).current_dir(dir).output().unwrap();
    assert!(o.status.success(), "{cmd}: {}", String::from_utf8_lossy(&o.stderr));
}

/// A CA, the receiver's certificate (for 127.0.0.1) and a client certificate, in `dir`.
fn make_certs(dir: &Path) {
    let days = "-days 2";
    sh(&format!("openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem {days} -subj /CN=otsentry-test-ca 2>/dev/null"), dir);
    for (name, san) in [("server", "subjectAltName=IP:127.0.0.1"), ("client", "extendedKeyUsage=clientAuth")] {
        sh(
            &format!("openssl req -newkey rsa:2048 -nodes -keyout {name}.key -out {name}.csr -subj /CN={name}.otsentry.test 2>/dev/null"),
            dir,
        );
        std::fs::write(dir.join(format!("{name}.ext")), format!("{san}\n")).unwrap();
        sh(&format!("openssl x509 -req -in {name}.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out {name}.pem {days} -extfile {name}.ext 2>/dev/null"), dir);
    }
    // rsyslog may drop privileges in some builds: keep the files readable.
    sh("chmod 0644 ca.pem server.pem server.key client.pem client.key", dir);
}

/// rsyslog on loopback, one input per transport, each to its own file.
struct Rsyslog {
    child: Option<Child>,
    dir: PathBuf,
    udp: u16,
    tcp: u16,
    tls: u16,
    relp: u16,
}

/// Where the RELP input's messages go.
#[derive(Clone, Copy, PartialEq, Eq)]
enum RelpTo {
    /// A file, written before each message is acknowledged.
    File,
    /// A program that confirms each message after writing it to the same file, a
    /// two milliseconds apiece: the receiver falls behind, so its acknowledgements lag and a
    /// kill lands inside a batch.
    SlowProgram,
}

/// The slow consumer: rsyslog's omprog with confirmations waits for each `OK`.
const SLOW_CONSUMER: &str = "import sys, time\nout = open(sys.argv[1], 'a')\nprint('OK', flush=True)\nfor line in sys.stdin:\n    out.write(line)\n    out.flush()\n    time.sleep(0.002)\n    print('OK', flush=True)\n";

impl Rsyslog {
    fn start(dir: &Path, max_message: &str, relp_to: RelpTo) -> Rsyslog {
        let (udp, tcp, tls, relp) = (free_port(), free_port(), free_port(), free_port());
        std::fs::create_dir_all(dir.join("work")).unwrap();
        let d = dir.display();
        let relp_action = match relp_to {
            RelpTo::File => format!(r#"action(type="omfile" file="{d}/relp.log" template="raw" flushOnTXEnd="on" asyncWriting="off")"#),
            RelpTo::SlowProgram => {
                std::fs::write(dir.join("consumer.py"), SLOW_CONSUMER).unwrap();
                format!(
                    r#"action(type="omprog" binary="/usr/bin/python3 {d}/consumer.py {d}/relp.log" confirmMessages="on" template="raw")"#
                )
            }
        };
        // RELP's ruleset runs in the input's thread (a direct queue), so a message is
        // on its way to the file before the receiver acknowledges it: an acknowledged
        // message survives a SIGKILL.
        let conf = format!(
            r#"global(workDirectory="{d}/work" maxMessageSize="{max_message}"
       defaultNetstreamDriver="gtls"
       defaultNetstreamDriverCAFile="{d}/ca.pem"
       defaultNetstreamDriverCertFile="{d}/server.pem"
       defaultNetstreamDriverKeyFile="{d}/server.key")
module(load="imudp")
module(load="imptcp")
module(load="imtcp" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="x509/certvalid")
module(load="imrelp")
module(load="omprog")
template(name="raw" type="string" string="%rawmsg%\n")
ruleset(name="udp") {{ action(type="omfile" file="{d}/udp.log" template="raw") }}
ruleset(name="tcp") {{ action(type="omfile" file="{d}/tcp.log" template="raw") }}
ruleset(name="tls") {{ action(type="omfile" file="{d}/tls.log" template="raw") }}
ruleset(name="relp" queue.type="direct") {{ {relp_action} }}
input(type="imudp" address="127.0.0.1" port="{udp}" ruleset="udp")
input(type="imptcp" address="127.0.0.1" port="{tcp}" ruleset="tcp")
input(type="imtcp" address="127.0.0.1" port="{tls}" ruleset="tls")
input(type="imrelp" address="127.0.0.1" port="{relp}" ruleset="relp")
"#
        );
        std::fs::write(dir.join("rsyslog.conf"), conf).unwrap();
        let mut r = Rsyslog { child: None, dir: dir.to_path_buf(), udp, tcp, tls, relp };
        r.restart();
        r
    }

    /// Starts rsyslogd (again) and waits until its stream inputs listen.
    fn restart(&mut self) {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(self.dir.join("rsyslogd.stderr")).unwrap();
        let child = Command::new("rsyslogd")
            .args(["-n", "-f"])
            .arg(self.dir.join("rsyslog.conf"))
            .arg("-i")
            .arg(self.dir.join("rsyslogd.pid"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start rsyslogd");
        self.child = Some(child);
        let until = Instant::now() + Duration::from_secs(20);
        for port in [self.tcp, self.tls, self.relp] {
            while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
                let exited = self.child.as_mut().and_then(|c| c.try_wait().ok().flatten());
                assert!(exited.is_none() && Instant::now() < until, "rsyslogd did not listen on {port}: {}", self.stderr());
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_file(self.dir.join("rsyslogd.pid"));
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.join("rsyslogd.stderr")).unwrap_or_default()
    }

    fn lines(&self, input: &str) -> Vec<String> {
        std::fs::read_to_string(self.dir.join(format!("{input}.log"))).unwrap_or_default().lines().map(str::to_string).collect()
    }

    /// Waits (at most 20 s) until `input`'s file holds at least `n` lines.
    fn wait_for(&self, input: &str, n: usize) -> Vec<String> {
        let until = Instant::now() + Duration::from_secs(20);
        loop {
            let lines = self.lines(input);
            if lines.len() >= n || Instant::now() > until {
                return lines;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Rsyslog {
    fn drop(&mut self) {
        self.kill();
    }
}

/// rsyslog and the certificates, or `None` after saying why not.
fn receiver(name: &str, max_message: &str, relp_to: RelpTo) -> Option<(PathBuf, Rsyslog)> {
    for tool in ["rsyslogd", "openssl"] {
        if !have(tool) {
            unavailable(&format!("{tool} not found (scripts/test installs rsyslog, rsyslog-gnutls and rsyslog-relp)"));
            return None;
        }
    }
    let dir = scratch(name);
    make_certs(&dir);
    let r = Rsyslog::start(&dir, max_message, relp_to);
    Some((dir, r))
}

/// A syslog message as rsyslog kept it (RFC 5424): PRI, HOSTNAME, APP-NAME, and the CEF
/// line.
fn syslog_parts(raw: &str) -> (u8, String, String, String) {
    let rest = raw.strip_prefix('<').unwrap_or_else(|| panic!("no PRI: {raw}"));
    let (pri, rest) = rest.split_once('>').unwrap();
    let rest = rest.strip_prefix("1 ").unwrap_or_else(|| panic!("not RFC 5424: {raw}"));
    let parts: Vec<&str> = rest.splitn(6, ' ').collect();
    assert_eq!(parts.len(), 6, "{raw}");
    let (host, app) = (parts[1].to_string(), parts[2].to_string());
    // PROCID, MSGID and STRUCTURED-DATA are nil, then the message.
    let msg = parts[5].strip_prefix("- ").unwrap_or_else(|| panic!("no nil structured data: {raw}"));
    (pri.parse().unwrap(), host, app, msg.to_string())
}

/// A CEF line as a receiver reads it: seven header fields (`\|` and `\\` undone) and
/// the extension's keys and values (`\=`, `\\`, `\n`, `\r` undone; a key is the word
/// before an unescaped `=`).
fn parse_cef(line: &str) -> (Vec<String>, BTreeMap<String, String>) {
    let body = line.strip_prefix("CEF:").unwrap_or_else(|| panic!("not CEF: {line}"));
    let mut header = Vec::new();
    let mut field = String::new();
    let mut chars = body.chars();
    while header.len() < 7 {
        match chars.next().unwrap_or_else(|| panic!("fewer than seven header fields: {line}")) {
            '\\' => field.push(chars.next().unwrap()),
            '|' => header.push(std::mem::take(&mut field)),
            c => field.push(c),
        }
    }
    // Tokens split at unescaped '=': each ends in the next key after its last space.
    let mut pieces = vec![String::new()];
    let mut it = chars.peekable();
    while let Some(c) = it.next() {
        match c {
            '\\' => {
                let p = pieces.last_mut().unwrap();
                p.push('\\');
                p.push(it.next().unwrap_or_else(|| panic!("a lone backslash at the end: {line}")));
            }
            '=' => pieces.push(String::new()),
            c => pieces.last_mut().unwrap().push(c),
        }
    }
    let unescape = |v: &str| {
        let mut out = String::new();
        let mut it = v.chars();
        while let Some(c) = it.next() {
            match (c, c == '\\') {
                (_, true) => match it.next() {
                    Some('n') => out.push('\n'),
                    Some('r') => out.push('\r'),
                    Some(e) => out.push(e),
                    None => {}
                },
                (c, false) => out.push(c),
            }
        }
        out
    };
    let mut ext = BTreeMap::new();
    let mut key = pieces[0].trim().to_string();
    for (n, piece) in pieces.iter().enumerate().skip(1) {
        let (value, next) =
            if n + 1 == pieces.len() { (piece.as_str(), "") } else { piece.rsplit_once(' ').unwrap_or_else(|| panic!("no key: {line}")) };
        assert!(ext.insert(key.clone(), unescape(value)).is_none(), "{key} twice: {line}");
        key = next.to_string();
    }
    (header, ext)
}

/// What the CEF event of an EVE alert holds, from the alert alone.
fn expected(alert: &Value) -> (Vec<String>, BTreeMap<String, String>) {
    let a = &alert["alert"];
    let meta = &a["metadata"];
    let severity = match meta["severity"][0].as_str().unwrap() {
        "info" => "1",
        "low" => "3",
        "medium" => "5",
        "high" => "8",
        "critical" => "10",
        other => panic!("severity {other}"),
    };
    let flat = |v: &Value| v.as_str().unwrap_or_default().replace(['\n', '\r'], " ");
    let header = vec![
        "0".into(),
        "otsentry".into(),
        "otsentry".into(),
        env!("CARGO_PKG_VERSION").into(),
        a["signature_id"].to_string(),
        flat(&a["signature"]),
        severity.to_string(),
    ];
    let mut ext = BTreeMap::new();
    let mut put = |k: &str, v: &Value| -> bool {
        let text = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Array(items) => items.iter().map(|i| i.as_str().unwrap().to_string()).collect::<Vec<_>>().join(","),
            _ => String::new(),
        };
        let some = !text.is_empty();
        if some {
            ext.insert(k.to_string(), text);
        }
        some
    };
    let ts = alert["timestamp"].as_str().unwrap();
    let ms = chrono_ms(ts);
    put("rt", &Value::from(ms.to_string()));
    for (k, field) in
        [("src", "src_ip"), ("spt", "src_port"), ("dst", "dest_ip"), ("dpt", "dest_port"), ("proto", "proto"), ("app", "app_proto")]
    {
        put(k, &alert[field]);
    }
    put("smac", &alert["arp"]["sender_mac"]);
    put("dmac", &alert["arp"]["target_mac"]);
    put("act", &a["action"]);
    put("cat", &a["category"]);
    put("msg", &a["detail"]);
    put("dvchost", &alert["host"]);
    put("externalId", &alert["event_id"]);
    let zones = match (alert["segmentation"]["src_zone"].as_str(), alert["segmentation"]["dst_zone"].as_str()) {
        (Some(s), Some(d)) => Value::from(format!("{s} -> {d}")),
        _ => Value::Null,
    };
    let app = alert["app_proto"].as_str().unwrap_or_default();
    let function = if alert[app]["function_name"].is_null() { alert[app]["function"].clone() } else { alert[app]["function_name"].clone() };
    let customs = [
        (&meta["rule_id"], "ruleId"),
        (&meta["mitre_technique_id"], "mitreTechniqueIds"),
        (&meta["mitre_tactic_name"], "mitreTactics"),
        (&zones, "zones"),
        (if app.is_empty() { &Value::Null } else { &function }, "protocolFunction"),
        (&alert["community_id"], "communityId"),
    ];
    for (n, (v, label)) in customs.into_iter().enumerate() {
        if put(&format!("cs{}", n + 1), v) {
            put(&format!("cs{}Label", n + 1), &Value::from(label));
        }
    }
    if put("flexString1", &meta["mitre_technique_name"]) {
        put("flexString1Label", &Value::from("mitreTechniqueNames"));
    }
    (header, ext)
}

/// Milliseconds since the epoch of `2026-01-15T08:00:00.120000+00:00` (UTC, as ours are).
fn chrono_ms(ts: &str) -> i64 {
    let num = |r: std::ops::Range<usize>| ts[r].parse::<i64>().unwrap();
    let (y, m, d) = (num(0..4), num(5..7), num(8..10));
    // Days from the civil date (Howard Hinnant's algorithm).
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + num(11..13) * 3600 + num(14..16) * 60 + num(17..19);
    let micros = ts.get(20..26).map_or(0, |f| f.parse::<i64>().unwrap());
    secs * 1000 + micros / 1000
}

/// The alerts of EVE files, by event id.
fn eve_alerts(paths: &[PathBuf]) -> Vec<Value> {
    let mut out = Vec::new();
    for p in paths {
        for line in std::fs::read_to_string(p).unwrap().lines() {
            let v: Value = serde_json::from_str(line).unwrap();
            assert_eq!(v["event_type"], "alert", "{}: not an alert", p.display());
            out.push(v);
        }
    }
    out
}

/// A site rule whose texts hold every character CEF escapes, and a category long
/// enough to be cut at a 2K receiver.
fn escape_rules(dir: &Path) -> PathBuf {
    let rules = dir.join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    let long = "pad \\ = | ".repeat(150);
    std::fs::write(
        rules.join("site.yaml"),
        format!(
            r#"- id: site.modbus.read_watch
  sid: 9900001
  name: "Site | read \\ watch = on"
  description: Every Modbus read of holding registers, with texts CEF must escape.
  severity: high
  category: "Impair = Process \\ Control\nsecond line | pipe"
  attack: [T0855]
  match:
    modbus.function: 3
- id: site.modbus.write_long
  sid: 9900002
  name: "Site: a write, with a long category"
  description: A category longer than the receiver takes.
  severity: medium
  category: "{long}"
  attack: [T0836]
  match:
    modbus.function: 6
"#
        ),
    )
    .unwrap();
    rules
}

#[test]
fn every_alert_reaches_rsyslog_over_each_transport() {
    let Some((dir, rsyslog)) = receiver("each", "2k", RelpTo::File) else { return };
    let rules = escape_rules(&dir);
    let shared = otsentry_pcapgen::shared::pcaps_dir();
    let mut runs: Vec<Vec<String>> = vec![
        vec!["--rules".into(), rules.display().to_string(), fixture("fixtures/demo/input.pcap"), fixture("fixtures/network/input.pcap")],
        vec!["--policy".into(), fixture("fixtures/segmentation/policy.yaml"), fixture("fixtures/segmentation/input.pcap")],
    ];
    if let Some(p) = &shared {
        runs.push(vec!["-R".into(), p.display().to_string()]);
    }
    let mut alert_files = Vec::new();
    for (i, args) in runs.iter().enumerate() {
        let (alerts, flows) = (dir.join(format!("run{i}-alerts.jsonl")), dir.join(format!("run{i}-flows.jsonl")));
        let d = dir.display();
        // Two EVE outputs of different record types and four CEF outputs, as a list.
        let config = format!(
            "replay:\n  host: cef-test\n  outputs:\n    - eve: {}\n      types: [alert]\n    - eve: {}\n      types: [flow]\n    - cef: udp://127.0.0.1:{}\n      max-message: 2K\n    - cef: tcp://127.0.0.1:{}\n      max-message: 2K\n    - cef: tls://127.0.0.1:{}\n      max-message: 2K\n      ca: {d}/ca.pem\n      cert: {d}/client.pem\n      key: {d}/client.key\n    - cef: relp://127.0.0.1:{}\n      max-message: 2K\n",
            alerts.display(),
            flows.display(),
            rsyslog.udp,
            rsyslog.tcp,
            rsyslog.tls,
            rsyslog.relp
        );
        let cfg = dir.join(format!("run{i}.yaml"));
        std::fs::write(&cfg, config).unwrap();
        let o = otsentry().args(["replay", "-q", "--config"]).arg(&cfg).args(args).output().unwrap();
        assert!(o.status.success(), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
        let flow_lines = std::fs::read_to_string(&flows).unwrap();
        assert!(
            !flow_lines.is_empty() && flow_lines.lines().all(|l| l.contains("\"event_type\":\"flow\"")),
            "the flow output holds flows alone"
        );
        alert_files.push(alerts);
    }
    let alerts = eve_alerts(&alert_files);
    assert!(alerts.len() > 20, "only {} alerts: the test would prove little", alerts.len());
    let mut by_id: BTreeMap<String, &Value> = BTreeMap::new();
    let mut want: BTreeMap<String, usize> = BTreeMap::new();
    for a in &alerts {
        let id = a["event_id"].as_str().unwrap().to_string();
        *want.entry(id.clone()).or_default() += 1;
        by_id.insert(id, a);
    }
    let (mut cut, mut escaped) = (0, 0);
    for input in ["tcp", "tls", "relp"] {
        let lines = rsyslog.wait_for(input, alerts.len());
        let mut have: BTreeMap<String, usize> = BTreeMap::new();
        for raw in &lines {
            assert!(raw.len() <= 2048, "{input}: a message of {} bytes, over the receiver's 2K", raw.len());
            let (pri, host, app, cef) = syslog_parts(raw);
            assert_eq!((host.as_str(), app.as_str()), ("cef-test", "otsentry"));
            let (header, ext) = parse_cef(&cef);
            let id = ext.get("externalId").unwrap_or_else(|| panic!("no externalId: {raw}")).clone();
            let alert = by_id.get(&id).unwrap_or_else(|| panic!("{input}: {id} is no EVE alert"));
            let (want_header, want_ext) = expected(alert);
            assert_eq!(header, want_header, "{input}: {raw}");
            // local0; syslog's severity from ours.
            let syslog_sev = match header[6].as_str() {
                "10" => 2,
                "8" => 3,
                "5" => 4,
                "3" => 5,
                _ => 6,
            };
            assert_eq!(pri, 16 * 8 + syslog_sev, "{raw}");
            assert_eq!(ext.keys().collect::<Vec<_>>(), want_ext.keys().collect::<Vec<_>>(), "{input}: keys of {raw}");
            for (k, v) in &ext {
                let w = &want_ext[k];
                match v.strip_suffix("[cut]") {
                    Some(kept) if v != w => {
                        assert!(w.starts_with(kept) && raw.len() > 1900, "{input}: {k} cut wrongly: {v:?} of {w:?}");
                        cut += 1;
                    }
                    _ => assert_eq!(v, w, "{input}: {k} of {raw}"),
                }
            }
            if ext.get("cat").is_some_and(|c| c.contains('\n') && c.contains('=') && c.contains('\\')) && header[5].contains('|') {
                escaped += 1;
            }
            *have.entry(id).or_default() += 1;
        }
        assert_eq!(have, want, "{input}: the alerts received are not EVE's, one each");
    }
    assert!(escaped > 0, "no alert carried the characters CEF escapes");
    assert!(cut > 0, "no value was cut to the receiver's maximum");
    let udp = rsyslog.lines("udp").len();
    let _ = writeln!(
        std::io::stderr(),
        "CEF into rsyslog: {} alerts; TCP, TLS, RELP each {} (every field checked; {cut} values cut to 2K, marked); UDP {udp} (not asserted)",
        alerts.len(),
        alerts.len()
    );
}

#[test]
fn relp_loses_nothing_across_receiver_kills() {
    let Some((dir, mut rsyslog)) = receiver("relp", "8k", RelpTo::SlowProgram) else { return };
    let rules = escape_rules(&dir);
    // Modbus polls of a small plant: every read alerts (the site rule), spread over the
    // capture, which is fed slowly so the receiver dies twice while alerts flow.
    let plant = otsentry_pcapgen::bench::Plant { modbus_sessions: 40, dnp3_sessions: 0, s7_sessions: 0, packets: 12_000 };
    let mut capture = Vec::new();
    otsentry_pcapgen::bench::write_plant(&plant, &mut capture).unwrap();
    let eve = dir.join("eve.jsonl");
    let mut child = otsentry()
        .args(["replay", "-q", "--host", "relp-test", "--no-default-rules", "--rules"])
        .arg(&rules)
        .args(["--eve-types", "alert", "--eve"])
        .arg(&eve)
        .args(["--cef", &format!("relp://127.0.0.1:{}", rsyslog.relp), "--cef-spool"])
        .arg(dir.join("spool"))
        .args(["--summary-json"])
        .arg(dir.join("summary.json"))
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut kills = 0;
    feed(&mut stdin, &capture, 60, Duration::from_millis(100), |i| match i {
        15 | 35 => {
            rsyslog.kill();
            kills += 1;
        }
        18 | 38 => rsyslog.restart(),
        _ => {}
    });
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(kills, 2);
    let alerts = eve_alerts(&[eve]);
    assert!(alerts.len() > 1000, "only {} alerts", alerts.len());
    let want: std::collections::BTreeSet<String> = alerts.iter().map(|a| a["event_id"].as_str().unwrap().to_string()).collect();
    let lines = rsyslog.wait_for("relp", want.len());
    let mut have: BTreeMap<String, usize> = BTreeMap::new();
    for raw in &lines {
        let (_, _, _, cef) = syslog_parts(raw);
        let (_, ext) = parse_cef(&cef);
        let id = ext["externalId"].clone();
        assert!(want.contains(&id), "{id} reached the receiver but is no EVE alert");
        *have.entry(id).or_default() += 1;
    }
    let missing: Vec<&String> = want.iter().filter(|id| !have.contains_key(*id)).collect();
    assert!(missing.is_empty(), "{} of {} alerts never reached the receiver, e.g. {:?}", missing.len(), want.len(), missing.first());
    let repeats: usize = have.values().map(|n| n - 1).sum();
    // Only what was not acknowledged is sent again: at most a window (128) per kill,
    // where sending each batch again whole would repeat the hundreds acknowledged.
    assert!(repeats <= 2 * 128, "{repeats} alerts repeated");
    let summary: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    let cef =
        summary["outputs"].as_array().unwrap().iter().find(|o| o["name"].as_str().unwrap_or_default().starts_with("cef:")).unwrap().clone();
    assert_eq!(cef["spool"]["pending_batches"], 0, "{cef}");
    let _ = writeln!(
        std::io::stderr(),
        "RELP across two receiver kills (a slow receiver): {} alerts, all received; {repeats} repeated; spooled {} batches",
        want.len(),
        cef["spool"]["spooled"]
    );
}
