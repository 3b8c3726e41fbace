//! One sink on its own thread: a bounded queue of batches in, retries with backoff on
//! retriable errors, counters out. The pipeline never waits on a sink's I/O, only on
//! its queue when that is full and the sink may hold the pipeline up (replay).
use crate::batch::Batch;
use crate::sink::{RecordSink, SinkError, Tick};
use otsentry_core::SinkCounts;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What a full queue does to the pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnFull {
    /// Wait for the sink (replay: nothing is dropped, the run slows down).
    Wait,
    /// Drop the batch and count it (a live sensor must not stall capture).
    Drop,
}

/// How a sink is run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SinkOptions {
    /// Batches queued ahead of the sink.
    pub queue: usize,
    /// Attempts after the first for a batch that fails with a retriable error.
    pub retries: u32,
    /// The wait before the first retry; doubled each time up to `max_backoff`.
    pub backoff: Duration,
    pub max_backoff: Duration,
    pub on_full: OnFull,
    /// How long an idle sink waits before its time-based work (rotation, fsync).
    pub idle_tick: Duration,
}

impl Default for SinkOptions {
    fn default() -> Self {
        SinkOptions {
            queue: 4,
            retries: 5,
            backoff: Duration::from_millis(50),
            max_backoff: Duration::from_secs(2),
            on_full: OnFull::Wait,
            idle_tick: Duration::from_millis(250),
        }
    }
}

/// The pipeline's end of a running sink.
pub(crate) struct SinkHandle {
    name: String,
    tx: Option<SyncSender<Arc<Batch>>>,
    thread: Option<JoinHandle<()>>,
    on_full: OnFull,
    /// Kept by the pipeline's side (every worker's fork of it): accepted, waited and
    /// dropped on a full queue. Locked once per batch, never per record.
    mine: Arc<Mutex<SinkCounts>>,
    /// Kept by the sink's thread.
    theirs: Arc<Mutex<SinkCounts>>,
    /// Set to have the sink reopen its output (it clears it).
    reopen: Arc<AtomicBool>,
    /// The sink's spool, for batches a full queue cannot take when the pipeline may not wait.
    overflow: Option<crate::spool::Overflow>,
}

fn lock(c: &Mutex<SinkCounts>) -> std::sync::MutexGuard<'_, SinkCounts> {
    // A panic while counting leaves the counts usable.
    c.lock().unwrap_or_else(PoisonError::into_inner)
}

impl SinkHandle {
    /// Starts `sink` on a thread. Finished batches go back through `recycle`.
    pub(crate) fn start(sink: Box<dyn RecordSink>, opts: SinkOptions, recycle: mpsc::Sender<Arc<Batch>>) -> std::io::Result<SinkHandle> {
        let mut sink = sink;
        let reopen = Arc::new(AtomicBool::new(false));
        let asked = reopen.clone();
        let name = sink.name();
        let overflow = sink.overflow();
        let (tx, rx) = mpsc::sync_channel::<Arc<Batch>>(opts.queue.max(1));
        let theirs = Arc::new(Mutex::new(SinkCounts::default()));
        let counts = theirs.clone();
        let thread = std::thread::Builder::new().name(format!("sink {name}")).spawn(move || {
            loop {
                if asked.swap(false, Ordering::Relaxed) {
                    let r = sink.reopen();
                    let mut c = lock(&counts);
                    match r {
                        Ok(()) => c.reopened += 1,
                        Err(e) => c.last_error = Some(e.to_string()),
                    }
                }
                let got = rx.recv_timeout(opts.idle_tick);
                match sink.tick(Instant::now()) {
                    Ok(Tick::Rotated) => lock(&counts).rotated += 1,
                    Ok(Tick::Nothing) => {}
                    Err(e) => lock(&counts).last_error = Some(e.to_string()),
                }
                match got {
                    Ok(batch) if lock(&counts).closed => {
                        lock(&counts).dropped += batch.records() as u64;
                        let _ = recycle.send(batch);
                    }
                    Ok(batch) => {
                        let (taken, joined) = join_queued(batch, &rx, sink.coalesce_bytes());
                        deliver(sink.as_mut(), joined.as_ref().unwrap_or(&taken[0]), &opts, &counts);
                        for b in taken {
                            let _ = recycle.send(b);
                        }
                    }
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => break,
                }
                if let Some(state) = sink.spool_state() {
                    lock(&counts).spool = Some(state);
                }
            }
            if let Err(e) = sink.flush() {
                lock(&counts).last_error = Some(e.to_string());
            }
            if let Some(state) = sink.spool_state() {
                lock(&counts).spool = Some(state);
            }
        })?;
        let mine = Arc::new(Mutex::new(SinkCounts { name: name.clone(), ..Default::default() }));
        Ok(SinkHandle { name, tx: Some(tx), thread: Some(thread), on_full: opts.on_full, mine, theirs, reopen, overflow })
    }

    /// Another worker's end of the same sink: its batches join the same queue; the sink's
    /// thread ends once every fork and this handle have finished.
    pub(crate) fn fork(&self) -> SinkHandle {
        SinkHandle {
            name: self.name.clone(),
            tx: self.tx.clone(),
            thread: None,
            on_full: self.on_full,
            mine: self.mine.clone(),
            theirs: self.theirs.clone(),
            reopen: self.reopen.clone(),
            overflow: self.overflow.clone(),
        }
    }

