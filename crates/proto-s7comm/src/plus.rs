//! S7comm-plus (protocol id 0x72): header, integrity part, opcode, function code,
//! sequence number and session id. Framing and identification only; the payload stays
//! opaque.
use crate::names::{plus_function_name, plus_opcode_name};
use otsentry_core::{detail, Detail};
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PlusPdu {
    pub version: u8,
    pub data_length: u16,
    /// Whether the PDU carries an integrity part (a 32-byte digest in V3).
    pub integrity: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opcode: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opcode_name: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function_name: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sequence: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<u32>,
    /// DeleteObject requests: the object deleted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_id: Option<u32>,
    /// DeleteObject requests: whether the object is the session itself (a client closing
    /// its session, not a deletion on the PLC).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_close: Option<bool>,
}

/// DeleteObject (0x04D4).
const DELETE_OBJECT: u16 = 0x04D4;

/// Parse the start of a data TPDU whose payload begins with 0x72. `Err`: the header is
/// not all there.
pub fn parse(b: &[u8]) -> Result<PlusPdu, Detail> {
    let &[0x72, version, l0, l1, ref rest @ ..] = b else {
        return Err(detail!("S7comm-plus header needs 4 bytes, {} present", b.len()));
    };
    let mut p = PlusPdu {
        version,
        data_length: u16::from_be_bytes([l0, l1]),
        integrity: false,
        opcode: None,
        opcode_name: None,
        function: None,
        function_name: None,
        sequence: None,
        session_id: None,
        object_id: None,
        session_close: None,
    };
    // V3 puts a digest (length 0x20, then 32 bytes) before the data.
    let body = match rest {
        [0x20, digest @ ..] if version == 3 && digest.len() >= 32 => {
            p.integrity = true;
            digest.get(32..).unwrap_or_default()
        }
        _ => rest,
    };
    // A continuation TPDU (no opcode byte) or the trailer (length 0) ends here.
    if p.data_length == 0 {
        return Ok(p);
    }
    if let Some(&op) = body.first() {
        p.opcode = Some(op);
        p.opcode_name = Some(plus_opcode_name(op));
        // Requests and responses: opcode, reserved (2), function (2), reserved (2),
        // sequence (2); requests then carry the session id.
        if let (0x31 | 0x32, &[_, _, _, f0, f1, _, _, s0, s1, ref after @ ..]) = (op, body) {
            let function = u16::from_be_bytes([f0, f1]);
            p.function = Some(function);
            p.function_name = Some(plus_function_name(function));
            p.sequence = Some(u16::from_be_bytes([s0, s1]));
            if let (0x31, &[a, c, d, e, ref request @ ..]) = (op, after) {
                let session = u32::from_be_bytes([a, c, d, e]);
                p.session_id = Some(session);
                // A DeleteObject request: transport flags, then the object's id (4 bytes).
                if let (DELETE_OBJECT, &[_flags, o0, o1, o2, o3, ..]) = (function, request) {
                    let object = u32::from_be_bytes([o0, o1, o2, o3]);
                    p.object_id = Some(object);
                    p.session_close = Some(object == session);
                }
            }
        }
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_request_and_v3_with_digest() {
        let v1 = [
            0x72, 0x01, 0x00, 0xCA, // S7comm-plus V1, data length 202
            0x31, // request
            0x00, 0x00, // reserved
            0x04, 0xCA, // create object
            0x00, 0x00, // reserved
            0x00, 0x01, // sequence 1
            0x00, 0x00, 0x01, 0x20, // session id 0x120
        ];
        let p = parse(&v1).unwrap();
        assert_eq!(
            (p.version, p.integrity, p.function_name, p.sequence, p.session_id),
            (1, false, Some("create_object"), Some(1), Some(0x120))
        );
        let mut v3 = vec![0x72, 0x03, 0x00, 0x59, 0x20];
        v3.extend([0xAB; 32]); // digest
        v3.extend([0x31, 0x00, 0x00, 0x04, 0xF2, 0x00, 0x00, 0x83, 0x1A]); // request: set variable, sequence 0x831A
        let p = parse(&v3).unwrap();
        assert_eq!((p.integrity, p.opcode_name, p.function, p.sequence), (true, Some("request"), Some(0x04F2), Some(0x831A)));
        assert!(parse(&[0x72, 0x01]).is_err());
    }

    #[test]
    fn delete_object_names_the_object_and_whether_it_is_the_session() {
        let close = [
            0x72, 0x02, 0x00, 0x2E, // S7comm-plus V2, data length 46
            0x31, // request
            0x00, 0x00, // reserved
            0x04, 0xD4, // delete object
            0x00, 0x00, // reserved
            0x00, 0x2B, // sequence 43
            0x00, 0x00, 0x03, 0xC0, // session id 0x3C0
            0x34, // transport flags
            0x00, 0x00, 0x03, 0xC0, // object id: the session itself
            0x00, 0x00, 0x00, 0x00, // (what follows is not read)
        ];
        let p = parse(&close).unwrap();
        assert_eq!(
            (p.function_name, p.session_id, p.object_id, p.session_close),
            (Some("delete_object"), Some(0x3C0), Some(0x3C0), Some(true))
        );
        let mut other = close;
        other[18..22].copy_from_slice(&[0x00, 0x01, 0x00, 0x2A]); // object id 0x1002A
        let p = parse(&other).unwrap();
        assert_eq!((p.object_id, p.session_close), (Some(0x1002A), Some(false)));
        // Cut before the object id: nothing is claimed about it.
        let p = parse(&close[..20]).unwrap();
        assert_eq!((p.object_id, p.session_close), (None, None));
        // A response carries no session id and no object.
        let mut response = close;
        response[4] = 0x32;
        let p = parse(&response).unwrap();
        assert_eq!((p.session_id, p.object_id), (None, None));
    }
}
