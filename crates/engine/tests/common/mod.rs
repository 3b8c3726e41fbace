//! What the engine's tests share.
use otsentry_engine::{Pipeline, PipelineOptions};
use serde_json::Value;
use std::path::Path;

/// Replay one file with default options and return its EVE lines.
pub(crate) fn eve(path: &Path) -> Vec<Value> {
    let (outputs, captured) = otsentry_sink::Outputs::memory();
    let mut run: Pipeline = Pipeline::new(PipelineOptions::default(), Some(outputs));
    run.run_file(path, &mut |_, _| {}).expect("replay");
    run.finish(1.0);
    let text = String::from_utf8(captured.bytes()).expect("utf-8");
    text.lines().map(|l| serde_json::from_str::<Value>(l).expect("json line")).collect()
}
