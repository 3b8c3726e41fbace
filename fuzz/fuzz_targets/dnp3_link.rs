//! The DNP3 link layer alone: frames scanned out of arbitrary bytes.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = otsentry_proto_dnp3::fuzzing::link_layer(data);
});
