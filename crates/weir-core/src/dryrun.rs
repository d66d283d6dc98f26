//! The dry run: one run of a workflow for one event, in memory, by the same executor as a live
//! run (`executor.rs`), with its effects answered from assumptions instead of performed. An
//! action's result is its mock or a plausible default for its type; an approval and a wait
//! resolve as the caller assumes, or the run stays waiting there; timers fire in order on a
//! virtual clock; a child run is dry-run when its workflow is given, or answers an assumed
//! result. What it reports (the path, the values compared, rendered inputs with secrets as
//! `***`) comes from the executor's own step records and explanations.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::condition::CondTrace;
use crate::env::Env;
use crate::executor::{
    self, ActionError, Effect, ExecStatus, Execution, Explanation, Input, StepState,
};
use crate::model::*;
use crate::template::{RenderTrace, Secrets};

/// How a dry-run treats the things it cannot know.
#[derive(Debug, Clone, Default)]
pub struct DryRunOptions {
    /// The event type, matched against event triggers. `None` means a manual start, or one by
    /// the kind of trigger `trigger` names.
    pub event: Option<String>,
    /// Without an event: the kind of trigger that starts the run, `schedule` or `webhook`
    /// (`None` is a manual or api start).
    pub trigger: Option<String>,
    /// The outcome to assume for approval steps; `None` stops the walk there.
    pub approval: Option<ApprovalOutcome>,
    /// The outcome to assume for wait steps; `None` stops the walk there.
    pub wait: Option<WaitOutcome>,
    /// The event's source, matched against an event trigger's `source` filter.
    pub source: Option<String>,
    /// Action results by step id, in place of the default an action type answers with.
    pub mocks: BTreeMap<String, Value>,
    /// Action steps whose every attempt fails, by step id, with the error class assumed (one of
    /// [`failure_classes`]): what a retry policy's `retry_on` and `on_error` then do.
    pub failures: BTreeMap<String, String>,
    /// Workflows a subworkflow step may start, by id: a child run of one of these is dry-run
    /// too; any other answers an assumed result.
    pub workflows: BTreeMap<String, Workflow>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalOutcome {
    Approve,
    Reject,
    Timeout,
}

#[derive(Debug, Clone, PartialEq)]
pub enum WaitOutcome {
    /// The awaited event arrives with this payload.
    Event(Value),
    Timeout,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Completed,
    Failed,
    Waiting,
    /// No trigger of the workflow matched, so nothing ran.
    NotMatched,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Completed,
    Skipped,
    Failed,
    Waiting,
    /// Stopped by the run: a branch that lost a `first` or `any` parallel, a run that ended.
    Cancelled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    Allow,
    Block,
    None,
}

impl Verdict {
    /// The decision a step with this verdict makes; `execute` makes none.
    pub fn decision(self) -> Option<DecisionKind> {
        match self {
            Verdict::Allow => Some(DecisionKind::Allow),
            Verdict::Block => Some(DecisionKind::Block),
            Verdict::Execute => None,
        }
    }
}

/// What a dry-run found.
#[derive(Debug, Clone, Serialize)]
pub struct DryRun {
    pub workflow_id: String,
    pub matched: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trigger: Option<TriggerMatch>,
    pub status: RunStatus,
    pub decision: DecisionKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub steps: Vec<StepRecord>,
    pub variables: Map<String, Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TriggerMatch {
    pub index: usize,
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conditions: Option<CondTrace>,
    /// The trigger's debounce window: the run starts once it closes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub debounce: Option<String>,
}

/// One step visit on the path taken.
#[derive(Debug, Clone, Serialize)]
pub struct StepRecord {
    pub step_id: String,
    #[serde(rename = "type")]
    pub step_type: String,
    pub status: StepStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The parallel or foreach step this visit is inside.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branch: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iteration: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guard: Option<CondTrace>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<CondTrace>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    /// What the real engine would do here that a dry-run does not: wait, start, call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub would: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision: Option<DecisionKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "RenderTrace::is_empty")]
    pub templates: RenderTrace,
}

/// How deep dry runs of subworkflows nest (as in a live run).
const MAX_CHILD_DEPTH: usize = 16;

/// Whether an event trigger hears an event of this type from this source: the type matches its
/// pattern and, when it names a `source`, the event comes from a matching one.
pub fn trigger_hears(kind: &TriggerKind, event_type: &str, source: Option<&str>) -> bool {
    match kind {
        TriggerKind::Event {
            event,
            source: want,
            ..
        } => {
            event_matches(event, event_type)
                && want
                    .as_deref()
                    .is_none_or(|w| source.is_some_and(|s| event_matches(w, s)))
        }
        _ => false,
    }
}

/// Dry-runs `wf` for one event payload.
pub fn dry_run(wf: &Workflow, payload: &Value, env: &Env<'_>, opts: &DryRunOptions) -> DryRun {
    dry_run_at(wf, payload, env, opts, 0)
}

/// The trigger kind a child run starts with, whatever the child's own triggers.
const CHILD: &str = "subworkflow";

fn dry_run_at(
    wf: &Workflow,
    payload: &Value,
    env: &Env<'_>,
    opts: &DryRunOptions,
    depth: usize,
) -> DryRun {
    let mut out = DryRun {
        workflow_id: wf.id.clone(),
        matched: false,
        trigger: None,
        status: RunStatus::NotMatched,
        decision: DecisionKind::None,
        reason: None,
        steps: Vec::new(),
        variables: Map::new(),
        notes: Vec::new(),
        error: None,
    };
    let ctx = crate::context::payload_root(payload);

    // Which trigger starts this run?
    let mut render = RenderTrace::default();
    let mut schema_problems: Option<String> = None;
    let mut rejected: Option<TriggerMatch> = None;
    let mut wrong_source: Option<&str> = None;
    let mut window = None;
    // A child run is started by its parent's step, not by a trigger.
    let triggers = if depth > 0 { &[][..] } else { &wf.triggers[..] };
    for (index, t) in triggers.iter().enumerate() {
        let applies = match (&t.kind, &opts.event, opts.trigger.as_deref()) {
            (TriggerKind::Event { event, source, .. }, Some(ev), _) => {
                let hears = trigger_hears(&t.kind, ev, opts.source.as_deref());
                if !hears && event_matches(event, ev) {
                    wrong_source = wrong_source.or(source.as_deref());
                }
                hears
            }
            (TriggerKind::Schedule(_), None, Some("schedule")) => true,
            (TriggerKind::Webhook(_), None, Some("webhook")) => true,
            (
                TriggerKind::Manual { .. } | TriggerKind::Api { .. },
                None,
                None | Some("manual" | "api"),
            ) => true,
            _ => false,
        };
        if !applies {
            continue;
        }
        let (event, debounce) = match &t.kind {
            TriggerKind::Event {
                event, debounce, ..
            } => (Some(event.clone()), debounce.as_ref()),
            _ => (None, None),
        };
        let conditions = t
            .conditions
            .as_ref()
            .map(|c| c.eval_traced(&ctx, env, &mut render));
        let mut passed = conditions.as_ref().is_none_or(CondTrace::result);
        // A manual or api start must satisfy the trigger's input schema; a webhook delivery,
        // the webhook's payload schema.
        let schema = match &t.kind {
            TriggerKind::Manual {
                input_schema: Some(schema),
            }
            | TriggerKind::Api {
                input_schema: Some(schema),
            } => Some(schema),
            TriggerKind::Webhook(w) => w.schema.as_ref(),
            _ => None,
        };
        if let Some(schema) = schema
            && passed
            && let Ok(validator) = jsonschema::validator_for(schema)
        {
            let problems: Vec<String> = validator
                .iter_errors(payload)
                .map(|e| {
                    format!(
                        "{}: {e}",
                        if e.instance_path().as_str().is_empty() {
                            "/"
                        } else {
                            e.instance_path().as_str()
                        }
                    )
                })
                .take(10)
                .collect();
            if !problems.is_empty() {
                passed = false;
                schema_problems = Some(problems.join("; "));
            }
        }
        let m = TriggerMatch {
            index,
            kind: t.kind.name(),
            event,
            conditions,
            debounce: debounce.map(|d| d.window.to_string()),
        };
        if passed {
            out.trigger = Some(m);
            out.matched = true;
            window = debounce;
            break;
        }
        rejected.get_or_insert(m);
    }
    if !wf.enabled {
        out.notes
            .push("the workflow is disabled: the engine would not start it".into());
    }
    if depth > 0 {
        out.matched = true;
    } else if wf.triggers.is_empty() && opts.event.is_none() {
        out.matched = true;
        out.notes
            .push("the workflow has no trigger: it starts manually or as a subworkflow".into());
    }
    if !out.matched {
        out.reason = Some(match (&rejected, &opts.event) {
            (Some(_), _) if schema_problems.is_some() => {
                format!(
                    "the input does not satisfy the trigger's {}: {}",
                    if opts.trigger.as_deref() == Some("webhook") {
                        "schema"
                    } else {
                        "input_schema"
                    },
                    schema_problems.unwrap_or_default()
                )
            }
            (Some(_), _) => "the trigger conditions are false for this payload".into(),
            (None, Some(ev)) => match (wrong_source, &opts.source) {
                (Some(want), Some(got)) => format!(
                    "the trigger for event '{ev}' listens to source '{want}' only, not '{got}'"
                ),
                (Some(want), None) => format!(
                    "the trigger for event '{ev}' listens to source '{want}' only; give --source"
                ),
                _ => format!("no trigger of this workflow listens for event '{ev}'"),
            },
            (None, None) => match opts.trigger.as_deref() {
                Some(kind @ ("schedule" | "webhook")) => {
                    format!("the workflow has no {kind} trigger")
                }
                _ => "the workflow has no manual or api trigger; give --event".into(),
            },
        });
        out.trigger = rejected;
        return out;
    }

    // A debounced trigger starts the run when its window closes with no later event, with the
    // last event's payload: the run is tried as of then.
    let mut env = *env;
    if let Some(d) = window {
        env.now += d.window.as_chrono();
        let key = match &d.key {
            Some(k) => format!(
                " for key '{}'",
                display(&k.render(&ctx, &env, Secrets::Redact, &mut render))
            ),
            None => String::new(),
        };
        out.notes.push(format!(
            "the trigger debounces: the run would start {} after the last such event{key}, \
             with that event's payload; it is tried as of then",
            d.window
        ));
    }
    let kind = match &out.trigger {
        Some(t) => t.kind,
        None if depth > 0 => CHILD,
        None => "manual",
    };
    let (_, notes) = crate::context::initial_context(
        wf,
        ctx,
        kind,
        opts.event.as_deref(),
        &env,
        Secrets::Redact,
        &mut render,
    );
    out.notes.extend(notes);
    if let Some(c) = &wf.context
        && !c.load.is_empty()
    {
        out.notes.push(format!(
            "would load context before the first step: {}",
            c.load.join(", ")
        ));
    }

    let start = executor::Start {
        id: "dry-run".into(),
        trigger_kind: kind,
        event: opts.event.as_deref(),
        payload,
    };
    let mut driver = Driver {
        wf,
        opts,
        depth,
        steps: steps_by_id(wf),
        records: Vec::new(),
        by_key: HashMap::new(),
        explained: HashMap::new(),
        inputs: VecDeque::new(),
        timers: BTreeSet::new(),
        open: BTreeSet::new(),
        asked: BTreeMap::new(),
        planned: Vec::new(),
        set_at: None,
    };
    let (exec, fx) = Execution::start_traced(wf, start, &env);
    let exec = driver.drive(exec, fx, env);
    out.status = match exec.status {
        ExecStatus::Completed => RunStatus::Completed,
        ExecStatus::Failed | ExecStatus::Cancelled => RunStatus::Failed,
        ExecStatus::Running | ExecStatus::Waiting => RunStatus::Waiting,
    };
    out.error = exec.error.clone();
    out.steps = driver.finish();
    match exec.decision {
        Some(kind) => {
            out.decision = kind;
            out.reason = exec
                .reason
                .clone()
                .or_else(|| Some(format!("decided by step '{}'", last_decider(&out.steps))));
        }
        None => {
            out.reason = Some(match out.status {
                RunStatus::Waiting => "no decision yet: the execution would wait".into(),
                RunStatus::Failed => "no decision: the execution failed".into(),
                _ => "no decision step was reached".into(),
            });
        }
    }
    if let Some(Value::Object(vars)) = exec.ctx.get("vars") {
        out.variables = vars.clone();
    }
    out
}

fn last_decider(records: &[StepRecord]) -> String {
    records
        .iter()
        .rev()
        .find(|r| r.decision.is_some())
        .map(|r| r.step_id.clone())
        .unwrap_or_default()
}

/// Event type matching: exact, or a trailing `*` wildcard (`order.*`).
pub fn event_matches(pattern: &str, event: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => event.starts_with(prefix),
        None => pattern == event,
    }
}

/// The error classes a dry run can assume an action fails with: those a retry policy's
/// `retry_on` names ([`crate::executor::RETRY_CLASSES`]), and `invalid` (a config the action
/// cannot work with). `4xx` and `invalid` are permanent, as a live action reports them; the
/// others are retried.
pub fn failure_classes() -> Vec<&'static str> {
    let mut classes = executor::RETRY_CLASSES.to_vec();
    classes.push("invalid");
    classes
}

