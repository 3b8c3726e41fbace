//! Evidence pcaps: tshark reads each alert's file and finds the alerting frame, byte
//! for byte the input's frame `pcap_cnt`; files are mode 0600; the disk cap holds over
//! a thousand alerts, the oldest removed first and counted.
use otsentry_pcapgen::ot::s7_plc_stop;
use otsentry_pcapgen::session::Capture;
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("otsentry-evidence-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn replay(capture: &Path, dir: &Path, extra: &[&str]) -> (Vec<Value>, Value) {
    let (eve, summary) = (dir.join("eve.json"), dir.join("summary.json"));
    let o = Command::new(env!("CARGO_BIN_EXE_otsentry"))
        .args(["replay", "-q", "--evidence-dir"])
        .arg(dir.join("evidence"))
        .arg("--eve")
        .arg(&eve)
        .arg("--summary-json")
        .arg(&summary)
        .args(extra)
        .arg(capture)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let records = std::fs::read_to_string(&eve).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    (records, serde_json::from_str(&std::fs::read_to_string(&summary).unwrap()).unwrap())
}

/// Frame `n` (1-based) of `pcap` as tshark reads it, as hex.
fn tshark_frame(pcap: &str, n: u64) -> String {
    let o = Command::new("tshark").args(["-r", pcap, "-Y", &format!("frame.number == {n}"), "-T", "json", "-x"]).output().unwrap();
    assert!(o.status.success(), "tshark {pcap}: {}", String::from_utf8_lossy(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    v[0]["_source"]["layers"]["frame_raw"][0].as_str().unwrap_or_else(|| panic!("tshark found no frame {n} in {pcap}")).to_string()
}

fn tshark_count(pcap: &str) -> usize {
    let o = Command::new("tshark").args(["-r", pcap, "-T", "fields", "-e", "frame.number"]).output().unwrap();
    String::from_utf8_lossy(&o.stdout).lines().count()
}

#[test]
fn tshark_finds_the_alerting_frame_in_each_evidence_pcap_and_files_are_private() {
    if Command::new("tshark").arg("-v").output().is_err() {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true requires tshark");
        eprintln!("SKIPPED: tshark not installed");
        return;
    }
    // The defaults, and rings so small that they wrap and drop their oldest packets.
    for (n, ring) in [&[][..], &["--evidence-packets", "3", "--evidence-ring-bytes", "300"][..]].iter().enumerate() {
        let dir = scratch(&format!("frames{n}"));
        let mut args = vec!["--evidence-severity", "high", "--evidence-after", "4"];
        args.extend_from_slice(ring);
        let input = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/demo/input.pcap");
        let (records, summary) = replay(&input, &dir, &args);
        let alerts: Vec<&Value> = records.iter().filter(|r| r["event_type"] == "alert").collect();
        let with: Vec<&&Value> = alerts.iter().filter(|a| !a["evidence"].is_null()).collect();
        let high =
            alerts.iter().filter(|a| ["high", "critical"].contains(&a["alert"]["metadata"]["severity"][0].as_str().unwrap())).count();
        assert!(high >= 2, "the demo raises high and critical alerts");
        assert_eq!(with.len(), high, "every alert at or above high has evidence, none below");
        for a in with {
            let e = &a["evidence"];
            let pcap = e["pcap"].as_str().unwrap();
            let (cnt, frame) = (a["pcap_cnt"].as_u64().unwrap(), e["frame"].as_u64().unwrap());
            assert!(e["first_pcap_cnt"].as_u64().unwrap() <= cnt);
            assert_eq!(tshark_frame(pcap, frame), tshark_frame(input.to_str().unwrap(), cnt), "{pcap} frame {frame} is input frame {cnt}");
            assert!(tshark_count(pcap) >= frame as usize);
            let mode = std::fs::metadata(pcap).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{pcap}");
        }
        let dir_mode = std::fs::metadata(dir.join("evidence")).unwrap().permissions().mode() & 0o777;
        assert_eq!(dir_mode, 0o700);
        assert_eq!(summary["evidence"]["files"].as_u64(), Some(high as u64));
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn the_disk_cap_holds_over_a_thousand_alerts() {
    let dir = scratch("disk");
    // A thousand engineering stations each stop a PLC: a thousand critical alerts.
    let mut c = Capture::new();
    for i in 0..1000u32 {
        let mut conn = c.connect(&format!("172.20.{}.{}:50000", i / 250, i % 250 + 1), "10.30.0.5:102");
        c.client(&mut conn, &s7_plc_stop(1));
    }
    let capture = dir.join("stops.pcap");
    std::fs::write(&capture, c.into_bytes()).unwrap();
    const CAP: u64 = 64 << 10;
    let (records, summary) = replay(&capture, &dir, &["--evidence-max-disk", "64K"]);
    let evidenced = records.iter().filter(|r| r["event_type"] == "alert" && !r["evidence"].is_null()).count();
    assert_eq!(evidenced, 1000);
    let on_disk: Vec<_> = std::fs::read_dir(dir.join("evidence")).unwrap().map(|e| e.unwrap().metadata().unwrap().len()).collect();
    let total: u64 = on_disk.iter().sum();
    let e = &summary["evidence"];
    assert!(total <= CAP, "{total} bytes on disk over the {CAP} cap");
    assert_eq!(e["disk_bytes"].as_u64(), Some(total));
    assert_eq!(e["files"].as_u64(), Some(1000));
    assert_eq!(e["removed"].as_u64(), Some(1000 - on_disk.len() as u64), "every file removed is counted");
    // The newest stay: the last alert's file is still there.
    let last = records.iter().rev().find(|r| !r["evidence"].is_null()).unwrap();
    assert!(Path::new(last["evidence"]["pcap"].as_str().unwrap()).exists());
    let _ = std::fs::remove_dir_all(&dir);
}
