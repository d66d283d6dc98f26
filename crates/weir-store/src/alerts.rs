//! Alert rules per tenant × environment, where each stands, what they measure, and the lease
//! that lets one node at a time evaluate them.

use sqlx::Row;

use crate::sql::{SqlStore, found, id_at, sql};
use crate::*;

/// What an alert measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertMetric {
    /// Runs that started in the window and failed.
    Failures,
    /// The share of failed runs among the finished runs that started in the window (the
    /// newest [`MEASURED_RUNS`] of them at most), from 0 to 1.
    FailureRate,
    /// The 95th percentile of how long those runs took, in milliseconds.
    DurationP95Ms,
    /// Approvals waiting for a decision for longer than the window.
    PendingApprovals,
}

/// The most finished runs a rate or a percentile reads.
pub const MEASURED_RUNS: i64 = 10_000;

fn alert_row(r: &sqlx::any::AnyRow) -> Result<AlertRow> {
    let definition: String = r.try_get("definition")?;
    let value: Option<String> = r.try_get("value")?;
    Ok(AlertRow {
        id: r.try_get("id")?,
        definition: serde_json::from_str(&definition)
            .map_err(|e| Error::Corrupt(format!("alert definition: {e}")))?,
        state: r.try_get("state")?,
        value: value.and_then(|v| v.parse().ok()),
        changed_ms: r.try_get("changed_ms")?,
        evaluated_ms: r.try_get("evaluated_ms")?,
        created_ms: r.try_get("created_ms")?,
        updated_ms: r.try_get("updated_ms")?,
    })
}

const COLUMNS: &str =
    "id, definition, state, value, changed_ms, evaluated_ms, created_ms, updated_ms";

impl SqlStore {
    pub(crate) async fn insert_alert(
        &self,
        scope: &Scope,
        id: &str,
        definition: &Value,
    ) -> Result<AlertRow> {
        let now = self.now;
        sqlx::query(sql(format!(
            "INSERT INTO alerts (tenant_id, environment_id, id, definition, state, created_ms, updated_ms) \
             VALUES ($1, $2, $3, $4, 'ok', {now}, {now})"
        )))
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(id)
        .bind(definition.to_string())
        .execute(&self.pool)
        .await?;
        self.one_alert(scope, id).await?.ok_or(Error::NotFound)
    }

    /// Replaces a rule; where it stands is kept (a changed rule is judged at the next round).
    pub(crate) async fn replace_alert(
        &self,
        scope: &Scope,
        id: &str,
        definition: &Value,
    ) -> Result<AlertRow> {
        let now = self.now;
        let done = sqlx::query(sql(format!(
            "UPDATE alerts SET definition = $4, updated_ms = {now} \
             WHERE tenant_id = $1 AND environment_id = $2 AND id = $3"
        )))
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(id)
        .bind(definition.to_string())
        .execute(&self.pool)
        .await?;
        found(done)?;
        self.one_alert(scope, id).await?.ok_or(Error::NotFound)
    }

    pub(crate) async fn one_alert(&self, scope: &Scope, id: &str) -> Result<Option<AlertRow>> {
        let row = sqlx::query(sql(format!(
            "SELECT {COLUMNS} FROM alerts WHERE tenant_id = $1 AND environment_id = $2 AND id = $3"
        )))
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(alert_row).transpose()
    }

    pub(crate) async fn list_alerts(&self, scope: &Scope) -> Result<Vec<AlertRow>> {
        let rows = sqlx::query(sql(format!(
            "SELECT {COLUMNS} FROM alerts WHERE tenant_id = $1 AND environment_id = $2 ORDER BY id"
        )))
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(alert_row).collect()
    }

    pub(crate) async fn remove_alert(&self, scope: &Scope, id: &str) -> Result<()> {
        let done = sqlx::query(
            "DELETE FROM alerts WHERE tenant_id = $1 AND environment_id = $2 AND id = $3",
        )
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(id)
        .execute(&self.pool)
        .await?;
        found(done)
    }

