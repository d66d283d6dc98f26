//! Statistics of finished runs and ended step attempts, read from the rollups that
//! migration 0017's triggers keep as runs finish: by hour, workflow (and step), status and
//! duration bucket, never from the executions themselves.

use std::borrow::Cow;
use std::collections::BTreeMap;

use sqlx::Row;

use crate::batch::{Bind, Statement};
use crate::sql::SqlStore;
use crate::*;

/// Whether a run or step attempt with this status has ended.
pub(crate) fn is_final(status: &str) -> bool {
    matches!(status, "completed" | "failed" | "cancelled")
}

/// Runs and step attempts a write records already finished, added up by what they are
/// counted under and written as one statement per table (migration 0017's triggers count
/// those that finish later). Written already finished, they took no time on the database's
/// clock: their duration is 0 and their hour the commit's.
#[derive(Debug, Default)]
pub(crate) struct Tally<'a> {
    /// By tenant, environment, workflow, status and decision (`""`: none).
    runs: BTreeMap<[&'a str; 5], i64>,
    /// By tenant, environment, workflow, step and status.
    attempts: BTreeMap<[&'a str; 5], i64>,
    /// Workflows that started runs, by tenant, environment and workflow.
    started: std::collections::BTreeSet<[&'a str; 3]>,
}

/// Rows per statement, well under either back-end's limit on parameters.
const ROWS_PER_STATEMENT: usize = 500;

impl<'a> Tally<'a> {
    pub fn run(
        &mut self,
        scope: &'a Scope,
        workflow: &'a str,
        status: &'a str,
        decision: Option<&'a str>,
    ) {
        if is_final(status) {
            let key = [
                &*scope.tenant,
                &*scope.environment,
                workflow,
                status,
                decision.unwrap_or(""),
            ];
            *self.runs.entry(key).or_default() += 1;
        }
    }

    pub fn started(&mut self, scope: &'a Scope, workflow: &'a str) {
        self.started
            .insert([&*scope.tenant, &*scope.environment, workflow]);
    }

    pub fn attempt(&mut self, scope: &'a Scope, workflow: &'a str, step: &'a str, status: &'a str) {
        if is_final(status) {
            let key = [&*scope.tenant, &*scope.environment, workflow, step, status];
            *self.attempts.entry(key).or_default() += 1;
        }
    }

    /// The upserts, with `now` the database clock and `shard` the writer's shard (SQL).
    pub fn statements(self, now: &str, shard: &str) -> Vec<Statement<'a>> {
        let zero = bucket_of(0);
        let mut out = Vec::new();
        for (table, columns, key, counts) in [
            (
                "execution_stats",
                "tenant_id, environment_id, workflow_id, status, decision",
                "tenant_id, environment_id, hour_ms, workflow_id, status, decision, bucket, shard",
                self.runs,
            ),
            (
                "step_stats",
                "tenant_id, environment_id, workflow_id, step_id, status",
                "tenant_id, environment_id, workflow_id, hour_ms, step_id, status, bucket, shard",
                self.attempts,
            ),
        ] {
            let counts: Vec<_> = counts.into_iter().collect();
            for chunk in counts.chunks(ROWS_PER_STATEMENT) {
                let mut values = Vec::with_capacity(chunk.len());
                let mut binds = Vec::with_capacity(chunk.len() * 6);
                for (names, n) in chunk {
                    let at = binds.len();
                    values.push(format!(
                        "(${}, ${}, ${}, ${}, ${}, ({now} / 3600000) * 3600000, {zero}, {shard}, ${}, 0)",
                        at + 1, at + 2, at + 3, at + 4, at + 5, at + 6
                    ));
                    binds.extend(names.iter().map(|v| Bind::S(Cow::Borrowed(*v))));
                    binds.push(Bind::I(*n));
                }
                out.push(Statement::Sql(
                    format!(
                        "INSERT INTO {table} ({columns}, hour_ms, bucket, shard, runs, total_ms) VALUES {} \
                         ON CONFLICT ({key}) DO UPDATE SET runs = {table}.runs + excluded.runs",
                        values.join(", ")
                    ),
                    binds,
                ));
            }
        }
        let started: Vec<_> = self.started.into_iter().collect();
        for chunk in started.chunks(ROWS_PER_STATEMENT) {
            let mut values = Vec::with_capacity(chunk.len());
            let mut binds = Vec::with_capacity(chunk.len() * 3);
            for names in chunk {
                let at = binds.len();
                values.push(format!(
                    "(${}, ${}, ${}, {shard}, {now})",
                    at + 1,
                    at + 2,
                    at + 3
                ));
                binds.extend(names.iter().map(|v| Bind::S(Cow::Borrowed(*v))));
            }
            out.push(Statement::Sql(
                format!(
                    "INSERT INTO workflow_last_runs (tenant_id, environment_id, workflow_id, shard, started_ms) VALUES {} \
                     ON CONFLICT (tenant_id, environment_id, workflow_id, shard) DO UPDATE SET started_ms = excluded.started_ms",
                    values.join(", ")
                ),
                binds,
            ));
        }
        out
    }
}

/// Counts one step attempt recorded already ended, its workflow read from its execution.
/// Binds: tenant, environment, execution id, step id, status.
pub(crate) fn ended_attempt_sql(now: &str, shard: &str) -> String {
    format!(
        "INSERT INTO step_stats (tenant_id, environment_id, workflow_id, hour_ms, step_id, status, bucket, shard, runs, total_ms) \
         SELECT $1, $2, x.workflow_id, ({now} / 3600000) * 3600000, $4, $5, {}, {shard}, 1, 0 FROM executions x \
         WHERE x.tenant_id = $1 AND x.environment_id = $2 AND x.id = $3 \
         ON CONFLICT (tenant_id, environment_id, workflow_id, hour_ms, step_id, status, bucket, shard) \
         DO UPDATE SET runs = step_stats.runs + 1",
        bucket_of(0)
    )
}

/// Runs of one workflow that finished in one hour with one status, decision and duration
/// bucket.
#[derive(Debug, Clone, PartialEq)]
pub struct FinishedRuns {
    pub workflow_id: String,
    pub hour_ms: i64,
    pub status: String,
    pub decision: Option<String>,
    pub bucket: i64,
    pub runs: i64,
    pub total_ms: i64,
}

/// Attempts of one step that ended in one hour with one status and duration bucket.
#[derive(Debug, Clone, PartialEq)]
pub struct EndedAttempts {
    pub step_id: String,
    pub hour_ms: i64,
    pub status: String,
    pub bucket: i64,
    pub runs: i64,
}

/// The bucket of a duration, as the triggers compute it: the number of digits of its
/// milliseconds times ten, plus its first digit.
pub fn bucket_of(ms: i64) -> i64 {
    let digits = ms.max(0).to_string();
    digits.len() as i64 * 10 + i64::from(digits.as_bytes()[0] - b'0')
}

/// The durations a bucket spans, `[low, high)` in milliseconds.
pub fn bucket_bounds(bucket: i64) -> (f64, f64) {
    let (digits, first) = (bucket / 10, bucket % 10);
    if digits <= 1 && first == 0 {
        return (0.0, 1.0);
    }
    let unit = 10f64.powi((digits - 1).clamp(0, 18) as i32);
    (first as f64 * unit, (first + 1) as f64 * unit)
}

/// A histogram of durations by bucket, for percentiles.
#[derive(Debug, Clone, Default)]
pub struct Durations(BTreeMap<i64, i64>);

impl Durations {
    pub fn add(&mut self, bucket: i64, runs: i64) {
        *self.0.entry(bucket).or_default() += runs;
    }

    pub fn count(&self) -> i64 {
        self.0.values().sum()
    }

    /// The duration under which a share `q` (0 to 1) of the runs finished, interpolated
    /// within its bucket; `None` without runs.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let total = self.count();
        if total == 0 {
            return None;
        }
        let rank = (q.clamp(0.0, 1.0) * total as f64).max(1.0);
        let mut below = 0i64;
        for (&bucket, &n) in &self.0 {
            if (below + n) as f64 >= rank {
                let (low, high) = bucket_bounds(bucket);
                let within = (rank - below as f64) / n as f64;
                return Some(low + (high - low) * within);
            }
            below += n;
        }
        self.0.keys().next_back().map(|&b| bucket_bounds(b).1)
    }
}

