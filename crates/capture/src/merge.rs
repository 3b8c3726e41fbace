//! Several interfaces as one pipeline. A SPAN session spread over two ports (one per
//! direction) delivers each side in its own order and in its own kernel blocks, so a
//! response could be read before its request. Frames are copied out of the capture
//! buffers and handed on in timestamp order across interfaces: the earliest is safe once
//! every interface still capturing holds a frame (each interface's own frames come in
//! order), or once it has waited `hold` (the kernel may keep a block that long), or when
//! too many are held.
use crate::{LinkType, LiveCapture, RawFrame};
use otsentry_core::Timestamp;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Frames held at most before the earliest goes on regardless (about 100 MB of
/// full-size frames; a SPAN port's bursts are far smaller within one hold).
const MAX_HELD: usize = 65_536;

/// A frame copied out of its capture's buffer.
pub(crate) struct Held {
    ts: Timestamp,
    linktype: LinkType,
    origlen: u32,
    data: Vec<u8>,
    arrived: Instant,
}

impl Held {
    pub(crate) fn frame(&self) -> RawFrame<'_> {
        RawFrame { ts: self.ts, linktype: self.linktype, origlen: self.origlen, data: &self.data }
    }
}

pub(crate) struct Merge {
    queues: Vec<VecDeque<Held>>,
    /// Buffers of frames handed on, reused.
    spare: Vec<Vec<u8>>,
    hold: Duration,
    held: usize,
    /// The latest timestamp handed on.
    last: Timestamp,
    /// Frames handed on after a later frame of another interface had gone (they came
    /// more than `hold` late): the pipeline saw them out of time order.
    pub(crate) late: u64,
}

impl Merge {
    pub(crate) fn new(interfaces: usize, hold: Duration) -> Merge {
        Merge {
            queues: (0..interfaces).map(|_| VecDeque::new()).collect(),
            spare: Vec::new(),
            hold,
            held: 0,
            last: Timestamp(i64::MIN),
            late: 0,
        }
    }

    /// Copies up to `burst` waiting frames of capture `i` in; how many.
    pub(crate) fn take(&mut self, i: usize, capture: &mut LiveCapture, burst: usize, now: Instant) -> usize {
        let Some(queue) = self.queues.get_mut(i) else { return 0 };
        let mut n = 0;
        while n < burst {
            let Some(f) = capture.next_frame() else { break };
            let mut data = self.spare.pop().unwrap_or_default();
            data.clear();
            data.extend_from_slice(f.data);
            queue.push_back(Held { ts: f.ts, linktype: f.linktype, origlen: f.origlen, data, arrived: now });
            n += 1;
        }
        self.held += n;
        n
    }

    /// Whether an interface still capturing has nothing held (its buffer is read next).
    pub(crate) fn needs_more(&self, live: &[bool]) -> bool {
        self.queues.iter().zip(live).any(|(q, &up)| up && q.is_empty())
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.held == 0
    }

    /// The next frame to hand on and its interface, if one may go now. `live[i]` says
    /// whether interface `i` still captures; `all` releases everything (at the stop).
    pub(crate) fn pop(&mut self, now: Instant, live: &[bool], all: bool) -> Option<(usize, Held)> {
        let (i, head) = self.queues.iter().enumerate().filter_map(|(i, q)| q.front().map(|h| (i, h))).min_by_key(|(_, h)| h.ts)?;
        let every = self.queues.iter().zip(live).all(|(q, &up)| !up || !q.is_empty());
        let waited = now.saturating_duration_since(head.arrived) >= self.hold;
        if !(every || waited || all || self.held >= MAX_HELD) {
            return None;
        }
        self.late += u64::from(head.ts < self.last);
        self.last = self.last.max(head.ts);
        self.held -= 1;
        self.queues.get_mut(i)?.pop_front().map(|h| (i, h))
    }

    /// A frame's buffer, for the next copy.
    pub(crate) fn recycle(&mut self, held: Held) {
        if self.spare.len() < 1024 {
            self.spare.push(held.data);
        }
    }
}
