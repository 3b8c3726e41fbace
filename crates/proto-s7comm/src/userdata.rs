//! User data (ROSCTR 7): the parameter head, method, type, function group and
//! sub-function, and the data: SZL requests and responses (module and component
//! identification, CPU mode decoded), block lists, clock, password.
use crate::anomaly::S7Anomaly;
use crate::names::{cpu_mode_name, function_group_name, return_code_name, subfunction_name, szl_name, userdata_type_name};
use crate::s7::{be16, hex, text, Issues};
use otsentry_core::detail;
use serde::Serialize;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct UserData {
    pub method: u8,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub function_group: u8,
    pub function_group_name: &'static str,
    pub subfunction: u8,
    pub subfunction_name: &'static str,
    pub sequence: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_unit_reference: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_data_unit: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_code: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_code_name: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub szl: Option<Szl>,
    /// Block functions: block type asked for, or the blocks listed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block_number: Option<String>,
    /// List blocks responses: how many blocks of each type the PLC holds.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub block_counts: Vec<BlockCount>,
    /// Time functions: the clock read or set (BCD, as `YYYY-MM-DD hh:mm:ss.mmm`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clock: Option<String>,
    /// Security: a password was sent (its bytes are never reported).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_length: Option<usize>,
    /// A follow-up request for the next data unit, or the data unit it brings (which
    /// continues the previous one's records, without a header of its own).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub continuation: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Szl {
    pub id: u16,
    pub id_name: &'static str,
    pub index: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub list_length: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub list_count: Option<u16>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub modules: Vec<ModuleId>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<Component>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_mode: Option<&'static str>,
    /// Other lists: the records in hex (first 256 bytes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BlockCount {
    pub block_type: &'static str,
    pub count: u16,
}

/// SZL 0x0011 record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ModuleId {
    pub index: u16,
    pub what: &'static str,
    pub order_number: String,
    pub module_type_id: u16,
    pub version: String,
}

/// SZL 0x001C record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Component {
    pub index: u16,
    pub what: &'static str,
    pub value: String,
}

/// Decode a user data parameter and data. `continued`: a follow-up request preceded this
/// response, so its data continues the previous data unit.
pub fn parse(param: &[u8], data: &[u8], continued: bool, issues: &mut Issues) -> Option<UserData> {
    // Head 0x000112, parameter length, method, type|group, sub-function, sequence.
    let &[_, _, _, plen, method, tg, sub, seq, ref more @ ..] = param else {
        issues.in_param(0, S7Anomaly::ParamOverrun, detail!("user data parameter of {} bytes, 8 expected", param.len()));
        return None;
    };
    let (kind, group) = (tg >> 4, tg & 0x0F);
    let mut u = UserData {
        method,
        kind: userdata_type_name(kind),
        function_group: group,
        function_group_name: function_group_name(group),
        subfunction: sub,
        subfunction_name: subfunction_name(group, sub),
        sequence: seq,
        ..Default::default()
    };
    if plen >= 8 {
        if let &[dur, last, e0, e1, ..] = more {
            u.data_unit_reference = Some(dur);
            u.last_data_unit = Some(last == 0);
            u.error_code = Some(u16::from_be_bytes([e0, e1]));
        }
    }
    // Data: return code, transport size, length, then the function's data.
    let (Some(&rc), body) =
        (data.first(), be16(data, 2).and_then(|n| data.get(4..4 + usize::from(n))).unwrap_or(data.get(4..).unwrap_or_default()))
    else {
        return Some(u);
    };
    u.return_code = Some(rc);
    u.return_code_name = Some(return_code_name(rc));
    // A request with the response method asks for the next data unit.
    u.continuation = (kind == 0x4 && method == 0x12) || (kind == 0x8 && continued);
    if u.continuation {
        return Some(u);
    }
    match (group, sub) {
        (0x4, 0x01) => u.szl = szl(body, kind == 0x8),
        (0x3, 0x01) if kind == 0x8 => {
            // Entries of 0x30, the type's character (as in file names), the count.
            u.block_counts = body
                .chunks_exact(4)
                .filter_map(|e| match *e {
                    [_, ty, c0, c1] => {
                        Some(BlockCount { block_type: crate::names::block_type_name(&[b'0', ty]), count: u16::from_be_bytes([c0, c1]) })
                    }
                    _ => None,
                })
                .collect();
        }
        (0x3, 0x02 | 0x03) if kind == 0x4 => {
            u.block_type = body.get(..2).map(text);
            u.block_number = body.get(2..7).map(text);
        }
        (0x7, 0x01..=0x04) => u.clock = clock(body),
        (0x5, 0x01) if kind == 0x4 => u.password_length = Some(body.len()),
        _ => {}
    }
    Some(u)
}

