//! Weir's HTTP API. `router(state)` builds the axum router (tests call it in-process too);
//! `serve` opens the store, bootstraps the admin key, starts the engine's workers and serves
//! until SIGTERM or Ctrl-C.
//!
//! Every `/api/v1` call needs `Authorization: Bearer <key>`; the key decides the tenant ×
//! environment and, by its role, what the caller may do (`access.rs`); another scope's object
//! answers 404. Every error is
//! `{"error": {"code", "message", "details"}}` with a 4xx for bad input; a 5xx says nothing
//! internal.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use weir_core::document::MAX_DOCUMENT_BYTES;
use weir_core::{Format, load_value};
use weir_engine::Engine;
use weir_store::{ExecutionFilter, ExecutionRow, NewItem, SqlStore, Store, hash_key};

mod access;
mod approvals;
mod connectors;
mod context;
mod events;
mod hooks;
pub mod openapi;
mod params;
mod records;
mod rules;
mod schedules;
mod secrets;
mod teams;
mod users;
mod workflows;

use access::{Perm, audit, authorize_for};
use params::Params;

/// The largest request body accepted (a definition or an event is at most 1 MiB of JSON).
pub const MAX_BODY_BYTES: usize = MAX_DOCUMENT_BYTES;
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
        }
    }
}

/// The one error type of the API.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    details: Vec<Value>,
    /// Seconds to wait, for 429.
    retry_after: Option<u64>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            details: Vec::new(),
            retry_after: None,
        }
    }

    /// 500, for what the caller cannot have caused; the cause is logged where it is known.
    fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error",
        )
    }

    fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// 400: a body that does not read as a document, with the line and column of a syntax
    /// error, as the CLI gives them.
    pub(crate) fn malformed(e: weir_core::document::DocumentError) -> Self {
        let mut err = Self::new(StatusCode::BAD_REQUEST, "malformed", e.to_string());
        if let weir_core::document::DocumentError::Syntax {
            line: Some(line),
            column: Some(column),
            ..
        } = e
        {
            err.message = format!("{} (line {line}, column {column})", err.message);
            err.details = vec![
                json!({ "path": "$", "line": line, "column": column, "message": e.to_string() }),
            ];
        }
        err
    }

    /// 422: the body is well-formed but a field is wrong; `details` name the fields.
    fn invalid(message: impl Into<String>, details: Vec<Value>) -> Self {
        let mut e = Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message);
        e.details = details;
        e
    }

    fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no {what} with that id"),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "error": { "code": self.code, "message": self.message, "details": self.details } });
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
        }
        response
    }
}

/// 422 unless `value` satisfies a tenant's JSON Schema; the details name each failing path
/// under `root` (like `$.input`).
fn check_schema(schema: &Value, value: &Value, root: &str, message: &str) -> ApiResult<()> {
    let validator = jsonschema::validator_for(schema).map_err(|_| ApiError::internal())?;
    let details: Vec<Value> = validator
        .iter_errors(value)
        .take(20)
        .map(|e| {
            let path = format!("{root}{}", e.instance_path()).replace('/', ".");
            json!({ "path": path, "message": e.to_string() })
        })
        .collect();
    match details.is_empty() {
        true => Ok(()),
        false => Err(ApiError::invalid(message, details)),
    }
}

/// A store error as the API answers it, NotFound naming what was not there.
fn missing(what: &'static str) -> impl Fn(weir_store::Error) -> ApiError {
    move |e| match e {
        weir_store::Error::NotFound => ApiError::not_found(what),
        other => other.into(),
    }
}

impl From<weir_store::Error> for ApiError {
    fn from(e: weir_store::Error) -> Self {
        match e {
            weir_store::Error::NotFound => ApiError::not_found("object"),
            weir_store::Error::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "conflict", m),
            e @ weir_store::Error::Taken(_) => {
                ApiError::new(StatusCode::CONFLICT, "conflict", e.to_string())
            }
            other => {
                // The cause goes to the log, not to the caller.
                eprintln!("weir: internal error: {other}");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error",
                )
            }
        }
    }
}

impl From<weir_engine::Error> for ApiError {
    fn from(e: weir_engine::Error) -> Self {
        match e {
            weir_engine::Error::Invalid(diags) => {
                let mut err = ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_workflow",
                    "the workflow is not valid",
                );
                err.details = diags
                    .iter()
                    .map(|d| json!({ "path": d.path, "message": d.message, "code": d.code, "severity": d.severity }))
                    .collect();
                err
            }
            weir_engine::Error::Store(s) => s.into(),
            e @ weir_engine::Error::KeyReused(_) => {
                ApiError::new(StatusCode::CONFLICT, "conflict", e.to_string())
            }
            other => {
                eprintln!("weir: internal error: {other}");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error",
                )
            }
        }
    }
}

