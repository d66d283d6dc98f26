//! Users and sessions, for the web UI: a tenant's owner or an environment's admin adds people
//! with a role and a password (stored as an argon2id hash). A user works in every environment
//! of its tenant, or in one (an admin's users work in its environment); a person signs in with
//! email and password and gets a short-lived session token for one environment, sent back as a bearer token or in an
//! HttpOnly, SameSite=Strict cookie. Sessions end on sign-out, on expiry, and when the user's
//! password changes or the user is disabled.

use std::sync::{Arc, OnceLock};

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use weir_store::{NewSession, NewUser, Scope, Session, User, UserChange, hash_key};

use crate::access::{
    Caller, Identity, Perm, Principal, ROLES, SESSION_COOKIE, SESSION_PREFIX, audit, authorize,
    authorize_for, require_environment, required, role_permissions, text,
};
use crate::{ApiError, ApiResult, AppState, read_object, time};

/// Password length bounds, in characters.
const MIN_PASSWORD: usize = 10;
const MAX_PASSWORD: usize = 256;

/// The tenant and environment a sign-in uses when the body names none: the ones `weir serve`
/// makes on an empty database.
const DEFAULT_TENANT: &str = "default";
const DEFAULT_ENVIRONMENT: &str = "production";

/// Failed sign-ins allowed per tenant × email in a minute; after them, 429.
const SIGN_IN_FAILURES_PER_MINUTE: usize = 10;

fn user_json(u: &User) -> Value {
    let permissions: Vec<&str> = role_permissions(&u.role).iter().map(|p| p.name()).collect();
    json!({
        "id": u.id, "tenant_id": u.tenant, "environment": u.environment, "email": u.email,
        "name": u.name, "role": u.role,
        "permissions": permissions, "created_at": time(Some(u.created_ms)),
        "updated_at": time(Some(u.updated_ms)), "disabled_at": time(u.disabled_ms),
    })
}

/// A turn at argon2: each hash takes 19 MiB and tens of milliseconds, so at most two run at
/// once, however many sign-ins (real or not) arrive.
async fn argon2_turn() -> tokio::sync::SemaphorePermit<'static> {
    static TURNS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);
    TURNS
        .acquire()
        .await
        .expect("the semaphore is never closed")
}

/// Hashes a password with argon2id (OWASP's parameters, the crate's defaults) off the async
/// threads: one hash takes tens of milliseconds by design.
async fn hash_password(password: String) -> ApiResult<String> {
    let _turn = argon2_turn().await;
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
    })
    .await
    .map_err(|_| ApiError::internal())?
    .map_err(|_| ApiError::internal())
}

/// Whether `password` matches a stored hash. Without a user, it checks against a hash of a
/// random password, so an unknown email takes as long as a wrong password.
async fn verify_password(password: String, stored: Option<String>) -> bool {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let _turn = argon2_turn().await;
    tokio::task::spawn_blocking(move || {
        let dummy = DUMMY.get_or_init(|| {
            Argon2::default()
                .hash_password(uuid::Uuid::new_v4().to_string().as_bytes())
                .map(|h| h.to_string())
                .unwrap_or_default()
        });
        let (text, real) = match &stored {
            Some(h) => (h.as_str(), true),
            None => (dummy.as_str(), false),
        };
        let Ok(hash) = PasswordHash::new(text) else {
            return false;
        };
        Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok()
            && real
    })
    .await
    .unwrap_or(false)
}

/// A password field: any characters but control characters, 10 to 256 of them; not trimmed.
fn password(map: &Map<String, Value>, field: &str) -> ApiResult<Option<String>> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s))
            if (MIN_PASSWORD..=MAX_PASSWORD).contains(&s.chars().count())
                && !s.chars().any(char::is_control) =>
        {
            Ok(Some(s.clone()))
        }
        Some(_) => Err(ApiError::invalid(
            format!("{field} is invalid"),
            vec![
                json!({ "path": format!("$.{field}"), "message": format!("a string of {MIN_PASSWORD} to {MAX_PASSWORD} characters, without control characters") }),
            ],
        )),
    }
}

