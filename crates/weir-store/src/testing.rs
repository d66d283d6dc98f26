//! Test support: a throw-away PostgreSQL server, started from the installed binaries, for this
//! crate's conformance suite and for tests of several `weir serve` nodes on one database.
//!
//! Without the binaries the PostgreSQL tests are skipped with a loud message; with
//! `WEIR_REQUIRE_POSTGRES=1` (set by CI) a missing server is a failure instead.
//!
//! Also the tests' scratch folders ([`scratch`]).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A test's own folder, `weir-{name}-{pid}` in the system's temporary folder, emptied (not
/// created). It stays after the test, to be looked at after a failure, until another test
/// process (the next test binary of `cargo test`, or a later run) makes its first one, which
/// removes every such folder whose process has ended.
pub fn scratch(name: &str) -> PathBuf {
    static SWEPT: std::sync::Once = std::sync::Once::new();
    debug_assert!(
        is_scratch_kind(name),
        "a scratch folder's name starts with one of SCRATCH_KINDS: {name}"
    );
    SWEPT.call_once(sweep_scratch);
    let dir = std::env::temp_dir().join(format!("weir-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// The first word of every name given to [`scratch`].
const SCRATCH_KINDS: [&str; 7] = [
    "serve",
    "cli",
    "contract",
    "engine",
    "agreement",
    "store",
    "pg",
];

/// Whether a name's first word (up to a `-`) is one of [`SCRATCH_KINDS`].
fn is_scratch_kind(name: &str) -> bool {
    name.split('-')
        .next()
        .is_some_and(|first| SCRATCH_KINDS.contains(&first))
}

/// Removes the scratch folders of test processes that have ended (Linux: a live process has
/// its folder in /proc; elsewhere nothing is removed).
fn sweep_scratch() {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        // Only the names `scratch` gives (others, such as Playwright's folder named by a
        // port, are not this function's to judge).
        let Some(pid) = name
            .strip_prefix("weir-")
            .filter(|rest| is_scratch_kind(rest))
            .and_then(|rest| rest.rsplit_once('-'))
            .and_then(|(_, pid)| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if !Path::new("/proc").join(pid.to_string()).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

pub struct Server {
    dir: PathBuf,
    port: u16,
    child: Child,
    postgres: PathBuf,
}

fn find_bin(name: &str) -> Option<PathBuf> {
    let mut candidates: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).map(|d| d.join(name)).collect())
        .unwrap_or_default();
    if let Ok(entries) = std::fs::read_dir("/usr/lib/postgresql") {
        let mut versions: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path().join("bin").join(name))
            .collect();
        versions.sort();
        candidates.extend(versions.into_iter().rev());
    }
    candidates.into_iter().find(|p| p.is_file())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Runs a PostgreSQL binary, as the `postgres` user when we are root (initdb refuses root).
fn pg_command(bin: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin);
        c
    } else {
        Command::new(bin)
    }
}

/// Starts `postgres` on a data folder and port. Commit timestamps are kept, so a test can tell
/// when a row it logged became visible (`pg_xact_commit_timestamp(xmin)`).
fn spawn(postgres: &Path, data: &Path, dir: &Path, port: u16) -> Child {
    pg_command(postgres)
        .arg("-D")
        .arg(data)
        .args([
            "-p",
            &port.to_string(),
            "-c",
            "listen_addresses=127.0.0.1",
            "-k",
        ])
        .arg(dir)
        .args(["-c", "fsync=off", "-c", "max_connections=200"])
        .args(["-c", "track_commit_timestamp=on"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start postgres")
}

impl Server {
    pub fn start() -> Option<Server> {
        let (Some(initdb), Some(postgres)) = (find_bin("initdb"), find_bin("postgres")) else {
            let msg = "PostgreSQL binaries (initdb, postgres) not found: the PostgreSQL tests are SKIPPED. \
                       Install Debian's postgresql package (.ci/run does) to run them.";
            if std::env::var("WEIR_REQUIRE_POSTGRES").is_ok_and(|v| v == "1") {
                panic!("{msg}");
            }
            eprintln!("\n*** {msg} ***\n");
            return None;
        };
        // One folder per server: `cargo test` runs a binary's tests as threads of one process,
        // and several of them may start a server at once.
        static STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = STARTED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dir = scratch(&format!("pg-{n}"));
        std::fs::create_dir_all(&dir).expect("create the server folder");
        if is_root() {
            let ok = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir)
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            assert!(ok, "chown the server folder to postgres");
        }
        let data = dir.join("data");
        let out = pg_command(&initdb)
            .args(["-D"])
            .arg(&data)
            .args(["-U", "weir", "-A", "trust", "--no-sync", "-E", "UTF8"])
            .stdout(Stdio::null())
            .output()
            .expect("run initdb");
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let port = TcpListener::bind("127.0.0.1:0")
            .expect("a free port")
            .local_addr()
            .unwrap()
            .port();
        let child = spawn(&postgres, &data, &dir, port);
        let server = Server {
            dir,
            port,
            child,
            postgres,
        };
        server.wait_until_up();
        Some(server)
    }

    fn wait_until_up(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "postgres did not start within 30s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the server (a fast shutdown: every connection is cut, open transactions roll
    /// back), keeps it down for `down`, and starts it again on the same data and port. Returns
    /// once it accepts connections.
    pub fn restart(&mut self, down: Duration) {
        // The postmaster's pid is the first line of postmaster.pid (through runuser, our child
        // is not postgres itself).
        let pid = std::fs::read_to_string(self.dir.join("data").join("postmaster.pid"))
            .ok()
            .and_then(|t| t.lines().next().map(str::to_owned))
            .expect("postgres is running");
        let stopped = Command::new("kill")
            .args(["-INT", pid.trim()])
            .status()
            .is_ok_and(|s| s.success());
        assert!(stopped, "signal postgres {pid}");
        let _ = self.child.wait();
        std::thread::sleep(down);
        self.child = spawn(&self.postgres, &self.dir.join("data"), &self.dir, self.port);
        self.wait_until_up();
    }

    /// Runs SQL statements (several, separated by semicolons) on a database of this server.
    pub async fn execute(&self, url: &str, statements: &str) {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(url)
            .await
            .expect("connect to the test server");
        sqlx::raw_sql(sqlx::AssertSqlSafe(statements.to_owned()))
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{e}: {statements}"));
    }

    /// The rows of a query as a JSON array of objects (one per row, by column name), or the
    /// error when the database does not answer.
    pub async fn query_json(&self, url: &str, select: &str) -> Result<serde_json::Value, String> {
        use sqlx::{Connection, Row};
        let mut conn = sqlx::PgConnection::connect(url)
            .await
            .map_err(|e| e.to_string())?;
        let text: String = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT CAST(COALESCE(json_agg(q), '[]') AS TEXT) FROM ({select}) q"
        )))
        .fetch_one(&mut conn)
        .await
        .map_err(|e| e.to_string())?
        .try_get(0)
        .map_err(|e| e.to_string())?;
        serde_json::from_str(&text).map_err(|e| e.to_string())
    }

    pub fn url(&self, db: &str) -> String {
        format!("postgres://weir@127.0.0.1:{}/{db}", self.port)
    }

    /// Creates an empty database and returns its URL.
    pub async fn fresh_database(&self, name: &str) -> String {
        use sqlx::Connection;
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut conn = loop {
            match sqlx::PgConnection::connect(&self.url("postgres")).await {
                Ok(c) => break c,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("connect to the test server: {e}"),
            }
        };
        // DROP and CREATE DATABASE cannot run in one multi-statement (implicitly transactional)
        // query.
        for stmt in [
            format!("DROP DATABASE IF EXISTS {name}"),
            format!("CREATE DATABASE {name}"),
        ] {
            sqlx::raw_sql(sqlx::AssertSqlSafe(stmt))
                .execute(&mut conn)
                .await
                .expect("create a test database");
        }
        self.url(name)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Fast shutdown: SIGINT to postgres (through runuser it is the child's child, so stop
        // it with pg_ctl's signal; killing runuser alone could leave postgres behind).
        let _ = Command::new("pkill")
            .args([
                "-INT",
                "-f",
                &format!("postgres -D {}", self.dir.join("data").display()),
            ])
            .status();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
