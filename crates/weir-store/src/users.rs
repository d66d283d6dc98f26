//! Users of the web UI and their sessions. A user belongs to one tenant and may work in any of
//! its environments; a session names the one it works in. Passwords arrive hashed (argon2, by
//! the server) and session tokens as SHA-256 hashes: neither is ever stored in the clear.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::sql::{SqlStore, found, sql};
use crate::*;

pub(crate) const USER_COLUMNS: &str = "u.id, u.tenant_id, u.environment_id, u.email, u.name, u.role, \
     u.created_ms, u.updated_ms, u.disabled_ms";

pub(crate) fn user_row(r: &AnyRow) -> Result<User> {
    Ok(User {
        id: r.try_get("id")?,
        tenant: r.try_get("tenant_id")?,
        environment: r.try_get("environment_id")?,
        email: r.try_get("email")?,
        name: r.try_get("name")?,
        role: r.try_get("role")?,
        created_ms: r.try_get("created_ms")?,
        updated_ms: r.try_get("updated_ms")?,
        disabled_ms: r.try_get("disabled_ms")?,
    })
}

fn email_taken(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|d| d.is_unique_violation())
}

impl SqlStore {
    pub(crate) async fn insert_user(&self, user: &NewUser) -> Result<User> {
        let now = self.now;
        let mut tx = self.begin().await?;
        // The tenant, and the environment the user is limited to when it is.
        if sqlx::query(
            "SELECT t.id FROM tenants t WHERE t.id = $1 AND ($2 IS NULL OR EXISTS \
             (SELECT 1 FROM environments e WHERE e.tenant_id = t.id AND e.id = $2))",
        )
        .bind(&user.tenant)
        .bind(user.environment.as_deref())
        .fetch_optional(&mut *tx)
        .await?
        .is_none()
        {
            return Err(Error::NotFound);
        }
        let conflict = || Error::Conflict(format!("the tenant has a user '{}'", user.email));
        sqlx::query(sql(format!(
            "INSERT INTO users (id, tenant_id, email, name, role, password_hash, environment_id, created_ms, updated_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, {now}, {now})"
        )))
        .bind(&user.id)
        .bind(&user.tenant)
        .bind(&user.email)
        .bind(&user.name)
        .bind(&user.role)
        .bind(&user.password_hash)
        .bind(user.environment.as_deref())
        .execute(&mut *tx)
        .await
        .map_err(|e| match email_taken(&e) {
            true => conflict(),
            false => e.into(),
        })?;
        tx.commit().await.map_err(|e| match email_taken(&e) {
            true => conflict(),
            false => e.into(),
        })?;
        self.list_users(Some(&user.tenant), Some(&user.id))
            .await?
            .pop()
            .ok_or(Error::NotFound)
    }

