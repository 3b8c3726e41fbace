//! Which host owns each DNP3 link address. A master and each outstation keep their
//! link address; requests or responses from another IP under an address already bound
//! to a host are another machine speaking in that device's name (an impostor master or
//! outstation, a replay from the attacker's own address) or a standby taking over.
//! Each such fragment becomes a `binding` event.
use otsentry_core::{FieldAccess, FieldDef, FieldId, FieldType as T, FieldValue, Schema};
use serde::Serialize;
use std::collections::HashMap;
use std::net::IpAddr;

/// Addresses remembered at most (DNP3 has 65,520 usable ones); past it, afresh.
const MAX_ADDRESSES: usize = 65_536;

otsentry_core::field_table!(FIELDS:
    PROTOCOL => FieldDef::one("binding.protocol", T::Str),
    ADDRESS => FieldDef::one("binding.address", T::Uint),
    ROLE => FieldDef::one("binding.role", T::Str),
    OWNER => FieldDef::one("binding.owner", T::Str),
);

/// The `binding` event's fields: `binding.address` (a DNP3 link address) is bound to
/// `binding.owner` (the IP that used it first) and was used by the event's source;
/// `binding.role` is `master` or `outstation`, as the fragment's DIR bit says.
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

/// DNP3 link address → the IP that used it first.
#[derive(Debug)]
pub(crate) struct Bindings {
    /// Off when no rule reads `binding` events.
    pub(crate) enabled: bool,
    src: Option<FieldId>,
    from_master: Option<FieldId>,
    owners: HashMap<u16, IpAddr>,
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
    /// A protocol event sent by `ip`: the binding event when it uses a DNP3 address
    /// bound to another host.
    pub(crate) fn event(&mut self, event: &dyn FieldAccess, ip: IpAddr) -> Option<BindingEvent> {
        if !self.enabled || !std::ptr::eq(event.schema(), &otsentry_proto_dnp3::DNP3_SCHEMA) {
            return None;
        }
        let Some(FieldValue::U64(src)) = self.src.and_then(|f| event.value(f, 0)) else { return None };
        let address = u16::try_from(src).ok()?;
        if self.owners.len() >= MAX_ADDRESSES && !self.owners.contains_key(&address) {
            self.dropped += self.owners.len() as u64;
            self.owners.clear();
        }
        let owner = *self.owners.entry(address).or_insert(ip);
        if owner == ip {
            return None;
        }
        let master = matches!(self.from_master.and_then(|f| event.value(f, 0)), Some(FieldValue::Bool(true)));
        Some(BindingEvent { protocol: "dnp3", address, role: if master { "master" } else { "outstation" }, owner: owner.to_string() })
    }
}
