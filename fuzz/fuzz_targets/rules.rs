//! Rule, variables and tuning files from arbitrary text: an error or a rule set, never a
//! panic. The input is split at NUL bytes into the three files.
#![no_main]
use otsentry_rules::{RuleSet, RuleSource, Sources};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.split('\0');
    let src = |name: &str, t: Option<&str>| t.map(|t| RuleSource { file: name.into(), text: t.to_string() });
    let rules = src("rules.yaml", parts.next()).into_iter().collect();
    let sources = Sources { rules, vars: src("vars.yaml", parts.next()), tuning: src("tuning.yaml", parts.next()) };
    let schemas = [&otsentry_proto_modbus::MODBUS_SCHEMA, &otsentry_proto_dnp3::DNP3_SCHEMA, &otsentry_proto_s7comm::S7_SCHEMA];
    let _ = RuleSet::load(&sources, &schemas);
});
