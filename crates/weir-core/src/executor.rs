//! The executor: a workflow run as a pure state machine.
//!
//! `(Execution, Input) → (Execution', [Effect])`. The executor decides; a runtime performs the
//! effects (calls actions, sets timers, waits for events, opens approvals, starts child runs) and
//! feeds their outcomes back as inputs. Nothing here does I/O or reads the clock, so a run can be
//! tested by applying inputs and comparing effects, and an `Execution` can be serialized after
//! every input and resumed anywhere.
//!
//! A run is a set of threads. Thread 0 walks the workflow's top-level steps; a parallel step
//! starts one thread per branch and a foreach one per item (up to its concurrency), and waits
//! for them. Every thread is in one state: ready to take its next step, acting (an action is in
//! flight), sleeping (a delay or a retry backoff), waiting (an event, an approval, a child run),
//! joining (its children), or done.
//!
//! Secrets are revealed only in the input of an action being performed, which is never stored.
//! Everything that becomes part of the state (variables, child inputs, foreach items, step
//! records) renders `{{secrets.NAME}}` as `***`.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::condition::{CondTrace, equals};
use crate::dryrun::{ApprovalOutcome, DecisionKind, event_matches};
use crate::env::Env;
use crate::model::*;
use crate::template::{RenderTrace, Secrets, TemplateValue};

pub type ThreadId = u32;
pub type TimerId = u64;

/// A bound on step visits per run, so a loop of `next` jumps cannot run forever.
pub const MAX_STEP_VISITS: u32 = 100_000;
/// The iteration limit of a foreach without `max_iterations`.
pub const DEFAULT_MAX_ITERATIONS: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExecStatus {
    /// Some thread can make progress now, or has an action in flight.
    Running,
    /// Every thread waits on time, an event, an approval or a child run.
    Waiting,
    Completed,
    Failed,
    Cancelled,
}

impl ExecStatus {
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            ExecStatus::Completed | ExecStatus::Failed | ExecStatus::Cancelled
        )
    }
}

/// The persisted state of one run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Execution {
    pub id: String,
    pub status: ExecStatus,
    pub decision: Option<DecisionKind>,
    pub reason: Option<String>,
    pub error: Option<String>,
    /// The context: payload, `trigger`, `steps.<id>.output`, `vars`.
    pub ctx: Value,
    /// Boxed: a map's first node has room for eleven entries, and most runs have one thread,
    /// so unboxed a parked run would hold eleven threads' worth of memory (4.5 KB) for it.
    threads: BTreeMap<ThreadId, Box<Thread>>,
    timers: BTreeMap<TimerId, Timer>,
    seq: u64,
    visits: u32,
    /// How many times the run was retried after failing; step records of a retry get new keys.
    #[serde(default)]
    round: u32,
    /// Top-level steps that have a record, so a failed run can mark the others skipped.
    #[serde(default)]
    touched: std::collections::BTreeSet<String>,
    /// The W3C `traceparent` of the request that started the run, when it came with one: its
    /// spans join the caller's trace (see the engine's `traces`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<String>,
    /// What a traced run explains about its step records (see [`Execution::start_traced`]);
    /// `None` for a live run, which keeps no explanations.
    #[serde(skip)]
    explanations: Option<Vec<Explanation>>,
}

/// What a traced run says about one step record beyond the record itself: the comparisons made
/// and what rendering found (secrets used or missing, unknown paths). A dry run shows these;
/// they are made by the same evaluation that decides the step, never by evaluating again.
#[derive(Debug, Clone, Default)]
pub struct Explanation {
    /// The key of the [`StepRecord`] this explains.
    pub key: String,
    /// The step's `condition` guard, when it was false and the step was skipped.
    pub guard: Option<CondTrace>,
    /// A condition step's comparisons, or a wait's `matches` against the event delivered.
    pub condition: Option<CondTrace>,
    /// Rendered values the record does not carry (a decision's `metadata`), secrets as `***`.
    pub input: Option<Value>,
    pub templates: RenderTrace,
}

