//! The learned baseline on the engine: learning (`otsentry learn`) or checking
//! (`--baseline`) from the hosts of each flow, each request a dissector reports (its
//! function, ranges and values) and each response (a device's identity). A departure
//! goes to the rules as a `baseline` event (`rules/baseline.yaml`), which says what
//! was expected and what was seen.
use crate::baselining::Baselining;
use crate::events::{EventCtx, Out};
use otsentry_baseline::Finding;
use otsentry_core::{
    AppProto, Direction, EventHeader, FieldAccess, FieldDef, FieldId, FieldType as T, FieldValue, FunctionClass, PduEvent, Schema,
    Timestamp,
};
use serde::ser::{Serialize, SerializeStruct, Serializer};
use std::net::IpAddr;

otsentry_core::field_table!(FIELDS:
    KIND => FieldDef::one("baseline.kind", T::Str),
    PROTOCOL => FieldDef::one("baseline.protocol", T::Str),
    FUNCTION => FieldDef::one("baseline.function", T::Str),
    FUNCTION_CODE => FieldDef::one("baseline.function_code", T::Uint),
    SPACE => FieldDef::one("baseline.space", T::Str),
    ADDRESS => FieldDef::one("baseline.address", T::Uint),
    WRITE => FieldDef::one("baseline.write", T::Bool),
    VALUE => FieldDef::one("baseline.value", T::Float),
    EXPECTED => FieldDef::one("baseline.expected", T::Str),
    SEEN => FieldDef::one("baseline.seen", T::Str),
);

/// A departure from the learned baseline. `src` is the pair's client (or the asset).
pub(crate) static BASELINE_SCHEMA: Schema = Schema { event_type: "baseline", fields: &FIELDS, groups: &[], keys: &[] };

/// A finding as rules read it and as the alert's `baseline` object shows it.
pub(crate) struct Event<'f> {
    f: &'f Finding,
    space: Option<String>,
}

impl<'f> Event<'f> {
    pub(crate) fn of(f: &'f Finding) -> Event<'f> {
        Event { f, space: f.space.map(otsentry_baseline::space_name) }
    }
}

/// What makes two findings the same departure (the detector raises each once):
/// an asset's own findings (a new asset, a changed identity) span the pairs it talks
/// in, so with several workers the cross stage raises them once.
/// The key is the detector's own (kind, asset, protocol, function, address: an
/// identity's attribute).
pub(crate) fn asset_subject(f: &Finding) -> Option<AssetSubject> {
    f.server.is_none().then(|| (f.kind.as_str(), f.client, f.protocol.map(|p| p.name()), f.function.map(|x| x.0), f.address))
}

pub(crate) type AssetSubject = (&'static str, IpAddr, Option<&'static str>, Option<u32>, Option<u32>);

impl FieldAccess for Event<'_> {
    fn schema(&self) -> &'static Schema {
        &BASELINE_SCHEMA
    }
    fn value(&self, id: FieldId, _elem: usize) -> Option<FieldValue<'_>> {
        let f = self.f;
        Some(match id.0 {
            KIND => FieldValue::Str(f.kind.as_str()),
            PROTOCOL => FieldValue::Str(f.protocol?.name()),
            FUNCTION => FieldValue::Str(f.function?.1),
            FUNCTION_CODE => FieldValue::U64(u64::from(f.function?.0)),
            SPACE => FieldValue::Str(self.space.as_deref()?),
            ADDRESS => FieldValue::U64(u64::from(f.address?)),
            WRITE => FieldValue::Bool(f.write),
            VALUE => FieldValue::F64(f.value?),
            EXPECTED => FieldValue::Str(&f.expected),
            SEEN => FieldValue::Str(&f.seen),
            _ => return None,
        })
    }
}

impl Serialize for Event<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let f = self.f;
        let mut o = otsentry_core::open_object(s)?;
        o.serialize_field("kind", f.kind.as_str())?;
        if let Some(p) = f.protocol {
            o.serialize_field("protocol", p.name())?;
        }
        if let Some((code, name)) = f.function {
            o.serialize_field("function", name)?;
            o.serialize_field("function_code", &code)?;
        }
        if let Some(space) = &self.space {
            o.serialize_field("space", space)?;
        }
        if let Some(a) = f.address.filter(|_| f.space.is_some()) {
            o.serialize_field("address", &a)?;
        }
        if f.space.is_some() {
            o.serialize_field("write", &f.write)?;
        }
        if let Some(v) = f.value {
            o.serialize_field("value", &v)?;
        }
        if let Some((min, max, samples)) = f.learned {
            o.serialize_field("learned_min", &min)?;
            o.serialize_field("learned_max", &max)?;
            o.serialize_field("learned_samples", &samples)?;
        }
        o.serialize_field("expected", &f.expected)?;
        o.serialize_field("seen", &f.seen)?;
        o.end()
    }
}

