//! Broken rule files never win: any mutation of the built-in pack, and any text at all,
//! loads or fails with errors; nothing panics.
use otsentry_core::{FieldDef, FieldId, FieldType, Schema};
use otsentry_rules::{default_pack, RuleSet, RuleSource, Sources};
use proptest::prelude::*;

static MODBUS_LIKE: Schema = Schema {
    event_type: "modbus",
    fields: &[FieldDef::one("modbus.function", FieldType::Uint), FieldDef::each("modbus.register", FieldType::Uint, 0)],
    groups: &["registers"],
    keys: &[FieldId(0)],
};

fn load(rules: String, vars: Option<String>, tuning: Option<String>) {
    let src = |name: &str, text: String| RuleSource { file: name.into(), text };
    let sources =
        Sources { rules: vec![src("r.yaml", rules)], vars: vars.map(|v| src("v.yaml", v)), tuning: tuning.map(|t| src("t.yaml", t)) };
    match RuleSet::load(&sources, &[&MODBUS_LIKE]) {
        Ok(_) => {}
        Err(e) => assert!(!e.0.is_empty() && e.0.iter().all(|x| !x.message.is_empty()), "an error says what is wrong"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn mutated_pack_files_never_panic(file in 0usize..4, at in 0usize..100_000, with in proptest::sample::select(vec![":", "-", " ", "\n", "[", "]", "{", "'", "\"", "0x", "$", "!", "*", "x"])) {
        let pack = default_pack(&[]);
        let text = &pack[file % pack.len()].text;
        let at = at % text.len().max(1);
        let at = (0..=at).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
        let mutated = format!("{}{with}{}", &text[..at], &text[at..]);
        load(mutated, None, None);
    }

    #[test]
    fn any_text_never_panics(rules in ".{0,200}", vars in proptest::option::of(".{0,80}"), tuning in proptest::option::of(".{0,80}")) {
        load(rules, vars, tuning);
    }
}

#[test]
fn deep_and_odd_documents_are_errors() {
    for text in ["- [[[[[[[[[[]]]]]]]]]]", "- id: a\n  match: 5", "{a: 1}", "- 7", "- id: x\n  sid: -1", "- id: x\n  sid: 1\n  name: n\n  description: d\n  severity: low\n  category: c\n  attack: [T0855]\n  match: {modbus.register: '5-'}\n"] {
        load(text.to_string(), None, None);
    }
}
