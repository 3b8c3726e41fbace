//! The `--summary-json` object. Its keys are a stable interface for scripts: sections
//! stay present (at zero) before the code that fills them exists.
use crate::sections::CodeCounts;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Summary {
    /// Every record read from the captures.
    pub packets: u64,
    /// Sum of captured lengths.
    pub bytes: u64,
    /// Packets whose decoding stopped on malformed data.
    pub decode_errors: u64,
    pub flows: u64,
    pub elapsed_s: f64,
    pub packets_per_sec: f64,
    pub protocols: crate::sections::ProtocolCounts,
    pub alerts: AlertCounts,
    /// Details of the decoding layer (checksums, fragments, tunnels, files).
    pub decode: DecodeCounts,
    /// Flows, TCP reassembly and capture loss.
    pub streams: StreamCounts,
    /// Live capture: what the kernel counted (zero in replay).
    pub capture: CaptureCounts,
    /// Every capture read, in order (for a live run, each interface).
    pub inputs: Vec<InputCounts>,
    /// What the arguments named that is not a capture (in a directory or an archive).
    pub skipped_inputs: Vec<SkippedInput>,
    /// Each output sink (EVE file, stdout, ...): what it was given and what became of it.
    pub outputs: Vec<SinkCounts>,
    /// With a segmentation policy: every conversation it forbids.
    pub segmentation: SegmentationCounts,
    /// With a baseline: departures from it by kind (`new_pair`, `value`, ...), each
    /// raised once and counted every time.
    pub baseline: BTreeMap<String, u64>,
    /// A live sensor's own events (absent in replay).
    #[serde(skip_serializing_if = "SensorCounts::is_empty")]
    pub sensor: SensorCounts,
    /// The memory budget by kind (absent without one).
    #[serde(skip_serializing_if = "crate::memory::MemoryCounts::is_empty")]
    pub memory: crate::memory::MemoryCounts,
    /// Evidence pcaps (absent when none are kept).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<EvidenceCounts>,
}

/// Evidence pcaps: files written, removed by the disk cap, failed to write; bytes on
/// disk now; packets a full evidence share kept out of their flow's ring.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct EvidenceCounts {
    pub files: u64,
    pub removed: u64,
    pub failed: u64,
    pub disk_bytes: u64,
    pub not_kept: u64,
}

/// What the capture layer counted (for libpcap: `pcap_stats`, summed over interfaces).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CaptureCounts {
    pub kernel_packets: u64,
    pub kernel_drops: u64,
    pub kernel_ifdrops: u64,
}

/// Counts of several interfaces (or workers) added up.
impl std::ops::AddAssign for CaptureCounts {
    fn add_assign(&mut self, o: CaptureCounts) {
        self.kernel_packets += o.kernel_packets;
        self.kernel_drops += o.kernel_drops;
        self.kernel_ifdrops += o.kernel_ifdrops;
    }
}

/// What happened to a live sensor itself.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SensorCounts {
    /// Reloads (SIGUSR2) that took effect, and those refused (the old set stayed).
    pub reloads: u64,
    pub reloads_failed: u64,
    /// Times an interface went down (its capture failed) and was reopened.
    pub interface_outages: u64,
    pub interface_reopened: u64,
    /// Health events raised, by kind (`interface_silent`, `kernel_drops`, ...).
    pub health: BTreeMap<String, u64>,
    /// Frames the capture thread dropped because a worker's queue was full (several
    /// workers; the capture never waits on one).
    #[serde(skip_serializing_if = "is_zero")]
    pub worker_drops: u64,
    /// Frames each worker handled (several workers): how evenly the pairs spread.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub worker_packets: Vec<u64>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl SensorCounts {
    pub fn is_empty(&self) -> bool {
        *self == SensorCounts::default()
    }
}

/// The segmentation policy's findings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SegmentationCounts {
    /// Forbidden conversations (client, server, protocol, function class), each raised once.
    pub conversations: Vec<Forbidden>,
    /// Per conduit of the policy, in file order: the conversations and function classes
    /// it allowed (0: no traffic used it).
    pub conduits_used: Vec<u64>,
    /// Forbidden conversations not remembered because the table was full.
    pub dropped: u64,
}

