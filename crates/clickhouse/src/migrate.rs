//! `otsentry clickhouse init`: the database, our tables and a record of the migrations
//! applied, so running it again does nothing and a later version adds only what is new.
use crate::schema::{create_table, ident, Catalog, Layout, Migration};
use crate::server::{Failure, Server};

/// The table that records which migrations were applied.
pub const MIGRATIONS_TABLE: &str = "schema_migrations";

/// The statements of `migration` for `database` in `layout`: the `catalog` tables it
/// creates (and, on `cluster`, as [`crate::cluster`] lays them out), then what it builds
/// on them (the assets' current state).
pub fn statements(catalog: &Catalog, migration: &Migration, database: &str, layout: Layout, cluster: Option<&str>) -> Vec<String> {
    let tables = catalog.tables().iter().filter(|t| t.migration == migration.version);
    let mut out: Vec<String> = match cluster {
        Some(c) => tables.flat_map(|t| crate::cluster::cluster_statements(t, database, layout, c)).collect(),
        None => tables.map(|t| create_table(t, database, layout, None)).collect(),
    };
    if migration.version == crate::state::MIGRATION {
        out.extend(crate::state::statements(database, layout, cluster));
    }
    out
}

/// The file in `deploy/clickhouse/` for `migration` and `layout` (database `otsentry`).
pub fn migration_file(catalog: &Catalog, migration: &Migration, layout: Layout) -> String {
    let mut text = format!(
        "-- otsentry schema migration {:04} ({}), {} layout ({}).\n-- Generated from crates/clickhouse/src/schema.rs; `otsentry clickhouse init` applies it.\n\n",
        migration.version,
        migration.name,
        layout.name(),
        match layout {
            Layout::Legacy => "ClickHouse before 20.1, e.g. Debian's 18.16",
            Layout::Current => "ClickHouse 20.1 and later",
        }
    );
    text.push_str("CREATE DATABASE IF NOT EXISTS `otsentry`;\n\n");
    for s in statements(catalog, migration, crate::DATABASE, layout, None) {
        text.push_str(&s);
        text.push_str(";\n\n");
    }
    text
}

/// What `init` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitReport {
    pub version: String,
    pub layout: Layout,
    /// Migrations applied now, and those found applied before.
    pub applied: Vec<u32>,
    pub already: Vec<u32>,
    pub retention_days: Option<u32>,
}

/// Creates the database and applies the missing migrations, then checks every table.
/// `retention_days` sets a TTL on every table (servers with TTL only).
pub fn init(server: &Server, retention_days: Option<u32>) -> Result<InitReport, Failure> {
    init_on(server, retention_days, None)
}

/// [`init`] for a cluster: replicated tables on every node of `cluster` and Distributed
/// tables over them under our tables' names (see [`crate::cluster`]).
pub fn init_cluster(server: &Server, retention_days: Option<u32>, cluster: &str) -> Result<InitReport, Failure> {
    init_on(server, retention_days, Some(cluster))
}

fn init_on(server: &Server, retention_days: Option<u32>, cluster: Option<&str>) -> Result<InitReport, Failure> {
    let version = server.version()?;
    let nodes = match cluster {
        Some(c) => crate::cluster::nodes(server, c)?,
        None => Vec::new(),
    };
    // DDL: on every node of the cluster (bounded in time), or on this server.
    let run = |sql: &str| match cluster {
        Some(_) => crate::cluster::execute(server, sql, &nodes),
        None => server.execute(sql),
    };
    let on = cluster.map(crate::cluster::on).unwrap_or_default();
    let db = server.settings().database.clone();
    let found = server.columns()?;
    // Tables already there keep their layout (a server upgraded since).
    let catalog = server.catalog();
    let layout = match catalog.tables().iter().find_map(|t| found.get(t.name)).and_then(|cols| cols.get("timestamp")) {
        Some(ty) if ty.starts_with("DateTime64") => Layout::Current,
        Some(_) => Layout::Legacy,
        None => Layout::for_version(&version),
    };
    if retention_days.is_some() && layout == Layout::Legacy {
        return Err(Failure::Refused(format!(
            "{}: --retention-days needs table TTLs (ClickHouse 20.1 or later with DateTime64 tables); this server is {version}",
            server.settings().name()
        )));
    }
    run(&format!("CREATE DATABASE IF NOT EXISTS {}{on}", ident(&db)))?;
    let record = format!("{}.{}", ident(&db), ident(MIGRATIONS_TABLE));
    run(&match cluster {
        Some(c) => crate::cluster::migrations_table(&record, &db, MIGRATIONS_TABLE, c),
        None => format!(
            "CREATE TABLE IF NOT EXISTS {record} (`version` UInt32, `name` String, `layout` String, `applied` DateTime('UTC')) ENGINE = MergeTree() ORDER BY version"
        ),
    })?;
    let done: Vec<u32> = server
        .query_text(&format!("SELECT DISTINCT version FROM {record} ORDER BY version"))?
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect();
    let mut report = InitReport { version, layout, applied: Vec::new(), already: Vec::new(), retention_days };
    for m in catalog.migrations() {
        if done.contains(&m.version) {
            report.already.push(m.version);
            continue;
        }
        for sql in statements(catalog, m, &db, layout, cluster) {
            run(&sql)?;
        }
        server.execute(&format!("INSERT INTO {record} VALUES ({}, '{}', '{}', now())", m.version, m.name, layout.name()))?;
        tracing::info!(version = m.version, name = m.name, layout = layout.name(), "migration applied");
        report.applied.push(m.version);
    }
    if let Some(days) = retention_days {
        for t in catalog.tables() {
            // On a cluster, the rows are in the replicated tables.
            let name = if cluster.is_some() { format!("{}{}", t.name, crate::cluster::LOCAL_SUFFIX) } else { t.name.to_string() };
            run(&format!("ALTER TABLE {}.{}{on} MODIFY TTL toDateTime(timestamp) + INTERVAL {days} DAY", ident(&db), ident(&name)))?;
        }
    }
    server.check_tables()?;
    Ok(report)
}
