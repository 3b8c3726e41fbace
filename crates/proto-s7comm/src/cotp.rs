//! TPKT (RFC 1006) and COTP (ISO 8073 class 0): checked views over borrowed bytes.
use crate::TPKT_LEN;
use otsentry_core::{detail, Detail};

/// What the bytes at the start of a stream buffer are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tpkt<'a> {
    /// A whole TPKT: its length on the wire and the COTP TPDU it carries.
    Packet {
        len: usize,
        tpdu: &'a [u8],
    },
    NeedMore,
    Bad(BadTpkt),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BadTpkt {
    Version(u8),
    /// Shorter than a TPKT header and the smallest COTP TPDU.
    Length(u16),
}

impl std::fmt::Display for BadTpkt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BadTpkt::Version(v) => write!(f, "TPKT version {v}, expected 3"),
            BadTpkt::Length(l) => write!(f, "TPKT length {l} below 7"),
        }
    }
}

/// The smallest TPKT: its header and a 3-byte COTP data TPDU header.
pub const MIN_TPKT: usize = TPKT_LEN + 3;

pub fn tpkt(data: &[u8]) -> Tpkt<'_> {
    let Some(&[version, _reserved, hi, lo]) = data.first_chunk::<4>() else {
        return match data.first() {
            Some(&v) if v != 3 => Tpkt::Bad(BadTpkt::Version(v)),
            _ => Tpkt::NeedMore,
        };
    };
    if version != 3 {
        return Tpkt::Bad(BadTpkt::Version(version));
    }
    let len = u16::from_be_bytes([hi, lo]);
    if usize::from(len) < MIN_TPKT {
        return Tpkt::Bad(BadTpkt::Length(len));
    }
    match data.get(TPKT_LEN..usize::from(len)) {
        Some(tpdu) => Tpkt::Packet { len: usize::from(len), tpdu },
        None => Tpkt::NeedMore,
    }
}

/// COTP TPDU kinds (the high nibble of the code byte; credit bits cleared).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    ConnectionRequest,
    ConnectionConfirm,
    DisconnectRequest,
    DisconnectConfirm,
    Data,
    ExpeditedData,
    DataAck,
    Reject,
    Error,
    Unknown(u8),
}

impl Kind {
    fn from_code(code: u8) -> Kind {
        match code & 0xF0 {
            0xE0 => Kind::ConnectionRequest,
            0xD0 => Kind::ConnectionConfirm,
            0x80 => Kind::DisconnectRequest,
            0xC0 => Kind::DisconnectConfirm,
            0xF0 => Kind::Data,
            0x10 => Kind::ExpeditedData,
            0x60 => Kind::DataAck,
            0x50 => Kind::Reject,
            0x70 => Kind::Error,
            other => Kind::Unknown(other),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::ConnectionRequest => "CR",
            Kind::ConnectionConfirm => "CC",
            Kind::DisconnectRequest => "DR",
            Kind::DisconnectConfirm => "DC",
            Kind::Data => "DT",
            Kind::ExpeditedData => "ED",
            Kind::DataAck => "AK",
            Kind::Reject => "RJ",
            Kind::Error => "ER",
            Kind::Unknown(_) => "unknown",
        }
    }
}

/// One COTP TPDU: its fixed part and what follows the header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tpdu<'a> {
    pub kind: Kind,
    /// The header after the length indicator and code.
    pub fixed: &'a [u8],
    /// User data after the header (an S7 PDU in a data TPDU).
    pub payload: &'a [u8],
}

