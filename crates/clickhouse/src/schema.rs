//! The tables: one per EVE record type, each column named as the EVE field it holds and
//! read from that field's path in the record. The DDL of both server generations, the
//! columns the sink expects to find and the rows it writes all come from these lists, so
//! they cannot drift apart.

/// The two server generations whose types differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// ClickHouse before 20.1 (Debian's 18.16): no DateTime64, IPv6 or LowCardinality.
    Legacy,
    Current,
}

impl Layout {
    /// The layout a server of `version` (`18.16.1`, `26.1.3.52`) gets from `init`.
    pub fn for_version(version: &str) -> Layout {
        let mut parts = version.trim().split('.').map(|p| p.parse::<u32>().unwrap_or(0));
        let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
        if (major, minor) >= (20, 1) {
            Layout::Current
        } else {
            Layout::Legacy
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Layout::Legacy => "legacy",
            Layout::Current => "current",
        }
    }
}

use otsentry_core::col;
pub use otsentry_core::{Column, ColumnKind as Kind, Migration, Table};

/// Every field of a record that no column holds goes here, as a JSON object shaped like
/// the record (`{"dnp3":{"application":{"objects":[...]}}}`), so no field is lost on the
/// way into the table and none is stored twice.
pub const EXTRA: &str = "extra";

/// The columns every table starts with: the record's identity, time, sensor and
/// five-tuple.
pub const COMMON: &[Column] = &[
    col("event_id", &["event_id"], Kind::Uuid),
    col("timestamp", &["timestamp"], Kind::Time),
    col("host", &["host"], Kind::Name),
    col("event_type", &["event_type"], Kind::Name),
    col("flow_id", &["flow_id"], Kind::U64),
    col("pcap_cnt", &["pcap_cnt"], Kind::U64),
    col("pcap_filename", &["pcap_filename"], Kind::Name),
    col("vlan", &["vlan"], Kind::U16s),
    col("src_ip", &["src_ip"], Kind::Ip),
    col("src_port", &["src_port"], Kind::U16),
    col("dest_ip", &["dest_ip"], Kind::Ip),
    col("dest_port", &["dest_port"], Kind::U16),
    col("proto", &["proto"], Kind::Name),
    col("app_proto", &["app_proto"], Kind::Name),
    col("community_id", &["community_id"], Kind::Str),
];

use Kind::*;

/// The engine's own tables before the protocols' (alerts, anomalies, flows).
const OWN_FIRST: &[Table] = &[
    Table {
        name: "alerts",
        event_type: "alert",
        migration: 1,
        columns: &[
            col("action", &["alert", "action"], Name),
            col("gid", &["alert", "gid"], U32),
            col("signature_id", &["alert", "signature_id"], U32),
            col("rev", &["alert", "rev"], U32),
            col("signature", &["alert", "signature"], Name),
            col("category", &["alert", "category"], Name),
            col("severity", &["alert", "severity"], U8),
            col("mitre_technique_id", &["alert", "metadata", "mitre_technique_id"], Names),
            col("mitre_technique_name", &["alert", "metadata", "mitre_technique_name"], Names),
            col("mitre_tactic_name", &["alert", "metadata", "mitre_tactic_name"], Names),
            col("rule_id", &["alert", "metadata", "rule_id"], Names),
            col("detail", &["alert", "detail"], Str),
            // What the alert is about: the protocol record or detection that raised it.
            col("modbus", &["modbus"], Json),
            col("dnp3", &["dnp3"], Json),
            col("s7comm", &["s7comm"], Json),
            col("s7comm_plus", &["s7comm_plus"], Json),
            col("cotp", &["cotp"], Json),
            col("anomaly", &["anomaly"], Json),
            col("arp", &["arp"], Json),
            col("relay", &["relay"], Json),
            col("sender", &["sender"], Json),
            col("scan", &["scan"], Json),
            col("baseline", &["baseline"], Json),
            col("segmentation", &["segmentation"], Json),
        ],
    },
    Table {
        name: "anomalies",
        event_type: "anomaly",
        migration: 1,
        columns: &[
            col("type", &["anomaly", "type"], Name),
            col("event", &["anomaly", "event"], Name),
            col("layer", &["anomaly", "layer"], Name),
            col("offset", &["anomaly", "offset"], U64),
            col("reason", &["anomaly", "reason"], Str),
        ],
    },
    Table {
        name: "flows",
        event_type: "flow",
        migration: 1,
        columns: &[
            col("pkts_toserver", &["flow", "pkts_toserver"], U64),
            col("pkts_toclient", &["flow", "pkts_toclient"], U64),
            col("bytes_toserver", &["flow", "bytes_toserver"], U64),
            col("bytes_toclient", &["flow", "bytes_toclient"], U64),
            col("start", &["flow", "start"], Time),
            col("end", &["flow", "end"], Time),
            col("age", &["flow", "age"], U64),
            col("state", &["flow", "state"], Name),
            col("reason", &["flow", "reason"], Name),
            col("alerted", &["flow", "alerted"], Bool),
            col("tcp_flags", &["tcp", "tcp_flags"], Name),
            col("tcp_state", &["tcp", "state"], Name),
            col("gaps", &["tcp", "gaps"], U64),
            col("missed_bytes", &["tcp", "missed_bytes"], U64),
            col("midstream", &["tcp", "midstream"], Bool),
        ],
    },
];

