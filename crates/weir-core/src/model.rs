//! The workflow definition model: what a parsed, compiled definition looks like in memory.
//! Conditions, templates, durations and cron expressions are compiled when the definition is
//! read, so evaluating them later does no parsing.

use serde_json::Value;

use crate::condition::Condition;
use crate::duration::Duration;
use crate::env::Rule;
use crate::template::{Template, TemplateValue};

#[derive(Debug, Clone)]
pub struct Workflow {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub version: Option<String>,
    pub enabled: bool,
    pub category: Option<String>,
    pub tags: Vec<String>,
    pub triggers: Vec<Trigger>,
    pub context: Option<ContextSpec>,
    pub settings: Settings,
    /// Initial variables, available as `vars.NAME`.
    pub variables: Vec<(String, TemplateValue)>,
    pub steps: StepList,
    /// Rules defined in the same file, usable by `{"rule": id}` conditions.
    pub rules: Vec<Rule>,
    pub metadata: Option<Value>,
}

#[derive(Debug, Clone)]
pub struct Trigger {
    pub kind: TriggerKind,
    pub conditions: Option<Condition>,
    pub path: String,
}

#[derive(Debug, Clone)]
pub enum TriggerKind {
    Event {
        event: String,
        source: Option<String>,
        debounce: Option<Debounce>,
    },
    Schedule(Box<Schedule>),
    Webhook(Webhook),
    Manual {
        input_schema: Option<Value>,
    },
    Api {
        input_schema: Option<Value>,
    },
}

