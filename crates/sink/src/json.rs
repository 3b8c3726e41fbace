//! A JSON serializer for our own record types, writing compact JSON into the batch
//! buffer. It writes what serde_json writes for the same value (golden tests hold it to
//! that), with two differences in cost: struct field names are our identifiers and are
//! copied without an escaping scan, and numbers go through no formatting machinery.
use serde::ser::{self, Serialize};
use std::fmt;

#[derive(Debug)]
pub(crate) struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error(msg.to_string())
    }
}

/// Serialises `value` onto the end of `out`.
pub(crate) fn to_vec<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) -> Result<(), Error> {
    value.serialize(&mut Json { out })
}

pub(crate) struct Json<'o> {
    out: &'o mut Vec<u8>,
}

/// Appends `v` in decimal.
pub(crate) fn put_u64(out: &mut Vec<u8>, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        if let Some(b) = buf.get_mut(i) {
            *b = b'0' + (v % 10) as u8;
        }
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(buf.get(i..).unwrap_or_default());
}

/// Bytes that JSON strings must escape: quote, backslash and the control characters.
#[inline]
fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

/// Whether any byte of `bytes` needs escaping, eight at a time (most strings are names
/// and addresses that need none).
#[inline]
fn any_escape(bytes: &[u8]) -> bool {
    const LOW: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // A byte of `w` is zero exactly where the high bit of has_zero(w) is set.
    let has_zero = |w: u64| w.wrapping_sub(LOW) & !w & HIGH;
    // Bytes below 0x20 are those where (w & 0xe0..) has a zero.
    let flagged =
        |w: u64| has_zero(w & 0xe0e0_e0e0_e0e0_e0e0) | has_zero(w ^ (LOW * u64::from(b'"'))) | has_zero(w ^ (LOW * u64::from(b'\\'))) != 0;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        if flagged(u64::from_le_bytes(word)) {
            return true;
        }
    }
    // The tail (most keys and names are shorter than a word), padded with spaces.
    let tail = chunks.remainder();
    let mut word = [b' '; 8];
    word.get_mut(..tail.len()).unwrap_or_default().copy_from_slice(tail);
    flagged(u64::from_le_bytes(word))
}

/// Appends `s` as a JSON string body (without quotes), escaped as serde_json does.
pub(crate) fn put_escaped(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    if !any_escape(bytes) {
        out.extend_from_slice(bytes);
        return;
    }
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if !needs_escape(b) {
            continue;
        }
        out.extend_from_slice(bytes.get(start..i).unwrap_or_default());
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0xf)]);
            }
        }
        start = i + 1;
    }
    out.extend_from_slice(bytes.get(start..).unwrap_or_default());
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    put_escaped(out, s);
    out.push(b'"');
}

fn put_i64(out: &mut Vec<u8>, v: i64) {
    if v < 0 {
        out.push(b'-');
    }
    put_u64(out, v.unsigned_abs());
}

/// `fmt::Write` into a JSON string body (for `collect_str`: addresses, hex, times).
struct Escaping<'a>(&'a mut Vec<u8>);

impl fmt::Write for Escaping<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        put_escaped(self.0, s);
        Ok(())
    }
}

/// A sequence, map or struct being written; `close` ends it (`]`, `}` or, for an enum
/// variant wrapped in an object, `}}` / `]}`).
pub(crate) struct Compound<'a, 'o> {
    ser: &'a mut Json<'o>,
    first: bool,
    close: &'static [u8],
    /// serde_json's `RawValue`: its one field is JSON text, written as it is.
    raw: bool,
}

/// The struct name through which serde_json's `RawValue` hands over its text (alerts
/// carry the matched event's object so).
const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";

impl Compound<'_, '_> {
    #[inline]
    fn comma(&mut self) {
        if !std::mem::replace(&mut self.first, false) {
            self.ser.out.push(b',');
        }
    }

    fn end(self) {
        self.ser.out.extend_from_slice(self.close);
    }

    /// `"key":` for a struct field (our identifiers: nothing to escape).
    #[inline]
    fn field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), Error> {
        if self.raw {
            return value.serialize(MapKey { out: &mut *self.ser.out, raw: true });
        }
        self.comma();
        let out = &mut *self.ser.out;
        out.push(b'"');
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(b"\":");
        value.serialize(&mut *self.ser)
    }

    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.comma();
        value.serialize(&mut *self.ser)
    }
}