    pub(crate) async fn judge_alert(
        &self,
        scope: &Scope,
        id: &str,
        from: &str,
        to: &str,
        value: f64,
    ) -> Result<bool> {
        let now = self.now;
        let done = sqlx::query(sql(format!(
            "UPDATE alerts SET state = $5, value = $6, evaluated_ms = {now}, \
             changed_ms = CASE WHEN $4 = $5 THEN changed_ms ELSE {now} END \
             WHERE tenant_id = $1 AND environment_id = $2 AND id = $3 AND state = $4"
        )))
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(id)
        .bind(from)
        .bind(to)
        .bind(value.to_string())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub(crate) async fn measure_alert(
        &self,
        scope: &Scope,
        metric: AlertMetric,
        workflow_id: Option<&str>,
        since_ms: i64,
    ) -> Result<f64> {
        match metric {
            AlertMetric::Failures => {
                let row = sqlx::query(
                    "SELECT COUNT(*) FROM executions WHERE tenant_id = $1 AND environment_id = $2 \
                     AND status <> 'completed' AND status = 'failed' AND id >= $3 \
                     AND ($4 IS NULL OR workflow_id = $4)",
                )
                .bind(&scope.tenant)
                .bind(&scope.environment)
                .bind(id_at(since_ms))
                .bind(workflow_id)
                .fetch_one(&self.pool)
                .await?;
                Ok(row.try_get::<i64, _>(0)? as f64)
            }
            AlertMetric::PendingApprovals => {
                let row = sqlx::query(
                    "SELECT COUNT(*) FROM approvals a WHERE a.tenant_id = $1 AND a.environment_id = $2 \
                     AND a.status = 'pending' AND a.requested_ms <= $3 \
                     AND ($4 IS NULL OR EXISTS (SELECT 1 FROM executions x WHERE x.tenant_id = $1 \
                         AND x.environment_id = $2 AND x.id = a.execution_id AND x.workflow_id = $4))",
                )
                .bind(&scope.tenant)
                .bind(&scope.environment)
                .bind(since_ms)
                .bind(workflow_id)
                .fetch_one(&self.pool)
                .await?;
                Ok(row.try_get::<i64, _>(0)? as f64)
            }
            AlertMetric::FailureRate | AlertMetric::DurationP95Ms => {
                let rows = sqlx::query(
                    "SELECT status, completed_ms - started_ms FROM executions \
                     WHERE tenant_id = $1 AND environment_id = $2 AND id >= $3 \
                     AND status IN ('completed', 'failed', 'cancelled') \
                     AND ($4 IS NULL OR workflow_id = $4) ORDER BY id DESC LIMIT $5",
                )
                .bind(&scope.tenant)
                .bind(&scope.environment)
                .bind(id_at(since_ms))
                .bind(workflow_id)
                .bind(MEASURED_RUNS)
                .fetch_all(&self.pool)
                .await?;
                if rows.is_empty() {
                    return Ok(0.0);
                }
                if metric == AlertMetric::FailureRate {
                    let mut failed = 0usize;
                    for r in &rows {
                        if r.try_get::<String, _>(0)? == "failed" {
                            failed += 1;
                        }
                    }
                    return Ok(failed as f64 / rows.len() as f64);
                }
                let mut took: Vec<i64> = Vec::with_capacity(rows.len());
                for r in &rows {
                    if let Some(ms) = r.try_get::<Option<i64>, _>(1)? {
                        took.push(ms.max(0));
                    }
                }
                if took.is_empty() {
                    return Ok(0.0);
                }
                took.sort_unstable();
                // The nearest-rank percentile.
                let rank = (took.len() * 95).div_ceil(100).max(1);
                Ok(took[rank - 1] as f64)
            }
        }
    }

    pub(crate) async fn take_lead(&self, name: &str, owner: &str, ttl_ms: i64) -> Result<bool> {
        let now = self.now;
        let done = sqlx::query(sql(format!(
            "INSERT INTO node_leases (name, owner, expires_ms) VALUES ($1, $2, {now} + $3) \
             ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_ms = excluded.expires_ms \
             WHERE node_leases.owner = excluded.owner OR node_leases.expires_ms < {now}"
        )))
        .bind(name)
        .bind(owner)
        .bind(ttl_ms)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