type ApiResult<T = Response> = Result<T, ApiError>;

pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/health", get(health))
        // The OpenAPI document and the interactive reference (Swagger UI, its assets built into
        // the binary).
        .merge(Router::from(
            utoipa_swagger_ui::SwaggerUi::new("/api/v1/docs")
                .external_url_unchecked("/api/v1/openapi.json", openapi::document()),
        ))
        .merge(workflow_routes("/api/v1/workflows"))
        .merge(workflow_routes("/api/v1/workflows/definitions"))
        .route(
            "/api/v1/workflows/{id}/versions",
            get(workflows::list_versions),
        )
        .route(
            "/api/v1/workflows/{id}/versions/{version}",
            get(workflows::get_version),
        )
        .route(
            "/api/v1/workflows/{id}/versions/{version}/activate",
            post(workflows::activate_version),
        )
        .route("/api/v1/events", post(post_event).get(events::list_events))
        .route(
            "/api/v1/tenants",
            post(access::post_tenant).get(access::list_tenants),
        )
        .route("/api/v1/tenants/{id}", get(access::get_tenant))
        .route("/api/v1/audit", get(access::list_audit))
        .route(
            "/api/v1/rules",
            post(rules::post_rule).get(rules::list_rules),
        )
        .route(
            "/api/v1/rules/{id}",
            get(rules::get_rule)
                .put(rules::put_rule)
                .delete(rules::delete_rule),
        )
        .route("/api/v1/rules/{id}/test", post(rules::test_rule))
        .route("/api/v1/approvals", get(approvals::list_approvals))
        .route("/api/v1/approvals/{id}", get(approvals::get_approval))
        .route("/api/v1/approvals/{id}/approve", post(approvals::approve))
        .route("/api/v1/approvals/{id}/reject", post(approvals::reject))
        .route(
            "/api/v1/tenants/{id}/environments",
            post(access::post_environment),
        )
        .route(
            "/api/v1/api-keys",
            post(access::post_api_key).get(access::list_api_keys),
        )
        .route(
            "/api/v1/api-keys/{id}",
            get(access::get_api_key).delete(access::revoke_api_key),
        )
        .route(
            "/hooks/{tenant}/{environment}/{token}",
            axum::routing::any(hooks::deliver),
        )
        .route("/api/v1/workflows/{id}/hook", get(hooks::hook_url))
        .route("/api/v1/workflows/{id}/schedule", get(schedules::schedule))
        .route("/api/v1/data-sources", get(context::list_sources))
        .route(
            "/api/v1/data-sources/{id}",
            get(context::get_source)
                .put(context::put_source)
                .delete(context::delete_source),
        )
        .route("/api/v1/context/refresh", post(context::refresh))
        .route("/api/v1/context/{type}/{id}", get(context::entity))
        .route(
            "/api/v1/connectors",
            post(connectors::post_connector).get(connectors::list_connectors),
        )
        .route(
            "/api/v1/connectors/{id}",
            get(connectors::get_connector)
                .put(connectors::put_connector)
                .delete(connectors::delete_connector),
        )
        .route("/api/v1/records/{type}", get(records::list_records))
        .route(
            "/api/v1/records/{type}/{id}",
            get(records::get_record)
                .put(records::put_record)
                .delete(records::delete_record),
        )
        .route("/api/v1/notifications", get(records::list_notifications))
        .route(
            "/api/v1/notifications/{id}/read",
            post(records::read_notification),
        )
        .route("/api/v1/outbox", get(records::list_outbox))
        .route(
            "/api/v1/email-templates",
            post(records::post_template).get(records::list_templates),
        )
        .route(
            "/api/v1/email-templates/{id}",
            get(records::get_template)
                .put(records::put_template)
                .delete(records::delete_template),
        )
        .route(
            "/api/v1/secrets",
            post(secrets::post_secret).get(secrets::list_secrets),
        )
        .route(
            "/api/v1/secrets/{id}",
            get(secrets::get_secret)
                .put(secrets::put_secret)
                .delete(secrets::delete_secret),
        )
        .route(
            "/api/v1/users",
            post(users::post_user).get(users::list_users),
        )
        .route(
            "/api/v1/users/{id}",
            get(users::get_user)
                .patch(users::patch_user)
                .delete(users::delete_user),
        )
        .route(
            "/api/v1/teams",
            post(teams::post_team).get(teams::list_teams),
        )
        .route(
            "/api/v1/teams/{id}",
            get(teams::get_team)
                .put(teams::put_team)
                .delete(teams::delete_team),
        )
        .route("/api/v1/auth/login", post(users::login))
        .route("/api/v1/auth/logout", post(users::logout))
        .route("/api/v1/auth/refresh", post(users::refresh))
        .route("/api/v1/auth/me", get(users::me))
        .route("/api/v1/auth/password", post(users::change_password))
        .merge(execution_routes("/api/v1/executions"))
        .merge(execution_routes("/api/v1/workflows/executions"))
        .route("/api/v1/workflows/{id}/runs", get(workflow_runs))
        .route("/api/v1/workflows/{id}/runs/", get(workflow_runs))
        .route("/api/v1/workflow-runs/{id}", get(get_execution))
        .route("/api/v1/workflow-runs/{id}/", get(get_execution))
        .route("/api/v1/events/{id}", get(events::get_event))
        .fallback(|| async {
            ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
        })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this endpoint does not take that method",
            )
        })
        .layer(axum::middleware::from_fn(no_control_characters_in_url))
        .layer(axum::middleware::from_fn(uniform_errors))
        .with_state(state)
}

