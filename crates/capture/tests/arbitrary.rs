//! Corrupted capture files never panic the memory-mapped reader: it either reads or
//! reports damage with an offset inside the file.
use otsentry_capture::{open, ReaderKind};
use otsentry_pcapgen::*;
use proptest::prelude::*;

fn sample(pcapng: bool) -> Vec<u8> {
    let frames: Vec<Vec<u8>> =
        (0..4u8).map(|i| eth_ip(&ip_udp("10.0.0.1:20000".parse().unwrap(), "10.0.0.2:20000".parse().unwrap(), &[i; 20]))).collect();
    if pcapng {
        let mut w = PcapngWriter::new();
        let i = w.interface(1, 0, Some(9));
        for f in &frames {
            w.packet(i, 5, f);
        }
        w.simple_packet(&frames[0]);
        w.into_bytes()
    } else {
        let mut w = PcapWriter::new(1);
        for f in &frames {
            w.packet(5, f);
        }
        w.into_bytes()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    #[test]
    fn mutated_files_never_panic(pcapng in any::<bool>(), edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8), cut in any::<prop::sample::Index>()) {
        let mut bytes = sample(pcapng);
        for (at, v) in edits {
            let i = at.index(bytes.len());
            bytes[i] = v;
        }
        let keep = cut.index(bytes.len() + 1);
        bytes.truncate(keep.max(1));
        let path = std::env::temp_dir().join(format!("otsentry-arbitrary-{}.cap", std::process::id()));
        std::fs::write(&path, &bytes).unwrap();
        if let Ok(mut src) = open(&path, ReaderKind::Mmap) {
            let mut n = 0;
            loop {
                match src.next_frame() {
                    Ok(Some(f)) => { n += 1; prop_assert!(f.data.len() <= bytes.len()); }
                    Ok(None) => break,
                    Err(d) => { prop_assert!(d.offset.is_some_and(|o| o as usize <= bytes.len())); prop_assert_eq!(d.record, n + 1); break; }
                }
                prop_assert!(n < 1000, "reader does not loop");
            }
        }
    }
}
