//! What a rule means, on a toy event type: conditions by id, repeated groups matched
//! element-wise, stages, direction, flow conditions, variables, thresholds,
//! suppression and tuning.
use otsentry_core::{FieldAccess, FieldDef, FieldId, FieldType, FieldValue, Schema, Stage, Timestamp};
use otsentry_rules::{Detector, RuleSet, RuleSource, Sources, Subject};
use std::net::IpAddr;
use std::sync::Arc;

/// `toy.function`, `toy.exception` (known on response), and items with an area and a value.
static TOY: Schema = Schema {
    event_type: "toy",
    fields: &[
        FieldDef::one("toy.function", FieldType::Uint),
        FieldDef::one("toy.exception", FieldType::Uint).answered(),
        FieldDef::each("toy.item.area", FieldType::Str, 0),
        FieldDef::each("toy.item.value", FieldType::Float, 0),
        FieldDef::one("toy.unit", FieldType::Uint),
    ],
    groups: &["items"],
    keys: &[FieldId(0)],
};

struct Toy {
    stage: Stage,
    function: u64,
    exception: Option<u64>,
    items: Vec<(&'static str, f64)>,
    unit: u64,
}

impl Toy {
    fn request(function: u64) -> Toy {
        Toy { stage: Stage::Request, function, exception: None, items: Vec::new(), unit: 1 }
    }
}

impl FieldAccess for Toy {
    fn schema(&self) -> &'static Schema {
        &TOY
    }
    fn stage(&self) -> Stage {
        self.stage
    }
    fn elements(&self, group: u8) -> usize {
        if group == 0 {
            self.items.len()
        } else {
            0
        }
    }
    fn value(&self, id: FieldId, elem: usize) -> Option<FieldValue<'_>> {
        match id.0 {
            0 => Some(FieldValue::U64(self.function)),
            1 => self.exception.map(FieldValue::U64),
            2 => self.items.get(elem).map(|i| FieldValue::Str(i.0)),
            3 => self.items.get(elem).map(|i| FieldValue::F64(i.1)),
            4 => Some(FieldValue::U64(self.unit)),
            _ => None,
        }
    }
}

fn load(rules: &str, vars: Option<&str>, tuning: Option<&str>) -> Arc<RuleSet> {
    let src = |name: &str, text: &str| RuleSource { file: name.into(), text: text.into() };
    let sources =
        Sources { rules: vec![src("t.yaml", rules)], vars: vars.map(|v| src("v.yaml", v)), tuning: tuning.map(|t| src("u.yaml", t)) };
    Arc::new(RuleSet::load(&sources, &[&TOY]).unwrap_or_else(|e| panic!("{e}")))
}

fn rule(id: &str, body: &str) -> String {
    static SID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let sid = SID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let body: String = body.lines().map(|l| format!("  {l}\n")).collect();
    format!("- id: {id}\n  sid: {sid}\n  name: {id}\n  description: test\n  severity: high\n  category: test\n  attack: [T0855]\n{body}")
}

fn subject(src: &str, ts_s: i64) -> Subject<'static> {
    Subject {
        ts: Timestamp::from_secs_nanos(ts_s, 0),
        src: src.parse::<IpAddr>().unwrap(),
        dst: "10.0.0.2".parse().unwrap(),
        src_port: Some(40000),
        dst_port: Some(502),
        vlan: &[],
        to_server: true,
        flow_id: 7,
    }
}

fn fired(d: &mut Detector, s: &Subject<'_>, e: &Toy) -> Vec<String> {
    let mut ids = Vec::new();
    d.check(s, e, &mut |h| ids.push(h.info.rule_id.to_string()));
    ids
}

#[test]
fn conditions_on_one_group_hold_for_the_same_element() {
    let set = load(&rule("outputs.high", "match:\n  toy.item.area: outputs\n  toy.item.value: '>100'"), None, None);
    let mut d = Detector::new(set);
    let s = subject("10.0.1.1", 0);
    let split = Toy { items: vec![("outputs", 5.0), ("flags", 500.0)], ..Toy::request(5) };
    assert!(fired(&mut d, &s, &split).is_empty(), "the area and the value are of different items");
    let same = Toy { items: vec![("flags", 5.0), ("outputs", 500.0)], ..Toy::request(5) };
    assert_eq!(fired(&mut d, &s, &same), vec!["outputs.high"]);
}

#[test]
fn rules_needing_the_answer_wait_for_the_transaction() {
    let set = load(&(rule("on.request", "match:\n  toy.function: 8") + &rule("on.answer", "match:\n  toy.exception: 1-3")), None, None);
    let mut d = Detector::new(set);
    let s = subject("10.0.1.1", 0);
    assert_eq!(fired(&mut d, &s, &Toy::request(8)), vec!["on.request"], "checked when the request arrives");
    let done = Toy { stage: Stage::Transaction, exception: Some(2), ..Toy::request(8) };
    assert_eq!(fired(&mut d, &s, &done), vec!["on.answer"], "the request's rule is not checked twice");
    let msg = Toy { stage: Stage::Message, exception: Some(2), ..Toy::request(8) };
    assert_eq!(fired(&mut d, &s, &msg).len(), 2, "a message meets both");
}

