//! A large synthetic control network for benchmarks and memory tests: thousands of
//! long-lived Modbus, DNP3 and S7comm sessions polling once a second with small
//! packets, as SCADA masters and HMIs do.
use crate::ot::*;
use crate::packet::*;
use crate::writer::PcapWriter;
use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

#[derive(Clone, Copy, Debug)]
pub struct Plant {
    pub modbus_sessions: u32,
    pub dnp3_sessions: u32,
    pub s7_sessions: u32,
    /// Stop after this many packets (handshakes included).
    pub packets: u64,
}

impl Default for Plant {
    fn default() -> Self {
        Plant { modbus_sessions: 2000, dnp3_sessions: 1200, s7_sessions: 800, packets: 1_000_000 }
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Modbus,
    Dnp3,
    S7,
}

struct Session {
    kind: Kind,
    conn: TcpConversation,
    polls: u32,
    vlan: u16,
}

/// 2026-02-01T00:00:00Z.
const START_NS: u64 = 1_769_904_000_000_000_000;
const SECOND: u64 = 1_000_000_000;

fn addr(net: u8, i: u32, port: u16) -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, net, (i / 250) as u8, (i % 250 + 1) as u8)), port)
}

/// Write the plant's traffic as an Ethernet pcap to `out`; returns the packets written.
pub fn write_plant(plant: &Plant, out: &mut impl Write) -> io::Result<u64> {
    let mut sessions = Vec::new();
    let kinds = [(Kind::Modbus, plant.modbus_sessions, 502), (Kind::Dnp3, plant.dnp3_sessions, 20000), (Kind::S7, plant.s7_sessions, 102)];
    for (kind, n, port) in kinds {
        for i in 0..n {
            let idx = sessions.len() as u32;
            // Masters and HMIs on 10.1/16; each session its own outstation or PLC on 10.2/16.
            let client = addr(1, idx % 40, 30_000 + (idx / 40) as u16);
            let server = addr(2, idx, port);
            sessions.push(Session { kind, conn: TcpConversation::new(client, server), polls: i, vlan: 100 + (idx % 8) as u16 });
        }
    }
    let mut w = PcapWriter::with_options(1, 65_535, true, false);
    let mut written = 0u64;
    let mut ts = START_NS;
    let budget = plant.packets;
    let mut emit = |w: &mut PcapWriter, ts: u64, vlan: u16, ip: &[u8], out: &mut dyn Write| -> io::Result<bool> {
        if written >= budget {
            return Ok(false);
        }
        w.packet(ts, &ethernet(SERVER_MAC, CLIENT_MAC, &[vlan], ETH_IPV4, ip));
        written += 1;
        if written.is_multiple_of(4096) {
            w.flush_to(out)?;
        }
        Ok(true)
    };
    for s in &mut sessions {
        for p in s.conn.handshake() {
            emit(&mut w, ts, s.vlan, &p, out)?;
            ts += 50_000;
        }
    }
    // Every session polls once a second, spread evenly over the second.
    let gap = SECOND / sessions.len().max(1) as u64;
    'run: loop {
        for s in &mut sessions {
            let (req, resp) = poll(s.kind, s.polls);
            s.polls = s.polls.wrapping_add(1);
            let (q, r) = (s.conn.client_sends(&req), s.conn.server_sends(&resp));
            if !emit(&mut w, ts, s.vlan, &q, out)? || !emit(&mut w, ts + gap / 3, s.vlan, &r, out)? {
                break 'run;
            }
            // A delayed ACK from the client every fourth poll.
            if s.polls.is_multiple_of(4) && !emit(&mut w, ts + gap / 2, s.vlan, &s.conn.client_acks(), out)? {
                break 'run;
            }
            ts += gap;
        }
    }
    w.flush_to(out)?;
    Ok(written)
}

