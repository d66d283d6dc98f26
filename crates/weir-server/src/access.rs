//! Who is calling and what they may do: API keys, roles and permissions (seed 002), AI agent
//! headers (seed 000 §7.3), and the tenant and key endpoints.
//!
//! A key belongs to one tenant × environment and has a role; the role gives permissions. The
//! bootstrap key is the platform admin's: it manages tenants and every tenant's keys. A
//! tenant's `owner` manages its keys, users and teams in every environment and adds
//! environments; an `admin` manages those of its own environment only (403 for another one of
//! its tenant). Another tenant's objects answer 404, as everywhere.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use serde_json::{Map, Value, json};
use weir_store::{ApiKey, AuditFilter, NewApiKey, Scope, Session, Tenant, hash_key};

use crate::params::{Params, next_cursor};
use crate::{ApiError, ApiResult, AppState, KEY_CACHE_TTL, read_object, time};

/// A permission a role grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Perm {
    Read,
    Write,
    Execute,
    Decide,
    Admin,
    /// Manage every environment of the tenant: keys, users and teams in each, new ones.
    Tenant,
}

impl Perm {
    pub fn name(self) -> &'static str {
        match self {
            Perm::Read => "workflows:read",
            Perm::Write => "workflows:write",
            Perm::Execute => "workflows:execute",
            Perm::Decide => "approvals:decide",
            Perm::Admin => "admin",
            Perm::Tenant => "tenant:admin",
        }
    }
}

/// The roles a key or user can have.
pub use weir_store::ROLES;

/// The role that manages every environment of its tenant.
const OWNER: &str = "owner";

/// What a role may do. An AI agent may read, write and run workflows (agents create and
/// change workflows), but not decide approvals or administer. An owner is an admin of every
/// environment of its tenant.
pub fn role_permissions(role: &str) -> &'static [Perm] {
    use Perm::*;
    match role {
        OWNER => &[Read, Write, Execute, Decide, Admin, Tenant],
        "admin" => &[Read, Write, Execute, Decide, Admin],
        "editor" => &[Read, Write, Execute],
        "operator" => &[Read, Execute, Decide],
        "viewer" => &[Read],
        "agent" => &[Read, Write, Execute],
        _ => &[],
    }
}

/// An AI agent's identity from its `X-Agent-*` headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agent {
    pub id: String,
    pub kind: Option<String>,
    pub session: Option<String>,
}

/// Who authenticated a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// An API key (`Authorization: Bearer weir_…`).
    ApiKey,
    /// A signed-in user's session (`Authorization: Bearer wses_…` or the `weir_session`
    /// cookie).
    User { session_id: String },
}

impl Principal {
    /// The field naming the identity in an agent's audit record.
    fn id_field(&self) -> &'static str {
        match self {
            Principal::ApiKey => "api_key_id",
            Principal::User { .. } => "user_id",
        }
    }
}

/// An authenticated identity, as cached by token hash.
#[derive(Debug, Clone)]
pub struct Identity {
    pub principal: Principal,
    /// The key's or the user's id.
    pub id: String,
    pub scope: Scope,
    pub role: String,
    /// The platform admin's key: manages tenants and every tenant's keys and users.
    pub platform: bool,
    pub expires_ms: Option<i64>,
}

impl Identity {
    fn of_key(k: ApiKey) -> Self {
        Identity {
            principal: Principal::ApiKey,
            id: k.id,
            scope: k.scope,
            role: k.role,
            platform: k.platform,
            expires_ms: k.expires_ms,
        }
    }

    pub(crate) fn of_session(s: Session) -> Self {
        Identity {
            principal: Principal::User { session_id: s.id },
            id: s.user.id,
            scope: s.scope,
            role: s.user.role,
            platform: false,
            expires_ms: Some(s.expires_ms),
        }
    }
}

/// The caller of a request: its key or user, and the agent when one says so.
#[derive(Debug, Clone)]
pub struct Caller {
    pub scope: Scope,
    pub who: Identity,
    pub agent: Option<Agent>,
}

