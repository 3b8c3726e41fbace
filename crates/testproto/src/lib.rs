//! `toyproto`, a made-up protocol that exists to prove the registry: a crate declares a
//! protocol in one descriptor and a build registers it in one line (`src/main.rs`); no
//! other crate's source knows it. A message is `T` `Y`, a function (1 read, 2 write;
//! with 0x80 set, the answer), a length, then that many bytes: a 16-bit address and, for
//! a write, a 16-bit value, both big-endian. Servers listen on TCP 47000.
#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use otsentry_core::{
    col, AppProto, ClassRow, ColumnKind as K, CounterKind, Descriptor, Direction, Dissector, FieldAccess, FieldDef, FieldId, FieldType,
    FieldValue, FunctionClass, IpProto, Migration, PduEvent, PduSink, ProbeResult, ProtocolCounts, Registered, Schema, SectionLayout,
    Settings, Space, SpaceNames, StreamCx, Table,
};
use serde::Serialize;

/// The protocol, its id clear of the built-in ones.
pub const TOY: AppProto = AppProto::new(900, "toyproto").with_spaces(&SPACES);

/// Header: magic (2), function (1), length (1).
const HEADER: usize = 4;

fn function_name(code: u8) -> &'static str {
    match code & 0x7F {
        1 => "read",
        2 => "write",
        _ => "unknown",
    }
}

fn class(code: u8) -> FunctionClass {
    match code {
        1 => FunctionClass::Read,
        2 => FunctionClass::Write,
        _ => FunctionClass::Control,
    }
}

/// Magic, a known function, and a length that fits what it carries.
pub fn probe(data: &[u8]) -> ProbeResult {
    match data {
        [] | [b'T'] | [b'T', b'Y'] | [b'T', b'Y', _] => {
            if b"TY".starts_with(data.get(..data.len().min(2)).unwrap_or_default()) {
                ProbeResult::NeedMore
            } else {
                ProbeResult::NoMatch
            }
        }
        [b'T', b'Y', f, len, ..] if matches!(f & 0x7F, 1 | 2) && (2..=4).contains(len) => {
            let dir = if f & 0x80 == 0 { Direction::ToServer } else { Direction::ToClient };
            ProbeResult::Match { proto: TOY, dir: Some(dir) }
        }
        _ => ProbeResult::NoMatch,
    }
}

/// On a port a site maps to it: the magic and a length alone (a function it does not
/// know is still its message).
pub fn probe_framing(data: &[u8]) -> ProbeResult {
    match data {
        [b'T', b'Y', f, len, ..] if usize::from(*len) <= 60 => {
            let dir = if f & 0x80 == 0 { Direction::ToServer } else { Direction::ToClient };
            ProbeResult::Match { proto: TOY, dir: Some(dir) }
        }
        [b'T', b'Y', ..] | [b'T'] | [] => ProbeResult::NeedMore,
        _ => ProbeResult::NoMatch,
    }
}

/// One message, borrowed from the stream.
#[derive(Debug, Serialize)]
pub struct Message {
    pub function: u8,
    pub function_name: &'static str,
    pub response: bool,
    pub address: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<u16>,
}

static FIELDS: [FieldDef; 3] = [
    FieldDef::one("toyproto.function", FieldType::Uint),
    FieldDef::one("toyproto.address", FieldType::Uint),
    FieldDef::one("toyproto.value", FieldType::Uint),
];

/// What rules read from a message.
pub static SCHEMA: Schema = Schema { event_type: "toyproto", fields: &FIELDS, groups: &[], keys: &[FieldId(0)] };

impl FieldAccess for Message {
    fn schema(&self) -> &'static Schema {
        &SCHEMA
    }
    fn value(&self, id: FieldId, _elem: usize) -> Option<FieldValue<'_>> {
        match id.0 {
            // As sent: an answer's function has 0x80 set, so a rule on requests ignores it.
            0 => Some(FieldValue::U64(u64::from(self.function))),
            1 => Some(FieldValue::U64(u64::from(self.address))),
            2 => self.value.map(|v| FieldValue::U64(u64::from(v))),
            _ => None,
        }
    }
}

impl PduEvent for Message {
    type Body = Message;
    fn event_type(&self) -> &'static str {
        "toyproto"
    }
    fn body(&self) -> &Message {
        self
    }
    fn function_class(&self) -> Option<FunctionClass> {
        (!self.response).then(|| class(self.function))
    }
    fn observe(&self, o: &mut dyn otsentry_core::Observer) {
        if self.response {
            return;
        }
        o.function(u32::from(self.function), function_name(self.function));
        let space = Space { proto: TOY, parts: [u32::from(self.address / 100), 0, 0] };
        o.range(space, u32::from(self.address), 1, self.function == 2);
        if let Some(v) = self.value {
            o.value(space, u32::from(self.address), f64::from(v));
        }
    }
}

/// A flow's dissector: whole messages from the start of the bytes it is given.
#[derive(Debug, Default)]
pub struct ToyDissector {
    /// Longest message body taken without an anomaly (`toyproto.max-len`).
    max_len: Option<u64>,
    pdus: u64,
    functions: otsentry_core::Tally<u8>,
}

impl Dissector for ToyDissector {
    fn proto(&self) -> AppProto {
        TOY
    }

