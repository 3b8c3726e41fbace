//! OT conversations in time order, for rule tests and fixtures: a Modbus, DNP3 or S7
//! exchange is a few calls, each frame 10 ms after the last.
use crate::ot::{dnp3_frame, modbus_adu, s7_pdu, tpkt_cotp};
use crate::packet::{ethernet, ip_udp, TcpConversation, CLIENT_MAC, ETH_IPV4, ETH_IPV6, SERVER_MAC};
use crate::writer::PcapWriter;
use std::net::SocketAddr;

/// 2026-01-15T08:00:00Z.
pub const T0: u64 = 1_768_464_000_000_000_000;
pub const MS: u64 = 1_000_000;

/// An Ethernet pcap written frame by frame.
pub struct Capture {
    w: PcapWriter,
    pub t: u64,
    pub vlan: Vec<u16>,
}

impl Default for Capture {
    fn default() -> Self {
        Capture { w: PcapWriter::with_options(1, 65_535, true, false), t: T0, vlan: Vec::new() }
    }
}

/// A socket address from text (tests write literals).
pub fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)))
}

impl Capture {
    pub fn new() -> Self {
        Capture::default()
    }

    /// One IP packet in an Ethernet frame, 10 ms after the previous one.
    pub fn ip(&mut self, ip: &[u8]) {
        let ethertype = if ip.first().map(|b| b >> 4) == Some(6) { ETH_IPV6 } else { ETH_IPV4 };
        let frame = ethernet(SERVER_MAC, CLIENT_MAC, &self.vlan, ethertype, ip);
        self.w.packet(self.t, &frame);
        self.t += 10 * MS;
    }

    /// One IP packet from `src` to `dst` MAC (a relay, a spoofed sender).
    pub fn ip_macs(&mut self, src: [u8; 6], dst: [u8; 6], ip: &[u8]) {
        let ethertype = if ip.first().map(|b| b >> 4) == Some(6) { ETH_IPV6 } else { ETH_IPV4 };
        let frame = ethernet(dst, src, &self.vlan, ethertype, ip);
        self.frame(&frame);
    }

    /// A whole link-layer frame, 10 ms after the previous one.
    pub fn frame(&mut self, frame: &[u8]) {
        self.w.packet(self.t, frame);
        self.t += 10 * MS;
    }

    /// Let `ms` milliseconds pass.
    pub fn wait(&mut self, ms: u64) {
        self.t += ms * MS;
    }

    /// A TCP connection, its handshake written.
    pub fn connect(&mut self, client: &str, server: &str) -> TcpConversation {
        let mut c = TcpConversation::new(sa(client), sa(server));
        for p in c.handshake() {
            self.ip(&p);
        }
        c
    }

    pub fn client(&mut self, c: &mut TcpConversation, payload: &[u8]) {
        let p = c.client_sends(payload);
        self.ip(&p);
    }

    pub fn server(&mut self, c: &mut TcpConversation, payload: &[u8]) {
        let p = c.server_sends(payload);
        self.ip(&p);
    }

    pub fn udp(&mut self, src: &str, dst: &str, payload: &[u8]) {
        let p = ip_udp(sa(src), sa(dst), payload);
        self.ip(&p);
    }

    /// Modbus requests (PDUs) from `client` to `server`, each with its response PDU if
    /// one is given; transaction ids count from 1, unit 1.
    pub fn modbus(&mut self, client: &str, server: &str, exchanges: &[(&[u8], Option<&[u8]>)]) {
        let mut c = self.connect(client, server);
        for (i, (req, resp)) in exchanges.iter().enumerate() {
            let tid = i as u16 + 1;
            self.client(&mut c, &modbus_adu(tid, 1, req));
            if let Some(r) = resp {
                self.server(&mut c, &modbus_adu(tid, 1, r));
            }
        }
    }

    /// DNP3 over TCP: each item is (sent by the master, link destination, link source,
    /// transport and application bytes).
    pub fn dnp3(&mut self, master: &str, outstation: &str, frames: &[(bool, u16, u16, Vec<u8>)]) {
        let mut c = self.connect(master, outstation);
        for (from_master, dst, src, user) in frames {
            // DIR and PRM set from the master; PRM alone from the outstation; unconfirmed data.
            let control = if *from_master { 0xC4 } else { 0x44 };
            let f = dnp3_frame(control, *dst, *src, user);
            if *from_master {
                self.client(&mut c, &f);
            } else {
                self.server(&mut c, &f);
            }
        }
    }

    /// S7 PDUs on one connection: (sent by the client, S7 PDU bytes).
    pub fn s7(&mut self, client: &str, plc: &str, pdus: &[(bool, Vec<u8>)]) {
        let mut c = self.connect(client, plc);
        for (from_client, pdu) in pdus {
            let t = tpkt_cotp(pdu);
            if *from_client {
                self.client(&mut c, &t);
            } else {
                self.server(&mut c, &t);
            }
        }
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.w.into_bytes()
    }
}

/// A DNP3 request fragment: transport FIR|FIN, application FIR|FIN, function, objects.
pub fn dnp3_request(function: u8, objects: &[u8]) -> Vec<u8> {
    let mut v = vec![0xC0, 0xC0, function];
    v.extend_from_slice(objects);
    v
}

