//! The CEF output: each record of a batch as a CEF event in a syslog message, sent over
//! the target's transport. A batch lands whole or fails as retriable (the spool keeps
//! it): UDP at most once; TCP and TLS at least once (a receiver that dies may lose what
//! its kernel had taken, and a batch sent again repeats what had arrived); RELP at
//! least once with only unacknowledged messages sent again.
use crate::cef::{format, CefEvent};
use crate::event::EveToCef;
use crate::relp;
use crate::syslog::{message, octet_counted, syslog_severity, Framing, Origin};
use crate::transport::{tls_config, Connection, Target, TlsFiles, Transport};
use otsentry_core::{Severity, Timestamp};
use otsentry_sink::{Batch, RecordSink, Refused, SinkError};
use std::sync::Arc;
use std::time::Duration;

/// The CEF output's settings.
#[derive(Clone, Debug)]
pub struct CefOptions {
    pub target: Target,
    pub tls: TlsFiles,
    pub framing: Framing,
    /// The receiver's largest message (rsyslog's `maxMessageSize`), header included:
    /// a longer event has its longest values cut and marked.
    pub max_message: usize,
    /// Syslog facility (local0 = 16).
    pub facility: u8,
    /// The sensor's name (the syslog HOSTNAME, and `dvchost` when a record has none).
    pub host: String,
    /// The product version in the CEF header.
    pub version: String,
    /// Connect, write and acknowledgement timeout.
    pub timeout: Duration,
    /// RELP: messages sent before their answers are awaited.
    pub window: usize,
}

impl CefOptions {
    pub fn new(target: Target, host: &str) -> CefOptions {
        CefOptions {
            target,
            tls: TlsFiles::default(),
            framing: Framing::Rfc5424,
            max_message: DEFAULT_MAX_MESSAGE,
            facility: 16,
            host: host.to_string(),
            version: String::new(),
            timeout: Duration::from_secs(10),
            window: 128,
        }
    }
}

/// rsyslog's default `maxMessageSize`, and what RFC 5425 says a TLS receiver should take.
pub const DEFAULT_MAX_MESSAGE: usize = 8192;
/// The smallest maximum that leaves room for a header and a useful event.
pub const MIN_MAX_MESSAGE: usize = 480;

/// Why the output cannot start, or cannot reach its receiver now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CefStartError {
    /// A setting that cannot work (a TLS file missing or bad): exit 2.
    #[error("{0}")]
    Config(String),
    /// The receiver does not answer now.
    #[error("{0}")]
    Unreachable(String),
}

/// The RELP batch being delivered: which of its messages the receiver acknowledged, so
/// a batch sent again (from the spool, after a reconnect) skips them.
#[derive(Default)]
struct InFlight {
    fingerprint: u64,
    acked: Vec<bool>,
}

pub struct CefSink {
    opts: CefOptions,
    tls: Option<Arc<rustls::ClientConfig>>,
    conn: Option<Connection>,
    /// RELP: the next transaction number, and the session's open state.
    txnr: u32,
    in_flight: InFlight,
    to_cef: EveToCef,
    refused: Vec<Refused>,
    origin: Origin,
    read_buf: Vec<u8>,
}

