//! Rules kept on their own, per tenant × environment.

use sqlx::Row;

use crate::sql::{SqlStore, found, sql};
use crate::*;

impl SqlStore {
    pub(crate) async fn upsert_rule(
        &self,
        scope: &Scope,
        rule_id: &str,
        definition: &Value,
        enabled: bool,
    ) -> Result<bool> {
        let now = self.now;
        let mut tx = self.begin().await?;
        let existed = sqlx::query(
            "SELECT rule_id FROM rules WHERE tenant_id = $1 AND environment_id = $2 AND rule_id = $3",
        )
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(rule_id)
        .fetch_optional(&mut *tx)
        .await?
        .is_some();
        sqlx::query(sql(format!(
            "INSERT INTO rules (tenant_id, environment_id, rule_id, definition, enabled, updated_ms) \
             VALUES ($1, $2, $3, $4, $5, {now}) \
             ON CONFLICT (tenant_id, environment_id, rule_id) DO UPDATE SET definition = $4, enabled = $5, updated_ms = {now}"
        )))
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(rule_id)
        .bind(definition.to_string())
        .bind(i64::from(enabled))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(!existed)
    }

    pub(crate) async fn list_rules(&self, scope: &Scope, id: Option<&str>) -> Result<Vec<RuleRow>> {
        let rows = sqlx::query(
            "SELECT rule_id, definition, enabled, updated_ms FROM rules \
             WHERE tenant_id = $1 AND environment_id = $2 AND ($3 IS NULL OR rule_id = $3) ORDER BY rule_id",
        )
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let definition: String = r.try_get("definition")?;
                Ok(RuleRow {
                    rule_id: r.try_get("rule_id")?,
                    definition: serde_json::from_str(&definition)
                        .map_err(|e| Error::Corrupt(format!("rule definition: {e}")))?,
                    enabled: r.try_get::<i64, _>("enabled")? != 0,
                    updated_ms: r.try_get("updated_ms")?,
                })
            })
            .collect()
    }

    pub(crate) async fn remove_rule(&self, scope: &Scope, rule_id: &str) -> Result<()> {
        let done = sqlx::query(
            "DELETE FROM rules WHERE tenant_id = $1 AND environment_id = $2 AND rule_id = $3",
        )
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(rule_id)
        .execute(&self.pool)
        .await?;
        found(done)
    }
}
