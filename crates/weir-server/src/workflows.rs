//! Workflow definitions: create, list, get, update (a new immutable version), delete, enable
//! and disable, versions and rollback, and the manual trigger. The older
//! `/api/v1/workflows/definitions/...` paths reach the same handlers.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use weir_api_types::Detail;
use weir_api_types::executions::ExecutionStatus;
use weir_api_types::workflows::{
    DeleteQuery, ExecuteRequest, ExecutionStarted, StoredWorkflow, Version, VersionActivated,
    VersionList, VersionSummary, Workflow as WorkflowBody, WorkflowActivity, WorkflowDefinition,
    WorkflowDeleted, WorkflowEnabled, WorkflowList, WorkflowQuery, WorkflowStatus, WorkflowSummary,
};
use weir_core::Workflow;
use weir_core::model::TriggerKind;
use weir_store::{Scope, WorkflowVersion};

use crate::access::{Auth, Caller, audit, need};
use crate::body::{Document, OptionalBody, read_body, with_path_id};
use crate::params::Params;
use crate::{ApiError, ApiResult, AppState, time_text};

pub(crate) fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(post_workflow, list_workflows))
        .routes(routes!(get_workflow, put_workflow, delete_workflow))
        .routes(routes!(enable_workflow))
        .routes(routes!(disable_workflow))
        .routes(routes!(execute_workflow))
        .routes(routes!(trigger_workflow))
        .routes(routes!(list_versions))
        .routes(routes!(get_version))
        .routes(routes!(activate_version))
        .routes(routes!(alias_post, alias_list))
        .routes(routes!(alias_get, alias_put, alias_delete))
        .routes(routes!(alias_enable))
        .routes(routes!(alias_disable))
        .routes(routes!(alias_execute))
        .routes(routes!(alias_trigger))
}

fn not_found(e: weir_store::Error) -> ApiError {
    crate::missing("workflow")(e)
}

/// A workflow's summary, from its parsed current version.
fn summary(v: &WorkflowVersion, wf: &Workflow) -> WorkflowSummary {
    let trigger_events = wf
        .triggers
        .iter()
        .filter_map(|t| match &t.kind {
            TriggerKind::Event { event, .. } => Some(event.clone()),
            _ => None,
        })
        .collect();
    WorkflowSummary {
        workflow_id: v.workflow_id.clone(),
        id: v.workflow_id.clone(),
        name: wf.name.clone(),
        description: wf.description.clone(),
        version: v.version,
        enabled: v.enabled,
        tags: wf.tags.clone(),
        trigger_events,
        updated_at: time_text(v.created_ms),
        activity: None,
    }
}

fn definition(v: &WorkflowVersion) -> WorkflowDefinition {
    WorkflowDefinition(v.definition.as_object().cloned().unwrap_or_default())
}

/// Stores a version and says what was stored, with the validator's warnings.
async fn store_version(
    state: &AppState,
    scope: &Scope,
    definition: &serde_json::Value,
) -> ApiResult<StoredWorkflow> {
    let (stored, warnings) = state.engine.put_workflow(scope, definition).await?;
    Ok(StoredWorkflow {
        workflow_id: stored.workflow_id.clone(),
        id: stored.workflow_id.clone(),
        name: stored
            .definition
            .get("name")
            .and_then(|n| n.as_str())
            .map(str::to_owned),
        version: stored.version,
        enabled: stored.enabled,
        status: WorkflowStatus::Published,
        created_at: time_text(stored.created_ms),
        warnings: warnings.iter().map(Detail::from).collect(),
    })
}

/// Store a workflow
///
/// Stores a workflow (JSON or YAML), or a new version of one with the same id. Needs
/// `workflows:write`.
#[utoipa::path(post, path = "/api/v1/workflows", tag = "workflows",
    request_body(content((WorkflowDefinition = "application/json"), (WorkflowDefinition = "application/yaml"))),
    responses((status = 201, body = StoredWorkflow)))]
