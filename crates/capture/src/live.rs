//! Live capture from network interfaces through libpcap: each handle non-blocking, so one
//! thread reads several interfaces and wakes on its own schedule (libpcap's read timeout
//! does not guarantee a return on a quiet Linux link; [`wait`] does).
use crate::{LinkType, RawFrame};
use otsentry_core::{CaptureCounts, Timestamp};
use std::time::Duration;

/// How an interface is opened (`otsentry sense`'s capture flags).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveOptions {
    /// Bytes kept of each frame.
    pub snaplen: u32,
    /// The kernel's capture buffer, in bytes.
    pub buffer_size: u32,
    /// Hand each packet over as it arrives instead of in blocks.
    pub immediate: bool,
    pub promiscuous: bool,
    /// libpcap's read timeout (how long the kernel may hold a block).
    pub timeout: Duration,
    /// A BPF filter in tcpdump's syntax; empty for every frame.
    pub bpf: String,
    /// Join each handle to a kernel fanout group (one handle per worker): the group's
    /// base number, the same for every worker's handles of one sensor.
    pub fanout: Option<u16>,
}

impl Default for LiveOptions {
    fn default() -> Self {
        LiveOptions {
            snaplen: 262_144,
            buffer_size: 64 << 20,
            immediate: false,
            promiscuous: true,
            timeout: Duration::from_millis(100),
            bpf: String::new(),
            fanout: None,
        }
    }
}

/// Opening an interface failed: which one, and the one cause (the setting at fault).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LiveError {
    #[error("--interface {iface}: no such network interface")]
    NoSuchInterface { iface: String },
    #[error("--interface {iface}: no permission to capture (run as root, or give the binary CAP_NET_RAW): {detail}")]
    Permission { iface: String, detail: String },
    #[error("--bpf {filter:?}: does not compile on {iface}: {detail}")]
    BadFilter { iface: String, filter: String, detail: String },
    #[error("--interface {iface}: unsupported link type {linktype}")]
    UnsupportedLinkType { iface: String, linktype: i32 },
    #[error("--interface {iface}: cannot capture: {detail}")]
    Open { iface: String, detail: String },
    #[error("--interface {iface}: capture failed: {detail}")]
    Read { iface: String, detail: String },
}

/// One open interface.
pub struct LiveCapture {
    iface: String,
    cap: pcap::Capture<pcap::Active>,
    linktype: LinkType,
    /// The link's MTU when opened: a frame longer than it plus its link header was not
    /// carried whole by the wire (offloads merged it), counted apart.
    mtu: Option<u32>,
    last: pcap::Stat,
    /// What the kernel counted, accumulated in 64 bits (libpcap's counters are 32-bit
    /// and wrap on a busy link within hours).
    counters: CaptureCounts,
    frames: u64,
    failed: Option<LiveError>,
}

impl LiveCapture {
    /// Opens `iface` with `opts`, non-blocking, filtered. Nothing is read yet.
    pub fn open(iface: &str, opts: &LiveOptions) -> Result<Self, LiveError> {
        let sys = std::path::Path::new("/sys/class/net").join(iface);
        let known = pcap::Device::list().map(|l| l.iter().any(|d| d.name == iface)).unwrap_or(false);
        if iface.is_empty() || iface.contains('/') || (!sys.exists() && !known) {
            return Err(LiveError::NoSuchInterface { iface: iface.into() });
        }
        let open = |detail: String| classify(iface, detail);
        let snaplen = i32::try_from(opts.snaplen).unwrap_or(i32::MAX);
        let buffer = i32::try_from(opts.buffer_size).unwrap_or(i32::MAX);
        let timeout = i32::try_from(opts.timeout.as_millis()).unwrap_or(i32::MAX).max(1);
        let inactive = pcap::Capture::from_device(iface).map_err(|e| open(e.to_string()))?;
        let cap = inactive
            .snaplen(snaplen)
            .buffer_size(buffer)
            .promisc(opts.promiscuous)
            .immediate_mode(opts.immediate)
            .timeout(timeout)
            .open()
            .map_err(|e| open(e.to_string()))?;
        // Both directions: a SPAN port only receives, and an interface the host also
        // talks on (a lab, a test) is seen whole.
        let mut cap = cap.setnonblock().map_err(|e| open(e.to_string()))?;
        if !opts.bpf.is_empty() {
            cap.filter(&opts.bpf, true).map_err(|e| LiveError::BadFilter {
                iface: iface.into(),
                filter: opts.bpf.clone(),
                detail: e.to_string(),
            })?;
        }
        if let Some(base) = opts.fanout {
            use std::os::fd::AsRawFd;
            crate::fanout::join(cap.as_raw_fd(), crate::fanout::group_id(base, iface))
                .map_err(|e| open(format!("joining the fanout group (--capture fanout): {e}")))?;
        }
        let dl = cap.get_datalink().0;
        let linktype = LinkType(u32::try_from(dl).unwrap_or(u32::MAX));
        if !linktype.is_supported() {
            return Err(LiveError::UnsupportedLinkType { iface: iface.into(), linktype: dl });
        }
        let mtu = std::fs::read_to_string(sys.join("mtu")).ok().and_then(|t| t.trim().parse().ok());
        let last = pcap::Stat { received: 0, dropped: 0, if_dropped: 0 };
        Ok(LiveCapture { iface: iface.into(), cap, linktype, mtu, last, counters: CaptureCounts::default(), frames: 0, failed: None })
    }

    pub fn interface(&self) -> &str {
        &self.iface
    }

