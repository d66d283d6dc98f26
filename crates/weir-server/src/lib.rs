//! Weir's HTTP API. `router(state)` builds the axum router (tests call it in-process too);
//! `serve` opens the store, bootstraps the admin key, starts the engine's workers and serves
//! until SIGTERM or Ctrl-C.
//!
//! Every `/api/v1` call needs `Authorization: Bearer <key>`; the key decides the tenant ×
//! environment and, by its role, what the caller may do (`access.rs`); another scope's object
//! answers 404. Handlers take and answer the types of `weir-api-types`; the OpenAPI document
//! is generated from them and from each handler's `#[utoipa::path]` (`router.rs`). Every
//! error is `{"error": {"code", "message", "details"}}` with a 4xx for bad input; a 5xx says
//! nothing internal.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use weir_engine::Engine;
use weir_store::Store;

mod access;
mod ai;
mod alerts;
mod approvals;
mod body;
mod connectors;
mod context;
mod dryrun;
mod error;
mod events;
mod executions;
mod hooks;
mod llm;
mod mcp;
pub mod metrics;
mod otlp;
mod params;
mod records;
mod requests;
mod retention;
mod router;
mod rules;
mod schedules;
mod secrets;
mod serve;
mod stats;
mod stream;
mod teams;
mod templates;
mod ui;
mod users;
mod workflows;

pub use alerts::DEFAULT_INTERVAL as DEFAULT_ALERT_INTERVAL;
pub use body::DEFAULT_MAX_BODY_BYTES;
pub use error::{ApiError, ApiResult};
pub use llm::LlmConfig;
pub use mcp::allowed_hosts as mcp_allowed_hosts;
pub use retention::{Retention, parse as parse_retention};
pub use router::{document, router};
pub use serve::{
    DEFAULT_MAX_IN_FLIGHT, DEFAULT_RATE_LIMIT, DEFAULT_SESSION_TTL, ServeConfig, lock_data_dir,
    serve,
};

pub(crate) use body::{read_body, read_bytes, read_object, with_path_id};
pub(crate) use error::{check_schema, missing};
pub(crate) use events::{Standing, settle};

/// The longest a synchronous `POST /api/v1/events` waits for decisions.
pub const MAX_WAIT_MS: u64 = 60_000;

pub struct AppState {
    pub engine: Arc<Engine>,
    pub store: Arc<dyn Store>,
    /// Known API keys by hash, with when they were looked up: a lookup per request would be a
    /// database read per request. Entries live [`KEY_CACHE_TTL`]; unknown keys are not cached.
    pub keys: std::sync::Mutex<HashMap<String, (access::Identity, std::time::Instant)>>,
    /// Per-key rate limits, when on.
    pub limiter: Option<KeyLimiter>,
    /// How long a web UI session lasts.
    pub session_ttl: Duration,
    /// The largest request body taken (413 past it).
    pub max_body_bytes: usize,
    /// The `Host`s `/mcp` answers to; empty for any ([`mcp_allowed_hosts`]).
    pub mcp_allowed_hosts: Vec<String>,
    /// Cancelled when the server stops: ends MCP sessions and their streams.
    pub shutdown: tokio_util::sync::CancellationToken,
    /// The server's LLM endpoint for `POST /api/v1/ai/interpret` in `llm` mode, if any (an
    /// environment's own `llm` setting wins over it).
    pub llm: Option<LlmConfig>,
    /// What outbound requests of the server itself (LLM calls) may reach, as workflow actions.
    pub outbound: Arc<weir_actions::Guard>,
    /// The client of LLM calls, resolving through `outbound`.
    pub llm_client: reqwest::Client,
    /// The server's retention (an environment's own setting wins over it).
    pub retention: Retention,
}

/// How long a looked-up API key is trusted without asking the store again.
pub const KEY_CACHE_TTL: Duration = Duration::from_secs(30);

impl AppState {
    pub fn new(engine: Arc<Engine>, store: Arc<dyn Store>) -> Self {
        AppState {
            engine,
            store,
            keys: std::sync::Mutex::new(HashMap::new()),
            limiter: key_limiter(DEFAULT_RATE_LIMIT),
            session_ttl: Duration::from_secs(DEFAULT_SESSION_TTL as u64),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            mcp_allowed_hosts: mcp_allowed_hosts(
                std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
                &[],
            ),
            shutdown: Default::default(),
            llm: None,
            outbound: Arc::default(),
            llm_client: llm::client(Arc::default()),
            retention: Retention::default(),
        }
    }

    /// Sets what outbound requests may reach beyond the public internet.
    pub fn set_outbound(&mut self, allow: weir_actions::AllowList) {
        self.outbound = weir_actions::Guard::new(allow);
        self.llm_client = llm::client(self.outbound.clone());
    }
}

/// Requests per second per API key, by key id.
pub type KeyLimiter = governor::DefaultKeyedRateLimiter<String>;

/// A limiter of `per_second` requests per key with bursts of twice that; `None` for 0.
pub fn key_limiter(per_second: u32) -> Option<KeyLimiter> {
    let rate = std::num::NonZeroU32::new(per_second)?;
    let burst = rate.saturating_mul(std::num::NonZeroU32::MIN.saturating_add(1));
    Some(governor::RateLimiter::keyed(
        governor::Quota::per_second(rate).allow_burst(burst),
    ))
}

/// A time of the store's (milliseconds) as the API writes it (RFC 3339).
/// The request's W3C `traceparent`, when it has one that reads: the runs it starts join the
/// caller's trace.
pub(crate) fn traceparent(headers: &axum::http::HeaderMap) -> Option<String> {
    let value = headers.get("traceparent")?.to_str().ok()?;
    weir_engine::traces::parse_traceparent(value)
}

pub(crate) fn time_text(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339())
        .unwrap_or_default()
}
