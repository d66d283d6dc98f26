//! Weir's engine: the shell around the executor. It keeps a trigger index per tenant ×
//! environment, turns events into executions (idempotently), and runs workers that claim
//! executions from the store under a lease, apply their queued inputs to the executor, perform
//! the actions it asks for, and commit each step in one transaction before going on.
//!
//! Crash safety comes from the order of things: an action is performed only after the step
//! that asks for it is committed (with a queued `perform` item), and its result is committed
//! with the step after it. A process killed in between leaves the `perform` item queued; the
//! next owner of the lease performs the action again with the same idempotency key.
//!
//! Here: the `Engine` and its errors. `index.rs` is the trigger index, `ingest.rs` events in,
//! `worker.rs` the workers, `watch.rs` progress for synchronous answers, `round.rs` and
//! `live.rs` the commit rounds of a claimed run.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use weir_core::catalog::BuiltinCatalog;
use weir_core::diag::Diagnostic;
use weir_core::{Env, Rules, Workflow};
use weir_store::{Scope, Store};

mod actions;
pub mod connectors;
pub mod context;
mod index;
mod ingest;
mod live;
pub mod pool;
mod round;
pub mod schedules;
pub mod secrets;
pub mod stream;
pub mod telemetry;
pub mod traces;
mod watch;
mod worker;

pub use actions::{Action, ActionContext, Actions, ConnectorRunner};
pub use connectors::{ConnectorSet, ScopedCatalog};
pub use index::ActionInfo;
use index::Indexed;
pub use ingest::{Ingest, Started};
use ingest::{IngestJob, batch_events};
pub use pool::{ActionPool, DEFAULT_MAX_IN_FLIGHT};
pub use secrets::{SecretValues, Vault};
pub use watch::{Progress, Watch};

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

type Watchers = Arc<Mutex<HashMap<String, tokio::sync::mpsc::UnboundedSender<Progress>>>>;

pub struct Engine {
    store: Arc<dyn Store>,
    catalog: BuiltinCatalog,
    node: String,
    lease_ms: i64,
    index: RwLock<HashMap<Scope, Vec<Arc<Indexed>>>>,
    /// Each scope's stored rules, read again with the trigger index.
    rules: RwLock<HashMap<Scope, Arc<Rules>>>,
    versions: Mutex<HashMap<(Scope, String, i64), Arc<Workflow>>>,
    actions: Actions,
    /// Who waits for which execution's progress.
    watchers: Watchers,
    /// What happens, for `GET /api/v1/stream`.
    pub stream: stream::Hub,
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
    /// When a worker last went round its loop (unix ms; 0 before one started).
    worker_beat: std::sync::atomic::AtomicI64,
}

/// How stale another node's secret changes may be on this node.
const SECRET_CACHE_TTL: Duration = Duration::from_secs(5);

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
            stream: stream::Hub::default(),
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
            worker_beat: std::sync::atomic::AtomicI64::new(0),
        })
    }

    /// Actions running on this node now.
    pub fn actions_in_flight(&self) -> usize {
        self.pool.running()
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
                Err(e) => tracing::error!("{}/{}: {e}", scope.tenant, scope.environment),
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

    /// Relays the event stream between this node and the others sharing its database, until
    /// `stop` (nothing to do on SQLite).
    /// Also rebuilds the index of a scope another node says it changed.
    pub async fn relay_stream(&self, stop: tokio::sync::watch::Receiver<bool>) {
        let (changed, mut scopes) = tokio::sync::mpsc::unbounded_channel();
        let relay = stream::relay(&self.stream, self.store.as_ref(), &self.node, changed, stop);
        let follow = async {
            while let Some(scope) = scopes.recv().await {
                if let Err(e) = self.rebuild(&scope).await {
                    tracing::error!(
                        tenant = scope.tenant,
                        environment = scope.environment,
                        "rebuilding the index another node changed: {e}"
                    );
                }
            }
        };
        // The relay ends at `stop`, dropping its sender, which ends `follow`.
        tokio::join!(relay, follow);
    }

    pub fn node(&self) -> &str {
        &self.node
    }

    /// The registered actions, for work of the server's own (alerts tell people through
    /// `notify`).
    pub fn actions(&self) -> &Actions {
        &self.actions
    }

    /// A watch to pass to [`Engine::ingest_watched`] or [`Engine::start_watched`].
    pub fn watch(&self) -> Watch {
        Watch {
            channel: None,
            ids: Vec::new(),
            watchers: self.watchers.clone(),
            traceparent: None,
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
