//! Reading events: `GET /api/v1/events` and `GET /api/v1/events/{id}` with the workflows it
//! triggered. (`POST /api/v1/events` is in the crate root, with synchronous decisions.)

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use serde_json::{Value, json};
use weir_store::{EventFilter, EventRow, ExecutionFilter};

use crate::access::{Perm, authorize_for};
use crate::params::{Params, next_cursor};
use crate::{ApiError, ApiResult, AppState, time};

fn event_json(e: &EventRow) -> Value {
    json!({
        "id": e.id, "event_type": e.event_type, "source": e.source, "idempotency_key": e.idempotency_key,
        "payload": e.payload, "received_at": time(Some(e.received_ms)),
    })
}

/// `GET /api/v1/events`: filters `event_type` (or `type`), `source`, `since`, `until`
/// (RFC 3339); newest first, keyset pages by `cursor`, `limit` up to 500.
pub async fn list_events(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Read).await?;
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
    let next = next_cursor(&events, limit, |e| e.id.clone());
    let list: Vec<Value> = events.iter().map(event_json).collect();
    Ok(axum::Json(json!({ "events": list, "next_cursor": next })).into_response())
}

/// `GET /api/v1/events/{id}`: the event and the executions it started.
pub async fn get_event(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Read).await?;
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
    let triggered: Vec<Value> = runs
        .iter()
        .map(|r| {
            json!({ "execution_id": r.id, "workflow_id": r.workflow_id, "workflow_version": r.workflow_version,
                    "status": r.status, "decision": r.decision })
        })
        .collect();
    let mut out = event_json(&event);
    out["triggered"] = Value::Array(triggered);
    Ok(axum::Json(out).into_response())
}
