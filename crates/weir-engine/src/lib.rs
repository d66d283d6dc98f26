//! Weir's engine: the shell around the executor. It keeps a trigger index per tenant ×
//! environment, turns events into executions (idempotently), and runs workers that claim
//! executions from the store under a lease, apply their queued inputs to the executor, perform
//! the actions it asks for, and commit each step in one transaction before going on.
//!
//! Crash safety comes from the order of things: an action is performed only after the step
//! that asks for it is committed (with a queued `perform` item), and its result is committed
//! with the step after it. A process killed in between leaves the `perform` item queued; the
//! next owner of the lease performs the action again with the same idempotency key.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use weir_core::catalog::BuiltinCatalog;
use weir_core::diag::Diagnostic;
use weir_core::dryrun::trigger_hears as hears;
use weir_core::executor::{ActionError, Effect, Execution, Start};
use weir_core::model::TriggerKind;
use weir_core::{Env, Rules, Workflow, validate_value};
use weir_store::{
    Claim, Ingested, Json, Named, NewEvent, NewExecution, Scope, Store, WorkflowVersion,
};

mod actions;
pub mod connectors;
pub mod context;
mod live;
pub mod pool;
mod round;
pub mod schedules;
pub mod secrets;

pub use actions::{Action, ActionContext, Actions, ConnectorRunner};
pub use connectors::{ConnectorSet, ScopedCatalog};
pub use pool::{ActionPool, DEFAULT_MAX_IN_FLIGHT};
use round::Round;
pub use secrets::{SecretValues, Vault};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the workflow is not valid")]
    Invalid(Vec<Diagnostic>),
    #[error(transparent)]
    Store(#[from] weir_store::Error),
    #[error("a stored execution does not read back: {0}")]
    Corrupt(String),
    /// An idempotency key sent with another event than the one it was first sent with.
    #[error(
        "the idempotency key was used for another event (event {0}, of another type or payload); send a new key for a new event"
    )]
    KeyReused(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// How far an execution has come, announced after every commit (for synchronous answers).
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    pub execution_id: String,
    pub status: String,
    pub decision: Option<String>,
    pub reason: Option<String>,
}

type Watchers = Arc<Mutex<HashMap<String, tokio::sync::mpsc::UnboundedSender<Progress>>>>;

/// The progress of the executions a caller waits for (a synchronous answer): each is watched
/// from before it is written, so no commit is missed, and only its watcher is woken.
pub struct Watch {
    /// Made on the first execution watched: most answers are decided in memory and watch none.
    channel: Option<(
        tokio::sync::mpsc::UnboundedSender<Progress>,
        tokio::sync::mpsc::UnboundedReceiver<Progress>,
    )>,
    ids: Vec<String>,
    watchers: Watchers,
}

impl Watch {
    fn add(&mut self, id: &str) {
        let (tx, _) = self
            .channel
            .get_or_insert_with(tokio::sync::mpsc::unbounded_channel);
        self.watchers
            .lock()
            .expect("watchers")
            .insert(id.to_owned(), tx.clone());
        self.ids.push(id.to_owned());
    }

