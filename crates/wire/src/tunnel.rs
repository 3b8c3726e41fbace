//! Peeling GRE (with ERSPAN I/II/III) and VXLAN, the encapsulations of remote SPAN and
//! cloud traffic mirroring, so the mirrored traffic itself is analysed.
use crate::TunnelKind;

/// What a tunnel carries.
pub(crate) enum Inner<'a> {
    Ethernet(&'a [u8]),
    Ip(&'a [u8]),
}

pub(crate) struct Peeled<'a> {
    pub(crate) kind: TunnelKind,
    pub(crate) inner: Inner<'a>,
    /// The mirrored frame's VLAN as ERSPAN reports it (0 when none).
    pub(crate) vlan: u16,
}

const GRE_CHECKSUM: u16 = 0x8000;
const GRE_ROUTING: u16 = 0x4000;
const GRE_KEY: u16 = 0x2000;
const GRE_SEQUENCE: u16 = 0x1000;

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

/// `Ok(None)`: GRE we do not peel (PPTP's enhanced GRE, other payload types).
pub(crate) fn gre(payload: &[u8]) -> Result<Option<Peeled<'_>>, &'static str> {
    let flags = be16(payload, 0).ok_or("GRE header shorter than 4 bytes")?;
    let proto = be16(payload, 2).ok_or("GRE header shorter than 4 bytes")?;
    if flags & 0x7 != 0 {
        return Ok(None);
    }
    if flags & GRE_ROUTING != 0 {
        return Err("GRE source routing is deprecated (RFC 2784)");
    }
    let optional = [GRE_CHECKSUM, GRE_KEY, GRE_SEQUENCE].iter().filter(|f| flags & **f != 0).count();
    let body = payload.get(4 + 4 * optional..).ok_or("GRE optional fields truncated")?;
    let peeled = |kind, inner| Ok(Some(Peeled { kind, inner, vlan: 0 }));
    match proto {
        0x6558 => peeled(TunnelKind::Gre, Inner::Ethernet(body)),
        0x0800 | 0x86dd => peeled(TunnelKind::Gre, Inner::Ip(body)),
        // ERSPAN type I has no header and no sequence number; type II has both.
        0x88be if flags & GRE_SEQUENCE == 0 => peeled(TunnelKind::ErspanI, Inner::Ethernet(body)),
        0x88be => {
            let hdr = body.get(..8).ok_or("ERSPAN II header truncated")?;
            let word = be16(hdr, 0).unwrap_or(0);
            if word >> 12 != 1 {
                return Err("ERSPAN II header with a version other than 1");
            }
            let frame = body.get(8..).unwrap_or_default();
            Ok(Some(Peeled { kind: TunnelKind::ErspanII, inner: Inner::Ethernet(frame), vlan: word & 0x0fff }))
        }
        0x22eb => {
            let hdr = body.get(..12).ok_or("ERSPAN III header truncated")?;
            let word = be16(hdr, 0).unwrap_or(0);
            if word >> 12 != 2 {
                return Err("ERSPAN III header with a version other than 2");
            }
            let (b10, b11) = (hdr.get(10).copied().unwrap_or(0), hdr.get(11).copied().unwrap_or(0));
            // The O flag announces an 8-byte platform-specific subheader.
            let start = if b11 & 0x01 != 0 { 20 } else { 12 };
            let frame = body.get(start..).ok_or("ERSPAN III platform subheader truncated")?;
            let inner = match (b10 >> 2) & 0x1f {
                0 => Inner::Ethernet(frame),
                2 => Inner::Ip(frame),
                _ => return Err("ERSPAN III frame type is neither Ethernet nor IP"),
            };
            Ok(Some(Peeled { kind: TunnelKind::ErspanIII, inner, vlan: word & 0x0fff }))
        }
        _ => Ok(None),
    }
}

pub(crate) fn vxlan(payload: &[u8]) -> Result<Peeled<'_>, &'static str> {
    let hdr = payload.get(..8).ok_or("VXLAN header truncated")?;
    if hdr.first().copied().unwrap_or(0) & 0x08 == 0 {
        return Err("VXLAN header without the valid-VNI flag");
    }
    Ok(Peeled { kind: TunnelKind::Vxlan, inner: Inner::Ethernet(payload.get(8..).unwrap_or_default()), vlan: 0 })
}
