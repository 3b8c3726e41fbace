//! Every file of the DNP3 fuzz corpora (seeds and past crashes) through the fuzz harnesses:
//! the whole stack, the link layer alone and the application layer alone.
use otsentry_proto_dnp3::fuzzing;
use std::path::{Path, PathBuf};

fn corpus(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus").join(target)
}

#[test]
fn every_corpus_file_replays_without_panic() {
    type Harness = fn(&[u8]) -> u64;
    let harnesses: [(&str, Harness); 3] = [
        ("dnp3_stream", |b| fuzzing::run(b).0),
        ("dnp3_link", |b| fuzzing::link_layer(b) as u64),
        ("dnp3_app", |b| fuzzing::application(b) as u64),
    ];
    for (target, harness) in harnesses {
        let mut n = 0;
        for entry in std::fs::read_dir(corpus(target)).expect("fuzz corpus directory") {
            let _ = harness(&std::fs::read(entry.expect("entry").path()).expect("read corpus file"));
            n += 1;
        }
        assert!(n >= 3, "{target}: the seeds at least; found {n}");
    }
}

#[test]
fn committed_seeds_are_what_the_builder_writes() {
    for (target, seeds) in otsentry_pcapgen::fuzzseeds::dnp3_corpora() {
        for (name, bytes) in seeds {
            assert_eq!(std::fs::read(corpus(target).join(name)).expect("seed committed (run gen-fixtures)"), bytes, "{target}/{name}");
        }
    }
}

/// The seeds are real conversations, frames and fragments: each harness sees all of them.
#[test]
fn the_seeds_parse() {
    let seen: Vec<(u64, u64)> = otsentry_pcapgen::fuzzseeds::dnp3_stream().iter().map(|(_, b)| fuzzing::run(b)).collect();
    assert_eq!(seen, vec![(2, 2), (1, 1), (1, 1)], "poll, operate, udp");
    let corpora = otsentry_pcapgen::fuzzseeds::dnp3_corpora();
    let link: Vec<usize> = corpora[1].1.iter().map(|(_, b)| fuzzing::link_layer(b)).collect();
    assert_eq!(link, vec![1, 1, 1], "read, link status, long");
    let points: Vec<usize> = corpora[2].1.iter().map(|(_, b)| fuzzing::application(b)).collect();
    assert_eq!(points, vec![8, 2, 1, 2], "points, control, file, read");
}
