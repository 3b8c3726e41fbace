//! `otsentry rules import`: Suricata rules for Modbus and DNP3 converted into our YAML,
//! with every rule or option that does not convert listed, and why.
mod protocols;
mod text;
mod values;

use protocols::Conditions;
use serde_yaml_ng::{Mapping, Value};
use std::collections::BTreeSet;
use values::{addresses, ports, ranges_value};

/// Something about one rule a person should know: why it was skipped, or where the
/// conversion reads it differently from Suricata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportNote {
    pub line: usize,
    pub sid: Option<u64>,
    pub message: String,
}

/// The converted file and what did not convert.
#[derive(Debug, Default)]
pub struct Imported {
    /// A rule file (YAML) holding the converted rules.
    pub yaml: String,
    pub converted: usize,
    /// Converted rules whose source named no ATT&CK technique.
    pub without_attack: usize,
    pub skipped: Vec<ImportNote>,
    pub notes: Vec<ImportNote>,
}

/// Converts the Suricata rules in `text` (read from `file`, named in each rule's origin).
/// `events` are the registered protocols' Suricata app-layer event names with ours
/// (`dnp3.max_points_per_object` is our `dnp3.too_many_points`).
pub fn import_suricata(file: &str, text: &str, events: &[(&str, &str)]) -> Imported {
    let mut out = Imported::default();
    let mut sids = BTreeSet::new();
    out.yaml.push_str(&format!("# Converted by `otsentry rules import` from Suricata rules in {file}.\n"));
    for rule in text::rules(text) {
        let mut notes = Vec::new();
        match convert(file, &rule, &mut notes, events) {
            Ok((sid, yaml, no_attack)) if sids.insert(sid) => {
                out.converted += 1;
                out.without_attack += usize::from(no_attack);
                for n in &notes {
                    out.yaml.push_str(&format!("# note: {n}\n"));
                }
                out.yaml.push_str(&yaml);
                out.notes.extend(notes.into_iter().map(|message| ImportNote { line: rule.line, sid: Some(sid), message }));
            }
            Ok((sid, ..)) => out.skipped.push(ImportNote {
                line: rule.line,
                sid: Some(sid),
                message: "sid already used by an earlier rule of the file".into(),
            }),
            Err((sid, message)) => out.skipped.push(ImportNote { line: rule.line, sid, message }),
        }
    }
    out
}

/// Suricata's classtypes: (name, description, priority).
const CLASSTYPES: [(&str, &str, u8); 43] = [
    ("not-suspicious", "Not Suspicious Traffic", 3),
    ("unknown", "Unknown Traffic", 3),
    ("bad-unknown", "Potentially Bad Traffic", 2),
    ("attempted-recon", "Attempted Information Leak", 2),
    ("successful-recon-limited", "Information Leak", 2),
    ("successful-recon-largescale", "Large Scale Information Leak", 2),
    ("attempted-dos", "Attempted Denial of Service", 2),
    ("successful-dos", "Denial of Service", 2),
    ("attempted-user", "Attempted User Privilege Gain", 1),
    ("unsuccessful-user", "Unsuccessful User Privilege Gain", 1),
    ("successful-user", "Successful User Privilege Gain", 1),
    ("attempted-admin", "Attempted Administrator Privilege Gain", 1),
    ("successful-admin", "Successful Administrator Privilege Gain", 1),
    ("rpc-portmap-decode", "Decode of an RPC Query", 2),
    ("shellcode-detect", "Executable code was detected", 1),
    ("string-detect", "A suspicious string was detected", 3),
    ("suspicious-filename-detect", "A suspicious filename was detected", 2),
    ("suspicious-login", "An attempted login using a suspicious username was detected", 2),
    ("system-call-detect", "A system call was detected", 2),
    ("tcp-connection", "A TCP connection was detected", 4),
    ("trojan-activity", "A Network Trojan was detected", 1),
    ("unusual-client-port-connection", "A client was using an unusual port", 2),
    ("network-scan", "Detection of a Network Scan", 3),
    ("denial-of-service", "Detection of a Denial of Service Attack", 2),
    ("non-standard-protocol", "Detection of a non-standard protocol or event", 2),
    ("protocol-command-decode", "Generic Protocol Command Decode", 3),
    ("web-application-activity", "access to a potentially vulnerable web application", 2),
    ("web-application-attack", "Web Application Attack", 1),
    ("misc-activity", "Misc activity", 3),
    ("misc-attack", "Misc Attack", 2),
    ("icmp-event", "Generic ICMP event", 3),
    ("inappropriate-content", "Inappropriate Content was Detected", 1),
    ("policy-violation", "Potential Corporate Privacy Violation", 1),
    ("default-login-attempt", "Attempt to login by a default username and password", 2),
    ("targeted-activity", "Targeted Malicious Activity was Detected", 1),
    ("exploit-kit", "Exploit Kit Activity Detected", 1),
    ("external-ip-check", "Device Retrieving External IP Address Detected", 2),
    ("domain-c2", "Domain Observed Used for C2 Detected", 1),
    ("pup-activity", "Possibly Unwanted Program Detected", 2),
    ("credential-theft", "Successful Credential Theft Detected", 1),
    ("social-engineering", "Possible Social Engineering Attempted", 2),
    ("coin-mining", "Crypto Currency Mining Activity Detected", 2),
    ("command-and-control", "Malware Command and Control Activity Detected", 1),
];

