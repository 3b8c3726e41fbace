//! Every rule of the default pack, on captures our builder writes: traffic that must
//! raise it, and near-identical traffic that must not. A rule added to the pack without
//! a case here fails `every_rule_has_a_case`.
use otsentry_engine::default_pack;
use otsentry_engine::{Pipeline, PipelineOptions, RuleSet};
use otsentry_pcapgen::ot::modbus_adu;
use otsentry_pcapgen::session::*;
use otsentry_rules::{RuleSource, Sources};
use std::collections::BTreeMap;
use std::sync::Arc;

mod baseline_cases;
mod trust_cases;

const VARS: &str = "HMI: [10.0.1.0/24]\nENGINEERING: [10.0.2.5]\nMASTERS: [10.0.3.1]\n";
/// A host in $HMI, one in no set.
const HMI: &str = "10.0.1.10:49152";
const STRANGER: &str = "10.0.9.9:49153";
const PLC: &str = "10.0.0.2:502";
const MASTER: &str = "10.0.3.1:49200";
const OUTSTATION: &str = "10.0.0.3:20000";
const ENG: &str = "10.0.2.5:49300";
const S7: &str = "10.0.0.4:102";

fn pack() -> Arc<RuleSet> {
    let vars = RuleSource { file: "vars.yaml".into(), text: VARS.into() };
    Arc::new(
        RuleSet::load(&Sources { rules: default_pack(), vars: Some(vars), tuning: None }, otsentry_engine::schemas())
            .expect("the pack loads"),
    )
}

/// The segmentation policy every case runs under: its zones hold only the addresses of
/// the policy cases, so every other case stays inside the unknown zone.
const POLICY: &str = "\
zones:
  - name: enterprise
    level: 4
    networks: [10.50.0.0/16]
  - name: scada
    level: 2
    networks: [10.51.0.0/16]
  - name: cell
    level: 1
    networks: [10.52.0.0/16]
conduits:
  - from: scada
    to: cell
    protocols: [modbus]
    functions: [read]
  - from: enterprise
    to: scada
    protocols: [https]
";
const ENTERPRISE: &str = "10.50.0.5:50000";
const SCADA: &str = "10.51.0.5:50001";
const CELL_PLC: &str = "10.52.0.2:502";

fn policy() -> Arc<otsentry_engine::Policy> {
    Arc::new(otsentry_engine::parse_policy(std::path::Path::new("policy.yaml"), POLICY).expect("the test policy loads"))
}

/// A TCP conversation with one request and its answer on any port.
fn tcp(client: &str, server: &str) -> Vec<u8> {
    cap(|c| {
        let mut conn = c.connect(client, server);
        c.client(&mut conn, b"hello");
        c.server(&mut conn, b"world");
    })
}

/// Alerts by rule id for a capture.
fn alerts(rules: &Arc<RuleSet>, pcap: Vec<u8>, name: &str) -> BTreeMap<String, u64> {
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("rule-{name}.pcap"));
    std::fs::write(&path, pcap).expect("write capture");
    let opts =
        PipelineOptions { rules: rules.clone(), policy: Some(policy()), baseline: Some(baseline_cases::baseline()), ..Default::default() };
    let mut run: Pipeline = Pipeline::new(opts, None);
    run.run_file(&path, &mut |_, _| {}).expect("replay");
    run.finish(1.0).alerts.by_rule
}

fn cap(f: impl FnOnce(&mut Capture)) -> Vec<u8> {
    let mut c = Capture::new();
    f(&mut c);
    c.into_bytes()
}

fn modbus(client: &str, exchanges: &[(&[u8], Option<&[u8]>)]) -> Vec<u8> {
    cap(|c| c.modbus(client, PLC, exchanges))
}

fn modbus_one(pdu: &[u8]) -> Vec<u8> {
    modbus(HMI, &[(pdu, None)])
}

fn dnp3_from(master: &str, frames: &[(bool, u16, u16, Vec<u8>)]) -> Vec<u8> {
    cap(|c| c.dnp3(master, OUTSTATION, frames))
}

/// One master request to outstation 10.
fn dnp3_one(function: u8, objects: &[u8]) -> Vec<u8> {
    dnp3_from(MASTER, &[(true, 10, 1, dnp3_request(function, objects))])
}

fn dnp3_reply(iin: [u8; 2]) -> Vec<u8> {
    dnp3_from(MASTER, &[(true, 10, 1, dnp3_request(1, &[0x3C, 0x01, 0x06])), (false, 1, 10, dnp3_response(0x81, iin, &[]))])
}

/// `n` reads of object group 60 answered with IIN2 `iin2`, on one session.
fn dnp3_error_answers(n: usize, iin2: u8) -> Vec<u8> {
    let frames: Vec<(bool, u16, u16, Vec<u8>)> = (0..n)
        .flat_map(|_| [(true, 10, 1, dnp3_request(1, &[0x3C, 0x05, 0x06])), (false, 1, 10, dnp3_response(0x81, [0x00, iin2], &[]))])
        .collect();
    dnp3_from(MASTER, &frames)
}

fn s7(client: &str, pdus: Vec<Vec<u8>>) -> Vec<u8> {
    cap(|c| c.s7(client, S7, &pdus.into_iter().map(|p| (true, p)).collect::<Vec<_>>()))
}

fn s7_raw(client: &str, payloads: Vec<Vec<u8>>) -> Vec<u8> {
    cap(|c| {
        let mut conn = c.connect(client, S7);
        for p in payloads {
            c.client(&mut conn, &otsentry_pcapgen::ot::tpkt_cotp(&p));
        }
    })
}

/// A connection of `ENG` to the PLC on which only the PLC speaks.
fn s7_answers(payloads: Vec<Vec<u8>>) -> Vec<u8> {
    cap(|c| {
        let mut conn = c.connect(ENG, S7);
        for p in payloads {
            c.server(&mut conn, &otsentry_pcapgen::ot::tpkt_cotp(&p));
        }
    })
}