/// The workflow endpoints under `base` (`/api/v1/workflows`, and seed 002's
/// `/api/v1/workflows/definitions`).
fn workflow_routes(base: &str) -> Router<Arc<AppState>> {
    Router::new()
        .route(
            base,
            post(workflows::post_workflow).get(workflows::list_workflows),
        )
        .route(
            &format!("{base}/{{id}}"),
            get(workflows::get_workflow)
                .put(workflows::put_workflow)
                .delete(workflows::delete_workflow),
        )
        .route(
            &format!("{base}/{{id}}/enable"),
            post(workflows::enable_workflow),
        )
        .route(
            &format!("{base}/{{id}}/disable"),
            post(workflows::disable_workflow),
        )
        .route(
            &format!("{base}/{{id}}/execute"),
            post(workflows::execute_workflow),
        )
        .route(
            &format!("{base}/{{id}}/trigger"),
            post(workflows::execute_workflow),
        )
}

/// The execution endpoints under `base` (`/api/v1/executions`, and seed 002's
/// `/api/v1/workflows/executions`).
fn execution_routes(base: &str) -> Router<Arc<AppState>> {
    Router::new()
        .route(base, get(list_executions))
        .route(&format!("{base}/{{id}}"), get(get_execution))
        .route(&format!("{base}/{{id}}/trace"), get(execution_trace))
        .route(&format!("{base}/{{id}}/cancel"), post(cancel_execution))
        .route(&format!("{base}/{{id}}/retry"), post(retry_execution))
}

/// Gives the one error shape to the answers axum makes itself (a path segment that is not
/// UTF-8, say): a 4xx or 5xx that is not JSON becomes `{"error": {"code", "message"}}`.
async fn uniform_errors(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let text = axum::body::to_bytes(response.into_body(), 4096)
        .await
        .map(|b| {
            String::from_utf8_lossy(&b)
                .chars()
                .take(300)
                .collect::<String>()
        })
        .unwrap_or_default();
    let code = match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "invalid",
        s if s.is_server_error() => "internal",
        _ => "bad_request",
    };
    let message = if text.trim().is_empty() {
        status.canonical_reason().unwrap_or("error").to_owned()
    } else {
        text
    };
    ApiError::new(status, code, message).into_response()
}

/// The longest a client may take to send a request's body. (A handler's own waits are
/// bounded: a synchronous event by [`MAX_WAIT_MS`].) Only a body still arriving arms the
/// timer, so the common case costs nothing.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// Ids and filters never hold control characters, and some databases refuse them (PostgreSQL
/// text cannot hold NUL), so a URL that encodes one is refused up front.
async fn no_control_characters_in_url(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let hostile = request.uri().to_string().as_bytes().windows(3).any(|w| {
        w[0] == b'%'
            && (matches!(w[1], b'0' | b'1') || w[1..].eq_ignore_ascii_case(b"7f"))
            && w[2].is_ascii_hexdigit()
    });
    if hostile {
        return ApiError::bad_request("the URL holds an encoded control character").into_response();
    }
    next.run(request).await
}

async fn health() -> Response {
    axum::Json(json!({ "status": "ok" })).into_response()
}

/// Reads a body under the limit, as JSON (or YAML where `yaml` is allowed).
async fn read_document(headers: &HeaderMap, body: Body, yaml: bool) -> ApiResult<Value> {
    read_body(headers, body, yaml, false).await
}

