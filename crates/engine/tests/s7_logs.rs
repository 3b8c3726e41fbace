//! S7 records compared by meaning with ICSNPP's logs for the same shared captures:
//! s7comm.log (one row per PDU), s7comm_read_szl.log, s7comm_upload_download.log and
//! s7comm_plus.log; and the attack captures' records (PLC stop, block download, password,
//! write flood).
use otsentry_pcapgen::shared::{self, zeek_log};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

mod common;

fn records<'a>(all: &'a [Value], event_type: &str) -> Vec<&'a Value> {
    all.iter().filter(|r| r["event_type"] == event_type).map(|r| &r[event_type]).collect()
}

/// ICSNPP reads the PDU reference in the other byte order.
fn icsnpp_ref(v: &Value) -> u64 {
    u64::from((v.as_u64().expect("pdu_ref") as u16).swap_bytes())
}

fn hex2(v: u64) -> String {
    format!("0x{v:02x}")
}

/// One s7comm.log row: is_orig, ROSCTR, PDU reference, function, sub-function, error code.
type Row = (String, u64, u64, String, String, String);

fn rows_from_log(path: &Path) -> BTreeMap<Row, u64> {
    let mut rows = BTreeMap::new();
    for r in zeek_log(path) {
        let err = r["error_code"].clone();
        let row = (
            r["is_orig"].clone(),
            r["rosctr_code"].parse().expect("rosctr"),
            r["pdu_reference"].parse().expect("pdu ref"),
            r["function_code"].clone(),
            r["subfunction_code"].clone(),
            err,
        );
        *rows.entry(row).or_default() += 1;
    }
    rows
}

/// Our records as s7comm.log rows: a job gives its request row and its ack's row; user
/// data one row. PI services name their service where ICSNPP puts a sub-function.
fn rows_from_ours(all: &[Value]) -> BTreeMap<Row, u64> {
    let mut rows = BTreeMap::new();
    for s in records(all, "s7comm") {
        let pdu = icsnpp_ref(&s["pdu_ref"]);
        if let Some(u) = s.get("userdata") {
            let request = u["type"] == "request";
            let code = (if request { 0x40 } else { 0x80 }) | u["function_group"].as_u64().unwrap();
            let err = if request { "-".to_string() } else { hex2(u["error_code"].as_u64().unwrap_or(0)) };
            let row = ((if request { "T" } else { "F" }).to_string(), 7, pdu, hex2(code), hex2(u["subfunction"].as_u64().unwrap()), err);
            *rows.entry(row).or_default() += 1;
            continue;
        }
        let function = hex2(s["function"].as_u64().unwrap());
        let sub = s["request"]["pi_service"].as_str().filter(|_| s["function"] == 0x28).unwrap_or("-").to_string();
        if s["status"] != "unmatched" {
            *rows.entry(("T".into(), 1, pdu, function.clone(), sub.clone(), "-".into())).or_default() += 1;
        }
        if let Some(r) = s["response_rosctr"].as_str() {
            let rosctr = if r == "ack_data" { 3 } else { 2 };
            let err = hex2(s["error_code"].as_u64().unwrap_or(0));
            // ICSNPP names the PI service on the job only.
            *rows.entry(("F".into(), rosctr, pdu, function, "-".into(), err)).or_default() += 1;
        }
    }
    rows
}

#[test]
fn icsnpp_s7comm_logs_are_reproduced() {
    let Some(dir) = shared::pcaps_dir() else {
        return;
    };
    for (pcap, extra) in [
        // What ICSNPP does not log: the ack without data that refuses the last upload
        // (PDU 21, error class 0xd2, code 0x0c), the first data unit of a two-part SZL answer (PDU 2,
        // data unit 213) and the follow-up request for the second (PDU 3).
        (
            "s7comm/icsnpp/snap7.pcap",
            vec![
                (("F".to_string(), 2, 21, "0x1d".to_string(), "-".to_string(), "0x0c".to_string()), 1),
                (("F".to_string(), 7, 2, "0x84".to_string(), "0x01".to_string(), "0x00".to_string()), 1),
                (("T".to_string(), 7, 3, "0x44".to_string(), "0x01".to_string(), "-".to_string()), 1),
            ],
        ),
        ("s7comm-plus/icsnpp/s7comm_plus.pcap", vec![]),
    ] {
        let log = dir.join(format!("{}.zeek-s7comm.log", pcap));
        let theirs = rows_from_log(&log);
        let mut ours = rows_from_ours(&common::eve(&dir.join(pcap)));
        for (row, n) in extra {
            assert_eq!(ours.remove(&row), Some(n), "{pcap}: the explained extra row {row:?}");
        }
        assert_eq!(ours, theirs, "{pcap}: s7comm.log rows");
    }
}

