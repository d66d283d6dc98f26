//! Tenants, environments and API keys: the platform admin's operations, the only ones that are
//! not scoped by one tenant × environment (a tenant's admin passes its own tenant).

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::sql::{SqlStore, found, sql};
use crate::*;

const KEY_COLUMNS: &str =
    "id, tenant_id, environment_id, role, name, platform, created_ms, expires_ms, revoked_ms";

fn key_row(r: &AnyRow) -> Result<ApiKey> {
    Ok(ApiKey {
        id: r.try_get("id")?,
        scope: Scope::new(
            r.try_get::<String, _>("tenant_id")?,
            r.try_get::<String, _>("environment_id")?,
        ),
        role: r.try_get("role")?,
        name: r.try_get("name")?,
        platform: r.try_get::<i64, _>("platform")? != 0,
        created_ms: r.try_get("created_ms")?,
        expires_ms: r.try_get("expires_ms")?,
        revoked_ms: r.try_get("revoked_ms")?,
    })
}

impl SqlStore {
    pub(crate) async fn find_api_key(&self, key_hash: &str) -> Result<Option<ApiKey>> {
        let now = self.now;
        sqlx::query(sql(format!(
            "SELECT {KEY_COLUMNS} FROM api_keys WHERE key_hash = $1 AND revoked_ms IS NULL \
             AND (expires_ms IS NULL OR expires_ms > {now})"
        )))
        .bind(key_hash)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(key_row)
        .transpose()
    }

