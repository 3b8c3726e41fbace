//! An EVE line into a RowBinary row of its table: one strict pass over the line finds
//! each column's field by its path (a tree of the table's keys), then each is written
//! in the column's type for the table's layout. Fields a record lacks get the column's
//! default (0, '', []); fields no column holds, at any depth, go to `extra`.
use crate::schema::{Column, Kind, Layout, Table, TableColumns, EXTRA};
use otsentry_core::Timestamp;
use std::borrow::Cow;
use std::net::IpAddr;

/// Why a record could not become a row.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{table}.{column}: {reason}")]
pub struct RowError {
    pub table: &'static str,
    pub column: &'static str,
    pub reason: String,
}

fn write_varint(out: &mut Vec<u8>, mut n: u64) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn write_str(out: &mut Vec<u8>, s: &str) {
    write_varint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// Where each column's value is in a line: the span of the value's bytes as written (a
/// string with its quotes, an object with its braces), found in one pass over the line.
/// Kept between lines, so a row allocates nothing.
#[derive(Debug, Default)]
struct Found {
    values: Vec<Option<(usize, usize)>>,
    /// Every field no column holds, as a JSON object shaped like the record (the
    /// objects on the way to it kept, their other fields left out).
    rest: Vec<u8>,
}

/// The columns of a table as a tree of keys, so each field of a line is matched by
/// walking it (16-odd top-level keys, a few below each).
#[derive(Debug, Default)]
struct Node {
    column: Option<usize>,
    children: Vec<(&'static str, Node)>,
}

impl Node {
    fn child(&self, key: &[u8]) -> Option<&Node> {
        self.children.iter().find(|(k, _)| k.as_bytes() == key).map(|(_, n)| n)
    }
}

/// A table's columns, prepared for scanning lines.
#[derive(Debug)]
pub struct RowEncoder {
    table: &'static Table,
    columns: Vec<&'static Column>,
    tree: Node,
    found: Found,
}

impl RowEncoder {
    pub fn new(table: &'static Table) -> RowEncoder {
        let columns: Vec<&'static Column> = table.all_columns().collect();
        let mut tree = Node::default();
        for (i, c) in columns.iter().enumerate() {
            let mut node = &mut tree;
            for key in c.path {
                let at = match node.children.iter().position(|(k, _)| k == key) {
                    Some(at) => at,
                    None => {
                        node.children.push((key, Node::default()));
                        node.children.len() - 1
                    }
                };
                node = &mut node.children[at].1;
            }
            if !c.path.is_empty() {
                node.column = Some(i);
            }
        }
        RowEncoder { table, columns, tree, found: Found::default() }
    }

    /// Appends `line` (a JSON object) as a row in `layout` to `out`; on error, `out` is
    /// as it was.
    pub fn encode(&mut self, layout: Layout, line: &[u8], out: &mut Vec<u8>) -> Result<(), RowError> {
        let start = out.len();
        let result = self.encode_columns(layout, line, out);
        if result.is_err() {
            out.truncate(start);
        }
        result
    }

    fn encode_columns(&mut self, layout: Layout, line: &[u8], out: &mut Vec<u8>) -> Result<(), RowError> {
        let table = self.table.name;
        let found = &mut self.found;
        found.values.clear();
        found.values.resize(self.columns.len(), None);
        found.rest.clear();
        let mut scan = Scanner { b: line, i: 0 };
        scan.object(&self.tree, 0, found).and_then(|()| scan.end()).map_err(|at| RowError {
            table,
            column: "",
            reason: format!("not a JSON object (at byte {at})"),
        })?;
        for (column, span) in self.columns.iter().zip(&found.values) {
            if column.name == EXTRA {
                write_varint(out, found.rest.len() as u64);
                out.extend_from_slice(&found.rest);
                continue;
            }
            let value = span.map(|(from, to)| &line[from..to]).filter(|v| *v != b"null");
            write_value(column, layout, value, out).map_err(|reason| RowError { table, column: column.name, reason })?;
        }
        Ok(())
    }
}

/// A strict scanner of one JSON line; errors are the byte offset where it stopped.
struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
}

/// Objects this deep are not walked but kept whole (no column looks deeper).
const MAX_DEPTH: usize = 3;

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

    /// An object whose fields are matched against `node`. The fields no column holds
    /// are appended to `found.rest` as an object (nothing when there are none).
    fn object(&mut self, node: &Node, depth: usize, found: &mut Found) -> Result<(), usize> {
        self.expect(b'{')?;
        let mark = found.rest.len();
        found.rest.push(b'{');
        let mut closed = self.peek() == Some(b'}');
        while !closed {
            let field = self.i;
            let key = self.string()?;
            let inner = &key[1..key.len() - 1];
            self.expect(b':')?;
            let child = node.child(inner);
            let start = self.i;
            let comma = found.rest.len() > mark + 1;
            match child {
                Some(c) if c.column.is_none() && !c.children.is_empty() && depth < MAX_DEPTH && self.peek() == Some(b'{') => {
                    // Walked: only what its columns leave goes to the rest.
                    let at = found.rest.len();
                    if comma {
                        found.rest.push(b',');
                    }
                    found.rest.extend_from_slice(key);
                    found.rest.push(b':');
                    let before = found.rest.len();
                    self.object(c, depth + 1, found)?;
                    if found.rest.len() == before {
                        found.rest.truncate(at);
                    }
                }
                _ => {
                    self.value()?;
                    match child.and_then(|c| c.column) {
                        Some(col) => found.values[col] = Some((start, self.i)),
                        None => {
                            if comma {
                                found.rest.push(b',');
                            }
                            found.rest.extend_from_slice(&self.b[field..self.i]);
                        }
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
        if found.rest.len() == mark + 1 {
            found.rest.truncate(mark);
        } else {
            found.rest.push(b'}');
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

    /// An object or array no column looks into, skipped fast: brackets balanced and
    /// matched, strings whole (the parts no column reads are not checked further).
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
fn text(raw: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(raw)
}

/// A JSON string's contents: borrowed when it has no escapes (ours rarely do).
fn string(raw: &[u8]) -> Result<Cow<'_, str>, String> {
    let inner = raw.strip_prefix(b"\"").and_then(|r| r.strip_suffix(b"\"")).ok_or_else(|| format!("{} is not a string", text(raw)))?;
    if !inner.contains(&b'\\') {
        return std::str::from_utf8(inner).map(Cow::Borrowed).map_err(|_| format!("{} is not UTF-8", text(raw)));
    }
    serde_json::from_slice::<String>(raw).map(Cow::Owned).map_err(|_| format!("{} is not a string", text(raw)))
}

fn unsigned(raw: Option<&[u8]>, max: u64) -> Result<u64, String> {
    let Some(raw) = raw else { return Ok(0) };
    let digits = (!raw.is_empty() && raw.len() <= 20 && raw.iter().all(u8::is_ascii_digit)).then_some(raw);
    let n: u64 = digits
        .and_then(|d| d.iter().try_fold(0u64, |n, c| n.checked_mul(10)?.checked_add(u64::from(c - b'0'))))
        .ok_or_else(|| format!("{} is not an unsigned integer", text(raw)))?;
    if n > max {
        return Err(format!("{n} is more than the column holds ({max})"));
    }
    Ok(n)
}

fn write_value(column: &Column, layout: Layout, value: Option<&[u8]>, out: &mut Vec<u8>) -> Result<(), String> {
    let current = layout == Layout::Current;
    match column.kind {
        Kind::Uuid => {
            let raw = value.ok_or("missing")?;
            let text = string(raw)?;
            let id = parse_uuid(&text).ok_or_else(|| format!("{text:?} is not a UUID"))?;
            // RowBinary keeps a UUID as its two 64-bit halves, each little-endian.
            out.extend_from_slice(&((id >> 64) as u64).to_le_bytes());
            out.extend_from_slice(&(id as u64).to_le_bytes());
        }
        Kind::Time => {
            let (secs, micros) = match value {
                Some(raw) => {
                    let text = string(raw)?;
                    let t = Timestamp::parse_rfc3339(&text).ok_or_else(|| format!("{text:?} is not an RFC 3339 time"))?;
                    (t.secs(), t.subsec_nanos() / 1000)
                }
                None => (0, 0),
            };
            if current {
                out.extend_from_slice(&(secs * 1_000_000 + i64::from(micros)).to_le_bytes());
            } else {
                let secs = u32::try_from(secs).map_err(|_| format!("{secs} s is outside DateTime (1970-2106)"))?;
                out.extend_from_slice(&secs.to_le_bytes());
                out.extend_from_slice(&micros.to_le_bytes());
            }
        }
        Kind::Ip => {
            let text = value.map(string).transpose()?.unwrap_or_default();
            if current {
                let ip: IpAddr = if text.is_empty() {
                    IpAddr::from([0u8; 16])
                } else {
                    text.parse().map_err(|_| format!("{text:?} is not an IP address"))?
                };
                let v6 = match ip {
                    IpAddr::V4(v4) => v4.to_ipv6_mapped(),
                    IpAddr::V6(v6) => v6,
                };
                out.extend_from_slice(&v6.octets());
            } else {
                write_str(out, &text);
            }
        }
        Kind::Name | Kind::Str => write_str(out, &value.map(string).transpose()?.unwrap_or_default()),
        Kind::Json => {
            let v = value.unwrap_or_default();
            write_varint(out, v.len() as u64);
            out.extend_from_slice(v);
        }
        Kind::Bool => out.push(match value {
            None | Some(b"false") => 0,
            Some(b"true") => 1,
            Some(other) => return Err(format!("{} is not a boolean", text(other))),
        }),
        Kind::U8 => out.push(unsigned(value, u8::MAX.into())? as u8),
        Kind::U16 => out.extend_from_slice(&(unsigned(value, u16::MAX.into())? as u16).to_le_bytes()),
        Kind::U32 => out.extend_from_slice(&(unsigned(value, u32::MAX.into())? as u32).to_le_bytes()),
        Kind::U64 => out.extend_from_slice(&unsigned(value, u64::MAX)?.to_le_bytes()),
        Kind::Names => {
            let items: Vec<Cow<'_, str>> = match value {
                Some(raw) => serde_json::from_slice(raw).map_err(|_| format!("{} is not a list of strings", text(raw)))?,
                None => Vec::new(),
            };
            write_varint(out, items.len() as u64);
            for s in &items {
                write_str(out, s);
            }
        }
        Kind::U16s => {
            let items: Vec<u16> = match value {
                Some(raw) => serde_json::from_slice(raw).map_err(|_| format!("{} is not a list of 16-bit numbers", text(raw)))?,
                None => Vec::new(),
            };
            write_varint(out, items.len() as u64);
            for n in items {
                out.extend_from_slice(&n.to_le_bytes());
            }
        }
    }
    Ok(())
}

/// `8-4-4-4-12` hex digits as a 128-bit number.
pub(crate) fn parse_uuid(text: &str) -> Option<u128> {
    let b = text.as_bytes();
    if b.len() != 36 || [8, 13, 18, 23].iter().any(|&i| b[i] != b'-') {
        return None;
    }
    let hex: String = text.chars().filter(|&c| c != '-').collect();
    (hex.len() == 32 && hex.bytes().all(|c| c.is_ascii_hexdigit())).then(|| u128::from_str_radix(&hex, 16).ok())?
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::tests::catalog;

    fn table_for(event_type: &str) -> Option<&'static Table> {
        catalog().table_for(event_type)
    }

    fn encode_row(table: &'static Table, layout: Layout, line: &str, out: &mut Vec<u8>) -> Result<(), RowError> {
        RowEncoder::new(table).encode(layout, line.as_bytes(), out)
    }

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
    fn uuids_parse_and_bad_ones_do_not() {
        assert_eq!(parse_uuid("cfebc9fa-130c-8bac-8c7b-808e03c70771"), Some(0xcfeb_c9fa_130c_8bac_8c7b_808e_03c7_0771));
        for bad in ["", "cfebc9fa130c8bac8c7b808e03c70771", "cfebc9fa-130c-8bac-8c7b-808e03c7077g", "cfebc9fa-130c-8bac-8c7b-808e03c707711"]
        {
            assert_eq!(parse_uuid(bad), None, "{bad}");
        }
    }

    const MODBUS: &str = r#"{"timestamp":"2026-01-15T08:00:00.040000+00:00","flow_id":7,"pcap_cnt":5,"event_type":"modbus","vlan":[10],"src_ip":"10.10.1.50","src_port":49152,"dest_ip":"10.10.2.10","dest_port":502,"proto":"TCP","app_proto":"modbus","modbus":{"tx_id":1,"transaction_id":1,"unit_id":1,"function":3,"function_name":"read_holding_registers","exception":{"code":2,"name":"illegal_data_address"},"response_values":[1,2]},"new_field":{"x":"\u00e9"},"event_id":"cfebc9fa-130c-8bac-8c7b-808e03c70771"}"#;

    #[test]
    fn a_record_becomes_a_row_in_either_layout() {
        let table = table_for("modbus").unwrap();
        let mut legacy = Vec::new();
        encode_row(table, Layout::Legacy, MODBUS, &mut legacy).unwrap();
        // UUID halves, then DateTime and its microseconds.
        assert_eq!(&legacy[..8], &0xcfeb_c9fa_130c_8bac_u64.to_le_bytes());
        assert_eq!(&legacy[8..16], &0x8c7b_808e_03c7_0771_u64.to_le_bytes());
        assert_eq!(&legacy[16..20], &1_768_464_000u32.to_le_bytes());
        assert_eq!(&legacy[20..24], &40_000u32.to_le_bytes());
        // The fields no column holds are kept in `extra`, in the record's shape, escapes
        // and all; the exception's fields have columns, so its object is left out.
        let extra = br#"{"modbus":{"response_values":[1,2]},"new_field":{"x":"\u00e9"}}"#;
        assert!(legacy.ends_with(extra), "{}", String::from_utf8_lossy(&legacy));
        assert_eq!(legacy[legacy.len() - extra.len() - 1] as usize, extra.len());
        let mut current = Vec::new();
        encode_row(table, Layout::Current, MODBUS, &mut current).unwrap();
        assert_eq!(&current[16..24], &(1_768_464_000i64 * 1_000_000 + 40_000).to_le_bytes());
        // IPv4 mapped into IPv6 on current servers.
        let mapped = std::net::Ipv4Addr::new(10, 10, 1, 50).to_ipv6_mapped().octets();
        assert!(current.windows(16).any(|w| w == mapped));
    }

    /// Columns and `extra` together hold every field of a record once: rebuilt from
    /// them, the record is what it was.
    #[test]
    fn columns_and_extra_hold_each_field_once() {
        let line = r#"{"timestamp":"2026-01-15T08:00:00.250000+00:00","event_type":"dnp3","dnp3":{"tx_id":1,"control":{"dir":true,"function_code":4},"application":{"control":{"fir":true},"function_code":1,"objects":[{"group":60}],"complete":true},"iin":{"indicators":[],"raw":0},"empty":{}},"event_id":"7e826a0c-9f81-8361-90c1-80dc79fd9950"}"#;
        let table = table_for("dnp3").unwrap();
        let mut row = Vec::new();
        encode_row(table, Layout::Legacy, line, &mut row).unwrap();
        let want = r#"{"dnp3":{"control":{"dir":true},"application":{"control":{"fir":true},"objects":[{"group":60}]},"iin":{"raw":0},"empty":{}}}"#;
        assert!(row.ends_with(want.as_bytes()), "{}", String::from_utf8_lossy(&row));
        // A record whose every field has a column has an empty `extra`.
        let mut row = Vec::new();
        let plain = r#"{"timestamp":"2026-01-15T08:00:00+00:00","event_type":"dnp3","dnp3":{"tx_id":1,"control":{"function_code":4}},"event_id":"7e826a0c-9f81-8361-90c1-80dc79fd9950"}"#;
        encode_row(table, Layout::Legacy, plain, &mut row).unwrap();
        assert_eq!(row.last(), Some(&0));
    }

    /// `value` without empty objects (a walked object whose every field has a column is
    /// left out of `extra`: only its fields say it was there).
    fn without_empty_objects(value: serde_json::Value) -> Option<serde_json::Value> {
        use serde_json::Value;
        match value {
            Value::Object(map) => {
                let map: serde_json::Map<_, _> = map.into_iter().filter_map(|(k, v)| Some((k, without_empty_objects(v)?))).collect();
                (!map.is_empty()).then_some(Value::Object(map))
            }
            other => Some(other),
        }
    }

    /// Every record of the golden fixtures (every type they hold), rebuilt from the values
    /// its columns found and its `extra`, is the record: no field lost, none held twice.
    #[test]
    fn golden_records_rebuild_from_columns_and_extra() {
        use serde_json::Value;
        let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
        let mut checked = std::collections::BTreeMap::new();
        // Cases are directories; files beside them (the expected-alerts list) are not.
        for dir in std::fs::read_dir(&fixtures).unwrap().map(|d| d.unwrap().path()).filter(|p| p.is_dir()) {
            for file in std::fs::read_dir(dir).unwrap() {
                let path = file.unwrap().path();
                if path.extension().is_none_or(|e| e != "jsonl") {
                    continue;
                }
                for line in std::fs::read_to_string(&path).unwrap().lines() {
                    let record: Value = serde_json::from_str(line).unwrap();
                    let table = table_for(record["event_type"].as_str().unwrap()).unwrap();
                    let mut enc = RowEncoder::new(table);
                    enc.encode(Layout::Current, line.as_bytes(), &mut Vec::new()).unwrap();
                    let mut rebuilt: Value = if enc.found.rest.is_empty() {
                        Value::Object(Default::default())
                    } else {
                        serde_json::from_slice(&enc.found.rest).unwrap()
                    };
                    for (column, span) in enc.columns.iter().zip(&enc.found.values) {
                        let Some((from, to)) = *span else { continue };
                        let value: Value = serde_json::from_str(&line[from..to]).unwrap();
                        let mut at = &mut rebuilt;
                        for key in &column.path[..column.path.len() - 1] {
                            at = at.as_object_mut().unwrap().entry(*key).or_insert_with(|| Value::Object(Default::default()));
                        }
                        let last = column.path[column.path.len() - 1];
                        assert!(at.as_object_mut().unwrap().insert(last.into(), value).is_none(), "{}.{last} twice", table.name);
                    }
                    assert_eq!(without_empty_objects(rebuilt), without_empty_objects(record), "{}", path.display());
                    *checked.entry(table.name).or_insert(0) += 1;
                }
            }
        }
        for table in ["alerts", "anomalies", "flows", "modbus", "dnp3", "s7comm", "segmentation"] {
            assert!(checked.get(table).is_some_and(|&n| n > 0), "no {table} record checked: {checked:?}");
        }
    }

    #[test]
    fn a_bad_field_names_its_column_and_leaves_nothing_behind() {
        let table = table_for("modbus").unwrap();
        let mut out = vec![1, 2, 3];
        let cases = [
            (MODBUS.replace("\"unit_id\":1", "\"unit_id\":300"), "unit_id"),
            (MODBUS.replace("10.10.1.50", "10.10.1"), "src_ip"),
            (MODBUS.replace("cfebc9fa-", "cfebc9fa"), "event_id"),
            (MODBUS.replace("2026-01-15T08", "2026-01-15 X"), "timestamp"),
        ];
        for (line, column) in cases {
            let layout = if column == "src_ip" { Layout::Current } else { Layout::Legacy };
            let err = encode_row(table, layout, &line, &mut out).unwrap_err();
            assert_eq!(err.column, column, "{err}");
            assert_eq!(out, [1, 2, 3]);
        }
        assert!(encode_row(table, Layout::Legacy, "{\"truncated", &mut out).is_err());
        assert_eq!(out, [1, 2, 3]);
    }

    #[test]
    fn every_table_takes_a_minimal_record() {
        for t in catalog().tables() {
            let line = format!(
                r#"{{"timestamp":"2026-01-15T08:00:00+00:00","event_type":"{}","event_id":"cfebc9fa-130c-8bac-8c7b-808e03c70771"}}"#,
                t.event_type
            );
            for layout in [Layout::Legacy, Layout::Current] {
                let mut out = Vec::new();
                encode_row(t, layout, &line, &mut out).unwrap_or_else(|e| panic!("{e}"));
            }
        }
    }

    proptest::proptest! {
        /// Damaged lines (cut, a byte changed, bytes inserted) and random text: a row or
        /// an error, never a panic, and a refused line leaves nothing behind.
        #[test]
        fn damaged_lines_never_panic(cut in 0usize..700, at in 0usize..700, byte in proptest::prelude::any::<u8>(), junk in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40)) {
            for base in [MODBUS, r#"{"timestamp":"2026-01-15T08:00:00+00:00","event_type":"alert","alert":{"signature_id":1,"metadata":{"rule_id":["a\"b"]}},"event_id":"cfebc9fa-130c-8bac-8c7b-808e03c70771"}"#] {
                let mut b = base.as_bytes().to_vec();
                b.truncate(cut.min(b.len()));
                if !b.is_empty() {
                    let i = at % b.len();
                    b[i] = byte;
                }
                b.splice(at.min(b.len())..at.min(b.len()), junk.iter().copied());
                let line = String::from_utf8_lossy(&b);
                for t in catalog().tables() {
                    let mut enc = RowEncoder::new(t);
                    for layout in [Layout::Legacy, Layout::Current] {
                        let mut out = vec![9u8];
                        if enc.encode(layout, line.as_bytes(), &mut out).is_err() {
                            proptest::prop_assert_eq!(&out, &vec![9u8]);
                        }
                    }
                }
            }
        }
    }
}
