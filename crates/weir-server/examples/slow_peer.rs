//! A service that answers after a delay, for the load benchmark (`bench/serve-load.sh`): every
//! request to `/slow?ms=N` is answered `{"ok": true}` after N milliseconds (default 50). It
//! counts the requests it has in flight and prints the peak on `/peak`.
//!
//!   cargo run --release -p weir-server --example slow_peer -- 127.0.0.1:18098

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::{Query, State};
use axum::routing::{get, post};

#[derive(Default)]
struct Counts {
    now: AtomicUsize,
    peak: AtomicUsize,
    total: AtomicUsize,
}

async fn slow(
    State(counts): State<Arc<Counts>>,
    Query(q): Query<HashMap<String, String>>,
) -> &'static str {
    let now = counts.now.fetch_add(1, Ordering::SeqCst) + 1;
    counts.peak.fetch_max(now, Ordering::SeqCst);
    counts.total.fetch_add(1, Ordering::SeqCst);
    let ms = q.get("ms").and_then(|m| m.parse().ok()).unwrap_or(50);
    tokio::time::sleep(Duration::from_millis(ms)).await;
    counts.now.fetch_sub(1, Ordering::SeqCst);
    "{\"ok\": true}"
}

async fn peak(State(counts): State<Arc<Counts>>) -> String {
    format!(
        "{{\"in_flight\": {}, \"peak\": {}, \"total\": {}}}\n",
        counts.now.load(Ordering::SeqCst),
        counts.peak.load(Ordering::SeqCst),
        counts.total.load(Ordering::SeqCst)
    )
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:18098".into());
    let counts = Arc::new(Counts::default());
    let app = Router::new()
        .route("/slow", get(slow).post(slow))
        .route("/peak", get(peak))
        .route(
            "/reset",
            post(|State(c): State<Arc<Counts>>| async move {
                c.peak.store(0, Ordering::SeqCst);
                c.total.store(0, Ordering::SeqCst);
            }),
        )
        .with_state(counts);
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .unwrap_or_else(|e| panic!("cannot listen on {addr}: {e}"));
    axum::serve(listener, app).await.expect("serve");
}
