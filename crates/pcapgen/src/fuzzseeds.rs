//! Seeds for the fuzz targets' corpora, in each harness's input format, written by
//! `gen-fixtures` into `fuzz/corpus/<target>/`.
use crate::ot::{dnp3_frame, modbus_adu, s7_pdu, tpkt_cotp};

/// The Modbus stream harness reads chunks: a control byte (bit 0 direction, bit 1 a gap
/// before the chunk, bits 2.. the length, at most 63) and that many bytes.
fn chunks(out: &mut Vec<u8>, to_client: bool, gap: bool, bytes: &[u8]) {
    for (i, c) in bytes.chunks(63).enumerate() {
        out.push((c.len() as u8) << 2 | u8::from(gap && i == 0) << 1 | u8::from(to_client));
        out.extend_from_slice(c);
    }
}

fn exchange(out: &mut Vec<u8>, tid: u16, request: &[u8], response: &[u8]) {
    chunks(out, false, false, &modbus_adu(tid, 1, request));
    chunks(out, true, false, &modbus_adu(tid, 1, response));
}

pub fn modbus_stream() -> Vec<(&'static str, Vec<u8>)> {
    let mut reads = Vec::new();
    exchange(&mut reads, 1, &[0x03, 0, 0, 0, 2], &[0x03, 4, 0, 42, 0, 43]);
    exchange(&mut reads, 2, &[0x01, 0, 0, 0, 10], &[0x01, 2, 0xCD, 0x01]);
    exchange(&mut reads, 3, &[0x04, 0, 1, 0, 1], &[0x84, 0x02]);
    let mut writes = Vec::new();
    exchange(&mut writes, 1, &[0x05, 0, 0xAC, 0xFF, 0], &[0x05, 0, 0xAC, 0xFF, 0]);
    exchange(&mut writes, 2, &[0x10, 0, 1, 0, 2, 4, 0, 10, 1, 2], &[0x10, 0, 1, 0, 2]);
    exchange(&mut writes, 3, &[0x16, 0, 4, 0, 0xF2, 0, 0x25], &[0x16, 0, 4, 0, 0xF2, 0, 0x25]);
    exchange(&mut writes, 4, &[0x17, 0, 3, 0, 1, 0, 14, 0, 1, 2, 0, 0xFF], &[0x17, 2, 0, 0xAA]);
    let mut ident = Vec::new();
    exchange(&mut ident, 1, &[0x2B, 0x0E, 1, 0], &[0x2B, 0x0E, 1, 1, 0, 0, 2, 0, 4, b'A', b'c', b'm', b'e', 1, 2, b'P', b'1']);
    exchange(&mut ident, 2, &[0x08, 0, 4, 0, 0], &[0x08, 0, 4, 0, 0]);
    exchange(&mut ident, 3, &[0x11], &[0x11, 3, 1, 0xFF, 0x42]);
    let mut umas = Vec::new();
    exchange(&mut umas, 1, &[0x5A, 0, 0x02], &[0x5A, 0, 0xFE, 1, 2, 3]);
    exchange(&mut umas, 2, &[0x5A, 1, 0x41, 0xFF, 0], &[0x5A, 1, 0xFD, 0x81]);
    let mut damaged = Vec::new();
    chunks(&mut damaged, false, false, &[0xDE, 0xAD, 0xBE, 0xEF, 0, 1, 0, 0, 1, 0, 1, 3]);
    chunks(&mut damaged, false, true, &modbus_adu(7, 1, &[0x03, 0, 0, 0, 1])[3..]);
    exchange(&mut damaged, 8, &[0x03, 0, 0, 0, 1], &[0x03, 2, 0, 1]);
    vec![("seed-reads", reads), ("seed-writes", writes), ("seed-identification", ident), ("seed-umas", umas), ("seed-damaged", damaged)]
}

/// The DNP3 harness reads chunks: a control byte (bit 0 direction, bit 1 a gap before,
/// bit 2 a datagram, bits 3.. the length, at most 31) and that many bytes.
fn dnp3_chunks(out: &mut Vec<u8>, to_client: bool, datagram: bool, bytes: &[u8]) {
    for c in bytes.chunks(31) {
        out.push((c.len() as u8) << 3 | u8::from(datagram) << 2 | u8::from(to_client));
        out.extend_from_slice(c);
    }
}

