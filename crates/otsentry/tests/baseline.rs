//! The learned baseline on third-party captures, through the command line: learned on
//! the first half of Plant 1's Modbus and S7 captures, the second half raises nothing
//! high; learned on the benign frames of the QUT S7 attack captures, each attack is
//! found in its labelled frames and the benign frames stay (nearly) quiet.
use otsentry_capture::{open_input, Input, ReaderKind};
use otsentry_pcapgen::writer::PcapWriter;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn otsentry(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_otsentry")).args(args).output().unwrap()
}

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("otsentry-baseline-{}", std::process::id())).join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Copies the frames of `from` (numbered from 1) that `keep` takes into `to`.
fn filter(from: &Path, to: &Path, keep: &mut dyn FnMut(u64, i64) -> bool) -> u64 {
    let mut source = open_input(&Input::file(from), ReaderKind::Mmap).unwrap();
    let mut w: Option<PcapWriter> = None;
    let (mut n, mut kept) = (0u64, 0u64);
    while let Some(f) = source.next_frame().unwrap() {
        n += 1;
        let writer = w.get_or_insert_with(|| PcapWriter::with_options(f.linktype.0, 262_144, true, false));
        if keep(n, f.ts.as_nanos()) {
            writer.packet(f.ts.as_nanos() as u64, f.data);
            kept += 1;
        }
    }
    std::fs::write(to, w.map(PcapWriter::into_bytes).unwrap_or_default()).unwrap();
    kept
}

/// The first and last packet times of `capture`.
fn span(capture: &Path) -> (i64, i64) {
    let (mut first, mut last) = (i64::MAX, i64::MIN);
    filter(capture, &std::env::temp_dir().join(format!("otsentry-span-{}.pcap", std::process::id())), &mut |_, ts| {
        first = first.min(ts);
        last = last.max(ts);
        false
    });
    (first, last)
}

