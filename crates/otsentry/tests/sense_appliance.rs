//! The sensor as an appliance, on a virtual network: it drops to an unprivileged user
//! keeping CAP_NET_RAW alone in every thread; SIGUSR2 reloads rules without a restart or
//! a lost packet and keeps the old set when a file is broken; SIGHUP reopens a moved EVE
//! file; a link taken down and brought back is counted, alerted and captured again; an
//! interface silent too long is alerted.
mod live;

use live::{scratch, Net, Sensor, SENSOR_IF};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../fixtures/{name}/input.pcap"))
}

fn demo() -> std::path::PathBuf {
    fixture("demo")
}

/// `otsentry ARGS` in the sensor's namespace, whatever its exit.
fn sensor_run(net: &Net, args: &[&str]) -> std::process::Output {
    net.command(&net.sensor, env!("CARGO_BIN_EXE_otsentry")).args(args).output().unwrap()
}

fn signal(sensor: &Sensor, name: &str) {
    assert!(Command::new("kill").args([&format!("-{name}"), &sensor.child.id().to_string()]).status().unwrap().success());
}

fn alert_ids(sensor: &Sensor) -> Vec<String> {
    sensor
        .records()
        .iter()
        .filter(|r| r["event_type"] == "alert")
        .map(|r| r["alert"]["metadata"]["rule_id"][0].as_str().unwrap_or("").to_string())
        .collect()
}

/// One line of `/proc/PID/task/TID/status`, after its key.
fn status_field<'a>(status: &'a str, key: &str) -> &'a str {
    status.lines().find_map(|l| l.strip_prefix(key)).unwrap_or_else(|| panic!("{key} in {status}")).trim()
}

#[test]
fn every_thread_runs_unprivileged_with_cap_net_raw_alone() {
    let Some(net) = Net::new("p", &[]) else { return };
    let dir = scratch("privileges");
    let sensor = Sensor::start(&net, &dir, &["--stats-interval", "0"]);
    let nobody = Command::new("id").args(["-u", "nobody"]).output().unwrap().stdout;
    let uid = String::from_utf8_lossy(&nobody).trim().to_string();
    let tasks: Vec<_> = std::fs::read_dir(format!("/proc/{}/task", sensor.child.id())).unwrap().map(|e| e.unwrap().path()).collect();
    assert!(tasks.len() >= 3, "the signal, reload and sink threads exist too: {}", tasks.len());
    for task in &tasks {
        let status = std::fs::read_to_string(task.join("status")).unwrap();
        let ids: Vec<&str> = status_field(&status, "Uid:").split_whitespace().collect();
        assert_eq!(ids, [uid.as_str(); 4], "{}: {status}", task.display());
        let gids: Vec<&str> = status_field(&status, "Gid:").split_whitespace().collect();
        assert!(gids.iter().all(|g| *g == gids[0] && *g != "0"), "{}: {status}", task.display());
        assert_eq!(status_field(&status, "Groups:"), "", "{}", task.display());
        // CAP_NET_RAW is bit 13.
        assert_eq!(status_field(&status, "CapPrm:"), "0000000000002000", "{}", task.display());
        assert_eq!(status_field(&status, "CapEff:"), "0000000000002000", "{}", task.display());
        assert_eq!(status_field(&status, "CapAmb:"), "0000000000000000", "{}", task.display());
        assert_eq!(status_field(&status, "NoNewPrivs:"), "1", "{}", task.display());
    }
    let sent = net.tcpreplay(&demo());
    sensor.wait_for(Duration::from_secs(10), |s| alert_ids(s).len() >= 6);
    let eve = sensor.eve.clone();
    let summary_path = sensor.summary.clone();
    let summary = sensor.stop();
    assert_eq!(summary["packets"], sent);
    use std::os::unix::fs::MetadataExt;
    for file in [&eve, &summary_path] {
        let meta = std::fs::metadata(file).unwrap();
        assert_eq!(meta.mode() & 0o777, 0o640, "{}", file.display());
        assert_eq!(meta.uid().to_string(), uid, "{} is the sensor user's", file.display());
    }
}

