//! Rules compile at load: names resolve to field ids of the event's schema, values to
//! typed tests, variables to address sets; rules are indexed by (event type, function).
//! A loaded [`RuleSet`] is immutable and is replaced whole.
use crate::attack::{technique, TECHNIQUES};
use crate::error::{nearest, Locator, RuleError, RuleErrors};
use crate::index::Index;
use crate::rule::{Clause, Cond, Dir, FlowMatch, Rule, Suppress, Threshold};
use crate::spec::{RuleSpec, SiteSuppressSpec, SuppressSpec, ThresholdSpec, TuningSpec};
use crate::value::{addr_spec, test, AddrSet, AddrSpec, Net, Test};
use otsentry_core::{AlertInfo, FieldId, Known, Schema, Severity, ANOMALY_SCHEMA};
use serde::Deserialize as _;
use serde_yaml_ng::{Mapping, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

/// The category of the pack's rules on the sensor's own health (no ATT&CK technique).
pub const HEALTH_CATEGORY: &str = "Sensor health";

/// A file's text and the name errors give it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleSource {
    pub file: PathBuf,
    pub text: String,
}

/// Everything a rule set is built from.
#[derive(Clone, Debug, Default)]
pub struct Sources {
    pub rules: Vec<RuleSource>,
    /// Named host sets (`HMI: [10.1.1.10, 10.1.2.0/24]`).
    pub vars: Option<RuleSource>,
    /// The site's tuning.
    pub tuning: Option<RuleSource>,
}

/// A rule as `rules list` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listing {
    pub id: Arc<str>,
    pub sid: u64,
    pub severity: Severity,
    pub techniques: Vec<&'static str>,
    pub name: Arc<str>,
    /// Why the rule exists, in one line.
    pub description: String,
    pub references: Vec<String>,
    pub event: &'static str,
    /// Variables the rule names.
    pub vars: Vec<String>,
    /// Variables it names that the variables file does not define: the rule stays quiet.
    pub missing: Vec<String>,
    pub disabled: bool,
    /// The file it came from.
    pub file: PathBuf,
}

/// The loaded rules: immutable once built.
#[derive(Clone, Debug, Default)]
pub struct RuleSet {
    pub(crate) rules: Vec<Rule>,
    pub(crate) index: Index,
    listing: Vec<Listing>,
}

const FLOW_KEYS: [&str; 6] = ["src", "dst", "src_port", "dst_port", "vlan", "direction"];

