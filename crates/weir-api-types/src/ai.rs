//! `/api/v1/ai/*`: what an AI agent (or anyone) needs to write workflows that work — what
//! exists in its scope, and a validator that says how to fix what it wrote.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::Detail;

/// One entity of the catalogue: its fields, the events about it, and what a workflow may
/// decide about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EntityCapability {
    /// Field names; `items[sku, qty, price]` lists a list's item fields.
    pub fields: Vec<String>,
    pub events: Vec<String>,
    pub actions: Vec<String>,
}

/// An action type a step may run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ActionCapability {
    /// The step's `type` (or `execute`'s `action`).
    pub name: String,
    pub description: String,
    /// `builtin`, or `connector` for one of the tenant's connectors.
    pub source: String,
    /// Whether it changes something outside Weir (sends, writes, calls).
    pub side_effect: bool,
    /// The JSON Schema of its `config`.
    #[schema(value_type = Object)]
    pub config_schema: serde_json::Value,
}

/// A workflow to start from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TemplateSummary {
    pub id: String,
    pub name: String,
    pub description: String,
    /// The events its triggers listen for.
    pub trigger_events: Vec<String>,
}

/// An event type this scope received lately, with the payload fields seen in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SeenEvent {
    pub event_type: String,
    /// Among the events looked at (the scope's newest 500).
    pub count: i64,
    /// Dotted paths of the payload's fields (`order.total`, `order.items[].sku`), at most 100.
    pub fields: Vec<String>,
    #[schema(format = DateTime)]
    pub last_seen_at: String,
}

/// The body of `POST /api/v1/ai/capabilities`: empty, or an empty object (it takes no
/// options yet).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CapabilitiesRequest {}

/// `GET|POST /api/v1/ai/capabilities`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Capabilities {
    /// The built-in entity catalogue.
    pub entities: BTreeMap<String, EntityCapability>,
    /// Condition operators, by their canonical names.
    pub operators: Vec<String>,
    /// Control step types (`condition`, `parallel`, `wait`, …).
    pub step_types: Vec<String>,
    /// What an `action` step decides or does: `allow`, `block`, `execute`.
    pub action_types: Vec<String>,
    /// The names of `actions`.
    pub execution_types: Vec<String>,
    /// Every action type of the scope, built-ins and connectors, with its config schema.
    pub actions: Vec<ActionCapability>,
    pub templates: Vec<TemplateSummary>,
    /// Event types and payload fields this scope received lately.
    pub seen_events: Vec<SeenEvent>,
}

/// `POST /api/v1/ai/validate`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ValidateRequest {
    /// A workflow definition, or its text (JSON or YAML).
    pub workflow: serde_json::Value,
}

/// What the validator found, with fixes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Validation {
    /// No errors (warnings may remain).
    pub valid: bool,
    /// Every diagnostic, each with its `fix` when one is known.
    pub diagnostics: Vec<Detail>,
    /// The workflow with every fix applied, when each error had a sure one (`certain`) and
    /// the result validates; `null` otherwise.
    #[schema(value_type = Option<Object>, required = true)]
    pub fixed_workflow: Option<serde_json::Value>,
}

crate::wire_enum! {
    /// How `POST /api/v1/ai/interpret` reads a prompt.
    InterpretMode {
        /// The built-in deterministic interpreter (always available).
        Offline = "offline",
        /// An OpenAI-compatible chat endpoint with the validator in the loop.
        Llm = "llm",
    }
}

/// `POST /api/v1/ai/interpret`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InterpretRequest {
    /// What the workflow should do, in English.
    #[schema(min_length = 1, max_length = 4000)]
    pub prompt: String,
    /// Hints: `teams` (approvers and recipients), `workflow_ids` (ids to avoid), `entities`
    /// (`[{"name", "fields", "events"}]` beyond the catalogue); the scope's teams and
    /// workflows are added. Other keys are ignored.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub context: Option<serde_json::Value>,
    /// `offline` by default.
    #[serde(default)]
    pub mode: Option<InterpretMode>,
}