/// A protocol event of the flow at `ctx`: a request (it has a function class) is
/// learned or checked with what it touches; anything else may carry the server's
/// identity.
/// `slot` is the flow's conversation in the detector's tables, found on its first request.
pub(crate) fn event<E: PduEvent>(
    out: &mut Out<'_>,
    ctx: &EventCtx<'_>,
    slot: &mut Option<u32>,
    (ts, app): (Timestamp, AppProto),
    e: &E,
    class: Option<FunctionClass>,
) {
    let pair = || (ctx.client().ip(), ctx.server().ip(), app);
    if let Some(us) = e.response_time_us() {
        // An answer's time, for a report's conversations (a learner's, not a detector's).
        if let Some(l) = out.report.as_deref_mut() {
            l.response_time(&pair(), us);
        }
        if let Some(Baselining::Learn(l)) = out.baseline.as_deref_mut() {
            l.response_time(&pair(), us);
        }
    }
    if class.is_none() && !e.identifies() {
        return;
    }
    if let Some(l) = out.report.as_deref_mut() {
        match class {
            Some(c) => e.observe(&mut l.request(pair(), ts, Some(c))),
            None => e.observe(&mut l.response(ctx.server().ip())),
        }
    }
    let Some(b) = out.baseline.as_deref_mut() else { return };
    match (b, class) {
        (Baselining::Learn(l), Some(c)) => e.observe(&mut l.request(pair(), ts, Some(c))),
        (Baselining::Learn(l), None) => e.observe(&mut l.response(ctx.server().ip())),
        (Baselining::Detect(d), Some(_)) => {
            let slot = *slot.get_or_insert_with(|| d.slot(pair()));
            e.observe(&mut d.request(slot, ts));
        }
        (Baselining::Detect(d), None) => e.observe(&mut d.response(ctx.server().ip())),
    }
    raise(out, &|_| ctx.subject(Direction::ToServer, ts), &|_| EventHeader { timestamp: ts, ..ctx.header(Direction::ToServer) });
}

/// A packet of a flow from `src` (with its MAC, as a word) to `dst`: hosts learned on
/// every packet, checked on a flow's first.
pub(crate) fn hosts(out: &mut Out<'_>, ctx: &EventCtx<'_>, src: (IpAddr, Option<u64>), dst: IpAddr, created: bool) {
    if let Some(l) = out.report.as_deref_mut() {
        l.host(src.0, src.1.map(otsentry_wire::mac_bytes), ctx.ts);
        l.host(dst, None, ctx.ts);
    }
    match out.baseline.as_deref_mut() {
        Some(Baselining::Learn(l)) => {
            l.host(src.0, src.1.map(otsentry_wire::mac_bytes), ctx.ts);
            l.host(dst, None, ctx.ts);
        }
        Some(Baselining::Detect(d)) if created => {
            d.host(src.0);
            d.host(dst);
            raise(out, &|_| ctx.subject(Direction::ToServer, ctx.ts), &|_| ctx.header(Direction::ToServer));
        }
        _ => {}
    }
}

/// Time passes: polls that stopped are raised between the pair's addresses.
pub(crate) fn tick(out: &mut Out<'_>, now: Timestamp) {
    let Some(Baselining::Detect(d)) = out.baseline.as_deref_mut() else { return };
    d.tick(now);
    let subject = |f: &Finding| otsentry_rules::Subject {
        ts: now,
        src: f.client,
        dst: f.server.unwrap_or(f.client),
        src_port: None,
        dst_port: None,
        vlan: &[],
        to_server: true,
        flow_id: 0,
    };
    raise(out, &subject, &|f| EventHeader { timestamp: now, src_ip: Some(f.client), dest_ip: f.server, ..Default::default() });
}

/// The findings the last step raised, through the rules, with the subject and header
/// each gets (the packet's or flow's, or its own pair's). Checked inline: most steps
/// raise nothing.
#[inline]
fn raise<'s>(out: &mut Out<'_>, subject: &dyn Fn(&Finding) -> otsentry_rules::Subject<'s>, header: &dyn Fn(&Finding) -> EventHeader) {
    if matches!(out.baseline.as_deref(), Some(Baselining::Detect(d)) if d.has_findings()) {
        raise_found(out, subject, header);
    }
}

#[inline(never)]
fn raise_found<'s>(out: &mut Out<'_>, subject: &dyn Fn(&Finding) -> otsentry_rules::Subject<'s>, header: &dyn Fn(&Finding) -> EventHeader) {
    let Some(Baselining::Detect(d)) = out.baseline.as_deref_mut() else { return };
    let found: Vec<Finding> = d.drain().collect();
    for f in found {
        if let (Some(d), Some(_)) = (out.alerting.deferral(), asset_subject(&f)) {
            let place = crate::deferral::Place { subject: crate::deferral::OwnedSubject::of(&subject(&f)), header: header(&f) };
            d.push(crate::deferral::Item::AssetFinding(Box::new((f, place))));
            continue;
        }
        let event = Event::of(&f);
        out.detect(&|| subject(&f), &event, Some(("baseline", &event)), &mut || header(&f));
    }
}
