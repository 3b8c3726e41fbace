//! Cases for `rule_pack.rs` of the rules the trust work added: the positive traffic and
//! its near miss, written by `otsentry_pcapgen::trust`.
use otsentry_pcapgen::session::Capture;
use otsentry_pcapgen::trust::*;

type Case = (&'static str, fn() -> Vec<u8>, fn() -> Vec<u8>);

const HMI: &str = "10.0.1.10:49152";
const PLC: &str = "10.0.0.2:502";
const MASTER: &str = "10.0.3.1:49200";
const ROGUE: &str = "10.0.9.9:49201";
const OUTSTATION: &str = "10.0.0.3:20000";

fn cap(f: impl FnOnce(&mut Capture)) -> Vec<u8> {
    let mut c = Capture::new();
    f(&mut c);
    c.into_bytes()
}

fn dnp3(steps: Vec<Step>) -> Vec<u8> {
    cap(|c| dnp3_session(c, MASTER, OUTSTATION, &steps))
}

/// A session that selects and operates once, then operates `index` again: without a
/// select (`reselect` false) or after selecting it again.
fn operate_again(reselect: bool) -> Vec<u8> {
    let mut steps = select_operate(5, 0, true);
    if reselect {
        steps.extend([Step::Master(3, crob(6, 0)), Step::Answer(crob(6, 0))]);
    }
    steps.extend([Step::Master(4, crob(6, 0)), Step::Answer(crob(6, 0))]);
    dnp3(steps)
}

/// A select accepted, then (`operated`) its operate or nothing, and a poll 11 s later.
fn select_then_poll(operated: bool) -> Vec<u8> {
    let mut steps = select_operate(5, 0, operated);
    steps.extend([Step::Wait(11_000), Step::Master(1, vec![0x3C, 0x01, 0x06]), Step::Answer(Vec::new())]);
    dnp3(steps)
}

/// The master polls the outstation; (`rogue`) another address then polls it too.
fn masters(rogue: bool) -> Vec<u8> {
    cap(|c| {
        let poll = || vec![Step::Master(1, vec![0x3C, 0x01, 0x06]), Step::Answer(Vec::new())];
        dnp3_session(c, MASTER, OUTSTATION, &poll());
        let second = if rogue { ROGUE } else { MASTER };
        dnp3_session(c, second, OUTSTATION, &poll());
    })
}

pub(crate) const CASES: &[Case] = &[
    // The PLC's answer through a router already forwarding for two other addresses; the
    // near miss: through a MAC that forwards for nobody else (session_changed raises it).
    ("network.sender.second_path", || cap(|c| second_path(c, HMI, PLC, true)), || cap(|c| second_path(c, HMI, PLC, false))),
    // Twenty unit ids, none answered; the near miss: three, answered.
    ("modbus.scan.unit_ids_addressed", || cap(|c| unit_sweep(c, HMI, PLC, 20, None)), || cap(|c| unit_sweep(c, HMI, PLC, 3, Some(true)))),
    // A select refused as not supported (4); the near miss accepted (0).
    ("dnp3.control.failed", || dnp3(select_operate(5, 4, true)), || dnp3(select_operate(5, 0, true))),
    ("dnp3.select.not_operated", || select_then_poll(false), || select_then_poll(true)),
    ("dnp3.operate.without_select", || operate_again(false), || operate_again(true)),
    ("dnp3.master.second", || masters(true), || masters(false)),
];
