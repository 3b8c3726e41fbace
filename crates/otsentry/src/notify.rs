//! systemd's notification protocol, for `Type=notify` units: `READY=1` once the capture
//! handles are open and privileges dropped, `STOPPING=1` at a stop, and `WATCHDOG=1`
//! while the pipeline's clock ticks (a stalled pipeline stops the pings and systemd
//! restarts the sensor). Without `NOTIFY_SOCKET` nothing is sent.
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Sends `state` to the service manager, if one listens; failures are logged, never
/// fatal (the sensor works without systemd).
pub(crate) fn notify(state: &str) {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else { return };
    let bytes = path.as_encoded_bytes();
    let addr = match bytes.strip_prefix(b"@") {
        Some(name) => <SocketAddr as std::os::linux::net::SocketAddrExt>::from_abstract_name(name),
        None => SocketAddr::from_pathname(&path),
    };
    let sent = UnixDatagram::unbound().and_then(|s| addr.and_then(|a| s.send_to_addr(state.as_bytes(), &a)));
    if let Err(e) = sent {
        tracing::warn!(state, error = %e, "cannot notify the service manager");
    }
}

/// With `WATCHDOG_USEC` set (for this process), pings the watchdog at half its interval
/// as long as the pipeline ticked since the last ping.
pub(crate) fn watchdog(ticks: std::sync::Arc<std::sync::atomic::AtomicU64>) -> anyhow::Result<()> {
    let Some(usec) = std::env::var("WATCHDOG_USEC").ok().and_then(|u| u.parse::<u64>().ok()).filter(|&u| u > 0) else { return Ok(()) };
    let ours = std::env::var("WATCHDOG_PID").ok().and_then(|p| p.parse::<u32>().ok()).is_none_or(|p| p == std::process::id());
    if !ours {
        return Ok(());
    }
    let every = Duration::from_micros(usec / 2);
    std::thread::Builder::new().name("watchdog".into()).spawn(move || {
        let mut last = u64::MAX;
        loop {
            let now = ticks.load(Ordering::Relaxed);
            if now != last {
                notify("WATCHDOG=1");
                last = now;
            } else {
                tracing::error!("the pipeline has not ticked for {} ms: watchdog not pinged", every.as_millis());
            }
            std::thread::sleep(every);
        }
    })?;
    Ok(())
}
