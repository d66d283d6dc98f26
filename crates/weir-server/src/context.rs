//! Context enrichment over the API (seed 000 §6.1): a tenant's data sources
//! (`/api/v1/data-sources`), an entity's context (`GET /api/v1/context/{entity_type}/{id}`) and
//! refreshing the cache (`POST /api/v1/context/refresh`).

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use serde_json::{Value, json};
use weir_engine::context::DataSource;
use weir_store::Named;

use crate::access::{Perm, audit, authorize_for};
use crate::params::Params;
use crate::{ApiError, ApiResult, AppState, read_body, time};
use weir_api_types::Detail;

/// This module's routes. (Not yet typed: their operations come from the hand-written
/// document in `openapi.rs`.)
pub(crate) fn routes() -> utoipa_axum::router::OpenApiRouter<Arc<AppState>> {
    use axum::routing::{get, post};
    utoipa_axum::router::OpenApiRouter::new()
        .route("/api/v1/data-sources", get(list_sources))
        .route(
            "/api/v1/data-sources/{id}",
            get(get_source).put(put_source).delete(delete_source),
        )
        .route("/api/v1/context/refresh", post(refresh))
        .route("/api/v1/context/{type}/{id}", get(entity))
}

fn shown(row: &Value) -> Value {
    json!({
        "name": row["name"], "definition": row["definition"],
        "created_at": time(row["created_ms"].as_i64()), "updated_at": time(row["updated_ms"].as_i64()),
    })
}

/// `PUT /api/v1/data-sources/{name}`: registers or replaces a data source (`created` says
/// which; 422 with every problem).
pub async fn put_source(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(name): Path<String>,
    body: Body,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Admin).await?;
    let def = crate::with_path_id(
        read_body(&state, &headers, body, true, false).await?,
        &name,
        "name",
    )?;
    let mut problems = DataSource::read(&name, &def).err().unwrap_or_default();
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
    let mut answer = shown(&row);
    answer["created"] = json!(created);
    Ok(axum::Json(answer).into_response())
}

/// `GET /api/v1/data-sources`.
pub async fn list_sources(State(state): State<Arc<AppState>>, headers: HeaderMap) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Read).await?;
    let list: Vec<Value> = state
        .store
        .named(Named::DataSources, &caller.scope)
        .await?
        .iter()
        .map(shown)
        .collect();
    Ok(axum::Json(json!({ "data_sources": list })).into_response())
}

/// `GET /api/v1/data-sources/{name}`.
pub async fn get_source(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Read).await?;
    let row = state
        .store
        .named_one(Named::DataSources, &caller.scope, &name)
        .await?
        .ok_or_else(|| ApiError::not_found("data source"))?;
    Ok(axum::Json(shown(&row)).into_response())
}

/// `DELETE /api/v1/data-sources/{name}`: runs that load it afterwards load nothing for it.
pub async fn delete_source(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Admin).await?;
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
    Ok(axum::Json(json!({ "name": name, "deleted": true })).into_response())
}

/// `GET /api/v1/context/{entity_type}/{id}`: the entity's data from every source of its type,
/// through the cache (`?refresh=true` loads it again).
pub async fn entity(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path((entity_type, id)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Read).await?;
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
    Ok(axum::Json(found).into_response())
}

/// `POST /api/v1/context/refresh` `{"entity_type", "entity_id"?, "source"?}`: drops cached
/// context; with an `entity_id`, loads it again and answers it.
pub async fn refresh(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Execute).await?;
    let body = read_body(&state, &headers, body, true, false).await?;
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
    let dropped = state
        .store
        .uncache_context(
            &caller.scope,
            Some(&entity_type),
            entity_id.as_deref(),
            source.as_deref(),
        )
        .await?;
    let mut answer = json!({ "entity_type": entity_type, "dropped": dropped });
    if let Some(id) = &entity_id
        && let Some(fresh) = state
            .engine
            .entity_context(&caller.scope, &entity_type, id, true)
            .await?
    {
        answer["context"] = fresh;
    }
    Ok(axum::Json(answer).into_response())
}