async fn post_workflow(
    caller: Auth<need::Write>,
    State(state): State<Arc<AppState>>,
    Document(definition): Document,
) -> ApiResult<(StatusCode, Json<StoredWorkflow>)> {
    let before = match definition
        .get("workflow_id")
        .or_else(|| definition.get("id"))
        .and_then(|v| v.as_str())
    {
        // An id that cannot be one is reported by validation below.
        Some(id) if weir_core::valid_id(id) => state
            .store
            .workflow(&caller.scope, id)
            .await?
            .map(|w| w.version),
        _ => None,
    };
    let stored = store_version(&state, &caller.scope, &definition).await?;
    audit(
        &state,
        &caller,
        "workflow.put",
        &stored.workflow_id,
        Some(json!({ "before": { "version": before }, "after": { "version": stored.version } })),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(stored)))
}

/// Store a new version of a workflow
///
/// The body's id, when it names one, must be the path's. Needs `workflows:write`.
#[utoipa::path(put, path = "/api/v1/workflows/{id}", tag = "workflows",
    request_body(content((WorkflowDefinition = "application/json"), (WorkflowDefinition = "application/yaml"))),
    responses((status = 200, body = StoredWorkflow)))]
async fn put_workflow(
    caller: Auth<need::Write>,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    request: axum::extract::Request,
) -> ApiResult<Json<StoredWorkflow>> {
    // Another scope's workflow is not there, whatever the body.
    let before = state
        .store
        .workflow(&caller.scope, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("workflow"))?;
    let (parts, body) = request.into_parts();
    let definition = read_body(&state, &parts.headers, body, true, false).await?;
    let definition = with_path_id(definition, &id, "workflow_id")?;
    let stored = store_version(&state, &caller.scope, &definition).await?;
    audit(
        &state,
        &caller,
        "workflow.update",
        &id,
        Some(json!({ "before": { "version": before.version }, "after": { "version": stored.version } })),
    )
    .await?;
    Ok(Json(stored))
}

/// List workflows
///
/// By id; keyset pages by `cursor` (the `next_cursor` of the page before), or `offset`.
/// Needs `workflows:read`.
#[utoipa::path(get, path = "/api/v1/workflows", tag = "workflows", params(WorkflowQuery),
    responses((status = 200, body = WorkflowList)))]
