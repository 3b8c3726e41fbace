//! Every file of the fuzz corpus (seeds and past crashes) through the fuzz harness, and
//! arbitrary input through it too: no input may panic the dissector.
use otsentry_proto_modbus::fuzzing;
use proptest::prelude::*;
use std::path::Path;

#[test]
fn every_corpus_file_replays_without_panic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/modbus_stream");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("fuzz/corpus/modbus_stream") {
        let path = entry.expect("entry").path();
        fuzzing::run(&std::fs::read(&path).expect("read corpus file"));
        n += 1;
    }
    assert!(n >= 5, "the seeds at least; found {n}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]
    #[test]
    fn arbitrary_conversations_never_panic(data in prop::collection::vec(any::<u8>(), 0..600)) {
        fuzzing::run(&data);
    }

    /// Real-looking conversations with bytes flipped.
    #[test]
    fn mutated_seeds_never_panic(seed in 0usize..5, flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        let (_, mut data) = otsentry_pcapgen::fuzzseeds::modbus_stream().swap_remove(seed);
        for (i, x) in flips {
            let at = i.index(data.len());
            data[at] ^= x;
        }
        fuzzing::run(&data);
    }
}

#[test]
fn committed_seeds_are_what_the_builder_writes() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/modbus_stream");
    for (name, bytes) in otsentry_pcapgen::fuzzseeds::modbus_stream() {
        assert_eq!(std::fs::read(dir.join(name)).expect("seed committed (run gen-fixtures)"), bytes, "{name}");
    }
}
