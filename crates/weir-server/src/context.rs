//! Context enrichment over the API: a tenant's data sources (`/api/v1/data-sources`), an
//! entity's context (`GET /api/v1/context/{entity_type}/{id}`) and refreshing the cache
//! (`POST /api/v1/context/refresh`).

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use weir_api_types::Detail;
use weir_api_types::context::{
    ContextQuery, ContextRefresh, ContextRefreshed, DataSource, DataSourceDefinition,
    DataSourceDeleted, DataSourceList, DataSourceStored, EntityContext,
};
use weir_engine::context::DataSource as Source;
use weir_store::Named;

use crate::access::{Auth, Perm, audit, need};
use crate::params::Params;
use crate::{ApiError, ApiResult, AppState, read_body, time_text, with_path_id};

pub(crate) fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(list_sources))
        .routes(routes!(get_source, put_source, delete_source))
        .routes(routes!(refresh))
        .routes(routes!(entity))
}

/// A stored data source's row.
#[derive(Deserialize)]
struct Row {
    name: String,
    definition: Map<String, Value>,
    created_ms: i64,
    updated_ms: i64,
}

fn source_of(row: Value) -> ApiResult<DataSource> {
    let r: Row = serde_json::from_value(row).map_err(|e| {
        tracing::error!("internal error: a stored data source that does not read: {e}");
        ApiError::internal()
    })?;
    Ok(DataSource {
        name: r.name,
        definition: DataSourceDefinition(r.definition),
        created_at: time_text(r.created_ms),
        updated_at: time_text(r.updated_ms),
    })
}

/// An entity's context as the engine gave it.
fn context_of(found: Value) -> ApiResult<EntityContext> {
    serde_json::from_value(found).map_err(|e| {
        tracing::error!("internal error: an entity's context that does not read: {e}");
        ApiError::internal()
    })
}

/// Register or replace a data source
///
/// An entity's data, loaded through an action or from the records, cached for a TTL (JSON or
/// YAML); `created` says whether it is new; 422 with every problem. Needs `admin`.
#[utoipa::path(put, path = "/api/v1/data-sources/{id}", tag = "context",
    request_body(content((DataSourceDefinition = "application/json"), (DataSourceDefinition = "application/yaml"))),
    responses((status = 200, body = DataSourceStored)))]
async fn put_source(
    caller: Auth<need::Admin>,
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    request: axum::extract::Request,
) -> ApiResult<Json<DataSourceStored>> {
    let (parts, body) = request.into_parts();
    let def = with_path_id(
        read_body(&state, &parts.headers, body, true, false).await?,
        &name,
        "name",
    )?;
    let mut problems = Source::read(&name, &def).err().unwrap_or_default();
    if let Some(action) = def.get("action").and_then(Value::as_str)
        && !state.engine.loads_with(&caller.scope, action)
    {
        problems.push((
            "$.action".into(),
            format!(
                "'{action}' is neither an action of this scope's connectors nor one of {}",
                weir_engine::context::LOADING_ACTIONS.join(", ")
            ),
        ));
    }
    if !problems.is_empty() {
        return Err(ApiError::invalid(
            "the data source definition is invalid",
            problems
                .into_iter()
                .map(|(path, message)| Detail::new(path, message))
                .collect(),
        ));
    }
    let (row, created) = state
        .store
        .put_named(Named::DataSources, &caller.scope, &name, &def, false)
        .await?;
    // What the old definition loaded is not what this one would.
    state
        .store
        .uncache_context(&caller.scope, None, None, Some(&name))
        .await?;
    state.engine.refresh(&caller.scope).await?;
    audit(
        &state,
        &caller,
        if created {
            "data_source.create"
        } else {
            "data_source.update"
        },
        &name,
        Some(def),
    )
    .await?;
    Ok(Json(DataSourceStored {
        source: source_of(row)?,
        created,
    }))
}

/// List data sources
///
/// By name. Needs `workflows:read`.
#[utoipa::path(get, path = "/api/v1/data-sources", tag = "context",
    responses((status = 200, body = DataSourceList)))]
async fn list_sources(
    caller: Auth<need::Read>,
    State(state): State<Arc<AppState>>,
) -> ApiResult<Json<DataSourceList>> {
    let data_sources = state
        .store
        .named(Named::DataSources, &caller.scope)
        .await?
        .into_iter()
        .map(source_of)
        .collect::<ApiResult<_>>()?;
    Ok(Json(DataSourceList { data_sources }))
}

/// A data source
///
/// Needs `workflows:read`.
#[utoipa::path(get, path = "/api/v1/data-sources/{id}", tag = "context",
    responses((status = 200, body = DataSource)))]