/// An email address field, lowercased: one `@` with text on both sides, a dot in the domain,
/// no spaces, at most 254 characters.
fn email(map: &Map<String, Value>, field: &str) -> ApiResult<Option<String>> {
    let Some(value) = text(map, field, 254)? else {
        return Ok(None);
    };
    let value = value.to_lowercase();
    let ok = match value.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
                && !value.chars().any(char::is_whitespace)
        }
        None => false,
    };
    if !ok {
        return Err(ApiError::invalid(
            format!("{field} is not an email address"),
            vec![
                json!({ "path": format!("$.{field}"), "message": "an address like ana@example.com" }),
            ],
        ));
    }
    Ok(Some(value))
}

fn role(map: &Map<String, Value>) -> ApiResult<Option<String>> {
    let Some(role) = text(map, "role", 20)? else {
        return Ok(None);
    };
    if !ROLES.contains(&role.as_str()) {
        return Err(ApiError::invalid(
            format!("there is no role '{role}'"),
            vec![json!({ "path": "$.role", "message": format!("one of {}", ROLES.join(", ")) })],
        ));
    }
    Ok(Some(role))
}

/// `POST /api/v1/users` `{"email", "password", "role", "name"?, "tenant_id"?, "environment"?}`:
/// a user of the caller's tenant (any tenant for the platform admin), limited to
/// `environment` when one is named. An admin's users work in its own environment; a user of
/// every environment, and an owner, need an owner to add them.
pub async fn post_user(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Admin).await?;
    let map = read_object(
        &headers,
        body,
        &[
            "email",
            "password",
            "role",
            "name",
            "tenant_id",
            "environment",
        ],
        false,
    )
    .await?;
    let tenant = text(&map, "tenant_id", 63)?.unwrap_or_else(|| caller.scope.tenant.clone());
    if caller.tenant_limit().is_some_and(|own| own != tenant) {
        return Err(ApiError::not_found("tenant"));
    }
    let email = required(email(&map, "email")?, "email")?;
    let pass = required(password(&map, "password")?, "password")?;
    let role = required(role(&map)?, "role")?;
    let name = text(&map, "name", 200)?.unwrap_or_else(|| email.clone());
    let named = text(&map, "environment", 63)?;
    if let Some(env) = &named {
        require_environment(&state, &tenant, env).await?;
    }
    let environment = named
        .clone()
        .or_else(|| caller.environment_limit().map(str::to_owned));
    caller.require_manage(&tenant, environment.as_deref())?;
    caller.require_grant(&role)?;
    if role == "owner" && named.is_some() {
        return Err(owner_everywhere("$.environment"));
    }
    let user = state
        .store
        .create_user(&NewUser {
            id: uuid::Uuid::now_v7().to_string(),
            tenant,
            environment,
            email,
            name,
            role,
            password_hash: hash_password(pass).await?,
        })
        .await
        .map_err(crate::missing("tenant"))?;
    let answer = user_json(&user);
    audit(
        &state,
        &caller,
        "user.create",
        &user.id,
        Some(answer.clone()),
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(answer)).into_response())
}

/// `GET /api/v1/users[?tenant_id=]`: a tenant's users, oldest first; for an admin, those who
/// work in its environment.
pub async fn list_users(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Admin).await?;
    let tenant = q
        .get("tenant_id")
        .cloned()
        .unwrap_or_else(|| caller.scope.tenant.clone());
    if caller.tenant_limit().is_some_and(|own| own != tenant) {
        return Err(ApiError::not_found("tenant"));
    }
    let users: Vec<Value> = state
        .store
        .users(&tenant)
        .await?
        .iter()
        .filter(|u| caller.environment_limit().is_none_or(|e| u.works_in(e)))
        .map(user_json)
        .collect();
    Ok(axum::Json(json!({ "users": users })).into_response())
}

/// `GET /api/v1/users/{id}`.
pub async fn get_user(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Admin).await?;
    let user = visible_user(&state, &caller, &id).await?;
    Ok(axum::Json(user_json(&user)).into_response())
}

/// A user the caller may see: of its tenant (any for the platform admin) and, for an admin,
/// one who works in its environment; 404 otherwise.
async fn visible_user(state: &AppState, caller: &Caller, id: &str) -> ApiResult<User> {
    state
        .store
        .user(caller.tenant_limit(), id)
        .await?
        .filter(|u| caller.environment_limit().is_none_or(|e| u.works_in(e)))
        .ok_or_else(|| ApiError::not_found("user"))
}

