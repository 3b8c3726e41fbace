use std::fmt;

/// A capture timestamp: nanoseconds since the Unix epoch (UTC).
///
/// Signed so that a corrupt pcap header with a pre-1970 time still orders and prints.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn from_secs_nanos(secs: i64, nanos: u32) -> Self {
        Timestamp(secs.saturating_mul(1_000_000_000).saturating_add(i64::from(nanos)))
    }

    pub const fn as_nanos(self) -> i64 {
        self.0
    }

    pub fn secs(self) -> i64 {
        self.0.div_euclid(1_000_000_000)
    }

    pub fn subsec_nanos(self) -> u32 {
        // rem_euclid of a positive modulus is in 0..1e9, which fits u32.
        u32::try_from(self.0.rem_euclid(1_000_000_000)).unwrap_or(0)
    }

    /// `Display`-able RFC 3339 form with microseconds, as Suricata's EVE writes it
    /// (`2016-05-04T16:08:15.123456+00:00`).
    pub fn rfc3339_micros(self) -> Rfc3339Micros {
        Rfc3339Micros(self)
    }
}

/// Formats a [`Timestamp`] without allocating.
#[derive(Clone, Copy, Debug)]
pub struct Rfc3339Micros(Timestamp);

impl fmt::Display for Rfc3339Micros {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.secs();
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        write!(f, "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:06}+00:00", sod / 3600, sod % 3600 / 60, sod % 60, self.0.subsec_nanos() / 1000)
    }
}

impl Timestamp {
    /// The RFC 3339 form written into `buf` without formatting machinery (every record
    /// carries one). `None` for a year outside 0..=9999 (not reachable from i64 nanoseconds,
    /// 1677 to 2262, but kept total).
    pub fn write_rfc3339_micros(self, buf: &mut [u8; 32]) -> Option<&str> {
        let secs = self.secs();
        let sod = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
        if !(0..=9999).contains(&y) {
            return None;
        }
        let micros = self.subsec_nanos() / 1000;
        *buf = *b"0000-00-00T00:00:00.000000+00:00";
        let mut put = |at: usize, width: usize, mut v: u64| {
            for i in (at..at + width).rev() {
                if let Some(b) = buf.get_mut(i) {
                    *b = b'0' + (v % 10) as u8;
                }
                v /= 10;
            }
        };
        put(0, 4, y as u64);
        put(5, 2, u64::from(m));
        put(8, 2, u64::from(d));
        put(11, 2, (sod / 3600) as u64);
        put(14, 2, (sod % 3600 / 60) as u64);
        put(17, 2, (sod % 60) as u64);
        put(20, 6, u64::from(micros));
        std::str::from_utf8(buf).ok()
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut buf = [0u8; 32];
        match self.write_rfc3339_micros(&mut buf) {
            Some(text) => s.serialize_str(text),
            None => s.collect_str(&self.rfc3339_micros()),
        }
    }
}

