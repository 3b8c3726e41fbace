//! Evidence pcaps: each flow keeps a ring of its recent packets (charged to the memory
//! budget's evidence share); an alert at or above the chosen severity writes the ring,
//! its own packet last, to a pcap in the evidence directory and the flow's next packets
//! after it, and names the file in the alert. Files are mode 0600 (they hold whatever
//! crossed the wire, passwords and keys included) under a disk cap that removes the
//! oldest first.
use otsentry_core::{Alert, Evidence, MemoryBudget, MemoryKind, Severity, Timestamp};
use std::collections::VecDeque;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// What evidence to keep and where.
#[derive(Clone, Debug)]
pub struct EvidenceConfig {
    pub dir: PathBuf,
    /// Alerts at or above it write evidence.
    pub min_severity: Severity,
    /// Packets each flow's ring keeps, and the most bytes.
    pub ring_packets: usize,
    pub ring_bytes: usize,
    /// Packets of the flow written after the alerting one.
    pub after: u32,
    /// The most the directory's evidence files take; the oldest go first.
    pub max_disk: u64,
}

impl EvidenceConfig {
    pub fn new(dir: PathBuf) -> EvidenceConfig {
        EvidenceConfig { dir, min_severity: Severity::High, ring_packets: 32, ring_bytes: 64 << 10, after: 16, max_disk: 1 << 30 }
    }
}

/// A packet as the ring keeps it: its bytes are the next `len` of the ring's bytes.
#[derive(Debug)]
struct Kept {
    ts: Timestamp,
    pcap_cnt: u64,
    origlen: u32,
    len: u32,
}

/// A flow's packets' bytes, oldest first, in one buffer used as a ring: keeping a packet
/// copies it, with no allocation once the buffer has grown to what the flow needs.
#[derive(Debug, Default)]
struct Bytes {
    buf: Vec<u8>,
    head: usize,
    used: usize,
}

impl Bytes {
    /// Appends `data` (room was made: `used + data.len() <= buf.len()`).
    fn push(&mut self, data: &[u8]) {
        let cap = self.buf.len();
        let start = (self.head + self.used) % cap.max(1);
        let first = data.len().min(cap - start);
        let (a, b) = data.split_at(first);
        if let Some(dst) = self.buf.get_mut(start..start + a.len()) {
            dst.copy_from_slice(a);
        }
        if let Some(dst) = self.buf.get_mut(..b.len()) {
            dst.copy_from_slice(b);
        }
        self.used += data.len();
    }

    fn pop(&mut self, n: usize) {
        let n = n.min(self.used);
        self.head = (self.head + n) % self.buf.len().max(1);
        self.used -= n;
    }

    /// The `n` bytes at `offset` from the oldest, in one or two pieces.
    fn get(&self, offset: usize, n: usize) -> (&[u8], &[u8]) {
        let cap = self.buf.len().max(1);
        let start = (self.head + offset) % cap;
        let first = n.min(cap - start);
        let a = self.buf.get(start..start + first).unwrap_or_default();
        let b = self.buf.get(..n - first).unwrap_or_default();
        (a, b)
    }

    /// The buffer grown to `size` bytes, its contents kept in order.
    fn grow(&mut self, size: usize) {
        let mut buf = vec![0; size];
        let (a, b) = self.get(0, self.used);
        if let Some(dst) = buf.get_mut(..a.len()) {
            dst.copy_from_slice(a);
        }
        if let Some(dst) = buf.get_mut(a.len()..a.len() + b.len()) {
            dst.copy_from_slice(b);
        }
        (self.buf, self.head) = (buf, 0);
    }
}

/// A file still taking the flow's packets after its alert.
#[derive(Debug)]
struct Open {
    file: std::fs::File,
    path: String,
    remaining: u32,
    /// The alerting packet and the evidence named for it (alerts on the same packet share the file).
    pcap_cnt: u64,
    evidence: Evidence,
}

/// One flow's recent packets.
#[derive(Debug)]
pub(crate) struct Ring {
    linktype: u32,
    packets: VecDeque<Kept>,
    bytes: Bytes,
    open: Option<Open>,
    memory: MemoryBudget,
    /// What the memory budget holds for it now.
    charged: usize,
}

