//! A record type's table in a SQL store: its columns, each named as the EVE field it
//! holds, read from that field's path, with the kind of value it holds (the store maps
//! kinds to its own types), and the numbered migration that creates it. The engine's
//! tables and each protocol crate's are declared this way, so a store's DDL and rows come
//! from one list.

/// What a column holds, and so its type on each server generation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnKind {
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

/// A column: its name and the path of the EVE field it holds.
#[derive(Clone, Copy, Debug)]
pub struct Column {
    pub name: &'static str,
    pub path: &'static [&'static str],
    pub kind: ColumnKind,
}

/// A table and the record type it holds.
#[derive(Clone, Copy, Debug)]
pub struct Table {
    pub name: &'static str,
    pub event_type: &'static str,
    /// The migration that creates it.
    pub migration: u32,
    /// Columns after the ones every table of the store starts with (the record's
    /// identity, time, sensor and five-tuple).
    pub columns: &'static [Column],
}

/// A column of `kind` named `name`, holding the field at `path`.
pub const fn col(name: &'static str, path: &'static [&'static str], kind: ColumnKind) -> Column {
    Column { name, path, kind }
}

/// One step of a store's schema, applied once per database: the tables whose
/// `migration` is its `version`. Applied steps are never rewritten; new tables (a newly
/// registered protocol's) arrive in a new step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Migration {
    pub version: u32,
    pub name: &'static str,
}
