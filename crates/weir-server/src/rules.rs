//! Rules (seed 000 §3.3): reusable conditions that workflows name with `{"rule": "id"}`.
//! Changing one takes effect for what is evaluated next; one still named by a workflow cannot
//! be deleted.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use serde_json::{Value, json};
use weir_core::Env;
use weir_core::template::RenderTrace;
use weir_store::{RuleRow, Scope};

use crate::access::{Perm, audit, authorize_for};
use crate::with_path_id;
use crate::{ApiError, ApiResult, AppState, read_body, read_object, time};
use weir_api_types::{Detail, ErrorCode};

/// This module's routes. (Not yet typed: their operations come from the hand-written
/// document in `openapi.rs`.)
pub(crate) fn routes() -> utoipa_axum::router::OpenApiRouter<Arc<AppState>> {
    use axum::routing::{get, post};
    utoipa_axum::router::OpenApiRouter::new()
        .route("/api/v1/rules", post(post_rule).get(list_rules))
        .route(
            "/api/v1/rules/{id}",
            get(get_rule).put(put_rule).delete(delete_rule),
        )
        .route("/api/v1/rules/{id}/test", post(test_rule))
}

fn rule_json(r: &RuleRow) -> Value {
    let d = &r.definition;
    json!({
        "rule_id": r.rule_id, "name": d.get("name"), "description": d.get("description"),
        "type": d.get("type").or_else(|| d.get("rule_type")),
        "conditions": d.get("conditions").or_else(|| d.get("condition")),
        "enabled": r.enabled, "updated_at": time(Some(r.updated_ms)),
    })
}

/// Checks a rule against the scope's other rules; 422 with every problem.
fn check(state: &AppState, scope: &Scope, definition: &Value) -> ApiResult<weir_core::env::Rule> {
    let rules = state.engine.scope_rules(scope);
    weir_core::validate_rule(definition, &rules).map_err(|diags| {
        ApiError::invalid(
            "the rule is not valid",
            diags
                .iter()
                .filter(|d| d.is_error())
                .map(Detail::from)
                .collect(),
        )
    })
}

fn enabled(definition: &Value) -> bool {
    definition
        .get("enabled")
        .and_then(Value::as_bool)
        .unwrap_or(true)
}

/// `POST /api/v1/rules` (JSON or YAML): a new rule; 409 when the id is taken (PUT replaces).
pub async fn post_rule(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Write).await?;
    let definition = read_body(&state, &headers, body, true, false).await?;
    let rule = check(&state, &caller.scope, &definition)?;
    if state.store.rule(&caller.scope, &rule.id).await?.is_some() {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            format!(
                "a rule '{}' exists; PUT /api/v1/rules/{} replaces it",
                rule.id, rule.id
            ),
        ));
    }
    state
        .store
        .put_rule(&caller.scope, &rule.id, &definition, enabled(&definition))
        .await?;
    state.engine.refresh(&caller.scope).await?;
    audit(
        &state,
        &caller,
        "rule.create",
        &rule.id,
        Some(json!({ "after": definition })),
    )
    .await?;
    let stored = state
        .store
        .rule(&caller.scope, &rule.id)
        .await?
        .ok_or_else(|| ApiError::not_found("rule"))?;
    Ok((StatusCode::CREATED, axum::Json(rule_json(&stored))).into_response())
}

/// `PUT /api/v1/rules/{id}`: replaces a rule; new evaluations use it.
pub async fn put_rule(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Body,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Write).await?;
    let before = state
        .store
        .rule(&caller.scope, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("rule"))?;
    let definition = with_path_id(
        read_body(&state, &headers, body, true, false).await?,
        &id,
        "rule_id",
    )?;
    check(&state, &caller.scope, &definition)?;
    state
        .store
        .put_rule(&caller.scope, &id, &definition, enabled(&definition))
        .await?;
    state.engine.refresh(&caller.scope).await?;
    audit(
        &state,
        &caller,
        "rule.update",
        &id,
        Some(json!({ "before": before.definition, "after": definition })),
    )
    .await?;
    let stored = state
        .store
        .rule(&caller.scope, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("rule"))?;
    Ok(axum::Json(rule_json(&stored)).into_response())
}

/// `GET /api/v1/rules`.
pub async fn list_rules(State(state): State<Arc<AppState>>, headers: HeaderMap) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Read).await?;
    let list: Vec<Value> = state
        .store
        .rules(&caller.scope)
        .await?
        .iter()
        .map(rule_json)
        .collect();
    Ok(axum::Json(json!({ "rules": list })).into_response())
}

/// `GET /api/v1/rules/{id}`.
pub async fn get_rule(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Read).await?;
    let rule = state
        .store
        .rule(&caller.scope, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("rule"))?;
    Ok(axum::Json(rule_json(&rule)).into_response())
}

/// Whether a definition names the rule anywhere (`{"rule": id}`).
fn names_rule(v: &Value, id: &str) -> bool {
    match v {
        Value::Object(map) => {
            map.get("rule").and_then(Value::as_str) == Some(id)
                || map.values().any(|x| names_rule(x, id))
        }
        Value::Array(list) => list.iter().any(|x| names_rule(x, id)),
        _ => false,
    }
}

/// `DELETE /api/v1/rules/{id}`: 409 while a workflow or another rule names it.
pub async fn delete_rule(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Write).await?;
    let before = state
        .store
        .rule(&caller.scope, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("rule"))?;
    let mut users: Vec<String> = state
        .store
        .workflows(&caller.scope)
        .await?
        .into_iter()
        .filter(|w| names_rule(&w.definition, &id))
        .map(|w| format!("workflow '{}'", w.workflow_id))
        .collect();
    users.extend(
        state
            .store
            .rules(&caller.scope)
            .await?
            .into_iter()
            .filter(|r| r.rule_id != id && names_rule(&r.definition, &id))
            .map(|r| format!("rule '{}'", r.rule_id)),
    );
    if !users.is_empty() {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            format!("the rule is in use by {}", users.join(", ")),
        ));
    }
    state
        .store
        .delete_rule(&caller.scope, &id)
        .await
        .map_err(crate::missing("rule"))?;
    state.engine.refresh(&caller.scope).await?;
    audit(
        &state,
        &caller,
        "rule.delete",
        &id,
        Some(json!({ "before": before.definition })),
    )
    .await?;
    Ok(axum::Json(json!({ "rule_id": id, "deleted": true })).into_response())
}

/// `POST /api/v1/rules/{id}/test` `{"context": {...}}`: evaluates the rule against a context
/// and answers `{"result", "trace"}`, the trace naming each comparison with the values
/// compared.
pub async fn test_rule(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Body,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Read).await?;
    let stored = state
        .store
        .rule(&caller.scope, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("rule"))?;
    let map = read_object(&state, &headers, body, &["context"], true).await?;
    let context = match map.get("context") {
        None => json!({}),
        Some(v @ Value::Object(_)) => v.clone(),
        Some(_) => return Err(ApiError::invalid_field("$.context", "a JSON object")),
    };
    let rule = weir_core::read_rule(&stored.definition).map_err(|_| ApiError::not_found("rule"))?;
    let rules = state.engine.scope_rules(&caller.scope);
    let env = Env::new(chrono::Utc::now(), &rules);
    let root = weir_core::context::payload_root(&context);
    let trace = rule
        .condition
        .eval_traced(&root, &env, &mut RenderTrace::default());
    Ok(axum::Json(json!({
        "rule_id": id, "enabled": stored.enabled, "result": trace.result(), "trace": trace,
    }))
    .into_response())
}
