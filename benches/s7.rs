//! The S7 parser over every S7 PDU of the shared S7comm and S7comm-plus captures (read in
//! place from `../shared/pcaps`, in capture order): PDUs/s and MB/s for TPKT/COTP framing
//! with the S7 header and lengths checked (`frame`), plus the parameter and data decoded
//! into items, blocks, services and SZL records (`decode`), and the whole dissector
//! (jobs paired with acks, records to a null sink).
use common::Null;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use otsentry_core::{Direction, Dissector, ProtocolCounts, StreamCx, Timestamp};
use otsentry_proto_s7comm::cotp::{tpkt, Tpdu, Tpkt};
use otsentry_proto_s7comm::{plus, s7, userdata, S7Config, S7Dissector};

mod common;

/// Every TPKT carrying a data TPDU with an S7 PDU, with its direction (by port 102).
fn corpus() -> Option<Vec<(Direction, Vec<u8>)>> {
    let mut tpkts = Vec::new();
    for (dir, payload) in common::payloads("s7comm", 102)? {
        let mut rest = payload.as_slice();
        while let Tpkt::Packet { len, tpdu } = tpkt(rest) {
            if Tpdu::parse(tpdu).is_ok_and(|d| d.eot() && matches!(d.payload.first(), Some(0x32 | 0x72))) {
                tpkts.push((dir, rest[..len].to_vec()));
            }
            rest = &rest[len..];
        }
    }
    Some(tpkts)
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
            let mut issues = s7::Issues::default();
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
                issues.list.clear();
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
            let n = |name| sink.0.get(name).map_or(0, |s| s.count("pdus"));
            assert_eq!(n("s7comm") + n("s7comm_plus"), pdus);
        })
    };
    common::group(c, "s7_pdus", Throughput::Elements(pdus), &[("frame", &frame), ("decode", &decode), ("dissector", &dissect)]);
    common::group(c, "s7_bytes", Throughput::Bytes(bytes as u64), &[("frame", &frame), ("dissector", &dissect)]);
}

criterion_group!(benches, s7);
criterion_main!(benches);
