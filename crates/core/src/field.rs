//! What rules can read from an event: each event type publishes a [`Schema`] (field
//! names, types, which are repeated), rules resolve names to [`FieldId`]s once at load,
//! and read values by id on the packet path.
use std::net::IpAddr;

/// A protocol or event field as a rule sees it, borrowed from the event.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FieldValue<'a> {
    U64(u64),
    I64(i64),
    F64(f64),
    Bool(bool),
    Str(&'a str),
    Bytes(&'a [u8]),
    Ip(IpAddr),
}

/// The type a field's values have, as rules are checked against it at load.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldType {
    /// Unsigned integers (codes, addresses, counts); rules give numbers, ranges and sets.
    Uint,
    Int,
    Float,
    Bool,
    /// Names; rules give strings, sets and `*` patterns.
    Str,
    Bytes,
    Ip,
}

impl FieldType {
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::Uint => "unsigned integer",
            FieldType::Int => "integer",
            FieldType::Float => "number",
            FieldType::Bool => "boolean",
            FieldType::Str => "name",
            FieldType::Bytes => "bytes",
            FieldType::Ip => "address",
        }
    }
}

/// When a field's value is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Known {
    /// From the request (or the message) itself.
    OnArrival,
    /// Only once the answer has come: exceptions, error classes, response values.
    OnResponse,
}

/// One field of a [`Schema`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldDef {
    pub name: &'static str,
    pub ty: FieldType,
    /// The repeated group (an index into [`Schema::groups`]) whose elements carry this
    /// field: a job's items, a fragment's objects, a write's registers.
    /// Conditions on fields of one group must hold for the same element.
    pub group: Option<u8>,
    pub known: Known,
    /// The largest value the protocol can carry (a function code's byte, a register
    /// address's word): a rule asking for more can never match, and is refused.
    pub max: Option<u64>,
}

impl FieldDef {
    pub const fn one(name: &'static str, ty: FieldType) -> FieldDef {
        FieldDef { name, ty, group: None, known: Known::OnArrival, max: None }
    }

    pub const fn each(name: &'static str, ty: FieldType, group: u8) -> FieldDef {
        FieldDef { name, ty, group: Some(group), known: Known::OnArrival, max: None }
    }

    pub const fn answered(self) -> FieldDef {
        FieldDef { known: Known::OnResponse, ..self }
    }

    /// A byte on the wire.
    pub const fn byte(self) -> FieldDef {
        FieldDef { max: Some(0xFF), ..self }
    }

    /// A 16-bit word on the wire.
    pub const fn word(self) -> FieldDef {
        FieldDef { max: Some(0xFFFF), ..self }
    }

    pub const fn at_most(self, max: u64) -> FieldDef {
        FieldDef { max: Some(max), ..self }
    }
}

/// A field's position in its schema, resolved once when a rule is compiled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldId(pub u16);

/// The fields one event type offers.
#[derive(Debug, PartialEq, Eq)]
pub struct Schema {
    /// The EVE `event_type` (and the prefix of every field name).
    pub event_type: &'static str,
    pub fields: &'static [FieldDef],
    /// Names of the repeated groups, for messages.
    pub groups: &'static [&'static str],
    /// The fields rules are indexed by, in order (the protocol's function code; for user
    /// data, which has none, by its function group): an event is keyed by the first of
    /// them it has a value for.
    pub keys: &'static [FieldId],
}

impl Schema {
    pub fn find(&self, name: &str) -> Option<FieldId> {
        self.fields.iter().position(|f| f.name == name).map(|i| FieldId(i as u16))
    }

    pub fn def(&self, id: FieldId) -> Option<&FieldDef> {
        self.fields.get(usize::from(id.0))
    }

    /// What is wrong with the table, if anything: a name used twice or without the
    /// event type's prefix, a group or key that does not exist. For each schema's tests.
    pub fn lint(&self) -> Result<(), String> {
        let mut names: Vec<&str> = self.fields.iter().map(|f| f.name).collect();
        if let Some(n) = names.iter().find(|n| !n.strip_prefix(self.event_type).is_some_and(|r| r.starts_with('.'))) {
            return Err(format!("{n} lacks the prefix {}.", self.event_type));
        }
        if let Some(f) = self.fields.iter().find(|f| f.group.is_some_and(|g| usize::from(g) >= self.groups.len())) {
            return Err(format!("{} names a group that does not exist", f.name));
        }
        if self.keys.iter().any(|k| self.def(*k).is_none_or(|d| d.ty != FieldType::Uint || d.group.is_some())) {
            return Err("a key is not a single-valued number field".into());
        }
        names.sort_unstable();
        match names.windows(2).find(|w| w.first() == w.get(1)) {
            Some(w) => Err(format!("{} is used twice", w.first().copied().unwrap_or_default())),
            None => Ok(()),
        }
    }
}

/// Where an event stands in its exchange, which decides the rules it meets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// A request as it arrives; its transaction follows when the answer comes.
    Request,
    /// A request with its answer (or given up as unanswered, or an answer alone).
    Transaction,
    /// A message that stands alone (a fragment, a user data PDU).
    Message,
}

/// Read access to an event's fields by id. Ids index the event's [`Schema`].
pub trait FieldAccess {
    fn schema(&self) -> &'static Schema;

    /// Where the event stands in its exchange; most events stand alone.
    fn stage(&self) -> Stage {
        Stage::Message
    }

    /// The value of `id` in element `elem` of its group (always 0 for a field outside a
    /// group); `None` when the event has no such value.
    fn value(&self, id: FieldId, elem: usize) -> Option<FieldValue<'_>>;

    /// Elements in repeated group `group`.
    fn elements(&self, _group: u8) -> usize {
        0
    }

    /// The first value of a field by name: for tests and tools, not the packet path.
    fn field(&self, name: &str) -> Option<FieldValue<'_>> {
        let id = self.schema().find(name)?;
        self.value(id, 0)
    }

    /// Which of the schema's keys the event has first, and its value.
    fn key(&self) -> Option<(usize, u64)> {
        self.schema().keys.iter().enumerate().find_map(|(i, &k)| match self.value(k, 0)? {
            FieldValue::U64(v) => Some((i, v)),
            _ => None,
        })
    }
}

/// A schema's field table and its ids in one list, so an id cannot drift from its
/// field's position: `field_table!(FIELDS: FUNCTION => FieldDef::one("x.function",
/// FieldType::Uint), ...)` defines `static FIELDS: [FieldDef; N]` and `const FUNCTION: u16`.
#[macro_export]
macro_rules! field_table {
    (@ids $n:expr;) => {};
    (@ids $n:expr; $id:ident $($rest:ident)*) => {
        const $id: u16 = $n;
        $crate::field_table!(@ids $n + 1; $($rest)*);
    };
    ($table:ident: $($id:ident => $def:expr),* $(,)?) => {
        $crate::field_table!(@ids 0; $($id)*);
        static $table: [$crate::FieldDef; [$(stringify!($id)),*].len()] = [$($def),*];
    };
}
