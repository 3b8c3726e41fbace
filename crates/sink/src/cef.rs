//! ArcSight's Common Event Format: one event as
//! `CEF:0|Vendor|Product|Version|SignatureID|Name|Severity|Extension`, escaped as the CEF
//! specification says (`\` and `|` in header fields; `\`, `=` and line breaks in
//! extension values) and cut to what a receiver takes. The first piece of the CEF
//! output (issue 32): the syslog framing and transports come on top of it.
use otsentry_core::Severity;

/// CEF's severity (0-10) for ours: info 1, low 3, medium 5, high 8, critical 10.
pub fn cef_severity(s: Severity) -> u8 {
    match s {
        Severity::Info => 1,
        Severity::Low => 3,
        Severity::Medium => 5,
        Severity::High => 8,
        Severity::Critical => 10,
    }
}

/// One event: the header's variable fields and the extension's keys and values, in the
/// order they are written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CefEvent {
    pub signature_id: String,
    pub name: String,
    pub severity: u8,
    pub extension: Vec<(&'static str, String)>,
}

/// What marks a value cut to fit: it ends the shortened value.
pub const CUT_MARK: &str = "[cut]";

/// `event` as one CEF line of at most `max` bytes (without a line break). Over `max`,
/// the longest extension values are shortened first (at a character boundary, ending
/// in [`CUT_MARK`]); the header is never cut, so a `max` below the header's length
/// gives the header with no extension.
pub fn format(vendor: &str, product: &str, version: &str, event: &CefEvent, max: usize) -> String {
    let mut head = String::from("CEF:0|");
    for field in [vendor, product, version, &event.signature_id, &event.name] {
        escape_header(field, &mut head);
        head.push('|');
    }
    head.push_str(&event.severity.min(10).to_string());
    head.push('|');
    let mut values: Vec<String> = event.extension.iter().map(|(_, v)| escape_value(v)).collect();
    let length = |values: &[String]| -> usize {
        head.len()
            + event.extension.iter().zip(values).map(|((k, _), v)| k.len() + 1 + v.len()).sum::<usize>()
            + values.len().saturating_sub(1)
    };
    // Shorten the longest value until the line fits (or nothing is left to shorten).
    while length(&values) > max {
        let Some((i, longest)) = values.iter().enumerate().max_by_key(|(_, v)| v.len()).map(|(i, v)| (i, v.len())) else { break };
        if longest <= CUT_MARK.len() {
            values.clear();
            break;
        }
        let over = length(&values) - max;
        let keep = longest.saturating_sub(over + CUT_MARK.len());
        if let Some(v) = values.get_mut(i) {
            *v = cut(v, keep);
        }
    }
    let mut line = head;
    for (n, ((k, _), v)) in event.extension.iter().zip(&values).enumerate() {
        if n > 0 {
            line.push(' ');
        }
        line.push_str(k);
        line.push('=');
        line.push_str(v);
    }
    line
}

/// `value` (already escaped) shortened to at most `keep` bytes and marked; an escape is
/// never split (a cut would leave a lone backslash that escapes the mark).
fn cut(value: &str, keep: usize) -> String {
    let mut end = keep.min(value.len());
    while end > 0 && !value.is_char_boundary(end) {
        end -= 1;
    }
    let mut kept = value.get(..end).unwrap_or_default();
    // A trailing run of an odd number of backslashes ends inside an escape.
    let slashes = kept.bytes().rev().take_while(|&b| b == b'\\').count();
    if slashes % 2 == 1 {
        kept = kept.get(..kept.len() - 1).unwrap_or_default();
    }
    format!("{kept}{CUT_MARK}")
}

fn escape_header(field: &str, out: &mut String) {
    for c in field.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '|' => out.push_str("\\|"),
            // A header is one line: breaks become spaces.
            '\r' | '\n' => out.push(' '),
            c => out.push(c),
        }
    }
}

/// An extension value: `\` and `=` escaped, line breaks written `\n` and `\r`.
fn escape_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '=' => out.push_str("\\="),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out
}