/// A JSON object body with only the fields named (422 naming any other). With `optional`,
/// an empty body reads as an empty object.
async fn read_object(
    headers: &HeaderMap,
    body: Body,
    fields: &[&str],
    optional: bool,
) -> ApiResult<serde_json::Map<String, Value>> {
    let map = match read_body(headers, body, false, optional).await? {
        Value::Null if optional => serde_json::Map::new(),
        Value::Object(map) => map,
        _ => return Err(ApiError::bad_request("the body must be a JSON object")),
    };
    let unknown: Vec<Value> = map
        .keys()
        .filter(|k| !fields.contains(&k.as_str()))
        .map(|k| json!({ "path": format!("$.{k}"), "message": format!("unknown field '{k}'; the body takes {}", fields.join(", ")) }))
        .collect();
    if !unknown.is_empty() {
        return Err(ApiError::invalid("the body has unknown fields", unknown));
    }
    Ok(map)
}

/// A definition sent to an object's path (PUT): the path's id when the body names none under
/// `key` or `id`; 422 when it names another.
fn with_path_id(mut definition: Value, id: &str, key: &str) -> ApiResult<Value> {
    let Some(map) = definition.as_object_mut() else {
        return Ok(definition);
    };
    for k in [key, "id"] {
        if let Some(given) = map.get(k)
            && given != id
        {
            return Err(ApiError::invalid(
                "the body names another object than the path",
                vec![
                    json!({ "path": format!("$.{k}"), "message": format!("'{id}', as in the path, or left out") }),
                ],
            ));
        }
    }
    if !map.contains_key("id") {
        map.insert(key.to_owned(), json!(id));
    }
    Ok(definition)
}

/// The first of `names` that is present, which must be a JSON object; `{}` when none is.
fn object_field(map: &serde_json::Map<String, Value>, names: &[&str]) -> ApiResult<Value> {
    match names.iter().find_map(|n| map.get(*n)) {
        None => Ok(json!({})),
        Some(v @ Value::Object(_)) => Ok(v.clone()),
        Some(_) => Err(ApiError::invalid(
            format!("{} must be a JSON object", names[0]),
            vec![json!({ "path": format!("$.{}", names[0]), "message": "a JSON object" })],
        )),
    }
}

/// A request's body: 413 past [`MAX_BODY_BYTES`] (at once when its `Content-Length` says so,
/// without waiting for a body that may never come), 408 when it does not arrive in time.
async fn read_bytes(body: Body) -> ApiResult<axum::body::Bytes> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the body is larger than {MAX_BODY_BYTES} bytes"),
        )
    };
    if axum::body::HttpBody::size_hint(&body).lower() > MAX_BODY_BYTES as u64 {
        return Err(too_large());
    }
    tokio::time::timeout(BODY_TIMEOUT, axum::body::to_bytes(body, MAX_BODY_BYTES))
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "request_timeout",
                format!(
                    "the body did not arrive within {} s",
                    BODY_TIMEOUT.as_secs()
                ),
            )
        })?
        .map_err(|_| too_large())
}

async fn read_body(
    headers: &HeaderMap,
    body: Body,
    yaml: bool,
    optional: bool,
) -> ApiResult<Value> {
    let kind = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let format = if kind.is_empty() {
        None
    } else if kind.contains("json") {
        Some(Format::Json)
    } else if yaml && kind.contains("yaml") {
        Some(Format::Yaml)
    } else {
        let accepted = if yaml {
            "application/json or application/yaml"
        } else {
            "application/json"
        };
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!("send {accepted}"),
        ));
    };
    let bytes = read_bytes(body).await?;
    if optional && bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    load_value(&bytes, format).map_err(ApiError::malformed)
}

/// Whether an execution has answered: a block is final; an allow may still turn into a block
/// later in the run, so it is waited on until the run ends or parks.
fn settled(status: &str, decision: &Option<String>) -> bool {
    decision.as_deref() == Some("block")
        || matches!(status, "completed" | "failed" | "cancelled" | "waiting")
}

/// Where an execution stands, as a synchronous answer shows it.
#[derive(Debug, Clone)]
pub(crate) struct Standing {
    pub status: String,
    pub decision: Option<String>,
    pub reason: Option<String>,
}

/// Waits up to `timeout_ms` for the `open` executions to settle, and returns where each stands
/// then. Progress this node makes comes through the watch, to the waiting request alone;
/// progress another node made (several nodes on one PostgreSQL database) is found by reading
/// the executions again every [`SYNC_POLL`].
pub(crate) async fn settle(
    state: &AppState,
    scope: &weir_store::Scope,
    watch: &mut weir_engine::Watch,
    mut open: HashMap<String, Standing>,
    timeout_ms: u64,
) -> ApiResult<HashMap<String, Standing>> {
    let mut done = HashMap::new();
    let deadline = tokio::time::Instant::now() + Duration::from_millis(timeout_ms);
    loop {
        open.retain(|id, s| {
            let settled = settled(&s.status, &s.decision);
            if settled {
                done.insert(id.clone(), s.clone());
            }
            !settled
        });
        if open.is_empty() || timeout_ms == 0 {
            break;
        }
        let poll = tokio::time::sleep(SYNC_POLL);
        tokio::pin!(poll);
        tokio::select! {
            p = watch.recv() => {
                let Some(p) = p else { break };
                if let Some(s) = open.get_mut(&p.execution_id) {
                    *s = Standing { status: p.status, decision: p.decision, reason: p.reason };
                }
            }
            _ = &mut poll => {
                for (id, s) in open.iter_mut() {
                    if let Some(row) = state.store.execution(scope, id).await? {
                        *s = Standing { status: row.status, decision: row.decision, reason: row.reason };
                    }
                }
            }
            _ = tokio::time::sleep_until(deadline) => break,
        }
    }
    done.extend(open);
    Ok(done)
}

