//! `weir serve`: opens the store, bootstraps the admin key, starts the engine's workers and
//! serves HTTP until SIGTERM or Ctrl-C.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use weir_engine::Engine;
use weir_store::{SqlStore, Store, hash_key};

use crate::{AppState, access, key_limiter, router, secrets};

/// Where and how `weir serve` runs.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    pub admin_key: Option<String>,
    /// The master key of secrets (64 hex digits); else a key file in the data folder.
    pub master_key: Option<String>,
    /// `WEIR_SMTP_URL` and `WEIR_SMTP_FROM`: where email goes (else it stays in the outbox).
    pub smtp_url: Option<String>,
    pub smtp_from: Option<String>,
    /// How long a claim on an execution lasts before another node may take it over.
    pub lease_ms: i64,
    /// Requests per second per API key (bursts up to twice that); 0 is no limit.
    pub rate_limit: u32,
    /// How long a web UI session lasts, in seconds.
    pub session_ttl: u32,
    /// What outbound HTTP may reach beyond the public internet (`WEIR_OUTBOUND_ALLOW`).
    pub outbound_allow: String,
    /// How many actions the node performs at once, at most.
    pub max_in_flight_actions: usize,
    /// How many workers claim executions.
    pub workers: usize,
    /// How many executions a worker claims at once, at most.
    pub claim_batch: i64,
    /// The largest request body taken, in bytes (413 past it).
    pub max_body_bytes: usize,
    /// Where Prometheus metrics are served (`GET /metrics`), if anywhere.
    pub metrics_listen: Option<SocketAddr>,
    /// Whether the executions' metrics have a `workflow` label.
    pub metrics_workflow_labels: bool,
    /// The LLM endpoint of `POST /api/v1/ai/interpret` in `llm` mode (`WEIR_LLM_URL`,
    /// `WEIR_LLM_MODEL`, `WEIR_LLM_API_KEY`).
    pub llm: Option<crate::LlmConfig>,
    /// Where traces go over OTLP/HTTP (`WEIR_OTLP_ENDPOINT`), if anywhere.
    pub otlp_endpoint: Option<String>,
    /// How often alerts are evaluated (`WEIR_ALERT_INTERVAL_MS`; 30 s).
    pub alert_interval: Duration,
    /// How long finished executions and audit records are kept.
    pub retention: crate::Retention,
    /// `Host`s `/mcp` also answers to (`WEIR_MCP_ALLOWED_HOSTS`); see [`crate::mcp_allowed_hosts`].
    pub mcp_allowed_hosts: Vec<String>,
}

pub use weir_engine::DEFAULT_MAX_IN_FLIGHT;

/// The default of [`ServeConfig::session_ttl`]: an hour.
pub const DEFAULT_SESSION_TTL: u32 = 3600;

/// The default of [`ServeConfig::rate_limit`]: far above what one client of a 2-core server
/// can send, so it stops runaway clients, not load.
pub const DEFAULT_RATE_LIMIT: u32 = 50_000;

