//! The ClickHouse tables of S7comm jobs and user data, S7comm-plus PDUs and COTP
//! connection events: a column per field a query filters on, the rest of the record in
//! the store's `extra` column.
use otsentry_core::{col, ColumnKind as K, Table};

/// Created by the store's first migration, with the engine's own tables.
pub static TABLES: [Table; 3] = [
    Table {
        name: "s7comm",
        event_type: "s7comm",
        migration: 1,
        columns: &[
            col("tx_id", &["s7comm", "tx_id"], K::U64),
            col("rosctr", &["s7comm", "rosctr"], K::Name),
            col("pdu_ref", &["s7comm", "pdu_ref"], K::U16),
            col("function", &["s7comm", "function"], K::U8),
            col("function_name", &["s7comm", "function_name"], K::Name),
            col("status", &["s7comm", "status"], K::Name),
            col("response_rosctr", &["s7comm", "response_rosctr"], K::Name),
            col("error_class", &["s7comm", "error_class"], K::U8),
            col("error_class_name", &["s7comm", "error_class_name"], K::Name),
            col("error_code", &["s7comm", "error_code"], K::U8),
            col("response_time_us", &["s7comm", "response_time_us"], K::U64),
            col("rack", &["s7comm", "rack"], K::U8),
            col("slot", &["s7comm", "slot"], K::U8),
            col("function_group", &["s7comm", "userdata", "function_group"], K::U8),
            col("function_group_name", &["s7comm", "userdata", "function_group_name"], K::Name),
            col("subfunction", &["s7comm", "userdata", "subfunction"], K::U8),
            col("subfunction_name", &["s7comm", "userdata", "subfunction_name"], K::Name),
            col("return_code", &["s7comm", "userdata", "return_code"], K::U8),
            col("return_code_name", &["s7comm", "userdata", "return_code_name"], K::Name),
        ],
    },
    Table {
        name: "s7comm_plus",
        event_type: "s7comm_plus",
        migration: 1,
        columns: &[
            col("tx_id", &["s7comm_plus", "tx_id"], K::U64),
            col("version", &["s7comm_plus", "version"], K::U8),
            col("opcode", &["s7comm_plus", "opcode"], K::U8),
            col("opcode_name", &["s7comm_plus", "opcode_name"], K::Name),
            col("function", &["s7comm_plus", "function"], K::U16),
            col("function_name", &["s7comm_plus", "function_name"], K::Name),
            col("sequence", &["s7comm_plus", "sequence"], K::U16),
            col("session_id", &["s7comm_plus", "session_id"], K::U32),
            col("integrity", &["s7comm_plus", "integrity"], K::Bool),
            col("data_length", &["s7comm_plus", "data_length"], K::U32),
        ],
    },
    Table {
        name: "cotp",
        event_type: "cotp",
        migration: 1,
        columns: &[
            col("type", &["cotp", "type"], K::Name),
            col("src_ref", &["cotp", "src_ref"], K::U16),
            col("dst_ref", &["cotp", "dst_ref"], K::U16),
            col("class", &["cotp", "class"], K::U8),
            col("calling_tsap", &["cotp", "calling_tsap"], K::Name),
            col("called_tsap", &["cotp", "called_tsap"], K::Name),
            col("tpdu_size", &["cotp", "tpdu_size"], K::U32),
            col("rack", &["cotp", "rack"], K::U8),
            col("slot", &["cotp", "slot"], K::U8),
        ],
    },
];
