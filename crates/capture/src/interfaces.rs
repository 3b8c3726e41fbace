//! Live network interfaces as one source: one interface straight from its capture
//! buffer; several merged in timestamp order (see `merge.rs`). Interfaces whose capture
//! fails are logged at once and left out; the source ends when none is left.
use crate::merge::{Held, Merge};
use crate::source::{Next, Source};
use crate::{wait, LiveCapture, LiveError, LiveOptions};
use otsentry_core::{CaptureCounts, InputCounts};
use std::time::{Duration, Instant};

/// Frames taken from one interface at a time when several are merged.
const BURST: usize = 64;

pub struct Interfaces {
    captures: Vec<LiveCapture>,
    /// Captured bytes handed on, per interface.
    bytes: Vec<u64>,
    merge: Option<Merge>,
    /// The merged frame lent out by the last `next`.
    lent: Option<(usize, Held)>,
    /// Hand on everything held (stopping).
    draining: bool,
    /// Per interface: still capturing (a failure is logged when this turns false).
    live: Vec<bool>,
    /// The last read found nothing: a capture may have failed (only a read that finds
    /// nothing can), so the next call looks.
    idle: bool,
}

impl Interfaces {
    /// Opens every interface of `names` with `opts`; with several, a frame waits up to
    /// `merge_hold` for the others to show a later one.
    pub fn open(names: &[String], opts: &LiveOptions, merge_hold: Duration) -> Result<Interfaces, LiveError> {
        let captures = names.iter().map(|n| LiveCapture::open(n, opts)).collect::<Result<Vec<_>, _>>()?;
        let merge = (captures.len() > 1).then(|| Merge::new(captures.len(), merge_hold));
        let n = captures.len();
        Ok(Interfaces { bytes: vec![0; n], captures, merge, lent: None, draining: false, live: vec![true; n], idle: false })
    }

    /// Logs captures that failed since the last look; whether any is still capturing.
    fn check_failures(&mut self) -> bool {
        for (c, live) in self.captures.iter().zip(self.live.iter_mut()) {
            if let Some(e) = c.failure().filter(|_| *live) {
                tracing::warn!(interface = c.interface(), error = %e, "capture failed; the other interfaces go on");
                *live = false;
            }
        }
        self.live.iter().any(|&l| l)
    }

    fn next_merged(&mut self) -> Next<'_> {
        let Some(merge) = self.merge.as_mut() else { return Next::Idle };
        if let Some((_, held)) = self.lent.take() {
            merge.recycle(held);
        }
        let now = Instant::now();
        // An interface with nothing held may have frames waiting in its buffer: read
        // them before choosing, so a frame goes on only when it is the earliest known.
        if merge.needs_more(&self.live) {
            for (i, c) in self.captures.iter_mut().enumerate() {
                merge.take(i, c, BURST, now);
            }
        }
        let Some((i, held)) = merge.pop(now, &self.live, self.draining) else { return Next::Idle };
        if let Some(b) = self.bytes.get_mut(i) {
            *b += held.frame().data.len() as u64;
        }
        let (_, lent) = self.lent.insert((i, held));
        Next::Frame(lent.frame())
    }
}

impl Source for Interfaces {
    fn next(&mut self) -> Next<'_> {
        if self.merge.is_some() {
            if !self.check_failures() && self.merge.as_ref().is_some_and(Merge::is_empty) {
                return Next::End(None);
            }
            return self.next_merged();
        }
        // A capture that failed on the last read is noticed here, on the next.
        if self.idle && !self.check_failures() {
            return Next::End(None);
        }
        let Interfaces { captures, bytes, idle, .. } = self;
        match captures.first_mut().and_then(LiveCapture::next_frame) {
            Some(frame) => {
                *idle = false;
                if let Some(b) = bytes.first_mut() {
                    *b += frame.data.len() as u64;
                }
                Next::Frame(frame)
            }
            None => {
                *idle = true;
                Next::Idle
            }
        }
    }

    fn wait(&mut self, timeout: Duration) {
        // Frames held in the merge are looked at again soon.
        let holding = self.merge.as_ref().is_some_and(|m| !m.is_empty());
        wait(&self.captures, if holding { timeout.min(Duration::from_millis(20)) } else { timeout });
    }

    fn stop(&mut self) {
        self.draining = true;
    }

    fn counters(&mut self) -> CaptureCounts {
        let mut sum = CaptureCounts::default();
        for c in &mut self.captures {
            sum += c.counters();
        }
        sum
    }

    fn max_frame(&self) -> Option<u32> {
        self.captures.iter().map(LiveCapture::max_frame).try_fold(0u32, |m, f| f.map(|f| m.max(f)))
    }

    fn inputs(&self) -> Vec<InputCounts> {
        self.captures
            .iter()
            .zip(&self.bytes)
            .map(|(c, &bytes)| InputCounts {
                name: c.interface().to_string(),
                container: "interface",
                packets: c.frames(),
                bytes,
                damage: c.failure().map(ToString::to_string),
            })
            .collect()
    }

    fn failures(&self) -> Vec<String> {
        self.captures.iter().filter_map(|c| c.failure().map(ToString::to_string)).collect()
    }

    /// Frames that came more than the hold after a later one of another interface.
    fn out_of_order(&self) -> u64 {
        self.merge.as_ref().map_or(0, |m| m.late)
    }
}