/// Suricata's priority (1 highest) as our severity.
fn severity(priority: u8) -> &'static str {
    match priority {
        0 | 1 => "high",
        2 => "medium",
        3 => "low",
        _ => "info",
    }
}

/// Options that change nothing otsentry matches on.
const IGNORED: [&str; 3] = ["fast_pattern", "target", "rawbytes"];

type Failed = (Option<u64>, String);

/// One rule: its sid, YAML and whether it lacks ATT&CK ids; or (sid if known, why it
/// was skipped).
fn convert(file: &str, rule: &text::RuleText, notes: &mut Vec<String>, events: &[(&str, &str)]) -> Result<(u64, String, bool), Failed> {
    let parsed = text::parse(&rule.text).map_err(|e| (None, e))?;
    let sid = parsed
        .options
        .iter()
        .find(|(n, _)| n == "sid")
        .and_then(|(_, v)| v.as_deref())
        .map(|v| v.trim().parse::<u64>().map_err(|_| (None, format!("sid {v:?} is not a number"))))
        .transpose()?
        .ok_or((None, "no sid".to_string()))?;
    let fail = |m: String| (Some(sid), m);
    match parsed.action.as_str() {
        "alert" => {}
        "drop" | "reject" | "rejectsrc" | "rejectdst" | "rejectboth" => {
            notes.push(format!("action {}: otsentry only listens, so the rule alerts", parsed.action))
        }
        other => return Err(fail(format!("action {other:?}: only alerting rules convert (pass and config rules do not)"))),
    }
    let mut r = Builder { events, ..Builder::default() };
    match parsed.proto.as_str() {
        "modbus" | "dnp3" => r.proto_event = Some(parsed.proto.clone()),
        "tcp" | "udp" | "ip" | "any" | "tcp-stream" => {}
        other => return Err(fail(format!("protocol {other}: only modbus and dnp3 rules convert"))),
    }
    r.header(&parsed, notes).map_err(fail)?;
    let mut meta = Meta { rev: 0, ..Meta::default() };
    for (name, value) in &parsed.options {
        r.option(name, value.as_deref(), &mut meta, notes).map_err(|e| fail(format!("{name}: {e}")))?;
    }
    r.finish_content();
    let event = r
        .event
        .clone()
        .or(r.proto_event.clone())
        .ok_or_else(|| fail("no Modbus or DNP3 keyword: packet and stream rules have no otsentry equivalent".to_string()))?;
    let (category, priority) = match &meta.classtype {
        None => ("Unclassified".to_string(), 3),
        Some(c) => match CLASSTYPES.iter().find(|(n, ..)| n == c) {
            Some((_, desc, prio)) => ((*desc).to_string(), *prio),
            None => {
                notes.push(format!("classtype {c} is not one of Suricata's defaults: used as the category, priority 3"));
                (c.clone(), 3)
            }
        },
    };
    let priority = meta.priority.unwrap_or(priority);
    let mut m = Mapping::new();
    let mut put = |k: &str, v: Value| {
        m.insert(Value::from(k), v);
    };
    put("id", Value::from(format!("suricata.{sid}")));
    put("sid", Value::from(sid));
    put("rev", Value::from(meta.rev));
    put("name", Value::from(meta.msg.clone().unwrap_or_else(|| format!("Suricata rule {sid}"))));
    put("description", Value::from(format!("Imported from Suricata rule sid {sid}.")));
    put("severity", Value::from(severity(priority)));
    put("category", Value::from(category));
    put("attack", Value::Sequence(meta.attack.iter().cloned().map(Value::from).collect()));
    if !meta.references.is_empty() {
        put("references", Value::Sequence(meta.references.iter().cloned().map(Value::from).collect()));
    }
    put("origin", Value::from(format!("suricata {file} line {}", rule.line)));
    put("event", Value::from(event));
    put("match", Value::Mapping(r.matches_map()));
    if !r.unless.is_empty() {
        put("unless", Value::Sequence(r.unless.into_iter().map(Value::Mapping).collect()));
    }
    if let Some(t) = r.threshold {
        put("threshold", t);
    }
    if let Some(s) = r.suppress {
        put("suppress", s);
    }
    let mut yaml = String::new();
    if meta.attack.is_empty() {
        yaml.push_str("# no ATT&CK technique in the Suricata rule (metadata mitre_technique_id): add one under `attack`\n");
    }
    yaml.push_str(&serde_yaml_ng::to_string(&Value::Sequence(vec![Value::Mapping(m)])).map_err(|e| fail(e.to_string()))?);
    Ok((sid, yaml, meta.attack.is_empty()))
}

