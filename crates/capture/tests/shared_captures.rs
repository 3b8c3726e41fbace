//! The memory-mapped reader must agree with libpcap on every shared capture, and the
//! streaming reader (which refills and compacts its buffer over these large files) with
//! the memory-mapped one.
use otsentry_capture::{open, open_input, FrameSource, Input, Location, ReaderKind};
use otsentry_pcapgen::shared;

fn drain(src: &mut dyn FrameSource) -> (u64, u64, Option<String>) {
    let (mut n, mut bytes) = (0u64, 0u64);
    loop {
        match src.next_frame() {
            Ok(Some(f)) => {
                n += 1;
                bytes += f.data.len() as u64;
            }
            Ok(None) => return (n, bytes, None),
            Err(d) => return (n, bytes, Some(d.reason)),
        }
    }
}

#[test]
fn mmap_reader_agrees_with_libpcap_on_every_shared_capture() {
    let Some(dir) = shared::pcaps_dir() else {
        return;
    };
    let caps = shared::captures(&dir, &shared::scratch_dir());
    for cap in &caps {
        let mut ours = open(&cap.path, ReaderKind::Mmap).unwrap_or_else(|e| panic!("{e}"));
        let mut reference = open(&cap.path, ReaderKind::Libpcap).unwrap_or_else(|e| panic!("{e}"));
        let a = drain(ours.as_mut());
        let b = drain(reference.as_mut());
        assert_eq!((a.0, a.1), (b.0, b.1), "{}: mmap {:?} vs libpcap {:?}", cap.name, a, b);
        assert_eq!(a.0, cap.packets, "{}: packets vs capinfos", cap.name);
        assert_eq!(a.2.is_some(), b.2.is_some(), "{}: damage {:?} vs {:?}", cap.name, a.2, b.2);
        let stream = Input { name: cap.name.clone(), location: Location::Stream(cap.path.clone()) };
        let c = drain(open_input(&stream, ReaderKind::Mmap).unwrap_or_else(|e| panic!("{e}")).as_mut());
        assert_eq!(c, a, "{}: stream vs mmap", cap.name);
    }
    eprintln!("{} shared captures agree", caps.len());
}
