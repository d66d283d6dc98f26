//! The OpenAPI 3.1 document of the API, served at `/api/v1/openapi.json` with an interactive
//! reference at `/api/v1/docs/`. It is built from
//! [`operations`], one entry per routed method and path; the tests call every operation it
//! lists (and throw hostile input at each), so a listed operation that is not routed fails
//! them.

use serde_json::{Map, Value, json};

use crate::access::Perm;

/// One operation of the API.
pub struct Op {
    pub method: &'static str,
    pub path: &'static str,
    pub tag: &'static str,
    pub summary: &'static str,
    /// The permission it needs; `None` for the open `/health` and the document itself.
    pub perm: Option<Perm>,
    /// Query parameters: name, JSON Schema type, description.
    pub query: &'static [(&'static str, &'static str, &'static str)],
    /// The request body's schema (a component name), and whether it may be left out.
    pub body: Option<(&'static str, bool)>,
    /// The success status and its body's schema (a component name).
    pub ok: (u16, &'static str),
    /// Whether it can answer 409.
    pub conflict: bool,
}

macro_rules! op {
    ($m:literal $p:literal, $tag:literal, $perm:expr, $summary:literal, query: $q:expr, body: $b:expr, ok: $ok:expr, conflict: $c:expr) => {
        Op {
            method: $m,
            path: $p,
            tag: $tag,
            summary: $summary,
            perm: $perm,
            query: $q,
            body: $b,
            ok: $ok,
            conflict: $c,
        }
    };
}

/// Every operation, in the order the reference lists them.
pub fn operations() -> Vec<Op> {
    use Perm::*;
    let wf_list: &[(&str, &str, &str)] = &[
        (
            "enabled",
            "boolean",
            "Only enabled (true) or disabled (false) workflows",
        ),
        ("tag", "string", "Only workflows with this tag"),
        (
            "event",
            "string",
            "Only workflows a trigger of which listens for this event type",
        ),
        ("q", "string", "Text in the id, name or description"),
        ("cursor", "string", "The next_cursor of the page before"),
        ("offset", "integer", "Items to skip"),
        ("limit", "integer", "Items per page, up to 500"),
    ];
    let exec_list: &[(&str, &str, &str)] = &[
        ("workflow_id", "string", "Only this workflow's executions"),
        (
            "status",
            "string",
            "pending, running, waiting, retrying, completed, failed or cancelled",
        ),
        ("decision", "string", "allow or block"),
        ("event_id", "string", "Only those started by this event"),
        (
            "event_type",
            "string",
            "Only those started by events of this type",
        ),
        ("since", "string", "Started at or after this RFC 3339 time"),
        ("until", "string", "Started before this RFC 3339 time"),
        ("cursor", "string", "The next_cursor of the page before"),
        ("offset", "integer", "Items to skip"),
        ("limit", "integer", "Items per page, up to 1000"),
    ];
    let mut ops = vec![
        op!("get" "/health", "system", None, "Liveness", query: &[], body: None, ok: (200, "Health"), conflict: false),
        op!("get" "/api/v1/openapi.json", "system", None, "This document", query: &[], body: None, ok: (200, "Object"), conflict: false),
        op!("post" "/api/v1/workflows", "workflows", Some(Write), "Store a workflow, or a new version of it (JSON or YAML)", query: &[], body: Some(("WorkflowDefinition", false)), ok: (201, "StoredWorkflow"), conflict: false),
        op!("get" "/api/v1/workflows", "workflows", Some(Read), "List workflows", query: wf_list, body: None, ok: (200, "WorkflowList"), conflict: false),
        op!("get" "/api/v1/workflows/{id}", "workflows", Some(Read), "A workflow's current version", query: &[], body: None, ok: (200, "Workflow"), conflict: false),
        op!("put" "/api/v1/workflows/{id}", "workflows", Some(Write), "Store a new version of a workflow", query: &[], body: Some(("WorkflowDefinition", false)), ok: (200, "StoredWorkflow"), conflict: false),
        op!("delete" "/api/v1/workflows/{id}", "workflows", Some(Write), "Delete a workflow (409 while it runs, unless force=true, which cancels its runs)", query: &[("force", "boolean", "Cancel running executions")], body: None, ok: (200, "Deleted"), conflict: true),
        op!("post" "/api/v1/workflows/{id}/enable", "workflows", Some(Write), "Enable a workflow", query: &[], body: None, ok: (200, "Enabled"), conflict: false),
        op!("post" "/api/v1/workflows/{id}/disable", "workflows", Some(Write), "Disable a workflow", query: &[], body: None, ok: (200, "Enabled"), conflict: false),
        op!("post" "/api/v1/workflows/{id}/execute", "workflows", Some(Execute), "Start an execution by hand", query: &[], body: Some(("ExecuteRequest", true)), ok: (202, "Started"), conflict: true),
        op!("get" "/api/v1/workflows/{id}/versions", "workflows", Some(Read), "A workflow's versions", query: &[], body: None, ok: (200, "VersionList"), conflict: false),
        op!("get" "/api/v1/workflows/{id}/versions/{version}", "workflows", Some(Read), "One version of a workflow", query: &[], body: None, ok: (200, "Version"), conflict: false),
        op!("post" "/api/v1/workflows/{id}/versions/{version}/activate", "workflows", Some(Write), "Make a version current (rollback)", query: &[], body: None, ok: (200, "Enabled"), conflict: false),
        op!("get" "/api/v1/workflows/{id}/runs/", "executions", Some(Read), "A workflow's executions (an alias)", query: exec_list, body: None, ok: (200, "ExecutionList"), conflict: false),
        op!("post" "/api/v1/events", "events", Some(Execute), "Send an event; answers the decisions of the executions it starts", query: &[], body: Some(("EventRequest", false)), ok: (200, "EventAnswer"), conflict: true),
        op!("get" "/api/v1/events", "events", Some(Read), "List events", query: &[("event_type", "string", "Only this type"), ("type", "string", "Same as event_type"), ("source", "string", "Only from this source"), ("since", "string", "Received at or after (RFC 3339)"), ("until", "string", "Received before (RFC 3339)"), ("cursor", "string", "The next_cursor of the page before"), ("limit", "integer", "Items per page, up to 500")], body: None, ok: (200, "EventList"), conflict: false),
        op!("get" "/api/v1/events/{id}", "events", Some(Read), "An event and the executions it started", query: &[], body: None, ok: (200, "Event"), conflict: false),
        op!("get" "/api/v1/executions", "executions", Some(Read), "List executions", query: exec_list, body: None, ok: (200, "ExecutionList"), conflict: false),
        op!("get" "/api/v1/executions/{id}", "executions", Some(Read), "An execution with its steps", query: &[], body: None, ok: (200, "Execution"), conflict: false),
        op!("get" "/api/v1/executions/{id}/trace", "executions", Some(Read), "An execution's timeline", query: &[], body: None, ok: (200, "Trace"), conflict: false),
        op!("post" "/api/v1/executions/{id}/cancel", "executions", Some(Execute), "Cancel a running or waiting execution", query: &[], body: None, ok: (202, "Started"), conflict: true),
        op!("post" "/api/v1/executions/{id}/retry", "executions", Some(Execute), "Retry a failed execution from its failed step", query: &[], body: None, ok: (202, "Started"), conflict: true),
        op!("get" "/api/v1/workflow-runs/{id}/", "executions", Some(Read), "An execution (an alias)", query: &[], body: None, ok: (200, "Execution"), conflict: false),
        op!("get" "/api/v1/approvals", "approvals", Some(Read), "List approvals", query: &[("status", "string", "pending, approved, rejected, expired or withdrawn"), ("entity", "string", "Entity type"), ("entity_id", "string", "Entity id"), ("role", "string", "Approver role"), ("execution_id", "string", "Only this execution's"), ("cursor", "string", "The next_cursor of the page before"), ("limit", "integer", "Items per page, up to 500")], body: None, ok: (200, "ApprovalList"), conflict: false),
        op!("get" "/api/v1/approvals/{id}", "approvals", Some(Read), "An approval", query: &[], body: None, ok: (200, "Approval"), conflict: false),
        op!("post" "/api/v1/approvals/{id}/approve", "approvals", Some(Decide), "Approve (once)", query: &[], body: Some(("DecisionRequest", true)), ok: (200, "Approval"), conflict: true),
        op!("post" "/api/v1/approvals/{id}/reject", "approvals", Some(Decide), "Reject (once)", query: &[], body: Some(("DecisionRequest", true)), ok: (200, "Approval"), conflict: true),
        op!("post" "/api/v1/tenants", "access", Some(Admin), "Create a tenant (platform admin)", query: &[], body: Some(("TenantRequest", false)), ok: (201, "Tenant"), conflict: true),
        op!("get" "/api/v1/tenants", "access", Some(Admin), "List tenants", query: &[], body: None, ok: (200, "TenantList"), conflict: false),
        op!("get" "/api/v1/tenants/{id}", "access", Some(Admin), "A tenant", query: &[], body: None, ok: (200, "Tenant"), conflict: false),
        op!("post" "/api/v1/tenants/{id}/environments", "access", Some(Admin), "Add an environment", query: &[], body: Some(("EnvironmentRequest", false)), ok: (201, "Tenant"), conflict: true),
        op!("post" "/api/v1/api-keys", "access", Some(Admin), "Create an API key (the key is in this answer only)", query: &[], body: Some(("ApiKeyRequest", false)), ok: (201, "ApiKey"), conflict: false),
        op!("get" "/api/v1/api-keys", "access", Some(Admin), "List API keys (without their keys)", query: &[("tenant_id", "string", "Only this tenant's (platform admin)")], body: None, ok: (200, "ApiKeyList"), conflict: false),
        op!("get" "/api/v1/api-keys/{id}", "access", Some(Admin), "An API key", query: &[], body: None, ok: (200, "ApiKey"), conflict: false),
        op!("delete" "/api/v1/api-keys/{id}", "access", Some(Admin), "Revoke an API key", query: &[], body: None, ok: (200, "ApiKey"), conflict: true),
        op!("post" "/api/v1/users", "access", Some(Admin), "Add a user of the web UI (password stored as an argon2id hash)", query: &[], body: Some(("UserRequest", false)), ok: (201, "User"), conflict: true),
        op!("get" "/api/v1/users", "access", Some(Admin), "List a tenant's users", query: &[("tenant_id", "string", "This tenant's (platform admin)")], body: None, ok: (200, "UserList"), conflict: false),
        op!("get" "/api/v1/users/{id}", "access", Some(Admin), "A user", query: &[], body: None, ok: (200, "User"), conflict: false),
        op!("patch" "/api/v1/users/{id}", "access", Some(Admin), "Change a user's name, role or password, or disable it (a new password or disabling ends its sessions)", query: &[], body: Some(("UserChange", false)), ok: (200, "User"), conflict: false),
        op!("delete" "/api/v1/users/{id}", "access", Some(Admin), "Disable a user and end its sessions", query: &[], body: None, ok: (200, "User"), conflict: false),
        op!("post" "/api/v1/auth/login", "auth", None, "Sign in: a session token for one environment, also set as an HttpOnly cookie", query: &[], body: Some(("LoginRequest", false)), ok: (201, "Session"), conflict: false),
        op!("post" "/api/v1/auth/logout", "auth", Some(Read), "End the caller's session", query: &[], body: None, ok: (204, ""), conflict: false),
        op!("post" "/api/v1/auth/refresh", "auth", Some(Read), "Trade the caller's session for a new one", query: &[], body: None, ok: (201, "Session"), conflict: false),
        op!("get" "/api/v1/auth/me", "auth", Some(Read), "Who the caller is (key or session) and what it may do", query: &[], body: None, ok: (200, "Me"), conflict: false),
        op!("post" "/api/v1/auth/password", "auth", Some(Read), "Change the signed-in user's password (ends every session of the user)", query: &[], body: Some(("PasswordChange", false)), ok: (204, ""), conflict: false),
        op!("get" "/api/v1/audit", "access", Some(Admin), "The audit log", query: &[("actor_type", "string", "user, api_key, ai_agent or system"), ("actor_id", "string", "The actor's id"), ("action", "string", "Like workflow.put"), ("target", "string", "The object's id"), ("since", "string", "At or after (RFC 3339)"), ("until", "string", "Before (RFC 3339)"), ("cursor", "string", "The next_cursor of the page before"), ("limit", "integer", "Items per page, up to 500")], body: None, ok: (200, "AuditList"), conflict: false),
    ];
    // Alias paths, the same handlers.
    let aliases = vec![
        op!("post" "/api/v1/workflows/definitions", "aliases", Some(Write), "Store a workflow (alias path)", query: &[], body: Some(("WorkflowDefinition", false)), ok: (201, "StoredWorkflow"), conflict: false),
        op!("get" "/api/v1/workflows/definitions", "aliases", Some(Read), "List workflows (alias path)", query: wf_list, body: None, ok: (200, "WorkflowList"), conflict: false),
        op!("get" "/api/v1/workflows/definitions/{id}", "aliases", Some(Read), "A workflow (alias path)", query: &[], body: None, ok: (200, "Workflow"), conflict: false),
        op!("put" "/api/v1/workflows/definitions/{id}", "aliases", Some(Write), "A new version (alias path)", query: &[], body: Some(("WorkflowDefinition", false)), ok: (200, "StoredWorkflow"), conflict: false),
        op!("delete" "/api/v1/workflows/definitions/{id}", "aliases", Some(Write), "Delete a workflow (alias path)", query: &[("force", "boolean", "Cancel running executions")], body: None, ok: (200, "Deleted"), conflict: true),
        op!("post" "/api/v1/workflows/definitions/{id}/enable", "aliases", Some(Write), "Enable (alias path)", query: &[], body: None, ok: (200, "Enabled"), conflict: false),
        op!("post" "/api/v1/workflows/definitions/{id}/disable", "aliases", Some(Write), "Disable (alias path)", query: &[], body: None, ok: (200, "Enabled"), conflict: false),
        op!("post" "/api/v1/workflows/definitions/{id}/trigger", "aliases", Some(Execute), "Start by hand with trigger_data (alias path)", query: &[], body: Some(("ExecuteRequest", true)), ok: (202, "Started"), conflict: true),
        op!("get" "/api/v1/workflows/executions", "aliases", Some(Read), "List executions (alias path)", query: exec_list, body: None, ok: (200, "ExecutionList"), conflict: false),
        op!("get" "/api/v1/workflows/executions/{id}", "aliases", Some(Read), "An execution (alias path)", query: &[], body: None, ok: (200, "Execution"), conflict: false),
        op!("post" "/api/v1/workflows/executions/{id}/cancel", "aliases", Some(Execute), "Cancel (alias path)", query: &[], body: None, ok: (202, "Started"), conflict: true),
        op!("post" "/api/v1/workflows/executions/{id}/retry", "aliases", Some(Execute), "Retry (alias path)", query: &[], body: None, ok: (202, "Started"), conflict: true),
    ];
    ops.extend(aliases);
    ops
}

fn object(props: &[(&str, Value)], required: &[&str]) -> Value {
    let mut p = Map::new();
    for (k, v) in props {
        p.insert((*k).to_owned(), v.clone());
    }
    json!({ "type": "object", "properties": p, "required": required })
}

fn r(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn list_of(field: &str, item: &str) -> Value {
    object(
        &[
            (field, json!({ "type": "array", "items": r(item) })),
            ("next_cursor", json!({ "type": ["string", "null"] })),
        ],
        &[field],
    )
}

/// The schemas of users and sessions.
fn user_components() -> Value {
    let s = || json!({ "type": "string" });
    let time = || json!({ "type": ["string", "null"], "format": "date-time" });
    let role = || json!({"type": "string", "enum": crate::access::ROLES});
    let password = || json!({"type": "string", "minLength": 10, "maxLength": 256});
    json!({
        "UserRequest": object(&[("email", json!({"type": "string", "format": "email"})), ("password", password()),
            ("role", role()), ("name", s()), ("tenant_id", s())], &["email", "password", "role"]),
        "UserChange": object(&[("name", s()), ("role", role()),
            ("password", password()), ("disabled", json!({"type": "boolean"}))], &[]),
        "User": object(&[("id", s()), ("tenant_id", s()), ("email", s()), ("name", s()), ("role", s()), ("permissions", json!({"type": "array", "items": s()})),
            ("created_at", time()), ("updated_at", time()), ("disabled_at", time())], &["id", "email", "role"]),
        "UserList": object(&[("users", json!({"type": "array", "items": r("User")}))], &["users"]),
        "LoginRequest": object(&[("email", s()), ("password", s()), ("tenant_id", json!({"type": "string", "description": "default: default"})),
            ("environment", json!({"type": "string", "description": "default: production"}))], &["email", "password"]),
        "Session": object(&[("token", json!({"type": "string", "description": "Send as Authorization: Bearer; only in this answer"})), ("session_id", s()),
            ("tenant_id", s()), ("environment", s()), ("user", r("User")), ("created_at", time()), ("expires_at", time())], &["token", "session_id", "expires_at"]),
        "Me": object(&[("type", json!({"type": "string", "enum": ["api_key", "user"]})), ("id", s()), ("tenant_id", s()), ("environment", s()), ("role", s()),
            ("permissions", json!({"type": "array", "items": s()})), ("platform_admin", json!({"type": "boolean"})), ("expires_at", time()), ("session_id", s()), ("user", r("User"))],
            &["type", "id", "role"]),
        "PasswordChange": object(&[("current_password", s()), ("new_password", password())], &["current_password", "new_password"]),
    })
}

fn components() -> Value {
    let s = || json!({ "type": "string" });
    let ns = || json!({ "type": ["string", "null"] });
    let int = || json!({ "type": "integer" });
    let obj = || json!({ "type": "object" });
    let any = || json!({});
    let time = || json!({ "type": ["string", "null"], "format": "date-time" });
    let decision = || json!({ "type": ["string", "null"], "enum": ["allow", "block", null] });
    json!({
        "Error": object(&[("error", object(&[
            ("code", s()), ("message", s()),
            ("details", json!({ "type": "array", "items": object(&[("path", s()), ("message", s()), ("line", int()), ("column", int())], &[]) })),
        ], &["code", "message", "details"]))], &["error"]),
        "Object": obj(),
        "Health": object(&[("status", s())], &["status"]),
        "WorkflowDefinition": json!({ "type": "object", "description": "A workflow in Weir's definition format (docs/format.md)" }),
        "StoredWorkflow": object(&[("workflow_id", s()), ("id", s()), ("version", int()), ("enabled", json!({"type": "boolean"})),
            ("status", s()), ("created_at", time()), ("warnings", json!({ "type": "array" }))], &["workflow_id", "version"]),
        "WorkflowSummary": object(&[("workflow_id", s()), ("name", ns()), ("version", int()), ("enabled", json!({"type": "boolean"})),
            ("tags", json!({"type": "array", "items": s()})), ("trigger_events", json!({"type": "array", "items": s()}))], &["workflow_id", "version"]),
        "Workflow": object(&[("workflow_id", s()), ("version", int()), ("enabled", json!({"type": "boolean"})), ("definition", obj())], &["workflow_id", "definition"]),
        "WorkflowList": list_of("workflows", "WorkflowSummary"),
        "Deleted": obj(),
        "Enabled": object(&[("workflow_id", s())], &["workflow_id"]),
        "Version": object(&[("workflow_id", s()), ("version", int()), ("current", json!({"type": "boolean"})), ("definition", obj())], &["version"]),
        "VersionList": object(&[("workflow_id", s()), ("current_version", json!({"type": ["integer", "null"]})),
            ("versions", json!({ "type": "array", "items": object(&[("version", int()), ("declared_version", any()), ("current", json!({"type": "boolean"}))], &["version"]) }))], &["versions"]),
        "ExecuteRequest": object(&[("input", obj()), ("trigger_data", obj())], &[]),
        "Started": object(&[("execution_id", s()), ("status", s())], &["execution_id"]),
        "EventRequest": object(&[("event_type", s()), ("payload", obj()), ("source", s()), ("idempotency_key", s()),
            ("timeout_ms", json!({"type": "integer", "minimum": 0, "maximum": 60000}))], &["event_type"]),
        "EventAnswer": object(&[("event_id", s()), ("duplicate", json!({"type": "boolean"})), ("matched_workflows", json!({"type": "array", "items": s()})),
            ("decision", decision()), ("executions", json!({"type": "array", "items": object(&[("execution_id", s()), ("workflow_id", s()),
                ("workflow_version", int()), ("status", s()), ("decision", decision()), ("reason", ns())], &["execution_id"])}))], &["event_id", "executions"]),
        "Event": object(&[("id", s()), ("event_type", s()), ("source", ns()), ("idempotency_key", ns()), ("payload", any()), ("received_at", time()),
            ("triggered", json!({"type": "array"}))], &["id", "event_type"]),
        "EventList": list_of("events", "Event"),
        "Execution": object(&[("id", s()), ("workflow_id", s()), ("workflow_version", int()), ("status", s()), ("decision", decision()),
            ("reason", ns()), ("trigger_event", any()), ("context", any()), ("error", ns()), ("started_at", time()), ("completed_at", time()),
            ("duration_ms", json!({"type": ["integer", "null"]})), ("steps", json!({"type": "array", "items": obj()}))], &["id", "workflow_id", "status"]),
        "ExecutionList": list_of("executions", "Execution"),
        "Trace": object(&[("execution_id", s()), ("status", s()), ("timeline", json!({"type": "array", "items": object(&[("kind", s()), ("at", time())], &["kind"])}))], &["execution_id", "timeline"]),
        "Approval": object(&[("id", s()), ("execution_id", s()), ("step_id", s()), ("status", s()), ("approver_role", ns()), ("entity", ns()),
            ("entity_id", ns()), ("message", ns()), ("requested_at", time()), ("expires_at", time()), ("decided_by", ns()), ("decided_at", time()), ("reason", ns())],
            &["id", "execution_id", "status"]),
        "ApprovalList": list_of("approvals", "Approval"),
        "DecisionRequest": object(&[("reason", s()), ("comment", s())], &[]),
        "TenantRequest": object(&[("name", s()), ("id", s())], &["name"]),
        "EnvironmentRequest": object(&[("name", s())], &["name"]),
        "Tenant": object(&[("id", s()), ("name", s()), ("environments", json!({"type": "array", "items": s()})), ("created_at", time())], &["id", "environments"]),
        "TenantList": object(&[("tenants", json!({"type": "array", "items": r("Tenant")}))], &["tenants"]),
        "ApiKeyRequest": object(&[("tenant_id", s()), ("environment", s()), ("role", json!({"type": "string", "enum": crate::access::ROLES})),
            ("name", s()), ("expires_at", json!({"type": "string", "format": "date-time"}))], &["role", "name"]),
        "ApiKey": object(&[("id", s()), ("key", json!({"type": "string", "description": "Only when it is made"})), ("tenant_id", s()), ("environment", s()),
            ("role", s()), ("permissions", json!({"type": "array", "items": s()})), ("name", s()), ("created_at", time()), ("expires_at", time()), ("revoked_at", time())],
            &["id", "role"]),
        "ApiKeyList": object(&[("api_keys", json!({"type": "array", "items": r("ApiKey")}))], &["api_keys"]),
        "AuditList": list_of("audit", "AuditRecord"),
        "AuditRecord": object(&[("id", int()), ("actor_type", s()), ("actor_id", s()), ("action", s()), ("target", s()), ("changes", any()), ("at", time())],
            &["id", "actor_type", "actor_id", "action"]),
    })
}

/// The OpenAPI 3.1 document.
pub fn document() -> Value {
    let error = |what: &str| json!({ "description": what, "content": { "application/json": { "schema": r("Error") } } });
    let mut paths = Map::new();
    for op in operations() {
        let mut parameters: Vec<Value> = Vec::new();
        for name in ["tenant", "environment", "token", "type", "id", "version"] {
            if op.path.contains(&format!("{{{name}}}")) {
                parameters.push(json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } }));
            }
        }
        for (name, kind, description) in op.query {
            parameters.push(json!({ "name": name, "in": "query", "required": false, "description": description, "schema": { "type": kind } }));
        }
        let mut responses = Map::new();
        responses.insert(
            op.ok.0.to_string(),
            match op.ok.0 {
                204 => json!({ "description": "Done" }),
                _ => {
                    json!({ "description": "Done", "content": { "application/json": { "schema": r(op.ok.1) } } })
                }
            },
        );
        // The open operations with a body (sign-in) fail like the others.
        if op.perm.is_some() || op.body.is_some() {
            for (code, what) in [
                ("400", "Malformed input"),
                (
                    "401",
                    "No valid API key or session (or, signing in, a wrong email or password)",
                ),
                ("403", "The key's role does not allow it"),
                ("404", "No such object in the key's tenant and environment"),
                ("408", "The request took too long"),
                ("413", "The body is too large"),
                ("415", "Not JSON (or YAML where accepted)"),
                ("422", "Well-formed but invalid"),
                ("429", "Over the key's rate limit; see Retry-After"),
            ] {
                responses.insert(code.into(), error(what));
            }
            if op.conflict {
                responses.insert("409".into(), error("Conflicts with the object's state"));
            }
        }
        let mut operation = json!({
            "tags": [op.tag], "summary": op.summary,
            "operationId": format!("{}_{}", op.method, op.path.trim_start_matches('/').replace(['/', '{', '}', '-', '.'], "_")),
            "parameters": parameters, "responses": responses,
        });
        match op.perm {
            Some(p) => {
                operation["security"] = json!([{ "bearer": [] }]);
                operation["description"] = json!(format!("Needs `{}`.", p.name()));
            }
            None => operation["security"] = json!([]),
        }
        if let Some((schema, optional)) = op.body {
            let mut content = json!({ "application/json": { "schema": r(schema) } });
            if schema == "WorkflowDefinition" {
                content["application/yaml"] = json!({ "schema": r(schema) });
            }
            operation["requestBody"] = json!({ "required": !optional, "content": content });
        }
        paths
            .entry(op.path.to_owned())
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .expect("a path item is an object")
            .insert(op.method.to_owned(), operation);
    }
    let mut schemas = components();
    if let (Some(all), Value::Object(more)) = (schemas.as_object_mut(), user_components()) {
        all.extend(more);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Weir API", "version": env!("CARGO_PKG_VERSION"),
            "description": "Events in, allow/block decisions out, durable workflows. Every /api/v1 call needs `Authorization: Bearer <API key>`; errors are {\"error\": {\"code\", \"message\", \"details\"}}.",
        },
        "servers": [{ "url": "/" }],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
        },
    })
}
