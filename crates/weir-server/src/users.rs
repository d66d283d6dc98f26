//! Users and sessions, for the web UI: a tenant's admin adds people with a role and a
//! password (stored as an argon2id hash); a person signs in with email and password and gets a
//! short-lived session token for one environment, sent back as a bearer token or in an
//! HttpOnly, SameSite=Strict cookie. Sessions end on sign-out, on expiry, and when the user's
//! password changes or the user is disabled.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use axum::Json;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use serde_json::{Map, Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use weir_api_types::access::Role;
use weir_api_types::users::{
    CallerType, LoginRequest, Me, PasswordChange, Session, SwitchRequest, User, UserList,
    UserQuery, UserRequest, UserUpdate,
};
use weir_api_types::{Detail, ErrorBody, ErrorCode};
use weir_store::{NewSession, NewUser, Scope, UserChange, hash_key};

use crate::access::{
    Auth, Caller, Identity, Principal, SESSION_COOKIE, SESSION_PREFIX, audit, changes, need,
    read_fields, require_environment, required, required_error, role_field, role_of, text,
};
use crate::{ApiError, ApiResult, AppState, time_text};

pub(crate) fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(post_user, list_users))
        .routes(routes!(get_user, patch_user, delete_user))
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(refresh))
        .routes(routes!(switch))
        .routes(routes!(me))
        .routes(routes!(change_password))
}

/// Password length bounds, in characters.
const MIN_PASSWORD: usize = 10;
const MAX_PASSWORD: usize = 256;

/// The tenant and environment a sign-in uses when the body names none: the ones `weir serve`
/// makes on an empty database.
const DEFAULT_TENANT: &str = "default";
const DEFAULT_ENVIRONMENT: &str = "production";

/// Failed sign-ins allowed per tenant × email in a minute; after them, 429.
const SIGN_IN_FAILURES_PER_MINUTE: usize = 10;

fn user_of(u: weir_store::User) -> ApiResult<User> {
    let role = role_of(&u.role)?;
    Ok(User {
        id: u.id,
        tenant_id: u.tenant,
        environment: u.environment,
        email: u.email,
        name: u.name,
        role,
        permissions: role.permissions().to_vec(),
        created_at: time_text(u.created_ms),
        updated_at: time_text(u.updated_ms),
        disabled_at: u.disabled_ms.map(time_text),
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
            vec![Detail::new(
                format!("$.{field}"),
                format!(
                    "a string of {MIN_PASSWORD} to {MAX_PASSWORD} characters, without control characters"
                ),
            )],
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
            vec![Detail::new(
                format!("$.{field}"),
                "an address like ana@example.com",
            )],
        ));
    }
    Ok(Some(value))
}

fn user_request(map: &Map<String, Value>) -> ApiResult<UserRequest> {
    Ok(UserRequest {
        tenant_id: text(map, "tenant_id", 63)?,
        email: required(email(map, "email")?, "email")?,
        password: required(password(map, "password")?, "password")?,
        role: role_field(map)?.ok_or_else(|| required_error("role"))?,
        name: text(map, "name", 200)?,
        environment: text(map, "environment", 63)?,
    })
}

/// Add a user
///
/// A user of the web UI, of the caller's tenant (any tenant for the platform admin), limited to
/// `environment` when one is named. An admin's users work in its own environment; a user of
/// every environment, and an owner, need an owner to add them. The password is stored as an
/// argon2id hash. Needs `admin`.
#[utoipa::path(post, path = "/api/v1/users", tag = "access", request_body = UserRequest,
    responses((status = 201, body = User)))]
