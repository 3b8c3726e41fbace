//! The sensor's own health, as `health` events the pack's "Sensor health" rules read:
//! an interface silent too long, kernel drops above a share of packets, an interface
//! down, an output spooling or dropping, a reload that failed. Each condition is raised
//! once when it starts, not on every tick it lasts.
use otsentry_core::{CaptureCounts, FieldAccess, FieldDef, FieldId, FieldType as T, FieldValue, InputCounts, Schema, SinkCounts};
use serde::Serialize;
use std::time::{Duration, Instant};

otsentry_core::field_table!(FIELDS:
    KIND => FieldDef::one("health.kind", T::Str),
    INTERFACE => FieldDef::one("health.interface", T::Str),
    OUTPUT => FieldDef::one("health.output", T::Str),
    SECONDS => FieldDef::one("health.seconds", T::Uint),
    DROP_PERMILLE => FieldDef::one("health.drop_permille", T::Uint).at_most(1000),
    REASON => FieldDef::one("health.reason", T::Str),
);

/// The `health` event's fields: `health.kind` is `interface_silent`, `kernel_drops`,
/// `interface_down`, `interface_up`, `output_spooling`, `output_dropping` or
/// `reload_failed`; `health.interface` and `health.output` name what it is about;
/// `health.seconds` how long a silence or outage lasted; `health.drop_permille` the
/// share of packets the kernel dropped in the interval; `health.reason` says why.
pub(crate) static HEALTH_SCHEMA: Schema = Schema { event_type: "health", fields: &FIELDS, groups: &[], keys: &[] };

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HealthEvent {
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interface: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seconds: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drop_permille: Option<u64>,
    pub reason: String,
}

impl HealthEvent {
    /// What rules see of a health event: the sensor itself, no addresses.
    pub(crate) fn subject(now: otsentry_core::Timestamp) -> otsentry_rules::Subject<'static> {
        let none = std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED);
        otsentry_rules::Subject { ts: now, src: none, dst: none, src_port: None, dst_port: None, vlan: &[], to_server: true, flow_id: 0 }
    }

    pub fn new(kind: &'static str, reason: String) -> HealthEvent {
        HealthEvent { kind, interface: None, output: None, seconds: None, drop_permille: None, reason }
    }
}

impl FieldAccess for HealthEvent {
    fn schema(&self) -> &'static Schema {
        &HEALTH_SCHEMA
    }
    fn value(&self, id: FieldId, _elem: usize) -> Option<FieldValue<'_>> {
        Some(match id.0 {
            KIND => FieldValue::Str(self.kind),
            INTERFACE => FieldValue::Str(self.interface.as_deref()?),
            OUTPUT => FieldValue::Str(self.output.as_deref()?),
            SECONDS => FieldValue::U64(self.seconds?),
            DROP_PERMILLE => FieldValue::U64(self.drop_permille?),
            REASON => FieldValue::Str(&self.reason),
            _ => return None,
        })
    }
}

/// When the sensor calls itself unwell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HealthSettings {
    /// An interface that delivers nothing for this long is reported; `None`: never.
    pub silence: Option<Duration>,
    /// Kernel drops above this share (per mille) of the packets offered in `drop_window`.
    pub drop_permille: u64,
    pub drop_window: Duration,
}

impl Default for HealthSettings {
    fn default() -> Self {
        HealthSettings { silence: Some(Duration::from_secs(300)), drop_permille: 10, drop_window: Duration::from_secs(60) }
    }
}

#[derive(Debug)]
struct Interface {
    packets: u64,
    since: Instant,
    silent: bool,
    down: Option<Instant>,
}

/// What the health watch remembers between ticks.
#[derive(Debug)]
pub(crate) struct HealthWatch {
    settings: HealthSettings,
    interfaces: Vec<Interface>,
    /// The kernel's counts at the start of the drop window, and when it started.
    window: (CaptureCounts, Instant),
    /// Per output: batches spooled and records dropped as of the last look, and whether
    /// it was spooling then.
    outputs: Vec<(u64, u64, bool)>,
    /// What is wrong as of the last look (for `/health`).
    problems: Vec<String>,
}

