//! Every file of the DNP3 fuzz corpus (seeds and past crashes) through the fuzz harness.
use otsentry_proto_dnp3::fuzzing;
use std::path::Path;

#[test]
fn every_corpus_file_replays_without_panic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/dnp3_stream");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("fuzz/corpus/dnp3_stream") {
        let _ = fuzzing::run(&std::fs::read(entry.expect("entry").path()).expect("read corpus file"));
        n += 1;
    }
    assert!(n >= 3, "the seeds at least; found {n}");
}

#[test]
fn committed_seeds_are_what_the_builder_writes() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/dnp3_stream");
    for (name, bytes) in otsentry_pcapgen::fuzzseeds::dnp3_stream() {
        assert_eq!(std::fs::read(dir.join(name)).expect("seed committed (run gen-fixtures)"), bytes, "{name}");
    }
}

/// The seeds are real conversations: the harness sees every frame and fragment.
#[test]
fn the_seeds_parse() {
    let seen: Vec<(u64, u64)> = otsentry_pcapgen::fuzzseeds::dnp3_stream().iter().map(|(_, b)| fuzzing::run(b)).collect();
    assert_eq!(seen, vec![(2, 2), (1, 1), (1, 1)], "poll, operate, udp");
}
