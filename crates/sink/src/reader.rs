//! Reading fields out of a serialised record (one EVE line) for sinks that need them:
//! one strict pass over the line finds each wanted field by its path (a tree of keys)
//! and gives its bytes as written, without building the record again. Optionally, the
//! fields no path names are kept as one JSON object shaped like the record (a table's
//! `extra` column). Every sink that reads fields uses this one reader.
use std::borrow::Cow;

/// The wanted fields as a tree of keys, each leaf a slot of [`Fields`]. Built once per
/// sink; matched by walking (a dozen-odd top-level keys, a few below each).
#[derive(Debug, Default)]
pub struct Paths {
    slot: Option<usize>,
    children: Vec<(Box<str>, Paths)>,
    slots: usize,
}

impl Paths {
    /// The paths in order: field `i` of [`Fields`] is `paths[i]` (an empty path names
    /// no field: its slot stays empty).
    pub fn new<'k, P, K>(paths: P) -> Paths
    where
        P: IntoIterator<Item = K>,
        K: IntoIterator<Item = &'k str>,
    {
        let mut tree = Paths::default();
        for (i, path) in paths.into_iter().enumerate() {
            let mut node = &mut tree;
            let mut named = false;
            for key in path {
                named = true;
                let at = match node.children.iter().position(|(k, _)| &**k == key) {
                    Some(at) => at,
                    None => {
                        node.children.push((key.into(), Paths::default()));
                        node.children.len() - 1
                    }
                };
                node = &mut node.children[at].1;
            }
            if named {
                node.slot = Some(i);
            }
            tree.slots = i + 1;
        }
        tree
    }

    fn child(&self, key: &[u8]) -> Option<&Paths> {
        self.children.iter().find(|(k, _)| k.as_bytes() == key).map(|(_, n)| n)
    }
}

/// Where each wanted field is in the line last read: the span of the value's bytes as
/// written (a string with its quotes, an object with its braces). Kept between lines,
/// so a read allocates nothing.
#[derive(Debug, Default)]
pub struct Fields {
    spans: Vec<Option<(usize, usize)>>,
    rest: Vec<u8>,
    keep_rest: bool,
}

/// Objects this deep are not walked but kept whole (no path looks deeper).
const MAX_DEPTH: usize = 3;

impl Fields {
    /// Fields that also keep what no path names ([`Fields::rest`]).
    pub fn keeping_rest() -> Fields {
        Fields { keep_rest: true, ..Fields::default() }
    }

    /// Reads `line` (one JSON object, nothing after it but white space) for `paths`.
    /// On error, the byte offset where the line stopped being JSON.
    pub fn read(&mut self, paths: &Paths, line: &[u8]) -> Result<(), usize> {
        self.spans.clear();
        self.spans.resize(paths.slots, None);
        self.rest.clear();
        let mut scan = Scanner { b: line, i: 0, keep_rest: self.keep_rest };
        scan.object(paths, 0, self)?;
        scan.end()
    }

    /// Field `i`'s span in the line, if the line has it (a `null` counts as present).
    pub fn span(&self, i: usize) -> Option<(usize, usize)> {
        self.spans.get(i).copied().flatten()
    }

    /// Field `i`'s bytes in `line` (the line last read), without `null`s.
    pub fn get<'l>(&self, line: &'l [u8], i: usize) -> Option<&'l [u8]> {
        self.span(i).and_then(|(from, to)| line.get(from..to)).filter(|v| *v != b"null")
    }

    /// Field `i` as text: a string's contents, a number or boolean as written; `None`
    /// when absent, `null`, an object or array, or a bad string.
    pub fn text<'l>(&self, line: &'l [u8], i: usize) -> Option<Cow<'l, str>> {
        let raw = self.get(line, i)?;
        match raw.first()? {
            b'"' => string(raw).ok(),
            b'{' | b'[' => None,
            _ => std::str::from_utf8(raw).ok().map(Cow::Borrowed),
        }
    }

    /// Field `i` as a list of strings (a JSON array of them), empty when absent.
    pub fn strings<'l>(&self, line: &'l [u8], i: usize) -> Vec<Cow<'l, str>> {
        self.get(line, i).and_then(|raw| serde_json::from_slice(raw).ok()).unwrap_or_default()
    }

    /// Every field no path names, as a JSON object shaped like the record (the objects
    /// on the way kept, their named fields left out); empty when there are none or
    /// these fields were not made [`Fields::keeping_rest`].
    pub fn rest(&self) -> &[u8] {
        &self.rest
    }
}