/// Opens the store, makes sure there is an admin key, starts the workers, and serves HTTP until
/// SIGTERM or Ctrl-C; then stops claiming work, lets what is in flight finish, and returns.
pub async fn serve(config: ServeConfig) -> Result<(), String> {
    // The port first: a port in use is said before a database, a folder or a key is made.
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let metrics = match config.metrics_listen {
        Some(at) => {
            let listener = tokio::net::TcpListener::bind(at)
                .await
                .map_err(|e| format!("cannot listen for metrics on {at}: {e}"))?;
            weir_engine::telemetry::set_workflow_labels(config.metrics_workflow_labels);
            Some((listener, crate::metrics::install()?))
        }
        None => None,
    };
    // The embedded database is one node's: a second process on the same folder is refused, so
    // every lease found held at start was held by a process that is gone.
    let _data_lock = match &config.database_url {
        Some(_) => None,
        None => Some(lock_data_dir(&config.data_dir)?),
    };
    let store: Arc<dyn Store> = Arc::new(match &config.database_url {
        Some(url) => SqlStore::connect_with_lease(url, Some(config.lease_ms))
            .await
            .map_err(|e| format!("cannot open the database: {e}"))?,
        None => SqlStore::open_sqlite(&config.data_dir)
            .await
            .map_err(|e| format!("cannot open the data folder: {e}"))?,
    });
    let key_file = config.data_dir.join("admin-api-key");
    let (key, generated) = match &config.admin_key {
        Some(k) => (k.clone(), false),
        None => (access::new_key_secret(), true),
    };
    // A generated key is written down before the database takes its hash, so a crash in between
    // cannot leave an admin key nobody knows; it is renamed into place once it is the key.
    let pending_file = config.data_dir.join("admin-api-key.pending");
    if generated {
        std::fs::create_dir_all(&config.data_dir)
            .and_then(|()| write_secret_file(&pending_file, &key))
            .map_err(|e| format!("cannot write {}: {e}", pending_file.display()))?;
    }
    let boot = store
        .bootstrap(&hash_key(&key))
        .await
        .map_err(|e| format!("cannot prepare the database: {e}"))?;
    if generated && !boot.created {
        let _ = std::fs::remove_file(&pending_file);
    }
    if boot.created {
        if generated {
            std::fs::rename(&pending_file, &key_file)
                .map_err(|e| format!("cannot write {}: {e}", key_file.display()))?;
            tracing::info!(
                "created tenant '{}' and environment '{}'; the admin API key is in {}",
                boot.scope.tenant,
                boot.scope.environment,
                key_file.display()
            );
        } else {
            tracing::info!(
                "created tenant '{}' and environment '{}' with the admin key from WEIR_ADMIN_KEY",
                boot.scope.tenant,
                boot.scope.environment
            );
        }
    }
    if config.database_url.is_none() {
        // Resume at once what the previous process was doing when it died, instead of waiting
        // out its leases.
        store
            .release_leases(None)
            .await
            .map_err(|e| format!("cannot prepare the database: {e}"))?;
    }
    let _ = rustls::crypto::ring::default_provider().install_default();
    let traces = match &config.otlp_endpoint {
        Some(endpoint) => {
            let url = crate::otlp::traces_url(endpoint)?;
            tracing::info!("traces to {url}");
            Some(crate::otlp::Exporter::start(url)?)
        }
        None => None,
    };
    let mut actions = weir_engine::Actions::builtin();
    weir_actions::register(
        &mut actions,
        store.clone(),
        &weir_actions::Config {
            outbound_allow: weir_actions::AllowList::parse(&config.outbound_allow)?,
            smtp_url: config.smtp_url.clone(),
            smtp_from: config.smtp_from.clone(),
        },
    )?;
    let engine = Engine::with_pool(
        store.clone(),
        config.lease_ms,
        actions,
        config.max_in_flight_actions,
    );
    engine.set_vault(
        secrets::open_vault(
            config.master_key.as_deref(),
            &config.data_dir,
            store.as_ref(),
        )
        .await?,
    );
    engine
        .refresh_all()
        .await
        .map_err(|e| format!("cannot load the workflows: {e}"))?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    // Workers claim and hand each execution to a task of its own, so a few are enough: none
    // waits on the outside world.
    let batch = config.claim_batch;
    let mut workers: Vec<_> = (0..config.workers.max(1))
        .map(|_| {
            let engine = engine.clone();
            let stop = stop_rx.clone();
            tokio::spawn(async move { engine.run(batch, stop).await })
        })
        .collect();
    // Nodes sharing PostgreSQL relay their event streams to each other.
    workers.push({
        let engine = engine.clone();
        let stop = stop_rx.clone();
        tokio::spawn(async move { engine.relay_stream(stop).await })
    });
    // The leases of executions with actions in flight are kept alive while they are.
    workers.push({
        let engine = engine.clone();
        let stop = stop_rx.clone();
        tokio::spawn(async move { engine.keep_leases(stop).await })
    });
    if let Some((listener, handle)) = metrics {
        if let Ok(at) = listener.local_addr() {
            tracing::info!("metrics on http://{at}/metrics");
        }
        let (engine, store, stop) = (engine.clone(), store.clone(), stop_rx.clone());
        workers.push(tokio::spawn(async move {
            crate::metrics::serve(listener, handle, engine, store, stop).await
        }));
    }
    // Debounce windows and schedules start runs on a clock of their own.
    workers.push({
        let engine = engine.clone();
        let stop = stop_rx.clone();
        tokio::spawn(async move { engine.run_triggers(stop).await })
    });
    // One node at a time evaluates the alerts.
    workers.push({
        let (engine, store, stop) = (engine.clone(), store.clone(), stop_rx.clone());
        let every = config.alert_interval;
        tokio::spawn(async move { crate::alerts::run(engine, store, every, stop).await })
    });
    // Retention deletes what has outlived its time, in small batches.
    workers.push({
        let (store, stop) = (store.clone(), stop_rx.clone());
        let retention = config.retention;
        tokio::spawn(async move { crate::retention::run(store, retention, stop).await })
    });
    tracing::info!("listening on http://{addr}");
    tracing::info!("  console        http://{addr}/");
    tracing::info!("  API            http://{addr}/api/v1");
    tracing::info!("  API document   http://{addr}/api/v1/openapi.json");
    tracing::info!("  API reference  http://{addr}/api/v1/docs/");
    tracing::info!("  health         http://{addr}/health (ready: /health/ready)");
    tracing::info!("  MCP            http://{addr}/mcp");
    let mut state = AppState::new(engine.clone(), store.clone());
    state.limiter = key_limiter(config.rate_limit);
    state.session_ttl = Duration::from_secs(config.session_ttl.into());
    state.max_body_bytes = config.max_body_bytes;
    state.mcp_allowed_hosts = crate::mcp_allowed_hosts(addr, &config.mcp_allowed_hosts);
    state.set_outbound(weir_actions::AllowList::parse(&config.outbound_allow)?);
    state.llm = config.llm.clone();
    state.retention = config.retention;
    let state = Arc::new(state);
    let app = router(state.clone());
    let hub = engine.clone();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            // Open event streams (the API's and MCP sessions') would keep the server waiting
            // for ever.
            hub.stream.close();
            state.shutdown.cancel();
        })
        .await
        .map_err(|e| format!("the server failed: {e}"))?;
    tracing::info!("shutting down");
    let _ = stop_tx.send(true);
    for w in workers {
        let _ = w.await;
    }
    // Executions with actions in flight finish them (for a while); what is still running then
    // is given back, for another node (or the next start) to take over at once.
    let deadline = tokio::time::Instant::now() + SHUTDOWN_GRACE;
    while engine.running_executions() > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    if engine.running_executions() > 0
        && let Err(e) = store.release_leases(Some(engine.node())).await
    {
        tracing::error!("giving back leases: {e}");
    }
    if let Some(traces) = traces {
        // Sends what is queued: blocking, so not on a worker of the runtime.
        let _ = tokio::task::spawn_blocking(move || traces.shutdown()).await;
    }
    Ok(())
}

/// How long a stopping server waits for the actions in flight.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Takes the data folder for this process alone (a second `weir serve` or `weir migrate` on
/// it is refused) until the file is dropped.
pub fn lock_data_dir(dir: &std::path::Path) -> Result<std::fs::File, String> {
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("cannot create the data folder {}: {e}", dir.display()))?;
    let path = dir.join("weir.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(format!(
            "another weir serve is using the data folder {}",
            dir.display()
        )),
        Err(std::fs::TryLockError::Error(e)) => Err(format!("cannot lock {}: {e}", path.display())),
    }
}

pub(crate) fn write_secret_file(path: &std::path::Path, secret: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(secret.as_bytes())?;
    f.write_all(b"\n")?;
    f.sync_all()
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
