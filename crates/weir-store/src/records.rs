//! What actions write inside Weir: records (entity type + id + JSON fields), notes on them,
//! in-app notifications, the email outbox and email templates. Rows come back as the JSON the
//! API shows. Writes that carry an action's operation key are idempotent: a repeated attempt
//! gets the first write back.

use serde_json::{Map, Value, json};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::sql::{SqlStore, found, sql};
use crate::*;

fn parse(text: &str, what: &str) -> Result<Value> {
    serde_json::from_str(text).map_err(|e| Error::Corrupt(format!("{what}: {e}")))
}

fn record_json(r: &AnyRow) -> Result<Value> {
    let fields: String = r.try_get("fields")?;
    Ok(json!({
        "entity_type": r.try_get::<String, _>("entity_type")?,
        "entity_id": r.try_get::<String, _>("entity_id")?,
        "fields": parse(&fields, "record fields")?,
        "created_ms": r.try_get::<i64, _>("created_ms")?,
        "updated_ms": r.try_get::<i64, _>("updated_ms")?,
    }))
}

fn note_json(r: &AnyRow) -> Result<Value> {
    Ok(json!({
        "id": r.try_get::<String, _>("id")?,
        "entity_type": r.try_get::<String, _>("entity_type")?,
        "entity_id": r.try_get::<String, _>("entity_id")?,
        "note": r.try_get::<String, _>("note")?,
        "visibility": r.try_get::<String, _>("visibility")?,
        "execution_id": r.try_get::<Option<String>, _>("execution_id")?,
        "created_ms": r.try_get::<i64, _>("created_ms")?,
    }))
}

fn notification_json(r: &AnyRow) -> Result<Value> {
    Ok(json!({
        "id": r.try_get::<String, _>("id")?,
        "recipient": r.try_get::<String, _>("recipient")?,
        "channel": r.try_get::<String, _>("channel")?,
        "subject": r.try_get::<Option<String>, _>("subject")?,
        "message": r.try_get::<String, _>("message")?,
        "link": r.try_get::<Option<String>, _>("link")?,
        "execution_id": r.try_get::<Option<String>, _>("execution_id")?,
        "read_ms": r.try_get::<Option<i64>, _>("read_ms")?,
        "created_ms": r.try_get::<i64, _>("created_ms")?,
    }))
}

fn mail_json(r: &AnyRow) -> Result<Value> {
    let message: String = r.try_get("message")?;
    Ok(json!({
        "id": r.try_get::<String, _>("id")?,
        "message": parse(&message, "outbox message")?,
        "status": r.try_get::<String, _>("status")?,
        "error": r.try_get::<Option<String>, _>("error")?,
        "execution_id": r.try_get::<Option<String>, _>("execution_id")?,
        "created_ms": r.try_get::<i64, _>("created_ms")?,
        "updated_ms": r.try_get::<i64, _>("updated_ms")?,
    }))
}

fn template_json(r: &AnyRow) -> Result<Value> {
    Ok(json!({
        "name": r.try_get::<String, _>("name")?,
        "subject": r.try_get::<String, _>("subject")?,
        "text": r.try_get::<Option<String>, _>("text_body")?,
        "html": r.try_get::<Option<String>, _>("html_body")?,
        "created_ms": r.try_get::<i64, _>("created_ms")?,
        "updated_ms": r.try_get::<i64, _>("updated_ms")?,
    }))
}

/// A race on a unique op key: another attempt wrote first.
fn op_race(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|d| d.is_unique_violation())
}

impl SqlStore {
    pub(crate) async fn get_record(
        &self,
        scope: &Scope,
        entity_type: &str,
        entity_id: &str,
    ) -> Result<Option<Value>> {
        sqlx::query(
            "SELECT entity_type, entity_id, fields, created_ms, updated_ms FROM records \
             WHERE tenant_id = $1 AND environment_id = $2 AND entity_type = $3 AND entity_id = $4",
        )
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(entity_type)
        .bind(entity_id)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(record_json)
        .transpose()
    }