/// The engine's own tables after the protocols'.
const OWN_LAST: &[Table] = &[
    Table {
        name: "segmentation",
        event_type: "segmentation",
        migration: 1,
        columns: &[
            col("src_zone", &["segmentation", "src_zone"], Name),
            col("src_level", &["segmentation", "src_level"], Name),
            col("dst_zone", &["segmentation", "dst_zone"], Name),
            col("dst_level", &["segmentation", "dst_level"], Name),
            col("protocol", &["segmentation", "protocol"], Name),
            col("function_class", &["segmentation", "function_class"], Name),
            col("ot", &["segmentation", "ot"], Bool),
            col("skips_levels", &["segmentation", "skips_levels"], Bool),
            col("count", &["segmentation", "count"], U64),
            col("first_seen", &["segmentation", "first_seen"], Time),
            col("last_seen", &["segmentation", "last_seen"], Time),
        ],
    },
    Table {
        name: "stats",
        event_type: "stats",
        migration: 2,
        columns: &[
            col("uptime", &["stats", "uptime"], U64),
            col("kernel_packets", &["stats", "capture", "kernel_packets"], U64),
            col("kernel_drops", &["stats", "capture", "kernel_drops"], U64),
            col("kernel_ifdrops", &["stats", "capture", "kernel_ifdrops"], U64),
            col("pkts", &["stats", "decoder", "pkts"], U64),
            col("bytes", &["stats", "decoder", "bytes"], U64),
            col("invalid", &["stats", "decoder", "invalid"], U64),
            col("flows_total", &["stats", "flow", "total"], U64),
            col("flows_active", &["stats", "flow", "active"], U64),
            col("alerts", &["stats", "otsentry", "alerts", "total"], U64),
        ],
    },
    // Every asset record (each change, and the sensor's snapshots); `crate::state` keeps
    // each asset's latest beside it.
    Table {
        name: "assets",
        event_type: "asset",
        migration: 3,
        columns: &[
            col("ip", &["asset", "ip"], Ip),
            col("change", &["asset", "change"], Name),
            col("field", &["asset", "field"], Name),
            col("old", &["asset", "old"], Str),
            col("new", &["asset", "new"], Str),
            col("macs", &["asset", "macs"], Names),
            col("vendor", &["asset", "vendor"], Name),
            col("roles", &["asset", "roles"], Names),
            col("identity", &["asset", "identity"], Json),
            col("first_seen", &["asset", "first_seen"], Time),
            col("last_seen", &["asset", "last_seen"], Time),
            col("version", &["asset", "version"], U64),
        ],
    },
];

