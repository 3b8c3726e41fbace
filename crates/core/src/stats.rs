//! The periodic `stats` record: a running sensor's counters in Suricata's shape where
//! Suricata has the counter (`capture.kernel_packets`, `decoder.pkts`, `flow.total`,
//! `tcp.reassembly_gap`, `app_layer.flow.NAME`, ...), and ours beside them under
//! `otsentry` for what Suricata lacks (per-protocol PDUs and functions, alerts by
//! severity, each output's delivery and spool). Counters are totals since the start.
use crate::record::{EventHeader, Record};
use crate::sections::CodeCounts;
use crate::sections::ProtocolCounts;
use crate::summary::{CaptureCounts, DecodeCounts, SinkCounts, StreamCounts, Summary};
use crate::time::Timestamp;
use serde::Serialize;

/// What a live run shows a metrics endpoint: its counters as of the last look, each
/// interface's counts, and what is wrong now (an interface down, an output failing;
/// empty when all is well).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LiveView {
    pub stats: StatsBody,
    pub inputs: Vec<crate::summary::InputCounts>,
    pub problems: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct StatsBody {
    /// Seconds since the run started.
    pub uptime: u64,
    pub capture: CaptureCounts,
    pub decoder: DecoderStats,
    pub flow: FlowStats,
    pub tcp: TcpStats,
    pub defrag: DefragStats,
    pub app_layer: AppLayerStats,
    pub otsentry: OwnStats,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct DecoderStats {
    pub pkts: u64,
    pub bytes: u64,
    /// Packets whose decoding stopped on malformed data.
    pub invalid: u64,
    pub arp: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct FlowStats {
    pub total: u64,
    pub active: u64,
    pub mgr: FlowMgrStats,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct FlowMgrStats {
    pub flows_timeout: u64,
    pub flows_evicted: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct TcpStats {
    pub midstream_pickups: u64,
    pub reassembly_gap: u64,
    pub overlap_diff_data: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct DefragStats {
    /// IPv4 and IPv6 together (Suricata splits them).
    pub fragments: u64,
    pub reassembled: u64,
    pub max_frag_hits: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct AppLayerStats {
    /// Flows by detected protocol.
    pub flow: CodeCounts,
    /// Transactions by protocol: each section's headline counter.
    pub tx: CodeCounts,
}

/// Ours: what Suricata has no counter for.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct OwnStats {
    pub protocols: ProtocolCounts,
    pub alerts: AlertStats,
    pub decode: DecodeCounts,
    pub streams: StreamCounts,
    pub outputs: Vec<SinkCounts>,
    pub sensor: crate::summary::SensorCounts,
    #[serde(skip_serializing_if = "crate::memory::MemoryCounts::is_empty")]
    pub memory: crate::memory::MemoryCounts,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct AlertStats {
    pub total: u64,
    pub by_severity: CodeCounts,
    /// Rules waiting for host sets (a sensor's warm-up, or no variables file), and the sets.
    pub dormant: u64,
    pub waiting_for: Vec<String>,
}

impl StatsBody {
    /// The record of `summary` (a snapshot of the run), `uptime` seconds in.
    pub fn new(summary: &Summary, capture: CaptureCounts, uptime: u64) -> StatsBody {
        let (d, st, p) = (&summary.decode, &summary.streams, &summary.protocols);
        let tx: CodeCounts =
            p.iter().map(|s| (s.name(), s.count(s.headline()))).filter(|(_, n)| *n > 0).map(|(k, n)| (k.to_string(), n)).collect();
        StatsBody {
            uptime,
            capture,
            decoder: DecoderStats { pkts: summary.packets, bytes: summary.bytes, invalid: summary.decode_errors, arp: d.arp },
            flow: FlowStats {
                total: summary.flows,
                active: st.active_flows,
                mgr: FlowMgrStats { flows_timeout: st.flows_timed_out, flows_evicted: st.flows_evicted },
            },
            tcp: TcpStats { midstream_pickups: st.tcp_midstream, reassembly_gap: st.gaps, overlap_diff_data: st.overlap_conflicts },
            defrag: DefragStats { fragments: d.fragments, reassembled: d.datagrams_reassembled, max_frag_hits: d.fragments_dropped },
            app_layer: AppLayerStats { flow: st.app_protocols.clone(), tx },
            otsentry: OwnStats {
                protocols: p.clone(),
                alerts: AlertStats {
                    total: summary.alerts.total,
                    by_severity: summary.alerts.by_severity.clone(),
                    dormant: summary.alerts.dormant,
                    waiting_for: summary.alerts.waiting_for.clone(),
                },
                decode: d.clone(),
                streams: st.clone(),
                outputs: summary.outputs.clone(),
                sensor: summary.sensor.clone(),
                memory: summary.memory.clone(),
            },
        }
    }
}

/// One `stats` line.
pub struct StatsRecord {
    pub header: EventHeader,
    pub body: StatsBody,
}

impl StatsRecord {
    pub fn new(at: Timestamp, body: StatsBody) -> StatsRecord {
        StatsRecord { header: EventHeader { timestamp: at, ..Default::default() }, body }
    }
}

impl Record for StatsRecord {
    type Body = StatsBody;
    type Extra = ();
    fn event_type(&self) -> &'static str {
        "stats"
    }
    fn header(&self) -> &EventHeader {
        &self.header
    }
    fn body(&self) -> &StatsBody {
        &self.body
    }
}
