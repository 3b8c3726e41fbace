//! What names a protocol: its id, name and family, and what the baseline needs to know
//! of it (masters, data space names). Each protocol crate defines its own; core names
//! none.
use serde::Serialize;

/// An application protocol a registered crate dissects: an id unique among the
/// registered protocols (it orders them), the name EVE's `app_proto` and configuration
/// use, its family (protocols one dissector decodes, sharing a port and framing), and
/// what the baseline needs to know of it. Each protocol crate defines its own; core
/// names none. Ids are unique, so equality, hashing and order follow the id alone.
#[derive(Clone, Copy, Debug)]
pub struct AppProto {
    id: u16,
    family: u16,
    masters: bool,
    name: &'static str,
    spaces: Option<&'static SpaceNames>,
}

impl AppProto {
    pub const fn new(id: u16, name: &'static str) -> AppProto {
        AppProto { id, family: id, masters: false, name, spaces: None }
    }

    /// This protocol, decoded by `other`'s dissector (a second protocol on the same port and framing).
    pub const fn in_family_of(self, other: AppProto) -> AppProto {
        AppProto { family: other.family, ..self }
    }

    /// Its clients are SCADA masters and its servers outstations: a client that
    /// writes or operates through it joins the inferred `$MASTERS`, not `$HMI`.
    pub const fn with_masters(self) -> AppProto {
        AppProto { masters: true, ..self }
    }

    /// The data spaces its requests address, named as `spaces` says.
    pub const fn with_spaces(self, spaces: &'static SpaceNames) -> AppProto {
        AppProto { spaces: Some(spaces), ..self }
    }

    pub fn id(self) -> u16 {
        self.id
    }

    /// The name in EVE's `app_proto` and in configuration.
    pub fn name(self) -> &'static str {
        self.name
    }

    pub fn same_family(self, other: AppProto) -> bool {
        self.family == other.family
    }

    pub fn masters(self) -> bool {
        self.masters
    }

    pub fn spaces(self) -> Option<&'static SpaceNames> {
        self.spaces
    }
}

impl PartialEq for AppProto {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for AppProto {}

impl std::hash::Hash for AppProto {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.id.hash(state);
    }
}

impl PartialOrd for AppProto {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for AppProto {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.id.cmp(&other.id)
    }
}

impl Serialize for AppProto {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name)
    }
}

/// How a protocol names its data spaces: a prefix (the protocol's short name), then the
/// rest from the space's numbers, read back by `parse`.
#[derive(Debug)]
pub struct SpaceNames {
    pub prefix: &'static str,
    pub name: fn([u32; 3]) -> String,
    pub parse: fn(&str) -> Option<[u32; 3]>,
    /// One or two names for error messages (`PREFIX/unitN/holding_registers`).
    pub example: &'static str,
}
