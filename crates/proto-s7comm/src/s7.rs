//! S7comm (protocol id 0x32): the header, then the parameter and data of jobs and
//! ack-data decoded into owned facts for records. Framing problems that still leave a PDU
//! are reported as issues beside what could be read.
use crate::anomaly::S7Anomaly;
use crate::names::{area_name, block_type_name, filesystem_name, return_code_name, syntax_name, transport_size_name};
use crate::values::{Element, Layout};
use otsentry_core::{detail, Detail};
use serde::Serialize;

/// The fixed header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub rosctr: u8,
    pub pdu_ref: u16,
    pub param_len: u16,
    pub data_len: u16,
    /// Error class and code (ack and ack-data only).
    pub error: Option<(u8, u8)>,
}

/// One S7comm PDU: header, parameter and data, borrowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pdu<'a> {
    pub header: Header,
    pub param: &'a [u8],
    pub data: &'a [u8],
}

/// An anomaly found in a PDU that still frames: its Suricata-style name, the byte offset
/// from the PDU's first byte (the protocol id) where it was found, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Issue {
    pub event: S7Anomaly,
    pub offset: usize,
    /// Why, put into words only when read.
    pub reason: Detail,
}

/// The anomalies of one PDU, placed by where its parameter and data start.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Issues {
    pub list: Vec<Issue>,
    param_at: usize,
    data_at: usize,
}

impl Issues {
    pub(crate) fn at(&mut self, offset: usize, event: S7Anomaly, reason: Detail) {
        self.list.push(Issue { event, offset, reason });
    }

    /// At byte `at` of the parameter.
    pub(crate) fn in_param(&mut self, at: usize, event: S7Anomaly, reason: Detail) {
        self.at(self.param_at + at, event, reason);
    }

    /// At byte `at` of the data.
    pub(crate) fn in_data(&mut self, at: usize, event: S7Anomaly, reason: Detail) {
        self.at(self.data_at + at, event, reason);
    }
}

/// The big-endian u16 at `at`, if the bytes are there (a short field is not read as 0).
pub(crate) fn be16(b: &[u8], at: usize) -> Option<u16> {
    match b.get(at..at.checked_add(2)?) {
        Some(&[h, l]) => Some(u16::from_be_bytes([h, l])),
        _ => None,
    }
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    match b.get(at..at.checked_add(4)?) {
        Some(&[a, c, d, e]) => Some(u32::from_be_bytes([a, c, d, e])),
        _ => None,
    }
}

/// Parse a PDU. `Err` when not even the header is there; otherwise the PDU with its
/// parameter and data clipped to what is present, and the issues found.
pub fn parse(bytes: &[u8]) -> Result<(Pdu<'_>, Issues), Detail> {
    let mut issues = Issues::default();
    if bytes.first() != Some(&0x32) {
        return Err("not an S7comm PDU (protocol id 0x32)".into());
    }
    let rosctr = *bytes.get(1).ok_or("S7comm header truncated")?;
    let header_len = if matches!(rosctr, 2 | 3) { 12 } else { 10 };
    if bytes.len() < header_len {
        return Err(detail!("S7comm header needs {} bytes, {} present", header_len, bytes.len()));
    }
    let error = (header_len == 12).then(|| (bytes.get(10).copied().unwrap_or(0), bytes.get(11).copied().unwrap_or(0)));
    let field = |at| be16(bytes, at).ok_or_else(|| detail!("S7comm header truncated at byte {}", at));
    let header = Header { rosctr, pdu_ref: field(4)?, param_len: field(6)?, data_len: field(8)?, error };
    if !matches!(rosctr, 1 | 2 | 3 | 7) {
        issues.at(1, S7Anomaly::UnknownRosctr, detail!("ROSCTR {}", rosctr));
    }
    let body = bytes.get(header_len..).unwrap_or_default();
    let (p, d) = (usize::from(header.param_len), usize::from(header.data_len));
    if p + d != body.len() {
        issues.at(6, S7Anomaly::LengthMismatch, detail!("parameter {} + data {} bytes declared, {} follow the header", p, d, body.len()));
    }
    let param = body.get(..p).unwrap_or(body);
    let data = body.get(p..(p + d).min(body.len())).unwrap_or_default();
    (issues.param_at, issues.data_at) = (header_len, header_len + param.len());
    Ok((Pdu { header, param, data }, issues))
}

