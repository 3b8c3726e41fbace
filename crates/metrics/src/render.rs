//! A live view in Prometheus' text exposition format (version 0.0.4): `# HELP` and
//! `# TYPE` once per family, then one line per series. Counters are totals since the
//! sensor started (they end in `_total`); gauges are values now.
use otsentry_core::LiveView;
use std::fmt::Write;

/// The content type of [`render`]'s text.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

struct Out(String);

impl Out {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.0, "# HELP {name} {help}");
        let _ = writeln!(self.0, "# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.0.push_str(name);
        if !labels.is_empty() {
            self.0.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.0.push(',');
                }
                let _ = write!(self.0, "{k}=\"{}\"", escape(v));
            }
            self.0.push('}');
        }
        let _ = writeln!(self.0, " {value}");
    }

    /// A family with one unlabelled sample.
    fn one(&mut self, name: &str, kind: &str, help: &str, value: f64) {
        self.family(name, kind, help);
        self.sample(name, &[], value);
    }
}

/// A label value as the format writes it: backslash, double quote and newline escaped.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// The view as Prometheus text.
pub fn render(view: &LiveView) -> String {
    let s = &view.stats;
    let own = &s.otsentry;
    let mut o = Out(String::new());
    o.one("otsentry_uptime_seconds", "gauge", "Seconds since the sensor started.", s.uptime as f64);
    o.one(
        "otsentry_healthy",
        "gauge",
        "1 while every interface captures and every output delivers, else 0.",
        f64::from(u8::from(view.problems.is_empty())),
    );
    o.one("otsentry_packets_total", "counter", "Packets read from the interfaces.", s.decoder.pkts as f64);
    o.one("otsentry_bytes_total", "counter", "Captured bytes read from the interfaces.", s.decoder.bytes as f64);
    o.one("otsentry_decode_invalid_total", "counter", "Packets whose decoding stopped on malformed data.", s.decoder.invalid as f64);
    o.one(
        "otsentry_kernel_packets_total",
        "counter",
        "Packets the kernel handed to the capture (pcap_stats).",
        s.capture.kernel_packets as f64,
    );
    o.one("otsentry_kernel_drops_total", "counter", "Packets the kernel dropped for want of buffer space.", s.capture.kernel_drops as f64);
    o.one("otsentry_kernel_ifdrops_total", "counter", "Packets the interface or its driver dropped.", s.capture.kernel_ifdrops as f64);
    o.family("otsentry_interface_packets_total", "counter", "Packets read, per interface.");
    for i in &view.inputs {
        o.sample("otsentry_interface_packets_total", &[("interface", &i.name)], i.packets as f64);
    }
    o.family("otsentry_interface_bytes_total", "counter", "Captured bytes read, per interface.");
    for i in &view.inputs {
        o.sample("otsentry_interface_bytes_total", &[("interface", &i.name)], i.bytes as f64);
    }
    o.family("otsentry_interface_up", "gauge", "1 while the interface captures (link up, handle working), else 0.");
    for i in &view.inputs {
        o.sample("otsentry_interface_up", &[("interface", &i.name)], f64::from(u8::from(i.damage.is_none())));
    }
    o.one("otsentry_interface_outages_total", "counter", "Times an interface went down.", own.sensor.interface_outages as f64);
    o.one("otsentry_flows_total", "counter", "Flows seen.", s.flow.total as f64);
    o.one("otsentry_flows_active", "gauge", "Flows in the flow table now.", s.flow.active as f64);
    o.family("otsentry_pdus_total", "counter", "Protocol data units dissected (transactions), per protocol.");
    for (protocol, n) in &s.app_layer.tx {
        o.sample("otsentry_pdus_total", &[("protocol", protocol)], *n as f64);
    }
    o.family("otsentry_alerts_total", "counter", "Alerts raised, per severity.");
    for (severity, n) in &own.alerts.by_severity {
        o.sample("otsentry_alerts_total", &[("severity", severity)], *n as f64);
    }
    o.family("otsentry_output_records_total", "counter", "Records per output: accepted by its queue, written, dropped.");
    for out in &own.outputs {
        for (state, n) in [("accepted", out.accepted), ("written", out.written), ("dropped", out.dropped)] {
            o.sample("otsentry_output_records_total", &[("output", &out.name), ("state", state)], n as f64);
        }
    }
    o.family("otsentry_output_retries_total", "counter", "Write attempts repeated after a retriable error, per output.");
    for out in &own.outputs {
        o.sample("otsentry_output_retries_total", &[("output", &out.name)], out.retried as f64);
    }
    o.family("otsentry_spool_bytes", "gauge", "Bytes held in an output's spool, not yet delivered.");
    for out in &own.outputs {
        if let Some(spool) = &out.spool {
            o.sample("otsentry_spool_bytes", &[("output", &out.name)], spool.pending_bytes as f64);
        }
    }
    o.family("otsentry_reloads_total", "counter", "Reloads (SIGUSR2): applied, or refused for a bad file.");
    o.sample("otsentry_reloads_total", &[("result", "applied")], own.sensor.reloads as f64);
    o.sample("otsentry_reloads_total", &[("result", "refused")], own.sensor.reloads_failed as f64);
    o.family("otsentry_health_events_total", "counter", "Sensor health events raised, per kind.");
    for (kind, n) in &own.sensor.health {
        o.sample("otsentry_health_events_total", &[("kind", kind)], *n as f64);
    }
    o.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use otsentry_core::{InputCounts, SinkCounts};

    #[test]
    fn families_are_declared_once_and_labels_escaped() {
        let mut v = LiveView::default();
        v.stats.decoder.pkts = 42;
        v.stats.app_layer.tx.insert("modbus".into(), 7);
        v.inputs.push(InputCounts { name: "eth\"1".into(), container: "interface", packets: 40, bytes: 4000, damage: None });
        v.stats.otsentry.outputs.push(SinkCounts { name: "eve:/var/log/a\\b.json".into(), written: 3, ..SinkCounts::default() });
        let text = render(&v);
        assert!(text.contains("otsentry_packets_total 42\n"), "{text}");
        assert!(text.contains("otsentry_pdus_total{protocol=\"modbus\"} 7\n"), "{text}");
        assert!(text.contains("otsentry_interface_up{interface=\"eth\\\"1\"} 1\n"), "{text}");
        assert!(text.contains("otsentry_output_records_total{output=\"eve:/var/log/a\\\\b.json\",state=\"written\"} 3\n"), "{text}");
        assert!(text.contains("otsentry_healthy 1\n"));
        let mut types: Vec<&str> = text.lines().filter_map(|l| l.strip_prefix("# TYPE ")).map(|l| l.split(' ').next().unwrap()).collect();
        let n = types.len();
        types.sort_unstable();
        types.dedup();
        assert_eq!(types.len(), n, "each family once");
    }
}