#[test]
fn started_as_root_without_a_user_it_refuses_and_says_why() {
    let Some(net) = Net::new("r", &[]) else { return };
    let o = sensor_run(&net, &["sense", "-i", SENSOR_IF, "--eve", "/dev/null"]);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("refusing to run as root: give --user NAME") && err.contains("--allow-root"), "{err}");
    let o = sensor_run(&net, &["sense", "-i", SENSOR_IF, "--user", "nobody", "--test-config"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let o = sensor_run(&net, &["sense", "-i", SENSOR_IF, "--user", "no-such-user", "--test-config"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no-such-user: no such user"));
}

const NOTHING: &str = "- id: site.reads\n  sid: 9000001\n  name: Site reads\n  description: reads\n  severity: low\n  category: Collection\n  attack: [T0801]\n  match:\n    modbus.function: 99\n";

#[test]
fn sigusr2_reloads_rules_without_a_lost_packet_and_a_broken_file_keeps_the_old_set() {
    let Some(net) = Net::new("u", &["tcpreplay"]) else { return };
    let dir = scratch("reload");
    let rules = dir.join("site");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::write(rules.join("site.yaml"), NOTHING).unwrap();
    let r = rules.display().to_string();
    let sensor = Sensor::start(&net, &dir, &["--stats-interval", "0", "--rules", &r]);
    // Each round sends other sessions (a session sent again would read as retransmitted).
    let first = net.tcpreplay(&fixture("network"));
    sensor.wait_for(Duration::from_secs(10), |s| s.records().iter().any(|r| r["event_type"] == "modbus"));
    assert!(!alert_ids(&sensor).contains(&"site.reads".to_string()));
    // The site rule now matches the demo's reads.
    std::fs::write(rules.join("site.yaml"), NOTHING.replace("modbus.function: 99", "modbus.function: [1, 2, 3, 4]")).unwrap();
    signal(&sensor, "USR2");
    sensor.wait_for(Duration::from_secs(10), |s| s.log().contains("reloaded"));
    let second = net.tcpreplay(&demo());
    sensor.wait_for(Duration::from_secs(10), |s| alert_ids(s).contains(&"site.reads".to_string()));
    // A broken file: the old set stays (the site rule still fires), the refusal is
    // logged with its file and line, and alerted.
    std::fs::write(rules.join("site.yaml"), NOTHING.replace("severity: low", "severity: lowish")).unwrap();
    signal(&sensor, "USR2");
    sensor.wait_for(Duration::from_secs(10), |s| alert_ids(s).contains(&"sensor.reload.failed".to_string()));
    assert!(sensor.log().contains("site.yaml:5:"), "{}", sensor.log());
    let before = alert_ids(&sensor).iter().filter(|id| *id == "site.reads").count();
    // SIGHUP after the EVE file was moved: a new one is written.
    std::fs::rename(&sensor.eve, dir.join("eve.json.moved")).unwrap();
    signal(&sensor, "HUP");
    std::thread::sleep(Duration::from_millis(300));
    let third = net.tcpreplay(&fixture("streams"));
    sensor.wait_for(Duration::from_secs(10), |s| alert_ids(s).iter().filter(|id| *id == "site.reads").count() >= 1);
    assert!(before >= 1);
    let summary = sensor.stop();
    assert_eq!(summary["packets"], first + second + third, "every packet counted across the reloads");
    assert_eq!(summary["capture"]["kernel_drops"], 0);
    assert_eq!((summary["sensor"]["reloads"].as_u64(), summary["sensor"]["reloads_failed"].as_u64()), (Some(1), Some(1)));
}

#[test]
fn a_link_that_flaps_is_counted_alerted_and_captured_again() {
    let Some(net) = Net::new("f", &["tcpreplay"]) else { return };
    let dir = scratch("flap");
    let sensor = Sensor::start(&net, &dir, &["--stats-interval", "0"]);
    net.exec(&net.sensor, &["ip", "link", "set", SENSOR_IF, "down"]);
    sensor.wait_for(Duration::from_secs(10), |s| alert_ids(s).contains(&"sensor.interface.down".to_string()));
    std::thread::sleep(Duration::from_secs(2));
    net.exec(&net.sensor, &["ip", "link", "set", SENSOR_IF, "up"]);
    sensor.wait_for(Duration::from_secs(10), |s| alert_ids(s).contains(&"sensor.interface.up".to_string()));
    let sent = net.tcpreplay(&demo());
    sensor.wait_for(Duration::from_secs(10), |s| alert_ids(s).len() >= 8);
    let summary = sensor.stop();
    assert_eq!(summary["packets"], sent, "the packets sent after the link returned");
    assert_eq!(summary["sensor"]["interface_outages"], 1);
    assert_eq!(summary["sensor"]["health"]["interface_down"], 1);
}

#[test]
fn an_interface_silent_too_long_is_alerted() {
    let Some(net) = Net::new("s", &[]) else { return };
    let dir = scratch("silence");
    let sensor = Sensor::start(&net, &dir, &["--stats-interval", "0", "--silence-alert", "10s"]);
    let waited = sensor.wait_for(Duration::from_secs(20), |s| alert_ids(s).contains(&"sensor.interface.silent".to_string()));
    assert!(waited >= Duration::from_secs(8), "not before the threshold: {waited:?}");
    let summary = sensor.stop();
    assert_eq!(summary["sensor"]["health"]["interface_silent"], 1);
}

/// Under systemd (`Type=notify`, `WatchdogSec=`): READY=1 once capturing, WATCHDOG=1
/// pings while the pipeline ticks, STOPPING=1 at SIGTERM, on a socket the test binds.
#[test]
fn systemd_hears_ready_watchdog_and_stopping() {
    let Some(net) = Net::new("n", &[]) else { return };
    let dir = scratch("notify");
    let path = dir.join("notify.sock");
    let socket = std::os::unix::net::UnixDatagram::bind(&path).unwrap();
    use std::os::unix::fs::PermissionsExt;
    // The sensor writes to it after dropping to its user.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o777)).unwrap();
    socket.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let sock = path.display().to_string();
    let sensor = Sensor::start_with_env(&net, &dir, &["--stats-interval", "0"], &[("NOTIFY_SOCKET", &sock), ("WATCHDOG_USEC", "400000")]);
    let mut heard = Vec::new();
    let mut buf = [0u8; 256];
    while heard.iter().filter(|m| *m == "WATCHDOG=1").count() < 3 {
        let n = socket.recv(&mut buf).expect("a notification within 10 s");
        heard.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    assert_eq!(heard.iter().filter(|m| *m == "READY=1").count(), 1, "{heard:?}");
    let pid = sensor.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    loop {
        let n = socket.recv(&mut buf).expect("STOPPING=1 within 10 s");
        if &buf[..n] == b"STOPPING=1" {
            break;
        }
    }
    let mut child = sensor.child;
    assert!(child.wait().unwrap().success());
}

/// `/health` and `/metrics` scraped from the sensor's namespace with prometheus_client's
/// parser: the packets sent are counted, and health turns 503 while the link is down.
fn scrape(net: &Net, python: &Path) -> (String, std::collections::BTreeMap<String, f64>) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/scrape.py");
    let o = net.command(&net.sensor, &python.display().to_string()).arg(script).arg("http://127.0.0.1:9464").output().unwrap();
    assert!(o.status.success(), "scrape: {}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    let mut lines = text.lines();
    let health = lines.next().unwrap_or("").to_string();
    let samples = lines
        .filter_map(|l| {
            let mut f = l.split('|');
            let (name, labels, value) = (f.next()?, f.next()?, f.next()?);
            let key = if labels.is_empty() { name.to_string() } else { format!("{name}{{{labels}}}") };
            Some((key, value.parse().ok()?))
        })
        .collect();
    (health, samples)
}

#[test]
fn metrics_count_what_was_sent_and_health_follows_the_link() {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/venv-peers/bin/python");
    if !python.is_file() {
        live::unavailable("no venv with prometheus-client (scripts/peers-deps makes target/venv-peers)");
        return;
    }
    let Some(net) = Net::new("m", &["tcpreplay"]) else { return };
    net.exec(&net.sensor, &["ip", "link", "set", "lo", "up"]);
    let dir = scratch("metrics");
    let sensor = Sensor::start(&net, &dir, &["--stats-interval", "0", "--metrics", "9464"]);
    let sent = net.tcpreplay(&demo());
    sensor.wait_for(Duration::from_secs(10), |s| alert_ids(s).len() >= 6);
    // The view is published every second.
    let mut got = scrape(&net, &python);
    for _ in 0..30 {
        if got.1.get("otsentry_packets_total") == Some(&(sent as f64)) {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
        got = scrape(&net, &python);
    }
    let (health, samples) = got;
    assert_eq!(samples.get("otsentry_packets_total"), Some(&(sent as f64)), "{samples:?}");
    assert_eq!(samples.get(&format!("otsentry_interface_packets_total{{interface={SENSOR_IF}}}")), Some(&(sent as f64)));
    assert!(samples.get("otsentry_alerts_total{severity=critical}").is_some_and(|&n| n >= 1.0), "{samples:?}");
    assert!(samples.get("otsentry_pdus_total{protocol=modbus}").is_some_and(|&n| n >= 1.0), "{samples:?}");
    assert_eq!(samples.get("otsentry_kernel_drops_total"), Some(&0.0));
    assert!(health.starts_with("health 200"), "{health}");
    net.exec(&net.sensor, &["ip", "link", "set", SENSOR_IF, "down"]);
    sensor.wait_for(Duration::from_secs(10), |s| alert_ids(s).contains(&"sensor.interface.down".to_string()));
    std::thread::sleep(Duration::from_millis(1500));
    let (health, samples) = scrape(&net, &python);
    assert!(health.starts_with("health 503") && health.contains(&format!("interface {SENSOR_IF} down")), "{health}");
    assert_eq!(samples.get(&format!("otsentry_interface_up{{interface={SENSOR_IF}}}")), Some(&0.0));
    net.exec(&net.sensor, &["ip", "link", "set", SENSOR_IF, "up"]);
    sensor.wait_for(Duration::from_secs(10), |s| alert_ids(s).contains(&"sensor.interface.up".to_string()));
    std::thread::sleep(Duration::from_millis(1500));
    assert!(scrape(&net, &python).0.starts_with("health 200"));
    sensor.stop();
}

/// An interface that disappears (its capture handle fails) and comes back under the same
/// name is opened again by the sensor, which then counts what is sent on it and ends
/// cleanly.
#[test]
fn a_failed_handle_is_reopened_when_its_interface_returns() {
    let Some(net) = Net::new("o", &["tcpreplay"]) else { return };
    let dir = scratch("reopen");
    let sensor = Sensor::start(&net, &dir, &["--stats-interval", "0"]);
    net.exec(&net.sensor, &["ip", "link", "del", SENSOR_IF]);
    sensor.wait_for(Duration::from_secs(10), |s| alert_ids(s).contains(&"sensor.interface.down".to_string()));
    net.add_pair(SENSOR_IF, live::PEER_IF);
    sensor.wait_for(Duration::from_secs(20), |s| s.log().contains("capture reopened"));
    sensor.wait_for(Duration::from_secs(10), |s| alert_ids(s).contains(&"sensor.interface.up".to_string()));
    let sent = net.tcpreplay(&demo());
    sensor.wait_for(Duration::from_secs(10), |s| alert_ids(s).len() >= 8);
    let summary = sensor.stop();
    assert_eq!(summary["packets"], sent);
    assert_eq!((summary["sensor"]["interface_outages"].as_u64(), summary["sensor"]["interface_reopened"].as_u64()), (Some(1), Some(1)));
}
