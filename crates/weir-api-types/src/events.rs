//! Events: sending one (with the synchronous decisions), and reading them back.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::executions::{Decision, ExecutionStatus};

/// `POST /api/v1/events`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"event_type": "order.created", "payload": {"order": {"id": "o-1", "total": 120}}}))]
pub struct EventRequest {
    /// Like `order.created`: no spaces, at most 255 characters.
    #[schema(min_length = 1, max_length = 255, pattern = r"^[^\s\x00-\x1f\x7f]+$")]
    pub event_type: String,
    #[serde(default)]
    pub payload: Map<String, Value>,
    #[serde(default)]
    #[schema(max_length = 255)]
    pub source: Option<String>,
    /// The same key with the same payload answers the first event's result; with another
    /// payload, 409.
    #[serde(default)]
    #[schema(max_length = 255)]
    pub idempotency_key: Option<String>,
    /// How long to wait for decisions (default 5000).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 60000)]
    pub timeout_ms: Option<u64>,
}

/// One execution an event started, as it stood when the answer was sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EventExecution {
    pub execution_id: String,
    pub workflow_id: String,
    pub workflow_version: i64,
    pub status: ExecutionStatus,
    pub decision: Option<Decision>,
    pub reason: Option<String>,
}

/// The answer to `POST /api/v1/events`: `block` if any execution blocked, else `allow` if any
/// allowed, else `null`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EventAnswer {
    pub event_id: String,
    /// The idempotency key was seen before: this is the first event's result.
    pub duplicate: bool,
    pub matched_workflows: Vec<String>,
    pub decision: Option<Decision>,
    pub executions: Vec<EventExecution>,
}

/// A stored event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Event {
    pub id: String,
    pub event_type: String,
    pub source: Option<String>,
    pub idempotency_key: Option<String>,
    pub payload: Value,
    #[schema(format = DateTime)]
    pub received_at: String,
}

/// An execution an event started, in `GET /api/v1/events/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Triggered {
    pub execution_id: String,
    pub workflow_id: String,
    pub workflow_version: i64,
    pub status: ExecutionStatus,
    pub decision: Option<Decision>,
}

/// `GET /api/v1/events/{id}`: the event and the executions it started.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EventDetail {
    #[serde(flatten)]
    pub event: Event,
    pub triggered: Vec<Triggered>,
}

/// `GET /api/v1/events`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EventList {
    pub events: Vec<Event>,
    pub next_cursor: Option<String>,
}

/// The filters of `GET /api/v1/events` (newest first).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventQuery {
    /// Only this type.
    pub event_type: Option<String>,
    /// The same as `event_type`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Only from this source.
    pub source: Option<String>,
    /// Received at or after (RFC 3339).
    pub since: Option<String>,
    /// Received before (RFC 3339).
    pub until: Option<String>,
    /// The `next_cursor` of the page before.
    pub cursor: Option<String>,
    /// Items per page (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}