/// 422: an owner works in every environment of its tenant.
fn owner_everywhere(path: &str) -> ApiError {
    ApiError::invalid(
        "an owner works in every environment of its tenant",
        vec![
            json!({ "path": path, "message": "an owner is a user of every environment: leave environment out (or give this user another role)" }),
        ],
    )
}

/// `PATCH /api/v1/users/{id}` `{"name"?, "role"?, "password"?, "disabled"?}`. A new password
/// or disabling ends the user's sessions.
pub async fn patch_user(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Body,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Admin).await?;
    // Another tenant's (or environment's) user is not there, whatever the body says.
    visible_user(&state, &caller, &id).await?;
    let map = read_object(
        &headers,
        body,
        &["name", "role", "password", "disabled"],
        false,
    )
    .await?;
    let disabled = match map.get("disabled") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => {
            return Err(ApiError::invalid(
                "disabled is invalid",
                vec![json!({ "path": "$.disabled", "message": "true or false" })],
            ));
        }
    };
    let change = UserChange {
        name: text(&map, "name", 200)?,
        role: role(&map)?,
        password_hash: match password(&map, "password")? {
            Some(p) => Some(hash_password(p).await?),
            None => None,
        },
        disabled,
    };
    change_user(&state, &caller, &id, change, "user.update").await
}

/// `DELETE /api/v1/users/{id}`: disables the user (its id stays in the audit log) and ends its
/// sessions.
pub async fn delete_user(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Admin).await?;
    let change = UserChange {
        disabled: Some(true),
        ..UserChange::default()
    };
    change_user(&state, &caller, &id, change, "user.disable").await
}

async fn change_user(
    state: &AppState,
    caller: &Caller,
    id: &str,
    change: UserChange,
    action: &str,
) -> ApiResult {
    let tenant = caller.tenant_limit();
    let before = visible_user(state, caller, id).await?;
    caller.require_manage(&before.tenant, before.environment.as_deref())?;
    caller.require_grant(&before.role)?;
    if let Some(role) = &change.role {
        caller.require_grant(role)?;
        if role == "owner" && before.environment.is_some() {
            return Err(owner_everywhere("$.role"));
        }
    }
    let user = state
        .store
        .update_user(tenant, id, &change)
        .await
        .map_err(crate::missing("user"))?;
    // Cached sessions carry the role: a new role, password or disabling takes effect now.
    if change.password_hash.is_some() || change.disabled == Some(true) || change.role.is_some() {
        state.keys.lock().expect("key cache").clear();
    }
    let mut after = user_json(&user);
    if change.password_hash.is_some() {
        after["password"] = json!("changed");
    }
    audit(
        state,
        caller,
        action,
        id,
        Some(json!({ "before": user_json(&before), "after": after })),
    )
    .await?;
    Ok(axum::Json(user_json(&user)).into_response())
}

/// Recent failed sign-ins by tenant × email: a sliding window of a minute.
struct Failures(std::sync::Mutex<std::collections::HashMap<String, Vec<std::time::Instant>>>);

impl Failures {
    const WINDOW: std::time::Duration = std::time::Duration::from_secs(60);

    fn get() -> &'static Failures {
        static FAILURES: OnceLock<Failures> = OnceLock::new();
        FAILURES.get_or_init(|| Failures(Default::default()))
    }

    /// Seconds until another attempt is allowed, when this key is over its limit.
    fn blocked(&self, key: &str) -> Option<u64> {
        let mut map = self.0.lock().expect("sign-in failures");
        let times = map.get_mut(key)?;
        times.retain(|t| t.elapsed() < Self::WINDOW);
        if times.len() < SIGN_IN_FAILURES_PER_MINUTE {
            return None;
        }
        let oldest = times.iter().min()?;
        Some((Self::WINDOW.saturating_sub(oldest.elapsed())).as_secs() + 1)
    }

    fn record(&self, key: String) {
        let mut map = self.0.lock().expect("sign-in failures");
        if map.len() > 100_000 {
            map.retain(|_, times| times.iter().any(|t| t.elapsed() < Self::WINDOW));
        }
        map.entry(key).or_default().push(std::time::Instant::now());
    }
}