/// Stored after every step, so what is empty or default is left out of the stored form.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Thread {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    parent: Option<ThreadId>,
    /// The parallel or foreach step that started this thread.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    parent_step: Option<String>,
    /// The step list this thread walks, as hops from the top-level list.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    list: Vec<Hop>,
    pc: usize,
    /// Variables of this thread only: a foreach item and `loop`.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    locals: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    branch: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    iteration: Option<usize>,
    /// False once a condition step of this thread evaluated false (for `all_must_pass`).
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    held: bool,
    /// The output of the last step this thread ran (a foreach iteration's result).
    #[serde(default, skip_serializing_if = "Value::is_null")]
    last_output: Value,
    /// When the list is a DAG (`depends_on`): where each of its steps stands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dag: Option<Vec<Mark>>,
    /// How many times each step was entered before, for steps this thread came back to by a
    /// `next` jump: their records and action keys carry the visit (`check~1`), so a second
    /// visit neither overwrites the first one's record nor reuses its idempotency key.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    revisits: BTreeMap<String, u32>,
    /// Steps this thread has entered (the others need no entry).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    entered: BTreeSet<String>,
    state: TState,
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum Hop {
    Branch { step: usize, branch: usize },
    Body { step: usize },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum Mark {
    Pending,
    Running,
    Completed,
    Skipped,
    /// A branch target the branching step did not take.
    NotTaken,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum TState {
    Ready,
    /// An action is in flight. `sub` indexes a decision step's `execute` list.
    Acting {
        attempt: u32,
        sub: usize,
        timer: Option<TimerId>,
    },
    Sleeping {
        timer: TimerId,
    },
    Waiting {
        on: WaitOn,
        timer: Option<TimerId>,
    },
    Joining {
        children: Vec<ThreadId>,
        join: Join,
    },
    Done(Outcome),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum WaitOn {
    Event(String),
    Approval(String),
    Child(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Join {
    Parallel,
    Foreach {
        items: Vec<Value>,
        next: usize,
        results: Vec<Value>,
        concurrency: usize,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Outcome {
    Ok,
    /// A decision ended the whole run.
    Ended,
    Failed(String),
    Cancelled,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Timer {
    thread: ThreadId,
    purpose: Purpose,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
enum Purpose {
    Delay,
    Retry { attempt: u32, sub: usize },
    StepTimeout,
    WaitTimeout,
    RunTimeout,
}

/// The error classes an action reports that a retry policy's `retry_on` can name (besides
/// `any`).
pub const RETRY_CLASSES: &[&str] = &["timeout", "5xx", "4xx", "429", "network", "rate_limit"];

/// Why an action attempt failed, as the runtime classifies it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionError {
    pub message: String,
    /// False for errors retrying cannot fix (validation, not found, permission denied).
    pub retryable: bool,
    /// A class a retry policy's `retry_on` can name: timeout, 5xx, 4xx, 429, network, rate_limit.
    pub class: Option<String>,
    /// The least wait before a retry that the other side asked for (HTTP `Retry-After`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
}

impl ActionError {
    pub fn retryable(message: impl Into<String>) -> Self {
        ActionError {
            message: message.into(),
            retryable: true,
            class: None,
            retry_after_ms: None,
        }
    }

    pub fn permanent(message: impl Into<String>) -> Self {
        ActionError {
            message: message.into(),
            retryable: false,
            class: None,
            retry_after_ms: None,
        }
    }

    /// A request Weir will not send (the SSRF guard, a secret's policy): permanent, class
    /// `refused`.
    pub fn refused(message: impl Into<String>) -> Self {
        Self::permanent(message).with_class("refused")
    }

    /// The same error with a class for `retry_on`.
    pub fn with_class(mut self, class: &str) -> Self {
        self.class = Some(class.to_owned());
        self
    }
}

/// What the runtime tells the executor.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// An action attempt finished.
    Action {
        thread: ThreadId,
        attempt: u32,
        result: Result<Value, ActionError>,
    },
    /// A timer set by [`Effect::SetTimer`] fired.
    Timer(TimerId),
    /// An event arrived that threads of this run may be waiting for.
    Event { event_type: String, payload: Value },
    /// A human decided an approval opened by [`Effect::RequestApproval`].
    Approval {
        id: String,
        outcome: ApprovalOutcome,
    },
    /// A child run started by [`Effect::StartChild`] finished.
    Child {
        id: String,
        result: Result<Value, String>,
    },
    /// Stop the run.
    Cancel,
    /// Run a failed execution again from the step of the top-level list that failed (a failed
    /// parallel or foreach runs again whole). Completed steps keep their outputs.
    Retry,
}

/// What the executor asks the runtime to do, in order.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "effect", rename_all = "snake_case")]
pub enum Effect {
    /// Persist this step record (one per step attempt; later records of the same key replace
    /// earlier ones).
    Step(StepRecord),
    /// Perform an action. `input` has secrets revealed: never log it.
    Perform {
        thread: ThreadId,
        step_id: String,
        action_type: String,
        attempt: u32,
        input: Value,
        idempotency_key: String,
    },
    SetTimer {
        timer: TimerId,
        at: DateTime<Utc>,
    },
    CancelTimer {
        timer: TimerId,
    },
    /// Deliver events of this type to the run until [`Effect::StopAwaiting`].
    AwaitEvent {
        thread: ThreadId,
        event: String,
        /// A text the event's payload must hold at a path (dotted keys) for the wait's
        /// `match` to hold: the store need not deliver an event without it.
        requires: Option<(String, String)>,
    },
    StopAwaiting {
        thread: ThreadId,
    },
    RequestApproval {
        id: String,
        step_id: String,
        approver_role: Option<String>,
        entity: Option<String>,
        entity_id: Option<Value>,
        message: Option<Value>,
        expires_at: Option<DateTime<Utc>>,
    },
    WithdrawApproval {
        id: String,
    },
    /// An approval nobody decided in time: the run goes on along `on_timeout`.
    ExpireApproval {
        id: String,
    },
    StartChild {
        id: String,
        workflow_id: String,
        input: Value,
    },
    CancelChild {
        id: String,
    },
    /// The run's decision was made or changed (block wins over allow).
    Decided {
        decision: DecisionKind,
        reason: Option<String>,
    },
    /// The run reached a terminal status.
    Finished {
        status: ExecStatus,
        error: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepState {
    Running,
    Waiting,
    Completed,
    Failed,
    Skipped,
    Cancelled,
}

/// One step attempt, as the runtime stores it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    /// Unique within the run: thread, step and attempt.
    pub key: String,
    pub step_id: String,
    #[serde(rename = "type")]
    pub step_type: String,
    pub status: StepState,
    pub attempt: u32,
    pub thread: ThreadId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_step: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branch: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iteration: Option<usize>,
    /// Rendered input, secrets redacted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub at: DateTime<Utc>,
}

/// Where control goes after a step.
enum Route {
    Next,
    Goto(String),
    /// The run ends (a decision without `next`).
    End,
    /// The current list ends (`"end": true`).
    EndList,
    Fail(String),
}

/// How the run was started, for `trigger.type` and `trigger.event`.
pub struct Start<'a> {
    pub id: String,
    pub trigger_kind: &'a str,
    pub event: Option<&'a str>,
    pub payload: &'a Value,
}

impl Execution {
    /// Starts a run: builds the context and takes every step that needs nothing from outside.
    pub fn start(wf: &Workflow, start: Start<'_>, env: &Env<'_>) -> (Execution, Vec<Effect>) {
        Self::start_with(wf, start, env, false)
    }

    /// Starts a run that keeps an [`Explanation`] of its step records, for a dry run
    /// ([`Execution::take_explanations`]). The explanations are not part of the stored state.
    pub fn start_traced(
        wf: &Workflow,
        start: Start<'_>,
        env: &Env<'_>,
    ) -> (Execution, Vec<Effect>) {
        Self::start_with(wf, start, env, true)
    }

    /// The explanations made since the last call (empty for a run that is not traced).
    pub fn take_explanations(&mut self) -> Vec<Explanation> {
        self.explanations
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    fn start_with(
        wf: &Workflow,
        start: Start<'_>,
        env: &Env<'_>,
        traced: bool,
    ) -> (Execution, Vec<Effect>) {
        let mut exec = Self::begin(wf, start, env);
        if traced {
            exec.explanations = Some(Vec::new());
        }
        let mut fx = Vec::new();
        exec.spawn(wf, None, Vec::new(), Map::new(), None, None);
        if let Some(t) = wf.settings.timeout {
            exec.set_timer(0, Purpose::RunTimeout, env.now + t.as_chrono(), &mut fx);
        }
        exec.run(wf, env, &mut fx);
        (exec, fx)
    }

    /// A run that fails before its first step (its context could not be loaded): it has its
    /// context, and no step runs.
    pub fn start_failed(
        wf: &Workflow,
        start: Start<'_>,
        env: &Env<'_>,
        error: String,
    ) -> (Execution, Vec<Effect>) {
        let mut exec = Self::begin(wf, start, env);
        let mut fx = Vec::new();
        exec.finish(ExecStatus::Failed, Some(error), &mut fx);
        (exec, fx)
    }

    fn begin(wf: &Workflow, start: Start<'_>, env: &Env<'_>) -> Execution {
        let root = crate::context::payload_root(start.payload);
        let (ctx, _) = crate::context::initial_context(
            wf,
            root,
            start.trigger_kind,
            start.event,
            env,
            Secrets::Redact,
            &mut RenderTrace::default(),
        );
        Execution {
            id: start.id,
            status: ExecStatus::Running,
            decision: None,
            reason: None,
            error: None,
            ctx,
            threads: BTreeMap::new(),
            timers: BTreeMap::new(),
            seq: 0,
            visits: 0,
            round: 0,
            touched: Default::default(),
            trace: None,
            explanations: None,
        }
    }

    /// Applies one input. Inputs that no longer apply (a late result for a cancelled thread, a
    /// timer that was cancelled) change nothing.
    pub fn apply(&mut self, wf: &Workflow, input: Input, env: &Env<'_>) -> Vec<Effect> {
        if input == Input::Retry {
            return self.retry(wf, env);
        }
        let mut fx = Vec::new();
        if self.status.is_terminal() {
            return fx;
        }
        match input {
            Input::Action {
                thread,
                attempt,
                result,
            } => self.on_action(wf, thread, attempt, result, env, &mut fx),
            Input::Timer(timer) => self.on_timer(wf, timer, env, &mut fx),
            Input::Event {
                event_type,
                payload,
            } => self.on_event(wf, &event_type, &payload, env, &mut fx),
            Input::Approval { id, outcome } => self.on_approval(wf, &id, outcome, env, &mut fx),
            Input::Child { id, result } => self.on_child(wf, &id, result, env, &mut fx),
            Input::Cancel => {
                self.cancel_all(wf, env, &mut fx);
                self.finish(ExecStatus::Cancelled, None, &mut fx);
            }
            Input::Retry => {}
        }
        self.run(wf, env, &mut fx);
        fx
    }

    /// Applies [`Input::Retry`]: a failed run goes back to its failed top-level step. Anything
    /// but a failed run is left as it is (and no effects are returned).
    pub fn retry(&mut self, wf: &Workflow, env: &Env<'_>) -> Vec<Effect> {
        let mut fx = Vec::new();
        if self.status != ExecStatus::Failed {
            return fx;
        }
        let Some(root) = self.threads.get_mut(&0) else {
            return fx;
        };
        if !matches!(root.state, TState::Done(Outcome::Failed(_))) {
            return fx;
        }
        root.state = TState::Ready;
        // A new round: its records and keys carry the round, and count visits afresh.
        root.entered.clear();
        root.revisits.clear();
        let pc = root.pc;
        if let Some(dag) = &mut root.dag {
            dag[pc] = Mark::Pending;
        }
        // Everything else of the failed run was cancelled; it is gone now.
        self.threads.retain(|id, _| *id == 0);
        self.round += 1;
        self.status = ExecStatus::Running;
        self.error = None;
        if let Some(t) = wf.settings.timeout {
            self.set_timer(0, Purpose::RunTimeout, env.now + t.as_chrono(), &mut fx);
        }
        self.run(wf, env, &mut fx);
        fx
    }

    /// The id of the step a thread is acting in (the step whose action is performed).
    pub fn acting_step(&self, wf: &Workflow, thread: ThreadId) -> Option<String> {
        let t = self.threads.get(&thread)?;
        let TState::Acting { .. } = t.state else {
            return None;
        };
        Some(resolve(wf, &t.list).steps.get(t.pc)?.id.clone())
    }

    /// Whether a thread still waits for this attempt of its action: false once the thread was
    /// cancelled (a losing branch, a cancelled run) or moved on, when a runtime should stop
    /// the action if it is still in flight.
    pub fn is_acting(&self, thread: ThreadId, attempt: u32) -> bool {
        self.threads.get(&thread).is_some_and(
            |t| matches!(t.state, TState::Acting { attempt: current, .. } if current == attempt),
        )
    }

    /// The step, call and call index (of a decision's `execute`) of the action a thread is
    /// performing on this attempt.
    fn acting_call<'w>(
        &self,
        wf: &'w Workflow,
        thread: ThreadId,
        attempt: u32,
    ) -> Option<(&'w Step, &'w ActionCall, usize)> {
        let t = self.threads.get(&thread)?;
        let TState::Acting {
            attempt: current,
            sub,
            ..
        } = t.state
        else {
            return None;
        };
        if current != attempt {
            return None;
        }
        let step = &resolve(wf, &t.list).steps[t.pc];
        let call = match &step.kind {
            StepKind::Action(call) => call,
            StepKind::Decision(d) => d.execute.get(sub)?,
            _ => return None,
        };
        Some((step, call, sub))
    }

    /// The type of the action a thread is performing on this attempt.
    pub fn acting_action<'w>(
        &self,
        wf: &'w Workflow,
        thread: ThreadId,
        attempt: u32,
    ) -> Option<&'w str> {
        self.acting_call(wf, thread, attempt)
            .map(|(_, call, _)| call.action_type.as_str())
    }

    /// The input of the action a thread is performing, rendered again with secrets revealed
    /// (those `env` resolves; `trace` tells which were asked for and missing). A runtime that
    /// persists pending actions stores only (thread, attempt) and calls this when it performs
    /// them, so secrets are never written down. `None` when the thread is not acting on that
    /// attempt.
    pub fn action_input(
        &self,
        wf: &Workflow,
        thread: ThreadId,
        attempt: u32,
        env: &Env<'_>,
        trace: &mut RenderTrace,
    ) -> Option<(String, Value, String)> {
        let (step, call, sub) = self.acting_call(wf, thread, attempt)?;
        let input = call
            .config
            .render(&self.view(thread), env, Secrets::Reveal, trace);
        Some((
            call.action_type.clone(),
            input,
            self.action_key(&step.id, sub, thread, attempt),
        ))
    }

    /// Whether a timer set by this run is a deadline (a wait's, an approval's, an action's or
    /// the run's timeout) rather than a delay or a retry's backoff. A dry run lets time pass
    /// for delays and retries, but fires a deadline only when a timeout is what it assumes.
    pub fn is_deadline(&self, timer: TimerId) -> bool {
        self.timers.get(&timer).is_some_and(|t| {
            matches!(
                t.purpose,
                Purpose::WaitTimeout | Purpose::StepTimeout | Purpose::RunTimeout
            )
        })
    }

    /// The event types this run's threads are waiting for.
    pub fn awaited_events(&self) -> Vec<&str> {
        self.threads
            .values()
            .filter_map(|t| match &t.state {
                TState::Waiting {
                    on: WaitOn::Event(e),
                    ..
                } => Some(e.as_str()),
                _ => None,
            })
            .collect()
    }

    // -- the loop -------------------------------------------------------------------------------

    /// Takes steps on ready threads until none is ready.
    fn run(&mut self, wf: &Workflow, env: &Env<'_>, fx: &mut Vec<Effect>) {
        while !self.status.is_terminal() {
            let Some(tid) = self
                .threads
                .iter()
                .find(|(_, t)| t.state == TState::Ready)
                .map(|(id, _)| *id)
            else {
                break;
            };
            self.visits += 1;
            if self.visits > MAX_STEP_VISITS {
                let msg = format!(
                    "more than {MAX_STEP_VISITS} step visits (a loop of jumps, or a very long run)"
                );
                self.cancel_all(wf, env, fx);
                self.finish(ExecStatus::Failed, Some(msg), fx);
                break;
            }
            self.take_step(wf, tid, env, fx);
        }
        if !self.status.is_terminal() {
            let busy = self
                .threads
                .values()
                .any(|t| matches!(t.state, TState::Ready | TState::Acting { .. }));
            self.status = if busy {
                ExecStatus::Running
            } else {
                ExecStatus::Waiting
            };
        }
    }

    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    fn spawn(
        &mut self,
        wf: &Workflow,
        parent: Option<ThreadId>,
        list: Vec<Hop>,
        locals: Map<String, Value>,
        branch: Option<usize>,
        iteration: Option<usize>,
    ) -> ThreadId {
        let id = if parent.is_none() {
            0
        } else {
            self.next_seq() as ThreadId
        };
        let parent_step = parent.map(|p| {
            let t = self.thread(p);
            resolve(wf, &t.list).steps[t.pc].id.clone()
        });
        let steps = resolve(wf, &list);
        let dag = steps
            .is_dag()
            .then(|| vec![Mark::Pending; steps.steps.len()]);
        self.threads.insert(
            id,
            Box::new(Thread {
                parent,
                parent_step,
                list,
                pc: 0,
                locals,
                branch,
                iteration,
                held: true,
                last_output: Value::Null,
                dag,
                revisits: BTreeMap::new(),
                entered: BTreeSet::new(),
                state: TState::Ready,
            }),
        );
        id
    }

    fn set_timer(
        &mut self,
        thread: ThreadId,
        purpose: Purpose,
        at: DateTime<Utc>,
        fx: &mut Vec<Effect>,
    ) -> TimerId {
        let timer = self.next_seq();
        self.timers.insert(timer, Timer { thread, purpose });
        fx.push(Effect::SetTimer { timer, at });
        timer
    }

    fn cancel_timer(&mut self, timer: Option<TimerId>, fx: &mut Vec<Effect>) {
        if let Some(t) = timer
            && self.timers.remove(&t).is_some()
        {
            fx.push(Effect::CancelTimer { timer: t });
        }
    }

    /// The context a thread sees: the run's context with the thread's locals (and its
    /// ancestors') on top.
    fn view(&self, tid: ThreadId) -> Cow<'_, Value> {
        let chain = locals_chain(&self.threads, tid);
        if chain.is_empty() {
            return Cow::Borrowed(&self.ctx);
        }
        let mut ctx = self.ctx.clone();
        if let Some(obj) = ctx.as_object_mut() {
            for locals in chain.iter().rev() {
                for (k, v) in locals.iter() {
                    obj.insert(k.clone(), v.clone());
                }
            }
        }
        Cow::Owned(ctx)
    }

    /// Evaluates `f` on the context a thread sees, as [`Execution::view`] does, without copying
    /// the context: the thread's locals (and its ancestors') are laid over its root in place
    /// and taken off again, what they covered put back. A copy per step made a foreach quadratic
    /// in its items, since the context holds them.
    fn in_view<R>(&mut self, tid: ThreadId, f: impl FnOnce(&Value) -> R) -> R {
        let chain = locals_chain(&self.threads, tid);
        let root = match self.ctx.as_object_mut() {
            Some(root) if !chain.is_empty() => root,
            _ => return f(&self.ctx),
        };
        // Outermost first, so an inner thread's locals win; each key's original value is kept
        // once, from before any local covered it.
        let mut covered: Vec<(String, Option<Value>)> = Vec::new();
        for locals in chain.iter().rev() {
            for (k, v) in locals.iter() {
                let before = root.insert(k.clone(), v.clone());
                if !covered.iter().any(|(c, _)| c == k) {
                    covered.push((k.clone(), before));
                }
            }
        }
        let out = f(&self.ctx);
        if let Some(root) = self.ctx.as_object_mut() {
            for (k, before) in covered.into_iter().rev() {
                match before {
                    Some(v) => {
                        root.insert(k, v);
                    }
                    None => {
                        root.shift_remove(&k);
                    }
                }
            }
        }
        out
    }

    fn thread(&self, tid: ThreadId) -> &Thread {
        &self.threads[&tid]
    }

    fn thread_mut(&mut self, tid: ThreadId) -> &mut Thread {
        self.threads
            .get_mut(&tid)
            .expect("thread ids come from this execution")
    }

    fn current_step<'w>(&self, wf: &'w Workflow, tid: ThreadId) -> &'w Step {
        let t = self.thread(tid);
        &resolve(wf, &t.list).steps[t.pc]
    }
    fn record(
        &mut self,
        tid: ThreadId,
        step: &Step,
        status: StepState,
        attempt: u32,
        env: &Env<'_>,
    ) -> StepRecord {
        if tid == 0 && self.threads.get(&0).is_some_and(|t| t.list.is_empty()) {
            self.touched.insert(step.id.clone());
        }
        let t = self.thread(tid);
        StepRecord {
            key: self.record_key(tid, &step.id, attempt),
            step_id: step.id.clone(),
            step_type: step.kind.type_name().to_owned(),
            status,
            attempt,
            thread: tid,
            parent_step: t.parent_step.clone(),
            branch: t.branch,
            iteration: t.iteration,
            input: None,
            output: None,
            error: None,
            at: env.now,
        }
    }

    /// The key of a thread's record of a step attempt.
    fn record_key(&self, tid: ThreadId, step_id: &str, attempt: u32) -> String {
        let visit = self.visit(tid, step_id);
        if self.round == 0 {
            format!("{tid}:{step_id}{visit}:{attempt}")
        } else {
            format!("r{}/{tid}:{step_id}{visit}:{attempt}", self.round)
        }
    }

    fn tracing(&self) -> bool {
        self.explanations.is_some()
    }

    /// Keeps an explanation of a step record when the run is traced.
    fn explain(&mut self, tid: ThreadId, step: &Step, attempt: u32, e: Explanation) {
        if self.explanations.is_none() {
            return;
        }
        let key = self.record_key(tid, &step.id, attempt);
        if let Some(list) = &mut self.explanations {
            list.push(Explanation { key, ..e });
        }
    }

    /// Explains a step by what rendering its templates found.
    fn explain_templates(&mut self, tid: ThreadId, step: &Step, templates: RenderTrace) {
        let e = Explanation {
            templates,
            ..Default::default()
        };
        self.explain(tid, step, 0, e);
    }

    /// Renders one of a step's templates over the thread's view, secrets redacted, and
    /// explains the step by it.
    fn render_explained(
        &mut self,
        tid: ThreadId,
        step: &Step,
        tv: &TemplateValue,
        env: &Env<'_>,
    ) -> Value {
        let mut templates = RenderTrace::default();
        let v = self.in_view(tid, |ctx| {
            tv.render(ctx, env, Secrets::Redact, &mut templates)
        });
        self.explain_templates(tid, step, templates);
        v
    }

    fn set_output(&mut self, tid: ThreadId, step_id: &str, output: &Value) {
        if let Some(Value::Object(steps)) = self.ctx.get_mut("steps") {
            let mut entry = Map::new();
            entry.insert("output".into(), output.clone());
            steps.insert(step_id.to_owned(), Value::Object(entry));
        }
        self.thread_mut(tid).last_output = output.clone();
    }

    // -- one step -------------------------------------------------------------------------------

    fn take_step(&mut self, wf: &Workflow, tid: ThreadId, env: &Env<'_>, fx: &mut Vec<Effect>) {
        let list = resolve(wf, &self.thread(tid).list);
        // Pick the step: the next one in sequence, or the next ready one of a DAG.
        if self.thread(tid).dag.is_some() {
            match self.next_dag_step(tid, list) {
                DagPick::Run(i) => self.thread_mut(tid).pc = i,
                DagPick::Skip(i, why) => {
                    let step = &list.steps[i];
                    let mut r = self.record(tid, step, StepState::Skipped, 0, env);
                    r.error = Some(why);
                    fx.push(Effect::Step(r));
                    if let Some(dag) = &mut self.thread_mut(tid).dag {
                        dag[i] = Mark::Skipped;
                    }
                    return;
                }
                DagPick::Done => return self.finish_thread(wf, tid, Outcome::Ok, env, fx),
                DagPick::Stuck => {
                    return self.finish_thread(
                        wf,
                        tid,
                        Outcome::Failed("depends_on forms a cycle".into()),
                        env,
                        fx,
                    );
                }
            }
            let pc = self.thread(tid).pc;
            if let Some(dag) = &mut self.thread_mut(tid).dag {
                dag[pc] = Mark::Running;
            }
        }
        let pc = self.thread(tid).pc;
        let Some(step) = list.steps.get(pc) else {
            return self.finish_thread(wf, tid, Outcome::Ok, env, fx);
        };
        let t = self.thread_mut(tid);
        if !t.entered.insert(step.id.clone()) {
            *t.revisits.entry(step.id.clone()).or_default() += 1;
        }
        if let Some(guard) = &step.guard {
            let mut templates = RenderTrace::default();
            let tracing = self.tracing();
            let (ok, traced) = self.in_view(tid, |ctx| {
                if tracing {
                    let t = guard.eval_traced(ctx, env, &mut templates);
                    (t.result(), Some(t))
                } else {
                    (guard.eval(ctx, env), None)
                }
            });
            if !ok {
                self.explain(
                    tid,
                    step,
                    0,
                    Explanation {
                        guard: traced,
                        templates,
                        ..Default::default()
                    },
                );
                let mut r = self.record(tid, step, StepState::Skipped, 0, env);
                r.error = Some("its condition is false".into());
                fx.push(Effect::Step(r));
                return self.route(wf, tid, step, Route::Next, env, fx);
            }
        }
        let route = self.start_step(wf, tid, step, env, fx);
        if let Some(route) = route {
            self.route(wf, tid, step, route, env, fx);
        }
    }

    /// Starts a step. Returns where to go when the step finished at once, or `None` when the
    /// thread now waits for something.
    fn start_step(
        &mut self,
        wf: &Workflow,
        tid: ThreadId,
        step: &Step,
        env: &Env<'_>,
        fx: &mut Vec<Effect>,
    ) -> Option<Route> {
        // Each arm reads the context (`self.view`) before it changes anything: a copy of the
        // context per step cost more than the rest of a simple step.
        match &step.kind {
            StepKind::Condition {
                condition,
                on_true,
                on_false,
            } => {
                // The record keeps the comparisons made, with the values compared.
                let mut templates = RenderTrace::default();
                let trace =
                    self.in_view(tid, |ctx| condition.eval_traced(ctx, env, &mut templates));
                let result = trace.result();
                if !result {
                    self.thread_mut(tid).held = false;
                }
                let output = json!({ "result": result });
                let input = json!({ "condition": trace });
                if self.tracing() {
                    let e = Explanation {
                        condition: Some(trace),
                        templates,
                        ..Default::default()
                    };
                    self.explain(tid, step, 0, e);
                }
                self.complete(tid, step, 0, Some(input), output, env, fx);
                let target = if result { on_true } else { on_false };
                Some(target.clone().map_or(Route::Next, Route::Goto))
            }
            StepKind::Switch {
                value,
                cases,
                default,
            } => {
                let tracing = self.tracing();
                let mut templates = RenderTrace::default();
                let (v, taken) = self.in_view(tid, |view| {
                    let v = value
                        .as_ref()
                        .map(|tv| tv.render(view, env, Secrets::Redact, &mut templates));
                    let taken =
                        cases
                            .iter()
                            .position(|case| match (&case.when, &case.condition, &v) {
                                (Some(w), _, Some(v)) => {
                                    equals(v, w).unwrap_or(false) || (v.is_null() && w.is_null())
                                }
                                (_, Some(c), _) if tracing => {
                                    c.eval_traced(view, env, &mut templates).result()
                                }
                                (_, Some(c), _) => c.eval(view, env),
                                _ => false,
                            });
                    (v, taken)
                });
                self.explain_templates(tid, step, templates);
                self.complete(
                    tid,
                    step,
                    0,
                    v.map(|v| json!({ "value": v })),
                    json!({ "case": taken }),
                    env,
                    fx,
                );
                let target = taken
                    .map(|i| cases[i].next.clone())
                    .or_else(|| default.clone());
                Some(target.map_or(Route::Next, Route::Goto))
            }
            StepKind::Set { variables } => {
                let mut set = Map::new();
                let mut templates = RenderTrace::default();
                for (name, tv) in variables {
                    // Later values may read earlier ones of the same step.
                    let v = self.in_view(tid, |ctx| {
                        tv.render(ctx, env, Secrets::Redact, &mut templates)
                    });
                    if let Some(Value::Object(vars)) = self.ctx.get_mut("vars") {
                        vars.insert(name.clone(), v.clone());
                    }
                    set.insert(name.clone(), v);
                }
                self.explain_templates(tid, step, templates);
                self.complete(tid, step, 0, None, Value::Object(set), env, fx);
                Some(Route::Next)
            }
            StepKind::Decision(d) => {
                let mut templates = RenderTrace::default();
                let reason = d.reason.as_ref().map(|t| {
                    self.in_view(tid, |ctx| {
                        display(&t.render(ctx, env, Secrets::Redact, &mut templates))
                    })
                });
                if self.tracing() {
                    // The metadata goes with the decision to whoever reads it; a dry run shows it.
                    let metadata = d.metadata.as_ref().map(|m| {
                        let meta = self.in_view(tid, |ctx| {
                            m.render(ctx, env, Secrets::Redact, &mut templates)
                        });
                        json!({ "metadata": meta })
                    });
                    let attempt = if d.execute.is_empty() { 0 } else { 1 };
                    let e = Explanation {
                        input: metadata,
                        templates,
                        ..Default::default()
                    };
                    self.explain(tid, step, attempt, e);
                }
                let kind = d.verdict.decision();
                if let Some(kind) = kind {
                    let keep =
                        self.decision == Some(DecisionKind::Block) && kind == DecisionKind::Allow;
                    if !keep {
                        self.decision = Some(kind);
                        self.reason = reason.clone();
                        fx.push(Effect::Decided {
                            decision: kind,
                            reason: reason.clone(),
                        });
                    }
                }
                if d.execute.is_empty() {
                    let output = json!({ "decision": kind, "reason": reason });
                    self.complete(tid, step, 0, None, output, env, fx);
                    return Some(decision_route(step, kind));
                }
                self.perform(wf, tid, step, 1, 0, env, fx);
                None
            }
            StepKind::Action(_) => {
                self.perform(wf, tid, step, 1, 0, env, fx);
                None
            }
            StepKind::Delay { duration, until } => {
                let at = match (duration, until) {
                    (Some(d), _) => env.now + d.as_chrono(),
                    (_, Some(u)) => {
                        let mut templates = RenderTrace::default();
                        let v = self.in_view(tid, |ctx| {
                            u.render(ctx, env, Secrets::Redact, &mut templates)
                        });
                        self.explain_templates(tid, step, templates);
                        match v
                            .as_str()
                            .and_then(|s| crate::condition::parse_time(s, env.now))
                        {
                            Some(t) => t,
                            None => {
                                return Some(Route::Fail(format!(
                                    "'until' rendered to {v}, which is not a time"
                                )));
                            }
                        }
                    }
                    _ => env.now,
                };
                let timer = self.set_timer(tid, Purpose::Delay, at, fx);
                self.thread_mut(tid).state = TState::Sleeping { timer };
                fx.push(Effect::Step(self.record(
                    tid,
                    step,
                    StepState::Waiting,
                    0,
                    env,
                )));
                None
            }
            StepKind::Wait {
                event,
                timeout,
                matches,
                ..
            } => {
                let timer = timeout.map(|t| {
                    self.set_timer(tid, Purpose::WaitTimeout, env.now + t.as_chrono(), fx)
                });
                let requires = matches
                    .as_ref()
                    .and_then(|m| self.in_view(tid, |view| m.required_text(view, env)));
                self.thread_mut(tid).state = TState::Waiting {
                    on: WaitOn::Event(event.clone()),
                    timer,
                };
                fx.push(Effect::AwaitEvent {
                    thread: tid,
                    event: event.clone(),
                    requires,
                });
                fx.push(Effect::Step(self.record(
                    tid,
                    step,
                    StepState::Waiting,
                    0,
                    env,
                )));
                None
            }
            StepKind::Approval(a) => {
                let mut templates = RenderTrace::default();
                let (entity_id, message) = self.in_view(tid, |view| {
                    let mut render =
                        |tv: &TemplateValue| tv.render(view, env, Secrets::Redact, &mut templates);
                    (
                        a.entity_id.as_ref().map(&mut render),
                        a.message.as_ref().map(&mut render),
                    )
                });
                self.explain_templates(tid, step, templates);
                let n = self.next_seq();
                let id = format!("{}-approval-{n}", self.id);
                let timer = a.timeout.map(|t| {
                    self.set_timer(tid, Purpose::WaitTimeout, env.now + t.as_chrono(), fx)
                });
                fx.push(Effect::RequestApproval {
                    id: id.clone(),
                    step_id: step.id.clone(),
                    approver_role: a.approver_role.clone(),
                    entity: a.entity.clone(),
                    entity_id,
                    message,
                    expires_at: a.timeout.map(|t| env.now + t.as_chrono()),
                });
                self.thread_mut(tid).state = TState::Waiting {
                    on: WaitOn::Approval(id.clone()),
                    timer,
                };
                let mut r = self.record(tid, step, StepState::Waiting, 0, env);
                r.input = Some(json!({ "approval_id": id }));
                fx.push(Effect::Step(r));
                None
            }
            StepKind::Subworkflow {
                workflow_id, input, ..
            } => {
                let input = match input {
                    Some(tv) => self.render_explained(tid, step, tv, env),
                    None => Value::Null,
                };
                let n = self.next_seq();
                let id = format!("{}-child-{n}", self.id);
                fx.push(Effect::StartChild {
                    id: id.clone(),
                    workflow_id: workflow_id.clone(),
                    input,
                });
                self.thread_mut(tid).state = TState::Waiting {
                    on: WaitOn::Child(id.clone()),
                    timer: None,
                };
                let mut r = self.record(tid, step, StepState::Waiting, 0, env);
                r.input = Some(json!({ "child_id": id, "workflow_id": workflow_id }));
                fx.push(Effect::Step(r));
                None
            }
            StepKind::Parallel { branches, .. } => {
                let list = self.thread(tid).list.clone();
                let pc = self.thread(tid).pc;
                let mut children = Vec::new();
                for b in 0..branches.len() {
                    let mut path = list.clone();
                    path.push(Hop::Branch {
                        step: pc,
                        branch: b,
                    });
                    children.push(self.spawn(wf, Some(tid), path, Map::new(), Some(b), None));
                }
                self.thread_mut(tid).state = TState::Joining {
                    children,
                    join: Join::Parallel,
                };
                fx.push(Effect::Step(self.record(
                    tid,
                    step,
                    StepState::Running,
                    0,
                    env,
                )));
                None
            }
            StepKind::Foreach {
                items,
                as_name,
                max_iterations,
                concurrency,
                ..
            } => {
                let items_v = self.render_explained(tid, step, items, env);
                let Value::Array(items) = items_v else {
                    return Some(Route::Fail(format!(
                        "'items' is {}, not a list",
                        crate::path::type_name(&items_v)
                    )));
                };
                let limit = max_iterations.map_or(DEFAULT_MAX_ITERATIONS, |m| m as usize);
                if items.len() > limit {
                    return Some(Route::Fail(format!(
                        "{} items exceed max_iterations ({limit})",
                        items.len()
                    )));
                }
                if items.is_empty() {
                    self.complete(
                        tid,
                        step,
                        0,
                        None,
                        json!({ "iterations": 0, "results": [] }),
                        env,
                        fx,
                    );
                    return Some(Route::Next);
                }
                let concurrency = concurrency.unwrap_or(1).max(1) as usize;
                let mut join = Join::Foreach {
                    results: vec![Value::Null; items.len()],
                    items,
                    next: 0,
                    concurrency,
                };
                let mut children = Vec::new();
                while let Some(child) = self.spawn_iteration(wf, tid, as_name, &mut join) {
                    children.push(child);
                    if children.len() >= concurrency {
                        break;
                    }
                }
                self.thread_mut(tid).state = TState::Joining { children, join };
                let mut r = self.record(tid, step, StepState::Running, 0, env);
                r.input = Some(json!({ "concurrency": concurrency }));
                fx.push(Effect::Step(r));
                None
            }
        }
    }

    /// Starts the next foreach iteration, if any is left.
    fn spawn_iteration(
        &mut self,
        wf: &Workflow,
        tid: ThreadId,
        as_name: &str,
        join: &mut Join,
    ) -> Option<ThreadId> {
        let Join::Foreach { items, next, .. } = join else {
            return None;
        };
        if *next >= items.len() {
            return None;
        }
        let i = *next;
        *next += 1;
        let mut locals = Map::new();
        locals.insert(as_name.to_owned(), items[i].clone());
        locals.insert("loop".into(), json!({ "index": i, "count": items.len() }));
        let mut path = self.thread(tid).list.clone();
        path.push(Hop::Body {
            step: self.thread(tid).pc,
        });
        Some(self.spawn(wf, Some(tid), path, locals, None, Some(i)))
    }

    /// Sends the action of a step (or of entry `sub` of a decision's execute list).
    #[allow(clippy::too_many_arguments)]
    fn perform(
        &mut self,
        wf: &Workflow,
        tid: ThreadId,
        step: &Step,
        attempt: u32,
        sub: usize,
        env: &Env<'_>,
        fx: &mut Vec<Effect>,
    ) {
        let call = match &step.kind {
            StepKind::Action(call) => call,
            StepKind::Decision(d) => &d.execute[sub],
            _ => unreachable!("only action and decision steps perform"),
        };
        let mut trace = RenderTrace::default();
        let (input, redacted) = self.in_view(tid, |view| {
            let input = call.config.render(view, env, Secrets::Reveal, &mut trace);
            let redacted =
                call.config
                    .render(view, env, Secrets::Redact, &mut RenderTrace::default());
            (input, redacted)
        });
        if self.tracing() {
            let e = Explanation {
                templates: trace.clone(),
                ..Default::default()
            };
            self.explain(tid, step, attempt, e);
        }
        if trace.over_budget {
            self.thread_mut(tid).state = TState::Acting {
                attempt,
                sub,
                timer: None,
            };
            let msg = format!(
                "the action's input renders to more than {} bytes",
                crate::template::MAX_RENDER_BYTES
            );
            return self.route(wf, tid, step, Route::Fail(msg), env, fx);
        }
        let timer = step
            .timeout
            .map(|t| self.set_timer(tid, Purpose::StepTimeout, env.now + t.as_chrono(), fx));
        self.thread_mut(tid).state = TState::Acting {
            attempt,
            sub,
            timer,
        };
        let mut r = self.record(tid, step, StepState::Running, attempt, env);
        r.input = Some(redacted);
        fx.push(Effect::Step(r));
        fx.push(Effect::Perform {
            thread: tid,
            step_id: step.id.clone(),
            action_type: call.action_type.clone(),
            attempt,
            input,
            idempotency_key: self.action_key(&step.id, sub, tid, attempt),
        });
    }

    /// The idempotency key of an action attempt: execution, retry round, step (and entry of its
    /// execute list after the first), thread, attempt.
    fn action_key(&self, step_id: &str, sub: usize, tid: ThreadId, attempt: u32) -> String {
        let round = match self.round {
            0 => String::new(),
            n => format!("r{n}:"),
        };
        let entry = match sub {
            0 => String::new(),
            n => format!("#{n}"),
        };
        format!(
            "{}:{round}{step_id}{}{entry}:{}:{attempt}",
            self.id,
            self.visit(tid, step_id),
            self.thread_key(tid)
        )
    }

    /// `~n` for the n-th return of a thread to a step, empty for its first visit.
    fn visit(&self, tid: ThreadId, step_id: &str) -> String {
        match self.threads.get(&tid).and_then(|t| t.revisits.get(step_id)) {
            Some(n) => format!("~{n}"),
            None => String::new(),
        }
    }

    /// Identifies a thread's place for idempotency keys: stable across restarts.
    fn thread_key(&self, tid: ThreadId) -> String {
        let t = self.thread(tid);
        match (t.branch, t.iteration) {
            (Some(b), _) => format!("t{tid}b{b}"),
            (_, Some(i)) => format!("t{tid}i{i}"),
            _ => format!("t{tid}"),
        }
    }

    /// Records a step as completed with its output.
    #[allow(clippy::too_many_arguments)]
    fn complete(
        &mut self,
        tid: ThreadId,
        step: &Step,
        attempt: u32,
        input: Option<Value>,
        output: Value,
        env: &Env<'_>,
        fx: &mut Vec<Effect>,
    ) {
        self.set_output(tid, &step.id, &output);
        let mut r = self.record(tid, step, StepState::Completed, attempt, env);
        r.input = input;
        r.output = Some(output);
        fx.push(Effect::Step(r));
    }

    // -- routing --------------------------------------------------------------------------------

    fn route(
        &mut self,
        wf: &Workflow,
        tid: ThreadId,
        step: &Step,
        route: Route,
        env: &Env<'_>,
        fx: &mut Vec<Effect>,
    ) {
        let route = match route {
            Route::Fail(e) => self.on_failure(wf, tid, step, e, env, fx),
            Route::Next if step.end => Route::EndList,
            other => other,
        };
        let list = resolve(wf, &self.thread(tid).list);
        let pc = self.thread(tid).pc;
        if let Some(dag) = self.thread(tid).dag.clone() {
            let mut dag = dag;
            match &route {
                Route::Next | Route::Goto(_) => {
                    dag[pc] = Mark::Completed;
                    let taken = match &route {
                        Route::Goto(t) => Some(t.as_str()),
                        _ => None,
                    };
                    for (field, target) in crate::validate::named_targets(step) {
                        if field != "next"
                            && Some(target) != taken
                            && let Some(j) = list.position(target)
                            && dag[j] == Mark::Pending
                        {
                            dag[j] = Mark::NotTaken;
                        }
                    }
                }
                _ => dag[pc] = Mark::Completed,
            }
            self.thread_mut(tid).dag = Some(dag);
        }
        match route {
            Route::Next | Route::Goto(_) if self.thread(tid).dag.is_some() => {
                self.thread_mut(tid).state = TState::Ready;
            }
            Route::Next => {
                let next = match &step.next {
                    Some(t) => list.position(t),
                    None => Some(pc + 1),
                };
                self.go(wf, tid, next, env, fx);
            }
            Route::Goto(t) => {
                let next = list.position(&t);
                if next.is_none() {
                    let msg = format!("step '{}' goes to '{t}', which is not in its list", step.id);
                    return self.finish_thread(wf, tid, Outcome::Failed(msg), env, fx);
                }
                self.go(wf, tid, next, env, fx);
            }
            Route::EndList => self.finish_thread(wf, tid, Outcome::Ok, env, fx),
            Route::End => self.finish_thread(wf, tid, Outcome::Ended, env, fx),
            Route::Fail(e) => self.finish_thread(wf, tid, Outcome::Failed(e), env, fx),
        }
    }

    fn go(
        &mut self,
        wf: &Workflow,
        tid: ThreadId,
        pc: Option<usize>,
        env: &Env<'_>,
        fx: &mut Vec<Effect>,
    ) {
        let len = resolve(wf, &self.thread(tid).list).steps.len();
        match pc {
            Some(i) if i < len => {
                let t = self.thread_mut(tid);
                t.pc = i;
                t.state = TState::Ready;
            }
            _ => self.finish_thread(wf, tid, Outcome::Ok, env, fx),
        }
    }

    /// Applies `allow_failure`, the step's `on_error` and the workflow's to a failure.
    fn on_failure(
        &mut self,
        wf: &Workflow,
        tid: ThreadId,
        step: &Step,
        error: String,
        env: &Env<'_>,
        fx: &mut Vec<Effect>,
    ) -> Route {
        let attempt = match self.thread(tid).state {
            TState::Acting { attempt, .. } => attempt,
            _ => 0,
        };
        let mut r = self.record(tid, step, StepState::Failed, attempt, env);
        r.error = Some(error.clone());
        fx.push(Effect::Step(r));
        if step.allow_failure {
            return Route::Next;
        }
        match step.on_error.as_ref().or(wf.settings.on_error.as_ref()) {
            Some(OnError::Continue) => Route::Next,
            Some(OnError::Catch) => {
                if let Some(Value::Object(steps)) = self.ctx.get_mut("steps") {
                    steps.insert(step.id.clone(), json!({ "error": error }));
                }
                Route::Next
            }
            Some(OnError::Goto(t)) => Route::Goto(t.clone()),
            Some(OnError::Fail) | None => {
                Route::Fail(format!("step '{}' failed: {error}", step.id))
            }
        }
    }

    fn next_dag_step(&self, tid: ThreadId, list: &StepList) -> DagPick {
        let Some(dag) = self.thread(tid).dag.as_ref() else {
            return DagPick::Done;
        };
        let settled = |m: Mark| !matches!(m, Mark::Pending | Mark::Running);
        let mut any_pending = false;
        for (i, deps) in list.deps.iter().enumerate() {
            if dag[i] == Mark::NotTaken {
                return DagPick::Skip(i, "not the branch taken".into());
            }
            if dag[i] != Mark::Pending {
                continue;
            }
            any_pending = true;
            if deps.iter().all(|&j| settled(dag[j])) {
                if let Some(&j) = deps.iter().find(|&&j| dag[j] != Mark::Completed) {
                    return DagPick::Skip(
                        i,
                        format!("dependency '{}' did not complete", list.steps[j].id),
                    );
                }
                return DagPick::Run(i);
            }
        }
        if any_pending {
            DagPick::Stuck
        } else {
            DagPick::Done
        }
    }

    // -- finishing threads ----------------------------------------------------------------------

    fn finish_thread(
        &mut self,
        wf: &Workflow,
        tid: ThreadId,
        outcome: Outcome,
        env: &Env<'_>,
        fx: &mut Vec<Effect>,
    ) {
        self.thread_mut(tid).state = TState::Done(outcome.clone());
        match self.thread(tid).parent {
            Some(parent) => self.child_done(wf, parent, tid, outcome, env, fx),
            None => {
                self.cancel_all(wf, env, fx);
                match outcome {
                    Outcome::Ok | Outcome::Ended => self.finish(ExecStatus::Completed, None, fx),
                    Outcome::Failed(e) => {
                        // EC-4: completed steps stay completed, the failed one is failed, and
                        // the top-level steps the run never reached are recorded as skipped.
                        for step in &wf.steps.steps {
                            if !self.touched.contains(&step.id) {
                                let mut r = self.record(0, step, StepState::Skipped, 0, env);
                                r.error =
                                    Some("not reached: the run failed before this step".into());
                                fx.push(Effect::Step(r));
                            }
                        }
                        self.finish(ExecStatus::Failed, Some(e), fx)
                    }
                    Outcome::Cancelled => self.finish(ExecStatus::Cancelled, None, fx),
                }
            }
        }
    }

    fn finish(&mut self, status: ExecStatus, error: Option<String>, fx: &mut Vec<Effect>) {
        if self.status.is_terminal() {
            return;
        }
        self.status = status;
        self.error = error.clone();
        fx.push(Effect::Finished { status, error });
    }

    /// A child thread of a parallel or foreach finished.
    fn child_done(
        &mut self,
        wf: &Workflow,
        pid: ThreadId,
        cid: ThreadId,
        outcome: Outcome,
        env: &Env<'_>,
        fx: &mut Vec<Effect>,
    ) {
        // The join is taken out, not cloned: a foreach's items and results are as long as its
        // list, and this runs once per item. What stays in its place (the children) is all the
        // calls below read; every way out of a foreach join writes the join back or ends it.
        let placeholder = match &self.thread(pid).state {
            TState::Joining { children, .. } => TState::Joining {
                children: children.clone(),
                join: Join::Parallel,
            },
            _ => return,
        };
        let TState::Joining { children, join } =
            std::mem::replace(&mut self.thread_mut(pid).state, placeholder)
        else {
            unreachable!("checked above")
        };
        if outcome == Outcome::Ended {
            // A decision inside a branch or an iteration ends the whole run.
            return self.finish_thread(wf, pid, Outcome::Ended, env, fx);
        }
        let step = self.current_step(wf, pid);
        let outcome_of = |e: &Self, c: ThreadId| match &e.thread(c).state {
            TState::Done(o) => Some(o.clone()),
            _ => None,
        };
        match (&step.kind, join) {
            (
                StepKind::Parallel {
                    strategy,
                    on_true,
                    on_false,
                    ..
                },
                Join::Parallel,
            ) => {
                let outcomes: Vec<Option<Outcome>> =
                    children.iter().map(|c| outcome_of(self, *c)).collect();
                let all_done = outcomes.iter().all(Option::is_some);
                let summary = |e: &Self| -> Value {
                    Value::Array(
                        children
                            .iter()
                            .enumerate()
                            .map(|(b, c)| {
                                let t = e.thread(*c);
                                let status = match &t.state {
                                    TState::Done(Outcome::Ok) => "completed",
                                    TState::Done(Outcome::Failed(_)) => "failed",
                                    TState::Done(Outcome::Cancelled) => "cancelled",
                                    _ => "running",
                                };
                                json!({ "branch": b, "status": status, "passed": matches!(t.state, TState::Done(Outcome::Ok)) && t.held })
                            })
                            .collect(),
                    )
                };
                let passed = |e: &Self| {
                    children.iter().all(|c| {
                        let t = e.thread(*c);
                        matches!(t.state, TState::Done(Outcome::Ok)) && t.held
                    })
                };
                let decided: Option<Route> = match strategy {
                    Strategy::All => match &outcome {
                        Outcome::Failed(e) => Some(Route::Fail(e.clone())),
                        _ if all_done => Some(Route::Next),
                        _ => None,
                    },
                    Strategy::Any => match &outcome {
                        Outcome::Ok => Some(Route::Next),
                        _ if all_done => Some(Route::Fail(format!(
                            "every branch failed; the last: {}",
                            failure_text(&outcome)
                        ))),
                        _ => None,
                    },
                    Strategy::First => match &outcome {
                        Outcome::Failed(e) => Some(Route::Fail(e.clone())),
                        _ => Some(Route::Next),
                    },
                    Strategy::AllMustPass if all_done => {
                        let target = if passed(self) { on_true } else { on_false };
                        Some(target.clone().map_or(Route::Next, Route::Goto))
                    }
                    Strategy::AllMustPass => None,
                };
                let Some(route) = decided else { return };
                let result = passed(self);
                for c in &children {
                    self.cancel_thread(wf, *c, env, fx);
                }
                let mut output = json!({ "strategy": strategy.name(), "branches": summary(self) });
                if *strategy == Strategy::First || *strategy == Strategy::Any {
                    output["winner"] = json!(children.iter().position(|c| *c == cid));
                }
                if *strategy == Strategy::AllMustPass {
                    output["result"] = json!(result);
                }
                self.end_join(wf, pid, step, route, output, env, fx);
            }
            (
                StepKind::Foreach { as_name, .. },
                Join::Foreach {
                    items,
                    next,
                    mut results,
                    concurrency,
                },
            ) => {
                if let Some(i) = self.thread(cid).iteration {
                    results[i] = self.thread(cid).last_output.clone();
                }
                if let Outcome::Failed(e) = &outcome {
                    for c in &children {
                        self.cancel_thread(wf, *c, env, fx);
                    }
                    let output = json!({ "iterations": next, "results": results });
                    return self.end_join(wf, pid, step, Route::Fail(e.clone()), output, env, fx);
                }
                let mut join = Join::Foreach {
                    items,
                    next,
                    results,
                    concurrency,
                };
                let mut active: Vec<ThreadId> = children
                    .iter()
                    .copied()
                    .filter(|c| !matches!(self.thread(*c).state, TState::Done(_)))
                    .collect();
                while active.len() < concurrency {
                    match self.spawn_iteration(wf, pid, as_name, &mut join) {
                        Some(c) => active.push(c),
                        None => break,
                    }
                }
                if active.is_empty() {
                    let Join::Foreach { items, results, .. } = join else {
                        unreachable!()
                    };
                    let output = json!({ "iterations": items.len(), "results": results });
                    return self.end_join(wf, pid, step, Route::Next, output, env, fx);
                }
                // Finished children are forgotten; their records are already out.
                for c in children.iter().filter(|c| !active.contains(c)) {
                    self.threads.remove(c);
                }
                self.thread_mut(pid).state = TState::Joining {
                    children: active,
                    join,
                };
            }
            _ => {}
        }
    }

    /// Completes (or fails) a parallel or foreach step and moves its thread on.
    #[allow(clippy::too_many_arguments)]
    fn end_join(
        &mut self,
        wf: &Workflow,
        pid: ThreadId,
        step: &Step,
        route: Route,
        output: Value,
        env: &Env<'_>,
        fx: &mut Vec<Effect>,
    ) {
        if let TState::Joining { children, .. } = &self.thread(pid).state {
            for c in children.clone() {
                self.threads.remove(&c);
            }
        }
        if !matches!(route, Route::Fail(_)) {
            self.complete(pid, step, 0, None, output, env, fx);
        }
        self.thread_mut(pid).state = TState::Ready;
        self.route(wf, pid, step, route, env, fx);
    }

    /// Stops a thread and everything under it: timers, waits, approvals, child runs. The step
    /// it was in (acting, delayed, waiting or joining) gets a `cancelled` record in place of
    /// its open one.
    fn cancel_thread(&mut self, wf: &Workflow, tid: ThreadId, env: &Env<'_>, fx: &mut Vec<Effect>) {
        let Some(t) = self.threads.get(&tid) else {
            return;
        };
        let state = t.state.clone();
        let open = match &state {
            TState::Done(_) => return,
            TState::Ready => None,
            TState::Acting { attempt, .. } => Some(*attempt),
            // Between retries the failed attempt's record is closed already.
            TState::Sleeping { timer } => self
                .timers
                .get(timer)
                .is_some_and(|t| matches!(t.purpose, Purpose::Delay))
                .then_some(0),
            TState::Waiting { .. } | TState::Joining { .. } => Some(0),
        };
        match state {
            TState::Done(_) | TState::Ready => {}
            TState::Acting { timer, .. } => self.cancel_timer(timer, fx),
            TState::Sleeping { timer } => self.cancel_timer(Some(timer), fx),
            TState::Waiting { on, timer } => {
                self.cancel_timer(timer, fx);
                fx.push(match on {
                    WaitOn::Event(_) => Effect::StopAwaiting { thread: tid },
                    WaitOn::Approval(id) => Effect::WithdrawApproval { id },
                    WaitOn::Child(id) => Effect::CancelChild { id },
                });
            }
            TState::Joining { children, .. } => {
                for c in children {
                    self.cancel_thread(wf, c, env, fx);
                }
            }
        }
        if let Some(attempt) = open {
            let step = self.current_step(wf, tid);
            let mut r = self.record(tid, step, StepState::Cancelled, attempt, env);
            r.error = Some("cancelled".into());
            fx.push(Effect::Step(r));
        }
        self.thread_mut(tid).state = TState::Done(Outcome::Cancelled);
    }

    fn cancel_all(&mut self, wf: &Workflow, env: &Env<'_>, fx: &mut Vec<Effect>) {
        let ids: Vec<ThreadId> = self.threads.keys().copied().collect();
        for id in ids {
            self.cancel_thread(wf, id, env, fx);
        }
        let timers: Vec<TimerId> = self.timers.keys().copied().collect();
        for t in timers {
            self.cancel_timer(Some(t), fx);
        }
    }

    // -- inputs ---------------------------------------------------------------------------------

    fn on_action(
        &mut self,
        wf: &Workflow,
        tid: ThreadId,
        attempt: u32,
        result: Result<Value, ActionError>,
        env: &Env<'_>,
        fx: &mut Vec<Effect>,
    ) {
        let Some(TState::Acting {
            attempt: current,
            sub,
            timer,
        }) = self.threads.get(&tid).map(|t| t.state.clone())
        else {
            return;
        };
        if current != attempt {
            return;
        }
        self.cancel_timer(timer, fx);
        let step = self.current_step(wf, tid);
        match result {
            Ok(output) => match &step.kind {
                StepKind::Decision(d) => {
                    let mut results = self
                        .thread(tid)
                        .last_output
                        .get("results")
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default();
                    results.push(output);
                    self.thread_mut(tid).last_output = json!({ "results": results });
                    if sub + 1 < d.execute.len() {
                        return self.perform(wf, tid, step, 1, sub + 1, env, fx);
                    }
                    let kind = d.verdict.decision();
                    let output =
                        json!({ "decision": kind, "reason": self.reason, "results": results });
                    self.complete(tid, step, attempt, None, output, env, fx);
                    self.thread_mut(tid).state = TState::Ready;
                    self.route(wf, tid, step, decision_route(step, kind), env, fx);
                }
                _ => {
                    self.complete(tid, step, attempt, None, output, env, fx);
                    self.thread_mut(tid).state = TState::Ready;
                    self.route(wf, tid, step, Route::Next, env, fx);
                }
            },
            Err(err) => {
                let policy = step
                    .retry
                    .clone()
                    .or_else(|| wf.settings.retry_policy.clone())
                    .unwrap_or_default();
                let class_ok = policy.retry_on.is_empty()
                    || policy
                        .retry_on
                        .iter()
                        .any(|c| c == "any" || Some(c) == err.class.as_ref());
                if err.retryable && class_ok && attempt < policy.max_attempts {
                    let mut r = self.record(tid, step, StepState::Failed, attempt, env);
                    r.error = Some(err.message.clone());
                    fx.push(Effect::Step(r));
                    // The policy's backoff, or longer when the other side asked for it.
                    let asked = err
                        .retry_after_ms
                        .map(|ms| chrono::Duration::milliseconds(ms.min(i64::MAX as u64) as i64));
                    let wait = backoff(&policy, attempt).max(asked.unwrap_or_default());
                    let timer = self.set_timer(
                        tid,
                        Purpose::Retry {
                            attempt: attempt + 1,
                            sub,
                        },
                        env.now + wait,
                        fx,
                    );
                    self.thread_mut(tid).state = TState::Sleeping { timer };
                } else {
                    let why = if !err.retryable {
                        err.message.clone()
                    } else if attempt >= policy.max_attempts {
                        format!("{} (after {attempt} attempt(s))", err.message)
                    } else {
                        format!(
                            "{} (not retried: its class is not in retry_on)",
                            err.message
                        )
                    };
                    // The thread stays Acting so the failure is recorded against this attempt.
                    self.route(wf, tid, step, Route::Fail(why), env, fx);
                }
            }
        }
    }

    fn on_timer(&mut self, wf: &Workflow, timer: TimerId, env: &Env<'_>, fx: &mut Vec<Effect>) {
        let Some(Timer { thread, purpose }) = self.timers.remove(&timer) else {
            return;
        };
        if purpose == Purpose::RunTimeout {
            // Everything stops; the run fails like any failed step would, so the steps it never
            // reached are recorded as skipped and a retry resumes where it was.
            let msg = "the workflow timed out".to_owned();
            self.cancel_all(wf, env, fx);
            return self.finish_thread(wf, 0, Outcome::Failed(msg), env, fx);
        }
        let Some(state) = self.threads.get(&thread).map(|t| t.state.clone()) else {
            return;
        };
        let step = self.current_step(wf, thread);
        match (purpose, state) {
            (Purpose::Delay, TState::Sleeping { .. }) => {
                self.complete(thread, step, 0, None, Value::Null, env, fx);
                self.thread_mut(thread).state = TState::Ready;
                self.route(wf, thread, step, Route::Next, env, fx);
            }
            (Purpose::Retry { attempt, sub }, TState::Sleeping { .. }) => {
                self.perform(wf, thread, step, attempt, sub, env, fx);
            }
            (Purpose::StepTimeout, TState::Acting { attempt, sub, .. }) => {
                let err = ActionError {
                    message: format!("timed out after {}", step.timeout.unwrap_or_default()),
                    retryable: true,
                    class: Some("timeout".into()),
                    retry_after_ms: None,
                };
                // The timer has fired: nothing to cancel.
                self.thread_mut(thread).state = TState::Acting {
                    attempt,
                    sub,
                    timer: None,
                };
                self.on_action(wf, thread, attempt, Err(err), env, fx);
            }
            (Purpose::WaitTimeout, TState::Waiting { on, .. }) => {
                fx.push(match &on {
                    WaitOn::Event(_) => Effect::StopAwaiting { thread },
                    WaitOn::Approval(id) => Effect::ExpireApproval { id: id.clone() },
                    WaitOn::Child(id) => Effect::CancelChild { id: id.clone() },
                });
                let target = match &step.kind {
                    StepKind::Wait { on_timeout, .. } => on_timeout.clone(),
                    StepKind::Approval(a) => a.on_timeout.clone(),
                    _ => None,
                };
                self.thread_mut(thread).state = TState::Ready;
                match target {
                    Some(t) => {
                        self.complete(thread, step, 0, None, json!({ "timed_out": true }), env, fx);
                        self.route(wf, thread, step, Route::Goto(t), env, fx);
                    }
                    None => self.route(wf, thread, step, Route::Fail("timed out".into()), env, fx),
                }
            }
            _ => {}
        }
    }

    fn on_event(
        &mut self,
        wf: &Workflow,
        event_type: &str,
        payload: &Value,
        env: &Env<'_>,
        fx: &mut Vec<Effect>,
    ) {
        let waiting: Vec<ThreadId> = self
            .threads
            .iter()
            .filter(|(_, t)| matches!(&t.state, TState::Waiting { on: WaitOn::Event(e), .. } if event_matches(e, event_type)))
            .map(|(id, _)| *id)
            .collect();
        for tid in waiting {
            let step = self.current_step(wf, tid);
            let StepKind::Wait { matches, .. } = &step.kind else {
                continue;
            };
            if let Some(m) = matches {
                let mut templates = RenderTrace::default();
                let trace = self.in_view(tid, |view| {
                    m.eval_traced_on(payload, view, env, &mut templates)
                });
                let held = trace.result();
                if self.tracing() {
                    let e = Explanation {
                        condition: Some(trace),
                        templates,
                        ..Default::default()
                    };
                    self.explain(tid, step, 0, e);
                }
                if !held {
                    continue;
                }
            }
            if let TState::Waiting { timer, .. } = self.thread(tid).state.clone() {
                self.cancel_timer(timer, fx);
            }
            fx.push(Effect::StopAwaiting { thread: tid });
            self.complete(tid, step, 0, None, payload.clone(), env, fx);
            self.thread_mut(tid).state = TState::Ready;
            self.route(wf, tid, step, Route::Next, env, fx);
        }
    }

    fn on_approval(
        &mut self,
        wf: &Workflow,
        id: &str,
        outcome: ApprovalOutcome,
        env: &Env<'_>,
        fx: &mut Vec<Effect>,
    ) {
        let Some(tid) = self.find_waiting(|on| matches!(on, WaitOn::Approval(a) if a == id)) else {
            return;
        };
        let step = self.current_step(wf, tid);
        let StepKind::Approval(a) = &step.kind else {
            return;
        };
        if let TState::Waiting { timer, .. } = self.thread(tid).state.clone() {
            self.cancel_timer(timer, fx);
        }
        let (target, word) = match outcome {
            ApprovalOutcome::Approve => (a.on_approve.clone(), "approved"),
            ApprovalOutcome::Reject => (a.on_reject.clone(), "rejected"),
            ApprovalOutcome::Timeout => (a.on_timeout.clone(), "timed_out"),
        };
        self.complete(tid, step, 0, None, json!({ "outcome": word }), env, fx);
        self.thread_mut(tid).state = TState::Ready;
        self.route(
            wf,
            tid,
            step,
            target.map_or(Route::Next, Route::Goto),
            env,
            fx,
        );
    }

    fn on_child(
        &mut self,
        wf: &Workflow,
        id: &str,
        result: Result<Value, String>,
        env: &Env<'_>,
        fx: &mut Vec<Effect>,
    ) {
        let Some(tid) = self.find_waiting(|on| matches!(on, WaitOn::Child(c) if c == id)) else {
            return;
        };
        let step = self.current_step(wf, tid);
        let StepKind::Subworkflow { output, .. } = &step.kind else {
            return;
        };
        self.thread_mut(tid).state = TState::Ready;
        match result {
            Ok(out) => {
                if let Some(name) = output
                    && let Some(Value::Object(vars)) = self.ctx.get_mut("vars")
                {
                    vars.insert(name.clone(), out.clone());
                }
                self.complete(tid, step, 0, None, out, env, fx);
                self.route(wf, tid, step, Route::Next, env, fx);
            }
            Err(e) => self.route(
                wf,
                tid,
                step,
                Route::Fail(format!("subworkflow failed: {e}")),
                env,
                fx,
            ),
        }
    }

    fn find_waiting(&self, pred: impl Fn(&WaitOn) -> bool) -> Option<ThreadId> {
        self.threads
            .iter()
            .find(|(_, t)| matches!(&t.state, TState::Waiting { on, .. } if pred(on)))
            .map(|(id, _)| *id)
    }
}

enum DagPick {
    Run(usize),
    Skip(usize, String),
    Done,
    Stuck,
}

/// The step list at the end of a path of hops.
fn resolve<'w>(wf: &'w Workflow, path: &[Hop]) -> &'w StepList {
    let mut list = &wf.steps;
    for hop in path {
        list = match hop {
            Hop::Branch { step, branch } => match &list.steps[*step].kind {
                StepKind::Parallel { branches, .. } => &branches[*branch],
                _ => unreachable!("a branch hop points at a parallel step"),
            },
            Hop::Body { step } => match &list.steps[*step].kind {
                StepKind::Foreach { body, .. } => body,
                _ => unreachable!("a body hop points at a foreach step"),
            },
        };
    }
    list
}

