//! Reading stored events (they are written by ingestion, `batch.rs`).

use sqlx::Row;

use crate::sql::{SqlStore, sql};
use crate::*;

impl SqlStore {
    pub(crate) async fn list_events(
        &self,
        scope: &Scope,
        id: Option<&str>,
        f: &EventFilter,
    ) -> Result<Vec<EventRow>> {
        // A type filter is written as a plain equality, so that the planner walks `events_type`
        // (scope, type, id) in order; `$4 IS NULL OR …` would keep it from using that index.
        let of_type = if f.event_type.is_some() {
            "event_type = $4"
        } else {
            "$4 IS NULL"
        };
        let rows = sqlx::query(sql(format!(
            "SELECT id, event_type, source, idempotency_key, payload, received_ms FROM events \
             WHERE tenant_id = $1 AND environment_id = $2 AND ($3 IS NULL OR id = $3) \
             AND {of_type} AND ($5 IS NULL OR source = $5) \
             AND ($6 IS NULL OR received_ms >= $6) AND ($7 IS NULL OR received_ms < $7) \
             AND ($8 IS NULL OR id < $8) ORDER BY id DESC LIMIT $9",
        )))
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(id)
        .bind(f.event_type.as_deref())
        .bind(f.source.as_deref())
        .bind(f.since_ms)
        .bind(f.until_ms)
        .bind(f.before.as_deref())
        .bind(f.limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let payload: String = r.try_get("payload")?;
                Ok(EventRow {
                    id: r.try_get("id")?,
                    event_type: r.try_get("event_type")?,
                    source: r.try_get("source")?,
                    idempotency_key: r.try_get("idempotency_key")?,
                    payload: serde_json::from_str(&payload)
                        .map_err(|e| Error::Corrupt(format!("event payload: {e}")))?,
                    received_ms: r.try_get("received_ms")?,
                })
            })
            .collect()
    }
}
