//! Secrets over the API, write-only: a value goes in (sealed at once with the master key) and
//! never comes out; lists show names, where each may go, and dates. Workflows use them as
//! `{{secrets.NAME}}`; a secret's `allowed_hosts` and `allowed_actions` narrow which requests
//! and actions receive it (the engine enforces them; code receives one only when named).
//! The master key is `WEIR_MASTER_KEY` (64 hex digits) or a key file made (0600) in the data
//! folder on first start; a check value in the database stops a node with another key.

use std::path::Path as FsPath;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Map, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use weir_api_types::secrets::{Secret, SecretDeleted, SecretList, SecretRequest, SecretUpdate};
use weir_api_types::{Detail, ErrorCode};
use weir_engine::Vault;
use weir_engine::secrets::{HostPattern, MIN_SECRET_LEN};
use weir_store::{Scope, SecretPolicy, SecretRow, Store};

use crate::access::{Auth, Caller, audit, need, required};
use crate::{ApiError, ApiResult, AppState, read_object, time_text};

pub(crate) fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(post_secret, list_secrets))
        .routes(routes!(get_secret, put_secret, delete_secret))
}

/// The largest secret value, in bytes.
const MAX_SECRET_BYTES: usize = 64 * 1024;

/// The file the master key is kept in when `WEIR_MASTER_KEY` is not set.
pub const MASTER_KEY_FILE: &str = "master-key";

fn parse_key(text: &str) -> Result<[u8; 32], String> {
    let bytes = hex::decode(text.trim()).map_err(|_| "not hexadecimal".to_owned())?;
    bytes
        .try_into()
        .map_err(|_| "not 64 hex digits (32 bytes)".to_owned())
}

/// The master key: `given` (from `WEIR_MASTER_KEY`), else the data folder's key file, made now
/// when there is none. Then checks it against the database's check value (stored on first
/// use), so a node with another key refuses to start instead of failing to open secrets.
pub async fn open_vault(
    given: Option<&str>,
    data_dir: &FsPath,
    store: &dyn Store,
) -> Result<Vault, String> {
    let key = match given {
        Some(text) => parse_key(text).map_err(|e| format!("WEIR_MASTER_KEY is {e}"))?,
        None => {
            let file = data_dir.join(MASTER_KEY_FILE);
            match std::fs::read_to_string(&file) {
                Ok(text) => parse_key(&text).map_err(|e| format!("{} is {e}", file.display()))?,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    let key = Vault::generate_key()?;
                    std::fs::create_dir_all(data_dir)
                        .and_then(|()| crate::serve::write_secret_file(&file, &hex::encode(key)))
                        .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
                    tracing::warn!(
                        "made a master key for secrets in {} (keep it; with several nodes, give each the same WEIR_MASTER_KEY)",
                        file.display()
                    );
                    key
                }
                Err(e) => return Err(format!("cannot read {}: {e}", file.display())),
            }
        }
    };
    let vault = Vault::new(&key);
    let scope = Scope::new("weir", "weir");
    let check = vault.seal(&scope, "master-key-check", "weir")?;
    let stored = store
        .setting_or_insert("master_key_check", &check)
        .await
        .map_err(|e| format!("cannot read the settings: {e}"))?;
    if vault.open(&scope, "master-key-check", &stored).is_err() {
        return Err(
            "the master key is not the one this database's secrets were sealed with; set WEIR_MASTER_KEY to that key (or use the data folder's master-key file)"
                .into(),
        );
    }
    Ok(vault)
}

fn secret_of(row: SecretRow) -> Secret {
    Secret {
        name: row.name,
        allowed_hosts: row.policy.allowed_hosts,
        allowed_actions: row.policy.allowed_actions,
        created_at: time_text(row.created_ms),
        updated_at: time_text(row.updated_ms),
    }
}

/// The most entries of `allowed_hosts` or `allowed_actions`.
const MAX_POLICY_ENTRIES: usize = 100;

/// An action type as a policy names it: a built-in's or a connector action's name.
fn valid_action_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
}

