//! The DNP3 parser over every link frame of the shared DNP3 captures (read in place from
//! `../shared/pcaps`, in capture order): frames/s and MB/s for link framing with every CRC
//! checked plus the application object walk of single-segment fragments, and for the whole
//! dissector (transport reassembly, records to a null sink).
use common::Null;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use otsentry_core::{Direction, Dissector, ProtocolCounts, StreamCx, Timestamp};
use otsentry_proto_dnp3::app::parse_fragment;
use otsentry_proto_dnp3::link::{link, Link};
use otsentry_proto_dnp3::{Dnp3Config, Dnp3Dissector};

mod common;

/// Every link frame whose header frames, in capture order, from TCP or UDP payloads with
/// port 20000 on either side.
fn corpus() -> Option<Vec<Vec<u8>>> {
    let mut frames = Vec::new();
    for (_, payload) in common::payloads("dnp3/", 20000)? {
        let mut rest = payload.as_slice();
        while let Link::Frame(l) = link(rest) {
            frames.push(rest[..l.wire_len].to_vec());
            rest = &rest[l.wire_len..];
        }
    }
    Some(frames)
}

fn dnp3(c: &mut Criterion) {
    let Some(corpus) = corpus() else {
        eprintln!("SKIP: no shared captures, no DNP3 corpus");
        return;
    };
    let frames = corpus.len() as u64;
    let bytes: usize = corpus.iter().map(Vec::len).sum();
    eprintln!("corpus: {frames} link frames, {bytes} bytes");

    let link_and_objects = |b: &mut criterion::Bencher<'_>| {
        b.iter(|| {
            let mut walked = 0usize;
            let mut data = Vec::new();
            for f in &corpus {
                let Link::Frame(l) = link(f) else { continue };
                data.clear();
                l.user_data_into(&mut data);
                // Transport FIR and FIN: the fragment is the rest of this frame.
                if let [th, app @ ..] = data.as_slice() {
                    if th & 0xC0 == 0xC0 {
                        if let Ok(frag) = parse_fragment(app, 2048, 16384) {
                            walked += frag.objects.len();
                        }
                    }
                }
            }
            std::hint::black_box(walked)
        })
    };
    let dissect = |b: &mut criterion::Bencher<'_>| {
        b.iter(|| {
            let mut d = Dnp3Dissector::new(Dnp3Config::default());
            let mut sink = Null(ProtocolCounts::default());
            let ts = Timestamp::default();
            for f in &corpus {
                // The link DIR bit says who sent it.
                let dir = if f.get(3).is_some_and(|c| c & 0x80 != 0) { Direction::ToServer } else { Direction::ToClient };
                d.parse(&StreamCx { ts, dir, offset: 0 }, f, &mut sink);
            }
            d.finish(ts, &mut sink);
            assert_eq!(sink.0.get("dnp3").map_or(0, |s| s.count("link_frames")), frames);
        })
    };
    let runs: [(&str, common::Run<'_>); 2] = [("link+objects", &link_and_objects), ("dissector", &dissect)];
    common::group(c, "dnp3_frames", Throughput::Elements(frames), &runs);
    common::group(c, "dnp3_bytes", Throughput::Bytes(bytes as u64), &runs);
}

criterion_group!(benches, dnp3);
criterion_main!(benches);
