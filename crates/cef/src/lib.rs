//! otsentry's records as CEF events over syslog, to a SIEM's collector (ArcSight,
//! QRadar, Sentinel's CEF connector, Wazuh, a syslog relay): the CEF line
//! ([`cef`]), the EVE record it comes from ([`event`]), the syslog header ([`syslog`]),
//! the transports ([`transport`]: UDP, TCP, TLS, and RELP's frames in [`relp`]), and
//! the sink ([`CefSink`]). Depends on `otsentry-core` and `otsentry-sink`.
#![forbid(unsafe_code)]

pub mod cef;
pub mod event;
pub mod relp;
mod sink;
pub mod syslog;
pub mod transport;

pub use sink::{CefOptions, CefSink, CefStartError, DEFAULT_MAX_MESSAGE, MIN_MAX_MESSAGE};
