//! Many sensors into a replicated ClickHouse cluster: a private ZooKeeper and four
//! clickhouse-server 18.16 processes as two shards of two replicas; `clickhouse init
//! --cluster`; two sensors replaying different captures at once, each through another
//! node, while one replica is SIGKILLed and restarted. Afterwards, through the
//! Distributed tables, each sensor's records are its EVE output's, none doubled, and
//! each shard's two replicas hold the same rows.
use otsentry_pcapgen::clickhouse::TestServer;
use otsentry_pcapgen::cluster::{Cluster, CLUSTER};
use otsentry_pcapgen::feed::feed;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const TABLES: [(&str, &str); 8] = [
    ("alert", "alerts"),
    ("anomaly", "anomalies"),
    ("flow", "flows"),
    ("modbus", "modbus"),
    ("dnp3", "dnp3"),
    ("s7comm", "s7comm"),
    ("cotp", "cotp"),
    ("segmentation", "segmentation"),
];

fn otsentry() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_otsentry"));
    c.env_remove("OTSENTRY_CLICKHOUSE_PASSWORD");
    c
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("otsentry-cluster-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn query(s: &TestServer, sql: &str) -> String {
    s.query(sql).unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Event ids by record type in an EVE file.
fn eve_ids(path: &Path) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in std::fs::read_to_string(path).unwrap().lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        out.entry(v["event_type"].as_str().unwrap().to_string()).or_default().push(v["event_id"].as_str().unwrap().to_string());
    }
    for ids in out.values_mut() {
        ids.sort();
    }
    out
}

fn capture(modbus: u32, dnp3: u32, s7: u32) -> Vec<u8> {
    let plant = otsentry_pcapgen::bench::Plant { modbus_sessions: modbus, dnp3_sessions: dnp3, s7_sessions: s7, packets: 8_000 };
    let mut out = Vec::new();
    otsentry_pcapgen::bench::write_plant(&plant, &mut out).unwrap();
    out
}

