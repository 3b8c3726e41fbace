//! The record types EVE carries and a set of them (`--eve-types`, `--clickhouse-types`).

/// The record types EVE carries, for `--eve-types`; a batch names types by index here.
pub const EVE_TYPES: [&str; 10] = ["alert", "anomaly", "flow", "modbus", "dnp3", "s7comm", "s7comm_plus", "cotp", "segmentation", "stats"];

/// Position of `event_type` in [`EVE_TYPES`].
#[inline]
pub fn type_index(event_type: &str) -> Option<u8> {
    let i = match event_type {
        "alert" => 0,
        "anomaly" => 1,
        "flow" => 2,
        "modbus" => 3,
        "dnp3" => 4,
        "s7comm" => 5,
        "s7comm_plus" => 6,
        "cotp" => 7,
        "segmentation" => 8,
        "stats" => 9,
        _ => return None,
    };
    Some(i)
}

/// A set of [`EVE_TYPES`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TypeSet(u16);

impl TypeSet {
    pub const ALL: TypeSet = TypeSet((1 << EVE_TYPES.len()) - 1);

    /// The named types; names that are not EVE types are left out (the CLI and the
    /// configuration check them first).
    pub fn of(names: &[&str]) -> TypeSet {
        TypeSet(names.iter().filter_map(|n| type_index(n)).fold(0, |set, i| set | 1 << i))
    }

    pub const NONE: TypeSet = TypeSet(0);

    #[inline]
    pub fn contains(self, event_type: &str) -> bool {
        type_index(event_type).is_some_and(|i| self.holds(i))
    }

    /// Whether the type of index `i` (in [`EVE_TYPES`]) is in the set.
    #[inline]
    pub fn holds(self, i: u8) -> bool {
        i < 16 && self.0 & 1 << i != 0
    }

    pub fn with(self, i: u8) -> TypeSet {
        TypeSet(self.0 | 1u16.checked_shl(u32::from(i)).unwrap_or(0))
    }

    pub fn union(self, other: TypeSet) -> TypeSet {
        TypeSet(self.0 | other.0)
    }

    /// Whether every type of `other` is in this set.
    pub fn covers(self, other: TypeSet) -> bool {
        other.0 & !self.0 == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_has_its_index() {
        for (i, t) in EVE_TYPES.iter().enumerate() {
            assert_eq!(type_index(t), Some(i as u8));
            assert!(TypeSet::ALL.contains(t));
        }
        let set = TypeSet::of(&["alert", "flow", "nonsense"]);
        assert!(set.contains("alert") && set.contains("flow") && !set.contains("dnp3") && !set.contains("nonsense"));
        assert!(TypeSet::ALL.covers(set) && !set.covers(TypeSet::ALL) && set.covers(TypeSet::NONE));
        assert_eq!(TypeSet::NONE.with(0).with(2), set);
        assert_eq!(set.union(TypeSet::of(&["dnp3"])), TypeSet::of(&["alert", "flow", "dnp3"]));
        assert!(!set.holds(200) && TypeSet::NONE.with(200) == TypeSet::NONE);
    }
}
