//! The native SQLite writer: one thread with its own connection that writes event batches and
//! the steps of running executions.
//!
//! sqlx runs each SQLite connection on a thread of its own and hands it every statement over a
//! channel, so a batch of six statements costs a dozen thread switches, and on two busy cores
//! each switch waits its turn: that, not SQLite, set the pace of synchronous decisions. Here a
//! batch is one hand-off: the writer takes every batch waiting for it and runs the reads, the
//! planned statements and the commit in one go, with prepared statements cached. The rest of the store goes on through sqlx; SQLite
//! serializes the two writers (`BEGIN IMMEDIATE` and a busy timeout on both).

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, mpsc};

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use crate::batch::{self, Answer, Bind, Entry, Statement};
use crate::sql::SQLITE_SETTINGS;
use crate::{Commit, Error, Result, Scope};

enum Job {
    Events(Events),
    Step(Box<Step>),
    /// Other work that writes (retention's deletes): run on its own between group commits, so
    /// it waits its turn instead of polling for SQLite's lock.
    Run(Box<dyn FnOnce(&mut Connection) + Send>),
}

struct Events {
    batch: Arc<[Entry]>,
    now: &'static str,
    reply: tokio::sync::oneshot::Sender<Result<Vec<Answer>>>,
}

/// One step of a running execution ([`crate::Store::commit`]), for a node holding its lease
/// at `epoch`.
struct Step {
    owner: String,
    scope: Scope,
    execution_id: String,
    epoch: i64,
    commit: Commit,
    now: &'static str,
    reply: tokio::sync::oneshot::Sender<Result<()>>,
}

pub(crate) struct NativeWriter {
    jobs: mpsc::Sender<Job>,
    /// The checkpointer runs while this lives.
    _alive: Arc<()>,
    /// Checkpoint rounds finished that found something written.
    rounds: Arc<AtomicU64>,
}