/// The labels of the six custom strings, in order: rule id, ATT&CK technique ids,
/// ATT&CK tactics, zones (source to destination), the protocol function, Community ID.
pub const CUSTOM_LABELS: [&str; 6] = ["ruleId", "mitreTechniqueIds", "mitreTactics", "zones", "protocolFunction", "communityId"];

/// An EVE `alert` line as a CEF event (`None` for another record type or a line that is
/// not one). `host` names the sensor (`dvchost`) when the line has none.
///
/// Standard keys: `rt` (milliseconds since the epoch), `src`, `spt`, `dst`, `dpt`,
/// `proto`, `app`, `act`, `cat`, `msg` (what matched), `dvchost`, `externalId` (the
/// record's `event_id`: a message sent twice carries the same one). The custom strings
/// `cs1`..`cs6` carry [`CUSTOM_LABELS`] (each with its `csNLabel`), and the technique
/// names go in `flexString1` (label `mitreTechniqueNames`): Microsoft Sentinel's CEF
/// mapping leaves the flex strings free.
pub fn from_eve(line: &[u8], host: &str) -> Option<CefEvent> {
    let v: serde_json::Value = serde_json::from_slice(line).ok()?;
    if v.get("event_type")?.as_str()? != "alert" {
        return None;
    }
    let a = v.get("alert")?;
    let meta = a.get("metadata");
    let list = |key: &str| -> String {
        meta.and_then(|m| m.get(key))
            .and_then(|l| l.as_array())
            .map_or(String::new(), |l| l.iter().filter_map(|x| x.as_str()).collect::<Vec<_>>().join(","))
    };
    let text = |v: Option<&serde_json::Value>| -> String {
        match v {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(serde_json::Value::Number(n)) => n.to_string(),
            _ => String::new(),
        }
    };
    let severity = meta
        .and_then(|m| m.get("severity"))
        .and_then(|l| l.get(0))
        .and_then(|s| s.as_str())
        .and_then(Severity::from_name)
        .map_or(5, cef_severity);
    let mut ext: Vec<(&'static str, String)> = Vec::new();
    let mut put = |k: &'static str, value: String| {
        if !value.is_empty() {
            ext.push((k, value));
        }
    };
    let rt = v.get("timestamp").and_then(|t| t.as_str()).and_then(otsentry_core::Timestamp::parse_rfc3339);
    put("rt", rt.map_or(String::new(), |t| (t.as_nanos().div_euclid(1_000_000)).to_string()));
    put("src", text(v.get("src_ip")));
    put("spt", text(v.get("src_port")));
    put("dst", text(v.get("dest_ip")));
    put("dpt", text(v.get("dest_port")));
    put("proto", text(v.get("proto")));
    put("app", text(v.get("app_proto")));
    put("act", text(a.get("action")));
    put("cat", text(a.get("category")));
    put("msg", text(a.get("detail")));
    put("dvchost", v.get("host").and_then(|h| h.as_str()).unwrap_or(host).to_string());
    put("externalId", text(v.get("event_id")));
    let zones = match (v.pointer("/segmentation/src_zone"), v.pointer("/segmentation/dest_zone")) {
        (Some(s), Some(d)) => format!("{} -> {}", text(Some(s)), text(Some(d))),
        _ => String::new(),
    };
    let app = text(v.get("app_proto"));
    let function = v.get(app.as_str()).and_then(|o| o.get("function_name").or_else(|| o.get("function"))).map(|f| text(Some(f)));
    let values = [
        list("rule_id"),
        list("mitre_technique_id"),
        list("mitre_tactic_name"),
        zones,
        function.unwrap_or_default(),
        text(v.get("community_id")),
    ];
    for (n, (value, label)) in values.into_iter().zip(CUSTOM_LABELS).enumerate() {
        if value.is_empty() {
            continue;
        }
        let (key, label_key) = CUSTOM_KEYS.get(n).copied().unwrap_or(("cs6", "cs6Label"));
        put(key, value);
        put(label_key, label.to_string());
    }
    let names = list("mitre_technique_name");
    if !names.is_empty() {
        put("flexString1", names);
        put("flexString1Label", "mitreTechniqueNames".to_string());
    }
    Some(CefEvent { signature_id: text(a.get("signature_id")), name: text(a.get("signature")), severity, extension: ext })
}