/// A DNP3 response fragment with its IIN bytes (IIN1, IIN2).
pub fn dnp3_response(function: u8, iin: [u8; 2], objects: &[u8]) -> Vec<u8> {
    let mut v = vec![0xC0, 0xC0, function, iin[0], iin[1]];
    v.extend_from_slice(objects);
    v
}

/// An S7 job PDU.
pub fn s7_job(pdu_ref: u16, param: &[u8], data: &[u8]) -> Vec<u8> {
    s7_pdu(1, pdu_ref, param, data)
}

/// An S7 ack-data PDU (no error).
pub fn s7_ack_data(pdu_ref: u16, param: &[u8], data: &[u8]) -> Vec<u8> {
    s7_pdu(3, pdu_ref, param, data)
}

/// An S7 user data request of `group` and `subfunction` with its data body.
pub fn s7_userdata_request(pdu_ref: u16, group: u8, subfunction: u8, body: &[u8]) -> Vec<u8> {
    // Head 00 01 12, parameter length 4, method request, type request | group, sub, sequence 0.
    let param = [0x00, 0x01, 0x12, 0x04, 0x11, 0x40 | group, subfunction, 0x00];
    let mut data = vec![0xFF, 0x09]; // success, octet string
    data.extend_from_slice(&(body.len() as u16).to_be_bytes());
    data.extend_from_slice(body);
    s7_pdu(7, pdu_ref, &param, &data)
}

/// A PI service job (function 0x28) with its parameter block and service name.
pub fn s7_pi_service(pdu_ref: u16, block: &[u8], service: &[u8]) -> Vec<u8> {
    let mut param = vec![0x28, 0, 0, 0, 0, 0, 0, 0xFD];
    param.extend_from_slice(&(block.len() as u16).to_be_bytes());
    param.extend_from_slice(block);
    param.push(service.len() as u8);
    param.extend_from_slice(service);
    s7_job(pdu_ref, &param, &[])
}

/// A write var job of one byte to `area` (0x82 outputs, 0x83 flags, 0x84 DB) at byte `address`.
pub fn s7_write_byte(pdu_ref: u16, area: u8, db: u16, address: u32, value: u8) -> Vec<u8> {
    let bit = address * 8;
    let mut param = vec![0x05, 0x01, 0x12, 0x0A, 0x10, 0x02, 0x00, 0x01];
    param.extend_from_slice(&db.to_be_bytes());
    param.push(area);
    param.extend_from_slice(&bit.to_be_bytes()[1..]);
    // Return code reserved, transport size byte (bit length follows), 8 bits, the value.
    s7_job(pdu_ref, &param, &[0x00, 0x04, 0x00, 0x08, value])
}

/// A read var job of 4 bytes from DB `db` at byte 10.
pub fn s7_read_db(pdu_ref: u16, db: u16) -> Vec<u8> {
    let mut param = vec![0x04, 0x01, 0x12, 0x0A, 0x10, 0x02, 0x00, 0x04];
    param.extend_from_slice(&db.to_be_bytes());
    param.extend_from_slice(&[0x84, 0x00, 0x00, 0x50]);
    s7_job(pdu_ref, &param, &[])
}

/// A block transfer job (0x1A request download, 0x1D start upload) naming `file`.
pub fn s7_block_job(pdu_ref: u16, function: u8, file: &[u8]) -> Vec<u8> {
    let mut param = vec![function, 0x00, 0x01, 0x00, 0, 0, 0, 0, file.len() as u8];
    param.extend_from_slice(file);
    if function == 0x1A {
        param.push(13);
        param.extend_from_slice(b"1000064000032");
    }
    s7_job(pdu_ref, &param, &[])
}

/// An S7comm-plus V2 DeleteObject request in `session` for `object`: a client closing
/// its session deletes the session's own object.
pub fn s7plus_delete(session: u32, object: u32, sequence: u16) -> Vec<u8> {
    let mut v = vec![0x72, 0x02, 0x00, 0x17, 0x31, 0x00, 0x00, 0x04, 0xD4, 0x00, 0x00];
    v.extend_from_slice(&sequence.to_be_bytes());
    v.extend_from_slice(&session.to_be_bytes());
    v.push(0x34); // transport flags
    v.extend_from_slice(&object.to_be_bytes());
    v.extend_from_slice(&[0x00, 0x00, 0x00, 0x00]);
    v
}

/// An S7comm-plus V2 response to `function` (return value 0).
pub fn s7plus_response(function: u16, sequence: u16) -> Vec<u8> {
    let mut v = vec![0x72, 0x02, 0x00, 0x0A, 0x32, 0x00, 0x00];
    v.extend_from_slice(&function.to_be_bytes());
    v.extend_from_slice(&[0x00, 0x00]);
    v.extend_from_slice(&sequence.to_be_bytes());
    v.push(0x00);
    v
}

/// An S7comm-plus V1 request of `function`, as the payload of a COTP data TPDU.
pub fn s7plus_request(function: u16, sequence: u16) -> Vec<u8> {
    let mut v = vec![0x72, 0x01, 0x00, 0x10, 0x31, 0x00, 0x00];
    v.extend_from_slice(&function.to_be_bytes());
    v.extend_from_slice(&[0x00, 0x00]);
    v.extend_from_slice(&sequence.to_be_bytes());
    v.extend_from_slice(&[0x00, 0x00, 0x01, 0x20]);
    v
}
