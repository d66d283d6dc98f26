//! Dry runs: a workflow walked for one event in memory, as `weir test` walks it, nothing
//! stored and nothing performed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::Detail;

crate::wire_enum! {
    /// The outcome a dry run assumes for approval steps.
    AssumedApproval { Approve = "approve", Reject = "reject", Timeout = "timeout" }
}

crate::wire_enum! {
    /// How a dry run ended.
    DryRunStatus {
        Completed = "completed",
        Failed = "failed",
        /// Stopped at an approval or wait whose outcome was not assumed.
        Waiting = "waiting",
        /// No trigger of the workflow heard the event, so nothing ran.
        NotMatched = "not_matched",
    }
}

crate::wire_enum! {
    /// What a dry run decided: `none` when no step decided.
    DryRunDecision { Allow = "allow", Block = "block", None = "none" }
}

/// `POST /api/v1/dry-run`: a workflow (a definition, or a stored one by id) and the event to
/// try it with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"workflow_id": "order_approval", "event_type": "order.created", "payload": {"order": {"id": "o-1", "total": 120}}}))]
pub struct DryRunRequest {
    /// A workflow definition, or its text (JSON or YAML). Give this or `workflow_id`.
    #[serde(default)]
    #[schema(nullable = false)]
    pub workflow: Option<Value>,
    /// A stored workflow of the caller's scope (its current version). Give this or `workflow`.
    #[serde(default)]
    #[schema(nullable = false, max_length = 255)]
    pub workflow_id: Option<String>,
    /// The event's type, matched against the workflow's event triggers; without one the run
    /// starts as a manual start would.
    #[serde(default)]
    #[schema(nullable = false, min_length = 1, max_length = 255)]
    pub event_type: Option<String>,
    /// The event's payload.
    #[serde(default)]
    pub payload: Map<String, Value>,
    /// The event's source, matched against an event trigger's `source`.
    #[serde(default)]
    #[schema(nullable = false, max_length = 255)]
    pub source: Option<String>,
    /// The outcome to assume for approval steps; without one the run stops (`waiting`) there.
    #[serde(default)]
    #[schema(nullable = false)]
    pub approval: Option<AssumedApproval>,
    /// The payload of the event a `wait` step receives; without it (and without
    /// `wait_timeout`) the run stops (`waiting`) there.
    #[serde(default)]
    #[schema(nullable = false)]
    pub wait_event: Option<Map<String, Value>>,
    /// Assume `wait` steps time out.
    #[serde(default)]
    pub wait_timeout: bool,
    /// Results of action steps by step id, in place of the default result their type answers
    /// with in a dry run.
    #[serde(default)]
    pub mocks: BTreeMap<String, Value>,
    /// Action steps whose every attempt fails, by step id, with the error class assumed
    /// (`timeout`, `5xx`, `4xx`, `429`, `network`, `rate_limit`, `invalid`): what `retry` and
    /// `on_error` then do.
    #[serde(default)]
    pub failures: BTreeMap<String, String>,
}

/// What a dry run did: the path taken, as `weir test --output json` prints it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DryRun {
    pub workflow_id: String,
    /// A trigger heard the event (or the start).
    pub matched: bool,
    pub status: DryRunStatus,
    pub decision: DryRunDecision,
    pub reason: Option<String>,
    /// The trigger that started the run, with its conditions' evaluation.
    #[schema(value_type = Option<Object>)]
    pub trigger: Option<Value>,
    /// Every step visited, in order: `step_id`, `type`, `status`, and what applies of
    /// `condition` (the values compared), `input`, `output`, `next`, `decision`, `reason`,
    /// `error`, `would` (what a live run would do here that a dry run does not).
    #[schema(value_type = Vec<Object>)]
    pub steps: Vec<Value>,
    /// The run's variables at its end.
    pub variables: Map<String, Value>,
    pub notes: Vec<String>,
    pub error: Option<String>,
    /// The definition's warnings (a definition with errors is refused with 422).
    pub warnings: Vec<Detail>,
}

/// A definition's text format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TextFormat {
    Json,
    Yaml,
}

/// `POST /api/v1/format`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FormatRequest {
    /// A definition, or its text (JSON or YAML).
    #[schema(value_type = Object)]
    pub workflow: Value,
    /// The format to write it in.
    pub format: TextFormat,
}

/// A definition in canonical form, as `weir fmt` writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Formatted {
    /// The canonical text.
    pub text: String,
    /// The canonical definition (the text read back).
    #[schema(value_type = Object)]
    pub workflow: Value,
    pub format: TextFormat,
}