/// Whether a dry run may assume a result or a failure for the step `id`: an action step, or
/// a decision step that executes actions. The error says why not.
pub fn check_assumed_step(workflow: &Workflow, id: &str) -> Result<(), String> {
    fn find<'w>(list: &'w StepList, id: &str) -> Option<&'w Step> {
        list.steps.iter().find_map(|s| {
            if s.id == id {
                return Some(s);
            }
            match &s.kind {
                StepKind::Parallel { branches, .. } => branches.iter().find_map(|b| find(b, id)),
                StepKind::Foreach { body, .. } => find(body, id),
                _ => None,
            }
        })
    }
    match find(&workflow.steps, id).map(|s| &s.kind) {
        Some(StepKind::Action(_)) => Ok(()),
        Some(StepKind::Decision(d)) if !d.execute.is_empty() => Ok(()),
        Some(other) => Err(format!(
            "step '{id}' is a {} step, which performs no action",
            other.type_name()
        )),
        None => Err(format!("the workflow has no step '{id}'")),
    }
}

/// The error of an action a dry run assumes fails with this class.
fn assumed_failure(class: &str) -> ActionError {
    let message = format!("a {class} failure assumed by the dry run");
    match class {
        "4xx" | "invalid" => ActionError::permanent(message),
        _ => ActionError::retryable(message),
    }
    .with_class(class)
}