impl Caller {
    pub fn may(&self, perm: Perm) -> bool {
        role_permissions(&self.who.role).contains(&perm)
    }

    /// 403 unless the caller's role grants `perm`.
    pub fn require(&self, perm: Perm) -> ApiResult<()> {
        if self.may(perm) {
            return Ok(());
        }
        let whose = match self.who.principal {
            Principal::ApiKey => "key",
            Principal::User { .. } => "user",
        };
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "this {whose}'s role ({}) does not grant {}",
                self.who.role,
                perm.name()
            ),
        ))
    }

    /// The actor of an audit record: the agent when the request came from one, else the key
    /// or the user.
    pub fn actor(&self) -> (&str, &str) {
        match (&self.agent, &self.who.principal) {
            (Some(a), _) => ("ai_agent", a.id.as_str()),
            (None, Principal::ApiKey) => ("api_key", self.who.id.as_str()),
            (None, Principal::User { .. }) => ("user", self.who.id.as_str()),
        }
    }

    /// The tenant the caller's key and user operations are limited to (none for the
    /// platform admin).
    pub fn tenant_limit(&self) -> Option<&str> {
        (!self.who.platform).then_some(self.scope.tenant.as_str())
    }

    /// May act on this tenant: the platform admin on any, others on their own only.
    fn owns(&self, tenant: &str) -> bool {
        self.who.platform || self.scope.tenant == tenant
    }

    /// Manages every environment of the tenants it may act on: the platform admin and owners.
    fn manages_tenant(&self) -> bool {
        self.who.platform || self.may(Perm::Tenant)
    }

    /// The environment the caller's key and user management is limited to: its own for an
    /// admin, none for an owner or the platform admin.
    pub(crate) fn environment_limit(&self) -> Option<&str> {
        (!self.manages_tenant()).then_some(self.scope.environment.as_str())
    }

    /// 404 for another tenant; 403 unless the caller manages `environment` of `tenant`
    /// (`None`: something of the whole tenant, such as a user of every environment).
    pub(crate) fn require_manage(&self, tenant: &str, environment: Option<&str>) -> ApiResult<()> {
        if !self.owns(tenant) {
            return Err(ApiError::not_found("tenant"));
        }
        if self.manages_tenant() || environment == self.environment_limit() {
            return Ok(());
        }
        let what = match environment {
            Some(e) => format!("the environment '{e}'"),
            None => "what belongs to every environment of the tenant".to_owned(),
        };
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "an admin manages its own environment ('{}') only; {what} needs the owner role",
                self.scope.environment
            ),
        ))
    }

    /// 403 when `role` is the owner's and the caller is not an owner (or the platform admin):
    /// nobody grants more than it has.
    pub(crate) fn require_grant(&self, role: &str) -> ApiResult<()> {
        if role != OWNER || self.manages_tenant() {
            return Ok(());
        }
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "only an owner (or the platform admin) gives or takes the owner role",
        ))
    }
}

/// 422 at `$.environment` unless `tenant` has `environment`.
pub(crate) async fn require_environment(
    state: &AppState,
    tenant: &str,
    environment: &str,
) -> ApiResult<()> {
    let known = state
        .store
        .tenant(tenant)
        .await?
        .is_some_and(|t| t.environments.iter().any(|e| e == environment));
    match known {
        true => Ok(()),
        false => Err(no_environment()),
    }
}

fn no_environment() -> ApiError {
    ApiError::invalid(
        "there is no such tenant and environment",
        vec![json!({ "path": "$.environment", "message": "an environment of the tenant" })],
    )
}

/// Records a mutation with the caller as actor; an agent's headers and key go along.
pub async fn audit(
    state: &AppState,
    caller: &Caller,
    action: &str,
    target: &str,
    changes: Option<Value>,
) -> ApiResult<()> {
    let mut changes = changes;
    if let Some(agent) = &caller.agent {
        let mut map = match changes.take() {
            Some(Value::Object(m)) => m,
            Some(other) => Map::from_iter([("change".to_owned(), other)]),
            None => Map::new(),
        };
        map.insert(
            "agent".into(),
            json!({ "id": agent.id, "type": agent.kind, "session_id": agent.session, caller.who.principal.id_field(): caller.who.id }),
        );
        changes = Some(Value::Object(map));
    }
    let (kind, id) = caller.actor();
    state
        .store
        .audit(&caller.scope, (kind, id), action, target, changes.as_ref())
        .await?;
    Ok(())
}

