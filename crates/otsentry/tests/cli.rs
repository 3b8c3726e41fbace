//! The `otsentry replay` command as a user runs it: outputs, exit codes, warnings.
use otsentry_pcapgen::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn otsentry(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_otsentry")).args(args).output().expect("run otsentry")
}

fn temp_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("otsentry-cli-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write(name: &str, bytes: &[u8]) -> PathBuf {
    let p = temp_dir().join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn fixture(case: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures").join(case).join("input.pcap").display().to_string()
}

fn summary(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn replay_writes_eve_lines_and_one_summary_object() {
    let sum = temp_dir().join("demo-summary.json");
    let o = otsentry(&["replay", "--eve", "-", "--summary-json", sum.to_str().unwrap(), &fixture("demo")]);
    assert!(o.status.success(), "{}", stderr(&o));
    let lines: Vec<serde_json::Value> =
        String::from_utf8(o.stdout.clone()).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let count = |t: &str| lines.iter().filter(|l| l["event_type"] == t).count();
    let counts =
        (count("anomaly"), count("flow"), count("modbus"), count("dnp3"), count("s7comm"), count("alert"), count("asset"), lines.len());
    // Seven alerts: the laptop's register write is judged without a variables file, as
    // the first pass finds no host that polled before it wrote. Six hosts sent, three
    // served and three asked: twelve asset records.
    assert_eq!(counts, (5, 6, 4, 82, 1, 7, 12, 117));
    for l in &lines {
        assert!(l["timestamp"].as_str().unwrap().starts_with("2026-01-15T08:00:00."));
    }
    let text = std::fs::read_to_string(&sum).unwrap();
    assert_eq!(text.trim_end().lines().count(), 1, "exactly one JSON object on one line");
    let s = summary(&sum);
    assert_eq!((s["packets"].as_u64(), s["decode_errors"].as_u64()), (Some(33), Some(1)));
    assert!(s["packets_per_sec"].as_f64().unwrap() > 0.0);
    let err = stderr(&o);
    assert!(err.contains("33 packets") && err.contains("packets/s") && err.contains("alerts: 7"), "{err}");
}

#[test]
fn both_readers_give_the_same_summary_counts() {
    let a = temp_dir().join("mmap.json");
    let b = temp_dir().join("libpcap.json");
    for (reader, out) in [("mmap", &a), ("libpcap", &b)] {
        let o =
            otsentry(&["replay", "-q", "--reader", reader, "--summary-json", out.to_str().unwrap(), &fixture("demo"), &fixture("tunnels")]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let (mut x, mut y) = (summary(&a), summary(&b));
    for v in [&mut x, &mut y] {
        v["elapsed_s"] = 0.into();
        v["packets_per_sec"] = 0.into();
    }
    assert_eq!(x, y);
    assert_eq!(x["packets"], 39);
}

#[test]
fn bad_inputs_fail_with_one_line_naming_the_file_and_exit_2() {
    let text = write("readme.txt", b"hello, not a capture\n");
    let lt = write("lt147.pcap", &PcapWriter::new(147).into_bytes());
    let cases = [
        ("/nonexistent/capture.pcap".to_string(), "no such file or directory"),
        (text.display().to_string(), "not a pcap or pcapng capture"),
        (lt.display().to_string(), "unsupported link type 147"),
    ];
    for (path, what) in cases {
        for reader in ["mmap", "libpcap"] {
            let o = otsentry(&["replay", "-q", "--reader", reader, &path]);
            assert_eq!(o.status.code(), Some(2), "{path} ({reader}): {}", stderr(&o));
            let err = stderr(&o);
            assert_eq!(err.trim_end().lines().count(), 1, "{err}");
            assert!(err.contains(&path) && err.contains(what), "{err}");
        }
    }
}

#[test]
fn truncated_capture_keeps_every_record_before_the_damage_and_exits_0() {
    let demo = std::fs::read(fixture("demo")).unwrap();
    let cut = write("demo-cut.pcap", &demo[..demo.len() - 30]);
    let sum = temp_dir().join("cut.json");
    for reader in ["mmap", "libpcap"] {
        let o = otsentry(&["replay", "--reader", reader, "--summary-json", sum.to_str().unwrap(), cut.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let err = stderr(&o);
        assert!(err.contains("warning") && err.contains("record 33 at byte offset"), "{err}");
        assert_eq!(summary(&sum)["packets"], 32);
        assert_eq!(summary(&sum)["decode"]["files_truncated"], 1);
    }
}

#[test]
fn every_link_type_replays_cleanly() {
    let c: std::net::SocketAddr = "10.1.1.1:40000".parse().unwrap();
    let s: std::net::SocketAddr = "10.1.1.2:502".parse().unwrap();
    let t = Tcp { src_port: c.port(), dst_port: s.port(), seq: 1, ack: 1, flags: PSH | ACK, window: 64 };
    let pkt = ip(c.ip(), s.ip(), PROTO_TCP, 1, &tcp(c.ip(), s.ip(), &t, &ot::modbus_adu(1, 1, &[3, 0, 0, 0, 1])));
    let frames: [(u32, Vec<u8>); 10] = [
        (0, null_link(2, &pkt)),
        (1, eth_ip(&pkt)),
        (12, pkt.clone()),
        (14, pkt.clone()),
        (101, pkt.clone()),
        (108, loop_link(2, &pkt)),
        (113, sll(ETH_IPV4, &pkt)),
        (228, pkt.clone()),
        (
            229,
            ip(
                "fd00::1".parse().unwrap(),
                "fd00::2".parse().unwrap(),
                PROTO_UDP,
                0,
                &udp("fd00::1".parse().unwrap(), "fd00::2".parse().unwrap(), 20000, 20000, &[1, 2, 3]),
            ),
        ),
        (276, sll2(ETH_IPV4, &pkt)),
    ];
    for (link, frame) in frames {
        let mut w = PcapWriter::new(link);
        w.packet(1_000_000_000, &frame);
        let f = write(&format!("link{link}.pcap"), &w.into_bytes());
        let mut ng = PcapngWriter::new();
        let i = ng.interface(link as u16, 0, Some(9));
        ng.packet(i, 1_000_000_000, &frame);
        let g = write(&format!("link{link}.pcapng"), &ng.into_bytes());
        for file in [&f, &g] {
            let sum = temp_dir().join(format!("link{link}.json"));
            let o = otsentry(&["replay", "-q", "--summary-json", sum.to_str().unwrap(), file.to_str().unwrap()]);
            assert!(o.status.success(), "link {link}: {}", stderr(&o));
            let v = summary(&sum);
            assert_eq!(
                (v["packets"].as_u64(), v["decode_errors"].as_u64(), v["decode"]["non_ip"].as_u64()),
                (Some(1), Some(0), Some(0)),
                "link {link}"
            );
            assert_eq!(v["decode"]["tcp_checksum_errors"].as_u64().unwrap() + v["decode"]["udp_checksum_errors"].as_u64().unwrap(), 0);
        }
    }
}

#[test]
fn checksum_anomalies_only_when_asked() {
    let mut bad = eth_ip(&ip_udp("10.0.0.1:20000".parse().unwrap(), "10.0.0.2:20000".parse().unwrap(), &[1, 2, 3, 4]));
    let n = bad.len();
    bad[n - 1] ^= 0xff;
    let mut w = PcapWriter::new(1);
    w.packet(0, &bad);
    let f = write("badsum.pcap", &w.into_bytes());
    let anomalies = |o: Output| String::from_utf8(o.stdout).unwrap().lines().filter(|l| l.contains("\"anomaly\"")).count();
    let quiet = otsentry(&["replay", "-q", "--no-rules", "--eve", "-", f.to_str().unwrap()]);
    assert!(quiet.status.success());
    assert_eq!(anomalies(quiet), 0);
    let loud = otsentry(&["replay", "-q", "--no-rules", "--checksum-anomalies", "--eve", "-", f.to_str().unwrap()]);
    let out = String::from_utf8(loud.stdout.clone()).unwrap();
    assert_eq!(anomalies(loud), 1);
    assert!(out.contains("decoder.udp.invalid_checksum"), "{out}");
}

#[test]
fn app_port_moves_a_protocol_to_another_port() {
    let streams = fixture("streams");
    let events = |extra: &[&str]| {
        let mut args = vec!["replay", "-q", "--no-rules", "--eve", "-"];
        args.extend_from_slice(extra);
        args.push(&streams);
        let o = otsentry(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        String::from_utf8(o.stdout).unwrap().lines().filter(|l| l.contains("applayer.ot_protocol_unexpected_port")).count()
    };
    assert_eq!(events(&[]), 1, "Modbus on 5020 is unexpected by default");
    assert_eq!(events(&["--app-port", "modbus=5020"]), 0);
    assert_eq!(events(&["--app-port", "modbus=5020/tcp"]), 0);
    for bad in ["bogus=1", "modbus=99999", "modbus", "modbus=502/sctp"] {
        let o = otsentry(&["replay", "-q", "--app-port", bad, &streams]);
        assert_eq!(o.status.code(), Some(2), "{bad}");
        assert!(stderr(&o).contains("--app-port"), "{bad}: {}", stderr(&o));
    }
}

#[test]
fn eve_types_choose_the_records_written() {
    let o = otsentry(&["replay", "-q", "--eve", "-", "--eve-types", "alert,flow", &fixture("demo")]);
    assert!(o.status.success(), "{}", stderr(&o));
    let types: std::collections::BTreeSet<String> = String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["event_type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(types, ["alert", "flow"].map(String::from).into());
    let bad = otsentry(&["replay", "-q", "--eve", "-", "--eve-types", "alert,flows", &fixture("demo")]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("\"flows\" is not an EVE record type"), "{}", stderr(&bad));
}

#[test]
fn policy_classes_gives_every_function_one_of_the_seven_classes() {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_otsentry")).args(["policy", "classes"]).output().unwrap();
    assert!(o.status.success());
    let text = String::from_utf8(o.stdout).unwrap();
    let classes = ["read", "write", "program", "control", "diagnostic", "identification", "management"];
    let rows: Vec<Vec<&str>> = text.lines().skip(1).map(|l| l.split_whitespace().collect()).collect();
    assert!(rows.len() > 150, "{text}");
    for row in &rows {
        assert!(classes.contains(row.last().unwrap()), "{row:?}");
    }
    for class in classes {
        assert!(rows.iter().any(|r| r.last() == Some(&class)), "no function is {class}");
    }
    let class_of = |proto: &str, name: &str| rows.iter().find(|r| r[0] == proto && r[r.len() - 2] == name).map(|r| *r.last().unwrap());
    assert_eq!(class_of("modbus", "write_multiple_registers"), Some("write"));
    assert_eq!(class_of("modbus", "force_listen_only_mode"), Some("management"));
    assert_eq!(class_of("dnp3", "cold_restart"), Some("management"));
    assert_eq!(class_of("dnp3", "enable_unsolicited"), Some("control"));
    assert_eq!(class_of("dnp3", "open_file"), Some("program"));
    assert_eq!(class_of("s7comm", "plc_stop"), Some("management"));
    assert_eq!(class_of("s7comm", "read_szl"), Some("identification"));
}

/// `config check` on a file with five different mistakes lists all five, each with its
/// line and key, and names the key behind a missing file.
#[test]
fn config_check_reports_every_mistake_with_its_line_and_key() {
    let d = temp_dir().join("config-five");
    std::fs::create_dir_all(&d).unwrap();
    let bad = d.join("five.yaml");
    std::fs::write(
        &bad,
        "replay:\n  max-flow: 10\n  eve-types: [alert, flows]\n  quiet: maybe\nsense:\n  recursive: true\nlog-level: loud\n",
    )
    .unwrap();
    let o = otsentry(&["config", "check", bad.to_str().unwrap()]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    for want in [
        "five.yaml:2:3: replay.max-flow: unknown key (did you mean `max-flows`?)",
        "five.yaml:3:3: replay.eve-types: \"flows\" is not an EVE record type",
        "five.yaml:4:3: replay.quiet: invalid type: string \"maybe\", expected a boolean",
        "five.yaml:6:3: sense.recursive: a key of replay, not of sense",
        "five.yaml:7:1: log-level: \"loud\" is not one of",
    ] {
        assert!(err.contains(want), "want {want:?} in:\n{err}");
    }
    let missing = d.join("missing.yaml");
    std::fs::write(&missing, "replay:\n  eve: x\n  vars: /nonexistent/vars.yaml\n").unwrap();
    let o = otsentry(&["config", "check", missing.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("missing.yaml:3:3: replay.vars: /nonexistent/vars.yaml: no such file or directory"), "{}", stderr(&o));
}

/// `--workers` on the command line and `workers:` in the configuration file: the same
/// EVE lines (sorted) and alerts through the binary, each worker's share in the summary;
/// a count out of range is refused naming the flag or the key.
#[test]
fn workers_from_the_flag_or_the_file_give_the_same_records() {
    let d = temp_dir();
    let run = |name: &str, extra: &[&str]| {
        let (eve, sum) = (d.join(format!("{name}.jsonl")), d.join(format!("{name}.json")));
        let mut args = vec!["replay", "-q", "--eve", eve.to_str().unwrap(), "--summary-json", sum.to_str().unwrap()];
        args.extend_from_slice(extra);
        let network = fixture("network");
        args.push(&network);
        let o = otsentry(&args);
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        let mut lines: Vec<String> = std::fs::read_to_string(&eve).unwrap().lines().map(str::to_string).collect();
        lines.sort_unstable();
        (lines, summary(&sum))
    };
    let (one, one_sum) = run("one", &[]);
    let (two, two_sum) = run("two", &["--workers", "2"]);
    let conf = write("workers.yaml", b"replay:\n  workers: 3\n");
    let (three, three_sum) = run("three", &["--config", conf.to_str().unwrap()]);
    assert!(one.iter().any(|l| l.contains(r#""event_type":"alert""#)));
    assert_eq!(one, two);
    assert_eq!(one, three);
    assert_eq!(one_sum["alerts"], two_sum["alerts"]);
    assert!(one_sum.get("sensor").is_none(), "one worker has no shares to report");
    let shares = |s: &serde_json::Value| s["sensor"]["worker_packets"].as_array().map(Vec::len);
    assert_eq!((shares(&two_sum), shares(&three_sum)), (Some(2), Some(3)));
    let o = otsentry(&["replay", "--workers", "0", &fixture("demo")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--workers"), "{}", stderr(&o));
    let bad = write("workers-bad.yaml", b"replay:\n  workers: many\n");
    let o = otsentry(&["replay", "--config", bad.to_str().unwrap(), &fixture("demo")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("replay.workers"), "{}", stderr(&o));
}

#[test]
fn memory_and_evidence_settings_that_cannot_work_exit_2_naming_them() {
    let demo = fixture("demo");
    let o = otsentry(&["replay", "-q", "--memory-cap", "1M", &demo]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("at least 64M"), "{}", stderr(&o));
    // A file where the directory should be: it cannot be made.
    let file = write("not-a-dir", b"x");
    let dir = file.join("evidence");
    let o = otsentry(&["replay", "-q", "--evidence-dir", dir.to_str().unwrap(), &demo]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains(&format!("evidence-dir {}", dir.display())), "{}", stderr(&o));
    // The summary reports the budget by kind.
    let s = temp_dir().join("memory-summary.json");
    let o = otsentry(&["replay", "-q", "--memory-cap", "128M", "--summary-json", s.to_str().unwrap(), &demo]);
    assert!(o.status.success(), "{}", stderr(&o));
    let memory = &summary(&s)["memory"];
    assert_eq!(memory["cap"], 128u64 << 20);
    let kinds: Vec<&str> = memory["kinds"].as_array().unwrap().iter().map(|k| k["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["flows", "reassembly", "app_buffers", "detection", "outputs", "evidence"]);
}
