//! Policy files from arbitrary text: an error naming its line, or a policy whose every
//! zone lookup and decision answers, never a panic.
#![no_main]
use otsentry_policy::{parse, Service};
use std::net::IpAddr;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let protocols = [otsentry_proto_modbus::MODBUS, otsentry_proto_dnp3::DNP3, otsentry_proto_s7comm::S7COMM];
    if let Ok(p) = parse(std::path::Path::new("policy.yaml"), &text, &protocols) {
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 1, 0, 1].into();
        let (za, zb) = (p.zone_of(a, 0), p.zone_of(b, 100));
        let _ = p.decide(za, zb, Service::Named("ssh"), None);
    }
});