#[test]
fn direction_flow_conditions_and_unless() {
    let text = rule(
        "writes",
        "match:\n  direction: request\n  toy.function: [5, 6]\n  dst_port: 502\n  src: 10.0.0.0/8\nunless:\n  - src: 10.0.1.0/24\n  - toy.unit: 9",
    );
    let mut d = Detector::new(load(&text, None, None));
    assert_eq!(fired(&mut d, &subject("10.0.9.9", 0), &Toy::request(6)), vec!["writes"]);
    assert!(fired(&mut d, &subject("10.0.1.9", 0), &Toy::request(6)).is_empty(), "allowed source");
    assert!(fired(&mut d, &subject("192.168.0.1", 0), &Toy::request(6)).is_empty(), "outside src");
    assert!(fired(&mut d, &subject("10.0.9.9", 0), &Toy { unit: 9, ..Toy::request(6) }).is_empty(), "allowed unit");
    assert!(fired(&mut d, &subject("10.0.9.9", 0), &Toy::request(3)).is_empty(), "other function");
    let reply = Subject { to_server: false, ..subject("10.0.9.9", 0) };
    assert!(fired(&mut d, &reply, &Toy { stage: Stage::Message, ..Toy::request(6) }).is_empty(), "a message the other way");
}

#[test]
fn variables_resolve_and_missing_ones_keep_a_rule_quiet() {
    let text = rule("outside.hmi", "match:\n  toy.function: 6\n  src: '!$HMI'");
    let quiet = load(&text, None, None);
    assert_eq!(quiet.active(), 0);
    assert_eq!(quiet.listing()[0].missing, vec!["HMI".to_string()]);
    let mut d = Detector::new(quiet);
    assert!(fired(&mut d, &subject("10.0.9.9", 0), &Toy::request(6)).is_empty());
    let mut d = Detector::new(load(&text, Some("HMI: [10.0.1.0/24, 10.0.2.7]"), None));
    assert_eq!(fired(&mut d, &subject("10.0.9.9", 0), &Toy::request(6)), vec!["outside.hmi"]);
    assert!(fired(&mut d, &subject("10.0.2.7", 0), &Toy::request(6)).is_empty());
}

#[test]
fn thresholds_count_within_the_window_per_tracked_key() {
    let text = rule("burst", "match:\n  toy.function: 3\nthreshold: {count: 3, seconds: 10, track: by_src}");
    let mut d = Detector::new(load(&text, None, None));
    let e = Toy::request(3);
    let a = |t| subject("10.0.0.1", t);
    assert!(fired(&mut d, &a(0), &e).is_empty());
    assert!(fired(&mut d, &subject("10.0.0.9", 1), &e).is_empty(), "another source counts apart");
    assert!(fired(&mut d, &a(2), &e).is_empty());
    assert_eq!(fired(&mut d, &a(3), &e), vec!["burst"], "the third within 10 s");
    assert!(fired(&mut d, &a(4), &e).is_empty(), "counting starts again");
    assert!(fired(&mut d, &a(30), &e).is_empty(), "the window expired: one match in a new one");
    assert_eq!(d.counts().thresholded, 5);
}

#[test]
fn distinct_thresholds_count_values_not_matches() {
    let text = rule("sweep", "match:\n  toy.function: 0-127\nthreshold: {count: 3, seconds: 60, distinct: toy.function}");
    let mut d = Detector::new(load(&text, None, None));
    let s = subject("10.0.0.1", 0);
    for f in [1, 1, 1, 2, 2] {
        assert!(fired(&mut d, &s, &Toy::request(f)).is_empty(), "{f}");
    }
    assert_eq!(fired(&mut d, &s, &Toy::request(3)), vec!["sweep"]);
}

/// A live sensor's clock ages windows without events: those that ended are forgotten,
/// those still open are kept and go on counting.
#[test]
fn windows_age_with_time_alone() {
    let text = format!(
        "{}{}",
        rule("burst", "match:\n  toy.function: 3\nthreshold: {count: 3, seconds: 10, track: by_src}"),
        rule("noisy", "match:\n  toy.function: 8\nsuppress: {seconds: 60, track: by_pair}")
    );
    let mut d = Detector::new(load(&text, None, None));
    assert!(fired(&mut d, &subject("10.0.0.1", 0), &Toy::request(3)).is_empty());
    assert!(fired(&mut d, &subject("10.0.0.2", 5), &Toy::request(3)).is_empty());
    assert_eq!(fired(&mut d, &subject("10.0.0.1", 0), &Toy::request(8)).len(), 1);
    assert_eq!(d.state_len(), 3, "two threshold windows, one suppression");
    d.age(Timestamp::from_secs_nanos(12, 0));
    assert_eq!(d.state_len(), 2, "the first source's window ended at 10 s");
    assert!(fired(&mut d, &subject("10.0.0.2", 13), &Toy::request(3)).is_empty(), "the second's goes on: 2 of 3");
    assert_eq!(fired(&mut d, &subject("10.0.0.2", 14), &Toy::request(3)), vec!["burst"]);
    d.age(Timestamp::from_secs_nanos(61, 0));
    assert_eq!(d.state_len(), 0, "the suppression ended at 60 s");
    assert_eq!(fired(&mut d, &subject("10.0.0.1", 61), &Toy::request(8)).len(), 1);
}

