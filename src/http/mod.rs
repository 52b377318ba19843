//! The web face of the daemon: health, metrics, the JSON API (`/api/v1`)
//! the one-click confirmation page (`/confirm`), calendar feeds (`/ics`)
//! and the administrators' HTML dashboard (`/dashboard`).
//!
//! [`serve`] takes its listener and a shutdown future (mini-redis style), so
//! `hanbao run` binds `daemon.http_listen` and tests bind 127.0.0.1:0.
//! [`AppState`] holds the store, the snapshot in force (`live::Live`: the
//! configuration, its calendar and the link key, swapped whole on reload
//! by the daemon, which hands the same snapshot to its dispatcher), the
//! scheduler's heartbeat and the counters.
//!
//! Invariants:
//! - Only this module imports axum.
//! - The HTTP side reads state and records submissions, extensions and
//!   waivers, and keeps files sent with reports (`upload`); it never sends mail. Its only outbox write is the dashboard's
//!   retry button (`Outbox::retry_outbox`): an administrator puts a `failed`
//!   row back to `pending`; the daemon's dispatcher sends it.
//! - Every response carries the security headers and `Cache-Control:
//!   no-store`; every API error is `{"error": {"code", "message"}}` (the
//!   dashboard answers with HTML pages and sets its own stricter CSP).
//! - Token secrets are never logged; only their SHA-256 is stored.

mod api;
mod api_files;
mod auth;
mod confirm;
pub mod cursor;
mod dashboard;
mod date_field;
mod error;
pub mod feed;
mod gauges;
mod health;
mod html;
pub mod metrics;
pub mod selection;
pub mod token;
mod upload;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use tokio_util::sync::CancellationToken;

use crate::heartbeat::Heartbeat;
use crate::live::Live;
use crate::store::Store;

pub use auth::{FAILURE_WINDOW, MAX_FAILURES};
pub use error::ApiError;
pub use gauges::{OUTBOX_MAX_AGE, OVERDUE_MAX_AGE};
pub use metrics::Metrics;

/// The signing code is shared with the mail side (`crate::link`, no axum);
/// re-exported so `http::link::...` and `http::LINK_KEY_FILE` keep working.
pub use crate::link::{self, LINK_KEY_FILE};

/// Largest request body accepted (larger: 413).
pub const BODY_LIMIT: usize = 64 * 1024;

pub(crate) struct Shared {
    store: Store,
    live: RwLock<Arc<Live>>,
    heartbeat: Option<Heartbeat>,
    metrics: Metrics,
    limiter: auth::FailureLimiter,
    /// Tokens lately accepted for `/metrics` and `/healthz`'s details.
    readers: auth::Readers,
    /// Dashboard sessions (in memory: a restart logs administrators out).
    sessions: dashboard::session::Sessions,
    /// `/metrics`' gauges from the database, with their last values.
    gauges: gauges::Gauges,
}

/// What every handler sees. Cloning is cheap (one `Arc`).
pub struct AppState {
    shared: Arc<Shared>,
}

impl Clone for AppState {
    fn clone(&self) -> Self {
        AppState {
            shared: self.shared.clone(),
        }
    }
}

impl AppState {
    /// `live` is the snapshot in force (with its link key, `/confirm` is
    /// on); `heartbeat` is the daemon's scheduler heartbeat; without one
    /// `/healthz` reports the scheduler as "not_running" (503).
    pub fn new(store: Store, live: Arc<Live>, heartbeat: Option<Heartbeat>) -> AppState {
        AppState {
            shared: Arc::new(Shared {
                store,
                live: RwLock::new(live),
                heartbeat,
                metrics: Metrics::default(),
                limiter: auth::FailureLimiter::default(),
                readers: auth::Readers::default(),
                sessions: dashboard::session::Sessions::default(),
                gauges: gauges::Gauges::default(),
            }),
        }
    }