/// The migrations of the engine's own tables (the built-in protocols' tables are in
/// the first).
const OWN_MIGRATIONS: [Migration; 3] =
    [Migration { version: 1, name: "tables" }, Migration { version: 2, name: "stats" }, Migration { version: 3, name: "assets" }];

/// The tables of a build: the engine's own and every registered protocol's, in the order
/// DDL lists them, and the migrations that create them, in order.
#[derive(Clone, Debug)]
pub struct Catalog {
    tables: Vec<&'static Table>,
    migrations: Vec<Migration>,
}

impl Catalog {
    /// The engine's tables and those of `protocols` (the registry's, in order).
    pub fn new<'d>(protocols: impl IntoIterator<Item = &'d otsentry_core::Descriptor>) -> Catalog {
        let protocols: Vec<&otsentry_core::Descriptor> = protocols.into_iter().collect();
        let tables = OWN_FIRST.iter().chain(protocols.iter().flat_map(|d| d.tables.iter())).chain(OWN_LAST).collect();
        let mut migrations: Vec<Migration> = OWN_MIGRATIONS.to_vec();
        for m in protocols.iter().flat_map(|d| d.migrations.iter()) {
            if !migrations.iter().any(|have| have.version == m.version) {
                migrations.push(*m);
            }
        }
        migrations.sort_by_key(|m| m.version);
        Catalog { tables, migrations }
    }

    pub fn tables(&self) -> &[&'static Table] {
        &self.tables
    }

    pub fn migrations(&self) -> &[Migration] {
        &self.migrations
    }

    /// The table holding records of `event_type`.
    pub fn table_for(&self, event_type: &str) -> Option<&'static Table> {
        self.tables.iter().copied().find(|t| t.event_type == event_type)
    }

    /// What is wrong with the list, if anything: a record type or table name twice, a
    /// table in no migration.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (i, t) in self.tables.iter().enumerate() {
            if self.tables.iter().skip(i + 1).any(|u| u.name == t.name || u.event_type == t.event_type) {
                out.push(format!("table {} (records {}) is declared twice", t.name, t.event_type));
            }
            if !self.migrations.iter().any(|m| m.version == t.migration) {
                out.push(format!("table {} names migration {}, which no protocol declares", t.name, t.migration));
            }
        }
        out
    }
}

/// A table's columns as a store lays them out.
pub trait TableColumns {
    /// Every column in order: the common ones, the table's own, then [`EXTRA`].
    fn all_columns(&self) -> impl Iterator<Item = &'static Column>;
    /// The columns as the server lists them (name and type), for `layout`.
    fn server_columns(&self, layout: Layout) -> Vec<(String, &'static str)>;
}

impl TableColumns for Table {
    fn all_columns(&self) -> impl Iterator<Item = &'static Column> {
        const EXTRA_COLUMN: Column = col(EXTRA, &[], Kind::Json);
        COMMON.iter().chain(self.columns.iter()).chain(std::iter::once(&EXTRA_COLUMN))
    }

    fn server_columns(&self, layout: Layout) -> Vec<(String, &'static str)> {
        let mut out = Vec::new();
        for c in self.all_columns() {
            out.push((c.name.to_string(), type_of(c.kind, layout)));
            if c.kind == Kind::Time && layout == Layout::Legacy {
                out.push((format!("{}_us", c.name), "UInt32"));
            }
        }
        out
    }
}

/// A column's type as the server names it in `system.columns`.
pub fn type_of(kind: Kind, layout: Layout) -> &'static str {
    let current = layout == Layout::Current;
    match kind {
        Uuid => "UUID",
        Time if current => "DateTime64(6, 'UTC')",
        Time => "DateTime('UTC')",
        Ip if current => "IPv6",
        Ip | Str | Json => "String",
        Name if current => "LowCardinality(String)",
        Name => "String",
        Bool | U8 => "UInt8",
        U16 => "UInt16",
        U32 => "UInt32",
        U64 => "UInt64",
        Names if current => "Array(LowCardinality(String))",
        Names => "Array(String)",
        U16s => "Array(UInt16)",
    }
}

