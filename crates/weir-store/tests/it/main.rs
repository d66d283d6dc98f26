//! The store conformance suite, written once and run against SQLite and PostgreSQL.

mod conformance;

use weir_store::testing as pg;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use weir_store::SqlStore;

/// A fresh SQLite database in its own folder.
async fn sqlite_store() -> (SqlStore, PathBuf) {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "weir-store-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let store = SqlStore::open_sqlite(&dir).await.expect("open sqlite");
    (store, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_conformance() {
    for (name, case) in conformance::CASES {
        let (store, dir) = sqlite_store().await;
        eprintln!("sqlite: {name}");
        case(std::sync::Arc::new(store) as std::sync::Arc<dyn weir_store::Store>).await;
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_conformance() {
    let Some(server) = pg::Server::start() else {
        return;
    };
    for (i, (name, case)) in conformance::CASES.iter().enumerate() {
        let url = server.fresh_database(&format!("case_{i}")).await;
        let store = SqlStore::connect(&url)
            .await
            .expect("connect to the test server");
        eprintln!("postgres: {name}");
        case(std::sync::Arc::new(store) as std::sync::Arc<dyn weir_store::Store>).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_keeps_its_data_across_reopening() {
    let (store, dir) = sqlite_store().await;
    use weir_store::Store;
    let scope = store.bootstrap("h").await.unwrap().scope;
    store
        .put_workflow(&scope, "w", &serde_json::json!({"workflow_id": "w"}), true)
        .await
        .unwrap();
    drop(store);
    let store = SqlStore::open_sqlite(&dir).await.unwrap();
    assert!(!store.bootstrap("other").await.unwrap().created);
    assert_eq!(
        store.workflow(&scope, "w").await.unwrap().unwrap().version,
        1
    );
    assert!(dir.join("weir.db").exists());
    let _ = std::fs::remove_dir_all(dir);
}