fn szl(id: u16) -> Vec<u8> {
    let [a, b] = id.to_be_bytes();
    s7_userdata_request(1, 4, 1, &[a, b, 0x00, 0x00])
}

fn password(times: usize) -> Vec<u8> {
    s7(ENG, (0..times).map(|i| s7_userdata_request(i as u16 + 1, 5, 1, b"\x11\x22\x33\x44\x55\x66\x77\x88")).collect())
}

/// `n` reads (function 3) at `addresses(i)`, each answered by `answer(i)`.
fn reads(n: u16, address: impl Fn(u16) -> u16, answer: impl Fn(u16) -> Vec<u8>) -> Vec<u8> {
    let reqs: Vec<(Vec<u8>, Vec<u8>)> = (0..n)
        .map(|i| {
            let [a, b] = address(i).to_be_bytes();
            (vec![0x03, a, b, 0x00, 0x01], answer(i))
        })
        .collect();
    let ex: Vec<(&[u8], Option<&[u8]>)> = reqs.iter().map(|(q, r)| (q.as_slice(), Some(r.as_slice()))).collect();
    modbus(HMI, &ex)
}

/// Reads to units 1-12 on one connection, each answered by `answer(unit)`.
fn units(answer: impl Fn(u16) -> Vec<u8>) -> Vec<u8> {
    cap(|c| {
        let mut conn = c.connect(HMI, PLC);
        for unit in 1..=12u8 {
            c.client(&mut conn, &modbus_adu(u16::from(unit), unit, &[0x03, 0x00, 0x00, 0x00, 0x01]));
            c.server(&mut conn, &modbus_adu(u16::from(unit), unit, &answer(u16::from(unit))));
        }
    })
}

fn ok_read(_: u16) -> Vec<u8> {
    vec![0x03, 0x02, 0x00, 0x2A]
}

/// A connection whose client sends the end of a request early, then again (changed or
/// not), then its start.
fn retransmit(changed: bool) -> Vec<u8> {
    cap(|c| {
        let mut conn = c.connect(HMI, PLC);
        let first = modbus_adu(1, 1, &[0x03, 0x00, 0x00, 0x00, 0x01]);
        let p = conn.client_at(6, &first[6..]);
        c.ip(&p);
        let mut again = first[6..].to_vec();
        if changed {
            again[5] = 0x09;
        }
        let p = conn.client_at(6, &again);
        c.ip(&p);
        let p = conn.client_at(0, &first[..6]);
        c.ip(&p);
        conn.client_skip(first.len() as u32);
        c.server(&mut conn, &modbus_adu(1, 1, &[0x03, 0x02, 0x00, 0x01]));
    })
}

/// A stream with a hole, then more out-of-order bytes than a stream may hold (or fewer).
fn out_of_order(kib: u32) -> Vec<u8> {
    cap(|c| {
        let mut conn = c.connect(HMI, PLC);
        let chunk = vec![0u8; 1024];
        for i in 0..kib {
            let p = conn.client_at(1 + i * 1024, &chunk);
            c.ip(&p);
        }
    })
}

fn decoder(truncated: bool) -> Vec<u8> {
    cap(|c| {
        let mut p = otsentry_pcapgen::ip_udp(sa("10.0.1.10:5000"), sa("10.0.0.2:5001"), &[1, 2, 3, 4, 5, 6, 7, 8]);
        if truncated {
            p.truncate(24); // IP header says 36 bytes; 24 follow
        }
        c.ip(&p);
    })
}

