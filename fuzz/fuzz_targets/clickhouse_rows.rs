//! Arbitrary lines as rows of every table in both layouts: a row or an error naming the
//! column, never a panic, and nothing left behind by a refused line.
#![no_main]
use otsentry_clickhouse::{Layout, RowEncoder, TABLES};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    for table in TABLES {
        let mut encoder = RowEncoder::new(table);
        for layout in [Layout::Legacy, Layout::Current] {
            let mut out = vec![7u8];
            if encoder.encode(layout, data, &mut out).is_err() {
                assert_eq!(out, [7]);
            }
        }
    }
});
