//! `otsentry rules check|list` and the rule flags of `replay`, as a user runs them.
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn otsentry(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_otsentry")).args(args).output().expect("run otsentry")
}

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("otsentry-rules-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn file(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

fn text(o: &Output) -> (String, String) {
    (String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

fn demo() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/demo/input.pcap").display().to_string()
}

const GOOD: &str = "- id: site.stop
  sid: 9000001
  name: PLC stop
  description: A stop.
  severity: critical
  category: Execution
  attack: [T0858]
  match:
    s7comm.function: 0x29
";

#[test]
fn rules_check_rejects_broken_files_naming_file_line_column_and_field() {
    // (what is broken, rule file, then the expected pieces of the message)
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "a misspelt field",
            &GOOD.replace("s7comm.function", "s7comm.fucntion"),
            &[
                "rules.yaml:9:5: match.s7comm.fucntion: s7comm events have no field \"s7comm.fucntion\"",
                "(did you mean `s7comm.function`?)",
            ],
        ),
        (
            "a misspelt key",
            &GOOD.replace("severity:", "sevrity:"),
            &["rules.yaml:", "unknown field `sevrity`", "(did you mean `severity`?)"],
        ),
        (
            "a bad severity",
            &GOOD.replace("critical", "crtical"),
            &["rules.yaml:5:3: severity: \"crtical\" is not one of", "(did you mean `critical`?)"],
        ),
        (
            "an unknown technique",
            &GOOD.replace("T0858", "T0585"),
            &["rules.yaml:7:3: attack: \"T0585\" is not an ATT&CK for ICS technique"],
        ),
        (
            "a value of the wrong type",
            &GOOD.replace("0x29", "stop"),
            &["rules.yaml:9:5: match.s7comm.function: s7comm.function is a unsigned integer field: \"stop\" is not an unsigned number"],
        ),
        (
            "an unknown event type",
            &GOOD.replace("  match:", "  event: s7com\n  match:"),
            &["rules.yaml:8:3: event: \"s7com\" is not an event type", "(did you mean `s7comm`?)"],
        ),
        ("a YAML syntax error", &GOOD.replace("name: PLC stop", "name: [PLC stop"), &["rules.yaml:"]),
        (
            "a duplicate sid",
            &format!("{GOOD}{}", GOOD.replace("site.stop", "site.stop2")),
            &["rules.yaml:11:3: sid: sid 9000001 is already used by rule \"site.stop\""],
        ),
        (
            "a bad threshold",
            &format!("{GOOD}  threshold: {{count: 0, seconds: 5}}\n"),
            &["rules.yaml:10:3: threshold: count and seconds are at least 1"],
        ),
    ];
    let d = dir("broken");
    for (what, rules, want) in cases {
        let path = file(&d, "rules.yaml", rules);
        let o = otsentry(&["rules", "check", &path]);
        let (_, err) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{what}: {err}");
        for w in *want {
            assert!(err.contains(w), "{what}: want {w:?} in:\n{err}");
        }
    }
}

#[test]
fn rules_check_rejects_broken_variables_and_tuning_files() {
    let d = dir("aux");
    let rules = file(&d, "rules.yaml", GOOD);
    let cases: &[(&str, &str, &str, &[&str])] = &[
        ("--vars", "vars.yaml", "HMI: [10.0.0.1]\nhmi: [10.0.0.2]\n", &["vars.yaml:2:1: hmi: variable names are upper case"]),
        ("--vars", "vars.yaml", "HMI: [10.0.0.300]\n", &["vars.yaml:1:1: HMI: \"10.0.0.300\" is not an address or a CIDR"]),
        (
            "--tuning",
            "tuning.yaml",
            "disable: [site.stpo]\n",
            &["tuning.yaml:1:1: disable.site.stpo: no rule has the id \"site.stpo\"", "(did you mean `site.stop`?)"],
        ),
        (
            "--tuning",
            "tuning.yaml",
            "modify:\n  site.stop: {severity: hihg}\n",
            &["tuning.yaml:2:3: modify.site.stop.severity:", "(did you mean `high`?)"],
        ),
        (
            "--tuning",
            "tuning.yaml",
            "disabled: [site.stop]\n",
            &["tuning.yaml:1:1: disabled: unknown field `disabled`", "(did you mean `disable`?)"],
        ),
    ];
    for (flag, name, body, want) in cases {
        let path = file(&d, name, body);
        let o = otsentry(&["rules", "check", &rules, flag, &path]);
        let (_, err) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{body}: {err}");
        for w in *want {
            assert!(err.contains(w), "{body}: want {w:?} in:\n{err}");
        }
    }
    let missing = otsentry(&["rules", "check", "/no/such/rules"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing).1.contains("/no/such/rules: no such file or directory"));
}

