//! Lazy iteration over the objects behind one object header, and the decoding of each
//! point's fields. The walk that validates a fragment and the walk that reports its points
//! are the same iterator; fields are decoded only when a record is written or a rule asks.
use crate::anomaly::Dnp3Anomaly;
use otsentry_core::{detail, Detail};

/// How the objects of a group and variation are sized.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Size {
    Bytes(usize),
    /// Packed bits per point (binary inputs and outputs, IIN).
    Bits(usize),
    /// Size given by a size prefix, by the variation (octet strings) or in the object
    /// (device attributes).
    Variable,
}

pub(crate) fn object_size(group: u8, variation: u8) -> Option<Size> {
    use Size::{Bits, Bytes, Variable};
    Some(match (group, variation) {
        (1, 1) | (10, 1) | (12, 3) | (80, 1) => Bits(1),
        (3, 1) => Bits(2),
        (1, 2) | (2, 1) | (3, 2) | (4, 1) | (10, 2) | (11, 1) | (13, 1) => Bytes(1),
        (2, 2) | (4, 2) | (11, 2) | (13, 2) => Bytes(7),
        (2, 3) | (4, 3) => Bytes(3),
        (12, 1) | (12, 2) => Bytes(11),
        (20 | 22 | 23, 1) | (21, 1) => Bytes(5),
        (20..=23, 2) => Bytes(3),
        (21..=23, 5) => Bytes(11),
        (21..=23, 6) => Bytes(9),
        (20, 5) | (21, 9) => Bytes(4),
        (20, 6) | (21, 10) => Bytes(2),
        (30, 1) | (30, 5) => Bytes(5),
        (30, 2) => Bytes(3),
        (30, 3) => Bytes(4),
        (30, 4) => Bytes(2),
        (30, 6) => Bytes(9),
        (31, 1) | (31, 7) => Bytes(5),
        (31, 2) => Bytes(3),
        (31, 3) => Bytes(11),
        (31, 4) | (31, 8) => Bytes(9),
        (31, 5) => Bytes(4),
        (31, 6) => Bytes(2),
        (32 | 33 | 42 | 43, 1) | (32 | 33 | 42 | 43, 5) => Bytes(5),
        (32 | 33 | 42 | 43, 2) => Bytes(3),
        (32 | 33 | 42 | 43, 3) | (32 | 33 | 42 | 43, 7) => Bytes(11),
        (32 | 33 | 42 | 43, 4) | (32 | 33 | 42 | 43, 6) => Bytes(9),
        (32 | 33 | 42 | 43, 8) => Bytes(15),
        (34, 1) => Bytes(2),
        (34, 2 | 3) => Bytes(4),
        (40 | 41, 1) | (40 | 41, 3) => Bytes(5),
        (40 | 41, 2) => Bytes(3),
        (40 | 41, 4) => Bytes(9),
        (50, 1) | (50, 3) | (51, 1 | 2) => Bytes(6),
        (50, 2) => Bytes(10),
        (50, 4) => Bytes(11),
        (52, 1 | 2) => Bytes(2),
        (60, 1..=4) => Bytes(0),
        (110..=113, _) | (0, _) | (70, _) | (120, _) => Variable,
        _ => return None,
    })
}

/// Why a walk stopped: Suricata's event name and a reason.
pub type Problem = (Dnp3Anomaly, Detail);

/// One point: its index (from the range or an index prefix), the raw prefix, and its bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Point<'a> {
    pub group: u8,
    pub variation: u8,
    pub index: u32,
    /// The prefix value (an index or a size), 0 without a prefix.
    pub prefix: u32,
    /// The object's size when a size prefix gives it.
    pub size: Option<u32>,
    /// The object's bytes (empty for packed bits).
    pub bytes: &'a [u8],
    /// For packed-bit objects: the point's bit(s).
    pub packed: Option<u8>,
}