async fn post_user(
    caller: Auth<need::Admin>,
    State(state): State<Arc<AppState>>,
    request: Request,
) -> ApiResult<(StatusCode, Json<User>)> {
    let map = read_fields(
        &state,
        request,
        &[
            "email",
            "password",
            "role",
            "name",
            "tenant_id",
            "environment",
        ],
    )
    .await?;
    let request = user_request(&map)?;
    let tenant = request
        .tenant_id
        .unwrap_or_else(|| caller.scope.tenant.clone());
    if caller.tenant_limit().is_some_and(|own| own != tenant) {
        return Err(ApiError::not_found("tenant"));
    }
    let named = request.environment;
    if let Some(env) = &named {
        require_environment(&state, &tenant, env).await?;
    }
    let environment = named
        .clone()
        .or_else(|| caller.environment_limit().map(str::to_owned));
    caller.require_manage(&tenant, environment.as_deref())?;
    caller.require_grant(request.role)?;
    if request.role == Role::Owner && named.is_some() {
        return Err(owner_everywhere("$.environment"));
    }
    let name = request.name.unwrap_or_else(|| request.email.clone());
    let user = state
        .store
        .create_user(&NewUser {
            id: uuid::Uuid::now_v7().to_string(),
            tenant,
            environment,
            email: request.email,
            name,
            role: request.role.as_str().to_owned(),
            password_hash: hash_password(request.password).await?,
        })
        .await
        .map_err(crate::missing("tenant"))?;
    let user = user_of(user)?;
    audit(&state, &caller, "user.create", &user.id, changes(&user)).await?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// List a tenant's users
///
/// Oldest first: the caller's tenant's (for an admin, those who work in its environment), or
/// for the platform admin `tenant_id`'s. Needs `admin`.
#[utoipa::path(get, path = "/api/v1/users", tag = "access", params(UserQuery),
    responses((status = 200, body = UserList)))]
async fn list_users(
    caller: Auth<need::Admin>,
    State(state): State<Arc<AppState>>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<UserList>> {
    let tenant = q
        .get("tenant_id")
        .cloned()
        .unwrap_or_else(|| caller.scope.tenant.clone());
    if caller.tenant_limit().is_some_and(|own| own != tenant) {
        return Err(ApiError::not_found("tenant"));
    }
    let users = state
        .store
        .users(&tenant)
        .await?
        .into_iter()
        .filter(|u| caller.environment_limit().is_none_or(|e| u.works_in(e)))
        .map(user_of)
        .collect::<ApiResult<_>>()?;
    Ok(Json(UserList { users }))
}

/// A user
///
/// Needs `admin`.
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "access",
    responses((status = 200, body = User)))]
async fn get_user(
    caller: Auth<need::Admin>,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> ApiResult<Json<User>> {
    Ok(Json(user_of(visible_user(&state, &caller, &id).await?)?))
}

/// A user the caller may see: of its tenant (any for the platform admin) and, for an admin,
/// one who works in its environment; 404 otherwise.
async fn visible_user(state: &AppState, caller: &Caller, id: &str) -> ApiResult<weir_store::User> {
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
        vec![Detail::new(
            path,
            "an owner is a user of every environment: leave environment out (or give this user another role)",
        )],
    )
}

fn user_update(map: &Map<String, Value>) -> ApiResult<UserUpdate> {
    let disabled = match map.get("disabled") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => {
            return Err(ApiError::invalid(
                "disabled is invalid",
                vec![Detail::new("$.disabled", "true or false")],
            ));
        }
    };
    Ok(UserUpdate {
        name: text(map, "name", 200)?,
        role: role_field(map)?,
        password: password(map, "password")?,
        disabled,
    })
}

/// Change a user
///
/// Its name, role or password, or whether it is disabled; a new password or disabling ends
/// its sessions. Needs `admin`.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "access", request_body = UserUpdate,
    responses((status = 200, body = User)))]
async fn patch_user(
    caller: Auth<need::Admin>,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    request: Request,
) -> ApiResult<Json<User>> {
    // Another tenant's (or environment's) user is not there, whatever the body says.
    visible_user(&state, &caller, &id).await?;
    let map = read_fields(&state, request, &["name", "role", "password", "disabled"]).await?;
    let update = user_update(&map)?;
    let change = UserChange {
        name: update.name,
        role: update.role.map(|r| r.as_str().to_owned()),
        password_hash: match update.password {
            Some(p) => Some(hash_password(p).await?),
            None => None,
        },
        disabled: update.disabled,
    };
    change_user(&state, &caller, &id, change, "user.update").await
}

