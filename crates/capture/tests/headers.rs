//! Our readers and libpcap agree on every header field libpcap checks: the pcap
//! version (2.0 to 2.4 and 543.0 read, with the swapped length fields of old versions),
//! the link type's extension bits, the snapshot length; the pcapng section version and
//! length, and block trailers. Each corrupted header is read by both, as a file and as
//! a stream, with the same outcome.
use otsentry_capture::{open, open_input, Input, Location, ReaderKind};
use otsentry_pcapgen::*;
use std::path::{Path, PathBuf};

fn temp(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("otsentry-header-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// Opened or refused; if opened, the records (length on the wire, bytes) and whether
/// reading stopped at damage, and at which record.
type Outcome = Result<(Vec<(u32, Vec<u8>)>, Option<u64>), String>;

fn outcome(src: Result<Box<dyn otsentry_capture::FrameSource>, otsentry_capture::CaptureError>) -> Outcome {
    let mut src = src.map_err(|e| e.to_string())?;
    let mut frames = Vec::new();
    loop {
        match src.next_frame() {
            Ok(Some(f)) => frames.push((f.origlen, f.data.to_vec())),
            Ok(None) => return Ok((frames, None)),
            Err(d) => return Ok((frames, Some(d.record))),
        }
    }
}

fn agree(name: &str, bytes: &[u8]) -> Outcome {
    let path = temp(name, bytes);
    let stream = |kind| outcome(open_input(&Input { name: name.into(), location: Location::Stream(path.clone()) }, kind));
    let results = [
        ("mmap", outcome(open(&path, ReaderKind::Mmap))),
        ("stream", stream(ReaderKind::Mmap)),
        ("libpcap stream", stream(ReaderKind::Libpcap)),
    ];
    let reference = outcome(open(&path, ReaderKind::Libpcap));
    for (reader, got) in &results {
        match (got, &reference) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{name}: {reader} vs libpcap"),
            (Err(_), Err(_)) => {}
            (a, b) => panic!("{name}: {reader} gives {:?}, libpcap {:?}", a.as_ref().map(|x| x.0.len()), b.as_ref().map(|x| x.0.len())),
        }
    }
    reference
}

fn frame(i: u8) -> Vec<u8> {
    eth_ip(&ip_udp("10.0.0.1:20000".parse().unwrap(), "10.0.0.2:20000".parse().unwrap(), &vec![i; 12 + usize::from(i)]))
}

fn pcap(big: bool) -> Vec<u8> {
    let mut w = PcapWriter::with_options(1, 65_535, false, big);
    for i in 0..3 {
        w.packet(1_000_000_000 + u64::from(i), &frame(i));
    }
    w.into_bytes()
}

fn put16(b: &mut [u8], at: usize, v: u16, big: bool) {
    b[at..at + 2].copy_from_slice(&if big { v.to_be_bytes() } else { v.to_le_bytes() });
}
fn put32(b: &mut [u8], at: usize, v: u32, big: bool) {
    b[at..at + 4].copy_from_slice(&if big { v.to_be_bytes() } else { v.to_le_bytes() });
}

#[test]
fn pcap_versions_are_read_or_refused_as_libpcap_does() {
    let mut opened = 0;
    for big in [false, true] {
        for (major, minor) in
            [(0, 0), (1, 4), (2, 0), (2, 1), (2, 2), (2, 3), (2, 4), (2, 5), (2, 0xffff), (3, 0), (543, 0), (543, 1), (0xffff, 4)]
        {
            let mut b = pcap(big);
            put16(&mut b, 4, major, big);
            put16(&mut b, 6, minor, big);
            let got = agree(&format!("v{major}.{minor}-{big}.pcap"), &b);
            opened += usize::from(got.is_ok());
        }
    }
    assert_eq!(opened, 2 * 6, "2.0 to 2.4 and 543.0 open, in either byte order");
}

#[test]
fn swapped_length_fields_of_old_versions_are_read_as_libpcap_reads_them() {
    // A record whose captured length is written where the original length belongs,
    // as versions before 2.3 did: libpcap swaps them back; 2.3 swaps only if needed.
    for minor in [2, 3, 4] {
        let mut b = pcap(false);
        put16(&mut b, 6, minor, false);
        let first = 24;
        let caplen = u32::from_le_bytes(b[first + 8..first + 12].try_into().unwrap());
        put32(&mut b, first + 8, caplen + 100, false);
        put32(&mut b, first + 12, caplen, false);
        agree(&format!("swapped-2.{minor}.pcap"), &b).unwrap_or_else(|e| panic!("2.{minor}: {e}"));
    }
}

#[test]
fn link_type_extension_bits_and_snapshot_lengths_match() {
    for (i, network) in [1u32, 1 | 0x1000_0000, 1 | 0x0400_0000, 1 | 0x0001_0000, 0x0200_0001].into_iter().enumerate() {
        let mut b = pcap(false);
        put32(&mut b, 20, network, false);
        agree(&format!("network{i}.pcap"), &b).ok();
    }
    for snaplen in [0u32, 1, 20, 262_144, 262_145, u32::MAX] {
        let mut b = pcap(false);
        put32(&mut b, 16, snaplen, false);
        agree(&format!("snap{snaplen}.pcap"), &b).unwrap_or_else(|e| panic!("snaplen {snaplen}: {e}"));
    }
}

fn pcapng() -> Vec<u8> {
    let mut w = PcapngWriter::new();
    let i = w.interface(1, 0, Some(9));
    for n in 0..3 {
        w.packet(i, 5 + u64::from(n), &frame(n));
    }
    w.into_bytes()
}

#[test]
fn pcapng_section_versions_lengths_and_trailers_match() {
    let mut opened = 0;
    for (major, minor) in [(1, 0), (1, 1), (1, 2), (2, 0), (0, 0)] {
        let mut b = pcapng();
        put16(&mut b, 12, major, false);
        put16(&mut b, 14, minor, false);
        opened += usize::from(agree(&format!("ng{major}.{minor}.pcapng"), &b).is_ok());
    }
    assert!(opened >= 1, "1.0 opens");
    // The section header's length, and a packet block's trailer that disagrees with it.
    let shb_len = u32::from_le_bytes(pcapng()[4..8].try_into().unwrap()) as usize;
    for len in [8u32, 24, 0x0010_0004, 0x7fff_fffc] {
        let mut b = pcapng();
        put32(&mut b, 4, len, false);
        agree(&format!("shblen{len}.pcapng"), &b).ok();
    }
    let mut b = pcapng();
    let idb_len = u32::from_le_bytes(b[shb_len + 4..shb_len + 8].try_into().unwrap()) as usize;
    let epb = shb_len + idb_len;
    let epb_len = u32::from_le_bytes(b[epb + 4..epb + 8].try_into().unwrap()) as usize;
    let trailer = epb + epb_len - 4;
    put32(&mut b, trailer, 4, false);
    let got = agree("trailer.pcapng", &b).expect("opens");
    assert_eq!(got.1, Some(1), "the first packet block is damaged");
}

#[test]
fn a_stream_is_read_as_the_same_file_is() {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/demo/input.pcap");
    let bytes = std::fs::read(p).unwrap();
    let whole = agree("demo.pcap", &bytes).unwrap();
    assert_eq!(whole.0.len(), 33);
    for cut in [1, 23, 24, 25, 40, bytes.len() - 1] {
        agree(&format!("demo-cut{cut}.pcap"), &bytes[..cut]).ok();
    }
}

#[test]
fn kuznetzov_s_modified_pcap_is_read_as_libpcap_reads_it() {
    // The patched format's records carry 8 more header bytes (interface index,
    // protocol, packet type) after the usual 16.
    let plain = pcap(false);
    let mut b = vec![0x34, 0xcd, 0xb2, 0xa1];
    b.extend_from_slice(&plain[4..24]);
    let mut at = 24;
    while at < plain.len() {
        let caplen = u32::from_le_bytes(plain[at + 8..at + 12].try_into().unwrap()) as usize;
        b.extend_from_slice(&plain[at..at + 16]);
        b.extend_from_slice(&[0, 0, 0, 2, 0x08, 0x00, 0, 0]);
        b.extend_from_slice(&plain[at + 16..at + 16 + caplen]);
        at += 16 + caplen;
    }
    let (frames, damage) = agree("kuznetzov.pcap", &b).expect("libpcap reads it");
    assert_eq!((frames.len(), damage), (3, None));
    assert_eq!(frames[2].1, frame(2));
}