/// The points behind one object header.
#[derive(Clone, Debug)]
pub struct Points<'a> {
    group: u8,
    variation: u8,
    prefix_code: u8,
    start: Option<u32>,
    count: u32,
    next: u32,
    rest: &'a [u8],
    packed: Option<(&'a [u8], usize)>,
    /// Index prefixes without object values (as in a READ request).
    headers_only: bool,
}

/// A little-endian unsigned value of up to four bytes.
pub(crate) fn uint(bytes: &[u8]) -> u32 {
    le(bytes, 0, bytes.len()) as u32
}

pub(crate) fn take<'a>(data: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    let (head, rest) = data.split_at_checked(n)?;
    *data = rest;
    Some(head)
}

impl<'a> Points<'a> {
    pub(crate) fn new(group: u8, variation: u8, qualifier: u8, range: Option<(u32, u32)>, count: u32, data: &'a [u8]) -> Self {
        Points {
            group,
            variation,
            prefix_code: (qualifier >> 4) & 0x07,
            start: range.map(|r| r.0),
            count,
            next: 0,
            rest: data,
            packed: None,
            headers_only: false,
        }
    }

    pub(crate) fn group(&self) -> u8 {
        self.group
    }

    pub(crate) fn headers_only(self) -> Self {
        Points { headers_only: true, ..self }
    }

    /// Bytes not consumed by the points walked so far.
    pub(crate) fn rest(&self) -> &'a [u8] {
        self.rest
    }

    /// Walk up to `limit` of the remaining points at once when they are fixed-size and
    /// unprefixed (nothing per point to look at). Returns how many were walked, or `None`
    /// when the points must be walked one by one; a truncation is an error.
    pub(crate) fn skip_fixed(&mut self, limit: u32) -> Option<Result<u32, Problem>> {
        if self.next != 0 || self.prefix_code != 0 || self.headers_only {
            return None;
        }
        let (bits, packed) = match object_size(self.group, self.variation)? {
            Size::Bytes(n) => (n * 8, false),
            Size::Bits(b) => (b, true),
            Size::Variable => return None,
        };
        let n = self.count.min(limit);
        let bytes = (n as usize).saturating_mul(bits).div_ceil(8);
        let (group, variation) = (self.group, self.variation);
        let Some(taken) = take(&mut self.rest, bytes) else {
            self.next = self.count;
            return Some(Err((Dnp3Anomaly::Malformed, detail!("g{}v{} objects truncated", group, variation))));
        };
        if packed {
            self.packed = Some((taken, bits));
        }
        self.next = n;
        Some(Ok(n))
    }

    fn step(&mut self) -> Result<Point<'a>, Problem> {
        let (group, variation) = (self.group, self.variation);
        // A size prefix, or a request naming points by index, needs no size table.
        let size = match object_size(group, variation) {
            Some(size) => size,
            None if self.prefix_code >= 4 || (self.headers_only && self.prefix_code > 0) => Size::Bytes(0),
            None => return Err((Dnp3Anomaly::UnknownObject, detail!("g{}v{} has no known size", group, variation))),
        };
        let truncated = || (Dnp3Anomaly::Malformed, detail!("g{}v{} objects truncated", group, variation));
        let prefix_len = match self.prefix_code {
            0 => 0,
            1 | 4 => 1,
            2 | 5 => 2,
            3 | 6 => 4,
            code => return Err((Dnp3Anomaly::Malformed, detail!("reserved prefix code {}", code))),
        };
        let i = self.next;
        let by_range = self.start.map_or(i, |s| s.wrapping_add(i));
        if let (Size::Bits(bits), 0) = (size, prefix_len) {
            if self.packed.is_none() {
                let n = (self.count as usize).saturating_mul(bits).div_ceil(8);
                self.packed = Some((take(&mut self.rest, n).ok_or_else(truncated)?, bits));
            }
            let (bytes, bits) = self.packed.unwrap_or((&[], 1));
            let bit = i as usize * bits;
            let byte = bytes.get(bit / 8).copied().unwrap_or(0);
            let state = (byte >> (bit % 8)) & ((1u8 << bits) - 1);
            return Ok(Point { group, variation, index: by_range, prefix: 0, size: None, bytes: &[], packed: Some(state) });
        }
        let prefix = uint(take(&mut self.rest, prefix_len).ok_or_else(truncated)?);
        let index = if (1..=3).contains(&self.prefix_code) { prefix } else { by_range };
        let n = match size {
            _ if self.prefix_code >= 4 => prefix as usize,
            _ if self.headers_only => 0,
            Size::Bytes(n) => n,
            Size::Bits(bits) => bits.div_ceil(8),
            Size::Variable if (110..=113).contains(&group) => usize::from(variation),
            Size::Variable if group == 0 => {
                // Device attribute: data type and length, then the value.
                let len = self.rest.get(1).copied().ok_or_else(truncated)?;
                2 + usize::from(len)
            }
            Size::Variable => return Err((Dnp3Anomaly::UnknownObject, detail!("g{}v{} without a size prefix", group, variation))),
        };
        let bytes = take(&mut self.rest, n).ok_or_else(truncated)?;
        let packed = match size {
            Size::Bits(_) => bytes.first().map(|b| b & 1),
            _ => None,
        };
        let size = (self.prefix_code >= 4).then_some(prefix);
        Ok(Point { group, variation, index, prefix, size, bytes, packed })
    }
}