/// `POST /api/v1/events`: records the event, starts the matching workflows, and answers once
/// each execution has decided, finished or parked (or `timeout_ms` passed).
async fn post_event(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Execute).await?;
    let scope = caller.scope.clone();
    let doc = read_document(&headers, body, false).await?;
    let Value::Object(map) = &doc else {
        return Err(ApiError::bad_request(
            "the body must be a JSON object with event_type and payload",
        ));
    };
    let mut details = Vec::new();
    for k in map.keys() {
        if !matches!(
            k.as_str(),
            "event_type" | "payload" | "source" | "idempotency_key" | "timeout_ms"
        ) {
            details.push(
                json!({ "path": format!("$.{k}"), "message": format!("unknown field '{k}'") }),
            );
        }
    }
    let event_type = match map.get("event_type") {
        Some(Value::String(s))
            if !s.is_empty()
                && s.len() <= 255
                && !s.chars().any(|c| c.is_whitespace() || c.is_control()) =>
        {
            s.clone()
        }
        Some(_) => {
            details.push(json!({ "path": "$.event_type", "message": "an event type is a non-empty string without spaces, at most 255 characters" }));
            String::new()
        }
        None => {
            details.push(json!({ "path": "$", "message": "event_type is required" }));
            String::new()
        }
    };
    let payload = match map.get("payload") {
        Some(p @ Value::Object(_)) => p.clone(),
        None => json!({}),
        Some(_) => {
            details
                .push(json!({ "path": "$.payload", "message": "the payload must be an object" }));
            Value::Null
        }
    };
    let text = |k: &str, details: &mut Vec<Value>| match map.get(k) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.len() <= 255 && !s.chars().any(char::is_control) => {
            Some(s.clone())
        }
        Some(_) => {
            details.push(json!({ "path": format!("$.{k}"), "message": format!("{k} must be a string of at most 255 characters, without control characters") }));
            None
        }
    };
    let source = text("source", &mut details);
    let idempotency_key = text("idempotency_key", &mut details);
    let timeout_ms = match map.get("timeout_ms") {
        None => 5000,
        Some(v) => match v.as_u64() {
            Some(ms) if ms <= MAX_WAIT_MS => ms,
            _ => {
                details.push(json!({ "path": "$.timeout_ms", "message": format!("timeout_ms is an integer from 0 to {MAX_WAIT_MS}") }));
                0
            }
        },
    };
    if !details.is_empty() {
        let mut err = ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_event",
            "the event is not valid",
        );
        err.details = details;
        return Err(err);
    }
    // Watched from before they are written, so no progress is missed.
    let mut watch = state.engine.watch();
    let ingest = state
        .engine
        .ingest_watched(
            &mut watch,
            &scope,
            &event_type,
            &payload,
            source.as_deref(),
            idempotency_key.as_deref(),
        )
        .await?;
    let open: HashMap<String, Standing> = ingest
        .executions
        .iter()
        .map(|e| {
            let s = Standing {
                status: e.status.clone(),
                decision: e.decision.clone(),
                reason: e.reason.clone(),
            };
            (e.id.clone(), s)
        })
        .collect();
    let standing = settle(&state, &scope, &mut watch, open, timeout_ms).await?;
    let mut decision = Value::Null;
    let mut executions: Vec<Value> = Vec::with_capacity(ingest.executions.len());
    for e in &ingest.executions {
        let (status, verdict, reason) = match standing.get(&e.id) {
            Some(r) => (r.status.clone(), r.decision.clone(), r.reason.clone()),
            None => (e.status.clone(), e.decision.clone(), e.reason.clone()),
        };
        match verdict.as_deref() {
            Some("block") => decision = json!("block"),
            Some("allow") if decision.is_null() => decision = json!("allow"),
            _ => {}
        }
        executions.push(json!({ "execution_id": e.id, "workflow_id": e.workflow_id, "workflow_version": e.version,
                                "status": status, "decision": verdict, "reason": reason }));
    }
    let matched: Vec<&str> = ingest
        .executions
        .iter()
        .map(|e| e.workflow_id.as_str())
        .collect();
    Ok(axum::Json(json!({
        "event_id": ingest.event_id,
        "duplicate": ingest.duplicate,
        "matched_workflows": matched,
        "decision": decision,
        "executions": executions,
    }))
    .into_response())
}

