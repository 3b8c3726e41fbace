//! Corrupted capture files never panic the memory-mapped reader: it either reads or
//! reports damage with an offset inside the file.
use otsentry_capture::{open, open_input, plan, FrameSource, Input, Location, ReaderKind};
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

/// `bytes` with each edit applied (a byte set at a position), then cut (keeping at least one).
fn mutated(mut bytes: Vec<u8>, edits: &[(prop::sample::Index, u8)], cut: prop::sample::Index) -> Vec<u8> {
    for (at, v) in edits {
        let i = at.index(bytes.len());
        bytes[i] = *v;
    }
    bytes.truncate(cut.index(bytes.len() + 1).max(1));
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    #[test]
    fn mutated_files_never_panic(pcapng in any::<bool>(), edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8), cut in any::<prop::sample::Index>()) {
        let bytes = mutated(sample(pcapng), &edits, cut);
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

    /// The streaming reader, which sees the bytes a buffer at a time, reads exactly what
    /// the memory-mapped reader reads, damage included.
    #[test]
    fn a_stream_reads_what_the_map_reads(pcapng in any::<bool>(), edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6), cut in any::<prop::sample::Index>()) {
        let bytes = mutated(sample(pcapng), &edits, cut);
        let path = std::env::temp_dir().join(format!("otsentry-arbitrary-stream-{}.cap", std::process::id()));
        std::fs::write(&path, &bytes).unwrap();
        let map = open(&path, ReaderKind::Mmap).map(|mut s| drain(s.as_mut())).map_err(|e| e.to_string());
        let stream = open_input(&Input { name: path.display().to_string(), location: Location::Stream(path.clone()) }, ReaderKind::Mmap)
            .map(|mut s| drain(s.as_mut()))
            .map_err(|e| e.to_string());
        prop_assert_eq!(map, stream);
    }

    /// A damaged zip archive is refused or read, never a panic.
    #[test]
    fn mutated_zip_archives_never_panic(edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6), cut in any::<prop::sample::Index>()) {
        let bytes = mutated(stored_zip(&sample(false)), &edits, cut);
        let path = std::env::temp_dir().join(format!("otsentry-arbitrary-{}.zip", std::process::id()));
        std::fs::write(&path, &bytes).unwrap();
        if let Ok(p) = plan(std::slice::from_ref(&path), false) {
            for input in &p.inputs {
                if let Ok(mut src) = open_input(input, ReaderKind::Mmap) {
                    let _ = drain(src.as_mut());
                }
            }
        }
    }
}

/// Records as (length on the wire, bytes), then where reading stopped (record, offset).
type Read = (Vec<(u32, Vec<u8>)>, Option<(u64, Option<u64>)>);

fn drain(src: &mut dyn FrameSource) -> Read {
    let mut frames = Vec::new();
    loop {
        match src.next_frame() {
            Ok(Some(f)) => frames.push((f.origlen, f.data.to_vec())),
            Ok(None) => return (frames, None),
            Err(d) => return (frames, Some((d.record, d.offset))),
        }
        assert!(frames.len() < 1000, "reader does not loop");
    }
}

/// A one-member zip archive, stored, written by hand (CRC left zero: we do not check it).
fn stored_zip(member: &[u8]) -> Vec<u8> {
    let name = b"capture.pcap";
    let size = member.len() as u32;
    let mut z = Vec::new();
    z.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
    z.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // version, flags, method 0, time, date, crc
    z.extend_from_slice(&size.to_le_bytes());
    z.extend_from_slice(&size.to_le_bytes());
    z.extend_from_slice(&(name.len() as u16).to_le_bytes());
    z.extend_from_slice(&0u16.to_le_bytes());
    z.extend_from_slice(name);
    z.extend_from_slice(member);
    let dir_at = z.len() as u32;
    z.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
    z.extend_from_slice(&[20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // made by, needed, flags, method, time, date, crc
    z.extend_from_slice(&size.to_le_bytes());
    z.extend_from_slice(&size.to_le_bytes());
    z.extend_from_slice(&(name.len() as u16).to_le_bytes());
    z.extend_from_slice(&[0; 12]); // extra, comment, disk, internal and external attributes
    z.extend_from_slice(&0u32.to_le_bytes()); // local header at 0
    z.extend_from_slice(name);
    let dir_len = z.len() as u32 - dir_at;
    z.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    z.extend_from_slice(&[0, 0, 0, 0, 1, 0, 1, 0]);
    z.extend_from_slice(&dir_len.to_le_bytes());
    z.extend_from_slice(&dir_at.to_le_bytes());
    z.extend_from_slice(&0u16.to_le_bytes());
    z
}

#[test]
fn the_hand_made_zip_is_read() {
    let path = std::env::temp_dir().join(format!("otsentry-handmade-{}.zip", std::process::id()));
    std::fs::write(&path, stored_zip(&sample(false))).unwrap();
    let p = plan(std::slice::from_ref(&path), false).expect("a zip holding one capture");
    assert_eq!(p.inputs.len(), 1);
    let mut src = open_input(&p.inputs[0], ReaderKind::Mmap).unwrap();
    assert_eq!(drain(src.as_mut()).0.len(), 4);
}
