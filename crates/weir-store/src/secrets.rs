//! Sealed secrets of a tenant × environment, its settings, and installation settings. Sealing and opening
//! happen in the server, which holds the master key; the store keeps ciphertext only.

use sqlx::Row;

use crate::sql::{SqlStore, found, sql};
use crate::*;

impl SqlStore {
    pub(crate) async fn upsert_secret(
        &self,
        scope: &Scope,
        name: &str,
        sealed: &str,
        policy: &SecretPolicy,
        if_updated_ms: Option<i64>,
    ) -> Result<bool> {
        let now = self.now;
        let policy = (!policy.is_unrestricted())
            .then(|| serde_json::to_string(policy).expect("a policy is plain JSON"));
        let mut tx = self.begin().await?;
        let updated = sqlx::query(sql(format!(
            "UPDATE secrets SET sealed = $4, policy = $5, updated_ms = {now} \
             WHERE tenant_id = $1 AND environment_id = $2 AND name = $3 AND ($6 IS NULL OR updated_ms = $6)"
        )))
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(name)
        .bind(sealed)
        .bind(&policy)
        .bind(if_updated_ms)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated == 0 && if_updated_ms.is_some() {
            return Err(Error::Conflict(format!(
                "the secret {name} changed while this change was made; read it and try again"
            )));
        }
        if updated == 0 {
            sqlx::query(sql(format!(
                "INSERT INTO secrets (tenant_id, environment_id, name, sealed, policy, created_ms, updated_ms) \
                 VALUES ($1, $2, $3, $4, $5, {now}, {now})"
            )))
            .bind(&scope.tenant)
            .bind(&scope.environment)
            .bind(name)
            .bind(sealed)
            .bind(&policy)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(updated == 0)
    }

    pub(crate) async fn list_secrets(
        &self,
        scope: &Scope,
        name: Option<&str>,
    ) -> Result<Vec<SecretRow>> {
        sqlx::query(
            "SELECT name, sealed, policy, created_ms, updated_ms FROM secrets \
             WHERE tenant_id = $1 AND environment_id = $2 AND ($3 IS NULL OR name = $3) ORDER BY name",
        )
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(name)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            let policy: Option<String> = r.try_get("policy")?;
            Ok(SecretRow {
                name: r.try_get("name")?,
                sealed: r.try_get("sealed")?,
                policy: policy
                    .map(|p| {
                        serde_json::from_str(&p)
                            .map_err(|e| Error::Corrupt(format!("a secret's policy: {e}")))
                    })
                    .transpose()?
                    .unwrap_or_default(),
                created_ms: r.try_get("created_ms")?,
                updated_ms: r.try_get("updated_ms")?,
            })
        })
        .collect()
    }

    pub(crate) async fn remove_secret(&self, scope: &Scope, name: &str) -> Result<()> {
        let done = sqlx::query(
            "DELETE FROM secrets WHERE tenant_id = $1 AND environment_id = $2 AND name = $3",
        )
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(name)
        .execute(&self.pool)
        .await?;
        found(done)
    }

    pub(crate) async fn keep_setting(&self, name: &str, value: &str) -> Result<String> {
        let mut tx = self.begin().await?;
        let found: Option<String> = sqlx::query("SELECT value FROM settings WHERE name = $1")
            .bind(name)
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| r.try_get("value"))
            .transpose()?;
        if let Some(v) = found {
            return Ok(v);
        }
        sqlx::query("INSERT INTO settings (name, value) VALUES ($1, $2)")
            .bind(name)
            .bind(value)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(value.to_owned())
    }

    pub(crate) async fn read_scope_setting(
        &self,
        scope: &Scope,
        name: &str,
    ) -> Result<Option<ScopeSetting>> {
        let row = sqlx::query(
            "SELECT value, updated_ms FROM scope_settings \
             WHERE tenant_id = $1 AND environment_id = $2 AND name = $3",
        )
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            let text: String = r.try_get("value")?;
            Ok(ScopeSetting {
                name: name.to_owned(),
                value: serde_json::from_str(&text)
                    .map_err(|e| Error::Corrupt(format!("the setting {name}: {e}")))?,
                updated_ms: r.try_get("updated_ms")?,
            })
        })
        .transpose()
    }

    pub(crate) async fn write_scope_setting(
        &self,
        scope: &Scope,
        name: &str,
        value: &serde_json::Value,
    ) -> Result<ScopeSetting> {
        let now = self.now;
        let text = value.to_string();
        let mut tx = self.begin().await?;
        let updated = sqlx::query(sql(format!(
            "UPDATE scope_settings SET value = $4, updated_ms = {now} \
             WHERE tenant_id = $1 AND environment_id = $2 AND name = $3"
        )))
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(name)
        .bind(&text)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated == 0 {
            sqlx::query(sql(format!(
                "INSERT INTO scope_settings (tenant_id, environment_id, name, value, updated_ms) \
                 VALUES ($1, $2, $3, $4, {now})"
            )))
            .bind(&scope.tenant)
            .bind(&scope.environment)
            .bind(name)
            .bind(&text)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        self.read_scope_setting(scope, name)
            .await?
            .ok_or(Error::NotFound)
    }

    pub(crate) async fn remove_scope_setting(&self, scope: &Scope, name: &str) -> Result<()> {
        let done = sqlx::query(
            "DELETE FROM scope_settings WHERE tenant_id = $1 AND environment_id = $2 AND name = $3",
        )
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(name)
        .execute(&self.pool)
        .await?;
        found(done)
    }

    /// A read and a write: the time of the last probe, kept as an installation setting.
    pub(crate) async fn write_probe(&self) -> Result<()> {
        let now = self.now;
        sqlx::query(sql(format!(
            "INSERT INTO settings (name, value) VALUES ('ready-probe', CAST({now} AS TEXT)) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value"
        )))
        .execute(&self.pool)
        .await?;
        sqlx::query("SELECT value FROM settings WHERE name = 'ready-probe'")
            .fetch_one(&self.pool)
            .await?;
        Ok(())
    }
}
