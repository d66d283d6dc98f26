//! [`SqlStore`]: the [`Store`] over SQLite or PostgreSQL through sqlx's `Any` driver.
//!
//! One implementation serves both: the schema uses only types both read the same way (TEXT,
//! BIGINT milliseconds, TEXT for JSON), and the SQL uses `$n` parameters, which SQLite accepts
//! too. What differs is kept here: the clock expression, `FOR UPDATE SKIP LOCKED`, connection
//! settings, and one migrations folder per back-end.

use std::borrow::Cow;
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{AnyPool, AssertSqlSafe, Row, SqlSafeStr};

use crate::Columns;
use crate::batch::{self, Answer, Bind, Entry, Statement};
use crate::native::NativeWriter;
use crate::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct SqlStore {
    pub(crate) pool: AnyPool,
    backend: Backend,
    /// The database clock in milliseconds, as an SQL expression.
    pub(crate) now: &'static str,
    /// What keeps concurrent writers of the statistics apart, as an SQL expression (see
    /// migration 0017).
    pub(crate) shard: &'static str,
    /// For connections of their own (listening to other nodes).
    postgres_url: Option<String>,
    /// On SQLite with a database file: the writer of event batches.
    pub(crate) native: Option<NativeWriter>,
}

/// Which runs a page of the executions list reads.
#[derive(Clone, Copy)]
enum Runs {
    /// Those whose id is in the time range asked for.
    Ranged,
    /// Sub-workflows' runs (their ids carry their parent's time).
    Children,
}

/// Up to how many events a type is rare: its runs are found from its events and sorted,
/// instead of reading runs newest first until enough are of that type.
const RARE_EVENTS: i64 = 5_000;

/// The most rows the executions list skips (`offset`); `cursor` pages go on beyond.
pub const MAX_OFFSET: i64 = 100_000;

/// How far the clock of the node that made an id may be from the database's (the same clock
/// on SQLite; NTP keeps servers within milliseconds). A lower bound in the last minute reads
/// that minute's runs at most.
const CLOCK_MARGIN_MS: i64 = 60 * 1000;

/// The smallest UUIDv7 text made at `ms`: ids made earlier sort before it, later after it.
pub(crate) fn id_at(ms: i64) -> String {
    let hex = format!("{:012x}", ms.clamp(0, (1 << 48) - 1));
    format!("{}-{}", &hex[..8], &hex[8..])
}

/// How long a first connection to a database server may take.
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

pub(crate) const SQLITE_MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "initial",
        include_str!("../migrations/sqlite/0001_initial.sql"),
    ),
    (
        2,
        "step order",
        include_str!("../migrations/sqlite/0002_step_order.sql"),
    ),
    (
        3,
        "partial idempotency index",
        include_str!("../migrations/sqlite/0003_partial_idempotency.sql"),
    ),
    (
        4,
        "key access",
        include_str!("../migrations/sqlite/0004_key_access.sql"),
    ),
    (
        5,
        "users",
        include_str!("../migrations/sqlite/0005_users.sql"),
    ),
    (
        6,
        "secrets",
        include_str!("../migrations/sqlite/0006_secrets.sql"),
    ),
    (
        7,
        "records",
        include_str!("../migrations/sqlite/0007_records.sql"),
    ),
    (
        8,
        "connectors",
        include_str!("../migrations/sqlite/0008_connectors.sql"),
    ),
    (
        9,
        "webhook deliveries",
        include_str!("../migrations/sqlite/0009_webhook_deliveries.sql"),
    ),
    (
        10,
        "debounces",
        include_str!("../migrations/sqlite/0010_debounces.sql"),
    ),
    (
        11,
        "schedule fires",
        include_str!("../migrations/sqlite/0011_schedule_fires.sql"),
    ),
    (
        12,
        "context",
        include_str!("../migrations/sqlite/0012_context.sql"),
    ),
    (
        13,
        "write fewer pages",
        include_str!("../migrations/sqlite/0013_write_fewer_pages.sql"),
    ),
    (
        14,
        "secret policy",
        include_str!("../migrations/sqlite/0014_secret_policy.sql"),
    ),
    (
        15,
        "teams",
        include_str!("../migrations/sqlite/0015_teams.sql"),
    ),
    (
        16,
        "execution_filters",
        include_str!("../migrations/sqlite/0016_execution_filters.sql"),
    ),
    (
        17,
        "statistics",
        include_str!("../migrations/sqlite/0017_statistics.sql"),
    ),
    (
        18,
        "child runs",
        include_str!("../migrations/sqlite/0018_child_runs.sql"),
    ),
    (
        19,
        "last runs",
        include_str!("../migrations/sqlite/0019_last_runs.sql"),
    ),
    (
        20,
        "scope_settings",
        include_str!("../migrations/sqlite/0020_scope_settings.sql"),
    ),
    (
        21,
        "retention",
        include_str!("../migrations/sqlite/0021_retention.sql"),
    ),
    (
        22,
        "alerts",
        include_str!("../migrations/sqlite/0022_alerts.sql"),
    ),
    (
        23,
        "await_match",
        include_str!("../migrations/sqlite/0023_await_match.sql"),
    ),
];
pub(crate) const POSTGRES_MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "initial",
        include_str!("../migrations/postgres/0001_initial.sql"),
    ),
    (
        2,
        "step order",
        include_str!("../migrations/postgres/0002_step_order.sql"),
    ),
    (
        3,
        "partial idempotency index",
        include_str!("../migrations/postgres/0003_partial_idempotency.sql"),
    ),
    (
        4,
        "key access",
        include_str!("../migrations/postgres/0004_key_access.sql"),
    ),
    (
        5,
        "users",
        include_str!("../migrations/postgres/0005_users.sql"),
    ),
    (
        6,
        "secrets",
        include_str!("../migrations/postgres/0006_secrets.sql"),
    ),
    (
        7,
        "records",
        include_str!("../migrations/postgres/0007_records.sql"),
    ),
    (
        8,
        "connectors",
        include_str!("../migrations/postgres/0008_connectors.sql"),
    ),
    (
        9,
        "webhook deliveries",
        include_str!("../migrations/postgres/0009_webhook_deliveries.sql"),
    ),
    (
        10,
        "debounces",
        include_str!("../migrations/postgres/0010_debounces.sql"),
    ),
    (
        11,
        "schedule fires",
        include_str!("../migrations/postgres/0011_schedule_fires.sql"),
    ),
    (
        12,
        "context",
        include_str!("../migrations/postgres/0012_context.sql"),
    ),
    (
        13,
        "write fewer pages",
        include_str!("../migrations/postgres/0013_write_fewer_pages.sql"),
    ),
    (
        14,
        "secret policy",
        include_str!("../migrations/postgres/0014_secret_policy.sql"),
    ),
    (
        15,
        "teams",
        include_str!("../migrations/postgres/0015_teams.sql"),
    ),
    (
        16,
        "execution_filters",
        include_str!("../migrations/postgres/0016_execution_filters.sql"),
    ),
    (
        17,
        "statistics",
        include_str!("../migrations/postgres/0017_statistics.sql"),
    ),
    (
        18,
        "child runs",
        include_str!("../migrations/postgres/0018_child_runs.sql"),
    ),
    (
        19,
        "last runs",
        include_str!("../migrations/postgres/0019_last_runs.sql"),
    ),
    (
        20,
        "scope_settings",
        include_str!("../migrations/postgres/0020_scope_settings.sql"),
    ),
    (
        21,
        "retention",
        include_str!("../migrations/postgres/0021_retention.sql"),
    ),
    (
        22,
        "alerts",
        include_str!("../migrations/postgres/0022_alerts.sql"),
    ),
    (
        23,
        "await_match",
        include_str!("../migrations/postgres/0023_await_match.sql"),
    ),
];

/// Every SQLite connection's settings, sqlx's and the native writer's. WAL lets readers go on
/// while one writer commits; FULL syncs the WAL at every commit, before anything is answered, so
/// neither a killed process nor a power cut loses what was acknowledged (NORMAL would sync only
/// at checkpoints, losing the last commits to a power cut; group commit makes FULL affordable:
/// W1 at 11-12k decisions/s against 14-18k with NORMAL). When the WAL starts over, a file that
/// grew beyond 64 MiB (a writer on another connection kept a checkpoint from finishing, say) is
/// cut back to that.
pub(crate) const SQLITE_SETTINGS: [&str; 5] = [
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = FULL",
    "PRAGMA busy_timeout = 10000",
    "PRAGMA foreign_keys = ON",
    "PRAGMA journal_size_limit = 67108864",
];

/// NotFound when a write touched no row (the object is not there, or not in this scope).
pub(crate) fn found(done: sqlx::any::AnyQueryResult) -> Result<()> {
    match done.rows_affected() {
        0 => Err(Error::NotFound),
        _ => Ok(()),
    }
}

pub(crate) fn sql(text: String) -> AssertSqlSafe<String> {
    AssertSqlSafe(text)
}

/// The database file of a `sqlite:` URL; `None` for an in-memory database.
fn sqlite_file(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let (path, options) = rest.split_once('?').unwrap_or((rest, ""));
    let memory =
        path.is_empty() || path == ":memory:" || options.split('&').any(|o| o == "mode=memory");
    (!memory).then_some(path)
}

fn json_text(v: &Value) -> String {
    v.to_string()
}

fn parse_json(text: &str, what: &str) -> Result<Value> {
    serde_json::from_str(text).map_err(|e| Error::Corrupt(format!("{what}: {e}")))
}

impl SqlStore {
    /// A queued item as read from `inbox`.
    fn item(row: &sqlx::any::AnyRow) -> Result<Item> {
        Ok(Item {
            id: row.try_get("id")?,
            work: Work::read(
                &row.try_get::<String, _>("kind")?,
                &row.try_get::<String, _>("payload")?,
            )?,
            key: row.try_get("item_key")?,
            run_at_ms: row.try_get("run_at_ms")?,
        })
    }

