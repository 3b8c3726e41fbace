//! Arbitrary lines as EVE records for the CEF output: an event or a reason, never a
//! panic; an event's CEF line is one line, within the maximum whenever its header is.
#![no_main]
use otsentry_cef::cef::format;
use otsentry_cef::event::EveToCef;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut to = EveToCef::new(&["alert", "anomaly", "stats", "modbus", "dnp3"], "fuzz");
    if let Ok(event) = to.event(data) {
        for max in [64, 480, 2048] {
            let line = format("otsentry", "otsentry", "0", &event, max);
            assert!(!line.contains('\n') && !line.contains('\r'));
            let header = format("otsentry", "otsentry", "0", &otsentry_cef::cef::CefEvent { extension: Vec::new(), ..event.clone() }, usize::MAX);
            assert!(line.len() <= max.max(header.len()), "{} > {max}", line.len());
        }
    }
});