impl CefSink {
    /// The output for `opts`; `record_types` are every record type (for the protocol
    /// function fields). TLS files are read now.
    pub fn new(opts: CefOptions, record_types: &[&'static str]) -> Result<CefSink, CefStartError> {
        if opts.max_message < MIN_MAX_MESSAGE {
            return Err(CefStartError::Config(format!("a maximum message of {} bytes is below {MIN_MAX_MESSAGE}", opts.max_message)));
        }
        let tls = match opts.target.transport {
            Transport::Tls => Some(tls_config(&opts.tls).map_err(CefStartError::Config)?),
            _ => None,
        };
        let origin = Origin { facility: opts.facility, host: opts.host.clone(), app: "otsentry".into() };
        Ok(CefSink {
            to_cef: EveToCef::new(record_types, &opts.host),
            opts,
            tls,
            conn: None,
            txnr: 1,
            in_flight: InFlight::default(),
            refused: Vec::new(),
            origin,
            read_buf: Vec::new(),
        })
    }

    /// Connects now (and opens the RELP session), to say at start whether the receiver
    /// answers. UDP has nothing to check.
    pub fn check(&mut self) -> Result<(), CefStartError> {
        self.connect().map_err(|e| CefStartError::Unreachable(format!("{}: {e}", self.name())))
    }

    fn connect(&mut self) -> std::io::Result<()> {
        if self.conn.is_some() {
            return Ok(());
        }
        let mut conn = Connection::open(&self.opts.target, self.tls.as_ref(), self.opts.timeout)?;
        self.read_buf.clear();
        if self.opts.target.transport == Transport::Relp {
            self.txnr = 1;
            conn.send(&relp::frame(self.next_txnr(), "open", &relp::open_offers("otsentry")))?;
            let (_, data) = read_answer(&mut conn, &mut self.read_buf)?;
            if relp::response_code(&data) != Some(200) {
                return Err(std::io::Error::other(format!("the receiver refused the RELP session: {}", String::from_utf8_lossy(&data))));
            }
        }
        self.conn = Some(conn);
        Ok(())
    }

    fn next_txnr(&mut self) -> u32 {
        let n = self.txnr;
        // RELP numbers run to 999,999,999, then start again at 1.
        self.txnr = if n >= 999_999_999 { 1 } else { n + 1 };
        n
    }

    /// The syslog message for one EVE line, or why it has none.
    fn syslog_message(&mut self, line: &[u8]) -> Result<String, String> {
        let event: CefEvent = self.to_cef.event(line)?;
        let ts = event
            .extension
            .iter()
            .find(|(k, _)| *k == "rt")
            .and_then(|(_, ms)| ms.parse::<i64>().ok())
            .map_or_else(now, |ms| Timestamp::from_secs_nanos(ms.div_euclid(1000), (ms.rem_euclid(1000) * 1_000_000) as u32));
        let severity = syslog_severity(severity_of(event.severity));
        // The header once: the event is cut to the room it leaves, then appended.
        let mut m = message(self.opts.framing, &self.origin, severity, ts, "");
        let room = self.opts.max_message.saturating_sub(m.len());
        m.push_str(&format("otsentry", "otsentry", &self.opts.version, &event, room));
        Ok(m)
    }

    fn fail(&mut self, e: &std::io::Error) -> SinkError {
        self.conn = None;
        SinkError::Retriable(format!("{}: {e}", self.name()))
    }

    /// Sends the unacknowledged messages of the batch over RELP, a window at a time,
    /// and waits for each answer.
    fn send_relp(&mut self, fingerprint: u64, messages: &[String]) -> Result<(), SinkError> {
        if self.in_flight.fingerprint != fingerprint || self.in_flight.acked.len() != messages.len() {
            self.in_flight = InFlight { fingerprint, acked: vec![false; messages.len()] };
        }
        self.connect().map_err(|e| self.fail(&e))?;
        let pending: Vec<usize> = (0..messages.len()).filter(|&i| !self.in_flight.acked[i]).collect();
        for chunk in pending.chunks(self.opts.window.max(1)) {
            let mut out = Vec::new();
            let mut waiting: Vec<(u32, usize)> = Vec::with_capacity(chunk.len());
            for &i in chunk {
                let txnr = self.next_txnr();
                out.extend_from_slice(&relp::frame(txnr, "syslog", messages[i].as_bytes()));
                waiting.push((txnr, i));
            }
            let Some(conn) = self.conn.as_mut() else { return Err(SinkError::Retriable("not connected".into())) };
            if let Err(e) = conn.send(&out).and_then(|()| conn.flush()) {
                return Err(self.fail(&e));
            }
            while !waiting.is_empty() {
                let Some(conn) = self.conn.as_mut() else { return Err(SinkError::Retriable("not connected".into())) };
                let (txnr, data) = match read_answer(conn, &mut self.read_buf) {
                    Ok(answer) => answer,
                    Err(e) => return Err(self.fail(&e)),
                };
                let Some(at) = waiting.iter().position(|(t, _)| *t == txnr) else { continue };
                let (_, i) = waiting.swap_remove(at);
                match relp::response_code(&data) {
                    Some(200) => self.in_flight.acked[i] = true,
                    _ => {
                        let why = String::from_utf8_lossy(&data).into_owned();
                        return Err(self.fail(&std::io::Error::other(format!("message refused: {why}"))));
                    }
                }
            }
        }
        self.in_flight = InFlight::default();
        Ok(())
    }
}

/// The wall clock, for a record without a time.
fn now() -> Timestamp {
    let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    Timestamp::from_secs_nanos(i64::try_from(d.as_secs()).unwrap_or(i64::MAX), d.subsec_nanos())
}

/// Our severity for a CEF one (the inverse of `cef_severity`).
fn severity_of(cef: u8) -> Severity {
    match cef {
        9.. => Severity::Critical,
        7..=8 => Severity::High,
        4..=6 => Severity::Medium,
        2..=3 => Severity::Low,
        _ => Severity::Info,
    }
}

/// Reads until one whole RELP frame is in `buf`: its transaction number and data. A
/// `serverclose` (the receiver is going) or a closed connection is an error.
fn read_answer(conn: &mut Connection, buf: &mut Vec<u8>) -> std::io::Result<(u32, Vec<u8>)> {
    loop {
        match relp::parse(buf) {
            Ok(Some((frame, used))) => {
                let answer = (frame.txnr, frame.data.to_vec());
                let closing = frame.command == "serverclose";
                buf.drain(..used);
                if closing {
                    return Err(std::io::Error::new(std::io::ErrorKind::ConnectionAborted, "the receiver closed the RELP session"));
                }
                return Ok(answer);
            }
            Ok(None) => {}
            Err(e) => return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, e)),
        }
        let mut chunk = [0u8; 4096];
        let n = conn.read(&mut chunk)?;
        if n == 0 {
            return Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "the receiver closed the connection"));
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// A batch's identity: the same bytes sent again (from the spool) are the same batch.
fn fingerprint(bytes: &[u8]) -> u64 {
    use std::hash::Hasher;
    let mut h = std::hash::DefaultHasher::new();
    h.write(bytes);
    h.finish() ^ bytes.len() as u64
}

