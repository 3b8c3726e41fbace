//! A virtual network for `otsentry sense`: two network namespaces joined by a veth pair,
//! made and removed by the test (as root, as CI runs). The sensor's end carries no
//! address and has IPv6 off, so the kernel adds nothing to what is captured.
#![allow(dead_code)]
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub(crate) const SENSOR_IF: &str = "ots0";
pub(crate) const PEER_IF: &str = "ots1";

/// Why a test cannot run here: it skips visibly, or fails under `CI=true`.
#[track_caller]
pub(crate) fn unavailable(why: &str) {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI=true requires the live-capture test network: {why}");
    }
    otsentry_pcapgen::shared::report_suite(otsentry_pcapgen::shared::SuiteOutcome::Skipped(why));
}

fn sh(args: &[&str]) -> Output {
    Command::new(args[0]).args(&args[1..]).output().unwrap_or_else(|e| panic!("{}: {e}", args.join(" ")))
}

#[track_caller]
fn must(args: &[&str]) {
    let o = sh(args);
    assert!(o.status.success(), "{}: {}", args.join(" "), String::from_utf8_lossy(&o.stderr));
}

/// Two namespaces, `sensor` and `peer`, joined by a veth pair; removed on drop.
pub(crate) struct Net {
    pub(crate) sensor: String,
    pub(crate) peer: String,
}

impl Net {
    /// The network for test `tag`, or `None` (after reporting why) where it cannot be
    /// made: not root, no `ip`, or a missing tool the test names.
    #[track_caller]
    pub(crate) fn new(tag: &str, tools: &[&str]) -> Option<Net> {
        let root = sh(&["id", "-u"]).stdout == b"0\n";
        if !root {
            unavailable("not root: network namespaces need root (CI runs as root)");
            return None;
        }
        for tool in ["ip"].iter().chain(tools) {
            if sh(&["sh", "-c", &format!("command -v {tool}")]).stdout.is_empty() {
                unavailable(&format!("{tool} not found (scripts/test installs it)"));
                return None;
            }
        }
        let id = format!("{}{}", std::process::id() % 100_000, tag);
        let net = Net { sensor: format!("ots-s{id}"), peer: format!("ots-p{id}") };
        for ns in [&net.sensor, &net.peer] {
            let _ = sh(&["ip", "netns", "del", ns]);
            must(&["ip", "netns", "add", ns]);
            net.exec(ns, &["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"]);
            net.exec(ns, &["sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1"]);
            net.exec(ns, &["ip", "link", "set", "lo", "up"]);
        }
        let (a, b) = (format!("{SENSOR_IF}{id}"), format!("{PEER_IF}{id}"));
        must(&["ip", "link", "add", &a, "type", "veth", "peer", "name", &b]);
        must(&["ip", "link", "set", &a, "netns", &net.sensor]);
        must(&["ip", "link", "set", &b, "netns", &net.peer]);
        net.exec(&net.sensor, &["ip", "link", "set", &a, "name", SENSOR_IF]);
        net.exec(&net.peer, &["ip", "link", "set", &b, "name", PEER_IF]);
        for (ns, ifname) in [(&net.sensor, SENSOR_IF), (&net.peer, PEER_IF)] {
            // Jumbo: the largest replayed frame must fit.
            net.exec(ns, &["ip", "link", "set", ifname, "mtu", "9000", "up"]);
        }
        Some(net)
    }

    /// A second veth pair, `sensor_if` in the sensor's namespace and `peer_if` in the
    /// peer's (a SPAN session's second port).
    pub(crate) fn add_pair(&self, sensor_if: &str, peer_if: &str) {
        let id = format!("{}", std::process::id() % 100_000);
        let (a, b) = (format!("{sensor_if}x{id}"), format!("{peer_if}x{id}"));
        must(&["ip", "link", "add", &a, "type", "veth", "peer", "name", &b]);
        must(&["ip", "link", "set", &a, "netns", &self.sensor]);
        must(&["ip", "link", "set", &b, "netns", &self.peer]);
        self.exec(&self.sensor, &["ip", "link", "set", &a, "name", sensor_if]);
        self.exec(&self.peer, &["ip", "link", "set", &b, "name", peer_if]);
        for (ns, ifname) in [(&self.sensor, sensor_if), (&self.peer, peer_if)] {
            self.exec(ns, &["ip", "link", "set", ifname, "mtu", "9000", "up"]);
        }
    }

    /// Runs `args` in namespace `ns`; panics on failure.
    #[track_caller]
    pub(crate) fn exec(&self, ns: &str, args: &[&str]) -> Output {
        let mut full = vec!["ip", "netns", "exec", ns];
        full.extend_from_slice(args);
        let o = sh(&full);
        assert!(o.status.success(), "{}: {}{}", full.join(" "), String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
        o
    }

    /// A command in namespace `ns`, to be spawned.
    pub(crate) fn command(&self, ns: &str, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", ns, program]);
        c
    }

    /// `tcpreplay` from the peer at full speed; the packets it reports sent.
    pub(crate) fn tcpreplay(&self, capture: &Path) -> u64 {
        let o = self.exec(&self.peer, &["tcpreplay", "--topspeed", "-i", PEER_IF, &capture.display().to_string()]);
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        sent(&text).unwrap_or_else(|| panic!("tcpreplay said no count:\n{text}"))
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        for ns in [&self.sensor, &self.peer] {
            let _ = sh(&["ip", "netns", "del", ns]);
        }
    }
}

/// The "Successful packets: N" of tcpreplay's report, summed over its interfaces.
pub(crate) fn sent(report: &str) -> Option<u64> {
    let counts: Vec<u64> =
        report.lines().filter_map(|l| l.trim().strip_prefix("Successful packets:")).filter_map(|n| n.trim().parse().ok()).collect();
    (!counts.is_empty()).then(|| counts.iter().sum())
}

/// A running `otsentry sense` in the sensor's namespace, writing into `dir`.
pub(crate) struct Sensor {
    pub(crate) child: Child,
    pub(crate) eve: PathBuf,
    pub(crate) summary: PathBuf,
    pub(crate) stderr: PathBuf,
}

impl Sensor {
    /// Starts the sensor on the sensor's end with `extra` flags, and waits until its
    /// capture is open (the EVE file exists: outputs open after the capture handle).
    pub(crate) fn start(net: &Net, dir: &Path, extra: &[&str]) -> Sensor {
        Sensor::start_with_env(net, dir, extra, &[])
    }

