//! `otsentry report` and `otsentry inventory`: the data of builder fixtures against a
//! golden file (roles; identities from Modbus MEI, S7 SZL 0x0011 and 0x001C and DNP3
//! group 0; zones, forbidden conversations, alerts),
//! the Siemens PLCs' identities tshark decodes from the shared captures, and bad input:
//! one line, exit 2, no half-written report.
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn otsentry(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_otsentry")).args(args).current_dir(root()).output().expect("run otsentry")
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("otsentry-report-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The report's data of the segmentation fixture (with its policy), the baseline
/// fixture's learning capture and the identities fixture, pretty-printed, equals
/// `fixtures/report/expected.json`
/// (bless with `OTSENTRY_BLESS=1` after reading the diff).
#[test]
fn the_report_of_builder_fixtures_is_the_golden_one() {
    let dir = scratch("golden");
    // The committed capture is what the builder writes (gen-fixtures).
    let committed = std::fs::read(root().join("fixtures/report/identities.pcap")).unwrap();
    assert!(
        committed == otsentry_pcapgen::identities::fixture(),
        "fixtures/report/identities.pcap is stale: cargo run -p otsentry-pcapgen --bin gen-fixtures"
    );
    let json = dir.join("report.json");
    let o = otsentry(&[
        "report",
        "-q",
        "--policy",
        "fixtures/segmentation/policy.yaml",
        "fixtures/segmentation/input.pcap",
        "fixtures/baseline/learn.pcap",
        "fixtures/report/identities.pcap",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let got: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    // The version changes with releases, not with what was seen.
    let mut got = got;
    got["header"]["otsentry_version"] = Value::from("VERSION");
    let text = serde_json::to_string_pretty(&got).unwrap() + "\n";
    let golden = root().join("fixtures/report/expected.json");
    if std::env::var("OTSENTRY_BLESS").is_ok_and(|v| v == "1") {
        std::fs::create_dir_all(golden.parent().unwrap()).unwrap();
        std::fs::write(&golden, &text).unwrap();
    }
    let want = std::fs::read_to_string(&golden).expect("fixtures/report/expected.json (OTSENTRY_BLESS=1 writes it)");
    assert!(text == want, "the report differs from {}: run with OTSENTRY_BLESS=1 and read the diff", golden.display());
    // What the golden file must hold, whatever was blessed.
    let asset = |ip: &str| got["assets"].as_array().unwrap().iter().find(|a| a["ip"] == ip).cloned().unwrap_or_else(|| panic!("no {ip}"));
    let plc = asset("10.30.2.10");
    assert_eq!(
        (plc["role"].as_str(), plc["identity"]["vendor"].as_str(), plc["identity"]["product"].as_str()),
        (Some("plc"), Some("Acme Controls"), Some("AC-500"))
    );
    assert_eq!(asset("10.30.2.30")["role"], "outstation");
    // Identities of every protocol that tells one.
    let id = |ip: &str, key: &str| asset(ip)["identity"][key].as_str().map(str::to_string);
    assert_eq!(id("10.40.2.10", "product").as_deref(), Some("BMX P34 2020"), "Modbus MEI product code");
    assert_eq!(id("10.40.2.10", "vendor").as_deref(), Some("Schneider Electric"));
    assert_eq!(id("10.40.2.20", "model").as_deref(), Some("6ES7 516-3AN01-0AB0"), "SZL 0x0011 order number");
    assert_eq!(id("10.40.2.20", "firmware").as_deref(), Some("V2.9.0"), "the firmware after the update");
    assert_eq!(id("10.40.2.20", "serial").as_deref(), Some("S C-X4U123456789"), "SZL 0x001C serial");
    assert_eq!(id("10.40.2.20", "product").as_deref(), Some("CPU 1516-3 PN/DP"));
    assert_eq!(id("10.40.2.30", "vendor").as_deref(), Some("Acme RTU Co"), "DNP3 g0v252");
    assert_eq!(id("10.40.2.30", "serial").as_deref(), Some("SN-0042"), "DNP3 g0v248");
    assert_eq!((asset("10.40.2.20")["role"].as_str(), asset("10.40.2.30")["role"].as_str()), (Some("plc"), Some("outstation")));
    assert_eq!(asset("10.30.1.10")["role"], "master");
    assert_eq!(asset("10.60.1.20")["zone"], "cell-a");
    let zones: Vec<&str> = got["zones"].as_array().unwrap().iter().map(|z| z["name"].as_str().unwrap()).collect();
    assert_eq!(zones.first(), Some(&"enterprise"), "the highest level first: {zones:?}");
    assert!(got["conversations"].as_array().unwrap().iter().any(|c| c["forbidden"] == true), "no forbidden conversation");
    // Answered transactions are timed (Modbus, DNP3 by sequence number, S7 jobs by PDU
    // reference): the fixtures answer in 10 ms.
    let timed: Vec<(&str, f64)> = got["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| Some((c["protocol"].as_str()?, c["response_ms"].as_f64()?)))
        .collect();
    for proto in ["modbus", "dnp3", "s7comm"] {
        assert!(timed.iter().any(|(p, _)| *p == proto), "no {proto} conversation timed: {timed:?}");
    }
    assert!(timed.iter().all(|(_, ms)| (9.0..=11.0).contains(ms)), "{timed:?}");
    // Every router-shared MAC leaves its vendor out.
    assert!(got["assets"].as_array().unwrap().iter().all(|a| a["vendor"].is_null()), "these fixtures' hosts share one MAC");
}

/// The identities tshark decodes from the shared S7comm captures (SZL 0x0011 order
/// numbers, SZL 0x001C serial numbers) are the inventory's.
#[test]
fn the_siemens_identities_tshark_decodes_are_in_the_inventory() {
    let Some(shared) = otsentry_pcapgen::shared::pcaps_dir() else { return };
    let s7 = shared.join("s7comm");
    let dir = scratch("siemens");
    let csv = dir.join("inventory.csv");
    let o = otsentry(&["inventory", "-R", s7.to_str().unwrap(), "--csv", csv.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let table = std::fs::read_to_string(&csv).unwrap();
    let mut checked = 0;
    for entry in walk(&s7) {
        for (field, key) in [("s7comm.szl.xy11.0001.anz", "model"), ("s7comm.szl.001c.0005.serialn", "serial")] {
            let out = Command::new("tshark")
                .arg("-r")
                .arg(&entry)
                .args(["-Y", field, "-T", "fields", "-e", "ip.src", "-e", field])
                .output()
                .unwrap();
            for line in String::from_utf8_lossy(&out.stdout).lines() {
                let Some((ip, values)) = line.split_once('\t') else { continue };
                // The module's own entry comes first (then its boot loader's, ...).
                let value = values.split(',').next().unwrap_or_default().trim();
                if value.is_empty() {
                    continue;
                }
                let row = table
                    .lines()
                    .find(|l| l.starts_with(&format!("{ip},")))
                    .unwrap_or_else(|| panic!("{ip} ({}) is not in the inventory", entry.display()));
                assert!(row.contains(&format!("{key}: {value}")), "{ip}: tshark says {key} {value:?}, the inventory: {row}");
                checked += 1;
            }
        }
    }
    assert!(checked >= 4, "only {checked} identities compared");
    eprintln!("inventory = tshark for {checked} S7 identity fields (order numbers and serials)");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else if p.extension().is_some_and(|x| x == "pcap" || x == "pcapng") {
            out.push(p);
        }
    }
    out.sort();
    out
}

#[test]
fn bad_input_is_one_line_exit_2_and_no_half_written_report() {
    let dir = scratch("bad");
    let html = dir.join("report.html");
    std::fs::write(&html, "the earlier report\n").unwrap();
    let bad_baseline = dir.join("baseline.json");
    std::fs::write(&bad_baseline, "{\"otsentry_baseline\": [\n").unwrap();
    let h = html.to_str().unwrap();
    for (args, want) in [
        (vec!["report", "fixtures/nope.pcap", "--html", h], "fixtures/nope.pcap: no such file"),
        (vec!["report", "fixtures/demo/input.pcap", "--policy", "/nonexistent/policy.yaml", "--html", h], "/nonexistent/policy.yaml"),
        (vec!["report", "fixtures/demo/input.pcap", "--baseline", bad_baseline.to_str().unwrap(), "--html", h], "baseline.json:"),
        (vec!["report", "README.md", "--html", h], "README.md"),
        (vec!["inventory", "fixtures/nope.pcap"], "fixtures/nope.pcap"),
    ] {
        let o = otsentry(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: one line: {err}");
        assert!(err.contains(want), "{args:?}: want {want:?} in {err}");
        assert_eq!(std::fs::read_to_string(&html).unwrap(), "the earlier report\n", "{args:?} touched the report");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
