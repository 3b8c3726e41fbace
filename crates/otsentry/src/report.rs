//! What a person sees on stderr: a progress line on a terminal, and the run's summary.
use otsentry_core::Summary;
use std::io::{IsTerminal, Write};
use std::path::Path;

/// Files smaller than this finish too fast for a progress line to help.
const LARGE_INPUT: u64 = 32 << 20;

pub(crate) struct Progress {
    enabled: bool,
    active: bool,
    name: String,
}

impl Progress {
    pub(crate) fn new(quiet: bool) -> Self {
        Progress { enabled: !quiet && std::io::stderr().is_terminal(), active: false, name: String::new() }
    }

    pub(crate) fn start_file(&mut self, path: &Path) {
        self.name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    }

    pub(crate) fn update(&mut self, done: u64, total: u64) {
        if !self.enabled || total < LARGE_INPUT || done == 0 {
            return;
        }
        self.active = true;
        let pct = done.saturating_mul(100) / total.max(1);
        let filled = usize::try_from(pct / 5).unwrap_or(20);
        eprint!("\r{} [{}{}] {pct:3}%", self.name, "#".repeat(filled), " ".repeat(20 - filled.min(20)));
        let _ = std::io::stderr().flush();
    }

    pub(crate) fn end_file(&mut self) {
        if self.active {
            eprint!("\r\x1b[2K");
            self.active = false;
        }
    }
}

pub(crate) fn human_summary(s: &Summary, files: usize) {
    let d = &s.decode;
    let p = &s.protocols;
    eprintln!(
        "otsentry: {files} file(s), {} packets ({} bytes) in {:.3} s, {:.0} packets/s",
        s.packets, s.bytes, s.elapsed_s, s.packets_per_sec
    );
    eprintln!(
        "  decode: {} errors, {} snaplen-cut, {} non-IP, {} tunnelled, {} fragments ({} datagrams reassembled, {} dropped), checksum errors ipv4 {} tcp {} udp {}",
        s.decode_errors,
        d.snaplen_truncated,
        d.non_ip,
        d.tunnelled,
        d.fragments,
        d.datagrams_reassembled,
        d.fragments_dropped,
        d.ipv4_checksum_errors,
        d.tcp_checksum_errors,
        d.udp_checksum_errors
    );
    let st = &s.streams;
    let apps: Vec<String> = st.app_protocols.iter().map(|(k, v)| format!("{k} {v}")).collect();
    eprintln!(
        "  flows: {} ({} TCP midstream, {} evicted, {} timed out), apps: {}; streams: {} gaps, {} bytes never captured ({:.3}% capture loss), {} overlap conflicts",
        s.flows,
        st.tcp_midstream,
        st.flows_evicted,
        st.flows_timed_out,
        if apps.is_empty() { "none".to_string() } else { apps.join(", ") },
        st.gaps,
        st.missed_bytes,
        st.capture_loss_pct,
        st.overlap_conflicts
    );
    eprintln!(
        "  protocols: modbus {} PDUs, dnp3 {} link frames, s7comm {} PDUs, s7comm-plus {} PDUs",
        p.modbus.pdus, p.dnp3.link_frames, p.s7comm.pdus, p.s7comm_plus.pdus
    );
    eprintln!("  alerts: {}", s.alerts.total);
}
