//! Actions against real peers over loopback: HTTP requests to a recording server, retries,
//! signatures and the SSRF guard.

use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use crate::peer::Peer;
use crate::serve::{Server, free_port, poll, scratch};

/// Deploys a one-trigger workflow and sends its event; returns the finished execution.
fn run(server: &Server, key: &str, workflow: Value, payload: Value) -> Value {
    let id = workflow["workflow_id"].as_str().unwrap().to_owned();
    let (status, stored) = server.with(key, "POST", "/api/v1/workflows", Some(workflow));
    assert_eq!(status, 201, "{stored}");
    let (status, sent) = server.with(
        key,
        "POST",
        "/api/v1/events",
        Some(json!({"event_type": format!("{id}.go"), "payload": payload, "timeout_ms": 0})),
    );
    assert_eq!(status, 200, "{sent}");
    let run = sent["executions"][0]["execution_id"]
        .as_str()
        .unwrap_or_else(|| panic!("{sent}"))
        .to_owned();
    poll(server, key, &format!("/api/v1/executions/{run}"), |e| {
        matches!(
            e["status"].as_str(),
            Some("completed" | "failed" | "cancelled")
        )
    })
}

fn workflow(id: &str, steps: Value) -> Value {
    json!({"workflow_id": id, "trigger": {"type": "event", "event": format!("{id}.go")}, "steps": steps})
}

fn step<'a>(execution: &'a Value, id: &str) -> &'a Value {
    execution["steps"]
        .as_array()
        .unwrap()
        .iter()
        .rfind(|s| s["step_id"] == id)
        .unwrap_or_else(|| panic!("no step {id}: {execution}"))
}