    pub(crate) async fn list_users(
        &self,
        tenant: Option<&str>,
        id: Option<&str>,
    ) -> Result<Vec<User>> {
        sqlx::query(sql(format!(
            "SELECT {USER_COLUMNS} FROM users u WHERE ($1 IS NULL OR u.tenant_id = $1) \
             AND ($2 IS NULL OR u.id = $2) ORDER BY u.created_ms, u.id"
        )))
        .bind(tenant)
        .bind(id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(user_row)
        .collect()
    }

    pub(crate) async fn find_login(
        &self,
        tenant: &str,
        email: &str,
    ) -> Result<Option<(User, String)>> {
        sqlx::query(sql(format!(
            "SELECT {USER_COLUMNS}, u.password_hash FROM users u \
             WHERE u.tenant_id = $1 AND u.email = $2 AND u.disabled_ms IS NULL"
        )))
        .bind(tenant)
        .bind(email)
        .fetch_optional(&self.pool)
        .await?
        .map(|r| Ok((user_row(&r)?, r.try_get("password_hash")?)))
        .transpose()
    }

    pub(crate) async fn change_user(
        &self,
        tenant: Option<&str>,
        id: &str,
        change: &UserChange,
    ) -> Result<User> {
        let now = self.now;
        let mut tx = self.begin().await?;
        let disabled = change.disabled.map(|d| if d { 1_i64 } else { 0 });
        let done = sqlx::query(sql(format!(
            "UPDATE users SET name = COALESCE($3, name), role = COALESCE($4, role), \
             password_hash = COALESCE($5, password_hash), \
             disabled_ms = CASE WHEN $6 IS NULL THEN disabled_ms \
                                WHEN $6 = 1 THEN COALESCE(disabled_ms, {now}) ELSE NULL END, \
             updated_ms = {now} \
             WHERE id = $1 AND ($2 IS NULL OR tenant_id = $2)"
        )))
        .bind(id)
        .bind(tenant)
        .bind(change.name.as_deref())
        .bind(change.role.as_deref())
        .bind(change.password_hash.as_deref())
        .bind(disabled)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(Error::NotFound);
        }
        if change.password_hash.is_some() || change.disabled == Some(true) {
            sqlx::query(sql(format!(
                "UPDATE sessions SET revoked_ms = {now} WHERE user_id = $1 AND revoked_ms IS NULL"
            )))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        self.list_users(tenant, Some(id))
            .await?
            .pop()
            .ok_or(Error::NotFound)
    }

    pub(crate) async fn insert_session(&self, s: &NewSession) -> Result<Session> {
        let now = self.now;
        let mut tx = self.begin().await?;
        if sqlx::query(
            "SELECT u.id FROM users u JOIN environments e ON e.tenant_id = u.tenant_id \
             WHERE u.id = $1 AND u.tenant_id = $2 AND e.id = $3 AND u.disabled_ms IS NULL \
             AND (u.environment_id IS NULL OR u.environment_id = e.id)",
        )
        .bind(&s.user_id)
        .bind(&s.scope.tenant)
        .bind(&s.scope.environment)
        .fetch_optional(&mut *tx)
        .await?
        .is_none()
        {
            return Err(Error::NotFound);
        }
        sqlx::query(sql(format!(
            "INSERT INTO sessions (id, token_hash, user_id, tenant_id, environment_id, created_ms, expires_ms) \
             VALUES ($1, $2, $3, $4, $5, {now}, $6)"
        )))
        .bind(&s.id)
        .bind(&s.token_hash)
        .bind(&s.user_id)
        .bind(&s.scope.tenant)
        .bind(&s.scope.environment)
        .bind(s.expires_ms)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.find_session(&s.token_hash)
            .await?
            .ok_or(Error::NotFound)
    }

    pub(crate) async fn find_session(&self, token_hash: &str) -> Result<Option<Session>> {
        let now = self.now;
        sqlx::query(sql(format!(
            "SELECT {USER_COLUMNS}, s.id AS session_id, s.environment_id, \
             s.created_ms AS session_created_ms, s.expires_ms \
             FROM sessions s JOIN users u ON u.id = s.user_id AND u.tenant_id = s.tenant_id \
             WHERE s.token_hash = $1 AND s.revoked_ms IS NULL AND s.expires_ms > {now} \
             AND u.disabled_ms IS NULL"
        )))
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?
        .map(|r| {
            let user = user_row(&r)?;
            Ok(Session {
                id: r.try_get("session_id")?,
                scope: Scope::new(
                    user.tenant.clone(),
                    r.try_get::<String, _>("environment_id")?,
                ),
                created_ms: r.try_get("session_created_ms")?,
                expires_ms: r.try_get("expires_ms")?,
                user,
            })
        })
        .transpose()
    }

    pub(crate) async fn end_session(&self, id: &str) -> Result<()> {
        let now = self.now;
        let done = sqlx::query(sql(format!(
            "UPDATE sessions SET revoked_ms = {now} WHERE id = $1 AND revoked_ms IS NULL"
        )))
        .bind(id)
        .execute(&self.pool)
        .await?;
        found(done)
    }
}