    /// The largest frame the link can carry whole: its MTU plus the link header (with
    /// two VLAN tags, as a SPAN port may deliver them).
    pub fn max_frame(&self) -> Option<u32> {
        let header = if self.linktype == LinkType::ETHERNET { 14 + 8 } else { 0 };
        self.mtu.map(|m| m + header)
    }

    /// Frames handed out so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Why the handle stopped delivering, if it did.
    pub fn failure(&self) -> Option<&LiveError> {
        self.failed.as_ref()
    }

    /// The next frame waiting in the kernel's buffer, borrowed until the next call;
    /// `None` when none is waiting (or the handle has failed).
    pub fn next_frame(&mut self) -> Option<RawFrame<'_>> {
        if self.failed.is_some() {
            return None;
        }
        match self.cap.next_packet() {
            Ok(p) => {
                self.frames += 1;
                let tv = p.header.ts;
                let micros = u32::try_from(tv.tv_usec).unwrap_or(0).min(999_999);
                let ts = Timestamp::from_secs_nanos(tv.tv_sec, micros * 1000);
                Some(RawFrame { ts, linktype: self.linktype, origlen: p.header.len, data: p.data })
            }
            Err(pcap::Error::TimeoutExpired) | Err(pcap::Error::NoMorePackets) => None,
            Err(e) => {
                self.failed = Some(LiveError::Read { iface: self.iface.clone(), detail: e.to_string() });
                None
            }
        }
    }

    /// Opens the interface again after its handle failed (a link flap, a driver reset),
    /// keeping the counts so far.
    pub fn reopen(&mut self, opts: &LiveOptions) -> Result<(), LiveError> {
        let mut fresh = LiveCapture::open(&self.iface, opts)?;
        self.counters();
        std::mem::swap(&mut self.cap, &mut fresh.cap);
        (self.linktype, self.mtu, self.last, self.failed) = (fresh.linktype, fresh.mtu, fresh.last, None);
        Ok(())
    }

    /// Whether the kernel says the link is down (`operstate`): a handle on a downed link
    /// stays open but delivers nothing.
    pub fn link_down(&self) -> bool {
        let state = std::fs::read_to_string(std::path::Path::new("/sys/class/net").join(&self.iface).join("operstate")).unwrap_or_default();
        matches!(state.trim(), "down" | "lowerlayerdown" | "notpresent")
    }

    /// Reads the kernel's counters and adds what they grew by since the last read.
    pub fn counters(&mut self) -> CaptureCounts {
        if let Ok(now) = self.cap.stats() {
            self.counters += growth(&self.last, &now);
            self.last = now;
        }
        self.counters
    }
}

/// What libpcap's 32-bit counters grew by from `last` to `now` (across a wrap).
fn growth(last: &pcap::Stat, now: &pcap::Stat) -> CaptureCounts {
    CaptureCounts {
        kernel_packets: u64::from(now.received.wrapping_sub(last.received)),
        kernel_drops: u64::from(now.dropped.wrapping_sub(last.dropped)),
        kernel_ifdrops: u64::from(now.if_dropped.wrapping_sub(last.if_dropped)),
    }
}

/// Waits until a frame may be waiting on any of `captures` or `timeout` passes (a signal
/// also ends the wait).
pub fn wait(captures: &[LiveCapture], timeout: Duration) {
    use rustix::event::{poll, PollFd, PollFlags, Timespec};
    let mut fds: Vec<PollFd<'_>> = captures.iter().filter(|c| c.failed.is_none()).map(|c| PollFd::new(&c.cap, PollFlags::IN)).collect();
    if fds.is_empty() {
        std::thread::sleep(timeout);
        return;
    }
    let ts = Timespec { tv_sec: timeout.as_secs() as i64, tv_nsec: i64::from(timeout.subsec_nanos()) };
    let _ = poll(&mut fds, Some(&ts));
}

/// libpcap's open errors, by their cause: the settings a user can act on are named.
fn classify(iface: &str, detail: String) -> LiveError {
    let lower = detail.to_ascii_lowercase();
    if lower.contains("no such device") {
        LiveError::NoSuchInterface { iface: iface.into() }
    } else if lower.contains("permission") || lower.contains("not permitted") {
        LiveError::Permission { iface: iface.into(), detail }
    } else {
        LiveError::Open { iface: iface.into(), detail }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat(received: u32, dropped: u32, if_dropped: u32) -> pcap::Stat {
        pcap::Stat { received, dropped, if_dropped }
    }

    #[test]
    fn counters_carry_on_past_libpcap_s_32_bit_wrap() {
        let mut c = CaptureCounts::default();
        let mut last = stat(0, 0, 0);
        for now in [stat(4_000_000_000, 10, 0), stat(5, 12, 1), stat(100, 12, 1)] {
            c += growth(&last, &now);
            last = now;
        }
        // 4e9, then past 2^32 to 5, then 95 more.
        assert_eq!(c.kernel_packets, (1u64 << 32) + 100);
        assert_eq!((c.kernel_drops, c.kernel_ifdrops), (12, 1));
    }

    #[test]
    fn interfaces_that_cannot_be_opened_name_the_setting() {
        let opts = LiveOptions::default();
        for name in ["", "no/such", "nosuch0"] {
            assert_eq!(LiveCapture::open(name, &opts).err(), Some(LiveError::NoSuchInterface { iface: name.into() }));
        }
        assert!(matches!(classify("x", "socket: Operation not permitted".into()), LiveError::Permission { .. }));
        assert!(matches!(classify("x", "something else".into()), LiveError::Open { .. }));
    }
}