impl Timestamp {
    /// Reads the RFC 3339 form EVE writes (`2016-05-04T16:08:15.123456+00:00`; also `Z`,
    /// any UTC offset, a space for the `T`, up to nanoseconds): the inverse of
    /// [`Timestamp::rfc3339_micros`]. `None` for anything else.
    pub fn parse_rfc3339(text: &str) -> Option<Timestamp> {
        let b = text.as_bytes();
        let num = |r: std::ops::Range<usize>| -> Option<i64> {
            let s = b.get(r)?;
            s.iter().all(u8::is_ascii_digit).then(|| s.iter().fold(0i64, |n, d| n * 10 + i64::from(d - b'0')))
        };
        let at = |i: usize| b.get(i).copied();
        let shape = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')].iter().all(|&(i, c)| at(i) == Some(c));
        if !shape || !matches!(at(10), Some(b'T' | b' ')) {
            return None;
        }
        let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
        if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
            return None;
        }
        let mut i = 19;
        let mut nanos = 0u32;
        if at(i) == Some(b'.') {
            i += 1;
            let fraction = b.get(i..).unwrap_or_default();
            let digits = fraction.iter().take_while(|c| c.is_ascii_digit()).count();
            if digits == 0 {
                return None;
            }
            for d in fraction.iter().take(digits.min(9)) {
                nanos = nanos * 10 + u32::from(d - b'0');
            }
            nanos *= 10u32.pow(9u32.saturating_sub(digits as u32));
            i += digits;
        }
        let offset = match b.get(i..).unwrap_or_default() {
            b"Z" => 0,
            [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
                let minutes = num(i + 1..i + 3)? * 60 + num(i + 4..i + 6)?;
                if *sign == b'+' {
                    minutes * 60
                } else {
                    -minutes * 60
                }
            }
            _ => return None,
        };
        let secs = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset;
        Some(Timestamp::from_secs_nanos(secs, nanos))
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`, the inverse of [`civil_from_days`]).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    (y, u32::try_from(m).unwrap_or(1), u32::try_from(d).unwrap_or(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        // 2009-11-24T21:27:09.534255Z, a timestamp from Suricata's own EVE examples.
        let ts = Timestamp::from_secs_nanos(1_259_098_029, 534_255_999);
        assert_eq!(ts.rfc3339_micros().to_string(), "2009-11-24T21:27:09.534255+00:00");
        assert_eq!(Timestamp(0).rfc3339_micros().to_string(), "1970-01-01T00:00:00.000000+00:00");
        // Leap day and a negative instant.
        let leap = Timestamp::from_secs_nanos(951_782_400, 0); // 2000-02-29
        assert_eq!(leap.rfc3339_micros().to_string(), "2000-02-29T00:00:00.000000+00:00");
        assert_eq!(Timestamp(-1).rfc3339_micros().to_string(), "1969-12-31T23:59:59.999999+00:00");
    }

    #[test]
    fn fast_form_equals_display() {
        let mut buf = [0u8; 32];
        for ns in [0i64, 1_259_098_029_534_255_000, 4_102_444_799_999_999_000, -1, 951_782_400_000_000_000, i64::MIN, i64::MAX] {
            let t = Timestamp(ns);
            assert_eq!(t.write_rfc3339_micros(&mut buf).map(str::to_string), Some(t.rfc3339_micros().to_string()), "{ns}");
        }
    }

    #[test]
    fn rfc3339_reads_back_what_it_writes() {
        let mut buf = [0u8; 32];
        for ns in [0i64, 1_259_098_029_534_255_000, 951_782_400_000_000_000, 4_102_444_799_999_999_000, -1_000, 1_768_464_000_040_000_000] {
            let t = Timestamp(ns);
            assert_eq!(Timestamp::parse_rfc3339(t.write_rfc3339_micros(&mut buf).unwrap()), Some(t), "{ns}");
        }
        let at = |s: &str| Timestamp::parse_rfc3339(s).map(|t| (t.secs(), t.subsec_nanos()));
        assert_eq!(at("2026-01-15T09:00:00.5+01:00"), Some((1_768_464_000, 500_000_000)));
        assert_eq!(at("2000-02-29T23:59:59.1234567891Z"), Some((951_868_799, 123_456_789)));
        assert_eq!(at("2000-02-29T23:59:59.1234567Z"), Some((951_868_799, 123_456_700)));
        assert_eq!(at("2026-01-15T08:00:00.040000+00:00"), Some((1_768_464_000, 40_000_000)));
        assert_eq!(at("1970-01-01 00:00:00Z"), Some((0, 0)));
        for bad in
            ["", "2026-01-15", "2026-13-01T00:00:00Z", "2026-01-15T08:00:00.+00:00", "2026-01-15T08:00:00+0000", "2026-01-15T08:00:00"]
        {
            assert_eq!(Timestamp::parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn extreme_values_do_not_panic() {
        for v in [i64::MIN, i64::MAX, -1, 1] {
            let _ = Timestamp(v).rfc3339_micros().to_string();
        }
    }
}
