//! Events in: an event is matched against the index, written with the executions it starts
//! (idempotently, by its key) by the batcher's group commit, and the runs it starts take their
//! first steps in memory. Also runs started by hand, by a webhook, a debounce window or an
//! `emit_event` step.

use std::sync::Arc;

use chrono::Utc;
use serde_json::{Value, json};
use weir_core::dryrun::trigger_hears as hears;
use weir_core::executor::{ActionError, Effect, Execution, Start};
use weir_core::model::TriggerKind;
use weir_store::{Claim, Ingested, Json, NewEvent, NewExecution, Scope, Store};

use crate::round::Round;
use crate::{ActionContext, Engine, Error, Indexed, Result, Watch, live_env, secrets};

/// A run an event started that this node goes on with itself once it is written.
pub(crate) struct HeldRun {
    pub(crate) claim: Claim,
    pub(crate) exec: Execution,
    pub(crate) performs: Vec<(u32, u32)>,
}

/// What an event started.
#[derive(Debug, Clone, PartialEq)]
pub struct Ingest {
    pub event_id: String,
    pub duplicate: bool,
    pub executions: Vec<Started>,
    /// Whether the event left work for a worker (see [`Ingested::New`]).
    pub queued: bool,
}

/// An execution an event started, as far as it got before the event was answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Started {
    pub id: String,
    pub workflow_id: String,
    pub version: i64,
    pub status: String,
    pub decision: Option<String>,
    pub reason: Option<String>,
}

/// An event waiting to be written by the batcher, with where to send the answer.
pub(crate) struct IngestJob {
    pub(crate) scope: Scope,
    pub(crate) event: NewEvent,
    pub(crate) executions: Vec<NewExecution>,
    pub(crate) reply: tokio::sync::oneshot::Sender<weir_store::Result<Ingested>>,
}