/// How often a synchronous answer reads its executions again when no progress was announced
/// for them on this node.
const SYNC_POLL: Duration = Duration::from_millis(100);

fn time(ms: Option<i64>) -> Value {
    ms.map_or(Value::Null, weir_engine::ms_time)
}

fn execution_json(row: &ExecutionRow, steps: Option<Vec<Value>>) -> Value {
    let context = row
        .state
        .get("ctx")
        .cloned()
        .unwrap_or_else(|| row.state["pending"]["payload"].clone());
    let trigger_event = context
        .get("trigger")
        .and_then(|t| t.get("event"))
        .cloned()
        .unwrap_or_else(|| row.state["pending"]["event"].clone());
    let mut v = json!({
        "id": row.id, "workflow_id": row.workflow_id, "workflow_version": row.workflow_version,
        "status": row.status, "decision": row.decision, "reason": row.reason,
        "trigger_event": trigger_event, "event_id": row.event_id, "parent_id": row.parent_id,
        "context": context, "error": row.error,
        "started_at": time(Some(row.started_ms)), "completed_at": time(row.completed_ms),
        "duration_ms": row.completed_ms.map(|c| c - row.started_ms),
    });
    if let Some(steps) = steps {
        v["steps"] = Value::Array(steps);
    }
    v
}

/// What an execution's status can be.
const EXECUTION_STATUSES: &[&str] = &[
    "pending",
    "running",
    "waiting",
    "retrying",
    "completed",
    "failed",
    "cancelled",
];

async fn executions_of(
    state: &AppState,
    scope: &weir_store::Scope,
    q: HashMap<String, String>,
    workflow: Option<String>,
) -> ApiResult {
    let q = Params::new(
        q,
        &[
            "workflow_id",
            "status",
            "decision",
            "event_id",
            "event_type",
            "since",
            "until",
            "cursor",
            "limit",
            "offset",
        ],
    )?;
    let limit = q.number("limit", 50, 1, 1000)?;
    let filter = ExecutionFilter {
        workflow_id: workflow.or_else(|| q.text("workflow_id")),
        status: q.one_of("status", EXECUTION_STATUSES)?,
        decision: q.one_of("decision", &["allow", "block"])?,
        event_id: q.text("event_id"),
        event_type: q.text("event_type"),
        since_ms: q.time("since")?,
        until_ms: q.time("until")?,
        before: q.cursor()?,
        limit,
        offset: q.number("offset", 0, 0, i64::from(i32::MAX))?,
    };
    let rows = state.store.executions(scope, &filter).await?;
    let next = params::next_cursor(&rows, limit, |r| r.id.clone());
    let list: Vec<Value> = rows.iter().map(|r| execution_json(r, None)).collect();
    Ok(axum::Json(json!({ "executions": list, "next_cursor": next })).into_response())
}

/// `GET /api/v1/executions`: filters `workflow_id`, `status`, `decision`, `event_id`,
/// `event_type`, `since`, `until` (start time, RFC 3339); newest first, keyset pages by
/// `cursor` (or `offset`), `limit` up to 1000.
async fn list_executions(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Read).await?;
    executions_of(&state, &caller.scope, q, None).await
}

/// Seed 004's `GET /api/v1/workflows/{id}/runs/`: the executions of one workflow.
async fn workflow_runs(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Read).await?;
    // Another scope's workflow is not there (404), not merely without runs; version 1 stays
    // when a workflow is deleted, so a deleted one's runs can still be listed.
    if state
        .store
        .workflow_version(&caller.scope, &id, 1)
        .await?
        .is_none()
    {
        return Err(ApiError::not_found("workflow"));
    }
    executions_of(&state, &caller.scope, q, Some(id)).await
}