impl RuleSet {
    /// Compiles `sources` against the event types in `schemas` (anomalies are always
    /// known). Every mistake in every file is reported.
    pub fn load(sources: &Sources, schemas: &[&'static Schema]) -> Result<RuleSet, RuleErrors> {
        let mut errors = Vec::new();
        let mut all: Vec<&'static Schema> = schemas.to_vec();
        all.push(&ANOMALY_SCHEMA);
        let vars = sources.vars.as_ref().map(|v| load_vars(v, &mut errors)).unwrap_or_default();
        let mut rules = Vec::new();
        let mut listing = Vec::new();
        let mut ids: HashMap<String, PathBuf> = HashMap::new();
        let mut sids: HashMap<u64, (String, PathBuf)> = HashMap::new();
        for src in &sources.rules {
            // Entry by entry, so one entry's wrong key does not hide the next one's.
            let entries = match parse_yaml::<Vec<serde_yaml_ng::Value>>(src) {
                Ok(s) => s,
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            };
            let locate = Locator::new(&src.text);
            for (i, entry) in entries.into_iter().enumerate() {
                let spec = match RuleSpec::deserialize(entry) {
                    Ok(spec) => spec,
                    Err(e) => {
                        errors.push(entry_error(src, &locate, i, &e.to_string()));
                        continue;
                    }
                };
                let fail = |path: &[&str], message: String, suggestion: Option<String>| {
                    let (line, column) = locate.find(Some(i), path);
                    RuleError { file: src.file.clone(), line, column, field: Some(path.join(".")), message, suggestion }
                };
                if let Some(first) = ids.insert(spec.id.clone(), src.file.clone()) {
                    errors.push(fail(&["id"], format!("rule id {:?} is already used in {}", spec.id, first.display()), None));
                }
                if let Some((other, file)) = sids.insert(spec.sid, (spec.id.clone(), src.file.clone())) {
                    errors.push(fail(&["sid"], format!("sid {} is already used by rule {other:?} in {}", spec.sid, file.display()), None));
                }
                match compile(&spec, &all, &vars, &fail) {
                    Ok((rule, mut list)) => {
                        list.file.clone_from(&src.file);
                        if list.missing.is_empty() {
                            rules.push(rule);
                        }
                        listing.push(list);
                    }
                    Err(mut e) => errors.append(&mut e),
                }
            }
        }
        if let Some(t) = &sources.tuning {
            tune(t, &mut rules, &mut listing, &vars, &mut errors);
        }
        if !errors.is_empty() {
            // In file order, as a person reads them.
            errors.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
            return Err(RuleErrors(errors));
        }
        let index = Index::build(&mut rules, &all);
        Ok(RuleSet { rules, index, listing })
    }

    /// An empty set (`--no-rules`).
    pub fn empty() -> RuleSet {
        RuleSet::default()
    }

    /// Rules that can raise alerts (loaded, not disabled, not waiting for variables).
    pub fn active(&self) -> usize {
        self.rules.len()
    }

    /// Every rule loaded, in file order, with why it is quiet if it is.
    pub fn listing(&self) -> &[Listing] {
        &self.listing
    }
}

/// A rule entry that does not deserialize (an unknown key, a value of the wrong shape),
/// located at the key it names, else at the entry.
fn entry_error(src: &RuleSource, locate: &Locator<'_>, i: usize, text: &str) -> RuleError {
    let message = text.split(" at line ").next().unwrap_or(text).to_string();
    let named = |marker: &str| message.split(marker).nth(1).and_then(|r| r.split('`').next()).map(str::to_string);
    let key = named("unknown field `").or_else(|| named("missing field `"));
    let variant = named("unknown variant `");
    let (line, column) = match (key.as_deref().filter(|_| message.starts_with("unknown field")), variant.as_deref()) {
        (Some(k), _) => locate.find(Some(i), &[k]),
        (None, Some(v)) => locate.find_text(i, v).unwrap_or_else(|| locate.find(Some(i), &[])),
        (None, None) => locate.find(Some(i), &[]),
    };
    let expected = message.split("expected one of ").nth(1).unwrap_or("");
    let suggestion = key.as_deref().or(variant.as_deref()).and_then(|k| nearest(k, expected.split(", ").map(|s| s.trim_matches('`'))));
    RuleError { file: src.file.clone(), line, column, field: key, message, suggestion }
}

pub(crate) fn parse_yaml<T: serde::de::DeserializeOwned + Default>(src: &RuleSource) -> Result<T, RuleError> {
    let fail = |line, column, message: String| RuleError { file: src.file.clone(), line, column, field: None, message, suggestion: None };
    // A file of comments only is empty.
    if src.text.lines().all(|l| l.trim().is_empty() || l.trim_start().starts_with('#')) {
        return Ok(T::default());
    }
    serde_yaml_ng::from_str(&src.text).map_err(|e| {
        let (line, column) = e.location().map_or((0, 0), |l| otsentry_core::line_and_column(&src.text, l.index()));
        let text = e.to_string();
        // serde_yaml_ng appends " at line N column M"; the location is given apart.
        let message = text.split(" at line ").next().unwrap_or(&text).to_string();
        let mut err = fail(line, column, message.clone());
        if let Some(name) = message.split("unknown field `").nth(1).and_then(|r| r.split('`').next()) {
            err.field = Some(name.to_string());
            if err.line == 0 {
                (err.line, err.column) = Locator::new(&src.text).find(None, &[name]);
            }
            let expected = message.split("expected one of ").nth(1).unwrap_or("");
            err.suggestion = nearest(name, expected.split(", ").map(|s| s.trim_matches('`')));
        }
        err
    })
}

fn load_vars(src: &RuleSource, errors: &mut Vec<RuleError>) -> HashMap<String, Vec<Net>> {
    let map = match parse_yaml::<BTreeMap<String, Value>>(src) {
        Ok(m) => m,
        Err(e) => {
            errors.push(e);
            return HashMap::new();
        }
    };
    let locate = Locator::new(&src.text);
    let mut vars = HashMap::new();
    for (name, value) in map {
        let fail = |message: String| {
            let (line, column) = locate.find(None, &[&name]);
            RuleError { file: src.file.clone(), line, column, field: Some(name.clone()), message, suggestion: None }
        };
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_') {
            errors.push(fail("variable names are upper case letters, digits and _ (HMI, ENGINEERING)".into()));
            continue;
        }
        // An empty list is a defined, empty set: rules that need it run and match nothing.
        if matches!(&value, Value::Sequence(s) if s.is_empty()) {
            vars.insert(name, Vec::new());
            continue;
        }
        match addr_spec(&value) {
            Ok(spec) if spec.negated || !spec.vars.is_empty() => errors.push(fail("a variable lists addresses and CIDRs only".into())),
            Ok(spec) => {
                vars.insert(name, spec.nets);
            }
            Err(e) => errors.push(fail(e)),
        }
    }
    vars
}

