//! The DDL in `deploy/clickhouse/` is what `otsentry clickhouse init` applies: each
//! migration's file per layout, generated from the table lists of the engine and the
//! registered protocols (`OTSENTRY_BLESS=1` writes a new migration's files; an applied
//! one's never change).
use otsentry_clickhouse::{migration_file, Catalog, Layout};
use std::path::Path;

#[test]
fn the_deploy_files_are_the_migrations_init_applies() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/clickhouse");
    let bless = std::env::var_os("OTSENTRY_BLESS").is_some();
    let catalog = Catalog::new(otsentry_engine::descriptors());
    assert_eq!(catalog.problems(), Vec::<String>::new());
    for m in catalog.migrations() {
        for layout in [Layout::Legacy, Layout::Current] {
            let path = dir.join(format!("{:04}_{}.{}.sql", m.version, m.name, layout.name()));
            let want = migration_file(&catalog, m, layout);
            // A migration's file is written once: applied ones are never rewritten.
            if bless && !path.exists() {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(&path, &want).unwrap();
            }
            let have = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e} (OTSENTRY_BLESS=1 writes it)", path.display()));
            assert_eq!(
                have,
                want,
                "{} differs from what init applies: an applied migration never changes; new tables need a new migration",
                path.display()
            );
        }
    }
}