/// Quotes an identifier for SQL (backticks; ours never contain one).
pub(crate) fn ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// `CREATE TABLE IF NOT EXISTS` for `table` in `database`. Rows are kept once per
/// `event_id`: ReplacingMergeTree collapses repeats of the sorting key, and a repeated
/// record has the same time and id, so it lands in the same partition.
pub fn create_table(table: &Table, database: &str, layout: Layout, retention_days: Option<u32>) -> String {
    create_table_as(table, database, table.name, "", layout, "ReplacingMergeTree()", retention_days)
}

/// `CREATE TABLE IF NOT EXISTS database.name [ON CLUSTER ...]` with `table`'s columns
/// and a MergeTree `engine` (keyed as [`create_table`] says).
pub(crate) fn create_table_as(
    table: &Table,
    database: &str,
    name: &str,
    on_cluster: &str,
    layout: Layout,
    engine: &str,
    retention_days: Option<u32>,
) -> String {
    let mut sql = format!("CREATE TABLE IF NOT EXISTS {}.{}{on_cluster}\n(\n", ident(database), ident(name));
    let cols = table.server_columns(layout);
    for (i, (name, ty)) in cols.iter().enumerate() {
        let sep = if i + 1 < cols.len() { "," } else { "" };
        sql.push_str(&format!("    {} {ty}{sep}\n", ident(name)));
    }
    sql.push_str(&format!(")\nENGINE = {engine}\nPARTITION BY toYYYYMM(timestamp)\nORDER BY (timestamp, event_id)"));
    if let Some(days) = retention_days {
        sql.push_str(&format!("\nTTL toDateTime(timestamp) + INTERVAL {days} DAY"));
    }
    sql
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The catalog of the built-in protocols, for the tests.
    pub(crate) fn catalog() -> Catalog {
        Catalog::new([&otsentry_proto_modbus::DESCRIPTOR, &otsentry_proto_dnp3::DESCRIPTOR, &otsentry_proto_s7comm::DESCRIPTOR])
    }

    #[test]
    fn every_record_type_has_one_table_and_names_are_unique() {
        let c = catalog();
        assert_eq!(c.problems(), Vec::<String>::new());
        let types = ["alert", "anomaly", "flow", "modbus", "dnp3", "s7comm", "s7comm_plus", "cotp", "segmentation", "stats", "asset"];
        assert_eq!(c.tables().iter().map(|t| t.event_type).collect::<Vec<_>>(), types, "the order DDL was generated in");
        assert_eq!(c.migrations().iter().map(|m| m.version).collect::<Vec<_>>(), [1, 2, 3]);
        for t in c.tables() {
            for layout in [Layout::Legacy, Layout::Current] {
                let mut names: Vec<_> = t.server_columns(layout).into_iter().map(|c| c.0).collect();
                let n = names.len();
                names.sort();
                names.dedup();
                assert_eq!(names.len(), n, "{} has a column twice", t.name);
            }
        }
    }

    /// A column holding an object whole beside columns of its fields would store them
    /// twice (and the scanner fills only one of the two).
    #[test]
    fn no_column_holds_the_object_of_another() {
        for t in catalog().tables() {
            let cols: Vec<_> = t.all_columns().filter(|c| !c.path.is_empty()).collect();
            for a in &cols {
                for b in &cols {
                    let prefix = a.path.len() <= b.path.len() && b.path.starts_with(a.path);
                    assert!(a.name == b.name || !prefix, "{}: {} holds {}", t.name, a.name, b.name);
                }
            }
        }
    }

    #[test]
    fn versions_choose_their_layout() {
        assert_eq!(Layout::for_version("18.16.1"), Layout::Legacy);
        assert_eq!(Layout::for_version("19.17.4.11"), Layout::Legacy);
        assert_eq!(Layout::for_version("20.1.2.4"), Layout::Current);
        assert_eq!(Layout::for_version("26.1.3.52\n"), Layout::Current);
        assert_eq!(Layout::for_version("nonsense"), Layout::Legacy);
    }
}