const CUSTOM_KEYS: [(&str, &str); 6] =
    [("cs1", "cs1Label"), ("cs2", "cs2Label"), ("cs3", "cs3Label"), ("cs4", "cs4Label"), ("cs5", "cs5Label"), ("cs6", "cs6Label")];

#[cfg(test)]
mod tests {
    use super::*;

    /// A CEF parser as a receiver reads a line: the header's seven fields (with `\|`
    /// and `\\` undone) and the extension's keys and values (with `\=`, `\\`, `\n`
    /// and `\r` undone; a key is the word before an unescaped `=`).
    fn parse(line: &str) -> (Vec<String>, Vec<(String, String)>) {
        let body = line.strip_prefix("CEF:").expect("a CEF line");
        let mut header = Vec::new();
        let mut field = String::new();
        let mut chars = body.chars();
        while header.len() < 7 {
            match chars.next().expect("seven header fields") {
                '\\' => field.push(chars.next().expect("an escaped character")),
                '|' => header.push(std::mem::take(&mut field)),
                c => field.push(c),
            }
        }
        let rest: String = chars.collect();
        // Split at unescaped '=': each key is the last word before it.
        let mut pieces: Vec<String> = vec![String::new()];
        let mut it = rest.chars();
        while let Some(c) = it.next() {
            match c {
                '\\' => {
                    let e = it.next().expect("an escaped character");
                    let piece = pieces.last_mut().unwrap();
                    piece.push('\\');
                    piece.push(e);
                }
                '=' => pieces.push(String::new()),
                c => pieces.last_mut().unwrap().push(c),
            }
        }
        let unescape = |v: &str| -> String {
            let mut out = String::new();
            let mut it = v.chars();
            while let Some(c) = it.next() {
                if c == '\\' {
                    match it.next() {
                        Some('n') => out.push('\n'),
                        Some('r') => out.push('\r'),
                        Some(e) => out.push(e),
                        None => {}
                    }
                } else {
                    out.push(c);
                }
            }
            out
        };
        let mut ext = Vec::new();
        let mut key = pieces.first().cloned().unwrap_or_default();
        for (n, piece) in pieces.iter().enumerate().skip(1) {
            let last = n + 1 == pieces.len();
            let (value, next) = if last { (piece.as_str(), "") } else { piece.rsplit_once(' ').unwrap_or((piece.as_str(), "")) };
            ext.push((key.trim().to_string(), unescape(value)));
            key = next.to_string();
        }
        (header, ext)
    }

    fn event(msg: &str) -> CefEvent {
        CefEvent {
            signature_id: "4100001".into(),
            name: "Modbus: write | from a laptop \\ and more".into(),
            severity: cef_severity(Severity::High),
            extension: vec![
                ("rt", "1768464000120".into()),
                ("src", "10.10.9.99".into()),
                ("msg", msg.into()),
                ("cs1", "modbus.write.unauthorized_source".into()),
                ("cs1Label", "rule id".into()),
            ],
        }
    }

    #[test]
    fn every_field_round_trips_escapes_included() {
        let msg = "function=6 a\\b c=d |pipe|\nsecond line\r\nthird ends in a backslash\\";
        let e = event(msg);
        let line = format("otsentry", "otsentry", "0.1.0", &e, 8192);
        assert!(!line.contains('\n') && !line.contains('\r'), "{line}");
        let (header, ext) = parse(&line);
        assert_eq!(header, ["0", "otsentry", "otsentry", "0.1.0", "4100001", &e.name, "8"]);
        let want: Vec<(String, String)> = e.extension.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
        assert_eq!(ext, want);
    }

