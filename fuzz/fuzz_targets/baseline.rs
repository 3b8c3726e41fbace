//! Baseline files from arbitrary text: an error naming its line, or a baseline that
//! indexes and answers a request, never a panic.
#![no_main]
use otsentry_baseline::{parse, Baseline, Detector, Settings};
use otsentry_core::{Observer, Timestamp};
use otsentry_proto_modbus::space::{space, ModbusTable};
use otsentry_proto_modbus::MODBUS;
use std::sync::Arc;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let protocols = [MODBUS, otsentry_proto_dnp3::DNP3, otsentry_proto_s7comm::S7COMM, otsentry_proto_s7comm::S7COMM_PLUS];
    if let Ok(file) = parse(std::path::Path::new("baseline.json"), &text, &protocols) {
        let pair = file.pairs.first().map(|p| (p.client, p.server, p.protocol));
        let mut d = Detector::new(Arc::new(Baseline::new(file)), Settings::default());
        let pair = pair.unwrap_or(([10, 0, 0, 1].into(), [10, 0, 0, 2].into(), MODBUS));
        let slot = d.slot(pair);
        let mut r = d.request(slot, Timestamp(0));
        let space = space(1, ModbusTable::HoldingRegisters);
        r.function(6, "write_single_register");
        r.range(space, 16, 1, true);
        r.value(space, 16, 65535.0);
        drop(r);
        d.tick(Timestamp(10_000_000_000));
    }
});
