//! Many sensors into a cluster: on every node a `ReplicatedReplacingMergeTree` table per
//! record type (`alerts_local`, ...: one row per `event_id` on each shard, the `{shard}`
//! and `{replica}` macros naming its replicas), and under today's table names a
//! `Distributed` table over them, sharded by a hash of the sensor's name and the event
//! id, so a record sent twice lands on the shard that already holds it. DDL runs `ON
//! CLUSTER`, its wait bounded; a node that does not answer is named.
use crate::schema::{create_table_as, ident, Layout, Table};
use crate::server::{Failure, Server};

/// How long `ON CLUSTER` DDL waits for every node (18.16 waits 180 s by default).
pub const DDL_TIMEOUT_SECS: u32 = 30;

/// The suffix of the replicated table on each node.
pub const LOCAL_SUFFIX: &str = "_local";

/// ` ON CLUSTER `cluster``.
pub(crate) fn on(cluster: &str) -> String {
    format!(" ON CLUSTER {}", ident(cluster))
}

/// The statements that make `table` on `cluster`: the replicated table on each node,
/// then the Distributed table over them.
pub fn cluster_statements(table: &Table, database: &str, layout: Layout, cluster: &str) -> Vec<String> {
    let local = format!("{}{LOCAL_SUFFIX}", table.name);
    // The ZooKeeper path names the database, so two databases on one cluster differ.
    let engine = format!("ReplicatedReplacingMergeTree('/clickhouse/tables/{{shard}}/{database}/{local}', '{{replica}}')");
    let replicated = create_table_as(table, database, &local, &on(cluster), layout, &engine, None);
    // 18.16's sipHash64 takes no UUID and one argument: the name and the id as text.
    let distributed = format!(
        "CREATE TABLE IF NOT EXISTS {db}.{name}{on} AS {db}.{local_id}\nENGINE = Distributed({cluster_id}, {db}, {local_id}, sipHash64(concat(host, toString(event_id))))",
        db = ident(database),
        name = ident(table.name),
        on = on(cluster),
        local_id = ident(&local),
        cluster_id = ident(cluster),
    );
    vec![replicated, distributed]
}

/// The migrations record on a cluster: one replicated table, every node a replica of it.
/// `table` is the record's name, `database.table` as `record` quotes it.
pub(crate) fn migrations_table(record: &str, database: &str, table: &str, cluster: &str) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {record}{} (`version` UInt32, `name` String, `layout` String, `applied` DateTime('UTC')) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/otsentry/{database}/{table}', '{{shard}}-{{replica}}') ORDER BY version",
        on(cluster)
    )
}

/// The cluster's nodes as the server knows them (`host:port`), or why it cannot hold
/// our tables (no such cluster, no macros).
pub(crate) fn nodes(server: &Server, cluster: &str) -> Result<Vec<String>, Failure> {
    let quoted = cluster.replace('\\', "\\\\").replace('\'', "\\'");
    let text = server.query_text(&format!("SELECT host_name, port FROM system.clusters WHERE cluster = '{quoted}'"))?;
    let nodes: Vec<String> = text.lines().filter_map(|l| l.split_once('\t')).map(|(h, p)| format!("{h}:{p}")).collect();
    let name = server.settings().name();
    if nodes.is_empty() {
        return Err(Failure::Refused(format!(
            "{name}: no cluster {cluster:?} in the server's remote_servers (deploy/clickhouse/cluster/)"
        )));
    }
    let macros = server.query_text("SELECT macro FROM system.macros")?;
    for want in ["shard", "replica"] {
        if !macros.lines().any(|m| m.trim() == want) {
            return Err(Failure::Refused(format!("{name}: the server has no {{{want}}} macro (deploy/clickhouse/cluster/macros.xml)")));
        }
    }
    Ok(nodes)
}

/// Runs `sql` on every node; on failure, the error with the nodes that do not answer.
pub(crate) fn execute(server: &Server, sql: &str, nodes: &[String]) -> Result<(), Failure> {
    match server.execute_with(sql, &[("distributed_ddl_task_timeout", &DDL_TIMEOUT_SECS.to_string())]) {
        Ok(()) => Ok(()),
        Err(e) => {
            let down: Vec<&str> = nodes
                .iter()
                .filter(|n| {
                    server
                        .query_text(&format!("SELECT 1 FROM remote('{n}', system.one) SETTINGS connect_timeout_with_failover_ms = 1000"))
                        .is_err()
                })
                .map(String::as_str)
                .collect();
            let said = if down.is_empty() {
                "every node answers now".to_string()
            } else {
                format!("nodes that do not answer: {}", down.join(", "))
            };
            // A node that was down runs the DDL when it returns (it waits in ZooKeeper's
            // queue); running init again once it is back checks every table.
            Err(e.map(|t| format!("{t} ({said}; run init again when they are back)")))
        }
    }
}
