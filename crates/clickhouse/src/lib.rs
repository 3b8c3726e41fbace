//! otsentry's ClickHouse sink: every EVE record into the table of its type, columns
//! named as the fields they hold, on Debian's 18.16 and on current servers alike.
#![forbid(unsafe_code)]

pub mod cluster;
mod migrate;
mod rows;
mod schema;
mod server;
mod sink;
pub mod state;

pub use migrate::{init, init_cluster, migration_file, statements, InitReport, MIGRATIONS_TABLE};
pub use rows::{RowEncoder, RowError};
pub use schema::{create_table, type_of, Catalog, Column, Kind, Layout, Migration, Table, TableColumns, COMMON, EXTRA};
pub use server::{check_table, classify, error_code, Failure, Inserting, Server, Settings, DATABASE};
pub use sink::{ClickHouseSink, StartError};
