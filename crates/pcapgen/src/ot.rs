//! OT application payloads, byte by byte, for fixtures and tests.

/// A Modbus/TCP ADU: MBAP header (length computed) and PDU.
pub fn modbus_adu(transaction: u16, unit: u8, pdu: &[u8]) -> Vec<u8> {
    let mut a = Vec::with_capacity(7 + pdu.len());
    a.extend_from_slice(&transaction.to_be_bytes());
    a.extend_from_slice(&0u16.to_be_bytes()); // protocol id: Modbus
    a.extend_from_slice(&(pdu.len() as u16 + 1).to_be_bytes());
    a.push(unit);
    a.extend_from_slice(pdu);
    a
}

/// DNP3 link-layer CRC (polynomial 0x3D65, reflected, complemented).
pub fn dnp3_crc(data: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &b in data {
        crc ^= u16::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xa6bc } else { crc >> 1 };
        }
    }
    !crc
}

/// A DNP3 link frame: header with CRC, then user data in CRC-protected 16-byte blocks.
pub fn dnp3_frame(control: u8, destination: u16, source: u16, user_data: &[u8]) -> Vec<u8> {
    let mut f = vec![0x05, 0x64, (5 + user_data.len()) as u8, control];
    f.extend_from_slice(&destination.to_le_bytes());
    f.extend_from_slice(&source.to_le_bytes());
    let crc = dnp3_crc(&f);
    f.extend_from_slice(&crc.to_le_bytes());
    for block in user_data.chunks(16) {
        f.extend_from_slice(block);
        f.extend_from_slice(&dnp3_crc(block).to_le_bytes());
    }
    f
}

/// TPKT + COTP data (DT) around an S7comm PDU.
pub fn tpkt_cotp(s7: &[u8]) -> Vec<u8> {
    let mut t = vec![0x03, 0x00];
    t.extend_from_slice(&((4 + 3 + s7.len()) as u16).to_be_bytes());
    t.extend_from_slice(&[0x02, 0xf0, 0x80]); // COTP DT, last data unit
    t.extend_from_slice(s7);
    t
}

/// An S7comm header (protocol id 0x32) with parameter and data.
pub fn s7_pdu(rosctr: u8, pdu_ref: u16, param: &[u8], data: &[u8]) -> Vec<u8> {
    let mut p = vec![0x32, rosctr, 0, 0];
    p.extend_from_slice(&pdu_ref.to_be_bytes());
    p.extend_from_slice(&(param.len() as u16).to_be_bytes());
    p.extend_from_slice(&(data.len() as u16).to_be_bytes());
    if rosctr == 2 || rosctr == 3 {
        p.extend_from_slice(&[0, 0]); // error class, error code
    }
    p.extend_from_slice(param);
    p.extend_from_slice(data);
    p
}

/// S7comm job 0x29 "PLC stop" with the P_PROGRAM service name.
pub fn s7_plc_stop(pdu_ref: u16) -> Vec<u8> {
    let mut param = vec![0x29, 0, 0, 0, 0, 0, 9];
    param.extend_from_slice(b"P_PROGRAM");
    tpkt_cotp(&s7_pdu(1, pdu_ref, &param, &[]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dnp3_crc_matches_a_known_frame() {
        // Link header of a write request (ctrl 0xC4, dst 1, src 100), CRC CD 12 as sent
        // on the wire by a real outstation master (Zeek's dnp3_udp_write trace).
        assert_eq!(dnp3_crc(&[0x05, 0x64, 0x0e, 0xc4, 0x01, 0x00, 0x64, 0x00]).to_le_bytes(), [0xcd, 0x12]);
    }
}
