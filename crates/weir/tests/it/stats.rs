//! `GET /api/v1/stats`, `GET /api/v1/workflows/{id}/stats`, the workflows list's activity, and
//! moving a session to another environment: what the console's dashboard and switcher read.

use serde_json::{Value, json};

use crate::serve::on_both_backends;

const ROOT: &str = "stats-root-key-0123456789";

#[test]
fn statistics_count_each_finished_run_by_status_decision_hour_and_step() {
    on_both_backends("stats", &[("WEIR_ADMIN_KEY", ROOT)], |server, _| {
        let deploy = |wf: Value| {
            let (status, answer) = server.with(ROOT, "POST", "/api/v1/workflows", Some(wf));
            assert_eq!(status, 201, "{answer}");
        };
        deploy(json!({"workflow_id": "limit", "name": "Order limit",
            "trigger": {"type": "event", "event": "order.created"}, "steps": [
            {"id": "check", "type": "condition", "condition": {"field": "order.total", "operator": "gt", "value": 100},
             "on_true": "no", "on_false": "yes"},
            {"id": "no", "type": "action", "action": "block"},
            {"id": "yes", "type": "action", "action": "allow"}]}));
        // Calls a loopback address, which outbound requests may not reach: it fails at once.
        deploy(
            json!({"workflow_id": "notify", "trigger": {"type": "event", "event": "order.created"}, "steps": [
            {"id": "call", "type": "http_request",
             "config": {"url": "http://127.0.0.1:9/hook", "method": "POST"}}]}),
        );
        for total in [10, 20, 30, 500] {
            let (status, answer) = server.with(
                ROOT,
                "POST",
                "/api/v1/events",
                Some(
                    json!({"event_type": "order.created", "payload": {"order": {"total": total}}}),
                ),
            );
            assert_eq!(status, 200, "{answer}");
        }
        // The failing runs finish on a worker, a moment later.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let stats = loop {
            let (status, stats) = server.with(ROOT, "GET", "/api/v1/stats", None);
            assert_eq!(status, 200, "{stats}");
            if stats["finished"]["total"] == 8 {
                break stats;
            }
            assert!(std::time::Instant::now() < deadline, "{stats}");
            std::thread::sleep(std::time::Duration::from_millis(200));
        };
        assert_eq!(
            stats["finished"],
            json!({"total": 8, "completed": 4, "failed": 4, "cancelled": 0})
        );
        assert_eq!(
            stats["decisions"],
            json!({"allow": 3, "block": 1, "none": 4})
        );
        assert_eq!(stats["success_rate"], json!(0.5));
        let hours = stats["per_hour"].as_array().unwrap();
        assert_eq!(hours.len(), 24);
        assert_eq!(hours.last().unwrap()["finished"]["total"], 8, "{stats}");
        assert!(stats["duration_ms"]["p50"].as_f64().is_some(), "{stats}");
        assert_eq!(
            stats["workflows"][0]["workflow_id"], "notify",
            "most failures first"
        );
        assert_eq!(stats["workflows"][1]["name"], "Order limit");
        assert_eq!(stats["workflows"][1]["success_rate"], json!(1.0));
        assert!(stats.get("steps").is_none(), "steps are a workflow's");
        assert_eq!(stats["unfinished"]["waiting"], 0);

        let (status, one) = server.with(ROOT, "GET", "/api/v1/workflows/limit/stats", None);
        assert_eq!(status, 200, "{one}");
        assert_eq!(one["finished"]["total"], 4);
        let steps = one["steps"].as_array().unwrap();
        let runs = |id: &str| {
            steps
                .iter()
                .find(|s| s["step_id"] == id)
                .map(|s| s["runs"].as_i64().unwrap())
        };
        assert_eq!(
            (runs("check"), runs("yes"), runs("no")),
            (Some(4), Some(3), Some(1)),
            "{one}"
        );
        let (_, failing) = server.with(ROOT, "GET", "/api/v1/workflows/notify/stats", None);
        assert_eq!(
            failing["steps"][0]["failures"], failing["steps"][0]["runs"],
            "{failing}"
        );

        // The workflows list says when each last ran and how it did this week.
        let (_, list) = server.with(ROOT, "GET", "/api/v1/workflows", None);
        for w in list["workflows"].as_array().unwrap() {
            let a = &w["activity"];
            assert!(a["last_run_at"].is_string(), "{w}");
            assert_eq!(a["finished_7d"], 4, "{w}");
        }
        assert_eq!(
            list["workflows"][0]["activity"]["success_rate_7d"],
            json!(1.0)
        );
        assert_eq!(
            list["workflows"][1]["activity"]["success_rate_7d"],
            json!(0.0)
        );

        // A range in the past has its hours and nothing in them; bad ranges are refused.
        let (status, past) = server.with(
            ROOT,
            "GET",
            "/api/v1/stats?since=2026-01-01T00:00:00Z&until=2026-01-02T00:00:00Z",
            None,
        );
        assert_eq!(status, 200, "{past}");
        assert_eq!(past["finished"]["total"], 0);
        assert_eq!(past["success_rate"], Value::Null);
        assert_eq!(past["per_hour"].as_array().unwrap().len(), 24);
        for (query, says) in [
            ("since=yesterday", "RFC 3339"),
            (
                "since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z",
                "before until",
            ),
            (
                "since=2020-01-01T00:00:00Z&until=2026-01-01T00:00:00Z",
                "longer than",
            ),
            ("window=1h", "window"),
        ] {
            let (status, e) = server.with(ROOT, "GET", &format!("/api/v1/stats?{query}"), None);
            assert_eq!(status, 400, "{query}: {e}");
            assert!(e.to_string().contains(says), "{query}: {e}");
        }
        let (status, _) = server.with(ROOT, "GET", "/api/v1/workflows/nope/stats", None);
        assert_eq!(status, 404);

        // Another tenant sees none of it.
        let (status, _) = server.with(
            ROOT,
            "POST",
            "/api/v1/tenants",
            Some(json!({"name": "Other"})),
        );
        assert_eq!(status, 201);
        let (status, key) = server.with(
            ROOT,
            "POST",
            "/api/v1/api-keys",
            Some(json!({"tenant_id": "other", "environment": "production", "role": "viewer", "name": "o"})),
        );
        assert_eq!(status, 201, "{key}");
        let other = key["key"].as_str().unwrap();
        let (_, theirs) = server.with(other, "GET", "/api/v1/stats", None);
        assert_eq!(theirs["finished"]["total"], 0, "{theirs}");
        assert_eq!(theirs["workflows"], json!([]));
        let (status, _) = server.with(other, "GET", "/api/v1/workflows/limit/stats", None);
        assert_eq!(status, 404);
    });
}