#[test]
fn the_built_in_pack_checks_and_lists_which_rules_wait_for_variables() {
    let o = otsentry(&["rules", "check"]);
    let (_, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("the built-in pack:") && err.contains("waiting for variables"), "{err}");
    let (out, _) = text(&otsentry(&["rules", "list"]));
    let row = out.lines().find(|l| l.starts_with("modbus.write.unauthorized_source")).expect("listed");
    assert!(row.contains("high") && row.contains("T0855") && row.contains("quiet: no $ENGINEERING, $HMI"), "{row}");
    let vars = file(&dir("vars"), "vars.yaml", "HMI: [10.10.1.0/24]\nENGINEERING: []\nMASTERS: [10.10.3.1]\nPLC: [10.10.2.0/24]\n");
    let (out, _) = text(&otsentry(&["rules", "list", "--vars", &vars]));
    assert!(!out.contains("quiet"), "{out}");
    assert!(out.lines().count() > 31, "a header, at least 30 rules, a total");
}

#[test]
fn replay_prints_alerts_as_a_table_and_the_tuning_file_changes_them() {
    let (out, err) = text(&otsentry(&["replay", "-q", &demo()]));
    assert!(out.starts_with("TIME"), "{out}{err}");
    let stop = out.lines().find(|l| l.contains("S7: PLC stop")).expect("the demo's PLC stop");
    assert!(stop.contains("critical") && stop.contains("10.10.9.99:50501 -> 10.10.2.20:102") && stop.contains("[T0858 T0816]"), "{stop}");
    assert!(out.contains("alerts by rule:") && out.contains("s7comm.plc_stop"), "{out}");

    let d = dir("tuning");
    let tuning = file(&d, "tuning.yaml", "disable: [s7comm.plc_stop]\nmodify:\n  dnp3.restart.cold: {severity: low}\n");
    let (tuned, err) = text(&otsentry(&["replay", "-q", "--tuning", &tuning, &demo()]));
    assert!(!tuned.contains("S7: PLC stop"), "{tuned}{err}");

    // With the HMI and engineering hosts named, the laptop's register write is unauthorized.
    let vars = file(&d, "vars.yaml", "HMI: [10.10.1.50]\nENGINEERING: [10.10.1.60]\n");
    let (with_vars, _) = text(&otsentry(&["replay", "-q", "--vars", &vars, &demo()]));
    let write = with_vars.lines().find(|l| l.contains("Modbus: write from a host outside")).expect("the laptop's write");
    assert!(write.contains("10.10.9.99:50500 -> 10.10.2.10:502") && write.contains("function=6"), "{write}");
    // Without them, the first pass finds no host that polled and wrote: judged all the same.
    assert!(out.contains("Modbus: write from a host outside"), "judged without the variables: {out}");
    let (off, _) = text(&otsentry(&["replay", "-q", "--warmup", "off", &demo()]));
    assert!(!off.contains("Modbus: write from a host outside"), "quiet without variables or a warm-up: {off}");

    let (none, _) = text(&otsentry(&["replay", "-q", "--no-rules", &demo()]));
    assert_eq!(none.trim(), "no alerts (0 rules checked)");
}

#[test]
fn alerts_in_eve_have_suricata_shape() {
    let o = otsentry(&["replay", "-q", "--eve", "-", &demo()]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(!out.contains("TIME "), "no table when EVE is on stdout");
    let alert: serde_json::Value = out
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v["event_type"] == "alert" && v["alert"]["metadata"]["rule_id"][0] == "s7comm.plc_stop")
        .expect("the PLC stop alert");
    let a = &alert["alert"];
    assert_eq!(
        (a["action"].as_str(), a["gid"].as_u64(), a["signature_id"].as_u64(), a["rev"].as_u64()),
        (Some("allowed"), Some(1), Some(4300001), Some(1))
    );
    assert_eq!((a["signature"].as_str(), a["severity"].as_u64()), (Some("S7: PLC stop"), Some(1)));
    let m = &a["metadata"];
    assert_eq!(m["mitre_technique_id"], serde_json::json!(["T0858", "T0816"]));
    assert_eq!(m["mitre_technique_name"], serde_json::json!(["Change Operating Mode", "Device Restart/Shutdown"]));
    assert_eq!(m["severity"], serde_json::json!(["critical"]));
    assert_eq!(alert["app_proto"], "s7comm");
    assert_eq!(alert["s7comm"]["function_name"], "plc_stop", "the matched PDU beside the alert");
    for key in ["flow_id", "community_id", "pcap_cnt", "pcap_filename", "src_ip", "dest_port"] {
        assert!(!alert[key].is_null(), "{key} in {alert}");
    }
}

