//! Record sinks. Depends on `otsentry-core` alone.
#![forbid(unsafe_code)]

mod eve;

pub use eve::{EveWriter, EVE_TYPES};
