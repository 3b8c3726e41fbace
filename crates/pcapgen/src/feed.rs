//! Feeding a capture to a replay's stdin slowly, so a test can act while records flow
//! (kill a receiver, restart a server).
use std::io::Write;
use std::time::Duration;

/// Writes `bytes` to `stdin` in `chunks` pieces `pause` apart, calling `at(i)` before
/// piece i; stops early if the reader went away.
pub fn feed(stdin: &mut std::process::ChildStdin, bytes: &[u8], chunks: usize, pause: Duration, mut at: impl FnMut(usize)) {
    for (i, piece) in bytes.chunks(bytes.len().div_ceil(chunks.max(1)).max(1)).enumerate() {
        at(i);
        if stdin.write_all(piece).and_then(|()| stdin.flush()).is_err() {
            return;
        }
        std::thread::sleep(pause);
    }
}