#[derive(Default)]
struct Meta {
    msg: Option<String>,
    rev: u64,
    classtype: Option<String>,
    priority: Option<u8>,
    references: Vec<String>,
    attack: Vec<String>,
}

#[derive(Default)]
struct Builder<'e> {
    /// Suricata's app-layer event names and ours.
    events: &'e [(&'e str, &'e str)],
    /// The event type the keywords read (`anomaly` for app-layer events).
    event: Option<String>,
    /// The header's protocol, when no keyword names the event type.
    proto_event: Option<String>,
    conds: Conditions,
    flow: Vec<(String, Value)>,
    unless: Vec<Mapping>,
    threshold: Option<Value>,
    suppress: Option<Value>,
    /// `dnp3_data` seen: contents apply to the DNP3 application buffer.
    sticky: bool,
    contents: Vec<Mapping>,
}

fn set_event(current: &mut Option<String>, want: &str) -> Result<(), String> {
    match current {
        Some(e) if e != want => Err(format!("mixes {e} and {want} keywords")),
        _ => {
            *current = Some(want.to_string());
            Ok(())
        }
    }
}

impl Builder<'_> {
    fn header(&mut self, p: &text::Parsed, notes: &mut Vec<String>) -> Result<(), String> {
        let sides = [("src", &p.src, &p.src_port), ("dst", &p.dst, &p.dst_port)];
        if p.bidirectional && (p.src != p.dst || p.src_port != p.dst_port) {
            return Err("a <> rule with different sides: write it as two -> rules".into());
        }
        for (side, addr, port) in sides {
            let a = addresses(addr)?;
            notes.extend(a.notes);
            if let Some(v) = a.matched {
                self.flow.push((side.into(), v));
            }
            if let Some(v) = a.excluded {
                self.unless.push([(Value::from(side), v)].into_iter().collect());
            }
            if let Some(r) = ports(port)? {
                self.flow.push((format!("{side}_port"), ranges_value(&r)));
            }
        }
        Ok(())
    }

    fn option(&mut self, name: &str, value: Option<&str>, meta: &mut Meta, notes: &mut Vec<String>) -> Result<(), String> {
        let need = || value.ok_or_else(|| "needs a value".to_string());
        match name {
            "msg" => meta.msg = Some(need()?.to_string()),
            "sid" => {}
            "rev" => meta.rev = need()?.trim().parse().map_err(|_| "not a number".to_string())?,
            "gid" => notes.push("gid is not kept: otsentry's alerts carry gid 1".into()),
            "classtype" => meta.classtype = Some(need()?.trim().to_string()),
            "priority" => meta.priority = Some(need()?.trim().parse().map_err(|_| "not a number".to_string())?),
            "reference" => meta.references.push(need()?.trim().to_string()),
            "metadata" => {
                for item in need()?.split(',').map(str::trim) {
                    match item.split_once(' ') {
                        Some(("mitre_technique_id", id)) if id.trim().starts_with('T') => meta.attack.push(id.trim().to_string()),
                        _ => {}
                    }
                }
            }
            "flow" => {
                for f in need()?.split(',').map(str::trim) {
                    match f {
                        "to_server" | "from_client" => self.flow.push(("direction".into(), "request".into())),
                        "to_client" | "from_server" => self.flow.push(("direction".into(), "response".into())),
                        // Protocol events come from established sessions (or picked up midstream).
                        "established" => {}
                        other => notes.push(format!("flow:{other} is not checked")),
                    }
                }
            }
            "modbus" => {
                set_event(&mut self.event, "modbus")?;
                protocols::modbus(need()?, &mut self.conds)?;
            }
            "dnp3_func" | "dnp3.func" => {
                set_event(&mut self.event, "dnp3")?;
                protocols::dnp3_func(need()?, &mut self.conds)?;
            }
            "dnp3_ind" | "dnp3.ind" => {
                set_event(&mut self.event, "dnp3")?;
                protocols::dnp3_ind(need()?, &mut self.conds)?;
            }
            "dnp3_obj" | "dnp3.obj" => {
                set_event(&mut self.event, "dnp3")?;
                if self.conds.matches.iter().any(|(k, _)| k == "dnp3.object.group") {
                    return Err("two objects in one rule: otsentry's object conditions hold for one object".into());
                }
                protocols::dnp3_obj(need()?, &mut self.conds)?;
            }
            "dnp3_data" | "dnp3.data" => {
                set_event(&mut self.event, "dnp3")?;
                self.finish_content();
                self.sticky = true;
            }
            "app-layer-event" => {
                let ours = protocols::anomaly_event(need()?.trim(), self.events)?;
                set_event(&mut self.event, "anomaly")?;
                self.conds.matches.push(("anomaly.event".into(), Value::from(ours)));
            }
            "content" => {
                if !self.sticky {
                    return Err("content outside dnp3_data: otsentry matches bytes in DNP3 application data only".into());
                }
                let raw = need()?;
                let (negated, pattern) = match raw.strip_prefix('!') {
                    Some(p) => (true, p.trim().trim_matches('"')),
                    None => (false, raw),
                };
                crate::content::parse_pattern(pattern)?;
                let mut c = Mapping::new();
                c.insert("content".into(), Value::from(pattern));
                if negated {
                    c.insert("negated".into(), Value::from(true));
                }
                self.contents.push(c);
            }
            "nocase" | "offset" | "depth" | "distance" | "within" | "startswith" => {
                let c = self.contents.last_mut().ok_or("a content modifier without a content before it")?;
                let n = || value.and_then(|v| v.trim().parse::<i64>().ok()).ok_or("needs a number".to_string());
                match name {
                    "nocase" => c.insert("nocase".into(), Value::from(true)),
                    "startswith" => {
                        c.insert("offset".into(), Value::from(0));
                        let len = c.get("content").and_then(Value::as_str).and_then(|p| crate::content::parse_pattern(p).ok());
                        c.insert("depth".into(), Value::from(len.map_or(0, |p| p.len() as u64)))
                    }
                    other => c.insert(other.into(), Value::from(n()?)),
                };
            }
            "threshold" | "detection_filter" => self.threshold(name, need()?, notes)?,
            n if IGNORED.contains(&n) => {}
            other => return Err(format!("keyword {other} has no otsentry equivalent")),
        }
        Ok(())
    }

    fn finish_content(&mut self) {
        if self.contents.is_empty() {
            return;
        }
        let list = Value::Sequence(self.contents.drain(..).map(Value::Mapping).collect());
        self.conds.matches.push(("dnp3.data".into(), list));
    }

    /// `threshold: type limit|threshold|both, track by_src, count N, seconds S` and
    /// `detection_filter: track by_src, count N, seconds S`.
    fn threshold(&mut self, name: &str, text: &str, notes: &mut Vec<String>) -> Result<(), String> {
        let mut kind = if name == "detection_filter" { "threshold".to_string() } else { String::new() };
        let (mut track, mut count, mut seconds) = (None, None, None);
        for part in text.split(',').map(str::trim) {
            let (k, v) = part.split_once(' ').ok_or(format!("{part:?}: expected KEY VALUE"))?;
            let v = v.trim();
            match k {
                "type" => kind = v.to_string(),
                "track" => track = Some(if v == "by_both" { "by_pair" } else { v }.to_string()),
                "count" => count = Some(v.parse::<u64>().map_err(|_| format!("count {v:?}"))?),
                "seconds" => seconds = Some(v.parse::<u64>().map_err(|_| format!("seconds {v:?}"))?),
                other => return Err(format!("{other:?}: expected type, track, count or seconds")),
            }
        }
        let (Some(track), Some(count), Some(seconds)) = (track, count, seconds) else {
            return Err("needs track, count and seconds".into());
        };
        if !matches!(track.as_str(), "by_src" | "by_dst" | "by_pair" | "by_rule" | "by_flow") {
            return Err(format!("track {track}: expected by_src, by_dst, by_both, by_rule or by_flow"));
        }
        // A threshold counts matches in the window; a suppression only has the window.
        let window = |with_count: bool| {
            let mut m = Mapping::new();
            if with_count {
                m.insert("count".into(), Value::from(count));
            }
            m.insert("seconds".into(), Value::from(seconds));
            m.insert("track".into(), Value::from(track.clone()));
            Value::Mapping(m)
        };
        match kind.as_str() {
            "threshold" => self.threshold = Some(window(true)),
            "limit" => {
                if count > 1 {
                    notes.push(format!("threshold limit {count}: otsentry alerts once per window (limit 1)"));
                }
                self.suppress = Some(window(false));
            }
            "both" => {
                self.threshold = Some(window(true));
                self.suppress = Some(window(false));
            }
            other => return Err(format!("type {other:?}: expected limit, threshold or both")),
        }
        Ok(())
    }

    fn matches_map(&mut self) -> Mapping {
        let mut m = Mapping::new();
        for (k, v) in self.flow.drain(..) {
            m.insert(Value::from(k), v);
        }
        let field = match self.event.as_deref().or(self.proto_event.as_deref()) {
            Some("modbus") => Some("modbus.function"),
            Some("dnp3") => Some("dnp3.function"),
            _ => None,
        };
        if let (Some(codes), Some(field)) = (self.conds.functions.take(), field) {
            let ranges = values::ranges_where(255, |c| codes.contains(&c));
            // An empty set (contradictory keywords) keeps the rule, matching nothing.
            let v = if ranges.is_empty() { Value::from("!0-255") } else { ranges_value(&ranges) };
            m.insert(Value::from(field), v);
        }
        for (k, v) in self.conds.matches.drain(..) {
            m.insert(Value::from(k), v);
        }
        self.unless.append(&mut self.conds.unless);
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_file_converts_and_lists_what_does_not() {
        let text = r#"
alert dnp3 any any -> any any (msg:"DNP3 Data match"; flow:established,to_client; dnp3_data; content:"|02 01 28 01 00|"; dnp3_func:unsolicited_response; sid:1; rev:1;)
alert modbus $HMI any -> 10.0.0.0/8 502 (msg:"write"; modbus: access write holding; classtype:attempted-admin; threshold: type limit, track by_src, count 1, seconds 60; sid:2;)
alert tcp any any -> any 80 (msg:"http"; content:"GET"; sid:3;)
alert dnp3 any any -> any any (msg:"x"; flowbits:set,a; sid:4;)
alert dnp3 any any -> any any (msg:"dup"; dnp3_func:1; sid:1;)
alert dnp3 any any -> any any (msg:"no sid";)
"#;
        let out = import_suricata("t.rules", text, protocols::tests::EVENTS);
        assert_eq!(out.converted, 2);
        let why: Vec<(Option<u64>, &str)> = out.skipped.iter().map(|s| (s.sid, s.message.as_str())).collect();
        assert_eq!(why.len(), 4, "{why:?}");
        assert!(why[0].1.contains("content outside dnp3_data"));
        assert!(why[1].1.contains("flowbits"));
        assert!(why[2].1.contains("already used"));
        assert_eq!(why[3], (None, "no sid"));
        let rules: Value = serde_yaml_ng::from_str(&out.yaml).unwrap();
        let first = &rules[0];
        assert_eq!(first["match"]["direction"], Value::from("response"));
        assert_eq!(first["match"]["dnp3.function"], Value::from(130u64));
        assert_eq!(first["match"]["dnp3.data"][0]["content"], Value::from("|02 01 28 01 00|"));
        let second = &rules[1];
        assert_eq!(second["severity"], Value::from("high"));
        assert_eq!(second["category"], Value::from("Attempted Administrator Privilege Gain"));
        assert_eq!(second["match"]["src"], Value::Sequence(vec!["$HMI".into()]));
        assert_eq!(second["match"]["dst_port"], Value::from(502u64));
        assert_eq!(second["suppress"]["seconds"], Value::from(60u64));
    }
}
