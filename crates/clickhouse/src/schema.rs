//! The tables: one per EVE record type, each column named as the EVE field it holds and
//! read from that field's path in the record. The DDL of both server generations, the
//! columns the sink expects to find and the rows it writes all come from these lists, so
//! they cannot drift apart.

/// What a column holds, and so its type on each server generation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `event_id`: UUID on both.
    Uuid,
    /// A time: `DateTime64(6, 'UTC')` on current servers; on 18.16, `DateTime('UTC')`
    /// and a `NAME_us` column with the microseconds.
    Time,
    /// An address: IPv6 (IPv4 mapped) on current servers, String on 18.16.
    Ip,
    /// A short name from a small set: LowCardinality(String) on current servers.
    Name,
    Str,
    /// A JSON value kept as its text (an alert's record or detection, whole).
    Json,
    Bool,
    U8,
    U16,
    U32,
    U64,
    Names,
    U16s,
}

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

/// A column: its name and the path of the EVE field it holds.
#[derive(Clone, Copy, Debug)]
pub struct Column {
    pub name: &'static str,
    pub path: &'static [&'static str],
    pub kind: Kind,
}

/// A table and the record type it holds.
#[derive(Clone, Copy, Debug)]
pub struct Table {
    pub name: &'static str,
    pub event_type: &'static str,
    /// The migration that creates it.
    pub migration: u32,
    /// Columns after the common ones.
    pub columns: &'static [Column],
}

const fn col(name: &'static str, path: &'static [&'static str], kind: Kind) -> Column {
    Column { name, path, kind }
}

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

pub const TABLES: &[Table] = &[
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
    Table {
        name: "modbus",
        event_type: "modbus",
        migration: 1,
        columns: &[
            col("tx_id", &["modbus", "tx_id"], U64),
            col("transaction_id", &["modbus", "transaction_id"], U16),
            col("unit_id", &["modbus", "unit_id"], U8),
            col("function", &["modbus", "function"], U8),
            col("function_name", &["modbus", "function_name"], Name),
            col("category", &["modbus", "category"], Name),
            col("access", &["modbus", "access"], Name),
            col("data_type", &["modbus", "data_type"], Name),
            col("status", &["modbus", "status"], Name),
            col("address", &["modbus", "address"], U16),
            col("quantity", &["modbus", "quantity"], U16),
            col("exception_code", &["modbus", "exception", "code"], U8),
            col("exception_name", &["modbus", "exception", "name"], Name),
            col("response_time_us", &["modbus", "response_time_us"], U64),
        ],
    },
    Table {
        name: "dnp3",
        event_type: "dnp3",
        migration: 1,
        columns: &[
            col("tx_id", &["dnp3", "tx_id"], U64),
            col("type", &["dnp3", "type"], Name),
            col("direction", &["dnp3", "direction"], Name),
            col("src", &["dnp3", "src"], U16),
            col("dst", &["dnp3", "dst"], U16),
            col("function_code", &["dnp3", "application", "function_code"], U8),
            col("function_name", &["dnp3", "application", "function_name"], Name),
            col("complete", &["dnp3", "application", "complete"], Bool),
            col("link_function_code", &["dnp3", "control", "function_code"], U8),
            col("iin_indicators", &["dnp3", "iin", "indicators"], Names),
        ],
    },
    Table {
        name: "s7comm",
        event_type: "s7comm",
        migration: 1,
        columns: &[
            col("tx_id", &["s7comm", "tx_id"], U64),
            col("rosctr", &["s7comm", "rosctr"], Name),
            col("pdu_ref", &["s7comm", "pdu_ref"], U16),
            col("function", &["s7comm", "function"], U8),
            col("function_name", &["s7comm", "function_name"], Name),
            col("status", &["s7comm", "status"], Name),
            col("response_rosctr", &["s7comm", "response_rosctr"], Name),
            col("error_class", &["s7comm", "error_class"], U8),
            col("error_class_name", &["s7comm", "error_class_name"], Name),
            col("error_code", &["s7comm", "error_code"], U8),
            col("response_time_us", &["s7comm", "response_time_us"], U64),
            col("rack", &["s7comm", "rack"], U8),
            col("slot", &["s7comm", "slot"], U8),
            col("function_group", &["s7comm", "userdata", "function_group"], U8),
            col("function_group_name", &["s7comm", "userdata", "function_group_name"], Name),
            col("subfunction", &["s7comm", "userdata", "subfunction"], U8),
            col("subfunction_name", &["s7comm", "userdata", "subfunction_name"], Name),
            col("return_code", &["s7comm", "userdata", "return_code"], U8),
            col("return_code_name", &["s7comm", "userdata", "return_code_name"], Name),
        ],
    },
    Table {
        name: "s7comm_plus",
        event_type: "s7comm_plus",
        migration: 1,
        columns: &[
            col("tx_id", &["s7comm_plus", "tx_id"], U64),
            col("version", &["s7comm_plus", "version"], U8),
            col("opcode", &["s7comm_plus", "opcode"], U8),
            col("opcode_name", &["s7comm_plus", "opcode_name"], Name),
            col("function", &["s7comm_plus", "function"], U16),
            col("function_name", &["s7comm_plus", "function_name"], Name),
            col("sequence", &["s7comm_plus", "sequence"], U16),
            col("session_id", &["s7comm_plus", "session_id"], U32),
            col("integrity", &["s7comm_plus", "integrity"], Bool),
            col("data_length", &["s7comm_plus", "data_length"], U32),
        ],
    },
    Table {
        name: "cotp",
        event_type: "cotp",
        migration: 1,
        columns: &[
            col("type", &["cotp", "type"], Name),
            col("src_ref", &["cotp", "src_ref"], U16),
            col("dst_ref", &["cotp", "dst_ref"], U16),
            col("class", &["cotp", "class"], U8),
            col("calling_tsap", &["cotp", "calling_tsap"], Name),
            col("called_tsap", &["cotp", "called_tsap"], Name),
            col("tpdu_size", &["cotp", "tpdu_size"], U32),
            col("rack", &["cotp", "rack"], U8),
            col("slot", &["cotp", "slot"], U8),
        ],
    },
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
];

/// The table holding records of `event_type`.
pub fn table_for(event_type: &str) -> Option<&'static Table> {
    TABLES.iter().find(|t| t.event_type == event_type)
}

