//! Asset records in ClickHouse, on real servers of both generations: every record in
//! `assets` (the history of changes stays), and each sensor's assets as they are now in
//! `asset_state` (a ReplacingMergeTree on the last sighting, filled by a materialized
//! view) and in the `asset_now` view.
use otsentry_pcapgen::clickhouse::{Generation, TestServer};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn otsentry() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_otsentry"));
    c.env_remove("OTSENTRY_CLICKHOUSE_PASSWORD");
    c
}

fn run(cmd: &mut Command) -> (i32, String) {
    let out = cmd.output().expect("run otsentry");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn identities() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/report/identities.pcap")
}

/// `sql`'s rows, each its tab-separated columns.
fn rows(s: &TestServer, sql: &str) -> Vec<Vec<String>> {
    let text = s.query(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    text.lines().map(|l| l.split('\t').map(str::to_string).collect()).collect()
}

/// An address as either generation prints it (a legacy server keeps the text; a current
/// one an IPv6 address, IPv4 mapped).
fn address(text: &str) -> &str {
    text.strip_prefix("::ffff:").unwrap_or(text)
}

#[test]
fn asset_history_and_the_current_state_on_both_generations() {
    for generation in [Generation::Legacy, Generation::Current] {
        let dir = std::env::temp_dir().join(format!("otsentry-chassets-{}-{generation:?}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let Some(s) = TestServer::start(generation, &dir.join("server")) else { continue };
        let url = format!("{}/inv", s.url());
        let (code, err) = run(otsentry().args(["clickhouse", "init", "--clickhouse", &url]));
        assert_eq!(code, 0, "init: {err}");
        // Two sensors see the same plant; the second run of sensor a sends its records again.
        let eve = dir.join("a.jsonl");
        for (host, eve) in [("a", Some(&eve)), ("b", None), ("a", None)] {
            let mut cmd = otsentry();
            cmd.args(["replay", "-q", "--host", host, "--clickhouse", &url, "--clickhouse-types", "asset"]);
            if let Some(e) = eve {
                cmd.arg("--eve").arg(e).args(["--eve-types", "asset"]);
            }
            let (code, err) = run(cmd.arg(identities()).stdout(Stdio::null()));
            assert_eq!(code, 0, "{host}: {err}");
        }
        let records: Vec<serde_json::Value> =
            std::fs::read_to_string(&eve).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        let assets: std::collections::BTreeSet<&str> = records.iter().filter_map(|r| r["asset"]["ip"].as_str()).collect();
        // The history: every record once per sensor, the firmware's old and new values.
        let history = rows(&s, "SELECT host, count() FROM inv.assets FINAL GROUP BY host ORDER BY host");
        assert_eq!(history, [vec!["a".to_string(), records.len().to_string()], vec!["b".to_string(), records.len().to_string()]]);
        let firmware = rows(
            &s,
            "SELECT old, new FROM inv.assets FINAL WHERE host = 'a' AND change = 'identity' AND field = 'firmware' AND toString(ip) LIKE '%10.40.2.20' ORDER BY version",
        );
        assert_eq!(firmware, [vec!["".to_string(), "V2.8.3".to_string()], vec!["V2.8.3".to_string(), "V2.9.0".to_string()]]);
        // Now: one row per sensor and address, each as its last record has it.
        let now = rows(&s, "SELECT host, toString(ip), roles, identity FROM inv.asset_now ORDER BY host, toString(ip)");
        assert_eq!(now.len(), 2 * assets.len(), "{now:?}");
        for host in ["a", "b"] {
            let ours: Vec<&Vec<String>> = now.iter().filter(|r| r[0] == host).collect();
            let ips: std::collections::BTreeSet<&str> = ours.iter().map(|r| address(&r[1])).collect();
            assert_eq!(ips, assets, "{host}");
            let plc = ours.iter().find(|r| address(&r[1]) == "10.40.2.20").expect("the S7 PLC");
            assert_eq!(plc[2], "['plc']", "{plc:?}");
            let identity: serde_json::Value = serde_json::from_str(&plc[3].replace("\\\"", "\"")).expect("identity JSON");
            assert_eq!((identity["firmware"].as_str(), identity["model"].as_str()), (Some("V2.9.0"), Some("6ES7 516-3AN01-0AB0")));
        }
        // The state table says the same once merged (FINAL).
        let merged = rows(&s, "SELECT host, toString(ip), identity FROM inv.asset_state FINAL ORDER BY host, toString(ip)");
        assert_eq!(merged.len(), now.len());
        for (m, n) in merged.iter().zip(&now) {
            assert_eq!((&m[0], &m[1], &m[2]), (&n[0], &n[1], &n[3]));
        }
        let _ = writeln!(
            std::io::stderr(),
            "{generation:?} ClickHouse: {} asset records a sensor, {} assets now per sensor",
            records.len(),
            assets.len()
        );
        drop(s);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
