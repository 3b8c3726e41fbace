//! S7 acceptance on third-party captures: for every shared capture with S7comm, the PDU
//! count and the function histogram equal tshark's
//! (`tshark -r F -T fields -e s7comm.header.rosctr -e s7comm.param.func -E occurrence=a`),
//! and so does the user data function-group histogram
//! (`s7comm.param.userdata.funcgroup`). tshark has no S7comm-plus dissector: there the
//! count is of COTP data TPDUs whose payload starts with 0x72, as the MANIFEST counts.
use otsentry_engine::{Pipeline, PipelineOptions};
use otsentry_pcapgen::shared;
use std::collections::BTreeMap;
use std::path::Path;

type Histogram = BTreeMap<u8, u64>;

struct Ours {
    pdus: u64,
    functions: Histogram,
    groups: Histogram,
    plus_pdus: u64,
    anomalies: u64,
}

fn ours(path: &Path) -> Ours {
    let mut run: Pipeline = Pipeline::new(PipelineOptions::default(), None);
    run.run_file(path, &mut |_, _| {}).expect("replay");
    let s = run.finish(1.0);
    let (s7, plus) = (s.protocols.get("s7comm").expect("s7comm section"), s.protocols.get("s7comm_plus").expect("s7comm_plus section"));
    let mut groups = Histogram::new();
    for (key, n) in s7.codes("userdata").expect("userdata by group") {
        let group = key.split('.').next().and_then(|g| g.parse::<u8>().ok()).expect("<group>.<subfunction> key");
        *groups.entry(group).or_default() += n;
    }
    Ours {
        pdus: s7.count("pdus"),
        functions: s7.codes("functions").expect("functions").iter().map(|(k, v)| (k.parse::<u8>().expect("decimal key"), *v)).collect(),
        groups,
        plus_pdus: plus.count("pdus"),
        anomalies: s7.count("anomalies") + plus.count("anomalies"),
    }
}

/// COTP data TPDUs whose payload tshark leaves undissected and that start with 0x72.
fn tshark_plus_tpdus(path: &Path) -> u64 {
    let out = std::process::Command::new("tshark")
        .args(["-n", "-r"])
        .arg(path)
        .args(["-Y", "cotp.type == 0x0f", "-T", "fields", "-e", "data.data", "-E", "occurrence=a"])
        .output()
        .expect("run tshark");
    String::from_utf8_lossy(&out.stdout).lines().flat_map(|l| l.split(',')).filter(|d| d.starts_with("72")).count() as u64
}

#[test]
fn pdus_and_functions_equal_tsharks_on_the_shared_s7_captures() {
    let Some(dir) = shared::pcaps_dir() else {
        return;
    };
    let mut compared = 0;
    for cap in shared::captures(&dir, &shared::scratch_dir()).iter().filter(|c| c.name.starts_with("s7comm")) {
        let (t_pdus, t_functions) = shared::tshark_count_and_histogram(&cap.path, "s7comm.header.rosctr", "s7comm.param.func");
        let (_, t_groups) = shared::tshark_count_and_histogram(&cap.path, "s7comm.header.rosctr", "s7comm.param.userdata.funcgroup");
        let t_plus = tshark_plus_tpdus(&cap.path);
        let o = ours(&cap.path);
        eprintln!("{:<70} tshark {t_pdus:>6} PDUs {t_plus:>4} plus; ours {:>6} {:>4}", cap.name, o.pdus, o.plus_pdus);
        assert_eq!(o.pdus, t_pdus, "{}: S7comm PDUs", cap.name);
        assert_eq!(o.functions, t_functions, "{}: function histogram", cap.name);
        assert_eq!(o.groups, t_groups, "{}: user data function groups", cap.name);
        assert_eq!(o.plus_pdus, t_plus, "{}: S7comm-plus data TPDUs", cap.name);
        // None of these captures is damaged: a clean parse raises nothing.
        assert_eq!(o.anomalies, 0, "{}: anomalies", cap.name);
        compared += 1;
    }
    assert!(compared >= 21, "expected 21 shared S7 captures, compared {compared}");
}
