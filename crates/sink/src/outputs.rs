//! Where the pipeline's records go: each is serialised once, into the current batch;
//! full or old batches are handed to every sink's queue.
use crate::batch::Batch;
use crate::encode::encode;
use crate::file::{Captured, MemorySink};
use crate::sink::RecordSink;
use crate::types::{type_index, TypeSet};
use crate::worker::{SinkHandle, SinkOptions};
use otsentry_core::{Record, SinkCounts};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How records are batched and sinks run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputOptions {
    /// Record types a sink added with [`Outputs::add`] gets ([`Outputs::add_for`]
    /// chooses its own).
    pub types: TypeSet,
    /// A batch is handed over once it holds this many bytes...
    pub batch_bytes: usize,
    /// ...or once its first record is this old.
    pub batch_delay: Duration,
    pub sink: SinkOptions,
    /// The sensor's name, in every record's `host` and in its `event_id`.
    pub host: String,
}

impl Default for OutputOptions {
    fn default() -> Self {
        OutputOptions {
            types: TypeSet::ALL,
            batch_bytes: 256 << 10,
            batch_delay: Duration::from_secs(1),
            sink: SinkOptions::default(),
            host: String::new(),
        }
    }
}

/// Calls to [`Outputs::tick`] between looks at the clock (a look costs about what a
/// small packet does).
const TICKS_PER_CLOCK: u32 = 32;

/// The pipeline's outputs: one batch being filled, the sinks it goes to.
pub struct Outputs {
    opts: OutputOptions,
    batch: Batch,
    /// When the current batch got its first record.
    started: Option<Instant>,
    /// Each sink, and the record types it gets.
    sinks: Vec<(SinkHandle, TypeSet)>,
    /// The types any sink gets: only those are serialised.
    wanted: TypeSet,
    /// Batches the sinks are done with, shared by the forks (a sink returns every
    /// fork's batches here), so none piles up unread.
    recycled: Arc<Mutex<Receiver<Arc<Batch>>>>,
    recycle: Sender<Arc<Batch>>,
    /// Records whose serialisation failed (a `Serialize` impl refused): left out, counted.
    encode_errors: u64,
    ticks: u32,
}

impl Outputs {
    pub fn new(opts: OutputOptions) -> Outputs {
        let (recycle, recycled) = mpsc::channel();
        Outputs {
            batch: Batch::with_capacity(opts.batch_bytes + (opts.batch_bytes >> 3)),
            opts,
            started: None,
            sinks: Vec::new(),
            wanted: TypeSet::NONE,
            recycled: Arc::new(Mutex::new(recycled)),
            recycle,
            encode_errors: 0,
            ticks: 0,
        }
    }

    /// Outputs of every record type into memory (tests, tools), read through the
    /// [`Captured`] after [`Outputs::finish`].
    pub fn memory() -> (Outputs, Captured) {
        let (sink, captured) = MemorySink::new();
        let mut outputs = Outputs::new(OutputOptions::default());
        // Without a thread to run it on, nothing could be captured.
        outputs.add(Box::new(sink)).expect("spawning the memory sink's thread");
        (outputs, captured)
    }

    /// Starts `sink` on its own thread; it gets the records of the options' types from
    /// now on.
    pub fn add(&mut self, sink: Box<dyn RecordSink>) -> std::io::Result<()> {
        self.add_for(sink, self.opts.types)
    }

    /// Starts `sink` on its own thread; it gets the records of `types` from now on.
    pub fn add_for(&mut self, sink: Box<dyn RecordSink>, types: TypeSet) -> std::io::Result<()> {
        self.opts.batch_bytes = self.opts.batch_bytes.max(sink.batch_bytes());
        self.sinks.push((SinkHandle::start(sink, self.opts.sink, self.recycle.clone())?, types));
        self.wanted = self.wanted.union(types);
        Ok(())
    }

    /// Outputs for another worker: the same sinks and record types, a batch of its own.
    /// Each worker hands its batches over whole, so one flow's records (one worker's)
    /// keep their order. Finish every fork before the outputs it was forked from: their
    /// sinks end when the last end is finished.
    pub fn fork(&self) -> Outputs {
        Outputs {
            opts: self.opts.clone(),
            batch: Batch::with_capacity(self.opts.batch_bytes + (self.opts.batch_bytes >> 3)),
            started: None,
            sinks: self.sinks.iter().map(|(s, types)| (s.fork(), *types)).collect(),
            wanted: self.wanted,
            recycled: self.recycled.clone(),
            recycle: self.recycle.clone(),
            encode_errors: 0,
            ticks: 0,
        }
    }