async fn list_workflows(
    caller: Auth<need::Read>,
    State(state): State<Arc<AppState>>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<WorkflowList>> {
    let q = Params::new(
        q,
        &["enabled", "tag", "event", "q", "cursor", "offset", "limit"],
    )?;
    let enabled = match q.text("enabled").as_deref() {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(_) => return Err(ApiError::bad_request("enabled is true or false")),
    };
    let limit = q.number("limit", 50, 1, 500)? as usize;
    let offset = q.number("offset", 0, 0, i64::from(i32::MAX))? as usize;
    let tag = q.text("tag");
    let event = q.text("event");
    let text = q.text("q").map(|t| t.to_lowercase());
    let cursor = q.text("cursor");
    let mut out = Vec::new();
    for v in state.store.workflows(&caller.scope).await? {
        if cursor.as_ref().is_some_and(|c| v.workflow_id <= *c)
            || enabled.is_some_and(|e| e != v.enabled)
        {
            continue;
        }
        let wf = state
            .engine
            .workflow(&caller.scope, &v.workflow_id, v.version)
            .await?;
        let keep = tag.as_ref().is_none_or(|t| wf.tags.contains(t))
            && event.as_ref().is_none_or(|e| {
                wf.triggers
                    .iter()
                    .any(|t| matches!(&t.kind, TriggerKind::Event { event: te, .. } if te == e))
            })
            && text.as_ref().is_none_or(|t| {
                [Some(&wf.id), Some(&wf.name), wf.description.as_ref()]
                    .into_iter()
                    .flatten()
                    .any(|s| s.to_lowercase().contains(t.as_str()))
            });
        if keep {
            out.push(summary(&v, &wf));
        }
    }
    let mut page: Vec<WorkflowSummary> = out.into_iter().skip(offset).take(limit + 1).collect();
    let more = page.len() > limit;
    page.truncate(limit);
    add_activity(&state, &caller.scope, &mut page).await?;
    let next_cursor = more
        .then(|| page.last().map(|w| w.workflow_id.clone()))
        .flatten();
    Ok(Json(WorkflowList {
        workflows: page,
        next_cursor,
    }))
}

/// Each listed workflow's last run and its last 7 days, from the statistics (two reads for
/// the page, whatever its size).
async fn add_activity(
    state: &AppState,
    scope: &Scope,
    page: &mut [WorkflowSummary],
) -> ApiResult<()> {
    const WEEK_MS: i64 = 7 * 24 * 3_600_000;
    let now = state.store.now_ms().await?;
    let last: HashMap<String, i64> = state.store.last_runs(scope).await?.into_iter().collect();
    let mut finished: HashMap<String, (i64, i64, i64)> = HashMap::new();
    let since = now - now.rem_euclid(3_600_000) - WEEK_MS + 3_600_000;
    for (workflow, status, runs) in state
        .store
        .finished_by_workflow(scope, since, now + 3_600_000)
        .await?
    {
        let (all, completed, failed) = finished.entry(workflow).or_default();
        *all += runs;
        match status.as_str() {
            "completed" => *completed += runs,
            "failed" => *failed += runs,
            _ => {}
        }
    }
    for w in page {
        let (all, completed, failed) = finished.get(&w.workflow_id).copied().unwrap_or_default();
        w.activity = Some(WorkflowActivity {
            last_run_at: last.get(&w.workflow_id).copied().map(time_text),
            finished_7d: all,
            success_rate_7d: (completed + failed > 0)
                .then(|| completed as f64 / (completed + failed) as f64),
        });
    }
    Ok(())
}

/// A workflow's current version
///
/// Its summary and definition. Needs `workflows:read`.
#[utoipa::path(get, path = "/api/v1/workflows/{id}", tag = "workflows",
    responses((status = 200, body = WorkflowBody)))]
async fn get_workflow(
    caller: Auth<need::Read>,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> ApiResult<Json<WorkflowBody>> {
    let v = state
        .store
        .workflow(&caller.scope, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("workflow"))?;
    let wf = state.engine.workflow(&caller.scope, &id, v.version).await?;
    Ok(Json(WorkflowBody {
        summary: summary(&v, &wf),
        definition: definition(&v),
    }))
}

/// Delete a workflow
///
/// Refused while executions run (409), unless `force=true`, which cancels them. Needs
/// `workflows:write`.
#[utoipa::path(delete, path = "/api/v1/workflows/{id}", tag = "workflows", params(DeleteQuery),
    responses((status = 200, body = WorkflowDeleted)))]
async fn delete_workflow(
    caller: Auth<need::Write>,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<WorkflowDeleted>> {
    let q = Params::new(q, &["force"])?;
    let force = match q.text("force").as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "force is true or false, not '{other}'"
            )));
        }
    };
    let cancelled = state
        .store
        .delete_workflow(&caller.scope, &id, force)
        .await
        .map_err(not_found)?;
    state.engine.refresh(&caller.scope).await?;
    audit(
        &state,
        &caller,
        "workflow.delete",
        &id,
        Some(json!({ "force": force, "cancelled": &cancelled })),
    )
    .await?;
    Ok(Json(WorkflowDeleted {
        workflow_id: id,
        deleted: true,
        cancelled_executions: cancelled,
    }))
}

async fn set_enabled(
    state: &AppState,
    caller: &Caller,
    id: String,
    enabled: bool,
) -> ApiResult<Json<WorkflowEnabled>> {
    let before = state
        .store
        .workflow(&caller.scope, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("workflow"))?;
    state
        .store
        .set_workflow_enabled(&caller.scope, &id, enabled)
        .await
        .map_err(not_found)?;
    state.engine.refresh(&caller.scope).await?;
    let action = if enabled {
        "workflow.enable"
    } else {
        "workflow.disable"
    };
    audit(
        state,
        caller,
        action,
        &id,
        Some(json!({ "before": { "enabled": before.enabled }, "after": { "enabled": enabled } })),
    )
    .await?;
    Ok(Json(WorkflowEnabled {
        workflow_id: id,
        enabled,
    }))
}

