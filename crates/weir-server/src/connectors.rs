//! Connectors over the API: a tenant's own action types over HTTP (see
//! `weir_actions::connector`). A stored connector's actions join the scope's catalog at once,
//! so workflows can use them (their configs checked against the connector's schemas).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use serde_json::{Value, json};
use weir_core::catalog::{ActionCatalog, BuiltinCatalog};
use weir_store::{Named, Scope};

use crate::access::{Perm, audit, authorize_for};
use crate::{ApiError, ApiResult, AppState, read_body, time};
use weir_api_types::{Detail, ErrorCode};

/// This module's routes. (Not yet typed: their operations come from the hand-written
/// document in `openapi.rs`.)
pub(crate) fn routes() -> utoipa_axum::router::OpenApiRouter<Arc<AppState>> {
    use axum::routing::{get, post};
    utoipa_axum::router::OpenApiRouter::new()
        .route(
            "/api/v1/connectors",
            post(post_connector).get(list_connectors),
        )
        .route(
            "/api/v1/connectors/{id}",
            get(get_connector)
                .put(put_connector)
                .delete(delete_connector),
        )
}

fn shown(row: &Value) -> Value {
    json!({
        "name": row["name"], "definition": row["definition"],
        "actions": weir_actions::connector::action_names(&row["definition"]),
        "created_at": time(row["created_ms"].as_i64()), "updated_at": time(row["updated_ms"].as_i64()),
    })
}

/// A definition from the body, checked (422 with every problem).
async fn definition(state: &AppState, headers: &HeaderMap, body: Body) -> ApiResult<Value> {
    let def = read_body(state, headers, body, true, false).await?;
    let problems = weir_actions::connector::check(&def);
    if problems.is_empty() {
        return Ok(def);
    }
    Err(ApiError::invalid(
        "the connector definition is invalid",
        problems
            .into_iter()
            .map(|(path, message)| Detail::new(path, message))
            .collect(),
    ))
}

/// Stored workflows whose steps use one of `names` (as a step type or an action).
async fn workflows_using(
    state: &AppState,
    scope: &Scope,
    names: &[String],
) -> ApiResult<Vec<String>> {
    fn uses(v: &Value, names: &[String]) -> bool {
        match v {
            Value::Object(m) => {
                ["type", "action"].iter().any(|k| {
                    m.get(*k)
                        .and_then(Value::as_str)
                        .is_some_and(|t| names.iter().any(|n| n == t))
                }) || m.values().any(|x| uses(x, names))
            }
            Value::Array(items) => items.iter().any(|x| uses(x, names)),
            _ => false,
        }
    }
    Ok(state
        .store
        .workflows(scope)
        .await?
        .into_iter()
        .filter(|w| uses(&w.definition["steps"], names))
        .map(|w| w.workflow_id)
        .collect())
}

/// 409 when another connector of the scope has an action of the same name, or when workflows
/// use actions that would be gone (and no built-in has their name).
async fn check_conflicts(
    state: &AppState,
    scope: &Scope,
    name: &str,
    new: Option<&Value>,
) -> ApiResult<()> {
    let mine: Vec<String> = new
        .map(weir_actions::connector::action_names)
        .unwrap_or_default();
    for other in state.store.named(Named::Connectors, scope).await? {
        if other["name"] == name {
            let builtin = BuiltinCatalog::new();
            let gone: Vec<String> = weir_actions::connector::action_names(&other["definition"])
                .into_iter()
                .filter(|a| !mine.contains(a) && builtin.get(a).is_none())
                .collect();
            let users = workflows_using(state, scope, &gone).await?;
            if !users.is_empty() {
                return Err(ApiError::new(
                    ErrorCode::Conflict,
                    format!(
                        "workflows use the actions {} that this would remove: {}",
                        gone.join(", "),
                        users.join(", ")
                    ),
                ));
            }
            continue;
        }
        let theirs = weir_actions::connector::action_names(&other["definition"]);
        if let Some(a) = mine.iter().find(|a| theirs.contains(a)) {
            return Err(ApiError::new(
                ErrorCode::Conflict,
                format!(
                    "the connector '{}' already has an action '{a}'",
                    other["name"].as_str().unwrap_or_default()
                ),
            ));
        }
    }
    Ok(())
}

/// `POST /api/v1/connectors`: registers a connector (409 when its name or an action name is
/// taken).
pub async fn post_connector(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Admin).await?;
    let def = definition(&state, &headers, body).await?;
    let name = def["name"].as_str().unwrap_or_default().to_owned();
    check_conflicts(&state, &caller.scope, &name, Some(&def)).await?;
    let (row, _) = state
        .store
        .put_named(Named::Connectors, &caller.scope, &name, &def, true)
        .await?;
    state.engine.refresh(&caller.scope).await?;
    audit(&state, &caller, "connector.create", &name, Some(def)).await?;
    Ok((StatusCode::CREATED, axum::Json(shown(&row))).into_response())
}

/// `PUT /api/v1/connectors/{name}`: replaces a connector's definition (404 when there is
/// none; 409 when workflows use an action it would drop).
pub async fn put_connector(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(name): Path<String>,
    body: Body,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Admin).await?;
    let before = state
        .store
        .named_one(Named::Connectors, &caller.scope, &name)
        .await?
        .ok_or_else(|| ApiError::not_found("connector"))?;
    let def = crate::with_path_id(definition(&state, &headers, body).await?, &name, "name")?;
    check_conflicts(&state, &caller.scope, &name, Some(&def)).await?;
    let (row, _) = state
        .store
        .put_named(Named::Connectors, &caller.scope, &name, &def, false)
        .await?;
    state.engine.refresh(&caller.scope).await?;
    audit(
        &state,
        &caller,
        "connector.update",
        &name,
        Some(json!({ "before": before["definition"], "after": def })),
    )
    .await?;
    Ok(axum::Json(shown(&row)).into_response())
}

/// `GET /api/v1/connectors`.
pub async fn list_connectors(State(state): State<Arc<AppState>>, headers: HeaderMap) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Read).await?;
    let list: Vec<Value> = state
        .store
        .named(Named::Connectors, &caller.scope)
        .await?
        .iter()
        .map(shown)
        .collect();
    Ok(axum::Json(json!({ "connectors": list })).into_response())
}

/// `GET /api/v1/connectors/{name}`.
pub async fn get_connector(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Read).await?;
    let row = state
        .store
        .named_one(Named::Connectors, &caller.scope, &name)
        .await?
        .ok_or_else(|| ApiError::not_found("connector"))?;
    Ok(axum::Json(shown(&row)).into_response())
}

/// `DELETE /api/v1/connectors/{name}`: 409 while workflows use its actions.
pub async fn delete_connector(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Admin).await?;
    if state
        .store
        .named_one(Named::Connectors, &caller.scope, &name)
        .await?
        .is_none()
    {
        return Err(ApiError::not_found("connector"));
    }
    check_conflicts(&state, &caller.scope, &name, None).await?;
    state
        .store
        .delete_named(Named::Connectors, &caller.scope, &name)
        .await
        .map_err(crate::missing("connector"))?;
    state.engine.refresh(&caller.scope).await?;
    audit(&state, &caller, "connector.delete", &name, None).await?;
    Ok(axum::Json(json!({ "name": name, "deleted": true })).into_response())
}
