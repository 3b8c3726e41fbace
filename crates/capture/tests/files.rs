//! Reading pcap and pcapng files our builder writes, whole, truncated and corrupt, with
//! both readers, which must agree.
use otsentry_capture::{open, CaptureError, Damage, ReaderKind};
use otsentry_pcapgen::*;
use std::path::{Path, PathBuf};

fn temp(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("otsentry-capture-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

type Frames = Vec<(i64, u32, u32, Vec<u8>)>;

fn read_all(path: &Path, kind: ReaderKind) -> (Frames, Option<Damage>) {
    let mut src = open(path, kind).unwrap_or_else(|e| panic!("{e}"));
    let mut out = Vec::new();
    loop {
        match src.next_frame() {
            Ok(Some(f)) => out.push((f.ts.as_nanos(), f.linktype.0, f.origlen, f.data.to_vec())),
            Ok(None) => return (out, None),
            Err(d) => {
                assert!(src.next_frame().unwrap().is_none(), "nothing after damage");
                return (out, Some(d));
            }
        }
    }
}

fn both(path: &Path) -> (Frames, Option<Damage>) {
    let ours = read_all(path, ReaderKind::Mmap);
    let reference = read_all(path, ReaderKind::Libpcap);
    assert_eq!(ours.0, reference.0, "frames differ between readers for {}", path.display());
    assert_eq!(ours.1.as_ref().map(|d| (d.record, d.offset)), reference.1.as_ref().map(|d| (d.record, d.offset)));
    ours
}

fn frames() -> Vec<Vec<u8>> {
    (0..5u8)
        .map(|i| eth_ip(&ip_udp("10.0.0.1:20000".parse().unwrap(), "10.0.0.2:20000".parse().unwrap(), &vec![i; 10 + usize::from(i)])))
        .collect()
}

const T0: u64 = 1_700_000_000_123_456_789;

#[test]
fn pcap_variants_read_identically() {
    for (nanos, big) in [(false, false), (false, true), (true, false), (true, true)] {
        let mut w = PcapWriter::with_options(1, 65_535, nanos, big);
        for (i, f) in frames().iter().enumerate() {
            w.packet(T0 + i as u64 * 1_000_000, f);
        }
        let path = temp(&format!("v-{nanos}-{big}.pcap"), &w.into_bytes());
        let (got, damage) = both(&path);
        assert!(damage.is_none());
        assert_eq!(got.len(), 5);
        let expect_ts = if nanos { T0 as i64 } else { (T0 / 1000 * 1000) as i64 };
        assert_eq!(got[0].0, expect_ts);
        assert_eq!(got[4].3, frames()[4]);
    }
}

#[test]
fn pcapng_with_resolutions_simple_packets_and_unknown_blocks() {
    let mut w = PcapngWriter::new();
    w.other_block();
    let nano = w.interface(1, 0, Some(9));
    w.other_block();
    let f = frames();
    w.packet(nano, T0, &f[0]);
    w.packet(nano, T0 + 5, &f[1]);
    w.simple_packet(&f[2]);
    let path = temp("mixed.pcapng", &w.into_bytes());
    let (got, damage) = both(&path);
    assert!(damage.is_none());
    assert_eq!(got.iter().map(|g| g.0).collect::<Vec<_>>(), vec![T0 as i64, T0 as i64 + 5, 0]);
    assert_eq!(got[2].3, f[2]);
    // Microsecond default resolution.
    let mut w = PcapngWriter::new();
    let micro = w.interface(1, 65_535, None);
    w.packet(micro, T0, &f[3]);
    let (got, _) = both(&temp("micro.pcapng", &w.into_bytes()));
    assert_eq!(got[0].0, (T0 / 1000 * 1000) as i64);
}

#[test]
fn snap_length_keeps_only_the_snapshot() {
    // A record longer than the file's snap length: libpcap keeps snaplen bytes.
    let f = frames();
    let mut w = PcapWriter::with_options(1, 40, false, false);
    w.packet(T0, &f[4]);
    let (got, damage) = both(&temp("snap.pcap", &w.into_bytes()));
    assert!(damage.is_none());
    assert_eq!(got[0].3.len(), 40);
    assert_eq!(got[0].2, f[4].len() as u32, "original length kept");
}

#[test]
fn truncated_files_deliver_every_whole_record_then_name_the_damage() {
    let mut w = PcapWriter::new(1);
    for (i, f) in frames().iter().enumerate() {
        w.packet(T0 + i as u64, f);
    }
    let bytes = w.into_bytes();
    let record_starts: Vec<usize> = {
        let mut v = vec![24];
        for f in frames() {
            v.push(v.last().unwrap() + 16 + f.len());
        }
        v
    };
    // Cut inside record 4's data, then inside record 3's header.
    for (cut, whole, damaged) in [(record_starts[3] + 20, 3, 4), (record_starts[2] + 7, 2, 3)] {
        let path = temp(&format!("cut-{cut}.pcap"), &bytes[..cut]);
        let (got, damage) = both(&path);
        assert_eq!(got.len(), whole);
        let d = damage.expect("damage reported");
        assert_eq!((d.record, d.offset.map(|o| o as usize)), (damaged, Some(record_starts[whole])));
    }
    // A cut exactly at a record boundary is a clean end.
    let (got, damage) = both(&temp("cut-clean.pcap", &bytes[..record_starts[2]]));
    assert_eq!((got.len(), damage), (2, None));
}

#[test]
fn corrupt_record_length_stops_reading() {
    let mut w = PcapWriter::new(1);
    for f in frames() {
        w.packet(T0, &f);
    }
    let mut bytes = w.into_bytes();
    let second = 24 + 16 + frames()[0].len();
    bytes[second + 8..second + 12].copy_from_slice(&0x7fff_ffffu32.to_le_bytes());
    let (got, damage) = both(&temp("corrupt.pcap", &bytes));
    assert_eq!(got.len(), 1);
    let d = damage.unwrap();
    assert_eq!((d.record, d.offset.map(|o| o as usize)), (2, Some(second)));
    assert!(d.reason.contains("2147483647"), "{}", d.reason);
}

#[test]
fn truncated_pcapng_block() {
    let mut w = PcapngWriter::new();
    let i = w.interface(1, 0, None);
    for f in frames() {
        w.packet(i, T0, &f);
    }
    let bytes = w.into_bytes();
    let path = temp("cut.pcapng", &bytes[..bytes.len() - 10]);
    let (got, damage) = both(&path);
    assert_eq!(got.len(), 4);
    assert_eq!(damage.unwrap().record, 5);
}

#[test]
fn bad_files_are_refused_at_open_by_both_readers() {
    let text = temp("notes.txt", b"this is not a capture file at all\n");
    let empty = temp("empty.pcap", b"");
    let short = temp("short.pcap", &PcapWriter::new(1).into_bytes()[..10]);
    let lt = temp("linktype147.pcap", &PcapWriter::new(147).into_bytes());
    let missing = std::env::temp_dir().join("otsentry-no-such-file.pcap");
    for kind in [ReaderKind::Mmap, ReaderKind::Libpcap] {
        assert!(matches!(open(&text, kind), Err(CaptureError::NotACapture { .. })), "{kind:?}");
        assert!(matches!(open(&empty, kind), Err(CaptureError::NotACapture { .. })), "{kind:?}");
        assert!(matches!(open(&short, kind), Err(CaptureError::NotACapture { .. })), "{kind:?}");
        assert!(matches!(open(&lt, kind), Err(CaptureError::UnsupportedLinkType { linktype: 147, .. })), "{kind:?}");
        assert!(matches!(open(&missing, kind), Err(CaptureError::Open { .. })), "{kind:?}");
        let msg = open(&lt, kind).err().unwrap().to_string();
        assert!(msg.contains("linktype147.pcap") && msg.contains("147"), "{msg}");
    }
}

#[test]
fn a_header_only_capture_is_empty_not_damaged() {
    let (got, damage) = both(&temp("header-only.pcap", &PcapWriter::new(1).into_bytes()));
    assert_eq!((got.len(), damage), (0, None));
    let mut w = PcapngWriter::new();
    w.interface(113, 0, None);
    let (got, damage) = both(&temp("header-only.pcapng", &w.into_bytes()));
    assert_eq!((got.len(), damage), (0, None));
}

#[test]
fn a_file_larger_than_the_release_window_reads_whole_with_both_readers() {
    // 20 MB of frames, each naming its own index: the memory-mapped reader hands pages
    // behind it back to the kernel every 4 MiB, and must still give every byte.
    let mut w = PcapWriter::new(1);
    for i in 0..20_000u32 {
        let mut frame = vec![(i % 251) as u8; 1000];
        frame[..4].copy_from_slice(&i.to_be_bytes());
        w.packet(u64::from(i) * 1_000_000, &frame);
    }
    let path = temp("large.pcap", &w.into_bytes());
    let (mmap, damage) = read_all(&path, ReaderKind::Mmap);
    assert!(damage.is_none());
    assert_eq!(mmap.len(), 20_000);
    for (i, f) in mmap.iter().enumerate() {
        assert_eq!(f.3[..4], (i as u32).to_be_bytes(), "frame {i}");
        assert!(f.3[4..].iter().all(|&b| b == (i % 251) as u8), "frame {i}'s bytes");
    }
    let (libpcap, _) = read_all(&path, ReaderKind::Libpcap);
    assert!(mmap == libpcap, "the readers agree");
}
