//! EVE lines in Suricata's layout, written straight into a batch: the common header by
//! hand (its fields are fixed and most are numbers and addresses), then `event_type`'s
//! object and the optional second object through their `Serialize` impls, which borrow
//! from the protocol structs. No intermediate tree, no per-record allocation.
use crate::json::{put_u64, to_vec, Error};
use otsentry_core::{EventHeader, Record};
use std::io::Write;
use std::net::IpAddr;

fn put_ip(out: &mut Vec<u8>, ip: &IpAddr) {
    out.push(b'"');
    match ip {
        IpAddr::V4(v4) => {
            for (i, octet) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    out.push(b'.');
                }
                put_u64(out, u64::from(octet));
            }
        }
        // Writing to a Vec cannot fail.
        IpAddr::V6(v6) => drop(write!(out, "{v6}")),
    }
    out.push(b'"');
}

/// `,"key":` (keys are our own identifiers: nothing to escape).
fn key(out: &mut Vec<u8>, k: &str) {
    out.extend_from_slice(b",\"");
    out.extend_from_slice(k.as_bytes());
    out.extend_from_slice(b"\":");
}

/// Writes the header; returns where its `pcap_filename` member lies, if it has one
/// (left out of the record's identity: the same capture under another name is the
/// same traffic).
fn header(out: &mut Vec<u8>, h: &EventHeader, event_type: &str) -> Result<Option<std::ops::Range<usize>>, Error> {
    out.extend_from_slice(b"{\"timestamp\":\"");
    let mut ts = [0u8; 32];
    match h.timestamp.write_rfc3339_micros(&mut ts) {
        Some(text) => out.extend_from_slice(text.as_bytes()),
        None => drop(write!(out, "{}", h.timestamp.rfc3339_micros())),
    }
    out.push(b'"');
    if let Some(id) = h.flow_id {
        key(out, "flow_id");
        put_u64(out, id);
    }
    if let Some(n) = h.pcap_cnt {
        key(out, "pcap_cnt");
        put_u64(out, n);
    }
    key(out, "event_type");
    to_vec(out, event_type)?;
    if !h.vlan.is_empty() {
        key(out, "vlan");
        out.push(b'[');
        for (i, v) in h.vlan.as_slice().iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            put_u64(out, u64::from(*v));
        }
        out.push(b']');
    }
    if let Some(ip) = &h.src_ip {
        key(out, "src_ip");
        put_ip(out, ip);
    }
    if let Some(p) = h.src_port {
        key(out, "src_port");
        put_u64(out, u64::from(p));
    }
    if let Some(ip) = &h.dest_ip {
        key(out, "dest_ip");
        put_ip(out, ip);
    }
    if let Some(p) = h.dest_port {
        key(out, "dest_port");
        put_u64(out, u64::from(p));
    }
    if let Some(proto) = h.proto {
        key(out, "proto");
        out.push(b'"');
        match proto.eve_name() {
            Some(name) => out.extend_from_slice(name.as_bytes()),
            None => put_u64(out, u64::from(proto.0)),
        }
        out.push(b'"');
    }
    if let Some(app) = h.app_proto {
        key(out, "app_proto");
        to_vec(out, app)?;
    }
    if let Some(cid) = &h.community_id {
        key(out, "community_id");
        to_vec(out, cid)?;
    }
    if let Some(name) = h.pcap_filename.as_deref() {
        let at = out.len();
        key(out, "pcap_filename");
        to_vec(out, name)?;
        return Ok(Some(at..out.len()));
    }
    Ok(None)
}

/// A record's identity: SipHash-1-3 (128 bits, fixed keys, so every build and sensor
/// computes the same) of the sensor's name and the record as written (but for its
/// capture's name), as an RFC 9562 version 8 UUID. The same record produced again (a
/// re-delivery, the same capture replayed by the same sensor) gets the same id.
fn event_id(host: &str, line: &[u8], skip: Option<std::ops::Range<usize>>) -> [u8; 16] {
    use siphasher::sip128::{Hasher128, SipHasher13};
    use std::hash::Hasher;
    let mut h = SipHasher13::new_with_keys(0x6f74_7365_6e74_7279, 0x6576_656e_745f_6964);
    h.write(host.as_bytes());
    h.write_u8(0xFF);
    match skip {
        Some(r) => {
            h.write(line.get(..r.start).unwrap_or_default());
            h.write(line.get(r.end..).unwrap_or_default());
        }
        None => h.write(line),
    }
    let mut id = h.finish128().as_bytes();
    // Version 8 (custom), variant 10.
    id[6] = (id[6] & 0x0F) | 0x80;
    id[8] = (id[8] & 0x3F) | 0x80;
    id
}

/// `"xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"`.
fn put_uuid(out: &mut Vec<u8>, id: &[u8; 16]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    for (i, b) in id.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push(b'-');
        }
        out.push(HEX[usize::from(b >> 4)]);
        out.push(HEX[usize::from(b & 0x0F)]);
    }
    out.push(b'"');
}

/// Appends `record` as one JSON object (without the newline), ending with the sensor's
/// name (`host`, Suricata's field; left out when empty) and the record's `event_id`.
pub(crate) fn encode<R: Record>(out: &mut Vec<u8>, record: &R, host: &str) -> Result<(), Error> {
    let start = out.len();
    let event_type = record.event_type();
    let name = header(out, record.header(), event_type)?;
    key(out, event_type);
    to_vec(out, record.body())?;
    if let Some((k, extra)) = record.extra() {
        key(out, k);
        to_vec(out, extra)?;
    }
    let skip = name.map(|r| r.start - start..r.end - start);
    let id = event_id(host, out.get(start..).unwrap_or_default(), skip);
    if let Some(e) = record.evidence() {
        key(out, "evidence");
        to_vec(out, e)?;
    }
    if !host.is_empty() {
        key(out, "host");
        to_vec(out, host)?;
    }
    key(out, "event_id");
    put_uuid(out, &id);
    out.push(b'}');
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_as_serde_writes_them() {
        for v in [0u64, 7, 10, 65535, 1 << 53, u64::MAX] {
            let mut out = Vec::new();
            put_u64(&mut out, v);
            assert_eq!(out, v.to_string().into_bytes());
        }
        for ip in ["10.0.0.1", "255.255.255.0", "0.0.0.0", "fe80::1", "::ffff:10.0.0.1"] {
            let ip: IpAddr = ip.parse().unwrap();
            let mut out = Vec::new();
            put_ip(&mut out, &ip);
            assert_eq!(out, serde_json::to_vec(&ip).unwrap());
        }
    }
}
