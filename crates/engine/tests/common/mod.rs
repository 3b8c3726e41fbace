//! What the engine's tests share.
use otsentry_engine::{Replay, ReplayOptions};
use serde_json::Value;
use std::path::Path;

/// Replay one file with default options and return its EVE lines.
pub(crate) fn eve(path: &Path) -> Vec<Value> {
    let mut run: Replay<Vec<u8>> = Replay::new(ReplayOptions::default(), Some(otsentry_sink::EveWriter::new(Vec::new())));
    run.run_file(path, &mut |_, _| {}).expect("replay");
    let (_, eve) = run.finish_with_output(1.0).expect("finish");
    let text = String::from_utf8(eve.expect("eve writer").into_inner()).expect("utf-8");
    text.lines().map(|l| serde_json::from_str::<Value>(l).expect("json line")).collect()
}