/// Group commit: writes every event that arrived while the previous batch was being written,
/// in one transaction. Falls back to one transaction per event if a batch fails (two events
/// with the same idempotency key from two nodes, say).
pub(crate) async fn batch_events(
    store: Arc<dyn Store>,
    mut jobs: tokio::sync::mpsc::Receiver<IngestJob>,
) {
    while let Some(first) = jobs.recv().await {
        let mut batch = vec![first];
        while batch.len() < 256 {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let mut replies = Vec::with_capacity(batch.len());
        let input: Arc<[(Scope, NewEvent, Vec<NewExecution>)]> = batch
            .into_iter()
            .map(|j| {
                replies.push(j.reply);
                (j.scope, j.event, j.executions)
            })
            .collect();
        match store.ingest_many(input.clone()).await {
            Ok(answers) if answers.len() == replies.len() => {
                for (reply, answer) in replies.into_iter().zip(answers) {
                    let _ = reply.send(Ok(answer));
                }
            }
            _ => {
                for (reply, (scope, event, executions)) in replies.into_iter().zip(input.iter()) {
                    let answer = store.ingest(scope, event, executions).await;
                    let _ = reply.send(answer);
                }
            }
        }
    }
}

/// What the executor's state column holds before the run started: how to start it.
pub(crate) fn pending_state(trigger_kind: &str, event: Option<&str>, payload: &Value) -> Json {
    pending_traced(trigger_kind, event, payload, None)
}

/// [`pending_state`] of a run that joins a caller's trace.
pub(crate) fn pending_traced(
    trigger_kind: &str,
    event: Option<&str>,
    payload: &Value,
    traceparent: Option<&str>,
) -> Json {
    let mut pending = json!({ "trigger_kind": trigger_kind, "event": event, "payload": payload });
    if let Some(t) = traceparent {
        pending["traceparent"] = json!(t);
    }
    Json::of(&json!({ "pending": pending }))
}

impl Engine {
    /// Records an event and starts an execution of every enabled workflow whose trigger
    /// matches. Each execution's first steps run here, in memory, so decisions that need
    /// nothing from outside are made before anything is written; the event, the executions with
    /// those steps, and the event's delivery to executions waiting for it are then written in
    /// one transaction, shared with other events arriving at the same time (group commit).
    pub async fn ingest(
        &self,
        scope: &Scope,
        event_type: &str,
        payload: &Value,
        source: Option<&str>,
        idempotency_key: Option<&str>,
    ) -> Result<Ingest> {
        self.ingest_inner(scope, event_type, payload, source, idempotency_key, None)
            .await
    }

    /// [`Engine::ingest`], watching the progress of the executions it starts.
    pub async fn ingest_watched(
        &self,
        watch: &mut Watch,
        scope: &Scope,
        event_type: &str,
        payload: &Value,
        source: Option<&str>,
        idempotency_key: Option<&str>,
    ) -> Result<Ingest> {
        self.ingest_inner(
            scope,
            event_type,
            payload,
            source,
            idempotency_key,
            Some(watch),
        )
        .await
    }

    pub(crate) async fn ingest_inner(
        &self,
        scope: &Scope,
        event_type: &str,
        payload: &Value,
        source: Option<&str>,
        idempotency_key: Option<&str>,
        mut watch: Option<&mut Watch>,
    ) -> Result<Ingest> {
        let root = weir_core::context::payload_root(payload);
        let traceparent = watch.as_deref().and_then(|w| w.traceparent.clone());
        // The step records of runs decided here, for their spans once written.
        let mut traced: Vec<(String, String, Vec<weir_store::StepRow>, Option<String>)> =
            Vec::new();
        let secrets = self.secret_values(scope).await?;
        let matching: Vec<Arc<Indexed>> = {
            let index = self.index.read().expect("index lock");
            index.get(scope).map(|entries| {
                entries
                    .iter()
                    .filter(|e| e.enabled)
                    .filter(|e| {
                        let env = live_env(&e.rules, &secrets);
                        e.workflow.triggers.iter().any(|t| {
                            hears(&t.kind, event_type, source)
                                && t.conditions.as_ref().is_none_or(|c| c.eval(&root, &env))
                        })
                    })
                    .cloned()
                    .collect()
            })
        }
        .unwrap_or_default();
        let mut started = Vec::with_capacity(matching.len());
        let mut executions = Vec::with_capacity(matching.len());
        // The errors of runs that failed here, in memory, by id: logged once they are written.
        let mut errors: Vec<(String, String)> = Vec::new();
        // Runs written held by this node, to go on with once written.
        let mut held: Vec<HeldRun> = Vec::new();
        let written_at = std::time::Instant::now();
        // Debounced triggers start nothing now: the event goes into its key's window.
        let mut debounced: Vec<(String, String, i64)> = Vec::new();
        for m in matching {
            let env = live_env(&m.rules, &secrets);
            let debounce = m.workflow.triggers.iter().find_map(|t| match &t.kind {
                TriggerKind::Event {
                    debounce: Some(d), ..
                } if hears(&t.kind, event_type, source)
                    && t.conditions.as_ref().is_none_or(|c| c.eval(&root, &env)) =>
                {
                    Some(d)
                }
                _ => None,
            });
            if let Some(d) = debounce {
                let key = match &d.key {
                    Some(k) => match k.render(
                        &root,
                        &env,
                        weir_core::template::Secrets::Redact,
                        &mut weir_core::template::RenderTrace::default(),
                    ) {
                        Value::String(s) => s,
                        Value::Null => String::new(),
                        other => other.to_string(),
                    },
                    None => String::new(),
                };
                let window = i64::try_from(d.window.as_millis()).unwrap_or(i64::MAX / 2);
                debounced.push((m.workflow_id.clone(), key, window));
                continue;
            }
            let id = uuid::Uuid::now_v7().to_string();
            // A run that loads context starts on a worker, which loads it first.
            if m.loads_context {
                if let Some(w) = watch.as_deref_mut() {
                    w.add(&id);
                }
                started.push(Started {
                    id: id.clone(),
                    workflow_id: m.workflow_id.clone(),
                    version: m.version,
                    status: "pending".into(),
                    decision: None,
                    reason: None,
                });
                executions.push(NewExecution {
                    id,
                    workflow_id: m.workflow_id.clone(),
                    workflow_version: m.version,
                    parent_id: None,
                    state: pending_traced(
                        "event",
                        Some(event_type),
                        payload,
                        traceparent.as_deref(),
                    ),
                    status: "pending".into(),
                    initial: None,
                    held_by: None,
                });
                continue;
            }
            let start = Start {
                id: id.clone(),
                trigger_kind: "event",
                event: Some(event_type),
                payload,
            };
            let env = live_env(&m.rules, &secrets);
            let (mut exec, fx) = Execution::start(&m.workflow, start, &env);
            exec.trace = traceparent.clone();
            // A run that goes on to actions is written held by this node, which performs them
            // as soon as it is written: no worker has to claim it first. Unless the pool is
            // full: then it waits for a worker like any other work. Its actions are due to
            // another node only once the lease has run out.
            let acts = fx.iter().any(|e| matches!(e, Effect::Perform { .. }));
            let held_by = (acts && self.pool.room() > held.len()).then(|| {
                let until = Utc::now().timestamp_millis() + self.lease_ms;
                (self.node.clone(), until)
            });
            let mut round = Round {
                perform_at: held_by.as_ref().map(|(_, until)| *until),
                ..Round::default()
            };
            let mut performs = Vec::new();
            round
                .absorb(scope, &id, &self.store, fx, &mut performs)
                .await?;
            round.finish(&exec, true);
            // A run finished in memory makes no more progress to watch for.
            if !round.commit.finished
                && let Some(w) = watch.as_deref_mut()
            {
                w.add(&id);
            }
            if let Some(error) = &round.commit.error {
                errors.push((id.clone(), error.clone()));
            }
            if crate::traces::on() {
                let ended = round.commit.finished.then(|| round.commit.status.clone());
                traced.push((
                    id.clone(),
                    m.workflow_id.clone(),
                    round.commit.steps.clone(),
                    ended,
                ));
            }
            started.push(Started {
                id: id.clone(),
                workflow_id: m.workflow_id.clone(),
                version: m.version,
                status: round.commit.status.clone(),
                decision: round.commit.decision.clone(),
                reason: round.commit.reason.clone(),
            });
            executions.push(NewExecution {
                id: id.clone(),
                workflow_id: m.workflow_id.clone(),
                workflow_version: m.version,
                parent_id: None,
                state: Json::default(),
                status: round.commit.status.clone(),
                initial: Some(Box::new(round.commit)),
                held_by: held_by.clone(),
            });
            if held_by.is_some() {
                held.push(HeldRun {
                    claim: Claim {
                        execution_id: id,
                        parent_id: None,
                        scope: scope.clone(),
                        workflow_id: m.workflow_id.clone(),
                        workflow_version: m.version,
                        epoch: 0,
                        state: Value::Null,
                        items: Vec::new(),
                    },
                    exec,
                    performs,
                });
            }
        }
        let event = NewEvent {
            id: uuid::Uuid::now_v7().to_string(),
            event_type: event_type.to_owned(),
            source: source.map(str::to_owned),
            idempotency_key: idempotency_key.map(str::to_owned),
            payload: Json::of(payload),
        };
        let answer = match &self.batcher {
            Some(batcher) => {
                let (reply, answer) = tokio::sync::oneshot::channel();
                let job = IngestJob {
                    scope: scope.clone(),
                    event,
                    executions,
                    reply,
                };
                if batcher.send(job).await.is_err() {
                    return Err(Error::Corrupt("the event writer has stopped".into()));
                }
                answer
                    .await
                    .map_err(|_| Error::Corrupt("the event writer has stopped".into()))??
            }
            None => self
                .store
                .ingest_many(Arc::from(vec![(scope.clone(), event, executions)]))
                .await?
                .pop()
                .ok_or_else(|| Error::Corrupt("the store answered nothing".into()))?,
        };
        let result = match answer {
            Ingested::New { event_id, queued } => {
                crate::telemetry::event_received();
                crate::telemetry::executions_started(started.len());
                for (id, workflow_id, steps, ended) in &traced {
                    let t = traceparent.as_deref();
                    crate::traces::steps_written(scope, workflow_id, id, t, steps);
                    if let Some(status) = ended {
                        let error = errors
                            .iter()
                            .find(|(e, _)| e == id)
                            .map(|(_, e)| e.as_str());
                        crate::traces::run_ended(scope, workflow_id, id, t, status, error);
                    }
                }
                for s in &started {
                    if matches!(s.status.as_str(), "completed" | "failed" | "cancelled") {
                        let error = errors.iter().find(|(id, _)| *id == s.id).map(|(_, e)| e);
                        crate::telemetry::execution_finished(
                            scope,
                            &s.workflow_id,
                            &s.id,
                            &s.status,
                            error.map(String::as_str),
                        );
                    }
                }
                if let Some(me) = self.me.upgrade() {
                    for h in held {
                        me.spawn_drive(h.claim, written_at, Some((h.exec, h.performs)));
                    }
                }
                for (workflow_id, key, window) in &debounced {
                    self.store
                        .debounce(scope, workflow_id, key, event_type, payload, *window)
                        .await?;
                }
                // Told only while someone listens: nothing is built for the stream otherwise.
                if self.stream.wanted() {
                    for s in &started {
                        self.stream.publish(
                            scope,
                            "execution.started",
                            &s.id,
                            Some(&s.workflow_id),
                            serde_json::json!({ "status": s.status, "decision": s.decision, "event_id": event_id }),
                        );
                        if matches!(s.status.as_str(), "completed" | "failed" | "cancelled") {
                            self.stream.publish(
                                scope,
                                "execution.finished",
                                &s.id,
                                Some(&s.workflow_id),
                                serde_json::json!({ "status": s.status, "decision": s.decision, "reason": s.reason }),
                            );
                        }
                    }
                }
                Ingest {
                    queued,
                    event_id,
                    duplicate: false,
                    executions: started,
                }
            }
            Ingested::KeyReused { event_id } => return Err(Error::KeyReused(event_id)),
            Ingested::Duplicate {
                event_id,
                executions,
            } => {
                let mut out = Vec::new();
                for id in executions {
                    if let Some(row) = self.store.execution(scope, &id).await? {
                        out.push(Started {
                            id: row.id,
                            workflow_id: row.workflow_id,
                            version: row.workflow_version,
                            status: row.status,
                            decision: row.decision,
                            reason: row.reason,
                        });
                    }
                }
                Ingest {
                    queued: false,
                    event_id,
                    duplicate: true,
                    executions: out,
                }
            }
        };
        // Waiting executions that got the event, and new ones with work queued, need a worker;
        // a decision made and finished in memory does not.
        if result.queued {
            self.wake.notify_one();
        }
        Ok(result)
    }

    /// The enabled workflow whose webhook URL token this is, with its webhook trigger. The
    /// comparison takes the same time whatever the token.
    pub fn webhook(
        &self,
        scope: &Scope,
        token: &str,
    ) -> Option<(String, weir_core::model::Webhook)> {
        let vault = self.vault.get()?;
        let index = self.index.read().expect("index lock");
        let mut found = None;
        for e in index.get(scope)?.iter().filter(|e| e.enabled) {
            let hook = e.workflow.triggers.iter().find_map(|t| match &t.kind {
                TriggerKind::Webhook(w) => Some(w),
                _ => None,
            });
            if let Some(hook) = hook {
                let expected = vault.webhook_token(scope, &e.workflow_id);
                if secrets::constant_time_eq(expected.as_bytes(), token.as_bytes()) {
                    found = Some((e.workflow_id.clone(), hook.clone()));
                }
            }
        }
        found
    }

    /// Starts one execution for every debounce window that has closed, with the window's
    /// latest payload. Several nodes may look at once; each window starts one execution.
    pub async fn fire_debounces(&self) -> Result<usize> {
        let mut fired = 0;
        for due in self.store.due_debounces(64).await? {
            let Some(current) = self.store.workflow(&due.scope, &due.workflow_id).await? else {
                continue;
            };
            let execution = NewExecution {
                id: uuid::Uuid::now_v7().to_string(),
                workflow_id: due.workflow_id.clone(),
                workflow_version: current.version,
                parent_id: None,
                state: pending_state("event", Some(&due.event_type), &due.payload),
                status: "pending".into(),
                initial: None,
                held_by: None,
            };
            if self.store.fire_debounce(&due, &execution).await? {
                fired += 1;
                crate::telemetry::executions_started(1);
            }
        }
        if fired > 0 {
            self.wake.notify_one();
        }
        Ok(fired)
    }

    /// Starts an execution of a workflow by hand (manual and api triggers).
    pub async fn start(&self, scope: &Scope, workflow_id: &str, payload: &Value) -> Result<String> {
        self.start_as(scope, workflow_id, "manual", payload).await
    }

    /// Starts an execution of a workflow's current version, as its trigger of this kind would.
    pub async fn start_as(
        &self,
        scope: &Scope,
        workflow_id: &str,
        trigger_kind: &str,
        payload: &Value,
    ) -> Result<String> {
        self.start_inner(scope, workflow_id, trigger_kind, payload, None)
            .await
    }

    /// [`Engine::start_as`], watching the execution's progress.
    pub async fn start_watched(
        &self,
        watch: &mut Watch,
        scope: &Scope,
        workflow_id: &str,
        trigger_kind: &str,
        payload: &Value,
    ) -> Result<String> {
        self.start_inner(scope, workflow_id, trigger_kind, payload, Some(watch))
            .await
    }

    pub(crate) async fn start_inner(
        &self,
        scope: &Scope,
        workflow_id: &str,
        trigger_kind: &str,
        payload: &Value,
        watch: Option<&mut Watch>,
    ) -> Result<String> {
        let current = self
            .store
            .workflow(scope, workflow_id)
            .await?
            .ok_or(weir_store::Error::NotFound)?;
        let id = uuid::Uuid::now_v7().to_string();
        let mut traceparent = None;
        if let Some(w) = watch {
            w.add(&id);
            traceparent = w.traceparent.clone();
        }
        let execution = NewExecution {
            id: id.clone(),
            workflow_id: workflow_id.to_owned(),
            workflow_version: current.version,
            parent_id: None,
            state: pending_traced(trigger_kind, None, payload, traceparent.as_deref()),
            status: "pending".into(),
            initial: None,
            held_by: None,
        };
        self.store.start_executions(scope, &[execution]).await?;
        crate::telemetry::executions_started(1);
        self.wake.notify_one();
        Ok(id)
    }

    pub(crate) async fn emit(
        &self,
        ctx: &ActionContext,
        input: &Value,
    ) -> Result<Value, ActionError> {
        let Some(event) = input["event"].as_str() else {
            return Err(ActionError::permanent("emit_event needs 'event'"));
        };
        let payload = if input["payload"].is_object() {
            input["payload"].clone()
        } else {
            json!({})
        };
        match self
            .ingest(
                &ctx.scope,
                event,
                &payload,
                Some("weir"),
                Some(ctx.operation_key()),
            )
            .await
        {
            Ok(i) => Ok(json!({ "event_id": i.event_id, "executions": i.executions.len() })),
            // An attempt before this one emitted it: its input is rendered again for every
            // attempt, so `{{now}}` or `{{uuid}}` in it differ, but the step's key is the same.
            Err(Error::KeyReused(event_id)) => {
                Ok(json!({ "event_id": event_id, "duplicate": true }))
            }
            Err(e) => Err(ActionError::retryable(e.to_string())),
        }
    }
}
