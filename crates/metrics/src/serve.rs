//! The HTTP endpoint: `GET /metrics` (Prometheus text) and `GET /health` (200 while the
//! sensor captures and delivers, 503 with what is wrong), on a thread of its own with a
//! single-threaded tokio runtime and hyper. Slow or many clients cannot hold it: headers
//! must arrive within five seconds, and at most `MAX_CONNECTIONS` are served at once.
use crate::render::{render, CONTENT_TYPE};
use bytes::Bytes;
use http_body_util::Full;
use hyper::{Method, Request, Response, StatusCode};
use otsentry_core::LiveView;
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const MAX_CONNECTIONS: usize = 16;
const HEADER_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    #[error("--metrics {addr}: cannot listen: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("--metrics: cannot start the HTTP thread: {0}")]
    Start(std::io::Error),
}

/// Listens on `addr` (done before privileges are dropped, so a port below 1024 works).
pub fn bind(addr: SocketAddr) -> Result<TcpListener, MetricsError> {
    let l = TcpListener::bind(addr).map_err(|source| MetricsError::Bind { addr, source })?;
    l.set_nonblocking(true).map_err(|source| MetricsError::Bind { addr, source })?;
    Ok(l)
}

/// Serves `view` on `listener` from a new thread, until the process ends.
pub fn serve(listener: TcpListener, view: Arc<Mutex<LiveView>>) -> Result<(), MetricsError> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_io().enable_time().build().map_err(MetricsError::Start)?;
    std::thread::Builder::new()
        .name("metrics".into())
        .spawn(move || {
            runtime.block_on(async move {
                let listener = match tokio::net::TcpListener::from_std(listener) {
                    Ok(l) => l,
                    Err(e) => return tracing::error!(error = %e, "metrics: cannot listen"),
                };
                let open = Arc::new(AtomicUsize::new(0));
                loop {
                    let stream = match listener.accept().await {
                        Ok((stream, _)) => stream,
                        Err(e) => {
                            tracing::warn!(error = %e, "metrics: accept failed");
                            tokio::time::sleep(Duration::from_millis(100)).await;
                            continue;
                        }
                    };
                    if open.fetch_add(1, Ordering::AcqRel) >= MAX_CONNECTIONS {
                        open.fetch_sub(1, Ordering::AcqRel);
                        continue;
                    }
                    let (view, open) = (view.clone(), open.clone());
                    tokio::spawn(async move {
                        let service = hyper::service::service_fn(move |req| {
                            let answer = answer(&req, &view);
                            async move { Ok::<_, std::convert::Infallible>(answer) }
                        });
                        let served = hyper::server::conn::http1::Builder::new()
                            .timer(hyper_util::rt::TokioTimer::new())
                            .header_read_timeout(HEADER_TIMEOUT)
                            .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                            .await;
                        if let Err(e) = served {
                            tracing::debug!(error = %e, "metrics: connection ended");
                        }
                        open.fetch_sub(1, Ordering::AcqRel);
                    });
                }
            })
        })
        .map_err(MetricsError::Start)?;
    Ok(())
}

fn answer<B>(req: &Request<B>, view: &Mutex<LiveView>) -> Response<Full<Bytes>> {
    let reply = |status: StatusCode, content_type: &str, body: String| {
        let mut r = Response::new(Full::new(Bytes::from(body)));
        *r.status_mut() = status;
        if let Ok(v) = hyper::header::HeaderValue::from_str(content_type) {
            r.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
        }
        r
    };
    if req.method() != Method::GET {
        return reply(StatusCode::METHOD_NOT_ALLOWED, "text/plain", "GET only\n".into());
    }
    let Ok(view) = view.lock() else {
        return reply(StatusCode::INTERNAL_SERVER_ERROR, "text/plain", "the view is unavailable\n".into());
    };
    match req.uri().path() {
        "/metrics" => reply(StatusCode::OK, CONTENT_TYPE, render(&view)),
        "/health" if view.problems.is_empty() => reply(StatusCode::OK, "text/plain", "ok: capturing\n".into()),
        "/health" => reply(StatusCode::SERVICE_UNAVAILABLE, "text/plain", view.problems.join("\n") + "\n"),
        _ => reply(StatusCode::NOT_FOUND, "text/plain", "/metrics or /health\n".into()),
    }
}
