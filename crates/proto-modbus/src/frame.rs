//! MBAP framing: the 7-byte header and the ADU it announces, and the search for the next
//! plausible header after a gap or garbage.
use crate::{MAX_ADU, MBAP_LEN};
use nom::number::complete::{be_u16, be_u8};
use nom::IResult;

/// The MBAP header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mbap {
    pub transaction_id: u16,
    pub protocol_id: u16,
    /// Bytes after the length field: the unit id and the PDU.
    pub length: u16,
    pub unit_id: u8,
}

fn mbap(i: &[u8]) -> IResult<&[u8], Mbap> {
    let (i, transaction_id) = be_u16(i)?;
    let (i, protocol_id) = be_u16(i)?;
    let (i, length) = be_u16(i)?;
    let (i, unit_id) = be_u8(i)?;
    Ok((i, Mbap { transaction_id, protocol_id, length, unit_id }))
}

/// What the bytes at the start of a buffer are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framed<'a> {
    /// A whole ADU: its header, the PDU (function code first) and its total length.
    Adu { header: Mbap, pdu: &'a [u8], len: usize },
    /// Not enough bytes yet.
    NeedMore,
    /// The header cannot start an ADU; `event` names why.
    Bad { event: &'static str, reason: BadReason },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BadReason {
    ProtocolId(u16),
    /// The length field counts fewer than the unit id and a function code.
    TooShort(u16),
    /// The ADU would exceed the specification's 260 bytes.
    TooLong(u16),
}

impl std::fmt::Display for BadReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BadReason::ProtocolId(p) => write!(f, "protocol id {p}, not 0"),
            BadReason::TooShort(l) => write!(f, "length field {l} leaves no room for a function code"),
            BadReason::TooLong(l) => write!(f, "length field {l} makes a {}-byte ADU, over the {MAX_ADU}-byte limit", usize::from(*l) + 6),
        }
    }
}

pub fn frame(data: &[u8]) -> Framed<'_> {
    let Ok((_, header)) = mbap(data) else {
        return Framed::NeedMore;
    };
    if header.protocol_id != 0 {
        return Framed::Bad { event: "invalid_protocol_id", reason: BadReason::ProtocolId(header.protocol_id) };
    }
    if header.length < 2 {
        return Framed::Bad { event: "invalid_length", reason: BadReason::TooShort(header.length) };
    }
    let len = 6 + usize::from(header.length);
    if len > MAX_ADU {
        return Framed::Bad { event: "pdu_too_long", reason: BadReason::TooLong(header.length) };
    }
    match data.get(MBAP_LEN..len) {
        Some(pdu) => Framed::Adu { header, pdu, len },
        None => Framed::NeedMore,
    }
}

/// Whether a header at the start of `data` is believable enough to resynchronise on:
/// it frames, carries a function code that is not reserved, and, when the bytes after
/// it are present, they start another such header.
pub(crate) fn plausible(data: &[u8]) -> Option<bool> {
    match frame(data) {
        Framed::Adu { pdu, len, .. } => {
            let func = pdu.first().map_or(0, |f| f & 0x7F);
            if crate::function::Function(func).category() == crate::function::Category::Reserved {
                return Some(false);
            }
            match data.get(len..).filter(|rest| rest.len() >= 4) {
                Some(rest) => Some(rest.get(2..4) == Some(&[0, 0][..])),
                None => Some(true),
            }
        }
        Framed::NeedMore => None,
        Framed::Bad { .. } => Some(false),
    }
}

/// Offset of the first plausible header at or after `from`; `Err(n)` when none is found
/// and the first `n` bytes can be discarded (the rest might start a header).
pub(crate) fn find_header(data: &[u8], from: usize) -> Result<usize, usize> {
    let mut at = from;
    while let Some(rest) = data.get(at..) {
        match plausible(rest) {
            Some(true) => return Ok(at),
            Some(false) => at += 1,
            None => return Err(at),
        }
    }
    Err(data.len())
}
