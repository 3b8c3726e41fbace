//! The run replay and sense drive: one pipeline on the calling thread, or several
//! workers behind it ([`crate::workers`]), chosen by the number of workers.
use crate::driver::Driven;
use crate::live::{LiveControl, LiveSettings};
use crate::options::PipelineOptions;
use crate::pipeline::Pipeline;
use crate::replay::{EngineError, FileReport};
use crate::workers::Pool;
use otsentry_capture::{Input, Skipped, Source};
use otsentry_core::{SkippedInput, Summary};
use otsentry_sink::Outputs;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// A replay or a live run, over one pipeline or several workers.
pub struct Runner(Inner);

enum Inner {
    One(Box<Pipeline>),
    Many(Box<Pool>),
}

impl Runner {
    /// `workers` pipelines (one: no extra thread). `live`: a worker whose queue is full
    /// loses the frames (counted in `sensor.worker_drops`) rather than hold capture up.
    /// Learning a baseline runs on one pipeline whatever `workers` says.
    pub fn new(opts: PipelineOptions, outputs: Option<Outputs>, workers: usize, live: bool) -> std::io::Result<Runner> {
        if workers <= 1 || opts.learn.is_some() {
            return Ok(Runner(Inner::One(Box::new(Pipeline::new(opts, outputs)))));
        }
        Ok(Runner(Inner::Many(Box::new(Pool::new(opts, outputs, workers, live, true)?))))
    }

    /// A live run whose `sources.len()` workers each read their own capture handles
    /// (joined in kernel fanout groups); read the returned view with
    /// [`Runner::run_live`] on the calling thread, which keeps the clock.
    pub fn fanout(
        opts: PipelineOptions,
        outputs: Option<Outputs>,
        sources: Vec<crate::fanout::WorkerSource>,
    ) -> std::io::Result<(Runner, crate::fanout::FanoutView)> {
        let (pool, view) = Pool::fanout(opts, outputs, sources, true)?;
        Ok((Runner(Inner::Many(Box::new(pool))), view))
    }

    /// Hand each alert to `hook` as it is raised, in capture order.
    pub fn on_alert(&mut self, hook: crate::alerting::AlertHook) {
        match &mut self.0 {
            Inner::One(p) => p.on_alert(hook),
            Inner::Many(p) => p.on_alert(hook),
        }
    }

    /// Replay one input.
    pub fn run_input(&mut self, input: &Input, progress: &mut dyn FnMut(u64, u64)) -> Result<FileReport, EngineError> {
        match &mut self.0 {
            Inner::One(p) => crate::replay::run_input(p.as_mut(), input, progress),
            Inner::Many(p) => crate::replay::run_input(p.as_mut(), input, progress),
        }
    }

    /// Read a live source until stopped: see [`Pipeline::run_live`].
    pub fn run_live(&mut self, source: &mut dyn Source, settings: LiveSettings, control: &LiveControl) -> Vec<String> {
        match &mut self.0 {
            Inner::One(p) => crate::live::run_live(p.as_mut(), source, settings, control),
            Inner::Many(p) => crate::live::run_live(p.as_mut(), source, settings, control),
        }
    }

    /// Host sets a first pass inferred, for the summary to name.
    pub fn set_inferred(&mut self, sets: crate::roles::InferredSets) {
        match &mut self.0 {
            Inner::One(p) => p.set_inferred(sets),
            Inner::Many(p) => p.set_inferred(sets),
        }
    }

    /// Record what was passed over as not a capture.
    pub fn skipped(&mut self, skipped: &[Skipped]) {
        let s = match &mut self.0 {
            Inner::One(p) => p.reader_summary(),
            Inner::Many(p) => p.reader_summary(),
        };
        s.decode.files_skipped += skipped.len() as u64;
        s.skipped_inputs.extend(skipped.iter().map(|s| SkippedInput { name: s.name.clone(), reason: s.reason.clone() }));
    }

    /// One flag per sink that makes it reopen its output once set.
    pub fn reopen_flags(&self) -> Vec<Arc<AtomicBool>> {
        match &self.0 {
            Inner::One(p) => p.reopen_flags(),
            Inner::Many(p) => p.reopen_flags(),
        }
    }

    /// Whether every output's reader went away.
    pub fn outputs_closed(&self) -> bool {
        match &self.0 {
            Inner::One(p) => p.outputs_closed(),
            Inner::Many(p) => p.outputs_closed(),
        }
    }

    /// Ends the run: the summary, merged over the workers.
    pub fn finish(self, elapsed_s: f64) -> Summary {
        self.finish_inferring(elapsed_s).0
    }

    /// Ends the run, with the host sets its warm-up inferred (a first pass).
    pub fn finish_inferring(self, elapsed_s: f64) -> (Summary, Option<crate::roles::InferredSets>) {
        match self.0 {
            Inner::One(p) => {
                let sets = p.inferred();
                (p.finish(elapsed_s), sets)
            }
            Inner::Many(p) => p.finish(elapsed_s),
        }
    }
}