type Case = (&'static str, fn() -> Vec<u8>, fn() -> Vec<u8>);

/// (rule id, traffic that raises it, traffic that does not).
const CASES: &[Case] = &[
    // Enterprise straight into the cell, against a read the scada may make.
    (
        "policy.segmentation.skip_levels",
        || cap(|c| c.modbus(ENTERPRISE, CELL_PLC, &[(&[0x03, 0x00, 0x00, 0x00, 0x01], None)])),
        || cap(|c| c.modbus(SCADA, CELL_PLC, &[(&[0x03, 0x00, 0x00, 0x00, 0x01], None)])),
    ),
    // A write where the conduit allows reads, against the read.
    (
        "policy.segmentation.ot",
        || cap(|c| c.modbus(SCADA, CELL_PLC, &[(&[0x06, 0x00, 0x01, 0x00, 0x2A], None)])),
        || cap(|c| c.modbus(SCADA, CELL_PLC, &[(&[0x03, 0x00, 0x00, 0x00, 0x01], None)])),
    ),
    // SSH from the enterprise into the cell, against the HTTPS its conduit allows.
    ("policy.segmentation.it_service", || tcp(ENTERPRISE, "10.52.0.9:22"), || tcp(ENTERPRISE, "10.51.0.9:443")),
    ("modbus.diagnostic.force_listen_only", || modbus_one(&[0x08, 0x00, 0x04, 0x00, 0x00]), || modbus_one(&[0x08, 0x00, 0x00, 0x12, 0x34])),
    (
        "modbus.diagnostic.restart_communications",
        || modbus_one(&[0x08, 0x00, 0x01, 0x00, 0x00]),
        || modbus_one(&[0x08, 0x00, 0x02, 0x00, 0x00]),
    ),
    ("modbus.diagnostic.clear_counters", || modbus_one(&[0x08, 0x00, 0x0A, 0x00, 0x00]), || modbus_one(&[0x08, 0x00, 0x0B, 0x00, 0x00])),
    ("modbus.identification.read_device_id", || modbus_one(&[0x2B, 0x0E, 0x01, 0x00]), || modbus_one(&[0x2B, 0x0D, 0x00])),
    ("modbus.identification.report_server_id", || modbus_one(&[0x11]), || modbus_one(&[0x07])),
    ("modbus.umas.stop_plc", || modbus_one(&[0x5A, 0x00, 0x41]), || modbus_one(&[0x5A, 0x00, 0x40])),
    ("modbus.umas.start_plc", || modbus_one(&[0x5A, 0x00, 0x40]), || modbus_one(&[0x5A, 0x00, 0x02])),
    ("modbus.umas.reservation", || modbus_one(&[0x5A, 0x00, 0x10]), || modbus_one(&[0x5A, 0x00, 0x11])),
    ("modbus.umas.program_download", || modbus_one(&[0x5A, 0x00, 0x31]), || modbus_one(&[0x5A, 0x00, 0x34])),
    ("modbus.umas.program_upload", || modbus_one(&[0x5A, 0x00, 0x34]), || modbus_one(&[0x5A, 0x00, 0x31])),
    (
        "modbus.write.unauthorized_source",
        || modbus(STRANGER, &[(&[0x06, 0x00, 0x10, 0x00, 0xFF], None)]),
        || modbus(HMI, &[(&[0x06, 0x00, 0x10, 0x00, 0xFF], None)]),
    ),
    ("modbus.program.modicon", || modbus_one(&[0x28, 0x00]), || modbus_one(&[0x2A, 0x00])),
    ("modbus.firmware.replacement", || modbus_one(&[0x7D, 0x00]), || modbus_one(&[0x7C, 0x00])),
    (
        "modbus.write.file_record",
        || modbus_one(&[0x15, 0x09, 0x06, 0x00, 0x01, 0x00, 0x02, 0x00, 0x01, 0x12, 0x34]),
        || modbus_one(&[0x14, 0x07, 0x06, 0x00, 0x01, 0x00, 0x02, 0x00, 0x01]),
    ),
    (
        "modbus.scan.function_codes",
        || modbus(HMI, &[(&[9], None), (&[10], None), (&[13], None), (&[14], None), (&[18], None), (&[19], None)]),
        || modbus(HMI, &[(&[1, 0, 0, 0, 1], None), (&[2, 0, 0, 0, 1], None), (&[3, 0, 0, 0, 1], None), (&[4, 0, 0, 0, 1], None)]),
    ),
    (
        "modbus.scan.unit_ids",
        || units(|_| vec![0x83, 0x0B]),
        || units(ok_read), // a gateway polling its serial devices
    ),
    ("modbus.exception.burst", || reads(25, |i| i, |_| vec![0x83, 0x02]), || reads(10, |i| i, |_| vec![0x83, 0x02])),
    ("modbus.exception.illegal_function", || reads(6, |_| 0, |_| vec![0x83, 0x01]), || reads(6, |_| 0, |_| vec![0x83, 0x02])),
    (
        "modbus.scan.addresses",
        || reads(25, |i| i * 10, |_| vec![0x83, 0x02]),
        || reads(25, |i| i % 5, |_| vec![0x83, 0x02]), // the same few addresses failing
    ),
    ("dnp3.restart.cold", || dnp3_one(13, &[]), || dnp3_one(1, &[0x3C, 0x01, 0x06])),
    ("dnp3.restart.warm", || dnp3_one(14, &[]), || dnp3_one(1, &[0x3C, 0x01, 0x06])),
    ("dnp3.application.stop", || dnp3_one(18, &[]), || dnp3_one(17, &[])),
    ("dnp3.application.initialize", || dnp3_one(16, &[]), || dnp3_one(17, &[])),
    (
        "dnp3.control.unauthorized_master",
        || {
            let crob = [0x0C, 0x01, 0x17, 0x01, 0x03, 0x41, 0x01, 0xE8, 0x03, 0, 0, 0, 0, 0, 0, 0];
            dnp3_from(STRANGER, &[(true, 10, 1, dnp3_request(5, &crob))])
        },
        || {
            let crob = [0x0C, 0x01, 0x17, 0x01, 0x03, 0x41, 0x01, 0xE8, 0x03, 0, 0, 0, 0, 0, 0, 0];
            dnp3_from(MASTER, &[(true, 10, 1, dnp3_request(5, &crob))])
        },
    ),
    ("dnp3.unsolicited.disable", || dnp3_one(21, &[0x3C, 0x02, 0x06]), || dnp3_one(20, &[0x3C, 0x02, 0x06])),
    ("dnp3.file.transfer", || dnp3_one(25, &[]), || dnp3_one(1, &[0x3C, 0x01, 0x06])),
    ("dnp3.configuration.change", || dnp3_one(19, &[]), || dnp3_one(1, &[0x3C, 0x01, 0x06])),
    (
        "dnp3.time.write",
        || dnp3_one(2, &[0x32, 0x01, 0x07, 0x01, 0x10, 0x27, 0x00, 0x00, 0x00, 0x00]),
        || dnp3_one(2, &[0x50, 0x01, 0x00, 0x07, 0x07, 0x00]),
    ),
    (
        "dnp3.iin.restart_cleared",
        || dnp3_one(2, &[0x50, 0x01, 0x00, 0x07, 0x07, 0x00]),
        || dnp3_one(2, &[0x32, 0x01, 0x07, 0x01, 0x10, 0x27, 0x00, 0x00, 0x00, 0x00]),
    ),
    ("dnp3.iin.device_restart", || dnp3_reply([0x80, 0x00]), || dnp3_reply([0x00, 0x00])),
    ("dnp3.iin.config_corrupt", || dnp3_reply([0x00, 0x20]), || dnp3_reply([0x00, 0x00])),
    // Five "object unknown" answers on one session, against four; five "function not
    // supported", against five clean answers.
    ("dnp3.errors.burst", || dnp3_error_answers(5, 0x02), || dnp3_error_answers(4, 0x02)),
    ("dnp3.errors.burst", || dnp3_error_answers(5, 0x01), || dnp3_error_answers(5, 0x00)),
    (
        "dnp3.address.broadcast",
        || dnp3_from(MASTER, &[(true, 0xFFFF, 1, dnp3_request(1, &[0x3C, 0x01, 0x06]))]),
        || dnp3_from(MASTER, &[(true, 10, 1, dnp3_request(1, &[0x3C, 0x01, 0x06]))]),
    ),
    (
        "dnp3.address.reserved",
        || dnp3_from(MASTER, &[(true, 0xFFF0, 1, dnp3_request(1, &[0x3C, 0x01, 0x06]))]),
        || dnp3_from(MASTER, &[(true, 10, 1, dnp3_request(1, &[0x3C, 0x01, 0x06]))]),
    ),
    ("dnp3.class.assign", || dnp3_one(22, &[0x3C, 0x02, 0x06]), || dnp3_one(1, &[0x3C, 0x02, 0x06])),
    ("dnp3.freeze", || dnp3_one(7, &[0x14, 0x00, 0x06]), || dnp3_one(1, &[0x14, 0x00, 0x06])),
    ("s7comm.plc_stop", || s7_raw(ENG, vec![otsentry_pcapgen::ot::s7_pdu(1, 1, &stop_param(), &[])]), || s7(ENG, vec![s7_read_db(1, 1)])),
    ("s7comm.pi.program_start", || s7(ENG, vec![s7_pi_service(1, b"C ", b"P_PROGRAM")]), || s7(ENG, vec![s7_pi_service(1, b"", b"_GARB")])),
    (
        "s7comm.pi.block_insert",
        || s7(ENG, vec![s7_pi_service(1, b"\x01\x000800001P", b"_INSE")]),
        || s7(ENG, vec![s7_pi_service(1, b"\x01\x000800001P", b"_DELE")]),
    ),
    (
        "s7comm.pi.block_delete",
        || s7(ENG, vec![s7_pi_service(1, b"\x01\x000800001P", b"_DELE")]),
        || s7(ENG, vec![s7_pi_service(1, b"\x01\x000800001P", b"_INSE")]),
    ),
    ("s7comm.pi.compress", || s7(ENG, vec![s7_pi_service(1, b"", b"_GARB")]), || s7(ENG, vec![s7_pi_service(1, b"", b"_MODU")])),
    ("s7comm.pi.copy_ram_to_rom", || s7(ENG, vec![s7_pi_service(1, b"", b"_MODU")]), || s7(ENG, vec![s7_pi_service(1, b"", b"_GARB")])),
    (
        "s7comm.program.download",
        || s7(ENG, vec![s7_block_job(1, 0x1A, b"_0800001P")]),
        || s7(ENG, vec![s7_block_job(1, 0x1D, b"_0800001A")]),
    ),
    ("s7comm.program.upload", || s7(ENG, vec![s7_block_job(1, 0x1D, b"_0800001A")]), || s7(ENG, vec![s7_block_job(1, 0x1A, b"_0800001P")])),
    (
        "s7comm.write.unauthorized_source",
        || s7(STRANGER, vec![s7_write_byte(1, 0x84, 5, 2, 0x01)]),
        || s7("10.0.1.20:49400", vec![s7_write_byte(1, 0x84, 5, 2, 0x01)]),
    ),
    ("s7comm.write.outputs", || s7(ENG, vec![s7_write_byte(1, 0x82, 0, 0, 0xFF)]), || s7(ENG, vec![s7_write_byte(1, 0x83, 0, 0, 0xFF)])),
    ("s7comm.szl.identification", || s7(ENG, vec![szl(0x0011)]), || s7(ENG, vec![szl(0x0132)])),
    ("s7comm.szl.cpu_mode", || s7(ENG, vec![szl(0x0424)]), || s7(ENG, vec![szl(0x0011)])),
    ("s7comm.password.attempt", || password(1), || s7(ENG, vec![szl(0x0424)])),
    // Block lists (all blocks, then OBs) from a stranger, against the engineering station.
    (
        "s7comm.blocks.list",
        || s7(STRANGER, vec![s7_userdata_request(1, 3, 1, &[]), s7_userdata_request(2, 3, 2, &[0x30, 0x38])]),
        || s7(ENG, vec![s7_userdata_request(1, 3, 1, &[]), s7_userdata_request(2, 3, 2, &[0x30, 0x38])]),
    ),
    ("s7comm.password.repeated", || password(3), || password(2)),
    // Another object deleted, against the client closing its own session.
    (
        "s7comm_plus.delete_object",
        || s7_raw(ENG, vec![s7plus_delete(0x120, 0x1002A, 1)]),
        || s7_raw(ENG, vec![s7plus_delete(0x120, 0x120, 1)]),
    ),
    // Requests, against the PLC's answers to them.
    ("s7comm_plus.set_variable", || s7_raw(ENG, vec![s7plus_request(0x04F2, 1)]), || s7_answers(vec![s7plus_response(0x04F2, 1)])),
    ("s7comm_plus.explore", || s7_raw(ENG, vec![s7plus_request(0x04BB, 1)]), || s7_answers(vec![s7plus_response(0x04BB, 1)])),
    ("anomaly.modbus.malformed", || modbus_one(&[0x00]), || modbus_one(&[0x03, 0x00, 0x00, 0x00, 0x01])),
    (
        "anomaly.modbus.flooded",
        || modbus(HMI, &vec![(&[0x03u8, 0x00, 0x00, 0x00, 0x01][..], None); 510]),
        || modbus(HMI, &vec![(&[0x03u8, 0x00, 0x00, 0x00, 0x01][..], None); 100]),
    ),
    (
        "anomaly.dnp3.malformed",
        || {
            cap(|c| {
                let mut conn = c.connect(MASTER, OUTSTATION);
                let mut f = otsentry_pcapgen::ot::dnp3_frame(0xC4, 10, 1, &dnp3_request(1, &[0x3C, 0x01, 0x06]));
                let last = f.len() - 1;
                f[last] ^= 0xFF; // the user data block's CRC
                c.client(&mut conn, &f);
            })
        },
        || dnp3_one(1, &[0x3C, 0x01, 0x06]),
    ),
    (
        "anomaly.s7comm.malformed",
        || {
            s7_raw(
                ENG,
                vec![{
                    let mut p = s7_read_db(1, 1);
                    p[7] = 0x20; // parameter length 32; 14 bytes follow
                    p
                }],
            )
        },
        || s7(ENG, vec![s7_read_db(1, 1)]),
    ),
    (
        "anomaly.resync",
        || {
            cap(|c| {
                let mut conn = c.connect(HMI, PLC);
                c.client(&mut conn, &modbus_adu(1, 1, &[0x03, 0x00, 0x00, 0x00, 0x01]));
                c.client(&mut conn, &[0xFF; 9]);
                c.client(&mut conn, &modbus_adu(2, 1, &[0x03, 0x00, 0x00, 0x00, 0x01]));
            })
        },
        || reads(2, |_| 0, ok_read),
    ),
    ("anomaly.stream.overlap", || retransmit(true), || retransmit(false)),
    (
        "anomaly.applayer.ot_protocol_unexpected_port",
        || cap(|c| c.modbus(HMI, "10.0.0.2:5020", &[(&[0x03, 0x00, 0x00, 0x00, 0x01], Some(&[0x03, 0x02, 0x00, 0x01]))])),
        || reads(1, |_| 0, ok_read),
    ),
    (
        "anomaly.applayer.ot_port_unexpected_protocol",
        || {
            cap(|c| {
                let mut conn = c.connect(HMI, PLC);
                for _ in 0..3 {
                    c.client(&mut conn, b"GET /index.html HTTP/1.1\r\nHost: plc\r\n\r\n");
                }
            })
        },
        || reads(3, |_| 0, ok_read),
    ),
    (
        "anomaly.applayer.other",
        || {
            cap(|c| {
                let mut f = otsentry_pcapgen::ot::dnp3_frame(0xC4, 10, 1, &dnp3_request(1, &[0x3C, 0x01, 0x06]));
                f.extend_from_slice(&[0x05, 0x64]); // the start of a frame that never comes
                c.udp("10.0.3.1:20000", "10.0.0.3:20000", &f);
            })
        },
        || {
            cap(|c| {
                c.udp(
                    "10.0.3.1:20000",
                    "10.0.0.3:20000",
                    &otsentry_pcapgen::ot::dnp3_frame(0xC4, 10, 1, &dnp3_request(1, &[0x3C, 0x01, 0x06])),
                )
            })
        },
    ),
    ("anomaly.decoder", || decoder(true), || decoder(false)),
    ("anomaly.stream.reassembly_overflow", || out_of_order(300), || out_of_order(100)),
    // A poisoner answering for the PLC within seconds; the same MAC renewing (DHCP, refresh).
    ("network.arp.spoofing", || arp_replies(PLC_MAC, ROGUE_MAC, 2_000), || arp_replies(PLC_MAC, PLC_MAC, 2_000)),
    // The PLC replaced after two hours: a change, not a conflict (and not spoofing).
    ("network.arp.mac_changed", || arp_replies(PLC_MAC, ROGUE_MAC, 7_200_000), || arp_replies(PLC_MAC, ROGUE_MAC, 2_000)),
    ("network.arp.gratuitous_storm", || gratuitous(12), || gratuitous(3)),
    // Closed ports; the negative is a master connecting to 25 ports that all answer.
    ("network.scan.ports", || probes(25, false, "refused"), || probes(25, false, "connected")),
    // Half-open probes of port 502 on 25 hosts; the negative is a busy HMI polling 25 PLCs.
    ("network.scan.hosts", || probes(25, true, "half-open"), || probes(25, true, "connected")),
    ("network.scan.icmp_sweep", || pings(25), || pings(3)),
    // A sweep of the segment; the negative asks again and again for its gateway and two peers.
    ("network.scan.arp_sweep", || arp_requests(25), || arp_requests(3)),
    // Each segment sent on by the MAC it went to; the negative retransmits from its own.
    ("network.relay.segments", || relayed(true), || relayed(false)),
    // The outstation's side of a session answers with another TTL mid-way (a forged reset).
    ("network.sender.session_changed", || ttl_mid_session(128), || ttl_mid_session(64)),
    // The PLC's address opens a later session with another TTL than its long one showed.
    ("network.sender.host_changed", || second_session_ttl(128), || second_session_ttl(64)),
    // One session reading from six link source addresses; the negative from one.
    ("dnp3.scan.link_addresses", || dnp3_sources(6), || dnp3_sources(1)),
    // Four reads 10 ms apart, none answered; the negative answers each.
    ("dnp3.requests.burst", || dnp3_reads(false), || dnp3_reads(true)),
];

/// A Modbus poll and its answer: relayed by a third MAC (the first relayed copy shows
/// the session's MAC change, the second the relay), or sent again by their senders.
fn relayed(relay: bool) -> Vec<u8> {
    use otsentry_pcapgen::TcpConversation;
    cap(|c| {
        let mut t = TcpConversation::new(sa("10.0.1.10:49000"), sa("10.0.0.2:502"));
        for p in t.handshake() {
            c.ip(&p);
        }
        let q = t.client_sends(&modbus_adu(1, 1, &[0x03, 0, 0, 0, 1]));
        let a = t.server_sends(&modbus_adu(1, 1, &[0x03, 2, 0, 7]));
        if relay {
            c.ip_macs(HMI_MAC, ROGUE_MAC, &q);
            c.ip_macs(ROGUE_MAC, PLC_MAC, &q);
            c.ip_macs(PLC_MAC, ROGUE_MAC, &a);
            c.ip_macs(ROGUE_MAC, HMI_MAC, &a);
        } else {
            c.ip_macs(HMI_MAC, PLC_MAC, &q);
            c.ip_macs(HMI_MAC, PLC_MAC, &q);
            c.ip_macs(PLC_MAC, HMI_MAC, &a);
            c.ip_macs(PLC_MAC, HMI_MAC, &a);
        }
    })
}

/// A Modbus session whose server side sends its last packet with `ttl`.
fn ttl_mid_session(ttl: u8) -> Vec<u8> {
    use otsentry_pcapgen::{with_ttl, TcpConversation};
    cap(|c| {
        let mut t = TcpConversation::new(sa("10.0.1.10:49000"), sa("10.0.0.2:502"));
        for p in t.handshake() {
            c.ip(&p);
        }
        c.ip(&t.client_sends(&modbus_adu(1, 1, &[0x03, 0, 0, 0, 1])));
        c.ip(&t.server_sends(&modbus_adu(1, 1, &[0x03, 2, 0, 7])));
        c.ip(&with_ttl(&t.reset_from_server(), ttl));
    })
}

/// A long Modbus session with the PLC (TTL 64), then a second one whose SYN-ACK has `ttl`.
fn second_session_ttl(ttl: u8) -> Vec<u8> {
    use otsentry_pcapgen::{with_ttl, TcpConversation};
    cap(|c| {
        let mut t = TcpConversation::new(sa("10.0.1.10:49000"), sa("10.0.0.2:502"));
        for p in t.handshake() {
            c.ip(&p);
        }
        for tid in 0..100 {
            c.ip(&t.client_sends(&modbus_adu(tid, 1, &[0x03, 0, 0, 0, 1])));
            c.ip(&t.server_sends(&modbus_adu(tid, 1, &[0x03, 2, 0, 7])));
        }
        let mut second = TcpConversation::new(sa("10.0.1.10:49001"), sa("10.0.0.2:502"));
        let [syn, syn_ack, ack] = <[Vec<u8>; 3]>::try_from(second.handshake()).expect("three");
        c.ip(&syn);
        c.ip(&with_ttl(&syn_ack, ttl));
        c.ip(&ack);
    })
}

fn dnp3_sources(n: u16) -> Vec<u8> {
    let frames: Vec<_> = (0..6).map(|i| (true, 10, 1 + i % n, dnp3_request(1, &[0x3C, 0x01, 0x06]))).collect();
    dnp3_from(MASTER, &frames)
}

fn dnp3_reads(answered: bool) -> Vec<u8> {
    let mut frames = Vec::new();
    for _ in 0..4 {
        frames.push((true, 10, 1, dnp3_request(1, &[0x3C, 0x01, 0x06])));
        if answered {
            frames.push((false, 1, 10, dnp3_response(0x81, [0, 0], &[])));
        }
    }
    dnp3_from(MASTER, &frames)
}

const PLC_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x02];
const ROGUE_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x66];
const HMI_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];