async fn get_source(
    caller: Auth<need::Read>,
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> ApiResult<Json<DataSource>> {
    let row = state
        .store
        .named_one(Named::DataSources, &caller.scope, &name)
        .await?
        .ok_or_else(|| ApiError::not_found("data source"))?;
    Ok(Json(source_of(row)?))
}

/// Delete a data source
///
/// Runs that load it afterwards load nothing for it; what it cached is dropped. Needs
/// `admin`.
#[utoipa::path(delete, path = "/api/v1/data-sources/{id}", tag = "context",
    responses((status = 200, body = DataSourceDeleted)))]
async fn delete_source(
    caller: Auth<need::Admin>,
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> ApiResult<Json<DataSourceDeleted>> {
    state
        .store
        .delete_named(Named::DataSources, &caller.scope, &name)
        .await
        .map_err(crate::missing("data source"))?;
    state
        .store
        .uncache_context(&caller.scope, None, None, Some(&name))
        .await?;
    state.engine.refresh(&caller.scope).await?;
    audit(&state, &caller, "data_source.delete", &name, None).await?;
    Ok(Json(DataSourceDeleted {
        name,
        deleted: true,
    }))
}

/// An entity's context
///
/// The data of every source of its type, through the cache (`refresh=true` loads it again,
/// which needs `workflows:execute`). Needs `workflows:read`.
#[utoipa::path(get, path = "/api/v1/context/{type}/{id}", tag = "context", params(ContextQuery),
    responses((status = 200, body = EntityContext)))]
async fn entity(
    caller: Auth<need::Read>,
    State(state): State<Arc<AppState>>,
    Path((entity_type, id)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult<Json<EntityContext>> {
    let params = Params::new(query, &["refresh"])?;
    let refresh = match params.text("refresh").as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "the query parameter 'refresh' is true or false, found '{other}'"
            )));
        }
    };
    // Loading again calls the sources: that takes the right to run things.
    if refresh {
        caller.require(Perm::Execute)?;
    }
    let found = state
        .engine
        .entity_context(&caller.scope, &entity_type, &id, refresh)
        .await?
        .ok_or_else(|| ApiError::not_found("data source for this entity type"))?;
    Ok(Json(context_of(found)?))
}

/// A refresh request read field by field, so that each wrong field is named as before.
fn refresh_request(body: &Value) -> ApiResult<ContextRefresh> {
    let text = |k: &str| -> ApiResult<Option<String>> {
        match body.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if !s.is_empty() && s.len() <= 255 => Ok(Some(s.clone())),
            Some(_) => Err(ApiError::invalid(
                "the refresh request is invalid",
                vec![Detail::new(
                    format!("$.{k}"),
                    format!("'{k}' is a non-empty string of at most 255 characters"),
                )],
            )),
        }
    };
    if let Some(k) = body.as_object().and_then(|m| {
        m.keys()
            .find(|k| !["entity_type", "entity_id", "source"].contains(&k.as_str()))
    }) {
        return Err(ApiError::invalid(
            "the refresh request is invalid",
            vec![Detail::new(
                format!("$.{k}"),
                "unknown field; known: entity_type, entity_id, source",
            )],
        ));
    }
    let entity_type = text("entity_type")?.ok_or_else(|| {
        ApiError::invalid(
            "the refresh request is invalid",
            vec![Detail::new("$.entity_type", "'entity_type' is required")],
        )
    })?;
    let (entity_id, source) = (text("entity_id")?, text("source")?);
    Ok(ContextRefresh {
        entity_type,
        entity_id,
        source,
    })
}

/// Drop cached context
///
/// Of an entity type, one entity or one source; with an `entity_id`, loads it again and
/// answers it. Needs `workflows:execute`.
#[utoipa::path(post, path = "/api/v1/context/refresh", tag = "context",
    request_body(content((ContextRefresh = "application/json"), (ContextRefresh = "application/yaml"))),
    responses((status = 200, body = ContextRefreshed)))]
async fn refresh(
    caller: Auth<need::Execute>,
    State(state): State<Arc<AppState>>,
    request: axum::extract::Request,
) -> ApiResult<Json<ContextRefreshed>> {
    let (parts, body) = request.into_parts();
    let ContextRefresh {
        entity_type,
        entity_id,
        source,
    } = refresh_request(&read_body(&state, &parts.headers, body, true, false).await?)?;
    let dropped = state
        .store
        .uncache_context(
            &caller.scope,
            Some(&entity_type),
            entity_id.as_deref(),
            source.as_deref(),
        )
        .await?;
    let mut context = None;
    if let Some(id) = &entity_id
        && let Some(fresh) = state
            .engine
            .entity_context(&caller.scope, &entity_type, id, true)
            .await?
    {
        context = Some(context_of(fresh)?);
    }
    Ok(Json(ContextRefreshed {
        entity_type,
        dropped,
        context,
    }))
}
