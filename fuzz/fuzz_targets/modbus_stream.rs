//! One Modbus/TCP flow fed arbitrary chunks in both directions, with gaps.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| otsentry_proto_modbus::fuzzing::run(data));