#[test]
fn icsnpp_read_szl_and_upload_download_logs_are_reproduced() {
    let Some(dir) = shared::pcaps_dir() else {
        return;
    };
    let all = common::eve(&dir.join("s7comm/icsnpp/snap7.pcap"));
    let ours = records(&all, "s7comm");

    // Read SZL: (is_orig, PDU reference, SZL id, index, return code) per request and
    // response. ICSNPP has no row for the follow-up request and its continuation (PDU 3),
    // whose data unit carries records, not an SZL id; and none for the first part of that
    // two-part answer (PDU 2), logged with the request alone.
    type Szl = (String, u64, String, String, String);
    let theirs: Vec<Szl> = zeek_log(&dir.join("s7comm/icsnpp/snap7.pcap.icsnpp-s7comm_read_szl.log"))
        .into_iter()
        .map(|r| {
            (
                r["is_orig"].clone(),
                r["pdu_reference"].parse().unwrap(),
                r["szl_id"].clone(),
                r["szl_index"].clone(),
                r["return_code"].clone(),
            )
        })
        .collect();
    let mine: Vec<Szl> = ours
        .iter()
        .filter_map(|s| {
            let u = s.get("userdata")?;
            let szl = u.get("szl")?;
            let orig = if u["type"] == "request" { "T" } else { "F" };
            let row = (
                orig.to_string(),
                icsnpp_ref(&s["pdu_ref"]),
                format!("0x{:04x}", szl["id"].as_u64()?),
                format!("0x{:04x}", szl["index"].as_u64()?),
                hex2(u["return_code"].as_u64()?),
            );
            Some(row)
        })
        .filter(|r| !(r.0 == "F" && r.1 == 2))
        .collect();
    assert_eq!(mine, theirs, "read SZL rows, in order");
    // And what ICSNPP does not decode: the identification itself.
    let module =
        ours.iter().find_map(|s| s["userdata"]["szl"]["modules"].as_array().and_then(|m| m.first())).expect("module identification");
    assert_eq!(module["order_number"], "6ES7 315-2EH14-0AB0");
    let firmware = ours
        .iter()
        .filter_map(|s| s["userdata"]["szl"]["modules"].as_array())
        .flatten()
        .find(|m| m["what"] == "basic_firmware")
        .expect("firmware record");
    assert_eq!(firmware["version"], "V3.2.7");
    let components: Vec<_> = ours.iter().filter_map(|s| s["userdata"]["szl"]["components"].as_array()).flatten().collect();
    assert!(components.iter().any(|c| c["what"] == "plc_name" && c["value"] == "S7300/ET200M station_1"), "{components:?}");
    let mode = ours.iter().find_map(|s| s["userdata"]["szl"]["cpu_mode"].as_str());
    assert_eq!(mode, Some("run"));
    // The block list, as tshark shows it for frame 16.
    let counts: Vec<(String, u64)> = ours
        .iter()
        .filter_map(|s| s["userdata"]["block_counts"].as_array())
        .flatten()
        .map(|c| (c["block_type"].as_str().unwrap().to_string(), c["count"].as_u64().unwrap()))
        .collect();
    let expected = [("OB", 1), ("FB", 1), ("FC", 0), ("DB", 2), ("SDB", 8), ("SFC", 77), ("SFB", 15)];
    assert_eq!(counts, expected.map(|(t, n)| (t.to_string(), n)));

    // Upload/download: per job and ack, the function, status, session id, block length
    // and the block (file name, type, number, file system).
    type Transfer = (String, u64, String, String, String, String, String, String, String);
    let long = |t: &str| match t {
        "OB" => "Organization Block",
        "DB" => "Data Block",
        "SDB" => "System Data Block",
        "FC" => "Function",
        "FB" => "Function Block",
        _ => "-",
    };
    let dash = |v: &Value| v.as_u64().map_or("-".to_string(), |n| n.to_string());
    let theirs: Vec<Transfer> = zeek_log(&dir.join("s7comm/icsnpp/snap7.pcap.icsnpp-s7comm_upload_download.log"))
        .into_iter()
        .map(|r| {
            let number = r["block_number"].parse::<u64>().map_or("-".to_string(), |n| n.to_string());
            let fs = r["destination_filesystem"].to_lowercase().replace('-', "");
            let status = r["function_status"].clone();
            (
                r["is_orig"].clone(),
                r["pdu_reference"].parse().unwrap(),
                status,
                r["session_id"].clone(),
                r["blocklength"].clone(),
                r["filename"].clone(),
                r["block_type"].clone(),
                number,
                fs,
            )
        })
        .collect();
    let mut mine: Vec<Transfer> = Vec::new();
    for s in ours.iter().filter(|s| (0x1A..=0x1F).contains(&s["function"].as_u64().unwrap_or(0))) {
        let pdu = icsnpp_ref(&s["pdu_ref"]);
        for (orig, part) in [("T", &s["request"]), ("F", &s["response"])] {
            if part.is_null() || (orig == "F" && s["response_rosctr"] != "ack_data") {
                continue;
            }
            let b = &part["block"];
            mine.push((
                orig.to_string(),
                pdu,
                part["function_status"].as_u64().map_or("-".to_string(), hex2),
                dash(&part["session_id"]),
                dash(&part["block_length"]),
                b["filename"].as_str().unwrap_or("-").to_string(),
                b["block_type"].as_str().map_or("-", long).to_string(),
                dash(&b["block_number"]),
                b["filesystem"].as_str().unwrap_or("").to_string(),
            ));
        }
    }
    assert_eq!(mine, theirs, "upload/download rows, in order");
}

