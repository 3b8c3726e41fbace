//! Which application protocol a flow carries: the configured port first, then content
//! probes on the first bytes of each direction, so a protocol on another port is found,
//! and an OT port carrying something else is reported.
use otsentry_core::{AppProto, Direction, ProbeResult};

/// Deliveries per direction that may fail to match before detection gives up. A
/// midstream pickup can start inside a PDU; the next delivery usually starts a new one.
const MAX_TRIES: u8 = 3;
/// Bytes held while a probe asks for more.
const MAX_HELD: usize = 512;

#[derive(Clone, Debug, Default)]
struct Side {
    tries: u8,
    held: Vec<u8>,
    /// Stream offset of `held[0]`.
    start: u64,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Detector {
    sides: [Side; 2],
    done: bool,
}

/// The outcome of offering one delivery to the detector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Detected {
    /// Keep offering deliveries.
    Pending,
    Found {
        proto: AppProto,
        dir: Option<Direction>,
    },
    /// No probe matched within the allowed deliveries.
    Failed,
}

impl Detector {
    pub(crate) fn is_done(&self) -> bool {
        self.done
    }

    /// Offer one whole datagram: nothing is held across datagrams, so a probe that asks
    /// for more has failed on it.
    pub(crate) fn offer_datagram(&mut self, side: usize, data: &[u8], port: Option<AppProto>) -> Detected {
        let verdict = self.offer(side, 0, data, port);
        if let Some(s) = self.sides.get_mut(side).filter(|s| !s.held.is_empty()) {
            s.held = Vec::new();
            s.tries += 1;
            if s.tries >= MAX_TRIES {
                self.finish();
                return Detected::Failed;
            }
        }
        verdict
    }

    /// Offer the next bytes of direction `side`, at stream offset `offset`; `port` is the
    /// protocol the flow's port is configured for. After a match,
    /// [`Detector::take_held`] gives back what was held.
    pub(crate) fn offer(&mut self, side: usize, offset: u64, data: &[u8], port: Option<AppProto>) -> Detected {
        if self.done || data.is_empty() {
            return Detected::Pending;
        }
        let Some(s) = self.sides.get_mut(side) else { return Detected::Pending };
        let was_holding = !s.held.is_empty();
        if !was_holding {
            s.start = offset;
        }
        let result = if was_holding {
            s.held.extend_from_slice(data);
            probe_all(&s.held, port)
        } else {
            probe_all(data, port)
        };
        match result {
            ProbeResult::Match { proto, dir } => {
                self.done = true; // what is held stays for take_held
                Detected::Found { proto, dir }
            }
            ProbeResult::NeedMore if s.held.len().max(data.len()) <= MAX_HELD => {
                if !was_holding {
                    s.held.extend_from_slice(data);
                }
                Detected::Pending
            }
            _ => {
                s.held = Vec::new();
                s.tries += 1;
                if s.tries >= MAX_TRIES {
                    self.finish();
                    Detected::Failed
                } else {
                    Detected::Pending
                }
            }
        }
    }

    /// Heap bytes held by probes asking for more.
    pub(crate) fn held(&self) -> usize {
        self.sides.iter().map(|s| s.held.capacity()).sum()
    }

    /// The memory budget needs room: held probe bytes go, as if lost in a gap.
    pub(crate) fn shed(&mut self) {
        for side in 0..2 {
            self.gap(side);
        }
    }

    /// Bytes are missing: held bytes can no longer be completed.
    pub(crate) fn gap(&mut self, side: usize) {
        if let Some(s) = self.sides.get_mut(side) {
            s.held = Vec::new();
        }
    }

    fn finish(&mut self) {
        self.done = true;
        self.sides = Default::default();
    }

    /// After a match: per direction, the bytes held while probes asked for more (the
    /// matching delivery included) and their stream offset.
    pub(crate) fn take_held(&mut self) -> [(u64, Vec<u8>); 2] {
        std::mem::take(&mut self.sides).map(|s| (s.start, s.held))
    }
}

/// The port's own protocol first, then the first probe that matches; otherwise "need
/// more" if any probe wants more.
fn probe_all(data: &[u8], port: Option<AppProto>) -> ProbeResult {
    let mut need_more = false;
    // A port configured for a protocol tries its looser probe first, then every
    // registered protocol's, in registration order.
    let registered = crate::registry::descriptors;
    let on_port = registered().filter(|d| port.is_some_and(|p| d.proto.same_family(p))).filter_map(|d| d.probe_on_port);
    for probe in on_port.chain(registered().map(|d| d.probe)) {
        match probe(data) {
            m @ ProbeResult::Match { .. } => return m,
            ProbeResult::NeedMore => need_more = true,
            ProbeResult::NoMatch => {}
        }
    }
    if need_more {
        ProbeResult::NeedMore
    } else {
        ProbeResult::NoMatch
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MODBUS_REQ: [u8; 12] = [0, 1, 0, 0, 0, 6, 1, 3, 0, 0, 0, 2];

    #[test]
    fn a_split_header_is_held_until_it_can_be_judged() {
        let mut d = Detector::default();
        assert_eq!(d.offer(0, 0, &MODBUS_REQ[..5], None), Detected::Pending);
        assert_eq!(
            d.offer(0, 5, &MODBUS_REQ[5..], None),
            Detected::Found { proto: otsentry_proto_modbus::MODBUS, dir: Some(Direction::ToServer) }
        );
        assert!(d.is_done());
        let [(start, held), _] = d.take_held();
        assert_eq!((start, held.as_slice()), (0, &MODBUS_REQ[..]), "the split request is handed on whole");
    }

    #[test]
    fn a_midstream_start_inside_a_pdu_is_forgiven() {
        let mut d = Detector::default();
        assert_eq!(d.offer(1, 0, &[0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF, 0x11, 0x22], None), Detected::Pending);
        assert!(matches!(d.offer(1, 8, &MODBUS_REQ, None), Detected::Found { proto, .. } if proto == otsentry_proto_modbus::MODBUS));
    }

    #[test]
    fn short_datagrams_count_as_failed_tries() {
        let mut d = Detector::default();
        assert_eq!(d.offer_datagram(0, &[0x05, 0x64, 0x05], None), Detected::Pending);
        assert_eq!(d.offer_datagram(0, &[0x05, 0x64, 0x05], None), Detected::Pending);
        assert_eq!(d.offer_datagram(0, &[0x05, 0x64, 0x05], None), Detected::Failed);
    }

    #[test]
    fn a_modbus_port_accepts_any_function_code() {
        let firmware = [0x00, 0x01, 0x00, 0x00, 0x00, 0x03, 0x01, 0x7D, 0x00];
        assert_eq!(Detector::default().offer(0, 0, &firmware, None), Detected::Pending, "elsewhere, not evidence");
        let found = Detector::default().offer(0, 0, &firmware, Some(otsentry_proto_modbus::MODBUS));
        assert!(matches!(found, Detected::Found { proto, .. } if proto == otsentry_proto_modbus::MODBUS));
    }

    #[test]
    fn other_traffic_fails_after_a_few_deliveries() {
        let mut d = Detector::default();
        let http = b"GET /index.html HTTP/1.1\r\n\r\n";
        assert_eq!(d.offer(0, 0, http, None), Detected::Pending);
        assert_eq!(d.offer(0, 0, http, None), Detected::Pending);
        assert_eq!(d.offer(0, 0, http, None), Detected::Failed);
        assert_eq!(d.offer(0, 0, &MODBUS_REQ, None), Detected::Pending, "nothing after the verdict");
    }
}
