//! One S7comm or S7comm-plus PDU alone, decoded every way it can be.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = otsentry_proto_s7comm::fuzzing::pdu(data);
});
