//! Events: `POST /api/v1/events` records an event, starts the workflows it matches and answers
//! their decisions synchronously; `GET /api/v1/events[/{id}]` reads them back.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, Query, State};
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use weir_api_types::events::{
    Event, EventAnswer, EventDetail, EventExecution, EventList, EventQuery, EventRequest, Triggered,
};
use weir_api_types::executions::Decision;
use weir_api_types::{Detail, ErrorCode};
use weir_store::{EventFilter, EventRow, ExecutionFilter};

use crate::access::{Auth, need};
use crate::body::{from_value, read_body};
use crate::executions::{decision_of, status_of};
use crate::params::{Params, next_cursor};
use crate::{ApiError, ApiResult, AppState, MAX_WAIT_MS, time_text};

pub(crate) fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(post_event, list_events))
        .routes(routes!(get_event))
}

fn event_of(e: EventRow) -> Event {
    Event {
        id: e.id,
        event_type: e.event_type,
        source: e.source,
        idempotency_key: e.idempotency_key,
        payload: e.payload,
        received_at: time_text(e.received_ms),
    }
}

/// List events
///
/// Newest first, keyset pages by `cursor`. Needs `workflows:read`.
#[utoipa::path(get, path = "/api/v1/events", tag = "events", params(EventQuery),
    responses((status = 200, body = EventList)))]
async fn list_events(
    caller: Auth<need::Read>,
    State(state): State<Arc<AppState>>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<EventList>> {
    let q = Params::new(
        q,
        &[
            "event_type",
            "type",
            "source",
            "since",
            "until",
            "cursor",
            "limit",
        ],
    )?;
    let limit = q.number("limit", 50, 1, 500)?;
    let events = state
        .store
        .events(
            &caller.scope,
            &EventFilter {
                event_type: q.text("event_type").or_else(|| q.text("type")),
                source: q.text("source"),
                since_ms: q.time("since")?,
                until_ms: q.time("until")?,
                before: q.cursor()?,
                limit,
            },
        )
        .await?;
    let next_cursor = next_cursor(&events, limit, |e| e.id.clone());
    Ok(Json(EventList {
        events: events.into_iter().map(event_of).collect(),
        next_cursor,
    }))
}

/// An event and the executions it started
///
/// Needs `workflows:read`.
#[utoipa::path(get, path = "/api/v1/events/{id}", tag = "events",
    responses((status = 200, body = EventDetail)))]
async fn get_event(
    caller: Auth<need::Read>,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> ApiResult<Json<EventDetail>> {
    let event = state
        .store
        .event(&caller.scope, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("event"))?;
    let runs = state
        .store
        .executions(
            &caller.scope,
            &ExecutionFilter {
                event_id: Some(id),
                limit: 1000,
                ..Default::default()
            },
        )
        .await?;
    let triggered = runs
        .iter()
        .map(|r| {
            Ok(Triggered {
                execution_id: r.id.clone(),
                workflow_id: r.workflow_id.clone(),
                workflow_version: r.workflow_version,
                status: status_of(&r.status)?,
                decision: decision_of(r.decision.as_deref())?,
            })
        })
        .collect::<ApiResult<_>>()?;
    Ok(Json(EventDetail {
        event: event_of(event),
        triggered,
    }))
}

/// An event request read field by field, so that every wrong field is named at once.
fn event_request(value: Value) -> ApiResult<EventRequest> {
    let Value::Object(map) = &value else {
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
            details.push(Detail::new(
                format!("$.{k}"),
                format!("unknown field '{k}'"),
            ));
        }
    }
    match map.get("event_type") {
        Some(Value::String(s))
            if !s.is_empty()
                && s.len() <= 255
                && !s.chars().any(|c| c.is_whitespace() || c.is_control()) => {}
        Some(_) => details.push(Detail::new(
            "$.event_type",
            "an event type is a non-empty string without spaces, at most 255 characters",
        )),
        None => details.push(Detail::new("$", "event_type is required")),
    }
    if map.get("payload").is_some_and(|p| !p.is_object()) {
        details.push(Detail::new("$.payload", "the payload must be an object"));
    }
    for k in ["source", "idempotency_key"] {
        match map.get(k) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) if s.len() <= 255 && !s.chars().any(char::is_control) => {}
            Some(_) => details.push(Detail::new(
                format!("$.{k}"),
                format!(
                    "{k} must be a string of at most 255 characters, without control characters"
                ),
            )),
        }
    }
    if map
        .get("timeout_ms")
        .is_some_and(|v| v.as_u64().is_none_or(|ms| ms > MAX_WAIT_MS))
    {
        details.push(Detail::new(
            "$.timeout_ms",
            format!("timeout_ms is an integer from 0 to {MAX_WAIT_MS}"),
        ));
    }
    if !details.is_empty() {
        return Err(
            ApiError::new(ErrorCode::InvalidEvent, "the event is not valid").with_details(details),
        );
    }
    from_value(value)
}

/// Send an event
///
/// Records the event, starts the matching workflows, and answers once each execution has
/// decided, finished or parked (or `timeout_ms` passed): `block` if any blocked, else `allow`
/// if any allowed. Needs `workflows:execute`.
#[utoipa::path(post, path = "/api/v1/events", tag = "events", request_body = EventRequest,
    responses((status = 200, body = EventAnswer)))]
async fn post_event(
    caller: Auth<need::Execute>,
    State(state): State<Arc<AppState>>,
    request: axum::extract::Request,
) -> ApiResult<Json<EventAnswer>> {
    let (parts, body) = request.into_parts();
    let event = event_request(read_body(&state, &parts.headers, body, false, false).await?)?;
    let scope = caller.scope.clone();
    let payload = Value::Object(event.payload);
    // Watched from before they are written, so no progress is missed.
    let mut watch = state.engine.watch();
    watch.traceparent = crate::traceparent(&parts.headers);
    let ingest = state
        .engine
        .ingest_watched(
            &mut watch,
            &scope,
            &event.event_type,
            &payload,
            event.source.as_deref(),
            event.idempotency_key.as_deref(),
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
    let timeout_ms = event.timeout_ms.unwrap_or(5000);
    let standing = settle(&state, &scope, &mut watch, open, timeout_ms).await?;
    let mut decision = None;
    let mut executions = Vec::with_capacity(ingest.executions.len());
    for e in &ingest.executions {
        let (status, verdict, reason) = match standing.get(&e.id) {
            Some(r) => (r.status.clone(), r.decision.clone(), r.reason.clone()),
            None => (e.status.clone(), e.decision.clone(), e.reason.clone()),
        };
        let verdict = decision_of(verdict.as_deref())?;
        match verdict {
            Some(Decision::Block) => decision = Some(Decision::Block),
            Some(Decision::Allow) if decision.is_none() => decision = Some(Decision::Allow),
            _ => {}
        }
        executions.push(EventExecution {
            execution_id: e.id.clone(),
            workflow_id: e.workflow_id.clone(),
            workflow_version: e.version,
            status: status_of(&status)?,
            decision: verdict,
            reason,
        });
    }
    Ok(Json(EventAnswer {
        event_id: ingest.event_id,
        duplicate: ingest.duplicate,
        matched_workflows: ingest
            .executions
            .iter()
            .map(|e| e.workflow_id.clone())
            .collect(),
        decision,
        executions,
    }))
}

/// How often a synchronous answer reads its executions again when no progress was announced
/// for them on this node.
const SYNC_POLL: Duration = Duration::from_millis(100);

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
