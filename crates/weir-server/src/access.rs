//! Who is calling and what they may do: API keys, roles and permissions, AI agent headers,
//! and the tenant, key and audit endpoints.
//!
//! A key belongs to one tenant × environment and has a role; the role gives permissions. The
//! bootstrap key is the platform admin's: it manages tenants and every tenant's keys. A
//! tenant's admin manages its own tenant's keys and environments; another tenant's objects
//! answer 404, as everywhere.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use serde_json::{Map, Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use weir_api_types::access::{
    ActorType, Agent, ApiKey, ApiKeyList, ApiKeyQuery, ApiKeyRequest, AuditList, AuditQuery,
    AuditRecord, CreatedApiKey, EnvironmentRequest, Role, Tenant, TenantList, TenantRequest,
};
use weir_api_types::{Detail, ErrorCode};
use weir_store::{AuditFilter, NewApiKey, Scope, Session, hash_key};

use crate::params::{Params, next_cursor};
use crate::{ApiError, ApiResult, AppState, KEY_CACHE_TTL, read_object, time_text};

/// A permission a role grants (the API's [`Permission`](weir_api_types::access::Permission)).
pub use weir_api_types::access::Permission as Perm;

pub(crate) fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(post_tenant, list_tenants))
        .routes(routes!(get_tenant))
        .routes(routes!(post_environment))
        .routes(routes!(post_api_key, list_api_keys))
        .routes(routes!(get_api_key, revoke_api_key))
        .routes(routes!(list_audit))
}

/// A role as stored: one of [`Role`], or the row is not one Weir wrote (500, logged).
pub(crate) fn role_of(role: &str) -> ApiResult<Role> {
    Role::parse(role).ok_or_else(|| {
        tracing::error!("internal error: a key or user with role '{role}'");
        ApiError::internal()
    })
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
    pub role: Role,
    /// The platform admin's key: manages tenants and every tenant's keys and users.
    pub platform: bool,
    pub expires_ms: Option<i64>,
}

impl Identity {
    fn of_key(k: weir_store::ApiKey) -> ApiResult<Self> {
        Ok(Identity {
            principal: Principal::ApiKey,
            role: role_of(&k.role)?,
            id: k.id,
            scope: k.scope,
            platform: k.platform,
            expires_ms: k.expires_ms,
        })
    }

    pub(crate) fn of_session(s: Session) -> ApiResult<Self> {
        Ok(Identity {
            principal: Principal::User { session_id: s.id },
            role: role_of(&s.user.role)?,
            id: s.user.id,
            scope: s.scope,
            platform: false,
            expires_ms: Some(s.expires_ms),
        })
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
        self.who.role.permissions().contains(&perm)
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
            ErrorCode::Forbidden,
            format!(
                "this {whose}'s role ({}) does not grant {}",
                self.who.role,
                perm.as_str()
            ),
        ))
    }

    /// The actor of an audit record: the agent when the request came from one, else the key
    /// or the user.
    pub fn actor(&self) -> (ActorType, &str) {
        match (&self.agent, &self.who.principal) {
            (Some(a), _) => (ActorType::AiAgent, a.id.as_str()),
            (None, Principal::ApiKey) => (ActorType::ApiKey, self.who.id.as_str()),
            (None, Principal::User { .. }) => (ActorType::User, self.who.id.as_str()),
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
        Err(ApiError::forbidden(format!(
            "an admin manages its own environment ('{}') only; {what} needs the owner role",
            self.scope.environment
        )))
    }

    /// 403 when `role` is the owner's and the caller is not an owner (or the platform admin):
    /// nobody grants more than it has.
    pub(crate) fn require_grant(&self, role: Role) -> ApiResult<()> {
        if role != Role::Owner || self.manages_tenant() {
            return Ok(());
        }
        Err(ApiError::forbidden(
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
        vec![Detail::new("$.environment", "an environment of the tenant")],
    )
}

/// Removes an environment's setting by name, audited as `setting.delete`; 404 naming `what`
/// when it has none.
pub(crate) async fn remove_setting(
    state: &AppState,
    caller: &Caller,
    name: &str,
    what: &'static str,
) -> ApiResult<axum::http::StatusCode> {
    state
        .store
        .delete_scope_setting(&caller.scope, name)
        .await
        .map_err(crate::missing(what))?;
    audit(state, caller, "setting.delete", name, None).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
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
            json!({ "id": agent.id, "type": agent.kind, "session_id": agent.session_id, caller.who.principal.id_field(): caller.who.id }),
        );
        changes = Some(Value::Object(map));
    }
    let (kind, id) = caller.actor();
    state
        .store
        .audit(
            &caller.scope,
            (kind.as_str(), id),
            action,
            target,
            changes.as_ref(),
        )
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
    let unauthorized = |message: &str| ApiError::new(ErrorCode::Unauthorized, message);
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
            }
            .transpose()?;
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
            ErrorCode::RateLimited,
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
    let session_id = field("x-session-id")?;
    Ok(match id {
        Some(id) => Some(Agent {
            id,
            kind,
            session_id,
        }),
        None if who.role == Role::Agent => Some(Agent {
            id: who.id.clone(),
            kind,
            session_id,
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
            vec![Detail::new(
                format!("$.{field}"),
                format!(
                    "a non-empty string of at most {max} characters, without control characters"
                ),
            )],
        )),
    }
}

