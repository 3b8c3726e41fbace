//! Traffic for the detections and false positives of the trust work: a routed second
//! path, unit-id sweeps, DNP3 select-before-operate and control failures, a second DNP3
//! master, padded and forged Modbus framing. Each writes into a [`Capture`], so rule
//! cases take one and the `trust` fixture strings them together.
use crate::ot::{dnp3_frame, modbus_adu};
use crate::packet::{with_ttl, TcpConversation};
use crate::session::{dnp3_request, dnp3_response, sa, Capture};

pub const HMI_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];
pub const PLC_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x02];
pub const ROUTER_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0xFE];

/// An HMI's Modbus session with a PLC (TTL 64) whose later answer arrives through
/// `ROUTER_MAC` with TTL 63; `router_forwards`: the router has first opened sessions for
/// two other addresses (so it is known to forward).
pub fn second_path(c: &mut Capture, hmi: &str, plc: &str, router_forwards: bool) {
    if router_forwards {
        for far in ["10.7.0.1:40000", "10.7.0.2:40001"] {
            let mut t = TcpConversation::new(sa(far), sa("10.0.0.9:80"));
            let syn = t.handshake().into_iter().next().unwrap_or_default();
            c.ip_macs(ROUTER_MAC, HMI_MAC, &with_ttl(&syn, 62));
        }
    }
    let mut t = TcpConversation::new(sa(hmi), sa(plc));
    let [syn, syn_ack, ack] = <[Vec<u8>; 3]>::try_from(t.handshake()).unwrap_or_default();
    c.ip_macs(HMI_MAC, PLC_MAC, &syn);
    c.ip_macs(PLC_MAC, HMI_MAC, &syn_ack);
    c.ip_macs(HMI_MAC, PLC_MAC, &ack);
    for tid in 1..=2u16 {
        let q = t.client_sends(&modbus_adu(tid, 1, &[0x03, 0, 0, 0, 1]));
        let a = t.server_sends(&modbus_adu(tid, 1, &[0x03, 2, 0, 7]));
        c.ip_macs(HMI_MAC, PLC_MAC, &q);
        match tid {
            1 => c.ip_macs(PLC_MAC, HMI_MAC, &a),
            _ => c.ip_macs(ROUTER_MAC, HMI_MAC, &with_ttl(&a, 63)),
        }
    }
}

/// One connection reading a register from unit ids 1..=`units`; answered normally,
/// with exception 4, or not at all.
pub fn unit_sweep(c: &mut Capture, client: &str, server: &str, units: u8, answer: Option<bool>) {
    let mut conn = c.connect(client, server);
    for unit in 1..=units {
        let tid = u16::from(unit);
        c.client(&mut conn, &modbus_adu(tid, unit, &[0x03, 0, 0, 0, 1]));
        match answer {
            Some(true) => c.server(&mut conn, &modbus_adu(tid, unit, &[0x03, 2, 0, 7])),
            Some(false) => c.server(&mut conn, &modbus_adu(tid, unit, &[0x83, 0x04])),
            None => {}
        }
    }
}

/// A CROB (group 12 variation 1, one object with a 2-byte index): latch on `index`, with
/// `status` (0 in requests).
pub fn crob(index: u16, status: u8) -> Vec<u8> {
    let mut v = vec![0x0C, 0x01, 0x28, 0x01, 0x00]; // g12v1, qualifier 0x28, count 1
    v.extend_from_slice(&index.to_le_bytes());
    v.extend_from_slice(&[0x03, 0x01]); // latch on, count 1
    v.extend_from_slice(&[0; 8]); // on and off times
    v.push(status);
    v
}

/// One step of a DNP3 session.
pub enum Step {
    /// A master request: function and objects.
    Master(u8, Vec<u8>),
    /// The outstation's response (function 129) with these objects.
    Answer(Vec<u8>),
    /// Time passes (milliseconds).
    Wait(u64),
}

/// A DNP3 session over TCP between `master` and `outstation` (link addresses 1 and 10).
pub fn dnp3_session(c: &mut Capture, master: &str, outstation: &str, steps: &[Step]) {
    let mut conn = c.connect(master, outstation);
    for step in steps {
        dnp3_step(c, &mut conn, step);
    }
}

/// One step on an open DNP3 connection (sessions interleaved with other traffic).
pub fn dnp3_step(c: &mut Capture, conn: &mut crate::packet::TcpConversation, step: &Step) {
    match step {
        Step::Master(function, objects) => c.client(conn, &dnp3_frame(0xC4, 10, 1, &dnp3_request(*function, objects))),
        Step::Answer(objects) => c.server(conn, &dnp3_frame(0x44, 1, 10, &dnp3_response(0x81, [0, 0], objects))),
        Step::Wait(ms) => c.wait(*ms),
    }
}

