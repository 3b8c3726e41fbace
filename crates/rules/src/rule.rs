//! A rule as it is checked: conditions resolved to field ids and typed tests, with its
//! thresholds, suppression and the site's silences.
use crate::spec::TrackSpec;
use crate::value::{AddrSet, Test};
use otsentry_core::{AlertInfo, FieldId, Schema};
use std::sync::Arc;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Track {
    Src,
    Dst,
    Pair,
    Flow,
    Rule,
}

impl From<TrackSpec> for Track {
    fn from(t: TrackSpec) -> Track {
        match t {
            TrackSpec::BySrc => Track::Src,
            TrackSpec::ByDst => Track::Dst,
            TrackSpec::ByPair => Track::Pair,
            TrackSpec::ByFlow => Track::Flow,
            TrackSpec::ByRule => Track::Rule,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Threshold {
    pub(crate) count: u32,
    pub(crate) nanos: i64,
    pub(crate) track: Track,
    pub(crate) distinct: Option<Distinct>,
}

/// What a threshold counts distinct values of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Distinct {
    Field(FieldId),
    /// The event's source address (`distinct: src`): a second master, a second client.
    Src,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Suppress {
    pub(crate) nanos: i64,
    pub(crate) track: Track,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dir {
    Request,
    Response,
}

/// Conditions on the flow and packet.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct FlowMatch {
    /// No condition at all: nothing to check.
    pub(crate) open: bool,
    pub(crate) src: Option<AddrSet>,
    pub(crate) dst: Option<AddrSet>,
    pub(crate) src_port: Option<Test>,
    pub(crate) dst_port: Option<Test>,
    pub(crate) vlan: Option<Test>,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Cond {
    pub(crate) field: FieldId,
    pub(crate) test: Test,
}

/// Conditions on the event's fields: single-valued ones, then per repeated group the
/// conditions one element must meet together.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Clause {
    pub(crate) single: Vec<Cond>,
    pub(crate) groups: Vec<(u8, Vec<Cond>)>,
}

/// A compiled rule.
#[derive(Clone, Debug)]
pub(crate) struct Rule {
    pub(crate) info: Arc<AlertInfo>,
    pub(crate) schema: &'static Schema,
    /// Needs the answer: checked on transactions (and messages), not on arrival.
    pub(crate) answered: bool,
    pub(crate) direction: Option<Dir>,
    pub(crate) flow: FlowMatch,
    pub(crate) clause: Clause,
    pub(crate) unless: Vec<(FlowMatch, Clause)>,
    pub(crate) threshold: Option<Threshold>,
    pub(crate) suppress: Option<Suppress>,
    /// The site's suppressions: (sources, destinations), either left open.
    pub(crate) site_suppress: Vec<(Option<AddrSet>, Option<AddrSet>)>,
    pub(crate) show: Vec<FieldId>,
    /// The key field, when the index checks it in place of a condition.
    pub(crate) key_field: Option<FieldId>,
}

impl Rule {
    /// Whether its threshold or suppression tracks a key several address pairs share
    /// (a source, a destination, the rule): state workers split by pair cannot keep.
    pub(crate) fn spans_pairs(&self) -> bool {
        let wide = |t: Track| matches!(t, Track::Src | Track::Dst | Track::Rule);
        self.threshold.as_ref().is_some_and(|t| wide(t.track)) || self.suppress.is_some_and(|s| wide(s.track))
    }
}