impl TriggerKind {
    pub fn name(&self) -> &'static str {
        match self {
            TriggerKind::Event { .. } => "event",
            TriggerKind::Schedule(_) => "schedule",
            TriggerKind::Webhook(_) => "webhook",
            TriggerKind::Manual { .. } => "manual",
            TriggerKind::Api { .. } => "api",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Debounce {
    pub window: Duration,
    pub key: Option<Template>,
}

#[derive(Debug, Clone)]
pub struct Schedule {
    pub cron: String,
    pub timezone: Option<String>,
    pub start_at: Option<String>,
    pub end_at: Option<String>,
    pub catch_up: CatchUp,
    pub payload: Option<Value>,
    /// The expression, zone and bounds, read once.
    pub plan: crate::schedule::Plan,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CatchUp {
    None,
    Latest,
    All,
}

#[derive(Debug, Clone)]
pub struct Webhook {
    pub auth: WebhookAuth,
    pub methods: Vec<String>,
    pub schema: Option<Value>,
    pub respond: WebhookResponse,
    pub response_timeout: Option<Duration>,
}

#[derive(Debug, Clone)]
pub enum WebhookAuth {
    None,
    Token {
        header: String,
        secret: Template,
    },
    Hmac {
        header: String,
        timestamp_header: String,
        secret: Template,
        tolerance: Duration,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookResponse {
    Immediate,
    Wait,
}

#[derive(Debug, Clone, Default)]
pub struct ContextSpec {
    pub load: Vec<String>,
    pub timeout: Option<Duration>,
    pub on_error: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub timeout: Option<Duration>,
    pub retry_policy: Option<RetryPolicy>,
    pub on_error: Option<OnError>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub initial_interval: Duration,
    pub backoff_coefficient: f64,
    pub max_interval: Duration,
    pub backoff: Backoff,
    pub retry_on: Vec<String>,
}

impl Default for RetryPolicy {
    /// The defaults: 3 attempts, 1s, ×2.0, at most 60s.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            initial_interval: Duration::from_secs(1),
            backoff_coefficient: 2.0,
            max_interval: Duration::from_secs(60),
            backoff: Backoff::Exponential,
            retry_on: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backoff {
    Exponential,
    Linear,
    Fixed,
}

/// What happens when a step fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OnError {
    /// Fail the execution (`fail`, `propagate`): the default.
    Fail,
    /// Record the failure and go on (`continue`, `ignore`).
    Continue,
    /// Go on, with the error visible as `steps.ID.error` (`catch`).
    Catch,
    /// Go to another step.
    Goto(String),
}

/// A list of steps run in order (or as a DAG when any step has `depends_on`).
#[derive(Debug, Clone, Default)]
pub struct StepList {
    pub steps: Vec<Step>,
    pub path: String,
    /// For each step, the positions of the steps it depends on (`depends_on` resolved once).
    pub deps: Vec<Vec<usize>>,
}

impl StepList {
    /// A list of steps, with `depends_on` resolved to positions (unknown ids are left out:
    /// validation reports them).
    pub fn new(steps: Vec<Step>, path: String) -> Self {
        let index: std::collections::HashMap<&str, usize> = steps
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.as_str(), i))
            .collect();
        let deps = steps
            .iter()
            .map(|s| {
                s.depends_on
                    .iter()
                    .filter_map(|d| index.get(d.as_str()).copied())
                    .collect()
            })
            .collect();
        StepList { steps, path, deps }
    }

    pub fn is_dag(&self) -> bool {
        self.steps.iter().any(|s| !s.depends_on.is_empty())
    }

    pub fn position(&self, id: &str) -> Option<usize> {
        self.steps.iter().position(|s| s.id == id)
    }
}

#[derive(Debug, Clone)]
pub struct Step {
    pub id: String,
    pub name: Option<String>,
    pub kind: StepKind,
    pub next: Option<String>,
    pub end: bool,
    pub depends_on: Vec<String>,
    pub order: Option<i64>,
    /// Skip the step when this is false.
    pub guard: Option<Condition>,
    pub retry: Option<RetryPolicy>,
    pub timeout: Option<Duration>,
    pub allow_failure: bool,
    pub on_error: Option<OnError>,
    /// The JSON path of the step in its document.
    pub path: String,
}

#[derive(Debug, Clone)]
pub enum StepKind {
    Condition {
        condition: Condition,
        on_true: Option<String>,
        on_false: Option<String>,
    },
    Switch {
        value: Option<TemplateValue>,
        cases: Vec<SwitchCase>,
        default: Option<String>,
    },
    Parallel {
        branches: Vec<StepList>,
        strategy: Strategy,
        on_true: Option<String>,
        on_false: Option<String>,
    },
    Wait {
        event: String,
        matches: Option<Condition>,
        timeout: Option<Duration>,
        on_timeout: Option<String>,
    },
    Delay {
        duration: Option<Duration>,
        until: Option<Template>,
    },
    Approval(Approval),
    Foreach {
        items: TemplateValue,
        as_name: String,
        body: StepList,
        max_iterations: Option<u32>,
        concurrency: Option<u32>,
    },
    Subworkflow {
        workflow_id: String,
        input: Option<TemplateValue>,
        output: Option<String>,
    },
    Set {
        variables: Vec<(String, TemplateValue)>,
    },
    Decision(Decision),
    /// A registered action type: `execute` with `action: http_request`, or the type itself.
    Action(ActionCall),
}

impl StepKind {
    pub fn type_name(&self) -> &str {
        match self {
            StepKind::Condition { .. } => "condition",
            StepKind::Switch { .. } => "switch",
            StepKind::Parallel { .. } => "parallel",
            StepKind::Wait { .. } => "wait",
            StepKind::Delay { .. } => "delay",
            StepKind::Approval(_) => "approval",
            StepKind::Foreach { .. } => "foreach",
            StepKind::Subworkflow { .. } => "subworkflow",
            StepKind::Set { .. } => "set",
            StepKind::Decision(_) => "action",
            StepKind::Action(call) => &call.action_type,
        }
    }
}

#[derive(Debug, Clone)]
pub struct SwitchCase {
    pub when: Option<Value>,
    pub condition: Option<Condition>,
    pub next: String,
    pub path: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Wait for every branch; fail if one fails.
    All,
    /// Succeed as soon as one branch succeeds; fail only if all fail.
    Any,
    /// Take the first branch to finish, whatever its outcome.
    First,
    /// A compound condition: true when every branch passes; routes by on_true / on_false.
    AllMustPass,
}

impl Strategy {
    pub fn name(self) -> &'static str {
        match self {
            Strategy::All => "all",
            Strategy::Any => "any",
            Strategy::First => "first",
            Strategy::AllMustPass => "all_must_pass",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Approval {
    pub approver_role: Option<String>,
    pub entity: Option<String>,
    pub entity_id: Option<TemplateValue>,
    pub message: Option<TemplateValue>,
    pub timeout: Option<Duration>,
    pub on_approve: Option<String>,
    pub on_reject: Option<String>,
    pub on_timeout: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    Block,
    /// Only runs the `execute` list.
    Execute,
}

#[derive(Debug, Clone)]
pub struct Decision {
    pub verdict: Verdict,
    pub reason: Option<Template>,
    pub metadata: Option<TemplateValue>,
    pub execute: Vec<ActionCall>,
}

#[derive(Debug, Clone)]
pub struct ActionCall {
    pub action_type: String,
    pub config: TemplateValue,
    pub path: String,
    /// The JSON path of the config's fields: its `config` object, or the entry itself when
    /// they are given inline.
    pub config_path: String,
}
