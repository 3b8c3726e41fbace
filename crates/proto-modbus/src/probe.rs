//! Is this Modbus/TCP? Strict enough to run on every port: the first ADU must frame
//! exactly (protocol id 0, a length the spec allows, a public function code) and the
//! bytes after it, if any, must start another MBAP header.
use crate::{MAX_ADU, MAX_LENIENT_ADU, MBAP_LEN};
use otsentry_core::{Direction, ProbeResult};

/// Public function codes (and UMAS, 90) that a probe accepts as evidence.
fn is_public_function(code: u8) -> bool {
    matches!(code, 1..=8 | 11 | 12 | 15..=17 | 20..=24 | 43 | 90)
}

fn be16(data: &[u8], at: usize) -> Option<usize> {
    Some(usize::from(u16::from_be_bytes([*data.get(at)?, *data.get(at + 1)?])))
}

pub fn probe(data: &[u8]) -> ProbeResult {
    probe_with(data, MAX_ADU, is_public_function)
}

/// The probe for a port configured for Modbus: any function code, so a first request
/// with an unusual one (a scanner's, a firmware replacement) is still dissected, and any
/// length a device takes, so an oversized first request cannot pass unseen.
pub fn probe_framing(data: &[u8]) -> ProbeResult {
    probe_with(data, MAX_LENIENT_ADU, |_| true)
}

fn probe_with(data: &[u8], max_adu: usize, is_public_function: impl Fn(u8) -> bool) -> ProbeResult {
    if be16(data, 2).is_some_and(|id| id != 0) {
        return ProbeResult::NoMatch;
    }
    let (Some(len), Some(&func)) = (be16(data, 4), data.get(7)) else {
        return ProbeResult::NeedMore;
    };
    // `len` counts the unit id and the PDU: at least a function code.
    if !(2..=max_adu - 6).contains(&len) || !is_public_function(func & 0x7F) {
        return ProbeResult::NoMatch;
    }
    let end = 6 + len;
    if data.len() < end {
        return ProbeResult::NeedMore;
    }
    if data.len() >= end + 4 && be16(data, end + 2) != Some(0) {
        return ProbeResult::NoMatch;
    }
    let pdu = data.get(MBAP_LEN..end).unwrap_or_default();
    ProbeResult::Match { proto: crate::MODBUS, dir: direction(pdu) }
}