impl<'a> Tpdu<'a> {
    pub fn parse(tpdu: &'a [u8]) -> Result<Tpdu<'a>, Detail> {
        let (&li, rest) = tpdu.split_first().ok_or("empty COTP TPDU")?;
        let header =
            rest.get(..usize::from(li)).ok_or_else(|| detail!("COTP length indicator {} beyond the {} bytes present", li, rest.len()))?;
        let (&code, fixed) = header.split_first().ok_or("COTP length indicator 0")?;
        let kind = Kind::from_code(code);
        if kind == Kind::Data && fixed.is_empty() {
            return Err("COTP data TPDU without its EOT/number byte".into());
        }
        Ok(Tpdu { kind, fixed, payload: rest.get(usize::from(li)..).unwrap_or_default() })
    }

    /// Data TPDUs: whether this is the last of an S7 PDU (EOT), and its number.
    pub fn eot(&self) -> bool {
        self.fixed.first().is_some_and(|b| b & 0x80 != 0)
    }
    pub fn number(&self) -> u8 {
        self.fixed.first().map_or(0, |b| b & 0x7F)
    }

    /// Connection request and confirm parameters.
    pub fn connection(&self) -> Option<Connection<'a>> {
        if !matches!(self.kind, Kind::ConnectionRequest | Kind::ConnectionConfirm) {
            return None;
        }
        let &[d0, d1, s0, s1, class, ref params @ ..] = self.fixed else { return None };
        let mut c = Connection {
            dst_ref: u16::from_be_bytes([d0, d1]),
            src_ref: u16::from_be_bytes([s0, s1]),
            class: class >> 4,
            tpdu_size: None,
            calling_tsap: None,
            called_tsap: None,
        };
        let mut rest = params;
        while let [code, len, tail @ ..] = rest {
            let Some((value, next)) = tail.split_at_checked(usize::from(*len)) else { break };
            match code {
                0xC0 => c.tpdu_size = value.first().map(|&n| 1u32.checked_shl(u32::from(n)).unwrap_or(0)),
                0xC1 => c.calling_tsap = Some(value),
                0xC2 => c.called_tsap = Some(value),
                _ => {}
            }
            rest = next;
        }
        Some(c)
    }
}

/// What a connection request or confirm says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Connection<'a> {
    pub dst_ref: u16,
    pub src_ref: u16,
    pub class: u8,
    pub tpdu_size: Option<u32>,
    pub calling_tsap: Option<&'a [u8]>,
    pub called_tsap: Option<&'a [u8]>,
}

/// Rack and slot from a two-byte S7 TSAP (connection type, then rack × 32 + slot).
pub fn rack_slot(tsap: &[u8]) -> Option<(u8, u8, u8)> {
    match tsap {
        &[kind, rs] => Some((kind, rs >> 5, rs & 0x1F)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_request_fields() {
        let cr = [
            0x03, 0x00, 0x00, 0x16, // TPKT version 3, length 22
            0x11, // COTP length indicator 17
            0xE0, // connection request, credit 0
            0x00, 0x00, // destination reference
            0x00, 0x01, // source reference 1
            0x00, // class 0
            0xC1, 0x02, 0x01, 0x00, // calling TSAP 0x0100
            0xC2, 0x02, 0x01, 0x02, // called TSAP: PG (1), rack 0, slot 2
            0xC0, 0x01, 0x0A, // TPDU size 2^10
        ];
        let Tpkt::Packet { len, tpdu } = tpkt(&cr) else { panic!("frames") };
        assert_eq!(len, 22);
        let t = Tpdu::parse(tpdu).unwrap();
        let c = t.connection().unwrap();
        assert_eq!((t.kind, c.src_ref, c.class, c.tpdu_size), (Kind::ConnectionRequest, 1, 0, Some(1024)));
        assert_eq!(c.called_tsap.and_then(rack_slot), Some((1, 0, 2)));
        assert_eq!(tpkt(&cr[..21]), Tpkt::NeedMore);
        assert_eq!(tpkt(&[0x04, 0, 0, 7]), Tpkt::Bad(BadTpkt::Version(4)));
        assert_eq!(tpkt(&[0x03, 0, 0, 5]), Tpkt::Bad(BadTpkt::Length(5)));
        assert!(Tpdu::parse(&[0x05, 0xF0, 0x80]).is_err(), "length indicator past the end");
    }
}
