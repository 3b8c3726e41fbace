//! `otsentry sense` refuses what cannot work with one line naming the setting and exit
//! code 2, before any output is opened for writing; SIGTERM and SIGINT stop it cleanly,
//! and a second signal ends it at once, saying what was not written.
mod live;

use std::path::Path;
use std::process::{Command, Output};

fn otsentry(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_otsentry")).args(args).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[track_caller]
fn refused(args: &[&str], eve: &Path, says: &str) {
    let o = otsentry(args);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
    assert_eq!(err.lines().count(), 1, "{args:?}: one line: {err}");
    assert!(err.contains(says), "{args:?}: {err}");
    assert!(!eve.exists(), "{args:?}: {} was created", eve.display());
}

#[test]
fn bad_settings_fail_before_any_output_is_opened() {
    let dir = live::scratch("cli");
    let eve = dir.join("eve.json");
    let e = eve.display().to_string();
    refused(&["sense", "--eve", &e], &eve, "sense needs an interface");
    refused(&["sense", "-i", "nosuch0", "--eve", &e], &eve, "--interface nosuch0: no such network interface");
    refused(&["sense", "--allow-root", "-i", "lo", "--bpf", "tcp port", "--eve", &e], &eve, "--bpf \"tcp port\": does not compile");
    refused(&["sense", "--allow-root", "-i", "lo", "--rules", "/nonexistent/rules", "--eve", &e], &eve, "/nonexistent/rules");
    let config = dir.join("bad.yaml");
    std::fs::write(&config, "sense:\n  interface: [lo]\n  snaplen: 10\n").unwrap();
    refused(
        &["sense", "--config", &config.display().to_string(), "--eve", &e],
        &eve,
        "bad.yaml:3:3: sense.snaplen: 10 is not in 64..=262144",
    );
    std::fs::write(&config, "replay:\n  eve: x.json\n  bpf: tcp\n").unwrap();
    refused(
        &["sense", "--allow-root", "-i", "lo", "--config", &config.display().to_string(), "--eve", &e],
        &eve,
        "bad.yaml:3:3: replay.bpf: a key of sense, not of replay",
    );
    let o = otsentry(&["sense", "-i", "lo", "--read-timeout", "0ms"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--read-timeout"), "{}", stderr(&o));
}

#[test]
fn without_the_privilege_to_capture_it_says_so() {
    let root = Command::new("id").arg("-u").output().unwrap().stdout == b"0\n";
    let setpriv = Command::new("sh").args(["-c", "command -v setpriv"]).output().unwrap().stdout;
    if !root || setpriv.is_empty() {
        live::unavailable("needs root and setpriv to run the sensor as an unprivileged user");
        return;
    }
    let o = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", env!("CARGO_BIN_EXE_otsentry"), "sense", "-i", "lo"])
        .output()
        .unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("--interface lo: no permission to capture"), "{err}");
}

/// A sensor on the test network, stopped by `signals` (sent in one go): its exit and
/// stderr, and its summary (null if none was written); `None` without the network.
fn stopped_by(signals: &[&str]) -> Option<(Output, serde_json::Value)> {
    let net = live::Net::new(&format!("g{}", signals.len()), &[])?;
    let dir = live::scratch(&format!("signals{}", signals.len()));
    let sensor = live::Sensor::start(&net, &dir, &["--stats-interval", "0"]);
    let pid = sensor.child.id().to_string();
    let mut script = String::new();
    for s in signals {
        script.push_str(&format!("kill -{s} {pid}; "));
    }
    assert!(Command::new("sh").args(["-c", &script]).status().unwrap().success());
    let mut child = sensor.child;
    let status = child.wait().unwrap();
    let err = std::fs::read_to_string(&sensor.stderr).unwrap_or_default();
    let summary = std::fs::read_to_string(&sensor.summary).ok().and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default();
    drop(net);
    Some((Output { status, stdout: Vec::new(), stderr: err.into_bytes() }, summary))
}

#[test]
fn one_signal_stops_cleanly_and_a_second_exits_at_once() {
    let Some((o, summary)) = stopped_by(&["INT"]) else { return };
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(summary.get("packets").is_some(), "the summary is written after SIGINT");
    // Two different signals: the same one twice may be delivered once.
    let (o, summary) = stopped_by(&["TERM", "INT"]).unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("second signal: exiting now; about") && err.contains("not yet written are lost"), "{err}");
    assert!(summary.is_null(), "no summary after a hard stop");
}

#[test]
fn an_interface_that_disappears_is_reported_and_the_other_goes_on() {
    let Some(net) = live::Net::new("d", &["tcpreplay"]) else { return };
    net.add_pair("ots2", "ots3");
    let dir = live::scratch("gone");
    let sensor = live::Sensor::start(&net, &dir, &["-i", "ots2", "--stats-interval", "0"]);
    net.exec(&net.sensor, &["ip", "link", "del", "ots2"]);
    sensor.wait_for(std::time::Duration::from_secs(10), |s| s.log().contains("capture failed; the other interfaces go on"));
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/demo/input.pcap");
    let sent = net.tcpreplay(&demo);
    sensor.wait_for(std::time::Duration::from_secs(10), |s| s.records().iter().filter(|r| r["event_type"] == "alert").count() >= 6);
    let mut child = sensor.child;
    assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
    let status = child.wait().unwrap();
    let err = std::fs::read_to_string(&sensor.stderr).unwrap();
    assert_eq!(status.code(), Some(1), "a capture failed: {err}");
    assert!(err.contains("--interface ots2: capture failed"), "{err}");
    let summary: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&sensor.summary).unwrap()).unwrap();
    assert_eq!(summary["packets"], sent, "the other interface went on");
    assert!(summary["inputs"][1]["damage"].as_str().unwrap().contains("ots2"), "{}", summary["inputs"]);
}