/// The result an action of this type answers in a dry run when no mock is given: the shape the
/// built-in action returns in a live run (`docs/format.md` §4.14), filled from its config
/// (secrets as `***`) where the action would echo it, with neutral values elsewhere. A type
/// with no built-in implementation (a connector's) answers `{}`.
pub fn default_action_result(action_type: &str, config: &Value) -> Value {
    let get = |k: &str| config.get(k).cloned().unwrap_or(Value::Null);
    let record = |entity_type: Value, fields: Value| {
        json!({
            "entity_type": entity_type, "entity_id": get("entity_id"), "fields": fields,
            "created_ms": 0, "updated_ms": 0, "created": true,
        })
    };
    match action_type {
        "http_request" | "webhook" | "call_webhook" => {
            json!({ "status": 200, "headers": {}, "body": null })
        }
        "send_email" => json!({
            "outbox_id": "dry-run", "status": "outbox", "to": get("to"), "subject": get("subject"),
        }),
        "notify" | "send_notification" => {
            let field = if action_type == "notify" {
                "channel"
            } else {
                "notification_type"
            };
            let channel = match config.get(field).and_then(Value::as_str) {
                None | Some("push") => "in_app",
                Some(c) => c,
            };
            json!({ "channel": channel, "notifications": [], "delivered": [] })
        }
        "create_approval_request" => json!({
            "approval_id": "apr_dry-run", "status": "pending", "entity": get("entity"),
            "entity_id": get("entity_id"), "approver_role": get("approver_role"),
        }),
        "create_record" => record(get("entity_type"), get("data")),
        "update_record" => record(get("entity_type"), get("data")),
        "update_field" => {
            let mut fields = Map::new();
            if let Some(f) = config.get("field").and_then(Value::as_str) {
                fields.insert(f.to_owned(), get("value"));
            }
            record(get("entity_type"), Value::Object(fields))
        }
        "create_task" => {
            let mut out = record(
                json!("task"),
                json!({ "title": get("title"), "status": "open" }),
            );
            out["entity_id"] = json!("dry-run");
            out["task_id"] = json!("dry-run");
            out
        }
        "add_note" => json!({
            "id": "dry-run", "entity_type": get("entity_type"), "entity_id": get("entity_id"),
            "note": get("note"),
            "visibility": config.get("visibility").cloned().unwrap_or(json!("internal")),
            "execution_id": "dry-run", "created_ms": 0,
        }),
        "database_query" if config["output_format"] == json!("object") => {
            json!({ "found": false, "record": null })
        }
        "database_query" => json!({ "count": 0, "records": [] }),
        "emit_event" => json!({ "event_id": "dry-run", "executions": 0 }),
        "transform" if config.get("code").is_some() || config.get("source").is_some() => {
            Value::Null
        }
        "transform" if config.get("operation").is_some() => json!({ "items": [], "count": 0 }),
        // Templates only: the rendered `output` is the result, as in a live run.
        "transform" => get("output"),
        "transform_data" => match config.get("output_mapping").and_then(Value::as_object) {
            Some(m) => Value::Object(m.keys().map(|k| (k.clone(), Value::Null)).collect()),
            None => json!({ "result": null }),
        },
        "noop" => json!({ "ok": true, "input": config }),
        "log" => json!({ "logged": config }),
        "code" => Value::Null,
        _ => json!({}),
    }
}