pub(crate) fn required(value: Option<String>, field: &str) -> ApiResult<String> {
    value.ok_or_else(|| required_error(field))
}

/// 422: a required field is missing.
pub(crate) fn required_error(field: &str) -> ApiError {
    ApiError::invalid(
        format!("{field} is required"),
        vec![Detail::new(format!("$.{field}"), "required")],
    )
}

/// A role field: `Ok(None)` when absent, 422 when it names no role.
pub(crate) fn role_field(map: &Map<String, Value>) -> ApiResult<Option<Role>> {
    let Some(role) = text(map, "role", 20)? else {
        return Ok(None);
    };
    match Role::parse(&role) {
        Some(role) => Ok(Some(role)),
        None => {
            let names: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
            Err(ApiError::invalid(
                format!("there is no role '{role}'"),
                vec![Detail::new(
                    "$.role",
                    format!("one of {}", names.join(", ")),
                )],
            ))
        }
    }
}

/// A request's JSON object body with only the fields named (see [`read_object`]), for bodies
/// read field by field.
pub(crate) async fn read_fields(
    state: &AppState,
    request: Request,
    fields: &[&str],
) -> ApiResult<Map<String, Value>> {
    let (parts, body) = request.into_parts();
    read_object(state, &parts.headers, body, fields, false).await
}

/// An audit record's `changes`: what was made or how it now stands.
pub(crate) fn changes<T: serde::Serialize>(value: &T) -> Option<Value> {
    serde_json::to_value(value).ok()
}

fn tenant_of(t: weir_store::Tenant) -> Tenant {
    Tenant {
        id: t.id,
        name: t.name,
        environments: t.environments,
        created_at: time_text(t.created_ms),
    }
}

fn key_of(k: weir_store::ApiKey) -> ApiResult<ApiKey> {
    let role = role_of(&k.role)?;
    Ok(ApiKey {
        id: k.id,
        tenant_id: k.scope.tenant,
        environment: k.scope.environment,
        role,
        permissions: role.permissions().to_vec(),
        name: k.name,
        platform_admin: k.platform,
        created_at: time_text(k.created_ms),
        expires_at: k.expires_ms.map(time_text),
        revoked_at: k.revoked_ms.map(time_text),
    })
}

fn tenant_request(map: &Map<String, Value>) -> ApiResult<TenantRequest> {
    Ok(TenantRequest {
        name: required(text(map, "name", 200)?, "name")?,
        id: text(map, "id", 63)?,
    })
}

/// Create a tenant
///
/// With the environments `development` and `production`. Its id is made from its name
/// (`Acme Inc.` → `acme-inc`) unless given. Needs the platform admin's key.
#[utoipa::path(post, path = "/api/v1/tenants", tag = "access", request_body = TenantRequest,
    responses((status = 201, body = Tenant)))]