/// What a prompt was read as.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Understanding {
    /// The main action (`block`, `allow`, `require_approval`, `notify`, `send_email`,
    /// `http_request`, `call_webhook`, `create_task`, …); `null` when the prompt names none.
    #[schema(required = true)]
    pub action: Option<String>,
    /// The entities involved, the trigger's first.
    pub entities: Vec<String>,
    /// The trigger, without its conditions.
    #[schema(value_type = Object)]
    pub trigger: serde_json::Value,
    /// One condition per rule, in the condition format of definitions.
    #[schema(value_type = Vec<Object>)]
    pub conditions: Vec<serde_json::Value>,
    /// Every action, in order, with its arguments.
    #[schema(value_type = Vec<Object>)]
    pub actions: Vec<serde_json::Value>,
}

/// `POST /api/v1/ai/interpret`: nothing is deployed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Interpretation {
    pub interpretation: Understanding,
    /// A complete definition the validator accepts; review it, test it (`POST
    /// /api/v1/dry-run`), then deploy it.
    #[schema(value_type = Object)]
    pub suggested_workflow: serde_json::Value,
    /// 0 to 1.
    pub confidence: f64,
    /// What is ambiguous or missing, to ask the person.
    pub questions: Vec<String>,
    /// The mode that answered: `offline` when `llm` was asked for but could not answer (see
    /// `fallback`).
    pub mode: InterpretMode,
    /// How many requests went to the LLM endpoint (the first and each correction), in `llm`
    /// mode; else `null`.
    #[serde(default)]
    pub llm_requests: Option<u32>,
    /// Why the offline interpreter answered a request for `llm`: no endpoint configured, the
    /// endpoint failed or was refused by the outbound guard, or no valid workflow came back;
    /// else `null`.
    #[serde(default)]
    pub fallback: Option<String>,
}

/// `POST /api/v1/ai/suggest`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuggestRequest {
    /// The situation, in English ("hold big orders for a manager", "screen payments for fraud").
    #[schema(min_length = 1, max_length = 2000)]
    pub scenario: String,
    /// How many suggestions at most (default 3).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 10)]
    pub limit: Option<i64>,
}

/// A template that fits a scenario, filled in for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Suggestion {
    pub template_id: String,
    pub name: String,
    pub description: String,
    /// 0 to 1: the share of the scenario's words the template speaks of.
    pub score: f64,
    /// The scenario's words it matched.
    pub matched: Vec<String>,
    /// The template's definition with what the scenario says put in (thresholds, the
    /// approving team); it validates in the caller's scope. Review it before deploying.
    #[schema(value_type = Object)]
    pub workflow: serde_json::Value,
    /// What was changed from the template, in sentences; empty when nothing was.
    pub changes: Vec<String>,
}

/// `POST /api/v1/ai/suggest`: the best first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Suggestions {
    pub suggestions: Vec<Suggestion>,
}

/// `PUT /api/v1/settings/llm`: the chat endpoint this environment's prompts go to in `llm`
/// mode, instead of the server's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LlmSettingRequest {
    /// An OpenAI-compatible base URL (`https://api.openai.com/v1`) or chat completions URL.
    #[schema(min_length = 1, max_length = 2048)]
    pub url: String,
    #[schema(min_length = 1, max_length = 200)]
    pub model: String,
    /// The name of a secret of this environment holding the API key (sent as `Authorization:
    /// Bearer`); its `allowed_hosts` must admit the URL's host, its `allowed_actions` (if set)
    /// name `llm`. Without it, no key is sent.
    #[serde(default)]
    pub api_key_secret: Option<String>,
}

/// The environment's LLM endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LlmSettingView {
    pub url: String,
    pub model: String,
    #[schema(required = true)]
    pub api_key_secret: Option<String>,
    pub updated_at: String,
}
