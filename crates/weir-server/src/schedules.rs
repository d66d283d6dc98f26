//! `GET /api/v1/workflows/{id}/schedule`: when a workflow's schedule triggers fire next, and
//! when each last fired.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use serde_json::json;
use weir_core::model::TriggerKind;

use crate::access::{Perm, authorize_for};
use crate::params::Params;
use crate::{ApiError, ApiResult, AppState, time};
use weir_api_types::ErrorCode;

/// This module's routes. (Not yet typed: their operations come from the hand-written
/// document in `openapi.rs`.)
pub(crate) fn routes() -> utoipa_axum::router::OpenApiRouter<Arc<AppState>> {
    use axum::routing::get;
    utoipa_axum::router::OpenApiRouter::new()
        .route("/api/v1/workflows/{id}/schedule", get(schedule))
}

pub async fn schedule(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Read).await?;
    let params = Params::new(query, &["count", "after"])?;
    let count = params.number("count", 10, 1, 100)? as usize;
    let after = match params.time("after")? {
        Some(ms) => DateTime::from_timestamp_millis(ms).unwrap_or_else(Utc::now),
        None => Utc::now(),
    };
    let current = state
        .store
        .workflow(&caller.scope, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("workflow"))?;
    let wf = state
        .engine
        .workflow(&caller.scope, &id, current.version)
        .await?;
    let mut schedules = Vec::new();
    for (index, t) in wf.triggers.iter().enumerate() {
        let TriggerKind::Schedule(s) = &t.kind else {
            continue;
        };
        let last = state
            .store
            .last_schedule_fire(&caller.scope, &id, index as i64)
            .await?;
        let mut described = s.describe(index, after, count);
        described["last_fire"] = time(last);
        schedules.push(described);
    }
    if schedules.is_empty() {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "the workflow has no schedule trigger",
        ));
    }
    Ok(axum::Json(json!({
        "workflow_id": id,
        "enabled": current.enabled,
        "schedules": schedules,
    }))
    .into_response())
}