/// One of the policy's lists: `None` when the body leaves it out, `Some(None)` for `null` (no
/// restriction), else a list of 1 to 100 entries each passing `check`.
fn policy_list(
    map: &Map<String, Value>,
    field: &str,
    check: impl Fn(&str) -> Result<(), String>,
) -> ApiResult<Option<Option<Vec<String>>>> {
    let bad = |path: String, message: String| {
        ApiError::invalid(
            format!("{field} is invalid"),
            vec![Detail::new(path, message)],
        )
    };
    let items = match map.get(field) {
        None => return Ok(None),
        Some(Value::Null) => return Ok(Some(None)),
        Some(Value::Array(items)) if (1..=MAX_POLICY_ENTRIES).contains(&items.len()) => items,
        Some(_) => {
            return Err(bad(
                format!("$.{field}"),
                format!("a list of 1 to {MAX_POLICY_ENTRIES} strings, or null for no restriction"),
            ));
        }
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let path = format!("$.{field}[{i}]");
        let Some(text) = item.as_str() else {
            return Err(bad(path, "a string".into()));
        };
        check(text).map_err(|e| bad(path, e))?;
        if !out.iter().any(|o| o == text) {
            out.push(text.to_owned());
        }
    }
    Ok(Some(Some(out)))
}

fn allowed_hosts(map: &Map<String, Value>) -> ApiResult<Option<Option<Vec<String>>>> {
    policy_list(map, "allowed_hosts", |h| HostPattern::parse(h).map(|_| ()))
}

fn allowed_actions(map: &Map<String, Value>) -> ApiResult<Option<Option<Vec<String>>>> {
    policy_list(map, "allowed_actions", |a| match valid_action_name(a) {
        true => Ok(()),
        false => Err(format!(
            "{a:?} is not an action type name (letters, digits, '_', '.', '-', at most 100)"
        )),
    })
}

/// A secret's name: a letter or `_`, then letters, digits and `_`, at most 64 characters.
fn valid_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 64
        && (b[0].is_ascii_alphabetic() || b[0] == b'_')
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

fn bad_name() -> ApiError {
    ApiError::invalid(
        "the secret name is invalid",
        vec![Detail::new(
            "$.name",
            "a letter or '_', then letters, digits and '_', at most 64 characters",
        )],
    )
}

fn value_of(map: &serde_json::Map<String, Value>) -> ApiResult<String> {
    match map.get("value") {
        Some(Value::String(v)) if v.len() >= MIN_SECRET_LEN && v.len() <= MAX_SECRET_BYTES => {
            Ok(v.clone())
        }
        _ => Err(ApiError::invalid(
            "value is invalid",
            vec![Detail::new(
                "$.value",
                format!("a string of {MIN_SECRET_LEN} to {MAX_SECRET_BYTES} bytes"),
            )],
        )),
    }
}

fn vault(state: &AppState) -> ApiResult<&Vault> {
    state.engine.vault().ok_or_else(|| {
        ApiError::new(
            ErrorCode::Unavailable,
            "this server has no master key, so it keeps no secrets",
        )
    })
}

/// A new secret's request read field by field: its name, its value, where it may go.
fn secret_request(map: &Map<String, Value>) -> ApiResult<SecretRequest> {
    let name = required(
        map.get("name").and_then(Value::as_str).map(str::to_owned),
        "name",
    )?;
    if !valid_name(&name) {
        return Err(bad_name());
    }
    Ok(SecretRequest {
        name,
        value: value_of(map)?,
        allowed_hosts: allowed_hosts(map)?.flatten(),
        allowed_actions: allowed_actions(map)?.flatten(),
    })
}

/// A change's request read field by field; it must change something.
fn secret_update(map: &Map<String, Value>) -> ApiResult<SecretUpdate> {
    if map.is_empty() {
        return Err(ApiError::invalid(
            "the body changes nothing",
            vec![Detail::new(
                "$",
                "give value, allowed_hosts or allowed_actions",
            )],
        ));
    }
    Ok(SecretUpdate {
        value: match map.contains_key("value") {
            true => Some(value_of(map)?),
            false => None,
        },
        allowed_hosts: allowed_hosts(map)?,
        allowed_actions: allowed_actions(map)?,
    })
}

async fn store_secret(
    state: &AppState,
    caller: &Caller,
    name: &str,
    value: &str,
    policy: &SecretPolicy,
    if_updated_ms: Option<i64>,
) -> ApiResult<(StatusCode, Json<Secret>)> {
    let sealed = vault(state)?
        .seal(&caller.scope, name, value)
        .map_err(|_| ApiError::internal())?;
    let created = state
        .store
        .put_secret(&caller.scope, name, &sealed, policy, if_updated_ms)
        .await?;
    state.engine.forget_secrets(&caller.scope);
    let action = if created {
        "secret.create"
    } else {
        "secret.update"
    };
    audit(state, caller, action, name, None).await?;
    let row = state
        .store
        .secret(&caller.scope, name)
        .await?
        .ok_or_else(|| ApiError::not_found("secret"))?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(secret_of(row))))
}

