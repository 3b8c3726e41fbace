//! Every file of the S7 fuzz corpora (seeds and past crashes) through the fuzz harnesses:
//! the whole stack, TPKT/COTP alone and single PDUs.
use otsentry_proto_s7comm::fuzzing;
use std::path::{Path, PathBuf};

fn corpus(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus").join(target)
}

#[test]
fn every_corpus_file_replays_without_panic() {
    type Harness = fn(&[u8]) -> u64;
    let harnesses: [(&str, Harness); 3] =
        [("s7_stream", |b| fuzzing::run(b).0), ("s7_tpkt", |b| fuzzing::tpkt_layer(b) as u64), ("s7_pdu", |b| u64::from(fuzzing::pdu(b)))];
    for (target, harness) in harnesses {
        let mut n = 0;
        for entry in std::fs::read_dir(corpus(target)).expect("fuzz corpus directory") {
            let _ = harness(&std::fs::read(entry.expect("entry").path()).expect("read corpus file"));
            n += 1;
        }
        assert!(n >= 1, "{target}: the seeds at least; found {n}");
    }
}

#[test]
fn committed_seeds_are_what_the_builder_writes() {
    for (target, seeds) in otsentry_pcapgen::fuzzseeds::s7_corpora() {
        for (name, bytes) in seeds {
            assert_eq!(std::fs::read(corpus(target).join(name)).expect("seed committed (run gen-fixtures)"), bytes, "{target}/{name}");
        }
    }
}

/// The seeds are real conversations, TPKTs and PDUs: each harness sees all of them.
#[test]
fn the_seeds_parse() {
    let corpora = otsentry_pcapgen::fuzzseeds::s7_corpora();
    let session: Vec<(u64, u64)> = corpora[0].1.iter().map(|(_, b)| fuzzing::run(b)).collect();
    assert_eq!(session, vec![(7, 1)], "seven S7comm PDUs and one S7comm-plus");
    let tpdus: Vec<usize> = corpora[1].1.iter().map(|(_, b)| fuzzing::tpkt_layer(b)).collect();
    assert_eq!(tpdus, vec![1, 1]);
    assert!(corpora[2].1.iter().all(|(_, b)| fuzzing::pdu(b)));
}