/// A sensor replaying from stdin into `url`, with its EVE file and spool in `dir`.
fn sensor(name: &str, url: &str, dir: &Path) -> std::process::Child {
    otsentry()
        .args(["replay", "-q", "--host", name, "--clickhouse", url, "--spool"])
        .arg(dir.join(format!("{name}-spool")))
        .arg("--eve")
        .arg(dir.join(format!("{name}.jsonl")))
        .arg("--summary-json")
        .arg(dir.join(format!("{name}-summary.json")))
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Rows of each local table on `node`, with a digest of their event ids (FINAL: one
/// row per id).
fn replica_state(node: &TestServer) -> Vec<String> {
    TABLES
        .iter()
        .map(|(_, t)| query(node, &format!("SELECT count(), groupBitXor(sipHash64(toString(event_id))) FROM otsentry.{t}_local FINAL")))
        .collect()
}

#[test]
fn two_sensors_fill_a_replicated_cluster_through_distributed_tables() {
    let dir = scratch("two-sensors");
    let Some(mut cluster) = Cluster::start(&dir.join("cluster")) else { return };
    let url = |i: usize| format!("{}/otsentry", cluster.nodes[i].url());
    let init = |u: &str| otsentry().args(["clickhouse", "init", "--clickhouse", u, "--cluster", CLUSTER]).output().unwrap();
    let o = init(&url(0));
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success() && err.contains("migrations applied now: 0001, 0002"), "{err}");
    // Again, from another node: nothing to do, every table checked.
    let o = init(&url(2));
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success() && err.contains("migrations applied now: none; already applied: 0001, 0002"), "{err}");
    for node in &cluster.nodes {
        let engine = query(
            node,
            "SELECT engine FROM system.tables WHERE database = 'otsentry' AND name IN ('alerts', 'alerts_local') ORDER BY name",
        );
        assert_eq!(engine, "Distributed\nReplicatedReplacingMergeTree\n");
    }
    // A cluster the servers do not know: one clear line.
    let o = otsentry().args(["clickhouse", "init", "--clickhouse", &url(0), "--cluster", "nope"]).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.code() == Some(2) && err.contains("no cluster \"nope\""), "{err}");

    // Two sensors at once, through nodes 1 and 3; node 2 (shard 1's other replica) is
    // killed while they write and started again.
    let (a_url, b_url) = (url(0), url(2));
    let mut a = sensor("sensor-a", &a_url, &dir);
    let mut b = sensor("sensor-b", &b_url, &dir);
    let (mut a_in, mut b_in) = (a.stdin.take().unwrap(), b.stdin.take().unwrap());
    let b_capture = capture(0, 30, 20);
    let b_feed = std::thread::spawn(move || feed(&mut b_in, &b_capture, 40, Duration::from_millis(100), |_| {}));
    let mut killed = false;
    feed(&mut a_in, &capture(40, 0, 10), 40, Duration::from_millis(100), |i| match i {
        10 => {
            cluster.nodes[1].kill();
            killed = true;
        }
        25 => cluster.nodes[1].restart(),
        _ => {}
    });
    drop(a_in);
    b_feed.join().unwrap();
    assert!(killed);
    for (name, child) in [("sensor-a", a), ("sensor-b", b)] {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        let summary: Value = serde_json::from_str(&std::fs::read_to_string(dir.join(format!("{name}-summary.json"))).unwrap()).unwrap();
        let ch = &summary["outputs"].as_array().unwrap().iter().find(|o| o["spool"].is_object()).unwrap()["spool"];
        assert_eq!(ch["pending_batches"], 0, "{name}: {ch}");
    }

    // Replication and distributed sends settle: each shard's replicas agree (bounded).
    let until = Instant::now() + Duration::from_secs(120);
    loop {
        let shards: Vec<(Vec<String>, Vec<String>)> =
            [(0, 1), (2, 3)].iter().map(|&(x, y)| (replica_state(&cluster.nodes[x]), replica_state(&cluster.nodes[y]))).collect();
        if shards.iter().all(|(x, y)| x == y) {
            break;
        }
        assert!(Instant::now() < until, "the replicas did not agree within 120 s: {shards:?}");
        std::thread::sleep(Duration::from_secs(1));
    }

    // Through the Distributed tables: each sensor's records are its EVE output's, once.
    let entry = &cluster.nodes[3];
    let mut said = Vec::new();
    for name in ["sensor-a", "sensor-b"] {
        let eve = eve_ids(&dir.join(format!("{name}.jsonl")));
        assert!(eve.contains_key("modbus") || eve.contains_key("dnp3"), "{name}: no protocol records");
        let mut total = 0;
        for (ty, table) in TABLES {
            let want = eve.get(ty).cloned().unwrap_or_default();
            let have: Vec<String> = {
                let text =
                    query(entry, &format!("SELECT toString(event_id) FROM otsentry.{table} FINAL WHERE host = '{name}' ORDER BY event_id"));
                let mut v: Vec<String> = text.lines().map(str::to_string).collect();
                v.sort();
                v
            };
            assert_eq!(have.len(), want.len(), "{name} {table}: {} rows, EVE has {}", have.len(), want.len());
            assert!(have == want, "{name} {table}: other event ids than EVE's");
            let all = query(entry, &format!("SELECT count() FROM otsentry.{table} WHERE host = '{name}'"));
            let all: usize = all.trim().parse().unwrap();
            assert!(all >= want.len(), "{name} {table}");
            total += want.len();
        }
        said.push(format!("{name} {total} records"));
    }
    // Each shard holds part of the rows.
    for shard in [0, 2] {
        let rows: u64 = query(&cluster.nodes[shard], "SELECT count() FROM otsentry.flows_local FINAL").trim().parse().unwrap();
        assert!(rows > 0, "shard of node {} holds no flows", shard + 1);
    }
    // A node down: ON CLUSTER DDL gives up after its bound (30 s, not 18.16's 180 s)
    // and names the node.
    let node4 = query(
        &cluster.nodes[0],
        &format!("SELECT port FROM system.clusters WHERE cluster = '{CLUSTER}' AND shard_num = 2 AND replica_num = 2"),
    );
    cluster.nodes[3].kill();
    let started = Instant::now();
    let o = otsentry()
        .args(["clickhouse", "init", "--clickhouse", &format!("{}/other", cluster.nodes[0].url()), "--cluster", CLUSTER])
        .output()
        .unwrap();
    let waited = started.elapsed();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(!o.status.success() && err.contains(&format!("nodes that do not answer: 127.0.0.1:{}", node4.trim())), "{err}");
    assert!(waited < Duration::from_secs(90), "init waited {waited:?}");
    let _ = writeln!(
        std::io::stderr(),
        "cluster: {}; the replicas of each shard agree after a replica's kill; init with a node down failed in {:.0} s naming it",
        said.join(", "),
        waited.as_secs_f64()
    );
    drop(cluster);
    let _ = std::fs::remove_dir_all(&dir);
}