    /// The flag that makes the sink reopen its output (a signal handler may set it).
    pub(crate) fn reopen_flag(&self) -> Arc<AtomicBool> {
        self.reopen.clone()
    }

    /// Queues a batch (waiting or dropping when the queue is full, as configured).
    pub(crate) fn send(&mut self, batch: Arc<Batch>) {
        let n = batch.records() as u64;
        let Some(tx) = &self.tx else {
            lock(&self.mine).dropped += n;
            return;
        };
        let sent = match tx.try_send(batch) {
            Ok(()) => true,
            Err(TrySendError::Full(batch)) => match self.on_full {
                OnFull::Wait => {
                    lock(&self.mine).waited += 1;
                    tx.send(batch).is_ok()
                }
                OnFull::Drop => match &self.overflow {
                    // Kept on disk: the sink drains it with its spool.
                    Some(spool) => match spool.keep(&batch) {
                        Ok(()) => {
                            let mut mine = lock(&self.mine);
                            mine.accepted += n;
                            mine.overflowed += n;
                            return;
                        }
                        Err(e) => {
                            tracing::warn!(sink = %self.name, error = %e, records = n, "queue full and the spool refused the batch: dropped");
                            lock(&self.mine).last_error = Some(e.to_string());
                            false
                        }
                    },
                    None => false,
                },
            },
            Err(TrySendError::Disconnected(_)) => false,
        };
        let mut mine = lock(&self.mine);
        if sent {
            mine.accepted += n;
        } else {
            mine.dropped += n;
        }
    }

    /// The counters so far (the sink's side as of its last batch).
    pub(crate) fn counts(&self) -> SinkCounts {
        let t = lock(&self.theirs);
        let mine = lock(&self.mine);
        SinkCounts {
            name: self.name.clone(),
            accepted: mine.accepted,
            written: t.written,
            batches: t.batches,
            retried: t.retried,
            dropped: mine.dropped + t.dropped,
            overflowed: mine.overflowed,
            waited: mine.waited,
            reopened: t.reopened,
            rotated: t.rotated,
            closed: t.closed,
            last_error: t.last_error.clone().or_else(|| mine.last_error.clone()),
            unencodable: 0,
            spool: t.spool.clone(),
        }
    }

    /// Closes the queue, lets the sink write what it holds, and returns the final counts.
    pub(crate) fn finish(mut self) -> SinkCounts {
        self.tx = None;
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                let mut t = lock(&self.theirs);
                // Whatever the thread had not written is lost with it.
                let mine = lock(&self.mine);
                let unaccounted = mine.accepted.saturating_sub(t.written + t.dropped + mine.overflowed);
                t.dropped += unaccounted;
                t.last_error = Some(format!("{}: the sink's thread panicked", self.name));
            }
        }
        self.counts()
    }
}

/// `first` and the batches queued behind it while their bytes stay under `limit`, and,
/// when there was more than one, all of them joined into one batch.
fn join_queued(first: Arc<Batch>, rx: &mpsc::Receiver<Arc<Batch>>, limit: usize) -> (Vec<Arc<Batch>>, Option<Batch>) {
    let mut size = first.len_bytes();
    let mut taken = vec![first];
    while size < limit {
        match rx.try_recv() {
            Ok(next) => {
                size += next.len_bytes();
                taken.push(next);
            }
            Err(_) => break,
        }
    }
    if taken.len() == 1 {
        return (taken, None);
    }
    let mut all = Batch::with_capacity(size);
    for b in &taken {
        all.append(b);
    }
    (taken, Some(all))
}

/// Writes one batch, retrying retriable errors with backoff; a batch that cannot be
/// written is counted dropped with its reason.
fn deliver(sink: &mut dyn RecordSink, batch: &Batch, opts: &SinkOptions, counts: &Mutex<SinkCounts>) {
    let n = batch.records() as u64;
    let mut wait = opts.backoff;
    let mut attempt = 0u32;
    loop {
        match sink.write(batch) {
            Ok(()) => {
                // Records the sink left out (no spool to dead-letter them): not written.
                let refused = sink.take_refused();
                let mut c = lock(counts);
                c.written += n - refused.len() as u64;
                c.dropped += refused.len() as u64;
                c.batches += 1;
                if let Some(r) = refused.first() {
                    tracing::warn!(sink = %sink.name(), records = refused.len(), error = %r.reason, "records refused by the sink: dropped");
                    c.last_error = Some(r.reason.clone());
                }
                return;
            }
            Err(e @ SinkError::Retriable(_)) if attempt < opts.retries => {
                {
                    let mut c = lock(counts);
                    c.retried += 1;
                    c.last_error = Some(e.to_string());
                }
                std::thread::sleep(wait);
                wait = (wait * 2).min(opts.max_backoff);
                attempt += 1;
            }
            Err(e) => {
                let mut c = lock(counts);
                c.dropped += n;
                c.closed |= matches!(e, SinkError::Closed(_));
                c.last_error = Some(e.to_string());
                // A closed pipe is the reader's choice (`| head`), not a fault.
                if c.closed {
                    tracing::debug!(sink = %sink.name(), records = n, error = %e, "output closed");
                } else {
                    tracing::warn!(sink = %sink.name(), records = n, error = %e, "batch dropped");
                }
                return;
            }
        }
    }
}
