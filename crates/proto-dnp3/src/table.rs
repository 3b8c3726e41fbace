//! The ClickHouse table of DNP3 records (an application fragment each): a column per
//! field a query filters on, the rest of the record in the store's `extra` column.
use otsentry_core::{col, ColumnKind as K, Table};

/// Created by the store's first migration, with the engine's own tables.
pub static TABLES: [Table; 1] = [Table {
    name: "dnp3",
    event_type: "dnp3",
    migration: 1,
    columns: &[
        col("tx_id", &["dnp3", "tx_id"], K::U64),
        col("type", &["dnp3", "type"], K::Name),
        col("direction", &["dnp3", "direction"], K::Name),
        col("src", &["dnp3", "src"], K::U16),
        col("dst", &["dnp3", "dst"], K::U16),
        col("function_code", &["dnp3", "application", "function_code"], K::U8),
        col("function_name", &["dnp3", "application", "function_name"], K::Name),
        col("complete", &["dnp3", "application", "complete"], K::Bool),
        col("link_function_code", &["dnp3", "control", "function_code"], K::U8),
        col("iin_indicators", &["dnp3", "iin", "indicators"], K::Names),
    ],
}];
