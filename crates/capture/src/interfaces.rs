//! Live network interfaces as one source: one interface straight from its capture
//! buffer; several merged in timestamp order (see `merge.rs`). An interface whose link
//! goes down, or whose capture fails, is logged at once and left out of the merge while
//! the others go on; a failed handle is opened again with backoff, and the interface
//! rejoins when its link is back.
use crate::merge::{Held, Merge};
use crate::source::{Next, Source};
use crate::{wait, LiveCapture, LiveError, LiveOptions};
use otsentry_core::{CaptureCounts, InputCounts};
use std::time::{Duration, Instant};

/// Frames taken from one interface at a time when several are merged.
const BURST: usize = 64;
/// How often links and failed handles are looked at.
const LOOK_EVERY: Duration = Duration::from_millis(500);
/// Frames handed on between looks at the clock for that (no clock read per frame).
const LOOK_FRAMES: u16 = 256;
/// Waits between attempts to reopen a failed handle: doubled from the first to the last.
const REOPEN_FIRST: Duration = Duration::from_secs(1);
const REOPEN_MOST: Duration = Duration::from_secs(30);

/// One interface's state beside its handle.
#[derive(Debug, Default)]
struct Link {
    /// Why it delivers nothing now (link down, capture failed), if it does not.
    down: Option<String>,
    /// When to try reopening a failed handle, and the wait after that.
    retry: Option<(Instant, Duration)>,
}

pub struct Interfaces {
    captures: Vec<LiveCapture>,
    /// Captured bytes handed on, per interface.
    bytes: Vec<u64>,
    merge: Option<Merge>,
    /// The merged frame lent out by the last `next`.
    lent: Option<(usize, Held)>,
    /// Hand on everything held (stopping).
    draining: bool,
    /// Per interface: capturing now (its link up, its handle working).
    live: Vec<bool>,
    links: Vec<Link>,
    opts: LiveOptions,
    next_look: Instant,
    /// Calls of `next` left before the clock is read for a look (1: at the next call,
    /// as after an idle read).
    until_look: u16,
    outages: u64,
    reopened: u64,
}

impl Interfaces {
    /// Opens every interface of `names` with `opts`; with several, a frame waits up to
    /// `merge_hold` for the others to show a later one.
    pub fn open(names: &[String], opts: &LiveOptions, merge_hold: Duration) -> Result<Interfaces, LiveError> {
        let captures = names.iter().map(|n| LiveCapture::open(n, opts)).collect::<Result<Vec<_>, _>>()?;
        let merge = (captures.len() > 1).then(|| Merge::new(captures.len(), merge_hold));
        let n = captures.len();
        let links = (0..n).map(|_| Link::default()).collect();
        Ok(Interfaces {
            bytes: vec![0; n],
            captures,
            merge,
            lent: None,
            draining: false,
            live: vec![true; n],
            links,
            opts: opts.clone(),
            next_look: Instant::now(),
            until_look: 1,
            outages: 0,
            reopened: 0,
        })
    }

    /// Looks at each link and handle (at most every `LOOK_EVERY`): an interface whose
    /// link went down or whose capture failed is logged and left out; a failed handle is
    /// reopened when its wait is over; a link that is back rejoins.
    fn look(&mut self) {
        let now = Instant::now();
        if now < self.next_look {
            return;
        }
        self.next_look = now + LOOK_EVERY;
        for ((c, live), link) in self.captures.iter_mut().zip(self.live.iter_mut()).zip(self.links.iter_mut()) {
            if c.failure().is_some() {
                let (due, wait) = *link.retry.get_or_insert((now, REOPEN_FIRST));
                if now >= due {
                    match c.reopen(&self.opts) {
                        Ok(()) => {
                            tracing::warn!(interface = c.interface(), "capture reopened");
                            self.reopened += 1;
                            link.retry = None;
                        }
                        Err(e) => {
                            tracing::debug!(interface = c.interface(), error = %e, retry_in_s = wait.as_secs(), "reopening failed");
                            link.retry = Some((now + wait, (wait * 2).min(REOPEN_MOST)));
                        }
                    }
                }
            }
            let why = match c.failure() {
                Some(e) => Some(e.to_string()),
                None => c.link_down().then(|| format!("--interface {}: link down", c.interface())),
            };
            match (&why, &link.down) {
                (Some(w), None) => {
                    tracing::warn!(interface = c.interface(), reason = %w, "capture failed; the other interfaces go on, and it is reopened when it can be");
                    self.outages += 1;
                }
                (None, Some(_)) => tracing::warn!(interface = c.interface(), "capturing again"),
                _ => {}
            }
            *live = why.is_none();
            link.down = why;
        }
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
        let Some((i, held)) = merge.pop(now, &self.live, self.draining) else {
            // Nothing to hand on: a link may be down; look at the next call.
            self.until_look = 1;
            return Next::Idle;
        };
        if let Some(b) = self.bytes.get_mut(i) {
            *b += held.frame().data.len() as u64;
        }
        let (_, lent) = self.lent.insert((i, held));
        Next::Frame(lent.frame())
    }
}

impl Source for Interfaces {
    fn next(&mut self) -> Next<'_> {
        self.until_look -= 1;
        if self.until_look == 0 {
            self.until_look = LOOK_FRAMES;
            self.look();
        }
        if self.merge.is_some() {
            return self.next_merged();
        }
        let Interfaces { captures, bytes, until_look, .. } = self;
        match captures.first_mut().and_then(LiveCapture::next_frame) {
            Some(frame) => {
                if let Some(b) = bytes.first_mut() {
                    *b += frame.data.len() as u64;
                }
                Next::Frame(frame)
            }
            None => {
                // Nothing waiting: the link may be down; look at the next call.
                *until_look = 1;
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
                damage: None,
            })
            .zip(&self.links)
            .map(|(input, link)| InputCounts { damage: link.down.clone(), ..input })
            .collect()
    }

    /// Captures failed at the end of the run (a link that flapped and came back is not
    /// one).
    fn failures(&self) -> Vec<String> {
        self.captures.iter().filter_map(|c| c.failure().map(ToString::to_string)).collect()
    }

    fn outages(&self) -> (u64, u64) {
        (self.outages, self.reopened)
    }

    /// Frames that came more than the hold after a later one of another interface.
    fn out_of_order(&self) -> u64 {
        self.merge.as_ref().map_or(0, |m| m.late)
    }
}
