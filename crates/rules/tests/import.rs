//! `rules import` on broken Suricata rule text: each rule converts or is reported with a
//! reason, the output stays a YAML list of rules, and nothing panics.
use otsentry_rules::import_suricata;
use proptest::prelude::*;

/// The Modbus and DNP3 crates' Suricata event names, as the engine's registry gives them.
fn events() -> Vec<(&'static str, &'static str)> {
    [&otsentry_proto_modbus::DESCRIPTOR, &otsentry_proto_dnp3::DESCRIPTOR].iter().flat_map(|d| d.suricata_events.iter().copied()).collect()
}

/// Rules in the forms the import handles (written for this test).
const CORPUS: &str = r#"alert modbus any any -> any 502 (msg:"write"; modbus: access write holding, address 100, value >5; sid:10; rev:2;)
alert modbus $HMI any -> [10.0.0.0/8,!10.1.0.0/16] 502 (msg:"unit"; modbus: unit 9<>12, function 8, subfunction 4; classtype:attempted-dos; sid:11;)
alert dnp3 any any -> any any (msg:"restart"; dnp3.func:cold_restart; flow:established,to_server; sid:12;)
alert dnp3 any any -> any any (msg:"ind"; dnp3.ind:+device_restart,need_time; threshold: type both, track by_src, count 3, seconds 60; sid:13;)
alert dnp3 any any -> any any (msg:"data"; dnp3_data; content:"|c3 06|"; offset:2; depth:4; content:!"abc"; nocase; distance:0; within:8; sid:14;)
alert dnp3 any any -> any any (msg:"event"; app-layer-event:dnp3.flooded; metadata: mitre_technique_id T0814, created_at 2020; sid:15;)
"#;

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn mutated_rules_convert_or_are_reported(at in 0usize..10_000, with in proptest::sample::select(vec![";", ":", "\"", "|", "(", ")", "!", ",", "<>", "-", " ", "\\", "\n", "0x", "&"])) {
        let at = at % CORPUS.len();
        let at = (0..=at).rev().find(|i| CORPUS.is_char_boundary(*i)).unwrap_or(0);
        let text = format!("{}{with}{}", &CORPUS[..at], &CORPUS[at..]);
        let out = import_suricata("m.rules", &text, &events());
        let rules: serde_yaml_ng::Value = serde_yaml_ng::from_str(&out.yaml).expect("the output is YAML");
        let listed = rules.as_sequence().map_or(0, Vec::len);
        prop_assert_eq!(listed, out.converted);
        prop_assert!(out.skipped.iter().all(|s| !s.message.is_empty() && s.line > 0));
    }

    #[test]
    fn any_text_at_all(text in "\\PC{0,300}") {
        let out = import_suricata("any.rules", &text, &events());
        prop_assert!(out.converted + out.skipped.len() <= text.lines().count() + 1);
    }
}

#[test]
fn the_corpus_converts_whole() {
    let out = import_suricata("corpus.rules", CORPUS, &events());
    assert_eq!((out.converted, out.skipped.len()), (6, 0), "{:?}", out.skipped);
    assert_eq!(out.without_attack, 5, "one rule names its technique in metadata");
    assert!(out.yaml.contains("attack:\n  - T0814"));
}