impl<'a, 'o> Json<'o> {
    fn open(&'a mut self, open: &[u8], close: &'static [u8]) -> Compound<'a, 'o> {
        self.out.extend_from_slice(open);
        Compound { ser: self, first: true, close, raw: false }
    }

    /// `{"variant":` before the variant's content.
    fn variant_key(&mut self, variant: &str) {
        self.out.extend_from_slice(b"{\"");
        put_escaped(self.out, variant);
        self.out.extend_from_slice(b"\":");
    }
}

impl<'a, 'o> ser::Serializer for &'a mut Json<'o> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Compound<'a, 'o>;
    type SerializeTuple = Compound<'a, 'o>;
    type SerializeTupleStruct = Compound<'a, 'o>;
    type SerializeTupleVariant = Compound<'a, 'o>;
    type SerializeMap = Compound<'a, 'o>;
    type SerializeStruct = Compound<'a, 'o>;
    type SerializeStructVariant = Compound<'a, 'o>;

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.out.extend_from_slice(if v { b"true" } else { b"false" });
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result<(), Error> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i16(self, v: i16) -> Result<(), Error> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i32(self, v: i32) -> Result<(), Error> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i64(self, v: i64) -> Result<(), Error> {
        put_i64(self.out, v);
        Ok(())
    }
    fn serialize_i128(self, v: i128) -> Result<(), Error> {
        self.out.extend_from_slice(v.to_string().as_bytes());
        Ok(())
    }
    fn serialize_u8(self, v: u8) -> Result<(), Error> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u16(self, v: u16) -> Result<(), Error> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u32(self, v: u32) -> Result<(), Error> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u64(self, v: u64) -> Result<(), Error> {
        put_u64(self.out, v);
        Ok(())
    }
    fn serialize_u128(self, v: u128) -> Result<(), Error> {
        self.out.extend_from_slice(v.to_string().as_bytes());
        Ok(())
    }
    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        // As serde_json: the shortest form that reads back the same; no NaN in JSON.
        match v.is_finite() {
            true => self.out.extend_from_slice(zmij::Buffer::new().format_finite(v).as_bytes()),
            false => self.out.extend_from_slice(b"null"),
        }
        Ok(())
    }
    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        match v.is_finite() {
            true => self.out.extend_from_slice(zmij::Buffer::new().format_finite(v).as_bytes()),
            false => self.out.extend_from_slice(b"null"),
        }
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result<(), Error> {
        self.serialize_str(v.encode_utf8(&mut [0u8; 4]))
    }
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        put_str(self.out, v);
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Error> {
        let mut seq = self.open(b"[", b"]");
        for b in v {
            seq.element(b)?;
        }
        seq.end();
        Ok(())
    }
    fn serialize_none(self) -> Result<(), Error> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Error> {
        self.serialize_none()
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Error> {
        self.serialize_none()
    }
    fn serialize_unit_variant(self, _name: &'static str, _index: u32, variant: &'static str) -> Result<(), Error> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _name: &'static str, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.variant_key(variant);
        value.serialize(&mut *self)?;
        self.out.push(b'}');
        Ok(())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Compound<'a, 'o>, Error> {
        Ok(self.open(b"[", b"]"))
    }
    fn serialize_tuple(self, _len: usize) -> Result<Compound<'a, 'o>, Error> {
        Ok(self.open(b"[", b"]"))
    }
    fn serialize_tuple_struct(self, _name: &'static str, _len: usize) -> Result<Compound<'a, 'o>, Error> {
        Ok(self.open(b"[", b"]"))
    }
    fn serialize_tuple_variant(self, _name: &'static str, _i: u32, variant: &'static str, _len: usize) -> Result<Compound<'a, 'o>, Error> {
        self.variant_key(variant);
        Ok(self.open(b"[", b"]}"))
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Compound<'a, 'o>, Error> {
        Ok(self.open(b"{", b"}"))
    }
    fn serialize_struct(self, name: &'static str, _len: usize) -> Result<Compound<'a, 'o>, Error> {
        if name == RAW_VALUE_TOKEN {
            return Ok(Compound { ser: self, first: true, close: b"", raw: true });
        }
        Ok(self.open(b"{", b"}"))
    }
    fn serialize_struct_variant(self, _name: &'static str, _i: u32, variant: &'static str, _len: usize) -> Result<Compound<'a, 'o>, Error> {
        self.variant_key(variant);
        Ok(self.open(b"{", b"}}"))
    }
    fn collect_str<T: fmt::Display + ?Sized>(self, value: &T) -> Result<(), Error> {
        self.out.push(b'"');
        fmt::write(&mut Escaping(self.out), format_args!("{value}")).map_err(|_| Error("a Display impl failed".into()))?;
        self.out.push(b'"');
        Ok(())
    }
}

/// The element-list traits (a sequence, tuples): each item after a comma.
macro_rules! elements {
    ($($trait:ident :: $method:ident),*) => {$(
        impl ser::$trait for Compound<'_, '_> {
            type Ok = ();
            type Error = Error;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
                self.element(value)
            }
            fn end(self) -> Result<(), Error> {
                Compound::end(self);
                Ok(())
            }
        }
    )*};
}

