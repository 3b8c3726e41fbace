//! The Modbus parser over every ADU of the shared Modbus captures (read in place from
//! `../shared/pcaps`, in capture order): ADUs/s and MB/s for framing + typed parsing
//! alone, and for the whole dissector (transactions, checks, records).
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use otsentry_capture::{open, ReaderKind};
use otsentry_core::{Direction, Dissector, PduEvent, PduSink, ProtocolCounts, StreamCx, Timestamp};
use otsentry_pcapgen::shared;
use otsentry_proto_modbus::{frame, parse_request, parse_response, Framed, ModbusConfig, ModbusDissector};
use otsentry_wire::{decode, DecodeOptions, Transport};

/// Every ADU in capture order, with its direction (by port 502).
fn corpus() -> Option<Vec<(Direction, Vec<u8>)>> {
    let dir = shared::pcaps_dir()?;
    let mut adus = Vec::new();
    for cap in shared::captures(&dir, &shared::scratch_dir()).iter().filter(|c| c.name.starts_with("modbus/")) {
        let Ok(mut src) = open(&cap.path, ReaderKind::Mmap) else { continue };
        while let Ok(Some(f)) = src.next_frame() {
            let pkt = decode(f.linktype.0, f.data, f.origlen, &DecodeOptions::default());
            let Transport::Tcp(t) = pkt.transport else { continue };
            let dir = match (t.src_port, t.dst_port) {
                (_, 502) => Direction::ToServer,
                (502, _) => Direction::ToClient,
                _ => continue,
            };
            let mut rest = t.payload;
            while let Framed::Adu { len, .. } = frame(rest) {
                adus.push((dir, rest[..len].to_vec()));
                rest = &rest[len..];
            }
        }
    }
    Some(adus)
}

struct Null(ProtocolCounts);

impl PduSink for Null {
    fn pdu<E: PduEvent>(&mut self, _cx: &StreamCx, e: &E) {
        std::hint::black_box(e.event_type());
    }
    fn counts(&mut self) -> &mut ProtocolCounts {
        &mut self.0
    }
    fn anomaly(&mut self, _cx: &StreamCx, _event: &'static str, _offset: u64, _reason: String) {}
}

fn modbus(c: &mut Criterion) {
    let Some(corpus) = corpus() else {
        eprintln!("SKIP: no shared captures, no Modbus corpus");
        return;
    };
    let adus = corpus.len() as u64;
    let bytes: usize = corpus.iter().map(|(_, a)| a.len()).sum();
    eprintln!("corpus: {adus} ADUs, {bytes} bytes");

    let mut g = c.benchmark_group("modbus_adus");
    g.throughput(Throughput::Elements(adus));
    g.bench_function("frame+parse", |b| {
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
    });
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
            assert_eq!(sink.0.modbus.pdus, adus);
        })
    };
    g.bench_function("dissector", dissect);
    g.finish();
    let mut g = c.benchmark_group("modbus_bytes");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function("dissector", dissect);
    g.finish();
}

criterion_group!(benches, modbus);
criterion_main!(benches);
