//! Holds the criterion benches in `benches/`; no library code.
#![forbid(unsafe_code)]
