//! One DNP3 flow fed arbitrary chunks in both directions, as stream bytes or datagrams,
//! with gaps: link, transport and application layers together.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = otsentry_proto_dnp3::fuzzing::run(data);
});