/// HMAC-SHA256 hex digest, by Python's standard library: a reference independent of Weir.
pub(crate) fn python_hmac(secret: &str, message: &[u8]) -> String {
    let out = Command::new("python3")
        .args([
            "-c",
            "import hmac,hashlib,sys; print(hmac.new(sys.argv[1].encode(), sys.stdin.buffer.read(), hashlib.sha256).hexdigest())",
            secret,
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(message)?;
            child.wait_with_output()
        })
        .expect("python3");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn http_actions_call_a_real_peer_retry_sign_and_are_guarded() {
    let peer = Peer::start();
    let dir = scratch("http-actions");
    let key = "http-actions-root";
    let server = Server::start_with(
        &dir,
        free_port(),
        &[
            ("WEIR_ADMIN_KEY", key),
            ("WEIR_OUTBOUND_ALLOW", "127.0.0.1"),
        ],
    );

    // A templated POST with a query, headers, bearer auth and a signature.
    let call = json!({"id": "call", "type": "http_request", "config": {
        "url": peer.url("/orders"), "method": "POST",
        "query": {"source": "weir", "order": "{{order.id}}"},
        "headers": {"X-Order": "{{order.id}}"},
        "auth": {"type": "bearer", "token": "tok-{{order.id}}"},
        "body": {"order_id": "{{order.id}}", "total": "{{order.total}}"},
        "signing_secret": "whsec-test",
    }});
    let done = run(
        &server,
        key,
        workflow(
            "post",
            json!([call, {"id": "ok", "type": "action", "action": "allow"}]),
        ),
        json!({"order": {"id": "ord_1", "total": 250}}),
    );
    assert_eq!(done["status"], "completed", "{done}");
    let output = &step(&done, "call")["output"];
    assert_eq!(output["status"], 200, "{output}");
    assert_eq!(output["body"]["ok"], true);
    assert_eq!(output["headers"]["content-type"], "application/json");
    let got = peer.requests_to("/orders");
    assert_eq!(got.len(), 1);
    let r = &got[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/orders?source=weir&order=ord_1");
    assert_eq!(r.json(), json!({"order_id": "ord_1", "total": 250}));
    assert_eq!(r.headers["x-order"], "ord_1");
    assert_eq!(r.headers["authorization"], "Bearer tok-ord_1");
    assert_eq!(r.headers["content-type"], "application/json");
    let run_id = done["id"].as_str().unwrap();
    assert!(
        r.headers["idempotency-key"].starts_with(run_id),
        "{:?}",
        r.headers
    );
    // The signature: t=<unix seconds>,v1=HMAC-SHA256(secret, "t.body").
    let sig = &r.headers["x-weir-signature"];
    let (t, v1) = sig
        .strip_prefix("t=")
        .and_then(|s| s.split_once(",v1="))
        .unwrap_or_else(|| panic!("{sig}"));
    assert_eq!(r.headers["x-weir-timestamp"], t);
    let mut signed = format!("{t}.").into_bytes();
    signed.extend_from_slice(&r.body);
    assert_eq!(v1, python_hmac("whsec-test", &signed));

    // 503 twice, then 200: three attempts with one Idempotency-Key; the run completes.
    let flaky = json!({"id": "flaky", "type": "http_request",
        "config": {"url": peer.url("/fail/2/503/a"), "method": "POST", "body": {"n": 1}},
        "retry": {"max_attempts": 3, "initial_interval": "100ms", "retry_on": ["5xx"]}});
    let done = run(&server, key, workflow("flaky", json!([flaky])), json!({}));
    assert_eq!(done["status"], "completed", "{done}");
    let tries = peer.requests_to("/fail/2/503/a");
    assert_eq!(tries.len(), 3);
    let keys: Vec<&String> = tries
        .iter()
        .map(|r| &r.headers["idempotency-key"])
        .collect();
    assert!(keys.iter().all(|k| *k == keys[0]), "{keys:?}");
    assert_eq!(step(&done, "flaky")["attempt"], 3, "{done}");

    // 429 with Retry-After: 1 waits at least a second, though the backoff is 50 ms.
    let busy = json!({"id": "busy", "type": "http_request",
        "config": {"url": peer.url("/retry-after/1/b")},
        "retry": {"max_attempts": 2, "initial_interval": "50ms"}});
    let done = run(&server, key, workflow("busy", json!([busy])), json!({}));
    assert_eq!(done["status"], "completed", "{done}");
    let tries = peer.requests_to("/retry-after/1/b");
    assert_eq!(tries.len(), 2);
    assert!(tries[1].at - tries[0].at >= Duration::from_millis(950));

    // A 404 is not retried; the run fails with the status in its error. A 5xx not named in
    // retry_on is not retried either.
    let missing = json!({"id": "missing", "type": "http_request",
        "config": {"url": peer.url("/status/404")},
        "retry": {"max_attempts": 5, "initial_interval": "10ms"}});
    let done = run(
        &server,
        key,
        workflow("missing", json!([missing])),
        json!({}),
    );
    assert_eq!(done["status"], "failed");
    assert!(
        done["error"].as_str().unwrap().contains("answered 404"),
        "{done}"
    );
    assert_eq!(peer.requests_to("/status/404").len(), 1);
    let only_timeouts = json!({"id": "t", "type": "http_request",
        "config": {"url": peer.url("/fail/9/500/c")},
        "retry": {"max_attempts": 5, "initial_interval": "10ms", "retry_on": ["timeout"]}});
    let done = run(
        &server,
        key,
        workflow("only-timeouts", json!([only_timeouts])),
        json!({}),
    );
    assert_eq!(done["status"], "failed");
    assert_eq!(peer.requests_to("/fail/9/500/c").len(), 1);

    // A form body, and a request that times out (class timeout, retried).
    let form = json!({"id": "form", "type": "http_request",
        "config": {"url": peer.url("/form"), "form": {"a": "b c", "n": 2}}});
    let done = run(&server, key, workflow("form", json!([form])), json!({}));
    assert_eq!(done["status"], "completed", "{done}");
    let r = &peer.requests_to("/form")[0];
    assert_eq!(r.body, b"a=b+c&n=2");
    assert_eq!(
        r.headers["content-type"],
        "application/x-www-form-urlencoded"
    );

    // The guard, with 127.0.0.1 allowed: a redirect from it to the metadata address is refused
    // at the hop, and so is an address the list does not name.
    let hop = json!({"id": "hop", "type": "http_request",
        "config": {"url": peer.url("/redirect?to=http%3A%2F%2F169.254.169.254%2Flatest%2Fmeta-data%2F")},
        "retry": {"max_attempts": 3, "initial_interval": "10ms"}});
    let done = run(&server, key, workflow("hop", json!([hop])), json!({}));
    assert_eq!(done["status"], "failed");
    let error = done["error"].as_str().unwrap();
    assert!(
        error.contains("169.254.169.254") && error.contains("link-local"),
        "{error}"
    );
    assert_eq!(
        peer.requests_to("/redirect").len(),
        1,
        "refusals are not retried"
    );
    let private =
        json!({"id": "private", "type": "http_request", "config": {"url": "http://10.0.0.1/"}});
    let done = run(
        &server,
        key,
        workflow("private", json!([private])),
        json!({}),
    );
    assert!(
        done["error"].as_str().unwrap().contains("private"),
        "{done}"
    );
    drop(server);

    // Without an allow-list, loopback is refused: by address, and by a name resolving to it.
    let dir2 = scratch("http-actions-closed");
    let closed = Server::start_with(&dir2, free_port(), &[("WEIR_ADMIN_KEY", key)]);
    let before = peer.requests().len();
    for (id, url) in [
        ("literal", peer.url("/never")),
        ("name", format!("http://localhost:{}/never", peer.port)),
        (
            "mapped",
            format!("http://[::ffff:127.0.0.1]:{}/never", peer.port),
        ),
        ("decimal", format!("http://2130706433:{}/never", peer.port)),
    ] {
        let s = json!({"id": "s", "type": "http_request", "config": {"url": url}});
        let done = run(&closed, key, workflow(id, json!([s])), json!({}));
        assert_eq!(done["status"], "failed", "{id}: {done}");
        let error = done["error"].as_str().unwrap();
        assert!(
            error.contains("loopback") && error.contains("WEIR_OUTBOUND_ALLOW"),
            "{id}: {error}"
        );
    }
    assert_eq!(peer.requests().len(), before, "nothing reached the peer");
    drop(closed);
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&dir2);
}

/// The forms a secret could leak in: plain, base64 (standard and URL-safe, unpadded) and
/// URL-encoded (both space styles).
fn leaked_forms(secret: &str) -> Vec<String> {
    let out = Command::new("python3")
        .args([
            "-c",
            "import base64,sys,urllib.parse as u; s=sys.argv[1].encode(); print(base64.b64encode(s).decode().rstrip('=')); print(base64.urlsafe_b64encode(s).decode().rstrip('=')); print(u.quote_plus(s)); print(u.quote(s, safe=''))",
            secret,
        ])
        .output()
        .expect("python3");
    let mut forms: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(forms.len(), 4);
    forms.push(secret.to_owned());
    forms
}

#[test]
fn a_secret_never_leaves_the_action_that_uses_it() {
    let peer = Peer::start();
    let dir = scratch("secret-leaks");
    let key = "secret-leaks-root";
    let mut server = Server::start_with(
        &dir,
        free_port(),
        &[
            ("WEIR_ADMIN_KEY", key),
            ("WEIR_OUTBOUND_ALLOW", "127.0.0.1"),
        ],
    );
    let secret = "sk_live_Zq8 very/secret+value";
    let forms = leaked_forms(secret);
    // Stored write-only: the answers never hold the value.
    let (status, stored) = server.with(
        key,
        "POST",
        "/api/v1/secrets",
        Some(json!({"name": "API_TOKEN", "value": secret})),
    );
    assert_eq!(status, 201, "{stored}");
    assert_eq!(stored["name"], "API_TOKEN");
    assert!(stored.get("value").is_none());
    assert_eq!(
        server
            .with(
                key,
                "POST",
                "/api/v1/secrets",
                Some(json!({"name": "API_TOKEN", "value": "other"}))
            )
            .0,
        409
    );
    for bad in [
        json!({"name": "SHORT", "value": "abc"}),
        json!({"name": "bad-name", "value": "abcd"}),
        json!({"name": "N", "value": 12345}),
    ] {
        let (status, answer) = server.with(key, "POST", "/api/v1/secrets", Some(bad));
        assert_eq!(status, 422, "{answer}");
    }
    let missing = json!({"value": "abcd"});
    let (status, _) = server.with(key, "PUT", "/api/v1/secrets/MISSING", Some(missing));
    assert_eq!(status, 404);
    let again = json!({"value": secret});
    let (status, replaced) = server.with(key, "PUT", "/api/v1/secrets/API_TOKEN", Some(again));
    assert_eq!((status, replaced.get("value")), (200, None), "{replaced}");
    // The peer echoes it back in every form.
    peer.answer(
        "/echo-forms",
        200,
        json!({"forms": forms, "note": format!("your token is {secret}")}),
    );
    let steps = json!([
        {"id": "call", "type": "http_request", "config": {
            "url": peer.url("/echo-header/authorization"),
            "auth": {"type": "bearer", "token": "{{secrets.API_TOKEN}}"},
            "query": {"k": "{{secrets.API_TOKEN}}"},
            "body": {"token": "{{secrets.API_TOKEN}}"}}},
        {"id": "forms", "type": "http_request", "config": {"url": peer.url("/echo-forms")}},
        {"id": "keep", "type": "set", "variables": {"copy": "{{secrets.API_TOKEN}}"}},
        {"id": "say", "type": "log", "config": {"message": "using {{secrets.API_TOKEN}}"}},
        {"id": "broken", "type": "http_request", "allow_failure": true,
         "config": {"url": format!("{}?t={{{{secrets.API_TOKEN}}}}", peer.url("/status/404"))}},
        {"id": "mail", "type": "send_email", "config": {"to": "a@example.com", "subject": "t {{secrets.API_TOKEN}}", "body": "token {{secrets.API_TOKEN}}"}},
        {"id": "bell", "type": "notify", "config": {"channel": "in_app", "recipients": ["a@example.com"], "message": "token {{secrets.API_TOKEN}}"}},
        {"id": "rec", "type": "create_record", "config": {"entity_type": "vault", "entity_id": "v1", "data": {"token": "{{secrets.API_TOKEN}}"}}},
        {"id": "note", "type": "add_note", "config": {"entity_type": "vault", "entity_id": "v1", "note": "token {{secrets.API_TOKEN}}"}},
        {"id": "tell", "type": "emit_event", "config": {"event": "token.used", "payload": {"t": "{{secrets.API_TOKEN}}"}}},
        {"id": "check", "type": "condition", "condition": {"field": "steps.call.output.status", "operator": "eq", "value": 200},
         "on_true": "ok", "on_false": "no"},
        {"id": "ok", "type": "action", "action": "allow"},
        {"id": "no", "type": "action", "action": "block", "reason": "the call failed"}
    ]);
    let done = run(
        &server,
        key,
        workflow("uses-secret", steps),
        json!({"order": 1}),
    );
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["decision"], "allow", "{done}");
    // The peer did get the real value: the secret works where it is meant to.
    let got = &peer.requests_to("/echo-header/authorization")[0];
    assert_eq!(got.headers["authorization"], format!("Bearer {secret}"));
    assert!(String::from_utf8_lossy(&got.body).contains(secret));
    // The scrubbed output still says where it was.
    let call_output = step(&done, "call")["output"].to_string();
    assert!(call_output.contains("Bearer ***"), "{call_output}");

    // Everything the API shows.
    let run_id = done["id"].as_str().unwrap();
    let mut shown = Vec::new();
    for path in [
        format!("/api/v1/executions/{run_id}"),
        format!("/api/v1/executions/{run_id}/trace"),
        "/api/v1/executions?limit=500".to_owned(),
        "/api/v1/events?limit=500".to_owned(),
        "/api/v1/audit?limit=500".to_owned(),
        "/api/v1/secrets".to_owned(),
        "/api/v1/secrets/API_TOKEN".to_owned(),
        "/api/v1/workflows/uses-secret".to_owned(),
        "/api/v1/outbox".to_owned(),
        "/api/v1/notifications".to_owned(),
        "/api/v1/records/vault/v1".to_owned(),
    ] {
        let (status, body) = server.with(key, "GET", &path, None);
        assert_eq!(status, 200, "{path}: {body}");
        shown.push((path, body.to_string()));
    }
    let (_, events) = server.with(key, "GET", "/api/v1/events?event_type=token.used", None);
    assert_eq!(events["events"].as_array().unwrap().len(), 1, "{events}");
    // The emitted event started nothing here, but it exists, scrubbed.
    assert_eq!(events["events"][0]["payload"]["t"], "***", "{events}");
    let log = server.stop_and_read_log();
    shown.push(("the server's log".into(), log));
    for (path, bytes) in crate::serve::files_under(&dir) {
        shown.push((
            path.display().to_string(),
            String::from_utf8_lossy(&bytes).into_owned(),
        ));
    }
    for (place, text) in &shown {
        for form in &forms {
            assert!(!text.contains(form.as_str()), "{form} in {place}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Regression: anyone who could deploy a workflow could read a write-only secret through a
/// `code` step (return it reversed: no scrubbing finds that). A secret now goes to code only
/// when its `allowed_actions` name it, and only to the hosts of its `allowed_hosts`, checked
/// on the request itself; conditions compare a secret only for equality.
#[test]
fn a_secret_goes_only_where_its_policy_lets_it() {
    let (allowed, other) = (Peer::start(), Peer::start());
    let dir = scratch("secret-policy");
    let key = "secret-policy-root";
    let server = Server::start_with(
        &dir,
        free_port(),
        &[
            ("WEIR_ADMIN_KEY", key),
            ("WEIR_OUTBOUND_ALLOW", "127.0.0.1"),
        ],
    );
    let put = |method: &str, path: &str, body: Value| server.with(key, method, path, Some(body));
    let hosted = "hosted-Zq8-value";
    let (status, made) = put(
        "POST",
        "/api/v1/secrets",
        json!({"name": "HOSTED", "value": hosted, "allowed_hosts": [format!("127.0.0.1:{}", allowed.port)]}),
    );
    assert_eq!(status, 201, "{made}");
    assert_eq!(
        (&made["allowed_hosts"], &made["allowed_actions"]),
        (
            &json!([format!("127.0.0.1:{}", allowed.port)]),
            &Value::Null
        ),
        "{made}"
    );
    let plain = "plain-Xy7-value";
    assert_eq!(
        put(
            "POST",
            "/api/v1/secrets",
            json!({"name": "PLAIN", "value": plain})
        )
        .0,
        201
    );
    let coded = "coded-Wv6-value";
    assert_eq!(
        put(
            "POST",
            "/api/v1/secrets",
            json!({"name": "CODED", "value": coded, "allowed_actions": ["code"]})
        )
        .0,
        201
    );
    for (bad, path) in [
        (
            json!({"name": "B1", "value": "abcd", "allowed_hosts": ["https://api.example.com/x"]}),
            "$.allowed_hosts[0]",
        ),
        (
            json!({"name": "B2", "value": "abcd", "allowed_hosts": []}),
            "$.allowed_hosts",
        ),
        (
            json!({"name": "B3", "value": "abcd", "allowed_hosts": ["api.example.com:99999"]}),
            "$.allowed_hosts[0]",
        ),
        (
            json!({"name": "B4", "value": "abcd", "allowed_actions": ["no spaces"]}),
            "$.allowed_actions[0]",
        ),
        (
            json!({"name": "B5", "value": "abcd", "allowed_actions": "code"}),
            "$.allowed_actions",
        ),
    ] {
        let (status, answer) = put("POST", "/api/v1/secrets", bad.clone());
        assert_eq!(status, 422, "{bad}: {answer}");
        assert_eq!(answer["error"]["details"][0]["path"], path, "{answer}");
    }
    assert_eq!(put("PUT", "/api/v1/secrets/PLAIN", json!({})).0, 422);
    assert_eq!(
        server.with(key, "GET", "/api/v1/secrets/B1", None).0,
        404,
        "nothing half-made"
    );

    let call = |url: String, secret: &str| {
        json!([{"id": "call", "type": "http_request",
            "config": {"url": url, "headers": {"X-Key": format!("{{{{secrets.{secret}}}}}")}}}])
    };
    // To its host: sent.
    let done = run(
        &server,
        key,
        workflow("to-allowed", call(allowed.url("/in"), "HOSTED")),
        json!({}),
    );
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(allowed.requests_to("/in")[0].headers["x-key"], hosted);
    // To another port of the same address: refused before anything is sent.
    let done = run(
        &server,
        key,
        workflow("to-other", call(other.url("/in"), "HOSTED")),
        json!({}),
    );
    assert_eq!(done["status"], "failed", "{done}");
    let error = step(&done, "call")["error"].to_string();
    assert!(
        error.contains("the secret HOSTED may be sent only to 127.0.0.1:"),
        "{error}"
    );
    assert!(other.requests().is_empty(), "the other host got a request");
    // Nor in a body, nor to an action that sends nothing over HTTP.
    let steps = json!([{"id": "call", "type": "http_request", "config": {"url": other.url("/in"), "method": "POST", "body": {"k": "{{secrets.HOSTED}}"}}}]);
    let done = run(&server, key, workflow("body-to-other", steps), json!({}));
    assert_eq!(done["status"], "failed", "{done}");
    assert!(other.requests().is_empty());
    let steps = json!([{"id": "mail", "type": "send_email", "config": {"to": "a@example.com", "subject": "s", "body": "k {{secrets.HOSTED}}"}}]);
    let done = run(&server, key, workflow("mail-hosted", steps), json!({}));
    assert_eq!(done["status"], "failed", "{done}");
    assert!(
        step(&done, "mail")["error"]
            .to_string()
            .contains("sends nothing over HTTP"),
        "{done}"
    );

    // Code gets no secret its policy does not name, whatever it would do with it.
    let reverse = |secret: &str| {
        json!([{"id": "js", "type": "code", "config": {"code": "return {r: input.k.split('').reverse().join('')};",
            "input": {"k": format!("{{{{secrets.{secret}}}}}")}}}])
    };
    let done = run(
        &server,
        key,
        workflow("code-plain", reverse("PLAIN")),
        json!({}),
    );
    assert_eq!(done["status"], "failed", "{done}");
    let error = step(&done, "js")["error"].to_string();
    assert!(
        error.contains("the secret PLAIN is not handed to code steps"),
        "{error}"
    );
    let steps =
        json!([{"id": "t", "type": "transform", "config": {"output": {"k": "{{secrets.PLAIN}}"}}}]);
    assert_eq!(
        run(&server, key, workflow("transform-plain", steps), json!({}))["status"],
        "failed"
    );
    // One that names code reaches it (its owner chose that).
    let done = run(
        &server,
        key,
        workflow("code-coded", reverse("CODED")),
        json!({}),
    );
    assert_eq!(done["status"], "completed", "{done}");
    let reversed: String = coded.chars().rev().collect();
    assert_eq!(step(&done, "js")["output"]["r"], reversed.as_str());
    // ... and nothing else.
    let done = run(
        &server,
        key,
        workflow("coded-to-http", call(allowed.url("/coded"), "CODED")),
        json!({}),
    );
    assert_eq!(done["status"], "failed", "{done}");
    assert!(
        step(&done, "call")["error"]
            .to_string()
            .contains("may be used only by code actions"),
        "{done}"
    );
    assert!(allowed.requests_to("/coded").is_empty());

    // A condition cannot find a secret out piece by piece.
    let steps = json!([{"id": "c", "type": "condition",
        "condition": {"field": "guess", "operator": "gt", "value": "{{secrets.PLAIN}}"}, "on_true": "a", "on_false": "a"},
        {"id": "a", "type": "action", "action": "allow"}]);
    let (status, answer) = put("POST", "/api/v1/workflows", workflow("oracle", steps));
    assert_eq!(status, 422, "{answer}");
    assert!(
        answer
            .to_string()
            .contains("a secret is compared only with eq"),
        "{answer}"
    );

    // Lifting the restriction (null) lets it go anywhere again; the value is kept.
    let (status, lifted) = put(
        "PUT",
        "/api/v1/secrets/HOSTED",
        json!({"allowed_hosts": null}),
    );
    assert_eq!(
        (status, &lifted["allowed_hosts"]),
        (200, &Value::Null),
        "{lifted}"
    );
    let done = run(
        &server,
        key,
        workflow("to-other-now", call(other.url("/now"), "HOSTED")),
        json!({}),
    );
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(other.requests_to("/now")[0].headers["x-key"], hosted);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Regression: `database_query` validated and was documented, but every run failed with "has no
/// implementation in this build yet".
#[test]
fn database_query_reads_the_record_store_instead_of_failing_every_run() {
    let dir = scratch("database-query");
    let key = "database-query-root";
    let server = Server::start_with(&dir, free_port(), &[("WEIR_ADMIN_KEY", key)]);
    let record = |id: &str, t: &str, data: Value| {
        json!({"id": format!("w{id}"), "type": "create_record",
            "config": {"entity_type": t, "entity_id": id, "data": data}})
    };
    let writes = json!([
        record(
            "c-1",
            "customer",
            json!({"tier": "gold", "region": "eu", "orders": 3})
        ),
        record(
            "c-2",
            "customer",
            json!({"tier": "silver", "region": "eu", "orders": 1})
        ),
        record(
            "c-3",
            "customer",
            json!({"tier": "gold", "region": "us", "orders": 3.0, "vip": null})
        ),
        record("v-1", "vendor", json!({"tier": "gold"})),
    ]);
    let done = run(&server, key, workflow("writes", writes), json!({}));
    assert_eq!(done["status"], "completed", "{done}");

    let query =
        |id: &str, config: Value| json!({"id": id, "type": "database_query", "config": config});
    let steps = json!([
        query("gold", json!({"entity_type": "customer", "where": {"tier": "{{tier}}"}})),
        query("gold_eu", json!({"entity_type": "customer", "where": {"tier": "gold", "region": "eu"}, "output_format": "object"})),
        query("three", json!({"entity_type": "customer", "where": {"orders": 3}})),
        query("first", json!({"entity_type": "customer", "limit": 1})),
        query("by_id", json!({"entity_type": "customer", "entity_id": "c-2", "output_format": "object"})),
        query("no_vip", json!({"entity_type": "customer", "where": {"vip": null}})),
        query("none", json!({"entity_type": "customer", "where": {"tier": "platinum"}, "output_format": "object"})),
        {"id": "check", "type": "condition", "condition": {"field": "steps.gold.output.count", "operator": "eq", "value": 2},
         "on_true": "ok", "on_false": "no"},
        {"id": "ok", "type": "action", "action": "allow"},
        {"id": "no", "type": "action", "action": "block", "reason": "not two gold customers"}
    ]);
    let reads = workflow("reads", steps);
    let done = run(&server, key, reads.clone(), json!({"tier": "gold"}));
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["decision"], "allow", "{done}");
    let ids = |step_id: &str| -> Vec<Value> {
        let out = &step(&done, step_id)["output"];
        out["records"]
            .as_array()
            .unwrap_or_else(|| panic!("{step_id}: {out}"))
            .iter()
            .map(|r| r["entity_id"].clone())
            .collect()
    };
    assert_eq!(ids("gold"), [json!("c-1"), json!("c-3")]);
    assert_eq!(
        ids("three"),
        [json!("c-1"), json!("c-3")],
        "3 and 3.0 are one number"
    );
    assert_eq!(ids("first"), [json!("c-1")]);
    assert_eq!(ids("no_vip"), [json!("c-1"), json!("c-2"), json!("c-3")]);
    let gold = &step(&done, "gold")["output"]["records"][1];
    assert_eq!(gold["entity_type"], "customer");
    assert_eq!(gold["fields"]["region"], "us");
    let gold_eu = &step(&done, "gold_eu")["output"];
    assert_eq!(
        (
            gold_eu["found"].clone(),
            gold_eu["record"]["entity_id"].clone()
        ),
        (json!(true), json!("c-1"))
    );
    assert_eq!(
        step(&done, "by_id")["output"]["record"]["fields"]["tier"],
        "silver"
    );
    assert_eq!(
        step(&done, "none")["output"],
        json!({"found": false, "record": null})
    );

    // Another tenant's runs read their own records only.
    let (status, other) = server.with(
        key,
        "POST",
        "/api/v1/tenants",
        Some(json!({"name": "Other"})),
    );
    assert_eq!(status, 201, "{other}");
    let (status, made) = server.with(key, "POST", "/api/v1/api-keys",
        Some(json!({"tenant_id": other["id"], "environment": "production", "role": "admin", "name": "other"})));
    assert_eq!(status, 201, "{made}");
    let done = run(
        &server,
        made["key"].as_str().unwrap(),
        reads,
        json!({"tier": "gold"}),
    );
    assert_eq!(done["decision"], "block", "{done}");
    assert_eq!(step(&done, "gold")["output"]["count"], 0, "{done}");

    // It reads: a config that asks for a write, or another database, is refused at deploy.
    for config in [
        json!({"entity_type": "customer", "action": "delete"}),
        json!({"entity_type": "customer", "connection": "postgres://db/app"}),
        json!({"query": "SELECT * FROM customers"}),
    ] {
        let bad = workflow("bad-query", json!([query("q", config.clone())]));
        let (status, answer) = server.with(key, "POST", "/api/v1/workflows", Some(bad));
        assert_eq!(status, 422, "{config}: {answer}");
    }
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A real SMTP server (aiosmtpd, from PyPI) on 127.0.0.1 that requires AUTH (user `weir`,
/// password `mail-pass`) and writes each message it receives to a file in `dir`.
pub(crate) struct Smtp {
    child: std::process::Child,
    pub(crate) port: u16,
    dir: std::path::PathBuf,
}

impl Smtp {
    pub(crate) fn start(dir: &std::path::Path) -> Smtp {
        std::fs::create_dir_all(dir).unwrap();
        let port = free_port();
        let script = r#"
import asyncio, sys, os, uuid
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
class Save:
    async def handle_DATA(self, server, session, envelope):
        name = os.path.join(sys.argv[2], uuid.uuid4().hex + ".eml")
        with open(name + ".tmp", "wb") as f:
            f.write(b"X-Rcpt: " + ",".join(envelope.rcpt_tos).encode() + b"\r\n" + envelope.content)
        os.rename(name + ".tmp", name)
        return "250 OK"
def auth(server, session, envelope, mechanism, data):
    ok = isinstance(data, LoginPassword) and data.login == b"weir" and data.password == b"mail-pass"
    return AuthResult(success=ok)
c = Controller(Save(), hostname="127.0.0.1", port=int(sys.argv[1]), authenticator=auth,
               auth_required=True, auth_require_tls=False)
c.start()
print("ready", flush=True)
sys.stdin.read()
"#;
        let mut child = Command::new("python3")
            .args(["-c", script, &port.to_string()])
            .arg(dir)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .expect("python3");
        let mut line = String::new();
        use std::io::BufRead;
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(
            line.trim(),
            "ready",
            "aiosmtpd did not start: install it with `pip install aiosmtpd==1.4.6` (.ci/run does)"
        );
        Smtp {
            child,
            port,
            dir: dir.to_owned(),
        }
    }

    /// A real SMTP server in `dir/smtp`, and `weir serve` on `dir/data` (admin key `key`)
    /// sending mail through it.
    pub(crate) fn serve(dir: &std::path::Path, key: &str) -> (Smtp, Server) {
        let smtp = Smtp::start(&dir.join("smtp"));
        let smtp_url = format!("smtp://weir:mail-pass@127.0.0.1:{}", smtp.port);
        let server = Server::start_with(
            &dir.join("data"),
            free_port(),
            &[
                ("WEIR_ADMIN_KEY", key),
                ("WEIR_SMTP_URL", &smtp_url),
                ("WEIR_SMTP_FROM", "Weir <weir@example.com>"),
            ],
        );
        (smtp, server)
    }

    /// The messages received so far, as text.
    pub(crate) fn messages(&self) -> Vec<String> {
        let mut out: Vec<String> = std::fs::read_dir(&self.dir)
            .unwrap()
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
            .map(|e| std::fs::read_to_string(e.path()).unwrap())
            .collect();
        out.sort();
        out
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn email_notifications_and_records_reach_real_peers() {
    let dir = scratch("mail-actions");
    let key = "mail-actions-root";
    let (smtp, server) = Smtp::serve(&dir, key);
    let template = json!({"name": "order_approval_required",
        "subject": "Order {{order_id}} needs approval",
        "text": "Hello {{name}}, order {{order_id}} waits for you.",
        "html": "<p>Hello {{name}}, order <b>{{order_id}}</b> waits.</p>"});
    let (status, stored) = server.with(key, "POST", "/api/v1/email-templates", Some(template));
    assert_eq!(status, 201, "{stored}");
    let bad = json!({"name": "broken", "subject": "x {{", "text": "y"});
    assert_eq!(
        server
            .with(key, "POST", "/api/v1/email-templates", Some(bad))
            .0,
        422
    );
    let user =
        json!({"email": "ops@example.com", "password": "operator password", "role": "operator"});
    let (status, ops) = server.with(key, "POST", "/api/v1/users", Some(user));
    assert_eq!(status, 201, "{ops}");
    let ops_id = ops["id"].as_str().unwrap().to_owned();

    let steps = json!([
        {"id": "templated", "type": "send_email", "config": {"to": "buyer@example.com", "cc": ["cc@example.com"],
            "template": "order_approval_required", "variables": {"name": "<Ana>", "order_id": "{{order.id}}"}}},
        {"id": "plain", "type": "send_email", "config": {"to": ["a@example.com", "b@example.com"],
            "subject": "Total {{order.total}}", "body": "The order {{order.id}} came in."}},
        {"id": "managers", "type": "notify", "config": {"channel": "email", "recipients": ["role:operator"],
            "subject": "Approve {{order.id}}", "message": "Order {{order.id}} needs you"}},
        {"id": "bell", "type": "notify", "config": {"channel": "in_app", "recipients": ["role:sales_manager", "x@example.com"],
            "message": "Order {{order.id}} is waiting", "link": "/orders/{{order.id}}"}},
        {"id": "byid", "type": "notify", "config": {"channel": "in_app", "recipients": ["{{ops}}"], "message": "For you"}},
        {"id": "seed004", "type": "send_notification", "config": {"recipient": "x@example.com", "message": "second", "notification_type": "push"}},
        {"id": "customer", "type": "create_record", "config": {"entity_type": "customer", "entity_id": "c-{{order.id}}", "data": {"tier": "gold", "orders": 1}}},
        {"id": "field", "type": "update_field", "config": {"entity_type": "customer", "entity_id": "c-{{order.id}}", "field": "orders", "value": 2}},
        {"id": "more", "type": "update_record", "config": {"entity_type": "customer", "entity_id": "c-{{order.id}}", "data": {"region": "eu"}}},
        {"id": "note", "type": "add_note", "config": {"entity_type": "customer", "entity_id": "c-{{order.id}}", "note": "Big order {{order.id}}"}},
        {"id": "task", "type": "create_task", "config": {"title": "Call about {{order.id}}", "assignee": "ops@example.com", "priority": "high",
            "entity_type": "customer", "entity_id": "c-{{order.id}}"}},
        {"id": "ok", "type": "action", "action": "allow"}
    ]);
    let done = run(
        &server,
        key,
        workflow("mail", steps),
        json!({"order": {"id": "42", "total": 990}, "ops": ops_id}),
    );
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(
        step(&done, "templated")["output"]["status"],
        "sent",
        "{done}"
    );

    // The SMTP server got three messages, rendered.
    let mail = smtp.messages();
    assert_eq!(mail.len(), 3, "{mail:#?}");
    let find = |needle: &str| {
        mail.iter()
            .find(|m| m.contains(needle))
            .unwrap_or_else(|| panic!("no message with {needle}: {mail:#?}"))
    };
    let templated = find("Subject: Order 42 needs approval");
    assert!(
        templated.contains("X-Rcpt: buyer@example.com,cc@example.com"),
        "{templated}"
    );
    assert!(
        templated.contains("From: Weir <weir@example.com>"),
        "{templated}"
    );
    assert!(
        templated.contains("Hello <Ana>, order 42 waits for you."),
        "{templated}"
    );
    assert!(
        templated.contains("&lt;Ana&gt;") && !templated.contains("<p>Hello <Ana>"),
        "HTML escapes: {templated}"
    );
    let plain = find("Subject: Total 990");
    assert!(
        plain.contains("X-Rcpt: a@example.com,b@example.com"),
        "{plain}"
    );
    assert!(plain.contains("The order 42 came in."), "{plain}");
    let managers = find("Subject: Approve 42");
    assert!(
        managers.contains("X-Rcpt: ops@example.com"),
        "role:operator is the operators: {managers}"
    );

    let (_, outbox) = server.with(key, "GET", "/api/v1/outbox?status=sent", None);
    assert_eq!(outbox["emails"].as_array().unwrap().len(), 3, "{outbox}");

    // In-app: a role nobody has is kept as the recipient; a push is in-app.
    let (_, bell) = server.with(
        key,
        "GET",
        "/api/v1/notifications?recipient=x%40example.com",
        None,
    );
    let list = bell["notifications"].as_array().unwrap();
    assert_eq!(list.len(), 2, "{bell}");
    assert_eq!(list[1]["link"], "/orders/42");
    let (_, role) = server.with(
        key,
        "GET",
        "/api/v1/notifications?recipient=role%3Asales_manager",
        None,
    );
    assert_eq!(role["notifications"].as_array().unwrap().len(), 1, "{role}");
    let id = list[0]["id"].as_str().unwrap();
    let (status, read) = server.with(
        key,
        "POST",
        &format!("/api/v1/notifications/{id}/read"),
        None,
    );
    assert_eq!(status, 200);
    assert!(read["read_at"].is_string(), "{read}");
    let (_, unread) = server.with(
        key,
        "GET",
        "/api/v1/notifications?recipient=x%40example.com&unread=true",
        None,
    );
    assert_eq!(unread["notifications"].as_array().unwrap().len(), 1);

    // A user's id stands for its email; signed in, the user sees its own notifications.
    let (_, _, login) = server.exchange(
        "POST",
        "/api/v1/auth/login",
        &[("Content-Type", "application/json".to_owned())],
        json!({"email": "ops@example.com", "password": "operator password"})
            .to_string()
            .as_bytes(),
    );
    let token = login["token"].as_str().unwrap().to_owned();
    let (_, mine) = server.with(&token, "GET", "/api/v1/notifications", None);
    let mine = mine["notifications"].as_array().unwrap();
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert_eq!(
        (&mine[0]["recipient"], &mine[0]["message"]),
        (&json!("ops@example.com"), &json!("For you"))
    );
    let other = list[0]["id"].as_str().unwrap();
    let (status, _) = server.with(
        &token,
        "POST",
        &format!("/api/v1/notifications/{other}/read"),
        None,
    );
    assert_eq!(
        status, 404,
        "another recipient's notification is not the user's"
    );

    // The record, merged, with its note; the task.
    let (status, customer) = server.with(key, "GET", "/api/v1/records/customer/c-42", None);
    assert_eq!(status, 200, "{customer}");
    assert_eq!(
        customer["fields"],
        json!({"tier": "gold", "orders": 2, "region": "eu"})
    );
    assert_eq!(customer["notes"][0]["note"], "Big order 42");
    let (_, tasks) = server.with(key, "GET", "/api/v1/records/task", None);
    let task = &tasks["records"][0]["fields"];
    assert_eq!(
        (&task["title"], &task["status"], &task["priority"]),
        (&json!("Call about 42"), &json!("open"), &json!("high"))
    );
    // Running it again finds the record: create_record refuses to overwrite it.
    let (_, again) = server.with(key, "POST", "/api/v1/events",
        Some(json!({"event_type": "mail.go", "payload": {"order": {"id": "42", "total": 1}, "ops": ops_id}, "timeout_ms": 0})));
    let again_id = again["executions"][0]["execution_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let again = poll(
        &server,
        key,
        &format!("/api/v1/executions/{again_id}"),
        |e| e["status"] != "running" && e["status"] != "pending",
    );
    assert_eq!(again["status"], "failed", "{again}");
    assert!(
        again["error"].as_str().unwrap().contains("exists"),
        "{again}"
    );
    drop(server);

    // Without SMTP, mail stays in the outbox: kept, listed, not sent.
    let before = smtp.messages().len();
    let quiet = Server::start_with(&dir.join("data2"), free_port(), &[("WEIR_ADMIN_KEY", key)]);
    let steps = json!([{"id": "m", "type": "send_email", "config": {"to": "z@example.com", "subject": "Kept", "body": "hello"}}]);
    let done = run(&quiet, key, workflow("kept", steps), json!({}));
    assert_eq!(done["status"], "completed", "{done}");
    let (_, outbox) = quiet.with(key, "GET", "/api/v1/outbox", None);
    assert_eq!(outbox["emails"][0]["status"], "outbox", "{outbox}");
    assert_eq!(outbox["emails"][0]["message"]["subject"], "Kept");
    assert_eq!(smtp.messages().len(), before);
    drop(quiet);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A shipped connector definition with its base URL pointed at `base`.
fn shipped_connector(name: &str, base: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../../connectors/{name}.json"));
    let mut def: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    def["base_url"] = json!(base);
    def
}

#[test]
fn connectors_run_seed_002_uc1_against_a_billing_service() {
    let peer = Peer::start();
    peer.answer(
        "/billing/subscriptions",
        201,
        json!({"id": "sub_123", "status": "active"}),
    );
    peer.answer(
        "/billing/wallets",
        201,
        json!({"id": "wal_9", "balance": 100}),
    );
    peer.answer(
        "/oauth/token",
        200,
        json!({"access_token": "tok-1", "token_type": "bearer", "expires_in": 3600}),
    );
    peer.answer("/ship/orders", 200, json!({"tracking": "TRK1"}));
    let dir = scratch("connectors");
    let key = "connectors-root";
    let server = Server::start_with(
        &dir,
        free_port(),
        &[
            ("WEIR_ADMIN_KEY", key),
            ("WEIR_OUTBOUND_ALLOW", "127.0.0.1"),
        ],
    );
    let post = |path: &str, body: Value| server.with(key, "POST", path, Some(body));
    assert_eq!(
        post(
            "/api/v1/secrets",
            json!({"name": "BILLING_TOKEN", "value": "bill-token-1"})
        )
        .0,
        201
    );
    let (status, billing) = post(
        "/api/v1/connectors",
        shipped_connector("billing", &peer.url("/billing")),
    );
    assert_eq!(status, 201, "{billing}");
    assert!(
        billing["actions"]
            .as_array()
            .unwrap()
            .contains(&json!("assign_plan"))
    );
    let (status, dup) = post(
        "/api/v1/connectors",
        shipped_connector("billing", &peer.url("/billing")),
    );
    assert_eq!(status, 409, "{dup}");
    let mut bad = shipped_connector("billing", "ftp://nowhere");
    bad["name"] = json!("other");
    let (status, refused) = post("/api/v1/connectors", bad);
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["error"]["details"][0]["path"], "$.base_url");

    // The flat body of a billing use case as written, then its manual trigger with trigger_data.
    let uc1: Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../examples/seeds/002-uc1-onboarding.workflow.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let (status, stored) = post("/api/v1/workflows/definitions", uc1);
    assert_eq!(status, 201, "{stored}");
    let id = stored["id"].as_str().unwrap().to_owned();
    let (status, started) = post(
        &format!("/api/v1/workflows/definitions/{id}/trigger"),
        json!({"trigger_data": {"customer_id": "cust_123"}}),
    );
    assert_eq!(status, 202, "{started}");
    let run_id = started["execution_id"].as_str().unwrap().to_owned();
    let done = poll(
        &server,
        key,
        &format!("/api/v1/workflows/executions/{run_id}"),
        |e| matches!(e["status"].as_str(), Some("completed" | "failed")),
    );
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(
        step(&done, "step_1")["output"]["subscription_id"],
        "sub_123",
        "{done}"
    );
    assert_eq!(
        step(&done, "step_2")["output"]["wallet_id"],
        "wal_9",
        "{done}"
    );
    let sub = &peer.requests_to("/billing/subscriptions")[0];
    assert_eq!(sub.method, "POST");
    assert_eq!(sub.headers["authorization"], "Bearer bill-token-1");
    assert_eq!(sub.json()["customer_id"], "cust_123");
    assert_eq!(sub.json()["plan_id"], "plan_starter");
    let wallet = &peer.requests_to("/billing/wallets")[0];
    assert_eq!(wallet.json()["initial_credits"], 100);
    assert!(!done.to_string().contains("bill-token-1"));

    // A new action type: unknown before its connector, then checked against its schema.
    let shipping = json!({"name": "shipping", "base_url": peer.url("/ship"),
        "auth": {"type": "oauth2", "token_url": peer.url("/oauth/token"), "client_id": "weir", "client_secret": "SHIP_SECRET", "scope": "orders"},
        "actions": {"ship_order": {
            "config_schema": {"type": "object", "required": ["order_id"], "additionalProperties": false,
                              "properties": {"order_id": {"type": "string"}, "express": {"type": "boolean"}}},
            "request": {"method": "POST", "path": "/orders", "body": {"order": "{{input.order_id}}", "express": "{{input.express}}"}},
            "output": {"tracking": "{{response.body.tracking}}"}}}});
    let ship = |config: Value| {
        json!({"workflow_id": "ship", "trigger": {"type": "event", "event": "ship.go"}, "steps": [
            {"id": "first", "type": "ship_order", "config": config.clone()},
            {"id": "second", "type": "ship_order", "config": config}]})
    };
    let (status, unknown) = post("/api/v1/workflows", ship(json!({"order_id": "o1"})));
    assert_eq!(status, 422, "{unknown}");
    assert_eq!(
        post(
            "/api/v1/secrets",
            json!({"name": "SHIP_SECRET", "value": "client-secret-9"})
        )
        .0,
        201
    );
    assert_eq!(post("/api/v1/connectors", shipping).0, 201);
    let (status, invalid) = post("/api/v1/workflows", ship(json!({"order": "o1"})));
    assert_eq!(status, 422, "the connector's schema: {invalid}");
    let done = run(
        &server,
        key,
        ship(json!({"order_id": "o1", "express": true})),
        json!({}),
    );
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(step(&done, "second")["output"]["tracking"], "TRK1");
    // One token for both calls: cached.
    let tokens = peer.requests_to("/oauth/token");
    assert_eq!(tokens.len(), 1);
    let form = String::from_utf8_lossy(&tokens[0].body).into_owned();
    assert!(
        form.contains("grant_type=client_credentials")
            && form.contains("client_id=weir")
            && form.contains("scope=orders"),
        "{form}"
    );
    let calls = peer.requests_to("/ship/orders");
    assert_eq!(calls.len(), 2);
    assert!(
        calls
            .iter()
            .all(|c| c.headers["authorization"] == "Bearer tok-1")
    );
    assert_eq!(calls[0].json(), json!({"order": "o1", "express": true}));
    // In use: the connector cannot be deleted.
    assert_eq!(
        server
            .with(key, "DELETE", "/api/v1/connectors/shipping", None)
            .0,
        409
    );

    // A connector's action overrides the built-in of its name: update_field goes to the CRM.
    assert_eq!(
        post(
            "/api/v1/secrets",
            json!({"name": "CRM_API_KEY", "value": "crm-key-7"})
        )
        .0,
        201
    );
    assert_eq!(
        post(
            "/api/v1/connectors",
            shipped_connector("crm", &peer.url("/crm"))
        )
        .0,
        201
    );
    let steps = json!([{"id": "f", "type": "update_field", "config": {"entity_type": "customer", "entity_id": "c1", "field": "tier", "value": "gold"}}]);
    let done = run(&server, key, workflow("crm", steps), json!({}));
    assert_eq!(done["status"], "completed", "{done}");
    let patch = &peer.requests_to("/crm/customers/c1")[0];
    assert_eq!(
        (patch.method.as_str(), patch.headers["x-api-key"].as_str()),
        ("PATCH", "crm-key-7")
    );
    assert_eq!(patch.json(), json!({"field": "tier", "value": "gold"}));
    assert_eq!(
        server
            .with(key, "GET", "/api/v1/records/customer/c1", None)
            .0,
        404
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

/// One line of /proc/PID/status, in KiB.
fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// Anonymous memory (the heap; not the binary's pages or mapped files) once the process is
/// quiet: the least of ten readings a tenth of a second apart. The allocator takes and gives
/// back pages as runs come and go (RSS moved by ±10 MB between single readings while the
/// machine was busy); a leak raises the least reading too.
fn steady_anon_kib(pid: u32) -> u64 {
    (0..10)
        .map(|_| {
            std::thread::sleep(Duration::from_millis(100));
            status_kib(pid, "RssAnon")
        })
        .min()
        .unwrap()
}

/// Counts a workflow's executions in a status, page by page.
fn count(server: &Server, key: &str, workflow_id: &str, status: &str) -> usize {
    let mut n = 0;
    let mut cursor: Option<String> = None;
    loop {
        let mut path =
            format!("/api/v1/executions?workflow_id={workflow_id}&status={status}&limit=500");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let (_, page) = server.with(key, "GET", &path, None);
        n += page["executions"].as_array().map_or(0, Vec::len);
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return n,
        }
    }
}

#[test]
fn scripts_transform_data_and_hostile_code_is_contained() {
    let dir = scratch("scripts");
    let key = "scripts-root";
    // The allocator gives freed pages back at once, so RSS says what is live, not what the
    // allocator keeps for later (which swung it by ±20 MB between readings on a busy machine).
    let server = Server::start_with(
        &dir,
        free_port(),
        &[("WEIR_ADMIN_KEY", key), ("MIMALLOC_PURGE_DELAY", "0")],
    );
    let order = json!({"order": {"id": "o1", "items": [
        {"sku": "a", "price": 10, "quantity": 2, "hidden": true},
        {"sku": "b", "price": 5, "quantity": 0}]}});

    // JavaScript over the run's context; the answer is the step's output, and steps after it
    // read it.
    let steps = json!([
        {"id": "calc", "type": "code", "config": {"language": "javascript",
            "code": "const t = input.order.items.reduce((s, i) => s + i.price * i.quantity, 0); return {total: t, n: input.order.items.length};"}},
        {"id": "seed003", "type": "transform_data", "config": {"operation": "map",
            "expression": "items.map(i => ({ sku: i.sku, line_total: i.price * i.quantity }))",
            "input_mapping": {"items": "{{order.items}}"}, "output_mapping": {"line_totals": "result"}}},
        {"id": "mapped", "type": "transform", "config": {"operation": "map", "items": "{{order.items}}", "fields": {"code": "sku", "qty": "quantity"}}},
        {"id": "kept", "type": "transform", "config": {"operation": "filter", "items": "{{order.items}}",
            "where": {"field": "quantity", "operator": "gt", "value": 0}}},
        {"id": "shaped", "type": "transform", "config": {"output": {"order": "{{order.id}}", "total": "{{steps.calc.output.total}}"}}},
        {"id": "check", "type": "condition", "condition": {"field": "steps.calc.output.total", "operator": "eq", "value": 20},
         "on_true": "ok", "on_false": "no"},
        {"id": "ok", "type": "action", "action": "allow"},
        {"id": "no", "type": "action", "action": "block", "reason": "wrong total"}
    ]);
    let done = run(&server, key, workflow("js", steps), order.clone());
    assert_eq!(
        (&done["status"], &done["decision"]),
        (&json!("completed"), &json!("allow")),
        "{done}"
    );
    assert_eq!(step(&done, "calc")["output"], json!({"total": 20, "n": 2}));
    assert_eq!(
        step(&done, "seed003")["output"]["line_totals"],
        json!([{"sku": "a", "line_total": 20}, {"sku": "b", "line_total": 0}])
    );
    assert_eq!(
        step(&done, "mapped")["output"]["items"],
        json!([{"code": "a", "qty": 2}, {"code": "b", "qty": 0}])
    );
    assert_eq!(step(&done, "kept")["output"]["count"], 1);
    assert_eq!(
        step(&done, "shaped")["output"],
        json!({"order": "o1", "total": 20})
    );

    // Hostile scripts: each fails its step with a clear error naming the limit it hit (the
    // loop's is the step's own 300 ms, not the default).
    let hostile = [
        ("loop", "while (true) {}", "longer than its limit of 0.3 s"),
        (
            "bomb",
            "let a = []; while (true) { a.push('x'.repeat(1 << 16)); }",
            "memory limit",
        ),
        (
            "deep",
            "function f(n) { return f(n + 1) + 1; } return f(0);",
            "stack limit",
        ),
        (
            "escape",
            "return ({}).constructor.constructor('return process')().env;",
            "process is not defined",
        ),
        (
            "require",
            "return require('child_process');",
            "require is not defined",
        ),
        (
            "fetch",
            "return fetch('http://169.254.169.254/');",
            "fetch is not defined",
        ),
        (
            "deno",
            "return Deno.readTextFileSync('/etc/passwd');",
            "Deno is not defined",
        ),
        ("import", "return import('fs');", "returned a promise"),
        (
            "pollute",
            "Object.prototype.isAdmin = true; Array.prototype.map = null; return 1;",
            "",
        ),
        (
            "clean",
            "return [({}).isAdmin === undefined, typeof [].map];",
            "",
        ),
    ];
    for (name, code, error) in hostile {
        let steps = json!([{"id": "s", "type": "code", "config": {"code": code, "timeout": "300ms", "memory_limit_mb": 16}}]);
        let done = run(
            &server,
            key,
            workflow(&format!("h-{name}"), steps),
            json!({}),
        );
        if error.is_empty() {
            assert_eq!(done["status"], "completed", "{name}: {done}");
            continue;
        }
        assert_eq!(done["status"], "failed", "{name}: {done}");
        let message = done["error"].as_str().unwrap();
        assert!(message.contains(error), "{name}: {message}");
    }
    let clean = run(
        &server,
        key,
        workflow(
            "h-clean2",
            json!([{"id": "s", "type": "code", "config": {"code": "return [({}).isAdmin === undefined, typeof [].map];"}}]),
        ),
        json!({}),
    );
    assert_eq!(
        step(&clean, "s")["output"],
        json!([true, "function"]),
        "a run after the pollution is clean"
    );

    // Three thousand hostile runs: the server stays up and its memory stays at its level.
    let bombs = json!({"workflow_id": "bombs", "trigger": {"type": "event", "event": "bombs.go"}, "steps": [
        {"id": "pick", "type": "switch", "value": "{{kind}}", "cases": [
            {"when": "loop", "next": "loop"}, {"when": "bomb", "next": "bomb"}, {"when": "deep", "next": "deep"}],
         "default": "escape"},
        {"id": "loop", "type": "code", "end": true, "config": {"code": "while (true) {}", "timeout": "20ms"}},
        {"id": "bomb", "type": "code", "end": true, "config": {"code": "let a = []; while (true) { a.push('x'.repeat(1 << 16)); }", "memory_limit_mb": 8}},
        {"id": "deep", "type": "code", "end": true, "config": {"code": "function f(n) { return f(n + 1) + 1; } return f(0);"}},
        {"id": "escape", "type": "code", "end": true, "config": {"code": "return this.constructor.constructor('return process')();"}}
    ]});
    let (status, stored) = server.with(key, "POST", "/api/v1/workflows", Some(bombs));
    assert_eq!(status, 201, "{stored}");
    let kinds = ["loop", "bomb", "deep", "escape"];
    let send = |from: usize, to: usize| {
        for i in from..to {
            let event = json!({"event_type": "bombs.go", "payload": {"kind": kinds[i % 4]}, "timeout_ms": 0});
            assert_eq!(
                server.with(key, "POST", "/api/v1/events", Some(event)).0,
                200
            );
        }
    };
    let settle = |n: usize| {
        let deadline = std::time::Instant::now() + Duration::from_secs(300);
        while count(&server, key, "bombs", "failed") < n {
            assert!(
                std::time::Instant::now() < deadline,
                "the runs did not finish"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    // The first two thousand fill what fills once (SQLite's page caches, the allocator's
    // pages in each blocking thread the runs were spread over, the warm runtimes: under a
    // busy machine one thousand was not always enough). Then two thousands more: a leak adds
    // to each of them, while a cache that fills late (SQLite's, as the database grows) adds
    // once, as the jump of 16.7 MB (VmRSS) in one thousand under the whole suite once was.
    send(0, 1000);
    settle(1000);
    let warm = steady_anon_kib(server.pid());
    send(1000, 2000);
    settle(2000);
    let baseline = steady_anon_kib(server.pid());
    send(2000, 3000);
    settle(3000);
    let third = steady_anon_kib(server.pid());
    send(3000, 4000);
    settle(4000);
    let fourth = steady_anon_kib(server.pid());
    assert_eq!(count(&server, key, "bombs", "completed"), 0);
    assert_eq!(server.call("GET", "/health", None, None, b"").0, 200);
    eprintln!(
        "Anonymous RSS after 1,000 hostile runs: {warm} KiB; 2,000: {baseline} KiB; 3,000: {third} KiB; 4,000: {fourth} KiB"
    );
    let grew = |from: u64, to: u64| to.saturating_sub(from);
    assert!(
        grew(baseline, third).min(grew(third, fourth)) <= 8 * 1024
            && fourth <= baseline + 24 * 1024,
        "anonymous RSS grew in each thousand runs: {baseline} -> {third} -> {fourth} KiB"
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_approval_request_from_a_decision_is_decided_and_a_wait_hears_it() {
    let dir = scratch("approval-requests");
    let key = "approval-requests-root";
    let server = Server::start_with(&dir, free_port(), &[("WEIR_ADMIN_KEY", key)]);
    let example = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../examples/order-approval.workflow.json"),
    )
    .unwrap();
    let example: Value = serde_json::from_str(&example).unwrap();
    assert_eq!(
        server
            .with(key, "POST", "/api/v1/workflows", Some(example))
            .0,
        201
    );
    // A run that waits for the decision on its order.
    let waiter = json!({"workflow_id": "fulfil", "trigger": {"type": "event", "event": "order.checkout.initiated"}, "steps": [
        {"id": "wait_for_approval", "type": "wait", "event": "approval.decision",
         "match": {"field": "entity_id", "operator": "eq", "value": "{{order.id}}"}, "timeout": "1h", "on_timeout": "give_up"},
        {"id": "decided", "type": "condition", "condition": {"field": "steps.wait_for_approval.output.approved", "operator": "eq", "value": true},
         "on_true": "ship", "on_false": "give_up"},
        {"id": "ship", "type": "set", "variables": {"shipped": true}, "end": true},
        {"id": "give_up", "type": "set", "variables": {"shipped": false}}
    ]});
    assert_eq!(
        server
            .with(key, "POST", "/api/v1/workflows", Some(waiter))
            .0,
        201
    );
    let (status, sent) = server.with(key, "POST", "/api/v1/events", Some(json!({
        "event_type": "order.checkout.initiated", "payload": {"order": {"id": "ord_77", "total": 15000}}})));
    assert_eq!(status, 200, "{sent}");
    assert_eq!(sent["decision"], "block", "{sent}");

    // The request is there, linked to the blocking run; the sales managers were told in-app.
    let pending = poll(
        &server,
        key,
        "/api/v1/approvals?entity=order&entity_id=ord_77",
        |v| v["approvals"].as_array().is_some_and(|a| !a.is_empty()),
    );
    let approval = &pending["approvals"][0];
    assert_eq!(approval["status"], "pending", "{pending}");
    assert_eq!(approval["approver_role"], "sales_manager");
    assert_eq!(approval["step_id"], "require_approval");
    let blocker = sent["executions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["workflow_id"] == "high_value_order_approval")
        .unwrap();
    assert_eq!(approval["execution_id"], blocker["execution_id"]);
    let (_, told) = server.with(
        key,
        "GET",
        "/api/v1/notifications?recipient=role%3Asales_manager",
        None,
    );
    assert_eq!(
        told["notifications"][0]["message"], "Order ord_77 requires approval",
        "{told}"
    );

    // Deciding it emits approval.decision; the waiting run goes on. Nobody is in the team
    // 'sales_manager' here: the platform admin's key decides, as an override.
    let id = approval["id"].as_str().unwrap();
    let (status, decided) = server.with(
        key,
        "POST",
        &format!("/api/v1/approvals/{id}/approve"),
        Some(json!({"reason": "known customer"})),
    );
    assert_eq!(status, 200, "{decided}");
    assert_eq!(
        server
            .with(
                key,
                "POST",
                &format!("/api/v1/approvals/{id}/approve"),
                None
            )
            .0,
        409
    );
    let (_, events) = server.with(
        key,
        "GET",
        "/api/v1/events?event_type=approval.decision",
        None,
    );
    let event = &events["events"][0];
    assert_eq!(event["payload"]["entity_id"], "ord_77", "{events}");
    assert_eq!(event["payload"]["decision"], "approved");
    let fulfil = sent["executions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["workflow_id"] == "fulfil")
        .unwrap()["execution_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let done = poll(&server, key, &format!("/api/v1/executions/{fulfil}"), |e| {
        e["status"] == "completed"
    });
    assert_eq!(done["context"]["vars"]["shipped"], true, "{done}");
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
