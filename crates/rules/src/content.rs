//! Byte-content matches on a buffer (DNP3 application data), with Suricata's content
//! syntax (`"abc|0d 0a|"`) and the modifiers its OT rules use: `nocase`, `offset`,
//! `depth`, `distance`, `within` and negation. A list of contents must all hold, in
//! order; a relative content is placed after the previous one's match, and a failed
//! relative match retries the previous content at its next position, as Suricata does.
use serde_yaml_ng::Value;

/// One content to find.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Content {
    pub(crate) pattern: Vec<u8>,
    pub(crate) nocase: bool,
    pub(crate) negated: bool,
    pub(crate) offset: Option<usize>,
    pub(crate) depth: Option<usize>,
    pub(crate) distance: Option<i64>,
    pub(crate) within: Option<usize>,
}

impl Content {
    fn relative(&self) -> bool {
        self.distance.is_some() || self.within.is_some()
    }

    /// The window `[start, end)` this content is searched in, given where the previous
    /// content's match ended.
    fn window(&self, len: usize, prev_end: usize) -> Option<(usize, usize)> {
        let (start, end) = if self.relative() {
            let start = i64::try_from(prev_end).ok()?.saturating_add(self.distance.unwrap_or(0)).max(0);
            let start = usize::try_from(start).ok()?;
            let end = self.within.map_or(len, |w| start.saturating_add(w));
            (start, end)
        } else {
            let start = self.offset.unwrap_or(0);
            let end = self.depth.map_or(len, |d| start.saturating_add(d));
            (start, end)
        };
        let end = end.min(len);
        (start <= end).then_some((start, end))
    }

    fn find_from(&self, buf: &[u8], from: usize, end: usize) -> Option<usize> {
        let n = self.pattern.len();
        let hay = buf.get(from..end)?;
        if n == 0 {
            return Some(from);
        }
        hay.windows(n)
            .position(|w| if self.nocase { w.eq_ignore_ascii_case(&self.pattern) } else { w == self.pattern.as_slice() })
            .map(|p| from + p)
    }
}

/// How many placements a match may try before it gives up (Suricata's default
/// inspection recursion limit), so a crafted buffer cannot make a rule slow.
const BUDGET: u32 = 3000;

/// Whether every content holds in `buf`, in order.
pub(crate) fn matches(contents: &[Content], buf: &[u8]) -> bool {
    let mut budget = BUDGET;
    place(contents, buf, 0, &mut budget)
}

fn place(contents: &[Content], buf: &[u8], prev_end: usize, budget: &mut u32) -> bool {
    let Some((first, rest)) = contents.split_first() else { return true };
    if *budget == 0 {
        return false;
    }
    *budget -= 1;
    let Some((start, end)) = first.window(buf.len(), prev_end) else {
        // A window past the buffer's end holds nothing: a negated content holds there.
        return first.negated && place(rest, buf, prev_end, budget);
    };
    if first.negated {
        return first.find_from(buf, start, end).is_none() && place(rest, buf, prev_end, budget);
    }
    let mut from = start;
    while let Some(at) = first.find_from(buf, from, end) {
        let after = at + first.pattern.len();
        // Only a later relative content depends on where this one matched.
        let retry = rest.first().is_some_and(Content::relative);
        if place(rest, buf, after, budget) {
            return true;
        }
        if !retry || *budget == 0 {
            return false;
        }
        from = at + 1;
    }
    false
}

/// Suricata's content text: printable characters, with `|hex bytes|` blocks.
pub(crate) fn parse_pattern(text: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut parts = text.split('|');
    let mut hex = false;
    let mut blocks = 0usize;
    for part in parts.by_ref() {
        if hex {
            let digits: String = part.chars().filter(|c| !c.is_whitespace()).collect();
            if !digits.len().is_multiple_of(2) {
                return Err(format!("|{part}| has an odd number of hex digits"));
            }
            for pair in digits.as_bytes().chunks(2) {
                let s = std::str::from_utf8(pair).map_err(|_| "hex digits are ASCII".to_string())?;
                out.push(u8::from_str_radix(s, 16).map_err(|_| format!("|{part}| is not hex"))?);
            }
        } else {
            out.extend_from_slice(part.as_bytes());
        }
        hex = !hex;
        blocks += 1;
    }
    if blocks.is_multiple_of(2) {
        return Err(format!("{text:?} opens a |hex| block it does not close"));
    }
    if out.is_empty() {
        return Err("a content is at least one byte".into());
    }
    Ok(out)
}