/// A variable specification: an S7ANY address, or another syntax id's bytes. Codes are
/// kept as read and named when written, so an item stays small.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    Any(AnyItem),
    /// Other syntax ids (DBREAD, symbolic 1200 access, NCK, ...): id and bytes.
    Other(u8, Box<[u8]>),
}

/// An S7ANY specification.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AnyItem {
    pub transport_size: u8,
    pub length: u16,
    pub db: u16,
    pub area: u8,
    /// Bit address: byte × 8 + bit.
    pub address: u32,
}

impl Item {
    pub fn any(&self) -> Option<&AnyItem> {
        match self {
            Item::Any(a) => Some(a),
            Item::Other(..) => None,
        }
    }
}

impl Serialize for Item {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut m = otsentry_core::open_object(s)?;
        match self {
            Item::Any(a) => {
                m.serialize_field("syntax", syntax_name(0x10))?;
                m.serialize_field("transport_size", transport_size_name(a.transport_size))?;
                m.serialize_field("length", &a.length)?;
                m.serialize_field("db", &a.db)?;
                m.serialize_field("area", area_name(a.area))?;
                m.serialize_field("area_code", &a.area)?;
                m.serialize_field("address", &format_args!("{}.{}", a.address >> 3, a.address & 7))?;
            }
            Item::Other(syntax, raw) => {
                m.serialize_field("syntax", syntax_name(*syntax))?;
                m.serialize_field("syntax_id", syntax)?;
                m.serialize_field("raw", &otsentry_core::Hex(raw))?;
            }
        }
        m.end()
    }
}

/// A data item of a read response or write request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataItem {
    pub return_code: u8,
    pub return_code_name: &'static str,
    pub transport_size: Option<u8>,
    /// Value bytes.
    pub length: Option<u16>,
    /// The first value bytes, written in hex.
    pub data: Option<Value>,
    /// The S7ANY item the data belongs to, where known (a write's own item, or the item
    /// of the job a read response answers): how the bytes read as values.
    pub layout: Option<Layout>,
}

impl DataItem {
    /// The values of the shown bytes, by the item's transport size.
    pub fn values(&self) -> impl Iterator<Item = (usize, Element)> + '_ {
        let data = self.data.as_ref().map(Value::as_slice).unwrap_or_default();
        let layout = self.layout.unwrap_or(Layout { transport_size: 0x03, length: 0 });
        layout.elements(data)
    }
}

impl Serialize for DataItem {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut m = otsentry_core::open_object(s)?;
        m.serialize_field("return_code", &self.return_code)?;
        m.serialize_field("return_code_name", self.return_code_name)?;
        if let Some(ts) = &self.transport_size {
            m.serialize_field("transport_size", ts)?;
        }
        if let Some(l) = &self.length {
            m.serialize_field("length", l)?;
        }
        if let Some(d) = &self.data {
            m.serialize_field("data", d)?;
        }
        if let Some(layout) = self.layout.filter(|_| self.values().next().is_some()) {
            m.serialize_field("value_type", transport_size_name(layout.transport_size))?;
            m.serialize_field("values", &Values(self))?;
        }
        m.end()
    }
}

/// A data item's values as a JSON array, written without collecting them.
struct Values<'a>(&'a DataItem);

impl Serialize for Values<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.values().map(|(_, v)| v))
    }
}

/// The first [`Value::CAP`] bytes of an item's value, kept inline (no allocation per item).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Value {
    len: u8,
    bytes: [u8; Value::CAP],
}

impl Value {
    pub const CAP: usize = 32;

    pub fn new(v: &[u8]) -> Value {
        let mut bytes = [0; Value::CAP];
        let n = v.len().min(Value::CAP);
        if let (Some(dst), Some(src)) = (bytes.get_mut(..n), v.get(..n)) {
            dst.copy_from_slice(src);
        }
        Value { len: n as u8, bytes }
    }

    pub fn as_slice(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or_default()
    }
}

impl Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&otsentry_core::Hex(self.as_slice()))
    }
}

/// A block named by a download/upload file name (`_0A00001P`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Block {
    pub filename: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block_number: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filesystem: Option<&'static str>,
}

pub(crate) use otsentry_core::hex;

pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).trim_end_matches(['\0', ' ']).to_string()
}

