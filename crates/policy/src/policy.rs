//! A compiled policy: zones resolved by longest prefix (VLAN-scoped zones only on their
//! VLANs), conduits indexed by zone pair, and the decision for one conversation.
use crate::net::Network;
use crate::protocols::Service;
use otsentry_core::FunctionClass;
use std::collections::HashMap;
use std::net::IpAddr;

/// Index of a zone in [`Policy::zones`].
pub type ZoneId = u16;

/// A zone's Purdue level (0 process .. 5 enterprise), or the DMZ between IT and OT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Purdue(u8),
    Dmz,
}

impl Level {
    pub fn name(self) -> String {
        match self {
            Level::Purdue(n) => n.to_string(),
            Level::Dmz => "dmz".into(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Zone {
    pub name: String,
    /// `None` for the zone of addresses in no other (it has no level).
    pub level: Option<Level>,
    pub networks: Vec<Network>,
    /// The zone holds only traffic on these VLANs (any VLAN when empty).
    pub vlans: Vec<u16>,
}

/// Which side of a conduit may open a conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Initiator {
    From,
    To,
    Either,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conduit {
    pub from: ZoneId,
    pub to: ZoneId,
    /// `None`: any protocol.
    pub services: Option<Vec<Service>>,
    /// `None`: every function class (for the OT protocols; others have none).
    pub classes: Option<Vec<FunctionClass>>,
    pub initiator: Initiator,
    /// Where the conduit is written (for what-if reports).
    pub line: usize,
}

/// What the policy says of one conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Both ends are in one zone: no conduit needed.
    SameZone,
    /// Allowed by this conduit (its index).
    Allowed(usize),
    /// No conduit allows it: default deny.
    Denied,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    pub zones: Vec<Zone>,
    pub unknown: ZoneId,
    pub conduits: Vec<Conduit>,
    by_pair: HashMap<(ZoneId, ZoneId), Vec<usize>>,
    /// Per prefix length present, longest first: the zones by masked address.
    prefixes: Vec<(u8, PrefixTable)>,
}

/// Zones by (IPv6?, masked address) for one prefix length.
type PrefixTable = HashMap<(bool, u128), Vec<ZoneId>>;

impl Policy {
    /// Builds the pair index; `zones` holds the unknown zone at `unknown`.
    pub fn new(zones: Vec<Zone>, unknown: ZoneId, conduits: Vec<Conduit>) -> Policy {
        let mut by_pair: HashMap<(ZoneId, ZoneId), Vec<usize>> = HashMap::new();
        for (i, c) in conduits.iter().enumerate() {
            // Indexed by (initiating zone, answering zone) for each side allowed to start.
            if matches!(c.initiator, Initiator::From | Initiator::Either) {
                by_pair.entry((c.from, c.to)).or_default().push(i);
            }
            if matches!(c.initiator, Initiator::To | Initiator::Either) && c.from != c.to {
                by_pair.entry((c.to, c.from)).or_default().push(i);
            }
        }
        let mut prefixes: Vec<(u8, PrefixTable)> = Vec::new();
        for (i, z) in zones.iter().enumerate() {
            let Ok(id) = ZoneId::try_from(i) else { continue };
            for n in &z.networks {
                let Some(key) = crate::net::prefix_key(n.addr, n.len) else { continue };
                let at = match prefixes.iter().position(|(len, _)| *len == n.len) {
                    Some(at) => at,
                    None => {
                        prefixes.push((n.len, HashMap::new()));
                        prefixes.len() - 1
                    }
                };
                if let Some((_, table)) = prefixes.get_mut(at) {
                    table.entry(key).or_default().push(id);
                }
            }
        }
        prefixes.sort_by_key(|p| std::cmp::Reverse(p.0));
        Policy { zones, unknown, conduits, by_pair, prefixes }
    }

    pub fn zone(&self, id: ZoneId) -> &Zone {
        // Ids come from this policy; the unknown zone stands in for a stray one.
        self.zones.get(usize::from(id)).or_else(|| self.zones.get(usize::from(self.unknown))).unwrap_or_else(|| unreachable_zone())
    }

    /// The zone of `ip` seen on `vlan` (0 for none): the longest prefix of the zones that
    /// take that VLAN; the unknown zone when none does. Called once per flow.
    pub fn zone_of(&self, ip: IpAddr, vlan: u16) -> ZoneId {
        // One hash lookup per prefix length the policy uses, longest first.
        for (len, table) in &self.prefixes {
            let Some(key) = crate::net::prefix_key(ip, *len) else { continue };
            let Some(ids) = table.get(&key) else { continue };
            let takes = |id: &&ZoneId| self.zones.get(usize::from(**id)).is_some_and(|z| z.vlans.is_empty() || z.vlans.contains(&vlan));
            if let Some(&id) = ids.iter().find(takes) {
                return id;
            }
        }
        self.unknown
    }

    /// The decision for a conversation opened by a host in `client` to one in `server`,
    /// speaking `service`, doing a function of `class` (none for a service without
    /// dissector, or before the first request).
    pub fn decide(&self, client: ZoneId, server: ZoneId, service: Service, class: Option<FunctionClass>) -> Decision {
        if client == server {
            return Decision::SameZone;
        }
        let Some(candidates) = self.by_pair.get(&(client, server)) else { return Decision::Denied };
        for &i in candidates {
            let Some(c) = self.conduits.get(i) else { continue };
            let service_ok = c.services.as_ref().is_none_or(|s| s.contains(&service));
            let class_ok = match (&c.classes, class) {
                (Some(allowed), Some(class)) => allowed.contains(&class),
                _ => true,
            };
            if service_ok && class_ok {
                return Decision::Allowed(i);
            }
        }
        Decision::Denied
    }
}

#[cold]
fn unreachable_zone() -> &'static Zone {
    static NONE: std::sync::OnceLock<Zone> = std::sync::OnceLock::new();
    NONE.get_or_init(|| Zone { name: "unknown".into(), level: None, networks: Vec::new(), vlans: Vec::new() })
}

/// Whether OT traffic from `client`'s level into `server`'s skips the levels between:
/// enterprise (4, 5) straight into control and process (0, 1).
pub fn skips_levels(client: Option<Level>, server: Option<Level>) -> bool {
    matches!((client, server), (Some(Level::Purdue(c)), Some(Level::Purdue(s))) if c >= 4 && s <= 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(name: &str, level: u8, nets: &[&str], vlans: &[u16]) -> Zone {
        Zone {
            name: name.into(),
            level: Some(Level::Purdue(level)),
            networks: nets.iter().map(|n| Network::parse(n).unwrap()).collect(),
            vlans: vlans.to_vec(),
        }
    }

    fn plant() -> Policy {
        let zones = vec![
            zone("enterprise", 4, &["10.4.0.0/16"], &[]),
            zone("scada", 2, &["10.2.0.0/16"], &[]),
            zone("cell", 1, &["10.1.0.0/16"], &[]),
            zone("cell-vlan", 1, &["10.1.5.0/24"], &[105]),
            Zone { name: "unknown".into(), level: None, networks: vec![], vlans: vec![] },
        ];
        let conduits = vec![
            Conduit {
                from: 1,
                to: 2,
                services: Some(vec![Service::App(crate::protocols::tests::MODBUS)]),
                classes: Some(vec![FunctionClass::Read]),
                initiator: Initiator::From,
                line: 1,
            },
            Conduit { from: 0, to: 1, services: Some(vec![Service::Named("https")]), classes: None, initiator: Initiator::Either, line: 2 },
        ];
        Policy::new(zones, 4, conduits)
    }

    #[test]
    fn zones_by_longest_prefix_and_vlan() {
        let p = plant();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(p.zone_of(ip("10.1.5.9"), 0), 2, "the VLAN zone needs its VLAN");
        assert_eq!(p.zone_of(ip("10.1.5.9"), 105), 3);
        assert_eq!(p.zone_of(ip("192.168.1.1"), 0), 4);
        assert_eq!(p.zone(4).name, "unknown");
    }

    #[test]
    fn conduits_allow_their_protocol_class_and_initiator_only() {
        let p = plant();
        let modbus = Service::App(crate::protocols::tests::MODBUS);
        assert_eq!(p.decide(1, 2, modbus, Some(FunctionClass::Read)), Decision::Allowed(0));
        assert_eq!(p.decide(1, 2, modbus, Some(FunctionClass::Write)), Decision::Denied);
        assert_eq!(p.decide(2, 1, modbus, Some(FunctionClass::Read)), Decision::Denied, "the cell may not start");
        assert_eq!(p.decide(1, 2, Service::Named("ssh"), None), Decision::Denied);
        assert_eq!(p.decide(2, 2, Service::Named("ssh"), None), Decision::SameZone);
        assert_eq!(p.decide(1, 0, Service::Named("https"), None), Decision::Allowed(1), "either side may start");
        assert_eq!(p.decide(4, 2, modbus, Some(FunctionClass::Read)), Decision::Denied);
        assert!(skips_levels(Some(Level::Purdue(4)), Some(Level::Purdue(1))));
        assert!(!skips_levels(Some(Level::Dmz), Some(Level::Purdue(1))));
    }
}
