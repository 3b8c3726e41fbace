//! The record types EVE carries and a set of them (`--eve-types`).

/// The record types EVE carries, for `--eve-types`; a batch names types by index here.
pub const EVE_TYPES: [&str; 9] = ["alert", "anomaly", "flow", "modbus", "dnp3", "s7comm", "s7comm_plus", "cotp", "segmentation"];

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

    #[inline]
    pub fn contains(self, event_type: &str) -> bool {
        type_index(event_type).is_some_and(|i| self.0 & 1 << i != 0)
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
    }
}