/// The caller, if its key allows `perm`.
pub async fn authorize_for(state: &AppState, headers: &HeaderMap, perm: Perm) -> ApiResult<Caller> {
    let caller = authorize(state, headers).await?;
    caller.require(perm)?;
    Ok(caller)
}

/// The cookie a signed-in browser sends its session token in.
pub const SESSION_COOKIE: &str = "weir_session";

/// Session tokens start with this; API keys with `weir_`.
pub const SESSION_PREFIX: &str = "wses_";

/// The token of a request: `Authorization: Bearer <token>`, else the session cookie.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    if let Some(v) = headers.get(header::AUTHORIZATION) {
        return v.to_str().ok()?.strip_prefix("Bearer ").map(str::trim);
    }
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim())
}

/// The caller of a request, from `Authorization: Bearer <key or session token>` or the
/// session cookie (401 without a live one).
pub async fn authorize(state: &AppState, headers: &HeaderMap) -> ApiResult<Caller> {
    let unauthorized =
        |message: &str| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message);
    let ask = "send Authorization: Bearer <api key or session token>";
    let secret = bearer(headers).ok_or_else(|| unauthorized(ask))?;
    if secret.is_empty() || secret.len() > 512 {
        return Err(unauthorized(ask));
    }
    let session = secret.starts_with(SESSION_PREFIX);
    let gone = match session {
        true => "unknown, ended or expired session; sign in again",
        false => "unknown, revoked or expired API key",
    };
    let hash = hash_key(secret);
    let now = chrono::Utc::now().timestamp_millis();
    let cached = state
        .keys
        .lock()
        .expect("key cache")
        .get(&hash)
        .filter(|(_, at)| at.elapsed() < KEY_CACHE_TTL)
        .map(|(k, _)| k.clone());
    let who = match cached {
        Some(k) => k,
        None => {
            let found = match session {
                true => state.store.session(&hash).await?.map(Identity::of_session),
                false => state.store.api_key(&hash).await?.map(Identity::of_key),
            };
            let k = found.ok_or_else(|| unauthorized(gone))?;
            let mut cache = state.keys.lock().expect("key cache");
            if cache.len() > 10_000 {
                cache.clear();
            }
            cache.insert(hash, (k.clone(), std::time::Instant::now()));
            k
        }
    };
    if who.expires_ms.is_some_and(|at| at <= now) {
        return Err(unauthorized(gone));
    }
    if let Some(limiter) = &state.limiter
        && let Err(not_until) = limiter.check_key(&who.id)
    {
        let wait = not_until.wait_time_from(governor::clock::Clock::now(limiter.clock()));
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "this caller sent more requests than its rate limit allows; retry later",
        );
        e.retry_after = Some(wait.as_secs() + 1);
        return Err(e);
    }
    Ok(Caller {
        scope: who.scope.clone(),
        agent: agent(headers, &who)?,
        who,
    })
}

/// The agent named by `X-Agent-ID` (with `X-Agent-Type`, `X-Session-ID`); a key with the
/// agent role is an agent even without the headers.
fn agent(headers: &HeaderMap, who: &Identity) -> ApiResult<Option<Agent>> {
    let field = |name: &str| -> ApiResult<Option<String>> {
        match headers.get(name) {
            None => Ok(None),
            Some(v) => {
                let text = v.to_str().map_err(|_| {
                    ApiError::bad_request(format!("{name} must be printable ASCII"))
                })?;
                let text = text.trim();
                if text.is_empty() || text.len() > 200 {
                    return Err(ApiError::bad_request(format!(
                        "{name} must be 1 to 200 characters"
                    )));
                }
                Ok(Some(text.to_owned()))
            }
        }
    };
    let id = field("x-agent-id")?;
    let kind = field("x-agent-type")?;
    let session = field("x-session-id")?;
    Ok(match id {
        Some(id) => Some(Agent { id, kind, session }),
        None if who.role == "agent" => Some(Agent {
            id: who.id.clone(),
            kind,
            session,
        }),
        None => None,
    })
}

