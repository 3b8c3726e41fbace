//! Summaries merged: counters summed, names joined, peaks and maxima by maximum, lists
//! appended. Workers, interfaces or runs each keep their own summary; the sum is what one
//! pipeline over all their traffic would count (peaks are the most any one held).
use crate::sections::CodeCounts;
use crate::summary::{AlertCounts, DecodeCounts, Forbidden, SegmentationCounts, StreamCounts, Summary};

fn add(into: &mut CodeCounts, from: &CodeCounts) {
    for (k, n) in from {
        *into.entry(k.clone()).or_default() += n;
    }
}

impl Summary {
    /// Adds `other`'s counts to this summary. Rates are derived again by `finish`.
    pub fn merge(&mut self, other: &Summary) {
        self.packets += other.packets;
        self.bytes += other.bytes;
        self.decode_errors += other.decode_errors;
        self.flows += other.flows;
        self.elapsed_s = self.elapsed_s.max(other.elapsed_s);
        self.protocols.merge(&other.protocols);
        self.alerts.merge(&other.alerts);
        self.decode.merge(&other.decode);
        self.streams.merge(&other.streams);
        self.capture += other.capture;
        self.inputs.extend(other.inputs.iter().cloned());
        self.skipped_inputs.extend(other.skipped_inputs.iter().cloned());
        self.outputs.extend(other.outputs.iter().cloned());
        self.segmentation.merge(&other.segmentation);
        add(&mut self.baseline, &other.baseline);
        let (s, o) = (&mut self.sensor, &other.sensor);
        s.reloads = s.reloads.max(o.reloads);
        s.reloads_failed = s.reloads_failed.max(o.reloads_failed);
        s.interface_outages += o.interface_outages;
        s.interface_reopened += o.interface_reopened;
        s.worker_drops += o.worker_drops;
        s.worker_packets.extend(&o.worker_packets);
        add(&mut s.health, &o.health);
        // One budget shared by every worker: any snapshot of it is the whole.
        if !other.memory.is_empty() {
            self.memory.clone_from(&other.memory);
        }
        // The ledger is shared too; rings are each worker's own.
        if let Some(o) = other.evidence {
            let not_kept = self.evidence.map_or(0, |e| e.not_kept);
            self.evidence = Some(crate::summary::EvidenceCounts { not_kept: not_kept + o.not_kept, ..o });
        }
        let elapsed = self.elapsed_s;
        self.finish(elapsed);
    }
}

impl AlertCounts {
    fn merge(&mut self, o: &AlertCounts) {
        self.total += o.total;
        add(&mut self.by_rule, &o.by_rule);
        add(&mut self.by_technique, &o.by_technique);
        add(&mut self.by_severity, &o.by_severity);
        // Every worker loads the same rules.
        self.rules = self.rules.max(o.rules);
        self.matched += o.matched;
        self.thresholded += o.thresholded;
        self.suppressed += o.suppressed;
        self.state_dropped += o.state_dropped;
        // The same rules, and the same sets once inferred: the widest view wins.
        self.dormant = self.dormant.max(o.dormant);
        if self.waiting_for.is_empty() {
            self.waiting_for.clone_from(&o.waiting_for);
        }
        for (k, n) in &o.inferred {
            let e = self.inferred.entry(k.clone()).or_default();
            *e = (*e).max(*n);
        }
    }
}

impl DecodeCounts {
    fn merge(&mut self, o: &DecodeCounts) {
        self.files += o.files;
        self.arp += o.arp;
        self.arp_bindings_dropped += o.arp_bindings_dropped;
        self.files_truncated += o.files_truncated;
        self.files_skipped += o.files_skipped;
        self.snaplen_truncated += o.snaplen_truncated;
        self.oversize += o.oversize;
        self.merge_late += o.merge_late;
        add(&mut self.anomalies, &o.anomalies);
        self.ipv4_checksum_errors += o.ipv4_checksum_errors;
        self.tcp_checksum_errors += o.tcp_checksum_errors;
        self.udp_checksum_errors += o.udp_checksum_errors;
        self.non_ip += o.non_ip;
        self.tunnelled += o.tunnelled;
        self.fragments += o.fragments;
        self.datagrams_reassembled += o.datagrams_reassembled;
        self.fragments_dropped += o.fragments_dropped;
    }
}

