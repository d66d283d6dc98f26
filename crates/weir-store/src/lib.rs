//! Weir's storage: the [`Store`] trait the engine and server use, and [`SqlStore`], its one
//! implementation over SQLite (the embedded default) and PostgreSQL (several nodes).
//!
//! Every method takes a [`Scope`] (tenant × environment) and every query filters on it; the only
//! unscoped operations are the engine's own (claiming work, listing scopes to build the trigger
//! index). Work is a queue of inputs per execution (the inbox); a node claims executions with a
//! lease and an epoch, and a commit that does not hold the lease writes nothing.

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

mod access;
mod alerts;
mod approvals;
mod batch;
mod events;
mod maintenance;
mod metrics;
mod native;
mod notify;
mod records;
mod retention;
mod rules;
mod secrets;
mod sql;
mod stats;
mod teams;
pub mod testing;
mod users;
mod versions;

pub use alerts::{AlertMetric, MEASURED_RUNS};
pub use maintenance::{MigrationStatus, backup_sqlite, migration_status};
pub use notify::{Listener, MAX_MESSAGE};
pub use retention::Pruned;
pub use sql::{Backend, MAX_OFFSET, SqlStore};
pub use stats::{Durations, EndedAttempts, FinishedRuns, bucket_bounds, bucket_of};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error("the lease on execution {0} was lost")]
    LeaseLost(String),
    #[error("database error: {0}")]
    Database(sqlx::Error),
    /// A unique key another writer took first (see the `From<sqlx::Error>`).
    #[error("it exists already: another request made it at the same time")]
    Taken(sqlx::Error),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database file error: {0}")]
    File(#[from] std::io::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("a stored value does not read back: {0}")]
    Corrupt(String),
    #[error("{0}")]
    Config(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A tenant and one of its environments: the unit of isolation.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Scope {
    pub tenant: String,
    pub environment: String,
}

impl Scope {
    pub fn new(tenant: impl Into<String>, environment: impl Into<String>) -> Self {
        Scope {
            tenant: tenant.into(),
            environment: environment.into(),
        }
    }
}

impl From<sqlx::Error> for Error {
    /// A unique key that another writer took first (two requests creating the same tenant,
    /// secret or connector at once: on PostgreSQL both pass the check before the insert) is a
    /// conflict, like the one the check would have found, not a database failure.
    fn from(e: sqlx::Error) -> Self {
        match e.as_database_error() {
            Some(d) if d.is_unique_violation() => Error::Taken(e),
            _ => Error::Database(e),
        }
    }
}

/// An API key as stored: never the key itself, only its hash (not shown here either).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: String,
    pub scope: Scope,
    pub role: String,
    pub name: String,
    /// The platform admin's key (made at bootstrap): manages tenants and every tenant's keys.
    pub platform: bool,
    pub created_ms: i64,
    pub expires_ms: Option<i64>,
    pub revoked_ms: Option<i64>,
}

/// A key to store: its hash, never the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiKey {
    pub id: String,
    pub scope: Scope,
    pub key_hash: String,
    pub role: String,
    pub name: String,
    pub expires_ms: Option<i64>,
}

/// A write to a record: replace its fields, or merge into them; `create_only` refuses an
/// existing record unless the same operation (`op_key`) made it.
#[derive(Debug, Clone, Copy)]
pub struct RecordWrite<'a> {
    pub entity_type: &'a str,
    pub entity_id: &'a str,
    pub fields: &'a Value,
    pub merge: bool,
    pub create_only: bool,
    pub op_key: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNote {
    pub entity_type: String,
    pub entity_id: String,
    pub note: String,
    pub visibility: String,
    pub execution_id: Option<String>,
    pub op_key: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotification {
    pub recipient: String,
    pub channel: String,
    pub subject: Option<String>,
    pub message: String,
    pub link: Option<String>,
    pub execution_id: Option<String>,
    pub op_key: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotificationFilter {
    pub recipient: Option<String>,
    pub id: Option<String>,
    pub unread_only: bool,
    pub before: Option<String>,
    pub limit: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailTemplate {
    pub name: String,
    pub subject: String,
    pub text: Option<String>,
    pub html: Option<String>,
}

/// Kinds of named JSON definitions kept per scope, as the API took them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Named {
    /// A tenant's action types over HTTP.
    Connectors,
    /// Context enrichment: an entity's data, loaded when a run starts.
    DataSources,
}

impl Named {
    pub(crate) fn table(self) -> &'static str {
        match self {
            Named::Connectors => "connectors",
            Named::DataSources => "data_sources",
        }
    }

    /// What one is called in messages.
    pub fn label(self) -> &'static str {
        match self {
            Named::Connectors => "connector",
            Named::DataSources => "data source",
        }
    }
}

/// What a data source loaded for one entity, kept until `expires_ms`.
#[derive(Debug, Clone, PartialEq)]
pub struct CachedContext {
    pub source: String,
    pub entity_type: String,
    pub entity_id: String,
    pub data: Value,
    pub cached_ms: i64,
    pub expires_ms: i64,
}

/// One fire of a workflow's schedule trigger (by the trigger's index).
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleFire<'a> {
    pub workflow_id: &'a str,
    pub version: i64,
    pub trigger: i64,
    pub fire_ms: i64,
}

/// A debounce window that has closed.
#[derive(Debug, Clone, PartialEq)]
pub struct DueDebounce {
    pub scope: Scope,
    pub workflow_id: String,
    pub key: String,
    pub event_type: String,
    pub payload: Value,
    /// The payload as stored, to take exactly what was read.
    pub payload_text: String,
}

/// A secret as stored: sealed (AES-256-GCM by the server); never the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRow {
    pub name: String,
    pub sealed: String,
    pub policy: SecretPolicy,
    pub created_ms: i64,
    pub updated_ms: i64,
}