impl<'a> Iterator for Points<'a> {
    type Item = Result<Point<'a>, Problem>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.next >= self.count {
            return None;
        }
        let item = self.step();
        // A failed step ends the walk.
        self.next = if item.is_ok() { self.next + 1 } else { self.count };
        Some(item)
    }
}

/// A decoded field value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value<'a> {
    U(u64),
    I(i64),
    F(f64),
    Text(&'a [u8]),
    Hex(&'a [u8]),
}

#[derive(Clone, Copy)]
enum Flags {
    Binary,
    DoubleBit,
    Output,
    Counter,
    Analog,
}

fn le(bytes: &[u8], at: usize, n: usize) -> u64 {
    bytes.get(at..at + n).map_or(0, |b| b.iter().rev().fold(0u64, |acc, &x| acc << 8 | u64::from(x)))
}

fn signed(bytes: &[u8], at: usize, n: usize) -> i64 {
    let v = le(bytes, at, n);
    let shift = 64 - 8 * n as u32;
    ((v << shift) as i64) >> shift
}

fn float(bytes: &[u8], at: usize, n: usize) -> f64 {
    match n {
        4 => f64::from(f32::from_bits(le(bytes, at, 4) as u32)),
        _ => f64::from_bits(le(bytes, at, 8)),
    }
}

fn flags(kind: Flags, b: u8, f: &mut impl FnMut(&'static str, Value<'_>)) {
    let bit = |n: u8| Value::U(u64::from((b >> n) & 1));
    f("flags", Value::U(u64::from(b)));
    for (n, name) in ["online", "restart", "comm_lost", "remote_forced", "local_forced"].into_iter().enumerate() {
        f(name, bit(n as u8));
    }
    let upper: [&'static str; 3] = match kind {
        Flags::Binary => ["chatter_filter", "reserved", "state"],
        Flags::DoubleBit => ["chatter_filter", "", ""],
        Flags::Output => ["reserved0", "reserved1", "state"],
        Flags::Counter => ["rollover", "discontinuity", "reserved0"],
        Flags::Analog => ["over_range", "reference_err", "reserved0"],
    };
    for (n, name) in upper.into_iter().enumerate().filter(|(_, n)| !n.is_empty()) {
        f(name, bit(5 + n as u8));
    }
    if let Flags::DoubleBit = kind {
        f("state", Value::U(u64::from(b >> 6)));
    }
}

/// A 48-bit DNP3 time: milliseconds since 1970.
fn time48(bytes: &[u8], at: usize, f: &mut impl FnMut(&'static str, Value<'_>)) {
    f("timestamp", Value::U(le(bytes, at, 6)));
}

impl Point<'_> {
    /// Every decoded field of the point, in record order (index and prefix first).
    pub fn fields(&self, f: &mut impl FnMut(&'static str, Value<'_>)) {
        f("index", Value::U(u64::from(self.index)));
        f("prefix", Value::U(u64::from(self.prefix)));
        if let Some(size) = self.size {
            f("size", Value::U(u64::from(size)));
        }
        if let Some(state) = self.packed {
            f("state", Value::U(u64::from(state)));
            return;
        }
        if self.bytes.is_empty() {
            return; // named by index only
        }
        let b = self.bytes;
        let flag = b.first().copied().unwrap_or(0);
        let (g, v) = (self.group, self.variation);
        match (g, v) {
            (1, 2) | (2, 1..=3) => flags(Flags::Binary, flag, f),
            (3, 2) | (4, 1..=3) => flags(Flags::DoubleBit, flag, f),
            (10, 2) | (11, 1 | 2) => flags(Flags::Output, flag, f),
            (20, 1 | 2) | (21..=23, 1 | 2 | 5 | 6) => flags(Flags::Counter, flag, f),
            (30, 1 | 2 | 5 | 6) | (31, 1..=4 | 7 | 8) | (32 | 33 | 42 | 43, _) | (40, _) => flags(Flags::Analog, flag, f),
            _ => {}
        }
        match (g, v) {
            (2 | 4 | 11, 2) => time48(b, 1, f),
            (2 | 4, 3) => f("relative_time_ms", Value::U(le(b, 1, 2))),
            (12, 1 | 2) => {
                let code = flag;
                f("op_type", Value::U(u64::from(code & 0x0F)));
                f("qu", Value::U(u64::from((code >> 4) & 1)));
                f("cr", Value::U(u64::from((code >> 5) & 1)));
                f("tcc", Value::U(u64::from(code >> 6)));
                f("count", Value::U(le(b, 1, 1)));
                f("ontime", Value::U(le(b, 2, 4)));
                f("offtime", Value::U(le(b, 6, 4)));
                let status = le(b, 10, 1);
                f("status_code", Value::U(status & 0x7F));
                f("reserved", Value::U(status >> 7));
            }
            (13, 1 | 2) => {
                f("commanded_state", Value::U(u64::from(flag >> 7)));
                f("status_code", Value::U(u64::from(flag & 0x7F)));
                if v == 2 {
                    time48(b, 1, f);
                }
            }
            (20, 1) | (21..=23, 1 | 5) => f("count", Value::U(le(b, 1, 4))),
            (20, 2) | (21..=23, 2 | 6) => f("count", Value::U(le(b, 1, 2))),
            (20, 5) | (21, 9) => f("count", Value::U(le(b, 0, 4))),
            (20, 6) | (21, 10) => f("count", Value::U(le(b, 0, 2))),
            (30, 1) | (31 | 32 | 33 | 42 | 43, 1 | 3) | (40, 1) => f("value", Value::I(signed(b, 1, 4))),
            (30, 2) | (31 | 32 | 33 | 42 | 43, 2 | 4) | (40, 2) => f("value", Value::I(signed(b, 1, 2))),
            (30, 3) | (31, 5) => f("value", Value::I(signed(b, 0, 4))),
            (30, 4) | (31, 6) => f("value", Value::I(signed(b, 0, 2))),
            (30, 5) | (31, 7) | (32 | 33 | 42 | 43, 5 | 7) | (40, 3) => f("value", Value::F(float(b, 1, 4))),
            (30, 6) | (31, 8) | (32 | 33 | 42 | 43, 6 | 8) | (40, 4) => f("value", Value::F(float(b, 1, 8))),
            (34, 1) => f("deadband", Value::U(le(b, 0, 2))),
            (34, 2) => f("deadband", Value::U(le(b, 0, 4))),
            (34, 3) => f("deadband", Value::F(float(b, 0, 4))),
            (41, 1) => f("value", Value::I(signed(b, 0, 4))),
            (41, 2) => f("value", Value::I(signed(b, 0, 2))),
            (41, 3) => f("value", Value::F(float(b, 0, 4))),
            (41, 4) => f("value", Value::F(float(b, 0, 8))),
            (50 | 51, 1..=4) => time48(b, 0, f),
            (52, 1 | 2) => f("delay_ms", Value::U(le(b, 0, 2) * if v == 1 { 1000 } else { 1 })),
            (70, _) => file_fields(v, b, f),
            (0, _) => {
                f("data_type", Value::U(le(b, 0, 1)));
                f("value", Value::Hex(b.get(2..).unwrap_or_default()));
            }
            // Flags alone, class data, IIN: nothing more.
            (1, 2) | (2, 1) | (3, 2) | (4, 1) | (10, 2) | (11, 1) | (60 | 80, _) => {}
            _ => f("data", Value::Hex(b)),
        }
        // Times after the value: counter, analog and output events with time.
        match (g, v) {
            (21..=23, 5) | (32 | 33 | 42 | 43, 3 | 7) => time48(b, 5, f),
            (21..=23, 6) | (32 | 33 | 42 | 43, 4) => time48(b, 3, f),
            (31, 3) | (32 | 33 | 42 | 43, 8) => time48(b, if v == 3 { 5 } else { 9 }, f),
            (31, 4) => time48(b, 3, f),
            _ => {}
        }
        if let (41, 1..=4) = (g, v) {
            f("status_code", Value::U(u64::from(b.last().copied().unwrap_or(0))));
        }
    }
}

