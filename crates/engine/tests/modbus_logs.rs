//! Modbus records compared by meaning with the logs other tools wrote for the same shared
//! captures: CISA ICSNPP's modbus_detailed, mask_write_register and
//! read_write_multiple_registers logs, Zeek's modbus.log, and the `event_type: modbus`
//! checks of the suricata-verify test (through a field-mapping table).
use otsentry_pcapgen::shared::{self, zeek_log};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

mod common;

fn modbus_records(path: &Path) -> Vec<Value> {
    common::eve(path).into_iter().filter(|l| l["event_type"] == "modbus").collect()
}

/// Zeek/ICSNPP's function name as ours.
fn function_name(zeek: &str) -> String {
    match zeek {
        "REPORT_SLAVE_ID" => "report_server_id".into(),
        "ENCAP_INTERFACE_TRANSPORT" => "encapsulated_interface_transport".into(),
        other => other.to_ascii_lowercase(),
    }
}

fn numbers(field: &str) -> Option<Vec<u64>> {
    (field != "-").then(|| field.split(',').map(|v| v.parse().expect("number")).collect())
}

fn as_numbers(v: &Value) -> Option<Vec<u64>> {
    v.as_array().map(|a| a.iter().map(|x| x.as_u64().expect("number")).collect())
}

fn find<'a>(records: &'a [Value], tid: &str, unit: &str, function: &str) -> &'a Value {
    let (tid, unit): (u64, u64) = (tid.parse().unwrap(), unit.parse().unwrap());
    records
        .iter()
        .find(|r| {
            let m = &r["modbus"];
            m["transaction_id"] == tid && m["unit_id"] == unit && m["function_name"] == function
        })
        .unwrap_or_else(|| panic!("no record for transaction {tid} unit {unit} {function}"))
}

#[test]
fn icsnpp_modbus_example_logs_are_reproduced() {
    let Some(dir) = shared::pcaps_dir() else {
        return;
    };
    let base = dir.join("modbus/icsnpp/modbus_example.pcap");
    let records = modbus_records(&base);
    let log = |suffix: &str| zeek_log(&dir.join(format!("modbus/icsnpp/modbus_example.pcap.icsnpp-{suffix}.log")));

    let detailed = log("modbus_detailed");
    assert!(detailed.len() >= 24);
    for row in &detailed {
        let f = function_name(&row["func"]);
        let m = &find(&records, &row["tid"], &row["unit"], &f)["modbus"];
        let ctx = format!("tid {} {f}", row["tid"]);
        // ICSNPP's address/quantity columns are the wire values; functions with their own
        // logs (22, 23) and file records leave them empty or 0.
        if let (Some(a), false) = (numbers(&row["address"]), matches!(f.as_str(), "read_fifo_queue")) {
            assert_eq!(as_numbers(&Value::Array(vec![m["address"].clone()])), Some(a), "{ctx}: address");
        }
        if let Some(q) = numbers(&row["quantity"]).filter(|q| q != &[0]) {
            assert_eq!(m["quantity"].as_u64(), q.first().copied(), "{ctx}: quantity");
        }
        if let Some(v) = numbers(&row["request_values"]) {
            assert_eq!(as_numbers(&m["values"]), Some(v), "{ctx}: request values");
        }
        if let Some(v) = numbers(&row["response_values"]) {
            assert_eq!(as_numbers(&m["response_values"]), Some(v), "{ctx}: response values");
        }
        if row["exception_code"] != "-" {
            assert_eq!(m["exception"]["name"].as_str().map(str::to_ascii_uppercase), Some(row["exception_code"].clone()), "{ctx}");
        }
        if row["mei_type"] == "Read Device Identification" {
            assert_eq!(m["mei_type"], 14, "{ctx}");
        }
        if row["request_subfunction_code"] == "Return Diagnostic Register" {
            assert_eq!(m["diagnostic"]["name"], "return_diagnostic_register", "{ctx}");
        }
    }

    for row in log("modbus_mask_write_register") {
        let m = &find(&records, &row["tid"], &row["unit"], "mask_write_register")["modbus"];
        for (theirs, ours) in [("address", "address"), ("and_mask", "and_mask"), ("or_mask", "or_mask")] {
            assert_eq!(m[ours].as_u64(), row[theirs].parse().ok(), "mask write tid {}: {theirs}", row["tid"]);
        }
    }

    for row in log("modbus_read_write_multiple_registers") {
        let m = &find(&records, &row["tid"], &row["unit"], "read_write_multiple_registers")["modbus"];
        let ctx = format!("read/write tid {} {}", row["tid"], row["request_response"]);
        if row["request_response"] == "REQUEST" {
            assert_eq!(m["write_address"].as_u64(), row["write_start_address"].parse().ok(), "{ctx}");
            assert_eq!(as_numbers(&m["values"]), numbers(&row["write_registers"]), "{ctx}");
            assert_eq!(m["address"].as_u64(), row["read_start_address"].parse().ok(), "{ctx}");
            assert_eq!(m["quantity"].as_u64(), row["read_quantity"].parse().ok(), "{ctx}");
        } else {
            assert_eq!(as_numbers(&m["response_values"]), numbers(&row["read_registers"]), "{ctx}");
        }
    }
}

