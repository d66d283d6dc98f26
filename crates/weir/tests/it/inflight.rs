//! Actions in flight: calls of many executions, and the branches of one, run side by side;
//! `first` takes the branch that finishes first; a quick call is not held up by slow ones, of
//! its own tenant or another's; a call longer than the lease is sent once; a node killed with
//! calls in flight loses none of them. Real servers over loopback, on SQLite and PostgreSQL.

use std::collections::{HashMap, HashSet};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::peer::Peer;
use crate::serve::{Server, free_port, on_both_backends, scratch};

/// A workflow calling `url` (its body names the order), then allowing.
fn calling(id: &str, event: &str, url: &str) -> Value {
    json!({"workflow_id": id, "trigger": {"type": "event", "event": event}, "steps": [
        {"id": "call", "type": "http_request", "config": {"url": url, "method": "POST", "body": {"order": "{{order}}"}}},
        {"id": "ok", "type": "action", "action": "allow"}
    ]})
}

fn put(server: &Server, key: &str, workflow: &Value) {
    let (status, body) = server.with(key, "POST", "/api/v1/workflows", Some(workflow.clone()));
    assert_eq!(status, 201, "{body}");
}

/// Sends an event and waits up to `timeout_ms` for its answer.
fn send(server: &Server, key: &str, event: &str, payload: Value, timeout_ms: u64) -> Value {
    let (status, body) = server.with(
        key,
        "POST",
        "/api/v1/events",
        Some(json!({"event_type": event, "payload": payload, "timeout_ms": timeout_ms})),
    );
    assert_eq!(status, 200, "{body}");
    body
}