/// A strict scanner of one JSON line; errors are the byte offset where it stopped.
struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
    keep_rest: bool,
}

impl<'a> Scanner<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn expect(&mut self, c: u8) -> Result<(), usize> {
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(self.i)
        }
    }

    fn end(&mut self) -> Result<(), usize> {
        while self.peek().is_some_and(|c| c.is_ascii_whitespace()) {
            self.i += 1;
        }
        if self.i == self.b.len() {
            Ok(())
        } else {
            Err(self.i)
        }
    }

    /// An object whose fields are matched against `node`. With the rest kept, the
    /// fields no path names are appended to it as an object (nothing when none).
    fn object(&mut self, node: &Paths, depth: usize, found: &mut Fields) -> Result<(), usize> {
        self.expect(b'{')?;
        let keep = self.keep_rest;
        let mark = found.rest.len();
        if keep {
            found.rest.push(b'{');
        }
        let mut closed = self.peek() == Some(b'}');
        while !closed {
            let field = self.i;
            let key = self.string()?;
            let inner = &key[1..key.len() - 1];
            self.expect(b':')?;
            let child = node.child(inner);
            let start = self.i;
            let comma = keep && found.rest.len() > mark + 1;
            match child {
                Some(c) if c.slot.is_none() && !c.children.is_empty() && depth < MAX_DEPTH && self.peek() == Some(b'{') => {
                    // Walked: only what its paths leave goes to the rest.
                    let at = found.rest.len();
                    if keep {
                        if comma {
                            found.rest.push(b',');
                        }
                        found.rest.extend_from_slice(key);
                        found.rest.push(b':');
                    }
                    let before = found.rest.len();
                    self.object(c, depth + 1, found)?;
                    if keep && found.rest.len() == before {
                        found.rest.truncate(at);
                    }
                }
                _ => {
                    self.value()?;
                    match child.and_then(|c| c.slot) {
                        Some(slot) => {
                            if let Some(s) = found.spans.get_mut(slot) {
                                *s = Some((start, self.i));
                            }
                        }
                        None if keep => {
                            if comma {
                                found.rest.push(b',');
                            }
                            found.rest.extend_from_slice(&self.b[field..self.i]);
                        }
                        None => {}
                    }
                }
            }
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => closed = true,
                _ => return Err(self.i),
            }
        }
        self.i += 1;
        if keep {
            if found.rest.len() == mark + 1 {
                found.rest.truncate(mark);
            } else {
                found.rest.push(b'}');
            }
        }
        Ok(())
    }

    /// Any value, skipped.
    fn value(&mut self) -> Result<(), usize> {
        match self.peek() {
            Some(b'"') => self.string().map(|_| ()),
            Some(b'{' | b'[') => self.composite(),
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            Some(c) if c == b'-' || c.is_ascii_digit() => {
                let start = self.i;
                while self.peek().is_some_and(|c| c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.' | b'e' | b'E')) {
                    self.i += 1;
                }
                if self.i > start {
                    Ok(())
                } else {
                    Err(start)
                }
            }
            _ => Err(self.i),
        }
    }

    /// An object or array no path looks into, skipped fast: brackets balanced and
    /// matched, strings whole (the parts no path reads are not checked further).
    fn composite(&mut self) -> Result<(), usize> {
        let mut open: Vec<u8> = Vec::new();
        loop {
            let Some(&c) = self.b.get(self.i) else { return Err(self.i) };
            match c {
                b'"' => {
                    self.string()?;
                    continue;
                }
                b'{' => open.push(b'}'),
                b'[' => open.push(b']'),
                b'}' | b']' => {
                    if open.pop() != Some(c) {
                        return Err(self.i);
                    }
                    if open.is_empty() {
                        self.i += 1;
                        return Ok(());
                    }
                }
                _ => {}
            }
            self.i += 1;
        }
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), usize> {
        if self.b.get(self.i..self.i + word.len()) == Some(word) {
            self.i += word.len();
            Ok(())
        } else {
            Err(self.i)
        }
    }

    /// A string, quotes included (escapes are left for whoever reads it).
    fn string(&mut self) -> Result<&'a [u8], usize> {
        let start = self.i;
        self.expect(b'"')?;
        loop {
            self.i += special(self.b.get(self.i..).unwrap_or_default());
            match self.b.get(self.i) {
                Some(b'"') => {
                    self.i += 1;
                    return Ok(&self.b[start..self.i]);
                }
                Some(b'\\') if self.i + 1 < self.b.len() => self.i += 2,
                _ => return Err(self.i),
            }
        }
    }
}