#[test]
fn plant1_zeek_modbus_log_is_reproduced() {
    let Some(dir) = shared::pcaps_dir() else {
        return;
    };
    let records = modbus_records(&dir.join("modbus/plant1/Plant1_ModbusTCP.pcap"));
    let rows = zeek_log(&dir.join("modbus/plant1/Plant1_ModbusTCP.pcap.zeek-modbus.log"));
    // Zeek logs one row per response: (client port, transaction, unit, function, exception).
    let mut theirs: BTreeMap<(u64, u64, u64, String, String), u64> = BTreeMap::new();
    for r in &rows {
        let key = (
            r["id.orig_p"].parse().unwrap(),
            r["tid"].parse().unwrap(),
            r["unit"].parse().unwrap(),
            function_name(&r["func"]),
            r["exception"].clone(),
        );
        *theirs.entry(key).or_default() += 1;
    }
    let mut ours: BTreeMap<(u64, u64, u64, String, String), u64> = BTreeMap::new();
    for rec in records.iter().filter(|r| r["modbus"]["status"] != "unanswered") {
        let m = &rec["modbus"];
        let exception = m["exception"]["name"].as_str().map_or("-".to_string(), str::to_ascii_uppercase);
        let key = (
            rec["src_port"].as_u64().unwrap(),
            m["transaction_id"].as_u64().unwrap(),
            m["unit_id"].as_u64().unwrap(),
            m["function_name"].as_str().unwrap().to_string(),
            exception,
        );
        *ours.entry(key).or_default() += 1;
    }
    assert_eq!(rows.len(), 7986);
    assert_eq!(ours, theirs, "every response transaction with its function, unit and exception");
}

/// Suricata's EVE field → how to read it from ours.
fn suricata_field(record: &Value, field: &str) -> Option<Value> {
    let m = &record["modbus"];
    match field {
        // Suricata numbers a flow's transactions from 1, as our tx_id does.
        "modbus.id" => Some(m["tx_id"].clone()),
        // Only transactions whose request was seen carry a request function.
        "modbus.request.function_code" => {
            let name = match m["function"].as_u64()? {
                1 => "RdCoils",
                2 => "RdDiscInp",
                3 => "RdHoldRegs",
                4 => "RdInpRegs",
                5 => "WrSingleCoil",
                6 => "WrSingleReg",
                8 => "Diagnostic",
                15 => "WrMultCoils",
                16 => "WrMultRegs",
                43 => "MEI",
                _ => return None,
            };
            (m["status"] != "unsolicited").then(|| Value::from(name))
        }
        _ => None,
    }
}

#[test]
fn suricata_verify_modbus_event_checks_are_reproduced() {
    let Some(dir) = shared::pcaps_dir() else {
        return;
    };
    let records = modbus_records(&dir.join("modbus/suricata-verify/modbus.pcap"));
    let yaml = std::fs::read_to_string(dir.join("modbus/suricata-verify/modbus.pcap.suricata-test.yaml")).expect("test.yaml");
    // The `event_type: modbus` filters: a count and one field match each.
    let mut checks = Vec::new();
    let mut count = None;
    let mut is_modbus = false;
    for line in yaml.lines().map(str::trim) {
        if line.starts_with("- filter:") {
            (count, is_modbus) = (None, false);
        } else if let Some(c) = line.strip_prefix("count: ") {
            count = c.parse::<usize>().ok();
        } else if line == "event_type: modbus" {
            is_modbus = true;
        } else if let (true, Some((k, v))) = (is_modbus, line.split_once(": ")) {
            if k.starts_with("modbus.") {
                checks.push((count.expect("count before match"), k.to_string(), v.trim_matches('"').to_string()));
            }
        }
    }
    assert_eq!(checks.len(), 2, "{checks:?}");
    for (expected, field, value) in checks {
        let want: Value = value.parse::<u64>().map(Value::from).unwrap_or_else(|_| Value::from(value.clone()));
        let got = records.iter().filter(|r| suricata_field(r, &field).as_ref() == Some(&want)).count();
        assert_eq!(got, expected, "{field}: {value}");
    }
}
