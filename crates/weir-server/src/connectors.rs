//! Connectors over the API: a tenant's own action types over HTTP (see
//! `weir_actions::connector`). A stored connector's actions join the scope's catalog at once,
//! so workflows can use them (their configs checked against the connector's schemas).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use weir_api_types::connectors::{Connector, ConnectorDefinition, ConnectorDeleted, ConnectorList};
use weir_api_types::{Detail, ErrorCode};
use weir_core::catalog::{ActionCatalog, BuiltinCatalog};
use weir_store::{Named, Scope};

use crate::access::{Auth, audit, need};
use crate::body::Document;
use crate::{ApiError, ApiResult, AppState, read_body, time_text, with_path_id};

pub(crate) fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(post_connector, list_connectors))
        .routes(routes!(get_connector, put_connector, delete_connector))
}

/// A stored connector's row.
#[derive(Deserialize)]
struct Row {
    name: String,
    definition: Value,
    created_ms: i64,
    updated_ms: i64,
}

fn connector_of(row: Value) -> ApiResult<Connector> {
    let r: Row = serde_json::from_value(row).map_err(|e| {
        tracing::error!("internal error: a stored connector that does not read: {e}");
        ApiError::internal()
    })?;
    Ok(Connector {
        name: r.name,
        actions: weir_actions::connector::action_names(&r.definition),
        definition: ConnectorDefinition(r.definition.as_object().cloned().unwrap_or_default()),
        created_at: time_text(r.created_ms),
        updated_at: time_text(r.updated_ms),
    })
}

/// A definition, checked (422 with every problem).
fn checked(def: Value) -> ApiResult<Value> {
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

/// Register a connector
///
/// Action types over HTTP: a base URL, auth, and per action a config schema, a request
/// template and an output mapping (JSON or YAML); 409 when its name or an action's name is
/// taken. Needs `admin`.
#[utoipa::path(post, path = "/api/v1/connectors", tag = "connectors",
    request_body(content((ConnectorDefinition = "application/json"), (ConnectorDefinition = "application/yaml"))),
    responses((status = 201, body = Connector)))]
async fn post_connector(
    caller: Auth<need::Admin>,
    State(state): State<Arc<AppState>>,
    Document(def): Document,
) -> ApiResult<(StatusCode, Json<Connector>)> {
    let def = checked(def)?;
    let name = def["name"].as_str().unwrap_or_default().to_owned();
    check_conflicts(&state, &caller.scope, &name, Some(&def)).await?;
    let (row, _) = state
        .store
        .put_named(Named::Connectors, &caller.scope, &name, &def, true)
        .await?;
    state.engine.refresh(&caller.scope).await?;
    audit(&state, &caller, "connector.create", &name, Some(def)).await?;
    Ok((StatusCode::CREATED, Json(connector_of(row)?)))
}

/// Replace a connector's definition
///
/// 404 when there is none; 409 when workflows use an action it would drop. Needs `admin`.
#[utoipa::path(put, path = "/api/v1/connectors/{id}", tag = "connectors",
    request_body(content((ConnectorDefinition = "application/json"), (ConnectorDefinition = "application/yaml"))),
    responses((status = 200, body = Connector)))]
async fn put_connector(
    caller: Auth<need::Admin>,
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    request: axum::extract::Request,
) -> ApiResult<Json<Connector>> {
    let before = state
        .store
        .named_one(Named::Connectors, &caller.scope, &name)
        .await?
        .ok_or_else(|| ApiError::not_found("connector"))?;
    let (parts, body) = request.into_parts();
    let def = with_path_id(
        checked(read_body(&state, &parts.headers, body, true, false).await?)?,
        &name,
        "name",
    )?;
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
    Ok(Json(connector_of(row)?))
}

/// List connectors
///
/// By name. Needs `workflows:read`.
#[utoipa::path(get, path = "/api/v1/connectors", tag = "connectors",
    responses((status = 200, body = ConnectorList)))]
async fn list_connectors(
    caller: Auth<need::Read>,
    State(state): State<Arc<AppState>>,
) -> ApiResult<Json<ConnectorList>> {
    let connectors = state
        .store
        .named(Named::Connectors, &caller.scope)
        .await?
        .into_iter()
        .map(connector_of)
        .collect::<ApiResult<_>>()?;
    Ok(Json(ConnectorList { connectors }))
}

/// A connector
///
/// Needs `workflows:read`.
#[utoipa::path(get, path = "/api/v1/connectors/{id}", tag = "connectors",
    responses((status = 200, body = Connector)))]
async fn get_connector(
    caller: Auth<need::Read>,
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> ApiResult<Json<Connector>> {
    let row = state
        .store
        .named_one(Named::Connectors, &caller.scope, &name)
        .await?
        .ok_or_else(|| ApiError::not_found("connector"))?;
    Ok(Json(connector_of(row)?))
}

/// Delete a connector
///
/// Refused (409) while workflows use its actions. Needs `admin`.
#[utoipa::path(delete, path = "/api/v1/connectors/{id}", tag = "connectors",
    responses((status = 200, body = ConnectorDeleted)))]
async fn delete_connector(
    caller: Auth<need::Admin>,
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> ApiResult<Json<ConnectorDeleted>> {
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
    Ok(Json(ConnectorDeleted {
        name,
        deleted: true,
    }))
}