/// A condition on a bytes field: one content (a string or a map with modifiers) or a
/// list of them.
pub(crate) fn contents(v: &Value) -> Result<Vec<Content>, String> {
    let one = |v: &Value| -> Result<Content, String> {
        match v {
            Value::String(s) => Ok(Content { pattern: parse_pattern(s)?, ..Content::default() }),
            Value::Mapping(m) => {
                let mut c = Content::default();
                let mut pattern = None;
                for (k, val) in m {
                    let key = k.as_str().unwrap_or("");
                    let uint = || val.as_u64().and_then(|n| usize::try_from(n).ok()).ok_or(format!("{key} is a count of bytes"));
                    match key {
                        "content" => pattern = Some(parse_pattern(val.as_str().ok_or("content is a string")?)?),
                        "nocase" => c.nocase = val.as_bool().ok_or("nocase is true or false")?,
                        "negated" => c.negated = val.as_bool().ok_or("negated is true or false")?,
                        "offset" => c.offset = Some(uint()?),
                        "depth" => c.depth = Some(uint()?),
                        "within" => c.within = Some(uint()?),
                        "distance" => c.distance = Some(val.as_i64().ok_or("distance is a number of bytes")?),
                        other => {
                            return Err(format!(
                                "{other:?} is not a content modifier (content, nocase, negated, offset, depth, distance, within)"
                            ))
                        }
                    }
                }
                c.pattern = pattern.ok_or("a content map needs `content`")?;
                if c.relative() && (c.offset.is_some() || c.depth.is_some()) {
                    return Err("offset and depth are absolute; distance and within relative: use one pair".into());
                }
                Ok(c)
            }
            _ => Err("expected a content string, a map with `content` and modifiers, or a list of them".into()),
        }
    };
    match v {
        Value::Sequence(items) if !items.is_empty() => items.iter().map(one).collect(),
        other => one(other).map(|c| vec![c]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(p: &[u8]) -> Content {
        Content { pattern: p.to_vec(), ..Content::default() }
    }

    #[test]
    fn patterns_mix_text_and_hex() {
        assert_eq!(parse_pattern("|02 01 28 01 00|").unwrap(), vec![2, 1, 0x28, 1, 0]);
        assert_eq!(parse_pattern("ab|0d0A|c").unwrap(), b"ab\r\nc".to_vec());
        assert!(parse_pattern("|02 0|").is_err());
        assert!(parse_pattern("|02").is_err());
        assert!(parse_pattern("").is_err());
    }

    #[test]
    fn absolute_and_relative_windows() {
        let buf = b"xxABCyyDEF";
        assert!(matches(&[c(b"ABC")], buf));
        assert!(!matches(&[Content { depth: Some(4), ..c(b"ABC") }], buf));
        assert!(matches(&[Content { offset: Some(2), depth: Some(3), ..c(b"ABC") }], buf));
        assert!(matches(&[c(b"ABC"), Content { distance: Some(2), within: Some(3), ..c(b"DEF") }], buf));
        assert!(!matches(&[c(b"ABC"), Content { distance: Some(0), within: Some(4), ..c(b"DEF") }], buf));
        assert!(matches(&[Content { nocase: true, ..c(b"abc") }], buf));
        assert!(!matches(&[Content { negated: true, ..c(b"DEF") }], buf));
        assert!(matches(&[c(b"ABC"), Content { negated: true, within: Some(2), ..c(b"DEF") }], buf));
    }

    #[test]
    fn a_failed_relative_match_retries_the_previous_content() {
        // The first "A" is followed by "C" only at its second occurrence.
        let buf = b"AB AC";
        assert!(matches(&[c(b"A"), Content { distance: Some(0), within: Some(1), ..c(b"C") }], buf));
    }

    #[test]
    fn crafted_buffers_stop_at_the_budget() {
        let buf = vec![b'A'; 4096];
        let specs = [c(b"A"), Content { distance: Some(0), ..c(b"A") }, Content { distance: Some(0), ..c(b"B") }];
        assert!(!matches(&specs, &buf));
    }
}
