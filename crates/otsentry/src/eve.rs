//! What the outputs' settings share: sizes, durations and fsync choices as written,
//! record-type sets, the sensor's name, and whether every output delivered.
use otsentry_core::SinkCounts;
use otsentry_sink::{Fsync, TypeSet};
use std::time::Duration;

/// A size: bytes, or with K, M or G (powers of 1024), e.g. `512M`.
pub(crate) fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let (digits, unit) = match t.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => t.split_at(i),
        None => (t, ""),
    };
    let shift = match unit.to_ascii_uppercase().trim_end_matches(['B', 'I']) {
        "" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        _ => return Err(format!("{text:?}: expected a size such as 1048576, 512K, 100M or 2G")),
    };
    let n: u64 = digits.parse().map_err(|_| format!("{text:?}: expected a size such as 1048576, 512K, 100M or 2G"))?;
    match n.checked_mul(1 << shift) {
        Some(0) | None => Err(format!("{text:?}: the size must be at least 1 byte and fit 64 bits")),
        Some(bytes) => Ok(bytes),
    }
}

/// A duration: seconds, or with s, m, h or d, e.g. `1h`.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let bad = || format!("{text:?}: expected a duration such as 30s, 15m, 1h or 1d");
    let (digits, unit) = match t.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => t.split_at(i),
        None => (t, "s"),
    };
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(bad()),
    };
    let n: u64 = digits.parse().map_err(|_| bad())?;
    match n.checked_mul(scale) {
        Some(0) | None => Err(format!("{text:?}: the duration must be at least 1 second")),
        Some(secs) => Ok(Duration::from_secs(secs)),
    }
}

/// `never`, `batch` or a duration (at most that long after a write).
pub(crate) fn parse_fsync(text: &str) -> Result<Fsync, String> {
    match text.trim() {
        "never" => Ok(Fsync::Never),
        "batch" => Ok(Fsync::Batch),
        other => parse_duration(other).map(Fsync::Every).map_err(|e| format!("{e}, or never, or batch")),
    }
}

/// The types named (checked by the CLI and the configuration), all when none are.
pub(crate) fn type_set(names: &[String]) -> TypeSet {
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    if names.is_empty() {
        TypeSet::ALL
    } else {
        TypeSet::of(&names)
    }
}

/// Fails the run (after its summary) if a sink lost records, naming each and why. A
/// stream whose reader went away (`| head`, the only way a sink is `closed`) had all it
/// wanted: that is no failure.
pub(crate) fn delivered(sinks: &[SinkCounts]) -> anyhow::Result<()> {
    let mut lost = Vec::new();
    for c in sinks.iter().filter(|c| c.dropped > 0 && !c.closed) {
        let why = c.last_error.as_deref().unwrap_or("no error recorded");
        lost.push(format!("{}: {} of {} records not written ({why})", c.name, c.dropped, c.accepted + c.dropped));
    }
    if let Some(c) = sinks.iter().find(|c| c.unencodable > 0) {
        lost.push(format!("{} records could not be serialised and were left out of every output", c.unencodable));
    }
    match lost.is_empty() {
        true => Ok(()),
        false => anyhow::bail!("{}", lost.join("; ")),
    }
}

/// The sensor's name when none is configured: the machine's host name.
pub(crate) fn default_host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "otsentry".to_string())
}

/// A stable 64-bit hash of the sensor's name (FNV-1a), mixed into flow ids.
pub(crate) fn host_salt(host: &str) -> u64 {
    host.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_durations_and_fsync() {
        assert_eq!(parse_size("1048576"), Ok(1 << 20));
        assert_eq!(parse_size("512K"), Ok(512 << 10));
        assert_eq!(parse_size("100M"), Ok(100 << 20));
        assert_eq!(parse_size("2GiB"), Ok(2 << 30));
        for bad in ["", "0", "12Q", "M", "-5", "99999999999G"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("1d"), Ok(Duration::from_secs(86_400)));
        for bad in ["", "0s", "1w", "h"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_fsync("batch"), Ok(Fsync::Batch));
        assert_eq!(parse_fsync("never"), Ok(Fsync::Never));
        assert_eq!(parse_fsync("5s"), Ok(Fsync::Every(Duration::from_secs(5))));
        assert!(parse_fsync("sometimes").unwrap_err().contains("never"));
    }
}