    pub(crate) async fn list_records(
        &self,
        scope: &Scope,
        entity_type: &str,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Value>> {
        sqlx::query(
            "SELECT entity_type, entity_id, fields, created_ms, updated_ms FROM records \
             WHERE tenant_id = $1 AND environment_id = $2 AND entity_type = $3 \
             AND ($4 IS NULL OR entity_id > $4) ORDER BY entity_id LIMIT $5",
        )
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(entity_type)
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(record_json)
        .collect()
    }

    /// Writes a record: `change` replaces or merges into its fields. `create_only` refuses an
    /// existing record (Conflict) unless this operation made it.
    pub(crate) async fn save_record(
        &self,
        scope: &Scope,
        w: &RecordWrite<'_>,
    ) -> Result<(Value, bool)> {
        let now = self.now;
        let mut tx = self.begin().await?;
        let found = sqlx::query(
            "SELECT fields, op_key FROM records WHERE tenant_id = $1 AND environment_id = $2 \
             AND entity_type = $3 AND entity_id = $4",
        )
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(w.entity_type)
        .bind(w.entity_id)
        .fetch_optional(&mut *tx)
        .await?;
        let created = match found {
            Some(row) => {
                let op: Option<String> = row.try_get("op_key")?;
                let mine = w.op_key.is_some() && op.as_deref() == w.op_key;
                if w.create_only && !mine {
                    return Err(Error::Conflict(format!(
                        "a {} record '{}' exists",
                        w.entity_type, w.entity_id
                    )));
                }
                let mut fields = match parse(&row.try_get::<String, _>("fields")?, "fields")? {
                    Value::Object(m) if w.merge => m,
                    _ => Map::new(),
                };
                if let Value::Object(change) = w.fields {
                    fields.extend(change.clone());
                }
                sqlx::query(sql(format!(
                    "UPDATE records SET fields = $5, updated_ms = {now} WHERE tenant_id = $1 \
                     AND environment_id = $2 AND entity_type = $3 AND entity_id = $4"
                )))
                .bind(&scope.tenant)
                .bind(&scope.environment)
                .bind(w.entity_type)
                .bind(w.entity_id)
                .bind(Value::Object(fields).to_string())
                .execute(&mut *tx)
                .await?;
                false
            }
            None => {
                sqlx::query(sql(format!(
                    "INSERT INTO records (tenant_id, environment_id, entity_type, entity_id, fields, op_key, created_ms, updated_ms) \
                     VALUES ($1, $2, $3, $4, $5, $6, {now}, {now})"
                )))
                .bind(&scope.tenant)
                .bind(&scope.environment)
                .bind(w.entity_type)
                .bind(w.entity_id)
                .bind(w.fields.to_string())
                .bind(w.op_key)
                .execute(&mut *tx)
                .await?;
                true
            }
        };
        tx.commit().await?;
        let record = self
            .get_record(scope, w.entity_type, w.entity_id)
            .await?
            .ok_or(Error::NotFound)?;
        Ok((record, created))
    }

    pub(crate) async fn remove_record(
        &self,
        scope: &Scope,
        entity_type: &str,
        entity_id: &str,
    ) -> Result<()> {
        let done = sqlx::query(
            "DELETE FROM records WHERE tenant_id = $1 AND environment_id = $2 \
             AND entity_type = $3 AND entity_id = $4",
        )
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(entity_type)
        .bind(entity_id)
        .execute(&self.pool)
        .await?;
        found(done)
    }

    pub(crate) async fn insert_note(&self, scope: &Scope, n: &NewNote) -> Result<Value> {
        let now = self.now;
        if let Some(op) = &n.op_key
            && let Some(found) = self.note_by_op(scope, op).await?
        {
            return Ok(found);
        }
        let id = uuid::Uuid::now_v7().to_string();
        let done = sqlx::query(sql(format!(
            "INSERT INTO record_notes (id, tenant_id, environment_id, entity_type, entity_id, note, visibility, execution_id, op_key, created_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, {now})"
        )))
        .bind(&id)
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(&n.entity_type)
        .bind(&n.entity_id)
        .bind(&n.note)
        .bind(&n.visibility)
        .bind(n.execution_id.as_deref())
        .bind(n.op_key.as_deref())
        .execute(&self.pool)
        .await;
        match done {
            Err(e) if op_race(&e) => {}
            other => {
                other?;
            }
        }
        let found = match &n.op_key {
            Some(op) => self.note_by_op(scope, op).await?,
            None => self.notes_where(scope, "id = $3", &id).await?.pop(),
        };
        found.ok_or(Error::NotFound)
    }

    async fn note_by_op(&self, scope: &Scope, op: &str) -> Result<Option<Value>> {
        Ok(self.notes_where(scope, "op_key = $3", op).await?.pop())
    }

    async fn notes_where(&self, scope: &Scope, cond: &str, value: &str) -> Result<Vec<Value>> {
        sqlx::query(sql(format!(
            "SELECT id, entity_type, entity_id, note, visibility, execution_id, created_ms FROM record_notes \
             WHERE tenant_id = $1 AND environment_id = $2 AND {cond} ORDER BY created_ms, id"
        )))
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(value)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(note_json)
        .collect()
    }

    pub(crate) async fn list_notes(
        &self,
        scope: &Scope,
        entity_type: &str,
        entity_id: &str,
    ) -> Result<Vec<Value>> {
        sqlx::query(
            "SELECT id, entity_type, entity_id, note, visibility, execution_id, created_ms FROM record_notes \
             WHERE tenant_id = $1 AND environment_id = $2 AND entity_type = $3 AND entity_id = $4 \
             ORDER BY created_ms, id LIMIT 1000",
        )
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(entity_type)
        .bind(entity_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(note_json)
        .collect()
    }

    pub(crate) async fn insert_notifications(
        &self,
        scope: &Scope,
        list: &[NewNotification],
    ) -> Result<Vec<Value>> {
        let now = self.now;
        let mut out = Vec::with_capacity(list.len());
        for n in list {
            let id = uuid::Uuid::now_v7().to_string();
            let done = sqlx::query(sql(format!(
                "INSERT INTO notifications (id, tenant_id, environment_id, recipient, channel, subject, message, link, execution_id, op_key, created_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, {now})"
            )))
            .bind(&id)
            .bind(&scope.tenant)
            .bind(&scope.environment)
            .bind(&n.recipient)
            .bind(&n.channel)
            .bind(n.subject.as_deref())
            .bind(&n.message)
            .bind(n.link.as_deref())
            .bind(n.execution_id.as_deref())
            .bind(n.op_key.as_deref())
            .execute(&self.pool)
            .await;
            match done {
                // A repeated attempt: the first one's notification stands.
                Err(e) if op_race(&e) => {}
                other => {
                    other?;
                }
            }
            let found = sqlx::query(
                "SELECT id, recipient, channel, subject, message, link, execution_id, read_ms, created_ms \
                 FROM notifications WHERE tenant_id = $1 AND environment_id = $2 \
                 AND (id = $3 OR (op_key = $4 AND recipient = $5))",
            )
            .bind(&scope.tenant)
            .bind(&scope.environment)
            .bind(&id)
            .bind(n.op_key.as_deref())
            .bind(&n.recipient)
            .fetch_optional(&self.pool)
            .await?;
            if let Some(row) = found {
                out.push(notification_json(&row)?);
            }
        }
        Ok(out)
    }

    pub(crate) async fn list_notifications(
        &self,
        scope: &Scope,
        f: &NotificationFilter,
    ) -> Result<Vec<Value>> {
        sqlx::query(
            "SELECT id, recipient, channel, subject, message, link, execution_id, read_ms, created_ms \
             FROM notifications WHERE tenant_id = $1 AND environment_id = $2 \
             AND ($3 IS NULL OR recipient = $3) AND ($4 IS NULL OR id = $4) \
             AND ($5 = 0 OR read_ms IS NULL) AND ($6 IS NULL OR id < $6) \
             ORDER BY id DESC LIMIT $7",
        )
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(f.recipient.as_deref())
        .bind(f.id.as_deref())
        .bind(i64::from(f.unread_only))
        .bind(f.before.as_deref())
        .bind(f.limit)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(notification_json)
        .collect()
    }

    pub(crate) async fn set_read(
        &self,
        scope: &Scope,
        id: &str,
        recipient: Option<&str>,
    ) -> Result<Value> {
        let now = self.now;
        let done = sqlx::query(sql(format!(
            "UPDATE notifications SET read_ms = COALESCE(read_ms, {now}) WHERE tenant_id = $1 \
             AND environment_id = $2 AND id = $3 AND ($4 IS NULL OR recipient = $4)"
        )))
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(id)
        .bind(recipient)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(Error::NotFound);
        }
        let filter = NotificationFilter {
            id: Some(id.to_owned()),
            limit: 1,
            ..NotificationFilter::default()
        };
        self.list_notifications(scope, &filter)
            .await?
            .pop()
            .ok_or(Error::NotFound)
    }

    pub(crate) async fn insert_mail(
        &self,
        scope: &Scope,
        message: &Value,
        status: &str,
        execution_id: Option<&str>,
        op_key: Option<&str>,
    ) -> Result<(Value, bool)> {
        let now = self.now;
        if let Some(op) = op_key
            && let Some(found) = self.mail_where(scope, "op_key = $3", op).await?
        {
            return Ok((found, false));
        }
        let id = uuid::Uuid::now_v7().to_string();
        let done = sqlx::query(sql(format!(
            "INSERT INTO outbox (id, tenant_id, environment_id, message, status, execution_id, op_key, created_ms, updated_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, {now}, {now})"
        )))
        .bind(&id)
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(message.to_string())
        .bind(status)
        .bind(execution_id)
        .bind(op_key)
        .execute(&self.pool)
        .await;
        match (done, op_key) {
            (Err(e), Some(op)) if op_race(&e) => {
                let found = self.mail_where(scope, "op_key = $3", op).await?;
                return Ok((found.ok_or(Error::NotFound)?, false));
            }
            (other, _) => {
                other?;
            }
        }
        let found = self.mail_where(scope, "id = $3", &id).await?;
        Ok((found.ok_or(Error::NotFound)?, true))
    }

    async fn mail_where(&self, scope: &Scope, cond: &str, value: &str) -> Result<Option<Value>> {
        sqlx::query(sql(format!(
            "SELECT id, message, status, error, execution_id, created_ms, updated_ms FROM outbox \
             WHERE tenant_id = $1 AND environment_id = $2 AND {cond}"
        )))
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(value)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(mail_json)
        .transpose()
    }

    pub(crate) async fn update_mail_status(
        &self,
        scope: &Scope,
        id: &str,
        status: &str,
        error: Option<&str>,
    ) -> Result<()> {
        let now = self.now;
        sqlx::query(sql(format!(
            "UPDATE outbox SET status = $4, error = $5, updated_ms = {now} \
             WHERE tenant_id = $1 AND environment_id = $2 AND id = $3"
        )))
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(id)
        .bind(status)
        .bind(error)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub(crate) async fn list_mail(
        &self,
        scope: &Scope,
        status: Option<&str>,
        before: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Value>> {
        sqlx::query(
            "SELECT id, message, status, error, execution_id, created_ms, updated_ms FROM outbox \
             WHERE tenant_id = $1 AND environment_id = $2 AND ($3 IS NULL OR status = $3) \
             AND ($4 IS NULL OR id < $4) ORDER BY id DESC LIMIT $5",
        )
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(status)
        .bind(before)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(mail_json)
        .collect()
    }

    pub(crate) async fn upsert_template(
        &self,
        scope: &Scope,
        t: &EmailTemplate,
        create_only: bool,
    ) -> Result<(Value, bool)> {
        let now = self.now;
        let mut tx = self.begin().await?;
        let updated = if create_only {
            0
        } else {
            sqlx::query(sql(format!(
                "UPDATE email_templates SET subject = $4, text_body = $5, html_body = $6, updated_ms = {now} \
                 WHERE tenant_id = $1 AND environment_id = $2 AND name = $3"
            )))
            .bind(&scope.tenant)
            .bind(&scope.environment)
            .bind(&t.name)
            .bind(&t.subject)
            .bind(t.text.as_deref())
            .bind(t.html.as_deref())
            .execute(&mut *tx)
            .await?
            .rows_affected()
        };
        if updated == 0 {
            sqlx::query(sql(format!(
                "INSERT INTO email_templates (tenant_id, environment_id, name, subject, text_body, html_body, created_ms, updated_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6, {now}, {now})"
            )))
            .bind(&scope.tenant)
            .bind(&scope.environment)
            .bind(&t.name)
            .bind(&t.subject)
            .bind(t.text.as_deref())
            .bind(t.html.as_deref())
            .execute(&mut *tx)
            .await
            .map_err(|e| match op_race(&e) {
                true => Error::Conflict(format!("an email template '{}' exists", t.name)),
                false => e.into(),
            })?;
        }
        tx.commit().await?;
        let stored = self
            .templates(scope, Some(&t.name))
            .await?
            .pop()
            .ok_or(Error::NotFound)?;
        Ok((stored, updated == 0))
    }

    pub(crate) async fn templates(&self, scope: &Scope, name: Option<&str>) -> Result<Vec<Value>> {
        sqlx::query(
            "SELECT name, subject, text_body, html_body, created_ms, updated_ms FROM email_templates \
             WHERE tenant_id = $1 AND environment_id = $2 AND ($3 IS NULL OR name = $3) ORDER BY name",
        )
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(name)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(template_json)
        .collect()
    }

    pub(crate) async fn remove_template(&self, scope: &Scope, name: &str) -> Result<()> {
        let done = sqlx::query(
            "DELETE FROM email_templates WHERE tenant_id = $1 AND environment_id = $2 AND name = $3",
        )
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(name)
        .execute(&self.pool)
        .await?;
        found(done)
    }
}

impl SqlStore {
    pub(crate) async fn upsert_named(
        &self,
        kind: Named,
        scope: &Scope,
        name: &str,
        definition: &Value,
        create_only: bool,
    ) -> Result<(Value, bool)> {
        let (now, table) = (self.now, kind.table());
        let mut tx = self.begin().await?;
        let exists = sqlx::query(sql(format!(
            "SELECT name FROM {table} WHERE tenant_id = $1 AND environment_id = $2 AND name = $3"
        )))
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?
        .is_some();
        if exists && create_only {
            return Err(Error::Conflict(format!(
                "a {} '{name}' exists",
                kind.label()
            )));
        }
        let text = match exists {
            true => format!(
                "UPDATE {table} SET definition = $4, updated_ms = {now} \
                 WHERE tenant_id = $1 AND environment_id = $2 AND name = $3"
            ),
            false => format!(
                "INSERT INTO {table} (tenant_id, environment_id, name, definition, created_ms, updated_ms) \
                 VALUES ($1, $2, $3, $4, {now}, {now})"
            ),
        };
        sqlx::query(sql(text))
            .bind(&scope.tenant)
            .bind(&scope.environment)
            .bind(name)
            .bind(definition.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        let row = self
            .list_named(kind, scope, Some(name))
            .await?
            .pop()
            .ok_or(Error::NotFound)?;
        Ok((row, !exists))
    }

    pub(crate) async fn list_named(
        &self,
        kind: Named,
        scope: &Scope,
        name: Option<&str>,
    ) -> Result<Vec<Value>> {
        sqlx::query(sql(format!(
            "SELECT name, definition, created_ms, updated_ms FROM {} \
             WHERE tenant_id = $1 AND environment_id = $2 AND ($3 IS NULL OR name = $3) ORDER BY name",
            kind.table()
        )))
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(name)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            let definition: String = r.try_get("definition")?;
            Ok(json!({
                "name": r.try_get::<String, _>("name")?,
                "definition": parse(&definition, kind.label())?,
                "created_ms": r.try_get::<i64, _>("created_ms")?,
                "updated_ms": r.try_get::<i64, _>("updated_ms")?,
            }))
        })
        .collect()
    }

    pub(crate) async fn remove_named(&self, kind: Named, scope: &Scope, name: &str) -> Result<()> {
        let done = sqlx::query(sql(format!(
            "DELETE FROM {} WHERE tenant_id = $1 AND environment_id = $2 AND name = $3",
            kind.table()
        )))
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(name)
        .execute(&self.pool)
        .await?;
        found(done)
    }

    /// A cached entry; with `fresh`, only one that has not expired.
    pub(crate) async fn cached(
        &self,
        scope: &Scope,
        source: &str,
        entity_id: &str,
        fresh: bool,
    ) -> Result<Option<CachedContext>> {
        let now = if fresh { self.now } else { "0" };
        sqlx::query(sql(format!(
            "SELECT source, entity_type, entity_id, data, cached_ms, expires_ms FROM context_cache \
             WHERE tenant_id = $1 AND environment_id = $2 AND source = $3 AND entity_id = $4 AND expires_ms > {now}"
        )))
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(source)
        .bind(entity_id)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(cached_row)
        .transpose()
    }

    pub(crate) async fn cache(
        &self,
        scope: &Scope,
        entry: &CachedContext,
        ttl_ms: i64,
    ) -> Result<CachedContext> {
        let now = self.now;
        sqlx::query(sql(format!(
            // The clock is read once: on PostgreSQL each `clock_timestamp()` is a new reading,
            // and two could put the expiry a millisecond off the TTL.
            "INSERT INTO context_cache (tenant_id, environment_id, source, entity_type, entity_id, data, cached_ms, expires_ms) \
             SELECT $1, $2, $3, $4, $5, $6, t.now, t.now + $7 FROM (SELECT {now} AS now) t WHERE true \
             ON CONFLICT (tenant_id, environment_id, source, entity_id) \
             DO UPDATE SET entity_type = excluded.entity_type, data = excluded.data, \
               cached_ms = excluded.cached_ms, expires_ms = excluded.expires_ms"
        )))
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(&entry.source)
        .bind(&entry.entity_type)
        .bind(&entry.entity_id)
        .bind(entry.data.to_string())
        .bind(ttl_ms)
        .execute(&self.pool)
        .await?;
        // Prune what expired long ago, now and then (the cache is a cache).
        if rand_tick() {
            sqlx::query(sql(format!(
                "DELETE FROM context_cache WHERE tenant_id = $1 AND environment_id = $2 AND expires_ms < {now} - 3600000"
            )))
            .bind(&scope.tenant)
            .bind(&scope.environment)
            .execute(&self.pool)
            .await?;
        }
        self.cached(scope, &entry.source, &entry.entity_id, false)
            .await?
            .ok_or(Error::NotFound)
    }

    pub(crate) async fn uncache(
        &self,
        scope: &Scope,
        entity_type: Option<&str>,
        entity_id: Option<&str>,
        source: Option<&str>,
    ) -> Result<u64> {
        Ok(sqlx::query(
            "DELETE FROM context_cache WHERE tenant_id = $1 AND environment_id = $2 AND ($3 IS NULL OR entity_type = $3) \
             AND ($4 IS NULL OR entity_id = $4) AND ($5 IS NULL OR source = $5)",
        )
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(entity_type)
        .bind(entity_id)
        .bind(source)
        .execute(&self.pool)
        .await?
        .rows_affected())
    }
}

/// One time in 64: how often a cache write also prunes.
fn rand_tick() -> bool {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed).is_multiple_of(64)
}

fn cached_row(r: &sqlx::any::AnyRow) -> Result<CachedContext> {
    let data: String = r.try_get("data")?;
    Ok(CachedContext {
        source: r.try_get("source")?,
        entity_type: r.try_get("entity_type")?,
        entity_id: r.try_get("entity_id")?,
        data: parse(&data, "cached context")?,
        cached_ms: r.try_get("cached_ms")?,
        expires_ms: r.try_get("expires_ms")?,
    })
}