async fn post_tenant(
    caller: Caller,
    State(state): State<Arc<AppState>>,
    request: Request,
) -> ApiResult<(StatusCode, Json<Tenant>)> {
    if !caller.who.platform {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "only the platform admin's key creates tenants",
        ));
    }
    let request = tenant_request(&read_fields(&state, request, &["name", "id"]).await?)?;
    let id = match request.id {
        Some(id) => id,
        None => slug(&request.name),
    };
    if !valid_id(&id) {
        return Err(ApiError::invalid(
            "the tenant id is invalid",
            vec![Detail::new(
                "$.id",
                "lowercase letters, digits, '-' and '_', starting with a letter or digit, at most 63 characters (give an id when the name has none of these)",
            )],
        ));
    }
    let tenant = tenant_of(state.store.create_tenant(&id, &request.name).await?);
    audit(
        &state,
        &caller,
        "tenant.create",
        &tenant.id,
        changes(&tenant),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(tenant)))
}

/// List tenants
///
/// Every tenant for the platform admin, its own for a tenant's admin. Needs `admin`.
#[utoipa::path(get, path = "/api/v1/tenants", tag = "access",
    responses((status = 200, body = TenantList)))]
async fn list_tenants(
    caller: Auth<need::Admin>,
    State(state): State<Arc<AppState>>,
) -> ApiResult<Json<TenantList>> {
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
    Ok(Json(TenantList {
        tenants: tenants.into_iter().map(tenant_of).collect(),
    }))
}

/// A tenant
///
/// Any for the platform admin, its own for a tenant's admin. Needs `admin`.
#[utoipa::path(get, path = "/api/v1/tenants/{id}", tag = "access",
    responses((status = 200, body = Tenant)))]
async fn get_tenant(
    caller: Auth<need::Admin>,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> ApiResult<Json<Tenant>> {
    let tenant = match caller.owns(&id) {
        true => state.store.tenant(&id).await?,
        false => None,
    }
    .ok_or_else(|| ApiError::not_found("tenant"))?;
    Ok(Json(tenant_of(tenant)))
}

/// Add an environment
///
/// To the platform admin's tenant of choice, or an owner's own (an environment's admin gets
/// 403); answers the tenant. Needs `admin`, and the owner role.
#[utoipa::path(post, path = "/api/v1/tenants/{id}/environments", tag = "access",
    request_body = EnvironmentRequest, responses((status = 201, body = Tenant)))]
