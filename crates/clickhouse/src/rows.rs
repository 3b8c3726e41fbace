//! An EVE line into a RowBinary row of its table: each column's field looked up by its
//! path (nested objects parsed once per row, on demand), written in the column's type
//! for the table's layout. Fields a record lacks get the column's default (0, '', []).
use crate::schema::{Column, Kind, Layout, Table, EXTRA};
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;

/// Why a record could not become a row.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{table}.{column}: {reason}")]
pub struct RowError {
    pub table: &'static str,
    pub column: &'static str,
    pub reason: String,
}

/// An object's fields, borrowed from the line.
struct Fields<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'a> Fields<'a> {
    fn parse(text: &'a str) -> Result<Fields<'a>, serde_json::Error> {
        let mut de = serde_json::Deserializer::from_str(text);
        let fields = (&mut de).deserialize_map(FieldsVisitor)?;
        de.end()?;
        Ok(fields)
    }

    fn get(&self, key: &str) -> Option<&'a RawValue> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
    }
}

struct FieldsVisitor;

impl<'de> Visitor<'de> for FieldsVisitor {
    type Value = Fields<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Fields<'de>, M::Error> {
        let mut out = Vec::with_capacity(map.size_hint().unwrap_or(16));
        while let Some(entry) = map.next_entry::<Cow<'de, str>, &'de RawValue>()? {
            out.push(entry);
        }
        Ok(Fields(out))
    }
}

/// The objects of one record, parsed as columns ask for them.
struct Record<'a> {
    /// Each parsed object by its path; `None` if the path holds no object.
    objects: Vec<(&'static [&'static str], Option<Fields<'a>>)>,
}

impl<'a> Record<'a> {
    fn new(line: &'a str) -> Result<Record<'a>, serde_json::Error> {
        Ok(Record { objects: vec![(&[], Some(Fields::parse(line)?))] })
    }

    fn top(&self) -> &Fields<'a> {
        // Always there: `new` put it first.
        self.objects[0].1.as_ref().unwrap_or_else(|| unreachable!())
    }

    /// The index in `objects` of the object at `prefix`, parsing it (and its parents).
    fn object(&mut self, prefix: &'static [&'static str]) -> usize {
        if let Some(i) = self.objects.iter().position(|(p, _)| *p == prefix) {
            return i;
        }
        let (last, parent) = prefix.split_last().unwrap_or_else(|| unreachable!());
        let parent = self.object(parent);
        let fields = self.objects[parent]
            .1
            .as_ref()
            .and_then(|f| f.get(last))
            .filter(|raw| raw.get().starts_with('{'))
            .and_then(|raw| Fields::parse(raw.get()).ok());
        self.objects.push((prefix, fields));
        self.objects.len() - 1
    }

    /// The value at `path`, if the record has one (and it is not null).
    fn value(&mut self, path: &'static [&'static str]) -> Option<&'a RawValue> {
        let (last, prefix) = path.split_last()?;
        let i = self.object(prefix);
        self.objects[i].1.as_ref()?.get(last).filter(|v| v.get() != "null")
    }
}

/// Appends `line` as a row of `table` in `layout` to `out`; on error, `out` is as it was.
pub fn encode_row(table: &Table, layout: Layout, line: &str, out: &mut Vec<u8>) -> Result<(), RowError> {
    let start = out.len();
    let result = encode_columns(table, layout, line, out);
    if result.is_err() {
        out.truncate(start);
    }
    result
}

fn encode_columns(table: &Table, layout: Layout, line: &str, out: &mut Vec<u8>) -> Result<(), RowError> {
    let mut record =
        Record::new(line).map_err(|e| RowError { table: table.name, column: "", reason: format!("not a JSON object: {e}") })?;
    for column in table.all_columns() {
        let fail = |reason: String| RowError { table: table.name, column: column.name, reason };
        if column.name == EXTRA {
            write_extra(table, record.top(), out);
            continue;
        }
        let value = record.value(column.path);
        write_value(column, layout, value, out).map_err(fail)?;
    }
    Ok(())
}

/// The top-level fields no column holds, as a JSON object ('' when there are none).
fn write_extra(table: &Table, top: &Fields<'_>, out: &mut Vec<u8>) {
    let mut text = String::new();
    for (key, raw) in top.0.iter().filter(|(k, _)| !table.is_held(k)) {
        text.push(if text.is_empty() { '{' } else { ',' });
        text.push_str(&serde_json::to_string(key.as_ref()).unwrap_or_default());
        text.push(':');
        text.push_str(raw.get());
    }
    if !text.is_empty() {
        text.push('}');
    }
    write_str(out, &text);
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

fn string(raw: &RawValue) -> Result<Cow<'_, str>, String> {
    serde_json::from_str::<Cow<'_, str>>(raw.get()).map_err(|_| format!("{} is not a string", raw.get()))
}

fn unsigned(raw: Option<&RawValue>, max: u64) -> Result<u64, String> {
    let Some(raw) = raw else { return Ok(0) };
    let n: u64 = raw.get().parse().map_err(|_| format!("{} is not an unsigned integer", raw.get()))?;
    if n > max {
        return Err(format!("{n} is more than the column holds ({max})"));
    }
    Ok(n)
}