/// Enable a workflow
///
/// It matches events again. Needs `workflows:write`.
#[utoipa::path(post, path = "/api/v1/workflows/{id}/enable", tag = "workflows",
    responses((status = 200, body = WorkflowEnabled)))]
async fn enable_workflow(
    caller: Auth<need::Write>,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> ApiResult<Json<WorkflowEnabled>> {
    set_enabled(&state, &caller, id, true).await
}

/// Disable a workflow
///
/// It stops matching events; what runs goes on. Needs `workflows:write`.
#[utoipa::path(post, path = "/api/v1/workflows/{id}/disable", tag = "workflows",
    responses((status = 200, body = WorkflowEnabled)))]
async fn disable_workflow(
    caller: Auth<need::Write>,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> ApiResult<Json<WorkflowEnabled>> {
    set_enabled(&state, &caller, id, false).await
}

/// A workflow's versions
///
/// Every version, oldest first. Needs `workflows:read`.
#[utoipa::path(get, path = "/api/v1/workflows/{id}/versions", tag = "workflows",
    responses((status = 200, body = VersionList)))]
async fn list_versions(
    caller: Auth<need::Read>,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> ApiResult<Json<VersionList>> {
    let current = state
        .store
        .workflow(&caller.scope, &id)
        .await?
        .map(|w| w.version);
    let versions = state.store.workflow_versions(&caller.scope, &id).await?;
    if versions.is_empty() {
        return Err(ApiError::not_found("workflow"));
    }
    let versions = versions
        .iter()
        .map(|v| VersionSummary {
            version: v.version,
            declared_version: v.definition.get("version").cloned(),
            name: v
                .definition
                .get("name")
                .and_then(|n| n.as_str())
                .map(str::to_owned),
            created_at: time_text(v.created_ms),
            current: Some(v.version) == current,
        })
        .collect();
    Ok(Json(VersionList {
        workflow_id: id,
        current_version: current,
        versions,
    }))
}

fn version_number(text: &str) -> ApiResult<i64> {
    text.parse::<i64>()
        .ok()
        .filter(|v| *v >= 1)
        .ok_or_else(|| ApiError::bad_request("a version is a positive integer"))
}

/// One version of a workflow
///
/// Needs `workflows:read`.
#[utoipa::path(get, path = "/api/v1/workflows/{id}/versions/{version}", tag = "workflows",
    responses((status = 200, body = Version)))]
async fn get_version(
    caller: Auth<need::Read>,
    State(state): State<Arc<AppState>>,
    Path((id, version)): Path<(String, String)>,
) -> ApiResult<Json<Version>> {
    let version = version_number(&version)?;
    let v = state
        .store
        .workflow_version(&caller.scope, &id, version)
        .await?
        .ok_or_else(|| ApiError::not_found("workflow version"))?;
    let current = state
        .store
        .workflow(&caller.scope, &id)
        .await?
        .map(|w| w.version);
    Ok(Json(Version {
        workflow_id: id,
        version: v.version,
        current: current == Some(v.version),
        created_at: time_text(v.created_ms),
        definition: definition(&v),
    }))
}

/// Make a version current (rollback)
///
/// New executions use it; running ones keep theirs. Needs `workflows:write`.
#[utoipa::path(post, path = "/api/v1/workflows/{id}/versions/{version}/activate", tag = "workflows",
    responses((status = 200, body = VersionActivated)))]
