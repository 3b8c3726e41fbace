//! The Modbus parser over every ADU of the shared Modbus captures (read in place from
//! `../shared/pcaps`, in capture order): ADUs/s and MB/s for framing + typed parsing
//! alone, and for the whole dissector (transactions, checks, records).
use common::Null;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use otsentry_core::{Direction, Dissector, ProtocolCounts, StreamCx, Timestamp};
use otsentry_proto_modbus::{frame, parse_request, parse_response, Framed, ModbusConfig, ModbusDissector};

mod common;

/// Every ADU in capture order, with its direction (by port 502).
fn corpus() -> Option<Vec<(Direction, Vec<u8>)>> {
    let mut adus = Vec::new();
    for (dir, payload) in common::payloads("modbus/", 502)? {
        let mut rest = payload.as_slice();
        while let Framed::Adu { len, .. } = frame(rest) {
            adus.push((dir, rest[..len].to_vec()));
            rest = &rest[len..];
        }
    }
    Some(adus)
}

fn modbus(c: &mut Criterion) {
    let Some(corpus) = corpus() else {
        eprintln!("SKIP: no shared captures, no Modbus corpus");
        return;
    };
    let adus = corpus.len() as u64;
    let bytes: usize = corpus.iter().map(|(_, a)| a.len()).sum();
    eprintln!("corpus: {adus} ADUs, {bytes} bytes");

    let frame_and_parse = |b: &mut criterion::Bencher<'_>| {
        b.iter(|| {
            for (dir, a) in &corpus {
                if let Framed::Adu { pdu, .. } = frame(a) {
                    match dir {
                        Direction::ToServer => drop(std::hint::black_box(parse_request(pdu))),
                        Direction::ToClient => drop(std::hint::black_box(parse_response(pdu))),
                    }
                }
            }
        })
    };
    // One dissector (transactions, checks, records to a null sink), ADUs in capture order.
    let dissect = |b: &mut criterion::Bencher<'_>| {
        b.iter(|| {
            let mut d = ModbusDissector::new(ModbusConfig::default());
            let mut sink = Null(ProtocolCounts::default());
            let ts = Timestamp::default();
            for (dir, a) in &corpus {
                d.parse(&StreamCx { ts, dir: *dir, offset: 0 }, a, &mut sink);
            }
            d.finish(ts, &mut sink);
            assert_eq!(sink.0.get("modbus").map_or(0, |s| s.count("pdus")), adus);
        })
    };
    common::group(c, "modbus_adus", Throughput::Elements(adus), &[("frame+parse", &frame_and_parse), ("dissector", &dissect)]);
    common::group(c, "modbus_bytes", Throughput::Bytes(bytes as u64), &[("dissector", &dissect)]);
}

criterion_group!(benches, modbus);
criterion_main!(benches);