/// ARP replies for the PLC's address: from `first`, then after `gap_ms` from `second`.
fn arp_replies(first: [u8; 6], second: [u8; 6], gap_ms: u64) -> Vec<u8> {
    let (plc, hmi) = ("10.0.0.2".parse().unwrap(), "10.0.1.10".parse().unwrap());
    cap(|c| {
        c.frame(&otsentry_pcapgen::arp(2, first, plc, HMI_MAC, hmi));
        c.wait(gap_ms);
        c.frame(&otsentry_pcapgen::arp(2, second, plc, HMI_MAC, hmi));
    })
}

/// `n` gratuitous announcements of the PLC's address, 10 ms apart.
fn gratuitous(n: usize) -> Vec<u8> {
    let plc = "10.0.0.2".parse().unwrap();
    cap(|c| (0..n).for_each(|_| c.frame(&otsentry_pcapgen::arp(1, PLC_MAC, plc, [0; 6], plc))))
}

/// A SYN from `client` to `server`, then the server's reset (refused) or its SYN-ACK and
/// the client's reset (half-open), or a whole handshake (connected).
fn attempt(c: &mut Capture, client: &str, server: &str, how: &str) {
    use otsentry_pcapgen::{ip, tcp, Tcp, ACK, PROTO_TCP, RST, SYN};
    let (cl, sv) = (sa(client), sa(server));
    let seg = |from_client: bool, flags: u8, seq: u32, ack: u32| {
        let (src, dst) = if from_client { (cl, sv) } else { (sv, cl) };
        let t = Tcp { src_port: src.port(), dst_port: dst.port(), seq, ack, flags, window: 1024 };
        ip(src.ip(), dst.ip(), PROTO_TCP, 1, &tcp(src.ip(), dst.ip(), &t, &[]))
    };
    c.ip(&seg(true, SYN, 100, 0));
    match how {
        "refused" => c.ip(&seg(false, RST | ACK, 0, 101)),
        "half-open" => {
            c.ip(&seg(false, SYN | ACK, 500, 101));
            c.ip(&seg(true, RST, 101, 0));
        }
        _ => {
            c.ip(&seg(false, SYN | ACK, 500, 101));
            c.ip(&seg(true, ACK, 101, 501));
        }
    }
}

