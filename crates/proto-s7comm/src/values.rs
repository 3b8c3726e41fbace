//! Values of S7 data items, read by the transport size of the S7ANY item they belong to:
//! a WORD is one 16-bit value, a REAL a float, not two or four bytes.
use serde::{Serialize, Serializer};

/// How an item's data divides into values: the item's transport size and length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    pub transport_size: u8,
    pub length: u16,
}

/// One value as the PLC holds it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Element {
    Unsigned(u64),
    Signed(i64),
    Real(f32),
}

impl Element {
    pub fn as_f64(self) -> f64 {
        match self {
            Element::Unsigned(v) => v as f64,
            Element::Signed(v) => v as f64,
            Element::Real(v) => f64::from(v),
        }
    }
}

impl Serialize for Element {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match *self {
            Element::Unsigned(v) => s.serialize_u64(v),
            Element::Signed(v) => s.serialize_i64(v),
            // JSON has no NaN or infinity: a written NaN still shows in `data`.
            Element::Real(v) if v.is_finite() => s.serialize_f32(v),
            Element::Real(_) => s.serialize_none(),
        }
    }
}

/// Bytes one element of a transport size takes in memory (BIT, BYTE and CHAR are one).
pub(crate) fn element_size(transport_size: u8) -> usize {
    match transport_size {
        0x04 | 0x05 | 0x09 | 0x0C | 0x1C | 0x1D => 2,
        0x06..=0x08 | 0x0A | 0x0B => 4,
        _ => 1,
    }
}

impl Layout {
    /// Whether the transport size holds numbers (CHAR, strings, DATE_AND_TIME and the IEC
    /// timers do not read as one).
    fn numeric(self) -> bool {
        matches!(self.transport_size, 0x01 | 0x02 | 0x04..=0x0C | 0x1C | 0x1D)
    }

    /// Bytes per value of `data`. Byte-oriented clients (Snap7's DBWrite, many HMIs)
    /// address a DBW or DBD as 2 or 4 BYTEs: one value, not two or four.
    fn step(self, data: &[u8]) -> usize {
        let whole = self.transport_size == 0x02 && matches!(self.length, 2 | 4) && data.len() == usize::from(self.length);
        if whole {
            usize::from(self.length)
        } else {
            element_size(self.transport_size)
        }
    }

    /// Each whole value of `data` with its byte offset in the item; none for non-numeric
    /// transport sizes.
    pub fn elements(self, data: &[u8]) -> impl Iterator<Item = (usize, Element)> + '_ {
        let step = self.step(data);
        let chunks = if self.numeric() { data.chunks_exact(step) } else { [].chunks_exact(1) };
        let signed = matches!(self.transport_size, 0x05 | 0x07 | 0x0B);
        let real = self.transport_size == 0x08;
        chunks.enumerate().map(move |(n, bytes)| (n * step, element(bytes, signed, real)))
    }
}

fn element(bytes: &[u8], signed: bool, real: bool) -> Element {
    match (bytes, signed, real) {
        (&[a, b, c, d], _, true) => Element::Real(f32::from_be_bytes([a, b, c, d])),
        (&[a, b], true, _) => Element::Signed(i64::from(i16::from_be_bytes([a, b]))),
        (&[a, b, c, d], true, _) => Element::Signed(i64::from(i32::from_be_bytes([a, b, c, d]))),
        _ => Element::Unsigned(bytes.iter().fold(0u64, |acc, &b| acc << 8 | u64::from(b))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(transport_size: u8, length: u16, data: &[u8]) -> Vec<(usize, Element)> {
        Layout { transport_size, length }.elements(data).collect()
    }

    #[test]
    fn a_word_is_one_value_and_a_real_a_float() {
        // WORD, one element: 0x7FFF.
        assert_eq!(values(0x04, 1, &[0x7F, 0xFF]), [(0, Element::Unsigned(32767))]);
        // INT, two elements: -1, 2.
        assert_eq!(values(0x05, 2, &[0xFF, 0xFF, 0x00, 0x02]), [(0, Element::Signed(-1)), (2, Element::Signed(2))]);
        // REAL 1.5 (0x3FC00000).
        assert_eq!(values(0x08, 1, &[0x3F, 0xC0, 0x00, 0x00]), [(0, Element::Real(1.5))]);
        // DINT -2.
        assert_eq!(values(0x07, 1, &[0xFF, 0xFF, 0xFF, 0xFE]), [(0, Element::Signed(-2))]);
    }

    #[test]
    fn bytes_are_bytes_unless_they_spell_a_word_or_dword() {
        // BYTE × 2, two bytes: a DBW written by a byte-oriented client.
        assert_eq!(values(0x02, 2, &[0x7F, 0xFF]), [(0, Element::Unsigned(32767))]);
        // BYTE × 3: three values.
        assert_eq!(values(0x02, 3, &[1, 2, 3]).len(), 3);
        // BYTE × 4 but only 3 bytes shown: per byte.
        assert_eq!(values(0x02, 4, &[1, 2, 3]).len(), 3);
    }

    #[test]
    fn text_and_partial_values_give_nothing() {
        // CHAR: no numbers.
        assert!(values(0x03, 2, b"ok").is_empty());
        // WORD with an odd byte: only whole values.
        assert_eq!(values(0x04, 2, &[0, 1, 2]), [(0, Element::Unsigned(1))]);
    }

    #[test]
    fn a_nan_real_serialises_as_null() {
        let nan = serde_json::to_string(&Element::Real(f32::NAN)).unwrap();
        assert_eq!(nan, "null");
        assert_eq!(serde_json::to_string(&Element::Real(0.1)).unwrap(), "0.1");
    }
}
