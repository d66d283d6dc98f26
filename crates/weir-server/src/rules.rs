//! Rules: reusable conditions that workflows name with `{"rule": "id"}`.
//! Changing one takes effect for what is evaluated next; one still named by a workflow cannot
//! be deleted.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Map, Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use weir_api_types::rules::{
    ConditionTrace, Rule, RuleDefinition, RuleDeleted, RuleList, RuleTest, RuleTestRequest,
};
use weir_api_types::{Detail, ErrorCode};
use weir_core::Env;
use weir_core::template::RenderTrace;
use weir_store::{RuleRow, Scope};

use crate::access::{Auth, audit, need};
use crate::body::Document;
use crate::{ApiError, ApiResult, AppState, read_body, read_object, time_text, with_path_id};

pub(crate) fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(post_rule, list_rules))
        .routes(routes!(get_rule, put_rule, delete_rule))
        .routes(routes!(test_rule))
}

fn rule_of(r: &RuleRow) -> Rule {
    let d = &r.definition;
    let text = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| d.get(*k))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    Rule {
        rule_id: r.rule_id.clone(),
        name: text(&["name"]),
        description: text(&["description"]),
        rule_type: text(&["type", "rule_type"]),
        conditions: d
            .get("conditions")
            .or_else(|| d.get("condition"))
            .cloned()
            .unwrap_or(Value::Null),
        enabled: r.enabled,
        updated_at: time_text(r.updated_ms),
    }
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

/// Create a rule
///
/// A new rule (JSON or YAML); 409 when its id is taken (PUT replaces). Needs
/// `workflows:write`.
#[utoipa::path(post, path = "/api/v1/rules", tag = "rules",
    request_body(content((RuleDefinition = "application/json"), (RuleDefinition = "application/yaml"))),
    responses((status = 201, body = Rule)))]
async fn post_rule(
    caller: Auth<need::Write>,
    State(state): State<Arc<AppState>>,
    Document(definition): Document,
) -> ApiResult<(StatusCode, Json<Rule>)> {
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
    Ok((StatusCode::CREATED, Json(rule_of(&stored))))
}

/// Replace a rule
///
/// New evaluations use it; the body's id, when it names one, must be the path's. Needs
/// `workflows:write`.
#[utoipa::path(put, path = "/api/v1/rules/{id}", tag = "rules",
    request_body(content((RuleDefinition = "application/json"), (RuleDefinition = "application/yaml"))),
    responses((status = 200, body = Rule)))]
async fn put_rule(
    caller: Auth<need::Write>,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    request: axum::extract::Request,
) -> ApiResult<Json<Rule>> {
    // Another scope's rule is not there, whatever the body.
    let before = state
        .store
        .rule(&caller.scope, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("rule"))?;
    let (parts, body) = request.into_parts();
    let definition = with_path_id(
        read_body(&state, &parts.headers, body, true, false).await?,
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
    Ok(Json(rule_of(&stored)))
}

/// List rules
///
/// Every rule, by id. Needs `workflows:read`.
#[utoipa::path(get, path = "/api/v1/rules", tag = "rules",
    responses((status = 200, body = RuleList)))]
async fn list_rules(
    caller: Auth<need::Read>,
    State(state): State<Arc<AppState>>,
) -> ApiResult<Json<RuleList>> {
    let rules = state
        .store
        .rules(&caller.scope)
        .await?
        .iter()
        .map(rule_of)
        .collect();
    Ok(Json(RuleList { rules }))
}

/// A rule
///
/// Needs `workflows:read`.
#[utoipa::path(get, path = "/api/v1/rules/{id}", tag = "rules",
    responses((status = 200, body = Rule)))]
async fn get_rule(
    caller: Auth<need::Read>,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> ApiResult<Json<Rule>> {
    let rule = state
        .store
        .rule(&caller.scope, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("rule"))?;
    Ok(Json(rule_of(&rule)))
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

/// Delete a rule
///
/// Refused (409) while a workflow or another rule names it. Needs `workflows:write`.
#[utoipa::path(delete, path = "/api/v1/rules/{id}", tag = "rules",
    responses((status = 200, body = RuleDeleted)))]
async fn delete_rule(
    caller: Auth<need::Write>,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> ApiResult<Json<RuleDeleted>> {
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
    Ok(Json(RuleDeleted {
        rule_id: id,
        deleted: true,
    }))
}

/// A test request read field by field: `context`, an object when given.
fn test_request(map: Map<String, Value>) -> ApiResult<RuleTestRequest> {
    let context = match map.get("context") {
        None => None,
        Some(Value::Object(c)) => Some(c.clone()),
        Some(_) => return Err(ApiError::invalid_field("$.context", "a JSON object")),
    };
    Ok(RuleTestRequest { context })
}

/// Evaluate a rule against a context
///
/// Answers the result and a trace naming each comparison with the values compared. Needs
/// `workflows:read`.
#[utoipa::path(post, path = "/api/v1/rules/{id}/test", tag = "rules",
    request_body(content = RuleTestRequest, description = "The context (optional)"),
    responses((status = 200, body = RuleTest)))]
async fn test_rule(
    caller: Auth<need::Read>,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    request: axum::extract::Request,
) -> ApiResult<Json<RuleTest>> {
    let stored = state
        .store
        .rule(&caller.scope, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("rule"))?;
    let (parts, body) = request.into_parts();
    let request =
        test_request(read_object(&state, &parts.headers, body, &["context"], true).await?)?;
    let context = Value::Object(request.context.unwrap_or_default());
    let rule = weir_core::read_rule(&stored.definition).map_err(|_| ApiError::not_found("rule"))?;
    let rules = state.engine.scope_rules(&caller.scope);
    let env = Env::new(chrono::Utc::now(), &rules);
    let root = weir_core::context::payload_root(&context);
    let trace = rule
        .condition
        .eval_traced(&root, &env, &mut RenderTrace::default());
    Ok(Json(RuleTest {
        rule_id: id,
        enabled: stored.enabled,
        result: trace.result(),
        trace: ConditionTrace::from(&trace),
    }))
}
