//! `otsentry sense` between live peers nobody here wrote: pymodbus, python-snap7 and
//! dnp3py servers in one namespace, their clients in the other (the sensor's), across
//! the veth pair. The sensor dissects their traffic and raises the pack's alerts for a
//! Modbus restart of communications, an S7 PLC stop and a DNP3 cold restart.
//! The peers come from the venv `scripts/peers-deps` makes (`target/venv-peers`).
mod live;

use live::{scratch, unavailable, Net, Sensor};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

const SENSOR_ADDR: &str = "10.99.0.1";
const PEER_ADDR: &str = "10.99.0.2";

fn python() -> Option<PathBuf> {
    let path = match std::env::var_os("OTSENTRY_PEERS_PYTHON") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/venv-peers/bin/python"),
    };
    path.is_file().then_some(path)
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/peers.py")
}

/// A server killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `role` in the peer's namespace and waits until it listens on `port`.
fn serve(net: &Net, python: &Path, role: &str, port: u16, log: &Path) -> Server {
    let child = net
        .command(&net.peer, &python.display().to_string())
        .arg(script())
        .args([role, PEER_ADDR])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    let server = Server(child);
    let start = Instant::now();
    loop {
        let ss = net.exec(&net.peer, &["ss", "-ltnH"]);
        if String::from_utf8_lossy(&ss.stdout).contains(&format!("{PEER_ADDR}:{port}")) {
            return server;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "{role} does not listen: {}", std::fs::read_to_string(log).unwrap_or_default());
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Runs `role`'s session from the sensor's namespace.
fn client(net: &Net, python: &Path, role: &str) {
    let o = net.command(&net.sensor, &python.display().to_string()).arg(script()).args([role, PEER_ADDR]).output().unwrap();
    assert!(o.status.success(), "{role}: {}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
}

/// The peers' python and a network with addresses on both ends (`None`, reported, where
/// either cannot be had).
fn peers_network(tag: &str) -> Option<(PathBuf, Net)> {
    let Some(python) = python() else {
        unavailable("no venv with the peers (scripts/peers-deps makes target/venv-peers)");
        return None;
    };
    let net = Net::new(tag, &["ss"])?;
    net.exec(&net.sensor, &["ip", "addr", "add", &format!("{SENSOR_ADDR}/24"), "dev", live::SENSOR_IF]);
    net.exec(&net.peer, &["ip", "addr", "add", &format!("{PEER_ADDR}/24"), "dev", live::PEER_IF]);
    Some((python, net))
}

#[test]
fn live_peers_are_dissected_and_their_attacks_alert() {
    let Some((python, net)) = peers_network("p") else { return };
    let dir = scratch("peers");
    let sensor = Sensor::start(&net, &dir, &["--stats-interval", "0"]);
    for (server, port, session) in
        [("modbus-server", 502, "modbus-client"), ("s7-server", 102, "s7-client"), ("dnp3-outstation", 20000, "dnp3-master")]
    {
        let _running = serve(&net, &python, server, port, &dir.join(format!("{server}.log")));
        client(&net, &python, session);
    }
    let want = ["modbus.diagnostic.restart_communications", "s7comm.plc_stop", "dnp3.restart.cold"];
    sensor.wait_for(Duration::from_secs(10), |s| {
        let alerts: Vec<_> = s.records().into_iter().filter(|r| r["event_type"] == "alert").collect();
        want.iter().all(|w| alerts.iter().any(|a| a["alert"]["metadata"]["rule_id"][0] == *w))
    });
    let summary = sensor.stop();
    let p = &summary["protocols"];
    assert!(p["modbus"]["functions"]["3"].as_u64().unwrap() >= 1, "{p}");
    assert!(p["modbus"]["functions"]["6"].as_u64().unwrap() >= 1, "{p}");
    assert!(p["s7comm"]["functions"]["41"].as_u64().unwrap() >= 1, "{p}");
    assert!(p["dnp3"]["functions"]["13"].as_u64().unwrap() >= 1, "{p}");
    assert!(p["dnp3"]["functions"]["1"].as_u64().unwrap() >= 1, "{p}");
    assert_eq!(summary["capture"]["kernel_drops"], 0);
    for a in want {
        assert!(summary["alerts"]["by_rule"][a].as_u64().unwrap() >= 1, "{a}: {}", summary["alerts"]);
    }
}

/// Runs `role`'s session from the sensor's namespace with more arguments.
fn client_with(net: &Net, python: &Path, role: &str, args: &[&str]) {
    let o = net.command(&net.sensor, &python.display().to_string()).arg(script()).args([role, PEER_ADDR]).args(args).output().unwrap();
    assert!(o.status.success(), "{role}: {}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
}

fn baseline_alerts(s: &Sensor) -> Vec<String> {
    s.records()
        .into_iter()
        .filter(|r| r["event_type"] == "alert")
        .filter_map(|r| r["alert"]["metadata"]["rule_id"][0].as_str().map(str::to_string))
        // A poll that ends is silence, not traffic: the routine's own end may raise it.
        .filter(|id| id.starts_with("baseline.") && id != "baseline.poll.stopped")
        .collect()
}

#[test]
fn a_sensor_learns_its_baseline_live_then_alerts_on_what_it_never_saw() {
    let Some((python, net)) = peers_network("l") else { return };
    let dir = scratch("learn");
    let out = dir.join("learned.yaml");
    let _modbus = serve(&net, &python, "modbus-server", 502, &dir.join("modbus-server.log"));
    let _s7 = serve(&net, &python, "s7-server", 102, &dir.join("s7-server.log"));
    let sensor = Sensor::start(&net, &dir, &["--stats-interval", "0", "--learn-for", "5s", "--baseline-out", out.to_str().unwrap()]);
    // The HMI polls for 8 s: 5 learned, the rest already checked against what was.
    client_with(&net, &python, "modbus-poll", &["8"]);
    sensor.wait_for(Duration::from_secs(10), |_| out.is_file());
    let learned = std::fs::read_to_string(&out).unwrap();
    let file = otsentry_engine::parse_baseline(&out, &learned).expect("the learned baseline reads as `--baseline` would");
    assert!(file.pairs.iter().any(|p| p.server.to_string() == PEER_ADDR), "the poll was learned:\n{learned}");
    assert_eq!(baseline_alerts(&sensor), Vec::<String>::new(), "the learned routine raises nothing");
    // The attacker's write and restart, and a PLC stop on a conversation never seen.
    client(&net, &python, "modbus-client");
    client(&net, &python, "s7-client");
    sensor.wait_for(Duration::from_secs(10), |s| {
        let a = baseline_alerts(s);
        a.len() >= 2 && a.iter().any(|id| id.contains("pair")) && a.iter().any(|id| id.contains("function") || id.contains("class"))
    });
    let after_attack = baseline_alerts(&sensor);
    // The routine goes on: nothing more.
    client_with(&net, &python, "modbus-poll", &["2"]);
    std::thread::sleep(Duration::from_millis(500));
    let summary = sensor.stop();
    let all: Vec<String> = summary["alerts"]["by_rule"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| k.starts_with("baseline.") && *k != "baseline.poll.stopped")
        .flat_map(|(k, n)| std::iter::repeat_n(k.clone(), n.as_u64().unwrap() as usize))
        .collect();
    assert_eq!(all.len(), after_attack.len(), "benign polling after the attack raised {all:?} beyond {after_attack:?}");
    assert_eq!(summary["capture"]["kernel_drops"], 0);
}
