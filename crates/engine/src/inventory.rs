//! `asset` records in the pipeline: what the flow stage and the dissectors show of each
//! address (its packets' MACs, the roles its requests give it, the identity its
//! responses state) goes to the asset book ([`crate::assets`]), and each change it makes
//! becomes a record. A flow calls on the book only when it has something to say (its
//! first packet, a MAC it has not shown, a role it has not given, every ten seconds of
//! traffic for the last sighting), so a long poll costs a compare per packet.
//!
//! With several workers, each keeps a book of its own pairs only to filter what it
//! sends on: the cross stage holds the run's book and writes the records, in capture
//! order, as one worker would.
use crate::assets::{AssetItem, At, Sighting};
use crate::events::Out;
use otsentry_baseline::Role;
use otsentry_core::{AppProto, FunctionClass, PduEvent};
use std::net::IpAddr;

/// Packet-time between refreshes of a flow's hosts' last sighting.
const TOUCH_NS: i64 = 10_000_000_000;

/// What a flow has told the book already.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct FlowAssets {
    /// The source MAC (as a word) each direction last reported.
    src_macs: [Option<u64>; 2],
    /// When its hosts' last sighting is next refreshed.
    next_touch: i64,
    /// Roles reported: the server's (1), the client as master (2) and as engineering (4).
    roles: u8,
}

/// `s` at `ts`: recorded, or with several workers filtered and sent to the cross stage
/// (a host's sighting always: it carries the last-seen time).
fn sight(out: &mut Out<'_>, s: Sighting, at: At) {
    let Some(inv) = out.inventory.as_deref_mut() else { return };
    if let Some(d) = out.alerting.deferral() {
        let touch = matches!(s, Sighting::Host { .. } | Sighting::Seen { .. });
        if inv.filter(&s, at.0) || touch {
            d.push(crate::deferral::Item::Asset(Box::new(AssetItem { sighting: s, at, input: out.input.cloned() })));
        }
        return;
    }
    inv.record(&s, at, out.input, out.outputs.as_deref_mut());
}

/// A packet from `src` (with its MAC, as a word) to `dst`, the flow's `side` sending.
pub(crate) fn packet(
    out: &mut Out<'_>,
    marks: &mut FlowAssets,
    at: At,
    side: usize,
    src: (IpAddr, Option<u64>),
    dst: IpAddr,
    created: bool,
) {
    let word = src.1.unwrap_or(0);
    let now = at.0.as_nanos();
    // A side's first packet counts as a new MAC, with or without one (raw IP has none).
    let (mac_new, due) = (marks.src_macs.get(side).is_some_and(|m| *m != Some(word)), now >= marks.next_touch);
    if !(created || mac_new || due) {
        return;
    }
    if let Some(m) = marks.src_macs.get_mut(side) {
        *m = Some(word);
    }
    sight(out, Sighting::Host { ip: src.0, mac: src.1.map(otsentry_wire::mac_bytes) }, at);
    if created || due {
        marks.next_touch = now.saturating_add(TOUCH_NS);
        sight(out, Sighting::Seen { ip: dst }, at);
    }
}

/// A request of `class` from `client` to `server` over `app`: the roles it gives them
/// ([`Role::of_server`], [`Role::of_client`]), each told the book once per flow.
pub(crate) fn request(
    out: &mut Out<'_>,
    marks: &mut FlowAssets,
    (client, server): (IpAddr, IpAddr),
    app: AppProto,
    class: FunctionClass,
    at: At,
) {
    if marks.roles & 1 == 0 {
        marks.roles |= 1;
        sight(out, Sighting::Role { ip: server, role: Role::of_server(app) }, at);
    }
    let bit = |r: Role| if r == Role::Master { 2 } else { 4 };
    if let Some(role) = Role::of_client(class).filter(|r| marks.roles & bit(*r) == 0) {
        marks.roles |= bit(role);
        sight(out, Sighting::Role { ip: client, role }, at);
    }
}

/// A response from `server` that may state its identity.
pub(crate) fn response<E: PduEvent>(out: &mut Out<'_>, server: IpAddr, e: &E, at: At) {
    if !e.identifies() {
        return;
    }
    let mut said = Said(Vec::new());
    e.observe(&mut said);
    for (attribute, value) in said.0 {
        sight(out, Sighting::Identity { ip: server, attribute, value }, at);
    }
}

/// The identity attributes an event states.
struct Said(Vec<(&'static str, Box<str>)>);

impl otsentry_core::Observer for Said {
    fn function(&mut self, _code: u32, _name: &'static str) {}
    fn range(&mut self, _space: otsentry_core::Space, _start: u32, _count: u32, _write: bool) {}
    fn value(&mut self, _space: otsentry_core::Space, _address: u32, _value: f64) {}
    fn identity(&mut self, attribute: &'static str, value: &str) {
        self.0.push((attribute, value.into()));
    }
}
