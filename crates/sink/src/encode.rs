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

fn header(out: &mut Vec<u8>, h: &EventHeader, event_type: &str) -> Result<(), Error> {
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
        key(out, "pcap_filename");
        to_vec(out, name)?;
    }
    Ok(())
}

/// Appends `record` as one JSON object (without the newline).
pub(crate) fn encode<R: Record>(out: &mut Vec<u8>, record: &R) -> Result<(), Error> {
    let event_type = record.event_type();
    header(out, record.header(), event_type)?;
    key(out, event_type);
    to_vec(out, record.body())?;
    if let Some((k, extra)) = record.extra() {
        key(out, k);
        to_vec(out, extra)?;
    }
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