/// A setting of a tenant × environment: JSON, by name.
#[derive(Debug, Clone, PartialEq)]
pub struct ScopeSetting {
    pub name: String,
    pub value: serde_json::Value,
    pub updated_ms: i64,
}

/// Where a secret may go. `None` for no restriction of that kind; code and transform steps
/// receive a secret only when `allowed_actions` names them (the engine enforces this).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SecretPolicy {
    /// Hosts (`api.example.com`, `*.example.com`, `host:port`) an action may send it to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_hosts: Option<Vec<String>>,
    /// Action types (`http_request`, a connector's `stripe.create_charge`, `code`) that may
    /// receive it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_actions: Option<Vec<String>>,
}

impl SecretPolicy {
    pub fn is_unrestricted(&self) -> bool {
        self.allowed_hosts.is_none() && self.allowed_actions.is_none()
    }
}

/// The roles a key or a user can have; each gives a fixed set of permissions (the server's
/// `access.rs`). `owner` manages every environment of its tenant, `admin` its own one.
pub const ROLES: &[&str] = &["owner", "admin", "editor", "operator", "viewer", "agent"];

/// A person who signs in to the web UI. The password hash stays in the store (see
/// [`Store::user_login`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub tenant: String,
    /// The one environment the user works in; `None` for every environment of its tenant.
    pub environment: Option<String>,
    /// Lowercase; unique in its tenant.
    pub email: String,
    pub name: String,
    pub role: String,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub disabled_ms: Option<i64>,
}

impl User {
    /// Whether the user may sign in to, and belong to teams of, this environment of its tenant.
    pub fn works_in(&self, environment: &str) -> bool {
        self.environment.as_deref().is_none_or(|e| e == environment)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub id: String,
    pub tenant: String,
    /// Limits the user to one environment; `None` for every environment of the tenant.
    pub environment: Option<String>,
    pub email: String,
    pub name: String,
    pub role: String,
    pub password_hash: String,
}

/// A named group of a tenant's users in one environment: who an approval's `approver_role` and
/// a notification's `role:NAME` stand for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Team {
    pub name: String,
    pub description: Option<String>,
    /// By email.
    pub members: Vec<User>,
    pub created_ms: i64,
    pub updated_ms: i64,
}

/// A team to store: its members by user id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTeam {
    pub name: String,
    pub description: Option<String>,
    pub members: Vec<String>,
}

/// A change to a user; `None` leaves a field as it is. A new password or disabling ends the
/// user's sessions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserChange {
    pub name: Option<String>,
    pub role: Option<String>,
    pub password_hash: Option<String>,
    pub disabled: Option<bool>,
}

/// A live session: its user and the tenant × environment it works in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: String,
    pub user: User,
    pub scope: Scope,
    pub created_ms: i64,
    pub expires_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    pub id: String,
    pub token_hash: String,
    pub user_id: String,
    pub scope: Scope,
    pub expires_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub id: String,
    pub name: String,
    pub created_ms: i64,
    /// Its environments' ids, sorted.
    pub environments: Vec<String>,
}

/// What [`Store::bootstrap`] found or made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bootstrap {
    pub scope: Scope,
    /// True when the database was empty and the default tenant, environment and admin key were
    /// created now.
    pub created: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct WorkflowVersion {
    pub workflow_id: String,
    pub version: i64,
    pub enabled: bool,
    pub definition: Value,
    pub created_ms: i64,
    /// When the workflow was last saved, enabled or disabled.
    pub updated_ms: i64,
}

/// JSON written out once, as text: an execution's state and its step records, which the
/// engine serializes straight from its own types (a `Value` in between cost a few hundred
/// allocations per run, and serializing it again on the store's writer thread).
#[derive(Debug, Clone, PartialEq)]
pub struct Json(String);