impl StreamCounts {
    fn merge(&mut self, o: &StreamCounts) {
        self.flows_timed_out += o.flows_timed_out;
        self.flows_evicted += o.flows_evicted;
        // Peaks of separate tables: the most any one held.
        self.peak_active_flows = self.peak_active_flows.max(o.peak_active_flows);
        self.active_flows += o.active_flows;
        self.tcp_midstream += o.tcp_midstream;
        add(&mut self.app_protocols, &o.app_protocols);
        self.gaps += o.gaps;
        self.missed_bytes += o.missed_bytes;
        self.overflow_bytes += o.overflow_bytes;
        self.end_gap_bytes += o.end_gap_bytes;
        self.retransmitted_bytes += o.retransmitted_bytes;
        self.overlap_conflicts += o.overlap_conflicts;
        self.reassembly_peak_bytes = self.reassembly_peak_bytes.max(o.reassembly_peak_bytes);
        self.app_dropped_bytes += o.app_dropped_bytes;
        self.delivered_bytes += o.delivered_bytes;
        self.scan_sources_dropped += o.scan_sources_dropped;
        self.relayed_segments += o.relayed_segments;
        self.sender_hosts_dropped += o.sender_hosts_dropped;
        self.assets_dropped += o.assets_dropped;
    }
}

impl SegmentationCounts {
    fn merge(&mut self, o: &SegmentationCounts) {
        self.conversations.extend(o.conversations.iter().cloned());
        // Each list is in (client, server, protocol, class) order and a pair's entries
        // all come from one worker: a stable sort by the pair restores the whole order.
        let pair = |f: &Forbidden| (f.src_ip.parse::<std::net::IpAddr>().ok(), f.dest_ip.parse::<std::net::IpAddr>().ok());
        self.conversations.sort_by_key(pair);
        if self.conduits_used.len() < o.conduits_used.len() {
            self.conduits_used.resize(o.conduits_used.len(), 0);
        }
        for (n, m) in self.conduits_used.iter_mut().zip(&o.conduits_used) {
            *n += m;
        }
        self.dropped += o.dropped;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sections::{CounterKind, SectionLayout};
    use crate::summary::CaptureCounts;

    static TOY: SectionLayout = SectionLayout {
        name: "toy",
        counters: &[("functions", CounterKind::Codes), ("function_names", CounterKind::Names("functions"))],
        headline: "functions",
    };

    #[test]
    fn a_merged_summary_counts_both_and_keeps_the_larger_peak() {
        let mut a = Summary { packets: 10, flows: 2, ..Default::default() };
        let mut tally = crate::sections::Tally::default();
        (0..4).for_each(|_| tally.add(3u8));
        a.protocols.section(&TOY).drain_named("functions", &mut tally, |_| "read_holding_registers");
        a.streams.peak_active_flows = 5;
        a.alerts.by_severity.insert("high".into(), 1);
        let mut b = Summary { packets: 5, flows: 1, ..Default::default() };
        let codes = b.protocols.section(&TOY).codes_mut("functions").unwrap();
        codes.insert("3".into(), 1);
        codes.insert("16".into(), 2);
        b.streams.peak_active_flows = 7;
        b.alerts.by_severity.insert("high".into(), 2);
        b.segmentation.conduits_used = vec![1, 2];
        a.capture.kernel_packets = 7;
        b.capture = CaptureCounts { kernel_packets: 8, kernel_drops: 1, kernel_ifdrops: 0 };
        a.merge(&b);
        assert_eq!((a.capture.kernel_packets, a.capture.kernel_drops), (15, 1));
        assert_eq!((a.packets, a.flows), (15, 3));
        let toy = a.protocols.get("toy").unwrap();
        assert_eq!(toy.codes("functions").unwrap().get("3"), Some(&5));
        assert_eq!(toy.codes("functions").unwrap().get("16"), Some(&2));
        assert_eq!(toy.names("function_names").unwrap().len(), 1);
        assert_eq!(a.streams.peak_active_flows, 7);
        assert_eq!(a.alerts.by_severity.get("high"), Some(&3));
        assert_eq!(a.segmentation.conduits_used, vec![1, 2]);
    }
}
