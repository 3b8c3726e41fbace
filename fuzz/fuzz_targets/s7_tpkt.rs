//! TPKT and COTP alone: TPDUs scanned out of arbitrary bytes.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = otsentry_proto_s7comm::fuzzing::tpkt_layer(data);
});
