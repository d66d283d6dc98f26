//! Approvals: a run waiting for a person's decision.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

crate::wire_enum! {
    ApprovalStatus {
        Pending = "pending",
        Approved = "approved",
        Rejected = "rejected",
        /// Its timeout passed: the step took its `on_timeout` path.
        Expired = "expired",
        /// Its run ended (cancelled, say) before anyone decided.
        Withdrawn = "withdrawn",
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Approval {
    pub id: String,
    pub execution_id: String,
    pub step_id: String,
    pub status: ApprovalStatus,
    /// The team (or role) whose members decide it.
    pub approver_role: Option<String>,
    /// What is to be approved: its type and id (`order`, `o-1`).
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    pub message: Option<String>,
    #[schema(format = DateTime)]
    pub requested_at: String,
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
    pub decided_by: Option<String>,
    #[schema(format = DateTime)]
    pub decided_at: Option<String>,
    pub reason: Option<String>,
}

/// `GET /api/v1/approvals`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ApprovalList {
    pub approvals: Vec<Approval>,
    pub next_cursor: Option<String>,
}

/// `POST /api/v1/approvals/{id}/approve` and `/reject`: why (`comment` is the same).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub reason: Option<String>,
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub comment: Option<String>,
}

/// The filters of `GET /api/v1/approvals` (newest first).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ApprovalQuery {
    pub status: Option<ApprovalStatus>,
    /// The entity type (`order`).
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    /// The approver team or role.
    pub role: Option<String>,
    /// Only this execution's.
    pub execution_id: Option<String>,
    /// The `next_cursor` of the page before.
    pub cursor: Option<String>,
    /// Items per page (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}