#[test]
fn rules_fields_lists_every_schema() {
    let (out, _) = text(&otsentry(&["rules", "fields"]));
    for line in [
        "modbus.write.value",
        "each of writes",
        "s7comm.item.area",
        "dnp3.iin.indicator",
        "modbus.exception",
        "on the answer",
        "anomaly.event",
    ] {
        assert!(out.contains(line), "{line} in:\n{out}");
    }
}

#[test]
fn site_rules_sit_beside_the_pack_and_clashes_name_both_files() {
    let d = dir("site");
    let (a, b) = (dir("site-a"), dir("site-b"));
    file(&a, "stop.yaml", GOOD);
    file(&b, "other.yaml", &GOOD.replace("site.stop", "site.other").replace("9000001", "9000002"));
    // Two site directories and the pack: the pack's own stop rule still fires.
    let (out, err) = text(&otsentry(&["replay", "-q", "--rules", a.to_str().unwrap(), "--rules", b.to_str().unwrap(), &demo()]));
    assert!(out.contains("s7comm.plc_stop") && out.contains("site.stop") && out.contains("site.other"), "{out}{err}");
    // Without the pack only the site's rules.
    let (only, _) = text(&otsentry(&["replay", "-q", "--no-default-rules", "--rules", a.to_str().unwrap(), &demo()]));
    assert!(only.contains("site.stop") && !only.contains("s7comm.plc_stop"), "{only}");
    // A sid the pack uses, in a site file: both places named.
    let clash = file(&d, "clash.yaml", &GOOD.replace("9000001", "4300001"));
    let o = otsentry(&["rules", "check", &clash]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("clash.yaml:2:3: sid:") && err.contains("<built-in>/s7comm.yaml"), "{err}");
    // The pack exported, and read back as a site directory in place of the built-in one.
    let export = d.join("pack");
    let o = otsentry(&["rules", "export", export.to_str().unwrap()]);
    assert!(o.status.success() && export.join("modbus.yaml").is_file(), "{}", text(&o).1);
    let o = otsentry(&["rules", "check", "--no-default-rules", export.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o).1);
}

#[test]
fn a_set_nothing_defines_is_a_warning_or_with_strict_an_error() {
    let d = dir("strict");
    let rules = file(&d, "home.yaml", &GOOD.replace("  match:", "  match:\n    src: $HOME_NET"));
    let (_, err) = text(&otsentry(&["replay", "-q", "--rules", &rules, &demo()]));
    assert!(err.contains("home.yaml: rule site.stop names $HOME_NET, which no variables file defines"), "{err}");
    let o = otsentry(&["replay", "-q", "--strict", "--rules", &rules, &demo()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o).1);
    // The sets a warm-up infers are no warning.
    assert!(!err.contains("$HMI"), "{err}");
}

