//! The DNP3 parser over every link frame of the shared DNP3 captures (read in place from
//! `../shared/pcaps`, in capture order): frames/s and MB/s for link framing with every CRC
//! checked plus the application object walk of single-segment fragments, and for the whole
//! dissector (transport reassembly, records to a null sink).
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use otsentry_capture::{open, ReaderKind};
use otsentry_core::{Direction, Dissector, PduEvent, PduSink, ProtocolCounts, StreamCx, Timestamp};
use otsentry_pcapgen::shared;
use otsentry_proto_dnp3::app::parse_fragment;
use otsentry_proto_dnp3::link::{link, Link};
use otsentry_proto_dnp3::{Dnp3Config, Dnp3Dissector};
use otsentry_wire::{decode, DecodeOptions, Transport};

/// Every link frame whose header frames, in capture order, from TCP or UDP payloads with
/// port 20000 on either side.
fn corpus() -> Option<Vec<Vec<u8>>> {
    let dir = shared::pcaps_dir()?;
    let mut frames = Vec::new();
    for cap in shared::captures(&dir, &shared::scratch_dir()).iter().filter(|c| c.name.starts_with("dnp3/")) {
        let Ok(mut src) = open(&cap.path, ReaderKind::Mmap) else { continue };
        while let Ok(Some(f)) = src.next_frame() {
            let pkt = decode(f.linktype.0, f.data, f.origlen, &DecodeOptions::default());
            let (ports, payload) = match pkt.transport {
                Transport::Tcp(t) => ((t.src_port, t.dst_port), t.payload),
                Transport::Udp(u) => ((u.src_port, u.dst_port), u.payload),
                _ => continue,
            };
            if ports.0 != 20000 && ports.1 != 20000 {
                continue;
            }
            let mut rest = payload;
            while let Link::Frame(l) = link(rest) {
                frames.push(rest[..l.wire_len].to_vec());
                rest = &rest[l.wire_len..];
            }
        }
    }
    Some(frames)
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
            for f in &corpus {
                let Link::Frame(l) = link(f) else { continue };
                // Transport FIR and FIN: the fragment is the rest of this frame.
                if let [th, app @ ..] = l.data.as_slice() {
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
            assert_eq!(sink.0.dnp3.link_frames, frames);
        })
    };
    let mut g = c.benchmark_group("dnp3_frames");
    g.throughput(Throughput::Elements(frames));
    g.bench_function("link+objects", link_and_objects);
    g.bench_function("dissector", dissect);
    g.finish();
    let mut g = c.benchmark_group("dnp3_bytes");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function("link+objects", link_and_objects);
    g.bench_function("dissector", dissect);
    g.finish();
}

criterion_group!(benches, dnp3);
criterion_main!(benches);