impl Block {
    pub fn from_filename(name: &[u8]) -> Block {
        let mut b = Block { filename: text(name), block_type: None, block_number: None, filesystem: None };
        // "_" file identifier (absent in PI service arguments), two block type
        // characters, five digits, the file system.
        let bare = name.strip_prefix(b"_").unwrap_or(name);
        if let (Some(kind), Some(number), Some(&fs), 8) = (bare.get(..2), bare.get(2..7), bare.get(7), bare.len()) {
            b.block_type = Some(block_type_name(kind));
            b.block_number = std::str::from_utf8(number).ok().and_then(|n| n.parse().ok());
            b.filesystem = Some(filesystem_name(fs));
        }
        b
    }
}

/// What a job or ack-data parameter and data say. Kept small: the rarer program-control
/// facts live behind a box, so the common reads and writes move little.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Facts {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item_count: Option<u8>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<Item>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub data_items: Vec<DataItem>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub setup: Option<Setup>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub control: Option<Box<Control>>,
}

/// Setup communication.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Setup {
    pub max_amq_calling: u16,
    pub max_amq_called: u16,
    pub pdu_length: u16,
}

/// Block transfer (download, upload), PI services and PLC stop.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Control {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function_status: Option<u8>,
    /// Upload id or download session id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block: Option<Block>,
    /// Block length as the PLC announces it (start upload) or as carried (upload data).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block_length: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pi_service: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pi_parameters: Vec<String>,
    /// Blocks a PI service acts on (insert, delete).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pi_blocks: Vec<Block>,
}

impl Facts {
    /// The block a transfer or PI service names.
    pub fn block(&self) -> Option<&Block> {
        self.control.as_ref().and_then(|c| c.block.as_ref().or(c.pi_blocks.first()))
    }
    pub fn pi_service(&self) -> Option<&str> {
        self.control.as_ref().and_then(|c| c.pi_service.as_deref())
    }
}

/// Decode a job's (`request`) or ack-data's parameter and data.
pub fn facts(function: u8, request: bool, param: &[u8], data: &[u8], issues: &mut Issues) -> Facts {
    let mut f = Facts::default();
    match function {
        0xF0 => match (be16(param, 2), be16(param, 4), be16(param, 6)) {
            (Some(max_amq_calling), Some(max_amq_called), Some(pdu_length)) => {
                f.setup = Some(Setup { max_amq_calling, max_amq_called, pdu_length });
            }
            _ => issues.in_param(0, S7Anomaly::ParamOverrun, detail!("setup communication parameter of {} bytes, 8 expected", param.len())),
        },
        0x04 | 0x05 => var_service(&mut f, function, request, param, data, issues),
        0x1A..=0x1F => block_transfer(f.control.get_or_insert_default(), function, request, param, data, issues),
        0x28 | 0x29 if request => pi_service(f.control.get_or_insert_default(), function, param),
        _ => {}
    }
    f
}