async fn post_environment(
    caller: Auth<need::Admin>,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    request: Request,
) -> ApiResult<(StatusCode, Json<Tenant>)> {
    // Another tenant is not there, whatever the body; an environment is the owner's to add.
    caller.require_manage(&id, None)?;
    let map = read_fields(&state, request, &["name"]).await?;
    let request = EnvironmentRequest {
        name: required(text(&map, "name", 63)?, "name")?,
    };
    let name = request.name;
    if !valid_id(&name) {
        return Err(ApiError::invalid(
            "the environment name is invalid",
            vec![Detail::new(
                "$.name",
                "lowercase letters, digits, '-' and '_', starting with a letter or digit, at most 63 characters",
            )],
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
    Ok((StatusCode::CREATED, Json(tenant_of(tenant))))
}

fn api_key_request(map: &Map<String, Value>) -> ApiResult<ApiKeyRequest> {
    Ok(ApiKeyRequest {
        tenant_id: text(map, "tenant_id", 63)?,
        environment: text(map, "environment", 63)?,
        role: role_field(map)?.ok_or_else(|| required_error("role"))?,
        name: required(text(map, "name", 200)?, "name")?,
        expires_at: text(map, "expires_at", 64)?,
    })
}

/// An expiry time: RFC 3339, in the future; as milliseconds.
fn expiry(at: &str) -> ApiResult<i64> {
    let bad = |message: &str| {
        ApiError::invalid(
            "expires_at is invalid",
            vec![Detail::new("$.expires_at", message)],
        )
    };
    let at = chrono::DateTime::parse_from_rfc3339(at)
        .map_err(|_| bad("an RFC 3339 time, like 2027-01-31T00:00:00Z"))?
        .timestamp_millis();
    if at <= chrono::Utc::now().timestamp_millis() {
        return Err(bad("a time in the future"));
    }
    Ok(at)
}

/// Create an API key
///
/// For the caller's tenant and environment unless named: an admin for its own environment, an
/// owner for any of its tenant's, the platform admin for any tenant's. The key is in this
/// answer only; the store keeps its hash. Needs `admin`.
#[utoipa::path(post, path = "/api/v1/api-keys", tag = "access", request_body = ApiKeyRequest,
    responses((status = 201, body = CreatedApiKey)))]
async fn post_api_key(
    caller: Auth<need::Admin>,
    State(state): State<Arc<AppState>>,
    request: Request,
) -> ApiResult<(StatusCode, Json<CreatedApiKey>)> {
    let map = read_fields(
        &state,
        request,
        &["tenant_id", "environment", "role", "name", "expires_at"],
    )
    .await?;
    let request = api_key_request(&map)?;
    let tenant = request
        .tenant_id
        .unwrap_or_else(|| caller.scope.tenant.clone());
    if !caller.owns(&tenant) {
        return Err(ApiError::not_found("tenant"));
    }
    let environment = request
        .environment
        .unwrap_or_else(|| caller.scope.environment.clone());
    require_environment(&state, &tenant, &environment).await?;
    caller.require_manage(&tenant, Some(&environment))?;
    caller.require_grant(request.role)?;
    let expires_ms = request.expires_at.as_deref().map(expiry).transpose()?;
    let secret = new_key_secret();
    let stored = state
        .store
        .create_api_key(&NewApiKey {
            id: uuid::Uuid::now_v7().to_string(),
            scope: Scope::new(tenant, environment),
            key_hash: hash_key(&secret),
            role: request.role.as_str().to_owned(),
            name: request.name,
            expires_ms,
        })
        .await
        .map_err(|e| match e {
            weir_store::Error::NotFound => no_environment(),
            other => other.into(),
        })?;
    let api_key = key_of(stored)?;
    audit(
        &state,
        &caller,
        "api_key.create",
        &api_key.id,
        changes(&api_key),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedApiKey {
            api_key,
            key: secret,
        }),
    ))
}

/// List API keys
///
/// Without their keys, newest first: an admin's environment's, an owner's tenant's, or for the
/// platform admin every tenant's (or `tenant_id`'s). Needs `admin`.
#[utoipa::path(get, path = "/api/v1/api-keys", tag = "access", params(ApiKeyQuery),
    responses((status = 200, body = ApiKeyList)))]
async fn list_api_keys(
    caller: Auth<need::Admin>,
    State(state): State<Arc<AppState>>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<ApiKeyList>> {
    let tenant = match (caller.who.platform, q.get("tenant_id")) {
        (true, t) => t.cloned(),
        (false, Some(t)) if *t != caller.scope.tenant => return Err(ApiError::not_found("tenant")),
        (false, _) => Some(caller.scope.tenant.clone()),
    };
    let api_keys = state
        .store
        .api_keys(tenant.as_deref(), caller.environment_limit())
        .await?
        .into_iter()
        .map(key_of)
        .collect::<ApiResult<_>>()?;
    Ok(Json(ApiKeyList { api_keys }))
}

/// An API key
///
/// Without the key. Needs `admin`.
#[utoipa::path(get, path = "/api/v1/api-keys/{id}", tag = "access",
    responses((status = 200, body = ApiKey)))]