impl SqlStore {
    pub(crate) async fn read_finished_runs(
        &self,
        scope: &Scope,
        workflow_id: Option<&str>,
        since_ms: i64,
        until_ms: i64,
    ) -> Result<Vec<FinishedRuns>> {
        // Hours that start in the range; the shards of one row are added up.
        let rows = sqlx::query(
            "SELECT workflow_id, hour_ms, status, decision, bucket, CAST(SUM(runs) AS BIGINT) AS runs, \
             CAST(SUM(total_ms) AS BIGINT) AS total_ms FROM execution_stats \
             WHERE tenant_id = $1 AND environment_id = $2 AND hour_ms >= $3 AND hour_ms < $4 \
             AND ($5 IS NULL OR workflow_id = $5) \
             GROUP BY workflow_id, hour_ms, status, decision, bucket",
        )
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(since_ms)
        .bind(until_ms)
        .bind(workflow_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let decision: String = r.try_get("decision")?;
                Ok(FinishedRuns {
                    workflow_id: r.try_get("workflow_id")?,
                    hour_ms: r.try_get("hour_ms")?,
                    status: r.try_get("status")?,
                    decision: (!decision.is_empty()).then_some(decision),
                    bucket: r.try_get::<i64, _>("bucket")?,
                    runs: r.try_get("runs")?,
                    total_ms: r.try_get("total_ms")?,
                })
            })
            .collect()
    }

    pub(crate) async fn read_ended_attempts(
        &self,
        scope: &Scope,
        workflow_id: &str,
        since_ms: i64,
        until_ms: i64,
    ) -> Result<Vec<EndedAttempts>> {
        let rows = sqlx::query(
            "SELECT step_id, hour_ms, status, bucket, CAST(SUM(runs) AS BIGINT) AS runs FROM step_stats \
             WHERE tenant_id = $1 AND environment_id = $2 AND workflow_id = $3 AND hour_ms >= $4 AND hour_ms < $5 \
             GROUP BY step_id, hour_ms, status, bucket",
        )
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(workflow_id)
        .bind(since_ms)
        .bind(until_ms)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(EndedAttempts {
                    step_id: r.try_get("step_id")?,
                    hour_ms: r.try_get("hour_ms")?,
                    status: r.try_get("status")?,
                    bucket: r.try_get::<i64, _>("bucket")?,
                    runs: r.try_get("runs")?,
                })
            })
            .collect()
    }

    pub(crate) async fn read_last_runs(&self, scope: &Scope) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query(
            "SELECT workflow_id, MAX(started_ms) AS started_ms FROM workflow_last_runs \
             WHERE tenant_id = $1 AND environment_id = $2 GROUP BY workflow_id",
        )
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("workflow_id")?, r.try_get("started_ms")?)))
            .collect()
    }

    pub(crate) async fn read_finished_by_workflow(
        &self,
        scope: &Scope,
        since_ms: i64,
        until_ms: i64,
    ) -> Result<Vec<(String, String, i64)>> {
        let rows = sqlx::query(
            "SELECT workflow_id, status, CAST(SUM(runs) AS BIGINT) AS runs FROM execution_stats \
             WHERE tenant_id = $1 AND environment_id = $2 AND hour_ms >= $3 AND hour_ms < $4 \
             GROUP BY workflow_id, status",
        )
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(since_ms)
        .bind(until_ms)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("workflow_id")?,
                    r.try_get("status")?,
                    r.try_get("runs")?,
                ))
            })
            .collect()
    }

    pub(crate) async fn count_unfinished(
        &self,
        scope: &Scope,
        workflow_id: Option<&str>,
    ) -> Result<Vec<(String, i64)>> {
        // Each form reads a partial index of unfinished runs (migrations 0013 and 0016), never
        // the finished ones.
        let query = match workflow_id {
            None => sqlx::query(
                "SELECT status, COUNT(*) AS n FROM executions WHERE tenant_id = $1 AND environment_id = $2 \
                 AND status <> 'completed' AND status NOT IN ('failed', 'cancelled') GROUP BY status",
            )
            .bind(&scope.tenant)
            .bind(&scope.environment),
            Some(w) => sqlx::query(
                "SELECT status, COUNT(*) AS n FROM executions WHERE tenant_id = $1 AND environment_id = $2 \
                 AND workflow_id = $3 AND status NOT IN ('completed', 'failed', 'cancelled') GROUP BY status",
            )
            .bind(&scope.tenant)
            .bind(&scope.environment)
            .bind(w),
        };
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| Ok((r.try_get("status")?, r.try_get("n")?)))
            .collect()
    }

    pub(crate) async fn count_pending_approvals(
        &self,
        scope: &Scope,
        workflow_id: Option<&str>,
    ) -> Result<i64> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM approvals a WHERE a.tenant_id = $1 AND a.environment_id = $2 AND a.status = 'pending' \
             AND ($3 IS NULL OR EXISTS (SELECT 1 FROM executions x WHERE x.tenant_id = $1 AND x.environment_id = $2 \
             AND x.id = a.execution_id AND x.workflow_id = $3))",
        )
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(workflow_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get("n")?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_the_digits_and_the_first_digit() {
        for (ms, bucket, bounds) in [
            (0, 10, (0.0, 1.0)),
            (7, 17, (7.0, 8.0)),
            (250, 32, (200.0, 300.0)),
            (1800, 41, (1000.0, 2000.0)),
            (99_999, 59, (90_000.0, 100_000.0)),
            (-5, 10, (0.0, 1.0)),
        ] {
            assert_eq!(bucket_of(ms), bucket, "{ms}");
            assert_eq!(bucket_bounds(bucket), bounds, "{ms}");
            let (low, high) = bucket_bounds(bucket);
            assert!(low <= ms.max(0) as f64 && (ms.max(0) as f64) < high);
        }
    }

    #[test]
    fn quantiles_interpolate_within_their_bucket() {
        let mut d = Durations::default();
        assert_eq!(d.quantile(0.5), None);
        // 90 runs of 3 ms, 10 of 200-299 ms.
        d.add(bucket_of(3), 90);
        d.add(bucket_of(250), 10);
        assert_eq!(d.count(), 100);
        let p50 = d.quantile(0.5).unwrap();
        assert!((3.0..4.0).contains(&p50), "{p50}");
        let p95 = d.quantile(0.95).unwrap();
        assert!((200.0..300.0).contains(&p95), "{p95}");
        assert_eq!(d.quantile(1.0), Some(300.0));
        assert_eq!(d.quantile(0.0), Some(3.0 + 1.0 / 90.0));
    }
}