impl Json {
    /// `value` as JSON text; `null` for the one thing serde_json refuses (a map with keys
    /// that are not strings), as `serde_json::to_value` would have made it.
    pub fn of<T: Serialize + ?Sized>(value: &T) -> Json {
        Json(serde_json::to_string(value).unwrap_or_else(|_| "null".into()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for Json {
    fn default() -> Self {
        Json("null".into())
    }
}

impl From<Value> for Json {
    fn from(value: Value) -> Self {
        Json(value.to_string())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub id: String,
    pub event_type: String,
    pub source: Option<String>,
    pub idempotency_key: Option<String>,
    /// Serialized by the caller, off the writer's thread.
    pub payload: Json,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewExecution {
    pub id: String,
    pub workflow_id: String,
    pub workflow_version: i64,
    pub parent_id: Option<String>,
    /// The serialized executor state.
    pub state: Json,
    pub status: String,
    /// The execution's first step, already taken in memory (its state, step records, queued
    /// work, waits and approvals), written with the execution. `None` queues a `start` input.
    pub initial: Option<Box<Commit>>,
    /// Written with the lease already held by this node, until this time (epoch
    /// milliseconds): the node goes on with the run itself (its actions), at epoch 0.
    pub held_by: Option<(String, i64)>,
}

/// The columns of a new execution's row: from its first step when it has one.
pub(crate) struct Columns<'a> {
    pub state: &'a Json,
    pub status: &'a str,
    pub decision: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub error: Option<&'a str>,
    pub finished: bool,
}

impl NewExecution {
    pub(crate) fn columns(&self) -> Columns<'_> {
        match &self.initial {
            Some(c) => Columns {
                state: &c.state,
                status: &c.status,
                decision: c.decision.as_deref(),
                reason: c.reason.as_deref(),
                error: c.error.as_deref(),
                finished: c.finished,
            },
            None => Columns {
                state: &self.state,
                status: &self.status,
                decision: None,
                reason: None,
                error: None,
                finished: false,
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ingested {
    /// The event is new; its executions were created with a `start` item each.
    New {
        event_id: String,
        /// Whether the write queued work for a worker: an execution with a next input, or the
        /// event's delivery to an execution waiting for it. A finished decision queues nothing.
        queued: bool,
    },
    /// An event with the same idempotency key exists: nothing was created.
    Duplicate {
        event_id: String,
        executions: Vec<String>,
    },
    /// The idempotency key names another event (another type or payload): nothing was
    /// created. `event_id` is that event's.
    KeyReused { event_id: String },
}

/// An input queued for an execution: what its next step applies. Stored as the inbox's `kind`
/// column and a JSON object of the rest (`payload`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Work {
    /// Start the run (its stored state says how).
    Start,
    /// Perform the action a thread asked for (again, if a node died performing it).
    Perform { thread: u32, attempt: u32 },
    /// A timer the run set is due.
    Timer { timer: u64 },
    /// An event the run waits for arrived.
    Event { event_type: String, payload: Value },
    /// A person decided an approval the run asked for.
    Approval { id: String, approved: bool },
    /// A child run finished: with the child's variables, or an error.
    Child {
        id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        output: Option<Value>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    /// Stop the run.
    Cancel,
    /// Run a failed run again from its failed step.
    Retry,
}

impl Work {
    /// The `kind` column of an action to perform.
    pub const PERFORM: &'static str = "perform";

    /// The `kind` column.
    pub fn kind(&self) -> &'static str {
        match self {
            Work::Start => "start",
            Work::Perform { .. } => Work::PERFORM,
            Work::Timer { .. } => "timer",
            Work::Event { .. } => "event",
            Work::Approval { .. } => "approval",
            Work::Child { .. } => "child",
            Work::Cancel => "cancel",
            Work::Retry => "retry",
        }
    }

    /// The `payload` column: the fields other than the kind, as a JSON object.
    pub fn payload(&self) -> String {
        match serde_json::to_value(self) {
            Ok(Value::Object(mut map)) => {
                map.remove("kind");
                Value::Object(map).to_string()
            }
            _ => "{}".into(),
        }
    }

    /// Reads the two columns back.
    pub fn read(kind: &str, payload: &str) -> Result<Work> {
        let mut map = match serde_json::from_str(payload) {
            Ok(Value::Object(map)) => map,
            Ok(_) | Err(_) => {
                return Err(Error::Corrupt(format!(
                    "a queued '{kind}' item's payload is not a JSON object"
                )));
            }
        };
        map.insert("kind".into(), Value::from(kind));
        serde_json::from_value(Value::Object(map))
            .map_err(|e| Error::Corrupt(format!("a queued '{kind}' item: {e}")))
    }
}

/// A queued input of an execution.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub id: i64,
    pub work: Work,
    pub key: Option<String>,
    pub run_at_ms: i64,
}

impl Item {
    pub fn kind(&self) -> &'static str {
        self.work.kind()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewItem {
    pub work: Work,
    /// Lets a later commit cancel the item (a timer id).
    pub key: Option<String>,
    /// When it becomes due; `None` is now by the database's clock.
    pub run_at_ms: Option<i64>,
}

impl NewItem {
    /// An item due now, with no key.
    pub fn now(work: Work) -> NewItem {
        NewItem {
            work,
            key: None,
            run_at_ms: None,
        }
    }
}

/// An execution this node holds the lease on, with its due inputs.
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    pub execution_id: String,
    pub parent_id: Option<String>,
    pub scope: Scope,
    pub workflow_id: String,
    pub workflow_version: i64,
    pub epoch: i64,
    pub state: Value,
    pub items: Vec<Item>,
}

/// An execution a node holds the lease on, at the epoch of its claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub scope: Scope,
    pub execution_id: String,
    pub epoch: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StepRow {
    pub key: String,
    pub step_id: String,
    pub step_type: String,
    pub status: String,
    pub attempt: i64,
    pub record: Json,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewApproval {
    pub id: String,
    pub step_id: String,
    pub approver_role: Option<String>,
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    pub message: Option<String>,
    pub expires_ms: Option<i64>,
}

/// Everything one step of an execution changes, written in one transaction.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Commit {
    pub state: Json,
    pub status: String,
    pub decision: Option<String>,
    pub reason: Option<String>,
    pub error: Option<String>,
    /// The execution reached a terminal status: its remaining items and waits are dropped.
    pub finished: bool,
    pub done_items: Vec<i64>,
    pub new_items: Vec<NewItem>,
    pub cancel_keys: Vec<String>,
    pub steps: Vec<StepRow>,
    pub awaits_add: Vec<NewAwait>,
    pub awaits_remove: Vec<i64>,
    pub approvals: Vec<NewApproval>,
    pub withdrawn_approvals: Vec<String>,
    /// Approvals nobody decided in time.
    pub expired_approvals: Vec<String>,
    pub new_executions: Vec<NewExecution>,
    /// Inputs for other executions of the scope (a finished child's result for its parent, a
    /// cancel for a child), written in the same transaction so they are never lost or early.
    pub other_items: Vec<(String, NewItem)>,
    /// Give the lease back (the node is done with the execution for now).
    pub release: bool,
    /// Keep the lease this much longer from now (a node still working on the execution).
    pub extend_lease_ms: Option<i64>,
}

/// A thread of an execution that waits for events of a type (or a pattern: `payment.*`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewAwait {
    pub thread: i64,
    pub event_type: String,
    /// The text the event's payload must hold at a path (dotted keys) for the wait's `match`
    /// to hold: an event that holds another text there is not queued for it.
    pub requires: Option<(String, String)>,
}

impl NewAwait {
    /// Whether an event with this payload is queued for the wait (the wait's `match` still
    /// decides): unless the payload holds another text at the required path.
    pub fn may_take(&self, payload: &serde_json::Value) -> bool {
        let Some((path, text)) = &self.requires else {
            return true;
        };
        // Read as the wait's `match` reads it.
        let found = weir_core::path::FieldPath::parse(path)
            .ok()
            .and_then(|p| p.lookup(payload));
        match found {
            Some(serde_json::Value::String(s)) => s == text,
            _ => true,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionRow {
    pub id: String,
    pub workflow_id: String,
    pub workflow_version: i64,
    pub event_id: Option<String>,
    pub parent_id: Option<String>,
    pub status: String,
    pub decision: Option<String>,
    pub reason: Option<String>,
    pub error: Option<String>,
    pub state: Value,
    pub started_ms: i64,
    pub completed_ms: Option<i64>,
    pub updated_ms: i64,
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor_type: Option<String>,
    pub actor_id: Option<String>,
    pub action: Option<String>,
    pub target: Option<String>,
    /// Records at or after this time.
    pub since_ms: Option<i64>,
    /// Records before this time.
    pub until_ms: Option<i64>,
    /// Keyset pagination: records older than this id.
    pub before: Option<i64>,
    pub limit: i64,
}

/// One audit record, newest first in lists.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    pub id: i64,
    pub actor_type: String,
    pub actor_id: String,
    pub action: String,
    pub target: String,
    pub changes: Option<Value>,
    pub at_ms: i64,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExecutionFilter {
    pub workflow_id: Option<String>,
    pub status: Option<String>,
    pub event_id: Option<String>,
    /// allow or block.
    pub decision: Option<String>,
    /// The type of the event that started it.
    pub event_type: Option<String>,
    /// Started at or after.
    pub since_ms: Option<i64>,
    /// Started before.
    pub until_ms: Option<i64>,
    /// Keyset pagination: executions with a smaller id (ids grow with time).
    pub before: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

/// A stored rule, as written.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleRow {
    pub rule_id: String,
    pub definition: Value,
    pub enabled: bool,
    pub updated_ms: i64,
}

/// A stored alert rule and where it stands.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertRow {
    pub id: String,
    pub definition: Value,
    /// `ok` or `firing`.
    pub state: String,
    /// What the last evaluation measured.
    pub value: Option<f64>,
    /// When it last went from ok to firing or back.
    pub changed_ms: Option<i64>,
    pub evaluated_ms: Option<i64>,
    pub created_ms: i64,
    pub updated_ms: i64,
}

/// A stored event.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    pub id: String,
    pub event_type: String,
    pub source: Option<String>,
    pub idempotency_key: Option<String>,
    pub payload: Value,
    pub received_ms: i64,
}

#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub event_type: Option<String>,
    pub source: Option<String>,
    pub since_ms: Option<i64>,
    pub until_ms: Option<i64>,
    /// Keyset pagination: events with a smaller id (ids grow with time).
    pub before: Option<String>,
    pub limit: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Approval {
    pub id: String,
    pub execution_id: String,
    pub step_id: String,
    pub status: String,
    pub approver_role: Option<String>,
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    pub message: Option<String>,
    pub requested_ms: i64,
    pub expires_ms: Option<i64>,
    pub decided_by: Option<String>,
    pub decided_ms: Option<i64>,
    /// The reason given with the decision.
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct ApprovalFilter {
    /// pending, approved, rejected, expired or withdrawn.
    pub status: Option<String>,
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    /// The approver role asked for.
    pub role: Option<String>,
    pub execution_id: Option<String>,
    /// Keyset pagination: approvals with a smaller id (ids grow with time).
    pub before: Option<String>,
    pub limit: i64,
}

#[async_trait]
pub trait Store: Send + Sync {
    /// On an empty database, creates the default tenant and environment and an admin key with
    /// this hash. Otherwise returns the first scope.
    async fn bootstrap(&self, admin_key_hash: &str) -> Result<Bootstrap>;
    /// The key with this hash, unless it was revoked or has expired (by the database clock).
    async fn api_key(&self, key_hash: &str) -> Result<Option<ApiKey>>;

    /// Enables or disables a workflow; its current version stays. NotFound when there is no
    /// such (undeleted) workflow.
    async fn set_workflow_enabled(
        &self,
        scope: &Scope,
        workflow_id: &str,
        enabled: bool,
    ) -> Result<()>;
    /// Every version of a workflow, oldest first; empty when there is none.
    async fn workflow_versions(
        &self,
        scope: &Scope,
        workflow_id: &str,
    ) -> Result<Vec<WorkflowVersion>>;
    /// Makes an existing version the current one (a rollback; a deleted workflow comes back).
    /// NotFound without that version.
    async fn activate_version(
        &self,
        scope: &Scope,
        workflow_id: &str,
        version: i64,
    ) -> Result<WorkflowVersion>;

    // Tenancy and access. These and `api_key` are the platform admin's unscoped operations;
    // a tenant's admin calls them with its own tenant.

    /// Creates a tenant with the environments `development` and `production`. Conflict when
    /// the id is taken.
    async fn create_tenant(&self, id: &str, name: &str) -> Result<Tenant>;
    async fn tenants(&self) -> Result<Vec<Tenant>>;
    async fn tenant(&self, id: &str) -> Result<Option<Tenant>>;
    /// Adds an environment to a tenant. NotFound without the tenant, Conflict when it exists.
    async fn create_environment(&self, tenant: &str, id: &str) -> Result<()>;
    /// Stores a key for an existing tenant × environment (NotFound otherwise).
    async fn create_api_key(&self, key: &NewApiKey) -> Result<ApiKey>;
    /// Keys, newest first: of one tenant (and one of its environments), or of all.
    async fn api_keys(
        &self,
        tenant: Option<&str>,
        environment: Option<&str>,
    ) -> Result<Vec<ApiKey>>;
    /// The key with this id, of this tenant when one is given.
    async fn api_key_by_id(&self, tenant: Option<&str>, id: &str) -> Result<Option<ApiKey>>;
    /// Revokes a key (of this tenant when one is given). NotFound when there is none to revoke.
    async fn revoke_api_key(&self, tenant: Option<&str>, id: &str) -> Result<()>;
    /// Stores a user of an existing tenant (NotFound otherwise); Conflict when the tenant has
    /// a user with that email.
    async fn create_user(&self, user: &NewUser) -> Result<User>;
    /// A tenant's users, oldest first.
    async fn users(&self, tenant: &str) -> Result<Vec<User>>;
    /// The user with this id, of this tenant when one is given.
    async fn user(&self, tenant: Option<&str>, id: &str) -> Result<Option<User>>;
    /// The enabled user with this email in this tenant, with its password hash.
    async fn user_login(&self, tenant: &str, email: &str) -> Result<Option<(User, String)>>;
    /// Changes a user (of this tenant when one is given; NotFound otherwise). A new password
    /// or disabling revokes the user's sessions in the same transaction.
    async fn update_user(
        &self,
        tenant: Option<&str>,
        id: &str,
        change: &UserChange,
    ) -> Result<User>;
    /// Stores a team of the scope. Conflict when the scope has a team of that name; NotFound
    /// when a member is not a user of the tenant who works in the scope's environment.
    async fn create_team(&self, scope: &Scope, team: &NewTeam) -> Result<Team>;
    /// Replaces a team's description and members. NotFound without the team, or when a
    /// member is not a user who works in the scope (as for [`Store::create_team`]).
    async fn replace_team(&self, scope: &Scope, team: &NewTeam) -> Result<Team>;
    /// The scope's teams, by name.
    async fn teams(&self, scope: &Scope) -> Result<Vec<Team>>;
    async fn team(&self, scope: &Scope, name: &str) -> Result<Option<Team>>;
    /// NotFound when there is no such team.
    async fn delete_team(&self, scope: &Scope, name: &str) -> Result<()>;
    /// Stores a session for an environment of the user's tenant that the user works in
    /// (NotFound otherwise).
    async fn create_session(&self, session: &NewSession) -> Result<Session>;
    /// The session with this token hash, unless it was revoked, has expired (by the database
    /// clock) or its user is disabled.
    async fn session(&self, token_hash: &str) -> Result<Option<Session>>;
    /// Ends a session. NotFound when it is not live.
    async fn revoke_session(&self, id: &str) -> Result<()>;
    /// Stores a sealed secret; true when it is new, false when it replaced one.
    /// Stores a secret; true when it is new. With `if_updated_ms`, only over the version
    /// updated then: Conflict when another write came first.
    async fn put_secret(
        &self,
        scope: &Scope,
        name: &str,
        sealed: &str,
        policy: &SecretPolicy,
        if_updated_ms: Option<i64>,
    ) -> Result<bool>;
    /// The scope's secrets, by name.
    async fn secrets(&self, scope: &Scope) -> Result<Vec<SecretRow>>;
    async fn secret(&self, scope: &Scope, name: &str) -> Result<Option<SecretRow>>;
    /// NotFound when there is no such secret.
    async fn delete_secret(&self, scope: &Scope, name: &str) -> Result<()>;
    /// A setting of the scope (`llm`, …), if it is set.
    async fn scope_setting(&self, scope: &Scope, name: &str) -> Result<Option<ScopeSetting>>;
    /// Sets a setting of the scope, replacing its value.
    async fn put_scope_setting(
        &self,
        scope: &Scope,
        name: &str,
        value: &serde_json::Value,
    ) -> Result<ScopeSetting>;
    /// NotFound when the setting is not set.
    async fn delete_scope_setting(&self, scope: &Scope, name: &str) -> Result<()>;
    /// How many work items are due now, every scope's (the engine's backlog, for metrics).
    async fn due_items(&self) -> Result<i64>;
    /// Stores a new alert rule, `ok`; Conflict when the id is taken.
    async fn create_alert(&self, scope: &Scope, id: &str, definition: &Value) -> Result<AlertRow>;
    /// Replaces an alert rule, keeping where it stands.
    async fn replace_alert(&self, scope: &Scope, id: &str, definition: &Value) -> Result<AlertRow>;
    async fn alert(&self, scope: &Scope, id: &str) -> Result<Option<AlertRow>>;
    async fn alerts(&self, scope: &Scope) -> Result<Vec<AlertRow>>;
    async fn delete_alert(&self, scope: &Scope, id: &str) -> Result<()>;
    /// Records an evaluation: the alert goes to `to` with `value` only if it is still `from`
    /// (whether it did is the answer), so each change is made, and told, once.
    async fn judge_alert(
        &self,
        scope: &Scope,
        id: &str,
        from: &str,
        to: &str,
        value: f64,
    ) -> Result<bool>;
    /// What `metric` measures now over runs (of one workflow) since `since_ms`.
    async fn measure_alert(
        &self,
        scope: &Scope,
        metric: AlertMetric,
        workflow_id: Option<&str>,
        since_ms: i64,
    ) -> Result<f64>;
    /// Takes or keeps the named lease for `owner` for `ttl_ms`; false while another owner
    /// holds it.
    async fn take_lead(&self, name: &str, owner: &str, ttl_ms: i64) -> Result<bool>;
    /// One batch of the scope's retention, each part its own short transaction: up to `limit`
    /// executions that began and finished before `before_ms` (never one still running, nor one
    /// whose sub-workflow run still runs) with their step records, queued work, waits and
    /// approvals; up to `limit` events received before it that no execution refers to any
    /// more; up to `limit` mails sent before it.
    async fn prune_scope(&self, scope: &Scope, before_ms: i64, limit: i64) -> Result<Pruned>;
    /// One batch of what belongs to no scope's retention: up to `limit` each of sessions past
    /// their end, webhook delivery windows passed, and audit records older than
    /// `audit_before_ms`.
    async fn prune_shared(&self, audit_before_ms: i64, limit: i64) -> Result<Pruned>;
    /// Reads and writes the database (a row of its own), for a readiness check.
    async fn probe(&self) -> Result<()>;
    /// An installation setting: the stored value, after storing this one if there was none.
    async fn setting_or_insert(&self, name: &str, value: &str) -> Result<String>;
    // What actions write inside Weir (rows as the API shows them).

    async fn record(
        &self,
        scope: &Scope,
        entity_type: &str,
        entity_id: &str,
    ) -> Result<Option<Value>>;
    /// Records of one type by id, after `after`.
    async fn records(
        &self,
        scope: &Scope,
        entity_type: &str,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Value>>;
    /// The record after the write, and whether it was created.
    async fn write_record(&self, scope: &Scope, write: &RecordWrite<'_>) -> Result<(Value, bool)>;
    async fn delete_record(&self, scope: &Scope, entity_type: &str, entity_id: &str) -> Result<()>;
    async fn add_note(&self, scope: &Scope, note: &NewNote) -> Result<Value>;
    async fn notes(&self, scope: &Scope, entity_type: &str, entity_id: &str) -> Result<Vec<Value>>;
    async fn add_notifications(
        &self,
        scope: &Scope,
        list: &[NewNotification],
    ) -> Result<Vec<Value>>;
    /// Newest first.
    async fn notifications(&self, scope: &Scope, filter: &NotificationFilter)
    -> Result<Vec<Value>>;
    /// Marks one read (of this recipient when one is given); NotFound otherwise.
    async fn mark_notification_read(
        &self,
        scope: &Scope,
        id: &str,
        recipient: Option<&str>,
    ) -> Result<Value>;
    /// Puts a message in the outbox; the stored row, and false when this operation had put it
    /// there already.
    async fn add_mail(
        &self,
        scope: &Scope,
        message: &Value,
        status: &str,
        execution_id: Option<&str>,
        op_key: Option<&str>,
    ) -> Result<(Value, bool)>;
    async fn set_mail_status(
        &self,
        scope: &Scope,
        id: &str,
        status: &str,
        error: Option<&str>,
    ) -> Result<()>;
    /// Newest first.
    async fn outbox(
        &self,
        scope: &Scope,
        status: Option<&str>,
        before: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Value>>;
    /// Stores a template; Conflict when `create_only` and it exists. The row and whether it
    /// was created.
    async fn put_email_template(
        &self,
        scope: &Scope,
        template: &EmailTemplate,
        create_only: bool,
    ) -> Result<(Value, bool)>;
    async fn email_templates(&self, scope: &Scope, name: Option<&str>) -> Result<Vec<Value>>;
    async fn delete_email_template(&self, scope: &Scope, name: &str) -> Result<()>;

    /// Stores a named definition (a connector, a data source); Conflict when `create_only`
    /// and it exists. The row (`{"name", "definition", "created_ms", "updated_ms"}`) and
    /// whether it was created.
    async fn put_named(
        &self,
        kind: Named,
        scope: &Scope,
        name: &str,
        definition: &Value,
        create_only: bool,
    ) -> Result<(Value, bool)>;
    /// Every definition of a kind in the scope, by name.
    async fn named(&self, kind: Named, scope: &Scope) -> Result<Vec<Value>>;
    async fn named_one(&self, kind: Named, scope: &Scope, name: &str) -> Result<Option<Value>>;
    async fn delete_named(&self, kind: Named, scope: &Scope, name: &str) -> Result<()>;
    /// What a source loaded for an entity, if it has not expired (by the database's clock).
    async fn cached_context(
        &self,
        scope: &Scope,
        source: &str,
        entity_id: &str,
    ) -> Result<Option<CachedContext>>;
    /// Keeps what a source loaded for `ttl_ms` (its `cached_ms`/`expires_ms` are ignored and
    /// set from the database's clock); returns the stored entry.
    async fn cache_context(
        &self,
        scope: &Scope,
        entry: &CachedContext,
        ttl_ms: i64,
    ) -> Result<CachedContext>;
    /// Drops cached context: of an entity type, of one entity, of one source (each `None`
    /// matches all). Returns how many entries went.
    async fn uncache_context(
        &self,
        scope: &Scope,
        entity_type: Option<&str>,
        entity_id: Option<&str>,
        source: Option<&str>,
    ) -> Result<u64>;
    /// An approval an action asked for, linked to its execution without a step waiting on it;
    /// the same id again returns the first.
    async fn create_approval(
        &self,
        scope: &Scope,
        execution_id: &str,
        approval: &NewApproval,
    ) -> Result<Approval>;
    /// Records a signed webhook delivery until `expires_ms`; false when it was seen already
    /// (a replay).
    async fn remember_delivery(
        &self,
        scope: &Scope,
        signature: &str,
        expires_ms: i64,
    ) -> Result<bool>;
    /// A debounced event for a workflow: opens a window of `window_ms` for the key, or puts
    /// this payload in the open one.
    async fn debounce(
        &self,
        scope: &Scope,
        workflow_id: &str,
        key: &str,
        event_type: &str,
        payload: &Value,
        window_ms: i64,
    ) -> Result<()>;
    /// Windows that have closed, across scopes (the engine's own query, like `claim`).
    async fn due_debounces(&self, limit: i64) -> Result<Vec<DueDebounce>>;
    /// Closes a window and starts its execution in one transaction; false when another node
    /// did, or when a newer payload arrived since it was read.
    async fn fire_debounce(&self, due: &DueDebounce, execution: &NewExecution) -> Result<bool>;
    /// The latest time a workflow's schedule trigger (by its index) fired, in epoch ms.
    async fn last_schedule_fire(
        &self,
        scope: &Scope,
        workflow_id: &str,
        trigger: i64,
    ) -> Result<Option<i64>>;
    /// Records one fire of a schedule and starts its execution (if given), in one
    /// transaction; false, starting nothing, when the fire was already recorded (by another
    /// node) or the workflow is no longer at that version, enabled and not deleted (a node
    /// whose index is behind).
    async fn fire_schedule(
        &self,
        scope: &Scope,
        fire: &ScheduleFire<'_>,
        execution: Option<&NewExecution>,
    ) -> Result<bool>;
    /// Every tenant × environment, for the engine's trigger index.
    async fn scopes(&self) -> Result<Vec<Scope>>;

    /// Stores a new immutable version of a workflow and makes it current.
    async fn put_workflow(
        &self,
        scope: &Scope,
        workflow_id: &str,
        definition: &Value,
        enabled: bool,
    ) -> Result<WorkflowVersion>;
    /// The current version.
    async fn workflow(&self, scope: &Scope, workflow_id: &str) -> Result<Option<WorkflowVersion>>;
    async fn workflow_version(
        &self,
        scope: &Scope,
        workflow_id: &str,
        version: i64,
    ) -> Result<Option<WorkflowVersion>>;
    async fn workflows(&self, scope: &Scope) -> Result<Vec<WorkflowVersion>>;
    /// Deletes a workflow. With running executions this is a conflict, unless `force`, which
    /// queues a cancel for each and returns their ids.
    async fn delete_workflow(
        &self,
        scope: &Scope,
        workflow_id: &str,
        force: bool,
    ) -> Result<Vec<String>>;
    /// Records an event and the executions it starts, atomically, honouring its idempotency key,
    /// and queues the event for the scope's executions waiting for its type.
    /// Whether [`Store::ingest`] already shares its transaction with events written at the
    /// same time (group commit), so a caller need not gather them itself.
    fn groups_writes(&self) -> bool {
        false
    }
    /// Sends a message of at most [`MAX_MESSAGE`] bytes to every node listening on `channel`
    /// (this one too); nothing on a back-end that has one node.
    async fn notify(&self, channel: &str, text: &str) -> Result<()>;
    /// Listens on `channels` for other nodes' messages; `None` on a back-end that has one
    /// node.
    async fn listen(&self, channels: &[&str]) -> Result<Option<Listener>>;
    async fn ingest(
        &self,
        scope: &Scope,
        event: &NewEvent,
        executions: &[NewExecution],
    ) -> Result<Ingested> {
        let mut results = self
            .ingest_many(Arc::from(vec![(
                scope.clone(),
                event.clone(),
                executions.to_vec(),
            )]))
            .await?;
        results
            .pop()
            .ok_or_else(|| Error::Corrupt("ingest_many answered nothing".into()))
    }
    /// [`Store::ingest`] for many events in one transaction (group commit). Either all are
    /// written or none; the answers are in the order of the batch.
    async fn ingest_many(
        &self,
        batch: Arc<[(Scope, NewEvent, Vec<NewExecution>)]>,
    ) -> Result<Vec<Ingested>>;
    /// Creates executions with no event (manual starts, child runs).
    async fn start_executions(&self, scope: &Scope, executions: &[NewExecution]) -> Result<()>;
    /// Queues an input for an execution of the scope.
    async fn enqueue(&self, scope: &Scope, execution_id: &str, item: NewItem) -> Result<()>;
    /// Executions of the scope waiting for an event type, with the waiting thread.
    async fn awaiting(&self, scope: &Scope, event_type: &str) -> Result<Vec<(String, i64)>>;

    /// Takes the lease on up to `limit` executions that have due items, for `lease_ms`
    /// milliseconds by the database's clock. Expired leases are taken over.
    async fn claim(&self, owner: &str, lease_ms: i64, limit: i64) -> Result<Vec<Claim>> {
        self.claim_except(owner, lease_ms, limit, &[]).await
    }
    /// [`Store::claim`], leaving out the executions of these tenants.
    async fn claim_except(
        &self,
        owner: &str,
        lease_ms: i64,
        limit: i64,
        skip_tenants: &[String],
    ) -> Result<Vec<Claim>>;
    /// Extends `owner`'s leases on executions it still holds at the claimed epoch to `lease_ms`
    /// from now, in one transaction; for each, whether it was still held.
    async fn renew_leases(&self, owner: &str, lease_ms: i64, held: &[Held]) -> Result<Vec<bool>>;
    /// Due items, other than actions to perform, of executions `owner` holds the lease on
    /// (an event, a timer or a cancel that arrived while the node works on the execution),
    /// oldest first, with their execution's id.
    async fn held_items(&self, owner: &str, limit: i64) -> Result<Vec<(String, Item)>>;
    /// Gives back the leases of `owner`, or every lease (`None`: only for a database this
    /// process has to itself, whose leases were all held by processes that are gone), and
    /// makes their queued actions due now.
    async fn release_leases(&self, owner: Option<&str>) -> Result<u64>;
    /// Writes one step of a claimed execution, if `owner` still holds the lease at the claim's
    /// epoch; otherwise writes nothing and returns [`Error::LeaseLost`].
    async fn commit(&self, owner: &str, claim: &Claim, commit: Commit) -> Result<()>;

    async fn execution(&self, scope: &Scope, id: &str) -> Result<Option<ExecutionRow>>;
    async fn executions(
        &self,
        scope: &Scope,
        filter: &ExecutionFilter,
    ) -> Result<Vec<ExecutionRow>>;
    /// The step records of an execution, in the order they were first written.
    async fn steps(&self, scope: &Scope, execution_id: &str) -> Result<Vec<Value>>;

    /// Reopens a failed execution and queues a `retry` input for it. Any other status is a
    /// conflict.
    async fn retry_execution(&self, scope: &Scope, id: &str) -> Result<()>;

    async fn approval(&self, scope: &Scope, id: &str) -> Result<Option<Approval>>;
    /// Creates or replaces a rule; `true` when it is new.
    async fn put_rule(
        &self,
        scope: &Scope,
        rule_id: &str,
        definition: &Value,
        enabled: bool,
    ) -> Result<bool>;
    /// The scope's rules, by id.
    async fn rules(&self, scope: &Scope) -> Result<Vec<RuleRow>>;
    async fn rule(&self, scope: &Scope, rule_id: &str) -> Result<Option<RuleRow>>;
    /// NotFound when there is no such rule.
    async fn delete_rule(&self, scope: &Scope, rule_id: &str) -> Result<()>;
    /// The scope's events, newest first.
    async fn events(&self, scope: &Scope, filter: &EventFilter) -> Result<Vec<EventRow>>;
    async fn event(&self, scope: &Scope, id: &str) -> Result<Option<EventRow>>;
    /// Finished runs in the hours that start in `[since_ms, until_ms)`, by workflow, hour,
    /// status, decision and duration bucket (from the statistics rollup).
    async fn finished_runs(
        &self,
        scope: &Scope,
        workflow_id: Option<&str>,
        since_ms: i64,
        until_ms: i64,
    ) -> Result<Vec<FinishedRuns>>;
    /// A workflow's ended step attempts in the hours that start in `[since_ms, until_ms)`.
    async fn ended_attempts(
        &self,
        scope: &Scope,
        workflow_id: &str,
        since_ms: i64,
        until_ms: i64,
    ) -> Result<Vec<EndedAttempts>>;
    /// When each workflow's newest run started.
    async fn last_runs(&self, scope: &Scope) -> Result<Vec<(String, i64)>>;
    /// Finished runs in the hours that start in `[since_ms, until_ms)`, by workflow and status.
    async fn finished_by_workflow(
        &self,
        scope: &Scope,
        since_ms: i64,
        until_ms: i64,
    ) -> Result<Vec<(String, String, i64)>>;
    /// How many runs (of one workflow) have not finished, by status, now.
    async fn unfinished_runs(
        &self,
        scope: &Scope,
        workflow_id: Option<&str>,
    ) -> Result<Vec<(String, i64)>>;
    /// How many approvals (of one workflow's runs) wait for a decision.
    async fn pending_approvals(&self, scope: &Scope, workflow_id: Option<&str>) -> Result<i64>;
    /// The scope's approvals, newest first.
    async fn approvals(&self, scope: &Scope, filter: &ApprovalFilter) -> Result<Vec<Approval>>;
    /// Marks a pending approval decided and queues the outcome for its execution.
    async fn decide_approval(
        &self,
        scope: &Scope,
        id: &str,
        approved: bool,
        by: &str,
        reason: Option<&str>,
    ) -> Result<()>;

    async fn audit(
        &self,
        scope: &Scope,
        actor: (&str, &str),
        action: &str,
        target: &str,
        changes: Option<&Value>,
    ) -> Result<()>;
    /// The scope's audit records, newest first.
    async fn audit_log(&self, scope: &Scope, filter: &AuditFilter) -> Result<Vec<AuditRecord>>;
    /// The database's clock, in milliseconds since the epoch.
    async fn now_ms(&self) -> Result<i64>;
}

/// The SHA-256 of an API key, hex: keys are long random secrets, so a fast hash is enough and
/// lets a key be looked up by its hash.
pub fn hash_key(key: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(key.as_bytes()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn queued_work_reads_back_as_written_and_a_bad_row_is_named() {
        let all = [
            Work::Start,
            Work::Perform {
                thread: 3,
                attempt: 2,
            },
            Work::Timer { timer: 7 },
            Work::Event {
                event_type: "paid".into(),
                payload: json!({"order": {"id": "o1"}}),
            },
            Work::Approval {
                id: "ap1".into(),
                approved: true,
            },
            Work::Child {
                id: "x-child-1".into(),
                output: Some(json!({"a": 1})),
                error: None,
            },
            Work::Child {
                id: "x-child-2".into(),
                output: None,
                error: Some("no workflow 'w'".into()),
            },
            Work::Cancel,
            Work::Retry,
        ];
        for work in all {
            assert_eq!(Work::read(work.kind(), &work.payload()).unwrap(), work);
        }
        // What the store's own SQL writes: 'start' and 'cancel' with '{}'.
        assert_eq!(Work::read("start", "{}").unwrap(), Work::Start);
        for (kind, payload, says) in [
            (
                "timer",
                "{}",
                "a queued 'timer' item: missing field `timer`",
            ),
            ("perform", "[1]", "is not a JSON object"),
            ("teleport", "{}", "unknown variant `teleport`"),
        ] {
            let e = Work::read(kind, payload).unwrap_err().to_string();
            assert!(e.contains(says), "{e}");
        }
    }
}
