//! A small plant's routine traffic and the attacks a new user expects caught without a
//! variables file: an HMI polling a Modbus PLC and writing a setpoint now and then, an
//! HMI polling an S7 PLC and writing a data block, a DNP3 master polling an outstation
//! and operating a relay with select-before-operate; then, from hosts that never polled,
//! register writes, a write flood, S7 flag writes and DNP3 operates from a second master.
use crate::ot::{modbus_adu, s7_pdu};
use crate::session::{s7_write_byte, Capture};
use crate::trust::{crob, dnp3_session, dnp3_step, select_operate, Step};

pub const HMI: &str = "10.40.1.10";
pub const PLC: &str = "10.40.0.2";
pub const S7_HMI: &str = "10.40.1.11";
pub const S7_PLC: &str = "10.40.0.4";
pub const MASTER: &str = "10.40.3.1";
pub const OUTSTATION: &str = "10.40.0.3";
pub const INTRUDER: &str = "10.40.9.9";

/// The cases, by name: `routine` alone, each attack after it, and `attacker-first`.
pub const CASES: &[&str] = &["routine", "register-writes", "write-flood", "s7-flag-writes", "second-master", "attacker-first"];

/// `seconds` of routine traffic, one poll a second on each protocol.
pub fn routine(c: &mut Capture, seconds: u16) {
    let mut modbus = c.connect(&format!("{HMI}:49152"), &format!("{PLC}:502"));
    let mut s7 = c.connect(&format!("{S7_HMI}:49153"), &format!("{S7_PLC}:102"));
    let mut dnp3 = c.connect(&format!("{MASTER}:49200"), &format!("{OUTSTATION}:20000"));
    for t in 0..seconds {
        c.client(&mut modbus, &modbus_adu(t, 1, &[0x03, 0, 0, 0, 10]));
        let mut answer = vec![0x03, 20];
        answer.extend((0..20u8).map(|i| i.wrapping_add(t as u8)));
        c.server(&mut modbus, &modbus_adu(t, 1, &answer));
        let read = s7_pdu(1, t, &[0x04, 0x01, 0x12, 0x0A, 0x10, 0x02, 0x00, 0x04, 0x00, 0x01, 0x84, 0, 0, 0], &[]);
        c.client(&mut s7, &crate::ot::tpkt_cotp(&read));
        c.server(&mut s7, &crate::ot::tpkt_cotp(&s7_pdu(3, t, &[0x04, 0x01], &[0xFF, 0x04, 0x00, 0x20, 1, 2, 3, 4])));
        if t % 15 == 14 {
            // The operator's setpoint, and the recipe byte the S7 HMI writes.
            c.client(&mut modbus, &modbus_adu(1000 + t, 1, &[0x06, 0x00, 0x10, 0x00, 0x2A]));
            c.server(&mut modbus, &modbus_adu(1000 + t, 1, &[0x06, 0x00, 0x10, 0x00, 0x2A]));
            c.client(&mut s7, &crate::ot::tpkt_cotp(&s7_write_byte(2000 + t, 0x84, 1, 10, 7)));
            c.server(&mut s7, &crate::ot::tpkt_cotp(&s7_pdu(3, 2000 + t, &[0x05, 0x01], &[0xFF])));
        }
        let mut steps = vec![Step::Master(1, vec![0x3C, 0x02, 0x06]), Step::Answer(Vec::new())];
        if t % 15 == 14 {
            steps.extend(select_operate(3, 0, true));
        }
        for step in &steps {
            dnp3_step(c, &mut dnp3, step);
        }
        c.wait(950);
    }
}

fn attack(c: &mut Capture, name: &str) {
    let modbus_writes = |c: &mut Capture, values: &[u16]| {
        let mut conn = c.connect(&format!("{INTRUDER}:50000"), &format!("{PLC}:502"));
        for (i, v) in values.iter().enumerate() {
            let mut pdu = vec![0x06, 0x00, 0x10];
            pdu.extend_from_slice(&v.to_be_bytes());
            c.client(&mut conn, &modbus_adu(i as u16, 1, &pdu));
            c.server(&mut conn, &modbus_adu(i as u16, 1, &pdu));
        }
    };
    match name {
        "register-writes" => modbus_writes(c, &[0, 65535]),
        "write-flood" => modbus_writes(c, &(0..2000u16).collect::<Vec<_>>()),
        "s7-flag-writes" => {
            let mut conn = c.connect(&format!("{INTRUDER}:50001"), &format!("{S7_PLC}:102"));
            for (i, byte) in [0u32, 1, 2].into_iter().enumerate() {
                // Area 0x83: memory flags (M), as an emergency stop bit is.
                c.client(&mut conn, &crate::ot::tpkt_cotp(&s7_write_byte(i as u16, 0x83, 0, byte, 0xFF)));
            }
        }
        "second-master" => {
            let steps = [Step::Master(5, crob(3, 0)), Step::Answer(crob(3, 0)), Step::Master(5, crob(4, 0)), Step::Answer(crob(4, 0))];
            dnp3_session(c, &format!("{INTRUDER}:50002"), &format!("{OUTSTATION}:20000"), &steps);
        }
        _ => {}
    }
}

/// The capture of case `name`.
pub fn build(name: &str) -> Vec<u8> {
    let mut c = Capture::new();
    match name {
        "attacker-first" => {
            attack(&mut c, "register-writes");
            routine(&mut c, 40);
        }
        "routine" => routine(&mut c, 40),
        other => {
            routine(&mut c, 40);
            attack(&mut c, other);
        }
    }
    c.into_bytes()
}