elements!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl ser::SerializeMap for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.comma();
        key.serialize(MapKey { out: &mut *self.ser.out, raw: false })?;
        self.ser.out.push(b':');
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        value.serialize(&mut *self.ser)
    }
    fn end(self) -> Result<(), Error> {
        Compound::end(self);
        Ok(())
    }
}

/// The named-field traits (a struct, a struct variant).
macro_rules! fields {
    ($($trait:ident),*) => {$(
        impl ser::$trait for Compound<'_, '_> {
            type Ok = ();
            type Error = Error;
            fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), Error> {
                self.field(key, value)
            }
            fn end(self) -> Result<(), Error> {
                Compound::end(self);
                Ok(())
            }
        }
    )*};
}

fields!(SerializeStruct, SerializeStructVariant);

/// A map key: a string, or a number or bool written as one (as serde_json does); or,
/// `raw`, the text of a `RawValue`, written unquoted.
struct MapKey<'o> {
    out: &'o mut Vec<u8>,
    raw: bool,
}

macro_rules! quoted_number {
    ($($method:ident: $t:ty => $put:ident as $wide:ty),*) => {$(
        fn $method(self, v: $t) -> Result<(), Error> {
            if self.raw {
                return refuse();
            }
            self.out.push(b'"');
            $put(self.out, <$wide>::from(v));
            self.out.push(b'"');
            Ok(())
        }
    )*};
}

fn refuse<T>() -> Result<T, Error> {
    Err(Error("a map key must be a string, a number or a bool".into()))
}

