//! The `baseline` fixture: an hour of a small plant to learn from (`learn.pcap`), and
//! five minutes twelve hours later to check (`input.pcap`). Learned: an HMI polling a
//! Modbus PLC every 15 s (± 0.4 s) and writing setpoints 40-60 to register 16 once a
//! minute, reading the PLC's identity; an engineering station reading and writing DB5
//! of an S7 PLC; a SCADA master polling a DNP3 RTU every 30 s and setting its analog
//! output 0 to 100-200. Checked: the same, at another time of day, with values inside
//! the learned ranges and polls within the learned jitter (none raise anything); then
//! one of each departure.
use crate::ot::modbus_adu;
use crate::packet::TcpConversation;
use crate::session::*;

const HMI: &str = "10.30.1.10";
const SCADA: &str = "10.30.1.20";
const ENGINEERING: &str = "10.30.3.5:49500";
const PLC: &str = "10.30.2.10:502";
const S7_PLC: &str = "10.30.2.20:102";
const RTU: &str = "10.30.2.30:20000";
const STRANGER: &str = "10.30.9.9:50999";

const POLL: &[u8] = &[0x03, 0x00, 0x00, 0x00, 0x0A];
const IDENTIFY: &[u8] = &[0x2B, 0x0E, 0x01, 0x00];

fn answer() -> Vec<u8> {
    let mut a = vec![0x03, 20];
    a.extend((0..20u8).map(|i| i * 3));
    a
}

/// Write single register 16 := `value`.
pub fn setpoint(value: u16) -> Vec<u8> {
    let [hi, lo] = value.to_be_bytes();
    vec![0x06, 0x00, 0x10, hi, lo]
}

/// A read device identification answer: vendor, product code, revision `firmware`.
pub fn identity(firmware: &str) -> Vec<u8> {
    let mut v = vec![0x2B, 0x0E, 0x01, 0x01, 0x00, 0x00, 0x03];
    for (id, text) in [(0u8, "Acme Controls"), (1, "AC-500"), (2, firmware)] {
        v.extend([id, text.len() as u8]);
        v.extend(text.as_bytes());
    }
    v
}

/// DNP3 direct operate of analog output 0 (g41v2, 16-bit) to `value`.
fn analog_output(value: i16) -> Vec<u8> {
    let [lo, hi] = value.to_le_bytes();
    dnp3_request(0x05, &[0x29, 0x02, 0x17, 0x01, 0x00, lo, hi, 0x00])
}

/// The plant's three conversations, each on its one connection.
struct Plant {
    hmi: TcpConversation,
    tid: u16,
    eng: TcpConversation,
    pdu_ref: u16,
    scada: TcpConversation,
}

impl Plant {
    fn open(c: &mut Capture) -> Plant {
        let hmi = c.connect(&format!("{HMI}:49152"), PLC);
        let eng = c.connect(ENGINEERING, S7_PLC);
        let scada = c.connect(&format!("{SCADA}:49300"), RTU);
        Plant { hmi, tid: 0, eng, pdu_ref: 0, scada }
    }

    /// A Modbus request of the HMI, answered with `answer` if given.
    fn modbus(&mut self, c: &mut Capture, pdu: &[u8], answer: Option<&[u8]>) {
        self.tid = self.tid.wrapping_add(1);
        c.client(&mut self.hmi, &modbus_adu(self.tid, 1, pdu));
        if let Some(a) = answer {
            c.server(&mut self.hmi, &modbus_adu(self.tid, 1, a));
        }
    }

    fn poll(&mut self, c: &mut Capture) {
        self.modbus(c, POLL, Some(&answer()));
    }

    /// A read (4 bytes of DB5 from 10) or a write of `write`'s byte, and its ack.
    fn s7(&mut self, c: &mut Capture, write: Option<u8>) {
        self.pdu_ref = self.pdu_ref.wrapping_add(1);
        let r = self.pdu_ref;
        let (job, ack) = match write {
            Some(v) => (s7_write_byte(r, 0x84, 5, 10, v), s7_ack_data(r, &[0x05, 0x01], &[0xFF])),
            // Success, byte/word/dword transport, 32 bits, the value.
            None => (s7_read_db(r, 5), s7_ack_data(r, &[0x04, 0x01], &[0xFF, 0x04, 0x00, 0x20, 0, 0, 0, 7])),
        };
        c.client(&mut self.eng, &crate::ot::tpkt_cotp(&job));
        c.server(&mut self.eng, &crate::ot::tpkt_cotp(&ack));
    }