    /// One flag per sink: setting it (from a SIGHUP handler) makes that sink reopen its
    /// output once.
    pub fn reopen_flags(&self) -> Vec<Arc<AtomicBool>> {
        self.sinks.iter().map(|(s, _)| s.reopen_flag()).collect()
    }

    /// Asks every sink to reopen its output.
    pub fn reopen(&self) {
        for f in self.reopen_flags() {
            f.store(true, Ordering::Relaxed);
        }
    }

    /// Whether records of `event_type` are written (callers skip building the others).
    #[inline]
    pub fn wants(&self, event_type: &str) -> bool {
        self.wanted.contains(event_type)
    }

    /// Serialises `record` into the current batch (if its type is wanted).
    pub fn write<R: Record>(&mut self, record: &R) {
        let Some(ty) = type_index(record.event_type()).filter(|&ty| self.wanted.holds(ty)) else {
            return;
        };
        if encode(self.batch.buffer(), record, &self.opts.host).is_ok() {
            self.batch.end_line(ty);
        } else {
            self.batch.discard_line();
            self.encode_errors += 1;
        }
        if self.started.is_none() {
            self.started = Some(Instant::now());
        }
        if self.batch.len_bytes() >= self.opts.batch_bytes {
            self.hand_over();
        }
    }

    /// Called once per packet: hands over a batch that has waited `batch_delay`.
    #[inline]
    pub fn tick(&mut self) {
        self.ticks += 1;
        if self.ticks >= TICKS_PER_CLOCK {
            self.tick_now();
        }
    }

    /// Hands over a batch that has waited `batch_delay`, looking at the clock now (a
    /// live sensor's tick, with or without packets).
    pub fn tick_now(&mut self) {
        self.ticks = 0;
        if self.started.is_some_and(|t| t.elapsed() >= self.opts.batch_delay) {
            self.hand_over();
        }
    }

    /// Records serialised but not yet written by some sink: the batch being filled and
    /// what each sink's queue holds (what a hard stop would lose).
    pub fn unwritten(&self) -> u64 {
        let queued: u64 =
            self.sinks.iter().map(|(s, _)| s.counts()).map(|c| c.accepted.saturating_sub(c.written + c.dropped + c.overflowed)).sum();
        self.batch.records() as u64 + queued
    }

    /// Hands over the current batch now (end of an input, an idle capture).
    pub fn flush(&mut self) {
        if !self.batch.is_empty() {
            self.hand_over();
        }
    }

    fn hand_over(&mut self) {
        self.started = None;
        if self.batch.is_empty() {
            return;
        }
        let spare = self.spare();
        let batch = Arc::new(std::mem::replace(&mut self.batch, spare));
        let present = batch.types();
        for (sink, types) in &mut self.sinks {
            // A sink that takes fewer types than the batch holds gets a copy of its own.
            if types.covers(present) {
                sink.send(batch.clone());
            } else {
                let narrowed = batch.only(*types);
                if !narrowed.is_empty() {
                    sink.send(Arc::new(narrowed));
                }
            }
        }
    }

    /// A batch the sinks are done with, or a new one.
    fn spare(&mut self) -> Batch {
        let recycled = self.recycled.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        while let Ok(done) = recycled.try_recv() {
            // The last sink to finish with a batch holds its only reference. A copy
            // narrowed for one sink is too small to fill again.
            if let Ok(mut b) = Arc::try_unwrap(done) {
                if b.capacity() >= self.opts.batch_bytes {
                    b.clear();
                    return b;
                }
            }
        }
        Batch::with_capacity(self.opts.batch_bytes + (self.opts.batch_bytes >> 3))
    }

    /// Whether every sink's destination went away (its reader closed the pipe).
    pub fn all_closed(&self) -> bool {
        !self.sinks.is_empty() && self.sinks.iter().all(|(s, _)| s.counts().closed)
    }

    /// Records that could not be serialised.
    pub fn encode_errors(&self) -> u64 {
        self.encode_errors
    }

    /// Each sink's counters so far.
    pub fn counts(&self) -> Vec<SinkCounts> {
        let unencodable = self.encode_errors;
        self.sinks.iter().map(|(s, _)| SinkCounts { unencodable, ..s.counts() }).collect()
    }

    /// Hands over the last batch, waits for every sink to write what it holds, and
    /// returns their counters.
    pub fn finish(mut self) -> Vec<SinkCounts> {
        self.flush();
        if self.encode_errors > 0 {
            tracing::warn!(records = self.encode_errors, "records that could not be serialised were left out");
        }
        let unencodable = self.encode_errors;
        std::mem::take(&mut self.sinks).into_iter().map(|(s, _)| s.finish()).map(|c| SinkCounts { unencodable, ..c }).collect()
    }
}