    /// The snapshot in force: a handler takes it once and keeps it for
    /// the whole request (a reload does not change it).
    pub fn live(&self) -> Arc<Live> {
        self.shared
            .live
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// A reload finished: `Some` with the snapshot now in force (swapped
    /// in whole; requests in flight keep theirs), or `None` when it was
    /// refused and the old one stays. Either way it is counted for
    /// `/metrics`.
    pub fn reloaded(&self, live: Option<Arc<Live>>) {
        self.shared.metrics.record_reload(live.is_some());
        if let Some(live) = live {
            *self.shared.live.write().unwrap_or_else(|e| e.into_inner()) = live;
        }
    }

    pub fn metrics(&self) -> &Metrics {
        &self.shared.metrics
    }

    /// How old `/metrics`' gauges from the database may get before a
    /// scrape refreshes them (defaults [`OUTBOX_MAX_AGE`] and
    /// [`OVERDUE_MAX_AGE`]); tests set zero.
    pub fn set_metrics_max_age(&self, age: std::time::Duration) {
        self.shared.gauges.outbox.set_max_age(age);
        self.shared.gauges.overdue.set_max_age(age);
    }

    /// Computes `/metrics`' gauges from the database in the background
    /// now, so the first scrape finds them (`http::start` calls it; tests
    /// and benchmarks serving with [`serve`] may).
    pub fn warm_gauges(&self) {
        gauges::warm(self);
    }
}

/// Security headers for every response.
async fn security_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    for (name, value) in [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; frame-ancestors 'none'",
        ),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CACHE_CONTROL, "no-store"),
        (
            HeaderName::from_static("cross-origin-resource-policy"),
            "same-origin",
        ),
    ] {
        // A page may set policies of its own (the dashboard allows its
        // stylesheet by hash, and same-origin referrers so that browsers
        // send its forms' Origin); everything else gets the strictest.
        if (name == header::CONTENT_SECURITY_POLICY || name == header::REFERRER_POLICY)
            && h.contains_key(&name)
        {
            continue;
        }
        h.insert(name, HeaderValue::from_static(value));
    }
    resp
}

async fn not_found() -> ApiError {
    ApiError::not_found("không có đường dẫn này")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "đường dẫn này không nhận phương thức (method) này",
    )
}

/// Every route.
pub fn router(state: AppState) -> Router {
    let upload_limit = DefaultBodyLimit::max(upload::body_limit(&state.live().cfg.daemon.files));
    let api = Router::new()
        .route("/status", get(api::status))
        .route("/summary", get(api::summary))
        .route("/submissions", post(api::record_submission))
        .route("/submissions/revoke", post(api::revoke_submission))
        .route("/extensions", post(api::grant_extension))
        .route("/extensions/revoke", post(api::revoke_extension))
        .route("/waivers", post(api::grant_waiver))
        .route("/waivers/revoke", post(api::revoke_waiver))
        .route(
            "/files/{obligation}/{period}/{unit}",
            get(api_files::list)
                .post(api_files::upload)
                .layer(upload_limit),
        );
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(health::metrics))
        .route("/ics/{file}", get(feed::feed))
        .nest("/api/v1", api)
        .merge(confirm::routes(upload_limit))
        .merge(dashboard::routes(upload_limit))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn(security_headers))
        .with_state(state)
}

/// Largest request line and headers accepted, in bytes (larger: 431 and
/// the connection is closed); hyper also refuses more than 100 headers.
pub const MAX_HEAD: usize = 32 * 1024;