impl Table {
    /// Every column in order: the common ones, the table's own, then [`EXTRA`].
    pub fn all_columns(&self) -> impl Iterator<Item = &'static Column> {
        const EXTRA_COLUMN: Column = col(EXTRA, &[], Kind::Json);
        COMMON.iter().chain(self.columns.iter()).chain(std::iter::once(&EXTRA_COLUMN))
    }

    /// The columns as the server lists them (name and type), for `layout`.
    pub fn server_columns(&self, layout: Layout) -> Vec<(String, &'static str)> {
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
    let mut sql = format!("CREATE TABLE IF NOT EXISTS {}.{}\n(\n", ident(database), ident(table.name));
    let cols = table.server_columns(layout);
    for (i, (name, ty)) in cols.iter().enumerate() {
        let sep = if i + 1 < cols.len() { "," } else { "" };
        sql.push_str(&format!("    {} {ty}{sep}\n", ident(name)));
    }
    sql.push_str(")\nENGINE = ReplacingMergeTree()\nPARTITION BY toYYYYMM(timestamp)\nORDER BY (timestamp, event_id)");
    if let Some(days) = retention_days {
        sql.push_str(&format!("\nTTL toDateTime(timestamp) + INTERVAL {days} DAY"));
    }
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_eve_type_has_one_table_and_names_are_unique() {
        for ty in otsentry_sink::EVE_TYPES {
            assert_eq!(TABLES.iter().filter(|t| t.event_type == ty).count(), 1, "{ty}");
        }
        assert_eq!(TABLES.len(), otsentry_sink::EVE_TYPES.len());
        for t in TABLES {
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
        for t in TABLES {
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