/// A new session token: `wses_` and 64 hex digits of randomness.
fn new_session_token() -> String {
    format!(
        "{SESSION_PREFIX}{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// Starts a session for a user and answers with its token, in the body and in a cookie.
async fn start_session(state: &AppState, user: &User, environment: &str) -> ApiResult {
    let token = new_session_token();
    let expires_ms = chrono::Utc::now().timestamp_millis() + state.session_ttl.as_millis() as i64;
    let session = state
        .store
        .create_session(&NewSession {
            id: uuid::Uuid::now_v7().to_string(),
            token_hash: hash_key(&token),
            user_id: user.id.clone(),
            scope: Scope::new(user.tenant.clone(), environment),
            expires_ms,
        })
        .await
        .map_err(|e| match e {
            weir_store::Error::NotFound => ApiError::invalid(
                "the tenant has no such environment",
                vec![json!({ "path": "$.environment", "message": "an environment of the tenant" })],
            ),
            other => other.into(),
        })?;
    let caller = Caller {
        scope: session.scope.clone(),
        who: Identity::of_session(session.clone()),
        agent: None,
    };
    audit(state, &caller, "session.start", &session.id, None).await?;
    let mut answer = session_json(&session);
    answer["token"] = json!(token);
    let mut response = (StatusCode::CREATED, axum::Json(answer)).into_response();
    set_cookie(
        &mut response,
        &format!(
            "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}",
            state.session_ttl.as_secs()
        ),
    );
    Ok(response)
}

fn session_json(s: &Session) -> Value {
    json!({
        "session_id": s.id, "tenant_id": s.scope.tenant, "environment": s.scope.environment,
        "user": user_json(&s.user), "created_at": time(Some(s.created_ms)),
        "expires_at": time(Some(s.expires_ms)),
    })
}

fn set_cookie(response: &mut Response, cookie: &str) {
    if let Ok(v) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
}

fn clear_cookie(response: &mut Response) {
    set_cookie(
        response,
        &format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
}

/// `POST /api/v1/auth/login` `{"email", "password", "tenant_id"?, "environment"?}`: signs a user
/// in (tenant `default` and environment `production` unless named). 401 for a wrong email or
/// password alike; 429 after too many failures for one email.
pub async fn login(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult {
    let map = read_object(
        &headers,
        body,
        &["email", "password", "tenant_id", "environment"],
        false,
    )
    .await?;
    let email = required(email(&map, "email")?, "email")?;
    let pass = match map.get("password") {
        Some(Value::String(p)) if p.chars().count() <= MAX_PASSWORD => p.clone(),
        _ => {
            return Err(ApiError::invalid(
                "password is required",
                vec![
                    json!({ "path": "$.password", "message": format!("a string of at most {MAX_PASSWORD} characters") }),
                ],
            ));
        }
    };
    let tenant = text(&map, "tenant_id", 63)?.unwrap_or_else(|| DEFAULT_TENANT.to_owned());
    let environment =
        text(&map, "environment", 63)?.unwrap_or_else(|| DEFAULT_ENVIRONMENT.to_owned());
    let attempts = format!("{tenant}\u{0}{email}");
    if let Some(wait) = Failures::get().blocked(&attempts) {
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many failed sign-ins for this email; retry later",
        );
        e.retry_after = Some(wait);
        return Err(e);
    }
    let found = state.store.user_login(&tenant, &email).await?;
    let (user, stored) = match found {
        Some((user, hash)) => (Some(user), Some(hash)),
        None => (None, None),
    };
    let user = match (verify_password(pass, stored).await, user) {
        (true, Some(user)) => user,
        _ => {
            Failures::get().record(attempts);
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "wrong email or password",
            ));
        }
    };
    if let Some(own) = user.environment.as_deref().filter(|e| *e != environment) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("this user works in the environment '{own}' only"),
        ));
    }
    start_session(&state, &user, &environment).await
}

/// The caller's session, or 400 for a caller that signed in with an API key.
fn session_of(caller: &Caller) -> ApiResult<&str> {
    match &caller.who.principal {
        Principal::User { session_id } => Ok(session_id),
        Principal::ApiKey => Err(ApiError::bad_request(
            "this request is signed with an API key, not a session (revoke keys with DELETE /api/v1/api-keys/{id})",
        )),
    }
}

