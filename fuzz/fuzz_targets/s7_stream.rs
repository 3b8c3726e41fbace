//! One S7 flow fed arbitrary chunks in both directions with gaps: TPKT, COTP, S7comm and S7comm-plus together.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = otsentry_proto_s7comm::fuzzing::run(data);
});