/// The step records of the one execution an event answer names.
fn steps_of(server: &Server, answer: &Value) -> Vec<Value> {
    let id = answer["executions"][0]["execution_id"].as_str().unwrap();
    let (_, detail) = server.get(&format!("/api/v1/executions/{id}"));
    detail["steps"].as_array().cloned().unwrap_or_default()
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn waiting_clients_have_their_calls_in_flight_at_the_same_time() {
    let peer = Peer::start();
    peer.slow("/slow", Duration::from_millis(1500));
    on_both_backends(
        "inflight_clients",
        &[("WEIR_OUTBOUND_ALLOW", "127.0.0.1")],
        |server, _| {
            let key = server.key();
            put(server, &key, &calling("call", "go", &peer.url("/slow")));
            let before = peer.requests_to("/slow").len();
            let answers: Vec<Value> = thread::scope(|s| {
                let clients: Vec<_> = (0..32)
                    .map(|i| {
                        let key = &key;
                        s.spawn(move || send(server, key, "go", json!({"order": i}), 20_000))
                    })
                    .collect();
                clients.into_iter().map(|c| c.join().unwrap()).collect()
            });
            for a in &answers {
                assert_eq!(
                    (a["decision"].clone(), a["executions"][0]["status"].clone()),
                    (json!("allow"), json!("completed")),
                    "{a}"
                );
            }
            assert_eq!(peer.requests_to("/slow").len() - before, 32);
            let peak = peer.peak_in_flight();
            assert!(
                peak >= 24,
                "only {peak} of 32 waiting clients' calls were in flight at once"
            );
        },
    );
}

#[test]
fn branches_overlap_and_first_takes_the_branch_that_finishes_first() {
    let peer = Peer::start();
    peer.slow("/branch", Duration::from_millis(1000));
    peer.slow("/slow", Duration::from_millis(4000));
    peer.slow("/quick", Duration::from_millis(50));
    on_both_backends(
        "inflight_branches",
        &[("WEIR_OUTBOUND_ALLOW", "127.0.0.1")],
        |server, _| {
            let key = server.key();
            let branches: Vec<Value> = (0..6)
                .map(|i| json!({"id": format!("b{i}"), "type": "http_request", "config": {"url": peer.url(&format!("/branch?b={i}"))}}))
                .collect();
            put(
                server,
                &key,
                &json!({"workflow_id": "six", "trigger": {"type": "event", "event": "six"}, "steps": [
                    {"id": "fan", "type": "parallel", "strategy": "all", "steps": branches},
                    {"id": "ok", "type": "action", "action": "allow"}
                ]}),
            );
            let answer = send(server, &key, "six", json!({}), 20_000);
            assert_eq!(answer["decision"], json!("allow"), "{answer}");
            let calls = peer.requests_to("/branch");
            assert!(calls.len() >= 6);
            // Each call arrived before any other was answered: all six were in flight at once.
            let last = &calls[calls.len() - 6..];
            let first_at = last.iter().map(|r| r.at).min().unwrap();
            let last_at = last.iter().map(|r| r.at).max().unwrap();
            assert!(
                last_at.duration_since(first_at) < Duration::from_millis(1000),
                "the branches' calls did not overlap: the last came {:?} after the first",
                last_at.duration_since(first_at)
            );

            // The slow branch is written first; the quick one wins.
            put(
                server,
                &key,
                &json!({"workflow_id": "race", "trigger": {"type": "event", "event": "race"}, "steps": [
                    {"id": "fan", "type": "parallel", "strategy": "first", "steps": [
                        {"id": "slow", "type": "http_request", "config": {"url": peer.url("/slow")}},
                        {"id": "quick", "type": "http_request", "config": {"url": peer.url("/quick")}}
                    ]},
                    {"id": "ok", "type": "action", "action": "allow"}
                ]}),
            );
            let answer = send(server, &key, "race", json!({}), 20_000);
            assert_eq!(
                (
                    answer["decision"].clone(),
                    answer["executions"][0]["status"].clone()
                ),
                (json!("allow"), json!("completed")),
                "{answer}"
            );
            let steps = steps_of(server, &answer);
            let status = |id: &str| {
                steps
                    .iter()
                    .find(|s| s["step_id"] == id)
                    .map(|s| s["status"].clone())
                    .unwrap_or(Value::Null)
            };
            assert_eq!(status("quick"), json!("completed"), "{steps:?}");
            assert_eq!(status("slow"), json!("cancelled"), "{steps:?}");
            let fan = steps.iter().find(|s| s["step_id"] == "fan").unwrap();
            assert_eq!(fan["output"]["winner"], json!(1), "{fan}");
        },
    );
}

#[test]
fn a_quick_call_is_not_held_up_by_slow_calls_of_its_own_or_another_tenant() {
    let peer = Peer::start();
    // Slow enough that none finishes while the test looks, even on a loaded machine.
    peer.slow("/slow", Duration::from_millis(8000));
    peer.slow("/quick", Duration::from_millis(10));
    let dir = scratch("inflight-fair");
    let server = Server::start_with(
        &dir,
        free_port(),
        &[
            ("WEIR_OUTBOUND_ALLOW", "127.0.0.1"),
            ("WEIR_ADMIN_KEY", "root-key-for-tests"),
            ("WEIR_MAX_IN_FLIGHT_ACTIONS", "100"),
        ],
    );
    let root = server.key();
    put(&server, &root, &calling("slow", "slow", &peer.url("/slow")));
    put(
        &server,
        &root,
        &calling("quick", "quick", &peer.url("/quick")),
    );
    let (status, _) = server.with(
        &root,
        "POST",
        "/api/v1/tenants",
        Some(json!({"name": "Other"})),
    );
    assert_eq!(status, 201);
    let (status, other) = server.with(
        &root,
        "POST",
        "/api/v1/api-keys",
        Some(json!({"tenant_id": "other", "environment": "production", "role": "admin", "name": "other"})),
    );
    assert_eq!(status, 201, "{other}");
    let other = other["key"].as_str().unwrap().to_owned();
    put(
        &server,
        &other,
        &calling("quick", "quick", &peer.url("/quick")),
    );
    let slow_done = || {
        let (_, done) = server.with(
            &root,
            "GET",
            "/api/v1/executions?workflow_id=slow&status=completed&limit=1000",
            None,
        );
        done["executions"].as_array().map_or(0, Vec::len)
    };
    let quick = |who: &str, key: &str| {
        let answer = send(&server, key, "quick", json!({"order": who}), 3_500);
        assert_eq!(
            (
                answer["decision"].clone(),
                answer["executions"][0]["status"].clone()
            ),
            (json!("allow"), json!("completed")),
            "the quick call of {who} waited behind the slow ones: {answer}"
        );
        assert_eq!(
            slow_done(),
            0,
            "the quick call of {who} finished after slow ones"
        );
    };

    // 40 slow calls in flight; a quick one of the same tenant goes out beside them.
    for i in 0..40 {
        send(&server, &root, "slow", json!({"order": i}), 0);
    }
    wait_for("40 slow calls in flight", || {
        peer.requests_to("/slow").len() >= 40
    });
    quick("its own tenant", &root);
    // 60 more: the tenant holds three quarters of the pool of 100 and the rest wait; another
    // tenant's quick call still gets a slot at once.
    for i in 40..100 {
        send(&server, &root, "slow", json!({"order": i}), 0);
    }
    wait_for("75 slow calls in flight", || {
        peer.requests_to("/slow").len() >= 75
    });
    quick("another tenant", &other);
    assert_eq!(
        peer.requests_to("/slow").len(),
        75,
        "one tenant took more than three quarters of the pool"
    );
    assert!(
        peer.peak_in_flight() <= 100,
        "the pool of 100 let {} calls out at once",
        peer.peak_in_flight()
    );
    // The waiting slow calls go out as slots free, and every run finishes.
    wait_for("every slow run to finish", || slow_done() == 100);
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_call_three_times_longer_than_the_lease_is_sent_once_and_its_run_completes() {
    let peer = Peer::start();
    peer.slow("/long", Duration::from_millis(6000));
    on_both_backends(
        "inflight_lease",
        &[
            ("WEIR_OUTBOUND_ALLOW", "127.0.0.1"),
            ("WEIR_LEASE_MS", "2000"),
        ],
        |server, _| {
            let key = server.key();
            let before = peer.requests_to("/long").len();
            put(server, &key, &calling("long", "long", &peer.url("/long")));
            let answer = send(server, &key, "long", json!({"order": 1}), 20_000);
            assert_eq!(
                (
                    answer["decision"].clone(),
                    answer["executions"][0]["status"].clone()
                ),
                (json!("allow"), json!("completed")),
                "{answer}"
            );
            // Another lease's worth of time: nothing is sent again.
            thread::sleep(Duration::from_millis(2500));
            assert_eq!(peer.requests_to("/long").len() - before, 1);
        },
    );
}

#[test]
fn a_node_killed_with_200_calls_in_flight_loses_none() {
    let peer = Peer::start();
    peer.slow("/slow", Duration::from_millis(2000));
    let dir = scratch("inflight-kill");
    let port = free_port();
    // A lease far longer than the test: the restarted server finishes the runs only if it
    // takes back at once what the killed process held.
    let env = [
        ("WEIR_OUTBOUND_ALLOW", "127.0.0.1"),
        ("WEIR_LEASE_MS", "3600000"),
    ];
    let mut server = Server::start_with(&dir, port, &env);
    let key = server.key();
    put(&server, &key, &calling("call", "go", &peer.url("/slow")));
    for i in 0..200 {
        send(&server, &key, "go", json!({"order": i}), 0);
    }
    wait_for("200 calls in flight", || {
        peer.requests_to("/slow").len() >= 200
    });
    server.signal_kill();
    let server = Server::start_with(&dir, port, &env);
    wait_for("every run to finish after the restart", || {
        let (_, list) =
            server.get("/api/v1/executions?workflow_id=call&status=completed&limit=1000");
        list["executions"].as_array().map(Vec::len) == Some(200)
    });
    // Each order reached the peer, every time with the same idempotency key, and no two orders
    // share one.
    let mut keys: HashMap<String, HashSet<String>> = HashMap::new();
    for r in peer.requests_to("/slow") {
        let order = r.json()["order"].to_string();
        let k = r
            .headers
            .get("idempotency-key")
            .cloned()
            .unwrap_or_default();
        assert!(!k.is_empty(), "a call without an idempotency key");
        keys.entry(order).or_default().insert(k);
    }
    assert_eq!(keys.len(), 200, "some orders never reached the peer");
    assert!(
        keys.values().all(|k| k.len() == 1),
        "an order was sent with two idempotency keys"
    );
    let distinct: HashSet<&String> = keys.values().flatten().collect();
    assert_eq!(distinct.len(), 200);
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