fn szl(body: &[u8], response: bool) -> Option<Szl> {
    let (id, index) = (be16(body, 0)?, be16(body, 2)?);
    let mut s = Szl { id, id_name: szl_name(id), index, ..Default::default() };
    let (Some(len), Some(count), true) = (be16(body, 4), be16(body, 6), response) else {
        return Some(s);
    };
    s.list_length = Some(len);
    s.list_count = Some(count);
    let records = body.get(8..).unwrap_or_default();
    let each = usize::from(len).max(1);
    let mut known = true;
    for r in records.chunks_exact(each).take(usize::from(count)) {
        match (id & 0x00FF, r) {
            (0x11, &[i0, i1, ref rest @ ..]) if rest.len() >= 26 => {
                let index = u16::from_be_bytes([i0, i1]);
                let order = rest.get(..20).map(text).unwrap_or_default();
                let field = |at| be16(rest, at).unwrap_or_default();
                let (ty, ausbg, ausbe) = (field(20), field(22), field(24));
                // Firmware versions read "V" major, then two bytes minor and patch.
                let version = match ausbg.to_be_bytes() {
                    [b'V', major] => format!("V{major}.{}.{}", ausbe >> 8, ausbe & 0xFF),
                    _ => format!("{ausbg}.{ausbe}"),
                };
                let what = match index {
                    0x0001 => "module",
                    0x0006 => "basic_hardware",
                    0x0007 => "basic_firmware",
                    0x0081 => "firmware_extension",
                    _ => "other",
                };
                s.modules.push(ModuleId { index, what, order_number: order, module_type_id: ty, version });
            }
            (0x1C, &[i0, i1, ref rest @ ..]) => {
                let index = u16::from_be_bytes([i0, i1]);
                let what = match index {
                    1 => "plc_name",
                    2 => "module_name",
                    3 => "plant_designation",
                    4 => "copyright",
                    5 => "serial_number",
                    7 => "module_type_name",
                    8 => "memory_card_serial",
                    9 => "manufacturer",
                    0x0A => "oem_id",
                    0x0B => "location",
                    _ => "other",
                };
                let value = if index == 9 { hex(rest.get(..4).unwrap_or(rest)) } else { text(rest) };
                s.components.push(Component { index, what, value });
            }
            // Modes: event id (2), then the mode byte's low nibble is the current mode.
            (0x24, &[_, _, _, mode, ..]) => s.cpu_mode = Some(cpu_mode_name(mode)),
            _ => known = false,
        }
    }
    if !known || (s.modules.is_empty() && s.components.is_empty() && s.cpu_mode.is_none()) {
        s.raw = Some(hex(records.get(..256).unwrap_or(records)));
    }
    Some(s)
}

/// An S7 DATE_AND_TIME in BCD (year, month, day, hour, minute, second, ms×10, ms|weekday),
/// after a reserved byte and the century.
fn clock(body: &[u8]) -> Option<String> {
    let t = body.get(body.len().checked_sub(8)?..)?;
    let bcd = |b: u8| u32::from(b >> 4) * 10 + u32::from(b & 0x0F);
    let &[y, mo, d, h, mi, s, ms_hi, ms_lo] = t else { return None };
    let year = if bcd(y) < 90 { 2000 + bcd(y) } else { 1900 + bcd(y) };
    let ms = bcd(ms_hi) * 10 + u32::from(ms_lo >> 4);
    Some(format!("{year:04}-{:02}-{:02} {:02}:{:02}:{:02}.{ms:03}", bcd(mo), bcd(d), bcd(h), bcd(mi), bcd(s)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_szl_request_and_module_identification() {
        let param = [
            0x00, 0x01, 0x12, // parameter head
            0x04, // parameter length 4
            0x11, // method: request
            0x44, // type request (4), CPU functions (4)
            0x01, // read SZL
            0x00, // sequence
        ];
        let data = [0xFF, 0x09, 0x00, 0x04, 0x00, 0x11, 0x00, 0x00]; // success, octets, 4: SZL 0x0011 index 0
        let u = parse(&param, &data, false, &mut Issues::default()).unwrap();
        assert_eq!((u.kind, u.function_group_name, u.subfunction_name), ("request", "cpu_functions", "read_szl"));
        assert_eq!(u.szl.map(|s| (s.id, s.id_name, s.index)), Some((0x0011, "module_identification", 0)));
        let mut record = vec![0x00, 0x07]; // index: basic firmware
        record.extend_from_slice(b"6ES7 315-2EH14-0AB0 "); // order number
        record.extend_from_slice(&[0x00, 0xC0, 0x56, 0x03, 0x02, 0x07]); // type, "V" 3, 2.7
        let mut data = vec![0xFF, 0x09, 0x00, 0x24, 0x00, 0x11, 0x00, 0x00, 0x00, 0x1C, 0x00, 0x01];
        data.extend_from_slice(&record);
        let param = [0x00, 0x01, 0x12, 0x08, 0x12, 0x84, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00];
        let u = parse(&param, &data, false, &mut Issues::default()).unwrap();
        let m = &u.szl.as_ref().unwrap().modules[0];
        assert_eq!((m.what, m.order_number.as_str(), m.version.as_str()), ("basic_firmware", "6ES7 315-2EH14-0AB0", "V3.2.7"));
        assert_eq!(u.last_data_unit, Some(true));
        // A baseline learns the firmware from it.
        let mut r = otsentry_core::harness::Recorder::default();
        crate::record::observe_userdata(&u, &mut r);
        assert_eq!(r.calls, ["identity firmware V3.2.7"]);
    }

    #[test]
    fn list_blocks_response() {
        let param = [
            0x00, 0x01, 0x12, // parameter head
            0x08, // parameter length 8
            0x12, // method: response
            0x83, // type response (8), block functions (3)
            0x01, // list blocks
            0x00, // sequence
            0x00, 0x00, // data unit reference 0, last data unit
            0x00, 0x00, // error code: none
        ];
        let data = [
            0xFF, 0x09, 0x00, 0x08, // success, octet string, 8 bytes
            0x30, 0x38, 0x00, 0x01, // OB: 1
            0x30, 0x41, 0x00, 0x02, // DB: 2
        ];
        let u = parse(&param, &data, false, &mut Issues::default()).unwrap();
        let counts: Vec<_> = u.block_counts.iter().map(|c| (c.block_type, c.count)).collect();
        assert_eq!(counts, [("OB", 1), ("DB", 2)]);
    }
}