#[test]
fn icsnpp_s7comm_plus_log_is_reproduced() {
    let Some(dir) = shared::pcaps_dir() else {
        return;
    };
    let all = common::eve(&dir.join("s7comm-plus/icsnpp/s7comm_plus.pcap"));
    type Plus = (String, u64, String, String);
    let theirs: Vec<Plus> = zeek_log(&dir.join("s7comm-plus/icsnpp/s7comm_plus.pcap.icsnpp-s7comm_plus.log"))
        .into_iter()
        .map(|r| (r["is_orig"].clone(), r["version"].parse().unwrap(), r["opcode"].clone(), r["function_code"].clone()))
        .collect();
    let mine: Vec<Plus> = all
        .iter()
        .filter(|r| r["event_type"] == "s7comm_plus")
        .map(|r| {
            let p = &r["s7comm_plus"];
            let orig = if r["dest_port"] == 102 { "T" } else { "F" };
            let function = p["function"].as_u64().map_or("-".to_string(), |f| format!("0x{f:04x}"));
            (orig.to_string(), p["version"].as_u64().unwrap(), hex2(p["opcode"].as_u64().unwrap()), function)
        })
        .collect();
    assert_eq!(mine.len(), 121);
    assert_eq!(mine, theirs, "s7comm_plus rows, in order");
    // V3 carries its integrity digest on every PDU.
    assert!(all.iter().filter(|r| r["event_type"] == "s7comm_plus").all(|r| r["s7comm_plus"]["integrity"] == true));
}

