//! Users of the web UI and their sessions: signing in, out, and who the caller is.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::access::{Agent, Permission, Role};

/// A user of the web UI (its password is never shown).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct User {
    pub id: String,
    pub tenant_id: String,
    /// The one environment the user works in; `null`: every environment of its tenant.
    #[schema(required = true)]
    pub environment: Option<String>,
    /// Lowercase; unique in its tenant.
    pub email: String,
    pub name: String,
    pub role: Role,
    /// What the role grants.
    pub permissions: Vec<Permission>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    /// `null` while the user may sign in.
    #[schema(format = DateTime, required = true)]
    pub disabled_at: Option<String>,
}

/// `GET /api/v1/users`: oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct UserList {
    pub users: Vec<User>,
}

/// `POST /api/v1/users`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "ana@example.com", "password": "correct horse battery staple", "role": "operator", "name": "Ana"}))]
pub struct UserRequest {
    /// Stored lowercase.
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    /// 10 to 256 characters, without control characters; stored as an argon2id hash.
    #[schema(min_length = 10, max_length = 256)]
    pub password: String,
    pub role: Role,
    /// The email when left out.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// The caller's tenant when left out; another tenant for the platform admin only.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 63)]
    pub tenant_id: Option<String>,
    /// The one environment the user works in. An admin's users work in its own; an owner's
    /// work in every environment when this is left out.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 63)]
    pub environment: Option<String>,
}

/// `PATCH /api/v1/users/{id}`: what to change. A new password or disabling ends the user's
/// sessions.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"role": "editor"}))]
pub struct UserUpdate {
    #[serde(default)]
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    #[serde(default)]
    pub role: Option<Role>,
    #[serde(default)]
    #[schema(min_length = 10, max_length = 256)]
    pub password: Option<String>,
    /// True disables the user (as `DELETE` does); false lets it sign in again.
    #[serde(default)]
    pub disabled: Option<bool>,
}

/// The filter of `GET /api/v1/users`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    /// This tenant's users (the platform admin; the caller's tenant when left out).
    pub tenant_id: Option<String>,
}

/// `POST /api/v1/auth/login`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "ana@example.com", "password": "correct horse battery staple"}))]
pub struct LoginRequest {
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    #[schema(max_length = 256)]
    pub password: String,
    /// `default` when left out.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 63)]
    pub tenant_id: Option<String>,
    /// `production` when left out.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 63)]
    pub environment: Option<String>,
}

/// `POST /api/v1/auth/switch`: the environment to act in next.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SwitchRequest {
    /// One of `GET /api/v1/auth/me`'s `environments`.
    #[schema(min_length = 1, max_length = 63)]
    pub environment: String,
}

/// A new session (201): its token, in this answer and in the `weir_session` cookie only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Session {
    pub session_id: String,
    pub tenant_id: String,
    /// The environment the session acts in.
    pub environment: String,
    pub user: User,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub expires_at: String,
    /// Send as `Authorization: Bearer <token>` (or let the browser send the cookie).
    pub token: String,
}

/// `POST /api/v1/auth/password`: a signed-in user's new password.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    /// The password in use.
    #[schema(max_length = 256)]
    pub current_password: String,
    /// 10 to 256 characters, without control characters.
    #[schema(min_length = 10, max_length = 256)]
    pub new_password: String,
}

crate::wire_enum! {
    /// What authenticated a request.
    CallerType {
        /// `Authorization: Bearer weir_…`.
        ApiKey = "api_key",
        /// A signed-in user's session (`Authorization: Bearer wses_…` or the cookie).
        User = "user",
    }
}

/// `GET /api/v1/auth/me`: who the caller is and what it may do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Me {
    #[serde(rename = "type")]
    pub kind: CallerType,
    /// The key's or the user's id.
    pub id: String,
    pub tenant_id: String,
    pub environment: String,
    pub role: Role,
    pub permissions: Vec<Permission>,
    pub platform_admin: bool,
    /// The environments of its tenant the caller may act in, sorted: a session moves to
    /// another with `POST /api/v1/auth/switch`; a key acts in its own only.
    pub environments: Vec<String>,
    /// When the key or session stops working; `null` for a key that does not expire.
    #[schema(format = DateTime, required = true)]
    pub expires_at: Option<String>,
    /// A session's id (a user only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub session_id: Option<String>,
    /// The signed-in user (a user only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub user: Option<User>,
    /// The AI agent acting, when one is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub agent: Option<Agent>,
}
