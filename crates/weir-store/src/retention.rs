//! Retention: what has outlived its time is deleted in small batches, each its own short
//! transaction, so that the writers of live work wait a few milliseconds at most behind one.
//! A batch reads its rows by an index range (ids are time-ordered), never by a table scan.

use sqlx::Row;

use crate::sql::{id_at, sql};
use crate::{Error, Result, Scope, SqlStore};

/// What a batch of pruning deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pruned {
    /// Finished executions (their step records, queued work, waits and approvals with them).
    pub executions: u64,
    pub steps: u64,
    pub events: u64,
    /// Mail the outbox sent.
    pub mail: u64,
    pub sessions: u64,
    /// Webhook delivery signatures whose replay window has passed.
    pub deliveries: u64,
    pub audit: u64,
}

impl Pruned {
    pub fn total(&self) -> u64 {
        self.executions
            + self.steps
            + self.events
            + self.mail
            + self.sessions
            + self.deliveries
            + self.audit
    }

    pub fn add(&mut self, other: Pruned) {
        self.executions += other.executions;
        self.steps += other.steps;
        self.events += other.events;
        self.mail += other.mail;
        self.sessions += other.sessions;
        self.deliveries += other.deliveries;
        self.audit += other.audit;
    }
}

const FINISHED: &str = "('completed', 'failed', 'cancelled')";

// The statements both paths run, with `$1` the tenant, `$2` the environment, `$3` the cut as
// an id, `$4` the cut in milliseconds and `$5` the batch's size. SQLite reads `$n` as named
// parameters numbered in order of first appearance, which these keep, so rusqlite binds them
// by position too.

/// Executions that began and ended before the cut, hold no lease, and have no sub-workflow
/// run still going (a child's id is its parent's followed by `-child-N`).
fn finished_before(now: &str) -> String {
    format!(
        "SELECT x.id FROM executions x \
         WHERE x.tenant_id = $1 AND x.environment_id = $2 AND x.id < $3 \
         AND x.status IN {FINISHED} AND COALESCE(x.completed_ms, x.updated_ms) < $4 \
         AND (x.lease_owner IS NULL OR x.lease_expires_ms IS NULL OR x.lease_expires_ms < {now}) \
         AND NOT EXISTS (SELECT 1 FROM executions c \
             WHERE c.tenant_id = $1 AND c.environment_id = $2 \
             AND c.id > x.id || '-child-' AND c.id < x.id || '-child.' \
             AND c.parent_id = x.id AND c.status NOT IN {FINISHED}) \
         ORDER BY x.id LIMIT $5"
    )
}

/// Events received before the cut that no execution refers to any more.
const ORPHANED_EVENTS: &str = "DELETE FROM events WHERE tenant_id = $1 AND environment_id = $2 \
     AND id IN (SELECT ev.id FROM events ev \
         WHERE ev.tenant_id = $1 AND ev.environment_id = $2 AND ev.id < $3 \
         AND ev.received_ms < $4 \
         AND NOT EXISTS (SELECT 1 FROM executions x WHERE x.tenant_id = $1 \
             AND x.environment_id = $2 AND x.event_id = ev.id) \
         ORDER BY ev.id LIMIT $5)";

/// Mail sent before the cut (mail not sent yet, or failed, stays to be seen).
const SENT_MAIL: &str = "DELETE FROM outbox WHERE tenant_id = $1 AND environment_id = $2 \
     AND id IN (SELECT id FROM outbox WHERE tenant_id = $1 AND environment_id = $2 \
         AND id < $3 AND status = 'sent' AND updated_ms < $4 ORDER BY id LIMIT $5)";

/// The rows of an execution's own that go with it, by `execution_id`; the first are its step
/// records (counted).
const OWN_ROWS: [&str; 4] = ["step_executions", "inbox", "awaits", "approvals"];

/// `$from, $from+1, …` for `n` values.
fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One batch of a scope's retention on SQLite's writer connection, in one transaction: the
/// same statements as the sqlx path, the ids handed over as one JSON array.
fn prune_scope_native(
    conn: &mut rusqlite::Connection,
    scope: &Scope,
    cut: &str,
    before_ms: i64,
    limit: i64,
    now: &str,
) -> Result<Pruned> {
    use rusqlite::params;
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let (t, e) = (scope.tenant.as_str(), scope.environment.as_str());
    let ids: Vec<String> = tx
        .prepare_cached(&finished_before(now))?
        .query_map(params![t, e, cut, before_ms, limit], |r| r.get(0))?
        .collect::<std::result::Result<_, _>>()?;
    let mut pruned = Pruned::default();
    if !ids.is_empty() {
        let list = serde_json::to_string(&ids).map_err(|e| Error::Corrupt(e.to_string()))?;
        for table in OWN_ROWS {
            let n = tx
                .prepare_cached(&format!(
                    "DELETE FROM {table} WHERE tenant_id = ?1 AND environment_id = ?2 \
                     AND execution_id IN (SELECT value FROM json_each(?3))"
                ))?
                .execute(params![t, e, list])?;
            if table == OWN_ROWS[0] {
                pruned.steps = n as u64;
            }
        }
        pruned.executions = tx
            .prepare_cached(
                "DELETE FROM executions WHERE tenant_id = ?1 AND environment_id = ?2 \
                 AND id IN (SELECT value FROM json_each(?3))",
            )?
            .execute(params![t, e, list])? as u64;
    }
    pruned.events = tx
        .prepare_cached(ORPHANED_EVENTS)?
        .execute(params![t, e, cut, before_ms, limit])? as u64;
    pruned.mail = tx
        .prepare_cached(SENT_MAIL)?
        .execute(params![t, e, cut, before_ms, limit])? as u64;
    tx.commit()?;
    Ok(pruned)
}

