//! Reading approvals (they are written by commits and decided by `decide_approval`).

use sqlx::Row;

use crate::sql::SqlStore;
use crate::*;

impl SqlStore {
    pub(crate) async fn list_approvals(
        &self,
        scope: &Scope,
        id: Option<&str>,
        f: &ApprovalFilter,
    ) -> Result<Vec<Approval>> {
        let rows = sqlx::query(
            "SELECT id, execution_id, step_id, status, approver_role, entity, entity_id, message, requested_ms, \
             expires_ms, decided_by, decided_ms, decision_reason FROM approvals \
             WHERE tenant_id = $1 AND environment_id = $2 AND ($3 IS NULL OR id = $3) \
             AND ($4 IS NULL OR status = $4) AND ($5 IS NULL OR entity = $5) AND ($6 IS NULL OR entity_id = $6) \
             AND ($7 IS NULL OR approver_role = $7) AND ($8 IS NULL OR execution_id = $8) \
             AND ($9 IS NULL OR id < $9) ORDER BY id DESC LIMIT $10",
        )
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(id)
        .bind(f.status.as_deref())
        .bind(f.entity.as_deref())
        .bind(f.entity_id.as_deref())
        .bind(f.role.as_deref())
        .bind(f.execution_id.as_deref())
        .bind(f.before.as_deref())
        .bind(f.limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Approval {
                    id: r.try_get("id")?,
                    execution_id: r.try_get("execution_id")?,
                    step_id: r.try_get("step_id")?,
                    status: r.try_get("status")?,
                    approver_role: r.try_get("approver_role")?,
                    entity: r.try_get("entity")?,
                    entity_id: r.try_get("entity_id")?,
                    message: r.try_get("message")?,
                    requested_ms: r.try_get("requested_ms")?,
                    expires_ms: r.try_get("expires_ms")?,
                    decided_by: r.try_get("decided_by")?,
                    decided_ms: r.try_get("decided_ms")?,
                    reason: r.try_get("decision_reason")?,
                })
            })
            .collect()
    }
}