pub fn dnp3_stream() -> Vec<(&'static str, Vec<u8>)> {
    let read = dnp3_frame(0xC4, 10, 1, &[0xC0, 0xC1, 0x01, 0x3C, 0x01, 0x06]);
    let mut resp_app = vec![0xC0, 0xC1, 0x81, 0x00, 0x00, 0x1E, 0x02, 0x00, 0x00, 0x03];
    resp_app.extend((0..4u8).flat_map(|i| [0x01, i, 0x00]));
    let resp = dnp3_frame(0x44, 1, 10, &resp_app);
    let crob =
        dnp3_frame(0xC4, 10, 1, &[0xC0, 0xC2, 0x05, 0x0C, 0x01, 0x28, 0x01, 0x00, 0x05, 0x00, 0x41, 0x01, 0xE8, 0x03, 0, 0, 0, 0, 0, 0, 0]);
    let mut poll = Vec::new();
    dnp3_chunks(&mut poll, false, false, &read);
    dnp3_chunks(&mut poll, true, false, &resp);
    let mut operate = Vec::new();
    dnp3_chunks(&mut operate, false, false, &crob);
    let mut udp = Vec::new();
    dnp3_chunks(&mut udp, false, true, &read);
    vec![("seed-poll", poll), ("seed-operate", operate), ("seed-udp", udp)]
}

/// Application fragments (application header onward) for the application-layer target.
fn dnp3_fragments() -> Seeds {
    let mut points = vec![0xC0, 0x81, 0x00, 0x00];
    points.extend([0x01, 0x02, 0x00, 0x00, 0x01, 0x81, 0x02]); // g1v2, two points
    points.extend([0x14, 0x01, 0x17, 0x01, 0x09, 0x01, 0x2C, 0x01, 0x00, 0x00]); // g20v1 by index
    points.extend([0x20, 0x07, 0x28, 0x01, 0x00, 0x02, 0x00, 0x01, 0, 0, 0xC0, 0x3F, 1, 2, 3, 4, 5, 6]); // g32v7
    points.extend([0x03, 0x01, 0x00, 0x00, 0x03, 0xE4]); // g3v1 packed
    let control = vec![
        0xC0, 0x05, 0x0C, 0x01, 0x17, 0x01, 0x04, 0x81, 0x02, 0x64, 0, 0, 0, 0xC8, 0, 0, 0, 0, 0x29, 0x02, 0x17, 0x01, 0x01, 0x9C, 0xFF, 0,
    ];
    let mut file = vec![0xCE, 0x19, 0x46, 0x03, 0x5B, 0x01, 0x1E, 0x00, 0x1A, 0x00, 0x04, 0x00];
    file.extend([0u8; 10]);
    file.extend([0, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00, 0x04, 0x04, 0x00]);
    file.extend_from_slice(b"a.db");
    let read = vec![0xC1, 0x01, 0x3C, 0x02, 0x06, 0x01, 0x02, 0x17, 0x02, 0x05, 0x07];
    vec![("seed-points", points), ("seed-control", control), ("seed-file", file), ("seed-read", read)]
}

