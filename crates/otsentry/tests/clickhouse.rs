//! The ClickHouse feed end to end, against real servers of both generations: every
//! record of a run in its table (counts and ids equal to the same run's EVE output), no
//! loss and no doubles across server and sensor crashes, and each bad start a clear
//! error or a spool.
use otsentry_pcapgen::clickhouse::{Generation, TestServer, SENSOR_PASSWORD, SENSOR_USER};
use otsentry_pcapgen::feed::feed;
use otsentry_pcapgen::shared::pcaps_dir;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

const TABLES: [(&str, &str); 11] = [
    ("alert", "alerts"),
    ("anomaly", "anomalies"),
    ("flow", "flows"),
    ("modbus", "modbus"),
    ("dnp3", "dnp3"),
    ("s7comm", "s7comm"),
    ("s7comm_plus", "s7comm_plus"),
    ("cotp", "cotp"),
    ("segmentation", "segmentation"),
    ("stats", "stats"),
    ("asset", "assets"),
];

/// The demo's alerts through the command line: its six golden ones and the laptop's
/// register write, judged once the first pass has inferred that no host is an HMI.
const DEMO_ALERTS: u64 = 7;

fn otsentry() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_otsentry"));
    c.env_remove("OTSENTRY_CLICKHOUSE_PASSWORD");
    c
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("otsentry-chfeed-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn fixture(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(rel).display().to_string()
}

