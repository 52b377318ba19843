//! The web face of the daemon: health, metrics, the JSON API (`/api/v1`)
//! the one-click confirmation page (`/confirm`), calendar feeds (`/ics`)
//! and the administrators' HTML dashboard (`/dashboard`).
//!
//! [`serve`] takes its listener and a shutdown future (mini-redis style), so
//! `hanbao run` binds `daemon.http_listen` and tests bind 127.0.0.1:0.
//! [`AppState`] holds the store, the configuration and calendar in force
//! (swapped on reload), the scheduler's heartbeat and the counters.
//!
//! Invariants:
//! - Only this module imports axum.
//! - The HTTP side reads state and records submissions, extensions and
//!   waivers; it never sends mail. Its only outbox write is the dashboard's
//!   retry button (`Store::retry_outbox`): an administrator puts a `failed`
//!   row back to `pending`; the daemon's dispatcher sends it.
//! - Every response carries the security headers and `Cache-Control:
//!   no-store`; every API error is `{"error": {"code", "message"}}` (the
//!   dashboard answers with HTML pages and sets its own stricter CSP).
//! - Token secrets are never logged; only their SHA-256 is stored.

mod api;
mod auth;
mod confirm;
mod dashboard;
mod error;
mod feed;
mod health;
mod html;
pub mod metrics;
pub mod selection;
pub mod token;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use jiff::Timestamp;
use jiff::civil::Date;

use crate::calendar::WorkCalendar;
use crate::config::model::Config;
use crate::daemon::heartbeat::Heartbeat;
use crate::store::{AnyStore, Store};

pub use auth::{FAILURE_WINDOW, MAX_FAILURES};
pub use error::ApiError;
pub use metrics::Metrics;

/// The signing code is shared with the mail side (`crate::link`, no axum);
/// re-exported so `http::link::...` and `http::LINK_KEY_FILE` keep working.
pub use crate::link::{self, LINK_KEY_FILE};

/// Largest request body accepted (larger: 413).
pub const BODY_LIMIT: usize = 64 * 1024;

/// The configuration in force and its calendar.
#[derive(Debug)]
pub struct Live {
    pub cfg: Config,
    pub cal: WorkCalendar,
}

impl Live {
    pub fn new(cfg: Config) -> Live {
        Live {
            cal: WorkCalendar::new(&cfg.calendar),
            cfg,
        }
    }

    /// The local day of `now` in the configured time zone.
    pub fn today(&self, now: Timestamp) -> Date {
        self.cfg.daemon.time_zone.to_datetime(now).date()
    }
}

pub(crate) struct Shared<S> {
    store: S,
    live: RwLock<Arc<Live>>,
    heartbeat: Option<Heartbeat>,
    metrics: Metrics,
    limiter: auth::FailureLimiter,
    /// The key of one-click confirmation links; unset: `/confirm` is off.
    link_key: std::sync::OnceLock<link::LinkKey>,
    /// Dashboard sessions (in memory: a restart logs administrators out).
    sessions: dashboard::session::Sessions,
}

/// What every handler sees. Cloning is cheap (one `Arc`). Generic over the
/// store so `daemon::run::serve` can hand over whatever store it runs on.
pub struct AppState<S = AnyStore> {
    shared: Arc<Shared<S>>,
}

impl<S> Clone for AppState<S> {
    fn clone(&self) -> Self {
        AppState {
            shared: self.shared.clone(),
        }
    }
}

impl<S: Store> AppState<S> {
    /// `heartbeat` is the daemon's scheduler heartbeat; without one
    /// `/healthz` reports the scheduler as "not_running" (503).
    pub fn new(store: S, cfg: Config, heartbeat: Option<Heartbeat>) -> AppState<S> {
        AppState {
            shared: Arc::new(Shared {
                store,
                live: RwLock::new(Arc::new(Live::new(cfg))),
                heartbeat,
                metrics: Metrics::default(),
                limiter: auth::FailureLimiter::default(),
                link_key: std::sync::OnceLock::new(),
                sessions: dashboard::session::Sessions::default(),
            }),
        }
    }

