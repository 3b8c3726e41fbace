//! The segmentation policy (IEC 62443 zones and conduits): zones of addresses on
//! Purdue levels, conduits that allow protocols and function classes between two zones
//! and say which side may start, and default deny for everything else. Depends on
//! `otsentry-core` alone.
#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic))]

mod error;
mod load;
mod net;
mod policy;
mod protocols;

pub use error::{PolicyError, PolicyErrors};
pub use load::{load, parse};
pub use net::Network;
pub use policy::{skips_levels, Conduit, Decision, Initiator, Level, Policy, Zone, ZoneId};
pub use protocols::{service_of, Service};
