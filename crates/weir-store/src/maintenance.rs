//! What an operator does to a database apart from a running server: see which migrations it
//! lacks before an upgrade (`weir migrate --check`), apply them (`weir migrate`), and copy an
//! embedded database while the server goes on using it (`weir backup`).

use std::borrow::Cow;
use std::path::Path;

use sqlx::Row;
use sqlx::migrate::Migration;
use sqlx::migrate::MigrationType;
use sqlx::{Connection, SqlSafeStr};

use crate::sql::{POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS};
use crate::{Error, Result};

/// The migrations of a database against those of this build.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MigrationStatus {
    /// Versions applied, in order.
    pub applied: Vec<i64>,
    /// This build's migrations the database lacks: version and description.
    pub pending: Vec<(i64, String)>,
    /// Versions the database has that this build does not know (a newer build migrated it).
    pub unknown: Vec<i64>,
    /// Versions applied from a text other than this build's, or that failed half-way.
    pub modified: Vec<i64>,
    /// The latest version this build knows.
    pub latest: i64,
}

/// Reads the migrations applied to the database at `url` (`sqlite://…` or `postgres://…`)
/// without changing it. A database never migrated has them all pending.
pub async fn migration_status(url: &str) -> Result<MigrationStatus> {
    sqlx::any::install_default_drivers();
    let list = if url.starts_with("sqlite:") {
        SQLITE_MIGRATIONS
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        POSTGRES_MIGRATIONS
    } else {
        return Err(Error::Config(
            "the database URL must start with sqlite: or postgres:".into(),
        ));
    };
    let mut conn = sqlx::AnyConnection::connect(url)
        .await
        .map_err(|e| Error::Config(format!("cannot open the database: {e}")))?;
    // The table sqlx keeps; absent on a database never migrated.
    let stored: Vec<(i64, bool, Vec<u8>)> = match sqlx::query(
        "SELECT version, CAST(CASE WHEN success THEN 1 ELSE 0 END AS BIGINT), checksum \
         FROM _sqlx_migrations ORDER BY version",
    )
    .fetch_all(&mut conn)
    .await
    {
        Ok(rows) => rows
            .iter()
            .map(|r| {
                Ok((
                    r.try_get::<i64, _>(0)?,
                    r.try_get::<i64, _>(1)? != 0,
                    r.try_get::<Vec<u8>, _>(2)?,
                ))
            })
            .collect::<std::result::Result<_, sqlx::Error>>()?,
        Err(e) if missing_table(&e) => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    let _ = conn.close().await;
    let mut status = MigrationStatus {
        latest: list.last().map_or(0, |m| m.0),
        ..MigrationStatus::default()
    };
    for (version, description, text) in list {
        match stored.iter().find(|s| s.0 == *version) {
            Some((_, ok, checksum)) => {
                status.applied.push(*version);
                let ours = Migration::new(
                    *version,
                    Cow::Borrowed(*description),
                    MigrationType::Simple,
                    text.into_sql_str(),
                    false,
                );
                if !ok || checksum.as_slice() != ours.checksum.as_ref() {
                    status.modified.push(*version);
                }
            }
            None => status.pending.push((*version, (*description).to_owned())),
        }
    }
    status.unknown = stored
        .iter()
        .map(|s| s.0)
        .filter(|v| !list.iter().any(|m| m.0 == *v))
        .collect();
    status.applied.extend(&status.unknown);
    status.applied.sort_unstable();
    Ok(status)
}

fn missing_table(e: &sqlx::Error) -> bool {
    let text = e.to_string();
    text.contains("no such table") || text.contains("does not exist")
}

/// Copies the SQLite database at `from` into a new file `to`, consistently, while other
/// connections (a running server) go on reading and writing it: `VACUUM INTO` reads one
/// snapshot and writes a compact copy. `to` must not exist. Returns the copy's size in bytes.
pub fn backup_sqlite(from: &Path, to: &Path) -> Result<u64> {
    use rusqlite::{Connection, OpenFlags};
    if !from.is_file() {
        return Err(Error::Config(format!(
            "there is no database at {}",
            from.display()
        )));
    }
    if to.exists() {
        return Err(Error::Config(format!(
            "{} already exists: a backup goes to a new file",
            to.display()
        )));
    }
    let Some(target) = to.to_str() else {
        return Err(Error::Config(format!(
            "{} is not a UTF-8 path",
            to.display()
        )));
    };
    let conn = Connection::open_with_flags(from, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| Error::Config(format!("cannot open {}: {e}", from.display())))?;
    conn.busy_timeout(std::time::Duration::from_secs(30))
        .map_err(|e| Error::Config(e.to_string()))?;
    conn.execute("VACUUM INTO ?1", [target])
        .map_err(|e| Error::Config(format!("cannot write the backup {}: {e}", to.display())))?;
    drop(conn);
    // The copy is checked as a database before it is called a backup.
    let copy = Connection::open_with_flags(to, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| Error::Config(format!("cannot read the backup back: {e}")))?;
    let check: String = copy
        .query_row("PRAGMA quick_check", [], |r| r.get(0))
        .map_err(|e| Error::Config(format!("cannot check the backup: {e}")))?;
    if check != "ok" {
        return Err(Error::Config(format!(
            "the backup {} does not check out: {check}",
            to.display()
        )));
    }
    std::fs::metadata(to)
        .map(|m| m.len())
        .map_err(|e| Error::Config(e.to_string()))
}