fn decision_route(step: &Step, kind: Option<DecisionKind>) -> Route {
    match (kind, &step.next) {
        (Some(_), None) => Route::End,
        _ => Route::Next,
    }
}

/// How long to wait before attempt `attempt + 1`.
pub fn backoff(policy: &RetryPolicy, attempt: u32) -> chrono::Duration {
    let initial = policy.initial_interval.as_millis() as f64;
    let ms = match policy.backoff {
        Backoff::Exponential => {
            initial
                * policy
                    .backoff_coefficient
                    .powi(attempt.saturating_sub(1) as i32)
        }
        Backoff::Linear => initial * attempt as f64,
        Backoff::Fixed => initial,
    };
    let capped = ms.min(policy.max_interval.as_millis() as f64).max(0.0);
    chrono::Duration::milliseconds(capped as i64)
}

fn failure_text(o: &Outcome) -> String {
    match o {
        Outcome::Failed(e) => e.clone(),
        other => format!("{other:?}"),
    }
}

fn display(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The locals a thread sees, its own first, then its ancestors' (only those that have any).
fn locals_chain(
    threads: &BTreeMap<ThreadId, Box<Thread>>,
    tid: ThreadId,
) -> Vec<&Map<String, Value>> {
    let mut chain = Vec::new();
    let mut cur = Some(tid);
    while let Some(t) = cur.and_then(|id| threads.get(&id)) {
        if !t.locals.is_empty() {
            chain.push(&t.locals);
        }
        cur = t.parent;
    }
    chain
}
