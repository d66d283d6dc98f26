//! `GET /api/v1/stream`: what happens in the caller's tenant × environment, as Server-Sent
//! Events. Each event's `event:` is its kind, its `id:` a number that grows, its `data:` a
//! [`StreamEvent`].

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

crate::wire_enum! {
    StreamKind {
        /// A run began (`data`: status, decision, event_id).
        ExecutionStarted = "execution.started",
        /// A step attempt was written (`data`: step_id, type, status, attempt).
        ExecutionStep = "execution.step",
        /// A run ended (`data`: status, decision, reason).
        ExecutionFinished = "execution.finished",
        /// A run asks for an approval (`data`: approval_id, step_id, approver_role, entity,
        /// entity_id).
        ApprovalCreated = "approval.created",
        /// Somebody decided an approval (`data`: approval_id, status, decided_by).
        ApprovalDecided = "approval.decided",
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StreamEvent {
    /// The same as the event's `id:`; send it back as `Last-Event-ID` to catch up.
    pub id: u64,
    pub kind: StreamKind,
    pub execution_id: String,
    #[schema(required = true)]
    pub workflow_id: Option<String>,
    #[schema(format = DateTime)]
    pub at: String,
    /// What the kind says it holds.
    pub data: Value,
}

/// `GET /api/v1/stream`'s query.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    /// Only this workflow's runs.
    pub workflow_id: Option<String>,
    /// Only this run.
    pub execution_id: Option<String>,
}