/// One forbidden conversation: who opened it to whom, how, and how often.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Forbidden {
    pub src_ip: String,
    pub src_zone: String,
    pub dest_ip: String,
    pub dest_zone: String,
    pub protocol: String,
    /// Absent for the protocol alone (before or without a dissector's request).
    pub function_class: Option<&'static str>,
    /// Packets of the conversation for the protocol alone; requests for a function class.
    pub count: u64,
    pub first_seen: crate::time::Timestamp,
    pub last_seen: crate::time::Timestamp,
}

/// One sink's delivery counters. Records are counted once each: every `accepted`
/// record ends `written`, `overflowed` (into the spool), `dropped`, or (for a run cut
/// short) still queued.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SinkCounts {
    /// The sink as the user named it (`eve:/var/log/otsentry/eve.json`, `stdout`).
    pub name: String,
    /// Records handed to the sink's queue.
    pub accepted: u64,
    /// Records the sink reported written.
    pub written: u64,
    /// Batches written.
    pub batches: u64,
    /// Write attempts repeated after a retriable error (a full disk, a refused connection).
    pub retried: u64,
    /// Records given up: after a permanent error, after the retries ran out, or on a full
    /// queue when the sink may not hold capture up.
    pub dropped: u64,
    /// Times the pipeline waited for a full queue (backpressure).
    pub waited: u64,
    /// Records the pipeline kept in the sink's spool because its queue was full (a live
    /// sensor cannot wait); the sink delivers them from there.
    pub overflowed: u64,
    /// Reopens of the output (SIGHUP) and rotations.
    pub reopened: u64,
    pub rotated: u64,
    /// The destination went away (a closed pipe); later records were dropped unwritten.
    pub closed: bool,
    /// The last error, if any.
    pub last_error: Option<String>,
    /// Records of the run that could not be serialised, left out of every sink.
    pub unencodable: u64,
    /// For a sink behind a spool (`--spool DIR`): what it held and did. `written`
    /// then counts records the sink or the spool took.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spool: Option<SpoolState>,
}

/// A spool's state: what it holds now and what happened to it during the run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SpoolState {
    pub dir: String,
    /// Held now (not yet delivered): batches and bytes. Left for the next run.
    pub pending_batches: u64,
    pub pending_bytes: u64,
    /// Held when the run started (left by an earlier one).
    pub inherited_batches: u64,
    /// Batches kept during the run, and batches delivered from the spool.
    pub spooled: u64,
    pub drained: u64,
    /// Batches refused because the spool was at its cap.
    pub full: u64,
    /// A frame cut short by a crash, cut off; damaged frames skipped.
    pub torn: u64,
    pub corrupt: u64,
    /// Spooled batches the destination refused for good, and the records of refused
    /// batches written to the dead-letter file.
    pub refused: u64,
    pub dead_lettered: u64,
    /// Frames that held no batch (another build's spool).
    pub unreadable: u64,
}