    fn parse<S: PduSink>(&mut self, cx: &StreamCx, data: &[u8], sink: &mut S) -> usize {
        let mut at = 0;
        while let Some(&[magic0, magic1, function, len]) = data.get(at..at + HEADER) {
            let end = at + HEADER + usize::from(len);
            let Some(body) = data.get(at + HEADER..end) else { break };
            let offset = cx.offset + at as u64;
            if [magic0, magic1] != *b"TY" {
                anomaly(sink, cx, "toyproto.bad_magic", offset, format_args!("a message without its magic; the rest is skipped"));
                return data.len();
            }
            if self.max_len.is_some_and(|max| u64::from(len) > max) {
                anomaly(sink, cx, "toyproto.too_long", offset, format_args!("a {len}-byte body, over the configured maximum"));
            }
            let word = |i: usize| Some(u16::from_be_bytes([*body.get(i)?, *body.get(i + 1)?]));
            let m = Message {
                function,
                function_name: function_name(function),
                response: function & 0x80 != 0,
                address: word(0).unwrap_or(0),
                value: if function & 0x7F == 2 { word(2) } else { None },
            };
            self.pdus += 1;
            self.functions.add(function & 0x7F);
            sink.pdu(cx, &m);
            at = end;
        }
        at
    }

    fn gap<S: PduSink>(&mut self, _cx: &StreamCx, _len: u64, _sink: &mut S) {}

    fn publish(&mut self, counts: &mut ProtocolCounts) {
        let section = counts.section(&SECTION);
        section.add("pdus", std::mem::take(&mut self.pdus));
        section.drain_named("functions", &mut self.functions, function_name);
    }

    fn finish<S: PduSink>(&mut self, _ts: otsentry_core::Timestamp, sink: &mut S) {
        self.publish(sink.counts());
    }
}

/// An anomaly, counted in the section.
fn anomaly<S: PduSink>(sink: &mut S, cx: &StreamCx, event: &'static str, offset: u64, reason: std::fmt::Arguments<'_>) {
    sink.counts().section(&SECTION).add("anomalies", 1);
    sink.anomaly(cx, event, offset, reason);
}

impl Registered for ToyDissector {
    const DESCRIPTOR: &'static Descriptor = &DESCRIPTOR;
    fn start(settings: &Settings) -> Self {
        ToyDissector { max_len: settings.get(TOY.name(), "max-len"), ..ToyDissector::default() }
    }
}

/// The summary's `protocols.toyproto`.
pub static SECTION: SectionLayout = SectionLayout {
    name: "toyproto",
    counters: &[
        ("pdus", CounterKind::Count),
        ("functions", CounterKind::Codes),
        ("function_names", CounterKind::Names("functions")),
        ("anomalies", CounterKind::Count),
    ],
    headline: "pdus",
};

/// Data spaces: banks of 100 addresses (`toy/bank0`).
pub static SPACES: SpaceNames = SpaceNames {
    prefix: "toy",
    name: |[bank, _, _]| format!("bank{bank}"),
    parse: |rest| rest.strip_prefix("bank")?.parse().ok().map(|b| [b, 0, 0]),
    example: "toy/bankN",
};

fn class_table() -> Vec<ClassRow> {
    [1u8, 2].iter().map(|&f| ClassRow { code: f.to_string(), name: function_name(f), class: class(f) }).collect()
}

/// Its table arrives in a migration of its own: the store's existing ones are applied
/// already and never rewritten.
pub const MIGRATION: Migration = Migration { version: 900, name: "toyproto" };

static TABLES: [Table; 1] = [Table {
    name: "toyproto",
    event_type: "toyproto",
    migration: MIGRATION.version,
    columns: &[
        col("function", &["toyproto", "function"], K::U8),
        col("function_name", &["toyproto", "function_name"], K::Name),
        col("response", &["toyproto", "response"], K::Bool),
        col("address", &["toyproto", "address"], K::U16),
        col("value", &["toyproto", "value"], K::U16),
    ],
}];

const RULES: &str = "\
- id: toyproto.write
  sid: 4990001
  name: \"toyproto: a write\"
  description: The test protocol's one rule, so the registry's test sees a protocol's pack file alert.
  severity: high
  category: Impair Process Control
  attack: [T0836]
  match:
    toyproto.function: 2
";

/// Everything otsentry needs to know of `toyproto`.
pub static DESCRIPTOR: Descriptor = Descriptor {
    proto: TOY,
    also: &[],
    ports: &[(IpProto::TCP, 47000)],
    probe,
    probe_on_port: Some(probe_framing),
    schemas: &[&SCHEMA],
    classes: class_table,
    max_pdu: 64,
    summary: &[&SECTION],
    tables: &TABLES,
    migrations: &[MIGRATION],
    rules: &[("toyproto.yaml", RULES)],
    suricata_events: &[],
    settings: &[otsentry_core::SettingDef { key: "max-len", min: 0, max: 255, help: "longest message body without an anomaly" }],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_probe_knows_its_messages_and_nothing_else() {
        assert_eq!(probe(b"TY\x01\x02\x00\x05"), ProbeResult::Match { proto: TOY, dir: Some(Direction::ToServer) });
        assert_eq!(probe(b"TY\x82\x04"), ProbeResult::Match { proto: TOY, dir: Some(Direction::ToClient) });
        assert_eq!(probe(b"TY"), ProbeResult::NeedMore);
        assert_eq!(probe(b"GET /"), ProbeResult::NoMatch);
        assert_eq!(probe(b"TY\x07\x02"), ProbeResult::NoMatch);
    }
}
