//! DNP3 on third-party captures: link frames and the application function histogram
//! against tshark's (`tshark -r F -T fields -e dnp3.start -e dnp3.al.func -E occurrence=a`).
use otsentry_engine::{Pipeline, PipelineOptions};
use otsentry_pcapgen::shared;
use std::collections::BTreeMap;
use std::path::Path;

type Histogram = BTreeMap<u8, u64>;

fn tshark(path: &Path) -> (u64, Histogram) {
    shared::tshark_count_and_histogram(path, "dnp3.start", "dnp3.al.func")
}

fn ours(path: &Path) -> (u64, Histogram) {
    let mut run: Pipeline = Pipeline::new(PipelineOptions::default(), None);
    run.run_file(path, &mut |_, _| {}).expect("replay");
    let s = run.finish(1.0);
    let d = s.protocols.get("dnp3").expect("a dnp3 section");
    let functions = d.codes("functions").expect("functions by code");
    (d.count("link_frames"), functions.iter().map(|(k, v)| (k.parse::<u8>().expect("decimal key"), *v)).collect())
}

/// Link frames and (function, count) pairs.
type Figures = (u64, Vec<(u8, u64)>);

/// Where the figures differ on purpose: why, then tshark's and ours.
fn known_difference(name: &str) -> Option<(&'static str, Figures, Figures)> {
    Some(match name {
        // tshark does not reassemble a fragment whose transport sequence wraps from 63 to
        // 0 (frames 18, 114 and 210 are the last segments of responses, 810 of an
        // unsolicited response), and then reports the next single-segment fragment of
        // that link (frame 311, a response) as function 0. We reassemble across the wrap.
        "dnp3/icsnpp/dnp3_example.pcap" => (
            "tshark loses fragments at a transport sequence wrap",
            (834, vec![(0, 1), (1, 97), (3, 134), (4, 133), (129, 360), (130, 3)]),
            (834, vec![(1, 97), (3, 134), (4, 133), (129, 364), (130, 4)]),
        ),
        // The same wrap: 26 responses whose last segment follows a wrap tshark does not
        // count; 16 later single-segment fragments (14 responses, 2 unsolicited) it
        // reports as function 0; and 2 first segments of fragments that never completed it
        // also reports as function 0.
        "dnp3/misc/dnp3dataset_capturerem_to_cite_the_paper.pcap" => (
            "tshark loses fragments at a transport sequence wrap",
            (12227, vec![(0, 564), (1, 4428), (2, 1), (3, 12), (4, 12), (13, 11), (20, 546), (21, 11), (129, 4981), (130, 544)]),
            (12227, vec![(0, 546), (1, 4428), (2, 1), (3, 12), (4, 12), (13, 11), (20, 546), (21, 11), (129, 5021), (130, 546)]),
        ),
        // Seen from the attacker's host while it intercepts (MITM) DNP3 sessions. In three
        // flows (client ports 58025, 58044, 58057) a retransmitted segment carries a frame
        // no earlier copy did, which tshark does not dissect: +3. In four flows (58012,
        // 58020, 58063, 58064) the attacker's altered copy of a segment is a byte or more
        // longer than the original at the same sequence number; tshark dissects each
        // original packet alone, while one byte stream (first copy wins) then runs out of
        // step with the later segments of the other version: 14 frames are lost, each
        // reported as `dnp3.resync` with the bytes skipped. Net: 1 read, 9 responses and 1
        // unsolicited response fewer.
        "dnp3/qut2017/attacks-training-frequent.attacker.pcap.zip" => (
            "retransmissions tshark skips; spliced MITM copies of different lengths",
            (65864, vec![(0, 2031), (1, 760), (2, 30674), (7, 24226), (13, 6), (14, 9), (20, 15), (24, 26), (129, 5161), (130, 2936)]),
            (65853, vec![(0, 2031), (1, 759), (2, 30674), (7, 24226), (13, 6), (14, 9), (20, 15), (24, 26), (129, 5152), (130, 2935)]),
        ),
        // +2: two flows 69 minutes apart from 127.0.0.1:20000 to port 80, one unsolicited
        // response each, which tshark leaves to HTTP (we detect DNP3 by content). +2: a
        // confirm (client port 55027) and an immediate freeze (55038) that only
        // retransmitted segments carry, which tshark does not dissect.
        "dnp3/qut2017/injection-training-frequent.attacker.pcap.zip" => (
            "DNP3 toward port 80; retransmissions tshark skips",
            (376, vec![(0, 66), (1, 69), (7, 47), (13, 33), (14, 24), (24, 1), (129, 60), (130, 76)]),
            (380, vec![(0, 67), (1, 69), (7, 48), (13, 33), (14, 24), (24, 1), (129, 60), (130, 78)]),
        ),
        _ => return None,
    })
}

#[test]
fn link_frames_and_functions_equal_tsharks_on_the_shared_dnp3_captures() {
    let Some(dir) = shared::pcaps_dir() else {
        return;
    };
    let mut compared = 0;
    for cap in shared::captures(&dir, &shared::scratch_dir()).iter().filter(|c| c.name.starts_with("dnp3/")) {
        let (t_frames, t_hist) = tshark(&cap.path);
        let (o_frames, o_hist) = ours(&cap.path);
        eprintln!("{:<75} tshark {t_frames:>6} link frames, ours {o_frames:>6}", cap.name);
        match known_difference(&cap.name) {
            Some((why, (tf, th), (of, oh))) => {
                assert_eq!((t_frames, t_hist), (tf, th.into_iter().collect()), "{}: tshark's figures changed ({why})", cap.name);
                assert_eq!((o_frames, o_hist), (of, oh.into_iter().collect()), "{}: our figures changed ({why})", cap.name);
            }
            None => {
                assert_eq!(o_frames, t_frames, "{}: link frames", cap.name);
                assert_eq!(o_hist, t_hist, "{}: function histogram", cap.name);
            }
        }
        compared += 1;
    }
    assert!(compared >= 27, "expected 27 shared DNP3 captures, compared {compared}");
}