fn write_value(column: &Column, layout: Layout, value: Option<&RawValue>, out: &mut Vec<u8>) -> Result<(), String> {
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
                    parse_time(&text).ok_or_else(|| format!("{text:?} is not an RFC 3339 time"))?
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
        Kind::Json => write_str(out, value.map_or("", RawValue::get)),
        Kind::Bool => out.push(match value.map(RawValue::get) {
            None | Some("false") => 0,
            Some("true") => 1,
            Some(other) => return Err(format!("{other} is not a boolean")),
        }),
        Kind::U8 => out.push(unsigned(value, u8::MAX.into())? as u8),
        Kind::U16 => out.extend_from_slice(&(unsigned(value, u16::MAX.into())? as u16).to_le_bytes()),
        Kind::U32 => out.extend_from_slice(&(unsigned(value, u32::MAX.into())? as u32).to_le_bytes()),
        Kind::U64 => out.extend_from_slice(&unsigned(value, u64::MAX)?.to_le_bytes()),
        Kind::F64 => {
            let x = match value {
                Some(raw) => raw.get().parse::<f64>().map_err(|_| format!("{} is not a number", raw.get()))?,
                None => 0.0,
            };
            out.extend_from_slice(&x.to_le_bytes());
        }
        Kind::Names => {
            let items: Vec<Cow<'_, str>> = match value {
                Some(raw) => serde_json::from_str(raw.get()).map_err(|_| format!("{} is not a list of strings", raw.get()))?,
                None => Vec::new(),
            };
            write_varint(out, items.len() as u64);
            for s in &items {
                write_str(out, s);
            }
        }
        Kind::U16s => {
            let items: Vec<u16> = match value {
                Some(raw) => serde_json::from_str(raw.get()).map_err(|_| format!("{} is not a list of 16-bit numbers", raw.get()))?,
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
pub fn parse_uuid(text: &str) -> Option<u128> {
    let b = text.as_bytes();
    if b.len() != 36 || [8, 13, 18, 23].iter().any(|&i| b[i] != b'-') {
        return None;
    }
    let hex: String = text.chars().filter(|&c| c != '-').collect();
    (hex.len() == 32 && hex.bytes().all(|c| c.is_ascii_hexdigit())).then(|| u128::from_str_radix(&hex, 16).ok())?
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` as seconds since 1970 (UTC) and
/// microseconds.
pub fn parse_time(text: &str) -> Option<(i64, u32)> {
    let b = text.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = b.get(r)?;
        s.iter().all(u8::is_ascii_digit).then(|| s.iter().fold(0i64, |n, d| n * 10 + i64::from(d - b'0')))
    };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b' ') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut i = 19;
    let mut micros = 0u32;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let digits = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return None;
        }
        for (k, d) in b[i..i + digits].iter().enumerate() {
            if k < 6 {
                micros = micros * 10 + u32::from(d - b'0');
            }
        }
        micros *= 10u32.pow(6u32.saturating_sub(digits as u32));
        i += digits;
    }
    let offset = match &b[i..] {
        b"Z" => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let minutes = num(i + 1..i + 3)? * 60 + num(i + 4..i + 6)?;
            if *sign == b'+' {
                minutes * 60
            } else {
                -minutes * 60
            }
        }
        _ => return None,
    };
    let secs = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset;
    Some((secs, micros))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{table_for, TABLES};

    #[test]
    fn times_parse_to_utc_seconds_and_microseconds() {
        assert_eq!(parse_time("1970-01-01T00:00:00+00:00"), Some((0, 0)));
        assert_eq!(parse_time("2026-01-15T08:00:00.040000+00:00"), Some((1_768_464_000, 40_000)));
        assert_eq!(parse_time("2026-01-15T09:00:00.5+01:00"), Some((1_768_464_000, 500_000)));
        assert_eq!(parse_time("2000-02-29T23:59:59.1234567Z"), Some((951_868_799, 123_456)));
        for bad in
            ["", "2026-01-15", "2026-13-01T00:00:00Z", "2026-01-15T08:00:00.+00:00", "2026-01-15T08:00:00+0000", "2026-01-15T08:00:00"]
        {
            assert_eq!(parse_time(bad), None, "{bad}");
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
        // The field no column holds is kept in `extra`, escapes and all.
        assert!(legacy.ends_with(br#"{"new_field":{"x":"\u00e9"}}"#));
        let mut current = Vec::new();
        encode_row(table, Layout::Current, MODBUS, &mut current).unwrap();
        assert_eq!(&current[16..24], &(1_768_464_000i64 * 1_000_000 + 40_000).to_le_bytes());
        // IPv4 mapped into IPv6 on current servers.
        let mapped = std::net::Ipv4Addr::new(10, 10, 1, 50).to_ipv6_mapped().octets();
        assert!(current.windows(16).any(|w| w == mapped));
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
        for t in TABLES {
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
}