/// Every step of a workflow by id (ids are unique in a valid workflow).
fn steps_by_id(wf: &Workflow) -> HashMap<String, &Step> {
    fn walk<'w>(list: &'w StepList, out: &mut HashMap<String, &'w Step>) {
        for step in &list.steps {
            out.insert(step.id.clone(), step);
            match &step.kind {
                StepKind::Parallel { branches, .. } => branches.iter().for_each(|b| walk(b, out)),
                StepKind::Foreach { body, .. } => walk(body, out),
                _ => {}
            }
        }
    }
    let mut out = HashMap::new();
    walk(&wf.steps, &mut out);
    out
}

/// Answers a traced execution's effects and turns its step records into the dry run's.
struct Driver<'a> {
    wf: &'a Workflow,
    opts: &'a DryRunOptions,
    depth: usize,
    steps: HashMap<String, &'a Step>,
    /// The executor's records, latest per key, in the order their keys first appeared.
    records: Vec<(executor::StepRecord, Option<String>)>,
    by_key: HashMap<String, usize>,
    explained: HashMap<String, Explanation>,
    /// Inputs to apply, in the order their answers would arrive (each action takes as long).
    inputs: VecDeque<Input>,
    /// Timers set and not cancelled, by when they fire.
    timers: BTreeSet<(DateTime<Utc>, executor::TimerId)>,
    /// Waits, approvals and child runs nothing answered: ids, or `thread:<n>` for a wait.
    open: BTreeSet<String>,
    /// What an approval (by step id) or a child run (by child id) asks: the "would" text and
    /// the input to show.
    asked: BTreeMap<String, (String, Option<Value>)>,
    /// A decision's execute list as performed: (record key, type, input).
    planned: Vec<(String, String, Option<Value>)>,
    /// When the last timer set fires (a delay's record follows its timer).
    set_at: Option<DateTime<Utc>>,
}