    /// [`Sensor::start`] with environment variables set for the sensor.
    pub(crate) fn start_with_env(net: &Net, dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Sensor {
        let eve = dir.join("eve.json");
        let summary = dir.join("summary.json");
        let stderr = dir.join("stderr.txt");
        let _ = std::fs::remove_file(&eve);
        // The sensor drops to `nobody` once its interface is open, as an installed one
        // does, unless the test chooses otherwise; it writes into `dir`.
        let chosen = extra.iter().any(|a| *a == "--user" || *a == "--allow-root");
        let user: &[&str] = if chosen { &[] } else { &["--user", "nobody"] };
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        let mut c = net.command(&net.sensor, env!("CARGO_BIN_EXE_otsentry"));
        c.args(["--log-level", "info", "sense", "-i", SENSOR_IF, "--host", "test-sensor"])
            .args(user)
            .arg("--eve")
            .arg(&eve)
            .arg("--summary-json")
            .arg(&summary)
            .args(extra)
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr).unwrap());
        let child = c.spawn().unwrap();
        let sensor = Sensor { child, eve, summary, stderr };
        sensor.wait_for(Duration::from_secs(20), |s| s.log().contains("capture started"));
        sensor
    }

    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// The EVE records so far: whole lines only (the sensor may be writing the last).
    pub(crate) fn records(&self) -> Vec<serde_json::Value> {
        let text = std::fs::read_to_string(&self.eve).unwrap_or_default();
        text.split_inclusive('\n').filter(|l| l.ends_with('\n') && l.len() > 1).map(|l| serde_json::from_str(l).unwrap()).collect()
    }

    /// Waits until `done` holds (checked every 50 ms), panicking after `limit`.
    #[track_caller]
    pub(crate) fn wait_for(&self, limit: Duration, done: impl Fn(&Sensor) -> bool) -> Duration {
        let start = Instant::now();
        while !done(self) {
            assert!(start.elapsed() < limit, "not within {limit:?}; sensor log:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(50));
        }
        start.elapsed()
    }

    /// SIGTERM; the exit status and the summary it wrote.
    pub(crate) fn stop(mut self) -> serde_json::Value {
        let pid = self.child.id().to_string();
        assert!(sh(&["kill", "-TERM", &pid]).status.success());
        let status = self.child.wait().unwrap();
        assert!(status.success(), "sense exited {status}: {}", self.log());
        let text = std::fs::read_to_string(&self.summary).unwrap();
        serde_json::from_str(&text).unwrap()
    }
}

/// Waits for `child` to exit: its exit status and peak resident memory (KiB), the
/// kernel's high-water mark (`VmHWM`) of that one process, read every 10 ms until it
/// exits (the mark only rises, so only the last 10 ms can escape).
pub(crate) fn wait_measured(child: &mut Child) -> (std::process::ExitStatus, u64) {
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    loop {
        if let Some(kib) = std::fs::read_to_string(&status_file)
            .ok()
            .and_then(|t| t.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok()))
        {
            peak = peak.max(kib);
        }
        if let Some(status) = child.try_wait().unwrap() {
            return (status, peak);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

impl Sensor {
    /// SIGTERM; the summary it wrote and its peak resident memory (KiB).
    pub(crate) fn stop_measured(mut self) -> (serde_json::Value, u64) {
        let pid = self.child.id().to_string();
        assert!(sh(&["kill", "-TERM", &pid]).status.success());
        let (status, peak_kib) = wait_measured(&mut self.child);
        assert!(status.success(), "sense exited {status}: {}", self.log());
        let text = std::fs::read_to_string(&self.summary).unwrap();
        (serde_json::from_str(&text).unwrap(), peak_kib)
    }
}

/// A fresh scratch directory for one test.
pub(crate) fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("otsentry-sense-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `otsentry replay` over `capture` with `extra` flags: its summary.
pub(crate) fn replay_summary(capture: &Path, dir: &Path, extra: &[&str]) -> serde_json::Value {
    let summary = dir.join("replay-summary.json");
    let o = Command::new(env!("CARGO_BIN_EXE_otsentry"))
        .args(["replay", "-q", "--host", "test-sensor", "--summary-json"])
        .arg(&summary)
        .args(extra)
        .arg(capture)
        .stdout(Stdio::null())
        .output()
        .unwrap();
    assert!(o.status.success(), "replay {}: {}", capture.display(), String::from_utf8_lossy(&o.stderr));
    serde_json::from_str(&std::fs::read_to_string(&summary).unwrap()).unwrap()
}