    /// Puts an item in an open execution's inbox; a finished execution takes nothing.
    fn enqueue_query(
        &self,
        scope: &Scope,
        execution_id: &str,
        item: &NewItem,
    ) -> sqlx::query::Query<'static, sqlx::Any, sqlx::any::AnyArguments> {
        let now = self.now;
        sqlx::query(sql(format!(
            "INSERT INTO inbox (execution_id, tenant_id, environment_id, kind, item_key, payload, run_at_ms) \
             SELECT id, tenant_id, environment_id, $4, $5, $6, COALESCE($7, {now}) FROM executions \
             WHERE id = $1 AND tenant_id = $2 AND environment_id = $3 AND status NOT IN ('completed', 'failed', 'cancelled')"
        )))
        .bind(execution_id.to_owned())
        .bind(scope.tenant.clone())
        .bind(scope.environment.clone())
        .bind(item.work.kind())
        .bind(item.key.clone())
        .bind(item.work.payload())
        .bind(item.run_at_ms)
    }

    /// Opens (creating if needed) the SQLite database `weir.db` in `data_dir`, in WAL mode.
    pub async fn open_sqlite(data_dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(data_dir).map_err(|e| {
            Error::Config(format!(
                "cannot create the data folder {}: {e}",
                data_dir.display()
            ))
        })?;
        let path = data_dir.join("weir.db");
        let url = format!("sqlite://{}?mode=rwc", path.display());
        Self::connect(&url).await
    }

    /// Connects to `sqlite://…` or `postgres://…` and runs the migrations.
    pub async fn connect(url: &str) -> Result<Self> {
        Self::connect_with_lease(url, None).await
    }

    /// Connects as [`SqlStore::connect`], for a node whose leases last `lease_ms`. On
    /// PostgreSQL a transaction left idle that long (a second at least) is ended by the server: a node stopped in
    /// the middle of one (a pause, a swap storm) would otherwise keep its rows locked, and the
    /// nodes that take its runs over skip locked rows until it resumes.
    pub async fn connect_with_lease(url: &str, lease_ms: Option<i64>) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(Error::Config(
                "the database URL must start with sqlite: or postgres:".into(),
            ));
        };
        let options =
            AnyPoolOptions::new().max_connections(if backend == Backend::Sqlite { 4 } else { 16 });
        let options = if backend == Backend::Sqlite {
            options.after_connect(|conn, _| {
                Box::pin(async move {
                    for pragma in SQLITE_SETTINGS {
                        sqlx::query(pragma).execute(&mut *conn).await?;
                    }
                    Ok(())
                })
            })
        } else if let Some(ms) = lease_ms.filter(|ms| *ms > 0) {
            let set = format!("SET idle_in_transaction_session_timeout = {}", ms.max(1000));
            options.after_connect(move |conn, _| {
                let set = set.clone();
                Box::pin(async move {
                    sqlx::query(sql(set)).execute(&mut *conn).await?;
                    Ok(())
                })
            })
        } else {
            options
        };
        if backend == Backend::Postgres {
            // The pool retries a server it cannot reach until its 30 s acquire timeout and then
            // says only "pool timed out": one connection first names the cause, in 5 s at most.
            use sqlx::Connection as _;
            match tokio::time::timeout(CONNECT_TIMEOUT, sqlx::AnyConnection::connect(url)).await {
                Err(_) => {
                    return Err(Error::Config(format!(
                        "the database did not answer within {} s",
                        CONNECT_TIMEOUT.as_secs()
                    )));
                }
                Ok(Err(e)) => {
                    return Err(Error::Config(format!(
                        "cannot connect to the database: {e}"
                    )));
                }
                Ok(Ok(conn)) => drop(conn),
            }
        }
        let pool = options.connect(url).await?;
        let now = match backend {
            Backend::Sqlite => "CAST(unixepoch('subsec') * 1000 AS INTEGER)",
            Backend::Postgres => "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)",
        };
        let shard = match backend {
            Backend::Sqlite => "0",
            Backend::Postgres => "pg_backend_pid()",
        };
        let mut store = SqlStore {
            pool,
            backend,
            now,
            shard,
            postgres_url: (backend == Backend::Postgres).then(|| url.to_owned()),
            native: None,
        };
        store.migrate().await?;
        if let Some(path) = sqlite_file(url) {
            store.native = Some(NativeWriter::open(Path::new(path))?);
        }
        Ok(store)
    }

    /// Starts a write transaction. On SQLite it takes the write lock at once (`BEGIN
    /// IMMEDIATE`): a deferred transaction that reads and then writes fails with SQLITE_BUSY
    /// when another connection wrote in between, which busy_timeout cannot wait out.
    pub(crate) async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The database's URL, on PostgreSQL.
    pub(crate) fn postgres_url(&self) -> Option<&str> {
        self.postgres_url.as_deref()
    }

    /// How many rounds the SQLite checkpointer has finished in which something had been
    /// written (see `native::checkpoint`); `None` on PostgreSQL. For tests and diagnostics.
    pub fn checkpoint_rounds(&self) -> Option<u64> {
        self.native.as_ref().map(NativeWriter::rounds)
    }

    async fn migrate(&self) -> Result<()> {
        let list = match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS,
            Backend::Postgres => POSTGRES_MIGRATIONS,
        };
        let migrations: Vec<Migration> = list
            .iter()
            .map(|(v, d, text)| {
                Migration::new(
                    *v,
                    Cow::Borrowed(*d),
                    MigrationType::Simple,
                    text.into_sql_str(),
                    false,
                )
            })
            .collect();
        let migrator = Migrator {
            migrations: Cow::Owned(migrations),
            ..Migrator::DEFAULT
        };
        migrator.run(&self.pool).await?;
        Ok(())
    }

    async fn now(&self) -> Result<i64> {
        let row = sqlx::query(sql(format!("SELECT {} AS now", self.now)))
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get::<i64, _>("now")?)
    }

    pub(crate) fn workflow_row(row: &AnyRow) -> Result<WorkflowVersion> {
        Ok(WorkflowVersion {
            workflow_id: row.try_get("workflow_id")?,
            version: row.try_get("version")?,
            enabled: row.try_get::<i64, _>("enabled")? != 0,
            definition: parse_json(
                &row.try_get::<String, _>("definition")?,
                "workflow definition",
            )?,
            created_ms: row.try_get("created_ms")?,
            updated_ms: row.try_get("updated_ms")?,
        })
    }

    /// A page of the executions list (see `Store::executions`): `rows` rows from the newest.
    async fn list_executions(
        &self,
        scope: &Scope,
        f: &ExecutionFilter,
        rows: i64,
        offset: i64,
        runs: Runs,
        rare_event_type: bool,
    ) -> Result<Vec<ExecutionRow>> {
        // Only the filters given are in the statement, so that each is an index range: every
        // filter of the console has an index ending in `id`, the order pages are read in.
        let mut text = String::from(
            "SELECT x.id, x.workflow_id, x.workflow_version, x.event_id, x.parent_id, x.status, x.decision, x.reason, x.error, \
             x.state, x.started_ms, x.completed_ms, x.updated_ms FROM ",
        );
        // Runs of a rare event type are found from their events (SQLite joins in the order
        // written after CROSS JOIN) and sorted; others are read newest first, each checked.
        text.push_str(match rare_event_type {
            true => {
                "events v CROSS JOIN executions x WHERE v.tenant_id = $1 AND v.environment_id = $2 \
                     AND x.event_id = v.id AND x.tenant_id = $1 AND x.environment_id = $2"
            }
            false => "executions x WHERE x.tenant_id = $1 AND x.environment_id = $2",
        });
        enum Param {
            Text(String),
            Number(i64),
        }
        let mut params: Vec<Param> = Vec::new();
        let mut add = |text: &mut String, condition: &str, param: Param| {
            params.push(param);
            text.push_str(&condition.replace('?', &format!("${}", params.len() + 2)));
        };
        for (condition, value) in [
            (" AND x.workflow_id = ?", &f.workflow_id),
            (" AND x.status = ?", &f.status),
            (" AND x.event_id = ?", &f.event_id),
            (" AND x.decision = ?", &f.decision),
            (" AND x.id < ?", &f.before),
        ] {
            if let Some(v) = value {
                add(&mut text, condition, Param::Text(v.clone()));
            }
        }
        // A status other than completed is in the partial index of such runs (migration
        // 0016); the planner uses it only when the query says so in so many words.
        if f.status.as_deref().is_some_and(|s| s != "completed") {
            text.push_str(" AND x.status <> 'completed'");
        }
        match runs {
            Runs::Ranged => {
                if let Some(ms) = f.until_ms {
                    add(
                        &mut text,
                        " AND id < ?",
                        Param::Text(id_at(ms + CLOCK_MARGIN_MS)),
                    );
                }
                if let Some(ms) = f.since_ms {
                    add(
                        &mut text,
                        " AND id >= ?",
                        Param::Text(id_at(ms - CLOCK_MARGIN_MS)),
                    );
                }
            }
            // Migration 0018's index of runs with a parent.
            Runs::Children => text.push_str(" AND x.parent_id IS NOT NULL"),
        }
        if let Some(ms) = f.since_ms {
            add(&mut text, " AND x.started_ms >= ?", Param::Number(ms));
        }
        if let Some(ms) = f.until_ms {
            add(&mut text, " AND x.started_ms < ?", Param::Number(ms));
        }
        if let Some(t) = &f.event_type {
            let condition = match rare_event_type {
                true => " AND v.event_type = ?",
                false => {
                    " AND EXISTS (SELECT 1 FROM events v WHERE v.tenant_id = $1 AND v.environment_id = $2 AND v.id = x.event_id AND v.event_type = ?)"
                }
            };
            add(&mut text, condition, Param::Text(t.clone()));
        }
        // The page's size in the text, not bound: PostgreSQL plans a statement it has run a
        // few times for any limit, and for an unknown one it sorted the whole scope (800 ms at
        // a million runs) instead of reading the newest first.
        text.push_str(&format!(
            " ORDER BY x.id DESC LIMIT {} OFFSET {}",
            rows.clamp(0, MAX_OFFSET + 1000),
            offset.clamp(0, MAX_OFFSET)
        ));
        let mut query = sqlx::query(sql(text))
            .bind(&scope.tenant)
            .bind(&scope.environment);
        for p in params {
            query = match p {
                Param::Text(t) => query.bind(t),
                Param::Number(n) => query.bind(n),
            };
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter().map(Self::execution_row).collect()
    }

    /// How many events of a type the scope has, counting up to `most`.
    async fn events_of_type(&self, scope: &Scope, event_type: &str, most: i64) -> Result<i64> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM (SELECT 1 FROM events WHERE tenant_id = $1 AND environment_id = $2 \
             AND event_type = $3 LIMIT $4) found",
        )
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(event_type)
        .bind(most)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get("n")?)
    }

    fn execution_row(row: &AnyRow) -> Result<ExecutionRow> {
        Ok(ExecutionRow {
            id: row.try_get("id")?,
            workflow_id: row.try_get("workflow_id")?,
            workflow_version: row.try_get("workflow_version")?,
            event_id: row.try_get("event_id")?,
            parent_id: row.try_get("parent_id")?,
            status: row.try_get("status")?,
            decision: row.try_get("decision")?,
            reason: row.try_get("reason")?,
            error: row.try_get("error")?,
            state: parse_json(&row.try_get::<String, _>("state")?, "execution state")?,
            started_ms: row.try_get("started_ms")?,
            completed_ms: row.try_get("completed_ms")?,
            updated_ms: row.try_get("updated_ms")?,
        })
    }

    async fn insert_executions(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        scope: &Scope,
        event_id: Option<&str>,
        executions: &[NewExecution],
    ) -> Result<()> {
        let now = self.now;
        for e in executions {
            let Columns {
                state,
                status,
                decision,
                reason,
                error,
                finished,
            } = e.columns();
            sqlx::query(sql(format!(
                "INSERT INTO executions (id, tenant_id, environment_id, workflow_id, workflow_version, event_id, parent_id, \
                 status, decision, reason, error, state, started_ms, completed_ms, updated_ms, epoch, lease_owner, lease_expires_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, {now}, CASE WHEN $13 = 1 THEN {now} ELSE NULL END, {now}, 0, $14, $15)"
            )))
            .bind(&e.id)
            .bind(&scope.tenant)
            .bind(&scope.environment)
            .bind(&e.workflow_id)
            .bind(e.workflow_version)
            .bind(event_id)
            .bind(e.parent_id.as_deref())
            .bind(status)
            .bind(decision)
            .bind(reason)
            .bind(error)
            .bind(state.as_str())
            .bind(i64::from(finished))
            .bind(e.held_by.as_ref().map(|(owner, _)| owner.as_str()))
            .bind(e.held_by.as_ref().map(|(_, until)| *until))
            .execute(&mut **tx)
            .await?;
            let mut tally = crate::stats::Tally::default();
            tally.started(scope, &e.workflow_id);
            tally.run(scope, &e.workflow_id, status, decision);
            for statement in tally.statements(now, self.shard) {
                if let Statement::Sql(text, binds) = statement {
                    bind_all(sqlx::query(sql(text)), binds)
                        .execute(&mut **tx)
                        .await?;
                }
            }
            if e.initial.is_none() {
                sqlx::query(sql(format!(
                    "INSERT INTO inbox (execution_id, tenant_id, environment_id, kind, payload, run_at_ms) VALUES ($1, $2, $3, 'start', '{{}}', {now})"
                )))
                .bind(&e.id)
                .bind(&scope.tenant)
                .bind(&scope.environment)
                .execute(&mut **tx)
                .await?;
            }
        }
        Ok(())
    }

    /// Writes a batch of events through sqlx, in one transaction (see `batch.rs`).
    async fn write_batch(&self, batch: &[Entry]) -> Result<Vec<Answer>> {
        let entries: Vec<&Entry> = batch.iter().collect();
        let mut tx = self.begin().await?;
        let mut results = Vec::new();
        for read in batch::reads(&entries) {
            let rows = bind_all(sqlx::query(sql(read.sql)), read.binds)
                .fetch_all(&mut *tx)
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(
                    (0..row.len())
                        .map(|c| row.try_get::<String, _>(c))
                        .collect::<Result<Vec<_>, _>>()?,
                );
            }
            results.push(out);
        }
        let plan = batch::plan(
            &entries,
            self.now,
            self.shard,
            self.backend == Backend::Postgres,
            results,
        )?;
        for statement in plan.statements {
            match statement {
                Statement::Sql(text, binds) => {
                    bind_all(sqlx::query(sql(text)), binds)
                        .execute(&mut *tx)
                        .await?;
                }
                Statement::Insert(rows) => {
                    for (text, binds) in rows.statements(self.now) {
                        bind_all(sqlx::query(sql(text)), binds)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
                Statement::General { entry, execution } => {
                    let (scope, event, list) = &batch[entry];
                    let e = &list[execution];
                    self.insert_executions(
                        &mut tx,
                        scope,
                        Some(&event.id),
                        std::slice::from_ref(e),
                    )
                    .await?;
                    if let Some(first) = &e.initial {
                        self.apply_body(&mut tx, scope, &e.id, first).await?;
                    }
                }
            }
        }
        tx.commit().await?;
        Ok(plan.answers)
    }

    /// What a commit writes besides the execution row: queued work, waits, step records,
    /// approvals and child runs. Shared by `commit` and by executions written with their first
    /// step.
    async fn apply_body(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        scope: &Scope,
        id: &str,
        c: &Commit,
    ) -> Result<()> {
        let now = self.now;
        for item in &c.done_items {
            sqlx::query("DELETE FROM inbox WHERE id = $1 AND execution_id = $2")
                .bind(item)
                .bind(id)
                .execute(&mut **tx)
                .await?;
        }
        for key in &c.cancel_keys {
            sqlx::query("DELETE FROM inbox WHERE execution_id = $1 AND item_key = $2")
                .bind(id)
                .bind(key)
                .execute(&mut **tx)
                .await?;
        }
        if c.finished {
            sqlx::query("DELETE FROM inbox WHERE execution_id = $1")
                .bind(id)
                .execute(&mut **tx)
                .await?;
            sqlx::query("DELETE FROM awaits WHERE execution_id = $1")
                .bind(id)
                .execute(&mut **tx)
                .await?;
        } else {
            for item in &c.new_items {
                sqlx::query(sql(format!(
                    "INSERT INTO inbox (execution_id, tenant_id, environment_id, kind, item_key, payload, run_at_ms) \
                     VALUES ($1, $2, $3, $4, $5, $6, COALESCE($7, {now}))"
                )))
                .bind(id)
                .bind(&scope.tenant)
                .bind(&scope.environment)
                .bind(item.work.kind())
                .bind(item.key.as_deref())
                .bind(item.work.payload())
                .bind(item.run_at_ms)
                .execute(&mut **tx)
                .await?;
            }
            for thread in &c.awaits_remove {
                sqlx::query("DELETE FROM awaits WHERE execution_id = $1 AND thread = $2")
                    .bind(id)
                    .bind(thread)
                    .execute(&mut **tx)
                    .await?;
            }
            for a in &c.awaits_add {
                let (path, text) = a
                    .requires
                    .as_ref()
                    .map(|(p, t)| (p.as_str(), t.as_str()))
                    .unzip();
                sqlx::query(
                    "INSERT INTO awaits (tenant_id, environment_id, event_type, execution_id, thread, match_path, match_text) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) \
                     ON CONFLICT (execution_id, thread) DO UPDATE SET event_type = $3, match_path = $6, match_text = $7",
                )
                .bind(&scope.tenant)
                .bind(&scope.environment)
                .bind(&a.event_type)
                .bind(id)
                .bind(a.thread)
                .bind(path)
                .bind(text)
                .execute(&mut **tx)
                .await?;
            }
        }
        for s in &c.steps {
            // Written new, or else updated (a step record that ends in a later commit is
            // counted by the update's trigger, one written ended here).
            let inserted = sqlx::query(sql(format!(
                "INSERT INTO step_executions (execution_id, record_key, tenant_id, environment_id, step_id, step_type, status, attempt, record, started_ms, updated_ms, seq) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, {now}, {now}, \
                   (SELECT COALESCE(MAX(seq), 0) + 1 FROM step_executions WHERE execution_id = $1)) \
                 ON CONFLICT (execution_id, record_key) DO NOTHING"
            )))
            .bind(id)
            .bind(&s.key)
            .bind(&scope.tenant)
            .bind(&scope.environment)
            .bind(&s.step_id)
            .bind(&s.step_type)
            .bind(&s.status)
            .bind(s.attempt)
            .bind(s.record.as_str())
            .execute(&mut **tx)
            .await?
            .rows_affected();
            if inserted == 0 {
                sqlx::query(sql(format!(
                    "UPDATE step_executions SET status = $3, record = $4, updated_ms = {now} \
                     WHERE execution_id = $1 AND record_key = $2"
                )))
                .bind(id)
                .bind(&s.key)
                .bind(&s.status)
                .bind(s.record.as_str())
                .execute(&mut **tx)
                .await?;
            } else if crate::stats::is_final(&s.status) {
                sqlx::query(sql(crate::stats::ended_attempt_sql(now, self.shard)))
                    .bind(&scope.tenant)
                    .bind(&scope.environment)
                    .bind(id)
                    .bind(&s.step_id)
                    .bind(&s.status)
                    .execute(&mut **tx)
                    .await?;
            }
        }
        for a in &c.approvals {
            sqlx::query(sql(format!(
                "INSERT INTO approvals (id, tenant_id, environment_id, execution_id, step_id, status, approver_role, entity, entity_id, message, requested_ms, expires_ms) \
                 VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $8, $9, {now}, $10)"
            )))
            .bind(&a.id)
            .bind(&scope.tenant)
            .bind(&scope.environment)
            .bind(id)
            .bind(&a.step_id)
            .bind(a.approver_role.as_deref())
            .bind(a.entity.as_deref())
            .bind(a.entity_id.as_deref())
            .bind(a.message.as_deref())
            .bind(a.expires_ms)
            .execute(&mut **tx)
            .await?;
        }
        let closed = c
            .withdrawn_approvals
            .iter()
            .map(|a| (a, "withdrawn"))
            .chain(c.expired_approvals.iter().map(|a| (a, "expired")));
        for (a, status) in closed {
            sqlx::query(sql(format!(
                "UPDATE approvals SET status = $3, decided_ms = {now} WHERE id = $1 AND execution_id = $2 AND status = 'pending'"
            )))
            .bind(a)
            .bind(id)
            .bind(status)
            .execute(&mut **tx)
            .await?;
        }
        if !c.new_executions.is_empty() {
            self.insert_executions(tx, scope, None, &c.new_executions)
                .await?;
        }
        for (other, item) in &c.other_items {
            self.enqueue_query(scope, other, item)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }
}

#[async_trait]
impl Store for SqlStore {
    async fn bootstrap(&self, admin_key_hash: &str) -> Result<Bootstrap> {
        let mut tx = self.begin().await?;
        let existing = sqlx::query(
            "SELECT tenant_id, id FROM environments \
             ORDER BY CASE WHEN id = 'production' THEN 0 ELSE 1 END, created_ms, tenant_id, id LIMIT 1",
        )
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(row) = existing {
            tx.commit().await?;
            return Ok(Bootstrap {
                scope: Scope::new(row.try_get::<String, _>(0)?, row.try_get::<String, _>(1)?),
                created: false,
            });
        }
        let now = self.now;
        let scope = Scope::new("default", "production");
        sqlx::query(sql(format!(
            "INSERT INTO tenants (id, name, created_ms) VALUES ($1, 'Default', {now})"
        )))
        .bind(&scope.tenant)
        .execute(&mut *tx)
        .await?;
        for env in ["development", "production"] {
            sqlx::query(sql(format!("INSERT INTO environments (tenant_id, id, name, created_ms) VALUES ($1, $2, $2, {now})")))
                .bind(&scope.tenant)
                .bind(env)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(sql(format!(
            "INSERT INTO api_keys (id, tenant_id, environment_id, key_hash, role, name, created_ms, platform) VALUES ($1, $2, $3, $4, 'admin', 'bootstrap admin', {now}, 1)"
        )))
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(admin_key_hash)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Bootstrap {
            scope,
            created: true,
        })
    }

    async fn api_key(&self, key_hash: &str) -> Result<Option<ApiKey>> {
        self.find_api_key(key_hash).await
    }
    async fn set_workflow_enabled(
        &self,
        scope: &Scope,
        workflow_id: &str,
        enabled: bool,
    ) -> Result<()> {
        self.update_enabled(scope, workflow_id, enabled).await
    }
    async fn workflow_versions(
        &self,
        scope: &Scope,
        workflow_id: &str,
    ) -> Result<Vec<WorkflowVersion>> {
        self.list_versions(scope, workflow_id).await
    }
    async fn activate_version(
        &self,
        scope: &Scope,
        workflow_id: &str,
        version: i64,
    ) -> Result<WorkflowVersion> {
        self.make_current(scope, workflow_id, version).await
    }
    async fn create_tenant(&self, id: &str, name: &str) -> Result<Tenant> {
        self.insert_tenant(id, name).await
    }
    async fn tenants(&self) -> Result<Vec<Tenant>> {
        self.list_tenants(None).await
    }
    async fn tenant(&self, id: &str) -> Result<Option<Tenant>> {
        Ok(self.list_tenants(Some(id)).await?.pop())
    }
    async fn create_environment(&self, tenant: &str, id: &str) -> Result<()> {
        self.insert_environment(tenant, id).await
    }
    async fn create_api_key(&self, key: &NewApiKey) -> Result<ApiKey> {
        self.insert_api_key(key).await
    }
    async fn api_keys(
        &self,
        tenant: Option<&str>,
        environment: Option<&str>,
    ) -> Result<Vec<ApiKey>> {
        self.list_api_keys(tenant, environment, None).await
    }
    async fn api_key_by_id(&self, tenant: Option<&str>, id: &str) -> Result<Option<ApiKey>> {
        Ok(self.list_api_keys(tenant, None, Some(id)).await?.pop())
    }
    async fn revoke_api_key(&self, tenant: Option<&str>, id: &str) -> Result<()> {
        self.set_revoked(tenant, id).await
    }

    async fn create_user(&self, user: &NewUser) -> Result<User> {
        self.insert_user(user).await
    }
    async fn users(&self, tenant: &str) -> Result<Vec<User>> {
        self.list_users(Some(tenant), None).await
    }
    async fn user(&self, tenant: Option<&str>, id: &str) -> Result<Option<User>> {
        Ok(self.list_users(tenant, Some(id)).await?.pop())
    }
    async fn user_login(&self, tenant: &str, email: &str) -> Result<Option<(User, String)>> {
        self.find_login(tenant, email).await
    }
    async fn update_user(
        &self,
        tenant: Option<&str>,
        id: &str,
        change: &UserChange,
    ) -> Result<User> {
        self.change_user(tenant, id, change).await
    }
    async fn create_team(&self, scope: &Scope, team: &NewTeam) -> Result<Team> {
        self.write_team(scope, team, false).await
    }
    async fn replace_team(&self, scope: &Scope, team: &NewTeam) -> Result<Team> {
        self.write_team(scope, team, true).await
    }
    async fn teams(&self, scope: &Scope) -> Result<Vec<Team>> {
        self.list_teams(scope, None).await
    }
    async fn team(&self, scope: &Scope, name: &str) -> Result<Option<Team>> {
        Ok(self.list_teams(scope, Some(name)).await?.pop())
    }
    async fn delete_team(&self, scope: &Scope, name: &str) -> Result<()> {
        self.remove_team(scope, name).await
    }
    async fn create_session(&self, session: &NewSession) -> Result<Session> {
        self.insert_session(session).await
    }
    async fn session(&self, token_hash: &str) -> Result<Option<Session>> {
        self.find_session(token_hash).await
    }
    async fn revoke_session(&self, id: &str) -> Result<()> {
        self.end_session(id).await
    }

    async fn put_secret(
        &self,
        scope: &Scope,
        name: &str,
        sealed: &str,
        policy: &SecretPolicy,
        if_updated_ms: Option<i64>,
    ) -> Result<bool> {
        self.upsert_secret(scope, name, sealed, policy, if_updated_ms)
            .await
    }
    async fn secrets(&self, scope: &Scope) -> Result<Vec<SecretRow>> {
        self.list_secrets(scope, None).await
    }
    async fn secret(&self, scope: &Scope, name: &str) -> Result<Option<SecretRow>> {
        Ok(self.list_secrets(scope, Some(name)).await?.pop())
    }
    async fn delete_secret(&self, scope: &Scope, name: &str) -> Result<()> {
        self.remove_secret(scope, name).await
    }
    async fn scope_setting(&self, scope: &Scope, name: &str) -> Result<Option<ScopeSetting>> {
        self.read_scope_setting(scope, name).await
    }
    async fn put_scope_setting(
        &self,
        scope: &Scope,
        name: &str,
        value: &serde_json::Value,
    ) -> Result<ScopeSetting> {
        self.write_scope_setting(scope, name, value).await
    }
    async fn delete_scope_setting(&self, scope: &Scope, name: &str) -> Result<()> {
        self.remove_scope_setting(scope, name).await
    }
    async fn due_items(&self) -> Result<i64> {
        let row = sqlx::query(sql(format!(
            "SELECT COUNT(*) AS n FROM inbox WHERE run_at_ms <= {}",
            self.now
        )))
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get::<i64, _>("n")?)
    }
    async fn create_alert(&self, scope: &Scope, id: &str, definition: &Value) -> Result<AlertRow> {
        self.insert_alert(scope, id, definition)
            .await
            .map_err(|e| match e {
                Error::Taken(_) => Error::Conflict(format!("an alert '{id}' exists")),
                other => other,
            })
    }
    async fn replace_alert(&self, scope: &Scope, id: &str, definition: &Value) -> Result<AlertRow> {
        SqlStore::replace_alert(self, scope, id, definition).await
    }
    async fn alert(&self, scope: &Scope, id: &str) -> Result<Option<AlertRow>> {
        self.one_alert(scope, id).await
    }
    async fn alerts(&self, scope: &Scope) -> Result<Vec<AlertRow>> {
        self.list_alerts(scope).await
    }
    async fn delete_alert(&self, scope: &Scope, id: &str) -> Result<()> {
        self.remove_alert(scope, id).await
    }
    async fn judge_alert(
        &self,
        scope: &Scope,
        id: &str,
        from: &str,
        to: &str,
        value: f64,
    ) -> Result<bool> {
        SqlStore::judge_alert(self, scope, id, from, to, value).await
    }
    async fn measure_alert(
        &self,
        scope: &Scope,
        metric: AlertMetric,
        workflow_id: Option<&str>,
        since_ms: i64,
    ) -> Result<f64> {
        SqlStore::measure_alert(self, scope, metric, workflow_id, since_ms).await
    }
    async fn take_lead(&self, name: &str, owner: &str, ttl_ms: i64) -> Result<bool> {
        SqlStore::take_lead(self, name, owner, ttl_ms).await
    }
    async fn prune_scope(&self, scope: &Scope, before_ms: i64, limit: i64) -> Result<Pruned> {
        self.prune_scope_batch(scope, before_ms, limit).await
    }
    async fn prune_shared(&self, audit_before_ms: i64, limit: i64) -> Result<Pruned> {
        self.prune_shared_batch(audit_before_ms, limit).await
    }
    async fn probe(&self) -> Result<()> {
        self.write_probe().await
    }
    async fn setting_or_insert(&self, name: &str, value: &str) -> Result<String> {
        self.keep_setting(name, value).await
    }

    async fn record(
        &self,
        scope: &Scope,
        entity_type: &str,
        entity_id: &str,
    ) -> Result<Option<Value>> {
        self.get_record(scope, entity_type, entity_id).await
    }
    async fn records(
        &self,
        scope: &Scope,
        entity_type: &str,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Value>> {
        self.list_records(scope, entity_type, after, limit).await
    }
    async fn write_record(&self, scope: &Scope, write: &RecordWrite<'_>) -> Result<(Value, bool)> {
        self.save_record(scope, write).await
    }
    async fn delete_record(&self, scope: &Scope, entity_type: &str, entity_id: &str) -> Result<()> {
        self.remove_record(scope, entity_type, entity_id).await
    }
    async fn add_note(&self, scope: &Scope, note: &NewNote) -> Result<Value> {
        self.insert_note(scope, note).await
    }
    async fn notes(&self, scope: &Scope, entity_type: &str, entity_id: &str) -> Result<Vec<Value>> {
        self.list_notes(scope, entity_type, entity_id).await
    }
    async fn add_notifications(
        &self,
        scope: &Scope,
        list: &[NewNotification],
    ) -> Result<Vec<Value>> {
        self.insert_notifications(scope, list).await
    }
    async fn notifications(
        &self,
        scope: &Scope,
        filter: &NotificationFilter,
    ) -> Result<Vec<Value>> {
        self.list_notifications(scope, filter).await
    }
    async fn mark_notification_read(
        &self,
        scope: &Scope,
        id: &str,
        recipient: Option<&str>,
    ) -> Result<Value> {
        self.set_read(scope, id, recipient).await
    }
    async fn add_mail(
        &self,
        scope: &Scope,
        message: &Value,
        status: &str,
        execution_id: Option<&str>,
        op_key: Option<&str>,
    ) -> Result<(Value, bool)> {
        self.insert_mail(scope, message, status, execution_id, op_key)
            .await
    }
    async fn set_mail_status(
        &self,
        scope: &Scope,
        id: &str,
        status: &str,
        error: Option<&str>,
    ) -> Result<()> {
        self.update_mail_status(scope, id, status, error).await
    }
    async fn outbox(
        &self,
        scope: &Scope,
        status: Option<&str>,
        before: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Value>> {
        self.list_mail(scope, status, before, limit).await
    }
    async fn put_email_template(
        &self,
        scope: &Scope,
        template: &EmailTemplate,
        create_only: bool,
    ) -> Result<(Value, bool)> {
        self.upsert_template(scope, template, create_only).await
    }
    async fn email_templates(&self, scope: &Scope, name: Option<&str>) -> Result<Vec<Value>> {
        self.templates(scope, name).await
    }
    async fn delete_email_template(&self, scope: &Scope, name: &str) -> Result<()> {
        self.remove_template(scope, name).await
    }

    async fn put_named(
        &self,
        kind: Named,
        scope: &Scope,
        name: &str,
        definition: &Value,
        create_only: bool,
    ) -> Result<(Value, bool)> {
        self.upsert_named(kind, scope, name, definition, create_only)
            .await
    }
    async fn named(&self, kind: Named, scope: &Scope) -> Result<Vec<Value>> {
        self.list_named(kind, scope, None).await
    }
    async fn named_one(&self, kind: Named, scope: &Scope, name: &str) -> Result<Option<Value>> {
        Ok(self.list_named(kind, scope, Some(name)).await?.pop())
    }
    async fn delete_named(&self, kind: Named, scope: &Scope, name: &str) -> Result<()> {
        self.remove_named(kind, scope, name).await
    }
    async fn cached_context(
        &self,
        scope: &Scope,
        source: &str,
        entity_id: &str,
    ) -> Result<Option<CachedContext>> {
        self.cached(scope, source, entity_id, true).await
    }
    async fn cache_context(
        &self,
        scope: &Scope,
        entry: &CachedContext,
        ttl_ms: i64,
    ) -> Result<CachedContext> {
        self.cache(scope, entry, ttl_ms).await
    }
    async fn uncache_context(
        &self,
        scope: &Scope,
        entity_type: Option<&str>,
        entity_id: Option<&str>,
        source: Option<&str>,
    ) -> Result<u64> {
        self.uncache(scope, entity_type, entity_id, source).await
    }

    async fn create_approval(
        &self,
        scope: &Scope,
        execution_id: &str,
        approval: &NewApproval,
    ) -> Result<Approval> {
        if let Some(found) = self.approval(scope, &approval.id).await? {
            return Ok(found);
        }
        let now = self.now;
        let done = sqlx::query(sql(format!(
            "INSERT INTO approvals (id, tenant_id, environment_id, execution_id, step_id, status, approver_role, entity, entity_id, message, requested_ms, expires_ms) \
             VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $8, $9, {now}, $10)"
        )))
        .bind(&approval.id)
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(execution_id)
        .bind(&approval.step_id)
        .bind(approval.approver_role.as_deref())
        .bind(approval.entity.as_deref())
        .bind(approval.entity_id.as_deref())
        .bind(approval.message.as_deref())
        .bind(approval.expires_ms)
        .execute(&self.pool)
        .await;
        match done {
            // Another attempt of the same step made it first.
            Err(e)
                if e.as_database_error()
                    .is_some_and(|d| d.is_unique_violation()) => {}
            other => {
                other?;
            }
        }
        self.approval(scope, &approval.id)
            .await?
            .ok_or(Error::NotFound)
    }

    async fn remember_delivery(
        &self,
        scope: &Scope,
        signature: &str,
        expires_ms: i64,
    ) -> Result<bool> {
        // A new signature is stored; one whose window has passed is taken over; a live one is
        // a replay and changes nothing. The scope's passed windows go (a scope keeps only the
        // deliveries of its live windows).
        let now = self.now;
        sqlx::query(sql(format!(
            "DELETE FROM webhook_deliveries WHERE tenant_id = $1 AND environment_id = $2 \
             AND expires_ms < {now}"
        )))
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .execute(&self.pool)
        .await?;
        let done = sqlx::query(sql(format!(
            "INSERT INTO webhook_deliveries (tenant_id, environment_id, signature, expires_ms) \
             VALUES ($1, $2, $3, $4) \
             ON CONFLICT (tenant_id, environment_id, signature) \
             DO UPDATE SET expires_ms = excluded.expires_ms WHERE webhook_deliveries.expires_ms < {now}"
        )))
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(signature)
        .bind(expires_ms)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn debounce(
        &self,
        scope: &Scope,
        workflow_id: &str,
        key: &str,
        event_type: &str,
        payload: &Value,
        window_ms: i64,
    ) -> Result<()> {
        let now = self.now;
        sqlx::query(sql(format!(
            "INSERT INTO debounces (tenant_id, environment_id, workflow_id, debounce_key, event_type, payload, due_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, {now} + $7) \
             ON CONFLICT (tenant_id, environment_id, workflow_id, debounce_key) \
             DO UPDATE SET payload = excluded.payload, event_type = excluded.event_type"
        )))
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(workflow_id)
        .bind(key)
        .bind(event_type)
        .bind(payload.to_string())
        .bind(window_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn due_debounces(&self, limit: i64) -> Result<Vec<DueDebounce>> {
        let now = self.now;
        sqlx::query(sql(format!(
            "SELECT tenant_id, environment_id, workflow_id, debounce_key, event_type, payload FROM debounces \
             WHERE due_ms <= {now} ORDER BY due_ms LIMIT $1"
        )))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            let payload: String = r.try_get("payload")?;
            Ok(DueDebounce {
                scope: Scope::new(r.try_get::<String, _>("tenant_id")?, r.try_get::<String, _>("environment_id")?),
                workflow_id: r.try_get("workflow_id")?,
                key: r.try_get("debounce_key")?,
                event_type: r.try_get("event_type")?,
                payload: serde_json::from_str(&payload).map_err(|e| Error::Corrupt(format!("debounce payload: {e}")))?,
                payload_text: payload,
            })
        })
        .collect()
    }

    async fn fire_debounce(&self, due: &DueDebounce, execution: &NewExecution) -> Result<bool> {
        let mut tx = self.begin().await?;
        // Only the payload that was read: a newer one arrived meanwhile waits for the next look.
        let now = self.now;
        let taken = sqlx::query(sql(format!(
            "DELETE FROM debounces WHERE tenant_id = $1 AND environment_id = $2 AND workflow_id = $3 \
             AND debounce_key = $4 AND payload = $5 AND due_ms <= {now}"
        )))
        .bind(&due.scope.tenant)
        .bind(&due.scope.environment)
        .bind(&due.workflow_id)
        .bind(&due.key)
        .bind(&due.payload_text)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if taken == 0 {
            return Ok(false);
        }
        self.insert_executions(&mut tx, &due.scope, None, std::slice::from_ref(execution))
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn last_schedule_fire(
        &self,
        scope: &Scope,
        workflow_id: &str,
        trigger: i64,
    ) -> Result<Option<i64>> {
        let row = sqlx::query(
            "SELECT MAX(fire_ms) AS last FROM schedule_fires \
             WHERE tenant_id = $1 AND environment_id = $2 AND workflow_id = $3 AND trigger_index = $4",
        )
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(workflow_id)
        .bind(trigger)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get::<Option<i64>, _>("last")?)
    }

    async fn fire_schedule(
        &self,
        scope: &Scope,
        fire: &ScheduleFire<'_>,
        execution: Option<&NewExecution>,
    ) -> Result<bool> {
        let mut tx = self.begin().await?;
        let now = self.now;
        let recorded = sqlx::query(sql(format!(
            "INSERT INTO schedule_fires (tenant_id, environment_id, workflow_id, trigger_index, fire_ms, execution_id, created_ms) \
             SELECT $1, $2, $3, $4, $5, $6, {now} WHERE EXISTS (SELECT 1 FROM workflows \
               WHERE tenant_id = $1 AND environment_id = $2 AND workflow_id = $3 AND current_version = $7 \
               AND enabled = 1 AND deleted_ms IS NULL) \
             ON CONFLICT (tenant_id, environment_id, workflow_id, trigger_index, fire_ms) DO NOTHING"
        )))
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(fire.workflow_id)
        .bind(fire.trigger)
        .bind(fire.fire_ms)
        .bind(execution.map(|e| e.id.as_str()))
        .bind(fire.version)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if recorded == 0 {
            return Ok(false);
        }
        if let Some(execution) = execution {
            self.insert_executions(&mut tx, scope, None, std::slice::from_ref(execution))
                .await?;
        }
        // A schedule keeps a day of fire records (its latest is always among them).
        if (fire.fire_ms / 1000) % 64 == 0 {
            sqlx::query(
                "DELETE FROM schedule_fires WHERE tenant_id = $1 AND environment_id = $2 \
                 AND workflow_id = $3 AND trigger_index = $4 AND fire_ms < $5",
            )
            .bind(&scope.tenant)
            .bind(&scope.environment)
            .bind(fire.workflow_id)
            .bind(fire.trigger)
            .bind(fire.fire_ms - 86_400_000)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn scopes(&self) -> Result<Vec<Scope>> {
        let rows = sqlx::query("SELECT tenant_id, id FROM environments ORDER BY tenant_id, id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Scope::new(
                    r.try_get::<String, _>(0)?,
                    r.try_get::<String, _>(1)?,
                ))
            })
            .collect()
    }

    async fn put_workflow(
        &self,
        scope: &Scope,
        workflow_id: &str,
        definition: &Value,
        enabled: bool,
    ) -> Result<WorkflowVersion> {
        let now = self.now;
        let mut tx = self.begin().await?;
        let last: Option<i64> = sqlx::query(
            "SELECT MAX(version) AS v FROM workflow_versions WHERE tenant_id = $1 AND environment_id = $2 AND workflow_id = $3",
        )
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(workflow_id)
        .fetch_one(&mut *tx)
        .await?
        .try_get("v")?;
        let version = last.unwrap_or(0) + 1;
        sqlx::query(sql(format!(
            "INSERT INTO workflow_versions (tenant_id, environment_id, workflow_id, version, definition, created_ms) VALUES ($1, $2, $3, $4, $5, {now})"
        )))
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(workflow_id)
        .bind(version)
        .bind(json_text(definition))
        .execute(&mut *tx)
        .await?;
        sqlx::query(sql(format!(
            "INSERT INTO workflows (tenant_id, environment_id, workflow_id, current_version, enabled, deleted_ms, updated_ms) \
             VALUES ($1, $2, $3, $4, $5, NULL, {now}) \
             ON CONFLICT (tenant_id, environment_id, workflow_id) DO UPDATE SET current_version = $4, enabled = $5, deleted_ms = NULL, updated_ms = {now}"
        )))
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(workflow_id)
        .bind(version)
        .bind(i64::from(enabled))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.workflow_version(scope, workflow_id, version)
            .await?
            .ok_or(Error::NotFound)
    }

    async fn workflow(&self, scope: &Scope, workflow_id: &str) -> Result<Option<WorkflowVersion>> {
        let row = sqlx::query(
            "SELECT v.workflow_id, v.version, w.enabled, v.definition, v.created_ms, COALESCE(w.updated_ms, v.created_ms) AS updated_ms FROM workflows w \
             JOIN workflow_versions v ON v.tenant_id = w.tenant_id AND v.environment_id = w.environment_id \
               AND v.workflow_id = w.workflow_id AND v.version = w.current_version \
             WHERE w.tenant_id = $1 AND w.environment_id = $2 AND w.workflow_id = $3 AND w.deleted_ms IS NULL",
        )
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(workflow_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(Self::workflow_row).transpose()
    }

    async fn workflow_version(
        &self,
        scope: &Scope,
        workflow_id: &str,
        version: i64,
    ) -> Result<Option<WorkflowVersion>> {
        let row = sqlx::query(
            "SELECT v.workflow_id, v.version, COALESCE(w.enabled, 0) AS enabled, v.definition, v.created_ms, COALESCE(w.updated_ms, v.created_ms) AS updated_ms FROM workflow_versions v \
             LEFT JOIN workflows w ON w.tenant_id = v.tenant_id AND w.environment_id = v.environment_id AND w.workflow_id = v.workflow_id \
             WHERE v.tenant_id = $1 AND v.environment_id = $2 AND v.workflow_id = $3 AND v.version = $4",
        )
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(workflow_id)
        .bind(version)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(Self::workflow_row).transpose()
    }

    async fn workflows(&self, scope: &Scope) -> Result<Vec<WorkflowVersion>> {
        let rows = sqlx::query(
            "SELECT v.workflow_id, v.version, w.enabled, v.definition, v.created_ms, COALESCE(w.updated_ms, v.created_ms) AS updated_ms FROM workflows w \
             JOIN workflow_versions v ON v.tenant_id = w.tenant_id AND v.environment_id = w.environment_id \
               AND v.workflow_id = w.workflow_id AND v.version = w.current_version \
             WHERE w.tenant_id = $1 AND w.environment_id = $2 AND w.deleted_ms IS NULL ORDER BY w.workflow_id",
        )
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(Self::workflow_row).collect()
    }

    async fn delete_workflow(
        &self,
        scope: &Scope,
        workflow_id: &str,
        force: bool,
    ) -> Result<Vec<String>> {
        let now = self.now;
        let mut tx = self.begin().await?;
        let exists = sqlx::query(
            "SELECT 1 AS one FROM workflows WHERE tenant_id = $1 AND environment_id = $2 AND workflow_id = $3 AND deleted_ms IS NULL",
        )
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(workflow_id)
        .fetch_optional(&mut *tx)
        .await?;
        if exists.is_none() {
            return Err(Error::NotFound);
        }
        let running: Vec<String> = sqlx::query(
            "SELECT id FROM executions WHERE tenant_id = $1 AND environment_id = $2 AND workflow_id = $3 \
             AND status NOT IN ('completed', 'failed', 'cancelled') ORDER BY id",
        )
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(workflow_id)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| r.try_get::<String, _>("id"))
        .collect::<Result<_, _>>()?;
        if !running.is_empty() && !force {
            return Err(Error::Conflict(format!(
                "workflow '{workflow_id}' has {} running execution(s); delete with force to cancel them",
                running.len()
            )));
        }
        for id in &running {
            sqlx::query(sql(format!(
                "INSERT INTO inbox (execution_id, tenant_id, environment_id, kind, payload, run_at_ms) VALUES ($1, $2, $3, 'cancel', '{{}}', {now})"
            )))
            .bind(id)
            .bind(&scope.tenant)
            .bind(&scope.environment)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(sql(format!(
            "UPDATE workflows SET deleted_ms = {now}, enabled = 0, updated_ms = {now} WHERE tenant_id = $1 AND environment_id = $2 AND workflow_id = $3"
        )))
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(workflow_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(running)
    }

    fn groups_writes(&self) -> bool {
        self.native.is_some()
    }

    async fn ingest_many(&self, batch: Arc<[Entry]>) -> Result<Vec<Ingested>> {
        let answers = match &self.native {
            Some(native)
                if batch
                    .iter()
                    .all(|(_, _, list)| list.iter().all(batch::is_simple)) =>
            {
                native.write(batch.clone(), self.now).await?
            }
            _ => {
                let mut tries = 0;
                let began = std::time::Instant::now();
                let answers = loop {
                    match self.write_batch(&batch).await {
                        // Another node stored the same idempotency key since this batch read
                        // it: read again, and answer with that event.
                        Err(Error::Taken(e)) if tries < 3 && is_idempotency_race(&e) => {
                            tries += 1;
                        }
                        answers => break answers?,
                    }
                };
                crate::metrics::committed(began.elapsed(), batch.len());
                answers
            }
        };
        let mut out = Vec::with_capacity(answers.len());
        for a in answers {
            out.push(match a {
                Answer::New(event_id, queued) => Ingested::New { event_id, queued },
                Answer::Seen(scope, event_id) => self.duplicate(&scope, event_id).await?,
                Answer::Reused(event_id) => Ingested::KeyReused { event_id },
            });
        }
        Ok(out)
    }

    async fn start_executions(&self, scope: &Scope, executions: &[NewExecution]) -> Result<()> {
        let mut tx = self.begin().await?;
        self.insert_executions(&mut tx, scope, None, executions)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn enqueue(&self, scope: &Scope, execution_id: &str, item: NewItem) -> Result<()> {
        let result = self
            .enqueue_query(scope, execution_id, &item)
            .execute(&self.pool)
            .await?;
        if result.rows_affected() == 0 {
            return Err(Error::NotFound);
        }
        Ok(())
    }

    async fn awaiting(&self, scope: &Scope, event_type: &str) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query(
            "SELECT execution_id, thread FROM awaits WHERE tenant_id = $1 AND environment_id = $2 AND event_type = $3 ORDER BY execution_id, thread",
        )
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(event_type)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("execution_id")?, r.try_get("thread")?)))
            .collect()
    }

    async fn claim_except(
        &self,
        owner: &str,
        lease_ms: i64,
        limit: i64,
        skip_tenants: &[String],
    ) -> Result<Vec<Claim>> {
        let now = self.now;
        // Tenants whose actions already wait for the pool of the node claiming are left to
        // other nodes, or to later.
        let skip = if skip_tenants.is_empty() {
            String::new()
        } else {
            let params: Vec<String> = (0..skip_tenants.len())
                .map(|i| format!("${}", i + 4))
                .collect();
            format!("AND i.tenant_id NOT IN ({})", params.join(", "))
        };
        let lock = if self.backend == Backend::Postgres {
            "FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        let mut tx = self.begin().await?;
        // Candidates come from the due items (indexed by run_at), not from a scan of executions.
        // On PostgreSQL a candidate another node locked, claimed and even finished since this
        // statement's snapshot is read again when it is locked, and only the `e` conditions
        // are checked again: the epoch seen with the due item must still be the row's, or
        // the candidate was claimed meanwhile (and its items may be gone) and is skipped.
        let rows = sqlx::query(sql(format!(
            "UPDATE executions SET lease_owner = $1, lease_expires_ms = {now} + $2, epoch = epoch + 1 \
             WHERE (tenant_id, environment_id, id) IN ( \
               SELECT e.tenant_id, e.environment_id, e.id FROM executions e \
               WHERE (e.tenant_id, e.environment_id, e.id, e.epoch) IN ( \
                              SELECT i.tenant_id, i.environment_id, i.execution_id, x.epoch FROM inbox i \
                              JOIN executions x ON x.tenant_id = i.tenant_id AND x.environment_id = i.environment_id AND x.id = i.execution_id \
                              WHERE i.run_at_ms <= {now} AND (x.lease_owner IS NULL OR x.lease_expires_ms < {now}) {skip} \
                              ORDER BY i.run_at_ms LIMIT 1000) \
                 AND (e.lease_owner IS NULL OR e.lease_expires_ms < {now}) \
               LIMIT $3 {lock}) \
             RETURNING id, parent_id, tenant_id, environment_id, workflow_id, workflow_version, epoch, state"
        )))
        .bind(owner)
        .bind(lease_ms)
        .bind(limit);
        let rows = skip_tenants
            .iter()
            .fold(rows, |q, t| q.bind(t))
            .fetch_all(&mut *tx)
            .await?;
        let mut claims = Vec::with_capacity(rows.len());
        for r in rows {
            let id: String = r.try_get("id")?;
            let scope = Scope::new(
                r.try_get::<String, _>("tenant_id")?,
                r.try_get::<String, _>("environment_id")?,
            );
            let items = sqlx::query(sql(format!(
                "SELECT id, kind, item_key, payload, run_at_ms FROM inbox \
                 WHERE execution_id = $1 AND tenant_id = $2 AND environment_id = $3 AND run_at_ms <= {now} ORDER BY run_at_ms, id"
            )))
            .bind(&id)
            .bind(&scope.tenant)
            .bind(&scope.environment)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(Self::item)
            .collect::<Result<Vec<_>>>()?;
            // The actions this claim hands over are in flight from now on: their items are due
            // again (to another node) only when this lease has run out, so while they are in
            // flight they do not sit among the due items every claim looks through.
            if items.iter().any(|i| matches!(i.work, Work::Perform { .. })) {
                sqlx::query(sql(format!(
                    "UPDATE inbox SET run_at_ms = {now} + $4 \
                     WHERE execution_id = $1 AND tenant_id = $2 AND environment_id = $3 AND kind = 'perform' AND run_at_ms <= {now}"
                )))
                .bind(&id)
                .bind(&scope.tenant)
                .bind(&scope.environment)
                .bind(lease_ms)
                .execute(&mut *tx)
                .await?;
            }
            claims.push(Claim {
                parent_id: r.try_get("parent_id")?,
                scope,
                workflow_id: r.try_get("workflow_id")?,
                workflow_version: r.try_get("workflow_version")?,
                epoch: r.try_get("epoch")?,
                state: parse_json(&r.try_get::<String, _>("state")?, "execution state")?,
                execution_id: id,
                items,
            });
        }
        tx.commit().await?;
        Ok(claims)
    }

    async fn renew_leases(&self, owner: &str, lease_ms: i64, held: &[Held]) -> Result<Vec<bool>> {
        let now = self.now;
        let mut renewed = Vec::with_capacity(held.len());
        let mut tx = self.begin().await?;
        for h in held {
            let done = sqlx::query(sql(format!(
                "UPDATE executions SET lease_expires_ms = {now} + $1 \
                 WHERE tenant_id = $2 AND environment_id = $3 AND id = $4 AND lease_owner = $5 AND epoch = $6"
            )))
            .bind(lease_ms)
            .bind(&h.scope.tenant)
            .bind(&h.scope.environment)
            .bind(&h.execution_id)
            .bind(owner)
            .bind(h.epoch)
            .execute(&mut *tx)
            .await?;
            renewed.push(done.rows_affected() == 1);
        }
        tx.commit().await?;
        Ok(renewed)
    }

    async fn held_items(&self, owner: &str, limit: i64) -> Result<Vec<(String, Item)>> {
        let now = self.now;
        let rows = sqlx::query(sql(format!(
            "SELECT i.execution_id, i.id, i.kind, i.item_key, i.payload, i.run_at_ms FROM inbox i \
             JOIN executions x ON x.tenant_id = i.tenant_id AND x.environment_id = i.environment_id AND x.id = i.execution_id \
             WHERE i.run_at_ms <= {now} AND i.kind <> 'perform' AND x.lease_owner = $1 \
             ORDER BY i.run_at_ms, i.id LIMIT $2"
        )))
        .bind(owner)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("execution_id")?, Self::item(r)?)))
            .collect()
    }

    async fn release_leases(&self, owner: Option<&str>) -> Result<u64> {
        let now = self.now;
        let mut tx = self.begin().await?;
        // The actions of the released executions are due at once: nobody performs them now.
        sqlx::query(sql(format!(
            "UPDATE inbox SET run_at_ms = {now} WHERE kind = 'perform' AND run_at_ms > {now} \
             AND ($1 IS NULL OR EXISTS (SELECT 1 FROM executions x WHERE x.tenant_id = inbox.tenant_id \
                   AND x.environment_id = inbox.environment_id AND x.id = inbox.execution_id AND x.lease_owner = $1))"
        )))
        .bind(owner)
        .execute(&mut *tx)
        .await?;
        let released = sqlx::query(
            "UPDATE executions SET lease_owner = NULL, lease_expires_ms = NULL \
             WHERE lease_owner IS NOT NULL AND ($1 IS NULL OR lease_owner = $1)",
        )
        .bind(owner)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(released)
    }

    async fn commit(&self, owner: &str, claim: &Claim, c: Commit) -> Result<()> {
        let now = self.now;
        // On SQLite, the steps of running executions go in with the others waiting for the
        // writer (one transaction, one sync), unless they write other executions' rows.
        if let Some(native) = &self.native
            && crate::native::is_simple_step(&c)
        {
            return native.commit(owner, claim, c, now).await;
        }
        let scope = &claim.scope;
        let id = &claim.execution_id;
        let began = std::time::Instant::now();
        let mut tx = self.begin().await?;
        // The guard: this node still holds the lease at the epoch it claimed.
        let lease = match (c.release, c.extend_lease_ms) {
            (true, _) => "lease_owner = NULL, lease_expires_ms = NULL,".to_owned(),
            (false, Some(ms)) => {
                format!("lease_expires_ms = {now} + {},", ms.clamp(100, 3_600_000))
            }
            (false, None) => String::new(),
        };
        let updated = sqlx::query(sql(format!(
            "UPDATE executions SET {lease} state = $1, status = $2, decision = $3, reason = $4, error = $5, \
             completed_ms = CASE WHEN $6 = 1 THEN {now} ELSE completed_ms END, updated_ms = {now} \
             WHERE id = $7 AND tenant_id = $8 AND environment_id = $9 AND lease_owner = $10 AND epoch = $11"
        )))
        .bind(c.state.as_str())
        .bind(&c.status)
        .bind(c.decision.as_deref())
        .bind(c.reason.as_deref())
        .bind(c.error.as_deref())
        .bind(i64::from(c.finished))
        .bind(id)
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(owner)
        .bind(claim.epoch)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Err(Error::LeaseLost(id.clone()));
        }
        self.apply_body(&mut tx, scope, id, &c).await?;
        tx.commit().await?;
        crate::metrics::committed(began.elapsed(), 1);
        Ok(())
    }

    async fn execution(&self, scope: &Scope, id: &str) -> Result<Option<ExecutionRow>> {
        let row = sqlx::query(
            "SELECT id, workflow_id, workflow_version, event_id, parent_id, status, decision, reason, error, state, started_ms, completed_ms, updated_ms \
             FROM executions WHERE id = $1 AND tenant_id = $2 AND environment_id = $3",
        )
        .bind(id)
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(Self::execution_row).transpose()
    }

    async fn executions(&self, scope: &Scope, f: &ExecutionFilter) -> Result<Vec<ExecutionRow>> {
        let limit = if f.limit > 0 { f.limit.min(1000) } else { 100 };
        let offset = f.offset.clamp(0, MAX_OFFSET);
        let rare = match &f.event_type {
            Some(t) => self.events_of_type(scope, t, RARE_EVENTS + 1).await? <= RARE_EVENTS,
            None => false,
        };
        // Ids are UUIDv7s, which begin with the milliseconds they were made at: a time range
        // is an id range too (with a margin for clocks), read in the index instead of run by
        // run. A sub-workflow's run has its parent's id, and time, at the start of its own:
        // with a lower bound those runs are read apart, from the index of runs with a parent,
        // and the two pages merged.
        if f.since_ms.is_none() {
            return self
                .list_executions(scope, f, limit, offset, Runs::Ranged, rare)
                .await;
        }
        let page = self
            .list_executions(scope, f, limit + offset, 0, Runs::Ranged, rare)
            .await?;
        let children = self
            .list_executions(scope, f, limit + offset, 0, Runs::Children, rare)
            .await?;
        let mut rows: Vec<ExecutionRow> = page.into_iter().chain(children).collect();
        rows.sort_by(|a, b| b.id.cmp(&a.id));
        rows.dedup_by(|a, b| a.id == b.id);
        Ok(rows
            .into_iter()
            .skip(offset as usize)
            .take(limit as usize)
            .collect())
    }
    async fn put_rule(
        &self,
        scope: &Scope,
        rule_id: &str,
        definition: &Value,
        enabled: bool,
    ) -> Result<bool> {
        self.upsert_rule(scope, rule_id, definition, enabled).await
    }
    async fn rules(&self, scope: &Scope) -> Result<Vec<RuleRow>> {
        self.list_rules(scope, None).await
    }
    async fn rule(&self, scope: &Scope, rule_id: &str) -> Result<Option<RuleRow>> {
        Ok(self.list_rules(scope, Some(rule_id)).await?.pop())
    }
    async fn delete_rule(&self, scope: &Scope, rule_id: &str) -> Result<()> {
        self.remove_rule(scope, rule_id).await
    }
    async fn notify(&self, channel: &str, text: &str) -> Result<()> {
        self.send_message(channel, text).await
    }
    async fn listen(&self, channels: &[&str]) -> Result<Option<Listener>> {
        self.open_listener(channels).await
    }
    async fn finished_runs(
        &self,
        scope: &Scope,
        workflow_id: Option<&str>,
        since_ms: i64,
        until_ms: i64,
    ) -> Result<Vec<FinishedRuns>> {
        self.read_finished_runs(scope, workflow_id, since_ms, until_ms)
            .await
    }
    async fn ended_attempts(
        &self,
        scope: &Scope,
        workflow_id: &str,
        since_ms: i64,
        until_ms: i64,
    ) -> Result<Vec<EndedAttempts>> {
        self.read_ended_attempts(scope, workflow_id, since_ms, until_ms)
            .await
    }
    async fn last_runs(&self, scope: &Scope) -> Result<Vec<(String, i64)>> {
        self.read_last_runs(scope).await
    }
    async fn finished_by_workflow(
        &self,
        scope: &Scope,
        since_ms: i64,
        until_ms: i64,
    ) -> Result<Vec<(String, String, i64)>> {
        self.read_finished_by_workflow(scope, since_ms, until_ms)
            .await
    }
    async fn unfinished_runs(
        &self,
        scope: &Scope,
        workflow_id: Option<&str>,
    ) -> Result<Vec<(String, i64)>> {
        self.count_unfinished(scope, workflow_id).await
    }
    async fn pending_approvals(&self, scope: &Scope, workflow_id: Option<&str>) -> Result<i64> {
        self.count_pending_approvals(scope, workflow_id).await
    }
    async fn events(&self, scope: &Scope, filter: &EventFilter) -> Result<Vec<EventRow>> {
        self.list_events(scope, None, filter).await
    }
    async fn event(&self, scope: &Scope, id: &str) -> Result<Option<EventRow>> {
        Ok(self
            .list_events(
                scope,
                Some(id),
                &EventFilter {
                    limit: 1,
                    ..Default::default()
                },
            )
            .await?
            .pop())
    }

    async fn steps(&self, scope: &Scope, execution_id: &str) -> Result<Vec<Value>> {
        let rows = sqlx::query(
            "SELECT record, started_ms, updated_ms FROM step_executions WHERE execution_id = $1 AND tenant_id = $2 AND environment_id = $3 ORDER BY seq, started_ms, record_key",
        )
        .bind(execution_id)
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let mut record = parse_json(&r.try_get::<String, _>("record")?, "step record")?;
                // When the attempt was first written and last changed, by the database's clock.
                if let Value::Object(map) = &mut record {
                    let time = |ms: i64| {
                        chrono::DateTime::from_timestamp_millis(ms)
                            .map_or(Value::Null, |t| Value::String(t.to_rfc3339()))
                    };
                    let (started, updated): (i64, i64) =
                        (r.try_get("started_ms")?, r.try_get("updated_ms")?);
                    map.insert("started_at".into(), time(started));
                    map.insert("updated_at".into(), time(updated));
                    map.insert("duration_ms".into(), Value::from(updated - started));
                }
                Ok(record)
            })
            .collect()
    }

    async fn retry_execution(&self, scope: &Scope, id: &str) -> Result<()> {
        let now = self.now;
        let mut tx = self.begin().await?;
        let reopened = sqlx::query(sql(format!(
            "UPDATE executions SET status = 'retrying', error = NULL, completed_ms = NULL, updated_ms = {now} \
             WHERE id = $1 AND tenant_id = $2 AND environment_id = $3 AND status = 'failed'"
        )))
        .bind(id)
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .execute(&mut *tx)
        .await?;
        if reopened.rows_affected() == 0 {
            drop(tx);
            return match self.execution(scope, id).await? {
                Some(row) => Err(Error::Conflict(format!(
                    "the execution is {}; only a failed one can be retried",
                    row.status
                ))),
                None => Err(Error::NotFound),
            };
        }
        sqlx::query(sql(format!(
            "INSERT INTO inbox (execution_id, tenant_id, environment_id, kind, payload, run_at_ms) VALUES ($1, $2, $3, 'retry', '{{}}', {now})"
        )))
        .bind(id)
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn approval(&self, scope: &Scope, id: &str) -> Result<Option<Approval>> {
        Ok(self
            .list_approvals(
                scope,
                Some(id),
                &ApprovalFilter {
                    limit: 1,
                    ..Default::default()
                },
            )
            .await?
            .pop())
    }
    async fn approvals(&self, scope: &Scope, filter: &ApprovalFilter) -> Result<Vec<Approval>> {
        self.list_approvals(scope, None, filter).await
    }

    async fn decide_approval(
        &self,
        scope: &Scope,
        id: &str,
        approved: bool,
        by: &str,
        reason: Option<&str>,
    ) -> Result<()> {
        let now = self.now;
        let mut tx = self.begin().await?;
        let status = if approved { "approved" } else { "rejected" };
        let row = sqlx::query(sql(format!(
            "UPDATE approvals SET status = $1, decided_ms = {now}, decided_by = $2, decision_reason = $3 \
             WHERE id = $4 AND tenant_id = $5 AND environment_id = $6 AND status = 'pending' RETURNING execution_id"
        )))
        .bind(status)
        .bind(by)
        .bind(reason)
        .bind(id)
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            drop(tx);
            return match self.approval(scope, id).await? {
                Some(a) => Err(Error::Conflict(format!(
                    "approval '{id}' is already {}",
                    a.status
                ))),
                None => Err(Error::NotFound),
            };
        };
        let execution_id: String = row.try_get("execution_id")?;
        sqlx::query(sql(format!(
            "INSERT INTO inbox (execution_id, tenant_id, environment_id, kind, payload, run_at_ms) VALUES ($1, $2, $3, 'approval', $4, {now})"
        )))
        .bind(&execution_id)
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(
            Work::Approval {
                id: id.to_owned(),
                approved,
            }
            .payload(),
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn audit(
        &self,
        scope: &Scope,
        actor: (&str, &str),
        action: &str,
        target: &str,
        changes: Option<&Value>,
    ) -> Result<()> {
        let now = self.now;
        sqlx::query(sql(format!(
            "INSERT INTO audit_log (tenant_id, environment_id, actor_type, actor_id, action, target, changes, at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, {now})"
        )))
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(actor.0)
        .bind(actor.1)
        .bind(action)
        .bind(target)
        .bind(changes.map(json_text))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn audit_log(&self, scope: &Scope, filter: &AuditFilter) -> Result<Vec<AuditRecord>> {
        self.read_audit(scope, filter).await
    }
    async fn now_ms(&self) -> Result<i64> {
        self.now().await
    }
}

impl SqlStore {
    async fn duplicate(&self, scope: &Scope, event_id: String) -> Result<Ingested> {
        let executions = sqlx::query("SELECT id FROM executions WHERE event_id = $1 AND tenant_id = $2 AND environment_id = $3 ORDER BY id")
            .bind(&event_id)
            .bind(&scope.tenant)
            .bind(&scope.environment)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| r.try_get::<String, _>("id"))
            .collect::<Result<_, _>>()?;
        Ok(Ingested::Duplicate {
            event_id,
            executions,
        })
    }
}

/// Whether a write failed because another transaction stored the same idempotency key first.
fn is_idempotency_race(e: &sqlx::Error) -> bool {
    e.as_database_error().is_some_and(|d| {
        d.is_unique_violation()
            && (d.constraint() == Some("events_idempotency")
                || d.message().contains("events.idempotency_key"))
    })
}

/// Binds a planned statement's values, in order.
fn bind_all(
    mut q: sqlx::query::Query<'static, sqlx::Any, sqlx::any::AnyArguments>,
    binds: Vec<Bind>,
) -> sqlx::query::Query<'static, sqlx::Any, sqlx::any::AnyArguments> {
    for b in binds {
        q = match b {
            Bind::S(v) => q.bind(v.into_owned()),
            Bind::OS(v) => q.bind(v.map(|v| v.into_owned())),
            Bind::I(v) => q.bind(v),
            Bind::OI(v) => q.bind(v),
            Bind::Now => q,
        };
    }
    q
}

