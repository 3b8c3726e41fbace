//! Arbitrary lines as rows of every table in both layouts: a row or an error naming the
//! column, never a panic, and nothing left behind by a refused line.
#![no_main]
use otsentry_clickhouse::{Catalog, Layout, RowEncoder};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let catalog = Catalog::new([&otsentry_proto_modbus::DESCRIPTOR, &otsentry_proto_dnp3::DESCRIPTOR, &otsentry_proto_s7comm::DESCRIPTOR]);
    for &table in catalog.tables() {
        let mut encoder = RowEncoder::new(table);
        for layout in [Layout::Legacy, Layout::Current] {
            let mut out = vec![7u8];
            if encoder.encode(layout, data, &mut out).is_err() {
                assert_eq!(out, [7]);
            }
        }
    }
});