#[test]
fn suppression_silences_repeats_for_its_window() {
    let text = rule("noisy", "match:\n  toy.function: 8\nsuppress: {seconds: 60, track: by_pair}");
    let mut d = Detector::new(load(&text, None, None));
    let e = Toy::request(8);
    assert_eq!(fired(&mut d, &subject("10.0.0.1", 0), &e).len(), 1);
    assert!(fired(&mut d, &subject("10.0.0.1", 30), &e).is_empty());
    assert_eq!(fired(&mut d, &subject("10.0.0.5", 30), &e).len(), 1, "another pair");
    assert_eq!(fired(&mut d, &subject("10.0.0.1", 61), &e).len(), 1, "after the window");
    assert_eq!(d.counts().suppressed, 1);
}

#[test]
fn tuning_disables_modifies_and_suppresses_by_rule_id() {
    let rules = rule("a.stop", "match:\n  toy.function: 41")
        + &rule("b.write", "match:\n  toy.function: 5")
        + &rule("c.read", "match:\n  toy.function: 4");
    let tuning = "disable: [c.read]\nmodify:\n  a.stop: {severity: low, threshold: {count: 2, seconds: 60}}\nsuppress:\n  - rule: b.write\n    src: 10.0.5.0/24\n";
    let set = load(&rules, None, Some(tuning));
    let listing = set.listing();
    assert!(listing.iter().any(|l| &*l.id == "c.read" && l.disabled));
    assert_eq!(set.active(), 2);
    let mut d = Detector::new(set);
    let s = subject("10.0.5.1", 0);
    assert!(fired(&mut d, &s, &Toy::request(4)).is_empty(), "disabled");
    assert!(fired(&mut d, &s, &Toy::request(5)).is_empty(), "suppressed for this source");
    assert_eq!(fired(&mut d, &subject("10.0.6.1", 0), &Toy::request(5)), vec!["b.write"], "not for others");
    assert!(fired(&mut d, &s, &Toy::request(41)).is_empty(), "now needs two");
    let mut severity = None;
    d.check(&s, &Toy::request(41), &mut |h| severity = Some(h.info.severity));
    assert_eq!(severity, Some(otsentry_core::Severity::Low));
}

#[test]
fn the_default_pack_never_needs_a_string_lookup_to_index() {
    // A keyed rule meets only events of its function: a read never reaches a stop rule.
    let set = load(&(rule("stop", "match:\n  toy.function: 41") + &rule("any", "match:\n  toy.unit: 1")), None, None);
    let mut d = Detector::new(set);
    let s = subject("10.0.0.1", 0);
    assert_eq!(fired(&mut d, &s, &Toy::request(3)), vec!["any"]);
    assert_eq!(d.counts().matched, 1);
}

#[test]
fn a_rule_set_is_replaced_whole() {
    let mut d = Detector::new(load(&rule("first", "match:\n  toy.function: 8"), None, None));
    let s = subject("10.0.0.1", 0);
    assert_eq!(fired(&mut d, &s, &Toy::request(8)), vec!["first"]);
    d.replace(load(&rule("second", "match:\n  toy.function: 9"), None, None));
    assert!(fired(&mut d, &s, &Toy::request(8)).is_empty());
    assert_eq!(fired(&mut d, &s, &Toy::request(9)), vec!["second"]);
}

#[test]
fn threshold_state_is_capped_and_the_oldest_window_gives_way() {
    let text = rule("per.source", "match:\n  toy.function: 3\nthreshold: {count: 2, seconds: 600, track: by_src}");
    let mut d = Detector::new(load(&text, None, None));
    let e = Toy::request(3);
    let source = |i: u32| Subject { src: IpAddr::from((0x0A00_0000u32 + i).to_be_bytes()), ..subject("10.0.0.1", 1) };
    // One open window per source, all within the window: one more than the cap.
    for i in 0..=otsentry_rules::MAX_STATE as u32 {
        assert!(fired(&mut d, &source(i), &e).is_empty());
    }
    // The oldest window alone gave way, and was counted.
    assert_eq!(d.counts().state_dropped, 1);
    // So the first source starts again at one, while the second still has its window.
    assert!(fired(&mut d, &source(0), &e).is_empty());
    assert_eq!(fired(&mut d, &source(2), &e), vec!["per.source"]);
    // Detection goes on: a new source that matches twice still alerts.
    let s = subject("192.0.2.1", 2);
    assert!(fired(&mut d, &s, &e).is_empty());
    assert_eq!(fired(&mut d, &s, &e), vec!["per.source"]);
}