impl SqlStore {
    pub(crate) async fn prune_scope_batch(
        &self,
        scope: &Scope,
        before_ms: i64,
        limit: i64,
    ) -> Result<Pruned> {
        // On SQLite, in turn with the writer's group commits rather than against them for the
        // database's lock (which a busy writer would hold nearly all the time).
        if let Some(native) = &self.native {
            let (scope, cut, now) = (scope.clone(), id_at(before_ms), self.now);
            return native
                .run(move |conn| prune_scope_native(conn, &scope, &cut, before_ms, limit, now))
                .await;
        }
        let mut pruned = Pruned::default();
        let now = self.now;
        let cut = id_at(before_ms);
        let mut tx = self.begin().await?;
        let ids: Vec<String> = sqlx::query(sql(finished_before(now)))
            .bind(&scope.tenant)
            .bind(&scope.environment)
            .bind(&cut)
            .bind(before_ms)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| r.try_get::<String, _>(0))
            .collect::<std::result::Result<_, _>>()?;
        if !ids.is_empty() {
            let list = placeholders(3, ids.len());
            for table in OWN_ROWS {
                let mut q = sqlx::query(sql(format!(
                    "DELETE FROM {table} WHERE tenant_id = $1 AND environment_id = $2 \
                     AND execution_id IN ({list})"
                )))
                .bind(&scope.tenant)
                .bind(&scope.environment);
                for id in &ids {
                    q = q.bind(id);
                }
                let done = q.execute(&mut *tx).await?;
                if table == OWN_ROWS[0] {
                    pruned.steps = done.rows_affected();
                }
            }
            let mut q = sqlx::query(sql(format!(
                "DELETE FROM executions WHERE tenant_id = $1 AND environment_id = $2 \
                 AND id IN ({list})"
            )))
            .bind(&scope.tenant)
            .bind(&scope.environment);
            for id in &ids {
                q = q.bind(id);
            }
            pruned.executions = q.execute(&mut *tx).await?.rows_affected();
        }
        tx.commit().await?;

        for (statement, count) in [
            (ORPHANED_EVENTS, &mut pruned.events),
            (SENT_MAIL, &mut pruned.mail),
        ] {
            *count = sqlx::query(statement)
                .bind(&scope.tenant)
                .bind(&scope.environment)
                .bind(&cut)
                .bind(before_ms)
                .bind(limit)
                .execute(&self.pool)
                .await?
                .rows_affected();
        }
        Ok(pruned)
    }

    pub(crate) async fn prune_shared_batch(
        &self,
        audit_before_ms: i64,
        limit: i64,
    ) -> Result<Pruned> {
        let now = self.now;
        // Sessions past their end, or revoked a day ago (a revoked session's row answers
        // "revoked" rather than "unknown" for a while).
        let sessions = sqlx::query(sql(format!(
            "DELETE FROM sessions WHERE id IN (SELECT id FROM sessions \
             WHERE expires_ms < {now} OR revoked_ms < {now} - 86400000 LIMIT $1)"
        )))
        .bind(limit)
        .execute(&self.pool)
        .await?
        .rows_affected();
        let deliveries = sqlx::query(sql(format!(
            "DELETE FROM webhook_deliveries WHERE (tenant_id, environment_id, signature) IN ( \
             SELECT tenant_id, environment_id, signature FROM webhook_deliveries \
             WHERE expires_ms < {now} ORDER BY expires_ms LIMIT $1)"
        )))
        .bind(limit)
        .execute(&self.pool)
        .await?
        .rows_affected();
        // Audit ids grow with time: of the oldest records along the key, those before the cut
        // (reading only the first `limit`, so that a table with nothing to prune is not read
        // through).
        let audit = sqlx::query(
            "DELETE FROM audit_log WHERE id IN (SELECT oldest.id FROM \
             (SELECT id, at_ms FROM audit_log ORDER BY id LIMIT $2) AS oldest \
             WHERE oldest.at_ms < $1)",
        )
        .bind(audit_before_ms)
        .bind(limit)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(Pruned {
            sessions,
            deliveries,
            audit,
            ..Pruned::default()
        })
    }
}
