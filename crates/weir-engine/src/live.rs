//! The executions this node is working on. Each claimed execution is driven by a task of its
//! own: it applies the inputs, commits the step, hands every action the step asks for to the
//! node's [`ActionPool`](crate::pool::ActionPool), and applies the results as they come back,
//! committing after each batch of them. A worker therefore never waits on the outside world:
//! it claims and moves on, and a node keeps as many calls in flight as its pool allows.
//!
//! Invariants:
//! - An action is performed only after the commit that queues its `perform` item; its result
//!   is committed, and the item removed, with the step after it. A node that dies in between
//!   leaves the item, due when its lease runs out, and the next owner performs the action again
//!   with the same idempotency key.
//! - While an execution has actions in flight its lease is renewed ([`Engine::keep_leases`]);
//!   an execution whose lease was not renewed in time, or was lost, stops its actions before
//!   the lease can run out, so no action outlives the lease it runs under.
//! - An action whose thread no longer waits for it (the losing branches of `first` and `any`,
//!   a cancelled run) is aborted, and its item removed, in the next commit.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::task::AbortHandle;
use weir_core::dryrun::ApprovalOutcome;
use weir_core::executor::{ActionError, Effect, Execution, Input, Start};
use weir_core::template::RenderTrace;
use weir_core::{Rules, Workflow};
use weir_store::{Claim, Held, Item, Scope, Work};

use crate::round::{Round, child_result, perform_key};
use crate::secrets::CODE_ACTIONS;
use crate::{ActionContext, ConnectorSet, Engine, Error, Progress, Result, SecretValues, live_env};

/// What reaches a running execution's task. Kept small: the channel allocates room for 32
/// messages up front, for every run held here.
pub(crate) enum Msg {
    /// An action finished (or failed).
    Done {
        thread: u32,
        attempt: u32,
        result: Box<std::result::Result<Value, ActionError>>,
    },
    /// Inputs queued for the execution while this node holds it.
    Items(Vec<Item>),
    /// The lease was found taken or gone: stop at once, write nothing.
    Lost,
}

/// What reaches a run's task: its actions' results and inputs queued for it. A queue and a
/// wake-up rather than a channel, whose first block and shared state cost every parked run
/// about 1.4 KB before any message.
#[derive(Default)]
pub(crate) struct Inbox {
    queue: Mutex<Vec<Msg>>,
    ready: tokio::sync::Notify,
}

impl Inbox {
    pub(crate) fn send(&self, msg: Msg) {
        self.queue.lock().expect("inbox").push(msg);
        self.ready.notify_one();
    }

    /// Every message there is, waiting for the first.
    async fn receive(&self) -> Vec<Msg> {
        loop {
            let msgs = std::mem::take(&mut *self.queue.lock().expect("inbox"));
            if !msgs.is_empty() {
                return msgs;
            }
            // A message sent after the look leaves a permit: this returns at once.
            self.ready.notified().await;
        }
    }
}

/// The executions held here, with how to reach each one's task.
#[derive(Default)]
pub(crate) struct LiveRuns {
    runs: Mutex<HashMap<String, Handle>>,
}

struct Handle {
    scope: Scope,
    epoch: i64,
    inbox: Arc<Inbox>,
    /// When the lease was last made to last `lease_ms` from then (taken before the statement
    /// that did it was sent, so it is never later than the database's own time).
    renewed: Arc<Mutex<Instant>>,
}

impl LiveRuns {
    pub(crate) fn len(&self) -> usize {
        self.runs.lock().expect("live runs").len()
    }

    fn insert(&self, id: &str, handle: Handle) {
        self.runs
            .lock()
            .expect("live runs")
            .insert(id.to_owned(), handle);
    }

    fn remove(&self, id: &str, epoch: i64) {
        let mut runs = self.runs.lock().expect("live runs");
        if runs.get(id).is_some_and(|h| h.epoch == epoch) {
            runs.remove(id);
        }
    }

    fn send(&self, id: &str, msg: Msg) {
        if let Some(h) = self.runs.lock().expect("live runs").get(id) {
            h.inbox.send(msg);
        }
    }