    fn dnp3(&mut self, c: &mut Capture, request: Vec<u8>) {
        c.client(&mut self.scada, &crate::ot::dnp3_frame(0xC4, 10, 1, &request));
        c.server(&mut self.scada, &crate::ot::dnp3_frame(0x44, 1, 10, &dnp3_response(0x81, [0, 0], &[])));
    }
}

/// One second of the plant's life at `second`: what is due then.
fn tick(c: &mut Capture, p: &mut Plant, second: u64, minute_writes: &mut dyn FnMut(u64) -> u16) {
    if second.is_multiple_of(15) {
        p.poll(c);
    }
    if second % 60 == 30 {
        let value = minute_writes(second / 60);
        let w = setpoint(value);
        p.modbus(c, &w, Some(&w));
    }
    if second.is_multiple_of(30) {
        p.dnp3(c, dnp3_request(0x01, &[0x3C, 0x01, 0x06]));
    }
    if second % 300 == 100 {
        let v = [1u8, 2, 3][(second / 300 % 3) as usize];
        p.s7(c, None);
        p.s7(c, Some(v));
        p.dnp3(c, analog_output(100 + (second / 300 % 11) as i16 * 10));
    }
}

/// Moves the clock to `second` after `start`, with the poll jitter (± 0.4 s) the
/// learning hour had.
fn at(c: &mut Capture, start: u64, second: u64) {
    let jitter = [0i64, 400, -300, 200, -400, 100][(second / 15 % 6) as usize];
    let t = start as i64 + second as i64 * 1_000_000_000 + jitter * 1_000_000;
    c.t = c.t.max(t as u64);
}

pub fn learn() -> Vec<u8> {
    let mut c = Capture::new();
    let mut p = Plant::open(&mut c);
    let id = identity("1.0");
    p.modbus(&mut c, IDENTIFY, Some(&id));
    let start = c.t;
    for second in 0..3600 {
        at(&mut c, start, second);
        // Setpoints 40-60, a different one each minute.
        tick(&mut c, &mut p, second, &mut |minute| 40 + (minute * 8 % 21) as u16);
    }
    c.into_bytes()
}

pub fn check() -> Vec<u8> {
    let mut c = Capture::new();
    // Twelve hours later: a known pair at a new time of day is no departure.
    c.t += 12 * 3600 * 1_000_000_000;
    let mut p = Plant::open(&mut c);
    let start = c.t;
    // Two quiet minutes: polls within the jitter, setpoints 45 and 58, the same identity.
    let mut values = [45u16, 58].into_iter();
    for second in 0..120 {
        at(&mut c, start, second);
        tick(&mut c, &mut p, second, &mut |_| values.next().unwrap_or(50));
    }
    let id = identity("1.0");
    p.modbus(&mut c, IDENTIFY, Some(&id));
    // One of each departure, a second apart.
    let mut second = 121;
    let mut next = |c: &mut Capture| {
        second += 1;
        at(c, start, second);
    };
    next(&mut c);
    p.modbus(&mut c, &setpoint(65535), None); // value: the HMI, outside 40-60
    next(&mut c);
    c.modbus(STRANGER, PLC, &[(&setpoint(65535), None)]); // new asset and pair; value (others' range)
    next(&mut c);
    p.modbus(&mut c, &[0x10, 0x00, 0x10, 0x00, 0x01, 0x02, 0x00, 0x32], None); // new function: 16
    next(&mut c);
    p.modbus(&mut c, &[0x03, 0x00, 0x64, 0x00, 0x0A], None); // range: read 100-109
    next(&mut c);
    p.modbus(&mut c, &[0x06, 0x01, 0xF4, 0x00, 0x01], None); // range: write 500
    next(&mut c);
    let changed = identity("2.0");
    p.modbus(&mut c, IDENTIFY, Some(&changed)); // identity: firmware 2.0
    next(&mut c);
    p.s7(&mut c, Some(99)); // value: DB5 byte 10, learned 1-3
    next(&mut c);
    p.dnp3(&mut c, analog_output(5000)); // value: analog output 0, learned 100-200
    next(&mut c);
    for _ in 0..150 {
        p.modbus(&mut c, POLL, None); // burst: 150 requests in 1.5 s
    }
    // The HMI falls silent; the SCADA master polls on for two minutes.
    let quiet_from = second + 10;
    for s in quiet_from..quiet_from + 120 {
        at(&mut c, start, s);
        if s.is_multiple_of(30) {
            p.dnp3(&mut c, dnp3_request(0x01, &[0x3C, 0x01, 0x06]));
        }
    }
    c.into_bytes()
}