#[test]
fn a_session_moves_to_the_environments_its_user_may_act_in() {
    on_both_backends("switch", &[("WEIR_ADMIN_KEY", ROOT)], |server, _| {
        for (email, environment) in [
            ("all@example.com", Value::Null),
            ("prod@example.com", json!("production")),
        ] {
            let user = json!({"email": email, "password": "a long passphrase", "role": "editor", "environment": environment});
            let (status, answer) = server.with(ROOT, "POST", "/api/v1/users", Some(user));
            assert_eq!(status, 201, "{answer}");
        }
        let (status, _) = server.with(
            ROOT,
            "POST",
            "/api/v1/tenants/default/environments",
            Some(json!({"name": "staging"})),
        );
        assert_eq!(status, 201);
        let login = |email: &str| -> String {
            let (status, session) = server.call(
                "POST",
                "/api/v1/auth/login",
                None,
                Some("application/json"),
                json!({"email": email, "password": "a long passphrase"})
                    .to_string()
                    .as_bytes(),
            );
            assert_eq!(status, 201, "{session}");
            session["token"].as_str().unwrap().to_owned()
        };
        let token = login("all@example.com");
        let (_, me) = server.with(&token, "GET", "/api/v1/auth/me", None);
        let environments = me["environments"].as_array().unwrap();
        assert!(
            environments.contains(&json!("staging")) && environments.contains(&json!("production")),
            "{me}"
        );
        let (status, session) = server.with(
            &token,
            "POST",
            "/api/v1/auth/switch",
            Some(json!({"environment": "staging"})),
        );
        assert_eq!(status, 201, "{session}");
        assert_eq!(session["environment"], "staging");
        let moved = session["token"].as_str().unwrap();
        let (_, me) = server.with(moved, "GET", "/api/v1/auth/me", None);
        assert_eq!(me["environment"], "staging");
        let (status, _) = server.with(&token, "GET", "/api/v1/auth/me", None);
        assert_eq!(status, 401, "the old session ended");
        let (status, e) = server.with(
            moved,
            "POST",
            "/api/v1/auth/switch",
            Some(json!({"environment": "nowhere"})),
        );
        assert_eq!(status, 422, "{e}");
        // A user of one environment has that one only; a key cannot move.
        let prod = login("prod@example.com");
        let (_, me) = server.with(&prod, "GET", "/api/v1/auth/me", None);
        assert_eq!(me["environments"], json!(["production"]));
        let (status, e) = server.with(
            &prod,
            "POST",
            "/api/v1/auth/switch",
            Some(json!({"environment": "staging"})),
        );
        assert_eq!(status, 422, "{e}");
        let (status, e) = server.with(
            ROOT,
            "POST",
            "/api/v1/auth/switch",
            Some(json!({"environment": "staging"})),
        );
        assert_eq!(status, 400, "{e}");
        for bad in [
            json!({}),
            json!({"environment": 7}),
            json!({"environment": "staging", "x": 1}),
        ] {
            let (status, e) = server.with(moved, "POST", "/api/v1/auth/switch", Some(bad.clone()));
            assert!(status == 400 || status == 422, "{bad}: {status} {e}");
        }
    });
}