/// Alerts of a replay of `capture` against `baseline`, as JSON, and its summary.
fn replay(capture: &Path, baseline: &Path, d: &Path) -> (Vec<serde_json::Value>, serde_json::Value) {
    let eve = d.join(format!("{}.eve.json", capture.file_name().unwrap().to_string_lossy()));
    let summary = d.join("summary.json");
    let o = otsentry(&[
        "replay",
        "-q",
        "--baseline",
        baseline.to_str().unwrap(),
        "--eve-types",
        "alert",
        "--eve",
        eve.to_str().unwrap(),
        "--summary-json",
        summary.to_str().unwrap(),
        capture.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let alerts = std::fs::read_to_string(&eve).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    (alerts, serde_json::from_slice(&std::fs::read(&summary).unwrap()).unwrap())
}

fn learn(inputs: &[&Path], out: &Path) {
    let mut args = vec!["learn", "--out", out.to_str().unwrap()];
    args.extend(inputs.iter().map(|p| p.to_str().unwrap()));
    let o = otsentry(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

fn severity(a: &serde_json::Value) -> &str {
    a["alert"]["metadata"]["severity"][0].as_str().unwrap_or("")
}

fn describe(a: &serde_json::Value) -> String {
    format!("{} {}->{} {} {}", a["pcap_cnt"], a["src_ip"], a["dest_ip"], a["alert"]["metadata"]["rule_id"][0], a["baseline"])
}

#[test]
fn the_second_half_of_plant1_raises_nothing_high_against_the_first() {
    let Some(pcaps) = otsentry_pcapgen::shared::pcaps_dir() else { return };
    let d = dir("plant1");
    for (name, capture) in [("modbus", "modbus/plant1/Plant1_ModbusTCP.pcap"), ("s7", "s7comm/plant1/Plant1_S7comm.pcap")] {
        let capture = pcaps.join(capture);
        let (first, last) = span(&capture);
        let middle = first + (last - first) / 2;
        let (a, b) = (d.join(format!("{name}-first.pcap")), d.join(format!("{name}-second.pcap")));
        let learned_frames = filter(&capture, &a, &mut |_, ts| ts < middle);
        let checked_frames = filter(&capture, &b, &mut |_, ts| ts >= middle);
        let baseline = d.join(format!("{name}.json"));
        learn(&[&a], &baseline);
        // The assets as learned: the master by its behaviour, every other host a PLC
        // whose vendor the manuf file (libwireshark-data, beside tshark) names.
        let file: serde_json::Value = serde_json::from_slice(&std::fs::read(&baseline).unwrap()).unwrap();
        let assets = file["assets"].as_array().unwrap();
        let roles =
            |a: &serde_json::Value| a["roles"].as_array().unwrap().iter().map(|r| r.as_str().unwrap().to_string()).collect::<Vec<_>>();
        let master = assets.iter().find(|a| a["ip"] == "141.81.0.10").expect("the master");
        assert_eq!(roles(master), ["master"]);
        assert!(assets.iter().filter(|a| a["ip"] != "141.81.0.10").all(|a| roles(a) == ["plc"]), "{assets:?}");
        assert!(assets.iter().all(|a| a["vendor"].is_string() && !a["macs"].as_array().unwrap().is_empty()), "{assets:?}");
        let (alerts, summary) = replay(&b, &baseline, &d);
        let high: Vec<String> = alerts.iter().filter(|a| matches!(severity(a), "high" | "critical")).map(describe).collect();
        println!(
            "{name}: learned on {learned_frames} frames, checked {checked_frames}: {} alerts ({} high or critical), baseline findings {}",
            alerts.len(),
            high.len(),
            summary["baseline"]
        );
        assert!(high.is_empty(), "{name}: {high:#?}");
        // The baseline was read: the same half checked against an empty one is all new.
        assert!(summary["packets"].as_u64().unwrap() == checked_frames);
    }
}

/// The frame numbers `labels.csv` lists (the attack's frames).
fn labels(capture: &Path) -> BTreeSet<u64> {
    let path = PathBuf::from(format!("{}.labels.csv", capture.display()));
    let text = std::fs::read_to_string(path).unwrap();
    text.lines().filter_map(|l| l.split(',').next()?.trim().parse().ok()).collect()
}

#[test]
fn qut_s7_attacks_depart_from_a_baseline_of_their_benign_frames() {
    let Some(pcaps) = otsentry_pcapgen::shared::pcaps_dir() else { return };
    let qut = pcaps.join("s7comm/qut2017");
    let mut labelled: Vec<PathBuf> = std::fs::read_dir(&qut)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pcap") && PathBuf::from(format!("{}.labels.csv", p.display())).is_file())
        .collect();
    labelled.sort();
    assert!(labelled.len() >= 3, "{labelled:?}");
    let d = dir("qut");
    let mut benign = Vec::new();
    for capture in &labelled {
        let attack = labels(capture);
        let out = d.join(format!("benign-{}", capture.file_name().unwrap().to_string_lossy()));
        filter(capture, &out, &mut |n, _| !attack.contains(&n));
        benign.push(out);
    }
    let baseline = d.join("qut.json");
    learn(&benign.iter().map(PathBuf::as_path).collect::<Vec<_>>(), &baseline);
    let mut table = BTreeMap::new();
    for capture in &labelled {
        let attack = labels(capture);
        let (alerts, summary) = replay(capture, &baseline, &d);
        let in_attack: Vec<&serde_json::Value> = alerts.iter().filter(|a| attack.contains(&a["pcap_cnt"].as_u64().unwrap_or(0))).collect();
        let found: BTreeSet<String> = in_attack.iter().filter_map(|a| a["baseline"]["kind"].as_str().map(str::to_string)).collect();
        let benign_high: Vec<String> = alerts
            .iter()
            .filter(|a| !attack.contains(&a["pcap_cnt"].as_u64().unwrap_or(0)) && matches!(severity(a), "high" | "critical"))
            .map(describe)
            .collect();
        let pdus = summary["protocols"]["s7comm"]["pdus"].as_u64().unwrap_or(0);
        let name = capture.file_name().unwrap().to_string_lossy().into_owned();
        println!(
            "{name}: {pdus} S7 PDUs, {} labelled frames; baseline findings in them: {found:?}; high/critical outside them: {}",
            attack.len(),
            benign_high.len()
        );
        for b in benign_high.iter().take(5) {
            println!("  outside the attack: {b}");
        }
        assert!(found.iter().any(|k| matches!(k.as_str(), "value" | "new_function" | "range" | "burst")), "{name}: {found:?}");
        assert!(benign_high.len() as u64 <= 1 + pdus / 10_000, "{name}: {benign_high:#?}");
        table.insert(name, found);
    }
    assert_eq!(table.len(), labelled.len());
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/baseline").join(name)
}

#[test]
fn learn_writes_extends_and_every_command_refuses_a_bad_baseline_with_its_line() {
    let d = dir("cli");
    let file = d.join("b.json");
    learn(&[&fixture("learn.pcap")], &file);
    let first = std::fs::read_to_string(&file).unwrap();
    assert!(first.contains("\"server\": \"10.30.2.10\""), "{first}");
    // --update extends in place: the checked capture adds the new host and its pair.
    let o = otsentry(&["learn", "--update", file.to_str().unwrap(), fixture("input.pcap").to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let extended = std::fs::read_to_string(&file).unwrap();
    assert!(extended.contains("\"ip\": \"10.30.9.9\"") && !first.contains("10.30.9.9"));
    assert!(extended.contains("input.pcap\""), "the capture is named in learned.captures");
    // Against the extended baseline the checked capture's new host is no longer new.
    let (alerts, _) = replay(&fixture("input.pcap"), &file, &d);
    assert!(!alerts.iter().any(|a| a["alert"]["metadata"]["rule_id"][0] == "baseline.asset.new"), "{alerts:?}");

    let bad = d.join("bad.json");
    let text = first.replacen("modbus/unit1/holding_registers", "modbus/unit1/bits", 1);
    std::fs::write(&bad, &text).unwrap();
    let line = text.lines().position(|l| l.contains("modbus/unit1/bits")).unwrap() + 1;
    let p = bad.to_str().unwrap();
    let want = format!("{p}:{line}:");
    let input = fixture("input.pcap");
    let config = d.join("otsentry.yaml");
    std::fs::write(&config, format!("replay:\n  baseline: {p}\n")).unwrap();
    for args in [
        vec!["replay", "-q", "--baseline", p, input.to_str().unwrap()],
        vec!["rules", "check", "--baseline", p],
        vec!["config", "check", config.to_str().unwrap()],
    ] {
        let o = otsentry(&args);
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains(&want) && err.contains(": pairs[0].ranges[0].space: ") && err.contains("is not a data space"),
            "{args:?}: {err}"
        );
    }
    // Thresholds that cannot work are refused too.
    let o = otsentry(&["replay", "-q", "--baseline", file.to_str().unwrap(), "--baseline-margin", "-1", input.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    std::fs::write(&config, "replay:\n  baseline-min-samples: 0\n").unwrap();
    let o = otsentry(&["config", "check", config.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("otsentry.yaml:2:3: replay.baseline-min-samples: at least 1"), "{err}");
}
