//! Workflow definitions, their versions, and starting one by hand.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::executions::ExecutionStatus;

/// A workflow in Weir's definition format (docs/format.md), as JSON or YAML.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(
    description = "A workflow in Weir's definition format (docs/format.md)",
    example = json!({"workflow_id": "order_approval", "name": "Order approval", "triggers": [{"type": "event", "event": "order.created"}],
                     "steps": [{"id": "allow", "type": "decision", "decision": "allow"}]})
)]
pub struct WorkflowDefinition(pub Map<String, Value>);

/// `POST /api/v1/workflows`, `PUT /api/v1/workflows/{id}`: the version stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StoredWorkflow {
    pub workflow_id: String,
    /// The same as `workflow_id`.
    pub id: String,
    pub name: Option<String>,
    /// Weir's version number (1, 2, …), one per store.
    pub version: i64,
    pub enabled: bool,
    /// Always `published`: a stored version is live.
    pub status: WorkflowStatus,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// What validation warned about (the version is stored anyway).
    pub warnings: Vec<crate::Detail>,
}

crate::wire_enum! {
    WorkflowStatus { Published = "published" }
}

/// A workflow's summary, from its current version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WorkflowSummary {
    pub workflow_id: String,
    /// The same as `workflow_id`.
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub version: i64,
    pub enabled: bool,
    pub tags: Vec<String>,
    /// The event types its event triggers listen for.
    pub trigger_events: Vec<String>,
    #[schema(format = DateTime)]
    pub updated_at: String,
    /// How it ran lately (`GET /api/v1/workflows` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub activity: Option<WorkflowActivity>,
}

/// How a workflow ran lately.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WorkflowActivity {
    /// When its newest run started; `null` when it never ran.
    #[schema(format = DateTime, required = true)]
    pub last_run_at: Option<String>,
    /// Runs that finished in the last 7 days.
    pub finished_7d: i64,
    /// Of those, `completed / (completed + failed)`; `null` without any.
    #[schema(required = true)]
    pub success_rate_7d: Option<f64>,
}

/// `GET /api/v1/workflows/{id}`: the summary and the current version's definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Workflow {
    #[serde(flatten)]
    pub summary: WorkflowSummary,
    pub definition: WorkflowDefinition,
}

/// `GET /api/v1/workflows`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WorkflowList {
    pub workflows: Vec<WorkflowSummary>,
    /// The `cursor` of the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// `DELETE /api/v1/workflows/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WorkflowDeleted {
    pub workflow_id: String,
    pub deleted: bool,
    /// The running executions `force=true` cancelled.
    pub cancelled_executions: Vec<String>,
}

/// `POST /api/v1/workflows/{id}/enable` and `/disable`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WorkflowEnabled {
    pub workflow_id: String,
    pub enabled: bool,
}

/// One version in `GET /api/v1/workflows/{id}/versions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct VersionSummary {
    pub version: i64,
    /// The definition's own `version` field, as written.
    pub declared_version: Option<Value>,
    pub name: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    pub current: bool,
}

/// `GET /api/v1/workflows/{id}/versions`: oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct VersionList {
    pub workflow_id: String,
    /// `null` once the workflow is deleted.
    pub current_version: Option<i64>,
    pub versions: Vec<VersionSummary>,
}

/// `GET /api/v1/workflows/{id}/versions/{version}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Version {
    pub workflow_id: String,
    pub version: i64,
    pub current: bool,
    #[schema(format = DateTime)]
    pub created_at: String,
    pub definition: WorkflowDefinition,
}

/// `POST /api/v1/workflows/{id}/versions/{version}/activate`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct VersionActivated {
    pub workflow_id: String,
    pub version: i64,
    pub enabled: bool,
}

/// `POST /api/v1/workflows/{id}/execute` (or `/trigger`): the trigger's input, under `input`
/// (or `trigger_data`, the same).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExecuteRequest {
    #[serde(default)]
    pub input: Option<Map<String, Value>>,
    #[serde(default)]
    pub trigger_data: Option<Map<String, Value>>,
}

/// A run started by hand (202).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ExecutionStarted {
    pub execution_id: String,
    pub workflow_id: String,
    pub status: ExecutionStatus,
}

/// The filters of `GET /api/v1/workflows` (by id).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WorkflowQuery {
    /// Only enabled (true) or disabled (false) workflows.
    pub enabled: Option<bool>,
    /// Only workflows with this tag.
    pub tag: Option<String>,
    /// Only workflows a trigger of which listens for this event type.
    pub event: Option<String>,
    /// Text in the id, name or description.
    pub q: Option<String>,
    /// The `next_cursor` of the page before.
    pub cursor: Option<String>,
    /// Items to skip.
    #[param(minimum = 0)]
    pub offset: Option<i64>,
    /// Items per page (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

/// `DELETE /api/v1/workflows/{id}`'s query.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteQuery {
    /// Cancel its running executions (else 409 while any run).
    pub force: Option<bool>,
}
