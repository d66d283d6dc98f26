//! Secrets over the API, write-only: a value goes in (sealed at once with the master key) and
//! never comes out; lists show names, where each may go, and dates. Workflows use them as
//! `{{secrets.NAME}}`; a secret's `allowed_hosts` and `allowed_actions` narrow which requests
//! and actions receive it (the engine enforces them; code receives one only when named).
//! The master key is `WEIR_MASTER_KEY` (64 hex digits) or a key file made (0600) in the data
//! folder on first start; a check value in the database stops a node with another key.

use std::path::Path as FsPath;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use serde_json::{Value, json};
use weir_engine::Vault;
use weir_engine::secrets::{HostPattern, MIN_SECRET_LEN};
use weir_store::{Scope, SecretPolicy, SecretRow, Store};

use crate::access::{Perm, audit, authorize_for, required};
use crate::{ApiError, ApiResult, AppState, read_object, time};
use weir_api_types::{Detail, ErrorCode};

/// This module's routes. (Not yet typed: their operations come from the hand-written
/// document in `openapi.rs`.)
pub(crate) fn routes() -> utoipa_axum::router::OpenApiRouter<Arc<AppState>> {
    use axum::routing::{get, post};
    utoipa_axum::router::OpenApiRouter::new()
        .route("/api/v1/secrets", post(post_secret).get(list_secrets))
        .route(
            "/api/v1/secrets/{id}",
            get(get_secret).put(put_secret).delete(delete_secret),
        )
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
                    eprintln!(
                        "weir: made a master key for secrets in {} (keep it; with several nodes, give each the same WEIR_MASTER_KEY)",
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

fn secret_json(row: &SecretRow) -> Value {
    json!({
        "name": row.name,
        "allowed_hosts": row.policy.allowed_hosts,
        "allowed_actions": row.policy.allowed_actions,
        "created_at": time(Some(row.created_ms)),
        "updated_at": time(Some(row.updated_ms)),
    })
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

/// One of the policy's lists: absent keeps `current`, `null` lifts the restriction, a list
/// of 1 to 100 entries each passing `check` sets it.
fn policy_list(
    map: &serde_json::Map<String, Value>,
    field: &str,
    current: Option<Vec<String>>,
    check: impl Fn(&str) -> Result<(), String>,
) -> ApiResult<Option<Vec<String>>> {
    let bad = |path: String, message: String| {
        ApiError::invalid(
            format!("{field} is invalid"),
            vec![Detail::new(path, message)],
        )
    };
    let items = match map.get(field) {
        None => return Ok(current),
        Some(Value::Null) => return Ok(None),
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
    Ok(Some(out))
}

/// The policy a body sets, over `current` (fields left out keep theirs).
fn policy_of(
    map: &serde_json::Map<String, Value>,
    current: SecretPolicy,
) -> ApiResult<SecretPolicy> {
    Ok(SecretPolicy {
        allowed_hosts: policy_list(map, "allowed_hosts", current.allowed_hosts, |h| {
            HostPattern::parse(h).map(|_| ())
        })?,
        allowed_actions: policy_list(map, "allowed_actions", current.allowed_actions, |a| {
            match valid_action_name(a) {
                true => Ok(()),
                false => Err(format!(
                    "{a:?} is not an action type name (letters, digits, '_', '.', '-', at most 100)"
                )),
            }
        })?,
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

async fn store_secret(
    state: &AppState,
    caller: &crate::access::Caller,
    name: &str,
    value: &str,
    policy: &SecretPolicy,
    if_updated_ms: Option<i64>,
) -> ApiResult {
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
    Ok((status, axum::Json(secret_json(&row))).into_response())
}

/// `POST /api/v1/secrets` `{"name", "value", "allowed_hosts"?, "allowed_actions"?}`: a new
/// secret (409 when the name is taken).
pub async fn post_secret(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Admin).await?;
    let map = read_object(
        &state,
        &headers,
        body,
        &["name", "value", "allowed_hosts", "allowed_actions"],
        false,
    )
    .await?;
    let name = required(
        map.get("name").and_then(Value::as_str).map(str::to_owned),
        "name",
    )?;
    if !valid_name(&name) {
        return Err(bad_name());
    }
    let value = value_of(&map)?;
    let policy = policy_of(&map, SecretPolicy::default())?;
    if state.store.secret(&caller.scope, &name).await?.is_some() {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            format!("a secret {name} exists; PUT /api/v1/secrets/{name} replaces its value"),
        ));
    }
    store_secret(&state, &caller, &name, &value, &policy, None).await
}

/// `PUT /api/v1/secrets/{name}` `{"value"?, "allowed_hosts"?, "allowed_actions"?}`: replaces
/// a secret's value, where it may go, or both; what the body leaves out stays (404 when there
/// is no such secret; `POST /api/v1/secrets` makes one).
pub async fn put_secret(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(name): Path<String>,
    body: Body,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Admin).await?;
    let Some(row) = state.store.secret(&caller.scope, &name).await? else {
        return Err(ApiError::not_found("secret"));
    };
    let fields = ["value", "allowed_hosts", "allowed_actions"];
    let map = read_object(&state, &headers, body, &fields, false).await?;
    if map.is_empty() {
        return Err(ApiError::invalid(
            "the body changes nothing",
            vec![Detail::new(
                "$",
                "give value, allowed_hosts or allowed_actions",
            )],
        ));
    }
    let value = match map.contains_key("value") {
        true => value_of(&map)?,
        false => vault(&state)?
            .open(&caller.scope, &name, &row.sealed)
            .map_err(|e| {
                eprintln!(
                    "weir: {}/{}: {e}",
                    caller.scope.tenant, caller.scope.environment
                );
                ApiError::internal()
            })?,
    };
    let policy = policy_of(&map, row.policy)?;
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

/// `GET /api/v1/secrets`: names and dates, never values.
pub async fn list_secrets(State(state): State<Arc<AppState>>, headers: HeaderMap) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Read).await?;
    let list: Vec<Value> = state
        .store
        .secrets(&caller.scope)
        .await?
        .iter()
        .map(secret_json)
        .collect();
    Ok(axum::Json(json!({ "secrets": list })).into_response())
}

/// `GET /api/v1/secrets/{name}`: its name and dates.
pub async fn get_secret(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Read).await?;
    let row = state
        .store
        .secret(&caller.scope, &name)
        .await?
        .ok_or_else(|| ApiError::not_found("secret"))?;
    Ok(axum::Json(secret_json(&row)).into_response())
}

/// `DELETE /api/v1/secrets/{name}`.
pub async fn delete_secret(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Admin).await?;
    state
        .store
        .delete_secret(&caller.scope, &name)
        .await
        .map_err(crate::missing("secret"))?;
    state.engine.forget_secrets(&caller.scope);
    audit(&state, &caller, "secret.delete", &name, None).await?;
    Ok(axum::Json(json!({ "name": name, "deleted": true })).into_response())
}