fn var_service(f: &mut Facts, function: u8, request: bool, param: &[u8], data: &[u8], issues: &mut Issues) {
    let count = param.get(1).copied().unwrap_or(0);
    f.item_count = Some(count);
    let announced = usize::from(count);
    if request {
        f.items.reserve_exact(announced);
        let mut rest = param.get(2..).unwrap_or_default();
        for _ in 0..count {
            // Variable specification: 0x12, length of what follows, syntax id, ...
            let Some(&[0x12, len, ..]) = rest.first_chunk::<2>() else {
                let at = param.len() - rest.len();
                issues.in_param(at, S7Anomaly::ItemCountMismatch, detail!("{} items announced, {} read", count, f.items.len()));
                break;
            };
            let Some((spec, next)) = rest.get(2..).and_then(|r| r.split_at_checked(usize::from(len))) else {
                let at = param.len() - rest.len();
                issues.in_param(at, S7Anomaly::ParamOverrun, detail!("item specification of {} bytes overruns the parameter", len));
                break;
            };
            f.items.push(item(spec));
            rest = next;
        }
    }
    // Data items: read responses and write requests; write responses carry return codes.
    if function == 0x05 && !request {
        f.data_items = data.iter().take(usize::from(count)).map(|&rc| data_item(rc, None, None, None)).collect();
        return;
    }
    if (function == 0x04) == request {
        return;
    }
    f.data_items.reserve_exact(announced);
    let mut rest = data;
    for i in 0..count {
        let Some(&[rc, ts, hi, lo]) = rest.first_chunk::<4>() else {
            if !rest.is_empty() || f.data_items.len() < usize::from(count) {
                let at = data.len() - rest.len();
                issues.in_data(at, S7Anomaly::ItemCountMismatch, detail!("{} data items announced, {} present", count, f.data_items.len()));
            }
            break;
        };
        let len = u16::from_be_bytes([hi, lo]);
        // Bit, byte, word and integer sizes give the length in bits.
        let bytes = if matches!(ts, 0x03..=0x05) { usize::from(len).div_ceil(8) } else { usize::from(len) };
        let value = rest.get(4..4 + bytes);
        // A write request's items carry return code 0 (reserved); an answer's, 0xFF.
        if value.is_none() && (request || rc == 0xFF) {
            issues.in_data(
                data.len() - rest.len() + 4,
                S7Anomaly::DataOverrun,
                detail!("data item {} of {} bytes overruns the data", i, bytes),
            );
        }
        let shown = value.map(Value::new);
        f.data_items.push(data_item(rc, Some(ts), Some(bytes as u16), shown));
        // Items are padded to an even length, except the last.
        let step = 4 + bytes + usize::from(bytes % 2 == 1 && i + 1 < count);
        rest = rest.get(step..).unwrap_or_default();
    }
    if request {
        lay_out(&mut f.data_items, &f.items);
    }
}

/// Gives each data item the layout of the item at its place (a write's own items, or
/// the items of the read a response answers).
pub(crate) fn lay_out(data_items: &mut [DataItem], items: &[Item]) {
    for (d, item) in data_items.iter_mut().zip(items) {
        d.layout = item.any().map(|a| Layout { transport_size: a.transport_size, length: a.length });
    }
}

fn data_item(rc: u8, ts: Option<u8>, length: Option<u16>, data: Option<Value>) -> DataItem {
    DataItem { return_code: rc, return_code_name: return_code_name(rc), transport_size: ts, length, data, layout: None }
}

fn item(spec: &[u8]) -> Item {
    match spec {
        &[0x10, transport_size, l0, l1, d0, d1, area, a0, a1, a2, ..] => Item::Any(AnyItem {
            transport_size,
            length: u16::from_be_bytes([l0, l1]),
            db: u16::from_be_bytes([d0, d1]),
            area,
            address: u32::from_be_bytes([0, a0, a1, a2]),
        }),
        _ => Item::Other(spec.first().copied().unwrap_or(0), spec.get(1..).unwrap_or_default().into()),
    }
}

/// A length-prefixed string at `at`: its bytes and where the next field starts.
fn counted(b: &[u8], at: usize) -> Option<(&[u8], usize)> {
    let len = usize::from(*b.get(at)?);
    Some((b.get(at + 1..at + 1 + len)?, at + 1 + len))
}

fn block_transfer(f: &mut Control, function: u8, request: bool, param: &[u8], data: &[u8], issues: &mut Issues) {
    f.function_status = param.get(1).copied();
    if request && param.len() < 8 {
        issues.in_param(0, S7Anomaly::ParamOverrun, detail!("block transfer parameter of {} bytes, 8 expected", param.len()));
    }
    match (function, request) {
        // Jobs: status, 2 unknown bytes, session/upload id, then a file name for all
        // but upload and end upload.
        (0x1A..=0x1D, true) => {
            f.session_id = be32(param, 4);
            if let Some((name, next)) = counted(param, 8) {
                f.block = Some(Block::from_filename(name));
                // Request download: "1" + load memory length (6 digits) + MC7 length (6).
                if let Some((part, _)) = counted(param, next).filter(|_| function == 0x1A) {
                    f.block_length = part.get(1..7).and_then(|d| std::str::from_utf8(d).ok()).and_then(|d| d.trim().parse().ok());
                }
            }
        }
        (0x1E | 0x1F, true) => f.session_id = be32(param, 4),
        (0x1D, false) => {
            f.session_id = be32(param, 4);
            f.block_length = counted(param, 8).and_then(|(s, _)| std::str::from_utf8(s).ok()).and_then(|s| s.trim().parse().ok());
        }
        (0x1B | 0x1E, false) => f.block_length = be16(data, 0).map(u32::from),
        _ => {}
    }
}