    fn held(&self) -> (Vec<Held>, Vec<Arc<Mutex<Instant>>>) {
        let runs = self.runs.lock().expect("live runs");
        runs.iter()
            .map(|(id, h)| {
                (
                    Held {
                        scope: h.scope.clone(),
                        execution_id: id.clone(),
                        epoch: h.epoch,
                    },
                    h.renewed.clone(),
                )
            })
            .unzip()
    }
}

/// An execution's entry in [`LiveRuns`], removed when its task ends, however it ends.
struct Registered {
    engine: Arc<Engine>,
    id: String,
    epoch: i64,
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.engine.live.remove(&self.id, self.epoch);
    }
}

/// What a run's task starts from.
struct DriveArgs {
    claim: Claim,
    started: Option<(Execution, Vec<(u32, u32)>)>,
    inbox: Arc<Inbox>,
    renewed: Arc<Mutex<Instant>>,
    registered: Registered,
}

/// The value out of its box, the box freed now: moved out in place, a box is freed only where
/// its binding ends.
#[allow(clippy::boxed_local)]
fn unbox<T>(b: Box<T>) -> T {
    *b
}

/// Where an action runs, shared by its task and the span its log lines carry.
struct Site {
    ctx: ActionContext,
    workflow_id: String,
    action_type: String,
    attempt: u32,
}

impl Site {
    fn span(&self) -> tracing::Span {
        tracing::info_span!(
            "step",
            tenant = %self.ctx.scope.tenant,
            environment = %self.ctx.scope.environment,
            workflow_id = %self.workflow_id,
            execution_id = %self.ctx.execution_id,
            step_id = %self.ctx.step_id,
            attempt = self.attempt,
            action = %self.action_type,
        )
    }
}

/// The actions of one execution that are in flight, aborted when it is dropped (the run
/// finished, lost its lease, or failed to commit).
#[derive(Default)]
struct Flight(HashMap<(u32, u32), AbortHandle>);

impl Drop for Flight {
    fn drop(&mut self) {
        for h in self.0.values() {
            h.abort();
        }
    }
}

/// How often inputs for held executions are looked for, and the lease watchdog wakes.
const HELD_POLL: Duration = Duration::from_millis(100);

/// The executor's input for a queued item; `None` for the items that are not one (a start,
/// an action to perform).
fn input_of(work: Work) -> Option<Input> {
    Some(match work {
        Work::Start | Work::Perform { .. } => return None,
        Work::Timer { timer } => Input::Timer(timer),
        Work::Event {
            event_type,
            payload,
        } => Input::Event {
            event_type,
            payload,
        },
        Work::Approval { id, approved } => Input::Approval {
            id,
            outcome: if approved {
                ApprovalOutcome::Approve
            } else {
                ApprovalOutcome::Reject
            },
        },
        Work::Child { id, output, error } => Input::Child {
            id,
            result: match error {
                Some(err) => Err(err),
                None => Ok(output.unwrap_or(Value::Null)),
            },
        },
        Work::Cancel => Input::Cancel,
        Work::Retry => Input::Retry,
    })
}

/// What one execution's task works with, read once when it starts.
struct Run {
    claim: Claim,
    wf: Arc<Workflow>,
    rules: Arc<Rules>,
    secrets: Arc<SecretValues>,
    connectors: Arc<ConnectorSet>,
    exec: Option<Execution>,
    /// Items applied (a poll may bring one again before the commit that removes it is done,
    /// or while it is).
    seen: HashSet<i64>,
}

