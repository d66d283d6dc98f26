//! Retention as an operator sees it: `--retain-executions` deletes finished executions with
//! their events once they are that old, never a running one; an environment's own setting
//! wins over it; bad values are refused.

use std::time::Duration;

use serde_json::{Value, json};

use crate::serve::{on_both_backends, poll};
use crate::weir;

#[test]
fn finished_executions_go_once_older_than_their_retention_and_running_ones_stay() {
    on_both_backends(
        "retention",
        &[("WEIR_RETAIN_EXECUTIONS", "2s")],
        |server, _| {
            let key = server.key();
            let call = |method: &str, path: &str, body: Option<Value>| {
                server.with(&key, method, path, body)
            };
            for wf in [
                json!({"workflow_id": "quick", "trigger": {"type": "event", "event": "order.created"},
                "steps": [{"id": "ok", "type": "action", "action": "allow"}]}),
                json!({"workflow_id": "waits", "trigger": {"type": "event", "event": "order.placed"},
                "steps": [{"id": "wait", "type": "wait", "event": "payment.received", "timeout": "1h", "on_timeout": "done"},
                          {"id": "done", "type": "action", "action": "allow"}]}),
            ] {
                let (status, body) = call("POST", "/api/v1/workflows", Some(wf));
                assert_eq!(status, 201, "{body}");
            }
            // The environment keeps its runs an hour: nothing goes.
            let (status, view) = call(
                "PUT",
                "/api/v1/settings/retention",
                Some(json!({"executions": "1h"})),
            );
            assert_eq!(status, 200, "{view}");
            assert_eq!(
                (&view["executions"], &view["effective"]),
                (&json!("1h"), &json!("1h"))
            );
            assert!(view["updated_at"].is_string(), "{view}");
            let send = |event: &str| {
                let (status, body) = call(
                    "POST",
                    "/api/v1/events",
                    Some(json!({"event_type": event, "payload": {"order": {"id": "o1"}}})),
                );
                assert_eq!(status, 200, "{body}");
            };
            for _ in 0..3 {
                send("order.created");
            }
            send("order.placed");
            send("nothing.listens");
            poll(server, &key, "/api/v1/executions?status=completed", |l| {
                l["executions"].as_array().is_some_and(|e| e.len() == 3)
            });
            // Three passes of a 2 s retention go by; the environment's hour wins.
            std::thread::sleep(Duration::from_millis(3_500));
            let (_, list) = call("GET", "/api/v1/executions?limit=100", None);
            assert_eq!(list["executions"].as_array().unwrap().len(), 4, "{list}");

            // Back to the server's 2 s: the finished runs go with their events, the waiting run
            // stays with its event and steps.
            let (status, _) = call("DELETE", "/api/v1/settings/retention", None);
            assert_eq!(status, 204);
            let (_, view) = call("GET", "/api/v1/settings/retention", None);
            assert_eq!(
                (&view["executions"], &view["effective"]),
                (&Value::Null, &json!("2s"))
            );
            let left = poll(server, &key, "/api/v1/executions?limit=100", |l| {
                l["executions"].as_array().is_some_and(|e| e.len() == 1)
            });
            let waiting = &left["executions"][0];
            assert_eq!(
                (&waiting["workflow_id"], &waiting["status"]),
                (&json!("waits"), &json!("waiting"))
            );
            let id = waiting["id"].as_str().unwrap();
            let (status, run) = call("GET", &format!("/api/v1/executions/{id}"), None);
            assert_eq!(status, 200, "{run}");
            assert!(!run["steps"].as_array().unwrap().is_empty(), "{run}");
            let events = poll(server, &key, "/api/v1/events?limit=100", |l| {
                l["events"].as_array().is_some_and(|e| e.len() == 1)
            });
            assert_eq!(
                events["events"][0]["event_type"],
                json!("order.placed"),
                "{events}"
            );
            // What the environment set stays in the audit log.
            let (_, audit) = call("GET", "/api/v1/audit?action=setting.update", None);
            assert!(audit.to_string().contains("retention"), "{audit}");

            // Bad values are refused, saying why.
            for (body, says) in [
                (json!({"executions": "soon"}), "not a duration"),
                (json!({"executions": "30s"}), "shorter than a minute"),
                (json!({"executions": "7d", "audit": "1d"}), "audit"),
                (json!({}), "executions"),
            ] {
                let (status, answer) =
                    call("PUT", "/api/v1/settings/retention", Some(body.clone()));
                assert_eq!(status, 422, "{body}: {answer}");
                assert!(answer.to_string().contains(says), "{body}: {answer}");
            }
        },
    );
}

#[test]
fn retention_options_are_checked() {
    for (option, value, says) in [
        ("--retain-executions", "500ms", "shorter than a second"),
        ("--retain-audit", "forever", "retain_audit"),
    ] {
        let out = weir(&["serve", "--listen", "127.0.0.1:1", option, value]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{option} {value}: {err}");
        assert!(err.contains(says), "{option} {value}: {err}");
    }
}
