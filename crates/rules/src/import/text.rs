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

/// Splits a header word, keeping `[...]` groups (which may hold spaces) whole.
fn header_words(header: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut depth = 0usize;
    for c in header.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if c.is_whitespace() && depth == 0 {
            if !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
        } else if !c.is_whitespace() {
            word.push(c);
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
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
