//! A relaying man-in-the-middle seen on the wire: the same TCP segment twice, first sent
//! to a MAC and then sent on by that MAC. An ARP-poisoning attacker forwards each
//! segment it receives (so that the session survives) while it reads or alters it; a
//! sensor on the segment, or the attacker's own capture, sees both copies. The flow
//! key holds the VLAN, so a router between two mirrored VLANs does not count. Each flow
//! raises one `relay` event, at its first relayed segment; later ones are counted.
use otsentry_core::{FieldAccess, FieldDef, FieldId, FieldType as T, FieldValue, Schema};
use otsentry_wire::Macs;
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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Segment {
    seq: u32,
    len: u32,
    macs: Macs,
}

/// Per flow: each direction's last data segment, and how many were relayed.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct RelayWatch {
    last: [Option<Segment>; 2],
    relayed: u32,
}

impl RelayWatch {
    /// A data segment of direction `dir` (0 to the server): the event when it is the
    /// flow's first relayed one.
    pub(crate) fn segment(&mut self, dir: usize, seq: u32, len: usize, macs: Macs, summary_count: &mut u64) -> Option<RelayEvent> {
        let len = u32::try_from(len).unwrap_or(u32::MAX);
        let now = Segment { seq, len, macs };
        let slot = self.last.get_mut(dir)?;
        let prev = slot.replace(now);
        let p = prev?;
        // The copy comes from the MAC the original went to; a plain retransmission
        // comes from the sender again.
        let relayed = p.seq == seq && p.len == len && p.macs.dst == macs.src && p.macs.src != macs.src;
        if !relayed {
            return None;
        }
        self.relayed = self.relayed.saturating_add(1);
        *summary_count += 1;
        (self.relayed == 1).then(|| RelayEvent {
            sender_mac: crate::l2::mac(&p.macs.src),
            relay_mac: crate::l2::mac(&macs.src),
            seq,
            bytes: u64::from(len),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: [u8; 6] = [0, 0, 0, 0, 0, 0xA];
    const B: [u8; 6] = [0, 0, 0, 0, 0, 0xB];
    const M: [u8; 6] = [0, 0, 0, 0, 0, 0xC];

    #[test]
    fn a_copy_sent_on_by_its_receiver_is_relayed_a_retransmission_is_not() {
        let mut w = RelayWatch::default();
        let mut n = 0;
        assert!(w.segment(0, 100, 10, Macs { src: A, dst: M }, &mut n).is_none());
        let e = w.segment(0, 100, 10, Macs { src: M, dst: B }, &mut n).expect("relayed");
        assert_eq!((e.sender_mac.as_str(), e.relay_mac.as_str(), e.bytes), ("00:00:00:00:00:0a", "00:00:00:00:00:0c", 10));
        // Later relays are counted, not raised again.
        w.segment(0, 110, 10, Macs { src: A, dst: M }, &mut n);
        assert!(w.segment(0, 110, 10, Macs { src: M, dst: B }, &mut n).is_none());
        assert_eq!(n, 2);

        let mut w = RelayWatch::default();
        let mut n = 0;
        w.segment(0, 100, 10, Macs { src: A, dst: B }, &mut n);
        assert!(w.segment(0, 100, 10, Macs { src: A, dst: B }, &mut n).is_none(), "a retransmission from the same MAC");
        w.segment(1, 100, 10, Macs { src: B, dst: A }, &mut n);
        assert!(w.segment(0, 110, 10, Macs { src: B, dst: A }, &mut n).is_none(), "another sequence number");
        assert_eq!(n, 0);
    }
}