/// Store a secret
///
/// Sealed with AES-256-GCM at once; its value never comes back. 409 when the name is taken
/// (PUT replaces its value). Needs `admin`.
#[utoipa::path(post, path = "/api/v1/secrets", tag = "secrets", request_body = SecretRequest,
    responses((status = 201, body = Secret)))]
async fn post_secret(
    caller: Auth<need::Admin>,
    State(state): State<Arc<AppState>>,
    request: axum::extract::Request,
) -> ApiResult<(StatusCode, Json<Secret>)> {
    let (parts, body) = request.into_parts();
    let map = read_object(
        &state,
        &parts.headers,
        body,
        &["name", "value", "allowed_hosts", "allowed_actions"],
        false,
    )
    .await?;
    let request = secret_request(&map)?;
    let name = &request.name;
    if state.store.secret(&caller.scope, name).await?.is_some() {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            format!("a secret {name} exists; PUT /api/v1/secrets/{name} replaces its value"),
        ));
    }
    let policy = SecretPolicy {
        allowed_hosts: request.allowed_hosts,
        allowed_actions: request.allowed_actions,
    };
    store_secret(&state, &caller, name, &request.value, &policy, None).await
}

/// Replace a secret's value, where it may go, or both
///
/// What the body leaves out stays; 404 when there is no such secret (POST makes one). Needs
/// `admin`.
#[utoipa::path(put, path = "/api/v1/secrets/{id}", tag = "secrets", request_body = SecretUpdate,
    responses((status = 200, body = Secret)))]
async fn put_secret(
    caller: Auth<need::Admin>,
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    request: axum::extract::Request,
) -> ApiResult<(StatusCode, Json<Secret>)> {
    let Some(row) = state.store.secret(&caller.scope, &name).await? else {
        return Err(ApiError::not_found("secret"));
    };
    let (parts, body) = request.into_parts();
    let fields = ["value", "allowed_hosts", "allowed_actions"];
    let map = read_object(&state, &parts.headers, body, &fields, false).await?;
    let update = secret_update(&map)?;
    let value = match update.value {
        Some(value) => value,
        None => vault(&state)?
            .open(&caller.scope, &name, &row.sealed)
            .map_err(|e| {
                tracing::error!("{}/{}: {e}", caller.scope.tenant, caller.scope.environment);
                ApiError::internal()
            })?,
    };
    let policy = SecretPolicy {
        allowed_hosts: update.allowed_hosts.unwrap_or(row.policy.allowed_hosts),
        allowed_actions: update.allowed_actions.unwrap_or(row.policy.allowed_actions),
    };
    // What the body leaves out is kept from the version read: only over that version.
    store_secret(
        &state,
        &caller,
        &name,
        &value,
        &policy,
        Some(row.updated_ms),
    )
    .await
}

/// List secrets
///
/// Names, where each may go, and dates, by name; never values. Needs `workflows:read`.
#[utoipa::path(get, path = "/api/v1/secrets", tag = "secrets",
    responses((status = 200, body = SecretList)))]
async fn list_secrets(
    caller: Auth<need::Read>,
    State(state): State<Arc<AppState>>,
) -> ApiResult<Json<SecretList>> {
    let secrets = state
        .store
        .secrets(&caller.scope)
        .await?
        .into_iter()
        .map(secret_of)
        .collect();
    Ok(Json(SecretList { secrets }))
}

/// A secret
///
/// Its name, where it may go, and its dates. Needs `workflows:read`.
#[utoipa::path(get, path = "/api/v1/secrets/{id}", tag = "secrets",
    responses((status = 200, body = Secret)))]
async fn get_secret(
    caller: Auth<need::Read>,
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> ApiResult<Json<Secret>> {
    let row = state
        .store
        .secret(&caller.scope, &name)
        .await?
        .ok_or_else(|| ApiError::not_found("secret"))?;
    Ok(Json(secret_of(row)))
}

/// Delete a secret
///
/// Needs `admin`.
#[utoipa::path(delete, path = "/api/v1/secrets/{id}", tag = "secrets",
    responses((status = 200, body = SecretDeleted)))]
async fn delete_secret(
    caller: Auth<need::Admin>,
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> ApiResult<Json<SecretDeleted>> {
    state
        .store
        .delete_secret(&caller.scope, &name)
        .await
        .map_err(crate::missing("secret"))?;
    state.engine.forget_secrets(&caller.scope);
    audit(&state, &caller, "secret.delete", &name, None).await?;
    Ok(Json(SecretDeleted {
        name,
        deleted: true,
    }))
}
