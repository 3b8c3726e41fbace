//! Suricata rule text, arbitrary: converted or reported rule by rule, never a panic;
//! what converts compiles against the schemas (the import writes only rules that load).
#![no_main]
use otsentry_rules::{import_suricata, RuleSet, RuleSource, Sources};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let events: Vec<(&str, &str)> = [&otsentry_proto_modbus::DESCRIPTOR, &otsentry_proto_dnp3::DESCRIPTOR]
        .iter()
        .flat_map(|d| d.suricata_events.iter().copied())
        .collect();
    let imported = import_suricata("fuzz.rules", &text, &events);
    if imported.converted > 0 {
        let rules = vec![RuleSource { file: "imported.yaml".into(), text: imported.yaml }];
        let schemas = [&otsentry_proto_modbus::MODBUS_SCHEMA, &otsentry_proto_dnp3::DNP3_SCHEMA];
        let _ = RuleSet::load(&Sources { rules, vars: None, tuning: None }, &schemas);
    }
});