/// `POST /api/v1/auth/logout`: ends the caller's session.
pub async fn logout(State(state): State<Arc<AppState>>, headers: HeaderMap) -> ApiResult {
    let caller = authorize(&state, &headers).await?;
    let id = session_of(&caller)?.to_owned();
    end(&state, &id).await?;
    audit(&state, &caller, "session.end", &id, None).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    clear_cookie(&mut response);
    Ok(response)
}

async fn end(state: &AppState, session_id: &str) -> ApiResult<()> {
    match state.store.revoke_session(session_id).await {
        Ok(()) | Err(weir_store::Error::NotFound) => {}
        Err(e) => return Err(e.into()),
    }
    state.keys.lock().expect("key cache").clear();
    Ok(())
}

/// `POST /api/v1/auth/refresh`: trades the caller's live session for a new one.
pub async fn refresh(State(state): State<Arc<AppState>>, headers: HeaderMap) -> ApiResult {
    let caller = authorize(&state, &headers).await?;
    let id = session_of(&caller)?.to_owned();
    let user = state
        .store
        .user(Some(&caller.scope.tenant), &caller.who.id)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?;
    end(&state, &id).await?;
    start_session(&state, &user, &caller.scope.environment).await
}

/// `GET /api/v1/auth/me`: who the caller is, by key or session, and what it may do.
pub async fn me(State(state): State<Arc<AppState>>, headers: HeaderMap) -> ApiResult {
    let caller = authorize(&state, &headers).await?;
    let permissions: Vec<&str> = role_permissions(&caller.who.role)
        .iter()
        .map(|p| p.name())
        .collect();
    let mut answer = json!({
        "type": match caller.who.principal { Principal::ApiKey => "api_key", Principal::User { .. } => "user" },
        "id": caller.who.id, "tenant_id": caller.scope.tenant, "environment": caller.scope.environment,
        "role": caller.who.role, "permissions": permissions, "platform_admin": caller.who.platform,
        "expires_at": time(caller.who.expires_ms),
    });
    if let Principal::User { session_id } = &caller.who.principal {
        answer["session_id"] = json!(session_id);
        if let Some(user) = state
            .store
            .user(Some(&caller.scope.tenant), &caller.who.id)
            .await?
        {
            answer["user"] = user_json(&user);
        }
    }
    if let Some(agent) = &caller.agent {
        answer["agent"] =
            json!({ "id": agent.id, "type": agent.kind, "session_id": agent.session });
    }
    Ok(axum::Json(answer).into_response())
}

/// `POST /api/v1/auth/password` `{"current_password", "new_password"}`: a signed-in user
/// changes its own password; every session of the user ends, this one too.
pub async fn change_password(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult {
    let caller = authorize(&state, &headers).await?;
    session_of(&caller)?;
    let map = read_object(&headers, body, &["current_password", "new_password"], false).await?;
    let current = match map.get("current_password") {
        Some(Value::String(p)) if p.chars().count() <= MAX_PASSWORD => p.clone(),
        _ => {
            return Err(ApiError::invalid(
                "current_password is required",
                vec![json!({ "path": "$.current_password", "message": "the password in use" })],
            ));
        }
    };
    let new = required(password(&map, "new_password")?, "new_password")?;
    let tenant = caller.scope.tenant.clone();
    let user = state
        .store
        .user(Some(&tenant), &caller.who.id)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?;
    let stored = state
        .store
        .user_login(&tenant, &user.email)
        .await?
        .map(|(_, h)| h);
    if !verify_password(current, stored).await {
        return Err(ApiError::invalid(
            "the current password is wrong",
            vec![json!({ "path": "$.current_password", "message": "the password in use" })],
        ));
    }
    let change = UserChange {
        password_hash: Some(hash_password(new).await?),
        ..UserChange::default()
    };
    state
        .store
        .update_user(Some(&tenant), &user.id, &change)
        .await?;
    state.keys.lock().expect("key cache").clear();
    audit(
        &state,
        &caller,
        "user.password",
        &user.id,
        Some(json!({ "password": "changed" })),
    )
    .await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    clear_cookie(&mut response);
    Ok(response)
}
