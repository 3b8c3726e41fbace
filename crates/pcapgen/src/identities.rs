//! The `report/identities.pcap` fixture: devices saying who they are. A
//! Modbus PLC answers read device identification (MEI 0x0E: vendor, product code,
//! revision); an S7 PLC answers SZL 0x0011 (module order number, hardware and firmware
//! versions) and SZL 0x001C (PLC name, module type, serial number); a DNP3 outstation
//! answers a read of group 0 (manufacturer, product, firmware, serial); then the S7 PLC
//! answers SZL 0x0011 again after a firmware update.
use crate::ot::s7_pdu;
use crate::session::*;

pub const MODBUS_PLC: &str = "10.40.2.10";
pub const S7_PLC: &str = "10.40.2.20";
pub const RTU: &str = "10.40.2.30";

/// An S7 user data response of the CPU functions group (read SZL) carrying `body`.
fn szl_response(pdu_ref: u16, body: &[u8]) -> Vec<u8> {
    // Head 00 01 12, parameter length 8, method response, type response | group 4 (CPU
    // functions), sub-function 1 (read SZL), sequence 1, data unit 0, last, no error.
    let param = [0x00, 0x01, 0x12, 0x08, 0x12, 0x84, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00];
    let mut data = vec![0xFF, 0x09]; // success, octet string
    data.extend_from_slice(&(body.len() as u16).to_be_bytes());
    data.extend_from_slice(body);
    s7_pdu(7, pdu_ref, &param, &data)
}

/// An SZL list: id, index, record length, record count, the records.
fn szl_list(id: u16, record_len: u16, records: &[Vec<u8>]) -> Vec<u8> {
    let mut v = Vec::new();
    for n in [id, 0, record_len, records.len() as u16] {
        v.extend_from_slice(&n.to_be_bytes());
    }
    for r in records {
        v.extend_from_slice(r);
    }
    v
}

/// An SZL 0x0011 record: index, order number (20 characters, space-padded), module type
/// id, then the version as two words ("V" and the major; minor and patch).
fn module(index: u16, order: &str, version: (u8, u8, u8)) -> Vec<u8> {
    let mut r = index.to_be_bytes().to_vec();
    r.extend(format!("{order:<20}").bytes().take(20));
    r.extend_from_slice(&[0x00, 0x00, b'V', version.0, version.1, version.2]);
    r
}

/// An SZL 0x001C record: index, then 32 characters, zero-padded.
fn component(index: u16, text: &str) -> Vec<u8> {
    let mut r = index.to_be_bytes().to_vec();
    let mut t = text.as_bytes().to_vec();
    t.resize(32, 0);
    r.extend(t);
    r
}

/// A DNP3 device attribute (group 0): variation, 8-bit start and stop 0, then a visible
/// string.
fn attribute(variation: u8, text: &str) -> Vec<u8> {
    let mut v = vec![0x00, variation, 0x00, 0x00, 0x00, 0x01, text.len() as u8];
    v.extend_from_slice(text.as_bytes());
    v
}

pub fn fixture() -> Vec<u8> {
    let mut c = Capture::new();
    // Modbus: read device identification, basic objects.
    let mut mei = vec![0x2B, 0x0E, 0x01, 0x01, 0x00, 0x00, 0x03];
    for (id, text) in [(0u8, "Schneider Electric"), (1, "BMX P34 2020"), (2, "v3.1")] {
        mei.extend([id, text.len() as u8]);
        mei.extend(text.as_bytes());
    }
    c.modbus("10.40.1.10:49152", &format!("{MODBUS_PLC}:502"), &[(&[0x2B, 0x0E, 0x01, 0x00], Some(&mei))]);
    c.wait(10);
    // S7: SZL 0x0011 (module identification) and 0x001C (component identification).
    let modules =
        szl_list(0x0011, 28, &[module(0x0001, "6ES7 516-3AN01-0AB0", (2, 8, 3)), module(0x0006, "6ES7 516-3AN01-0AB0", (1, 0, 0))]);
    let components =
        szl_list(0x001C, 34, &[component(1, "Line 4 packer"), component(5, "S C-X4U123456789"), component(7, "CPU 1516-3 PN/DP")]);
    c.s7(
        "10.40.3.5:49500",
        &format!("{S7_PLC}:102"),
        &[
            (true, s7_userdata_request(1, 4, 0x01, &[0x00, 0x11, 0x00, 0x00])),
            (false, szl_response(1, &modules)),
            (true, s7_userdata_request(2, 4, 0x01, &[0x00, 0x1C, 0x00, 0x00])),
            (false, szl_response(2, &components)),
        ],
    );
    c.wait(10);
    // DNP3: read all device attributes (g0v254, all points), answered.
    let mut attrs = Vec::new();
    for (v, text) in [(252, "Acme RTU Co"), (250, "RTU-9"), (242, "4.2.1"), (248, "SN-0042")] {
        attrs.extend(attribute(v, text));
    }
    c.dnp3(
        "10.40.1.20:49300",
        &format!("{RTU}:20000"),
        &[(true, 10, 1, dnp3_request(0x01, &[0x00, 0xFE, 0x06])), (false, 1, 10, dnp3_response(0x81, [0x00, 0x00], &attrs))],
    );
    c.wait(10);
    // The S7 PLC again, after a firmware update: its asset record says what changed.
    let updated = szl_list(0x0011, 28, &[module(0x0001, "6ES7 516-3AN01-0AB0", (2, 9, 0))]);
    c.s7(
        "10.40.3.5:49501",
        &format!("{S7_PLC}:102"),
        &[(true, s7_userdata_request(3, 4, 0x01, &[0x00, 0x11, 0x00, 0x00])), (false, szl_response(3, &updated))],
    );
    c.into_bytes()
}
