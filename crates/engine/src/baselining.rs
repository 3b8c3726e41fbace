//! What a run does with a baseline: learn one, or check traffic against one (the
//! stage itself is `baseline.rs`; this is the state the outputs carry).
use otsentry_baseline::{Detector, Learner};

pub(crate) enum Baselining {
    Learn(Box<Learner>),
    Detect(Box<Detector>),
}

impl Baselining {
    /// Checking against `baseline`, its findings and hosts charged to `memory`.
    pub(crate) fn detect(
        baseline: std::sync::Arc<otsentry_baseline::Baseline>,
        settings: otsentry_baseline::Settings,
        memory: &otsentry_core::MemoryBudget,
    ) -> Baselining {
        Baselining::Detect(Box::new(Detector::with_memory(baseline, settings, memory.clone())))
    }
}
