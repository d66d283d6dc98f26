//! Inbound webhook triggers: a workflow with a `webhook` trigger has a stable URL,
//! `/hooks/{tenant}/{environment}/{token}`, whose token is derived from the master key (so it
//! needs no storage and cannot be guessed). A delivery is authenticated by a secret token
//! header or an HMAC-SHA256 signature over `timestamp.body` (within a replay window, each
//! signature once, compared in constant time), may have to match a JSON Schema, and starts the
//! workflow; the answer is 202 at once, or the run's decision and output when the trigger asks
//! to wait. Unknown tokens answer 404 and say nothing more; a refused delivery starts nothing.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ring::hmac;
use serde_json::{Map, Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use weir_api_types::executions::ExecutionStatus;
use weir_api_types::triggers::{HookAccepted, HookAnswer, HookForm, HookPayload, HookUrl};
use weir_api_types::{ErrorBody, ErrorCode};
use weir_core::model::{Webhook, WebhookAuth, WebhookResponse};
use weir_core::template::{RenderTrace, Secrets};
use weir_core::{Env, Rules};
use weir_engine::secrets::constant_time_eq;
use weir_store::Scope;

use crate::access::{Auth, need};
use crate::executions::{decision_of, status_of};
use crate::{ApiError, ApiResult, AppState, read_bytes, settle};

pub(crate) fn routes() -> OpenApiRouter<Arc<AppState>> {
    let (schemas, paths, deliveries) = routes!(deliver_bare, deliver_with_body);
    OpenApiRouter::new()
        // Any other method (HEAD, OPTIONS, …) reaches the delivery too: 404 for an unknown
        // token, else 405 naming the methods the webhook takes.
        .routes((schemas, paths, deliveries.fallback(deliver)))
        .routes(routes!(hook_url))
}

/// How long a `respond: wait` webhook waits for the run by default, and at most.
const DEFAULT_WAIT: Duration = Duration::from_secs(10);
const MAX_WAIT: Duration = Duration::from_secs(60);

fn unauthorized(message: &str) -> ApiError {
    ApiError::new(ErrorCode::Unauthorized, message)
}

/// A webhook's secret, rendered (it is a template like `{{secrets.WEBHOOK_KEY}}`).
async fn secret(state: &AppState, scope: &Scope, t: &weir_core::Template) -> ApiResult<String> {
    let secrets = state.engine.secret_values(scope).await?;
    let rules = Rules::default();
    let env = Env {
        secrets: secrets.lookup(),
        ..Env::new(chrono::Utc::now(), &rules)
    };
    match t.render(
        &json!({}),
        &env,
        Secrets::Reveal,
        &mut RenderTrace::default(),
    ) {
        Value::String(s) if !s.is_empty() => Ok(s),
        // A webhook whose secret is not set accepts nothing.
        _ => Err(unauthorized("the webhook's secret is not set")),
    }
}

fn header_text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// Checks a delivery's authentication; for a signed one, records its signature so it is
/// accepted once.
async fn authenticate(
    state: &AppState,
    scope: &Scope,
    hook: &Webhook,
    headers: &HeaderMap,
    body: &[u8],
) -> ApiResult<()> {
    match &hook.auth {
        WebhookAuth::None => Ok(()),
        WebhookAuth::Token { header, secret: s } => {
            let expected = secret(state, scope, s).await?;
            let given = header_text(headers, header)
                .ok_or_else(|| unauthorized(&format!("send the webhook's token in {header}")))?;
            let given = given.strip_prefix("Bearer ").unwrap_or(given);
            match constant_time_eq(given.as_bytes(), expected.as_bytes()) {
                true => Ok(()),
                false => Err(unauthorized("the token is wrong")),
            }
        }
        WebhookAuth::Hmac {
            header,
            timestamp_header,
            secret: s,
            tolerance,
        } => {
            let expected_key = secret(state, scope, s).await?;
            let stamp = header_text(headers, timestamp_header).ok_or_else(|| {
                unauthorized(&format!(
                    "send the time of signing (unix seconds) in {timestamp_header}"
                ))
            })?;
            let signature = header_text(headers, header)
                .ok_or_else(|| unauthorized(&format!("send the signature in {header}")))?;
            let at: i64 = stamp
                .parse()
                .map_err(|_| unauthorized(&format!("{timestamp_header} is not unix seconds")))?;
            let now = chrono::Utc::now().timestamp();
            let window = (tolerance.as_millis() / 1000) as i64;
            if (now - at).abs() > window {
                return Err(unauthorized(
                    "the signature's time is outside the replay window; sign again",
                ));
            }
            let given = signature
                .strip_prefix("sha256=")
                .or_else(|| signature.strip_prefix("v1="))
                .unwrap_or(signature)
                .to_ascii_lowercase();
            let key = hmac::Key::new(hmac::HMAC_SHA256, expected_key.as_bytes());
            let mut message = format!("{stamp}.").into_bytes();
            message.extend_from_slice(body);
            let expected = hex::encode(hmac::sign(&key, &message).as_ref());
            if !constant_time_eq(given.as_bytes(), expected.as_bytes()) {
                return Err(unauthorized("the signature does not match the body"));
            }
            let expires_ms = (at + window + 1) * 1000;
            if !state
                .store
                .remember_delivery(scope, &expected, expires_ms)
                .await?
            {
                return Err(ApiError::new(
                    ErrorCode::Replayed,
                    "this signed delivery was received already",
                ));
            }
            Ok(())
        }
    }
}

/// The payload of a delivery: JSON, a form, or raw text (as `{"body": "…"}`).
fn payload(headers: &HeaderMap, body: &[u8]) -> ApiResult<Value> {
    let kind = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let essence = kind.split(';').next().unwrap_or("").trim();
    if body.is_empty() && essence.is_empty() {
        return Ok(json!({}));
    }
    match essence {
        e if e == "application/json" || e.ends_with("+json") => {
            let v = weir_core::load_value(body, Some(weir_core::Format::Json))
                .map_err(ApiError::malformed)?;
            Ok(match v {
                Value::Object(_) => v,
                other => json!({ "body": other }),
            })
        }
        "application/x-www-form-urlencoded" => Ok(Value::Object(
            url::form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
                .collect::<Map<String, Value>>(),
        )),
        "text/plain" | "application/octet-stream" | "application/xml" | "text/xml" => {
            let text = std::str::from_utf8(body)
                .map_err(|_| ApiError::new(ErrorCode::Malformed, "the body is not UTF-8 text"))?;
            Ok(json!({ "body": text }))
        }
        _ => Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "send application/json, application/x-www-form-urlencoded or text/plain",
        )),
    }
}

