//! ArcSight's Common Event Format: one event as
//! `CEF:0|Vendor|Product|Version|SignatureID|Name|Severity|Extension`, escaped as the CEF
//! specification says (`\` and `|` in header fields; `\`, `=` and line breaks in
//! extension values) and cut to what a receiver takes.
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A CEF parser as a receiver reads a line: the header's seven fields (with `\|`
    /// and `\\` undone) and the extension's keys and values (with `\=`, `\\`, `\n`
    /// and `\r` undone; a key is the word before an unescaped `=`).
    pub(crate) fn parse(line: &str) -> (Vec<String>, Vec<(String, String)>) {
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