/// `n` attempts from one scanner port range: to ports of one host, or to port 502 of hosts.
fn probes(n: u16, across_hosts: bool, how: &'static str) -> Vec<u8> {
    cap(|c| {
        for i in 0..n {
            let target = if across_hosts { format!("10.0.0.{}:502", 10 + i) } else { format!("10.0.0.2:{}", 1 + i) };
            attempt(c, &format!("10.0.9.9:{}", 40000 + i), &target, how);
        }
    })
}

fn pings(hosts: u8) -> Vec<u8> {
    use otsentry_pcapgen::ip;
    cap(|c| {
        for i in 0..25u8 {
            let dst = std::net::IpAddr::from([10, 0, 0, 10 + i % hosts]);
            let echo = [8, 0, 0xF7, 0xFF, 0, 0, 0, 0]; // type 8, code 0, checksum, id, sequence
            c.ip(&ip("10.0.9.9".parse().unwrap(), dst, 1, u16::from(i), &echo));
        }
    })
}

/// ARP requests from one host for `hosts` distinct addresses, 25 in all.
fn arp_requests(hosts: u8) -> Vec<u8> {
    let me = "10.0.9.9".parse().unwrap();
    cap(|c| {
        for i in 0..25u8 {
            let target = std::net::Ipv4Addr::new(10, 0, 0, 10 + i % hosts);
            c.frame(&otsentry_pcapgen::arp(1, ROGUE_MAC, me, [0; 6], target));
        }
    })
}