/// What a delivery answers: 202 at once, or the run's answer when the trigger waits.
enum Delivered {
    Accepted(HookAccepted),
    Answered(HookAnswer),
}

impl IntoResponse for Delivered {
    fn into_response(self) -> Response {
        match self {
            Delivered::Accepted(a) => (StatusCode::ACCEPTED, Json(a)).into_response(),
            Delivered::Answered(a) => Json(a).into_response(),
        }
    }
}

/// Deliver to a workflow's webhook (without a body)
///
/// For a webhook whose trigger takes GET or DELETE (`methods`); the payload is empty.
/// Authenticated by the webhook's own token or HMAC signature, not an API key. Starts the
/// workflow and answers 202 at once, or, when the trigger waits (`response: wait`), the
/// run's answer once it decided, finished or parked.
#[utoipa::path(method(get, delete), path = "/hooks/{tenant}/{environment}/{token}",
    tag = "triggers", security(()),
    responses(
        (status = 202, body = HookAccepted, description = "Started; the run goes on"),
        (status = 200, body = HookAnswer, description = "The run's answer (a trigger that waits)"),
        (status = 401, body = ErrorBody, description = "The token or signature is missing or wrong, or the webhook's secret is not set"),
        (status = 404, body = ErrorBody, description = "No such webhook"),
        (status = 405, body = ErrorBody, description = "The webhook does not take this method"),
        (status = 409, body = ErrorBody, description = "A signed delivery received already (`replayed`)"),
        (status = 422, body = ErrorBody, description = "The payload does not match the webhook's schema"),
    ))]
async fn deliver_bare(
    state: State<Arc<AppState>>,
    method: Method,
    headers: HeaderMap,
    path: Path<(String, String, String)>,
    body: Body,
) -> ApiResult<Delivered> {
    deliver(state, method, headers, path, body).await
}

/// Deliver to a workflow's webhook
///
/// POST unless the trigger takes other methods (`methods`: PUT and PATCH too). The payload is
/// JSON, a form, or text (`{"body": "…"}`). Authenticated by the webhook's own token or HMAC
/// signature over `timestamp.body` (each signed delivery once), not an API key. Starts the
/// workflow and answers 202 at once, or, when the trigger waits (`response: wait`), the
/// run's answer once it decided, finished or parked.
#[utoipa::path(method(post, put, patch), path = "/hooks/{tenant}/{environment}/{token}",
    tag = "triggers", security(()),
    request_body(content(
        (HookPayload = "application/json"),
        (HookForm = "application/x-www-form-urlencoded"),
        (String = "text/plain"),
    ), description = "The payload (an empty body is an empty one)"),
    responses(
        (status = 202, body = HookAccepted, description = "Started; the run goes on"),
        (status = 200, body = HookAnswer, description = "The run's answer (a trigger that waits)"),
        (status = 401, body = ErrorBody, description = "The token or signature is missing or wrong, or the webhook's secret is not set"),
        (status = 404, body = ErrorBody, description = "No such webhook"),
        (status = 405, body = ErrorBody, description = "The webhook does not take this method"),
        (status = 409, body = ErrorBody, description = "A signed delivery received already (`replayed`)"),
        (status = 422, body = ErrorBody, description = "The payload does not match the webhook's schema"),
    ))]
