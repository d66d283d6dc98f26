//! Executions: list (also a workflow's runs), read with steps, the timeline, cancel and retry.
//! The older `/api/v1/workflows/executions/...`, `/api/v1/workflows/{id}/runs/` and
//! `/api/v1/workflow-runs/{id}/` paths reach the same handlers.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use weir_api_types::executions::{
    AcceptedStatus, Decision, Execution, ExecutionAccepted, ExecutionList, ExecutionQuery,
    ExecutionStatus, ExecutionSummary, StepAttempt, TimelineEntry, Trace,
};
use weir_store::{ExecutionFilter, ExecutionRow, NewItem, Scope};

use crate::access::{Auth, audit, need};
use crate::params::{Params, next_cursor};
use crate::{ApiError, ApiResult, AppState, missing, time_text};

pub(crate) fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(list_executions))
        .routes(routes!(get_execution))
        .routes(routes!(execution_trace))
        .routes(routes!(cancel_execution))
        .routes(routes!(retry_execution))
        .routes(routes!(workflow_runs))
        .routes(routes!(alias_list))
        .routes(routes!(alias_get))
        .routes(routes!(alias_trace))
        .routes(routes!(alias_cancel))
        .routes(routes!(alias_retry))
        .routes(routes!(alias_workflow_runs))
        .routes(routes!(alias_run))
        .routes(routes!(alias_run_slash))
}

/// A stored status as the API's enum (the store writes only these).
pub(crate) fn status_of(text: &str) -> ApiResult<ExecutionStatus> {
    ExecutionStatus::parse(text).ok_or_else(|| {
        tracing::error!("internal error: an execution with status '{text}'");
        ApiError::internal()
    })
}

pub(crate) fn decision_of(text: Option<&str>) -> ApiResult<Option<Decision>> {
    text.map(|d| {
        Decision::parse(d).ok_or_else(|| {
            tracing::error!("internal error: an execution with decision '{d}'");
            ApiError::internal()
        })
    })
    .transpose()
}

pub(crate) fn summary(row: &ExecutionRow) -> ApiResult<ExecutionSummary> {
    let context = row
        .state
        .get("ctx")
        .cloned()
        .unwrap_or_else(|| row.state["pending"]["payload"].clone());
    let trigger_event = context
        .get("trigger")
        .and_then(|t| t.get("event"))
        .unwrap_or(&row.state["pending"]["event"])
        .as_str()
        .map(str::to_owned);
    Ok(ExecutionSummary {
        id: row.id.clone(),
        workflow_id: row.workflow_id.clone(),
        workflow_version: row.workflow_version,
        status: status_of(&row.status)?,
        decision: decision_of(row.decision.as_deref())?,
        reason: row.reason.clone(),
        trigger_event,
        event_id: row.event_id.clone(),
        parent_id: row.parent_id.clone(),
        context,
        error: row.error.clone(),
        started_at: time_text(row.started_ms),
        completed_at: row.completed_ms.map(time_text),
        duration_ms: row.completed_ms.map(|c| c - row.started_ms),
    })
}

/// The step attempts of a run, as stored.
async fn steps(state: &AppState, scope: &Scope, id: &str) -> ApiResult<Vec<StepAttempt>> {
    state
        .store
        .steps(scope, id)
        .await?
        .into_iter()
        .map(|v: Value| {
            serde_json::from_value(v).map_err(|e| {
                tracing::error!("internal error: a step record of {id} does not read: {e}");
                ApiError::internal()
            })
        })
        .collect()
}

async fn executions_of(
    state: &AppState,
    scope: &Scope,
    q: HashMap<String, String>,
    workflow: Option<String>,
) -> ApiResult<Json<ExecutionList>> {
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
    let statuses: Vec<&str> = ExecutionStatus::ALL.iter().map(|s| s.as_str()).collect();
    let filter = ExecutionFilter {
        workflow_id: workflow.or_else(|| q.text("workflow_id")),
        status: q.one_of("status", &statuses)?,
        decision: q.one_of("decision", &["allow", "block"])?,
        event_id: q.text("event_id"),
        event_type: q.text("event_type"),
        since_ms: q.time("since")?,
        until_ms: q.time("until")?,
        before: q.cursor()?,
        limit,
        offset: q.number("offset", 0, 0, weir_store::MAX_OFFSET)?,
    };
    let rows = state.store.executions(scope, &filter).await?;
    let next_cursor = next_cursor(&rows, limit, |r| r.id.clone());
    let executions = rows.iter().map(summary).collect::<ApiResult<_>>()?;
    Ok(Json(ExecutionList {
        executions,
        next_cursor,
    }))
}