/// `GET /api/v1/executions/{id}/trace`: the run as a timeline: its start, every step attempt in
/// the order it was first written (conditions with the values they compared, actions with
/// their rendered input, waits, delays and approvals with when they began and ended), and its
/// end.
async fn execution_trace(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Read).await?;
    let row = state
        .store
        .execution(&caller.scope, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("execution"))?;
    let summary = execution_json(&row, None);
    let mut timeline = vec![json!({
        "kind": "started", "at": summary["started_at"], "trigger_event": summary["trigger_event"],
        "event_id": row.event_id, "parent_id": row.parent_id,
    })];
    for mut step in state.store.steps(&caller.scope, &id).await? {
        if let Value::Object(map) = &mut step {
            map.insert("kind".into(), json!("step"));
            if let Some(at) = map.remove("started_at") {
                map.insert("at".into(), at);
            }
        }
        timeline.push(step);
    }
    if row.completed_ms.is_some() {
        timeline.push(json!({
            "kind": "finished", "at": summary["completed_at"], "status": row.status,
            "decision": row.decision, "reason": row.reason, "error": row.error,
        }));
    }
    Ok(axum::Json(json!({
        "execution_id": row.id, "workflow_id": row.workflow_id, "workflow_version": row.workflow_version,
        "status": row.status, "decision": row.decision, "duration_ms": summary["duration_ms"],
        "timeline": timeline,
    }))
    .into_response())
}

async fn get_execution(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Read).await?;
    let scope = caller.scope.clone();
    let row = state
        .store
        .execution(&scope, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("execution"))?;
    let steps = state.store.steps(&scope, &id).await?;
    Ok(axum::Json(execution_json(&row, Some(steps))).into_response())
}

async fn cancel_execution(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Execute).await?;
    let scope = caller.scope.clone();
    let row = state
        .store
        .execution(&scope, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("execution"))?;
    if matches!(row.status.as_str(), "completed" | "failed" | "cancelled") {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            format!("the execution is already {}", row.status),
        ));
    }
    state
        .store
        .enqueue(&scope, &id, NewItem::now(weir_store::Work::Cancel))
        .await?;
    audit(&state, &caller, "execution.cancel", &id, None).await?;
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(json!({ "execution_id": id, "status": "cancelling" })),
    )
        .into_response())
}

async fn retry_execution(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Execute).await?;
    let scope = caller.scope.clone();
    state
        .store
        .retry_execution(&scope, &id)
        .await
        .map_err(missing("execution"))?;
    audit(&state, &caller, "execution.retry", &id, None).await?;
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(json!({ "execution_id": id, "status": "retrying" })),
    )
        .into_response())
}

/// Where and how `weir serve` runs.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    pub admin_key: Option<String>,
    /// The master key of secrets (64 hex digits); else a key file in the data folder.
    pub master_key: Option<String>,
    /// `WEIR_SMTP_URL` and `WEIR_SMTP_FROM`: where email goes (else it stays in the outbox).
    pub smtp_url: Option<String>,
    pub smtp_from: Option<String>,
    /// How long a claim on an execution lasts before another node may take it over.
    pub lease_ms: i64,
    /// Requests per second per API key (bursts up to twice that); 0 is no limit.
    pub rate_limit: u32,
    /// How long a web UI session lasts, in seconds.
    pub session_ttl: u32,
    /// What outbound HTTP may reach beyond the public internet (`WEIR_OUTBOUND_ALLOW`).
    pub outbound_allow: String,
    /// How many actions the node performs at once, at most.
    pub max_in_flight_actions: usize,
    /// How many workers claim executions.
    pub workers: usize,
    /// How many executions a worker claims at once, at most.
    pub claim_batch: i64,
}

pub use weir_engine::DEFAULT_MAX_IN_FLIGHT;

/// The default of [`ServeConfig::session_ttl`]: an hour.
pub const DEFAULT_SESSION_TTL: u32 = 3600;

/// The default of [`ServeConfig::rate_limit`]: far above what one client of a 2-core server
/// can send, so it stops runaway clients, not load.
pub const DEFAULT_RATE_LIMIT: u32 = 50_000;

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

