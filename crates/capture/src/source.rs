//! What the pipeline reads frames from: one trait for capture files, streams and live
//! interfaces. A file ends (perhaps at damage); an interface has nothing now and more
//! later, and counts what the kernel dropped.
use crate::{Damage, FrameSource, RawFrame};
use otsentry_core::{CaptureCounts, InputCounts};
use std::time::Duration;

/// What a source holds for the pipeline now.
#[derive(Debug)]
pub enum Next<'a> {
    /// A frame, borrowed until the next call.
    Frame(RawFrame<'a>),
    /// Nothing now; more may come (a live source).
    Idle,
    /// Nothing more: the end, or the damage that ended it.
    End(Option<Damage>),
}

/// A source of frames for the pipeline.
pub trait Source {
    fn next(&mut self) -> Next<'_>;
    /// Waits until a frame may be there or `timeout` has passed (a source that never
    /// idles returns at once).
    fn wait(&mut self, _timeout: Duration) {}
    /// From now on hand on everything held back (the run is stopping).
    fn stop(&mut self) {}
    /// Bytes consumed so far and in all, for progress display.
    fn progress(&self) -> (u64, u64) {
        (0, 0)
    }
    /// What the kernel counted (live sources).
    fn counters(&mut self) -> CaptureCounts {
        CaptureCounts::default()
    }
    /// The largest frame the links carry whole, when known.
    fn max_frame(&self) -> Option<u32> {
        None
    }
    /// Each live input's counts and why it stopped delivering, for the summary.
    fn inputs(&self) -> Vec<InputCounts> {
        Vec::new()
    }
    /// Why inputs stopped delivering while others went on.
    fn failures(&self) -> Vec<String> {
        Vec::new()
    }
    /// Frames handed on out of time order (several live inputs merged).
    fn out_of_order(&self) -> u64 {
        0
    }
    /// Times a live input went down (its link, or its handle failed), and times a
    /// failed handle was opened again.
    fn outages(&self) -> (u64, u64) {
        (0, 0)
    }
}

/// A capture file or stream: read to its end or its damage.
impl Source for Box<dyn FrameSource> {
    fn next(&mut self) -> Next<'_> {
        match self.next_frame() {
            Ok(Some(f)) => Next::Frame(f),
            Ok(None) => Next::End(None),
            Err(d) => Next::End(Some(d)),
        }
    }

    fn progress(&self) -> (u64, u64) {
        FrameSource::progress(self.as_ref())
    }
}
