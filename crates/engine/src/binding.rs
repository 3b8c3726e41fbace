//! Which host owns each master's DNP3 link address, per outstation. An outstation
//! obeys requests under its master's address; requests to it under that address from
//! another IP are another machine speaking in the master's name (an impostor, a replay
//! from the attacker's own address) or a standby master taking over. The owner is the
//! IP that sent the most requests under the address to that outstation, so a probe
//! that happens to come first does not own it. Outstation addresses are not bound:
//! outstations behind different IPs commonly share one (each connection is its own
//! link). Each request from a non-owner is a `binding` event.
use otsentry_core::{FieldAccess, FieldDef, FieldId, FieldType as T, FieldValue, Schema};
use serde::Serialize;
use std::collections::HashMap;
use std::net::IpAddr;

/// (address, outstation) pairs remembered at most; past it, afresh.
const MAX_ADDRESSES: usize = 65_536;
/// Hosts weighed per address (the owner, a standby, an impostor or two).
const HOSTS: usize = 4;

otsentry_core::field_table!(FIELDS:
    PROTOCOL => FieldDef::one("binding.protocol", T::Str),
    ADDRESS => FieldDef::one("binding.address", T::Uint),
    ROLE => FieldDef::one("binding.role", T::Str),
    OWNER => FieldDef::one("binding.owner", T::Str),
);

/// The `binding` event's fields: the request's master address `binding.address`,
/// toward its outstation, is owned by `binding.owner` (the IP that sent the most
/// requests under it there), not by the event's source; `binding.role` is `master`.
pub(crate) static BINDING_SCHEMA: Schema = Schema { event_type: "binding", fields: &FIELDS, groups: &[], keys: &[] };

#[derive(Clone, Debug, Serialize)]
pub(crate) struct BindingEvent {
    pub(crate) protocol: &'static str,
    pub(crate) address: u16,
    pub(crate) role: &'static str,
    pub(crate) owner: String,
}

impl FieldAccess for BindingEvent {
    fn schema(&self) -> &'static Schema {
        &BINDING_SCHEMA
    }
    fn value(&self, id: FieldId, _elem: usize) -> Option<FieldValue<'_>> {
        Some(match id.0 {
            PROTOCOL => FieldValue::Str(self.protocol),
            ADDRESS => FieldValue::U64(u64::from(self.address)),
            ROLE => FieldValue::Str(self.role),
            OWNER => FieldValue::Str(&self.owner),
            _ => return None,
        })
    }
}

/// (master link address, outstation IP) → the IPs that sent requests under it, with
/// how many each sent.
#[derive(Debug)]
pub(crate) struct Bindings {
    /// Off when no rule reads `binding` events.
    pub(crate) enabled: bool,
    src: Option<FieldId>,
    from_master: Option<FieldId>,
    owners: HashMap<(u16, IpAddr), Vec<(IpAddr, u64)>>,
    pub(crate) dropped: u64,
}

impl Default for Bindings {
    fn default() -> Self {
        let dnp3 = &otsentry_proto_dnp3::DNP3_SCHEMA;
        Bindings {
            enabled: true,
            src: dnp3.find("dnp3.src"),
            from_master: dnp3.find("dnp3.from_master"),
            owners: HashMap::new(),
            dropped: 0,
        }
    }
}

impl Bindings {
    /// A protocol event sent by `ip` to `peer`: the binding event when it is a DNP3
    /// request under a master address another host owns toward that outstation.
    pub(crate) fn event(&mut self, event: &dyn FieldAccess, ip: IpAddr, peer: IpAddr) -> Option<BindingEvent> {
        if !self.enabled || !std::ptr::eq(event.schema(), &otsentry_proto_dnp3::DNP3_SCHEMA) {
            return None;
        }
        if !matches!(self.from_master.and_then(|f| event.value(f, 0)), Some(FieldValue::Bool(true))) {
            return None;
        }
        let Some(FieldValue::U64(src)) = self.src.and_then(|f| event.value(f, 0)) else { return None };
        let key = (u16::try_from(src).ok()?, peer);
        if self.owners.len() >= MAX_ADDRESSES && !self.owners.contains_key(&key) {
            self.dropped += self.owners.len() as u64;
            self.owners.clear();
        }
        let hosts = self.owners.entry(key).or_default();
        let owner = hosts.iter().max_by_key(|(_, n)| *n).map(|(h, _)| *h);
        if let Some((_, n)) = hosts.iter_mut().find(|(h, _)| *h == ip) {
            *n = n.saturating_add(1);
        } else if hosts.len() < HOSTS {
            hosts.push((ip, 1));
        } else if let Some(least) = hosts.iter_mut().min_by_key(|(_, n)| *n) {
            *least = (ip, 1);
        }
        let owner = owner.filter(|&o| o != ip)?;
        Some(BindingEvent { protocol: "dnp3", address: key.0, role: "master", owner: owner.to_string() })
    }
}