/// List executions
///
/// Newest first, keyset pages by `cursor` (or `offset`). Needs `workflows:read`.
#[utoipa::path(get, path = "/api/v1/executions", tag = "executions", params(ExecutionQuery),
    responses((status = 200, body = ExecutionList)))]
async fn list_executions(
    caller: Auth<need::Read>,
    State(state): State<Arc<AppState>>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<ExecutionList>> {
    executions_of(&state, &caller.scope, q, None).await
}

/// A workflow's executions
///
/// The executions of one workflow (also one deleted since), newest first. Needs
/// `workflows:read`.
#[utoipa::path(get, path = "/api/v1/workflows/{id}/runs", tag = "executions", params(ExecutionQuery),
    responses((status = 200, body = ExecutionList)))]
async fn workflow_runs(
    caller: Auth<need::Read>,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<ExecutionList>> {
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

/// An execution with its steps
///
/// Every step attempt with its rendered input (secrets redacted), output and error. Needs
/// `workflows:read`.
#[utoipa::path(get, path = "/api/v1/executions/{id}", tag = "executions",
    responses((status = 200, body = Execution)))]
async fn get_execution(
    caller: Auth<need::Read>,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> ApiResult<Json<Execution>> {
    let row = state
        .store
        .execution(&caller.scope, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("execution"))?;
    Ok(Json(Execution {
        summary: summary(&row)?,
        steps: steps(&state, &caller.scope, &id).await?,
    }))
}

/// An execution's timeline
///
/// Its start, every step attempt in the order it was first written (conditions with the
/// values they compared, actions with their rendered input, waits, delays and approvals with
/// when they began and ended), and its end. Needs `workflows:read`.
#[utoipa::path(get, path = "/api/v1/executions/{id}/trace", tag = "executions",
    responses((status = 200, body = Trace)))]
async fn execution_trace(
    caller: Auth<need::Read>,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> ApiResult<Json<Trace>> {
    let row = state
        .store
        .execution(&caller.scope, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("execution"))?;
    let s = summary(&row)?;
    let mut timeline = vec![TimelineEntry::Started {
        at: s.started_at.clone(),
        trigger_event: s.trigger_event.clone(),
        event_id: s.event_id.clone(),
        parent_id: s.parent_id.clone(),
    }];
    for step in steps(&state, &caller.scope, &id).await? {
        timeline.push(TimelineEntry::Step(Box::new(step.into())));
    }
    if row.completed_ms.is_some() {
        timeline.push(TimelineEntry::Finished {
            at: s.completed_at.clone(),
            status: s.status,
            decision: s.decision,
            reason: s.reason.clone(),
            error: s.error.clone(),
        });
    }
    Ok(Json(Trace {
        execution_id: s.id,
        workflow_id: s.workflow_id,
        workflow_version: s.workflow_version,
        status: s.status,
        decision: s.decision,
        duration_ms: s.duration_ms,
        timeline,
    }))
}

/// Cancel an execution
///
/// A running or waiting execution is cancelled (409 once it has ended). Needs
/// `workflows:execute`.
#[utoipa::path(post, path = "/api/v1/executions/{id}/cancel", tag = "executions",
    responses((status = 202, body = ExecutionAccepted)))]
async fn cancel_execution(
    caller: Auth<need::Execute>,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<ExecutionAccepted>)> {
    let row = state
        .store
        .execution(&caller.scope, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("execution"))?;
    if status_of(&row.status)?.is_final() {
        return Err(ApiError::conflict(format!(
            "the execution is already {}",
            row.status
        )));
    }
    state
        .store
        .enqueue(&caller.scope, &id, NewItem::now(weir_store::Work::Cancel))
        .await?;
    audit(&state, &caller, "execution.cancel", &id, None).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(ExecutionAccepted {
            execution_id: id,
            status: AcceptedStatus::Cancelling,
        }),
    ))
}

