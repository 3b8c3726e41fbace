//! `--policy` as an operator uses it: the demo capture against a zone file, and a bad
//! policy refused by replay, `rules check` and `config check` with its line.
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn otsentry(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_otsentry")).args(args).output().unwrap()
}

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("otsentry-policy-{}", std::process::id())).join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn demo() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/demo/input.pcap").display().to_string()
}

/// The demo's HMI polls its PLC (allowed: reads); the laptop at 10.10.9.99 is in no zone.
const POLICY: &str = "\
zones:
  - name: hmi
    level: 2
    networks: [10.10.1.0/24]
  - name: cell
    level: 1
    networks: [10.10.2.0/24, 10.10.3.0/24]
conduits:
  - from: hmi
    to: cell
    protocols: [modbus, dnp3]
    functions: [read]
";

#[test]
fn the_demo_against_a_zone_file() {
    let d = dir("demo");
    let policy = d.join("policy.yaml");
    std::fs::write(&policy, POLICY).unwrap();
    let o = otsentry(&["replay", "-q", "--policy", policy.to_str().unwrap(), "--summary-json", "-", &demo()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let found: Vec<(String, String, String, String)> = v["segmentation"]["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or("-").to_string();
            (s("src_ip"), s("dest_zone"), s("protocol"), s("function_class"))
        })
        .collect();
    // The laptop's write and S7 stop come from no zone; the HMI's write is not a read.
    assert!(found.contains(&("10.10.9.99".into(), "cell".into(), "modbus".into(), "-".into())), "{found:?}");
    assert!(found.contains(&("10.10.9.99".into(), "cell".into(), "s7comm".into(), "-".into())), "{found:?}");
    assert!(!found.iter().any(|f| f.0 == "10.10.1.50" && f.3 == "read"), "the HMI's reads are allowed: {found:?}");
    let by_rule = &v["alerts"]["by_rule"];
    assert!(by_rule["policy.segmentation.ot"].as_u64().unwrap_or(0) >= 2, "{by_rule}");
    // Without the policy the same run raises none of them.
    let o = otsentry(&["replay", "-q", "--summary-json", "-", &demo()]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["alerts"]["by_rule"].get("policy.segmentation.ot").is_none());
    assert_eq!(v["segmentation"]["conversations"], serde_json::json!([]));
}

#[test]
fn a_bad_policy_is_refused_with_its_line_everywhere() {
    let d = dir("bad");
    let policy = d.join("policy.yaml");
    std::fs::write(&policy, POLICY.replace("to: cell", "to: cel")).unwrap();
    let p = policy.to_str().unwrap();
    let want = format!("{p}:10: conduits[0].to: \"cel\" is not a zone");
    for args in [vec!["replay", "-q", "--policy", p, &demo()], vec!["rules", "check", "--policy", p]] {
        let o = otsentry(&args.iter().map(|s| s.as_ref()).collect::<Vec<&str>>());
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(&want), "{args:?}: {err}");
    }
    let config = d.join("otsentry.yaml");
    std::fs::write(&config, format!("replay:\n  policy: {p}\n")).unwrap();
    let o = otsentry(&["config", "check", config.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains(&want), "{err}");
    std::fs::write(&policy, POLICY).unwrap();
    let o = otsentry(&["rules", "check", "--policy", p]);
    assert!(o.status.success() && String::from_utf8_lossy(&o.stderr).contains("2 zones, 1 conduits ok"));
}
