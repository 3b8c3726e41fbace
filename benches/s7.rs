//! The S7 parser over every S7 PDU of the shared S7comm and S7comm-plus captures (read in
//! place from `../shared/pcaps`, in capture order): PDUs/s and MB/s for TPKT/COTP framing
//! with the S7 header and lengths checked (`frame`), plus the parameter and data decoded
//! into items, blocks, services and SZL records (`decode`), and the whole dissector
//! (jobs paired with acks, records to a null sink).
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use otsentry_capture::{open, ReaderKind};
use otsentry_core::{Direction, Dissector, PduEvent, PduSink, ProtocolCounts, StreamCx, Timestamp};
use otsentry_pcapgen::shared;
use otsentry_proto_s7comm::cotp::{tpkt, Tpdu, Tpkt};
use otsentry_proto_s7comm::{plus, s7, userdata, S7Config, S7Dissector};
use otsentry_wire::{decode, DecodeOptions, Transport};

/// Every TPKT carrying a data TPDU with an S7 PDU, with its direction (by port 102).
fn corpus() -> Option<Vec<(Direction, Vec<u8>)>> {
    let dir = shared::pcaps_dir()?;
    let mut tpkts = Vec::new();
    for cap in shared::captures(&dir, &shared::scratch_dir()).iter().filter(|c| c.name.starts_with("s7comm")) {
        let Ok(mut src) = open(&cap.path, ReaderKind::Mmap) else { continue };
        while let Ok(Some(f)) = src.next_frame() {
            let pkt = decode(f.linktype.0, f.data, f.origlen, &DecodeOptions::default());
            let Transport::Tcp(t) = pkt.transport else { continue };
            let dir = match (t.src_port, t.dst_port) {
                (_, 102) => Direction::ToServer,
                (102, _) => Direction::ToClient,
                _ => continue,
            };
            let mut rest = t.payload;
            while let Tpkt::Packet { len, tpdu } = tpkt(rest) {
                if Tpdu::parse(tpdu).is_ok_and(|d| d.eot() && matches!(d.payload.first(), Some(0x32 | 0x72))) {
                    tpkts.push((dir, rest[..len].to_vec()));
                }
                rest = &rest[len..];
            }
        }
    }
    Some(tpkts)
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

/// The S7 PDU inside a TPKT known to hold one.
fn s7_of(t: &[u8]) -> &[u8] {
    match tpkt(t) {
        Tpkt::Packet { tpdu, .. } => Tpdu::parse(tpdu).map_or(&[][..], |d| d.payload),
        _ => &[],
    }
}

fn s7(c: &mut Criterion) {
    let Some(corpus) = corpus() else {
        eprintln!("SKIP: no shared captures, no S7 corpus");
        return;
    };
    let pdus = corpus.len() as u64;
    let bytes: usize = corpus.iter().map(|(_, t)| t.len()).sum();
    eprintln!("corpus: {pdus} S7 PDUs, {bytes} bytes");

    let frame = |b: &mut criterion::Bencher<'_>| {
        b.iter(|| {
            let mut n = 0u64;
            for (_, t) in &corpus {
                let pdu = s7_of(t);
                if pdu.first() == Some(&0x32) {
                    n += u64::from(s7::parse(pdu).is_ok_and(|(p, _)| p.header.rosctr != 0));
                } else {
                    n += u64::from(pdu.get(1).is_some());
                }
            }
            assert_eq!(n, pdus);
        })
    };
    let decode = |b: &mut criterion::Bencher<'_>| {
        b.iter(|| {
            let mut issues = Vec::new();
            for (dir, t) in &corpus {
                let pdu = s7_of(t);
                if pdu.first() == Some(&0x72) {
                    std::hint::black_box(plus::parse(pdu).ok());
                    continue;
                }
                let Ok((p, _)) = s7::parse(pdu) else { continue };
                match (p.header.rosctr, p.param.first()) {
                    (7, _) => drop(std::hint::black_box(userdata::parse(p.param, p.data, false, &mut issues))),
                    (1 | 3, Some(&f)) => {
                        drop(std::hint::black_box(s7::facts(f, *dir == Direction::ToServer, p.param, p.data, &mut issues)))
                    }
                    _ => {}
                }
                issues.clear();
            }
        })
    };
    let dissect = |b: &mut criterion::Bencher<'_>| {
        b.iter(|| {
            let mut d = S7Dissector::new(S7Config::default());
            let mut sink = Null(ProtocolCounts::default());
            let ts = Timestamp::default();
            for (dir, t) in &corpus {
                d.parse(&StreamCx { ts, dir: *dir, offset: 0 }, t, &mut sink);
            }
            d.finish(ts, &mut sink);
            assert_eq!(sink.0.s7comm.pdus + sink.0.s7comm_plus.pdus, pdus);
        })
    };
    let mut g = c.benchmark_group("s7_pdus");
    g.throughput(Throughput::Elements(pdus));
    g.bench_function("frame", frame);
    g.bench_function("decode", decode);
    g.bench_function("dissector", dissect);
    g.finish();
    let mut g = c.benchmark_group("s7_bytes");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function("frame", frame);
    g.bench_function("dissector", dissect);
    g.finish();
}

criterion_group!(benches, s7);
criterion_main!(benches);
