//! The baseline rules' cases for `rule_pack.rs`: every case runs against one baseline,
//! learned from `learned()`: an HMI polling a PLC every 100 ms (holding registers
//! 0-9), writing setpoints 40-60 to register 16 and reading the PLC's identity, an
//! engineering station reading an S7 PLC.
use otsentry_engine::{Pipeline, PipelineOptions};
use otsentry_pcapgen::baseline::{identity, setpoint};
use otsentry_pcapgen::session::*;
use std::sync::{Arc, OnceLock};

pub(crate) const HMI: &str = "10.0.1.10:49152";
pub(crate) const PLC: &str = "10.0.0.2:502";
const ENG: &str = "10.0.2.5:49300";
const S7: &str = "10.0.0.4:102";

pub(crate) const POLL: &[u8] = &[0x03, 0x00, 0x00, 0x00, 0x0A];
const ANSWER: &[u8] = &[0x03, 0x14, 0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8, 0, 9, 0, 10];
/// Read device identification, basic objects from 0.
const IDENTIFY: &[u8] = &[0x2B, 0x0E, 0x01, 0x00];

/// `n` polls of the HMI, one every 100 ms (request and answer, 10 ms apart).
fn polls(c: &mut Capture, n: usize) {
    let mut conn = c.connect(HMI, PLC);
    for tid in 0..n {
        c.client(&mut conn, &otsentry_pcapgen::ot::modbus_adu(tid as u16, 1, POLL));
        c.server(&mut conn, &otsentry_pcapgen::ot::modbus_adu(tid as u16, 1, ANSWER));
        c.wait(80);
    }
}

fn learned() -> Vec<u8> {
    cap(|c| {
        polls(c, 30);
        let writes: Vec<Vec<u8>> = (0..15u16).map(|i| setpoint(40 + (i * 7) % 21)).collect();
        let exchanges: Vec<(&[u8], Option<&[u8]>)> = writes.iter().map(|w| (w.as_slice(), Some(w.as_slice()))).collect();
        c.modbus("10.0.1.10:49153", PLC, &exchanges);
        let id = identity("1.0");
        c.modbus("10.0.1.10:49154", PLC, &[(IDENTIFY, Some(&id))]);
        c.s7(ENG, S7, &[(true, s7_read_db(1, 5))]);
    })
}

fn cap(f: impl FnOnce(&mut Capture)) -> Vec<u8> {
    let mut c = Capture::new();
    f(&mut c);
    c.into_bytes()
}

/// The baseline every case runs against, learned once.
pub(crate) fn baseline() -> Arc<otsentry_baseline::Baseline> {
    static B: OnceLock<Arc<otsentry_baseline::Baseline>> = OnceLock::new();
    B.get_or_init(|| {
        let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("rule-baseline-learned.pcap");
        std::fs::write(&path, learned()).expect("write capture");
        let opts = PipelineOptions { learn: Some(Default::default()), ..Default::default() };
        let mut run = Pipeline::new(opts, None);
        run.run_file(&path, &mut |_, _| {}).expect("replay");
        let (_, learner) = run.finish_learning(1.0);
        let file = learner.expect("learning").finish(&otsentry_baseline::Vendors::default());
        Arc::new(otsentry_baseline::Baseline::new(file))
    })
    .clone()
}

fn modbus_one(client: &str, pdu: &[u8], answer: Option<&[u8]>) -> Vec<u8> {
    cap(|c| c.modbus(client, PLC, &[(pdu, answer)]))
}

/// `n` requests within `n` × 10 ms.
fn rapid(n: u16) -> Vec<u8> {
    cap(|c| {
        let mut conn = c.connect(HMI, PLC);
        for tid in 0..n {
            c.client(&mut conn, &otsentry_pcapgen::ot::modbus_adu(tid, 1, POLL));
        }
    })
}

/// Five polls, then only the engineering station's reads for five seconds (or, with
/// `polling`, the polls go on with a few milliseconds of jitter).
fn then_quiet(polling: bool) -> Vec<u8> {
    cap(|c| {
        polls(c, 5);
        let mut s7 = c.connect(ENG, S7);
        let mut conn = c.connect("10.0.1.10:49160", PLC);
        for i in 0..50u16 {
            if polling {
                c.client(&mut conn, &otsentry_pcapgen::ot::modbus_adu(i, 1, POLL));
            }
            if i % 5 == 0 {
                c.client(&mut s7, &otsentry_pcapgen::ot::tpkt_cotp(&s7_read_db(i, 5)));
            }
            c.wait(if i % 2 == 0 { 85 } else { 95 });
        }
    })
}

type Case = (&'static str, fn() -> Vec<u8>, fn() -> Vec<u8>);

pub(crate) const CASES: &[Case] = &[
    ("baseline.asset.new", || modbus_one("10.0.9.77:40000", POLL, None), || modbus_one(HMI, POLL, None)),
    ("baseline.pair.new", || cap(|c| c.s7("10.0.1.10:49170", S7, &[(true, s7_read_db(1, 5))])), || modbus_one(HMI, POLL, None)),
    (
        "baseline.function.new",
        || modbus_one(HMI, &[0x10, 0x00, 0x10, 0x00, 0x01, 0x02, 0x00, 0x32], None),
        || modbus_one(HMI, &setpoint(50), None),
    ),
    ("baseline.range.write", || modbus_one(HMI, &[0x06, 0x01, 0xF4, 0x00, 0x32], None), || modbus_one(HMI, &setpoint(50), None)),
    ("baseline.range.read", || modbus_one(HMI, &[0x03, 0x00, 0x64, 0x00, 0x0A], None), || modbus_one(HMI, POLL, None)),
    ("baseline.value", || modbus_one(HMI, &setpoint(65535), None), || modbus_one(HMI, &setpoint(44), None)),
    ("baseline.identity", || modbus_one(HMI, IDENTIFY, Some(&identity("2.0"))), || modbus_one(HMI, IDENTIFY, Some(&identity("1.0")))),
    ("baseline.poll.stopped", || then_quiet(false), || then_quiet(true)),
    ("baseline.burst", || rapid(150), || rapid(20)),
];