impl NativeWriter {
    /// Opens a connection to the (already migrated) database at `path` and starts the writer
    /// thread. The thread ends when the writer is dropped.
    pub fn open(path: &Path) -> Result<Self> {
        // Through the VFS that hands each commit's WAL frames to the kernel in one write
        // instead of two per page (see weir-sqlite-wal).
        let vfs = weir_sqlite_wal::register().map_err(Error::Config)?;
        let conn = Connection::open_with_flags_and_vfs(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            vfs,
        )?;
        // The same settings as the sqlx connections (that VFS refuses a `synchronous` below
        // FULL, on which it relies).
        for setting in SQLITE_SETTINGS {
            conn.execute_batch(setting)?;
        }
        // Checkpoints copy the WAL into the database file. Done on commit (SQLite's default)
        // they stall every write waiting behind them; a thread of their own does them instead,
        // in PASSIVE mode, pausing the writer only for a short last pass (see `checkpoint`).
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        conn.set_prepared_statement_cache_capacity(128);
        // Opened without CREATE, and checked to hold Weir's schema: a path read differently
        // from sqlx's reading of the URL fails here instead of writing to another file.
        conn.query_row("SELECT COUNT(*) FROM _sqlx_migrations", [], |r| {
            r.get::<_, i64>(0)
        })?;
        let alive = Arc::new(());
        // Held by the writer for each transaction, and by the checkpointer for the last short
        // pass of each checkpoint (see `checkpoint`).
        let turn = Arc::new(Mutex::new(()));
        let checkpointer = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        checkpointer.busy_timeout(std::time::Duration::from_secs(10))?;
        let files = Flush::open(path)?;
        let watch = Arc::downgrade(&alive);
        let writer_turn = turn.clone();
        let rounds = Arc::new(AtomicU64::new(0));
        let counted = rounds.clone();
        std::thread::Builder::new()
            .name("weir-sqlite-checkpoint".into())
            .spawn(move || {
                while watch.upgrade().is_some() {
                    std::thread::sleep(CHECKPOINT_EVERY);
                    // A failure is tried again on the next round.
                    if let Ok(Round::Paused) = checkpoint(&checkpointer, &turn, &files) {
                        counted.fetch_add(1, Ordering::Relaxed);
                    }
                }
                // The last one as the store closes: the WAL is left short.
                let _ = checkpointer.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                    r.get::<_, i64>(1)
                });
                // `files` closes only after the checkpointer's connection (see `Flush`).
                drop(checkpointer);
                drop(files);
            })
            .map_err(|e| Error::Config(format!("cannot start the SQLite checkpointer: {e}")))?;
        let (jobs, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("weir-sqlite-writer".into())
            .spawn(move || {
                let mut conn = conn;
                let mut rows_sql = RowSql::new();
                while let Ok(first) = rx.recv() {
                    // Group commit: every batch and step that arrived meanwhile goes in one
                    // transaction of its kind.
                    let mut events = Vec::new();
                    let mut steps = Vec::new();
                    let mut runs = Vec::new();
                    let mut count = 0;
                    let mut next = Some(first);
                    while let Some(job) = next.take() {
                        match job {
                            Job::Run(run) => runs.push(run),
                            Job::Events(job) => {
                                count += job.batch.len();
                                events.push(job);
                            }
                            Job::Step(step) => {
                                count += 1;
                                steps.push(*step);
                            }
                        }
                        if count < MAX_EVENTS {
                            next = rx.try_recv().ok();
                        }
                    }
                    let _turn = writer_turn.lock().unwrap_or_else(|p| p.into_inner());
                    let began = std::time::Instant::now();
                    if !events.is_empty() {
                        write_events(&mut conn, &mut rows_sql, events);
                    }
                    if !steps.is_empty() {
                        write_steps(&mut conn, steps);
                    }
                    if count > 0 {
                        crate::metrics::committed(began.elapsed(), count);
                    }
                    for run in runs {
                        run(&mut conn);
                    }
                }
            })
            .map_err(|e| Error::Config(format!("cannot start the SQLite writer: {e}")))?;
        Ok(NativeWriter {
            jobs,
            _alive: alive,
            rounds,
        })
    }

    /// Runs `work` on the writer's connection, in turn with the group commits; it makes its
    /// own transaction.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Job::Run(Box::new(move |conn| {
                let _ = reply.send(work(conn));
            })))
            .map_err(|_| Error::Corrupt("the SQLite writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| Error::Corrupt("the SQLite writer has stopped".into()))?
    }

    /// Checkpoint rounds finished with the writer paused (every round that found something
    /// written since the one before).
    pub fn rounds(&self) -> u64 {
        self.rounds.load(Ordering::Relaxed)
    }

    /// Writes a batch, in one transaction with whatever other batches are waiting (so callers
    /// need not gather events themselves). Every execution in it must be simple
    /// ([`batch::is_simple`]); the general path is sqlx's.
    pub async fn write(&self, batch: Arc<[Entry]>, now: &'static str) -> Result<Vec<Answer>> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Job::Events(Events { batch, now, reply }))
            .map_err(|_| Error::Corrupt("the SQLite writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| Error::Corrupt("the SQLite writer has stopped".into()))?
    }

    /// Writes one step of a running execution, in one transaction with the other steps
    /// waiting. It must be simple ([`is_simple_step`]); the general path is sqlx's.
    pub async fn commit(
        &self,
        owner: &str,
        claim: &crate::Claim,
        commit: Commit,
        now: &'static str,
    ) -> Result<()> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let step = Step {
            owner: owner.to_owned(),
            scope: claim.scope.clone(),
            execution_id: claim.execution_id.clone(),
            epoch: claim.epoch,
            commit,
            now,
            reply,
        };
        self.jobs
            .send(Job::Step(Box::new(step)))
            .map_err(|_| Error::Corrupt("the SQLite writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| Error::Corrupt("the SQLite writer has stopped".into()))?
    }
}

/// Whether a step writes only what the native writer writes: its own rows (state, queued
/// items, waits, step records), not approvals, child runs or other executions' items.
pub(crate) fn is_simple_step(c: &Commit) -> bool {
    c.approvals.is_empty()
        && c.withdrawn_approvals.is_empty()
        && c.expired_approvals.is_empty()
        && c.new_executions.is_empty()
        && c.other_items.is_empty()
}

/// Writes batches of events, all in one transaction; if that fails, each on its own (one
/// batch's failure is not the others').
fn write_events(conn: &mut Connection, rows_sql: &mut RowSql, mut jobs: Vec<Events>) {
    let entries: Vec<&Entry> = jobs.iter().flat_map(|j| j.batch.iter()).collect();
    match write(conn, rows_sql, &entries, jobs[0].now) {
        Ok(answers) => {
            let mut answers = answers.into_iter();
            for job in jobs {
                let mine = answers.by_ref().take(job.batch.len()).collect();
                let _ = job.reply.send(Ok(mine));
            }
        }
        Err(_) if jobs.len() > 1 => {
            for job in jobs {
                let entries: Vec<&Entry> = job.batch.iter().collect();
                let _ = job.reply.send(write(conn, rows_sql, &entries, job.now));
            }
        }
        Err(e) => {
            if let Some(job) = jobs.pop() {
                let _ = job.reply.send(Err(e));
            }
        }
    }
}

/// Writes steps of running executions in one transaction, each under a savepoint of its own:
/// a step whose lease was lost, or that fails, writes nothing and the others go on.
fn write_steps(conn: &mut Connection, steps: Vec<Step>) {
    let mut results: Vec<Result<()>> = Vec::with_capacity(steps.len());
    let outcome = (|| -> Result<()> {
        let mut tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for step in &steps {
            let mut sp = tx.savepoint()?;
            let result = write_step(&sp, step);
            if result.is_err() {
                sp.rollback()?;
            }
            sp.commit()?;
            results.push(result);
        }
        tx.commit()?;
        Ok(())
    })();
    match outcome {
        Ok(()) => {
            for (step, result) in steps.into_iter().zip(results) {
                let _ = step.reply.send(result);
            }
        }
        Err(e) => {
            let text = e.to_string();
            for step in steps {
                let _ = step
                    .reply
                    .send(Err(Error::Corrupt(format!("writing a step: {text}"))));
            }
        }
    }
}

/// One step: the guarded update of the execution's row, then its own rows (what
/// `SqlStore::apply_body` writes for a simple step).
fn write_step(tx: &rusqlite::Savepoint<'_>, step: &Step) -> Result<()> {
    let c = &step.commit;
    let now = step.now;
    let id = step.execution_id.as_str();
    let (tenant, environment) = (step.scope.tenant.as_str(), step.scope.environment.as_str());
    let release = i64::from(c.release);
    let extend = c.extend_lease_ms.map(|ms| ms.clamp(100, 3_600_000));
    let updated = tx
        .prepare_cached(&format!(
            "UPDATE executions SET \
               lease_owner = CASE WHEN ?12 = 1 THEN NULL ELSE lease_owner END, \
               lease_expires_ms = CASE WHEN ?12 = 1 THEN NULL WHEN ?13 IS NOT NULL THEN {now} + ?13 ELSE lease_expires_ms END, \
               state = ?1, status = ?2, decision = ?3, reason = ?4, error = ?5, \
               completed_ms = CASE WHEN ?6 = 1 THEN {now} ELSE completed_ms END, updated_ms = {now} \
             WHERE id = ?7 AND tenant_id = ?8 AND environment_id = ?9 AND lease_owner = ?10 AND epoch = ?11"
        ))?
        .execute(rusqlite::params![
            c.state.as_str(),
            c.status,
            c.decision,
            c.reason,
            c.error,
            i64::from(c.finished),
            id,
            tenant,
            environment,
            step.owner,
            step.epoch,
            release,
            extend,
        ])?;
    if updated == 0 {
        return Err(Error::LeaseLost(id.to_owned()));
    }
    for item in &c.done_items {
        tx.prepare_cached("DELETE FROM inbox WHERE id = ?1 AND execution_id = ?2")?
            .execute(rusqlite::params![item, id])?;
    }
    for key in &c.cancel_keys {
        tx.prepare_cached("DELETE FROM inbox WHERE execution_id = ?1 AND item_key = ?2")?
            .execute(rusqlite::params![id, key])?;
    }
    if c.finished {
        tx.prepare_cached("DELETE FROM inbox WHERE execution_id = ?1")?
            .execute([id])?;
        tx.prepare_cached("DELETE FROM awaits WHERE execution_id = ?1")?
            .execute([id])?;
    } else {
        for item in &c.new_items {
            tx.prepare_cached(&format!(
                "INSERT INTO inbox (execution_id, tenant_id, environment_id, kind, item_key, payload, run_at_ms) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, COALESCE(?7, {now}))"
            ))?
            .execute(rusqlite::params![
                id,
                tenant,
                environment,
                item.work.kind(),
                item.key,
                item.work.payload(),
                item.run_at_ms,
            ])?;
        }
        for thread in &c.awaits_remove {
            tx.prepare_cached("DELETE FROM awaits WHERE execution_id = ?1 AND thread = ?2")?
                .execute(rusqlite::params![id, thread])?;
        }
        for a in &c.awaits_add {
            let (path, text) = a
                .requires
                .as_ref()
                .map(|(p, t)| (p.as_str(), t.as_str()))
                .unzip();
            tx.prepare_cached(
                "INSERT INTO awaits (tenant_id, environment_id, event_type, execution_id, thread, match_path, match_text) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
                 ON CONFLICT (execution_id, thread) DO UPDATE SET event_type = ?3, match_path = ?6, match_text = ?7",
            )?
            .execute(rusqlite::params![tenant, environment, a.event_type, id, a.thread, path, text])?;
        }
    }
    for s in &c.steps {
        // Written new, or else updated (a step record that ends in a later commit is
        // counted by the update's trigger, one written ended here).
        let inserted = tx
            .prepare_cached(&format!(
                "INSERT INTO step_executions (execution_id, record_key, tenant_id, environment_id, step_id, step_type, status, attempt, record, started_ms, updated_ms, seq) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, {now}, {now}, \
                   (SELECT COALESCE(MAX(seq), 0) + 1 FROM step_executions WHERE execution_id = ?1)) \
                 ON CONFLICT (execution_id, record_key) DO NOTHING"
            ))?
            .execute(rusqlite::params![
                id,
                s.key,
                tenant,
                environment,
                s.step_id,
                s.step_type,
                s.status,
                s.attempt,
                s.record.as_str(),
            ])?;
        if inserted == 0 {
            tx.prepare_cached(&format!(
                "UPDATE step_executions SET status = ?3, record = ?4, updated_ms = {now} \
                 WHERE execution_id = ?1 AND record_key = ?2"
            ))?
            .execute(rusqlite::params![id, s.key, s.status, s.record.as_str()])?;
        } else if crate::stats::is_final(&s.status) {
            tx.prepare_cached(&crate::stats::ended_attempt_sql(now, "0"))?
                .execute(rusqlite::params![
                    tenant,
                    environment,
                    id,
                    s.step_id,
                    s.status
                ])?;
        }
    }
    Ok(())
}

/// How often the checkpointer copies the WAL into the database file, and so about how much
/// the WAL holds: under W1 on two cores, some 6,000 frames (24 MB), below the
/// `journal_size_limit` of `SQLITE_SETTINGS`.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(100);

/// Copies the WAL into the database file, in PASSIVE mode (readers and the writer go on), and
/// finishes with the writer paused between transactions, so that the whole WAL is copied and
/// the writer's next transaction starts the WAL over from its beginning.
///
/// Without that pause, under steady writes the WAL is never all copied when a write begins,
/// which is the only moment SQLite starts it over: the file grows by every frame ever written
/// (2 GB in 10 s of W1), and each frame lands on a new block of a growing file, which costs
/// the kernel far more than rewriting a cached one. The bulk of the copying happens in two
/// unpaused passes (the second copies what arrived during the first); the paused one copies
/// only what arrived during the second.
///
/// The paused pass also syncs both files, and SQLite syncs the database file only in a pass
/// that copied the whole WAL, which under steady writes is only the paused one: left to it,
/// that sync wrote out every page the round copied (some 10 MB under W1) with the writer
/// waiting. So both files are flushed just before the pause, and its syncs find little to
/// write. Measured under W1, pause per round: median 5.0 -> 1.7-2.0 ms, p90 6.8 -> 2.8-3.3 ms.
fn checkpoint(conn: &Connection, turn: &Mutex<()>, files: &Flush) -> Result<Round> {
    // (frames in the WAL, frames copied)
    let pass = || -> Result<(i64, i64)> {
        Ok(conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
            Ok((r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
        })?)
    };
    let (first, _) = pass()?;
    // An idle round: nothing was committed since the first pass, and the second copied the
    // whole WAL (syncing the database file itself), so the next write starts the WAL over
    // without a pause, and there is nothing to flush. A second pass that copied everything
    // is not enough on its own: under steady writes it often catches up with the last
    // commit, while the writer is already in a transaction that began before the WAL was all
    // copied; that transaction, and every one after it, then goes on appending (1 GB of WAL
    // in 6 s of W1).
    let (log, copied) = pass()?;
    if log == first && log == copied {
        return Ok(Round::Idle);
    }
    files.db.sync_data()?;
    if let Some(wal) = &files.wal {
        wal.sync_data()?;
    }
    let _paused = turn.lock().unwrap_or_else(|p| p.into_inner());
    pass()?;
    Ok(Round::Paused)
}

/// How a checkpoint round ended.
enum Round {
    /// Nothing had been written: no flush, no pause.
    Idle,
    /// The last pass ran with the writer paused.
    Paused,
}

/// Handles on the database file and its WAL, only to flush them ahead of the paused pass.
///
/// Closing any descriptor of a file drops every POSIX lock the process holds on it, and
/// SQLite locks the database file that way, so the handle is kept until the checkpointer's
/// last checkpoint, as the store closes. Other connections of this process may still be open
/// then; only another process on the same file could miss the locks dropped, and a data
/// folder has one `weir serve`. (SQLite takes no such lock on the WAL.)
struct Flush {
    db: std::fs::File,
    /// None if the WAL was not there yet; it is flushed by SQLite alone then.
    wal: Option<std::fs::File>,
}

impl Flush {
    fn open(db: &Path) -> Result<Flush> {
        let mut wal = db.as_os_str().to_owned();
        wal.push("-wal");
        Ok(Flush {
            db: std::fs::File::open(db)?,
            wal: std::fs::File::open(wal).ok(),
        })
    }
}

/// The most events one transaction takes.
const MAX_EVENTS: usize = 512;

/// The statement of one row, by its insert's head and tail and whether its run finished,
/// built the first time such a row is written.
type RowSql = HashMap<(&'static str, Option<&'static str>, bool), String>;

fn write(
    conn: &mut Connection,
    rows_sql: &mut RowSql,
    batch: &[&Entry],
    now: &str,
) -> Result<Vec<Answer>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut results = Vec::new();
    for read in batch::reads(batch) {
        let mut stmt = prepare(&tx, &read.sql)?;
        bind(&mut stmt, &read.binds)?;
        let columns = stmt.column_count();
        let mut rows = stmt.raw_query();
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let mut texts = Vec::with_capacity(columns);
            for c in 0..columns {
                texts.push(row.get::<_, String>(c)?);
            }
            out.push(texts);
        }
        results.push(out);
    }
    let plan = batch::plan(batch, now, "0", false, results)?;
    for statement in plan.statements {
        match statement {
            Statement::Sql(sql, binds) => {
                let mut stmt = prepare(&tx, &sql)?;
                bind(&mut stmt, &binds)?;
                stmt.raw_execute()?;
            }
            Statement::Insert(insert) => {
                for (n, row) in insert.rows.iter().enumerate() {
                    let finished = insert.finished(n);
                    let sql = rows_sql
                        .entry((insert.head, insert.tail, finished))
                        .or_insert_with(|| insert.row_sql(row, finished, now));
                    let mut stmt = tx.prepare_cached(sql)?;
                    bind(&mut stmt, row)?;
                    stmt.raw_execute()?;
                }
            }
            Statement::General { .. } => {
                return Err(Error::Corrupt(
                    "the SQLite writer was given an execution for the general path".into(),
                ));
            }
        }
    }
    tx.commit()?;
    Ok(plan.answers)
}

/// Prepares a planned statement. Its `$n` parameters become `?n`, which SQLite numbers as
/// written (it numbers `$n` by first appearance, and looking names up is quadratic); the
/// planned SQL has no `$` elsewhere, every value being bound.
fn prepare<'c>(
    tx: &'c rusqlite::Transaction<'_>,
    sql: &str,
) -> Result<rusqlite::CachedStatement<'c>> {
    Ok(tx.prepare_cached(&sql.replace('$', "?"))?)
}

/// Binds the values to `?1, ?2, …`; the clock is written in the SQL, not bound.
fn bind(stmt: &mut rusqlite::CachedStatement<'_>, binds: &[Bind]) -> Result<()> {
    let values = binds.iter().filter(|b| !matches!(b, Bind::Now));
    let given = values.clone().count();
    if stmt.parameter_count() != given {
        return Err(Error::Corrupt(format!(
            "a statement takes {} values but was given {given}",
            stmt.parameter_count(),
        )));
    }
    for (n, b) in values.enumerate() {
        let at = n + 1;
        match b {
            Bind::S(v) => stmt.raw_bind_parameter(at, v.as_ref())?,
            Bind::OS(v) => stmt.raw_bind_parameter(at, v.as_deref())?,
            Bind::I(v) => stmt.raw_bind_parameter(at, v)?,
            Bind::OI(v) => stmt.raw_bind_parameter(at, v)?,
            Bind::Now => {}
        }
    }
    Ok(())
}
