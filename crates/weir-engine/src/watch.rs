//! Progress of executions, announced after every commit, to the synchronous answers waiting
//! for them.

use crate::Watchers;

/// How far an execution has come, announced after every commit (for synchronous answers).
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    pub execution_id: String,
    pub status: String,
    pub decision: Option<String>,
    pub reason: Option<String>,
}

/// The progress of the executions a caller waits for (a synchronous answer): each is watched
/// from before it is written, so no commit is missed, and only its watcher is woken.
pub struct Watch {
    /// Made on the first execution watched: most answers are decided in memory and watch none.
    pub(crate) channel: Option<(
        tokio::sync::mpsc::UnboundedSender<Progress>,
        tokio::sync::mpsc::UnboundedReceiver<Progress>,
    )>,
    pub(crate) ids: Vec<String>,
    pub(crate) watchers: Watchers,
    /// The caller's W3C trace context (normalized by [`crate::traces::parse_traceparent`]):
    /// the runs started join its trace.
    pub traceparent: Option<String>,
}

impl Watch {
    pub(crate) fn add(&mut self, id: &str) {
        let (tx, _) = self
            .channel
            .get_or_insert_with(tokio::sync::mpsc::unbounded_channel);
        self.watchers
            .lock()
            .expect("watchers")
            .insert(id.to_owned(), tx.clone());
        self.ids.push(id.to_owned());
    }

    /// The next progress of a watched execution made on this node (never, when none is
    /// watched).
    pub async fn recv(&mut self) -> Option<Progress> {
        match &mut self.channel {
            Some((_, rx)) => rx.recv().await,
            None => std::future::pending().await,
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        if self.ids.is_empty() {
            return;
        }
        let mut watchers = self.watchers.lock().expect("watchers");
        for id in &self.ids {
            watchers.remove(id);
        }
    }
}
