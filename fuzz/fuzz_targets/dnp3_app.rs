//! The DNP3 application layer alone: one fragment, every point decoded and the record written.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = otsentry_proto_dnp3::fuzzing::application(data);
});
