//! A relaying man-in-the-middle seen on the wire: the same TCP segment twice, first sent
//! to a MAC and then sent on by that MAC. An ARP-poisoning attacker forwards each
//! segment it receives (so that the session survives) while it reads or alters it; a
//! sensor on the segment, or the attacker's own capture, sees both copies. The flow
//! key holds the VLAN, so a router between two mirrored VLANs does not count. Each flow
//! raises one `relay` event, at its first relayed segment; later ones are counted.
use otsentry_core::{FieldAccess, FieldDef, FieldId, FieldType as T, FieldValue, Schema};
use otsentry_wire::{mac_bytes, Macs};
use serde::Serialize;

otsentry_core::field_table!(FIELDS:
    SENDER_MAC => FieldDef::one("relay.sender_mac", T::Str),
    RELAY_MAC => FieldDef::one("relay.relay_mac", T::Str),
    BYTES => FieldDef::one("relay.bytes", T::Uint),
);

/// The `relay` event's fields: `relay.sender_mac` sent the segment first, to
/// `relay.relay_mac`, which sent the same bytes at the same sequence number on.
pub(crate) static RELAY_SCHEMA: Schema = Schema { event_type: "relay", fields: &FIELDS, groups: &[], keys: &[] };

#[derive(Clone, Debug, Serialize)]
pub(crate) struct RelayEvent {
    pub(crate) sender_mac: String,
    pub(crate) relay_mac: String,
    pub(crate) seq: u32,
    pub(crate) bytes: u64,
}

impl FieldAccess for RelayEvent {
    fn schema(&self) -> &'static Schema {
        &RELAY_SCHEMA
    }
    fn value(&self, id: FieldId, _elem: usize) -> Option<FieldValue<'_>> {
        Some(match id.0 {
            SENDER_MAC => FieldValue::Str(&self.sender_mac),
            RELAY_MAC => FieldValue::Str(&self.relay_mac),
            BYTES => FieldValue::U64(self.bytes),
            _ => return None,
        })
    }
}

/// A direction's last data segment (`len` 0 before the first).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Segment {
    seq: u32,
    len: u32,
    macs: Macs,
}

/// Per flow: each direction's last data segment, and how many were relayed. A relay
/// shows first as a session side whose MAC changed (the sender watch sees it), so the
/// segments are tracked only once the flow is armed: ordinary sessions pay a test.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct RelayWatch {
    pub(crate) armed: bool,
    last: [Segment; 2],
    relayed: u32,
}

impl RelayWatch {
    /// A data segment of direction `dir` (0 to the server): whether it is a relayed
    /// copy, and the MACs of the original when it is the flow's first.
    #[inline]
    pub(crate) fn segment(&mut self, to_client: bool, seq: u32, len: usize, macs: Macs) -> Relayed {
        if !self.armed {
            return Relayed::No;
        }
        let len = u32::try_from(len).unwrap_or(u32::MAX);
        let [a, b] = &mut self.last;
        let slot = if to_client { b } else { a };
        // The copy comes from the MAC the original went to; a plain retransmission
        // comes from the sender again.
        let relayed = slot.seq == seq && slot.len == len && slot.macs.dst == macs.src && slot.macs.src != macs.src;
        let original = slot.macs;
        *slot = Segment { seq, len, macs };
        if !relayed || len == 0 {
            return Relayed::No;
        }
        self.relayed = self.relayed.saturating_add(1);
        if self.relayed == 1 {
            Relayed::First(original)
        } else {
            Relayed::Again
        }
    }
}

/// What [`RelayWatch::segment`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Relayed {
    No,
    /// The flow's first relayed segment; the original's MACs.
    First(Macs),
    Again,
}

impl RelayEvent {
    pub(crate) fn new(original: Macs, relay: Macs, seq: u32, len: usize) -> RelayEvent {
        RelayEvent {
            sender_mac: crate::l2::mac(&mac_bytes(original.src)),
            relay_mac: crate::l2::mac(&mac_bytes(relay.src)),
            seq,
            bytes: len as u64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: u64 = 0xA;
    const B: u64 = 0xB;
    const M: u64 = 0xC;

    #[test]
    fn a_copy_sent_on_by_its_receiver_is_relayed_a_retransmission_is_not() {
        let mut w = RelayWatch { armed: true, ..RelayWatch::default() };
        let (original, relay) = (Macs { src: A, dst: M }, Macs { src: M, dst: B });
        assert_eq!(w.segment(false, 100, 10, original), Relayed::No);
        assert_eq!(w.segment(false, 100, 10, relay), Relayed::First(original));
        let e = RelayEvent::new(original, relay, 100, 10);
        assert_eq!((e.sender_mac.as_str(), e.relay_mac.as_str(), e.bytes), ("00:00:00:00:00:0a", "00:00:00:00:00:0c", 10));
        // Later relays are counted, not raised again.
        w.segment(false, 110, 10, original);
        assert_eq!(w.segment(false, 110, 10, relay), Relayed::Again);

        let mut idle = RelayWatch::default();
        idle.segment(false, 100, 10, original);
        assert_eq!(idle.segment(false, 100, 10, relay), Relayed::No, "not armed");

        let mut w = RelayWatch { armed: true, ..RelayWatch::default() };
        w.segment(false, 100, 10, Macs { src: A, dst: B });
        assert_eq!(w.segment(false, 100, 10, Macs { src: A, dst: B }), Relayed::No, "a retransmission from the same MAC");
        w.segment(true, 100, 10, Macs { src: B, dst: A });
        assert_eq!(w.segment(false, 110, 10, Macs { src: B, dst: A }), Relayed::No, "another sequence number");
    }
}
