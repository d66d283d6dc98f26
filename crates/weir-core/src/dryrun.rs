//! The dry-run interpreter: walks a workflow for one event, in memory, and reports the path taken.
//! Actions are not performed (each returns a planned result); waits and approvals stop the walk
//! as "would wait" unless the caller assumes their outcome; delays are reported and passed.

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::condition::{CondTrace, equals};
use crate::env::Env;
use crate::model::*;
use crate::template::{RenderTrace, Secrets};

/// How a dry-run treats the things it cannot know.
#[derive(Debug, Clone)]
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
    /// A bound on step visits, so a loop of `next` jumps cannot run forever.
    pub max_step_visits: usize,
    /// The iteration limit of a foreach without `max_iterations`.
    pub default_max_iterations: usize,
}

impl Default for DryRunOptions {
    fn default() -> Self {
        DryRunOptions {
            event: None,
            trigger: None,
            approval: None,
            wait: None,
            max_step_visits: 100_000,
            default_max_iterations: 1000,
        }
    }
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

impl StepRecord {
    fn new(step: &Step, status: StepStatus) -> Self {
        StepRecord {
            step_id: step.id.clone(),
            step_type: step.kind.type_name().to_owned(),
            status,
            name: step.name.clone(),
            parent: None,
            branch: None,
            iteration: None,
            guard: None,
            condition: None,
            result: None,
            input: None,
            output: None,
            would: None,
            next: None,
            decision: None,
            reason: None,
            error: None,
            templates: RenderTrace::default(),
        }
    }
}

/// Where control goes after a step.
enum Route {
    /// To `next`, or the following step.
    Next,
    Goto(String),
    /// The execution ends here (a decision).
    End,
    /// The current list ends here (`"end": true`): the whole run at the top level, one
    /// iteration in a foreach body, one branch in a parallel.
    EndList,
    /// The execution parks here (waiting).
    Halt,
    Fail(String),
}

/// How a list of steps ended.
#[derive(Debug, Clone, PartialEq)]
enum ListEnd {
    Done,
    Ended,
    Halted,
    Failed(String),
}

struct Frame {
    parent: Option<String>,
    branch: Option<usize>,
    iteration: Option<usize>,
}

struct Runner<'a, 'e> {
    env: &'a Env<'e>,
    /// `settings.on_error`: what a failing step without its own `on_error` does.
    default_on_error: Option<&'a OnError>,
    opts: &'a DryRunOptions,
    ctx: Value,
    records: Vec<StepRecord>,
    decision: Option<(DecisionKind, Option<String>)>,
    visits: usize,
    /// Bytes of context values rendered so far (see [`MAX_RUN_RENDER_BYTES`]).
    rendered: usize,
}

/// How many bytes of values one dry-run may render in all.
pub const MAX_RUN_RENDER_BYTES: usize = 64 * 1024 * 1024;

/// Dry-runs `wf` for one event payload.
pub fn dry_run(wf: &Workflow, payload: &Value, env: &Env<'_>, opts: &DryRunOptions) -> DryRun {
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
    for (index, t) in wf.triggers.iter().enumerate() {
        let applies = match (&t.kind, &opts.event, opts.trigger.as_deref()) {
            (TriggerKind::Event { event, .. }, Some(ev), _) => event_matches(event, ev),
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
        let event = match &t.kind {
            TriggerKind::Event { event, .. } => Some(event.clone()),
            _ => None,
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
        };
        if passed {
            out.trigger = Some(m);
            out.matched = true;
            break;
        }
        rejected.get_or_insert(m);
    }
    if !wf.enabled {
        out.notes
            .push("the workflow is disabled: the engine would not start it".into());
    }
    if wf.triggers.is_empty() && opts.event.is_none() {
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
            (None, Some(ev)) => format!("no trigger of this workflow listens for event '{ev}'"),
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

    let kind = out.trigger.as_ref().map_or("manual", |t| t.kind);
    let (ctx, notes) = crate::context::initial_context(
        wf,
        ctx,
        kind,
        opts.event.as_deref(),
        env,
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

    let mut runner = Runner {
        env,
        default_on_error: wf.settings.on_error.as_ref(),
        opts,
        ctx,
        records: Vec::new(),
        decision: None,
        visits: 0,
        rendered: 0,
    };
    let top = Frame {
        parent: None,
        branch: None,
        iteration: None,
    };
    let end = runner.run_list(&wf.steps, &top);
    out.status = match &end {
        ListEnd::Done | ListEnd::Ended => RunStatus::Completed,
        ListEnd::Halted => RunStatus::Waiting,
        ListEnd::Failed(e) => {
            out.error = Some(e.clone());
            RunStatus::Failed
        }
    };
    match runner.decision.take() {
        Some((kind, reason)) => {
            out.decision = kind;
            out.reason = reason.or_else(|| {
                Some(format!(
                    "decided by step '{}'",
                    last_decider(&runner.records)
                ))
            });
        }
        None => {
            out.reason = Some(match out.status {
                RunStatus::Waiting => "no decision yet: the execution would wait".into(),
                RunStatus::Failed => "no decision: the execution failed".into(),
                _ => "no decision step was reached".into(),
            });
        }
    }
    out.steps = runner.records;
    if let Some(Value::Object(vars)) = runner.ctx.get("vars") {
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

impl Runner<'_, '_> {
    fn record(&mut self, mut r: StepRecord, frame: &Frame) -> usize {
        r.parent = frame.parent.clone();
        r.branch = frame.branch;
        r.iteration = frame.iteration;
        self.records.push(r);
        self.records.len() - 1
    }

    fn set_output(&mut self, step_id: &str, output: &Value) {
        if let Some(Value::Object(steps)) = self.ctx.get_mut("steps") {
            steps.insert(step_id.to_owned(), obj([("output", output.clone())]));
        }
    }

    fn run_list(&mut self, list: &StepList, frame: &Frame) -> ListEnd {
        if list.is_dag() {
            return self.run_dag(list, frame);
        }
        let mut i = if list.steps.is_empty() { None } else { Some(0) };
        while let Some(idx) = i {
            self.visits += 1;
            if self.visits > self.opts.max_step_visits {
                return ListEnd::Failed(format!(
                    "more than {} step visits (a loop of jumps, or a longer walk than a dry-run takes)",
                    self.opts.max_step_visits
                ));
            }
            let step = &list.steps[idx];
            let following = || {
                step.next
                    .clone()
                    .or_else(|| list.steps.get(idx + 1).map(|s| s.id.clone()))
            };
            let route = self.run_step(step, frame);
            let target = match route {
                Route::Next => following(),
                Route::Goto(t) => Some(t),
                Route::End => return ListEnd::Ended,
                Route::EndList => return ListEnd::Done,
                Route::Halt => return ListEnd::Halted,
                Route::Fail(e) => return ListEnd::Failed(e),
            };
            i = match target {
                Some(t) => match list.position(&t) {
                    Some(j) => Some(j),
                    None => {
                        return ListEnd::Failed(format!(
                            "step '{}' goes to '{t}', which is not in its list",
                            step.id
                        ));
                    }
                },
                None => None,
            };
        }
        ListEnd::Done
    }

    /// Runs a list whose steps declare `depends_on`: each step runs once its dependencies have
    /// completed, in dependency order (list order among equals).
    fn run_dag(&mut self, list: &StepList, frame: &Frame) -> ListEnd {
        // Kahn's algorithm, taking ready steps in list order: linear in steps and dependencies.
        let n = list.steps.len();
        let mut done: Vec<Option<StepStatus>> = vec![None; n];
        let mut deactivated = vec![false; n];
        let mut waiting_on: Vec<usize> = list.deps.iter().map(Vec::len).collect();
        let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (i, deps) in list.deps.iter().enumerate() {
            for &d in deps {
                dependents[d].push(i);
            }
        }
        let mut ready: std::collections::BTreeSet<usize> =
            (0..n).filter(|&i| waiting_on[i] == 0).collect();
        let mut settled = 0;
        while let Some(i) = ready.pop_first() {
            settled += 1;
            let step = &list.steps[i];
            let blocked = list.deps[i]
                .iter()
                .find(|&&j| done[j] != Some(StepStatus::Completed));
            if deactivated[i] || blocked.is_some() {
                let mut r = StepRecord::new(step, StepStatus::Skipped);
                r.reason = Some(match blocked {
                    Some(&j) => format!("dependency '{}' did not complete", list.steps[j].id),
                    None => "not the branch taken".into(),
                });
                self.record(r, frame);
                done[i] = Some(StepStatus::Skipped);
            } else {
                let before = self.records.len();
                let route = self.run_step(step, frame);
                let status = self
                    .records
                    .get(before)
                    .map_or(StepStatus::Completed, |r| r.status);
                done[i] = Some(status);
                match route {
                    Route::End => return ListEnd::Ended,
                    Route::EndList => return ListEnd::Done,
                    Route::Halt => return ListEnd::Halted,
                    Route::Fail(e) => return ListEnd::Failed(e),
                    Route::Next | Route::Goto(_) => {
                        // A branching step deactivates the targets it did not take.
                        let taken = self.records.get(before).and_then(|r| r.next.clone());
                        for (field, t) in crate::validate::named_targets(step) {
                            if field != "next"
                                && Some(t) != taken.as_deref()
                                && let Some(j) = list.position(t)
                            {
                                deactivated[j] = true;
                            }
                        }
                    }
                }
            }
            for &j in &dependents[i] {
                waiting_on[j] -= 1;
                if waiting_on[j] == 0 {
                    ready.insert(j);
                }
            }
        }
        if settled < n {
            return ListEnd::Failed("depends_on forms a cycle".into());
        }
        ListEnd::Done
    }

    fn render(&self, tv: &crate::template::TemplateValue, trace: &mut RenderTrace) -> Value {
        tv.render(&self.ctx, self.env, Secrets::Redact, trace)
    }

    fn run_step(&mut self, step: &Step, frame: &Frame) -> Route {
        if let Some(guard) = &step.guard {
            let mut trace = RenderTrace::default();
            let g = guard.eval_traced(&self.ctx, self.env, &mut trace);
            if !g.result() {
                let mut r = StepRecord::new(step, StepStatus::Skipped);
                r.guard = Some(g);
                r.reason = Some("its condition is false".into());
                r.templates = trace;
                self.record(r, frame);
                return Route::Next;
            }
        }
        let before = self.records.len();
        let mut route = self.run_kind(step, frame);
        // Rendering is bounded per step and per run, so a small definition cannot make the
        // dry-run copy unbounded data.
        // The step's own record comes first; nested steps count their own.
        if let Some(own) = self.records.get_mut(before) {
            self.rendered = self.rendered.saturating_add(own.templates.spent);
            let over = if own.templates.over_budget {
                Some(format!(
                    "its values render to more than {} bytes",
                    crate::template::MAX_RENDER_BYTES
                ))
            } else if self.rendered > MAX_RUN_RENDER_BYTES {
                Some(format!(
                    "the run has rendered more than {MAX_RUN_RENDER_BYTES} bytes of values"
                ))
            } else {
                None
            };
            if let Some(e) = over {
                own.status = StepStatus::Failed;
                own.error = Some(e.clone());
                route = Route::Fail(e);
            }
        }
        match route {
            Route::Fail(e) => self.on_failure(step, e),
            Route::Next if step.end => Route::EndList,
            other => other,
        }
    }

    /// Applies `allow_failure` and `on_error` to a failed step.
    fn on_failure(&mut self, step: &Step, error: String) -> Route {
        if step.allow_failure {
            return Route::Next;
        }
        match step.on_error.as_ref().or(self.default_on_error) {
            Some(OnError::Continue) => Route::Next,
            Some(OnError::Catch) => {
                if let Some(Value::Object(steps)) = self.ctx.get_mut("steps") {
                    steps.insert(step.id.clone(), obj([("error", Value::String(error))]));
                }
                Route::Next
            }
            Some(OnError::Goto(t)) => Route::Goto(t.clone()),
            Some(OnError::Fail) | None => {
                Route::Fail(format!("step '{}' failed: {error}", step.id))
            }
        }
    }

    fn run_kind(&mut self, step: &Step, frame: &Frame) -> Route {
        let mut r = StepRecord::new(step, StepStatus::Completed);
        match &step.kind {
            StepKind::Condition {
                condition,
                on_true,
                on_false,
            } => {
                let c = condition.eval_traced(&self.ctx, self.env, &mut r.templates);
                let result = c.result();
                r.condition = Some(c);
                r.result = Some(result);
                self.set_output(&step.id, &obj([("result", Value::Bool(result))]));
                let target = if result { on_true } else { on_false };
                r.next = target.clone();
                self.record(r, frame);
                target.clone().map_or(Route::Next, Route::Goto)
            }
            StepKind::Switch {
                value,
                cases,
                default,
            } => {
                let v = value.as_ref().map(|tv| self.render(tv, &mut r.templates));
                let mut taken = None;
                for (i, case) in cases.iter().enumerate() {
                    let hit = match (&case.when, &case.condition, &v) {
                        (Some(w), _, Some(v)) => {
                            equals(v, w).unwrap_or(false) || (v.is_null() && w.is_null())
                        }
                        (_, Some(c), _) => c
                            .eval_traced(&self.ctx, self.env, &mut r.templates)
                            .result(),
                        _ => false,
                    };
                    if hit {
                        taken = Some((i, case.next.clone()));
                        break;
                    }
                }
                r.input = v.map(|v| obj([("value", v)]));
                let output = json!({ "case": taken.as_ref().map(|(i, _)| *i) });
                self.set_output(&step.id, &output);
                r.output = Some(output);
                let target = taken.map(|(_, t)| t).or_else(|| default.clone());
                r.next = target.clone();
                self.record(r, frame);
                target.map_or(Route::Next, Route::Goto)
            }
            StepKind::Parallel {
                branches,
                strategy,
                on_true,
                on_false,
            } => self.run_parallel(step, branches, *strategy, on_true, on_false, r, frame),
            StepKind::Wait {
                event,
                matches,
                timeout,
                on_timeout,
            } => {
                let limit = timeout
                    .map(|t| format!(" for up to {t}"))
                    .unwrap_or_default();
                r.would = Some(format!("would wait for event '{event}'{limit}"));
                match &self.opts.wait {
                    None => {
                        r.status = StepStatus::Waiting;
                        self.record(r, frame);
                        Route::Halt
                    }
                    Some(WaitOutcome::Timeout) => {
                        r.reason = Some("assumed: the wait timed out".into());
                        r.next = on_timeout.clone();
                        match on_timeout {
                            Some(t) => {
                                self.record(r, frame);
                                Route::Goto(t.clone())
                            }
                            None => {
                                r.status = StepStatus::Failed;
                                r.error = Some("the wait timed out and has no on_timeout".into());
                                self.record(r, frame);
                                Route::Fail("the wait timed out".into())
                            }
                        }
                    }
                    Some(WaitOutcome::Event(payload)) => {
                        if let Some(m) = matches {
                            let c =
                                m.eval_traced_on(payload, &self.ctx, self.env, &mut r.templates);
                            let ok = c.result();
                            r.condition = Some(c);
                            r.result = Some(ok);
                            if !ok {
                                r.status = StepStatus::Waiting;
                                r.reason = Some("the assumed event does not match; the step would go on waiting".into());
                                self.record(r, frame);
                                return Route::Halt;
                            }
                        }
                        r.reason = Some(format!("assumed: event '{event}' arrived"));
                        r.output = Some(payload.clone());
                        self.set_output(&step.id, payload);
                        self.record(r, frame);
                        Route::Next
                    }
                }
            }
            StepKind::Delay { duration, until } => {
                r.status = StepStatus::Waiting;
                r.would = Some(match (duration, until) {
                    (Some(d), _) => format!("would wait {d}, then go on"),
                    (_, Some(u)) => {
                        let at = u.render(&self.ctx, self.env, Secrets::Redact, &mut r.templates);
                        let valid = at
                            .as_str()
                            .and_then(|s| crate::condition::parse_time(s, self.env.now));
                        if valid.is_none() {
                            r.status = StepStatus::Failed;
                            r.error =
                                Some(format!("'until' rendered to {at}, which is not a time"));
                            self.record(r, frame);
                            return Route::Fail("the delay's 'until' is not a time".into());
                        }
                        format!(
                            "would wait until {}, then go on",
                            at.as_str().unwrap_or_default()
                        )
                    }
                    _ => "would wait".into(),
                });
                self.record(r, frame);
                Route::Next
            }
            StepKind::Approval(a) => {
                let entity_id = a
                    .entity_id
                    .as_ref()
                    .map(|tv| self.render(tv, &mut r.templates));
                let message = a
                    .message
                    .as_ref()
                    .map(|tv| self.render(tv, &mut r.templates));
                r.input = Some(json!({
                    "approver_role": a.approver_role, "entity": a.entity, "entity_id": entity_id, "message": message,
                    "timeout": a.timeout,
                }));
                let who = a
                    .approver_role
                    .as_deref()
                    .map(|x| format!("role '{x}'"))
                    .unwrap_or_else(|| "an approver".into());
                let what = match (&a.entity, &entity_id) {
                    (Some(e), Some(id)) => format!(" for {e} {}", display(id)),
                    (Some(e), None) => format!(" for {e}"),
                    _ => String::new(),
                };
                let limit = a
                    .timeout
                    .map(|t| format!(" (timeout {t})"))
                    .unwrap_or_default();
                r.would = Some(format!("would ask {who} to approve{what}{limit}"));
                let (target, outcome) = match self.opts.approval {
                    None => {
                        r.status = StepStatus::Waiting;
                        self.record(r, frame);
                        return Route::Halt;
                    }
                    Some(ApprovalOutcome::Approve) => (a.on_approve.clone(), "approved"),
                    Some(ApprovalOutcome::Reject) => (a.on_reject.clone(), "rejected"),
                    Some(ApprovalOutcome::Timeout) => {
                        if a.on_timeout.is_none() {
                            r.status = StepStatus::Failed;
                            r.error = Some("the approval timed out and has no on_timeout".into());
                            self.record(r, frame);
                            return Route::Fail("the approval timed out".into());
                        }
                        (a.on_timeout.clone(), "timed_out")
                    }
                };
                r.reason = Some(format!("assumed: {outcome}"));
                let output = json!({ "outcome": outcome });
                self.set_output(&step.id, &output);
                r.output = Some(output);
                r.next = target.clone();
                self.record(r, frame);
                target.map_or(Route::Next, Route::Goto)
            }
            StepKind::Foreach {
                items,
                as_name,
                body,
                max_iterations,
                concurrency,
            } => {
                let items_v = self.render(items, &mut r.templates);
                let Value::Array(list) = items_v else {
                    r.status = StepStatus::Failed;
                    r.error = Some(format!(
                        "'items' is {}, not a list",
                        crate::path::type_name(&items_v)
                    ));
                    self.record(r, frame);
                    return Route::Fail("foreach items is not a list".into());
                };
                let limit = max_iterations.map_or(self.opts.default_max_iterations, |m| m as usize);
                if list.len() > limit {
                    r.status = StepStatus::Failed;
                    r.error = Some(format!(
                        "{} items exceed max_iterations ({limit})",
                        list.len()
                    ));
                    self.record(r, frame);
                    return Route::Fail("too many foreach items".into());
                }
                r.input =
                    Some(json!({ "count": list.len(), "concurrency": concurrency.unwrap_or(1) }));
                let at = self.record(r, frame);
                let saved = self.ctx.get(as_name.as_str()).cloned();
                let mut results = Vec::new();
                let mut end = ListEnd::Done;
                for (i, item) in list.iter().enumerate() {
                    if let Some(obj) = self.ctx.as_object_mut() {
                        obj.insert(as_name.clone(), item.clone());
                        obj.insert("loop".into(), json!({ "index": i, "count": list.len() }));
                    }
                    let inner = Frame {
                        parent: Some(step.id.clone()),
                        branch: None,
                        iteration: Some(i),
                    };
                    let first_record = self.records.len();
                    end = self.run_list(body, &inner);
                    // The output of the last step this iteration ran (not the body's last step,
                    // which an iteration that ends early never reaches).
                    let last = self.records[first_record..]
                        .iter()
                        .rev()
                        .find(|x| {
                            x.parent.as_deref() == Some(step.id.as_str()) && x.iteration == Some(i)
                        })
                        .and_then(|x| x.output.clone());
                    results.push(last.unwrap_or(Value::Null));
                    if end != ListEnd::Done {
                        break;
                    }
                }
                if let Some(obj) = self.ctx.as_object_mut() {
                    obj.remove("loop");
                    match saved {
                        Some(v) => obj.insert(as_name.clone(), v),
                        None => obj.remove(as_name.as_str()),
                    };
                }
                let output = obj([
                    ("iterations", json!(results.len())),
                    ("results", Value::Array(results)),
                ]);
                self.set_output(&step.id, &output);
                self.records[at].output = Some(output);
                self.finish_compound(at, end)
            }
            StepKind::Subworkflow {
                workflow_id,
                input,
                output,
            } => {
                let rendered = input.as_ref().map(|tv| self.render(tv, &mut r.templates));
                r.would = Some(format!(
                    "would start workflow '{workflow_id}' and wait for its result"
                ));
                let planned = json!({ "planned": true, "workflow_id": workflow_id });
                r.input = rendered;
                r.output = Some(planned.clone());
                self.set_output(&step.id, &planned);
                if let Some(name) = output
                    && let Some(Value::Object(vars)) = self.ctx.get_mut("vars")
                {
                    vars.insert(name.clone(), planned);
                }
                self.record(r, frame);
                Route::Next
            }
            StepKind::Set { variables } => {
                let mut set = Map::new();
                for (name, tv) in variables {
                    let v = self.render(tv, &mut r.templates);
                    set.insert(name.clone(), v.clone());
                    if let Some(Value::Object(vars)) = self.ctx.get_mut("vars") {
                        vars.insert(name.clone(), v);
                    }
                }
                let output = Value::Object(set);
                self.set_output(&step.id, &output);
                r.output = Some(output);
                self.record(r, frame);
                Route::Next
            }
            StepKind::Decision(d) => {
                let mut planned = Vec::new();
                for call in &d.execute {
                    let config = self.render(&call.config, &mut r.templates);
                    planned.push(obj([
                        ("type", Value::String(call.action_type.clone())),
                        ("config", config),
                        ("result", obj([("planned", Value::Bool(true))])),
                    ]));
                }
                let reason = d.reason.as_ref().map(|t| {
                    let v = t.render(&self.ctx, self.env, Secrets::Redact, &mut r.templates);
                    display(&v)
                });
                if let Some(m) = &d.metadata {
                    let meta = self.render(m, &mut r.templates);
                    r.input = Some(obj([("metadata", meta)]));
                }
                if !planned.is_empty() {
                    r.would = Some(format!(
                        "would perform {} action(s): {}",
                        planned.len(),
                        planned
                            .iter()
                            .filter_map(|p| p["type"].as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                    match &mut r.input {
                        Some(Value::Object(m)) => {
                            m.insert("execute".into(), Value::Array(planned));
                        }
                        _ => r.input = Some(obj([("execute", Value::Array(planned))])),
                    }
                }
                let kind = d.verdict.decision();
                let verdict = match kind {
                    Some(DecisionKind::Allow) => Value::String("allow".into()),
                    Some(DecisionKind::Block) => Value::String("block".into()),
                    _ => Value::Null,
                };
                // The planned actions are in the input; the output is what later steps read.
                let output = obj([
                    ("decision", verdict),
                    ("reason", reason.clone().map_or(Value::Null, Value::String)),
                ]);
                self.set_output(&step.id, &output);
                r.output = Some(output);
                r.decision = kind;
                r.reason = reason.clone();
                self.record(r, frame);
                if let Some(kind) = kind {
                    // Block wins over allow when several steps decide (parallel branches).
                    let keep = matches!(self.decision, Some((DecisionKind::Block, _)))
                        && kind == DecisionKind::Allow;
                    if !keep {
                        self.decision = Some((kind, reason));
                    }
                    if step.next.is_none() {
                        return Route::End;
                    }
                }
                Route::Next
            }
            StepKind::Action(call) => {
                let config = self.render(&call.config, &mut r.templates);
                r.would = Some(format!("would perform '{}'", call.action_type));
                let output = obj([
                    ("planned", Value::Bool(true)),
                    ("action", Value::String(call.action_type.clone())),
                ]);
                r.input = Some(config);
                r.output = Some(output.clone());
                self.set_output(&step.id, &output);
                self.record(r, frame);
                Route::Next
            }
        }
    }

    fn finish_compound(&mut self, at: usize, end: ListEnd) -> Route {
        match end {
            ListEnd::Done => Route::Next,
            ListEnd::Ended => Route::End,
            ListEnd::Halted => {
                self.records[at].status = StepStatus::Waiting;
                Route::Halt
            }
            ListEnd::Failed(e) => {
                self.records[at].status = StepStatus::Failed;
                self.records[at].error = Some(e.clone());
                Route::Fail(e)
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn run_parallel(
        &mut self,
        step: &Step,
        branches: &[StepList],
        strategy: Strategy,
        on_true: &Option<String>,
        on_false: &Option<String>,
        mut r: StepRecord,
        frame: &Frame,
    ) -> Route {
        r.input = Some(json!({ "strategy": strategy.name(), "branches": branches.len() }));
        let at = self.record(r, frame);
        let mut outcomes = Vec::new();
        for (b, branch) in branches.iter().enumerate() {
            let first_record = self.records.len();
            let inner = Frame {
                parent: Some(step.id.clone()),
                branch: Some(b),
                iteration: None,
            };
            let end = self.run_list(branch, &inner);
            // A branch passes when it finished and every condition in it held.
            let conditions_held = self.records[first_record..]
                .iter()
                .filter(|x| x.parent.as_deref() == Some(step.id.as_str()) && x.condition.is_some())
                .all(|x| x.result != Some(false));
            outcomes.push((end, conditions_held));
        }
        let finished = |e: &ListEnd| matches!(e, ListEnd::Done | ListEnd::Ended);
        let summary: Vec<Value> = outcomes
            .iter()
            .enumerate()
            .map(|(b, (e, held))| {
                let status = match e {
                    ListEnd::Done | ListEnd::Ended => "completed",
                    ListEnd::Halted => "waiting",
                    ListEnd::Failed(_) => "failed",
                };
                json!({ "branch": b, "status": status, "passed": finished(e) && *held })
            })
            .collect();
        let any_halted = outcomes.iter().any(|(e, _)| *e == ListEnd::Halted);
        let first_failure = outcomes.iter().find_map(|(e, _)| match e {
            ListEnd::Failed(m) => Some(m.clone()),
            _ => None,
        });
        let ended = outcomes.iter().any(|(e, _)| *e == ListEnd::Ended);
        let mut output = obj([
            ("strategy", Value::String(strategy.name().into())),
            ("branches", Value::Array(summary)),
        ]);
        let end = match strategy {
            Strategy::All => {
                if let Some(f) = first_failure {
                    ListEnd::Failed(f)
                } else if any_halted {
                    ListEnd::Halted
                } else {
                    ListEnd::Done
                }
            }
            Strategy::Any => {
                if outcomes.iter().any(|(e, _)| finished(e)) {
                    ListEnd::Done
                } else if any_halted {
                    ListEnd::Halted
                } else {
                    ListEnd::Failed(first_failure.unwrap_or_else(|| "every branch failed".into()))
                }
            }
            Strategy::First => {
                // In a dry-run every branch is instantaneous, so the first in order that does not
                // wait is the one that would finish first.
                match outcomes.iter().position(|(e, _)| *e != ListEnd::Halted) {
                    Some(w) => {
                        output["winner"] = json!(w);
                        match &outcomes[w].0 {
                            ListEnd::Failed(m) => ListEnd::Failed(m.clone()),
                            _ => ListEnd::Done,
                        }
                    }
                    None => ListEnd::Halted,
                }
            }
            Strategy::AllMustPass => {
                if any_halted {
                    ListEnd::Halted
                } else {
                    let passed = outcomes.iter().all(|(e, held)| finished(e) && *held);
                    output["result"] = json!(passed);
                    self.records[at].result = Some(passed);
                    let target = if passed { on_true } else { on_false };
                    self.set_output(&step.id, &output);
                    self.records[at].output = Some(output);
                    if ended {
                        // A branch decided allow or block: that ends the run, as with `all`.
                        return Route::End;
                    }
                    self.records[at].next = target.clone();
                    return match target {
                        Some(t) => Route::Goto(t.clone()),
                        None => Route::Next,
                    };
                }
            }
        };
        self.set_output(&step.id, &output);
        self.records[at].output = Some(output);
        let end = if end == ListEnd::Done && ended {
            ListEnd::Ended
        } else {
            end
        };
        self.finish_compound(at, end)
    }
}

/// A value as text: strings bare, anything else as JSON.
fn display(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Builds a JSON object by moving the values in (`json!` would re-serialize them).
fn obj<const N: usize>(pairs: [(&str, Value); N]) -> Value {
    let mut map = Map::with_capacity(N);
    for (k, v) in pairs {
        map.insert(k.to_owned(), v);
    }
    Value::Object(map)
}