#[cfg(test)]
mod tests {
    use super::{SqlStore, sqlite_file};
    use crate::Store;

    #[test]
    fn the_native_writer_opens_the_file_the_url_names() {
        assert_eq!(
            sqlite_file("sqlite:///data/weir.db?mode=rwc"),
            Some("/data/weir.db")
        );
        assert_eq!(sqlite_file("sqlite://weir.db"), Some("weir.db"));
        assert_eq!(sqlite_file("sqlite:weir.db"), Some("weir.db"));
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("sqlite://x.db?mode=memory&cache=shared"), None);
        assert_eq!(sqlite_file("postgres://localhost/weir"), None);
    }

    /// Regression: a node stopped in the middle of a transaction kept its rows locked for as
    /// long as it stayed stopped (the chaos test's SIGSTOP took 4.1 s to recover from instead
    /// of about a lease), since the nodes taking its runs over skip locked rows.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_transaction_left_idle_past_the_lease_is_ended_and_its_locks_go() {
        let Some(server) = crate::testing::Server::start() else {
            return;
        };
        let url = server.fresh_database("idle_transaction").await;
        let stopped = SqlStore::connect_with_lease(&url, Some(1000))
            .await
            .unwrap();
        stopped.bootstrap("t").await.unwrap();
        let mut tx = stopped.begin().await.unwrap();
        sqlx::query("SELECT id FROM tenants FOR UPDATE")
            .execute(&mut *tx)
            .await
            .unwrap();
        let other = SqlStore::connect(&url).await.unwrap();
        let try_lock = || async {
            let mut t = other.begin().await.unwrap();
            let locked = sqlx::query("SELECT id FROM tenants FOR UPDATE NOWAIT")
                .execute(&mut *t)
                .await
                .is_ok();
            t.rollback().await.unwrap();
            locked
        };
        assert!(
            !try_lock().await,
            "the row is locked while the transaction is open"
        );
        // The holder does nothing for two leases: PostgreSQL ends its session.
        tokio::time::sleep(std::time::Duration::from_millis(2000)).await;
        assert!(try_lock().await, "the lock went with the idle transaction");
        let after = sqlx::query("SELECT 1").execute(&mut *tx).await;
        assert!(after.is_err(), "the stopped node's transaction was ended");
    }
}