/// A select of `crob(index)` answered with `status`, then (`operate`) its operate.
pub fn select_operate(index: u16, status: u8, operate: bool) -> Vec<Step> {
    let mut steps = vec![Step::Master(3, crob(index, 0)), Step::Answer(crob(index, status))];
    if operate {
        steps.extend([Step::Master(4, crob(index, 0)), Step::Answer(crob(index, 0))]);
    }
    steps
}

/// A Modbus request whose length field claims `claimed` bytes after it (unit id
/// included) though the PDU is `pdu`: the rest is `hidden` and then zeros.
pub fn forged_adu(transaction: u16, pdu: &[u8], hidden: &[u8], claimed: u16) -> Vec<u8> {
    let mut v = transaction.to_be_bytes().to_vec();
    v.extend_from_slice(&[0, 0]);
    v.extend_from_slice(&claimed.to_be_bytes());
    v.push(1);
    v.extend_from_slice(pdu);
    v.extend_from_slice(hidden);
    v.resize(6 + usize::from(claimed), 0);
    v
}

/// The `trust` fixture: each new detection once, each false positive fixed at its cause
/// once, and framing that tries to hide a request.
pub fn fixture() -> Vec<u8> {
    use crate::ot::{s7_plc_stop, tpkt_cotp};
    use crate::session::{s7plus_delete, s7plus_request, s7plus_response};
    let mut c = Capture::new();
    // A UMAS stop padded to the 261-byte ADU Modicon devices use, as a connection's first
    // request (was skipped as pdu_too_long).
    let mut padded = vec![0x5A, 0x00, 0x41];
    padded.resize(254, 0);
    let mut conn = c.connect("10.30.9.9:50000", "10.30.0.2:502");
    c.client(&mut conn, &modbus_adu(1, 1, &padded));
    // A read whose length field also covers a UMAS stop.
    let mut conn = c.connect("10.30.9.9:50001", "10.30.0.2:502");
    c.client(&mut conn, &forged_adu(2, &[0x03, 0, 0, 0, 1], &modbus_adu(3, 1, &[0x5A, 0x00, 0x41]), 40));
    // An S7 read whose TPKT length also covers a PLC stop.
    let read = tpkt_cotp(&crate::ot::s7_pdu(1, 2, &[0x04, 0x01, 0x12, 0x0A, 0x10, 0x02, 0x00, 0x01, 0x00, 0x01, 0x84, 0, 0, 0], &[]));
    let mut forged = read;
    forged.extend_from_slice(&s7_plc_stop(3));
    let total = u16::try_from(forged.len()).unwrap_or(0).to_be_bytes();
    forged[2..4].copy_from_slice(&total);
    let mut conn = c.connect("10.30.9.9:50002", "10.30.0.4:102");
    c.client(&mut conn, &forged);
    // An HMI's S7comm-plus session, closed by deleting its own session object: info at most.
    let mut plus = c.connect("10.30.1.10:50003", "10.30.0.4:102");
    for (request, answer) in
        [(s7plus_request(0x04CA, 1), s7plus_response(0x04CA, 1)), (s7plus_delete(0x120, 0x120, 2), s7plus_response(0x04D4, 2))]
    {
        c.client(&mut plus, &tpkt_cotp(&request));
        c.server(&mut plus, &tpkt_cotp(&answer));
    }
    // The PLC's answers reaching the HMI through a router: info, not a changed sender.
    second_path(&mut c, "10.30.1.10:50004", "10.30.0.2:502", true);
    // A function code sweep the PLC refuses: one sweep alert naming the codes.
    let mut sweep = c.connect("10.30.9.9:50005", "10.30.0.2:502");
    for (tid, f) in [40u8, 41, 42, 125, 126].into_iter().enumerate() {
        c.client(&mut sweep, &modbus_adu(tid as u16, 1, &[f, 0, 0]));
        c.server(&mut sweep, &modbus_adu(tid as u16, 1, &[f | 0x80, 0x01]));
    }
    // A unit id walk nobody answers.
    unit_sweep(&mut c, "10.30.9.9:50006", "10.30.0.2:502", 20, None);
    // DNP3: a select refused, a select never operated, an operate without its select.
    let mut steps = select_operate(7, 4, false);
    steps.extend(select_operate(8, 0, false));
    steps.extend([Step::Wait(11_000), Step::Master(1, vec![0x3C, 0x01, 0x06]), Step::Answer(Vec::new())]);
    steps.extend([Step::Master(4, crob(9, 0)), Step::Answer(crob(9, 2))]);
    dnp3_session(&mut c, "10.30.3.1:50007", "10.30.0.3:20000", &steps);
    // A second master toward the same outstation.
    dnp3_session(&mut c, "10.30.9.9:50008", "10.30.0.3:20000", &[Step::Master(1, vec![0x3C, 0x01, 0x06]), Step::Answer(Vec::new())]);
    c.into_bytes()
}