impl Ring {
    /// What the ring takes: its buffer, and its packets' records.
    fn size(&self) -> usize {
        self.bytes.buf.len() + self.packets.capacity() * std::mem::size_of::<Kept>()
    }

    /// Its charge brought to its size.
    fn settle(&mut self) {
        let size = self.size();
        if size > self.charged {
            self.memory.charge(MemoryKind::Evidence, (size - self.charged) as u64);
        } else {
            self.memory.release(MemoryKind::Evidence, (self.charged - size) as u64);
        }
        self.charged = size;
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        self.memory.release(MemoryKind::Evidence, self.charged as u64);
    }
}

/// The evidence files of the directory, oldest first, shared by every worker.
#[derive(Debug, Default)]
struct Ledger {
    files: VecDeque<(PathBuf, u64)>,
    total: u64,
    written: u64,
    removed: u64,
    failed: u64,
    /// Files named so far.
    named: u64,
}

/// The run's evidence directory and its ledger, shared by every worker's keeper.
#[derive(Clone, Debug)]
pub struct EvidenceStore {
    cfg: Arc<EvidenceConfig>,
    ledger: Arc<Mutex<Ledger>>,
}

impl EvidenceStore {
    /// The directory is made (0700) and its evidence files so far enter the ledger, so
    /// the disk cap holds across runs.
    pub fn open(cfg: EvidenceConfig) -> std::io::Result<EvidenceStore> {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(&cfg.dir)?;
        let mut found: Vec<(std::time::SystemTime, PathBuf, u64)> = std::fs::read_dir(&cfg.dir)?
            .filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == "pcap"))
            .filter_map(|e| e.metadata().ok().map(|m| (m.modified().unwrap_or(std::time::UNIX_EPOCH), e.path(), m.len())))
            .collect();
        found.sort();
        let mut ledger = Ledger::default();
        for (_, path, len) in found {
            ledger.total += len;
            ledger.files.push_back((path, len));
        }
        trim(&mut ledger, cfg.max_disk);
        Ok(EvidenceStore { cfg: Arc::new(cfg), ledger: Arc::new(Mutex::new(ledger)) })
    }
}

/// A pipeline's evidence keeper: the store, and the ring of the flow whose packet is
/// being handled.
pub(crate) struct Keeper {
    cfg: Arc<EvidenceConfig>,
    ledger: Arc<Mutex<Ledger>>,
    memory: MemoryBudget,
    /// The packet's flow's ring, lent while the packet is handled.
    pub(crate) current: Option<Box<Ring>>,
    /// Packets a full evidence share kept out of a ring.
    pub(crate) not_kept: u64,
    /// Whether the packet being handled is in its ring (else its alerts get no evidence).
    kept_current: bool,
}

const PCAP_HEADER_LEN: u64 = 24;

impl Keeper {
    pub(crate) fn new(store: &EvidenceStore, memory: MemoryBudget) -> Keeper {
        Keeper { cfg: store.cfg.clone(), ledger: store.ledger.clone(), memory, current: None, not_kept: 0, kept_current: false }
    }

    /// A packet of the flow whose ring is `slot`: kept in the ring (and written to the
    /// file an alert opened), then the ring is lent to the keeper until `end`.
    #[cold]
    #[inline(never)]
    pub(crate) fn begin(&mut self, slot: &mut Option<Box<Ring>>, raw: &otsentry_capture::RawFrame<'_>, pcap_cnt: u64) {
        let (linktype, ts, frame, origlen) = (raw.linktype.0, raw.ts, raw.data, raw.origlen);
        let ring = slot.get_or_insert_with(|| {
            Box::new(Ring {
                linktype,
                packets: VecDeque::new(),
                bytes: Bytes::default(),
                open: None,
                memory: self.memory.clone(),
                charged: 0,
            })
        });
        if let Some(open) = ring.open.as_mut() {
            let wrote = append(&mut open.file, ts, frame, origlen).is_ok();
            self.grew(&open.path, if wrote { 16 + frame.len() as u64 } else { 0 });
            open.remaining = open.remaining.saturating_sub(1);
            if open.remaining == 0 || !wrote {
                ring.open = None;
            }
        }
        let len = frame.len();
        while !ring.packets.is_empty() && (ring.packets.len() >= self.cfg.ring_packets || ring.bytes.used + len > self.cfg.ring_bytes) {
            pop_oldest(ring);
        }
        let mut kept = true;
        if ring.bytes.used + len > ring.bytes.buf.len() {
            // The buffer must grow: the growth is charged first, and refused while other
            // flows' rings spend the share.
            let (used, have) = (ring.bytes.used, ring.bytes.buf.len());
            let size = (used + len).max(have * 2).min(self.cfg.ring_bytes.max(used + len));
            kept = self.memory.try_charge(MemoryKind::Evidence, (size - have) as u64);
            if kept {
                ring.charged += size - have;
                ring.bytes.grow(size);
            } else {
                // Refused: the ring's own oldest packets make room in the buffer it has.
                while !ring.packets.is_empty() && ring.bytes.used + len > have {
                    pop_oldest(ring);
                }
                kept = ring.bytes.used + len <= have;
            }
        }
        self.kept_current = kept;
        if kept {
            ring.bytes.push(frame);
            ring.packets.push_back(Kept { ts, pcap_cnt, origlen, len: len as u32 });
            ring.settle();
        } else {
            // The share is spent by other flows' rings: this packet is not kept.
            self.memory.gave_way(MemoryKind::Evidence, 1);
            self.not_kept += 1;
        }
        self.current = slot.take();
    }