impl RecordSink for CefSink {
    fn name(&self) -> String {
        format!("cef:{}", self.opts.target.url())
    }

    fn write(&mut self, batch: &Batch) -> Result<(), SinkError> {
        // A batch that failed before is sent again whole: what it refused then is refused again.
        self.refused.clear();
        let mut messages = Vec::with_capacity(batch.records());
        let mut types = Vec::with_capacity(batch.records());
        for (event_type, line) in batch.lines() {
            match self.syslog_message(line) {
                Ok(m) => {
                    messages.push(m);
                    types.push(event_type);
                }
                Err(reason) => self.refused.push(Refused { event_type, line: line.to_vec(), reason }),
            }
        }
        match self.opts.target.transport {
            Transport::Udp => {
                self.connect().map_err(|e| self.fail(&e))?;
                for (m, &event_type) in messages.iter().zip(&types) {
                    // At most once: a datagram the network or receiver lost is not known
                    // here; one the kernel refused is counted, not sent again.
                    let sent = self.conn.as_mut().map(|c| c.send(m.as_bytes()));
                    if let Some(Err(e)) = sent {
                        self.refused.push(Refused { event_type, line: m.clone().into_bytes(), reason: format!("UDP send: {e}") });
                    }
                }
                Ok(())
            }
            Transport::Tcp | Transport::Tls => {
                self.connect().map_err(|e| self.fail(&e))?;
                let mut out = String::with_capacity(messages.iter().map(|m| m.len() + 8).sum());
                for m in &messages {
                    out.push_str(&octet_counted(m));
                }
                let Some(conn) = self.conn.as_mut() else { return Err(SinkError::Retriable("not connected".into())) };
                match conn.send(out.as_bytes()).and_then(|()| conn.flush()) {
                    Ok(()) => Ok(()),
                    Err(e) => Err(self.fail(&e)),
                }
            }
            Transport::Relp => self.send_relp(fingerprint(batch.bytes()), &messages),
        }
    }

    fn reopen(&mut self) -> Result<(), SinkError> {
        self.conn = None;
        Ok(())
    }

    fn take_refused(&mut self) -> Vec<Refused> {
        std::mem::take(&mut self.refused)
    }
}