impl<'a> Driver<'a> {
    fn drive(&mut self, mut exec: Execution, fx: Vec<Effect>, mut env: Env<'_>) -> Execution {
        self.absorb(&mut exec, fx, &env);
        loop {
            if let Some(input) = self.inputs.pop_front() {
                let fx = exec.apply(self.wf, input, &env);
                self.absorb(&mut exec, fx, &env);
                continue;
            }
            if exec.status.is_terminal() {
                break;
            }
            // Only time is left: delays and retries pass. Something nobody answers keeps the run
            // waiting, unless what is assumed is a timeout, which the clock brings.
            let timeouts = matches!(self.opts.wait, Some(WaitOutcome::Timeout))
                || self.opts.approval == Some(ApprovalOutcome::Timeout);
            let waiting = !self.open.is_empty() || !exec.awaited_events().is_empty();
            let due = self
                .timers
                .iter()
                .find(|(_, t)| !(waiting && !timeouts && exec.is_deadline(*t)))
                .copied();
            let Some((at, timer)) = due else {
                break;
            };
            self.timers.remove(&(at, timer));
            env.now = env.now.max(at);
            let fx = exec.apply(self.wf, Input::Timer(timer), &env);
            self.absorb(&mut exec, fx, &env);
        }
        exec
    }

