//! Syslog framing for the CEF output: an RFC 5424 message (RFC 3164
//! for old receivers) around one line, and RFC 6587 octet counting for stream
//! transports (TCP, TLS), where a message may hold any byte a line break included.
use otsentry_core::{Severity, Timestamp};

/// The syslog header a receiver expects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// `<PRI>1 TIMESTAMP HOST APP PROCID MSGID - MSG`.
    Rfc5424,
    /// `<PRI>Mmm dd hh:mm:ss HOST APP: MSG`, for receivers that predate RFC 5424.
    Rfc3164,
}

/// Syslog's severity (0 emergency .. 7 debug) for ours: critical 2, high 3, medium 4,
/// low 5, info 6.
pub fn syslog_severity(s: Severity) -> u8 {
    match s {
        Severity::Critical => 2,
        Severity::High => 3,
        Severity::Medium => 4,
        Severity::Low => 5,
        Severity::Info => 6,
    }
}

/// Where a message comes from: the facility (0-23; local0 is 16), the sensor's host
/// name and the application's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    pub facility: u8,
    pub host: String,
    pub app: String,
}

/// A header field as RFC 5424 allows it: printable US-ASCII without spaces, at most
/// `max` bytes, `-` when nothing is left.
fn field(text: &str, max: usize) -> String {
    let kept: String = text.chars().filter(|c| c.is_ascii_graphic()).take(max).collect();
    if kept.is_empty() {
        "-".to_string()
    } else {
        kept
    }
}

/// One syslog message of `framing` carrying `msg` at `ts` with `severity` (syslog's).
pub fn message(framing: Framing, origin: &Origin, severity: u8, ts: Timestamp, msg: &str) -> String {
    let pri = u16::from(origin.facility.min(23)) * 8 + u16::from(severity.min(7));
    match framing {
        Framing::Rfc5424 => {
            let (host, app) = (field(&origin.host, 255), field(&origin.app, 48));
            format!("<{pri}>1 {} {host} {app} - - - {msg}", ts.rfc3339_micros())
        }
        Framing::Rfc3164 => {
            // `2026-01-15T08:00:00.120000+00:00` as `Jan 15 08:00:00`.
            let full = ts.rfc3339_micros().to_string();
            let month = full.get(5..7).and_then(|m| m.parse::<usize>().ok()).unwrap_or(1);
            let name = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
                .get(month - 1)
                .copied()
                .unwrap_or("Jan");
            let day = full.get(8..10).and_then(|d| d.parse::<u8>().ok()).unwrap_or(1);
            let time = full.get(11..19).unwrap_or("00:00:00");
            // The tag is alphanumeric, at most 32 characters.
            let tag: String = origin.app.chars().filter(char::is_ascii_alphanumeric).take(32).collect();
            let host = field(&origin.host, 255);
            format!("<{pri}>{name} {day:>2} {time} {host} {tag}: {msg}")
        }
    }
}

/// RFC 6587 octet counting: the message's length in bytes, a space, the message.
pub fn octet_counted(message: &str) -> String {
    format!("{} {message}", message.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin() -> Origin {
        Origin { facility: 16, host: "sensor 1.plant".into(), app: "otsentry".into() }
    }

    fn at() -> Timestamp {
        // 2026-01-05T08:00:00.120000Z
        Timestamp::from_secs_nanos(1_767_600_000, 120_000_000)
    }

    #[test]
    fn rfc5424_has_every_header_field_and_nil_values() {
        let m = message(Framing::Rfc5424, &origin(), syslog_severity(Severity::High), at(), "CEF:0|a|b|c|d|e|8|");
        // local0 (16) * 8 + error (3).
        assert_eq!(m, "<131>1 2026-01-05T08:00:00.120000+00:00 sensor1.plant otsentry - - - CEF:0|a|b|c|d|e|8|");
        let empty = Origin { host: " ".into(), ..origin() };
        assert!(message(Framing::Rfc5424, &empty, 6, at(), "x").contains("+00:00 - otsentry"), "an empty host is the nil value");
    }

    #[test]
    fn rfc3164_pads_the_day_and_tags_the_app() {
        let m = message(Framing::Rfc3164, &origin(), syslog_severity(Severity::Critical), at(), "CEF:0|x");
        assert_eq!(m, "<130>Jan  5 08:00:00 sensor1.plant otsentry: CEF:0|x");
    }

    #[test]
    fn octet_counting_counts_bytes_not_characters() {
        assert_eq!(octet_counted("abc"), "3 abc");
        let m = "é\nz";
        assert_eq!(octet_counted(m), format!("4 {m}"));
    }

    #[test]
    fn severities_and_facilities_stay_in_range() {
        let got: Vec<u8> = Severity::ALL.iter().map(|&s| syslog_severity(s)).collect();
        assert_eq!(got, [6, 5, 4, 3, 2]);
        let top = Origin { facility: 99, ..origin() };
        assert!(message(Framing::Rfc5424, &top, 99, at(), "x").starts_with("<191>1 "), "PRI at most 191");
    }
}
