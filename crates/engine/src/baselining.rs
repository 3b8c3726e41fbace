//! What a run does with a baseline: learn one, or check traffic against one (the
//! stage itself is `baseline.rs`; this is the state the outputs carry).
use otsentry_baseline::{Detector, Learner};

pub(crate) enum Baselining {
    Learn(Box<Learner>),
    Detect(Box<Detector>),
}