    /// The configuration in force (a snapshot: a reload does not change it).
    pub fn live(&self) -> Arc<Live> {
        self.shared
            .live
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Swaps in a reloaded configuration (requests in flight keep theirs).
    pub fn replace_config(&self, cfg: Config) {
        let live = Arc::new(Live::new(cfg));
        *self.shared.live.write().unwrap_or_else(|e| e.into_inner()) = live;
    }

    /// Turns on `/confirm` with this key (once; later calls are ignored
    /// and return false).
    pub fn set_link_key(&self, key: link::LinkKey) -> bool {
        self.shared.link_key.set(key).is_ok()
    }

    pub fn metrics(&self) -> &Metrics {
        &self.shared.metrics
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
    ApiError::not_found("no such route")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "method not allowed on this route",
    )
}

/// Every route.
pub fn router<S: Store + 'static>(state: AppState<S>) -> Router {
    let api = Router::new()
        .route("/status", get(api::status::<S>))
        .route("/submissions", post(api::record_submission::<S>))
        .route("/submissions/revoke", post(api::revoke_submission::<S>))
        .route("/extensions", post(api::grant_extension::<S>))
        .route("/extensions/revoke", post(api::revoke_extension::<S>))
        .route("/waivers", post(api::grant_waiver::<S>))
        .route("/waivers/revoke", post(api::revoke_waiver::<S>));
    Router::new()
        .route("/healthz", get(health::healthz::<S>))
        .route("/metrics", get(health::metrics::<S>))
        .route("/ics/{file}", get(feed::feed::<S>))
        .nest("/api/v1", api)
        .merge(confirm::routes::<S>())
        .merge(dashboard::routes::<S>())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn(security_headers))
        .with_state(state)
}

/// Serves until `shutdown` completes, then lets requests in flight finish.
pub async fn serve<S: Store + 'static>(
    listener: tokio::net::TcpListener,
    state: AppState<S>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

/// The server as `hanbao run` runs it: started with the daemon, told about
/// reloads, stopped with it.
pub struct Running<S> {
    pub state: AppState<S>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

/// Binds `addr` and serves in the background. A failure to bind is logged
/// and the daemon goes on without HTTP: reminders matter more than the web
/// face, and the error names the address to fix.
pub async fn start<S: Store + 'static>(addr: SocketAddr, state: AppState<S>) -> Running<S> {
    let key_path = state.live().cfg.daemon.state_dir.join(LINK_KEY_FILE);
    if key_path.exists() {
        match link::LinkKey::from_file(&key_path) {
            Ok(key) => {
                state.set_link_key(key);
                tracing::info!(path = %key_path.display(), "one-click confirmation links on");
            }
            Err(e) => tracing::error!(error = %e, "one-click confirmation links off"),
        }
    }
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(%addr, error = %e, "cannot listen for HTTP (daemon.http_listen); running without the web interface");
            return Running {
                state,
                stop: None,
                task: None,
            };
        }
    };
    tracing::info!(%addr, "HTTP listening");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let shutdown = async move {
        let _ = rx.await;
    };
    let task = tokio::spawn({
        let state = state.clone();
        async move {
            if let Err(e) = serve(listener, state, shutdown).await {
                tracing::error!(error = %e, "HTTP server stopped");
            }
        }
    });
    Running {
        state,
        stop: Some(tx),
        task: Some(task),
    }
}

impl<S: Store> Running<S> {
    /// A reload finished: `Some` with the configuration now in force, or
    /// `None` when it was refused (counted, old configuration kept).
    pub fn reloaded(&self, cfg: Option<Config>) {
        self.state.metrics().record_reload(cfg.is_some());
        if let Some(cfg) = cfg {
            self.state.replace_config(cfg);
        }
    }

    /// Stops accepting, lets requests in flight finish (at most 5 s).
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take()
            && tokio::time::timeout(std::time::Duration::from_secs(5), task)
                .await
                .is_err()
        {
            tracing::warn!("HTTP requests still in flight after 5 s; dropped");
        }
    }
}
