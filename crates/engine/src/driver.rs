//! What replay and sense drive: one pipeline, or a pool of workers behind a reader. Both
//! take frames in capture order and time as it passes; replay.rs and live.rs read their
//! sources into either through this.
use crate::health::HealthEvent;
use crate::options::Detection;
use otsentry_capture::{RawFrame, ReaderKind};
use otsentry_core::{SinkCounts, StatsRecord, Summary, Timestamp};

pub(crate) trait Driven {
    /// One frame, numbered `pcap_cnt` in its input.
    fn frame(&mut self, frame: &RawFrame<'_>, pcap_cnt: u64);
    /// Time passes without packets (a live sensor's clock).
    fn tick(&mut self, now: Timestamp);
    fn reload(&mut self, d: Detection);
    fn reload_failed(&mut self, why: &str, now: Timestamp);
    fn health(&mut self, event: &HealthEvent, now: Timestamp);
    /// The run's counters so far, merged.
    fn snapshot(&mut self, elapsed_s: f64) -> Summary;
    fn output_counts(&self) -> Vec<SinkCounts>;
    fn unwritten(&self) -> u64;
    fn write_stats(&mut self, record: &StatsRecord);
    /// A `snapshot` record of every asset (if the outputs take `asset` records).
    fn asset_snapshot(&mut self, now: Timestamp);
    /// A copy of the report learner (a single pipeline with `report_learner` only).
    fn report_learner(&self) -> Option<otsentry_baseline::Learner>;
    fn set_max_frame(&mut self, max: Option<u32>);
    fn reader(&self) -> ReaderKind;
    /// Names the input records come from.
    fn set_input(&mut self, name: &str);
    /// The counters the reader keeps (inputs, files, capture).
    fn reader_summary(&mut self) -> &mut Summary;
    /// Bytes of frames handed in so far.
    fn bytes_in(&self) -> u64;
    /// What each input produced is handed over when it ends.
    fn flush_outputs(&mut self);
}

impl Driven for crate::pipeline::Pipeline {
    fn frame(&mut self, frame: &RawFrame<'_>, pcap_cnt: u64) {
        crate::pipeline::Pipeline::frame(self, frame, pcap_cnt);
    }

    fn tick(&mut self, now: Timestamp) {
        crate::pipeline::Pipeline::tick(self, now);
    }

    fn reload(&mut self, d: Detection) {
        crate::pipeline::Pipeline::reload(self, d);
    }

    fn reload_failed(&mut self, why: &str, now: Timestamp) {
        crate::pipeline::Pipeline::reload_failed(self, why, now);
    }

    fn health(&mut self, event: &HealthEvent, now: Timestamp) {
        crate::pipeline::Pipeline::health(self, event, now);
    }

    fn snapshot(&mut self, elapsed_s: f64) -> Summary {
        crate::pipeline::Pipeline::snapshot(self, elapsed_s)
    }

    fn output_counts(&self) -> Vec<SinkCounts> {
        crate::pipeline::Pipeline::output_counts(self)
    }

    fn unwritten(&self) -> u64 {
        crate::pipeline::Pipeline::unwritten(self)
    }

    fn write_stats(&mut self, record: &StatsRecord) {
        self.write(record);
    }

    fn asset_snapshot(&mut self, now: Timestamp) {
        crate::pipeline::Pipeline::asset_snapshot(self, now);
    }

    fn report_learner(&self) -> Option<otsentry_baseline::Learner> {
        crate::pipeline::Pipeline::report_learner(self)
    }

    fn set_max_frame(&mut self, max: Option<u32>) {
        crate::pipeline::Pipeline::set_max_frame(self, max);
    }

    fn reader(&self) -> ReaderKind {
        crate::pipeline::Pipeline::reader(self)
    }

    fn set_input(&mut self, name: &str) {
        crate::pipeline::Pipeline::set_input(self, name);
    }

    fn reader_summary(&mut self) -> &mut Summary {
        self.summary_mut()
    }

    fn bytes_in(&self) -> u64 {
        self.summary_ref().bytes
    }

    fn flush_outputs(&mut self) {
        crate::pipeline::Pipeline::flush_outputs(self);
    }
}
