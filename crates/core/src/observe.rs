//! What a protocol event tells a learned baseline: the function a request used, the
//! data it read or wrote, the values it wrote, and who a device says it is. Each
//! dissector's events describe themselves through [`Observer`]; the baseline crate
//! learns from these calls and checks against them, knowing no protocol.
use crate::proto::AppProto;

/// A data space a request addresses (a table of one unit, a memory area or
/// data block, an object group of one outstation): its protocol and up to three
/// numbers whose meaning, order and names the protocol's crate gives ([`SpaceNames`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Space {
    pub proto: AppProto,
    pub parts: [u32; 3],
}

impl Space {
    /// The name a baseline file writes (`PREFIX/unit1/holding_registers`).
    pub fn name(&self) -> String {
        match self.proto.spaces() {
            Some(n) => format!("{}/{}", n.prefix, (n.name)(self.parts)),
            None => format!("{}/{}.{}.{}", self.proto.name(), self.parts[0], self.parts[1], self.parts[2]),
        }
    }

    /// The space `text` names among `protocols`' spaces, or why it names none.
    pub fn parse(text: &str, protocols: &[AppProto]) -> Result<Space, String> {
        let bad = || {
            let examples: Vec<&str> = protocols.iter().filter_map(|p| p.spaces()).map(|n| n.example).collect();
            format!("{text:?} is not a data space ({})", examples.join(", "))
        };
        let (prefix, rest) = text.split_once('/').ok_or_else(bad)?;
        let proto = protocols.iter().find(|p| p.spaces().is_some_and(|n| n.prefix == prefix)).ok_or_else(bad)?;
        let names = proto.spaces().ok_or_else(bad)?;
        (names.parse)(rest).map(|parts| Space { proto: *proto, parts }).ok_or_else(bad)
    }
}

/// Receives what an event tells (see the module's notes). Addresses count in the
/// space's own unit: registers, coils, bytes, point indexes.
pub trait Observer {
    /// A request of function `code`, named `name`. The code is the protocol's own,
    /// with a sub-function folded in where the function alone says little (diagnostics
    /// sub-functions, user data groups): see each dissector's `observe`.
    fn function(&mut self, code: u32, name: &'static str);
    /// The request reads (or, with `write`, writes) `count` units of `space` from `start`.
    fn range(&mut self, space: Space, start: u32, count: u32, write: bool);
    /// It writes `value` at `address` of `space`.
    fn value(&mut self, space: Space, address: u32, value: f64);
    /// The server says what it is: `attribute` (vendor, product, model, firmware,
    /// hardware, serial, name) is `value`.
    fn identity(&mut self, attribute: &'static str, value: &str);
}

/// Identity attributes, in the order a baseline file lists them.
pub const IDENTITY_ATTRIBUTES: [&str; 7] = ["vendor", "product", "model", "firmware", "hardware", "serial", "name"];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::SpaceNames;

    static TOY_SPACES: SpaceNames = SpaceNames {
        prefix: "toy",
        name: |p| format!("bank{}", p[0]),
        parse: |t| t.strip_prefix("bank")?.parse().ok().map(|b| [b, 0, 0]),
        example: "toy/bankN",
    };
    const TOY: AppProto = AppProto::new(900, "toy").with_spaces(&TOY_SPACES);

    #[test]
    fn a_space_is_named_by_its_protocol_and_read_back() {
        let s = Space { proto: TOY, parts: [7, 0, 0] };
        assert_eq!(s.name(), "toy/bank7");
        assert_eq!(Space::parse("toy/bank7", &[TOY]), Ok(s));
        for bad in ["toy/bankx", "toy", "other/bank1", ""] {
            let e = Space::parse(bad, &[TOY]).unwrap_err();
            assert!(e.contains("toy/bankN"), "{e}");
        }
        let bare = Space { proto: AppProto::new(901, "bare"), parts: [1, 2, 3] };
        assert_eq!(bare.name(), "bare/1.2.3");
    }
}
