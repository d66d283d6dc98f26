//! Who may do what: roles and their permissions, tenants and their environments, API keys, and
//! the audit log.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

crate::wire_enum! {
    /// What a caller may do; a role grants some of these.
    Permission {
        /// Read workflows, executions, events, approvals and the rest.
        Read = "workflows:read",
        /// Store, change and delete workflows, rules and records.
        Write = "workflows:write",
        /// Send events, start, cancel and retry executions.
        Execute = "workflows:execute",
        /// Approve and reject.
        Decide = "approvals:decide",
        /// Manage an environment: its keys, users, teams, secrets and connectors.
        Admin = "admin",
        /// Manage every environment of the tenant: keys, users and teams in each, new ones.
        Tenant = "tenant:admin",
    }
}

crate::wire_enum! {
    /// A key's or a user's role: what it may do.
    Role {
        /// Everything, in every environment of its tenant, and new environments.
        Owner = "owner",
        /// Everything in its own environment.
        Admin = "admin",
        /// Reads, writes and runs workflows.
        Editor = "editor",
        /// Reads and runs workflows, and decides approvals.
        Operator = "operator",
        /// Reads.
        Viewer = "viewer",
        /// An AI agent: reads, writes and runs workflows, but neither decides approvals nor
        /// administers; its requests are audited as an agent's.
        Agent = "agent",
    }
}

impl Role {
    /// What the role may do.
    pub fn permissions(self) -> &'static [Permission] {
        use Permission::*;
        match self {
            Role::Owner => &[Read, Write, Execute, Decide, Admin, Tenant],
            Role::Admin => &[Read, Write, Execute, Decide, Admin],
            Role::Editor => &[Read, Write, Execute],
            Role::Operator => &[Read, Execute, Decide],
            Role::Viewer => &[Read],
            Role::Agent => &[Read, Write, Execute],
        }
    }
}

/// A tenant: its own workflows, keys and users, in one or more environments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Tenant {
    pub id: String,
    pub name: String,
    /// Its environments' names, sorted.
    pub environments: Vec<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
}

/// `GET /api/v1/tenants`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TenantList {
    pub tenants: Vec<Tenant>,
}

/// `POST /api/v1/tenants`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Acme Inc."}))]
pub struct TenantRequest {
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// Lowercase letters, digits, `-` and `_`, starting with a letter or digit; made from the
    /// name when left out (`Acme Inc.` → `acme-inc`).
    #[serde(default)]
    #[schema(min_length = 1, max_length = 63, pattern = "^[a-z0-9][a-z0-9_-]*$")]
    pub id: Option<String>,
}

/// `POST /api/v1/tenants/{id}/environments`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "staging"}))]
pub struct EnvironmentRequest {
    /// Lowercase letters, digits, `-` and `_`, starting with a letter or digit.
    #[schema(min_length = 1, max_length = 63, pattern = "^[a-z0-9][a-z0-9_-]*$")]
    pub name: String,
}

/// An API key, without the key itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ApiKey {
    pub id: String,
    pub tenant_id: String,
    pub environment: String,
    pub role: Role,
    /// What the role grants.
    pub permissions: Vec<Permission>,
    pub name: String,
    /// The platform admin's key (made at bootstrap): manages tenants and every tenant's keys
    /// and users.
    pub platform_admin: bool,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// `null`: it does not expire.
    #[schema(format = DateTime, required = true)]
    pub expires_at: Option<String>,
    #[schema(format = DateTime, required = true)]
    pub revoked_at: Option<String>,
}

/// `POST /api/v1/api-keys` (201): the key made, with the key itself, in this answer only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CreatedApiKey {
    #[serde(flatten)]
    pub api_key: ApiKey,
    /// Send as `Authorization: Bearer <key>`. Only in this answer: the store keeps its hash.
    pub key: String,
}

/// `GET /api/v1/api-keys`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ApiKeyList {
    pub api_keys: Vec<ApiKey>,
}

/// `POST /api/v1/api-keys`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"role": "viewer", "name": "dashboards"}))]
pub struct ApiKeyRequest {
    /// The caller's tenant when left out; another tenant for the platform admin only.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 63)]
    pub tenant_id: Option<String>,
    /// The caller's environment when left out.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 63)]
    pub environment: Option<String>,
    pub role: Role,
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// When it stops working (RFC 3339, in the future); never when left out.
    #[serde(default)]
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
}

/// The filter of `GET /api/v1/api-keys`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ApiKeyQuery {
    /// Only this tenant's (the platform admin; other callers see their own tenant's only).
    pub tenant_id: Option<String>,
}

/// An AI agent acting through a key or session, from its `X-Agent-ID`, `X-Agent-Type` and
/// `X-Session-ID` headers (a key with the `agent` role is one without them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Agent {
    pub id: String,
    #[serde(rename = "type")]
    #[schema(required = true)]
    pub kind: Option<String>,
    #[schema(required = true)]
    pub session_id: Option<String>,
}

crate::wire_enum! {
    /// Who did what an audit record says.
    ActorType {
        /// A signed-in user.
        User = "user",
        ApiKey = "api_key",
        /// An AI agent (by its headers, or a key with the `agent` role).
        AiAgent = "ai_agent",
    }
}

/// One audit record: a mutation, who made it, and what changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditRecord {
    pub id: i64,
    pub actor_type: ActorType,
    /// The user's or key's id, or the agent's.
    pub actor_id: String,
    /// Like `workflow.put` or `api_key.revoke`.
    pub action: String,
    /// The id of what it acted on.
    pub target: String,
    /// What changed (before and after, or what was made); an agent's headers under `agent`.
    #[schema(required = true)]
    pub changes: Option<Value>,
    #[schema(format = DateTime)]
    pub at: String,
}

/// `GET /api/v1/audit`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditList {
    pub audit: Vec<AuditRecord>,
    /// The `cursor` of the next page; `null` on the last.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

/// The filters of `GET /api/v1/audit` (newest first).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    pub actor_type: Option<ActorType>,
    /// The actor's id.
    pub actor_id: Option<String>,
    /// Like `workflow.put`.
    pub action: Option<String>,
    /// The object's id.
    pub target: Option<String>,
    /// At or after (RFC 3339).
    pub since: Option<String>,
    /// Before (RFC 3339).
    pub until: Option<String>,
    /// The `next_cursor` of the page before.
    #[param(minimum = 1)]
    pub cursor: Option<i64>,
    /// Items per page (default 100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}
