//! Where CEF messages go and over what: the receiver's URL (`udp://`, `tcp://`,
//! `tls://`, `relp://`), the TLS settings (RFC 5425: a CA file, an optional client
//! certificate), and one connection to the receiver.
use rustls::pki_types::{pem::PemObject, CertificateDer, PrivateKeyDer, ServerName};
use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs, UdpSocket};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// How messages travel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// One datagram per message: at most once (RFC 5426).
    Udp,
    /// Octet-counted messages on a stream (RFC 6587): at least once with a spool.
    Tcp,
    /// The same over TLS (RFC 5425).
    Tls,
    /// rsyslog's RELP: each message acknowledged by the receiver.
    Relp,
}

impl Transport {
    pub fn scheme(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
            Transport::Tls => "tls",
            Transport::Relp => "relp",
        }
    }
}

/// The receiver: transport, host and port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub transport: Transport,
    pub host: String,
    pub port: u16,
}

impl Target {
    /// `udp://HOST:PORT`, `tcp://...`, `tls://...` or `relp://...` (an IPv6 address in
    /// brackets).
    pub fn parse(url: &str) -> Result<Target, String> {
        let bad = |why: &str| format!("{url:?}: {why} (expected udp://HOST:PORT, tcp://HOST:PORT, tls://HOST:PORT or relp://HOST:PORT)");
        let (scheme, rest) = url.split_once("://").ok_or_else(|| bad("no scheme"))?;
        let transport = match scheme {
            "udp" => Transport::Udp,
            "tcp" => Transport::Tcp,
            "tls" => Transport::Tls,
            "relp" => Transport::Relp,
            _ => return Err(bad(&format!("unknown transport {scheme:?}"))),
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        let (host, port) = match rest.strip_prefix('[') {
            Some(v6) => {
                let (host, port) = v6.split_once("]:").ok_or_else(|| bad("no port"))?;
                (host, port)
            }
            None => rest.rsplit_once(':').ok_or_else(|| bad("no port"))?,
        };
        let host_ok = !host.is_empty() && host.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'_'));
        if !host_ok {
            return Err(bad("no host, or one with characters a host name cannot have"));
        }
        let port = port.parse::<u16>().ok().filter(|&p| p != 0).ok_or_else(|| bad("the port is not a number from 1 to 65535"))?;
        Ok(Target { transport, host: host.to_string(), port })
    }

    /// `tcp://HOST:PORT`, as the summary names the output.
    pub fn url(&self) -> String {
        if self.host.contains(':') {
            format!("{}://[{}]:{}", self.transport.scheme(), self.host, self.port)
        } else {
            format!("{}://{}:{}", self.transport.scheme(), self.host, self.port)
        }
    }
}

/// The TLS files: the CA that signed the receiver's certificate (else the system's
/// CAs), and a client certificate with its key for receivers that ask for one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsFiles {
    pub ca: Option<PathBuf>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
}

/// The TLS client settings from `files`: every file read now, so a missing or bad one
/// stops the run before it starts, named.
pub fn tls_config(files: &TlsFiles) -> Result<Arc<rustls::ClientConfig>, String> {
    let mut roots = rustls::RootCertStore::empty();
    match &files.ca {
        Some(path) => {
            for cert in read_certs(path)? {
                roots.add(cert).map_err(|e| format!("{}: {e}", path.display()))?;
            }
        }
        None => {
            roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
            if roots.is_empty() {
                return Err("no system CA certificates found: give the receiver's CA file".into());
            }
        }
    }
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_root_certificates(roots);
    let config = match (&files.cert, &files.key) {
        (Some(cert), Some(key)) => {
            let chain = read_certs(cert)?;
            let key = PrivateKeyDer::from_pem_file(key).map_err(|e| format!("{}: not a PEM private key: {e}", key.display()))?;
            builder.with_client_auth_cert(chain, key).map_err(|e| format!("{}: {e}", cert.display()))?
        }
        (None, None) => builder.with_no_client_auth(),
        _ => return Err("a client certificate and its key go together: give both, or neither".into()),
    };
    Ok(Arc::new(config))
}

fn read_certs(path: &std::path::Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("{}: not a PEM certificate file: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("{}: holds no certificate", path.display()));
    }
    Ok(certs)
}