    #[test]
    fn an_eve_alert_becomes_a_cef_event_with_every_key() {
        let line = br#"{"timestamp":"2026-01-15T08:00:00.120000+00:00","flow_id":5,"pcap_cnt":13,"event_type":"alert","src_ip":"10.10.9.99","src_port":50500,"dest_ip":"10.10.2.10","dest_port":502,"proto":"TCP","app_proto":"modbus","community_id":"1:Lrra=","alert":{"action":"allowed","gid":1,"signature_id":4100011,"rev":1,"signature":"Modbus: write | from a laptop","category":"Impair Process Control","severity":1,"metadata":{"mitre_technique_id":["T0855","T0836"],"mitre_technique_name":["Unauthorized Command Message","Modify Parameter"],"mitre_tactic_name":["Impair Process Control"],"severity":["high"],"rule_id":["modbus.write.unauthorized_source"]},"detail":"function=6 (write_single_register)\nsecond"},"modbus":{"function":6,"function_name":"write_single_register"},"host":"s1","event_id":"979b0942-be12-80c0-b491-1d730d8b2819"}"#;
        let e = from_eve(line, "fallback").unwrap();
        let (header, ext) = parse(&format("otsentry", "otsentry", "0.1.0", &e, 8192));
        assert_eq!(header, ["0", "otsentry", "otsentry", "0.1.0", "4100011", "Modbus: write | from a laptop", "8"]);
        let get = |k: &str| ext.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
        assert_eq!(get("rt"), Some("1768464000120"));
        assert_eq!((get("src"), get("spt"), get("dst"), get("dpt")), (Some("10.10.9.99"), Some("50500"), Some("10.10.2.10"), Some("502")));
        assert_eq!((get("proto"), get("app"), get("act")), (Some("TCP"), Some("modbus"), Some("allowed")));
        assert_eq!(get("msg"), Some("function=6 (write_single_register)\nsecond"));
        assert_eq!((get("dvchost"), get("externalId")), (Some("s1"), Some("979b0942-be12-80c0-b491-1d730d8b2819")));
        assert_eq!((get("cs1"), get("cs1Label")), (Some("modbus.write.unauthorized_source"), Some("ruleId")));
        assert_eq!((get("cs2"), get("cs3")), (Some("T0855,T0836"), Some("Impair Process Control")));
        assert_eq!(get("cs4"), None, "no zones without a policy");
        assert_eq!((get("cs5"), get("cs5Label")), (Some("write_single_register"), Some("protocolFunction")));
        assert_eq!((get("cs6"), get("cs6Label")), (Some("1:Lrra="), Some("communityId")));
        assert_eq!(get("flexString1"), Some("Unauthorized Command Message,Modify Parameter"));
        // Not an alert: nothing.
        assert!(from_eve(br#"{"event_type":"flow"}"#, "h").is_none());
        assert!(from_eve(b"not json", "h").is_none());
    }

    #[test]
    fn severities_follow_ours() {
        let got: Vec<u8> = Severity::ALL.iter().map(|&s| cef_severity(s)).collect();
        assert_eq!(got, [1, 3, 5, 8, 10]);
    }

    #[test]
    fn a_long_message_is_cut_to_the_receivers_maximum_and_marked() {
        let long = "x\\=".repeat(2000);
        let e = event(&long);
        for max in [200, 480, 1024, 2048] {
            let line = format("otsentry", "otsentry", "0.1.0", &e, max);
            assert!(line.len() <= max, "{max}: {} bytes", line.len());
            let (_, ext) = parse(&line);
            let msg = &ext.iter().find(|(k, _)| k == "msg").unwrap().1;
            assert!(msg.ends_with(CUT_MARK), "{max}: {msg}");
            // What is kept is the start of the message, its escapes whole.
            let kept = msg.strip_suffix(CUT_MARK).unwrap();
            assert!(long.starts_with(kept), "{max}: {kept}");
            // The other fields are whole.
            assert_eq!(ext.iter().find(|(k, _)| k == "cs1").unwrap().1, "modbus.write.unauthorized_source");
        }
        // Below the header's own length, the header alone.
        let line = format("otsentry", "otsentry", "0.1.0", &e, 10);
        assert!(line.ends_with("|8|"), "{line}");
    }
}