/// File-transfer objects (group 70): commands, status, data blocks and descriptors.
/// Passwords (g70v2) are never reported, only their length.
fn file_fields(v: u8, b: &[u8], f: &mut impl FnMut(&'static str, Value<'_>)) {
    let u = |at: usize, n: usize| Value::U(le(b, at, n));
    let string = |off: u64, len: u64| Value::Text(b.get(off as usize..(off + len) as usize).unwrap_or_default());
    match v {
        2 => {
            f("username_offset", u(0, 2));
            f("username_size", u(2, 2));
            f("password_size", u(6, 2));
            f("authentication_key", u(8, 4));
            f("username", string(le(b, 0, 2), le(b, 2, 2)));
        }
        3 => {
            for (name, at, n) in [
                ("filename_offset", 0, 2),
                ("filename_size", 2, 2),
                ("created", 4, 6),
                ("permissions", 10, 2),
                ("authentication_key", 12, 4),
                ("file_size", 16, 4),
                ("operational_mode", 20, 2),
                ("maximum_block_size", 22, 2),
                ("request_id", 24, 2),
            ] {
                f(name, u(at, n));
            }
            f("filename", string(le(b, 0, 2), le(b, 2, 2)));
        }
        4 => {
            for (name, at, n) in
                [("file_handle", 0, 4), ("file_size", 4, 4), ("maximum_block_size", 8, 2), ("request_id", 10, 2), ("status_code", 12, 1)]
            {
                f(name, u(at, n));
            }
            f("optional_text", Value::Text(b.get(13..).unwrap_or_default()));
        }
        5 => {
            f("file_handle", u(0, 4));
            f("block_number", Value::U(le(b, 4, 4) & 0x7FFF_FFFF));
            f("last_block", Value::U(le(b, 4, 4) >> 31));
            f("file_data", Value::Hex(b.get(8..).unwrap_or_default()));
        }
        6 => {
            f("file_handle", u(0, 4));
            f("block_number", Value::U(le(b, 4, 4) & 0x7FFF_FFFF));
            f("last_block", Value::U(le(b, 4, 4) >> 31));
            f("status_code", u(8, 1));
            f("optional_text", Value::Text(b.get(9..).unwrap_or_default()));
        }
        7 => {
            for (name, at, n) in [
                ("filename_offset", 0, 2),
                ("filename_size", 2, 2),
                ("file_type", 4, 2),
                ("file_size", 6, 4),
                ("created", 10, 6),
                ("permissions", 16, 2),
                ("request_id", 18, 2),
            ] {
                f(name, u(at, n));
            }
            f("filename", string(le(b, 0, 2), le(b, 2, 2)));
        }
        8 => f("filename", Value::Text(b)),
        _ => f("data", Value::Hex(b)),
    }
}
