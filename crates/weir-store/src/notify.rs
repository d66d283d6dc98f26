//! Messages between the nodes that share a PostgreSQL database (LISTEN/NOTIFY), for what must
//! reach every node at once, like the console's event stream. On SQLite, one process is the
//! only node and there is nothing to send.

use sqlx::postgres::PgListener;

use crate::sql::SqlStore;
use crate::*;

/// The most bytes of one message (PostgreSQL refuses 8,000 and more).
pub const MAX_MESSAGE: usize = 7900;

/// Messages from other nodes (and this one) on the channels listened to.
pub struct Listener(PgListener);

impl Listener {
    /// The next message: its channel and text. Waits; a lost connection is made again (what
    /// was sent meanwhile is lost).
    pub async fn recv(&mut self) -> Result<(String, String)> {
        let n = self.0.recv().await?;
        Ok((n.channel().to_owned(), n.payload().to_owned()))
    }
}

impl SqlStore {
    pub(crate) async fn send_message(&self, channel: &str, text: &str) -> Result<()> {
        if self.backend() != Backend::Postgres {
            return Ok(());
        }
        if text.len() > MAX_MESSAGE {
            return Err(Error::Config(format!(
                "a message of {} bytes is longer than {MAX_MESSAGE}",
                text.len()
            )));
        }
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(channel)
            .bind(text)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub(crate) async fn open_listener(&self, channels: &[&str]) -> Result<Option<Listener>> {
        let Some(url) = self.postgres_url() else {
            return Ok(None);
        };
        let mut listener = PgListener::connect(url).await?;
        listener.listen_all(channels.iter().copied()).await?;
        Ok(Some(Listener(listener)))
    }
}