async fn get_api_key(
    caller: Auth<need::Admin>,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> ApiResult<Json<ApiKey>> {
    Ok(Json(key_of(visible_key(&state, &caller, &id).await?)?))
}

/// A key the caller may see: of its tenant (any for the platform admin), and of its own
/// environment for an admin; 404 otherwise.
async fn visible_key(state: &AppState, caller: &Caller, id: &str) -> ApiResult<weir_store::ApiKey> {
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

/// Revoke an API key
///
/// It stops working at once on this node and within 30 seconds on the others; revoking it
/// again, or the platform admin's key, answers 409. Needs `admin`.
#[utoipa::path(delete, path = "/api/v1/api-keys/{id}", tag = "access",
    responses((status = 200, body = ApiKey)))]
async fn revoke_api_key(
    caller: Auth<need::Admin>,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> ApiResult<Json<ApiKey>> {
    let tenant = caller.tenant_limit();
    let key = visible_key(&state, &caller, &id).await?;
    caller.require_grant(role_of(&key.role)?)?;
    if key.platform {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "the platform admin's key cannot be revoked through the API",
        ));
    }
    state
        .store
        .revoke_api_key(tenant, &id)
        .await
        .map_err(|e| match e {
            weir_store::Error::NotFound => {
                ApiError::new(ErrorCode::Conflict, "the key is revoked already")
            }
            other => other.into(),
        })?;
    // Revoked keys stop at once here, and within KEY_CACHE_TTL on the other nodes.
    state.keys.lock().expect("key cache").clear();
    audit(&state, &caller, "api_key.revoke", &id, None).await?;
    let key = state
        .store
        .api_key_by_id(tenant, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("API key"))?;
    Ok(Json(key_of(key)?))
}

fn audit_record(r: weir_store::AuditRecord) -> ApiResult<AuditRecord> {
    let actor_type = ActorType::parse(&r.actor_type).ok_or_else(|| {
        tracing::error!(
            "internal error: an audit record with actor type '{}'",
            r.actor_type
        );
        ApiError::internal()
    })?;
    Ok(AuditRecord {
        id: r.id,
        actor_type,
        actor_id: r.actor_id,
        action: r.action,
        target: r.target,
        changes: r.changes,
        at: time_text(r.at_ms),
    })
}

/// The audit log
///
/// The caller's scope's records of who changed what, newest first; keyset pages by `cursor`.
/// Needs `admin`.
#[utoipa::path(get, path = "/api/v1/audit", tag = "access", params(AuditQuery),
    responses((status = 200, body = AuditList)))]
async fn list_audit(
    caller: Auth<need::Admin>,
    State(state): State<Arc<AppState>>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<AuditList>> {
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
    let next_cursor = next_cursor(&records, limit, |r| r.id.to_string());
    Ok(Json(AuditList {
        audit: records
            .into_iter()
            .map(audit_record)
            .collect::<ApiResult<_>>()?,
        next_cursor,
    }))
}

/// The permissions an [`Auth`] extractor can ask for, as types.
pub mod need {
    use super::Perm;

    /// A permission a handler needs before it runs.
    pub trait Permission: Send + Sync + 'static {
        const PERM: Perm;
    }

    macro_rules! permission {
        ($($name:ident),+) => {$(
            #[derive(Debug, Clone, Copy)]
            pub struct $name;
            impl Permission for $name {
                const PERM: Perm = Perm::$name;
            }
        )+};
    }
    permission!(Read, Write, Execute, Decide, Admin);
}

/// The caller of a request, authenticated and allowed `P` (401 or 403 before the handler
/// runs): `Auth<need::Execute>`.
pub struct Auth<P>(pub Caller, std::marker::PhantomData<P>);

impl<P> std::ops::Deref for Auth<P> {
    type Target = Caller;

    fn deref(&self) -> &Caller {
        &self.0
    }
}

impl<P: need::Permission> axum::extract::FromRequestParts<Arc<AppState>> for Auth<P> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &Arc<AppState>,
    ) -> ApiResult<Self> {
        let caller = authorize_for(state, &parts.headers, P::PERM).await?;
        Ok(Auth(caller, std::marker::PhantomData))
    }
}

/// Any authenticated caller, whatever its role (401 before the handler runs).
impl axum::extract::FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &Arc<AppState>,
    ) -> ApiResult<Self> {
        authorize(state, &parts.headers).await
    }
}