/// The index of the first byte in `b` that ends or interrupts a JSON string (a quote, a
/// backslash or a control character), or `b.len()`: eight bytes at a time.
fn special(b: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut at = 0;
    while let Some(word) = b.get(at..at + 8) {
        let x = u64::from_le_bytes(word.try_into().unwrap_or_default());
        let quote = x ^ (ONES * u64::from(b'"'));
        let slash = x ^ (ONES * u64::from(b'\\'));
        // A byte is zero (a match), or below 0x20; the lowest flagged byte is exact.
        let hits = (quote.wrapping_sub(ONES) & !quote) | (slash.wrapping_sub(ONES) & !slash) | (x.wrapping_sub(ONES * 0x20) & !x);
        let hits = hits & HIGH;
        if hits != 0 {
            return at + (hits.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    at + b[at..].iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20).unwrap_or(b.len() - at)
}

/// A JSON value's text, for messages.
pub fn raw_text(raw: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(raw)
}

/// A JSON string's contents: borrowed when it has no escapes (ours rarely do).
pub fn string(raw: &[u8]) -> Result<Cow<'_, str>, String> {
    let inner = raw.strip_prefix(b"\"").and_then(|r| r.strip_suffix(b"\"")).ok_or_else(|| format!("{} is not a string", raw_text(raw)))?;
    if !inner.contains(&b'\\') {
        return std::str::from_utf8(inner).map(Cow::Borrowed).map_err(|_| format!("{} is not UTF-8", raw_text(raw)));
    }
    serde_json::from_slice::<String>(raw).map(Cow::Owned).map_err(|_| format!("{} is not a string", raw_text(raw)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fast_string_scan_finds_the_first_special_byte() {
        for text in ["", "abc", "abcdefgh\"", "a\\b", "0123456789abcdef\u{1}", "é€漢字 and more text\"", "\x7f\u{80}\""] {
            for cut in 0..=text.len() {
                let b = &text.as_bytes()[cut..];
                let want = b.iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20).unwrap_or(b.len());
                assert_eq!(special(b), want, "{text:?} from {cut}");
            }
        }
    }

    #[test]
    fn fields_are_found_by_path_and_the_rest_kept_in_shape() {
        let paths = Paths::new([vec!["event_type"], vec!["alert", "metadata", "rule_id"], vec!["alert", "signature"], vec!["src_port"]]);
        let line = br#"{"event_type":"alert","src_port":502,"alert":{"signature":"a \"b\"","metadata":{"rule_id":["r1","r2"],"x":1},"y":null},"z":[1]}"#;
        let mut f = Fields::keeping_rest();
        f.read(&paths, line).unwrap();
        assert_eq!(f.text(line, 0).as_deref(), Some("alert"));
        assert_eq!(f.strings(line, 1), ["r1", "r2"]);
        assert_eq!(f.text(line, 2).as_deref(), Some("a \"b\""));
        assert_eq!(f.text(line, 3).as_deref(), Some("502"));
        assert_eq!(f.rest(), br#"{"alert":{"metadata":{"x":1},"y":null},"z":[1]}"#);
        // Without the rest: the same fields, nothing kept.
        let mut lean = Fields::default();
        lean.read(&paths, line).unwrap();
        assert_eq!(lean.text(line, 2), f.text(line, 2));
        assert!(lean.rest().is_empty());
        // A line cut short names where it stopped.
        assert_eq!(lean.read(&paths, &line[..40]), Err(40));
    }
}