/// Disable a user
///
/// It can no longer sign in and its sessions end; its id stays in the audit log. Needs
/// `admin`.
#[utoipa::path(delete, path = "/api/v1/users/{id}", tag = "access",
    responses((status = 200, body = User)))]
async fn delete_user(
    caller: Auth<need::Admin>,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> ApiResult<Json<User>> {
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
) -> ApiResult<Json<User>> {
    let tenant = caller.tenant_limit();
    let before = visible_user(state, caller, id).await?;
    caller.require_manage(&before.tenant, before.environment.as_deref())?;
    caller.require_grant(role_of(&before.role)?)?;
    if let Some(role) = &change.role {
        caller.require_grant(role_of(role)?)?;
        if role == Role::Owner.as_str() && before.environment.is_some() {
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
    let user = user_of(user)?;
    let mut after = changes(&user).unwrap_or_default();
    if change.password_hash.is_some() {
        after["password"] = json!("changed");
    }
    audit(
        state,
        caller,
        action,
        id,
        Some(json!({ "before": changes(&user_of(before)?), "after": after })),
    )
    .await?;
    Ok(Json(user))
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

/// A new session's answer: 201, the cookie, and the session with its token.
type Started = (StatusCode, HeaderMap, Json<Session>);

/// Starts a session for a user and answers with its token, in the body and in a cookie.
async fn start_session(
    state: &AppState,
    user: &weir_store::User,
    environment: &str,
    secure: bool,
) -> ApiResult<Started> {
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
                vec![Detail::new("$.environment", "an environment of the tenant")],
            ),
            other => other.into(),
        })?;
    let caller = Caller {
        scope: session.scope.clone(),
        who: Identity::of_session(session.clone())?,
        agent: None,
    };
    audit(state, &caller, "session.start", &session.id, None).await?;
    let cookie = format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        state.session_ttl.as_secs(),
        if secure { "; Secure" } else { "" }
    );
    let answer = Session {
        session_id: session.id,
        tenant_id: session.scope.tenant,
        environment: session.scope.environment,
        user: user_of(session.user)?,
        created_at: time_text(session.created_ms),
        expires_at: time_text(session.expires_ms),
        token,
    };
    Ok((StatusCode::CREATED, set_cookie(&cookie), Json(answer)))
}

/// Whether the request reached the TLS-terminating proxy in front over HTTPS (its
/// `X-Forwarded-Proto`): the session cookie is then `Secure`. A client that lies only makes its
/// own cookie stricter.
fn over_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
}

/// A `Set-Cookie` header.
fn set_cookie(cookie: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(cookie) {
        headers.append(header::SET_COOKIE, v);
    }
    headers
}

/// The `Set-Cookie` header that makes a browser forget its session.
fn clear_cookie() -> HeaderMap {
    set_cookie(&format!(
        "{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"
    ))
}

fn login_request(map: &Map<String, Value>) -> ApiResult<LoginRequest> {
    let email = required(email(map, "email")?, "email")?;
    let password = match map.get("password") {
        Some(Value::String(p)) if p.chars().count() <= MAX_PASSWORD => p.clone(),
        _ => {
            return Err(ApiError::invalid(
                "password is required",
                vec![Detail::new(
                    "$.password",
                    format!("a string of at most {MAX_PASSWORD} characters"),
                )],
            ));
        }
    };
    Ok(LoginRequest {
        email,
        password,
        tenant_id: text(map, "tenant_id", 63)?,
        environment: text(map, "environment", 63)?,
    })
}

/// Sign in
///
/// A session token for one environment (tenant `default` and environment `production` unless
/// named), also set as an HttpOnly, SameSite=Strict cookie. A wrong email or password answers
/// 401 alike; too many failures for one email in a minute, 429. Needs no key.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", security(()),
    request_body = LoginRequest,
    responses(
        (status = 201, body = Session,
            headers(("Set-Cookie" = String, description = "The session token, as the `weir_session` cookie"))),
        (status = 401, description = "Wrong email or password", body = ErrorBody),
        (status = 429, description = "Too many failed sign-ins for this email; see Retry-After", body = ErrorBody),
    ))]