type Fail<'f> = &'f dyn Fn(&[&str], String, Option<String>) -> RuleError;

fn compile(
    spec: &RuleSpec,
    schemas: &[&'static Schema],
    vars: &HashMap<String, Vec<Net>>,
    fail: Fail<'_>,
) -> Result<(Rule, Listing), Vec<RuleError>> {
    let mut errors = Vec::new();
    if spec.id.is_empty() || !spec.id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_')) {
        errors.push(fail(&["id"], "rule ids are lower case letters, digits, '.', '-' and '_'".into(), None));
    }
    let severity = Severity::from_name(&spec.severity).unwrap_or_else(|| {
        let names = Severity::ALL.map(Severity::as_str);
        errors.push(fail(&["severity"], format!("{:?} is not one of {}", spec.severity, names.join(", ")), nearest(&spec.severity, names)));
        Severity::Info
    });
    let mut techniques = Vec::new();
    // The sensor's health rules are about the sensor, not an adversary.
    if spec.attack.is_empty() && spec.origin.is_none() && spec.category != HEALTH_CATEGORY {
        errors.push(fail(&["attack"], "name at least one ATT&CK for ICS technique (T0855, ...)".into(), None));
    }
    for id in &spec.attack {
        match technique(id) {
            Some(t) => techniques.push(t),
            None => errors.push(fail(
                &["attack"],
                format!("{id:?} is not an ATT&CK for ICS technique otsentry knows"),
                nearest(id, TECHNIQUES.iter().map(|t| t.id)),
            )),
        }
    }
    let schema = match event_schema(spec, schemas, fail) {
        Ok(s) => s,
        Err(e) => {
            errors.push(e);
            return Err(errors);
        }
    };
    let mut used_vars = BTreeSet::new();
    let mut answered = false;
    let mut cx = Cx { schema, vars, used_vars: &mut used_vars, answered: &mut answered, errors: &mut errors, fail };
    let (flow, clause, direction) = cx.conditions(&spec.matches, "match", true);
    let mut unless = Vec::new();
    match &spec.unless {
        None => {}
        Some(Value::Mapping(m)) => unless.push(cx.conditions(m, "unless", false)),
        Some(Value::Sequence(items)) => {
            for item in items {
                match item {
                    Value::Mapping(m) => unless.push(cx.conditions(m, "unless", false)),
                    _ => cx.errors.push(fail(&["unless"], "each entry of `unless` is a map of conditions".into(), None)),
                }
            }
        }
        Some(_) => cx.errors.push(fail(&["unless"], "`unless` is a map of conditions, or a list of them".into(), None)),
    }
    let unless = unless.into_iter().map(|(f, c, _)| (f, c)).collect();
    let threshold = spec.threshold.as_ref().and_then(|t| cx.threshold(t, &["threshold"]));
    let suppress = spec.suppress.as_ref().and_then(|s| cx.suppress(s, &["suppress"]));
    let show = spec.show.iter().filter_map(|name| cx.field(name, &["show"]).map(|(id, _)| id)).collect();
    let direction = direction.flatten();
    if direction == Some(Dir::Response) {
        answered = true;
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let missing: Vec<String> = used_vars.iter().filter(|v| !vars.contains_key(*v)).cloned().collect();
    let info = Arc::new(AlertInfo {
        rule_id: Arc::from(spec.id.as_str()),
        sid: spec.sid,
        rev: spec.rev,
        signature: Arc::from(spec.name.as_str()),
        category: Arc::from(spec.category.as_str()),
        severity,
        techniques,
    });
    let listing = Listing {
        id: info.rule_id.clone(),
        sid: spec.sid,
        severity,
        techniques: info.techniques.iter().map(|t| t.id).collect(),
        name: info.signature.clone(),
        description: spec.description.clone(),
        references: spec.references.clone(),
        event: schema.event_type,
        vars: used_vars.into_iter().collect(),
        missing,
        disabled: false,
        file: PathBuf::new(),
    };
    let rule = Rule {
        info,
        schema,
        answered,
        direction,
        flow,
        clause,
        unless,
        threshold,
        suppress,
        site_suppress: Vec::new(),
        show,
        key_field: None,
    };
    Ok((rule, listing))
}

fn event_schema(spec: &RuleSpec, schemas: &[&'static Schema], fail: Fail<'_>) -> Result<&'static Schema, RuleError> {
    let names = || schemas.iter().map(|s| s.event_type);
    if let Some(event) = &spec.event {
        return schemas.iter().copied().find(|s| s.event_type == event).ok_or_else(|| {
            let list: Vec<_> = names().collect();
            fail(&["event"], format!("{event:?} is not an event type ({})", list.join(", ")), nearest(event, names()))
        });
    }
    let first = spec.matches.keys().filter_map(Value::as_str).find(|k| !FLOW_KEYS.contains(k));
    let prefix = first.and_then(|k| k.split('.').next());
    prefix.and_then(|p| schemas.iter().copied().find(|s| s.event_type == p)).ok_or_else(|| {
        fail(&["match"], "no protocol field to tell the event type by: add `event:` (modbus, dnp3, s7comm, anomaly, ...)".into(), None)
    })
}

/// What compiling one rule's conditions needs.
struct Cx<'c, 'f> {
    schema: &'static Schema,
    vars: &'c HashMap<String, Vec<Net>>,
    used_vars: &'c mut BTreeSet<String>,
    answered: &'c mut bool,
    errors: &'c mut Vec<RuleError>,
    fail: Fail<'f>,
}

impl Cx<'_, '_> {
    fn field(&mut self, name: &str, at: &[&str]) -> Option<(FieldId, &'static otsentry_core::FieldDef)> {
        match self.schema.find(name).and_then(|id| Some((id, self.schema.def(id)?))) {
            Some(found) => Some(found),
            None => {
                let mut path = at.to_vec();
                path.push(name);
                let candidates = self.schema.fields.iter().map(|f| f.name).chain(FLOW_KEYS);
                let message = format!("{} events have no field {name:?}", self.schema.event_type);
                self.errors.push((self.fail)(&path, message, nearest(name, candidates)));
                None
            }
        }
    }

    fn addr(&mut self, v: &Value, path: &[&str]) -> Option<AddrSet> {
        match addr_spec(v) {
            Ok(spec) => Some(self.resolve(spec)),
            Err(e) => {
                self.errors.push((self.fail)(path, e, None));
                None
            }
        }
    }

    fn resolve(&mut self, spec: AddrSpec) -> AddrSet {
        self.used_vars.extend(spec.vars.iter().cloned());
        resolve(spec, self.vars)
    }

    /// A number condition on a flow key whose values go up to `max` (a port, a VLAN id).
    fn uint(&mut self, v: &Value, path: &[&str], max: u64) -> Option<Test> {
        let t = test(otsentry_core::FieldType::Uint, v).map_err(|e| self.errors.push((self.fail)(path, e, None))).ok()?;
        if let Some(lo) = t.impossible_above(Some(max)) {
            let key = path.last().copied().unwrap_or_default();
            self.errors.push((self.fail)(path, format!("{key} is at most {max}: {lo} can never match"), None));
        }
        Some(t)
    }

    /// A map of conditions: flow keys, then protocol fields.
    fn conditions(&mut self, map: &Mapping, at: &str, direction_allowed: bool) -> (FlowMatch, Clause, Option<Option<Dir>>) {
        let mut flow = FlowMatch::default();
        let mut single = Vec::new();
        let mut groups: Vec<(u8, Vec<Cond>)> = Vec::new();
        let mut direction = None;
        for (k, v) in map {
            let Some(key) = k.as_str() else {
                self.errors.push((self.fail)(&[at], "condition names are strings".into(), None));
                continue;
            };
            let path = [at, key];
            match key {
                "src" => flow.src = self.addr(v, &path),
                "dst" => flow.dst = self.addr(v, &path),
                "src_port" => flow.src_port = self.uint(v, &path, 0xFFFF),
                "dst_port" => flow.dst_port = self.uint(v, &path, 0xFFFF),
                "vlan" => flow.vlan = self.uint(v, &path, 4095),
                "direction" if direction_allowed => {
                    direction = Some(match v.as_str() {
                        Some("request") => Some(Dir::Request),
                        Some("response") => Some(Dir::Response),
                        Some("any") => None,
                        _ => {
                            self.errors.push((self.fail)(&path, "direction is request, response or any".into(), None));
                            None
                        }
                    });
                }
                "direction" => self.errors.push((self.fail)(&path, "direction belongs in `match`".into(), None)),
                name => {
                    let Some((field, def)) = self.field(name, &[at]) else { continue };
                    let test = match test(def.ty, v) {
                        Ok(t) => t,
                        Err(e) => {
                            self.errors.push((self.fail)(&path, format!("{name} is a {} field: {e}", def.ty.as_str()), None));
                            continue;
                        }
                    };
                    if let Some(lo) = test.impossible_above(def.max) {
                        let max = def.max.unwrap_or(0);
                        let message = format!("{name} is at most {max} on the wire: {lo} can never match");
                        self.errors.push((self.fail)(&path, message, None));
                    }
                    if def.known == Known::OnResponse {
                        *self.answered = true;
                    }
                    let cond = Cond { field, test };
                    match def.group {
                        None => single.push(cond),
                        Some(g) => match groups.iter_mut().find(|(gg, _)| *gg == g) {
                            Some((_, conds)) => conds.push(cond),
                            None => groups.push((g, vec![cond])),
                        },
                    }
                }
            }
        }
        flow.open = flow.src.is_none() && flow.dst.is_none() && flow.src_port.is_none() && flow.dst_port.is_none() && flow.vlan.is_none();
        (flow, Clause { single, groups }, direction)
    }

    fn threshold(&mut self, t: &ThresholdSpec, path: &[&str]) -> Option<Threshold> {
        if t.count == 0 || t.seconds == 0 {
            self.errors.push((self.fail)(path, "count and seconds are at least 1".into(), None));
            return None;
        }
        let distinct = match &t.distinct {
            None => None,
            Some(name) if name == "src" => Some(crate::rule::Distinct::Src),
            Some(name) => {
                let mut at = path.to_vec();
                at.push("distinct");
                let (id, def) = self.field(name, &at)?;
                if def.ty != otsentry_core::FieldType::Uint || def.group.is_some() {
                    self.errors.push((self.fail)(&at, format!("{name}: distinct counts a single-valued number field, or src"), None));
                    return None;
                }
                Some(crate::rule::Distinct::Field(id))
            }
        };
        Some(Threshold { count: t.count, nanos: seconds(t.seconds), track: t.track.into(), distinct })
    }

    fn suppress(&mut self, s: &SuppressSpec, path: &[&str]) -> Option<Suppress> {
        if s.seconds == 0 {
            self.errors.push((self.fail)(path, "seconds is at least 1".into(), None));
            return None;
        }
        Some(Suppress { nanos: seconds(s.seconds), track: s.track.into() })
    }
}

/// An address set with its variables' networks in place (an undefined one adds none).
fn resolve(spec: AddrSpec, vars: &HashMap<String, Vec<Net>>) -> AddrSet {
    let mut nets = spec.nets;
    spec.vars.iter().for_each(|v| nets.extend(vars.get(v).into_iter().flatten().copied()));
    AddrSet { negated: spec.negated, nets }
}

fn seconds(s: u64) -> i64 {
    i64::try_from(s.saturating_mul(1_000_000_000)).unwrap_or(i64::MAX)
}

/// Applies a site tuning file to the compiled rules.
fn tune(src: &RuleSource, rules: &mut Vec<Rule>, listing: &mut [Listing], vars: &HashMap<String, Vec<Net>>, errors: &mut Vec<RuleError>) {
    let spec: TuningSpec = match parse_yaml(src) {
        Ok(s) => s,
        Err(e) => return errors.push(e),
    };
    let locate = Locator::new(&src.text);
    let ids: Vec<Arc<str>> = listing.iter().map(|l| l.id.clone()).collect();
    let fail = |path: &[&str], message: String, suggestion: Option<String>| {
        let (line, column) = locate.find(None, path);
        RuleError { file: src.file.clone(), line, column, field: Some(path.join(".")), message, suggestion }
    };
    let unknown = |id: &str, path: &[&str]| fail(path, format!("no rule has the id {id:?}"), nearest(id, ids.iter().map(|i| &**i)));
    let known = |id: &str| ids.iter().any(|i| &**i == id);
    for id in &spec.disable {
        if !known(id) {
            errors.push(unknown(id, &["disable", id]));
            continue;
        }
        listing.iter_mut().filter(|l| &*l.id == id).for_each(|l| l.disabled = true);
        rules.retain(|r| &*r.info.rule_id != id);
    }
    for (id, m) in &spec.modify {
        if !known(id) {
            errors.push(unknown(id, &["modify", id]));
            continue;
        }
        let Some(rule) = rules.iter_mut().find(|r| &*r.info.rule_id == id) else { continue };
        let mut dummy_vars = BTreeSet::new();
        let mut answered = rule.answered;
        let mut cx = Cx { schema: rule.schema, vars, used_vars: &mut dummy_vars, answered: &mut answered, errors, fail: &fail };
        if let Some(t) = &m.threshold {
            rule.threshold = cx.threshold(t, &["modify", id, "threshold"]);
        }
        if let Some(s) = &m.suppress {
            rule.suppress = cx.suppress(s, &["modify", id, "suppress"]);
        }
        if let Some(sev) = &m.severity {
            match Severity::from_name(sev) {
                Some(s) => {
                    let mut info = (*rule.info).clone();
                    info.severity = s;
                    rule.info = Arc::new(info);
                    listing.iter_mut().filter(|l| &*l.id == id).for_each(|l| l.severity = s);
                }
                None => {
                    let names = Severity::ALL.map(Severity::as_str);
                    let message = format!("{sev:?} is not one of {}", names.join(", "));
                    errors.push(fail(&["modify", id, "severity"], message, nearest(sev, names)));
                }
            }
        }
    }
    for (n, s) in spec.suppress.iter().enumerate() {
        // Each entry's own lines, not the first entry's.
        let at = |key: &str, message: String, suggestion: Option<String>| {
            let (line, column) = locate.find_in_list("suppress", n, key);
            RuleError { file: src.file.clone(), line, column, field: Some(format!("suppress[{n}].{key}")), message, suggestion }
        };
        site_suppress(s, rules, &known, &ids, vars, errors, &at);
    }
}

fn site_suppress(
    s: &SiteSuppressSpec,
    rules: &mut [Rule],
    known: &dyn Fn(&str) -> bool,
    ids: &[Arc<str>],
    vars: &HashMap<String, Vec<Net>>,
    errors: &mut Vec<RuleError>,
    at: &dyn Fn(&str, String, Option<String>) -> RuleError,
) {
    if !known(&s.rule) {
        errors.push(at("rule", format!("no rule has the id {:?}", s.rule), nearest(&s.rule, ids.iter().map(|i| &**i))));
        return;
    }
    let mut set = |v: &Option<Value>, key: &str| -> Option<Option<AddrSet>> {
        let Some(v) = v else { return Some(None) };
        match addr_spec(v) {
            Ok(spec) => {
                if let Some(missing) = spec.vars.iter().find(|n| !vars.contains_key(*n)) {
                    errors.push(at(key, format!("variable ${missing} is not defined"), None));
                    return None;
                }
                Some(Some(resolve(spec, vars)))
            }
            Err(e) => {
                errors.push(at(key, e, None));
                None
            }
        }
    };
    let (Some(src), Some(dst)) = (set(&s.src, "src"), set(&s.dst, "dst")) else { return };
    if let Some(rule) = rules.iter_mut().find(|r| *r.info.rule_id == *s.rule) {
        rule.site_suppress.push((src, dst));
    }
}