/// A new API key: `weir_` and 64 hex digits of randomness (from two v4 UUIDs, 244 random bits).
pub fn new_key_secret() -> String {
    format!(
        "weir_{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// A name usable as a tenant or environment id: lowercase letters, digits, `-` and `_`,
/// starting with a letter or digit, at most 63 characters.
fn valid_id(id: &str) -> bool {
    let b = id.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'-' | b'_'))
}

/// A tenant id made from its name: `Acme Inc.` → `acme-inc`.
fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-');
    out.chars()
        .take(63)
        .collect::<String>()
        .trim_end_matches('-')
        .to_owned()
}

/// A string field: `Ok(None)` when absent, 422 when not a string or out of bounds.
pub(crate) fn text(map: &Map<String, Value>, field: &str, max: usize) -> ApiResult<Option<String>> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s))
            if !s.trim().is_empty() && s.len() <= max && !s.chars().any(char::is_control) =>
        {
            Ok(Some(s.trim().to_owned()))
        }
        Some(_) => Err(ApiError::invalid(
            format!("{field} is invalid"),
            vec![
                json!({ "path": format!("$.{field}"), "message": format!("a non-empty string of at most {max} characters, without control characters") }),
            ],
        )),
    }
}

pub(crate) fn required(value: Option<String>, field: &str) -> ApiResult<String> {
    value.ok_or_else(|| {
        ApiError::invalid(
            format!("{field} is required"),
            vec![json!({ "path": format!("$.{field}"), "message": "required" })],
        )
    })
}

fn tenant_json(t: &Tenant) -> Value {
    json!({ "id": t.id, "name": t.name, "environments": t.environments, "created_at": time(Some(t.created_ms)) })
}

fn key_json(k: &ApiKey) -> Value {
    let permissions: Vec<&str> = role_permissions(&k.role).iter().map(|p| p.name()).collect();
    json!({
        "id": k.id, "tenant_id": k.scope.tenant, "environment": k.scope.environment, "role": k.role,
        "permissions": permissions, "name": k.name, "platform_admin": k.platform,
        "created_at": time(Some(k.created_ms)), "expires_at": time(k.expires_ms), "revoked_at": time(k.revoked_ms),
    })
}

/// `POST /api/v1/tenants` `{"name", "id"?}`: the platform admin creates a tenant, with the
/// environments `development` and `production`.
pub async fn post_tenant(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult {
    let caller = authorize(&state, &headers).await?;
    if !caller.who.platform {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "only the platform admin's key creates tenants",
        ));
    }
    let map = read_object(&headers, body, &["name", "id"], false).await?;
    let name = required(text(&map, "name", 200)?, "name")?;
    let id = match text(&map, "id", 63)? {
        Some(id) => id,
        None => slug(&name),
    };
    if !valid_id(&id) {
        return Err(ApiError::invalid(
            "the tenant id is invalid",
            vec![
                json!({ "path": "$.id", "message": "lowercase letters, digits, '-' and '_', starting with a letter or digit, at most 63 characters (give an id when the name has none of these)" }),
            ],
        ));
    }
    let tenant = state.store.create_tenant(&id, &name).await?;
    audit(
        &state,
        &caller,
        "tenant.create",
        &tenant.id,
        Some(tenant_json(&tenant)),
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(tenant_json(&tenant))).into_response())
}

/// `GET /api/v1/tenants`: every tenant for the platform admin, its own for a tenant's admin.
pub async fn list_tenants(State(state): State<Arc<AppState>>, headers: HeaderMap) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Admin).await?;
    let tenants = if caller.who.platform {
        state.store.tenants().await?
    } else {
        state
            .store
            .tenant(&caller.scope.tenant)
            .await?
            .into_iter()
            .collect()
    };
    let list: Vec<Value> = tenants.iter().map(tenant_json).collect();
    Ok(axum::Json(json!({ "tenants": list })).into_response())
}

