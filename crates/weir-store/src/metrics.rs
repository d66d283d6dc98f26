//! What the store measures, through the `metrics` facade: how long a write transaction takes
//! and how many events and steps it holds (on SQLite, the writer's group commits).

/// A write transaction of `items` events or steps committed after `took`.
pub(crate) fn committed(took: std::time::Duration, items: usize) {
    metrics::histogram!("weir_store_commit_seconds").record(took.as_secs_f64());
    metrics::histogram!("weir_store_batch_size").record(items as f64);
}