/// One capture read: the name records give it in `pcap_filename`, how it reached us
/// (`file`, `gzip`, `pipe`, `stdin`, `zip`), and what it held.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct InputCounts {
    pub name: String,
    pub container: &'static str,
    pub packets: u64,
    pub bytes: u64,
    /// Why reading stopped early, if it did (the records before were processed).
    pub damage: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SkippedInput {
    pub name: String,
    pub reason: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AlertCounts {
    pub total: u64,
    /// Alerts by rule id, by ATT&CK technique id and by severity name.
    pub by_rule: CodeCounts,
    pub by_technique: CodeCounts,
    pub by_severity: CodeCounts,
    /// Rules loaded and able to alert.
    pub rules: u64,
    /// Rule matches, before thresholds and suppression; matches a threshold held back;
    /// alerts silenced by a suppression window or the site's tuning; tracking entries
    /// dropped at the state cap.
    pub matched: u64,
    pub thresholded: u64,
    pub suppressed: u64,
    pub state_dropped: u64,
    /// Rules quiet because a host set they name is undefined, and the sets they wait
    /// for (`HMI`, ...): a variables file defines them, or the warm-up infers them.
    pub dormant: u64,
    pub waiting_for: Vec<String>,
    /// Host sets inferred from the warm-up (set name -> hosts), when they were.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub inferred: BTreeMap<String, u64>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DecodeCounts {
    pub files: u64,
    /// Ethernet/IPv4 ARP packets (checked by the rules, not written), and IP-to-MAC
    /// bindings forgotten when the table filled.
    pub arp: u64,
    pub arp_bindings_dropped: u64,
    /// Files whose reading stopped early at damage (the records before it were kept).
    pub files_truncated: u64,
    /// Files in directories and archives passed over as not captures.
    pub files_skipped: u64,
    /// Frames cut short by the capture's snap length (not a decode error).
    pub snaplen_truncated: u64,
    /// Live capture: frames longer than their link's MTU and link header, so not carried
    /// whole by the wire (merged by a receive offload before capture).
    pub oversize: u64,
    /// Live capture on several interfaces: frames that came more than the merge's hold
    /// after a later frame of another interface, so were analysed out of time order.
    pub merge_late: u64,
    /// Decode problems by event name; their sum is at least `decode_errors`.
    pub anomalies: CodeCounts,
    pub ipv4_checksum_errors: u64,
    pub tcp_checksum_errors: u64,
    pub udp_checksum_errors: u64,
    pub non_ip: u64,
    pub tunnelled: u64,
    pub fragments: u64,
    pub datagrams_reassembled: u64,
    pub fragments_dropped: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct StreamCounts {
    pub flows_timed_out: u64,
    /// Flows pushed out by the flow cap.
    pub flows_evicted: u64,
    pub peak_active_flows: u64,
    /// Flows tracked when the summary was taken (0 once a run ended: all have ended).
    pub active_flows: u64,
    /// TCP flows picked up without their handshake.
    pub tcp_midstream: u64,
    /// Flows by detected application protocol.
    pub app_protocols: CodeCounts,
    /// Holes skipped in TCP streams, for any reason.
    pub gaps: u64,
    /// Bytes acknowledged by a receiver but never captured (Zeek's capture loss).
    pub missed_bytes: u64,
    /// `missed_bytes` as a percentage of the stream bytes that should have been seen.
    pub capture_loss_pct: f64,
    /// Bytes skipped because a reassembly cap forced progress.
    pub overflow_bytes: u64,
    /// Bytes still missing when their flow ended.
    pub end_gap_bytes: u64,
    pub retransmitted_bytes: u64,
    pub overlap_conflicts: u64,
    /// Most out-of-order bytes held at once, over all flows.
    pub reassembly_peak_bytes: u64,
    /// Stream bytes a dissector gave up on (a partial PDU over its cap, or cut by a gap).
    pub app_dropped_bytes: u64,
    pub delivered_bytes: u64,
    /// Sources the scan tracker forgot when it held its maximum.
    pub scan_sources_dropped: u64,
    /// TCP segments seen again as sent on by the MAC they were sent to (a relay); watched
    /// when a rule reads `relay` events.
    pub relayed_segments: u64,
    /// Addresses the sender table forgot when it held its maximum.
    pub sender_hosts_dropped: u64,
    /// Addresses the asset book (`asset` records) forgot when it held its maximum.
    #[serde(skip_serializing_if = "is_zero")]
    pub assets_dropped: u64,
}

impl Summary {
    /// Derive the rate fields once the run's wall time is known.
    pub fn finish(&mut self, elapsed_s: f64) {
        self.elapsed_s = elapsed_s;
        self.packets_per_sec = if elapsed_s > 0.0 { self.packets as f64 / elapsed_s } else { 0.0 };
        let st = &mut self.streams;
        let expected = st.missed_bytes + st.delivered_bytes;
        st.capture_loss_pct = if expected > 0 { st.missed_bytes as f64 * 100.0 / expected as f64 } else { 0.0 };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_stable() {
        let v = serde_json::to_value(Summary::default()).unwrap();
        for key in ["packets", "bytes", "decode_errors", "flows", "elapsed_s", "packets_per_sec"] {
            assert!(v.get(key).is_some(), "missing {key}");
        }
        assert_eq!(v["protocols"], serde_json::json!({}), "sections come from the registered protocols");
        assert!(v["streams"].get("missed_bytes").is_some() && v["streams"].get("capture_loss_pct").is_some());
        assert!(v["alerts"].get("by_rule").is_some() && v["alerts"].get("by_technique").is_some());
    }
}
