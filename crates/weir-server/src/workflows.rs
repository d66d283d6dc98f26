//! Workflow definitions: create, list, get, update (a new immutable version), delete, enable
//! and disable, versions and rollback, and the manual trigger. Seed 002's
//! `/api/v1/workflows/definitions/...` paths reach the same handlers.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use serde_json::{Value, json};
use weir_core::Workflow;
use weir_core::model::TriggerKind;
use weir_store::{Scope, WorkflowVersion};

use crate::access::{Perm, audit, authorize_for};
use crate::params::Params;
use crate::with_path_id;
use crate::{ApiError, ApiResult, AppState, object_field, read_document, read_object, time};

fn not_found(e: weir_store::Error) -> ApiError {
    match e {
        weir_store::Error::NotFound => ApiError::not_found("workflow"),
        other => other.into(),
    }
}

/// A workflow's summary, from its parsed current version.
fn summary(v: &WorkflowVersion, wf: &Workflow) -> Value {
    let events: Vec<&str> = wf
        .triggers
        .iter()
        .filter_map(|t| match &t.kind {
            TriggerKind::Event { event, .. } => Some(event.as_str()),
            _ => None,
        })
        .collect();
    json!({
        "workflow_id": v.workflow_id, "id": v.workflow_id, "name": wf.name, "description": wf.description,
        "version": v.version, "enabled": v.enabled, "tags": wf.tags, "trigger_events": events,
        "updated_at": time(Some(v.created_ms)),
    })
}

async fn store_version(
    state: &AppState,
    scope: &Scope,
    definition: &Value,
) -> ApiResult<(WorkflowVersion, Vec<Value>)> {
    let (stored, warnings) = state.engine.put_workflow(scope, definition).await?;
    let warnings = warnings
        .iter()
        .map(|d| json!({ "path": d.path, "message": d.message, "code": d.code }))
        .collect();
    Ok((stored, warnings))
}

fn stored_json(stored: &WorkflowVersion, warnings: Vec<Value>) -> Value {
    json!({
        "workflow_id": stored.workflow_id, "id": stored.workflow_id,
        "name": stored.definition.get("name"), "version": stored.version, "enabled": stored.enabled,
        "status": "published", "created_at": time(Some(stored.created_ms)), "warnings": warnings,
    })
}

/// `POST /api/v1/workflows` (JSON or YAML): stores a workflow, or a new version of one.
pub async fn post_workflow(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Write).await?;
    let definition = read_document(&headers, body, true).await?;
    let before = match definition
        .get("workflow_id")
        .or_else(|| definition.get("id"))
        .and_then(Value::as_str)
    {
        // An id that cannot be one is reported by validation below.
        Some(id) if weir_core::valid_id(id) => state
            .store
            .workflow(&caller.scope, id)
            .await?
            .map(|w| w.version),
        _ => None,
    };
    let (stored, warnings) = store_version(&state, &caller.scope, &definition).await?;
    audit(
        &state,
        &caller,
        "workflow.put",
        &stored.workflow_id,
        Some(json!({ "before": { "version": before }, "after": { "version": stored.version } })),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(stored_json(&stored, warnings)),
    )
        .into_response())
}

/// `PUT /api/v1/workflows/{id}`: a new immutable version of an existing workflow.
pub async fn put_workflow(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Body,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Write).await?;
    let before = state
        .store
        .workflow(&caller.scope, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("workflow"))?;
    let definition = with_path_id(
        read_document(&headers, body, true).await?,
        &id,
        "workflow_id",
    )?;
    let (stored, warnings) = store_version(&state, &caller.scope, &definition).await?;
    audit(
        &state,
        &caller,
        "workflow.update",
        &id,
        Some(json!({ "before": { "version": before.version }, "after": { "version": stored.version } })),
    )
    .await?;
    Ok(axum::Json(stored_json(&stored, warnings)).into_response())
}

/// `GET /api/v1/workflows`: filters `enabled`, `tag`, `event` (a trigger's event type), `q`
/// (text in the id, name or description); keyset pages by `cursor` (the `next_cursor` of the
/// page before), or `offset`; `limit` up to 500.
pub async fn list_workflows(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Read).await?;
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
    let page: Vec<Value> = out.into_iter().skip(offset).take(limit + 1).collect();
    let more = page.len() > limit;
    let page: Vec<Value> = page.into_iter().take(limit).collect();
    let next = more
        .then(|| page.last().map(|w| w["workflow_id"].clone()))
        .flatten();
    Ok(axum::Json(json!({ "workflows": page, "next_cursor": next })).into_response())
}

/// `GET /api/v1/workflows/{id}`: the current version with its definition.
pub async fn get_workflow(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Read).await?;
    let v = state
        .store
        .workflow(&caller.scope, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("workflow"))?;
    let wf = state.engine.workflow(&caller.scope, &id, v.version).await?;
    let mut out = summary(&v, &wf);
    out["definition"] = v.definition;
    Ok(axum::Json(out).into_response())
}