/// One open connection to the receiver.
pub(crate) enum Connection {
    Udp(UdpSocket),
    Tcp(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl Connection {
    /// Connects to `target` (each of its addresses in turn), the TLS handshake done.
    /// Reads and writes time out after `timeout`.
    pub(crate) fn open(target: &Target, tls: Option<&Arc<rustls::ClientConfig>>, timeout: Duration) -> io::Result<Connection> {
        let addrs: Vec<_> = (target.host.as_str(), target.port).to_socket_addrs()?.collect();
        let mut last = io::Error::new(io::ErrorKind::NotFound, format!("{}: no address", target.host));
        for addr in addrs {
            if target.transport == Transport::Udp {
                let local = if addr.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" };
                let socket = UdpSocket::bind(local)?;
                socket.connect(addr)?;
                return Ok(Connection::Udp(socket));
            }
            match TcpStream::connect_timeout(&addr, timeout) {
                Ok(stream) => {
                    stream.set_read_timeout(Some(timeout))?;
                    stream.set_write_timeout(Some(timeout))?;
                    stream.set_nodelay(true)?;
                    let Some(config) = tls.filter(|_| target.transport == Transport::Tls) else {
                        return Ok(Connection::Tcp(stream));
                    };
                    let name = ServerName::try_from(target.host.clone()).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
                    let conn = rustls::ClientConnection::new(config.clone(), name).map_err(io::Error::other)?;
                    let mut tls = rustls::StreamOwned::new(conn, stream);
                    // The handshake now: a certificate the CA did not sign fails here.
                    while tls.conn.is_handshaking() {
                        tls.conn.complete_io(&mut tls.sock)?;
                    }
                    return Ok(Connection::Tls(Box::new(tls)));
                }
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// Writes all of `bytes` (one datagram on UDP).
    pub(crate) fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Connection::Udp(s) => s.send(bytes).map(drop),
            Connection::Tcp(s) => s.write_all(bytes),
            Connection::Tls(s) => s.write_all(bytes),
        }
    }

    pub(crate) fn flush(&mut self) -> io::Result<()> {
        match self {
            Connection::Udp(_) => Ok(()),
            Connection::Tcp(s) => s.flush(),
            Connection::Tls(s) => s.flush(),
        }
    }

    /// Reads what the receiver sent (RELP's answers); 0 when it closed the connection.
    pub(crate) fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Connection::Udp(s) => s.recv(buf),
            Connection::Tcp(s) => s.read(buf),
            Connection::Tls(s) => s.read(buf),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receiver_urls_parse_and_bad_ones_say_why() {
        let t = Target::parse("tls://siem.plant.example:6514").unwrap();
        assert_eq!((t.transport, t.host.as_str(), t.port), (Transport::Tls, "siem.plant.example", 6514));
        let t = Target::parse("relp://[::1]:2514/").unwrap();
        assert_eq!((t.transport, t.host.as_str(), t.url()), (Transport::Relp, "::1", "relp://[::1]:2514".to_string()));
        assert_eq!(Target::parse("udp://127.0.0.1:514").unwrap().url(), "udp://127.0.0.1:514");
        for (bad, why) in [
            ("127.0.0.1:514", "no scheme"),
            ("http://h:514", "unknown transport \"http\""),
            ("tcp://h", "no port"),
            ("tcp://h:0", "port is not a number"),
            ("tcp://h:99999", "port is not a number"),
            ("tcp://:514", "no host"),
            ("tcp://a b:514", "no host"),
        ] {
            let e = Target::parse(bad).unwrap_err();
            assert!(e.contains(why) && e.contains("relp://HOST:PORT"), "{bad}: {e}");
        }
    }

    #[test]
    fn missing_or_bad_tls_files_are_named() {
        let files = TlsFiles { ca: Some("/nonexistent/ca.pem".into()), ..TlsFiles::default() };
        assert!(tls_config(&files).unwrap_err().contains("/nonexistent/ca.pem"));
        let dir = std::env::temp_dir().join(format!("otsentry-cef-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let not_pem = dir.join("ca.pem");
        std::fs::write(&not_pem, "hello\n").unwrap();
        let files = TlsFiles { ca: Some(not_pem.clone()), ..TlsFiles::default() };
        assert!(tls_config(&files).unwrap_err().contains("holds no certificate"));
        let files = TlsFiles { ca: None, cert: Some(not_pem), key: None };
        let e = tls_config(&files).err().unwrap_or_default();
        assert!(e.contains("go together") || e.contains("no system CA"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
