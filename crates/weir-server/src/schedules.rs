//! `GET /api/v1/workflows/{id}/schedule`: when a workflow's schedule triggers fire next, and
//! when each last fired.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use chrono::{DateTime, Utc};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use weir_api_types::ErrorCode;
use weir_api_types::triggers::{ScheduleQuery, ScheduleTimes, WorkflowSchedule};
use weir_core::model::TriggerKind;

use crate::access::{Auth, need};
use crate::params::Params;
use crate::{ApiError, ApiResult, AppState, time_text};

pub(crate) fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new().routes(routes!(schedule))
}

/// When a workflow's schedules fire
///
/// The next fire times of each of its schedule triggers (10 by default), in UTC and in the
/// schedule's zone, and when each last fired; 409 when it has none. Needs `workflows:read`.
#[utoipa::path(get, path = "/api/v1/workflows/{id}/schedule", tag = "triggers",
    params(ScheduleQuery), responses((status = 200, body = WorkflowSchedule)))]
async fn schedule(
    caller: Auth<need::Read>,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult<Json<WorkflowSchedule>> {
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
        // The schedule as the CLI shows it too, read into its type.
        let mut described: ScheduleTimes = serde_json::from_value(s.describe(index, after, count))
            .map_err(|e| {
                tracing::error!("internal error: a schedule's description does not read: {e}");
                ApiError::internal()
            })?;
        described.last_fire = last.map(time_text);
        schedules.push(described);
    }
    if schedules.is_empty() {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "the workflow has no schedule trigger",
        ));
    }
    Ok(Json(WorkflowSchedule {
        workflow_id: id,
        enabled: current.enabled,
        schedules,
    }))
}