/// `GET /api/v1/tenants/{id}`.
pub async fn get_tenant(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Admin).await?;
    let tenant = match caller.owns(&id) {
        true => state.store.tenant(&id).await?,
        false => None,
    }
    .ok_or_else(|| ApiError::not_found("tenant"))?;
    Ok(axum::Json(tenant_json(&tenant)).into_response())
}

/// `POST /api/v1/tenants/{id}/environments` `{"name"}`: adds an environment.
pub async fn post_environment(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Body,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Admin).await?;
    caller.require_manage(&id, None)?;
    let map = read_object(&headers, body, &["name"], false).await?;
    let name = required(text(&map, "name", 63)?, "name")?;
    if !valid_id(&name) {
        return Err(ApiError::invalid(
            "the environment name is invalid",
            vec![
                json!({ "path": "$.name", "message": "lowercase letters, digits, '-' and '_', starting with a letter or digit, at most 63 characters" }),
            ],
        ));
    }
    state
        .store
        .create_environment(&id, &name)
        .await
        .map_err(crate::missing("tenant"))?;
    state
        .engine
        .refresh(&Scope::new(id.clone(), name.clone()))
        .await?;
    audit(
        &state,
        &caller,
        "environment.create",
        &format!("{id}/{name}"),
        None,
    )
    .await?;
    let tenant = state
        .store
        .tenant(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("tenant"))?;
    Ok((StatusCode::CREATED, axum::Json(tenant_json(&tenant))).into_response())
}

/// `POST /api/v1/api-keys` `{"tenant_id"?, "environment"?, "role", "name", "expires_at"?}`:
/// a key for the caller's tenant (any tenant for the platform admin). The key is in this
/// answer only; the store keeps its hash.
pub async fn post_api_key(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Admin).await?;
    let map = read_object(
        &headers,
        body,
        &["tenant_id", "environment", "role", "name", "expires_at"],
        false,
    )
    .await?;
    let tenant = text(&map, "tenant_id", 63)?.unwrap_or_else(|| caller.scope.tenant.clone());
    if !caller.owns(&tenant) {
        return Err(ApiError::not_found("tenant"));
    }
    let environment =
        text(&map, "environment", 63)?.unwrap_or_else(|| caller.scope.environment.clone());
    let role = required(text(&map, "role", 20)?, "role")?;
    if !ROLES.contains(&role.as_str()) {
        return Err(ApiError::invalid(
            format!("there is no role '{role}'"),
            vec![json!({ "path": "$.role", "message": format!("one of {}", ROLES.join(", ")) })],
        ));
    }
    let name = required(text(&map, "name", 200)?, "name")?;
    require_environment(&state, &tenant, &environment).await?;
    caller.require_manage(&tenant, Some(&environment))?;
    caller.require_grant(&role)?;
    let expires_ms = match text(&map, "expires_at", 64)? {
        None => None,
        Some(at) => {
            let bad = |message: &str| {
                ApiError::invalid(
                    "expires_at is invalid",
                    vec![json!({ "path": "$.expires_at", "message": message })],
                )
            };
            let at = chrono::DateTime::parse_from_rfc3339(&at)
                .map_err(|_| bad("an RFC 3339 time, like 2027-01-31T00:00:00Z"))?
                .timestamp_millis();
            if at <= chrono::Utc::now().timestamp_millis() {
                return Err(bad("a time in the future"));
            }
            Some(at)
        }
    };
    let secret = new_key_secret();
    let stored = state
        .store
        .create_api_key(&NewApiKey {
            id: uuid::Uuid::now_v7().to_string(),
            scope: Scope::new(tenant, environment),
            key_hash: hash_key(&secret),
            role,
            name,
            expires_ms,
        })
        .await
        .map_err(|e| match e {
            weir_store::Error::NotFound => no_environment(),
            other => other.into(),
        })?;
    let mut answer = key_json(&stored);
    audit(
        &state,
        &caller,
        "api_key.create",
        &stored.id,
        Some(answer.clone()),
    )
    .await?;
    answer["key"] = json!(secret);
    Ok((StatusCode::CREATED, axum::Json(answer)).into_response())
}