/// Whether a PDU has the shape of a request or of a response, where they differ.
fn direction(pdu: &[u8]) -> Option<Direction> {
    let (req, resp) = (Some(Direction::ToServer), Some(Direction::ToClient));
    let &func = pdu.first()?;
    if func & 0x80 != 0 {
        return if pdu.len() == 2 { resp } else { None };
    }
    let byte_count = pdu.get(1).map(|&b| usize::from(b));
    match func {
        // Request: address and quantity. Response: a byte count and that many bytes.
        1..=4 => match (pdu.len(), byte_count) {
            (5, Some(4)) => None, // both shapes fit
            (5, _) => req,
            (n, Some(bc)) if n == 2 + bc => resp,
            _ => None,
        },
        // Request: address, quantity, byte count, values. Response: address, quantity.
        15 | 16 => match (pdu.len(), pdu.get(5)) {
            (5, _) => resp,
            (n, Some(&bc)) if n == 6 + usize::from(bc) => req,
            _ => None,
        },
        // Read device identification: a 4-byte request, a longer response.
        43 => match pdu.len() {
            4 => req,
            n if n > 4 => resp,
            _ => None,
        },
        // UMAS: responses carry 0xFE (ok) or 0xFD (error) after the session byte.
        90 => match pdu.get(2) {
            Some(0xFE | 0xFD) => resp,
            Some(_) => req,
            None => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_a_modbus_port_any_function_frames() {
        let firmware = [0x00, 0x01, 0x00, 0x00, 0x00, 0x03, 0x01, 0x7D, 0x00]; // function 125
        assert_eq!(probe(&firmware), ProbeResult::NoMatch);
        assert!(matches!(probe_framing(&firmware), ProbeResult::Match { proto, .. } if proto == crate::MODBUS));
        assert_eq!(probe_framing(&[0x00, 0x01, 0x00, 0x07, 0x00, 0x03, 0x01, 0x7D, 0x00]), ProbeResult::NoMatch, "protocol id 7");
    }

    const READ_HOLDING_REQ: [u8; 12] = [
        0x00, 0x01, // transaction id
        0x00, 0x00, // protocol id: Modbus
        0x00, 0x06, // length: unit + 5 PDU bytes
        0x11, // unit id
        0x03, // function: read holding registers
        0x00, 0x6B, // start address 107
        0x00, 0x03, // quantity 3
    ];
    const READ_HOLDING_RESP: [u8; 15] = [
        0x00, 0x01, // transaction id
        0x00, 0x00, // protocol id
        0x00, 0x09, // length: unit + 8 PDU bytes
        0x11, // unit id
        0x03, // function
        0x06, // byte count: 3 registers
        0x02, 0x2B, 0x00, 0x00, 0x00, 0x64, // register values
    ];

    fn dir(data: &[u8]) -> Option<Direction> {
        match probe(data) {
            ProbeResult::Match { proto, dir } if proto == crate::MODBUS => dir,
            other => panic!("no match: {other:?}"),
        }
    }

    #[test]
    fn requests_and_responses_are_told_apart() {
        assert_eq!(dir(&READ_HOLDING_REQ), Some(Direction::ToServer));
        assert_eq!(dir(&READ_HOLDING_RESP), Some(Direction::ToClient));
        // Exception response: function | 0x80, exception code 2.
        assert_eq!(dir(&[0, 1, 0, 0, 0, 3, 1, 0x83, 0x02]), Some(Direction::ToClient));
        // Write multiple registers request: 2 registers, byte count 4.
        let wr = [0, 2, 0, 0, 0, 0x0B, 1, 0x10, 0, 1, 0, 2, 4, 0, 10, 1, 2];
        assert_eq!(dir(&wr), Some(Direction::ToServer));
        assert_eq!(dir(&[0, 2, 0, 0, 0, 6, 1, 0x10, 0, 1, 0, 2]), Some(Direction::ToClient));
        // UMAS read PLC info request and its 0xFE response.
        assert_eq!(dir(&[0, 3, 0, 0, 0, 4, 0, 0x5A, 0x00, 0x04]), Some(Direction::ToServer));
        assert_eq!(dir(&[0, 3, 0, 0, 0, 5, 0, 0x5A, 0x00, 0xFE, 0x01]), Some(Direction::ToClient));
        // Write single register: request and echo look alike.
        assert_eq!(dir(&[0, 4, 0, 0, 0, 6, 1, 6, 0, 1, 0, 3]), None);
    }

    #[test]
    fn two_adus_in_one_segment_match() {
        let mut both = READ_HOLDING_REQ.to_vec();
        both.extend_from_slice(&READ_HOLDING_REQ);
        assert_eq!(dir(&both), Some(Direction::ToServer));
    }

    #[test]
    fn every_prefix_asks_for_more_or_matches() {
        for n in 0..READ_HOLDING_REQ.len() {
            assert_eq!(probe(&READ_HOLDING_REQ[..n]), ProbeResult::NeedMore, "prefix {n}");
        }
    }

    #[test]
    fn other_protocols_do_not_match() {
        assert_eq!(probe(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"), ProbeResult::NoMatch);
        // Protocol id 1.
        assert_eq!(probe(&[0, 1, 0, 1, 0, 6, 1, 3, 0, 0, 0, 1]), ProbeResult::NoMatch);
        // Length 0 and length beyond the ADU cap.
        assert_eq!(probe(&[0, 1, 0, 0, 0, 0, 1, 3]), ProbeResult::NoMatch);
        assert_eq!(probe(&[0, 1, 0, 0, 1, 0, 1, 3]), ProbeResult::NoMatch);
        // User-defined function 100 is not evidence.
        assert_eq!(probe(&[0, 1, 0, 0, 0, 2, 1, 100]), ProbeResult::NoMatch);
        // A good ADU followed by bytes that are not an MBAP header.
        let mut tail = READ_HOLDING_REQ.to_vec();
        tail.extend_from_slice(&[0xDE, 0xAD, 0xBE, 0xEF]);
        assert_eq!(probe(&tail), ProbeResult::NoMatch);
    }
}
