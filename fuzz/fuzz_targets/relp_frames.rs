//! Arbitrary bytes as a RELP stream: frames or an error naming the byte, never a panic;
//! each frame taken makes progress, a shorter prefix of it is need-more (or, cut inside
//! a number, an error), and a frame written again reads back the same.
#![no_main]
use otsentry_cef::relp;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut at = 0;
    while at < data.len() {
        match relp::parse(&data[at..]) {
            Ok(Some((frame, used))) => {
                assert!(used > 0 && used <= data.len() - at);
                assert!(frame.data.len() <= relp::MAX_DATA);
                // Written again (leading zeros of its numbers dropped), it reads the same.
                let again = relp::frame(frame.txnr, frame.command, frame.data);
                let (back, n) = relp::parse(&again).expect("our own frame").expect("whole");
                assert_eq!((back, n), (frame, again.len()));
                // Every shorter prefix of it is need-more.
                for cut in [0, 1, used / 2, used - 1] {
                    assert!(matches!(relp::parse(&data[at..at + cut]), Ok(None) | Err(_)));
                }
                at += used;
            }
            Ok(None) | Err(_) => break,
        }
    }
});