impl HealthWatch {
    pub(crate) fn new(settings: HealthSettings, now: Instant) -> HealthWatch {
        HealthWatch { settings, interfaces: Vec::new(), window: (CaptureCounts::default(), now), outputs: Vec::new(), problems: Vec::new() }
    }

    /// Compares the run's counters with the last look; the conditions that started.
    pub(crate) fn check(
        &mut self,
        now: Instant,
        inputs: &[InputCounts],
        capture: CaptureCounts,
        outputs: &[SinkCounts],
    ) -> Vec<HealthEvent> {
        let mut events = Vec::new();
        self.problems.clear();
        self.interfaces.resize_with(inputs.len(), || Interface { packets: 0, since: now, silent: false, down: None });
        for (input, state) in inputs.iter().zip(&mut self.interfaces) {
            let named = |mut e: HealthEvent| {
                e.interface = Some(input.name.clone());
                e
            };
            match (&input.damage, state.down) {
                (Some(why), None) => {
                    state.down = Some(now);
                    events.push(named(HealthEvent::new("interface_down", why.clone())));
                }
                (None, Some(since)) => {
                    state.down = None;
                    let mut e = named(HealthEvent::new("interface_up", "capture resumed".into()));
                    e.seconds = Some(now.saturating_duration_since(since).as_secs());
                    events.push(e);
                }
                _ => {}
            }
            if input.packets != state.packets {
                state.packets = input.packets;
                state.since = now;
                state.silent = false;
            }
            if let Some(why) = &input.damage {
                self.problems.push(format!("interface {} down: {why}", input.name));
            }
            let quiet = now.saturating_duration_since(state.since);
            if let Some(limit) = self.settings.silence.filter(|&l| quiet >= l && !state.silent && state.down.is_none()) {
                state.silent = true;
                let mut e = named(HealthEvent::new(
                    "interface_silent",
                    format!("no packet for {} s (--silence-alert {} s)", quiet.as_secs(), limit.as_secs()),
                ));
                e.seconds = Some(quiet.as_secs());
                events.push(e);
            }
        }
        let (start, began) = self.window;
        if now.saturating_duration_since(began) >= self.settings.drop_window {
            let received = capture.kernel_packets.saturating_sub(start.kernel_packets);
            let dropped = (capture.kernel_drops + capture.kernel_ifdrops).saturating_sub(start.kernel_drops + start.kernel_ifdrops);
            let offered = received + dropped;
            let permille = dropped.saturating_mul(1000).checked_div(offered).unwrap_or(0);
            if dropped > 0 && permille >= self.settings.drop_permille {
                let mut e = HealthEvent::new(
                    "kernel_drops",
                    format!("the kernel dropped {dropped} of {offered} packets in {} s", now.saturating_duration_since(began).as_secs()),
                );
                e.drop_permille = Some(permille);
                events.push(e);
            }
            self.window = (capture, now);
        }
        self.outputs.resize(outputs.len(), (0, 0, false));
        for (o, last) in outputs.iter().zip(&mut self.outputs) {
            let spooled = o.spool.as_ref().map_or(0, |s| s.spooled);
            let named = |kind, reason: String| HealthEvent { output: Some(o.name.clone()), ..HealthEvent::new(kind, reason) };
            let spooling = spooled > last.0;
            if spooling && !last.2 {
                let why = o.last_error.as_deref().unwrap_or("the destination is behind");
                events.push(named("output_spooling", format!("batches go to the spool ({spooled} so far): {why}")));
            }
            if o.dropped > last.1 {
                let why = o.last_error.as_deref().unwrap_or("queue full");
                events.push(named("output_dropping", format!("{} records given up ({} in all): {why}", o.dropped - last.1, o.dropped)));
            }
            if spooling || o.dropped > last.1 || o.closed {
                let why = o.last_error.as_deref().unwrap_or(if o.closed { "closed" } else { "behind" });
                self.problems.push(format!("output {} failing: {why}", o.name));
            }
            *last = (spooled, o.dropped, spooling);
        }
        events
    }
}

