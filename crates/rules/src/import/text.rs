//! Suricata rule text: lines joined at trailing backslashes, comments skipped, each rule
//! split into its header and its `name:value;` options.

/// One rule as written, with the line it starts on.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct RuleText {
    pub(crate) line: usize,
    pub(crate) text: String,
}

/// The rules of a file (a `#` line is a comment, a disabled rule included).
pub(crate) fn rules(file_text: &str) -> Vec<RuleText> {
    let mut out = Vec::new();
    let mut current: Option<RuleText> = None;
    for (i, raw) in file_text.lines().enumerate() {
        let line = raw.trim_end();
        let (body, continues) = match line.strip_suffix('\\') {
            Some(b) => (b, true),
            None => (line, false),
        };
        match current.as_mut() {
            Some(r) => {
                r.text.push(' ');
                r.text.push_str(body.trim());
            }
            None => {
                let t = body.trim();
                if t.is_empty() || t.starts_with('#') {
                    continue;
                }
                current = Some(RuleText { line: i + 1, text: t.to_string() });
            }
        }
        if !continues {
            out.extend(current.take());
        }
    }
    out.extend(current);
    out
}

/// A rule's parts.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Parsed {
    pub(crate) action: String,
    pub(crate) proto: String,
    pub(crate) src: String,
    pub(crate) src_port: String,
    pub(crate) bidirectional: bool,
    pub(crate) dst: String,
    pub(crate) dst_port: String,
    /// `(name, value)` in order; the value unquoted.
    pub(crate) options: Vec<(String, Option<String>)>,
}

/// Splits `text` at the characters `sep` accepts outside `[...]` groups; parts trimmed,
/// empty ones dropped. A rule's header (at whitespace) and its address and port groups
/// (at commas) split this way.
pub(crate) fn split_outside_groups(text: &str, sep: impl Fn(char) -> bool) -> Vec<String> {
    let mut parts = Vec::new();
    let mut part = String::new();
    let mut depth = 0usize;
    for c in text.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            c if depth == 0 && sep(c) => {
                parts.push(std::mem::take(&mut part));
                continue;
            }
            _ => {}
        }
        part.push(c);
    }
    parts.push(part);
    parts.into_iter().map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect()
}

/// The header's words, `[...]` groups (which may hold spaces) kept whole and closed up.
fn header_words(header: &str) -> Vec<String> {
    split_outside_groups(header, char::is_whitespace).into_iter().map(|w| w.split_whitespace().collect()).collect()
}

pub(crate) fn parse(text: &str) -> Result<Parsed, String> {
    let open = text.find('(').ok_or("no option list: a rule ends with (options)")?;
    let close = text.rfind(')').filter(|&c| c > open).ok_or("the option list is not closed with ')'")?;
    if !text.get(close + 1..).unwrap_or("").trim().is_empty() {
        return Err("text after the option list's ')'".into());
    }
    let words = header_words(text.get(..open).unwrap_or(""));
    let [action, proto, src, src_port, dir, dst, dst_port] = words.as_slice() else {
        return Err(format!("the header has {} words; Suricata's is: action protocol source port direction destination port", words.len()));
    };
    let bidirectional = match dir.as_str() {
        "->" => false,
        "<>" => true,
        other => return Err(format!("{other:?} is not a direction (-> or <>)")),
    };
    Ok(Parsed {
        action: action.clone(),
        proto: proto.to_ascii_lowercase(),
        src: src.clone(),
        src_port: src_port.clone(),
        bidirectional,
        dst: dst.clone(),
        dst_port: dst_port.clone(),
        options: options(text.get(open + 1..close).unwrap_or(""))?,
    })
}

/// `name:value;` pairs: `;` inside quotes or after a backslash does not end an option.
fn options(body: &str) -> Result<Vec<(String, Option<String>)>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut escaped = false;
    for c in body.chars() {
        if escaped {
            cur.push(c);
            escaped = false;
            continue;
        }
        match c {
            '\\' => {
                escaped = true;
                cur.push(c);
            }
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            ';' if !quoted => {
                if !cur.trim().is_empty() {
                    out.push(option(&cur));
                }
                cur.clear();
            }
            _ => cur.push(c),
        }
    }
    if quoted {
        return Err("a quoted option value is not closed".into());
    }
    if !cur.trim().is_empty() {
        return Err(format!("option {:?} does not end with ';'", cur.trim()));
    }
    Ok(out)
}

fn option(text: &str) -> (String, Option<String>) {
    match text.split_once(':') {
        Some((name, value)) => (name.trim().to_ascii_lowercase(), Some(unquote(value.trim()))),
        None => (text.trim().to_ascii_lowercase(), None),
    }
}

/// Drops surrounding quotes and the backslashes that escape `"`, `;` and `\`.
fn unquote(v: &str) -> String {
    let inner = v.strip_prefix('"').and_then(|s| s.strip_suffix('"')).unwrap_or(v);
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(n @ ('"' | ';' | '\\' | ':')) => out.push(n),
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continued_lines_join_and_comments_are_skipped() {
        let text = "# a comment\n\nalert dnp3 any any -> any any (msg:\"x\"; \\\n      dnp3_func:21; sid:1;)\n#alert dnp3 any any -> any any (sid:2;)\n";
        let r = rules(text);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].line, 3);
        assert!(r[0].text.ends_with("dnp3_func:21; sid:1;)"));
    }

    #[test]
    fn headers_and_options() {
        let p =
            parse(r#"alert modbus [10.0.0.1, 10.0.0.2] any -> $PLC 502 (msg:"a \"b\"; c"; modbus: function 1; nocase; sid:5;)"#).unwrap();
        assert_eq!(p.src, "[10.0.0.1,10.0.0.2]");
        assert_eq!(p.dst, "$PLC");
        assert_eq!(
            p.options,
            vec![
                ("msg".into(), Some("a \"b\"; c".into())),
                ("modbus".into(), Some("function 1".into())),
                ("nocase".into(), None),
                ("sid".into(), Some("5".into())),
            ]
        );
        assert!(parse("alert dnp3 any any any any (sid:1;)").is_err());
        assert!(parse("alert dnp3 any any => any any (sid:1;)").is_err());
        assert!(parse("alert dnp3 any any -> any any (sid:1").is_err());
        assert!(parse("alert dnp3 any any -> any any (msg:\"open; sid:1;)").is_err());
        assert!(parse("alert dnp3 any any -> any any (sid:1)").is_err());
    }
}