    pub(crate) async fn insert_tenant(&self, id: &str, name: &str) -> Result<Tenant> {
        let now = self.now;
        let mut tx = self.begin().await?;
        let taken = sqlx::query("SELECT id FROM tenants WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        if taken.is_some() {
            return Err(Error::Conflict(format!("a tenant '{id}' exists")));
        }
        sqlx::query(sql(format!(
            "INSERT INTO tenants (id, name, created_ms) VALUES ($1, $2, {now})"
        )))
        .bind(id)
        .bind(name)
        .execute(&mut *tx)
        .await?;
        for env in ["development", "production"] {
            sqlx::query(sql(format!(
                "INSERT INTO environments (tenant_id, id, name, created_ms) VALUES ($1, $2, $2, {now})"
            )))
            .bind(id)
            .bind(env)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        self.list_tenants(Some(id))
            .await?
            .pop()
            .ok_or(Error::NotFound)
    }

    pub(crate) async fn list_tenants(&self, id: Option<&str>) -> Result<Vec<Tenant>> {
        let rows = sqlx::query(
            "SELECT t.id, t.name, t.created_ms, e.id AS environment FROM tenants t \
             LEFT JOIN environments e ON e.tenant_id = t.id \
             WHERE $1 IS NULL OR t.id = $1 ORDER BY t.created_ms, t.id, e.id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        let mut out: Vec<Tenant> = Vec::new();
        for r in rows {
            let tid: String = r.try_get("id")?;
            if out.last().is_none_or(|t| t.id != tid) {
                out.push(Tenant {
                    id: tid,
                    name: r.try_get("name")?,
                    created_ms: r.try_get("created_ms")?,
                    environments: Vec::new(),
                });
            }
            if let (Some(t), Some(env)) = (
                out.last_mut(),
                r.try_get::<Option<String>, _>("environment")?,
            ) {
                t.environments.push(env);
            }
        }
        Ok(out)
    }

    pub(crate) async fn insert_environment(&self, tenant: &str, id: &str) -> Result<()> {
        let now = self.now;
        let mut tx = self.begin().await?;
        if sqlx::query("SELECT id FROM tenants WHERE id = $1")
            .bind(tenant)
            .fetch_optional(&mut *tx)
            .await?
            .is_none()
        {
            return Err(Error::NotFound);
        }
        let taken = sqlx::query("SELECT id FROM environments WHERE tenant_id = $1 AND id = $2")
            .bind(tenant)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        if taken.is_some() {
            return Err(Error::Conflict(format!("an environment '{id}' exists")));
        }
        sqlx::query(sql(format!(
            "INSERT INTO environments (tenant_id, id, name, created_ms) VALUES ($1, $2, $2, {now})"
        )))
        .bind(tenant)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn insert_api_key(&self, key: &NewApiKey) -> Result<ApiKey> {
        let now = self.now;
        let mut tx = self.begin().await?;
        if sqlx::query("SELECT id FROM environments WHERE tenant_id = $1 AND id = $2")
            .bind(&key.scope.tenant)
            .bind(&key.scope.environment)
            .fetch_optional(&mut *tx)
            .await?
            .is_none()
        {
            return Err(Error::NotFound);
        }
        sqlx::query(sql(format!(
            "INSERT INTO api_keys (id, tenant_id, environment_id, key_hash, role, name, created_ms, expires_ms, platform) \
             VALUES ($1, $2, $3, $4, $5, $6, {now}, $7, 0)"
        )))
        .bind(&key.id)
        .bind(&key.scope.tenant)
        .bind(&key.scope.environment)
        .bind(&key.key_hash)
        .bind(&key.role)
        .bind(&key.name)
        .bind(key.expires_ms)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.list_api_keys(Some(&key.scope.tenant), None, Some(&key.id))
            .await?
            .pop()
            .ok_or(Error::NotFound)
    }

    pub(crate) async fn list_api_keys(
        &self,
        tenant: Option<&str>,
        environment: Option<&str>,
        id: Option<&str>,
    ) -> Result<Vec<ApiKey>> {
        sqlx::query(sql(format!(
            "SELECT {KEY_COLUMNS} FROM api_keys WHERE ($1 IS NULL OR tenant_id = $1) \
             AND ($2 IS NULL OR id = $2) AND ($3 IS NULL OR environment_id = $3) \
             ORDER BY created_ms DESC, id DESC"
        )))
        .bind(tenant)
        .bind(id)
        .bind(environment)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(key_row)
        .collect()
    }

    pub(crate) async fn set_revoked(&self, tenant: Option<&str>, id: &str) -> Result<()> {
        let now = self.now;
        let done = sqlx::query(sql(format!(
            "UPDATE api_keys SET revoked_ms = {now} WHERE id = $1 AND ($2 IS NULL OR tenant_id = $2) \
             AND revoked_ms IS NULL"
        )))
        .bind(id)
        .bind(tenant)
        .execute(&self.pool)
        .await?;
        found(done)
    }
}

impl SqlStore {
    pub(crate) async fn read_audit(
        &self,
        scope: &Scope,
        f: &AuditFilter,
    ) -> Result<Vec<AuditRecord>> {
        let rows = sqlx::query(
            "SELECT id, actor_type, actor_id, action, target, changes, at_ms FROM audit_log \
             WHERE tenant_id = $1 AND environment_id = $2 \
             AND ($3 IS NULL OR actor_type = $3) AND ($4 IS NULL OR actor_id = $4) \
             AND ($5 IS NULL OR action = $5) AND ($6 IS NULL OR target = $6) \
             AND ($7 IS NULL OR at_ms >= $7) AND ($8 IS NULL OR at_ms < $8) \
             AND ($9 IS NULL OR id < $9) \
             ORDER BY id DESC LIMIT $10",
        )
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(f.actor_type.as_deref())
        .bind(f.actor_id.as_deref())
        .bind(f.action.as_deref())
        .bind(f.target.as_deref())
        .bind(f.since_ms)
        .bind(f.until_ms)
        .bind(f.before)
        .bind(f.limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let changes: Option<String> = r.try_get("changes")?;
                Ok(AuditRecord {
                    id: r.try_get("id")?,
                    actor_type: r.try_get("actor_type")?,
                    actor_id: r.try_get("actor_id")?,
                    action: r.try_get("action")?,
                    target: r.try_get("target")?,
                    changes: changes
                        .map(|c| {
                            serde_json::from_str(&c)
                                .map_err(|e| Error::Corrupt(format!("audit changes: {e}")))
                        })
                        .transpose()?,
                    at_ms: r.try_get("at_ms")?,
                })
            })
            .collect()
    }
}