/// The S7 attack captures produce the records an analyst needs.
#[test]
fn attack_captures_produce_the_right_records() {
    let Some(dir) = shared::pcaps_dir() else {
        return;
    };
    let jobs = |pcap: &str| -> Vec<Value> {
        common::eve(&dir.join(pcap)).into_iter().filter(|r| r["event_type"] == "s7comm" && r["s7comm"].get("userdata").is_none()).collect()
    };
    // PLC stop: the job, its service name, and the PLC's acceptance.
    for pcap in ["s7comm/gymgit/step7_s300_stop.pcapng", "s7comm/gymgit/snap7_s300_stop.pcapng"] {
        let stops: Vec<Value> = jobs(pcap).into_iter().filter(|r| r["s7comm"]["function_name"] == "plc_stop").collect();
        assert_eq!(stops.len(), 1, "{pcap}");
        let s = &stops[0]["s7comm"];
        assert_eq!(
            (s["request"]["pi_service"].as_str(), s["status"].as_str(), s["error_class"].as_u64()),
            (Some("P_PROGRAM"), Some("complete"), Some(0)),
            "{pcap}"
        );
    }
    // Block downloads: request, blocks, end, then the insert into the program.
    for (pcap, kind, blocks) in [
        ("s7comm/gymgit/step7_s300_download.pcapng", "DB", 1),
        ("s7comm/gymgit/tia_s300_downloadOb1.pcapng", "OB", 2),
        ("s7comm/iti/s7comm_downloading_block_db1.pcap", "DB", 3),
    ] {
        let all = jobs(pcap);
        let named = |f: &str| all.iter().filter(|r| r["s7comm"]["function_name"] == f).map(|r| &r["s7comm"]).collect::<Vec<_>>();
        let request = named("request_download");
        assert_eq!(request.len(), 1, "{pcap}");
        let b = &request[0]["request"]["block"];
        assert_eq!(
            (b["block_type"].as_str(), b["block_number"].as_u64(), request[0]["status"].as_str()),
            (Some(kind), Some(1), Some("complete")),
            "{pcap}"
        );
        assert_eq!(named("download_block").len(), blocks, "{pcap}");
        // The PLC asks for the blocks: those jobs come from port 102.
        assert!(all.iter().filter(|r| r["s7comm"]["function_name"] == "download_block").all(|r| r["src_port"] == 102), "{pcap}");
        assert_eq!(named("download_ended").len(), 1, "{pcap}");
        let insert = named("pi_service");
        assert_eq!(insert[0]["request"]["pi_service"], "_INSE", "{pcap}");
        assert_eq!(insert[0]["request"]["pi_blocks"][0]["block_type"], kind, "{pcap}");
    }
    // A password attempt: user data, security group, the password's length only.
    let all = common::eve(&dir.join("s7comm/gymgit/step7_s300_AuthPassword.pcapng"));
    let security: Vec<&Value> =
        records(&all, "s7comm").into_iter().filter(|s| s["userdata"]["subfunction_name"] == "plc_password").collect();
    assert_eq!(security.len(), 2, "request and response");
    assert_eq!(security.iter().filter_map(|s| s["userdata"]["password_length"].as_u64()).collect::<Vec<_>>(), vec![8]);
    // The QUT write flood: 17,608 writes of one byte to M101.0 from the attacker, among
    // the HMI's 16 writes to M101.1; every write acknowledged.
    let all = jobs("s7comm/qut2017/20161215190548.WaterTankOnManu_Flooding.master.pcap");
    let mut writes: BTreeMap<(String, String, String), u64> = BTreeMap::new();
    for r in all.iter().filter(|r| r["s7comm"]["function_name"] == "write_var") {
        let item = &r["s7comm"]["request"]["items"][0];
        let key = (
            r["src_ip"].as_str().unwrap().to_string(),
            item["area"].as_str().unwrap().to_string(),
            item["address"].as_str().unwrap().to_string(),
        );
        assert_eq!(r["s7comm"]["status"], "complete");
        *writes.entry(key).or_default() += 1;
    }
    let flood = ("10.10.10.66".to_string(), "flags".to_string(), "101.0".to_string());
    assert_eq!(writes.get(&flood), Some(&17_608));
    assert_eq!(writes.values().sum::<u64>(), 17_624);
}

/// Clock reads and the clock set, as tshark decodes them (`s7comm.data.ts`).
#[test]
fn plc_clock_reads_and_set_equal_tsharks() {
    let Some(dir) = shared::pcaps_dir() else {
        return;
    };
    let all = common::eve(&dir.join("s7comm/iti/s7comm_reading_setting_plc_time.pcap"));
    let clocks: Vec<(u64, String, String)> = all
        .iter()
        .filter_map(|r| {
            let u = r["s7comm"].get("userdata")?;
            Some((r["pcap_cnt"].as_u64()?, u["subfunction_name"].as_str()?.to_string(), u["clock"].as_str()?.to_string()))
        })
        .collect();
    let expected = [
        (26, "read_clock", "2014-08-20 11:59:43.912"),
        (36, "read_clock", "2014-08-20 11:59:44.957"),
        (40, "read_clock", "2014-08-20 11:59:45.972"),
        (43, "set_clock", "2014-08-20 11:59:33.040"),
        (47, "read_clock", "2014-08-20 11:59:33.045"),
        (52, "read_clock", "2014-08-20 11:59:33.746"),
    ];
    assert_eq!(clocks, expected.map(|(n, f, c)| (n, f.to_string(), c.to_string())));
}