async fn deliver_with_body(
    state: State<Arc<AppState>>,
    method: Method,
    headers: HeaderMap,
    path: Path<(String, String, String)>,
    body: Body,
) -> ApiResult<Delivered> {
    deliver(state, method, headers, path, body).await
}

/// A delivery to a workflow's webhook, whatever its method.
async fn deliver(
    State(state): State<Arc<AppState>>,
    method: Method,
    headers: HeaderMap,
    Path((tenant, environment, token)): Path<(String, String, String)>,
    body: Body,
) -> ApiResult<Delivered> {
    let scope = Scope::new(tenant, environment);
    let not_found = || ApiError::new(ErrorCode::NotFound, "no such webhook");
    let (workflow_id, hook) = state.engine.webhook(&scope, &token).ok_or_else(not_found)?;
    let allowed = if hook.methods.is_empty() {
        vec!["POST".to_owned()]
    } else {
        hook.methods
            .iter()
            .map(|m| m.to_ascii_uppercase())
            .collect()
    };
    if !allowed.iter().any(|m| m == method.as_str()) {
        return Err(ApiError::new(
            ErrorCode::MethodNotAllowed,
            format!("this webhook takes {}", allowed.join(", ")),
        ));
    }
    let body = read_bytes(body, state.max_body_bytes).await?;
    authenticate(&state, &scope, &hook, &headers, &body).await?;
    let payload = payload(&headers, &body)?;
    if let Some(schema) = &hook.schema {
        crate::check_schema(
            schema,
            &payload,
            "$",
            "the payload does not match the webhook's schema",
        )?;
    }
    let mut watch = state.engine.watch();
    watch.traceparent = crate::traceparent(&headers);
    let id = state
        .engine
        .start_watched(&mut watch, &scope, &workflow_id, "webhook", &payload)
        .await?;
    if hook.respond == WebhookResponse::Immediate {
        return Ok(Delivered::Accepted(HookAccepted {
            execution_id: id,
            status: ExecutionStatus::Pending,
        }));
    }
    let wait = hook
        .response_timeout
        .map(|d| Duration::from_millis(d.as_millis()))
        .unwrap_or(DEFAULT_WAIT)
        .min(MAX_WAIT);
    let pending = crate::Standing {
        status: "pending".into(),
        decision: None,
        reason: None,
    };
    settle(
        &state,
        &scope,
        &mut watch,
        std::collections::HashMap::from([(id.clone(), pending)]),
        wait.as_millis() as u64,
    )
    .await?;
    // The answer shows the run's output: read as it stands now.
    let row = state
        .store
        .execution(&scope, &id)
        .await?
        .ok_or_else(ApiError::internal)?;
    Ok(Delivered::Answered(HookAnswer {
        execution_id: id,
        status: status_of(&row.status)?,
        decision: decision_of(row.decision.as_deref())?,
        reason: row.reason,
        output: row.state["ctx"].get("vars").cloned().unwrap_or(Value::Null),
        error: row.error,
    }))
}

/// The URL path of a workflow's webhook
///
/// Where its webhook trigger takes deliveries; 409 when it has none. The URL is a credential
/// of its own (a webhook without auth starts runs). Needs `workflows:execute`.
#[utoipa::path(get, path = "/api/v1/workflows/{id}/hook", tag = "triggers",
    responses((status = 200, body = HookUrl)))]
async fn hook_url(
    caller: Auth<need::Execute>,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> ApiResult<Json<HookUrl>> {
    let wf = state
        .store
        .workflow(&caller.scope, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("workflow"))?;
    let has_hook = wf.definition["trigger"]["type"] == "webhook"
        || wf.definition["triggers"]
            .as_array()
            .is_some_and(|t| t.iter().any(|t| t["type"] == "webhook"));
    let vault = state
        .engine
        .vault()
        .ok_or_else(|| ApiError::new(ErrorCode::Unavailable, "this server has no master key"))?;
    if !has_hook {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "the workflow has no webhook trigger",
        ));
    }
    let token = vault.webhook_token(&caller.scope, &id);
    let path = format!(
        "/hooks/{}/{}/{token}",
        caller.scope.tenant, caller.scope.environment
    );
    Ok(Json(HookUrl {
        workflow_id: id,
        path,
    }))
}
