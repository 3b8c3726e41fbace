//! "What is on the network now": beside the `assets` table, which keeps every asset
//! record (each change, so the history stays), a table of each sensor's assets as they
//! last were, filled by a materialized view from every asset record inserted:
//! `asset_state`, a ReplacingMergeTree keyed by sensor and address whose version is the
//! record's `version` (its time in microseconds, then its place among the asset's
//! records of that microsecond: one packet may cause several), so merges keep the
//! latest; and `asset_now`, a view that picks the latest row per sensor and address
//! whether or not merges have run (and across the shards of a cluster, where one
//! asset's records may lie on several).
use crate::schema::{ident, type_of, Kind, Layout};

/// The migration that creates the assets table and these.
pub const MIGRATION: u32 = 3;
pub const STATE_TABLE: &str = "asset_state";
pub const STATE_VIEW: &str = "asset_state_mv";
pub const NOW_VIEW: &str = "asset_now";
/// The table of asset records the view reads.
const RECORDS: &str = "assets";

/// The state's columns, each the records' column of the same name.
const COLUMNS: [(&str, Kind); 9] = [
    ("host", Kind::Name),
    ("ip", Kind::Ip),
    ("macs", Kind::Names),
    ("vendor", Kind::Name),
    ("roles", Kind::Names),
    ("identity", Kind::Json),
    ("first_seen", Kind::Time),
    ("last_seen", Kind::Time),
    ("version", Kind::U64),
];

/// The columns with their server types (a legacy time has its microseconds beside it).
fn columns(layout: Layout) -> Vec<(String, &'static str)> {
    let mut out = Vec::new();
    for (name, kind) in COLUMNS {
        out.push((name.to_string(), type_of(kind, layout)));
        if kind == Kind::Time && layout == Layout::Legacy {
            out.push((format!("{name}_us"), "UInt32"));
        }
    }
    out
}

/// The statements after the assets table's: the state table, the view that fills it,
/// and the view that reads it. On `cluster`, the state table is replicated beside
/// `assets_local` on every node, filled from it, and read through a Distributed table.
pub fn statements(database: &str, layout: Layout, cluster: Option<&str>) -> Vec<String> {
    let db = ident(database);
    let cols = columns(layout);
    let list = cols.iter().map(|(n, _)| ident(n)).collect::<Vec<_>>().join(", ");
    let body = cols.iter().map(|(n, t)| format!("    {} {t}", ident(n))).collect::<Vec<_>>().join(",\n");
    let local = |name: &str| match cluster {
        Some(_) => format!("{name}{}", crate::cluster::LOCAL_SUFFIX),
        None => name.to_string(),
    };
    let on = cluster.map(crate::cluster::on).unwrap_or_default();
    let state = local(STATE_TABLE);
    let engine = match cluster {
        Some(_) => format!("ReplicatedReplacingMergeTree('/clickhouse/tables/{{shard}}/{database}/{state}', '{{replica}}', version)"),
        None => "ReplacingMergeTree(version)".to_string(),
    };
    let mut out = vec![
        format!("CREATE TABLE IF NOT EXISTS {db}.{}{on}\n(\n{body}\n)\nENGINE = {engine}\nORDER BY (host, ip)", ident(&state)),
        format!(
            "CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.{}{on} TO {db}.{}\nAS SELECT {list} FROM {db}.{}",
            ident(STATE_VIEW),
            ident(&state),
            ident(&local(RECORDS))
        ),
    ];
    if let Some(c) = cluster {
        out.push(format!(
            "CREATE TABLE IF NOT EXISTS {db}.{}{on} AS {db}.{}\nENGINE = Distributed({}, {db}, {}, rand())",
            ident(STATE_TABLE),
            ident(&state),
            ident(c),
            ident(&state)
        ));
    }
    // The latest row per sensor and address by version; the first sighting by time, to
    // the microsecond on a legacy server. The inner names differ from the outer ones,
    // which ClickHouse would otherwise read inside the aggregates.
    let (latest, earliest) = match layout {
        Layout::Current => ("version", "first_seen"),
        Layout::Legacy => ("version", "toUInt64(first_seen) * 1000000 + first_seen_us"),
    };
    let kept: Vec<&String> = cols.iter().map(|(n, _)| n).filter(|n| *n != "host" && *n != "ip").collect();
    let inner = kept.iter().map(|n| format!("{} AS {}", ident(n), ident(&format!("v_{n}")))).collect::<Vec<_>>().join(", ");
    let picks = kept
        .iter()
        .map(|n| {
            let pick = if n.starts_with("first_seen") { "argMin(v_{n}, first_key)" } else { "argMax(v_{n}, last_key)" };
            format!("{} AS {}", pick.replace("{n}", n), ident(n))
        })
        .collect::<Vec<_>>()
        .join(",\n    ");
    out.push(format!(
        "CREATE VIEW IF NOT EXISTS {db}.{}{on}\nAS SELECT\n    host,\n    ip,\n    {picks}\nFROM\n(\n    SELECT host, ip, {inner}, {latest} AS last_key, {earliest} AS first_key\n    FROM {db}.{}\n)\nGROUP BY host, ip",
        ident(NOW_VIEW),
        ident(STATE_TABLE)
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_takes_every_column_it_names_from_the_records() {
        let c = crate::schema::tests::catalog();
        let records = c.table_for("asset").expect("assets table");
        assert_eq!((records.name, records.migration), (RECORDS, MIGRATION));
        use crate::schema::TableColumns;
        for layout in [Layout::Legacy, Layout::Current] {
            let have = records.server_columns(layout);
            for (name, ty) in columns(layout) {
                assert!(have.iter().any(|(n, t)| *n == name && *t == ty), "{name} {ty} is not a column of {RECORDS}");
            }
        }
        let single = statements("otsentry", Layout::Legacy, None).join(";\n");
        assert!(single.contains("ReplacingMergeTree(version)") && single.contains("FROM `otsentry`.`assets`"), "{single}");
        let cluster = statements("otsentry", Layout::Current, Some("ot")).join(";\n");
        for want in
            ["`asset_state_local` ON CLUSTER `ot`", "FROM `otsentry`.`assets_local`", "Distributed(`ot`, `otsentry`, `asset_state_local`"]
        {
            assert!(cluster.contains(want), "{want} in {cluster}");
        }
    }
}
