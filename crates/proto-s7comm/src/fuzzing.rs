//! The fuzz harnesses, shared by the cargo-fuzz targets and the corpus replay test.

use crate::cotp::{tpkt, Tpdu, Tpkt};
use crate::{S7Config, S7Dissector};
use otsentry_core::harness::{conversation, SerializingSink};

/// The whole stack: feed `data` to one flow's dissector in chunks. Each chunk's first byte
/// picks the direction (bit 0), a gap before it (bit 1) and its length (bits 2.., at most
/// 63). Returns the S7comm and S7comm-plus PDUs seen.
pub fn run(data: &[u8]) -> (u64, u64) {
    let mut d = S7Dissector::new(S7Config { max_pdu: 2048, max_open_jobs: 16 });
    let mut sink = SerializingSink::default();
    conversation(&mut d, data, false, 4096, &mut sink);
    let pdus = |name| sink.counts.get(name).map_or(0, |s| s.count("pdus"));
    (pdus("s7comm"), pdus("s7comm_plus"))
}

/// TPKT and COTP alone: scan `data` for TPKTs, parse each TPDU and its connection
/// parameters. Returns the TPDUs that parsed.
pub fn tpkt_layer(data: &[u8]) -> usize {
    let mut tpdus = 0;
    let mut rest = data;
    while !rest.is_empty() {
        let advance = match tpkt(rest) {
            Tpkt::Packet { len, tpdu } => {
                assert!(len >= crate::cotp::MIN_TPKT && len <= rest.len() && tpdu.len() == len - crate::TPKT_LEN);
                if let Ok(t) = Tpdu::parse(tpdu) {
                    tpdus += 1;
                    let _ = (t.eot(), t.number(), t.connection().map(|c| c.called_tsap.and_then(crate::cotp::rack_slot)));
                }
                len
            }
            Tpkt::NeedMore => break,
            Tpkt::Bad(_) => 1,
        };
        rest = rest.get(advance..).unwrap_or_default();
    }
    tpdus
}

/// One S7 PDU alone (S7comm or S7comm-plus): header, parameter and data decoded as both a
/// job and an ack-data, or as user data. Returns whether it parsed.
pub fn pdu(data: &[u8]) -> bool {
    if data.first() == Some(&0x72) {
        return crate::plus::parse(data).map(|p| serde_json::to_vec(&p)).is_ok();
    }
    let Ok((p, mut issues)) = crate::s7::parse(data) else { return false };
    let function = p.param.first().copied().unwrap_or(0);
    for request in [true, false] {
        let f = crate::s7::facts(function, request, p.param, p.data, &mut issues);
        let _ = serde_json::to_vec(&f);
    }
    for continued in [false, true] {
        let u = crate::userdata::parse(p.param, p.data, continued, &mut issues);
        let _ = serde_json::to_vec(&u);
    }
    true
}
