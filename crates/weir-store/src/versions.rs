//! Workflow versions: enabling, listing and activating (rollback).

use crate::sql::{SqlStore, found, sql};
use crate::*;

impl SqlStore {
    pub(crate) async fn update_enabled(
        &self,
        scope: &Scope,
        workflow_id: &str,
        enabled: bool,
    ) -> Result<()> {
        let now = self.now;
        let done = sqlx::query(sql(format!(
            "UPDATE workflows SET enabled = $4, updated_ms = {now} \
             WHERE tenant_id = $1 AND environment_id = $2 AND workflow_id = $3 AND deleted_ms IS NULL"
        )))
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(workflow_id)
        .bind(i64::from(enabled))
        .execute(&self.pool)
        .await?;
        found(done)
    }

    pub(crate) async fn list_versions(
        &self,
        scope: &Scope,
        workflow_id: &str,
    ) -> Result<Vec<WorkflowVersion>> {
        sqlx::query(
            "SELECT v.workflow_id, v.version, COALESCE(w.enabled, 0) AS enabled, v.definition, v.created_ms, COALESCE(w.updated_ms, v.created_ms) AS updated_ms \
             FROM workflow_versions v LEFT JOIN workflows w ON w.tenant_id = v.tenant_id \
               AND w.environment_id = v.environment_id AND w.workflow_id = v.workflow_id \
             WHERE v.tenant_id = $1 AND v.environment_id = $2 AND v.workflow_id = $3 ORDER BY v.version",
        )
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(workflow_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(SqlStore::workflow_row)
        .collect()
    }

    pub(crate) async fn make_current(
        &self,
        scope: &Scope,
        workflow_id: &str,
        version: i64,
    ) -> Result<WorkflowVersion> {
        let now = self.now;
        let mut tx = self.begin().await?;
        let exists = sqlx::query(
            "SELECT version FROM workflow_versions WHERE tenant_id = $1 AND environment_id = $2 \
             AND workflow_id = $3 AND version = $4",
        )
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(workflow_id)
        .bind(version)
        .fetch_optional(&mut *tx)
        .await?;
        if exists.is_none() {
            return Err(Error::NotFound);
        }
        sqlx::query(sql(format!(
            "UPDATE workflows SET current_version = $4, deleted_ms = NULL, updated_ms = {now} \
             WHERE tenant_id = $1 AND environment_id = $2 AND workflow_id = $3"
        )))
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(workflow_id)
        .bind(version)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.workflow_version(scope, workflow_id, version)
            .await?
            .ok_or(Error::NotFound)
    }
}