/// `DELETE /api/v1/workflows/{id}[?force=true]`: refused while executions run (409), unless
/// forced, which cancels them (seed 002 EC-2).
pub async fn delete_workflow(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Write).await?;
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
        Some(json!({ "force": force, "cancelled": cancelled })),
    )
    .await?;
    Ok(
        axum::Json(
            json!({ "workflow_id": id, "deleted": true, "cancelled_executions": cancelled }),
        )
        .into_response(),
    )
}

async fn set_enabled(state: &AppState, headers: &HeaderMap, id: &str, enabled: bool) -> ApiResult {
    let caller = authorize_for(state, headers, Perm::Write).await?;
    let before = state
        .store
        .workflow(&caller.scope, id)
        .await?
        .ok_or_else(|| ApiError::not_found("workflow"))?;
    state
        .store
        .set_workflow_enabled(&caller.scope, id, enabled)
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
        &caller,
        action,
        id,
        Some(json!({ "before": { "enabled": before.enabled }, "after": { "enabled": enabled } })),
    )
    .await?;
    Ok(axum::Json(json!({ "workflow_id": id, "enabled": enabled })).into_response())
}

/// `POST /api/v1/workflows/{id}/enable`.
pub async fn enable_workflow(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult {
    set_enabled(&state, &headers, &id, true).await
}

/// `POST /api/v1/workflows/{id}/disable`: it stops matching events; what runs goes on.
pub async fn disable_workflow(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult {
    set_enabled(&state, &headers, &id, false).await
}

/// `GET /api/v1/workflows/{id}/versions`: every version, oldest first.
pub async fn list_versions(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Read).await?;
    let current = state
        .store
        .workflow(&caller.scope, &id)
        .await?
        .map(|w| w.version);
    let versions = state.store.workflow_versions(&caller.scope, &id).await?;
    if versions.is_empty() {
        return Err(ApiError::not_found("workflow"));
    }
    let list: Vec<Value> = versions
        .iter()
        .map(|v| {
            json!({ "version": v.version, "declared_version": v.definition.get("version"),
                    "name": v.definition.get("name"), "created_at": time(Some(v.created_ms)),
                    "current": Some(v.version) == current })
        })
        .collect();
    Ok(
        axum::Json(json!({ "workflow_id": id, "current_version": current, "versions": list }))
            .into_response(),
    )
}

fn version_number(text: &str) -> ApiResult<i64> {
    text.parse::<i64>()
        .ok()
        .filter(|v| *v >= 1)
        .ok_or_else(|| ApiError::bad_request("a version is a positive integer"))
}

/// `GET /api/v1/workflows/{id}/versions/{version}`.
pub async fn get_version(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path((id, version)): Path<(String, String)>,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Read).await?;
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
    Ok(axum::Json(json!({
        "workflow_id": id, "version": v.version, "current": current == Some(v.version),
        "created_at": time(Some(v.created_ms)), "definition": v.definition,
    }))
    .into_response())
}

/// `POST /api/v1/workflows/{id}/versions/{version}/activate`: makes an older (or newer)
/// version current; new executions use it, running ones keep theirs.
pub async fn activate_version(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path((id, version)): Path<(String, String)>,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Write).await?;
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
    Ok(
        axum::Json(json!({ "workflow_id": id, "version": v.version, "enabled": v.enabled }))
            .into_response(),
    )
}

/// `POST /api/v1/workflows/{id}/execute` `{"input": {...}}` (seed 002's `/trigger` with
/// `{"trigger_data": {...}}` too): starts an execution by hand; 202 with its id.
pub async fn execute_workflow(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Body,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Execute).await?;
    let map = read_object(&headers, body, &["input", "trigger_data"], true).await?;
    let input = object_field(&map, &["input", "trigger_data"])?;
    let current = state
        .store
        .workflow(&caller.scope, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("workflow"))?;
    if !current.enabled {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            "the workflow is disabled; enable it first",
        ));
    }
    // A manual or api trigger's input schema (docs/format.md §3.4) checks the input.
    let wf = state
        .engine
        .workflow(&caller.scope, &id, current.version)
        .await?;
    let schema = wf.triggers.iter().find_map(|t| match &t.kind {
        weir_core::model::TriggerKind::Manual { input_schema }
        | weir_core::model::TriggerKind::Api { input_schema } => input_schema.clone(),
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
        &state,
        &caller,
        "workflow.execute",
        &id,
        Some(json!({ "execution_id": execution_id })),
    )
    .await?;
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(json!({ "execution_id": execution_id, "workflow_id": id, "status": "pending" })),
    )
        .into_response())
}
