//! The `network` fixture: what an on-path attacker and a scanner look like below the OT
//! protocols, beside the ordinary traffic that resembles them. Raised: ARP spoofing of
//! the PLC's address, a relayed Modbus session (each segment sent on by the attacker's
//! MAC), a port scan and a host scan. Not raised: a DHCP client probing and announcing
//! its address, a retransmission from the HMI's own MAC, an HMI polling 30 PLCs.
use crate::ot::modbus_adu;
use crate::packet::{arp, with_ttl, TcpConversation};
use crate::session::{sa, Capture};
use std::net::Ipv4Addr;

const HMI_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x10];
const PLC_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x20];
const DHCP_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x30];
const ROGUE_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x66];

const HMI: &str = "10.20.1.10";
const PLC: &str = "10.20.2.2";

fn v4(s: &str) -> Ipv4Addr {
    s.parse().unwrap_or(Ipv4Addr::UNSPECIFIED)
}

/// A read of ten holding registers and its answer.
fn poll(tid: u16) -> (Vec<u8>, Vec<u8>) {
    let mut answer = vec![0x03, 20];
    answer.extend((0..20u8).map(|i| i.wrapping_add(tid as u8)));
    (modbus_adu(tid, 1, &[0x03, 0x00, 0x00, 0x00, 0x0a]), modbus_adu(tid, 1, &answer))
}

/// A TCP session between two MACs: the client's packets from `cmac`, the server's
/// from `smac`, each side with its own TTL.
struct Wire {
    cmac: [u8; 6],
    smac: [u8; 6],
    cttl: u8,
    sttl: u8,
}

impl Wire {
    fn client(&self, c: &mut Capture, p: &[u8]) {
        c.ip_macs(self.cmac, self.smac, &with_ttl(p, self.cttl));
    }
    fn server(&self, c: &mut Capture, p: &[u8]) {
        c.ip_macs(self.smac, self.cmac, &with_ttl(p, self.sttl));
    }
    fn handshake(&self, c: &mut Capture, t: &mut TcpConversation) {
        let [syn, syn_ack, ack] = <[Vec<u8>; 3]>::try_from(t.handshake()).unwrap_or_default();
        self.client(c, &syn);
        self.server(c, &syn_ack);
        self.client(c, &ack);
    }
}

pub fn network() -> Vec<u8> {
    let mut c = Capture::new();
    let wire = Wire { cmac: HMI_MAC, smac: PLC_MAC, cttl: 128, sttl: 64 };

    // The PLC answers the HMI's ARP request; the HMI polls it.
    c.frame(&arp(1, HMI_MAC, v4(HMI), [0; 6], v4(PLC)));
    c.frame(&arp(2, PLC_MAC, v4(PLC), HMI_MAC, v4(HMI)));
    let mut s = TcpConversation::new(sa(&format!("{HMI}:49500")), sa(&format!("{PLC}:502")));
    wire.handshake(&mut c, &mut s);
    for tid in 1..=2 {
        let (q, a) = poll(tid);
        wire.client(&mut c, &s.client_sends(&q));
        wire.server(&mut c, &s.server_sends(&a));
    }
    // Not a relay: the HMI retransmits a request from its own MAC.
    let (q, a) = poll(3);
    let request = s.client_sends(&q);
    wire.client(&mut c, &request);
    c.wait(200);
    wire.client(&mut c, &request);
    wire.server(&mut c, &s.server_sends(&a));

    // Not spoofing: a DHCP client probes for its new address, then announces it twice.
    let leased = v4("10.20.2.50");
    c.frame(&arp(1, DHCP_MAC, Ipv4Addr::UNSPECIFIED, [0; 6], leased));
    c.wait(1000);
    c.frame(&arp(1, DHCP_MAC, leased, [0; 6], leased));
    c.wait(2000);
    c.frame(&arp(1, DHCP_MAC, leased, [0; 6], leased));

    // The attacker claims the PLC's address to the HMI seconds after the PLC did, and
    // the HMI's own to the PLC ...
    c.wait(3000);
    c.frame(&arp(2, ROGUE_MAC, v4(PLC), HMI_MAC, v4(HMI)));
    c.frame(&arp(2, ROGUE_MAC, v4(HMI), PLC_MAC, v4(PLC)));
    // ... then relays the session: each segment arrives at its MAC and leaves from it.
    for tid in 4..=5 {
        let (q, a) = poll(tid);
        let q = with_ttl(&s.client_sends(&q), 128);
        c.ip_macs(HMI_MAC, ROGUE_MAC, &q);
        c.ip_macs(ROGUE_MAC, PLC_MAC, &q);
        let a = with_ttl(&s.server_sends(&a), 64);
        c.ip_macs(PLC_MAC, ROGUE_MAC, &a);
        c.ip_macs(ROGUE_MAC, HMI_MAC, &a);
    }

    // A port scan: 25 closed ports of the PLC answer the scanner's SYNs with resets.
    c.wait(5000);
    for port in 1..=25u16 {
        let mut t = TcpConversation::new(sa(&format!("10.20.9.9:{}", 40000 + port)), sa(&format!("{PLC}:{port}")));
        let probe = Wire { cmac: ROGUE_MAC, smac: PLC_MAC, cttl: 64, sttl: 64 };
        let [syn, ..] = <[Vec<u8>; 3]>::try_from(t.handshake()).unwrap_or_default();
        probe.client(&mut c, &syn);
        probe.server(&mut c, &t.reset_from_server());
    }
    // A host scan: port 502 of 25 hosts, each handshake abandoned with a reset.
    for host in 100..125u8 {
        let mut t = TcpConversation::new(sa(&format!("10.20.9.9:{}", 41000 + u16::from(host))), sa(&format!("10.20.3.{host}:502")));
        let probe = Wire { cmac: ROGUE_MAC, smac: [0x02, 0, 0, 0, 3, host], cttl: 64, sttl: 64 };
        let [syn, syn_ack, _] = <[Vec<u8>; 3]>::try_from(t.handshake()).unwrap_or_default();
        probe.client(&mut c, &syn);
        probe.server(&mut c, &syn_ack);
        probe.client(&mut c, &t.reset_from_client());
    }

    // Not a scan: an HMI that polls 30 PLCs, every handshake completed.
    c.wait(5000);
    for plc in 1..=30u8 {
        let mut t = TcpConversation::new(sa(&format!("10.20.1.11:{}", 50000 + u16::from(plc))), sa(&format!("10.20.4.{plc}:502")));
        let busy = Wire { cmac: [0x02, 0, 0, 0, 0, 0x11], smac: [0x02, 0, 0, 0, 4, plc], cttl: 128, sttl: 64 };
        busy.handshake(&mut c, &mut t);
        let (q, a) = poll(u16::from(plc));
        busy.client(&mut c, &t.client_sends(&q));
        busy.server(&mut c, &t.server_sends(&a));
    }
    c.into_bytes()
}
