//! An operator's commands beside `weir serve`: `weir backup` copies the embedded database while
//! the server writes to it, and the copy serves; `weir migrate --check` says what an upgrade
//! will apply, `weir migrate` applies it.

use std::path::Path;
use std::process::Command;

use serde_json::json;

use crate::serve::{Server, free_port, scratch};

fn weir_with(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(args)
        .env("WEIR_DATA_DIR", dir)
        .env_remove("WEIR_DATABASE_URL")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Changes the database as an operator with sqlite3 would.
fn sqlite(db: &Path, statements: &str) {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.execute_batch(statements).unwrap();
}

#[test]
fn a_backup_taken_while_the_server_writes_serves_the_same_data() {
    let dir = scratch("backup");
    let server = Server::start(&dir, free_port());
    let key = server.key();
    let (status, body) = server.with(&key, "POST", "/api/v1/workflows", Some(json!({
        "workflow_id": "big_orders", "trigger": {"type": "event", "event": "order.created"},
        "steps": [{"id": "check", "type": "condition", "condition": {"field": "order.total", "operator": "gt", "value": 1000},
                   "on_true": "block", "on_false": "allow"},
                  {"id": "block", "type": "action", "action": "block"},
                  {"id": "allow", "type": "action", "action": "allow"}]})));
    assert_eq!(status, 201, "{body}");
    let (status, secret) = server.with(
        &key,
        "POST",
        "/api/v1/secrets",
        Some(json!({"name": "crm_token", "value": "s3cr3t-value"})),
    );
    assert_eq!(status, 201, "{secret}");
    // Events keep coming while the backup is taken.
    let sending = std::thread::scope(|s| {
        let sender = s.spawn(|| {
            for n in 0..200 {
                let (status, body) = server.with(&key, "POST", "/api/v1/events",
                    Some(json!({"event_type": "order.created", "payload": {"order": {"id": format!("o{n}"), "total": n * 10}}})));
                assert_eq!(status, 200, "{body}");
            }
        });
        let out = weir_with(&dir, &["backup", dir.join("copy.db").to_str().unwrap()]);
        sender.join().unwrap();
        out
    });
    let (code, stdout, stderr) = sending;
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("backed up") && stdout.contains("master key is not in it"),
        "{stdout}"
    );
    // Again to the same file: refused, the first copy untouched.
    let (code, _, stderr) = weir_with(&dir, &["backup", dir.join("copy.db").to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("already exists"), "{stderr}");
    drop(server);

    // The copy, with the master key beside it, is a data folder a server starts on.
    let restored = scratch("backup-restored");
    std::fs::create_dir_all(&restored).unwrap();
    std::fs::copy(dir.join("copy.db"), restored.join("weir.db")).unwrap();
    std::fs::copy(dir.join("master-key"), restored.join("master-key")).unwrap();
    let again = Server::start(&restored, free_port());
    let call = |method: &str, path: &str, body: Option<serde_json::Value>| {
        again.with(&key, method, path, body)
    };
    let (status, wf) = call("GET", "/api/v1/workflows/big_orders", None);
    assert_eq!(status, 200, "{wf}");
    let (status, secrets) = call("GET", "/api/v1/secrets", None);
    assert_eq!(status, 200, "{secrets}");
    assert!(secrets.to_string().contains("crm_token"), "{secrets}");
    let (_, list) = call("GET", "/api/v1/executions?limit=500", None);
    let n = list["executions"].as_array().unwrap().len();
    assert!(n <= 200, "{n}");
    // And it decides.
    let (status, answer) = call(
        "POST",
        "/api/v1/events",
        Some(
            json!({"event_type": "order.created", "payload": {"order": {"id": "after", "total": 5000}}}),
        ),
    );
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["decision"], json!("block"), "{answer}");
    drop(again);
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&restored);
}

