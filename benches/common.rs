//! What the parser benches share: the shared captures' payloads on a protocol's port, and
//! a sink that drops everything.
use criterion::{Bencher, Criterion, Throughput};
use otsentry_capture::{open, ReaderKind};
use otsentry_core::{Direction, PduEvent, PduSink, ProtocolCounts, StreamCx};
use otsentry_pcapgen::shared;
use otsentry_wire::{decode, DecodeOptions, Transport};

/// Every TCP (and UDP) payload, in capture order, of the shared captures whose MANIFEST
/// name starts with `prefix`, to or from `port`, with its direction. `None` without
/// `../shared/pcaps`.
pub(crate) fn payloads(prefix: &str, port: u16) -> Option<Vec<(Direction, Vec<u8>)>> {
    let dir = shared::pcaps_dir()?;
    let mut out = Vec::new();
    for cap in shared::captures(&dir, &shared::scratch_dir()).iter().filter(|c| c.name.starts_with(prefix)) {
        let Ok(mut src) = open(&cap.path, ReaderKind::Mmap) else { continue };
        while let Ok(Some(f)) = src.next_frame() {
            let pkt = decode(f.linktype.0, f.data, f.origlen, &DecodeOptions::default());
            let (ports, payload) = match pkt.transport {
                Transport::Tcp(t) => ((t.src_port, t.dst_port), t.payload),
                Transport::Udp(u) => ((u.src_port, u.dst_port), u.payload),
                _ => continue,
            };
            let dir = match ports {
                (_, p) if p == port => Direction::ToServer,
                (p, _) if p == port => Direction::ToClient,
                _ => continue,
            };
            out.push((dir, payload.to_vec()));
        }
    }
    Some(out)
}

pub(crate) struct Null(pub(crate) ProtocolCounts);

impl PduSink for Null {
    fn pdu<E: PduEvent>(&mut self, _cx: &StreamCx, e: &E) {
        std::hint::black_box(e.event_type());
    }
    fn counts(&mut self) -> &mut ProtocolCounts {
        &mut self.0
    }
    fn anomaly(&mut self, _cx: &StreamCx, _event: &'static str, _offset: u64, _reason: std::fmt::Arguments<'_>) {}
}

/// A bench function over the whole corpus.
pub(crate) type Run<'a> = &'a dyn Fn(&mut Bencher<'_>);

/// One criterion group `name` timing each `(label, run)` with `throughput` per iteration.
pub(crate) fn group(c: &mut Criterion, name: &str, throughput: Throughput, runs: &[(&str, Run<'_>)]) {
    let mut g = c.benchmark_group(name);
    g.throughput(throughput);
    for (label, run) in runs {
        g.bench_function(*label, |b| run(b));
    }
    g.finish();
}
