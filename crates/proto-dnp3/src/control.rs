//! Select-before-operate, as the outstation's side of the session sees it: a select the
//! outstation accepted must be followed by the identical operate within the select
//! timeout, and a session that uses select-before-operate does not operate without one.
//! Direct operate (function 5) is legal and never judged here.
use crate::app::Fragment;

/// IEEE 1815 leaves the select timeout to the outstation; 10 s covers the common defaults.
pub(crate) const SELECT_TIMEOUT_NS: i64 = 10_000_000_000;

/// What a control request commands: every CROB and analog output, folded into one word
/// (a select and its operate must carry the same objects, values included).
pub(crate) fn commands(f: &Fragment) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut mix = |v: u64| {
        for b in v.to_le_bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01B3);
        }
    };
    for c in &f.crobs {
        mix(u64::from(c.index) << 32 | u64::from(c.control_code) << 8 | u64::from(c.count));
        mix(u64::from(c.on_time_ms) << 32 | u64::from(c.off_time_ms));
    }
    for a in &f.analog_outputs {
        mix(u64::from(a.index));
        mix(a.value.to_bits());
    }
    h
}

/// The first status other than success among a response's CROBs and analog outputs.
pub(crate) fn failed_status(f: &Fragment) -> Option<u8> {
    f.crobs.iter().map(|c| c.status & 0x7F).chain(f.analog_outputs.iter().map(|a| a.status & 0x7F)).find(|&s| s != 0)
}

/// The session's last select.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Select {
    pub(crate) seq: u8,
    pub(crate) commands: u64,
    pub(crate) ts: i64,
    /// The outstation's answer (a response of the same sequence): accepted when every
    /// status is success; `None` before it (or when the capture lost it).
    pub(crate) accepted: Option<bool>,
}

/// What a control request or response tells about select-before-operate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Finding {
    /// An accepted select that no operate followed in time (or another select replaced).
    NotOperated { age_ms: i64 },
    /// An operate on a session that selects, without an accepted select of the same
    /// commands in time.
    WithoutSelect { why: &'static str },
}

#[derive(Debug, Default)]
pub(crate) struct SelectWatch {
    /// The session has selected at least once: it uses select-before-operate.
    pub(crate) selects: bool,
    pub(crate) last: Option<Select>,
}

impl SelectWatch {
    /// A fragment of the session: a master's select (3) or operate (4), or an outstation's
    /// response. `now` is its time.
    pub(crate) fn fragment(&mut self, f: &Fragment, from_master: bool, now: i64) -> Option<Finding> {
        let seq = f.control & 0x0F;
        match (from_master, f.function) {
            (true, 3) => {
                let stale = self.take_stale(now, true);
                self.selects = true;
                self.last = Some(Select { seq, commands: commands(f), ts: now, accepted: None });
                stale
            }
            (true, 4) if self.selects => {
                let last = self.last.take();
                let why = match last {
                    None => "no select before it",
                    Some(s) if s.commands != commands(f) => "the select before it named other commands or values",
                    // An answer not seen yet may be lost from the capture: not judged.
                    Some(s) if s.accepted == Some(false) => "the outstation refused the select",
                    Some(s) if now - s.ts > SELECT_TIMEOUT_NS => "the select timed out",
                    Some(_) => return None,
                };
                Some(Finding::WithoutSelect { why })
            }
            (false, 0x81) => {
                if let Some(s) = self.last.as_mut().filter(|s| s.seq == seq && s.accepted.is_none()) {
                    s.accepted = Some(failed_status(f).is_none() && !(f.crobs.is_empty() && f.analog_outputs.is_empty()));
                }
                None
            }
            (true, _) => self.take_stale(now, false),
            _ => None,
        }
    }

    /// An accepted select past the timeout (or, `replaced`, superseded by a new select)
    /// that no operate used.
    pub(crate) fn take_stale(&mut self, now: i64, replaced: bool) -> Option<Finding> {
        let s = self.last.filter(|s| s.accepted == Some(true) && (replaced || now - s.ts > SELECT_TIMEOUT_NS))?;
        self.last = None;
        Some(Finding::NotOperated { age_ms: (now - s.ts) / 1_000_000 })
    }
}
