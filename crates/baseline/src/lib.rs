//! The learned baseline: assets (addresses, MACs, vendors, roles, identities), the
//! conversations between them with their functions, address ranges, written values and
//! polling periods; learning it from traffic, writing it as a readable file, and the
//! departures from it. Depends on `otsentry-core` alone: dissectors describe their
//! events through [`otsentry_core::Observer`].
#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic))]

mod detect;
mod index;
mod learn;
mod load;
mod model;
mod oui;
mod space;
mod times;

pub use detect::{Detector, Finding, IdentityCheck, Kind, RequestCheck};
pub use index::{Baseline, PairKey, Settings};
pub use learn::{IdentityLearn, Learner, RequestLearn, MAX_LEARNED};
pub use load::{load, parse, read, to_text, BaselineError, BaselineErrors};
pub use model::{Asset, BaselineFile, Function, Learned, Mac, Pair, Range, Role, SpaceName, Values, FORMAT};
pub use oui::{Vendors, MANUF};
pub use space::name as space_name;
pub use times::ResponseTimes;

/// Hash tables keyed by addresses and codes: a quick hash, seeded per process.
pub(crate) type Map<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
pub(crate) type Set<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;

/// Most distinct values kept per written address; past it only the range is.
pub const SET_MAX: usize = 16;