    /// The next progress of a watched execution made on this node (never, when none is
    /// watched).
    pub async fn recv(&mut self) -> Option<Progress> {
        match &mut self.channel {
            Some((_, rx)) => rx.recv().await,
            None => std::future::pending().await,
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        if self.ids.is_empty() {
            return;
        }
        let mut watchers = self.watchers.lock().expect("watchers");
        for id in &self.ids {
            watchers.remove(id);
        }
    }
}

/// A workflow version in the trigger index, parsed once.
struct Indexed {
    workflow_id: String,
    version: i64,
    enabled: bool,
    /// When the workflow was last saved, enabled or disabled (where a schedule starts from).
    updated_ms: i64,
    /// Whether a run loads context first (a `context.load` name with a data source), so it
    /// starts on a worker.
    loads_context: bool,
    workflow: Arc<Workflow>,
    /// The scope's rules with the workflow's own.
    rules: Arc<Rules>,
}

/// A run an event started that this node goes on with itself once it is written.
struct HeldRun {
    claim: Claim,
    exec: Execution,
    performs: Vec<(u32, u32)>,
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
struct IngestJob {
    scope: Scope,
    event: NewEvent,
    executions: Vec<NewExecution>,
    reply: tokio::sync::oneshot::Sender<weir_store::Result<Ingested>>,
}

/// Group commit: writes every event that arrived while the previous batch was being written,
/// in one transaction. Falls back to one transaction per event if a batch fails (two events
/// with the same idempotency key from two nodes, say).
async fn batch_events(store: Arc<dyn Store>, mut jobs: tokio::sync::mpsc::Receiver<IngestJob>) {
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

pub struct Engine {
    store: Arc<dyn Store>,
    catalog: BuiltinCatalog,
    node: String,
    lease_ms: i64,
    index: RwLock<HashMap<Scope, Vec<Arc<Indexed>>>>,
    /// Each scope's stored rules (seed 000 §3.3), read again with the trigger index.
    rules: RwLock<HashMap<Scope, Arc<Rules>>>,
    versions: Mutex<HashMap<(Scope, String, i64), Arc<Workflow>>>,
    actions: Actions,
    /// Who waits for which execution's progress.
    watchers: Watchers,
    /// The engine itself, for the tasks it starts.
    me: std::sync::Weak<Engine>,
    wake: tokio::sync::Notify,
    /// When the trigger index was last rebuilt; shared so one worker does it for all.
    indexed_at: std::sync::Mutex<std::time::Instant>,
    /// The group-commit writer of events, when a runtime is there to run it and the store
    /// does not group writes itself.
    batcher: Option<tokio::sync::mpsc::Sender<IngestJob>>,
    /// Opens sealed secrets; without it, no secret resolves.
    vault: std::sync::OnceLock<Vault>,
    /// Whether any indexed workflow debounces (windows are not looked for until one does).
    debouncing: std::sync::atomic::AtomicBool,
    /// Each scope's connectors, read again with the trigger index.
    connectors: RwLock<HashMap<Scope, Arc<ConnectorSet>>>,
    /// Each scope's opened secrets, with when they were read.
    secret_cache: std::sync::Mutex<HashMap<Scope, (std::time::Instant, Arc<SecretValues>)>>,
    /// Schedule triggers: where each one is, and when it fires next.
    schedules: schedules::Schedules,
    /// Each scope's data sources (context enrichment), read again with the trigger index.
    data_sources: RwLock<HashMap<Scope, Arc<context::SourceSet>>>,
    /// The actions in flight on this node.
    pool: ActionPool,
    /// The executions this node works on.
    live: live::LiveRuns,
    /// Wakes [`Engine::keep_leases`] to look for inputs of held executions now.
    held_wake: tokio::sync::Notify,
}

/// How often closed debounce windows and due schedule fires are looked for: such a run starts
/// at most this late (plus its commit).
const TRIGGER_CHECK: Duration = Duration::from_millis(100);

/// How stale another node's secret changes may be on this node.
const SECRET_CACHE_TTL: Duration = Duration::from_secs(5);

/// What the executor's state column holds before the run started: how to start it.
fn pending_state(trigger_kind: &str, event: Option<&str>, payload: &Value) -> Json {
    Json::of(
        &json!({ "pending": { "trigger_kind": trigger_kind, "event": event, "payload": payload } }),
    )
}

impl Engine {
    pub fn new(store: Arc<dyn Store>) -> Arc<Engine> {
        Self::with_lease(store, 30_000)
    }

    /// An engine whose claims last `lease_ms` (how long another node waits before taking over
    /// the work of one that died).
    pub fn with_lease(store: Arc<dyn Store>, lease_ms: i64) -> Arc<Engine> {
        Self::with(store, lease_ms, Actions::builtin())
    }

    /// An engine with its own set of actions.
    pub fn with(store: Arc<dyn Store>, lease_ms: i64, actions: Actions) -> Arc<Engine> {
        Self::with_pool(store, lease_ms, actions, DEFAULT_MAX_IN_FLIGHT)
    }

    /// An engine with its own set of actions, of which at most `max_in_flight` run at once.
    pub fn with_pool(
        store: Arc<dyn Store>,
        lease_ms: i64,
        actions: Actions,
        max_in_flight: usize,
    ) -> Arc<Engine> {
        // A store that groups concurrent writes itself needs no batcher in front.
        let runtime = tokio::runtime::Handle::try_current()
            .ok()
            .filter(|_| !store.groups_writes());
        let batcher = runtime.map(|runtime| {
            let (tx, rx) = tokio::sync::mpsc::channel(4096);
            runtime.spawn(batch_events(store.clone(), rx));
            tx
        });
        Arc::new_cyclic(|me| Engine {
            me: me.clone(),
            store,
            catalog: BuiltinCatalog::new(),
            node: format!("node-{}", uuid::Uuid::now_v7()),
            lease_ms,
            index: RwLock::new(HashMap::new()),
            rules: RwLock::new(HashMap::new()),
            versions: Mutex::new(HashMap::new()),
            actions,
            watchers: Watchers::default(),
            wake: tokio::sync::Notify::new(),
            indexed_at: std::sync::Mutex::new(std::time::Instant::now()),
            batcher,
            vault: std::sync::OnceLock::new(),
            connectors: RwLock::new(HashMap::new()),
            debouncing: std::sync::atomic::AtomicBool::new(false),
            secret_cache: std::sync::Mutex::new(HashMap::new()),
            schedules: schedules::Schedules::default(),
            data_sources: RwLock::new(HashMap::new()),
            pool: ActionPool::new(max_in_flight),
            live: live::LiveRuns::default(),
            held_wake: tokio::sync::Notify::new(),
        })
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Gives the engine the vault that opens secrets (once; later calls are ignored).
    pub fn set_vault(&self, vault: Vault) {
        let _ = self.vault.set(vault);
    }

    pub fn vault(&self) -> Option<&Vault> {
        self.vault.get()
    }

    /// A scope's secrets, opened; read again after [`SECRET_CACHE_TTL`] or a local change.
    pub async fn secret_values(&self, scope: &Scope) -> Result<Arc<SecretValues>> {
        let Some(vault) = self.vault.get() else {
            return Ok(Arc::default());
        };
        if let Some((at, values)) = self.secret_cache.lock().expect("secret cache").get(scope)
            && at.elapsed() < SECRET_CACHE_TTL
        {
            return Ok(values.clone());
        }
        let mut values = HashMap::new();
        for row in self.store.secrets(scope).await? {
            match vault.open(scope, &row.name, &row.sealed) {
                Ok(v) => {
                    values.insert(row.name, (v, row.policy));
                }
                // The name only: never a value.
                Err(e) => eprintln!("weir: {}/{}: {e}", scope.tenant, scope.environment),
            }
        }
        let values = Arc::new(SecretValues::with_policies(values));
        let mut cache = self.secret_cache.lock().expect("secret cache");
        if cache.len() > 10_000 {
            cache.clear();
        }
        cache.insert(scope.clone(), (std::time::Instant::now(), values.clone()));
        Ok(values)
    }

    /// Drops a scope's cached secrets after a change.
    pub fn forget_secrets(&self, scope: &Scope) {
        self.secret_cache
            .lock()
            .expect("secret cache")
            .remove(scope);
    }

    pub fn node(&self) -> &str {
        &self.node
    }

    /// A watch to pass to [`Engine::ingest_watched`] or [`Engine::start_watched`].
    pub fn watch(&self) -> Watch {
        Watch {
            channel: None,
            ids: Vec::new(),
            watchers: self.watchers.clone(),
        }
    }

    /// Tells whoever watches an execution how far it has come.
    pub(crate) fn announce(&self, progress: Progress) {
        let watcher = self
            .watchers
            .lock()
            .expect("watchers")
            .get(&progress.execution_id)
            .cloned();
        if let Some(w) = watcher {
            let _ = w.send(progress);
        }
    }

    /// Reads a stored version again. It was checked when stored; a rule it names may have been
    /// deleted since (and then evaluates to false), so an unknown rule does not stop it.
    fn parse(&self, scope: &Scope, definition: &Value) -> Result<Workflow> {
        let extra = self.scope_connectors(scope);
        let catalog = ScopedCatalog {
            base: &self.catalog,
            extra: &extra,
        };
        let validated = validate_value(definition, &catalog, &Rules::default());
        let blocking = validated
            .errors()
            .any(|d| d.code != weir_core::Code::UnknownRule);
        match validated.workflow {
            Some(wf) if !blocking => Ok(wf),
            _ => Err(Error::Invalid(validated.diagnostics)),
        }
    }

    /// The scope's connectors.
    pub fn scope_connectors(&self, scope: &Scope) -> Arc<ConnectorSet> {
        self.connectors
            .read()
            .expect("connectors lock")
            .get(scope)
            .cloned()
            .unwrap_or_default()
    }

    /// The scope's stored rules.
    pub fn scope_rules(&self, scope: &Scope) -> Arc<Rules> {
        self.rules
            .read()
            .expect("rules lock")
            .get(scope)
            .cloned()
            .unwrap_or_default()
    }

    /// The rules a workflow's conditions see: the scope's, and its own over them.
    fn rules_for(&self, scope: &Scope, wf: &Workflow) -> Arc<Rules> {
        let base = self.scope_rules(scope);
        if wf.rules.is_empty() {
            return base;
        }
        let mut merged = (*base).clone();
        for r in &wf.rules {
            merged.insert(r.clone());
        }
        Arc::new(merged)
    }

    /// WEIR-W104 for each approver or recipient role that names neither a team of the scope
    /// nor a permission role: the approval or notification would reach nobody.
    async fn unknown_teams(&self, scope: &Scope, wf: &Workflow) -> Result<Vec<Diagnostic>> {
        let named = weir_core::roles::role_references(wf);
        if named.is_empty() {
            return Ok(Vec::new());
        }
        let teams: std::collections::HashSet<String> = self
            .store
            .teams(scope)
            .await?
            .into_iter()
            .map(|t| t.name)
            .collect();
        Ok(named
            .iter()
            .filter(|r| !weir_store::ROLES.contains(&r.name.as_str()) && !teams.contains(&r.name))
            .map(|r| r.unknown_team())
            .collect())
    }

    /// Validates and stores a new version of a workflow, and puts it in the trigger index.
    /// Its warnings include roles that name no team of the scope (WEIR-W104).
    pub async fn put_workflow(
        &self,
        scope: &Scope,
        definition: &Value,
    ) -> Result<(WorkflowVersion, Vec<Diagnostic>)> {
        let extra = self.scope_connectors(scope);
        let catalog = ScopedCatalog {
            base: &self.catalog,
            extra: &extra,
        };
        let validated = validate_value(definition, &catalog, &self.scope_rules(scope));
        let mut warnings: Vec<Diagnostic> = validated.warnings().cloned().collect();
        let diagnostics = validated.diagnostics.clone();
        let wf = validated
            .into_valid()
            .map_err(|_| Error::Invalid(diagnostics))?;
        warnings.extend(self.unknown_teams(scope, &wf).await?);
        let stored = self
            .store
            .put_workflow(scope, &wf.id, definition, wf.enabled)
            .await?;
        self.versions
            .lock()
            .expect("cache lock")
            .insert((scope.clone(), wf.id.clone(), stored.version), Arc::new(wf));
        self.refresh(scope).await?;
        Ok((stored, warnings))
    }

    /// Rebuilds the rules and the trigger index of one scope from the store.
    pub async fn refresh(&self, scope: &Scope) -> Result<()> {
        let mut rules = Rules::default();
        for r in self.store.rules(scope).await? {
            match weir_core::read_rule(&r.definition) {
                Ok(mut rule) => {
                    rule.enabled = rule.enabled && r.enabled;
                    rules.insert(rule);
                }
                Err(_) => eprintln!("weir: stored rule '{}' does not read back", r.rule_id),
            }
        }
        self.rules
            .write()
            .expect("rules lock")
            .insert(scope.clone(), Arc::new(rules));
        let rows = self.store.named(Named::Connectors, scope).await?;
        if !self.scope_connectors(scope).same_source(&rows) {
            self.connectors
                .write()
                .expect("connectors lock")
                .insert(scope.clone(), Arc::new(ConnectorSet::build(rows)));
        }
        let rows = self.store.named(Named::DataSources, scope).await?;
        if !self.scope_sources(scope).same_source(&rows) {
            self.data_sources
                .write()
                .expect("data sources lock")
                .insert(scope.clone(), Arc::new(context::SourceSet::build(rows)));
        }
        let mut entries = Vec::new();
        for v in self.store.workflows(scope).await? {
            // A version that no longer reads (a connector action it uses is gone or changed)
            // starts nothing; the rest of the scope goes on.
            let workflow = match self.workflow(scope, &v.workflow_id, v.version).await {
                Ok(w) => w,
                Err(Error::Invalid(d)) => {
                    let first = d.first().map(|d| d.message.clone()).unwrap_or_default();
                    eprintln!(
                        "weir: {}/{}: workflow {} version {} does not read and is not triggered: {first}",
                        scope.tenant, scope.environment, v.workflow_id, v.version
                    );
                    continue;
                }
                Err(e) => return Err(e),
            };
            entries.push(Arc::new(Indexed {
                workflow_id: v.workflow_id,
                version: v.version,
                enabled: v.enabled,
                updated_ms: v.updated_ms,
                loads_context: self.loads_context(scope, &workflow),
                rules: self.rules_for(scope, &workflow),
                workflow,
            }));
        }
        let debounces = entries.iter().any(|e| {
            e.workflow.triggers.iter().any(|t| {
                matches!(
                    &t.kind,
                    TriggerKind::Event {
                        debounce: Some(_),
                        ..
                    }
                )
            })
        });
        if debounces {
            self.debouncing
                .store(true, std::sync::atomic::Ordering::Relaxed);
        }
        self.schedules.sync(scope, &entries);
        self.index
            .write()
            .expect("index lock")
            .insert(scope.clone(), entries);
        Ok(())
    }

    /// Builds the index of every scope (at start).
    pub async fn refresh_all(&self) -> Result<()> {
        for scope in self.store.scopes().await? {
            self.refresh(&scope).await?;
        }
        Ok(())
    }

    /// A workflow version, parsed once and cached.
    pub async fn workflow(&self, scope: &Scope, id: &str, version: i64) -> Result<Arc<Workflow>> {
        let key = (scope.clone(), id.to_owned(), version);
        if let Some(w) = self.versions.lock().expect("cache lock").get(&key) {
            return Ok(w.clone());
        }
        let stored = self
            .store
            .workflow_version(scope, id, version)
            .await?
            .ok_or(weir_store::Error::NotFound)?;
        let wf = Arc::new(self.parse(scope, &stored.definition)?);
        self.versions
            .lock()
            .expect("cache lock")
            .insert(key, wf.clone());
        Ok(wf)
    }

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

    async fn ingest_inner(
        &self,
        scope: &Scope,
        event_type: &str,
        payload: &Value,
        source: Option<&str>,
        idempotency_key: Option<&str>,
        mut watch: Option<&mut Watch>,
    ) -> Result<Ingest> {
        let root = weir_core::context::payload_root(payload);
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
                    state: pending_state("event", Some(event_type), payload),
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
            let (exec, fx) = Execution::start(&m.workflow, start, &env);
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

    async fn start_inner(
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
        if let Some(w) = watch {
            w.add(&id);
        }
        let execution = NewExecution {
            id: id.clone(),
            workflow_id: workflow_id.to_owned(),
            workflow_version: current.version,
            parent_id: None,
            state: pending_state(trigger_kind, None, payload),
            status: "pending".into(),
            initial: None,
            held_by: None,
        };
        self.store.start_executions(scope, &[execution]).await?;
        self.wake.notify_one();
        Ok(id)
    }

    /// Tells a worker that work was queued outside the engine (an approval decided, an
    /// execution cancelled), so it claims it now rather than at its next poll.
    pub fn nudge(&self) {
        self.wake.notify_one();
        self.held_wake.notify_one();
    }

    /// Runs a worker until `stop` resolves: claims up to `batch` executions with due work (no
    /// more than the action pool has room for), hands each to a task of its own, and claims
    /// again; sleeps briefly when idle or when the pool is full. Every few seconds it also
    /// rebuilds the trigger index, so workflows another node stored start matching here too.
    pub async fn run(self: &Arc<Self>, batch: i64, mut stop: tokio::sync::watch::Receiver<bool>) {
        loop {
            if *stop.borrow() {
                return;
            }
            if self.index_is_due()
                && let Err(e) = self.refresh_all().await
            {
                eprintln!("weir: refreshing the trigger index: {e}");
            }
            let (room, full) = self.pool.claimable();
            let limit = batch.min(i64::try_from(room).unwrap_or(i64::MAX));
            let worked = if limit > 0 {
                let at = std::time::Instant::now();
                let claimed = self
                    .store
                    .claim_except(&self.node, self.lease_ms, limit, &full)
                    .await;
                match claimed {
                    Ok(claims) => {
                        let n = claims.len();
                        self.spawn_drives(claims, at);
                        n > 0
                    }
                    Err(e) => {
                        eprintln!("weir: claiming work: {e}");
                        false
                    }
                }
            } else {
                false
            };
            if !worked {
                tokio::select! {
                    _ = stop.changed() => {}
                    _ = self.wake.notified() => {}
                    _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                }
            }
        }
    }

    /// Executions this node is working on now (their actions in flight or being committed).
    pub fn running_executions(&self) -> usize {
        self.live.len()
    }

    /// Starts the runs that time brings, apart from the workers so that slow actions never
    /// delay them: every [`TRIGGER_CHECK`] until `stop`, closed debounce windows and due
    /// schedule fires.
    pub async fn run_triggers(self: &Arc<Self>, mut stop: tokio::sync::watch::Receiver<bool>) {
        let mut tick = tokio::time::interval(TRIGGER_CHECK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                _ = stop.changed() => {}
                _ = tick.tick() => {}
            }
            if *stop.borrow() {
                return;
            }
            if self.debouncing.load(std::sync::atomic::Ordering::Relaxed)
                && let Err(e) = self.fire_debounces().await
            {
                eprintln!("weir: closing debounce windows: {e}");
            }
            if self.schedules.any()
                && let Err(e) = self.fire_schedules().await
            {
                eprintln!("weir: starting scheduled runs: {e}");
            }
        }
    }

    /// True for the one worker that is to rebuild the trigger index now.
    fn index_is_due(&self) -> bool {
        let mut at = self.indexed_at.lock().expect("index clock");
        let due = at.elapsed() >= INDEX_REFRESH;
        if due {
            *at = std::time::Instant::now();
        }
        due
    }

    /// Claims up to `limit` executions with due work and drives each until it needs nothing
    /// more now (its actions performed and their results committed). Returns how many it
    /// claimed. For tests and tools; `run` does not wait for the executions it claims.
    pub async fn work_once(self: &Arc<Self>, limit: i64) -> Result<usize> {
        let at = std::time::Instant::now();
        let claims = self.store.claim(&self.node, self.lease_ms, limit).await?;
        let n = claims.len();
        let drives = claims.into_iter().map(|claim| async move {
            let id = claim.execution_id.clone();
            if let Err(e) = self.drive(claim, at, None).await {
                eprintln!("weir: execution {id}: {e}");
            }
        });
        futures_util::future::join_all(drives).await;
        Ok(n)
    }

    async fn emit(&self, ctx: &ActionContext, input: &Value) -> Result<Value, ActionError> {
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

/// The environment of a live run: the wall clock and fresh ids for `{{uuid()}}`.
/// An epoch-milliseconds time as RFC 3339 (null when out of range), as the API shows times.
pub fn ms_time(ms: i64) -> Value {
    DateTime::from_timestamp_millis(ms).map_or(Value::Null, |t| json!(t.to_rfc3339()))
}

fn live_env<'a>(rules: &'a Rules, secrets: &'a SecretValues) -> Env<'a> {
    Env {
        now: Utc::now(),
        secrets: secrets.lookup(),
        ids: &|| uuid::Uuid::now_v7().to_string(),
        rules,
    }
}

/// How stale another node's workflow changes may be in this node's trigger index.
const INDEX_REFRESH: Duration = Duration::from_secs(5);