impl ser::Serializer for MapKey<'_> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = ser::Impossible<(), Error>;
    type SerializeTuple = ser::Impossible<(), Error>;
    type SerializeTupleStruct = ser::Impossible<(), Error>;
    type SerializeTupleVariant = ser::Impossible<(), Error>;
    type SerializeMap = ser::Impossible<(), Error>;
    type SerializeStruct = ser::Impossible<(), Error>;
    type SerializeStructVariant = ser::Impossible<(), Error>;

    quoted_number!(serialize_u8: u8 => put_u64 as u64, serialize_u16: u16 => put_u64 as u64, serialize_u32: u32 => put_u64 as u64,
        serialize_u64: u64 => put_u64 as u64, serialize_i8: i8 => put_i64 as i64, serialize_i16: i16 => put_i64 as i64,
        serialize_i32: i32 => put_i64 as i64, serialize_i64: i64 => put_i64 as i64);

    fn serialize_str(self, v: &str) -> Result<(), Error> {
        match self.raw {
            true => self.out.extend_from_slice(v.as_bytes()),
            false => put_str(self.out, v),
        }
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result<(), Error> {
        self.serialize_str(v.encode_utf8(&mut [0u8; 4]))
    }
    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.serialize_str(if v { "true" } else { "false" })
    }
    fn serialize_unit_variant(self, _name: &'static str, _index: u32, variant: &'static str) -> Result<(), Error> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _name: &'static str, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }
    fn collect_str<T: fmt::Display + ?Sized>(self, value: &T) -> Result<(), Error> {
        if self.raw {
            return self.serialize_str(&value.to_string());
        }
        self.out.push(b'"');
        fmt::write(&mut Escaping(self.out), format_args!("{value}")).map_err(|_| Error("a Display impl failed".into()))?;
        self.out.push(b'"');
        Ok(())
    }
    fn serialize_i128(self, v: i128) -> Result<(), Error> {
        self.collect_str(&v)
    }
    fn serialize_u128(self, v: u128) -> Result<(), Error> {
        self.collect_str(&v)
    }
    fn serialize_f32(self, _v: f32) -> Result<(), Error> {
        refuse()
    }
    fn serialize_f64(self, _v: f64) -> Result<(), Error> {
        refuse()
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result<(), Error> {
        refuse()
    }
    fn serialize_none(self) -> Result<(), Error> {
        refuse()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Result<(), Error> {
        refuse()
    }
    fn serialize_unit(self) -> Result<(), Error> {
        refuse()
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Error> {
        refuse()
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _n: &'static str,
        _i: u32,
        _v: &'static str,
        _value: &T,
    ) -> Result<(), Error> {
        refuse()
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        refuse()
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, Error> {
        refuse()
    }
    fn serialize_tuple_struct(self, _n: &'static str, _len: usize) -> Result<Self::SerializeTupleStruct, Error> {
        refuse()
    }
    fn serialize_tuple_variant(
        self,
        _n: &'static str,
        _i: u32,
        _v: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        refuse()
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, Error> {
        refuse()
    }
    fn serialize_struct(self, _n: &'static str, _len: usize) -> Result<Self::SerializeStruct, Error> {
        refuse()
    }
    fn serialize_struct_variant(
        self,
        _n: &'static str,
        _i: u32,
        _v: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        refuse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;
    use std::collections::BTreeMap;

    #[derive(Serialize)]
    enum Shape {
        Unit,
        New(u8),
        Tuple(u8, i8),
        Struct { a: bool },
    }

    #[derive(Serialize)]
    struct All<'a> {
        b: bool,
        i: i64,
        u: u64,
        f: f64,
        g: f32,
        nan: f64,
        s: &'a str,
        c: char,
        bytes: &'a [u8],
        none: Option<u8>,
        some: Option<&'a str>,
        unit: (),
        tuple: (u8, &'a str),
        shapes: Vec<Shape>,
        map: BTreeMap<u16, i32>,
        names: BTreeMap<&'a str, bool>,
        #[serde(skip_serializing_if = "Option::is_none")]
        skipped: Option<u8>,
        shown: std::net::IpAddr,
        raw: Box<serde_json::value::RawValue>,
    }

    #[test]
    fn writes_what_serde_json_writes() {
        let value = All {
            b: true,
            i: i64::MIN,
            u: u64::MAX,
            f: 0.1 + 0.2,
            g: 1.5e-7,
            nan: f64::NAN,
            s: "quote \" backslash \\ newline \n tab \t bell \u{7} del \u{7f} é 漢",
            c: '"',
            bytes: &[0, 255],
            none: None,
            some: Some(""),
            unit: (),
            tuple: (1, "x"),
            shapes: vec![Shape::Unit, Shape::New(3), Shape::Tuple(1, -1), Shape::Struct { a: false }],
            map: [(1, -5), (65535, 7)].into_iter().collect(),
            names: [("a\"b", true)].into_iter().collect(),
            skipped: None,
            shown: "fe80::1".parse().unwrap(),
            raw: serde_json::value::to_raw_value(&[("a", 1)]).unwrap(),
        };
        let mut ours = Vec::new();
        to_vec(&mut ours, &value).unwrap();
        assert_eq!(String::from_utf8(ours).unwrap(), serde_json::to_string(&value).unwrap());
        for f in [0.0, -0.0, 1.0, 1e16, 1e-7, 123456.789, f64::MAX, f64::MIN_POSITIVE] {
            let mut ours = Vec::new();
            to_vec(&mut ours, &f).unwrap();
            assert_eq!(String::from_utf8(ours).unwrap(), serde_json::to_string(&f).unwrap());
        }
    }

    #[test]
    fn the_word_scan_finds_every_byte_that_needs_escaping() {
        for len in 0..20 {
            for at in 0..len {
                for b in 0u8..=255 {
                    let mut v = vec![b'a'; len];
                    v[at] = b;
                    assert_eq!(any_escape(&v), needs_escape(b), "len {len} at {at} byte {b:#x}");
                }
            }
        }
    }

    #[test]
    fn a_key_that_is_not_a_string_or_number_is_an_error() {
        let map: BTreeMap<Vec<u8>, u8> = [(vec![1], 1)].into_iter().collect();
        assert!(to_vec(&mut Vec::new(), &map).is_err());
        assert!(serde_json::to_string(&map).is_err());
    }
}
