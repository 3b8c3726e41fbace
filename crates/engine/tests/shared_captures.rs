//! Foundation I acceptance: every shared capture replays with libpcap's packet count
//! and, unless the MANIFEST marks it malformed, without decode errors.
use otsentry_capture::ReaderKind;
use otsentry_engine::{Pipeline, PipelineOptions};
use otsentry_pcapgen::shared;

#[test]
fn every_shared_capture_replays_with_capinfos_counts() {
    let Some(dir) = shared::pcaps_dir() else {
        return;
    };
    let caps = shared::captures(&dir, &shared::scratch_dir());
    let mut failures = Vec::new();
    for cap in &caps {
        let mut run: Pipeline = Pipeline::new(PipelineOptions::default(), Some(otsentry_sink::Outputs::memory().0));
        let report = run.run_file(&cap.path, &mut |_, _| {}).unwrap_or_else(|e| panic!("{}: {e}", cap.name));
        assert!(report.damage.is_none(), "{}: unexpected damage {:?}", cap.name, report.damage);
        let s = run.finish(1.0);
        if s.packets != cap.packets {
            failures.push(format!("{}: {} packets, capinfos says {}", cap.name, s.packets, cap.packets));
        }
        if !cap.malformed && s.decode_errors != 0 {
            failures.push(format!("{}: {} decode errors {:?}", cap.name, s.decode_errors, s.decode.anomalies));
        }
        eprintln!("{:<90} {:>7} packets {:>3} decode errors", cap.name, s.packets, s.decode_errors);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn libpcap_reader_gives_the_same_summary_counts() {
    let Some(dir) = shared::pcaps_dir() else {
        return;
    };
    for cap in shared::captures(&dir, &shared::scratch_dir()).iter().filter(|c| c.packets < 50_000) {
        let run_with = |reader| {
            let mut run: Pipeline = Pipeline::new(PipelineOptions { reader, ..Default::default() }, None);
            run.run_file(&cap.path, &mut |_, _| {}).expect("replay");
            let s = run.finish(1.0);
            (s.packets, s.bytes, s.decode_errors, s.decode)
        };
        assert_eq!(run_with(ReaderKind::Mmap), run_with(ReaderKind::Libpcap), "{}", cap.name);
    }
}
