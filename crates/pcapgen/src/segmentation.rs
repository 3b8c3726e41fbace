//! The `segmentation` fixture: a plant of six zones (`fixtures/segmentation/policy.yaml`)
//! and traffic for every decision of the policy: allowed and denied function classes
//! of each protocol (all six classes), a conduit opened from the wrong side, both sides
//! of an `either` conduit, IT services across zones, the enterprise straight into a
//! cell, the unknown zone (IPv4 and IPv6), a VLAN-scoped zone tagged and untagged, and
//! traffic inside one zone.
use crate::session::*;

const SCADA: &str = "10.60.2.10";
const PLC_MODBUS: &str = "10.60.1.20";
const RTU: &str = "10.60.1.21";
const PLC_S7: &str = "10.60.1.30";
const ENGINEERING: &str = "10.60.3.5";
const ENTERPRISE: &str = "10.60.4.8";
const DMZ: &str = "10.60.5.5";
const CELL_B: &str = "10.60.11.7";

fn at(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Modbus requests without answers (the policy judges requests).
fn modbus(c: &mut Capture, client: &str, server: &str, requests: &[&[u8]]) {
    let exchanges: Vec<(&[u8], Option<&[u8]>)> = requests.iter().map(|r| (*r, None)).collect();
    c.modbus(client, server, &exchanges);
}

/// A TCP session of one client payload, for an IT service.
fn tcp(c: &mut Capture, client: &str, server: &str, payload: &[u8]) {
    let mut s = c.connect(client, server);
    c.client(&mut s, payload);
}

/// Job 0x29, PLC stop of P_PROGRAM: class management.
fn plc_stop(pdu_ref: u16) -> Vec<u8> {
    let mut param = vec![0x29, 0, 0, 0, 0, 0, 9];
    param.extend_from_slice(b"P_PROGRAM");
    s7_job(pdu_ref, &param, &[])
}

const READ_HOLDING: &[u8] = &[0x03, 0x00, 0x00, 0x00, 0x02];
const WRITE_REGISTER: &[u8] = &[0x06, 0x00, 0x10, 0x00, 0x2A];
/// Diagnostics (8), return query data (0): class diagnostic.
const DIAGNOSTIC_ECHO: &[u8] = &[0x08, 0x00, 0x00, 0x12, 0x34];
/// Read device identification (43/14), basic, from object 0: class identification.
const READ_IDENTITY: &[u8] = &[0x2B, 0x0E, 0x01, 0x00];

pub fn segmentation() -> Vec<u8> {
    let mut c = Capture::new();
    // 1. SCADA to cell A over Modbus (conduit 1: read, write, control): reads and
    //    writes pass; diagnostics and identification do not, each raised once (the
    //    second diagnostic is counted).
    modbus(
        &mut c,
        &at(SCADA, 50001),
        &at(PLC_MODBUS, 502),
        &[READ_HOLDING, WRITE_REGISTER, DIAGNOSTIC_ECHO, READ_IDENTITY, WRITE_REGISTER, DIAGNOSTIC_ECHO],
    );
    // 2. SCADA to cell A over DNP3 (conduit 1): read, direct operate (write) and a cold
    //    restart (management) pass; save configuration (program) does not, twice. Each
    //    request answered (a null response).
    let crob = [0x0C, 0x01, 0x17, 0x01, 0x00, 0x03, 0x01, 0xE8, 0x03, 0, 0, 0xE8, 0x03, 0, 0, 0x00];
    let requests = [
        dnp3_request(0x01, &[0x3C, 0x01, 0x06]),
        dnp3_request(0x05, &crob),
        dnp3_request(0x0D, &[]),
        dnp3_request(0x13, &[]),
        dnp3_request(0x13, &[]),
    ];
    let frames: Vec<_> = requests.into_iter().flat_map(|r| [(true, 10, 1, r), (false, 1, 10, dnp3_response(0x81, [0, 0], &[]))]).collect();
    c.dnp3(&at(SCADA, 50002), &at(RTU, 20000), &frames);
    // 3. SCADA to cell A's S7 PLC (conduit 2: read, write): a download (program) is not.
    c.s7(
        &at(SCADA, 50003),
        &at(PLC_S7, 102),
        &[(true, s7_read_db(1, 5)), (true, s7_write_byte(2, 0x84, 5, 10, 0x42)), (true, s7_block_job(3, 0x1A, b"_0A00001P"))],
    );
    // 4. Engineering to the same PLC (conduit 3: read, program, diagnostic,
    //    identification): a write and a stop (management) are not.
    c.s7(
        &at(ENGINEERING, 50004),
        &at(PLC_S7, 102),
        &[
            (true, s7_read_db(1, 5)),
            (true, s7_block_job(2, 0x1A, b"_0A00001P")),
            (true, s7_userdata_request(3, 4, 0x01, &[0x00, 0x11, 0x00, 0x00])),
            (true, s7_userdata_request(4, 1, 0x01, &[0x00, 0x00])),
            (true, s7_write_byte(5, 0x84, 5, 10, 0x42)),
            (true, plc_stop(6)),
        ],
    );
    // 5. Cell A's PLC opening Modbus to SCADA: conduit 1 runs the other way. One alert
    //    for the protocol; its read is counted beside it.
    modbus(&mut c, &at(PLC_MODBUS, 50005), &at(SCADA, 502), &[READ_HOLDING]);
    // 6. Cell B exists on VLAN 200 only; conduit 4 lets either side open Modbus.
    c.vlan = vec![200];
    modbus(&mut c, &at(SCADA, 50006), &at(CELL_B, 502), &[WRITE_REGISTER]);
    modbus(&mut c, &at(CELL_B, 50007), &at(SCADA, 502), &[READ_HOLDING]);
    // Untagged, the same address is in no zone.
    c.vlan = Vec::new();
    modbus(&mut c, &at(SCADA, 50008), &at(CELL_B, 502), &[WRITE_REGISTER]);
    // 7. The enterprise straight into cell A: Modbus (critical) and SSH.
    modbus(&mut c, &at(ENTERPRISE, 50009), &at(PLC_MODBUS, 502), &[READ_HOLDING]);
    tcp(&mut c, &at(ENTERPRISE, 50010), &at(PLC_MODBUS, 22), b"SSH-2.0-OpenSSH_9.6\r\n");
    // 8. Enterprise to the DMZ: HTTPS is conduit 5, RDP is not.
    tcp(&mut c, &at(ENTERPRISE, 50011), &at(DMZ, 443), b"\x16\x03\x01\x00\x05hello");
    tcp(&mut c, &at(ENTERPRISE, 50012), &at(DMZ, 3389), b"\x03\x00\x00\x0b\x06\xe0\x00\x00\x00\x00\x00");
    // 9. Conduit 6 (DMZ and SCADA, SSH, initiator: to): SCADA may open it, the DMZ not.
    tcp(&mut c, &at(SCADA, 50013), &at(DMZ, 22), b"SSH-2.0-OpenSSH_9.6\r\n");
    tcp(&mut c, &at(DMZ, 50014), &at(SCADA, 22), b"SSH-2.0-OpenSSH_9.6\r\n");
    // 10. From outside every zone: HTTPS, and SNMP over UDP from the enterprise.
    tcp(&mut c, "192.0.2.50:50015", &at(SCADA, 443), b"\x16\x03\x01\x00\x05hello");
    c.udp(&at(ENTERPRISE, 50016), &at(SCADA, 161), &[0x30, 0x05, 0x02, 0x01, 0x01, 0x04, 0x00]);
    // 11. IPv6: SCADA's network has a v6 prefix; a host outside every zone polls it.
    modbus(&mut c, "[fd00:99::1]:50017", "[fd00:60:2::10]:502", &[READ_HOLDING]);
    // 12. Inside cell A: the Modbus PLC stopping the S7 PLC is not a zone crossing (the
    //     stop rule still raises its own alert).
    c.s7(&at(PLC_MODBUS, 50018), &at(PLC_S7, 102), &[(true, plc_stop(7))]);
    c.into_bytes()
}