async fn login(State(state): State<Arc<AppState>>, request: Request) -> ApiResult<Started> {
    let secure = over_https(request.headers());
    let map = read_fields(
        &state,
        request,
        &["email", "password", "tenant_id", "environment"],
    )
    .await?;
    let request = login_request(&map)?;
    let email = request.email;
    let tenant = request
        .tenant_id
        .unwrap_or_else(|| DEFAULT_TENANT.to_owned());
    let environment = request
        .environment
        .unwrap_or_else(|| DEFAULT_ENVIRONMENT.to_owned());
    let attempts = format!("{tenant}\u{0}{email}");
    if let Some(wait) = Failures::get().blocked(&attempts) {
        let mut e = ApiError::new(
            ErrorCode::RateLimited,
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
    let user = match (verify_password(request.password, stored).await, user) {
        (true, Some(user)) => user,
        _ => {
            Failures::get().record(attempts);
            return Err(ApiError::new(
                ErrorCode::Unauthorized,
                "wrong email or password",
            ));
        }
    };
    if let Some(own) = user.environment.as_deref().filter(|e| *e != environment) {
        return Err(ApiError::forbidden(format!(
            "this user works in the environment '{own}' only"
        )));
    }
    start_session(&state, &user, &environment, secure).await
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

/// Sign out
///
/// Ends the caller's session and clears its cookie. Needs a session (an API key answers 400).
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth",
    responses((status = 204, description = "Signed out",
        headers(("Set-Cookie" = String, description = "Clears the `weir_session` cookie")))))]
async fn logout(
    caller: Caller,
    State(state): State<Arc<AppState>>,
) -> ApiResult<(StatusCode, HeaderMap)> {
    let id = session_of(&caller)?.to_owned();
    end(&state, &id).await?;
    audit(&state, &caller, "session.end", &id, None).await?;
    Ok((StatusCode::NO_CONTENT, clear_cookie()))
}

async fn end(state: &AppState, session_id: &str) -> ApiResult<()> {
    match state.store.revoke_session(session_id).await {
        Ok(()) | Err(weir_store::Error::NotFound) => {}
        Err(e) => return Err(e.into()),
    }
    state.keys.lock().expect("key cache").clear();
    Ok(())
}

/// Refresh a session
///
/// Trades the caller's live session for a new one (a new token and cookie; the old token
/// stops). Needs a session (an API key answers 400).
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth",
    responses((status = 201, body = Session,
        headers(("Set-Cookie" = String, description = "The new session token, as the `weir_session` cookie")))))]
async fn refresh(
    caller: Caller,
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> ApiResult<Started> {
    let id = session_of(&caller)?.to_owned();
    let user = state
        .store
        .user(Some(&caller.scope.tenant), &caller.who.id)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?;
    end(&state, &id).await?;
    start_session(
        &state,
        &user,
        &caller.scope.environment,
        over_https(&headers),
    )
    .await
}

/// Switch environment
///
/// Trades the caller's session for one in another environment of its tenant (a new token
/// and cookie; the old token stops): one of `GET /api/v1/auth/me`'s `environments`. Needs a
/// session (an API key answers 400).
#[utoipa::path(post, path = "/api/v1/auth/switch", tag = "auth", request_body = SwitchRequest,
    responses((status = 201, body = Session,
        headers(("Set-Cookie" = String, description = "The new session token, as the `weir_session` cookie")))))]
async fn switch(
    caller: Caller,
    State(state): State<Arc<AppState>>,
    request: Request,
) -> ApiResult<Started> {
    let id = session_of(&caller)?.to_owned();
    let secure = over_https(request.headers());
    let map = read_fields(&state, request, &["environment"]).await?;
    let environment = required(text(&map, "environment", 63)?, "environment")?;
    let user = state
        .store
        .user(Some(&caller.scope.tenant), &caller.who.id)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?;
    if !environments(&state, &caller, Some(&user))
        .await?
        .contains(&environment)
    {
        return Err(ApiError::invalid(
            format!("this user cannot act in the environment '{environment}'"),
            vec![Detail::new(
                "$.environment",
                "one of GET /api/v1/auth/me's environments",
            )],
        ));
    }
    let started = start_session(&state, &user, &environment, secure).await?;
    end(&state, &id).await?;
    audit(
        &state,
        &caller,
        "session.switch",
        &id,
        Some(json!({"environment": environment})),
    )
    .await?;
    Ok(started)
}

