//! `sense --report PATH`: the sensor keeps a lean learner beside its detection and a
//! tally of its alerts and flows, and every `--report-interval` (and at the stop) the
//! page `otsentry report` makes is built from them and written whole. The build runs on
//! the capture thread (a copy of the learner, then the page: tens of milliseconds for
//! thousands of assets, which the kernel's capture buffer absorbs).
use super::tally::{Tally, TallySink};
use otsentry_sink::{OutputOptions, Outputs, TypeSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

/// What the sensor's report is made from besides the learner.
pub(crate) struct LiveReport {
    path: PathBuf,
    tally: Arc<Mutex<Tally>>,
    policy: Option<Arc<otsentry_policy::Policy>>,
    interfaces: Vec<String>,
    vendors: Arc<otsentry_baseline::Vendors>,
}

impl LiveReport {
    /// The tally joins `outputs` (made if there are none).
    pub(crate) fn attach(
        path: PathBuf,
        outputs: &mut Option<Outputs>,
        policy: Option<Arc<otsentry_policy::Policy>>,
        interfaces: Vec<String>,
        vendors: Arc<otsentry_baseline::Vendors>,
    ) -> anyhow::Result<LiveReport> {
        let tally = Arc::new(Mutex::new(Tally::default()));
        let o = outputs.get_or_insert_with(|| Outputs::new(OutputOptions::default()));
        o.add_for(Box::new(TallySink(tally.clone())), TypeSet::of(&super::tally::TALLIED))?;
        Ok(LiveReport { path, tally, policy, interfaces, vendors })
    }

    /// The hook the live run calls with the learner's copy and its counters.
    pub(crate) fn hook(self) -> otsentry_engine::ReportHook {
        otsentry_engine::ReportHook(Box::new(move |learner, summary| {
            let started = std::time::Instant::now();
            let times = learner.response_medians();
            let learned = super::Learned { file: learner.finish(&self.vendors), times };
            let tally = self.tally.lock().unwrap_or_else(PoisonError::into_inner).clone();
            let header = super::header(&summary, self.interfaces.clone(), &learned.file, self.policy.is_some());
            let report = super::assemble(&learned, tally, self.policy.as_deref(), header);
            match crate::learn::write_whole(&self.path, &otsentry_report::html(&report)) {
                Ok(()) => tracing::info!(
                    path = %self.path.display(),
                    assets = report.assets.len(),
                    conversations = report.conversations.len(),
                    ms = started.elapsed().as_millis() as u64,
                    "report written"
                ),
                Err(e) => tracing::error!(path = %self.path.display(), error = %format!("{e:#}"), "report not written"),
            }
        }))
    }
}
