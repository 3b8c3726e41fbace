//! Replay's sources: capture files, pipes, stdin, gzip and zip members, each read to its
//! end (or its damage) into the pipeline, in capture time.
use crate::driver::Driven;
use crate::pipeline::Pipeline;
use otsentry_capture::{open_input, CaptureError, Damage, Input, Next, Source};
use otsentry_core::InputCounts;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Capture(#[from] CaptureError),
}

/// What happened to one input.
#[derive(Clone, Debug)]
pub struct FileReport {
    pub name: String,
    pub packets: u64,
    /// Set when reading stopped early at damage; records before it were processed.
    pub damage: Option<Damage>,
}

/// Packets between progress callbacks.
const PROGRESS_EVERY: u64 = 1 << 16;

impl Pipeline {
    /// Replay one capture file, named as its path is written.
    pub fn run_file(&mut self, path: &Path, progress: &mut dyn FnMut(u64, u64)) -> Result<FileReport, EngineError> {
        self.run_input(&Input::file(path), progress)
    }

    /// Replay one input. `progress` is called now and then with (bytes read, size).
    pub fn run_input(&mut self, input: &Input, progress: &mut dyn FnMut(u64, u64)) -> Result<FileReport, EngineError> {
        run_input(self, input, progress)
    }
}

/// Reads one input into `run` (a pipeline or a pool of workers).
pub(crate) fn run_input<D: Driven>(run: &mut D, input: &Input, progress: &mut dyn FnMut(u64, u64)) -> Result<FileReport, EngineError> {
    {
        let mut source = open_input(input, run.reader())?;
        run.set_input(&input.name);
        run.reader_summary().decode.files += 1;
        let bytes_before = run.bytes_in();
        let mut packets = 0u64;
        let damage = loop {
            let frame = match source.next() {
                Next::Frame(f) => f,
                // A file or stream never waits: it has a frame or it ended.
                Next::Idle => continue,
                Next::End(damage) => break damage,
            };
            packets += 1;
            run.frame(&frame, packets);
            if packets.is_multiple_of(PROGRESS_EVERY) {
                let (done, total) = Source::progress(&source);
                progress(done, total);
            }
        };
        // What an input produced is handed over when it ends, not with the next one.
        run.flush_outputs();
        let bytes = run.bytes_in() - bytes_before;
        let summary = run.reader_summary();
        if damage.is_some() {
            summary.decode.files_truncated += 1;
        }
        summary.inputs.push(InputCounts {
            name: input.name.clone(),
            container: input.container(),
            packets,
            bytes,
            damage: damage.as_ref().map(|d| d.reason.clone()),
        });
        Ok(FileReport { name: input.name.clone(), packets, damage })
    }
}
