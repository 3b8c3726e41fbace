//! Is this S7? TPKT (version 3) carrying COTP. Connection requests and confirms are
//! skipped (other ISO protocols such as MMS share them); the first data TPDU decides:
//! protocol id 0x32 is S7comm, 0x72 S7comm-plus, anything else is not S7.
use crate::TPKT_LEN;
use otsentry_core::{Direction, ProbeResult};

const COTP_CR: u8 = 0xE0;
const COTP_CC: u8 = 0xD0;
const COTP_DT: u8 = 0xF0;

pub fn probe(data: &[u8]) -> ProbeResult {
    let mut rest = data;
    // The direction a connection request or confirm gave, if one came first.
    let mut setup_dir = None;
    loop {
        match rest.first() {
            None => return ProbeResult::NeedMore,
            Some(3) => {}
            Some(_) => return ProbeResult::NoMatch,
        }
        if rest.get(1).is_some_and(|&r| r != 0) {
            return ProbeResult::NoMatch;
        }
        let (Some(&hi), Some(&lo), Some(&li), Some(&kind)) = (rest.get(2), rest.get(3), rest.get(4), rest.get(5)) else {
            return ProbeResult::NeedMore;
        };
        let len = usize::from(u16::from_be_bytes([hi, lo]));
        let cotp_end = TPKT_LEN + 1 + usize::from(li);
        if len < TPKT_LEN + 3 || cotp_end > len {
            return ProbeResult::NoMatch;
        }
        match kind & 0xF0 {
            COTP_CR | COTP_CC => {
                setup_dir = Some(if kind & 0xF0 == COTP_CR { Direction::ToServer } else { Direction::ToClient });
                match rest.get(len..) {
                    Some(next) => rest = next,
                    None => return ProbeResult::NeedMore,
                }
            }
            COTP_DT => {
                let Some(payload) = rest.get(cotp_end..len.min(rest.len())) else {
                    return ProbeResult::NeedMore;
                };
                return match payload.first() {
                    None if rest.len() < len => ProbeResult::NeedMore,
                    Some(0x32) => s7comm(payload, setup_dir),
                    Some(0x72) => s7plus(payload, setup_dir),
                    _ => ProbeResult::NoMatch,
                };
            }
            _ => return ProbeResult::NoMatch,
        }
    }
}

fn s7comm(pdu: &[u8], setup_dir: Option<Direction>) -> ProbeResult {
    let dir = match pdu.get(1) {
        Some(1) => Some(Direction::ToServer),     // job
        Some(2 | 3) => Some(Direction::ToClient), // ack, ack-data
        // User data: the parameter's type nibble says request (4) or response (8).
        Some(7) => match pdu.get(10 + 5).map(|t| t >> 4) {
            Some(4) => Some(Direction::ToServer),
            Some(8) => Some(Direction::ToClient),
            _ => None,
        },
        Some(_) => return ProbeResult::NoMatch,
        None => None,
    };
    ProbeResult::Match { proto: crate::S7COMM, dir: dir.or(setup_dir) }
}

fn s7plus(pdu: &[u8], setup_dir: Option<Direction>) -> ProbeResult {
    // Header: 0x72, version, length (2); then the opcode.
    let dir = match pdu.get(4) {
        Some(0x31) => Some(Direction::ToServer),        // request
        Some(0x32 | 0x33) => Some(Direction::ToClient), // response, notification
        _ => None,
    };
    ProbeResult::Match { proto: crate::S7COMM_PLUS, dir: dir.or(setup_dir) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// TPKT + COTP DT + an S7comm setup-communication job.
    const SETUP_JOB: [u8; 25] = [
        0x03, 0x00, 0x00, 0x19, // TPKT: version 3, length 25
        0x02, 0xF0, 0x80, // COTP: length 2, DT, EOT + TPDU 0
        0x32, 0x01, // S7comm, ROSCTR job
        0x00, 0x00, 0x00, 0x01, // reserved, PDU reference 1
        0x00, 0x08, 0x00, 0x00, // parameter length 8, data length 0
        0xF0, 0x00, 0x00, 0x01, 0x00, 0x01, 0x01, 0xE0, // setup communication, AmQ 1/1, PDU 480
    ];
    /// TPKT + COTP connection request with TSAPs 0x0100 / 0x0102.
    const CONNECT: [u8; 22] = [
        0x03, 0x00, 0x00, 0x16, // TPKT, length 22
        0x11, 0xE0, 0x00, 0x00, 0x00, 0x01, 0x00, // COTP CR, dst ref 0, src ref 1, class 0
        0xC1, 0x02, 0x01, 0x00, // calling TSAP
        0xC2, 0x02, 0x01, 0x02, // called TSAP: rack 0, slot 2
        0xC0, 0x01, 0x0A, // TPDU size 1024
    ];

    #[test]
    fn a_job_is_s7comm_to_the_server() {
        assert_eq!(probe(&SETUP_JOB), ProbeResult::Match { proto: crate::S7COMM, dir: Some(Direction::ToServer) });
        let mut ack = SETUP_JOB;
        ack[8] = 3;
        assert_eq!(probe(&ack), ProbeResult::Match { proto: crate::S7COMM, dir: Some(Direction::ToClient) });
    }

    #[test]
    fn a_connection_request_waits_for_data_then_gives_the_direction() {
        assert_eq!(probe(&CONNECT), ProbeResult::NeedMore);
        let mut both = CONNECT.to_vec();
        let mut plus = SETUP_JOB;
        plus[7] = 0x72; // S7comm-plus header: version 1 ...
        plus[11] = 0x00; // ... opcode byte unknown: direction from the CR
        both.extend_from_slice(&plus);
        assert_eq!(probe(&both), ProbeResult::Match { proto: crate::S7COMM_PLUS, dir: Some(Direction::ToServer) });
    }

    #[test]
    fn prefixes_need_more_and_other_iso_payloads_do_not_match() {
        for n in 0..8 {
            assert_eq!(probe(&SETUP_JOB[..n]), ProbeResult::NeedMore, "prefix {n}");
        }
        let mut mms = SETUP_JOB;
        mms[7] = 0x01; // ISO session layer (MMS) rather than S7
        assert_eq!(probe(&mms), ProbeResult::NoMatch);
        assert_eq!(probe(b"\x16\x03\x01\x00\x10"), ProbeResult::NoMatch); // TLS
        let mut bad_len = SETUP_JOB;
        bad_len[3] = 5;
        assert_eq!(probe(&bad_len), ProbeResult::NoMatch);
    }
}
