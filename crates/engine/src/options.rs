//! What a pipeline is built with ([`PipelineOptions`]) and what a reload replaces
//! ([`Detection`]).
use crate::events::AppConfig;
use otsentry_capture::ReaderKind;
use otsentry_core::PortMap;
use otsentry_flow::FlowConfig;
use otsentry_rules::RuleSet;
use otsentry_wire::{DecodeOptions, DefragConfig};
use std::sync::Arc;

/// Inferring the host sets the rules name from the first traffic.
#[derive(Clone, Debug, Default)]
pub struct Warmup {
    /// How long it lasts from the first packet; `None`: the whole run (a replay's
    /// first pass, read back with [`Pipeline::inferred`]).
    pub duration_ns: Option<i64>,
    /// The rules to rebuild with the inferred sets when it ends.
    pub sources: Option<Arc<otsentry_rules::Sources>>,
}

#[derive(Clone, Debug)]
pub struct PipelineOptions {
    pub reader: ReaderKind,
    pub decode: DecodeOptions,
    /// Emit an anomaly for each bad checksum (they are always counted).
    pub checksum_anomalies: bool,
    pub defrag: DefragConfig,
    pub flow: FlowConfig,
    /// Which protocol each server port is expected to carry.
    pub ports: PortMap,
    /// Hand detected protocols to their dissectors (off: flows, reassembly and
    /// detection only, as the layer benchmark measures them).
    pub skip_dissectors: bool,
    /// The rules every event is checked against (none by default).
    pub rules: Arc<RuleSet>,
    /// The dissectors' caps.
    pub apps: AppConfig,
    /// The segmentation policy: conversations across zones without a conduit become
    /// `segmentation` events for the rules.
    pub policy: Option<Arc<otsentry_policy::Policy>>,
    /// A learned baseline to check traffic against, and how (thresholds).
    pub baseline: Option<Arc<otsentry_baseline::Baseline>>,
    pub baseline_settings: otsentry_baseline::Settings,
    /// Learn a baseline instead (`finish_learning` returns it); a loaded one to extend.
    pub learn: Option<otsentry_baseline::BaselineFile>,
    /// Learn only what an inventory needs: assets, identities, conversations and their
    /// functions (no address ranges, written values or polling periods; see
    /// `Learner::lean`). For reports.
    pub learn_lean: bool,
    /// Infer `$HMI`, `$ENGINEERING` and `$MASTERS` from a warm-up (no variables file).
    pub warmup: Option<Warmup>,
    /// The memory budget every worker's state is charged to (none by default).
    pub memory: otsentry_core::MemoryBudget,
    /// Where alerts' evidence pcaps go (none by default).
    pub evidence: Option<crate::evidence::EvidenceStore>,
    /// Learn a baseline from the first traffic (with `learn` set), then check against it.
    pub learn_for: Option<LiveLearning>,
    /// MAC vendors for `asset` records (written when the outputs take them).
    pub vendors: Option<Arc<otsentry_baseline::Vendors>>,
    /// Keep a lean learner beside the baseline stage, for a sensor's report
    /// ([`Pipeline::report_learner`]). One pipeline only.
    pub report_learner: bool,
}

/// A sensor learning its baseline on the wire: after `duration_ns` of traffic the
/// learner goes to `learned`, which writes the baseline and returns it to check the
/// traffic that follows against (`None`: carry on without one). One pipeline only
/// (learners of several workers are not merged).
#[derive(Clone)]
pub struct LiveLearning {
    pub duration_ns: i64,
    pub learned: Arc<std::sync::Mutex<LearnedHook>>,
}

/// What becomes of the learner when a live learning ends.
pub type LearnedHook = dyn FnMut(otsentry_baseline::Learner) -> Option<Arc<otsentry_baseline::Baseline>> + Send;

impl std::fmt::Debug for LiveLearning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveLearning").field("duration_ns", &self.duration_ns).finish_non_exhaustive()
    }
}

impl Default for PipelineOptions {
    fn default() -> Self {
        PipelineOptions {
            reader: ReaderKind::default(),
            decode: DecodeOptions::default(),
            checksum_anomalies: false,
            defrag: DefragConfig::default(),
            flow: FlowConfig::default(),
            ports: crate::registry::default_ports(),
            skip_dissectors: false,
            rules: Arc::default(),
            apps: AppConfig::default(),
            policy: None,
            baseline: None,
            baseline_settings: otsentry_baseline::Settings::default(),
            learn: None,
            learn_lean: false,
            warmup: None,
            memory: otsentry_core::MemoryBudget::default(),
            evidence: None,
            learn_for: None,
            vendors: None,
            report_learner: false,
        }
    }
}

/// What a reload replaces whole: the rules (with the sources to rebuild them from when
/// the warm-up inferred the host sets), the policy and the baseline.
#[derive(Clone, Debug, Default)]
pub struct Detection {
    pub rules: Arc<RuleSet>,
    /// Set when the rules wait for host sets a warm-up infers (no variables file).
    pub sources: Option<Arc<otsentry_rules::Sources>>,
    pub policy: Option<Arc<otsentry_policy::Policy>>,
    pub baseline: Option<Arc<otsentry_baseline::Baseline>>,
}