    fn absorb(&mut self, exec: &mut Execution, fx: Vec<Effect>, env: &Env<'_>) {
        for e in exec.take_explanations() {
            match self.explained.get_mut(&e.key) {
                Some(had) => {
                    had.guard = e.guard.or(had.guard.take());
                    had.condition = e.condition.or(had.condition.take());
                    had.input = e.input.or(had.input.take());
                    merge(&mut had.templates, e.templates);
                }
                None => {
                    self.explained.insert(e.key.clone(), e);
                }
            }
        }
        let mut last_perform_key = None;
        for effect in fx {
            match effect {
                Effect::Step(r) => {
                    last_perform_key = Some(r.key.clone());
                    let would = self.would_for(&r);
                    match self.by_key.get(&r.key) {
                        Some(&i) => {
                            // A later record of the same attempt (completed after running)
                            // keeps what the earlier one said about the input.
                            let (had, had_would) = &mut self.records[i];
                            let mut r = r;
                            if r.input.is_none() {
                                r.input = had.input.take();
                            }
                            let would = would.or(had_would.take());
                            self.records[i] = (r, would);
                        }
                        None => {
                            self.by_key.insert(r.key.clone(), self.records.len());
                            self.records.push((r, would));
                        }
                    }
                }
                Effect::Perform {
                    thread,
                    step_id,
                    action_type,
                    attempt,
                    ..
                } => {
                    // The input has secrets revealed: the record's redacted copy is what is kept.
                    let mut config = None;
                    if let Some(key) = last_perform_key.take() {
                        config = self
                            .by_key
                            .get(&key)
                            .and_then(|&i| self.records[i].0.input.clone());
                        self.planned
                            .push((key, action_type.clone(), config.clone()));
                    }
                    let result = match (
                        self.opts.failures.get(&step_id),
                        self.opts.mocks.get(&step_id),
                    ) {
                        (Some(class), _) => Err(assumed_failure(class)),
                        (None, Some(mock)) => Ok(mock.clone()),
                        (None, None) => Ok(default_action_result(
                            &action_type,
                            &config.unwrap_or_default(),
                        )),
                    };
                    self.inputs.push_back(Input::Action {
                        thread,
                        attempt,
                        result,
                    });
                }
                Effect::SetTimer { timer, at } => {
                    self.timers.insert((at, timer));
                    self.set_at = Some(at);
                }
                Effect::CancelTimer { timer } => self.timers.retain(|(_, t)| *t != timer),
                Effect::AwaitEvent { thread, event, .. } => match &self.opts.wait {
                    Some(WaitOutcome::Event(payload)) => {
                        self.open.insert(format!("thread:{thread}"));
                        self.inputs.push_back(Input::Event {
                            event_type: event,
                            payload: payload.clone(),
                        });
                    }
                    _ => {
                        self.open.insert(format!("thread:{thread}"));
                    }
                },
                Effect::StopAwaiting { thread } => {
                    self.open.remove(&format!("thread:{thread}"));
                }
                Effect::RequestApproval {
                    id,
                    step_id,
                    approver_role,
                    entity,
                    entity_id,
                    message,
                    ..
                } => {
                    let timeout = self.steps.get(&step_id).and_then(|s| match &s.kind {
                        StepKind::Approval(a) => a.timeout,
                        _ => None,
                    });
                    let who = approver_role
                        .as_deref()
                        .map(|x| format!("role '{x}'"))
                        .unwrap_or_else(|| "an approver".into());
                    let what = match (&entity, &entity_id) {
                        (Some(e), Some(i)) => format!(" for {e} {}", display(i)),
                        (Some(e), None) => format!(" for {e}"),
                        _ => String::new(),
                    };
                    let limit = timeout
                        .map(|t| format!(" (timeout {t})"))
                        .unwrap_or_default();
                    let input = json!({
                        "approver_role": approver_role, "entity": entity, "entity_id": entity_id,
                        "message": message, "timeout": timeout,
                    });
                    self.asked.insert(
                        step_id,
                        (
                            format!("would ask {who} to approve{what}{limit}"),
                            Some(input),
                        ),
                    );
                    let outcome = match self.opts.approval {
                        Some(ApprovalOutcome::Approve) => Some(ApprovalOutcome::Approve),
                        Some(ApprovalOutcome::Reject) => Some(ApprovalOutcome::Reject),
                        // A timeout is the approval's own timer, on the virtual clock.
                        _ => None,
                    };
                    match outcome {
                        Some(outcome) => self.inputs.push_back(Input::Approval { id, outcome }),
                        None => {
                            self.open.insert(id);
                        }
                    }
                }
                Effect::WithdrawApproval { id }
                | Effect::ExpireApproval { id }
                | Effect::CancelChild { id } => {
                    self.open.remove(&id);
                }
                Effect::StartChild {
                    id,
                    workflow_id,
                    input,
                } => {
                    let would =
                        format!("would start workflow '{workflow_id}' and wait for its result");
                    let result = match self.opts.workflows.get(&workflow_id) {
                        Some(child) if self.depth < MAX_CHILD_DEPTH => {
                            let opts = DryRunOptions {
                                event: None,
                                trigger: None,
                                source: None,
                                ..self.opts.clone()
                            };
                            let run = dry_run_child(child, &input, env, &opts, self.depth + 1);
                            match run.status {
                                RunStatus::Completed => Some(Ok(Value::Object(run.variables))),
                                RunStatus::Waiting => None,
                                _ => Some(Err(run.error.unwrap_or_else(|| "failed".into()))),
                            }
                        }
                        Some(_) => Some(Err(format!(
                            "subworkflows nest deeper than {MAX_CHILD_DEPTH} levels"
                        ))),
                        None => Some(Ok(json!({ "planned": true, "workflow_id": workflow_id }))),
                    };
                    self.asked.insert(id.clone(), (would, Some(input)));
                    match result {
                        Some(result) => self.inputs.push_back(Input::Child { id, result }),
                        None => {
                            self.open.insert(id);
                        }
                    }
                }
                Effect::Decided { .. } | Effect::Finished { .. } => {}
            }
        }
    }