    /// The packet is handled: the ring goes back to its flow.
    pub(crate) fn end(&mut self, slot: &mut Option<Box<Ring>>) {
        if let Some(ring) = self.current.take() {
            *slot = Some(ring);
        }
    }

    /// An alert is being raised on the current packet: at or above the severity, its
    /// flow's ring is written (once per packet) and named in it.
    pub(crate) fn attach(&mut self, alert: &mut Alert) {
        if alert.alert.info.severity < self.cfg.min_severity || !self.kept_current {
            return;
        }
        let Some(mut ring) = self.current.take() else { return };
        let result = self.write_for(&mut ring, alert);
        self.current = Some(ring);
        if let Err(e) = result {
            lock(&self.ledger).failed += 1;
            tracing::warn!(dir = %self.cfg.dir.display(), error = %e, "evidence not written");
        }
    }

    fn write_for(&self, ring: &mut Ring, alert: &mut Alert) -> std::io::Result<()> {
        let Some(last) = ring.packets.back() else { return Ok(()) };
        if let Some(open) = ring.open.as_ref().filter(|o| o.pcap_cnt == last.pcap_cnt) {
            alert.evidence = Some(open.evidence.clone());
            return Ok(());
        }
        match self.write(ring) {
            Ok(open) => {
                alert.evidence = Some(open.evidence.clone());
                ring.open = (open.remaining > 0).then_some(open);
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    fn write(&self, ring: &Ring) -> std::io::Result<Open> {
        use std::os::unix::fs::OpenOptionsExt;
        let (Some(first), Some(last)) = (ring.packets.front(), ring.packets.back()) else {
            return Err(std::io::Error::other("no packet kept"));
        };
        // Unique across inputs and workers: the ledger numbers the files of the run.
        let seq = {
            let mut l = lock(&self.ledger);
            l.named += 1;
            l.named
        };
        let name = format!("{}-{}-{}-{seq}.pcap", last.ts.secs(), last.pcap_cnt, std::process::id());
        let path = self.cfg.dir.join(name);
        let mut file = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&path)?;
        let mut bytes = Vec::with_capacity(ring.bytes.used + 16 * ring.packets.len() + PCAP_HEADER_LEN as usize);
        header(&mut bytes, ring.linktype);
        let mut offset = 0;
        for k in &ring.packets {
            let (a, b) = ring.bytes.get(offset, k.len as usize);
            record(&mut bytes, k.ts, &[a, b], k.origlen);
            offset += k.len as usize;
        }
        file.write_all(&bytes)?;
        let shown = path.display().to_string();
        self.added(path, bytes.len() as u64);
        let evidence = Evidence { pcap: shown.clone(), first_pcap_cnt: first.pcap_cnt, frame: ring.packets.len() as u64 };
        Ok(Open { file, path: shown, remaining: self.cfg.after, pcap_cnt: last.pcap_cnt, evidence })
    }

    fn added(&self, path: PathBuf, len: u64) {
        let mut l = lock(&self.ledger);
        l.written += 1;
        l.total += len;
        l.files.push_back((path, len));
        trim(&mut l, self.cfg.max_disk);
    }

    fn grew(&self, path: &str, len: u64) {
        let mut l = lock(&self.ledger);
        if let Some(entry) = l.files.iter_mut().rev().find(|(p, _)| p.as_os_str() == path) {
            entry.1 += len;
            l.total += len;
        }
        trim(&mut l, self.cfg.max_disk);
    }

    /// Files written, removed by the disk cap, failed, and packets not kept.
    pub(crate) fn counts(&self) -> otsentry_core::EvidenceCounts {
        let l = lock(&self.ledger);
        otsentry_core::EvidenceCounts {
            files: l.written,
            removed: l.removed,
            failed: l.failed,
            disk_bytes: l.total,
            not_kept: self.not_kept,
        }
    }
}

fn lock(l: &Mutex<Ledger>) -> std::sync::MutexGuard<'_, Ledger> {
    l.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn pop_oldest(ring: &mut Ring) {
    if let Some(k) = ring.packets.pop_front() {
        ring.bytes.pop(k.len as usize);
    }
}

/// Over the disk cap: the oldest files go (the newest always stays).
fn trim(l: &mut Ledger, max: u64) {
    while l.total > max && l.files.len() > 1 {
        let Some((path, len)) = l.files.pop_front() else { break };
        let _ = std::fs::remove_file(&path);
        l.total -= len.min(l.total);
        l.removed += 1;
    }
}

/// The classic pcap header, microseconds, the frames' link type.
fn header(out: &mut Vec<u8>, linktype: u32) {
    out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&0i32.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&262_144u32.to_le_bytes());
    out.extend_from_slice(&linktype.to_le_bytes());
}

fn record(out: &mut Vec<u8>, ts: Timestamp, pieces: &[&[u8]], origlen: u32) {
    let len: usize = pieces.iter().map(|p| p.len()).sum();
    let nanos = ts.as_nanos();
    let (secs, micros) = (nanos.div_euclid(1_000_000_000), nanos.rem_euclid(1_000_000_000) / 1000);
    out.extend_from_slice(&(secs as u32).to_le_bytes());
    out.extend_from_slice(&(micros as u32).to_le_bytes());
    out.extend_from_slice(&(len as u32).to_le_bytes());
    out.extend_from_slice(&origlen.max(len as u32).to_le_bytes());
    for p in pieces {
        out.extend_from_slice(p);
    }
}

fn append(file: &mut std::fs::File, ts: Timestamp, data: &[u8], origlen: u32) -> std::io::Result<()> {
    let mut bytes = Vec::with_capacity(16 + data.len());
    record(&mut bytes, ts, &[data], origlen);
    file.write_all(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_byte_ring_keeps_packets_in_order_across_wraps_and_growth() {
        let mut ring = Bytes::default();
        let mut model: VecDeque<Vec<u8>> = VecDeque::new();
        let mut next = 0u8;
        for step in 0..2000usize {
            let len = (step * 7919) % 61 + 1;
            let packet: Vec<u8> = (0..len)
                .map(|_| {
                    next = next.wrapping_add(1);
                    next
                })
                .collect();
            // At most 256 bytes held: the oldest go first.
            while ring.used + len > 256 {
                let old = model.pop_front().unwrap();
                ring.pop(old.len());
            }
            if ring.used + len > ring.buf.len() {
                ring.grow((ring.used + len).max(ring.buf.len() * 2).min(256));
            }
            ring.push(&packet);
            model.push_back(packet);
            let mut offset = 0;
            for p in &model {
                let (a, b) = ring.get(offset, p.len());
                assert_eq!([a, b].concat(), *p, "step {step}");
                offset += p.len();
            }
            assert_eq!(offset, ring.used);
            assert!(ring.buf.len() <= 256);
        }
    }

    #[test]
    fn records_are_the_classic_pcap_layout() {
        let mut b = Vec::new();
        header(&mut b, 1);
        record(&mut b, Timestamp::from_secs_nanos(5, 1_500), &[&[1, 2], &[3]], 60);
        assert_eq!(b.len() as u64, PCAP_HEADER_LEN + 16 + 3);
        assert_eq!(&b[24..40], &[5, 0, 0, 0, 1, 0, 0, 0, 3, 0, 0, 0, 60, 0, 0, 0]);
    }
}
