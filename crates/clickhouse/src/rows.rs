//! An EVE line into a RowBinary row of its table: one strict pass over the line finds
//! each column's field by its path (a tree of the table's keys), then each is written
//! in the column's type for the table's layout. Fields a record lacks get the column's
//! default (0, '', []); fields no column holds, at any depth, go to `extra`.
use crate::schema::{Column, Kind, Layout, Table, TableColumns, EXTRA};
use otsentry_core::Timestamp;
use otsentry_sink::reader::{raw_text as text, string, Fields, Paths};
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

/// A table's columns, prepared for scanning lines.
#[derive(Debug)]
pub struct RowEncoder {
    table: &'static Table,
    columns: Vec<&'static Column>,
    paths: Paths,
    found: Fields,
}

impl RowEncoder {
    pub fn new(table: &'static Table) -> RowEncoder {
        let columns: Vec<&'static Column> = table.all_columns().collect();
        let paths = Paths::new(columns.iter().map(|c| c.path.iter().copied()));
        RowEncoder { table, columns, paths, found: Fields::keeping_rest() }
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
        found.read(&self.paths, line).map_err(|at| RowError { table, column: "", reason: format!("not a JSON object (at byte {at})") })?;
        for (i, column) in self.columns.iter().enumerate() {
            if column.name == EXTRA {
                write_varint(out, found.rest().len() as u64);
                out.extend_from_slice(found.rest());
                continue;
            }
            let value = found.get(line, i);
            write_value(column, layout, value, out).map_err(|reason| RowError { table, column: column.name, reason })?;
        }
        Ok(())
    }
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
                    let mut rebuilt: Value = if enc.found.rest().is_empty() {
                        Value::Object(Default::default())
                    } else {
                        serde_json::from_slice(enc.found.rest()).unwrap()
                    };
                    for (i, column) in enc.columns.iter().enumerate() {
                        let Some((from, to)) = enc.found.span(i) else { continue };
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