fn stop_param() -> Vec<u8> {
    let mut p = vec![0x29, 0, 0, 0, 0, 0, 9];
    p.extend_from_slice(b"P_PROGRAM");
    p
}

#[test]
fn every_rule_has_a_case() {
    let rules = pack();
    // The sensor's health rules read events only a live sensor raises: they have their
    // own test below.
    let ids: Vec<&str> = rules.listing().iter().filter(|l| l.event != "health").map(|l| &*l.id).collect();
    let cased: Vec<&str> = CASES.iter().chain(baseline_cases::CASES).chain(trust_cases::CASES).map(|c| c.0).collect();
    let missing: Vec<_> = ids.iter().filter(|id| !cased.contains(id)).collect();
    let unknown: Vec<_> = cased.iter().filter(|id| !ids.contains(id)).collect();
    assert!(missing.is_empty() && unknown.is_empty(), "rules without a case: {missing:?}; cases without a rule: {unknown:?}");
    assert!(ids.len() >= 30, "the pack has {} rules", ids.len());
}

#[test]
fn each_rule_fires_on_its_traffic_and_not_on_the_near_miss() {
    let rules = pack();
    let mut failures = Vec::new();
    for (id, positive, negative) in CASES.iter().chain(baseline_cases::CASES).chain(trust_cases::CASES) {
        let got = alerts(&rules, positive(), &format!("{id}-pos"));
        if !got.contains_key(*id) {
            failures.push(format!("{id}: no alert on its traffic (got {got:?})"));
        }
        let got = alerts(&rules, negative(), &format!("{id}-neg"));
        if got.contains_key(*id) {
            failures.push(format!("{id}: alert on the near miss (got {got:?})"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Replays `pcap` (written as `name`) with `rules`: the summary and every alert, in order.
fn replay_alerts(rules: Arc<RuleSet>, pcap: Vec<u8>, name: &str) -> (otsentry_core::Summary, Vec<otsentry_core::Alert>) {
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}.pcap"));
    std::fs::write(&path, pcap).expect("write capture");
    let mut run: Pipeline = Pipeline::new(PipelineOptions { rules, ..Default::default() }, None);
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = seen.clone();
    run.on_alert(Box::new(move |a: &otsentry_core::Alert| sink.lock().unwrap().push(a.clone())));
    run.run_file(&path, &mut |_, _| {}).expect("replay");
    let summary = run.finish(1.0);
    let alerts = std::mem::take(&mut *seen.lock().unwrap());
    (summary, alerts)
}

/// A request is checked when it arrives: an unanswered PLC stop alerts at its own packet,
/// not an hour later when its flow expires.
#[test]
fn requests_alert_on_arrival_whether_or_not_they_are_answered() {
    let rules = pack();
    let pcap = cap(|c| {
        let mut conn = c.connect(ENG, S7); // packets 1-3
        c.client(&mut conn, &otsentry_pcapgen::ot::s7_plc_stop(7)); // packet 4, never answered
        c.wait(2 * 3600 * 1000);
        c.modbus(HMI, PLC, &[(&[0x03, 0x00, 0x00, 0x00, 0x01], None)]); // later traffic
    });
    let (_, seen) = replay_alerts(rules, pcap, "rule-arrival");
    let stop = seen.iter().find(|a| &*a.alert.info.rule_id == "s7comm.plc_stop").expect("the stop alert");
    assert_eq!(stop.header.pcap_cnt, Some(4), "raised by the job's own packet");
    assert_eq!(stop.header.timestamp.secs(), (T0 / 1_000_000_000) as i64);
    let (_, body) = stop.app.as_ref().expect("the job");
    assert!(body.get().contains("\"status\":\"request\""), "{}", body.get());
}

/// An HMI's S7comm-plus session from open to close (create, explore, the PLC's answers,
/// the session's own object deleted) is routine: nothing above info.
#[test]
fn an_s7comm_plus_session_closing_raises_nothing_above_info() {
    let rules = pack();
    let pcap = cap(|c| {
        let mut conn = c.connect(ENG, S7);
        let mut exchange = |request: Vec<u8>, answer: Vec<u8>| {
            c.client(&mut conn, &otsentry_pcapgen::ot::tpkt_cotp(&request));
            c.server(&mut conn, &otsentry_pcapgen::ot::tpkt_cotp(&answer));
        };
        exchange(s7plus_request(0x04CA, 1), s7plus_response(0x04CA, 1));
        exchange(s7plus_request(0x04BB, 2), s7plus_response(0x04BB, 2));
        exchange(s7plus_delete(0x120, 0x120, 3), s7plus_response(0x04D4, 3));
    });
    let (summary, seen) = replay_alerts(rules, pcap, "s7plus-session");
    assert_eq!(summary.protocols.get("s7comm_plus").map_or(0, |s| s.count("pdus")), 6, "every PDU dissected");
    let loud: Vec<String> = seen
        .iter()
        .filter(|a| a.alert.info.severity > otsentry_core::Severity::Info)
        .map(|a| format!("{} from {:?}", a.alert.info.rule_id, a.header.src_ip))
        .collect();
    assert!(loud.is_empty(), "{loud:?}");
    assert!(seen.iter().any(|a| &*a.alert.info.rule_id == "s7comm_plus.explore"), "the client's explore is still seen, at info");
}

/// A function code sweep the PLC refuses (exception 1 to each) is one sweep alert naming
/// the codes tried; the firmware and programming codes among them raise nothing of their
/// own. Accepted, the same firmware request alerts.
#[test]
fn a_refused_sweep_folds_into_the_sweep_alert() {
    let refused: Vec<(Vec<u8>, Vec<u8>)> = [40u8, 41, 42, 125, 126].iter().map(|&f| (vec![f, 0, 0], vec![f | 0x80, 0x01])).collect();
    let exchanges: Vec<(&[u8], Option<&[u8]>)> = refused.iter().map(|(q, a)| (&q[..], Some(&a[..]))).collect();
    let (_, seen) = replay_alerts(pack(), modbus(STRANGER, &exchanges), "sweep-refused");
    let ids: Vec<&str> = seen.iter().map(|a| &*a.alert.info.rule_id).collect();
    assert!(!ids.contains(&"modbus.firmware.replacement") && !ids.contains(&"modbus.program.modicon"), "{ids:?}");
    let sweep = seen.iter().find(|a| &*a.alert.info.rule_id == "modbus.scan.function_codes").expect("the sweep alert");
    let detail = serde_json::to_string(&sweep.alert).expect("json");
    assert!(detail.contains("40, 41, 42, 125, 126"), "the sweep lists the codes tried: {detail}");
    let accepted = modbus(STRANGER, &[(&[125, 0, 0], Some(&[125, 0, 0]))]);
    let (_, seen) = replay_alerts(pack(), accepted, "firmware-accepted");
    assert!(seen.iter().any(|a| &*a.alert.info.rule_id == "modbus.firmware.replacement"));
}

/// Every application-layer positive case still raises its rule when its packets are
/// reshaped the ways a device's stack accepts: TCP payloads cut into segments (in order
/// or last first), IPv4 packets fragmented, frames padded. Network rules judge the
/// packets themselves (ARP, scans, senders, relays, decode anomalies) and are left out.
#[test]
fn application_alerts_survive_segmentation_fragmentation_and_padding() {
    use otsentry_pcapgen::reshape::{reshape, Reshape};
    use proptest::prelude::*;
    let rules = pack();
    let cases: Vec<&Case> = CASES
        .iter()
        .chain(baseline_cases::CASES)
        .chain(trust_cases::CASES)
        .filter(|(id, _, _)| !id.starts_with("network.") && !id.starts_with("anomaly."))
        .collect();
    let config = ProptestConfig { cases: 32, failure_persistence: None, ..ProptestConfig::default() };
    let shapes = (any::<u64>(), any::<bool>(), any::<bool>(), any::<bool>(), 0usize..24);
    proptest!(config, |((seed, split, reverse, fragment, pad) in shapes)| {
        let how = Reshape { seed, split, reverse, fragment, pad };
        for (id, positive, _) in &cases {
            let got = alerts(&rules, reshape(&positive(), how), &format!("{id}-reshaped"));
            prop_assert!(got.contains_key(*id), "{id}: no alert after {how:?} (got {got:?})");
        }
    });
}
/// Found by the reshaping property test: segments sent last first are held until the
/// first arrives, and the protocol is then detected in the middle of draining them; the
/// rest of the drain kept the packet's context from before detection (no protocol), and
/// the baseline skipped the request.
#[test]
fn a_protocol_detected_while_draining_held_segments_is_known_to_the_rest() {
    use otsentry_pcapgen::reshape::{reshape, Reshape};
    let how = Reshape { seed: 3_481_284_552, split: true, reverse: true, fragment: false, pad: 0 };
    let (id, positive, _) = baseline_cases::CASES.iter().find(|c| c.0 == "baseline.pair.new").expect("case");
    let got = alerts(&pack(), reshape(&positive(), how), "drain-context");
    assert!(got.contains_key(*id), "{got:?}");
}

/// Each health event kind raises its "Sensor health" rule and no other, with no ATT&CK
/// technique; every health rule has its kind here.
#[test]
fn health_events_raise_their_sensor_health_rules() {
    let rules = pack();
    let health: Vec<_> = rules.listing().iter().filter(|l| l.event == "health").collect();
    let kinds = [
        ("interface_silent", "sensor.interface.silent"),
        ("kernel_drops", "sensor.kernel.drops"),
        ("interface_down", "sensor.interface.down"),
        ("interface_up", "sensor.interface.up"),
        ("output_spooling", "sensor.output.spooling"),
        ("output_dropping", "sensor.output.dropping"),
        ("reload_failed", "sensor.reload.failed"),
    ];
    assert_eq!(health.len(), kinds.len(), "{:?}", health.iter().map(|l| &l.id).collect::<Vec<_>>());
    for (kind, id) in kinds {
        let mut run = Pipeline::new(PipelineOptions { rules: rules.clone(), ..Default::default() }, None);
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = seen.clone();
        run.on_alert(Box::new(move |a: &otsentry_core::Alert| sink.lock().unwrap().push(a.clone())));
        let mut event = otsentry_engine::HealthEvent::new(kind, "test".into());
        event.interface = Some("eth1".into());
        run.health(&event, otsentry_core::Timestamp::from_secs_nanos(1, 0));
        let alerts = std::mem::take(&mut *seen.lock().unwrap());
        let ids: Vec<&str> = alerts.iter().map(|a| &*a.alert.info.rule_id).collect();
        assert_eq!(ids, [id], "{kind}");
        let info = &alerts[0].alert.info;
        assert!(info.techniques.is_empty() && &*info.category == "Sensor health", "{id}");
        assert!(health.iter().any(|l| &*l.id == id && (4_900_000..4_910_000).contains(&l.sid)), "{id} in the sensor's sid range");
        let summary = run.finish(1.0);
        assert_eq!(summary.sensor.health.get(kind), Some(&1), "{kind} counted");
    }
}
