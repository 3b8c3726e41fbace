//! MBAP framing: the 7-byte header and the ADU it announces, and the search for the next
//! plausible header after a gap or garbage.
use crate::anomaly::ModbusAnomaly;
use crate::{MAX_ADU, MAX_LENIENT_ADU, MBAP_LEN};
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
    Bad { event: ModbusAnomaly, reason: BadReason },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BadReason {
    ProtocolId(u16),
    /// The length field counts fewer than the unit id and a function code.
    TooShort(u16),
    /// The ADU would exceed the largest one dissected ([`MAX_LENIENT_ADU`]).
    TooLong(u16),
}

impl std::fmt::Display for BadReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BadReason::ProtocolId(p) => write!(f, "protocol id {p}, not 0"),
            BadReason::TooShort(l) => write!(f, "length field {l} leaves no room for a function code"),
            BadReason::TooLong(l) => write!(
                f,
                "length field {l} makes a {}-byte ADU, over the {MAX_LENIENT_ADU} bytes any device is known to take",
                usize::from(*l) + 6
            ),
        }
    }
}

/// The MBAP header at the head of `data`, if its seven bytes are present.
pub(crate) fn header(data: &[u8]) -> Option<Mbap> {
    mbap(data).ok().map(|(_, h)| h)
}

pub fn frame(data: &[u8]) -> Framed<'_> {
    let Some(header) = header(data) else {
        return Framed::NeedMore;
    };
    if header.protocol_id != 0 {
        return Framed::Bad { event: ModbusAnomaly::InvalidProtocolId, reason: BadReason::ProtocolId(header.protocol_id) };
    }
    if header.length < 2 {
        return Framed::Bad { event: ModbusAnomaly::InvalidLength, reason: BadReason::TooShort(header.length) };
    }
    let len = 6 + usize::from(header.length);
    if len > MAX_LENIENT_ADU {
        return Framed::Bad { event: ModbusAnomaly::PduTooLong, reason: BadReason::TooLong(header.length) };
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
    // Resynchronising on an oversized header would let one forged length hide more.
    if let Some(&[hi, lo]) = data.get(4..6) {
        if 6 + usize::from(u16::from_be_bytes([hi, lo])) > MAX_ADU {
            return Some(false);
        }
    }
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

/// The length of a PDU whose function fixes it (or counts it in its own byte count),
/// read from the PDU's first bytes; `None` where only the MBAP length says where it ends
/// (diagnostics echo, MEI other than device identification, UMAS, user-defined codes).
/// `request` chooses the request's layout over the response's.
pub(crate) fn structural_len(pdu: &[u8], request: bool) -> Option<usize> {
    let &code = pdu.first()?;
    let count = |at: usize| pdu.get(at).map(|&n| usize::from(n));
    if code & 0x80 != 0 {
        return Some(2); // exception: the code and one exception code
    }
    if request {
        match code {
            1..=6 => Some(5),
            7 | 11 | 12 | 17 => Some(1),
            8 => pdu.get(1..3).filter(|sub| sub != &[0, 0]).map(|_| 5), // 0 echoes any data
            15 | 16 => count(5).map(|n| 6 + n),
            20 | 21 => count(1).map(|n| 2 + n),
            22 => Some(7),
            23 => count(9).map(|n| 10 + n),
            24 => Some(3),
            43 if pdu.get(1) == Some(&14) => Some(4),
            _ => None,
        }
    } else {
        match code {
            1..=4 | 12 | 17 | 20 | 21 | 23 => count(1).map(|n| 2 + n),
            5 | 6 | 11 | 15 | 16 => Some(5),
            7 => Some(2),
            22 => Some(7),
            _ => None,
        }
    }
}

/// Where an ADU whose length field claims more than its PDU holds really ends, when the
/// bytes the length field would swallow start another MBAP header: a device that reads
/// the PDU by its function takes those bytes as the next request, so they are dissected
/// as one. `adu` is what is present of the ADU (it may be incomplete), `len` its declared
/// length. Where the function fixes the PDU's length, its end is the only place looked
/// at; an ADU over the standard's size (which no device is obliged to accept) is searched
/// throughout. Padding (zeros, anything not framing as a header) stays in the ADU.
pub(crate) fn hidden_split(adu: &[u8], len: usize, request: bool) -> Option<usize> {
    let pdu = adu.get(MBAP_LEN..)?;
    let structural = structural_len(pdu, request).filter(|&n| MBAP_LEN + n < len);
    if let Some(end) = structural.map(|n| MBAP_LEN + n).filter(|&end| adu.get(end..).is_some_and(starts_header)) {
        return Some(end);
    }
    if len <= MAX_ADU {
        return None;
    }
    // From the function code on: a forged header's own PDU need not be whole.
    (MBAP_LEN + 1..adu.len().min(len)).find(|&at| adu.get(at..).is_some_and(|rest| starts_header(rest) && plausible(rest) != Some(false)))
}

/// Whether a standard-sized MBAP header with a function code that is not reserved starts
/// `data`.
fn starts_header(data: &[u8]) -> bool {
    let [_, _, 0, 0, hi, lo, _, func, ..] = *data else { return false };
    let length = usize::from(u16::from_be_bytes([hi, lo]));
    let public = crate::function::Function(func & 0x7F).category() != crate::function::Category::Reserved;
    (2..=MAX_ADU - 6).contains(&length) && func & 0x7F != 0 && public
}