fn pi_service(f: &mut Control, function: u8, param: &[u8]) {
    if function == 0x29 {
        // Function, 5 unknown bytes, then the service name.
        f.pi_service = counted(param, 6).map(|(s, _)| text(s));
        return;
    }
    // Function, 7 unknown bytes, parameter block length, the block, then the service.
    let Some(block_len) = be16(param, 8).map(usize::from) else { return };
    let block = param.get(10..10 + block_len).unwrap_or_default();
    let service = counted(param, 10 + block_len).map(|(s, _)| s);
    f.pi_service = service.map(text);
    match (service, block) {
        // Block services (insert, delete): a block count, a reserved byte, then 8-byte
        // block names without the leading underscore.
        (Some(b"_INSE" | b"_DELE"), [count, _, names @ ..]) => {
            f.pi_blocks = names.chunks_exact(8).take(usize::from(*count)).map(Block::from_filename).collect();
        }
        // Other services: the block is an argument string (e.g. "C " for P_PROGRAM).
        _ if !block.is_empty() => f.pi_parameters.push(text(block)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placed(issues: &Issues) -> Vec<(S7Anomaly, usize)> {
        issues.list.iter().map(|i| (i.event, i.offset)).collect()
    }

    /// Each anomaly names the byte where it was found, from the PDU's first byte.
    #[test]
    fn anomalies_are_placed_where_they_are_found() {
        let write = [
            0x32, 0x07, // S7comm, ROSCTR 7 is user data: here 9, unknown
            0x00, 0x00, 0x00, 0x01, // reserved, PDU reference 1
            0x00, 0x0E, 0x00, 0x09, // parameter 14, data 9 declared
            0x05, 0x01, // write var, 1 item
            0x12, 0x0A, 0x10, 0x02, 0x00, 0x08, 0x00, 0x01, 0x84, 0x00, 0x00, 0x00, // S7ANY, byte × 8, DB1 0.0
            0x00, 0x04, 0x00, 0x40, // data item: reserved, byte size, 64 bits (8 bytes)...
            0x01, 0x02, 0x03, // ... of which 3 are there (and the data is shorter than declared)
        ];
        let mut bytes = write;
        bytes[1] = 0x09;
        let (p, mut issues) = parse(&bytes).unwrap();
        assert_eq!(placed(&issues), [(S7Anomaly::UnknownRosctr, 1), (S7Anomaly::LengthMismatch, 6)]);
        let _ = facts(0x05, true, p.param, p.data, &mut issues);
        // The data starts after the 10-byte header and the 14-byte parameter; the value
        // after the item's 4-byte head.
        assert_eq!(placed(&issues)[2], (S7Anomaly::DataOverrun, 10 + 14 + 4));
        // A setup parameter cut short: reported at the parameter, and no zeros reported
        // as a negotiated PDU length.
        let setup = [0x32, 0x01, 0, 0, 0, 2, 0x00, 0x04, 0x00, 0x00, 0xF0, 0x00, 0x00, 0x01];
        let (p, mut issues) = parse(&setup).unwrap();
        let f = facts(0xF0, true, p.param, p.data, &mut issues);
        assert_eq!((f.setup, placed(&issues)), (None, vec![(S7Anomaly::ParamOverrun, 10)]));
        // A block transfer job too short for its session id: none invented.
        let upload = [0x32, 0x01, 0, 0, 0, 3, 0x00, 0x03, 0x00, 0x00, 0x1E, 0x00, 0x01];
        let (p, mut issues) = parse(&upload).unwrap();
        let f = facts(0x1E, true, p.param, p.data, &mut issues);
        assert_eq!((f.control.and_then(|c| c.session_id), placed(&issues)), (None, vec![(S7Anomaly::ParamOverrun, 10)]));
    }

    #[test]
    fn read_var_job_and_ack_data() {
        let job = [
            0x32, 0x01, // S7comm, job
            0x00, 0x00, 0x01, 0x00, // reserved, PDU reference 256
            0x00, 0x0E, 0x00, 0x00, // parameter 14, data 0
            0x04, 0x01, // read var, 1 item
            0x12, 0x0A, 0x10, // variable specification, 10 bytes, S7ANY
            0x02, 0x00, 0x04, // byte × 4
            0x00, 0x01, // DB 1
            0x84, // data blocks
            0x00, 0x00, 0x50, // address 10.0
        ];
        let (p, issues) = parse(&job).unwrap();
        assert_eq!((p.header.rosctr, p.header.pdu_ref, issues.list.len()), (1, 256, 0));
        let f = facts(0x04, true, p.param, p.data, &mut Issues::default());
        let it = f.items[0].any().unwrap();
        assert_eq!((area_name(it.area), it.db, it.address, it.length), ("data_blocks", 1, 80, 4));
        let json = serde_json::to_value(&f.items[0]).unwrap();
        assert_eq!((json["address"].as_str(), json["transport_size"].as_str()), (Some("10.0"), Some("byte")));
        let ack = [
            0x32, 0x03, 0x00, 0x00, 0x01, 0x00, // ack-data, PDU reference 256
            0x00, 0x02, 0x00, 0x08, // parameter 2, data 8
            0x00, 0x00, // no error
            0x04, 0x01, // read var, 1 item
            0xFF, 0x04, 0x00, 0x20, // success, word size, 32 bits
            0xDE, 0xAD, 0xBE, 0xEF,
        ];
        let (p, issues) = parse(&ack).unwrap();
        assert_eq!((p.header.error, issues.list.len()), (Some((0, 0)), 0));
        let f = facts(0x04, false, p.param, p.data, &mut Issues::default());
        assert_eq!(f.data_items[0].data.map(|d| d.as_slice().to_vec()), Some(vec![0xDE, 0xAD, 0xBE, 0xEF]));
    }

    #[test]
    fn block_file_names() {
        let b = Block::from_filename(b"_0A00001P");
        assert_eq!((b.block_type, b.block_number, b.filesystem), (Some("DB"), Some(1), Some("passive")));
        let b = Block::from_filename(b"_0800001A");
        assert_eq!((b.block_type, b.block_number, b.filesystem), (Some("OB"), Some(1), Some("active")));
    }

    #[test]
    fn block_transfer_and_pi_service_parameters() {
        let request_download = [
            0x1A, // request download
            0x00, // function status
            0x01, 0x00, // unknown
            0x00, 0x00, 0x00, 0x00, // session id 0
            0x09, // file name length
            b'_', b'0', b'A', b'0', b'0', b'0', b'0', b'1', b'P', // DB 1, passive file system
            0x0D, // length part: 13 characters
            b'1', b'0', b'0', b'0', b'0', b'6', b'4', // "1", load memory length 64
            b'0', b'0', b'0', b'0', b'3', b'2', // MC7 length 32
        ];
        let f = facts(0x1A, true, &request_download, &[], &mut Issues::default());
        let c = f.control.unwrap();
        let b = c.block.unwrap();
        assert_eq!((b.block_type, b.block_number, b.filesystem, c.block_length), (Some("DB"), Some(1), Some("passive"), Some(64)));
        let start_upload_ack = [
            0x1D, // start upload
            0x00, // function status
            0x01, 0x00, // unknown
            0x00, 0x00, 0x00, 0x07, // upload id 7
            0x03, // block length string, 3 characters
            b'2', b'1', b'6', // 216 bytes
        ];
        let f = facts(0x1D, false, &start_upload_ack, &[], &mut Issues::default());
        let c = f.control.unwrap();
        assert_eq!((c.session_id, c.block_length), (Some(7), Some(216)));
        let insert = [
            0x28, // PI service
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFD, // unknown
            0x00, 0x0A, // parameter block length 10
            0x01, 0x00, // one block, reserved
            b'0', b'8', b'0', b'0', b'0', b'0', b'1', b'P', // OB 1, passive
            0x05, // service name length
            b'_', b'I', b'N', b'S', b'E', // insert
        ];
        let f = facts(0x28, true, &insert, &[], &mut Issues::default());
        assert_eq!(f.pi_service(), Some("_INSE"));
        assert_eq!(f.block().map(|b| (b.block_type, b.block_number)), Some((Some("OB"), Some(1))));
        let stop = [
            0x29, // PLC stop
            0x00, 0x00, 0x00, 0x00, 0x00, // unknown
            0x09, // service name length
            b'P', b'_', b'P', b'R', b'O', b'G', b'R', b'A', b'M',
        ];
        assert_eq!(facts(0x29, true, &stop, &[], &mut Issues::default()).pi_service(), Some("P_PROGRAM"));
    }
}