/// Named seed files.
pub type Seeds = Vec<(&'static str, Vec<u8>)>;

/// Seeds per DNP3 target: the whole stack (`dnp3_stream`), link frames (`dnp3_link`) and
/// application fragments (`dnp3_app`).
pub fn dnp3_corpora() -> Vec<(&'static str, Seeds)> {
    let frames = vec![
        ("seed-read", dnp3_frame(0xC4, 10, 1, &[0xC0, 0xC1, 0x01, 0x3C, 0x01, 0x06])),
        ("seed-link-status", dnp3_frame(0xC9, 10, 1, &[])),
        ("seed-long", dnp3_frame(0x44, 1, 10, &(0..200u8).collect::<Vec<_>>())),
    ];
    vec![("dnp3_stream", dnp3_stream()), ("dnp3_link", frames), ("dnp3_app", dnp3_fragments())]
}

/// S7 PDUs: a setup, a read of DB1.DBB10 (job and ack-data), a write, an SZL read, a
/// download request, a PI service and an S7comm-plus request.
fn s7_pdus() -> Seeds {
    let setup = s7_pdu(1, 0, &[0xF0, 0x00, 0x00, 0x01, 0x00, 0x01, 0x01, 0xE0], &[]);
    let read = s7_pdu(1, 256, &[0x04, 0x01, 0x12, 0x0A, 0x10, 0x02, 0x00, 0x04, 0x00, 0x01, 0x84, 0x00, 0x00, 0x50], &[]);
    let read_ack = s7_pdu(3, 256, &[0x04, 0x01], &[0xFF, 0x04, 0x00, 0x20, 0xDE, 0xAD, 0xBE, 0xEF]);
    let write = s7_pdu(
        1,
        512,
        &[0x05, 0x01, 0x12, 0x0A, 0x10, 0x02, 0x00, 0x01, 0x00, 0x00, 0x83, 0x00, 0x03, 0x28],
        &[0x00, 0x04, 0x00, 0x08, 0x01],
    );
    let szl = s7_pdu(7, 768, &[0x00, 0x01, 0x12, 0x04, 0x11, 0x44, 0x01, 0x00], &[0xFF, 0x09, 0x00, 0x04, 0x00, 0x11, 0x00, 0x00]);
    let mut download = vec![0x1A, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09];
    download.extend_from_slice(b"_0A00001P");
    download.push(0x0D);
    download.extend_from_slice(b"1000064000032");
    let download = s7_pdu(1, 1024, &download, &[]);
    let mut pi = vec![0x28, 0, 0, 0, 0, 0, 0, 0xFD, 0x00, 0x0A, 0x01, 0x00];
    pi.extend_from_slice(b"0A00001P");
    pi.push(5);
    pi.extend_from_slice(b"_INSE");
    let pi = s7_pdu(1, 1280, &pi, &[]);
    let plus = vec![0x72, 0x01, 0x00, 0x0E, 0x31, 0x00, 0x00, 0x04, 0xCA, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x01, 0x20];
    vec![
        ("seed-setup", setup),
        ("seed-read", read),
        ("seed-read-ack", read_ack),
        ("seed-write", write),
        ("seed-szl", szl),
        ("seed-download", download),
        ("seed-pi", pi),
        ("seed-plus", plus),
    ]
}

/// The S7 stream harness reads chunks: a control byte (bit 0 direction, bit 1 a gap
/// before, bits 2.. the length, at most 63) and that many bytes.
fn s7_chunks(out: &mut Vec<u8>, to_client: bool, bytes: &[u8]) {
    for c in bytes.chunks(63) {
        out.push((c.len() as u8) << 2 | u8::from(to_client));
        out.extend_from_slice(c);
    }
}

/// Seeds per S7 target: the whole stack (`s7_stream`), TPKT/COTP (`s7_tpkt`) and single
/// PDUs (`s7_pdu`).
pub fn s7_corpora() -> Vec<(&'static str, Seeds)> {
    let pdus = s7_pdus();
    let connect = vec![
        0x03, 0x00, 0x00, 0x16, 0x11, 0xE0, 0x00, 0x00, 0x00, 0x01, 0x00, 0xC1, 0x02, 0x01, 0x00, 0xC2, 0x02, 0x01, 0x02, 0xC0, 0x01, 0x0A,
    ];
    let mut session = Vec::new();
    s7_chunks(&mut session, false, &connect);
    for (name, pdu) in &pdus {
        s7_chunks(&mut session, name.ends_with("-ack"), &tpkt_cotp(pdu));
    }
    let tpkts: Seeds = vec![("seed-connect", connect.clone()), ("seed-data", tpkt_cotp(pdus.first().map_or(&[][..], |p| &p.1)))];
    vec![("s7_stream", vec![("seed-session", session)]), ("s7_tpkt", tpkts), ("s7_pdu", pdus)]
}
