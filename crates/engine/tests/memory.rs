//! Foundation II acceptance: a million concurrent flows plus an out-of-order flood stay
//! under the configured caps, with evictions and reassembly drops counted. Peak memory
//! (VmHWM from /proc/self/status) is printed and bounded.
use otsentry_capture::ReaderKind;
use otsentry_engine::{Pipeline, PipelineOptions};
use otsentry_flow::{FlowConfig, StreamConfig};
use otsentry_pcapgen::bench::{write_flood, Flood};
use otsentry_wire::DecodeOptions;

fn status_kib(field: &str) -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = text.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn a_million_concurrent_flows_and_an_out_of_order_flood_stay_under_the_caps() {
    const MAX_FLOWS: usize = 1_000_000;
    const MEMCAP: usize = 8 << 20;
    let flood = Flood { flows: 1_100_000, ooo_flows: 2_000, ooo_segments: 20 };
    let path = std::env::temp_dir().join(format!("otsentry-flood-{}.pcap", std::process::id()));
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).expect("create capture"));
    let packets = write_flood(&flood, &mut out).expect("write capture");
    drop(out);

    let before = status_kib("VmRSS:").unwrap_or(0);
    let opts = PipelineOptions {
        // Read through libpcap's buffers so the file's pages are not counted as ours.
        reader: ReaderKind::Libpcap,
        decode: DecodeOptions { verify_checksums: false, ..Default::default() },
        flow: FlowConfig {
            max_flows: MAX_FLOWS,
            reassembly_memcap: MEMCAP,
            stream: StreamConfig { max_buffered: 64 << 10, max_segments: 64 },
            ..Default::default()
        },
        ..Default::default()
    };
    let mut replay: Pipeline = Pipeline::new(opts, None);
    let report = replay.run_file(&path, &mut |_, _| {}).expect("replay");
    let peak_kib = status_kib("VmHWM:").unwrap_or(0);
    let s = replay.finish(1.0);
    let _ = std::fs::remove_file(&path);

    assert_eq!(report.packets, packets);
    let created = u64::from(flood.flows + flood.ooo_flows);
    let st = &s.streams;
    eprintln!(
        "flows {} peak active {} evicted {} | reassembly peak {} B of {} B, overflow {} B in {} gaps | VmRSS before {} KiB, VmHWM {} KiB",
        s.flows, st.peak_active_flows, st.flows_evicted, st.reassembly_peak_bytes, MEMCAP, st.overflow_bytes, st.gaps, before, peak_kib
    );
    assert_eq!(s.flows, created);
    assert_eq!(st.peak_active_flows, MAX_FLOWS as u64, "the table filled to its cap and no further");
    assert_eq!(st.flows_evicted, created - MAX_FLOWS as u64, "every flow over the cap evicted one");
    assert!(st.reassembly_peak_bytes <= MEMCAP as u64, "reassembly memcap held");
    assert!(st.reassembly_peak_bytes > (MEMCAP / 2) as u64, "the flood did press on the memcap");
    // Every held byte was either delivered after a forced gap or skipped and counted.
    let flood_bytes = u64::from(flood.ooo_flows * flood.ooo_segments) * 1000;
    assert_eq!(st.delivered_bytes, flood_bytes, "all flood bytes that arrived reached the app layer");
    assert!(st.overflow_bytes > 0 && st.gaps > 0, "cap-forced skips are counted");
    // Memory: about 1 KiB per flow-table entry, plus the reassembly memcap and slack for
    // the test harness, must cover the peak.
    let bound_kib = (MAX_FLOWS as u64) + (MEMCAP as u64 >> 10) + before + 128 * 1024;
    assert!(peak_kib > 0, "VmHWM readable");
    assert!(peak_kib <= bound_kib, "peak RSS {peak_kib} KiB over the bound {bound_kib} KiB");
}
