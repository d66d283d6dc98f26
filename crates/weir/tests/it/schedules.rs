//! Schedule triggers in a running server: fires on time, the next fires shown by the API and
//! the CLI, catch-up after downtime, and two nodes on one PostgreSQL database starting each
//! fire once. `weir test` dry-runs schedule and webhook triggers.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::serve::{Server, free_port, scratch, weir_cli};

fn at(v: &Value) -> DateTime<Utc> {
    v.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .unwrap_or_else(|| panic!("not a time: {v}"))
        .with_timezone(&Utc)
}

/// A workflow that records its fire time as its decision's reason.
fn every(id: &str, cron: &str, extra: Value) -> Value {
    let mut trigger = json!({"type": "schedule", "cron": cron, "payload": {"job": id}});
    for (k, v) in extra.as_object().into_iter().flatten() {
        trigger[k] = v.clone();
    }
    json!({"workflow_id": id, "trigger": trigger, "steps": [
        {"id": "say", "type": "log", "config": {"message": "{{job}} at {{schedule.local_time}}"}},
        {"id": "done", "type": "action", "action": "allow", "reason": "{{schedule.fire_time}}"}]})
}

/// The finished runs of a workflow: (fire time, missed), by fire time.
fn fires(server: &Server, key: &str, workflow: &str) -> Vec<(DateTime<Utc>, bool, Value)> {
    let (status, list) = server.with(
        key,
        "GET",
        &format!("/api/v1/executions?workflow_id={workflow}&limit=1000"),
        None,
    );
    assert_eq!(status, 200, "{list}");
    let mut out: Vec<(DateTime<Utc>, bool, Value)> = list["executions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["status"] == "completed")
        .map(|e| {
            (
                at(&e["reason"]),
                e["context"]["schedule"]["missed"] == json!(true),
                e.clone(),
            )
        })
        .collect();
    out.sort_by_key(|f| f.0);
    out
}

fn wait_for(what: &str, secs: u64, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !done() {
        assert!(Instant::now() < deadline, "{what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn schedules_fire_on_time_show_what_comes_next_and_catch_up_after_downtime() {
    let dir = scratch("schedules");
    let key = "schedules-root";
    let env = [("WEIR_ADMIN_KEY", key)];
    let mut server = Server::start_with(&dir, free_port(), &env);
    let post = |s: &Server, body: Value| s.with(key, "POST", "/api/v1/workflows", Some(body));

    let (status, stored) = post(&server, every("tick", "*/2 * * * * *", json!({})));
    assert_eq!(status, 201, "{stored}");
    // The next ten fires, two seconds apart, from the API and from the CLI.
    let (status, shown) = server.with(key, "GET", "/api/v1/workflows/tick/schedule", None);
    assert_eq!(status, 200, "{shown}");
    let next: Vec<DateTime<Utc>> = shown["schedules"][0]["next"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| at(&t["at"]))
        .collect();
    assert_eq!(next.len(), 10, "{shown}");
    assert!(
        next.windows(2)
            .all(|w| (w[1] - w[0]).num_milliseconds() == 2000),
        "{shown}"
    );
    assert_eq!(shown["schedules"][0]["timezone"], "UTC");
    let (code, out, err) = weir_cli(&server, key, &["schedule", "tick", "-n", "3"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 4, "{out}");
    assert!(
        out.starts_with("*/2 * * * * *  UTC  (catch_up none)"),
        "{out}"
    );
    let (status, _) = server.with(key, "GET", "/api/v1/workflows/tick/schedule?count=0", None);
    assert_eq!(status, 400);
    let (status, _) = server.with(key, "GET", "/api/v1/workflows/ghost/schedule", None);
    assert_eq!(status, 404);
    let (status, plain) = post(
        &server,
        json!({"workflow_id": "plain", "trigger": {"type": "manual"}, "steps": [{"id": "a", "type": "action", "action": "allow"}]}),
    );
    assert_eq!(status, 201, "{plain}");
    let (status, _) = server.with(key, "GET", "/api/v1/workflows/plain/schedule", None);
    assert_eq!(status, 409);

    // Each fire starts one run, within a second of its time.
    wait_for("three ticks", 20, || fires(&server, key, "tick").len() >= 3);
    let ticks = fires(&server, key, "tick");
    for (fire, missed, run) in &ticks {
        let late = at(&run["started_at"]) - *fire;
        assert!(
            late >= chrono::Duration::zero() && late < chrono::Duration::seconds(1),
            "fired {late} after {fire}"
        );
        assert!(!missed);
        assert_eq!(run["context"]["job"], "tick");
        assert_eq!(run["context"]["trigger"]["type"], "schedule", "{run}");
    }
    assert!(
        ticks
            .windows(2)
            .all(|w| (w[1].0 - w[0].0).num_milliseconds() == 2000)
    );
    let latest = ticks
        .iter()
        .map(|(f, _, r)| at(&r["started_at"]) - *f)
        .max()
        .unwrap();
    eprintln!(
        "{} ticks; the latest started {} ms after its fire time",
        ticks.len(),
        latest.num_milliseconds()
    );
    let (_, shown) = server.with(key, "GET", "/api/v1/workflows/tick/schedule", None);
    assert!(at(&shown["schedules"][0]["last_fire"]) >= ticks.last().unwrap().0);

    // Three per-second schedules, one per catch-up policy, across eight seconds of downtime.
    for policy in ["all", "latest", "none"] {
        let (status, stored) = post(
            &server,
            every(
                &format!("catch_{policy}"),
                "* * * * * *",
                json!({"catch_up": policy}),
            ),
        );
        assert_eq!(status, 201, "{stored}");
    }
    wait_for("the per-second schedules fire", 20, || {
        ["all", "latest", "none"]
            .iter()
            .all(|p| fires(&server, key, &format!("catch_{p}")).len() >= 2)
    });
    server.stop_and_read_log();
    std::thread::sleep(Duration::from_secs(8));
    let server = Server::start_with(&dir, free_port(), &env);
    std::thread::sleep(Duration::from_secs(3));
    let all = fires(&server, key, "catch_all");
    let seconds: Vec<i64> = all.iter().map(|f| f.0.timestamp()).collect();
    assert!(
        seconds.windows(2).all(|w| w[1] - w[0] == 1),
        "catch_up all starts every missed fire, once: {seconds:?}"
    );
    assert!(all.iter().filter(|f| f.1).count() >= 2, "{all:?}");
    let latest = fires(&server, key, "catch_latest");
    assert_eq!(
        latest.iter().filter(|f| f.1).count(),
        1,
        "catch_up latest starts one"
    );
    let none = fires(&server, key, "catch_none");
    assert_eq!(
        none.iter().filter(|f| f.1).count(),
        0,
        "catch_up none starts none"
    );
    assert!(
        none.windows(2)
            .any(|w| (w[1].0 - w[0].0).num_seconds() >= 3),
        "catch_up none skips the downtime"
    );
    // The two-second tick skipped the downtime too, and ran on after it.
    let after = fires(&server, key, "tick");
    assert!(after.len() > ticks.len());
}

#[test]
fn two_nodes_on_postgres_start_each_fire_of_a_per_second_schedule_once() {
    let Some(pg) = weir_store::testing::Server::start() else {
        return;
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let url = runtime.block_on(pg.fresh_database("two_node_schedules"));
    let key = "schedule-nodes-admin-key";
    let env = [
        ("WEIR_ADMIN_KEY", key),
        ("WEIR_DATABASE_URL", url.as_str()),
        (
            "WEIR_MASTER_KEY",
            "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
        ),
        // The run node A had claimed when it died is B's once A's lease lapses: 1.5 s here,
        // not the default 30 s that would outlast the test.
        ("WEIR_LEASE_MS", "1500"),
    ];
    let mut a = Server::start_with(&scratch("sched-node-a"), free_port(), &env);
    let b = Server::start_with(&scratch("sched-node-b"), free_port(), &env);
    // Thirty fires: from a whole second far enough ahead that both nodes have indexed the
    // workflow (they re-read every five seconds), to 29 seconds after it.
    let start = DateTime::from_timestamp(Utc::now().timestamp() + 8, 0).unwrap();
    let end = start + chrono::Duration::seconds(29);
    let workflow = every(
        "per_second",
        "* * * * * *",
        json!({"start_at": start.to_rfc3339(), "end_at": end.to_rfc3339()}),
    );
    let (status, stored) = a.with(key, "POST", "/api/v1/workflows", Some(workflow));
    assert_eq!(status, 201, "{stored}");
    let (_, shown) = b.with(
        key,
        "GET",
        "/api/v1/workflows/per_second/schedule?count=100",
        None,
    );
    assert_eq!(
        shown["schedules"][0]["next"].as_array().unwrap().len(),
        30,
        "{shown}"
    );
    // Halfway, node A dies; B goes on alone.
    wait_for("the schedule's first half", 40, || {
        Utc::now() > start + chrono::Duration::seconds(15)
    });
    a.signal_kill();
    wait_for("the schedule's end", 40, || {
        Utc::now() > end + chrono::Duration::seconds(3)
    });
    let runs = fires(&b, key, "per_second");
    let seconds: Vec<i64> = runs.iter().map(|f| f.0.timestamp()).collect();
    let expected: Vec<i64> = (start.timestamp()..=end.timestamp()).collect();
    assert_eq!(
        seconds, expected,
        "each of the 30 fires started exactly one run"
    );
    let (_, list) = b.with(
        key,
        "GET",
        "/api/v1/executions?workflow_id=per_second&limit=1000",
        None,
    );
    assert_eq!(list["executions"].as_array().unwrap().len(), 30, "{list}");
}

#[test]
fn weir_test_dry_runs_schedule_and_webhook_triggers() {
    let dir = crate::scratch();
    let report = crate::write(
        &dir,
        "report.yaml",
        r#"
workflow_id: nightly_report
triggers:
  - type: schedule
    cron: "30 2 * * *"
    timezone: America/New_York
    payload: {report: sales}
steps:
  - id: done
    type: action
    action: allow
    reason: "{{report}} for {{schedule.local_time}}"
"#,
    );
    // The run happens at the schedule's next fire after --now: a spring-forward day here.
    let o = crate::weir(&[
        "test",
        &report,
        "--trigger",
        "schedule",
        "--now",
        "2026-03-07T12:00:00Z",
        "--output",
        "json",
    ]);
    assert_eq!(crate::code(&o), 0, "{}", crate::stderr(&o));
    let v: Value = serde_json::from_str(&crate::stdout(&o)).unwrap();
    assert_eq!(v["matched"], true);
    assert_eq!(v["reason"], "sales for 2026-03-08T03:00:00.000-04:00");
    assert!(
        v["notes"][0]
            .as_str()
            .unwrap()
            .contains("fires next at 2026-03-08T03:00:00-04:00"),
        "{v}"
    );
    let o = crate::weir(&[
        "schedule",
        &report,
        "--after",
        "2026-03-07T00:00:00Z",
        "-n",
        "3",
    ]);
    assert_eq!(crate::code(&o), 0, "{}", crate::stderr(&o));
    let text = crate::stdout(&o);
    assert!(
        text.contains("2026-03-07T02:30:00-05:00")
            && text.contains("2026-03-08T03:00:00-04:00")
            && text.contains("2026-03-09T02:30:00-04:00"),
        "{text}"
    );
    let o = crate::weir(&["test", &report, "--trigger", "webhook", "--output", "json"]);
    let v: Value = serde_json::from_str(&crate::stdout(&o)).unwrap();
    assert_eq!(v["matched"], false);
    assert_eq!(v["reason"], "the workflow has no webhook trigger");

    let hook = crate::write(
        &dir,
        "hook.json",
        r#"{"workflow_id": "stock_hook",
            "trigger": {"type": "webhook", "schema": {"type": "object", "required": ["sku"], "properties": {"sku": {"type": "string"}}}},
            "steps": [{"id": "ok", "type": "action", "action": "allow", "reason": "restock {{sku}}"}]}"#,
    );
    let o = crate::weir(&[
        "test",
        &hook,
        "--trigger",
        "webhook",
        "--payload",
        r#"{"sku": "A-1"}"#,
        "--output",
        "json",
    ]);
    let v: Value = serde_json::from_str(&crate::stdout(&o)).unwrap();
    assert_eq!(
        (v["matched"].clone(), v["reason"].clone()),
        (json!(true), json!("restock A-1"))
    );
    let o = crate::weir(&[
        "test",
        &hook,
        "--trigger",
        "webhook",
        "--payload",
        r#"{"sku": 5}"#,
        "--output",
        "json",
    ]);
    let v: Value = serde_json::from_str(&crate::stdout(&o)).unwrap();
    assert_eq!(v["matched"], false);
    assert!(v["reason"].as_str().unwrap().contains("/sku"), "{v}");
    let o = crate::weir(&["test", &hook, "--trigger", "schedule"]);
    assert!(crate::stdout(&o).contains("the workflow has no schedule trigger"));
    let o = crate::weir(&["test", &hook, "--trigger", "webhook", "--event", "x"]);
    assert_eq!(crate::code(&o), 2, "--event and --trigger conflict");
}