/// `GET /api/v1/api-keys[?tenant_id=]`: keys without their secrets, newest first: an admin's
/// environment's, an owner's tenant's, any tenant's for the platform admin.
pub async fn list_api_keys(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Admin).await?;
    let tenant = match (caller.who.platform, q.get("tenant_id")) {
        (true, t) => t.cloned(),
        (false, Some(t)) if *t != caller.scope.tenant => return Err(ApiError::not_found("tenant")),
        (false, _) => Some(caller.scope.tenant.clone()),
    };
    let keys: Vec<Value> = state
        .store
        .api_keys(tenant.as_deref(), caller.environment_limit())
        .await?
        .iter()
        .map(key_json)
        .collect();
    Ok(axum::Json(json!({ "api_keys": keys })).into_response())
}

/// `GET /api/v1/api-keys/{id}`.
pub async fn get_api_key(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Admin).await?;
    let key = visible_key(&state, &caller, &id).await?;
    Ok(axum::Json(key_json(&key)).into_response())
}

/// A key the caller may see: of its tenant (any for the platform admin), and of its own
/// environment for an admin; 404 otherwise.
async fn visible_key(state: &AppState, caller: &Caller, id: &str) -> ApiResult<ApiKey> {
    state
        .store
        .api_key_by_id(caller.tenant_limit(), id)
        .await?
        .filter(|k| {
            caller
                .environment_limit()
                .is_none_or(|e| e == k.scope.environment)
        })
        .ok_or_else(|| ApiError::not_found("API key"))
}

/// `DELETE /api/v1/api-keys/{id}`: revokes a key; it stops working at once on this node and
/// within [`KEY_CACHE_TTL`] on the others.
pub async fn revoke_api_key(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Admin).await?;
    let tenant = caller.tenant_limit();
    let key = visible_key(&state, &caller, &id).await?;
    caller.require_grant(&key.role)?;
    if key.platform {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            "the platform admin's key cannot be revoked through the API",
        ));
    }
    state
        .store
        .revoke_api_key(tenant, &id)
        .await
        .map_err(|e| match e {
            weir_store::Error::NotFound => ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                "the key is revoked already",
            ),
            other => other.into(),
        })?;
    state.keys.lock().expect("key cache").clear();
    audit(&state, &caller, "api_key.revoke", &id, None).await?;
    let key = state
        .store
        .api_key_by_id(tenant, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("API key"))?;
    Ok(axum::Json(key_json(&key)).into_response())
}

/// `GET /api/v1/audit`: the scope's audit records, newest first; filters `actor_type`,
/// `actor_id`, `action`, `target`, `since`, `until` (RFC 3339), and keyset pages (`cursor` is
/// the `next_cursor` of the page before, `limit` up to 500).
pub async fn list_audit(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Admin).await?;
    let q = Params::new(
        q,
        &[
            "actor_type",
            "actor_id",
            "action",
            "target",
            "since",
            "until",
            "cursor",
            "limit",
        ],
    )?;
    let limit = q.number("limit", 100, 1, 500)?;
    let records = state
        .store
        .audit_log(
            &caller.scope,
            &AuditFilter {
                actor_type: q.text("actor_type"),
                actor_id: q.text("actor_id"),
                action: q.text("action"),
                target: q.text("target"),
                since_ms: q.time("since")?,
                until_ms: q.time("until")?,
                before: q.optional_number("cursor", 1, i64::MAX)?,
                limit,
            },
        )
        .await?;
    let next = next_cursor(&records, limit, |r| r.id.to_string());
    let list: Vec<Value> = records
        .iter()
        .map(|r| {
            json!({ "id": r.id, "actor_type": r.actor_type, "actor_id": r.actor_id, "action": r.action,
                    "target": r.target, "changes": r.changes, "at": time(Some(r.at_ms)) })
        })
        .collect();
    Ok(axum::Json(json!({ "audit": list, "next_cursor": next })).into_response())
}