#[test]
fn migrate_check_lists_what_an_upgrade_applies_and_migrate_applies_it() {
    let dir = scratch("migrate");
    let (code, _, stderr) = weir_with(&dir, &["migrate", "--check"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("there is no database"), "{stderr}");
    drop(Server::start(&dir, free_port()));
    let (code, stdout, stderr) = weir_with(&dir, &["migrate", "--check"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("up to date"), "{stdout}");

    // A database as an older weir left it: its last migration not applied.
    let db = dir.join("weir.db");
    sqlite(
        &db,
        "DROP TABLE alerts; DROP TABLE node_leases; DELETE FROM _sqlx_migrations WHERE version = 22;",
    );
    let (code, stdout, stderr) = weir_with(&dir, &["migrate", "--check"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stdout.contains("1 migration(s) pending: 22 alerts"),
        "{stdout}"
    );
    // Not while a server holds the folder (a server applies them itself as it starts: take
    // it back out once it runs).
    let server = Server::start(&dir, free_port());
    sqlite(
        &db,
        "DROP TABLE alerts; DROP TABLE node_leases; DELETE FROM _sqlx_migrations WHERE version = 22;",
    );
    let (code, _, stderr) = weir_with(&dir, &["migrate"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("another weir serve is using the data folder"),
        "{stderr}"
    );
    drop(server);
    let (code, stdout, stderr) = weir_with(&dir, &["migrate"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("applied 22 alerts"), "{stdout}");
    let (code, stdout, _) = weir_with(&dir, &["migrate", "--check"]);
    assert_eq!((code, stdout.contains("up to date")), (0, true), "{stdout}");

    // A database a newer weir migrated, or whose migration text differs: said, exit 2.
    sqlite(
        &db,
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (999, 'future', 1, x'00', 0);",
    );
    let (code, _, stderr) = weir_with(&dir, &["migrate", "--check"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("a newer weir migrated it") && stderr.contains("999"),
        "{stderr}"
    );
    sqlite(
        &db,
        "DELETE FROM _sqlx_migrations WHERE version = 999; UPDATE _sqlx_migrations SET checksum = x'00' WHERE version = 3;",
    );
    let (code, _, stderr) = weir_with(&dir, &["migrate", "--check"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("migrations 3 of the database differ"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn migrate_check_reads_a_postgresql_database() {
    let Some(pg) = weir_store::testing::Server::start() else {
        return;
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let url = runtime.block_on(pg.fresh_database("migrate_check"));
    let dir = scratch("migrate-pg");
    let (code, stdout, stderr) = weir_with(&dir, &["migrate", "--check", "--database-url", &url]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stdout.contains(" migration(s) pending: 1 initial, 2 "),
        "{stdout}"
    );
    let (code, stdout, stderr) = weir_with(&dir, &["migrate", "--database-url", &url]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let (code, stdout, stderr) = weir_with(&dir, &["migrate", "--check", "--database-url", &url]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("up to date (migration "), "{stdout}");
    let (code, _, stderr) = Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(["backup", "/tmp/never.db"])
        .env("WEIR_DATABASE_URL", &url)
        .output()
        .map(|o| {
            (
                o.status.code().unwrap_or(-1),
                (),
                String::from_utf8_lossy(&o.stderr).into_owned(),
            )
        })
        .unwrap();
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("pg_dump"), "{stderr}");
}

/// The container recipe builds and its image serves, where a container engine runs here
/// (podman, or docker with its daemon); elsewhere this says it did not try.
#[test]
fn the_container_builds_and_serves_where_an_engine_runs() {
    let engine = ["podman", "docker"].into_iter().find(|e| {
        Command::new(e)
            .arg("info")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    let Some(engine) = engine else {
        eprintln!(
            "\n*** no podman, and no docker with a daemon: the Containerfile was NOT built ***\n"
        );
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let tag = format!("weir-test:{}", std::process::id());
    let built = Command::new(engine)
        .args(["build", "-t", &tag, "-f", "Containerfile", "."])
        .current_dir(&root)
        .output()
        .unwrap();
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let port = free_port();
    let name = format!("weir-test-{}", std::process::id());
    let ran = Command::new(engine)
        .args([
            "run",
            "-d",
            "--name",
            &name,
            "-p",
            &format!("127.0.0.1:{port}:8080"),
            &tag,
        ])
        .output()
        .unwrap();
    assert!(
        ran.status.success(),
        "{}",
        String::from_utf8_lossy(&ran.stderr)
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let ready = loop {
        let up = Command::new("curl")
            .args(["-fsS", &format!("http://127.0.0.1:{port}/health/ready")])
            .output()
            .is_ok_and(|o| o.status.success());
        if up || std::time::Instant::now() > deadline {
            break up;
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    };
    let user = Command::new(engine)
        .args(["exec", &name, "id", "-u"])
        .output()
        .unwrap();
    let _ = Command::new(engine).args(["rm", "-f", &name]).output();
    let _ = Command::new(engine).args(["rmi", "-f", &tag]).output();
    assert!(ready, "the container's server did not become ready");
    assert_eq!(
        String::from_utf8_lossy(&user.stdout).trim(),
        "10001",
        "it runs as its own user"
    );
}

/// Nodes sharing PostgreSQL tell each other of a changed workflow: one deployed on one node
/// triggers on the other as soon as the notice arrives, well before the other's periodic
/// rebuild of its trigger index (every 5 s), and a disabled one stops triggering there too.
#[test]
fn a_workflow_deployed_on_one_node_triggers_on_the_other_at_once() {
    let Some(pg) = weir_store::testing::Server::start() else {
        return;
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let url = runtime.block_on(pg.fresh_database("notify_changes"));
    let key = "notify-admin-key-0123456789";
    let env = [
        ("WEIR_ADMIN_KEY", key),
        ("WEIR_DATABASE_URL", url.as_str()),
        (
            "WEIR_MASTER_KEY",
            "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
        ),
    ];
    let a = Server::start_with(&scratch("notify-a"), free_port(), &env);
    let b = Server::start_with(&scratch("notify-b"), free_port(), &env);
    // Both nodes have built their index (the periodic rebuild is 5 s away).
    let (status, body) = a.with(
        key,
        "POST",
        "/api/v1/workflows",
        Some(json!({
        "workflow_id": "gate", "trigger": {"type": "event", "event": "order.created"},
        "steps": [{"id": "no", "type": "action", "action": "block", "reason": "closed"}]})),
    );
    assert_eq!(status, 201, "{body}");
    let decide = |n: usize| {
        let (status, answer) = b.with(key, "POST", "/api/v1/events",
            Some(json!({"event_type": "order.created", "payload": {"order": {"id": format!("o{n}")}}})));
        assert_eq!(status, 200, "{answer}");
        match answer["executions"].as_array().map(Vec::len) {
            Some(0) | None => "nothing".to_owned(),
            Some(_) => answer["decision"].as_str().unwrap_or_default().to_owned(),
        }
    };
    let until = |want: &str| {
        let start = std::time::Instant::now();
        let mut n = 0;
        loop {
            n += 1;
            if decide(n) == want {
                return start.elapsed();
            }
            assert!(
                start.elapsed() < std::time::Duration::from_secs(2),
                "node b still answers otherwise: it waited for its periodic rebuild"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    };
    let seen = until("block");
    eprintln!("node b matched the workflow deployed on node a after {seen:?}");
    let (status, body) = a.with(key, "POST", "/api/v1/workflows/gate/disable", None);
    assert_eq!(status, 200, "{body}");
    let gone = until("nothing");
    eprintln!("node b stopped matching the workflow disabled on node a after {gone:?}");
}
