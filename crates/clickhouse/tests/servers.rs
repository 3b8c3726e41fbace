//! The sink against real servers of both generations: `init` and its migrations, rows
//! read back field by field, repeats collapsed, and each way a start can go wrong.
use otsentry_clickhouse::{init, statements, Catalog, ClickHouseSink, Layout, Server, Settings, StartError};
use otsentry_pcapgen::clickhouse::{Generation, TestServer, SENSOR_PASSWORD, SENSOR_USER};
use otsentry_sink::{Batch, RecordSink};

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("otsentry-ch-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// The engine's tables and the built-in protocols'.
fn catalog() -> Catalog {
    otsentry_sink::install_test_types();
    Catalog::new([&otsentry_proto_modbus::DESCRIPTOR, &otsentry_proto_dnp3::DESCRIPTOR, &otsentry_proto_s7comm::DESCRIPTOR])
}

fn server(url: &str, db: &str) -> Server {
    Server::new(Settings::from_url(&format!("{url}/{db}")).unwrap(), catalog()).unwrap()
}

const MODBUS: &str = r#"{"timestamp":"2026-01-15T08:00:00.040000+00:00","flow_id":7066379751304868,"pcap_cnt":5,"event_type":"modbus","vlan":[10],"src_ip":"10.10.1.50","src_port":49152,"dest_ip":"fd00::2","dest_port":502,"proto":"TCP","app_proto":"modbus","modbus":{"tx_id":1,"transaction_id":1,"unit_id":1,"function":3,"function_name":"read_holding_registers","status":"complete","address":0,"quantity":10,"response_values":[1,515]},"host":"sensor-1","event_id":"cfebc9fa-130c-8bac-8c7b-808e03c70771"}"#;
const ALERT: &str = r#"{"timestamp":"2026-01-15T08:00:00.210000+00:00","flow_id":3578804600067320,"pcap_cnt":22,"event_type":"alert","src_ip":"10.10.9.99","src_port":50501,"dest_ip":"10.10.2.20","dest_port":102,"proto":"TCP","app_proto":"s7comm","alert":{"action":"allowed","gid":1,"signature_id":4300001,"rev":1,"signature":"S7: PLC stop","category":"Inhibit Response Function","severity":1,"metadata":{"mitre_technique_id":["T0858","T0816"],"rule_id":["s7comm.plc_stop"]},"detail":"function=41 (plc_stop)"},"s7comm":{"function":41},"host":"sensor-1","event_id":"4ea5c7f3-0571-838c-82c6-c4eb984971ae"}"#;

/// A `stats` record as `otsentry sense` writes it.
const STATS: &str = r#"{"timestamp":"2026-12-05T13:51:10.116324+00:00","event_type":"stats","stats":{"uptime":4,"capture":{"kernel_packets":33,"kernel_drops":0,"kernel_ifdrops":0},"decoder":{"pkts":33,"bytes":3733,"invalid":1,"arp":0},"flow":{"total":6,"active":6,"mgr":{"flows_timeout":0,"flows_evicted":0}},"tcp":{"midstream_pickups":0,"reassembly_gap":0,"overlap_diff_data":0},"defrag":{"fragments":5,"reassembled":2,"max_frag_hits":0},"app_layer":{"flow":{"dnp3":2,"modbus":2,"s7comm":1},"tx":{"dnp3":82,"modbus":4,"s7comm":2}},"otsentry":{"protocols":{"modbus":{"pdus":8,"functions":{"3":6,"6":2},"function_names":{"3":"read_holding_registers","6":"write_single_register"},"exceptions":0,"anomalies":0,"transactions":4,"unanswered":0,"unsolicited":0},"dnp3":{"link_frames":82,"fragments":82,"functions":{"1":1,"129":1,"2":80},"function_names":{"1":"read","129":"response","2":"write"},"anomalies":2},"s7comm":{"pdus":2,"functions":{"41":2},"function_names":{"41":"plc_stop"},"userdata":{},"userdata_names":{},"anomalies":0},"s7comm_plus":{"pdus":0,"functions":{},"function_names":{},"anomalies":0}},"alerts":{"total":6,"by_severity":{"critical":1,"high":1,"info":3,"low":1}},"decode":{"files":0,"arp":0,"arp_bindings_dropped":0,"files_truncated":0,"files_skipped":0,"snaplen_truncated":0,"oversize":0,"anomalies":{"decoder.ipv4.frag_overlap":2,"decoder.tcp.pkt_too_small":1,"dnp3.flooded":1,"dnp3.request_burst":1},"ipv4_checksum_errors":0,"tcp_checksum_errors":0,"udp_checksum_errors":1,"non_ip":0,"tunnelled":0,"fragments":5,"datagrams_reassembled":2,"fragments_dropped":0},"streams":{"flows_timed_out":0,"flows_evicted":0,"peak_active_flows":6,"active_flows":6,"tcp_midstream":0,"app_protocols":{"dnp3":2,"modbus":2,"s7comm":1},"gaps":0,"missed_bytes":0,"capture_loss_pct":0.0,"overflow_bytes":0,"end_gap_bytes":0,"retransmitted_bytes":0,"overlap_conflicts":0,"reassembly_peak_bytes":0,"app_dropped_bytes":0,"delivered_bytes":0,"scan_sources_dropped":0,"relayed_segments":0,"sender_hosts_dropped":0},"outputs":[{"name":"eve:/tmp/x.json","accepted":99,"written":99,"batches":2,"retried":0,"dropped":0,"waited":0,"overflowed":0,"reopened":0,"rotated":0,"closed":false,"last_error":null,"unencodable":0}]}},"host":"vm","event_id":"5425bbee-b9eb-89bf-bb4b-9259880d6b4b"}"#;

fn connect(server: Server) -> Result<(), StartError> {
    ClickHouseSink::new(server).check()
}

fn each_generation(test: &str, f: impl Fn(&mut TestServer)) {
    for generation in [Generation::Legacy, Generation::Current] {
        let dir = scratch(&format!("{test}-{generation:?}"));
        let Some(mut s) = TestServer::start(generation, &dir) else { continue };
        f(&mut s);
        drop(s);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// A database an earlier version made (migration 1 only) has no `stats` table: a sensor
/// refuses it, naming the remedy, and `init` adds just what is missing (the stats, then
/// the assets).
#[test]
fn init_upgrades_a_database_of_an_earlier_version() {
    each_generation("upgrade", |s| {
        let srv = server(&s.url(), "older");
        let layout = if s.generation == Generation::Legacy { Layout::Legacy } else { Layout::Current };
        srv.execute("CREATE DATABASE older").unwrap();
        let c = catalog();
        for sql in statements(&c, &c.migrations()[0], "older", layout, None) {
            srv.execute(&sql).unwrap();
        }
        srv.execute("CREATE TABLE older.schema_migrations (`version` UInt32, `name` String, `layout` String, `applied` DateTime('UTC')) ENGINE = MergeTree() ORDER BY version").unwrap();
        srv.execute(&format!("INSERT INTO older.schema_migrations VALUES (1, 'tables', '{}', now())", layout.name())).unwrap();
        let refused = connect(server(&s.url(), "older")).unwrap_err().to_string();
        assert!(refused.contains("older.stats does not exist: run `otsentry clickhouse init`"), "{refused}");
        let report = init(&srv, None).unwrap();
        assert_eq!((report.applied, report.already), (vec![2, 3], vec![1]));
        connect(server(&s.url(), "older")).unwrap();
    });
}

#[test]
fn init_is_versioned_and_idempotent_and_rows_read_back_exactly() {
    each_generation("init", |s| {
        let srv = server(&s.url(), "otsentry");
        let first = init(&srv, None).unwrap();
        let layout = if s.generation == Generation::Legacy { Layout::Legacy } else { Layout::Current };
        assert_eq!((first.layout, first.applied.clone(), first.already.clone()), (layout, vec![1, 2, 3], vec![]));
        let again = init(&srv, None).unwrap();
        assert_eq!((again.applied, again.already), (vec![], vec![1, 2, 3]));
        assert_eq!(s.query("SELECT count() FROM otsentry.schema_migrations").unwrap().trim(), "3");

        let mut sink = ClickHouseSink::new(srv);
        sink.check().unwrap();
        let batch = Batch::from_lines([("modbus", MODBUS), ("alert", ALERT)]);
        sink.write(&batch).unwrap();
        // Delivered twice (a retry after a lost answer): still one row per event_id.
        sink.write(&batch).unwrap();
        let q = |sql: &str| s.query(sql).unwrap().trim().to_string();
        assert_eq!(q("SELECT count() FROM otsentry.modbus FINAL"), "1");
        assert_eq!(q("SELECT uniqExact(event_id) FROM otsentry.alerts"), "1");
        assert_eq!(
            q("SELECT toString(event_id), host, src_ip, dest_ip, src_port, vlan, unit_id, function_name FROM otsentry.modbus FINAL")
                .split('\t')
                .collect::<Vec<_>>(),
            {
                let (src, dst) = if layout == Layout::Legacy { ("10.10.1.50", "fd00::2") } else { ("::ffff:10.10.1.50", "fd00::2") };
                vec!["cfebc9fa-130c-8bac-8c7b-808e03c70771", "sensor-1", src, dst, "49152", "[10]", "1", "read_holding_registers"]
            }
        );
        let time = if layout == Layout::Legacy {
            q("SELECT concat(toString(timestamp), '.', toString(timestamp_us)) FROM otsentry.modbus FINAL")
        } else {
            q("SELECT toString(timestamp) FROM otsentry.modbus FINAL")
        };
        assert_eq!(time, if layout == Layout::Legacy { "2026-01-15 08:00:00.40000" } else { "2026-01-15 08:00:00.040000" });
        assert_eq!(
            q("SELECT signature_id, severity, mitre_technique_id, rule_id, s7comm FROM otsentry.alerts FINAL"),
            "4300001\t1\t['T0858','T0816']\t['s7comm.plc_stop']\t{\"function\":41}"
        );
        // The one field without a column, in `extra`, in the record's shape.
        assert_eq!(q("SELECT extra FROM otsentry.modbus FINAL"), r#"{"modbus":{"response_values":[1,515]}}"#);
        assert_eq!(q("SELECT extra FROM otsentry.alerts FINAL"), "");
        if layout == Layout::Current {
            assert_eq!(q("SELECT JSONExtractRaw(extra, 'modbus', 'response_values') FROM otsentry.modbus FINAL"), "[1,515]");
        }
        // A live sensor's stats: Suricata's counters in columns, the rest in `extra`.
        sink.write(&Batch::from_lines([("stats", STATS)])).unwrap();
        assert_eq!(
            q("SELECT uptime, kernel_packets, kernel_drops, pkts, bytes, flows_total, flows_active, alerts FROM otsentry.stats"),
            "4\t33\t0\t33\t3733\t6\t6\t6"
        );
        let extra: serde_json::Value = serde_json::from_str(&q("SELECT extra FROM otsentry.stats")).unwrap();
        assert_eq!(extra["stats"]["otsentry"]["protocols"]["s7comm"]["functions"]["41"], 2, "{extra}");
    });
}

#[test]
fn bad_starts_are_clear_errors() {
    // Nothing listens: unreachable (the caller may spool), not a configuration error.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    match connect(server(&format!("http://127.0.0.1:{closed}"), "otsentry")) {
        Err(StartError::Unreachable(e)) => assert!(e.contains(&format!("127.0.0.1:{closed}")), "{e}"),
        other => panic!("expected unreachable, got {other:?}"),
    }
    each_generation("bad", |s| {
        // Tables never created.
        match connect(server(&s.url(), "otsentry")) {
            Err(StartError::Config(e)) => assert!(e.contains("otsentry.alerts does not exist: run `otsentry clickhouse init`"), "{e}"),
            other => panic!("expected a missing table, got {:?}", other),
        }
        // A column of the wrong type.
        init(&server(&s.url(), "otsentry"), None).unwrap();
        s.query("ALTER TABLE otsentry.flows MODIFY COLUMN gaps String").unwrap();
        match connect(server(&s.url(), "otsentry")) {
            Err(StartError::Config(e)) => assert!(e.contains("otsentry.flows: column `gaps` is String, expected UInt64"), "{e}"),
            other => panic!("expected a schema error, got {:?}", other),
        }
        s.query("ALTER TABLE otsentry.flows MODIFY COLUMN gaps UInt64").unwrap();
        if s.generation == Generation::Legacy {
            // Wrong credentials, and then the right ones.
            let mut settings = Settings::from_url(&format!("http://{SENSOR_USER}@127.0.0.1:{}/otsentry", s.port)).unwrap();
            settings.password = Some("wrong".into());
            match connect(Server::new(settings.clone(), catalog()).unwrap()) {
                Err(StartError::Config(e)) => assert!(e.contains("Wrong password"), "{e}"),
                other => panic!("expected a credentials error, got {:?}", other),
            }
            settings.password = Some(SENSOR_PASSWORD.into());
            assert!(connect(Server::new(settings, catalog()).unwrap()).is_ok());
        }
        // TTL: where the server has it.
        let ttl = init(&server(&s.url(), "otsentry"), Some(30));
        if s.generation == Generation::Legacy {
            assert!(ttl.unwrap_err().to_string().contains("--retention-days needs table TTLs"));
        } else {
            ttl.unwrap();
            assert!(s.query("SHOW CREATE TABLE otsentry.alerts").unwrap().contains("TTL"));
        }
    });
}

#[test]
fn a_table_changed_under_a_running_sink_dead_letters_with_the_reason() {
    each_generation("deadletter", |s| {
        let srv = server(&s.url(), "otsentry");
        init(&srv, None).unwrap();
        let spool_dir = scratch(&format!("deadletter-spool-{:?}", s.generation));
        let mut sink = ClickHouseSink::new(srv);
        sink.check().unwrap();
        let mut spooled = otsentry_sink::Spooled::new(sink, otsentry_sink::Spool::open(&spool_dir, 1 << 20).unwrap());
        spooled.write(&Batch::from_lines([("modbus", MODBUS)])).unwrap();
        // A DBA drops a column the sink writes: a schema error, not an outage.
        s.query("ALTER TABLE otsentry.alerts DROP COLUMN detail").unwrap();
        let err = spooled.write(&Batch::from_lines([("alert", ALERT)])).unwrap_err();
        assert!(matches!(err, otsentry_sink::SinkError::Permanent(_)), "{err}");
        let dead = std::fs::read_to_string(spool_dir.join(otsentry_sink::DEAD_LETTER)).unwrap();
        let line: serde_json::Value = serde_json::from_str(dead.lines().next().unwrap()).unwrap();
        assert_eq!(line["event_type"], "alert");
        assert_eq!(line["record"]["event_id"], "4ea5c7f3-0571-838c-82c6-c4eb984971ae");
        let reason = line["reason"].as_str().unwrap();
        assert!(reason.contains("detail"), "the reason names the column: {reason}");
        assert_eq!(spooled.dead_lettered(), 1);
        assert_eq!(s.query("SELECT count() FROM otsentry.modbus FINAL").unwrap().trim(), "1");
        // One record its column cannot hold: left out and dead-lettered, its batch written
        // (once the table is mended: the sink checks every table again after a refusal).
        s.query("ALTER TABLE otsentry.alerts ADD COLUMN detail String").unwrap();
        let bad = MODBUS.replace("\"unit_id\":1", "\"unit_id\":300").replace("cfebc9fa-130c", "0000c9fa-130c");
        let good = MODBUS.replace("cfebc9fa-130c", "1111c9fa-130c");
        spooled.write(&Batch::from_lines([("modbus", bad.as_str()), ("modbus", good.as_str())])).unwrap();
        assert_eq!(s.query("SELECT count() FROM otsentry.modbus FINAL").unwrap().trim(), "2");
        assert_eq!(spooled.dead_lettered(), 2);
        let dead = std::fs::read_to_string(spool_dir.join(otsentry_sink::DEAD_LETTER)).unwrap();
        let last: serde_json::Value = serde_json::from_str(dead.lines().last().unwrap()).unwrap();
        assert_eq!(last["record"]["event_id"], "0000c9fa-130c-8bac-8c7b-808e03c70771");
        assert!(last["reason"].as_str().unwrap().contains("modbus.unit_id: 300 is more than the column holds"), "{last}");
        let _ = std::fs::remove_dir_all(&spool_dir);
    });
}

/// The current engine here (chdb) cannot join a cluster: it has no ZooKeeper, so it
/// refuses replicated tables, and it knows no cluster. What it can check of the cluster
/// layout's DDL (current layout), it does: every statement parses, `ON CLUSTER`
/// included; the replicated tables' columns, partitions and keys make tables once their
/// engine is the single server's; and the sharding key is computed from their columns.
#[test]
fn the_cluster_layout_s_ddl_holds_on_the_current_engine() {
    let dir = scratch("cluster-ddl");
    let Some(s) = TestServer::start(Generation::Current, &dir) else { return };
    let srv = server(&s.url(), "clustered");
    srv.execute("CREATE DATABASE clustered").unwrap();
    for table in catalog().tables() {
        let [local, distributed] =
            <[String; 2]>::try_from(otsentry_clickhouse::cluster::cluster_statements(table, "clustered", Layout::Current, "sites"))
                .unwrap();
        for sql in [&local, &distributed] {
            let ast = s.query(&format!("EXPLAIN AST {sql}")).unwrap_or_else(|e| panic!("{sql}: {e}"));
            assert!(ast.contains("CreateQuery"), "{ast}");
        }
        assert!(
            local.contains("ON CLUSTER `sites`") && local.contains("ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/clustered/"),
            "{local}"
        );
        let refused = srv.execute(&local).unwrap_err().to_string();
        assert!(refused.contains("ZooKeeper") || refused.contains("cluster"), "chdb took replicated DDL: {refused}");
        let single = local.replace(" ON CLUSTER `sites`", "").replace(
            &local[local.find("ReplicatedReplacingMergeTree(").unwrap()..local.find("\nPARTITION").unwrap()],
            "ReplacingMergeTree()",
        );
        srv.execute(&single).unwrap_or_else(|e| panic!("{single}: {e}"));
        let key = &distributed[distributed.find("sipHash64(").unwrap()..distributed.len() - 1];
        let local_name = format!("{}_local", table.name);
        srv.query_text(&format!("SELECT {key} FROM clustered.`{local_name}`")).unwrap_or_else(|e| panic!("{key}: {e}"));
    }
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}