impl Engine {
    /// Drives a claimed execution until it needs nothing more from this node now: its last
    /// commit gives the lease back. `claimed_at` is when the claim was asked for.
    /// `started` is a run this node started itself and wrote held, with the actions its first
    /// step asks for.
    pub(crate) fn drive(
        self: &Arc<Self>,
        claim: Claim,
        claimed_at: Instant,
        started: Option<(Execution, Vec<(u32, u32)>)>,
    ) -> impl std::future::Future<Output = Result<()>> + Send + 'static {
        // Registered now, not when the task first runs: from here on the execution counts as
        // running on this node.
        let id = claim.execution_id.clone();
        let epoch = claim.epoch;
        let inbox = Arc::new(Inbox::default());
        let renewed = Arc::new(Mutex::new(claimed_at));
        self.live.insert(
            &id,
            Handle {
                scope: claim.scope.clone(),
                epoch,
                inbox: inbox.clone(),
                renewed: renewed.clone(),
            },
        );
        // The run's own future, not one wrapping it: a wrapper would keep its own copy of
        // every argument (600 bytes) beside the run's for as long as the run is held. The
        // arguments come boxed for the same reason: a future keeps the room of its arguments
        // to the end, after they have moved into the run.
        let registered = Registered {
            engine: self.clone(),
            id,
            epoch,
        };
        self.clone().drive_claimed(Box::new(DriveArgs {
            claim,
            started,
            inbox,
            renewed,
            registered,
        }))
    }

    async fn drive_claimed(self: Arc<Self>, args: Box<DriveArgs>) -> Result<()> {
        // Sub-futures are boxed: the state a parked run keeps while its actions are in flight
        // is as big as the biggest future inlined in it, held for thousands of runs.
        // Taken out of their box at once: fields moved out one by one would keep the box,
        // and the execution in it, for as long as the run.
        let DriveArgs {
            claim,
            started,
            inbox,
            renewed,
            registered: _registered,
        } = unbox(args);
        let (mut run, round, mut performs, mut changed) =
            Box::pin(self.open_run(claim, started)).await?;
        // Made when something goes into it: a run waiting with nothing to commit keeps none.
        let mut round = Some(Box::new(round));
        let lease = Duration::from_millis(u64::try_from(self.lease_ms).unwrap_or(0));
        let mut flight = Flight::default();
        loop {
            let Some(exec) = run.exec.as_ref() else {
                return Ok(());
            };
            // Actions whose thread moved on (a branch that lost, a cancelled run) stop now.
            flight.0.retain(|(thread, attempt), h| {
                let wanted = exec.is_acting(*thread, *attempt);
                if !wanted {
                    h.abort();
                    self.round(&mut round)
                        .commit
                        .cancel_keys
                        .push(perform_key(*thread, *attempt));
                    changed = true;
                }
                wanted
            });
            let release = performs.is_empty() && flight.0.is_empty();
            if changed || release {
                let round = self.round(&mut round);
                round.finish(exec, release);
                let commit = std::mem::take(&mut round.commit);
                let finished = commit.finished;
                // Boxed: what a commit holds while it is written is not kept by a parked run.
                Box::pin(self.write_round(&run, commit, &renewed)).await?;
                if finished || release {
                    return Ok(());
                }
            }
            round = None;
            for (thread, attempt) in performs.drain(..) {
                match self.dispatch(&run, thread, attempt, inbox.clone(), (&renewed, lease)) {
                    Some(h) => {
                        if let Some(old) = flight.0.insert((thread, attempt), h) {
                            old.abort();
                        }
                    }
                    // The thread no longer waits for it: nothing to perform, and its queued
                    // item goes with the next commit.
                    None => self
                        .round(&mut round)
                        .commit
                        .cancel_keys
                        .push(perform_key(thread, attempt)),
                }
            }
            changed = round.is_some();
            // Wait for results (and inputs that arrive meanwhile), keeping an eye on the lease.
            let msgs = loop {
                let deadline = *renewed.lock().expect("lease clock") + lease.mul_f64(0.8);
                tokio::select! {
                    msgs = inbox.receive() => break msgs,
                    _ = tokio::time::sleep_until(deadline.into()) => {
                        let deadline = *renewed.lock().expect("lease clock") + lease.mul_f64(0.8);
                        if Instant::now() >= deadline {
                            return Err(weir_store::Error::LeaseLost(run.claim.execution_id.clone()).into());
                        }
                    }
                }
            };
            for msg in msgs {
                match msg {
                    Msg::Lost => {
                        return Err(
                            weir_store::Error::LeaseLost(run.claim.execution_id.clone()).into()
                        );
                    }
                    Msg::Items(items) => {
                        let round = self.round(&mut round);
                        changed |=
                            Box::pin(self.apply_items(&mut run, items, round, &mut performs))
                                .await?;
                    }
                    Msg::Done {
                        thread,
                        attempt,
                        result,
                    } => {
                        flight.0.remove(&(thread, attempt));
                        let round = self.round(&mut round);
                        round.commit.cancel_keys.push(perform_key(thread, attempt));
                        changed = true;
                        let Some(exec) = run.exec.as_mut() else {
                            continue;
                        };
                        let env = live_env(&run.rules, &run.secrets);
                        let fx = exec.apply(
                            &run.wf,
                            Input::Action {
                                thread,
                                attempt,
                                result: *result,
                            },
                            &env,
                        );
                        Box::pin(round.absorb(
                            &run.claim.scope,
                            &run.claim.execution_id,
                            &self.store,
                            fx,
                            &mut performs,
                        ))
                        .await?;
                    }
                }
            }
        }
    }

    /// The run a claim holds, with what it knows of its workflow and scope, after the items
    /// the claim brought: the first round, the actions it asks for and whether it changed.
    async fn open_run(
        &self,
        mut claim: Claim,
        started: Option<(Execution, Vec<(u32, u32)>)>,
    ) -> Result<(Run, Round, Vec<(u32, u32)>, bool)> {
        let (exec, mut performs) = match started {
            Some((exec, performs)) => (Some(exec), performs),
            None => (Self::stored_run(&mut claim)?, Vec::new()),
        };
        let scope = &claim.scope;
        let wf = Box::pin(self.workflow(scope, &claim.workflow_id, claim.workflow_version)).await?;
        let mut run = Run {
            rules: self.rules_for(scope, &wf),
            secrets: Box::pin(self.secret_values(scope)).await?,
            connectors: self.scope_connectors(scope),
            wf,
            exec,
            seen: HashSet::new(),
            claim,
        };
        let mut round = self.new_round();
        let items = std::mem::take(&mut run.claim.items);
        let changed =
            Box::pin(self.apply_items(&mut run, items, &mut round, &mut performs)).await?;
        Ok((run, round, performs, changed))
    }

    /// Writes a round's commit and tells whoever follows the run (answers waiting on it, the
    /// stream, traces, metrics).
    async fn write_round(
        &self,
        run: &Run,
        mut commit: weir_store::Commit,
        renewed: &Mutex<Instant>,
    ) -> Result<()> {
        let exec = run
            .exec
            .as_ref()
            .expect("a round is written for a started run");
        let finished = commit.finished;
        if finished {
            // A finished child hands its result to the parent in the same
            // transaction, so the parent can never miss it.
            if let Some(parent) = &run.claim.parent_id {
                commit
                    .other_items
                    .push((parent.clone(), child_result(&run.claim.execution_id, exec)));
            }
        } else if !commit.release {
            commit.extend_lease_ms = Some(self.lease_ms);
        }
        let progress = Progress {
            execution_id: run.claim.execution_id.clone(),
            status: commit.status.clone(),
            decision: commit.decision.clone(),
            reason: commit.reason.clone(),
        };
        // What the stream tells of this commit, made only while someone listens.
        let told = self.stream.wanted().then(|| {
            let steps: Vec<_> = commit
                .steps
                .iter()
                .map(|s| serde_json::json!({ "step_id": s.step_id, "type": s.step_type, "status": s.status, "attempt": s.attempt }))
                .collect();
            let approvals: Vec<_> = commit
                .approvals
                .iter()
                .map(|a| serde_json::json!({ "approval_id": a.id, "step_id": a.step_id, "approver_role": a.approver_role, "entity": a.entity, "entity_id": a.entity_id }))
                .collect();
            (steps, approvals)
        });
        let at = Instant::now();
        let error = commit.error.clone();
        let children = commit.new_executions.len();
        let traced = crate::traces::on().then(|| (commit.steps.clone(), exec.trace.clone()));
        self.store.commit(&self.node, &run.claim, commit).await?;
        crate::telemetry::executions_started(children);
        if let Some((steps, traceparent)) = traced {
            let (scope, id) = (&run.claim.scope, &run.claim.execution_id);
            let (workflow, t) = (&run.claim.workflow_id, traceparent.as_deref());
            crate::traces::steps_written(scope, workflow, id, t, &steps);
            if finished {
                let e = error.as_deref();
                crate::traces::run_ended(scope, workflow, id, t, &progress.status, e);
            }
        }
        *renewed.lock().expect("lease clock") = at;
        if finished {
            crate::telemetry::execution_finished(
                &run.claim.scope,
                &run.claim.workflow_id,
                &run.claim.execution_id,
                &progress.status,
                error.as_deref(),
            );
        }
        if let Some((steps, approvals)) = told {
            let (scope, id) = (&run.claim.scope, &run.claim.execution_id);
            let workflow = Some(run.claim.workflow_id.as_str());
            for step in steps {
                self.stream
                    .publish(scope, "execution.step", id, workflow, step);
            }
            for approval in approvals {
                self.stream
                    .publish(scope, "approval.created", id, workflow, approval);
            }
            if finished {
                self.stream.publish(
                    scope,
                    "execution.finished",
                    id,
                    workflow,
                    serde_json::json!({ "status": progress.status, "decision": progress.decision, "reason": progress.reason }),
                );
            }
        }
        self.announce(progress);
        if finished && run.claim.parent_id.is_some() {
            self.wake.notify_one();
        }
        Ok(())
    }

    /// The run a claim holds, as stored (taken from the claim, which a held run keeps);
    /// `None` before it started.
    fn stored_run(claim: &mut Claim) -> Result<Option<Execution>> {
        if claim.state.get("pending").is_some() {
            return Ok(None);
        }
        serde_json::from_value(std::mem::take(&mut claim.state))
            .map(Some)
            .map_err(|e| Error::Corrupt(e.to_string()))
    }

    /// The round being made, made now if there is none.
    fn round<'r>(&self, round: &'r mut Option<Box<Round>>) -> &'r mut Round {
        round.get_or_insert_with(|| Box::new(self.new_round()))
    }

    /// A round whose actions, if this node dies before performing them, are due when its
    /// lease runs out.
    fn new_round(&self) -> Round {
        Round {
            perform_at: Some(chrono::Utc::now().timestamp_millis() + self.lease_ms),
            ..Round::default()
        }
    }

    /// Applies queued inputs; true when any was taken (a commit is needed to remove it).
    async fn apply_items(
        &self,
        run: &mut Run,
        items: Vec<Item>,
        round: &mut Round,
        performs: &mut Vec<(u32, u32)>,
    ) -> Result<bool> {
        let scope = run.claim.scope.clone();
        let taken = round.commit.done_items.len();
        for item in items {
            if !run.seen.insert(item.id) {
                continue;
            }
            let fx = match item.work {
                Work::Perform { thread, attempt } => {
                    // Left by a node that died (or this one's last claim): perform it again,
                    // with the same idempotency key. The item stays queued until the commit
                    // that records the result removes it by key.
                    performs.push((thread, attempt));
                    continue;
                }
                Work::Start => {
                    round.commit.done_items.push(item.id);
                    if run.exec.is_some() {
                        continue;
                    }
                    self.start_run(run).await
                }
                work => {
                    round.commit.done_items.push(item.id);
                    let Some(e) = run.exec.as_mut() else { continue };
                    let Some(input) = input_of(work) else {
                        continue;
                    };
                    e.apply(&run.wf, input, &live_env(&run.rules, &run.secrets))
                }
            };
            round
                .absorb(&scope, &run.claim.execution_id, &self.store, fx, performs)
                .await?;
        }
        Ok(round.commit.done_items.len() > taken)
    }

    /// Starts a run that was queued to start (loading its context first, when its workflow
    /// asks for that).
    async fn start_run(&self, run: &mut Run) -> Vec<Effect> {
        let env = &live_env(&run.rules, &run.secrets);
        let scope = &run.claim.scope;
        // Taken: the run keeps its own copy of what it started from.
        let queued = std::mem::take(&mut run.claim.state);
        let pending = &queued["pending"];
        let mut payload = pending["payload"].clone();
        let mut fx = Vec::new();
        let mut failure = None;
        if self.loads_context(scope, &run.wf) {
            let enriched = self.enrich(scope, &run.wf, &payload).await;
            payload = enriched.payload;
            fx.push(Effect::Step(enriched.record));
            failure = enriched.failure;
        }
        let start = Start {
            id: run.claim.execution_id.clone(),
            trigger_kind: pending["trigger_kind"].as_str().unwrap_or("event"),
            event: pending["event"].as_str(),
            payload: &payload,
        };
        let (mut started, more) = match failure {
            None => Execution::start(&run.wf, start, env),
            Some(error) => Execution::start_failed(&run.wf, start, env, error),
        };
        started.trace = pending["traceparent"].as_str().map(str::to_owned);
        fx.extend(more);
        run.exec = Some(started);
        fx
    }

    /// Starts one action in a task of its own: it waits for a slot in the pool, performs the
    /// action, scrubs the result of secrets and sends it back. `None` when the thread no
    /// longer waits for that attempt.
    fn dispatch(
        self: &Arc<Self>,
        run: &Run,
        thread: u32,
        attempt: u32,
        inbox: Arc<Inbox>,
        (renewed, lease): (&Arc<Mutex<Instant>>, Duration),
    ) -> Option<AbortHandle> {
        let exec = run.exec.as_ref()?;
        let renewed = renewed.clone();
        let action_type = exec.acting_action(&run.wf, thread, attempt)?;
        let performer = run.connectors.performer(action_type).cloned();
        // Only the secrets this action may receive are revealed to it.
        let secrets = run.secrets.for_action(action_type, performer.is_some());
        let env = live_env(&run.rules, &secrets);
        let mut trace = RenderTrace::default();
        let (action_type, input, idempotency_key) =
            exec.action_input(&run.wf, thread, attempt, &env, &mut trace)?;
        let refusal = secrets.refusal(&trace);
        // Requests are checked for the secrets the input named, whatever form they take there.
        let secrets = secrets.naming(&trace.secrets_used);
        let call = crate::traces::on().then(|| {
            crate::traces::Call::begin(
                &run.claim.execution_id,
                exec.trace.as_deref(),
                &idempotency_key,
            )
        });
        let ctx = ActionContext {
            scope: run.claim.scope.clone(),
            execution_id: run.claim.execution_id.clone(),
            step_id: exec.acting_step(&run.wf, thread).unwrap_or_default(),
            idempotency_key,
            traceparent: call.as_ref().map(crate::traces::Call::traceparent),
            secrets,
            // Connector templates and scripts read the run's context.
            context: match performer.is_some() || CODE_ACTIONS.contains(&action_type.as_str()) {
                true => exec.ctx.clone(),
                false => Value::Null,
            },
        };
        let site = Arc::new(Site {
            ctx,
            workflow_id: run.wf.id.clone(),
            action_type,
            attempt,
        });
        let engine = self.clone();
        let at = site.clone();
        let task = async move {
            let Site {
                ctx,
                workflow_id,
                action_type,
                ..
            } = &*at;
            let secrets = ctx.secrets.clone();
            let _slot = match refusal {
                None => engine.pool.slot(&ctx.scope.tenant).await,
                Some(why) => {
                    inbox.send(Msg::Done {
                        thread,
                        attempt,
                        result: Box::new(Err(ActionError::refused(why))),
                    });
                    return;
                }
            };
            // A lease that ran out while this waited (for a slot, or with the process
            // stopped) may already be another node's, which performs the action itself:
            // nothing is sent. The run notices the lost lease and stops.
            let lease_ends = *renewed.lock().expect("lease clock") + lease.mul_f64(0.8);
            if Instant::now() >= lease_ends {
                tracing::warn!("the lease ran out before the action was sent; not sent");
                return;
            }
            let began = Instant::now();
            let mut result = if action_type == "emit_event" {
                // An event is kept and shown like any other: no secret goes into it.
                let mut input = input;
                secrets.scrub(&mut input);
                // Boxed: emitting ingests an event, a future several times the size of the
                // rest of this task, which every action's task would otherwise carry while
                // it waits on the outside world.
                Box::pin(engine.emit(ctx, &input)).await
            } else if let Some((connector, action)) = performer {
                engine
                    .actions
                    .perform_connector(&connector, &action, ctx, input)
                    .await
            } else {
                engine.actions.perform(action_type, ctx, input).await
            };
            // What comes back is stored with the run: no secret may be in it, even one the
            // other side echoed.
            match &mut result {
                Ok(output) => secrets.scrub(output),
                Err(e) => e.message = secrets.scrub_text(&e.message),
            }
            let outcome = match &result {
                Ok(_) => "ok",
                Err(e) if e.retryable => {
                    tracing::warn!(error = %e.message, "action failed; it may be tried again");
                    "error"
                }
                Err(e) if e.class.as_deref() == Some("refused") => "refused",
                Err(_) => "failed",
            };
            crate::telemetry::action_ended(action_type, outcome, began.elapsed());
            if let Some(call) = call {
                let error = result.as_ref().err().map(|e| e.message.as_str());
                let (scope, id) = (&ctx.scope, &ctx.execution_id);
                call.end(
                    scope,
                    workflow_id,
                    id,
                    &ctx.step_id,
                    action_type,
                    outcome,
                    error,
                );
            }
            inbox.send(Msg::Done {
                thread,
                attempt,
                result: Box::new(result),
            });
        };
        // The action's log lines carry where it runs, in a span made for each poll: one held
        // while the action waits on the outside world would keep its formatted fields (about
        // 600 bytes) for every call in flight.
        let mut task = Box::pin(task);
        let task = tokio::spawn(std::future::poll_fn(move |cx| {
            let _in = site.span().entered();
            task.as_mut().poll(cx)
        }));
        Some(task.abort_handle())
    }

    /// Keeps the leases of the executions this node works on, and brings them the inputs
    /// queued for them meanwhile (an event for a waiting branch, a timer, a cancel), until
    /// `stop`. Leases are renewed every third of their length; an execution whose lease was
    /// lost stops its actions.
    pub async fn keep_leases(self: &Arc<Self>, mut stop: tokio::sync::watch::Receiver<bool>) {
        let every = Duration::from_millis(u64::try_from(self.lease_ms / 3).unwrap_or(0).max(50));
        let mut renewed_at = Instant::now();
        let mut tick = tokio::time::interval(HELD_POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = stop.changed() => {}
                _ = tick.tick() => {}
                _ = self.held_wake.notified() => {}
            }
            if *stop.borrow() {
                return;
            }
            if self.live.len() == 0 {
                continue;
            }
            match self.store.held_items(&self.node, 1000).await {
                Ok(items) => {
                    let mut by_run: HashMap<String, Vec<Item>> = HashMap::new();
                    for (id, item) in items {
                        by_run.entry(id).or_default().push(item);
                    }
                    for (id, items) in by_run {
                        self.live.send(&id, Msg::Items(items));
                    }
                }
                Err(e) => tracing::error!("reading inputs of running executions: {e}"),
            }
            if renewed_at.elapsed() >= every {
                let at = Instant::now();
                renewed_at = at;
                let (held, clocks) = self.live.held();
                match self
                    .store
                    .renew_leases(&self.node, self.lease_ms, &held)
                    .await
                {
                    Ok(renewed) => {
                        for ((h, clock), ok) in held.iter().zip(clocks).zip(renewed) {
                            if ok {
                                *clock.lock().expect("lease clock") = at;
                            } else {
                                self.live.send(&h.execution_id, Msg::Lost);
                            }
                        }
                    }
                    Err(e) => tracing::error!("renewing leases: {e}"),
                }
            }
        }
    }

    /// Runs claimed executions on tasks of their own, so the worker can claim again.
    pub(crate) fn spawn_drives(self: &Arc<Self>, claims: Vec<Claim>, claimed_at: Instant) {
        for claim in claims {
            self.spawn_drive(claim, claimed_at, None);
        }
    }

    pub(crate) fn spawn_drive(
        self: &Arc<Self>,
        claim: Claim,
        claimed_at: Instant,
        started: Option<(Execution, Vec<(u32, u32)>)>,
    ) {
        let id = claim.execution_id.clone();
        // Boxed: a future awaited inside the task's own future would be held there twice (as
        // the captured value and as the one being awaited), and a parked run keeps its task
        // for as long as its actions are in flight.
        let drive = Box::pin(self.drive(claim, claimed_at, started));
        tokio::spawn(async move {
            if let Err(e) = drive.await {
                // The lease runs out and another pass retries; a lost lease means another
                // node has it. Either way nothing half-done was written.
                tracing::error!(execution_id = %id, "running the execution: {e}");
            }
        });
    }
}