/// The environments of its tenant a caller may act in: a key's own; a user's own, or every
/// one of the tenant for a user of them all.
async fn environments(
    state: &AppState,
    caller: &Caller,
    user: Option<&weir_store::User>,
) -> ApiResult<Vec<String>> {
    match user {
        Some(u) if u.environment.is_none() => Ok(state
            .store
            .tenant(&caller.scope.tenant)
            .await?
            .map(|t| t.environments)
            .unwrap_or_else(|| vec![caller.scope.environment.clone()])),
        _ => Ok(vec![caller.scope.environment.clone()]),
    }
}

/// Who the caller is
///
/// By key or session, with what it may do, and the agent when one acts. Needs a key or a
/// session (any role).
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth",
    responses((status = 200, body = Me)))]
async fn me(caller: Caller, State(state): State<Arc<AppState>>) -> ApiResult<Json<Me>> {
    let (kind, session_id) = match &caller.who.principal {
        Principal::ApiKey => (CallerType::ApiKey, None),
        Principal::User { session_id } => (CallerType::User, Some(session_id.clone())),
    };
    let stored = match kind {
        CallerType::User => {
            state
                .store
                .user(Some(&caller.scope.tenant), &caller.who.id)
                .await?
        }
        CallerType::ApiKey => None,
    };
    let environments = environments(&state, &caller, stored.as_ref()).await?;
    let user = stored.map(user_of).transpose()?;
    Ok(Json(Me {
        kind,
        id: caller.who.id.clone(),
        tenant_id: caller.scope.tenant.clone(),
        environment: caller.scope.environment.clone(),
        role: caller.who.role,
        permissions: caller.who.role.permissions().to_vec(),
        platform_admin: caller.who.platform,
        environments,
        expires_at: caller.who.expires_ms.map(time_text),
        session_id,
        user,
        agent: caller.agent.clone(),
    }))
}

fn password_change(map: &Map<String, Value>) -> ApiResult<PasswordChange> {
    let current_password = match map.get("current_password") {
        Some(Value::String(p)) if p.chars().count() <= MAX_PASSWORD => p.clone(),
        _ => {
            return Err(ApiError::invalid(
                "current_password is required",
                vec![Detail::new("$.current_password", "the password in use")],
            ));
        }
    };
    Ok(PasswordChange {
        current_password,
        new_password: required(password(map, "new_password")?, "new_password")?,
    })
}

/// Change one's password
///
/// The signed-in user's own; every session of the user ends, this one too. Needs a session
/// (an API key answers 400).
#[utoipa::path(post, path = "/api/v1/auth/password", tag = "auth", request_body = PasswordChange,
    responses((status = 204, description = "Changed; signed out",
        headers(("Set-Cookie" = String, description = "Clears the `weir_session` cookie")))))]
async fn change_password(
    caller: Caller,
    State(state): State<Arc<AppState>>,
    request: Request,
) -> ApiResult<(StatusCode, HeaderMap)> {
    session_of(&caller)?;
    let map = read_fields(&state, request, &["current_password", "new_password"]).await?;
    let change = password_change(&map)?;
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
    if !verify_password(change.current_password, stored).await {
        return Err(ApiError::invalid(
            "the current password is wrong",
            vec![Detail::new("$.current_password", "the password in use")],
        ));
    }
    let update = UserChange {
        password_hash: Some(hash_password(change.new_password).await?),
        ..UserChange::default()
    };
    state
        .store
        .update_user(Some(&tenant), &user.id, &update)
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
    Ok((StatusCode::NO_CONTENT, clear_cookie()))
}
