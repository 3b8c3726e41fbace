//! otsentry's own deterministic capture builder: packets byte by byte, pcap and pcapng
//! writers, and the fixture captures in `fixtures/`. Everything here is written by our
//! code, so our fixtures never contain third-party data.
#![forbid(unsafe_code)]

pub mod baseline;
pub mod bench;
pub mod cdp;
pub mod clickhouse;
pub mod cluster;
pub mod feed;
pub mod fixtures;
pub mod fuzzseeds;
pub mod hostile;
pub mod identities;
pub mod network;
pub mod ot;
pub mod packet;
pub mod reshape;
pub mod routine;
pub mod segmentation;
pub mod session;
pub mod shared;
pub mod trust;
pub mod writer;

pub use packet::*;
pub use writer::{PcapWriter, PcapngWriter};