async fn activate_version(
    caller: Auth<need::Write>,
    State(state): State<Arc<AppState>>,
    Path((id, version)): Path<(String, String)>,
) -> ApiResult<Json<VersionActivated>> {
    let version = version_number(&version)?;
    let before = state
        .store
        .workflow(&caller.scope, &id)
        .await?
        .map(|w| w.version);
    let v = state
        .store
        .activate_version(&caller.scope, &id, version)
        .await
        .map_err(crate::missing("workflow version"))?;
    state.engine.refresh(&caller.scope).await?;
    audit(
        &state,
        &caller,
        "workflow.activate",
        &id,
        Some(json!({ "before": { "version": before }, "after": { "version": version } })),
    )
    .await?;
    Ok(Json(VersionActivated {
        workflow_id: id,
        version: v.version,
        enabled: v.enabled,
    }))
}

async fn start_by_hand(
    state: &AppState,
    caller: &Caller,
    id: String,
    request: ExecuteRequest,
) -> ApiResult<(StatusCode, Json<ExecutionStarted>)> {
    let input =
        serde_json::Value::Object(request.input.or(request.trigger_data).unwrap_or_default());
    let current = state
        .store
        .workflow(&caller.scope, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("workflow"))?;
    if !current.enabled {
        return Err(ApiError::conflict(
            "the workflow is disabled; enable it first",
        ));
    }
    // A manual or api trigger's input schema (docs/format.md §3.4) checks the input.
    let wf = state
        .engine
        .workflow(&caller.scope, &id, current.version)
        .await?;
    let schema = wf.triggers.iter().find_map(|t| match &t.kind {
        TriggerKind::Manual { input_schema } | TriggerKind::Api { input_schema } => {
            input_schema.clone()
        }
        _ => None,
    });
    if let Some(schema) = schema {
        crate::check_schema(
            &schema,
            &input,
            "$.input",
            "the input does not match the trigger's input_schema",
        )?;
    }
    let execution_id = state.engine.start(&caller.scope, &id, &input).await?;
    audit(
        state,
        caller,
        "workflow.execute",
        &id,
        Some(json!({ "execution_id": execution_id })),
    )
    .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(ExecutionStarted {
            execution_id,
            workflow_id: id,
            status: ExecutionStatus::Pending,
        }),
    ))
}

/// Start an execution by hand
///
/// With the trigger's `input` (checked against a manual or api trigger's `input_schema`);
/// 409 while the workflow is disabled. Needs `workflows:execute`.
#[utoipa::path(post, path = "/api/v1/workflows/{id}/execute", tag = "workflows",
    request_body(content = ExecuteRequest, description = "The input (optional)"),
    responses((status = 202, body = ExecutionStarted)))]
async fn execute_workflow(
    caller: Auth<need::Execute>,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    OptionalBody(request): OptionalBody<ExecuteRequest>,
) -> ApiResult<(StatusCode, Json<ExecutionStarted>)> {
    start_by_hand(&state, &caller, id, request).await
}

/// Start an execution by hand (`trigger_data`)
///
/// The same as `execute`, for clients that send `{"trigger_data": {...}}`. Needs
/// `workflows:execute`.
#[utoipa::path(post, path = "/api/v1/workflows/{id}/trigger", tag = "workflows",
    request_body(content = ExecuteRequest, description = "The input (optional)"),
    responses((status = 202, body = ExecutionStarted)))]
async fn trigger_workflow(
    caller: Auth<need::Execute>,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    OptionalBody(request): OptionalBody<ExecuteRequest>,
) -> ApiResult<(StatusCode, Json<ExecutionStarted>)> {
    start_by_hand(&state, &caller, id, request).await
}

// The older `/api/v1/workflows/definitions/...` paths: the same handlers, documented under
// the tag `aliases`.

/// Store a workflow (alias path)
#[utoipa::path(post, path = "/api/v1/workflows/definitions", tag = "aliases",
    request_body(content((WorkflowDefinition = "application/json"), (WorkflowDefinition = "application/yaml"))),
    responses((status = 201, body = StoredWorkflow)))]
async fn alias_post(
    caller: Auth<need::Write>,
    state: State<Arc<AppState>>,
    body: Document,
) -> ApiResult<(StatusCode, Json<StoredWorkflow>)> {
    post_workflow(caller, state, body).await
}

