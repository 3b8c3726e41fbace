//! The DDL in `deploy/clickhouse/` is what `otsentry clickhouse init` applies: each
//! migration's file per layout, generated from the table list (`OTSENTRY_BLESS=1`
//! rewrites them after a change).
use otsentry_clickhouse::{migration_file, Layout, MIGRATIONS};
use std::path::Path;

#[test]
fn the_deploy_files_are_the_migrations_init_applies() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/clickhouse");
    let bless = std::env::var_os("OTSENTRY_BLESS").is_some();
    for m in MIGRATIONS {
        for layout in [Layout::Legacy, Layout::Current] {
            let path = dir.join(format!("{:04}_{}.{}.sql", m.version, m.name, layout.name()));
            let want = migration_file(m, layout);
            if bless {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(&path, &want).unwrap();
            }
            let have = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e} (OTSENTRY_BLESS=1 writes it)", path.display()));
            assert_eq!(have, want, "{} differs from what init applies (OTSENTRY_BLESS=1 rewrites it)", path.display());
        }
    }
}