/// Five rules, five kinds of mistake: all reported in one pass, each at its own line.
#[test]
fn rules_check_reports_every_mistake_in_one_pass() {
    let d = dir("five");
    let rule = |id: &str, sid: u32, body: &str| {
        format!("- id: {id}\n  sid: {sid}\n  name: n\n  description: d\n  severity: high\n  category: Discovery\n  attack: [T0846]\n{body}")
    };
    let rules = [
        rule("site.one", 9100001, "  match:\n    modbus.function: 300\n"),
        rule("site.two", 9100002, "  match:\n    modbus.function: 3\n  suppress: {seconds: 60, track: by_srcc}\n"),
        rule("site.three", 9100003, "  match:\n    modbus.function: 3\n  sevrity: low\n"),
        rule("site.four", 9100004, "  match:\n    modbus.unit_id: 999\n"),
        rule("site.five", 9100001, "  match:\n    modbus.function: 3\n"),
    ]
    .concat();
    let path = file(&d, "five.yaml", &rules);
    let o = otsentry(&["rules", "check", "--no-default-rules", &path]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    for want in [
        "five.yaml:9:5: match.modbus.function: modbus.function is at most 255 on the wire: 300 can never match",
        "five.yaml:19:34: unknown variant `by_srcc`",
        "(did you mean `by_src`?)",
        "five.yaml:29:3: sevrity: unknown field `sevrity`",
        "five.yaml:38:5: match.modbus.unit_id: modbus.unit_id is at most 255 on the wire: 999 can never match",
        "five.yaml:40:3: sid: sid 9100001 is already used by rule \"site.one\"",
    ] {
        assert!(err.contains(want), "want {want:?} in:\n{err}");
    }
}

/// A tuning file with mistakes in its third suppress entry and elsewhere: each at its line.
#[test]
fn tuning_check_points_at_the_entry_at_fault() {
    let d = dir("tuning-lines");
    let tuning = file(
        &d,
        "tuning.yaml",
        "disable: [modbus.nope]\nsuppress:\n  - rule: s7comm.plc_stop\n    src: 10.0.0.1\n  - rule: dnp3.freeze\n    src: 10.0.0.2\n  - rule: modbus.umas.stop_plcc\n    src: 10.0.0.3\nmodify:\n  dnp3.freeze: {severity: hihg}\n",
    );
    let o = otsentry(&["rules", "check", "--tuning", &tuning]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    for want in [
        "tuning.yaml:1:1: disable.modbus.nope: no rule has the id \"modbus.nope\"",
        "tuning.yaml:7:5: suppress[2].rule: no rule has the id \"modbus.umas.stop_plcc\" (did you mean `modbus.umas.stop_plc`?)",
        "tuning.yaml:10:3: modify.dnp3.freeze.severity: \"hihg\" is not one of",
    ] {
        assert!(err.contains(want), "want {want:?} in:\n{err}");
    }
}

/// A variables file with five mistakes: all five, in file order, each at its line.
#[test]
fn variables_check_reports_every_mistake() {
    let d = dir("vars-five");
    let vars = file(
        &d,
        "vars.yaml",
        "HMI: [10.0.0.300]\nENGINEERING: 5\nMASTERS: [10.0.3.1/33]\nPLC: [10.0.0.0/24, nope]\nSCADA: [\"fe80::1/129\"]\n",
    );
    let o = otsentry(&["rules", "check", "--vars", &vars]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    let lines: Vec<usize> = err.lines().filter_map(|l| l.split("vars.yaml:").nth(1)?.split(':').next()?.parse().ok()).collect();
    assert_eq!(lines, [1, 2, 3, 4, 5], "{err}");
}

/// A baseline with five mistakes in four entries: all five, in file order, each at its
/// line and column with the field at fault; a misspelt key gets the nearest one.
#[test]
fn baseline_check_reports_every_mistake() {
    let d = dir("baseline-five");
    let good = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/baseline/baseline.json")).unwrap();
    // 1: an asset's address that is not one.
    let bad = good.replacen("\"ip\": \"10.30.1.20\"", "\"ip\": \"10.30.1.300\"", 1);
    // 2: a misspelt key in a later asset.
    let bad = bad.replacen("\"roles\": [\"outstation\"]", "\"rolse\": [\"outstation\"]", 1);
    // 3 and 4: a function count that is text, and a range in a space that does not exist,
    // both in the first pair.
    let bad = bad.replacen("\"count\": 240 }", "\"count\": \"many\" }", 1);
    let bad = bad.replacen(
        "\"space\": \"modbus/unit1/holding_registers\", \"start\": 16",
        "\"space\": \"modbus/unit1/holding_register\", \"start\": 16",
        1,
    );
    // 5: a range whose start is after its end, in a pair that is otherwise good.
    let at = bad.rfind("\"start\": ").unwrap() + "\"start\": ".len();
    let digits = bad[at..].find(',').unwrap();
    let bad = format!("{}4000000000{}", &bad[..at], &bad[at + digits..]);
    let path = file(&d, "baseline.json", &bad);
    let want_line = |needle: &str| bad.lines().position(|l| l.contains(needle)).unwrap() + 1;
    let o = otsentry(&["rules", "check", "--baseline", &path]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    let found: Vec<(usize, &str)> = err
        .lines()
        .filter_map(|l| {
            let rest = l.split("baseline.json:").nth(1)?;
            Some((rest.split(':').next()?.parse().ok()?, rest))
        })
        .collect();
    assert_eq!(found.len(), 5, "{err}");
    let expect = [
        (want_line("10.30.1.300"), "assets[1].ip"),
        (want_line("\"rolse\""), "unknown key `rolse` (did you mean `roles`?)"),
        (want_line("\"many\""), "pairs[0].functions[0].count"),
        (want_line("holding_register\""), "pairs[0].ranges[1].space"),
        (want_line("4000000000"), "start 4000000000 is after end"),
    ];
    for ((line, rest), (want, text)) in found.iter().zip(expect) {
        assert_eq!(*line, want, "{rest}");
        assert!(rest.contains(text), "want {text:?} in {rest:?}");
    }
}
