//! `/api/v1/ai/*` over HTTP: capabilities from the caller's scope, and validation with fixes.

use serde_json::{Value, json};

use crate::peer::Peer;
use crate::serve::{Server, free_port, scratch};

const ROOT: &str = "ai-root-key-0123456789";

#[test]
fn capabilities_describe_what_the_callers_scope_can_build_with() {
    let dir = scratch("ai-capabilities");
    let server = Server::start_with(&dir, free_port(), &[("WEIR_ADMIN_KEY", ROOT)]);
    let (status, answer) = server.with(
        ROOT,
        "POST",
        "/api/v1/events",
        Some(json!({"event_type": "order.created", "payload": {"order": {"id": "o1", "total": 120, "items": [{"sku": "a", "qty": 1}]}}})),
    );
    assert_eq!(status, 200, "{answer}");
    for method in ["GET", "POST"] {
        let (status, caps) = server.with(ROOT, method, "/api/v1/ai/capabilities", None);
        assert_eq!(status, 200, "{caps}");
        let order = &caps["entities"]["order"];
        assert!(
            order["fields"]
                .as_array()
                .unwrap()
                .contains(&json!("total")),
            "{order}"
        );
        assert!(
            order["events"]
                .as_array()
                .unwrap()
                .contains(&json!("order.checkout.initiated"))
        );
        for e in ["customer", "cart", "product", "quote", "lead", "deal"] {
            assert!(caps["entities"].get(e).is_some(), "{e}");
        }
        let operators = caps["operators"].as_array().unwrap();
        assert!(operators.contains(&json!("gte")) && operators.contains(&json!("endswith")));
        assert!(
            caps["step_types"]
                .as_array()
                .unwrap()
                .contains(&json!("approval"))
        );
        let http = caps["actions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == "http_request")
            .expect("http_request");
        assert_eq!(http["source"], "builtin");
        assert!(
            http["config_schema"]["properties"]["url"].is_object(),
            "{http}"
        );
        assert!(caps["templates"].as_array().unwrap().len() >= 6, "{caps}");
        let seen = &caps["seen_events"][0];
        assert_eq!(seen["event_type"], "order.created");
        let fields = seen["fields"].as_array().unwrap();
        assert!(
            fields.contains(&json!("order.total")) && fields.contains(&json!("order.items[].sku")),
            "{seen}"
        );
    }
    // Another tenant's scope has seen nothing.
    assert_eq!(
        server
            .with(
                ROOT,
                "POST",
                "/api/v1/tenants",
                Some(json!({"name": "Other"}))
            )
            .0,
        201
    );
    let (_, key) = server.with(
        ROOT,
        "POST",
        "/api/v1/api-keys",
        Some(json!({"tenant_id": "other", "environment": "production", "role": "viewer", "name": "v"})),
    );
    let (status, caps) = server.with(
        key["key"].as_str().unwrap(),
        "GET",
        "/api/v1/ai/capabilities",
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(caps["seen_events"], json!([]));
    let (status, _) = server.call("GET", "/api/v1/ai/capabilities", None, None, b"");
    assert_eq!(status, 401);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn validation_suggests_fixes_and_applies_the_sure_ones() {
    let dir = scratch("ai-validate");
    let server = Server::start_with(&dir, free_port(), &[("WEIR_ADMIN_KEY", ROOT)]);
    let validate = |body: Value| server.with(ROOT, "POST", "/api/v1/ai/validate", Some(body));
    let typos = json!({"workflow_id": "limit", "trigger": {"type": "event", "event": "order.created"},
        "steps": [
            {"id": "check", "type": "condition",
             "condition": {"field": "order.total", "operator": "greater_then", "value": 100},
             "on_true": "blok", "on_flase": "allow"},
            {"id": "block", "type": "action", "action": "block"},
            {"id": "allow", "type": "action", "action": "allow"}]});
    let (status, v) = validate(json!({"workflow": typos}));
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["valid"], false);
    let fix_at = |path: &str| {
        v["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["path"] == path)
            .map(|d| d["fix"].clone())
            .unwrap_or(Value::Null)
    };
    assert_eq!(fix_at("$.steps[0].on_true")["value"], "block", "{v}");
    assert_eq!(fix_at("$.steps[0].on_flase")["to"], "on_false", "{v}");
    assert_eq!(
        fix_at("$.steps[0].condition.operator")["value"],
        "gt",
        "{v}"
    );
    assert_eq!(fix_at("$.steps[0].on_true")["certain"], true);
    let fixed = &v["fixed_workflow"];
    assert_eq!(fixed["steps"][0]["on_true"], "block", "{v}");
    assert_eq!(fixed["steps"][0]["condition"]["operator"], "gt");
    let (_, again) = validate(json!({"workflow": fixed}));
    assert_eq!(again["valid"], true, "{again}");
    // Nothing was stored.
    let (_, list) = server.with(ROOT, "GET", "/api/v1/workflows", None);
    assert_eq!(list["workflows"], json!([]));
    // A missing field gets an example to review, never applied.
    let (_, v) = validate(
        json!({"workflow": {"workflow_id": "w", "trigger": {"type": "event", "event": "e"},
        "steps": [{"type": "action", "action": "allow"}]}}),
    );
    let missing = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["fix"]["op"] == "add")
        .unwrap_or_else(|| panic!("{v}"));
    assert_eq!(
        (
            missing["fix"]["field"].clone(),
            missing["fix"]["certain"].clone()
        ),
        (json!("id"), json!(false))
    );
    assert_eq!(v["fixed_workflow"], Value::Null);
    // YAML text is read; text that does not parse says where.
    let (status, v) = validate(
        json!({"workflow": "workflow_id: w\ntrigger: {type: event, event: e}\nsteps:\n  - {id: a, type: action, action: allow}\n"}),
    );
    assert_eq!((status, v["valid"].clone()), (200, json!(true)), "{v}");
    let (status, v) = validate(json!({"workflow": "steps: [unclosed"}));
    assert_eq!((status, v["valid"].clone()), (200, json!(false)), "{v}");
    assert!(v["diagnostics"][0]["line"].is_number(), "{v}");
    // Bad requests.
    for (body, want) in [
        (json!({}), 422),
        (json!({"workflow": 7}), 422),
        (json!({"workflow": {}, "extra": 1}), 422),
    ] {
        let (status, e) = validate(body.clone());
        assert_eq!(status, want, "{body}: {e}");
    }
    let (status, _) = server.call(
        "POST",
        "/api/v1/ai/validate",
        Some(ROOT),
        Some("application/json"),
        b"{not json",
    );
    assert_eq!(status, 400);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_prompt_becomes_a_workflow_that_runs_as_asked() {
    let dir = scratch("ai-interpret");
    let server = Server::start_with(&dir, free_port(), &[("WEIR_ADMIN_KEY", ROOT)]);
    let interpret = |body: Value| server.with(ROOT, "POST", "/api/v1/ai/interpret", Some(body));
    let (status, answer) = interpret(json!({
        "prompt": "Block orders over $5,000 from new customers",
        "context": {"user_id": "agent_123", "mode": "create"}
    }));
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["mode"], "offline");
    assert_eq!(answer["interpretation"]["action"], "block", "{answer}");
    assert!(answer["confidence"].as_f64().unwrap() > 0.5, "{answer}");
    let workflow = answer["suggested_workflow"].clone();
    // Nothing was deployed; it validates, deploys, and decides as asked.
    let (_, list) = server.with(ROOT, "GET", "/api/v1/workflows", None);
    assert_eq!(list["workflows"], json!([]));
    let (_, v) = server.with(
        ROOT,
        "POST",
        "/api/v1/ai/validate",
        Some(json!({"workflow": workflow})),
    );
    assert_eq!(v["valid"], true, "{v}");
    let (status, stored) = server.with(ROOT, "POST", "/api/v1/workflows", Some(workflow.clone()));
    assert_eq!(status, 201, "{stored}");
    let event = workflow["trigger"]["event"]
        .as_str()
        .or_else(|| workflow["triggers"][0]["event"].as_str())
        .unwrap_or_else(|| panic!("{workflow}"))
        .to_owned();
    let now = chrono::Utc::now();
    let decide = |total: i64, created: chrono::DateTime<chrono::Utc>| {
        let (status, a) = server.with(
            ROOT,
            "POST",
            "/api/v1/events",
            Some(json!({"event_type": event, "payload": {
                "order": {"id": format!("o{total}"), "total": total},
                "customer": {"id": "c1", "created_at": created.to_rfc3339()}}})),
        );
        assert_eq!(status, 200, "{a}");
        a["decision"].clone()
    };
    assert_eq!(decide(9000, now - chrono::Duration::days(2)), "block");
    assert_ne!(decide(9000, now - chrono::Duration::days(400)), "block");
    assert_ne!(decide(100, now - chrono::Duration::days(2)), "block");
    // A team the scope has is an approver it knows; bad requests are refused.
    let (status, _) = server.with(
        ROOT,
        "POST",
        "/api/v1/teams",
        Some(json!({"name": "finance", "members": []})),
    );
    assert_eq!(status, 201);
    let (_, a) =
        interpret(json!({"prompt": "Quotes with a discount above 20% need approval from finance"}));
    assert_eq!(a["interpretation"]["action"], "require_approval", "{a}");
    assert!(a.to_string().contains("finance"), "{a}");
    // Without an LLM endpoint, `llm` is answered offline, saying why.
    let (status, a) = interpret(json!({"prompt": "block big orders", "mode": "llm"}));
    assert_eq!(status, 200, "{a}");
    assert_eq!(a["mode"], "offline");
    assert!(
        a["fallback"]
            .as_str()
            .is_some_and(|f| f.contains("no LLM endpoint is configured")),
        "{a}"
    );
    for (body, status) in [
        (json!({"prompt": ""}), 422),
        (json!({"prompt": "   "}), 422),
        (
            json!({"prompt": "block big orders", "mode": "psychic"}),
            422,
        ),
        (json!({"prompt": "block big orders", "extra": true}), 422),
        (json!({"prompt": "block big orders", "context": []}), 422),
        (
            json!({"prompt": "block big orders", "context": {"teams": "finance"}}),
            422,
        ),
        (json!({"prompt": "x".repeat(4001)}), 422),
    ] {
        let (got, e) = interpret(body.clone());
        assert_eq!(got, status, "{body}: {e}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_scenario_gets_the_templates_that_fit_filled_in() {
    let dir = scratch("ai-suggest");
    let server = Server::start_with(&dir, free_port(), &[("WEIR_ADMIN_KEY", ROOT)]);
    let suggest = |body: Value| server.with(ROOT, "POST", "/api/v1/ai/suggest", Some(body));
    let (status, s) = suggest(json!({
        "scenario": "Hold checkout orders of $5,000 or more for approval by finance",
        "limit": 2
    }));
    assert_eq!(status, 200, "{s}");
    let list = s["suggestions"].as_array().unwrap();
    assert!(!list.is_empty() && list.len() <= 2, "{s}");
    let top = &list[0];
    assert_eq!(top["template_id"], "order-approval", "{s}");
    let changes = top["changes"].to_string();
    assert!(changes.contains("10000") && changes.contains("5000"), "{s}");
    assert!(changes.contains("finance"), "{s}");
    // The filled template validates, deploys and holds a $6,000 order but not a $4,000 one.
    let workflow = top["workflow"].clone();
    let (status, stored) = server.with(ROOT, "POST", "/api/v1/workflows", Some(workflow));
    assert_eq!(status, 201, "{stored}");
    let decide = |total: i64| {
        let (status, a) = server.with(
            ROOT,
            "POST",
            "/api/v1/events",
            Some(json!({"event_type": "order.checkout.initiated",
                "payload": {"order": {"id": format!("o{total}"), "total": total}, "customer": {"id": "c1"}}})),
        );
        assert_eq!(status, 200, "{a}");
        a["decision"].clone()
    };
    assert_eq!(decide(6000), "block");
    assert_eq!(decide(4000), "allow");
    let (_, s) = suggest(json!({"scenario": "screen payments for fraud"}));
    assert_eq!(s["suggestions"][0]["template_id"], "fraud-detection", "{s}");
    let (_, s) = suggest(json!({"scenario": "zzzz qqqq"}));
    assert_eq!(s["suggestions"], json!([]));
    for body in [
        json!({"scenario": ""}),
        json!({"scenario": "fraud", "limit": 0}),
        json!({"scenario": "fraud", "limit": 11}),
        json!({"scenario": "fraud", "extra": 1}),
        json!({"scenario": 7}),
    ] {
        let (status, e) = suggest(body.clone());
        assert_eq!(status, 422, "{body}: {e}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// A chat completion whose answer is `content`.
fn completion(content: &str) -> Value {
    json!({"id": "chatcmpl-1", "object": "chat.completion", "model": "m",
        "choices": [{"index": 0, "finish_reason": "stop",
            "message": {"role": "assistant", "content": content}}]})
}

#[test]
fn the_llm_mode_sends_the_diagnostics_back_until_the_workflow_validates() {
    const KEY: &str = "sk-llm-canary-7f3a9c21d4";
    const SCOPE_KEY: &str = "sk-scope-canary-51be07aa";
    let llm = Peer::start();
    let path = "/v1/chat/completions";
    let dir = scratch("ai-llm");
    let allow = format!("127.0.0.1:{}", llm.port);
    let mut server = Server::start_with(
        &dir,
        free_port(),
        &[
            ("WEIR_ADMIN_KEY", ROOT),
            ("WEIR_LLM_URL", &llm.url("/v1")),
            ("WEIR_LLM_MODEL", "weir-test-model"),
            ("WEIR_LLM_API_KEY", KEY),
            ("WEIR_OUTBOUND_ALLOW", &allow),
        ],
    );
    let interpret = |body: Value| server.with(ROOT, "POST", "/api/v1/ai/interpret", Some(body));
    let prompt = "Block orders over $5,000; allow all others";
    // The first answer targets a step that does not exist (no sure fix), in a code fence.
    let invalid = json!({
        "interpretation": {"action": "block", "entities": ["order"],
            "trigger": {"type": "event", "event": "order.created"},
            "conditions": [{"field": "order.total", "operator": "gt", "value": 5000}],
            "actions": [{"type": "block"}]},
        "workflow": {"workflow_id": "llm_big_orders",
            "trigger": {"type": "event", "event": "order.created"},
            "steps": [
                {"id": "check", "type": "condition",
                 "condition": {"field": "order.total", "operator": "gt", "value": 5000},
                 "on_true": "nowhere_at_all", "on_false": "pass"},
                {"id": "hold", "type": "action", "action": "block", "reason": "Order over $5,000"},
                {"id": "pass", "type": "action", "action": "allow"}]},
        "confidence": 0.9, "questions": []});
    let mut corrected = invalid.clone();
    corrected["workflow"]["steps"][0]["on_true"] = json!("hold");
    corrected["questions"] = json!(["Should orders of exactly $5,000 be blocked too?"]);
    llm.answer_in_turn(
        path,
        200,
        completion(&format!("Here it is:\n```json\n{invalid}\n```")),
    );
    llm.answer_in_turn(path, 200, completion(&corrected.to_string()));
    let (status, a) = interpret(json!({"prompt": prompt, "mode": "llm"}));
    assert_eq!(status, 200, "{a}");
    assert_eq!(a["mode"], "llm", "{a}");
    assert_eq!(a["llm_requests"], 2, "{a}");
    assert_eq!(a["suggested_workflow"], corrected["workflow"], "{a}");
    assert_eq!(a["interpretation"]["action"], "block");
    assert_eq!(a["questions"], corrected["questions"]);
    assert_eq!(a["confidence"], 0.9);
    let sent = llm.requests_to(path);
    assert_eq!(sent.len(), 2);
    for r in &sent {
        assert_eq!(r.method, "POST");
        assert_eq!(r.headers["authorization"], format!("Bearer {KEY}"));
        assert_eq!(r.json()["model"], "weir-test-model");
    }
    let first = sent[0].json();
    let system = first["messages"][0]["content"].as_str().unwrap();
    // The format and the scope's capabilities (entities, action schemas) are in the prompt;
    // the request and the offline draft too.
    assert!(system.contains("Answer with ONE JSON object"), "{system}");
    assert!(system.contains("order.checkout.initiated") && system.contains("http_request"));
    let user = first["messages"][1]["content"].as_str().unwrap();
    assert!(
        user.contains(prompt) && user.contains("\"steps\""),
        "{user}"
    );
    // The second request carries the first answer and the validator's diagnostics.
    let second = sent[1].json();
    let messages = second["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 4, "{second}");
    assert_eq!(messages[2]["role"], "assistant");
    let feedback = messages[3]["content"].as_str().unwrap();
    assert!(
        feedback.contains("$.steps[0].on_true") && feedback.contains("nowhere_at_all"),
        "{feedback}"
    );
    // Interpreting deployed nothing; what came back decides as asked once deployed.
    let (_, list) = server.with(ROOT, "GET", "/api/v1/workflows", None);
    assert_eq!(list["workflows"], json!([]));
    let (status, _) = server.with(
        ROOT,
        "POST",
        "/api/v1/workflows",
        Some(a["suggested_workflow"].clone()),
    );
    assert_eq!(status, 201);
    for (total, decision) in [(6000, "block"), (400, "allow")] {
        let (_, d) = server.with(
            ROOT,
            "POST",
            "/api/v1/events",
            Some(json!({"event_type": "order.created", "payload": {"order": {"id": "o", "total": total}}})),
        );
        assert_eq!(d["decision"], decision, "{d}");
    }

    // An endpoint that fails (and echoes the key) is answered offline, the key scrubbed.
    llm.answer_in_turn(
        path,
        401,
        json!({"error": {"message": format!("Incorrect API key provided: {KEY}")}}),
    );
    let (status, a) = interpret(json!({"prompt": prompt, "mode": "llm"}));
    assert_eq!(status, 200, "{a}");
    assert_eq!(a["mode"], "offline");
    let why = a["fallback"].as_str().unwrap();
    assert!(why.contains("401") && !a.to_string().contains(KEY), "{a}");
    assert_eq!(a["interpretation"]["action"], "block", "{a}");
    // So is one that never gets to a valid workflow: 1 + 3 corrections, then offline.
    let before = llm.requests_to(path).len();
    for _ in 0..4 {
        llm.answer_in_turn(path, 200, completion("I cannot do that."));
    }
    let (_, a) = interpret(json!({"prompt": prompt, "mode": "llm"}));
    assert_eq!(a["mode"], "offline", "{a}");
    assert!(
        a["fallback"]
            .as_str()
            .unwrap()
            .contains("no valid workflow after 3 corrections"),
        "{a}"
    );
    assert_eq!(llm.requests_to(path).len(), before + 4);

    // An environment's own endpoint, its key a secret that may go to that host only.
    let settings =
        |method: &str, body: Option<Value>| server.with(ROOT, method, "/api/v1/settings/llm", body);
    assert_eq!(settings("GET", None).0, 404);
    let (status, _) = server.with(
        ROOT,
        "POST",
        "/api/v1/secrets",
        Some(json!({"name": "LLM_KEY", "value": SCOPE_KEY, "allowed_hosts": [allow]})),
    );
    assert_eq!(status, 201);
    let (status, _) = server.with(
        ROOT,
        "POST",
        "/api/v1/secrets",
        Some(json!({"name": "ELSEWHERE", "value": "sk-elsewhere-0123456", "allowed_hosts": ["api.openai.com"]})),
    );
    assert_eq!(status, 201);
    let url = llm.url("/v1");
    for (body, at) in [
        (
            json!({"url": url, "model": "m", "api_key_secret": "MISSING"}),
            "$.api_key_secret",
        ),
        (
            json!({"url": url, "model": "m", "api_key_secret": "ELSEWHERE"}),
            "$.api_key_secret",
        ),
        (
            json!({"url": "ftp://example.com/v1", "model": "m"}),
            "$.url",
        ),
        (
            json!({"url": "https://u:p@example.com/v1", "model": "m"}),
            "$.url",
        ),
        (json!({"url": url, "model": ""}), "$.model"),
        (
            json!({"url": url, "model": "m", "temperature": 2}),
            "$.temperature",
        ),
        (json!({"model": "m"}), "missing field `url`"),
    ] {
        let (status, e) = settings("PUT", Some(body.clone()));
        assert_eq!(status, 422, "{body}: {e}");
        assert!(e.to_string().contains(at), "{body}: {e}");
    }
    let (status, s) = settings(
        "PUT",
        Some(json!({"url": url, "model": "scope-model", "api_key_secret": "LLM_KEY"})),
    );
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["api_key_secret"], "LLM_KEY");
    assert!(!s.to_string().contains(SCOPE_KEY));
    assert_eq!(settings("GET", None).1["model"], "scope-model");
    llm.answer_in_turn(path, 200, completion(&corrected.to_string()));
    let (_, a) = interpret(json!({"prompt": prompt, "mode": "llm"}));
    assert_eq!(
        (a["mode"].as_str(), a["llm_requests"].as_u64()),
        (Some("llm"), Some(1)),
        "{a}"
    );
    let last = llm.requests_to(path).pop().unwrap();
    assert_eq!(last.headers["authorization"], format!("Bearer {SCOPE_KEY}"));
    assert_eq!(last.json()["model"], "scope-model");
    // The outbound guard applies: another loopback port is not opened.
    let closed = format!("http://127.0.0.1:{}/v1", free_port());
    let (status, _) = settings("PUT", Some(json!({"url": closed, "model": "m"})));
    assert_eq!(status, 200);
    let count = llm.requests_to(path).len();
    let (_, a) = interpret(json!({"prompt": prompt, "mode": "llm"}));
    assert_eq!(a["mode"], "offline");
    assert!(a["fallback"].as_str().unwrap().contains("loopback"), "{a}");
    assert_eq!(llm.requests_to(path).len(), count);
    assert_eq!(settings("DELETE", None).0, 204);
    assert_eq!(settings("DELETE", None).0, 404);
    // Settings are audited by name, never with a key.
    let (_, audit) = server.with(ROOT, "GET", "/api/v1/audit?action=setting.update", None);
    assert!(audit.to_string().contains("LLM_KEY"), "{audit}");
    let log = server.stop_and_read_log();
    for canary in [KEY, SCOPE_KEY] {
        assert!(!log.contains(canary), "the key is in the log:\n{log}");
        assert!(!audit.to_string().contains(canary));
    }
    let _ = std::fs::remove_dir_all(dir);
}