/// One request and its response.
fn poll(kind: Kind, n: u32) -> (Vec<u8>, Vec<u8>) {
    let tid = n as u16;
    match kind {
        Kind::Modbus if n % 10 == 9 => {
            // Write single register, echoed.
            let w = modbus_adu(tid, 1, &[0x06, 0x00, 0x20, (n >> 8) as u8, n as u8]);
            (w.clone(), w)
        }
        Kind::Modbus => {
            // Read 10 holding registers.
            let mut resp = vec![0x03, 20];
            resp.extend((0..20u8).map(|i| i.wrapping_add(n as u8)));
            (modbus_adu(tid, 1, &[0x03, 0x00, 0x00, 0x00, 0x0A]), modbus_adu(tid, 1, &resp))
        }
        Kind::Dnp3 => {
            let seq = (n & 0x0F) as u8;
            // Class 0 read (g60v1, all objects), and a response with 4 analog inputs (g30v2).
            let req = dnp3_frame(0xC4, 10, 1, &[0xC0 | (seq & 0x3F), 0xC0 | seq, 0x01, 0x3C, 0x01, 0x06]);
            let mut app = vec![0xC0 | (seq & 0x3F), 0xC0 | seq, 0x81, 0x00, 0x00, 0x1E, 0x02, 0x00, 0x00, 0x03];
            for i in 0..4u8 {
                app.extend_from_slice(&[0x01, i.wrapping_add(n as u8), 0x00]);
            }
            (req, dnp3_frame(0x44, 1, 10, &app))
        }
        Kind::S7 => {
            // Read var: one item, DB1.DBW16 (S7ANY, word, 1, DB 1, area 0x84, address 16*8).
            let item = [0x12, 0x0A, 0x10, 0x04, 0x00, 0x01, 0x00, 0x01, 0x84, 0x00, 0x00, 0x80];
            let mut param = vec![0x04, 0x01];
            param.extend_from_slice(&item);
            let req = tpkt_cotp(&s7_pdu(1, tid, &param, &[]));
            let resp = tpkt_cotp(&s7_pdu(3, tid, &[0x04, 0x01], &[0xFF, 0x04, 0x00, 0x10, (n >> 8) as u8, n as u8]));
            (req, resp)
        }
    }
}

/// A flood for memory tests: `flows` distinct TCP connection attempts (one SYN each,
/// all alive at once), then `ooo_flows` connections that each send `ooo_segments`
/// 1000-byte segments with the first one missing, so everything they send must be held
/// out of order. Checksums are left zero: the test decodes without verifying them.
#[derive(Clone, Copy, Debug)]
pub struct Flood {
    pub flows: u32,
    pub ooo_flows: u32,
    pub ooo_segments: u32,
}

pub fn write_flood(f: &Flood, out: &mut impl Write) -> io::Result<u64> {
    let mut w = PcapWriter::with_options(1, 65_535, true, false);
    let mut written = 0u64;
    let mut ts = START_NS;
    let mut frame = |w: &mut PcapWriter, src: [u8; 4], sport: u16, seq: u32, flags: u8, payload: &[u8]| -> io::Result<()> {
        let mut p = Vec::with_capacity(54 + payload.len());
        p.extend_from_slice(&SERVER_MAC);
        p.extend_from_slice(&CLIENT_MAC);
        p.extend_from_slice(&ETH_IPV4.to_be_bytes());
        let total = (40 + payload.len()) as u16;
        p.extend_from_slice(&[0x45, 0, (total >> 8) as u8, total as u8, 0, 1, 0x40, 0, 64, PROTO_TCP, 0, 0]);
        p.extend_from_slice(&src);
        p.extend_from_slice(&[10, 200, 0, 1]);
        p.extend_from_slice(&sport.to_be_bytes());
        p.extend_from_slice(&502u16.to_be_bytes());
        p.extend_from_slice(&seq.to_be_bytes());
        p.extend_from_slice(&0u32.to_be_bytes());
        p.extend_from_slice(&[0x50, flags, 0x20, 0x00, 0, 0, 0, 0]);
        p.extend_from_slice(payload);
        w.packet(ts, &p);
        ts += 1_000;
        written += 1;
        if written.is_multiple_of(4096) {
            w.flush_to(out)?;
        }
        Ok(())
    };
    for i in 0..f.flows {
        let src = [10, (i >> 16) as u8, (i >> 8) as u8, i as u8];
        frame(&mut w, src, 1024 + (i % 50_000) as u16, i, SYN, &[])?;
    }
    let data = [0x5Au8; 1000];
    for i in 0..f.ooo_flows {
        let src = [172, 16, (i >> 8) as u8, i as u8];
        frame(&mut w, src, 40_000, 0, SYN, &[])?;
        // Segment 0 never comes; 1.. are all ahead of the hole.
        for k in 1..=f.ooo_segments {
            frame(&mut w, src, 40_000, 1 + k * 1000, PSH | ACK, &data)?;
        }
    }
    w.flush_to(out)?;
    Ok(written)
}