/// Serves until `shutdown` completes, then lets requests in flight finish.
///
/// The accept loop is ours so that every connection gets the limits of
/// `[daemon]` (`config::model::HttpSettings`, read once at start):
/// - at most `max_connections` at once: a slot is taken *before* accepting,
///   so connections beyond the cap wait in the kernel's backlog, holding
///   no file descriptor of the process, until one ends;
/// - hyper's HTTP/1 connection with `TokioTimer` and `header_timeout`,
///   which hyper starts when it begins to read a request head: at the
///   connection's opening (so a client that never sends a byte is closed)
///   and after each response (so an idle keep-alive is closed); the head
///   is limited to [`MAX_HEAD`] bytes;
/// - tower-http's `TimeoutLayer` (`request_timeout`, 408) around every
///   request, which covers reading its body; `DefaultBodyLimit` (413);
/// - a write timeout (`request_timeout`) on the socket, so a client that
///   stops reading a response cannot hold its slot.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use tower::ServiceExt as _;

    let limits = state.live().cfg.daemon.http.clone();
    let app = router(state.clone()).layer(tower_http::timeout::TimeoutLayer::with_status_code(
        axum::http::StatusCode::REQUEST_TIMEOUT,
        limits.request_timeout,
    ));
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    let mut http1 = hyper::server::conn::http1::Builder::new();
    http1
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_header_size(MAX_HEAD);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    accept_failed(&e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let mut io = tokio_io_timeout::TimeoutWriter::new(stream);
        io.set_timeout(Some(limits.request_timeout));
        let service = app
            .clone()
            .map_request(move |mut req: Request<hyper::body::Incoming>| {
                req.extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                req
            });
        let conn = http1.serve_connection(
            TokioIo::new(Box::pin(io)),
            hyper_util::service::TowerToHyperService::new(service),
        );
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(client = %peer, error = %e, "HTTP connection ended with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// File descriptors the daemon needs besides its HTTP connections
/// (database pool, SMTP connections, logs, templates), with room to spare.
const FILES_BESIDES_CONNECTIONS: u64 = 128;

/// The soft limit on open files (`ulimit -n`, `LimitNOFILE=`), from
/// `/proc/self/limits`; `None` elsewhere or when unlimited.
fn open_files_limit() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// An `accept` that failed: out of file descriptors (back off for a second,
/// as connections end) or a connection reset before it was taken (go on).
async fn accept_failed(e: &std::io::Error) {
    match e.raw_os_error() {
        // ENFILE, EMFILE (Linux).
        Some(23 | 24) => {
            tracing::error!(error = %e, "cannot accept HTTP connections: too many open files; see LimitNOFILE= and daemon.http_max_connections");
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
        _ => tracing::debug!(error = %e, "HTTP accept failed"),
    }
}

/// The server as `hanbao run` runs it: started with the daemon, stopped
/// with it (the daemon tells its `AppState` about reloads).
pub struct Running {
    task: Option<tokio::task::JoinHandle<()>>,
}

/// Binds `addr` and serves in the background until `shutdown` is
/// cancelled; once bound, computes `/metrics`' gauges in the background
/// ([`AppState::warm_gauges`]) so the first scrape does not wait for the
/// status matrix. A failure to bind is logged and the daemon goes on without
/// HTTP: reminders matter more than the web face, and the error names the
/// address to fix.
pub async fn start(addr: SocketAddr, state: AppState, shutdown: CancellationToken) -> Running {
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(%addr, error = %e, "không mở được cổng HTTP (daemon.http_listen); hanbao vẫn gửi thư nhưng không có giao diện web");
            return Running { task: None };
        }
    };
    let local = listener.local_addr().unwrap_or(addr);
    tracing::info!(addr = %local, "giao diện web (HTTP) đang nghe");
    let max = state.live().cfg.daemon.http.max_connections;
    if let Some(limit) = open_files_limit()
        && limit < max as u64 + FILES_BESIDES_CONNECTIONS
    {
        tracing::warn!(
            limit,
            http_max_connections = max,
            "giới hạn số tệp mở quá thấp so với daemon.http_max_connections; \
             hãy tăng LimitNOFILE= (ulimit -n) hoặc giảm daemon.http_max_connections"
        );
    }
    state.warm_gauges();
    let task = tokio::spawn(async move {
        if let Err(e) = serve(listener, state, shutdown.cancelled_owned()).await {
            tracing::error!(error = %e, "máy chủ HTTP đã dừng vì lỗi");
        }
    });
    Running { task: Some(task) }
}

impl Running {
    /// Once the shutdown token is cancelled: waits for the requests in
    /// flight to finish (at most 5 s).
    pub async fn stopped(mut self) {
        if let Some(task) = self.task.take()
            && tokio::time::timeout(std::time::Duration::from_secs(5), task)
                .await
                .is_err()
        {
            tracing::warn!("HTTP requests still in flight after 5 s; dropped");
        }
    }
}
