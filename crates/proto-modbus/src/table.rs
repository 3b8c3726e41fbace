//! The ClickHouse table of Modbus records (a transaction each): a column per field a
//! query filters on, the rest of the record in the store's `extra` column.
use otsentry_core::{col, ColumnKind as K, Table};

/// Created by the store's first migration, with the engine's own tables.
pub static TABLES: [Table; 1] = [Table {
    name: "modbus",
    event_type: "modbus",
    migration: 1,
    columns: &[
        col("tx_id", &["modbus", "tx_id"], K::U64),
        col("transaction_id", &["modbus", "transaction_id"], K::U16),
        col("unit_id", &["modbus", "unit_id"], K::U8),
        col("function", &["modbus", "function"], K::U8),
        col("function_name", &["modbus", "function_name"], K::Name),
        col("category", &["modbus", "category"], K::Name),
        col("access", &["modbus", "access"], K::Name),
        col("data_type", &["modbus", "data_type"], K::Name),
        col("status", &["modbus", "status"], K::Name),
        col("address", &["modbus", "address"], K::U16),
        col("quantity", &["modbus", "quantity"], K::U16),
        col("exception_code", &["modbus", "exception", "code"], K::U8),
        col("exception_name", &["modbus", "exception", "name"], K::Name),
        col("response_time_us", &["modbus", "response_time_us"], K::U64),
    ],
}];
