//! The store conformance suite, written once and run against SQLite and PostgreSQL.

mod conformance;

use weir_store::testing as pg;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use weir_store::SqlStore;

/// A fresh SQLite database in its own folder.
async fn sqlite_store() -> (SqlStore, PathBuf) {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = pg::scratch(&format!("store-{}", N.fetch_add(1, Ordering::SeqCst)));
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

/// How many times SQLite has started the WAL over (the checkpoint sequence in its 32-byte
/// header); 0 before the WAL has a header.
fn wal_restarts(wal: &std::path::Path) -> u32 {
    use std::io::Read;
    let mut head = [0u8; 32];
    match std::fs::File::open(wal).and_then(|mut f| f.read_exact(&mut head)) {
        Ok(()) => u32::from_be_bytes([head[12], head[13], head[14], head[15]]),
        Err(_) => 0,
    }
}

/// Under writes that never stop, the checkpointer still gets the WAL started over from its
/// beginning, round after round, rather than letting it grow by every frame ever written
/// (restarts missed in most rounds let it reach 1 GB in 6 s of W1).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_wal_starts_over_under_steady_writes() {
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;
    use weir_store::Store;
    let (store, dir) = sqlite_store().await;
    let store = Arc::new(store);
    let scope = store.bootstrap("h").await.unwrap().scope;
    let wal = dir.join("weir.db-wal");
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..8 {
        let (store, scope, stop) = (store.clone(), scope.clone(), stop.clone());
        writers.push(tokio::spawn(async move {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let id = format!("w{w}-{n}");
                let event = conformance::event(&format!("e-{id}"), None);
                let run = conformance::new_execution(&format!("x-{id}"), "w");
                store.ingest(&scope, &event, &[run]).await.unwrap();
                n += 1;
            }
            n
        }));
    }
    // Twenty checkpoint rounds that found writes, from the first one on.
    let rounds = || store.checkpoint_rounds().expect("a SQLite store");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while rounds() < 1 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let (first_round, first_restart) = (rounds(), wal_restarts(&wal));
    while rounds() < first_round + 20 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let (last_round, last_restart) = (rounds(), wal_restarts(&wal));
    stop.store(true, Ordering::Relaxed);
    let mut written = 0;
    for w in writers {
        written += w.await.unwrap();
    }
    let (done, restarted) = (
        last_round - first_round,
        u64::from(last_restart - first_restart),
    );
    assert!(done >= 20, "only {done} checkpoint rounds with writes");
    // Each round's paused pass lets the writer's next transaction start the WAL over; no
    // reader holds it here, so at most the round in flight at either end can miss.
    assert!(
        restarted + 2 >= done,
        "the WAL started over {restarted} times in {done} rounds with writes ({written} events written)"
    );
    let _ = std::fs::remove_dir_all(dir);
}