impl HealthWatch {
    /// What is wrong as of the last look: interfaces down, outputs spooling, dropping
    /// or closed since the look before.
    pub(crate) fn problems(&self) -> &[String] {
        &self.problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(packets: u64, damage: Option<&str>) -> InputCounts {
        InputCounts { name: "eth1".into(), container: "interface", packets, bytes: 0, damage: damage.map(str::to_string) }
    }

    fn kinds(e: &[HealthEvent]) -> Vec<&str> {
        e.iter().map(|e| e.kind).collect()
    }

    #[test]
    fn silence_is_raised_once_per_episode() {
        let t0 = Instant::now();
        let s = HealthSettings { silence: Some(Duration::from_secs(10)), ..HealthSettings::default() };
        let mut w = HealthWatch::new(s, t0);
        let none = CaptureCounts::default();
        assert!(w.check(t0, &[input(5, None)], none, &[]).is_empty());
        assert!(w.check(t0 + Duration::from_secs(9), &[input(5, None)], none, &[]).is_empty());
        assert_eq!(kinds(&w.check(t0 + Duration::from_secs(11), &[input(5, None)], none, &[])), ["interface_silent"]);
        assert!(w.check(t0 + Duration::from_secs(30), &[input(5, None)], none, &[]).is_empty(), "once");
        // Traffic again, then silence again: a second episode.
        assert!(w.check(t0 + Duration::from_secs(31), &[input(6, None)], none, &[]).is_empty());
        assert_eq!(kinds(&w.check(t0 + Duration::from_secs(42), &[input(6, None)], none, &[])), ["interface_silent"]);
    }

    #[test]
    fn an_outage_is_raised_when_it_starts_and_ends() {
        let t0 = Instant::now();
        let mut w = HealthWatch::new(HealthSettings::default(), t0);
        let none = CaptureCounts::default();
        assert!(w.check(t0, &[input(1, None)], none, &[]).is_empty());
        assert_eq!(kinds(&w.check(t0, &[input(1, Some("link down"))], none, &[])), ["interface_down"]);
        assert_eq!(w.problems(), ["interface eth1 down: link down"]);
        assert!(w.check(t0 + Duration::from_secs(1), &[input(1, Some("link down"))], none, &[]).is_empty());
        let up = w.check(t0 + Duration::from_secs(4), &[input(1, None)], none, &[]);
        assert!(w.problems().is_empty());
        assert_eq!(kinds(&up), ["interface_up"]);
        assert_eq!(up[0].seconds, Some(4));
    }

    #[test]
    fn kernel_drops_above_the_share_in_a_window() {
        let t0 = Instant::now();
        let mut w = HealthWatch::new(HealthSettings::default(), t0);
        let c = |p, d| CaptureCounts { kernel_packets: p, kernel_drops: d, kernel_ifdrops: 0 };
        // 5 of 1000 dropped: under 1 %.
        assert!(w.check(t0 + Duration::from_secs(60), &[], c(995, 5), &[]).is_empty());
        // The next minute: 50 of 1000.
        let e = w.check(t0 + Duration::from_secs(120), &[], c(1945, 55), &[]);
        assert_eq!(kinds(&e), ["kernel_drops"]);
        assert_eq!(e[0].drop_permille, Some(50));
    }

    #[test]
    fn outputs_that_drop_or_start_spooling() {
        let t0 = Instant::now();
        let mut w = HealthWatch::new(HealthSettings::default(), t0);
        let mut o = SinkCounts { name: "eve:x".into(), ..SinkCounts::default() };
        assert!(w.check(t0, &[], CaptureCounts::default(), std::slice::from_ref(&o)).is_empty());
        o.dropped = 3;
        o.last_error = Some("disk full".into());
        let e = w.check(t0, &[], CaptureCounts::default(), std::slice::from_ref(&o));
        assert_eq!(kinds(&e), ["output_dropping"]);
        assert!(e[0].reason.contains("disk full"), "{}", e[0].reason);
        assert!(w.check(t0, &[], CaptureCounts::default(), std::slice::from_ref(&o)).is_empty(), "only new drops");
    }
}
