//! The record types EVE carries and a set of them (`--eve-types`, `--clickhouse-types`).
//!
//! The types are the engine's own and every registered protocol's, installed once per
//! process by the engine's registry ([`install_types`]); a batch and the spool name a
//! record's type by its index in that list, so the built-in types keep the indexes
//! earlier builds spooled them with.
use std::sync::OnceLock;

static TYPES: OnceLock<Vec<&'static str>> = OnceLock::new();

/// The list was installed before, and differently.
#[derive(Debug, thiserror::Error)]
#[error("record types are already installed, as {0:?}")]
pub struct TypesInstalled(pub Vec<&'static str>);

/// Installs the record types (first call wins; installing the same list again is fine).
pub fn install_types(types: Vec<&'static str>) -> Result<(), TypesInstalled> {
    let installed = TYPES.get_or_init(|| types.clone());
    if *installed == types {
        Ok(())
    } else {
        Err(TypesInstalled(installed.clone()))
    }
}

/// The installed record types (none before the engine installs them).
pub fn record_types() -> &'static [&'static str] {
    TYPES.get().map_or(&[], Vec::as_slice)
}

/// Position of `event_type` among the installed types.
#[inline]
pub fn type_index(event_type: &str) -> Option<u8> {
    record_types().iter().position(|t| *t == event_type).and_then(|i| u8::try_from(i).ok())
}

/// A set of the installed types (up to 256 of them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TypeSet([u64; 4]);

impl TypeSet {
    pub const ALL: TypeSet = TypeSet([u64::MAX; 4]);
    pub const NONE: TypeSet = TypeSet([0; 4]);

    /// The named types; names that are not record types are left out (the CLI and the
    /// configuration check them first).
    pub fn of(names: &[&str]) -> TypeSet {
        names.iter().filter_map(|n| type_index(n)).fold(TypeSet::NONE, TypeSet::with)
    }

    #[inline]
    pub fn contains(self, event_type: &str) -> bool {
        type_index(event_type).is_some_and(|i| self.holds(i))
    }

    /// Whether the type of index `i` is in the set.
    #[inline]
    pub fn holds(self, i: u8) -> bool {
        self.0.get(usize::from(i >> 6)).is_some_and(|w| w & 1 << (i & 63) != 0)
    }

    pub fn with(self, i: u8) -> TypeSet {
        let mut words = self.0;
        if let Some(w) = words.get_mut(usize::from(i >> 6)) {
            *w |= 1 << (i & 63);
        }
        TypeSet(words)
    }

    pub fn union(self, other: TypeSet) -> TypeSet {
        TypeSet(std::array::from_fn(|i| self.0.get(i).copied().unwrap_or(0) | other.0.get(i).copied().unwrap_or(0)))
    }

    /// Whether every type of `other` is in this set.
    pub fn covers(self, other: TypeSet) -> bool {
        self.0.iter().zip(other.0).all(|(mine, theirs)| theirs & !mine == 0)
    }
}

/// Record types as the engine installs them for otsentry's own protocols: what the
/// sink's tests run with.
#[doc(hidden)]
pub fn install_test_types() {
    let types = vec!["alert", "anomaly", "flow", "modbus", "dnp3", "s7comm", "s7comm_plus", "cotp", "segmentation", "stats"];
    let _ = install_types(types);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_has_its_index() {
        install_test_types();
        for (i, t) in record_types().iter().enumerate() {
            assert_eq!(type_index(t), Some(i as u8));
            assert!(TypeSet::ALL.contains(t));
        }
        let set = TypeSet::of(&["alert", "flow", "nonsense"]);
        assert!(set.contains("alert") && set.contains("flow") && !set.contains("dnp3") && !set.contains("nonsense"));
        assert!(TypeSet::ALL.covers(set) && !set.covers(TypeSet::ALL) && set.covers(TypeSet::NONE));
        assert_eq!(TypeSet::NONE.with(0).with(2), set);
        assert_eq!(set.union(TypeSet::of(&["dnp3"])), TypeSet::of(&["alert", "flow", "dnp3"]));
        assert!(!TypeSet::ALL.contains("nonsense"), "all the installed types, not any name");
        assert!(TypeSet::NONE.with(200).holds(200) && !TypeSet::NONE.with(200).holds(201), "no cap at 16");
        assert!(install_types(vec!["alert"]).is_err(), "a different list is refused");
    }
}