    /// What the real engine would do at this record that a dry run does not.
    fn would_for(&mut self, r: &executor::StepRecord) -> Option<String> {
        let step = self.steps.get(&r.step_id)?;
        match &step.kind {
            StepKind::Action(call) if r.status == StepState::Running => {
                Some(format!("would perform '{}'", call.action_type))
            }
            StepKind::Wait { event, timeout, .. } => {
                let limit = timeout
                    .map(|t| format!(" for up to {t}"))
                    .unwrap_or_default();
                Some(format!("would wait for event '{event}'{limit}"))
            }
            StepKind::Delay { duration, until } if r.status == StepState::Waiting => {
                Some(match (duration, until, self.set_at.take()) {
                    (Some(d), _, _) => format!("would wait {d}, then go on"),
                    (_, Some(_), Some(at)) => format!(
                        "would wait until {}, then go on",
                        at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
                    ),
                    _ => "would wait".into(),
                })
            }
            _ => None,
        }
    }

    /// The dry run's records: the executor's, with their explanations.
    fn finish(&mut self) -> Vec<StepRecord> {
        let records = std::mem::take(&mut self.records);
        let mut planned: HashMap<String, Vec<Value>> = HashMap::new();
        for (key, action_type, input) in self.planned.drain(..) {
            planned.entry(key).or_default().push(json!({
                "type": action_type, "config": input, "result": { "planned": true },
            }));
        }
        records
            .into_iter()
            .map(|(r, would)| {
                let e = self.explained.remove(&r.key).unwrap_or_default();
                let list = planned.remove(&r.key).unwrap_or_default();
                self.convert(r, would, e, list)
            })
            .collect()
    }