/// Retry a failed execution
///
/// From its failed step (409 unless it failed). Needs `workflows:execute`.
#[utoipa::path(post, path = "/api/v1/executions/{id}/retry", tag = "executions",
    responses((status = 202, body = ExecutionAccepted)))]
async fn retry_execution(
    caller: Auth<need::Execute>,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<ExecutionAccepted>)> {
    state
        .store
        .retry_execution(&caller.scope, &id)
        .await
        .map_err(missing("execution"))?;
    audit(&state, &caller, "execution.retry", &id, None).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(ExecutionAccepted {
            execution_id: id,
            status: AcceptedStatus::Retrying,
        }),
    ))
}

// The older paths: the same handlers, documented under the tag `aliases`.

/// List executions (alias path)
#[utoipa::path(get, path = "/api/v1/workflows/executions", tag = "aliases", params(ExecutionQuery),
    responses((status = 200, body = ExecutionList)))]
async fn alias_list(
    caller: Auth<need::Read>,
    state: State<Arc<AppState>>,
    q: Query<HashMap<String, String>>,
) -> ApiResult<Json<ExecutionList>> {
    list_executions(caller, state, q).await
}

/// An execution (alias path)
#[utoipa::path(get, path = "/api/v1/workflows/executions/{id}", tag = "aliases",
    responses((status = 200, body = Execution)))]
async fn alias_get(
    caller: Auth<need::Read>,
    state: State<Arc<AppState>>,
    id: Path<String>,
) -> ApiResult<Json<Execution>> {
    get_execution(caller, state, id).await
}

/// An execution's timeline (alias path)
#[utoipa::path(get, path = "/api/v1/workflows/executions/{id}/trace", tag = "aliases",
    responses((status = 200, body = Trace)))]
async fn alias_trace(
    caller: Auth<need::Read>,
    state: State<Arc<AppState>>,
    id: Path<String>,
) -> ApiResult<Json<Trace>> {
    execution_trace(caller, state, id).await
}

/// Cancel (alias path)
#[utoipa::path(post, path = "/api/v1/workflows/executions/{id}/cancel", tag = "aliases",
    responses((status = 202, body = ExecutionAccepted)))]
async fn alias_cancel(
    caller: Auth<need::Execute>,
    state: State<Arc<AppState>>,
    id: Path<String>,
) -> ApiResult<(StatusCode, Json<ExecutionAccepted>)> {
    cancel_execution(caller, state, id).await
}

/// Retry (alias path)
#[utoipa::path(post, path = "/api/v1/workflows/executions/{id}/retry", tag = "aliases",
    responses((status = 202, body = ExecutionAccepted)))]
async fn alias_retry(
    caller: Auth<need::Execute>,
    state: State<Arc<AppState>>,
    id: Path<String>,
) -> ApiResult<(StatusCode, Json<ExecutionAccepted>)> {
    retry_execution(caller, state, id).await
}

/// A workflow's executions (alias path)
#[utoipa::path(get, path = "/api/v1/workflows/{id}/runs/", tag = "aliases", params(ExecutionQuery),
    responses((status = 200, body = ExecutionList)))]
async fn alias_workflow_runs(
    caller: Auth<need::Read>,
    state: State<Arc<AppState>>,
    id: Path<String>,
    q: Query<HashMap<String, String>>,
) -> ApiResult<Json<ExecutionList>> {
    workflow_runs(caller, state, id, q).await
}

/// An execution (alias path)
#[utoipa::path(get, path = "/api/v1/workflow-runs/{id}", tag = "aliases",
    responses((status = 200, body = Execution)))]
async fn alias_run(
    caller: Auth<need::Read>,
    state: State<Arc<AppState>>,
    id: Path<String>,
) -> ApiResult<Json<Execution>> {
    get_execution(caller, state, id).await
}

/// An execution (alias path)
#[utoipa::path(get, path = "/api/v1/workflow-runs/{id}/", tag = "aliases",
    responses((status = 200, body = Execution)))]
async fn alias_run_slash(
    caller: Auth<need::Read>,
    state: State<Arc<AppState>>,
    id: Path<String>,
) -> ApiResult<Json<Execution>> {
    get_execution(caller, state, id).await
}
