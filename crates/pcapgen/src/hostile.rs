//! Hostile floods for the memory budget's tests: each leaves state behind in every flow
//! or source it touches, then (half-way) an S7 PLC stop and (at the end) a DNP3 cold
//! restart, which must still alert. Packets are 1 µs apart, so no state times out.
use crate::ot::{dnp3_frame, modbus_adu, s7_plc_stop};
use crate::packet::{ethernet, ip_udp, TcpConversation, CLIENT_MAC, ETH_IPV4, SERVER_MAC};
use crate::session::dnp3_request;
use crate::writer::PcapWriter;
use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// What each flow or source of the flood leaves behind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hostile {
    /// UDP DNP3 flows, each the first transport segment of a fragment that never ends.
    Dnp3Fragments,
    /// TCP connections, each with out-of-order segments ahead of holes never filled.
    TcpGaps,
    /// Modbus connections, each with one request never answered.
    ModbusUnanswered,
    /// Sources, each sending five undefined Modbus functions: a per-source threshold
    /// (`modbus.scan.function_codes`) trips once for each.
    SourceThresholds,
}

impl Hostile {
    pub const ALL: [Hostile; 4] = [Hostile::Dnp3Fragments, Hostile::TcpGaps, Hostile::ModbusUnanswered, Hostile::SourceThresholds];

    pub fn name(self) -> &'static str {
        match self {
            Hostile::Dnp3Fragments => "dnp3-fragments",
            Hostile::TcpGaps => "tcp-gaps",
            Hostile::ModbusUnanswered => "modbus-unanswered",
            Hostile::SourceThresholds => "source-thresholds",
        }
    }

    pub fn from_name(name: &str) -> Option<Hostile> {
        Hostile::ALL.into_iter().find(|h| h.name() == name)
    }

    /// The acceptance's size: a million DNP3 flows, a hundred thousand of the others.
    pub fn default_count(self) -> u32 {
        match self {
            Hostile::Dnp3Fragments => 1_000_000,
            _ => 100_000,
        }
    }
}

/// 2026-03-01T00:00:00Z.
const START_NS: u64 = 1_772_323_200_000_000_000;

struct Out<'w, W: Write> {
    w: PcapWriter,
    out: &'w mut W,
    ts: u64,
    written: u64,
}

impl<W: Write> Out<'_, W> {
    fn ip(&mut self, ip: &[u8]) -> io::Result<()> {
        let frame = ethernet(SERVER_MAC, CLIENT_MAC, &[], ETH_IPV4, ip);
        self.w.packet(self.ts, &frame);
        self.ts += 1_000;
        self.written += 1;
        if self.written.is_multiple_of(4096) {
            self.w.flush_to(self.out)?;
        }
        Ok(())
    }
}

/// Source `i` of a flood: 10.0.0.0/8 spread so that no two of 16 million collide.
fn source(i: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, (i >> 16) as u8, (i >> 8) as u8, i as u8))
}

/// Write a flood of `count` flows or sources; returns the packets written.
pub fn write_hostile(kind: Hostile, count: u32, out: &mut impl Write) -> io::Result<u64> {
    let mut o = Out { w: PcapWriter::with_options(1, 65_535, true, false), out, ts: START_NS, written: 0 };
    let outstation = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(192, 168, 50, 10)), 20000);
    let modbus = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(192, 168, 50, 20)), 502);
    for i in 0..count {
        if i == count / 2 {
            plc_stop(&mut o)?;
        }
        let port = 1024 + (i % 60_000) as u16;
        let client = SocketAddr::new(source(i), port);
        match kind {
            Hostile::Dnp3Fragments => {
                // Transport FIR without FIN (0x40): the application fragment continues
                // in a segment that never comes. Application: confirm requested, write.
                let user = [0x40, 0xC0, 0x02, 0x0A, 0x02, 0x00, 0x00, 0x00, 0x01];
                o.ip(&ip_udp(client, outstation, &dnp3_frame(0xC4, 10, (i % 65_000) as u16, &user)))?;
            }
            Hostile::TcpGaps => {
                let mut c = TcpConversation::new(client, modbus);
                for p in c.handshake() {
                    o.ip(&p)?;
                }
                // Three segments, each beyond a hole none of them fills.
                for k in 1..=3u32 {
                    o.ip(&c.client_at(k * 400, &[0x5A; 200]))?;
                }
            }
            Hostile::ModbusUnanswered => {
                let mut c = TcpConversation::new(client, modbus);
                for p in c.handshake() {
                    o.ip(&p)?;
                }
                o.ip(&c.client_sends(&modbus_adu(1, 1, &[0x03, 0x00, 0x00, 0x00, 0x0A])))?;
            }
            Hostile::SourceThresholds => {
                let mut c = TcpConversation::new(client, modbus);
                for p in c.handshake() {
                    o.ip(&p)?;
                }
                for (tid, function) in (91u8..96).enumerate() {
                    o.ip(&c.client_sends(&modbus_adu(tid as u16 + 1, 1, &[function])))?;
                }
            }
        }
    }
    cold_restart(&mut o)?;
    o.w.flush_to(o.out)?;
    Ok(o.written)
}

/// An engineering station stops a PLC (S7 job 0x29) on a connection of its own.
fn plc_stop<W: Write>(o: &mut Out<'_, W>) -> io::Result<()> {
    let eng = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(172, 31, 0, 5)), 50_501);
    let plc = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(192, 168, 50, 30)), 102);
    let mut c = TcpConversation::new(eng, plc);
    for p in c.handshake() {
        o.ip(&p)?;
    }
    o.ip(&c.client_sends(&s7_plc_stop(0x0100)))
}

/// A master tells an outstation to cold restart (function 13) over TCP.
fn cold_restart<W: Write>(o: &mut Out<'_, W>) -> io::Result<()> {
    let master = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(172, 31, 0, 6)), 20_001);
    let outstation = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(192, 168, 50, 11)), 20000);
    let mut c = TcpConversation::new(master, outstation);
    for p in c.handshake() {
        o.ip(&p)?;
    }
    o.ip(&c.client_sends(&dnp3_frame(0xC4, 10, 1, &dnp3_request(13, &[]))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floods_have_the_packets_they_promise() {
        for kind in Hostile::ALL {
            let mut bytes = Vec::new();
            let n = write_hostile(kind, 10, &mut bytes).unwrap();
            let per = match kind {
                Hostile::Dnp3Fragments => 1,
                Hostile::TcpGaps => 6,
                Hostile::ModbusUnanswered => 4,
                Hostile::SourceThresholds => 8,
            };
            // Plus the PLC stop (4) and the cold restart (4).
            assert_eq!(n, 10 * per + 8, "{}", kind.name());
            assert_eq!(Hostile::from_name(kind.name()), Some(kind));
        }
    }
}