    fn convert(
        &self,
        r: executor::StepRecord,
        would: Option<String>,
        e: Explanation,
        planned: Vec<Value>,
    ) -> StepRecord {
        let step = self.steps.get(&r.step_id).copied();
        let mut out = StepRecord {
            step_id: r.step_id,
            step_type: r.step_type,
            status: match r.status {
                StepState::Completed => StepStatus::Completed,
                StepState::Skipped => StepStatus::Skipped,
                StepState::Failed => StepStatus::Failed,
                StepState::Cancelled => StepStatus::Cancelled,
                StepState::Running | StepState::Waiting => StepStatus::Waiting,
            },
            name: step.and_then(|s| s.name.clone()),
            parent: r.parent_step,
            branch: r.branch,
            iteration: r.iteration,
            guard: e.guard,
            condition: e.condition,
            result: None,
            input: r.input,
            output: r.output,
            would,
            next: None,
            decision: None,
            reason: None,
            error: r.error,
            templates: e.templates,
        };
        if out.status == StepStatus::Skipped {
            out.reason = out.error.take();
        }
        let Some(step) = step else { return out };
        let output = out.output.clone().unwrap_or(Value::Null);
        let timed_out = output["timed_out"] == json!(true);
        match &step.kind {
            StepKind::Condition {
                on_true, on_false, ..
            } => {
                // The comparisons are in `condition`, not repeated as the input.
                out.input = None;
                if let Some(result) = output["result"].as_bool() {
                    out.result = Some(result);
                    out.next = if result { on_true } else { on_false }.clone();
                }
            }
            StepKind::Switch { cases, default, .. } if out.output.is_some() => {
                out.next = match output["case"].as_u64() {
                    Some(i) => cases.get(i as usize).map(|c| c.next.clone()),
                    None => default.clone(),
                };
            }
            StepKind::Parallel {
                on_true, on_false, ..
            } => {
                if let Some(result) = output["result"].as_bool() {
                    out.result = Some(result);
                    out.next = if result { on_true } else { on_false }.clone();
                }
            }
            StepKind::Wait { on_timeout, .. } => {
                if timed_out {
                    out.reason = Some("assumed: the wait timed out".into());
                    out.next = on_timeout.clone();
                } else if out.status == StepStatus::Completed {
                    out.reason = Some(format!(
                        "assumed: event '{}' arrived",
                        step_event(step).unwrap_or_default()
                    ));
                } else if out.condition.as_ref().is_some_and(|c| !c.result()) {
                    out.result = Some(false);
                    out.reason = Some(
                        "the assumed event does not match; the step would go on waiting".into(),
                    );
                }
                if let Some(c) = &out.condition {
                    out.result = Some(c.result());
                }
                out.input = None;
            }
            StepKind::Approval(a) => {
                if let Some((would, input)) = self.asked.get(&step.id) {
                    out.would = Some(would.clone());
                    out.input = input.clone();
                }
                let (next, word) = if timed_out {
                    (a.on_timeout.clone(), Some("timed_out"))
                } else {
                    match output["outcome"].as_str() {
                        Some("approved") => (a.on_approve.clone(), Some("approved")),
                        Some("rejected") => (a.on_reject.clone(), Some("rejected")),
                        _ => (None, None),
                    }
                };
                if let Some(word) = word {
                    out.reason = Some(format!("assumed: {word}"));
                    out.next = next;
                }
            }
            StepKind::Subworkflow { .. } => {
                let child = out.input.as_ref().and_then(|i| i["child_id"].as_str());
                if let Some((would, input)) = child.and_then(|c| self.asked.get(c)) {
                    out.would = Some(would.clone());
                    out.input = input.clone();
                }
            }
            StepKind::Decision(d) => {
                let kind = d.verdict.decision();
                out.decision = kind;
                out.reason = output["reason"].as_str().map(str::to_owned);
                let mut input = e.input.unwrap_or(Value::Null);
                if !planned.is_empty() {
                    out.would = Some(format!(
                        "would perform {} action(s): {}",
                        planned.len(),
                        planned
                            .iter()
                            .filter_map(|p| p["type"].as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                    if !input.is_object() {
                        input = Value::Object(Map::new());
                    }
                    input["execute"] = Value::Array(planned);
                }
                out.input = (!input.is_null()).then_some(input);
            }
            _ => {}
        }
        out
    }
}

fn step_event(step: &Step) -> Option<&str> {
    match &step.kind {
        StepKind::Wait { event, .. } => Some(event),
        _ => None,
    }
}

/// A child run: its workflow started as a subworkflow, with the step's input as its payload.
fn dry_run_child(
    wf: &Workflow,
    input: &Value,
    env: &Env<'_>,
    opts: &DryRunOptions,
    depth: usize,
) -> DryRun {
    dry_run_at(wf, input, env, opts, depth)
}

/// Adds what `more` found to `into`, each name once.
fn merge(into: &mut RenderTrace, more: RenderTrace) {
    for (to, from) in [
        (&mut into.missing_paths, more.missing_paths),
        (&mut into.secrets_used, more.secrets_used),
        (&mut into.missing_secrets, more.missing_secrets),
    ] {
        for x in from {
            if !to.contains(&x) {
                to.push(x);
            }
        }
    }
    into.over_budget |= more.over_budget;
    into.spent = into.spent.saturating_add(more.spent);
}

/// A value as text: strings bare, anything else as JSON.
fn display(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