fn run(cmd: &mut Command) -> (i32, String) {
    let out = cmd.output().expect("run otsentry");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn init(url: &str) {
    let (code, err) = run(otsentry().args(["clickhouse", "init", "--clickhouse", url]));
    assert_eq!(code, 0, "init: {err}");
}

/// Event ids by record type in an EVE file, and how many records were copies: a record
/// may share its id only with one equal to it but for `pcap_filename` (the same packets
/// published in two captures, as zeek/dnp3.pcap and quickdraw's part 1 are).
fn eve_ids(path: &Path) -> (BTreeMap<String, BTreeSet<String>>, usize) {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut first: BTreeMap<String, serde_json::Value> = BTreeMap::new();
    let mut copies = 0;
    for line in std::fs::read_to_string(path).unwrap().lines() {
        let mut v: serde_json::Value = serde_json::from_str(line).unwrap();
        let id = v["event_id"].as_str().unwrap().to_string();
        out.entry(v["event_type"].as_str().unwrap().to_string()).or_default().insert(id.clone());
        v.as_object_mut().unwrap().remove("pcap_filename");
        match first.get(&id) {
            Some(earlier) => {
                assert_eq!(earlier, &v, "two different records of {} share event_id {id}", path.display());
                copies += 1;
            }
            None => {
                first.insert(id, v);
            }
        }
    }
    (out, copies)
}

fn table_ids(s: &TestServer, db: &str, table: &str) -> Vec<String> {
    let text = s.query(&format!("SELECT toString(event_id) FROM {db}.{table} FINAL")).unwrap();
    let mut ids: Vec<String> = text.lines().map(str::to_string).collect();
    ids.sort();
    ids
}

fn count(s: &TestServer, sql: &str) -> u64 {
    s.query(sql).unwrap_or_else(|e| panic!("{sql}: {e}")).trim().parse().unwrap()
}

/// Every table holds exactly the EVE output's records of its type, once each.
fn assert_tables_match(s: &TestServer, db: &str, eve: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    let mut lines = Vec::new();
    for (ty, table) in TABLES {
        let want: Vec<String> = eve.get(ty).map(|ids| ids.iter().cloned().collect()).unwrap_or_default();
        let have = table_ids(s, db, table);
        assert_eq!(
            have.len(),
            want.len(),
            "{:?} {db}.{table}: {} rows FINAL, EVE has {} {ty} records",
            s.generation,
            have.len(),
            want.len()
        );
        assert!(have == want, "{:?} {db}.{table}: other event ids than EVE's", s.generation);
        assert_eq!(count(s, &format!("SELECT uniqExact(event_id) FROM {db}.{table}")), want.len() as u64);
        lines.push(format!("{table} {}", want.len()));
    }
    lines
}

#[test]
fn every_record_reaches_its_table_on_both_generations() {
    let shared = pcaps_dir();
    for generation in [Generation::Legacy, Generation::Current] {
        let dir = scratch(&format!("counts-{generation:?}"));
        let Some(s) = TestServer::start(generation, &dir.join("server")) else { continue };
        let url = format!("{}/feed", s.url());
        init(&url);
        // The fixtures with every detection: the demo, network detections, a policy, a baseline.
        let runs: Vec<Vec<String>> = {
            let mut v = vec![
                vec![fixture("fixtures/demo/input.pcap"), fixture("fixtures/network/input.pcap")],
                vec!["--policy".into(), fixture("fixtures/segmentation/policy.yaml"), fixture("fixtures/segmentation/input.pcap")],
                vec!["--baseline".into(), fixture("fixtures/baseline/baseline.json"), fixture("fixtures/baseline/input.pcap")],
            ];
            // The third-party captures of every protocol (S7comm-plus and COTP included).
            if let Some(p) = &shared {
                v.push(vec!["-R".into(), p.display().to_string()]);
            }
            v
        };
        let mut all: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut copies = 0;
        for (i, args) in runs.iter().enumerate() {
            let eve = dir.join(format!("run{i}.jsonl"));
            let (code, err) = run(otsentry()
                .args(["replay", "-q", "--host", "ch-test", "--clickhouse", &url, "--eve"])
                .arg(&eve)
                .args(args)
                .stdout(Stdio::null()));
            assert_eq!(code, 0, "{args:?}: {err}");
            let (ids, copied) = eve_ids(&eve);
            copies += copied;
            for (ty, ids) in ids {
                all.entry(ty).or_default().extend(ids);
            }
        }
        let lines = assert_tables_match(&s, "feed", &all);
        for ty in ["alert", "anomaly", "flow", "modbus", "dnp3", "s7comm", "segmentation", "asset"] {
            assert!(all.get(ty).is_some_and(|ids| !ids.is_empty()), "no {ty} records: the test would prove nothing for its table");
        }
        if shared.is_some() {
            assert!(all.contains_key("s7comm_plus") && all.contains_key("cotp"));
        }
        // Columns hold the fields: alerts by rule, as EVE has them.
        let by_rule =
            s.query("SELECT rule_id[1], count() FROM feed.alerts FINAL WHERE rule_id[1] = 's7comm.plc_stop' GROUP BY rule_id[1]").unwrap();
        assert!(by_rule.starts_with("s7comm.plc_stop\t"), "{by_rule}");
        let _ = writeln!(std::io::stderr(), "{generation:?} ClickHouse, rows = EVE records: {} ({copies} EVE records were copies of others: the same packets in two published captures)", lines.join(", "));
        drop(s);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// Feeds `capture` to `child`'s stdin in `chunks` pieces, calling `at(i)` before piece i.
/// `--eve-types` chooses for EVE, `--clickhouse-types` for ClickHouse: alerts alone to
/// the analyst's file, alerts and Modbus records to the SIEM, from one run.
#[test]
fn each_output_gets_the_types_it_chose() {
    let dir = scratch("types");
    let Some(s) = TestServer::start(Generation::Legacy, &dir.join("server")) else { return };
    let url = format!("{}/otsentry", s.url());
    init(&url);
    let demo = fixture("fixtures/demo/input.pcap");
    let (full, alerts) = (dir.join("full.jsonl"), dir.join("alerts.jsonl"));
    let (code, err) = run(otsentry().args(["replay", "-q", "--host", "t", "--eve"]).arg(&full).arg(&demo).stdout(Stdio::null()));
    assert_eq!(code, 0, "{err}");
    let (code, err) = run(otsentry()
        .args(["replay", "-q", "--host", "t", "--eve-types", "alert", "--clickhouse", &url, "--clickhouse-types", "alert,modbus", "--eve"])
        .arg(&alerts)
        .arg(&demo)
        .stdout(Stdio::null()));
    assert_eq!(code, 0, "{err}");
    let (all, _) = eve_ids(&full);
    let (only_alerts, _) = eve_ids(&alerts);
    assert!(!all["alert"].is_empty() && !all["modbus"].is_empty() && all.len() > 2, "{all:?}");
    assert_eq!(only_alerts.keys().collect::<Vec<_>>(), ["alert"]);
    assert_eq!(only_alerts["alert"], all["alert"]);
    let mut want = all.clone();
    want.retain(|ty, _| ty == "alert" || ty == "modbus");
    let lines = assert_tables_match(&s, "otsentry", &want);
    let _ = writeln!(std::io::stderr(), "EVE: {} alerts only; ClickHouse: {}", only_alerts["alert"].len(), lines.join(", "));
    // Without a ClickHouse URL the choice means nothing: said, not ignored.
    let (code, err) = run(otsentry().args(["replay", "-q", "--clickhouse-types", "alert", &demo]));
    assert!(code == 2 && err.contains("--clickhouse-types chooses what --clickhouse gets"), "{code} {err}");
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn server_and_sensor_crashes_lose_nothing_and_double_nothing() {
    let Some(pcaps) = pcaps_dir() else { return };
    let capture = std::fs::read(pcaps.join("dnp3/misc/dnp3dataset_capturerem_to_cite_the_paper.pcap")).unwrap();
    for generation in [Generation::Legacy, Generation::Current] {
        let dir = scratch(&format!("fault-{generation:?}"));
        let Some(mut s) = TestServer::start(generation, &dir.join("server")) else { continue };
        let url = format!("{}/otsentry", s.url());
        init(&url);
        let spool = dir.join("spool");
        let replay = |eve: &Path| {
            let mut c = otsentry();
            c.args(["replay", "-q", "--host", "fault-test", "--clickhouse", &url, "--spool"]).arg(&spool).arg("--eve").arg(eve);
            c.args(["--summary-json"]).arg(eve.with_extension("summary.json")).arg("-");
            c.stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::piped());
            c
        };
        // Run 1: the capture slowly through stdin; the server is killed at 25%, back at
        // 45%, killed again at 65%, and the sensor itself killed at 85%.
        let mut first = replay(&dir.join("run1.jsonl")).spawn().unwrap();
        let mut stdin = first.stdin.take().unwrap();
        let chunks = 40;
        feed(&mut stdin, &capture[..capture.len() * 85 / 100], chunks * 85 / 100, Duration::from_millis(250), |i| match i {
            10 => s.kill(),
            18 => s.restart(),
            26 => s.kill(),
            _ => {}
        });
        std::thread::sleep(Duration::from_millis(1500));
        first.kill().unwrap(); // SIGKILL
        let _ = first.wait();
        let held: u64 = std::fs::read_dir(&spool)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".seg"))
            .map(|e| e.metadata().unwrap().len())
            .sum();
        assert!(held > 0, "the second outage left nothing in the spool: the test would prove nothing");
        let before: u64 = TABLES.iter().map(|(_, t)| count(s_or_restart(&mut s), &format!("SELECT count() FROM otsentry.{t}"))).sum();

        // Run 2: the same replay on the same spool, to its end.
        let eve = dir.join("run2.jsonl");
        let mut second = replay(&eve).spawn().unwrap();
        let mut stdin = second.stdin.take().unwrap();
        feed(&mut stdin, &capture, 4, Duration::from_millis(50), |_| {});
        drop(stdin);
        let out = second.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "run 2: {err}");
        let summary: serde_json::Value = serde_json::from_slice(&std::fs::read(eve.with_extension("summary.json")).unwrap()).unwrap();
        let ch = summary["outputs"].as_array().unwrap().iter().find(|o| o["name"].as_str().unwrap().starts_with("clickhouse:")).unwrap();
        let state = &ch["spool"];
        assert!(state["inherited_batches"].as_u64().unwrap() > 0, "run 2 found no spool: {ch}");
        assert_eq!(state["pending_batches"], 0, "the spool is not empty: {ch}");
        assert_eq!(ch["dropped"], 0, "{ch}");

        let (eve_ids, copies) = eve_ids(&eve);
        assert_eq!(copies, 0);
        let alerts = table_ids(&s, "otsentry", "alerts");
        let flows = table_ids(&s, "otsentry", "flows");
        assert!(alerts == eve_ids["alert"].iter().cloned().collect::<Vec<_>>(), "{generation:?}: alerts in ClickHouse are not run 2's");
        assert!(flows == eve_ids["flow"].iter().cloned().collect::<Vec<_>>(), "{generation:?}: flows in ClickHouse are not run 2's");
        let lines = assert_tables_match(&s, "otsentry", &eve_ids);
        let rows: u64 = TABLES.iter().map(|(_, t)| count(&s, &format!("SELECT count() FROM otsentry.{t}"))).sum();
        let _ = writeln!(
            std::io::stderr(),
            "{generation:?} fault test: before run 2 {before} rows; after it {rows} rows, {} distinct ({}); run 2's spool: {} batches inherited, {} drained, 0 pending",
            eve_ids.values().map(BTreeSet::len).sum::<usize>(),
            lines.join(", "),
            state["inherited_batches"],
            state["drained"]
        );
        drop(s);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// The server, started again if it is down (after run 1 it is).
fn s_or_restart(s: &mut TestServer) -> &TestServer {
    if s.query("SELECT 1").is_err() {
        s.restart();
    }
    s
}

#[test]
fn bad_starts_are_clear_errors_or_spool() {
    let demo = fixture("fixtures/demo/input.pcap");
    let dir = scratch("bad");
    // A password in the URL: refused, and not echoed.
    let (code, err) = run(otsentry().args(["replay", "--clickhouse", "http://u:hunter2@127.0.0.1:1/x", &demo]));
    assert!(code == 2 && err.contains("OTSENTRY_CLICKHOUSE_PASSWORD") && !err.contains("hunter2"), "{code} {err}");
    let (code, err) = run(otsentry().args(["replay", "--spool"]).arg(dir.join("s")).arg(&demo));
    assert!(code == 2 && err.contains("--spool keeps batches for --clickhouse"), "{code} {err}");
    // Nothing listens: without a spool the run does not start; with one, the records wait.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{closed}/otsentry");
    let (code, err) = run(otsentry().args(["replay", "-q", "--clickhouse", &url, &demo]));
    assert!(code == 1 && err.contains(&format!("127.0.0.1:{closed}")) && err.contains("--spool DIR"), "{code} {err}");
    let spool = dir.join("spool");
    let summary = dir.join("summary.json");
    let (code, err) =
        run(otsentry().args(["replay", "-q", "--clickhouse", &url, "--spool"]).arg(&spool).arg("--summary-json").arg(&summary).arg(&demo));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("records wait in the spool") && err.contains("stay in the spool"), "{err}");
    let s: serde_json::Value = serde_json::from_slice(&std::fs::read(&summary).unwrap()).unwrap();
    let ch = &s["outputs"][0];
    assert!(ch["spool"]["pending_batches"].as_u64().unwrap() > 0 && ch["dropped"] == 0, "{ch}");
    // The spool's cap: loud, counted, exit 1.
    let small = dir.join("small");
    let (code, err) = run(otsentry()
        .args(["replay", "-q", "--clickhouse", &url, "--spool-max", "1K", "--spool"])
        .arg(&small)
        .arg("--summary-json")
        .arg(&summary)
        .arg(&demo));
    assert!(code == 1 && err.contains("full") && err.contains("records not written"), "{code} {err}");

    for generation in [Generation::Legacy, Generation::Current] {
        let Some(srv) = TestServer::start(generation, &dir.join(format!("server-{generation:?}"))) else { continue };
        let url = format!("{}/otsentry", srv.url());
        let (code, err) = run(otsentry().args(["replay", "-q", "--clickhouse", &url, &demo]));
        assert!(code == 2 && err.contains("does not exist: run `otsentry clickhouse init`"), "{code} {err}");
        init(&url);
        srv.query("ALTER TABLE otsentry.alerts MODIFY COLUMN severity String").unwrap();
        let (code, err) = run(otsentry().args(["replay", "-q", "--clickhouse", &url, &demo]));
        assert!(code == 2 && err.contains("otsentry.alerts: column `severity` is String, expected UInt8"), "{code} {err}");
        srv.query("ALTER TABLE otsentry.alerts MODIFY COLUMN severity UInt8").unwrap();
        if generation == Generation::Legacy {
            let url = format!("http://{SENSOR_USER}@127.0.0.1:{}/otsentry", srv.port);
            let (code, err) =
                run(otsentry().args(["replay", "-q", "--clickhouse", &url, &demo]).env("OTSENTRY_CLICKHOUSE_PASSWORD", "wrong"));
            assert!(code == 2 && err.contains("Wrong password"), "{code} {err}");
            let pw = dir.join("pw");
            std::fs::write(&pw, format!("{SENSOR_PASSWORD}\n")).unwrap();
            let (code, err) = run(otsentry()
                .args(["replay", "-q", "--clickhouse", &url, "--clickhouse-password-file"])
                .arg(&pw)
                .arg(&demo)
                .stdout(Stdio::null()));
            assert_eq!(code, 0, "{err}");
            assert_eq!(count(&srv, "SELECT count() FROM otsentry.alerts FINAL"), DEMO_ALERTS);
            // The spool of the unreachable run above goes to this server now.
            let (code, err) = run(otsentry()
                .args(["replay", "-q", "--clickhouse", &url, "--clickhouse-password-file"])
                .arg(&pw)
                .arg("--spool")
                .arg(&spool)
                .arg("--summary-json")
                .arg(&summary)
                .arg(&demo)
                .stdout(Stdio::null()));
            assert_eq!(code, 0, "{err}");
            let s: serde_json::Value = serde_json::from_slice(&std::fs::read(&summary).unwrap()).unwrap();
            assert_eq!(s["outputs"][0]["spool"]["pending_batches"], 0, "{}", s["outputs"][0]);
            assert_eq!(count(&srv, "SELECT count() FROM otsentry.alerts FINAL"), DEMO_ALERTS, "the spooled copy doubled nothing");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn https_with_the_sites_ca_and_not_without_it() {
    let dir = scratch("tls");
    let Some(srv) = TestServer::start_tls(&dir.join("server")) else { return };
    let (port, ca) = srv.https.clone().unwrap();
    let url = format!("https://127.0.0.1:{port}/otsentry");
    let demo = fixture("fixtures/demo/input.pcap");
    // The server's certificate is signed by a CA the system does not know: refused.
    let (code, err) = run(otsentry().args(["clickhouse", "init", "--clickhouse", &url]));
    assert!(code == 2 && err.contains("certificate"), "{code} {err}");
    let (code, err) = run(otsentry().args(["replay", "-q", "--clickhouse", &url, "--spool"]).arg(dir.join("spool")).arg(&demo));
    assert!(code == 2 && err.contains("certificate"), "a certificate error is no outage to spool through: {code} {err}");
    let (code, err) = run(otsentry().args(["clickhouse", "init", "--clickhouse", &url, "--clickhouse-ca"]).arg(&ca));
    assert_eq!(code, 0, "{err}");
    let (code, err) =
        run(otsentry().args(["replay", "-q", "--clickhouse", &url, "--clickhouse-ca"]).arg(&ca).arg(&demo).stdout(Stdio::null()));
    assert_eq!(code, 0, "{err}");
    assert_eq!(count(&srv, "SELECT count() FROM otsentry.alerts FINAL"), DEMO_ALERTS);
    // A CA file for a plain-http URL is a mistake, said so.
    let (code, err) =
        run(otsentry().args(["replay", "-q", "--clickhouse", &format!("{}/otsentry", srv.url()), "--clickhouse-ca"]).arg(&ca).arg(&demo));
    assert!(code == 2 && err.contains("the URL is not https"), "{code} {err}");
    drop(srv);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_full_spool_disk_is_loud_and_counted_not_silent() {
    use otsentry_pcapgen::shared::{report_suite, SuiteOutcome};
    let dir = scratch("enospc");
    let spool = dir.join("spool");
    std::fs::create_dir_all(&spool).unwrap();
    // A real filesystem that fills: a 256 KiB tmpfs (mounting needs root, as CI runs).
    let mounted = Command::new("mount").args(["-t", "tmpfs", "-o", "size=256k", "tmpfs"]).arg(&spool).status().is_ok_and(|s| s.success());
    if !mounted {
        assert!(std::env::var("CI").map_or(true, |v| v != "true"), "CI=true: mounting a tmpfs for the full-disk test failed");
        report_suite(SuiteOutcome::Skipped("cannot mount a tmpfs (not root)"));
        return;
    }
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let summary = dir.join("summary.json");
    let mut cmd = otsentry();
    cmd.args(["replay", "-q", "--clickhouse", &format!("http://127.0.0.1:{closed}/otsentry"), "--spool"]).arg(&spool);
    cmd.arg("--summary-json").arg(&summary);
    // Enough records to fill it several times over.
    for f in ["demo", "network", "segmentation", "baseline"] {
        cmd.arg(fixture(&format!("fixtures/{f}/input.pcap")));
    }
    let (code, err) = run(cmd.stdout(Stdio::null()));
    let _ = Command::new("umount").arg(&spool).status();
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("No space left on device") && err.contains("records not written"), "{err}");
    let s: serde_json::Value = serde_json::from_slice(&std::fs::read(&summary).unwrap()).unwrap();
    let ch = &s["outputs"][0];
    let (accepted, written, dropped) = (ch["accepted"].as_u64().unwrap(), ch["written"].as_u64().unwrap(), ch["dropped"].as_u64().unwrap());
    assert!(dropped > 0 && written > 0, "{ch}");
    assert_eq!(accepted, written + dropped, "every record accounted for: {ch}");
    let _ = std::fs::remove_dir_all(&dir);
}