/// List workflows (alias path)
#[utoipa::path(get, path = "/api/v1/workflows/definitions", tag = "aliases", params(WorkflowQuery),
    responses((status = 200, body = WorkflowList)))]
async fn alias_list(
    caller: Auth<need::Read>,
    state: State<Arc<AppState>>,
    q: Query<HashMap<String, String>>,
) -> ApiResult<Json<WorkflowList>> {
    list_workflows(caller, state, q).await
}

/// A workflow (alias path)
#[utoipa::path(get, path = "/api/v1/workflows/definitions/{id}", tag = "aliases",
    responses((status = 200, body = WorkflowBody)))]
async fn alias_get(
    caller: Auth<need::Read>,
    state: State<Arc<AppState>>,
    id: Path<String>,
) -> ApiResult<Json<WorkflowBody>> {
    get_workflow(caller, state, id).await
}

/// A new version (alias path)
#[utoipa::path(put, path = "/api/v1/workflows/definitions/{id}", tag = "aliases",
    request_body(content((WorkflowDefinition = "application/json"), (WorkflowDefinition = "application/yaml"))),
    responses((status = 200, body = StoredWorkflow)))]
async fn alias_put(
    caller: Auth<need::Write>,
    state: State<Arc<AppState>>,
    id: Path<String>,
    request: axum::extract::Request,
) -> ApiResult<Json<StoredWorkflow>> {
    put_workflow(caller, state, id, request).await
}

/// Delete a workflow (alias path)
#[utoipa::path(delete, path = "/api/v1/workflows/definitions/{id}", tag = "aliases", params(DeleteQuery),
    responses((status = 200, body = WorkflowDeleted)))]
async fn alias_delete(
    caller: Auth<need::Write>,
    state: State<Arc<AppState>>,
    id: Path<String>,
    q: Query<HashMap<String, String>>,
) -> ApiResult<Json<WorkflowDeleted>> {
    delete_workflow(caller, state, id, q).await
}

/// Enable (alias path)
#[utoipa::path(post, path = "/api/v1/workflows/definitions/{id}/enable", tag = "aliases",
    responses((status = 200, body = WorkflowEnabled)))]
async fn alias_enable(
    caller: Auth<need::Write>,
    state: State<Arc<AppState>>,
    id: Path<String>,
) -> ApiResult<Json<WorkflowEnabled>> {
    enable_workflow(caller, state, id).await
}

/// Disable (alias path)
#[utoipa::path(post, path = "/api/v1/workflows/definitions/{id}/disable", tag = "aliases",
    responses((status = 200, body = WorkflowEnabled)))]
async fn alias_disable(
    caller: Auth<need::Write>,
    state: State<Arc<AppState>>,
    id: Path<String>,
) -> ApiResult<Json<WorkflowEnabled>> {
    disable_workflow(caller, state, id).await
}

/// Start by hand (alias path)
#[utoipa::path(post, path = "/api/v1/workflows/definitions/{id}/execute", tag = "aliases",
    request_body(content = ExecuteRequest, description = "The input (optional)"),
    responses((status = 202, body = ExecutionStarted)))]
async fn alias_execute(
    caller: Auth<need::Execute>,
    state: State<Arc<AppState>>,
    id: Path<String>,
    body: OptionalBody<ExecuteRequest>,
) -> ApiResult<(StatusCode, Json<ExecutionStarted>)> {
    execute_workflow(caller, state, id, body).await
}

/// Start by hand with trigger_data (alias path)
#[utoipa::path(post, path = "/api/v1/workflows/definitions/{id}/trigger", tag = "aliases",
    request_body(content = ExecuteRequest, description = "The input (optional)"),
    responses((status = 202, body = ExecutionStarted)))]
async fn alias_trigger(
    caller: Auth<need::Execute>,
    state: State<Arc<AppState>>,
    id: Path<String>,
    body: OptionalBody<ExecuteRequest>,
) -> ApiResult<(StatusCode, Json<ExecutionStarted>)> {
    trigger_workflow(caller, state, id, body).await
}