/// Opens the store, makes sure there is an admin key, starts the workers, and serves HTTP until
/// SIGTERM or Ctrl-C; then stops claiming work, lets what is in flight finish, and returns.
pub async fn serve(config: ServeConfig) -> Result<(), String> {
    // The port first: a port in use is said before a database, a folder or a key is made.
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    // The embedded database is one node's: a second process on the same folder is refused, so
    // every lease found held at start was held by a process that is gone.
    let _data_lock = match &config.database_url {
        Some(_) => None,
        None => Some(lock_data_dir(&config.data_dir)?),
    };
    let store: Arc<dyn Store> = Arc::new(match &config.database_url {
        Some(url) => SqlStore::connect(url)
            .await
            .map_err(|e| format!("cannot open the database: {e}"))?,
        None => SqlStore::open_sqlite(&config.data_dir)
            .await
            .map_err(|e| format!("cannot open the data folder: {e}"))?,
    });
    let key_file = config.data_dir.join("admin-api-key");
    let (key, generated) = match &config.admin_key {
        Some(k) => (k.clone(), false),
        None => (access::new_key_secret(), true),
    };
    // A generated key is written down before the database takes its hash, so a crash in between
    // cannot leave an admin key nobody knows; it is renamed into place once it is the key.
    let pending_file = config.data_dir.join("admin-api-key.pending");
    if generated {
        std::fs::create_dir_all(&config.data_dir)
            .and_then(|()| write_secret_file(&pending_file, &key))
            .map_err(|e| format!("cannot write {}: {e}", pending_file.display()))?;
    }
    let boot = store
        .bootstrap(&hash_key(&key))
        .await
        .map_err(|e| format!("cannot prepare the database: {e}"))?;
    if generated && !boot.created {
        let _ = std::fs::remove_file(&pending_file);
    }
    if boot.created {
        if generated {
            std::fs::rename(&pending_file, &key_file)
                .map_err(|e| format!("cannot write {}: {e}", key_file.display()))?;
            eprintln!(
                "weir: created tenant '{}' and environment '{}'; the admin API key is in {}",
                boot.scope.tenant,
                boot.scope.environment,
                key_file.display()
            );
        } else {
            eprintln!(
                "weir: created tenant '{}' and environment '{}' with the admin key from WEIR_ADMIN_KEY",
                boot.scope.tenant, boot.scope.environment
            );
        }
    }
    if config.database_url.is_none() {
        // Resume at once what the previous process was doing when it died, instead of waiting
        // out its leases.
        store
            .release_leases(None)
            .await
            .map_err(|e| format!("cannot prepare the database: {e}"))?;
    }
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut actions = weir_engine::Actions::builtin();
    weir_actions::register(
        &mut actions,
        store.clone(),
        &weir_actions::Config {
            outbound_allow: weir_actions::AllowList::parse(&config.outbound_allow)?,
            smtp_url: config.smtp_url.clone(),
            smtp_from: config.smtp_from.clone(),
        },
    )?;
    let engine = Engine::with_pool(
        store.clone(),
        config.lease_ms,
        actions,
        config.max_in_flight_actions,
    );
    engine.set_vault(
        secrets::open_vault(
            config.master_key.as_deref(),
            &config.data_dir,
            store.as_ref(),
        )
        .await?,
    );
    engine
        .refresh_all()
        .await
        .map_err(|e| format!("cannot load the workflows: {e}"))?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    // Workers claim and hand each execution to a task of its own, so a few are enough: none
    // waits on the outside world.
    let batch = config.claim_batch;
    let mut workers: Vec<_> = (0..config.workers.max(1))
        .map(|_| {
            let engine = engine.clone();
            let stop = stop_rx.clone();
            tokio::spawn(async move { engine.run(batch, stop).await })
        })
        .collect();
    // The leases of executions with actions in flight are kept alive while they are.
    workers.push({
        let engine = engine.clone();
        let stop = stop_rx.clone();
        tokio::spawn(async move { engine.keep_leases(stop).await })
    });
    // Debounce windows and schedules start runs on a clock of their own.
    workers.push({
        let engine = engine.clone();
        let stop = stop_rx.clone();
        tokio::spawn(async move { engine.run_triggers(stop).await })
    });
    eprintln!("weir: listening on http://{addr}");
    eprintln!("weir:   API            http://{addr}/api/v1");
    eprintln!("weir:   API document   http://{addr}/api/v1/openapi.json");
    eprintln!("weir:   health         http://{addr}/health");
    let mut state = AppState::new(engine.clone(), store.clone());
    state.limiter = key_limiter(config.rate_limit);
    state.session_ttl = Duration::from_secs(config.session_ttl.into());
    let app = router(Arc::new(state));
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| format!("the server failed: {e}"))?;
    eprintln!("weir: shutting down");
    let _ = stop_tx.send(true);
    for w in workers {
        let _ = w.await;
    }
    // Executions with actions in flight finish them (for a while); what is still running then
    // is given back, for another node (or the next start) to take over at once.
    let deadline = tokio::time::Instant::now() + SHUTDOWN_GRACE;
    while engine.running_executions() > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    if engine.running_executions() > 0
        && let Err(e) = store.release_leases(Some(engine.node())).await
    {
        eprintln!("weir: giving back leases: {e}");
    }
    Ok(())
}

/// How long a stopping server waits for the actions in flight.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Takes the data folder for this process (released when the returned file closes, also when
/// the process is killed).
fn lock_data_dir(dir: &std::path::Path) -> Result<std::fs::File, String> {
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("cannot create the data folder {}: {e}", dir.display()))?;
    let path = dir.join("weir.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(format!(
            "another weir serve is using the data folder {}",
            dir.display()
        )),
        Err(std::fs::TryLockError::Error(e)) => Err(format!("cannot lock {}: {e}", path.display())),
    }
}

pub(crate) fn write_secret_file(path: &std::path::Path, secret: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(secret.as_bytes())?;
    f.write_all(b"\n")?;
    f.sync_all()
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
