//! Validation: every diagnostic code, reported with its path, all at once.

use serde_json::{Value, json};
use weir_core::diag::Code;
use weir_core::{Format, Rules, validate_workflow_text};

use crate::support::{catalog, render, validate};

fn wf(steps: Value) -> Value {
    json!({"workflow_id": "w", "name": "W", "trigger": {"type": "event", "event": "e.x"}, "steps": steps})
}

fn allow(id: &str) -> Value {
    json!({"id": id, "type": "action", "action": "allow"})
}

/// Asserts `doc` yields a diagnostic with `code` at `path` (and says what it did yield).
fn expect(doc: &Value, code: Code, path: &str) {
    let v = validate(doc);
    assert!(
        v.diagnostics
            .iter()
            .any(|d| d.code == code && d.path == path),
        "expected {code} at {path}; got:\n{}",
        render(&v.diagnostics)
    );
    if code.severity() == weir_core::Severity::Error {
        assert!(!v.is_valid());
    }
}

#[test]
fn syntax_errors_are_v001_with_position() {
    let v = validate_workflow_text(b"{\"workflow_id\": }", None, catalog(), &Rules::default());
    assert_eq!(v.diagnostics.len(), 1);
    assert_eq!(v.diagnostics[0].code, Code::Syntax);
    assert!(
        v.diagnostics[0].message.contains("line 1"),
        "{}",
        v.diagnostics[0].message
    );
    let v = validate_workflow_text(
        b"steps: [unclosed",
        Some(Format::Yaml),
        catalog(),
        &Rules::default(),
    );
    assert_eq!(v.diagnostics[0].code, Code::Syntax);
}

#[test]
fn unknown_fields_are_errors_with_their_path_and_a_suggestion() {
    let doc = json!({"workflow_id": "w", "nmae": "x", "trigger": {"type": "event", "event": "e", "conditon": {}},
        "steps": [{"id": "a", "type": "action", "action": "allow", "nxt": "b"}]});
    let v = validate(&doc);
    let got: Vec<(&str, &str)> = v
        .errors()
        .filter(|d| d.code == Code::UnknownField)
        .map(|d| (d.path.as_str(), d.message.as_str()))
        .collect();
    assert_eq!(got.len(), 3, "{got:?}");
    assert!(got[0].0 == "$.nmae" && got[0].1.contains("did you mean 'name'"));
    assert!(got[1].0 == "$.trigger.conditon" && got[1].1.contains("'condition'"));
    assert!(got[2].0 == "$.steps[0].nxt" && got[2].1.contains("'next'"));
    // In config objects the action's schema decides.
    expect(
        &wf(
            json!([{"id": "a", "type": "send_email", "config": {"to": "x@y.z", "subject": "s", "bogus": 1}}]),
        ),
        Code::ActionConfig,
        "$.steps[0].config.bogus",
    );
}

#[test]
fn missing_and_mistyped_fields() {
    expect(&json!({"name": "x"}), Code::MissingField, "$");
    expect(
        &json!({"workflow_id": "w", "steps": [{"type": "action", "action": "allow"}]}),
        Code::MissingField,
        "$.steps[0]",
    );
    expect(
        &json!({"workflow_id": "w", "enabled": "yes", "steps": [allow("a")]}),
        Code::WrongType,
        "$.enabled",
    );
    expect(
        &json!({"workflow_id": "w", "steps": {"a": 1}}),
        Code::WrongType,
        "$.steps",
    );
    expect(
        &json!({"workflow_id": "w", "steps": []}),
        Code::InvalidValue,
        "$.steps",
    );
    expect(
        &wf(
            json!([{"id": "a", "type": "condition", "condition": {"field": "x", "operator": "eq", "value": 1}, "on_true": 5}]),
        ),
        Code::WrongType,
        "$.steps[0].on_true",
    );
    expect(&json!([1, 2]), Code::WrongType, "$");
}

#[test]
fn duplicate_step_ids_anywhere_in_the_workflow() {
    let doc = wf(json!([
        allow("a"),
        {"id": "p", "type": "parallel", "steps": [allow("a")]},
    ]));
    let v = validate(&doc);
    let d = v
        .errors()
        .find(|d| d.code == Code::DuplicateStepId)
        .expect("duplicate reported");
    assert_eq!(d.path, "$.steps[1].steps[0].id");
    assert!(
        d.message.contains("first used at $.steps[0]"),
        "{}",
        d.message
    );
}

#[test]
fn unknown_targets_of_every_kind() {
    let cond = json!({"field": "x", "operator": "eq", "value": 1});
    let cases = [
        (
            json!({"id": "s", "type": "action", "action": "execute", "execute": [], "next": "nowhere"}),
            "$.steps[0].next",
        ),
        (
            json!({"id": "s", "type": "condition", "condition": cond, "on_true": "nowhere", "on_false": "z"}),
            "$.steps[0].on_true",
        ),
        (
            json!({"id": "s", "type": "condition", "condition": cond, "on_true": "z", "on_false": "nowhere"}),
            "$.steps[0].on_false",
        ),
        (
            json!({"id": "s", "type": "switch", "value": "{{x}}", "cases": [{"when": 1, "next": "nowhere"}]}),
            "$.steps[0].cases[0].next",
        ),
        (
            json!({"id": "s", "type": "switch", "value": "{{x}}", "cases": [{"when": 1, "next": "z"}], "default": "nowhere"}),
            "$.steps[0].default",
        ),
        (
            json!({"id": "s", "type": "wait", "event": "e", "timeout": "1h", "on_timeout": "nowhere"}),
            "$.steps[0].on_timeout",
        ),
        (
            json!({"id": "s", "type": "approval", "on_approve": "nowhere"}),
            "$.steps[0].on_approve",
        ),
        (
            json!({"id": "s", "type": "approval", "on_reject": "nowhere"}),
            "$.steps[0].on_reject",
        ),
        (
            json!({"id": "s", "type": "approval", "timeout": "1d", "on_timeout": "nowhere"}),
            "$.steps[0].on_timeout",
        ),
        (
            json!({"id": "s", "type": "send_email", "config": {"to": "a@b.c", "subject": "x"}, "on_error": "nowhere"}),
            "$.steps[0].on_error",
        ),
    ];
    for (step, path) in cases {
        expect(&wf(json!([step, allow("z")])), Code::UnknownTarget, path);
    }
    // A near miss gets a suggestion; a target inside another list is explained.
    let v = validate(&wf(json!([
        {"id": "s", "type": "condition", "condition": cond, "on_true": "alow", "on_false": "inner"},
        allow("allow"),
        {"id": "p", "type": "parallel", "steps": [allow("inner")]},
    ])));
    let msgs: Vec<&str> = v.errors().map(|d| d.message.as_str()).collect();
    assert!(
        msgs.iter().any(|m| m.contains("did you mean 'allow'")),
        "{msgs:?}"
    );
    assert!(
        msgs.iter().any(|m| m.contains("another step list")),
        "{msgs:?}"
    );
}

#[test]
fn dependency_cycles_are_named() {
    let step = |id: &str, deps: &[&str]| json!({"id": id, "type": "create_task", "config": {"title": "t"}, "depends_on": deps});
    let v = validate(&wf(json!([
        step("a", &["c"]),
        step("b", &["a"]),
        step("c", &["b"]),
        step("d", &["d"])
    ])));
    let cycles: Vec<&str> = v
        .errors()
        .filter(|d| d.code == Code::DependencyCycle)
        .map(|d| d.message.as_str())
        .collect();
    assert_eq!(cycles.len(), 2, "{cycles:?}");
    assert!(
        cycles.iter().any(|m| m.contains("a → c → b → a")),
        "{cycles:?}"
    );
    assert!(cycles.iter().any(|m| m.contains("d → d")), "{cycles:?}");
    expect(
        &wf(json!([step("a", &["ghost"])])),
        Code::UnknownDependency,
        "$.steps[0].depends_on[0]",
    );
}

#[test]
fn unknown_operators_action_types_and_rules() {
    expect(
        &wf(
            json!([{"id": "c", "type": "condition", "condition": {"field": "x", "operator": "approximately", "value": 1}}]),
        ),
        Code::UnknownOperator,
        "$.steps[0].condition.operator",
    );
    expect(
        &wf(json!([{"id": "a", "type": "send_fax", "config": {}}])),
        Code::UnknownActionType,
        "$.steps[0].type",
    );
    expect(
        &wf(json!([{"id": "a", "type": "execute", "action": "launch_rocket"}])),
        Code::UnknownActionType,
        "$.steps[0].action",
    );
    expect(
        &wf(
            json!([{"id": "a", "type": "action", "action": "block", "execute": [{"type": "fax"}]}]),
        ),
        Code::UnknownActionType,
        "$.steps[0].execute[0].type",
    );
    expect(
        &wf(json!([{"id": "c", "type": "condition", "condition": {"rule": "nope"}}])),
        Code::UnknownRule,
        "$.steps[0].condition",
    );
    // A rule defined in the file is known.
    let mut doc = wf(
        json!([{"id": "c", "type": "condition", "condition": {"rule": "big"}, "on_true": "a", "on_false": "a"}, allow("a")]),
    );
    doc["rules"] =
        json!([{"rule_id": "big", "conditions": {"field": "x", "operator": "gt", "value": 1}}]);
    assert!(
        validate(&doc).is_valid(),
        "{}",
        render(&validate(&doc).diagnostics)
    );
}

#[test]
fn action_configs_are_checked_against_their_schema() {
    expect(
        &wf(
            json!([{"id": "a", "type": "create_wallet", "config": {"currency": "USD", "initial_credits": "lots"}}]),
        ),
        Code::ActionConfig,
        "$.steps[0].config.initial_credits",
    );
    expect(
        &wf(json!([{"id": "a", "type": "send_email", "config": {"subject": "hi"}}])),
        Code::ActionConfig,
        "$.steps[0].config",
    );
    expect(
        &wf(
            json!([{"id": "a", "type": "execute", "action": "http_request", "config": {"url": "https://x", "method": "FETCH"}}]),
        ),
        Code::ActionConfig,
        "$.steps[0].config.method",
    );
    expect(
        &wf(
            json!([{"id": "a", "type": "action", "action": "block", "execute": [{"type": "notify", "recipients": []}]}]),
        ),
        Code::ActionConfig,
        "$.steps[0].execute[0].recipients",
    );
    expect(
        &wf(json!([{"id": "a", "type": "create_task", "config": "title"}])),
        Code::WrongType,
        "$.steps[0].config",
    );
    // Templates are only known at run time.
    let ok = wf(
        json!([{"id": "a", "type": "create_wallet", "config": {"currency": "USD", "initial_credits": "{{credits}}"}}]),
    );
    assert!(
        validate(&ok).is_valid(),
        "{}",
        render(&validate(&ok).diagnostics)
    );
}

#[test]
fn bad_regex_duration_cron_and_timezone() {
    expect(
        &wf(
            json!([{"id": "c", "type": "condition", "condition": {"field": "x", "operator": "matches", "value": "[a-"}}]),
        ),
        Code::BadRegex,
        "$.steps[0].condition.value",
    );
    expect(
        &wf(json!([{"id": "d", "type": "delay", "duration": "5 fortnights"}])),
        Code::BadDuration,
        "$.steps[0].duration",
    );
    expect(
        &wf(json!([{"id": "w", "type": "wait", "event": "e", "timeout": "-1h"}])),
        Code::BadDuration,
        "$.steps[0].timeout",
    );
    expect(
        &json!({"workflow_id": "w", "settings": {"timeout": "forever"}, "steps": [allow("a")]}),
        Code::BadDuration,
        "$.settings.timeout",
    );
    expect(
        &json!({"workflow_id": "w", "settings": {"retry_policy": {"initial_interval": "soon"}}, "steps": [allow("a")]}),
        Code::BadDuration,
        "$.settings.retry_policy.initial_interval",
    );
    for cron in [
        "61 * * * *",
        "* * * *",
        "0 0 31 2 * * *",
        "every day",
        "@fortnightly",
    ] {
        expect(
            &json!({"workflow_id": "w", "trigger": {"type": "schedule", "cron": cron}, "steps": [allow("a")]}),
            Code::BadCron,
            "$.trigger.cron",
        );
    }
    for ok in [
        "0 9 * * MON-FRI",
        "*/5 * * * * *",
        "@hourly",
        "@daily",
        "0 30 2 * * *",
    ] {
        let doc = json!({"workflow_id": "w", "trigger": {"type": "schedule", "cron": ok, "timezone": "Europe/Paris"}, "steps": [allow("a")]});
        assert!(
            validate(&doc).is_valid(),
            "{ok}: {}",
            render(&validate(&doc).diagnostics)
        );
    }
    expect(
        &json!({"workflow_id": "w", "trigger": {"type": "schedule", "cron": "@daily", "timezone": "Europe/Pariss"}, "steps": [allow("a")]}),
        Code::BadTimezone,
        "$.trigger.timezone",
    );
}

#[test]
fn empty_parallel_and_foreach_without_items() {
    expect(
        &wf(json!([{"id": "p", "type": "parallel", "steps": []}])),
        Code::EmptyParallel,
        "$.steps[0].steps",
    );
    expect(
        &wf(json!([{"id": "p", "type": "parallel"}])),
        Code::EmptyParallel,
        "$.steps[0]",
    );
    let body = json!([{"id": "b", "type": "create_task", "config": {"title": "t"}}]);
    expect(
        &wf(json!([{"id": "f", "type": "foreach", "steps": body}])),
        Code::ForeachWithoutItems,
        "$.steps[0]",
    );
    expect(
        &wf(json!([{"id": "f", "type": "foreach", "items": "order.items", "steps": body}])),
        Code::ForeachWithoutItems,
        "$.steps[0].items",
    );
    expect(
        &wf(json!([{"id": "f", "type": "foreach", "items": 5, "steps": body}])),
        Code::ForeachWithoutItems,
        "$.steps[0].items",
    );
}

#[test]
fn bad_templates_are_reported_where_they_are() {
    expect(
        &wf(json!([{"id": "a", "type": "create_task", "config": {"title": "Call {{lead.name"}}])),
        Code::BadTemplate,
        "$.steps[0].config.title",
    );
    expect(
        &wf(json!([{"id": "a", "type": "create_task", "config": {"title": "{{today+x}}"}}])),
        Code::BadTemplate,
        "$.steps[0].config.title",
    );
    expect(
        &wf(json!([{"id": "a", "type": "create_task", "config": {"title": "{{secrets.}}"}}])),
        Code::BadTemplate,
        "$.steps[0].config.title",
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let doc = json!({
        "workflow_id": "w",
        "trigger": {"type": "schedule", "cron": "99 * * * *", "timezone": "Nowhere/City"},
        "steps": [
            {"id": "a", "type": "condition", "condition": {"field": "x", "operator": "nope", "value": 1}, "on_true": "ghost"},
            {"id": "a", "type": "delay", "duration": "soon"},
            {"id": "p", "type": "parallel", "steps": []},
            {"id": "f", "type": "foreach", "steps": [allow("g")]},
            {"id": "t", "type": "teleport"}
        ]
    });
    let v = validate(&doc);
    let codes: Vec<Code> = v.errors().map(|d| d.code).collect();
    for c in [
        Code::BadCron,
        Code::BadTimezone,
        Code::UnknownOperator,
        Code::UnknownTarget,
        Code::DuplicateStepId,
        Code::BadDuration,
        Code::EmptyParallel,
        Code::ForeachWithoutItems,
        Code::UnknownActionType,
    ] {
        assert!(
            codes.contains(&c),
            "missing {c}; got:\n{}",
            render(&v.diagnostics)
        );
    }
}

#[test]
fn warnings_are_separate_from_errors() {
    let cond = json!({"field": "x", "operator": "gt", "value": 1});
    // Unreachable: nothing leads to `orphan`.
    let v = validate(&wf(json!([
        {"id": "c", "type": "condition", "condition": cond, "on_true": "yes", "on_false": "no"},
        {"id": "orphan", "type": "create_task", "config": {"title": "t"}},
        {"id": "yes", "type": "action", "action": "block"},
        allow("no"),
    ])));
    assert!(v.is_valid(), "warnings do not make a workflow invalid");
    let w: Vec<_> = v.warnings().collect();
    assert!(
        w.iter()
            .any(|d| d.code == Code::Unreachable && d.path == "$.steps[1]"),
        "{}",
        render(&v.diagnostics)
    );

    // Falls through: the true branch runs on into the false branch's target.
    let v = validate(&wf(json!([
        {"id": "c", "type": "condition", "condition": cond, "on_true": "notify", "on_false": "other"},
        {"id": "notify", "type": "create_task", "config": {"title": "t"}},
        {"id": "other", "type": "create_task", "config": {"title": "u"}},
    ])));
    let d = v
        .warnings()
        .find(|d| d.code == Code::FallsThrough)
        .expect("falls-through warning");
    assert_eq!(d.path, "$.steps[1]");
    assert!(
        d.message.contains("'notify' falls through into 'other'")
            && d.message.contains("add `next` or `end`"),
        "{}",
        d.message
    );
    // ... and `end` silences it.
    let v = validate(&wf(json!([
        {"id": "c", "type": "condition", "condition": cond, "on_true": "notify", "on_false": "other"},
        {"id": "notify", "type": "create_task", "config": {"title": "t"}, "end": true},
        {"id": "other", "type": "create_task", "config": {"title": "u"}},
    ])));
    assert!(v.diagnostics.is_empty(), "{}", render(&v.diagnostics));

    // No decision: one path blocks, the other just ends.
    let v = validate(&wf(json!([
        {"id": "c", "type": "condition", "condition": cond, "on_true": "deny", "on_false": "log"},
        {"id": "deny", "type": "action", "action": "block"},
        {"id": "log", "type": "create_task", "config": {"title": "t"}},
    ])));
    assert!(
        v.warnings()
            .any(|d| d.code == Code::NoDecision && d.path == "$.steps[2]"),
        "{}",
        render(&v.diagnostics)
    );
    assert!(v.is_valid());
}

#[test]
fn seed_spellings_are_accepted() {
    // The flat shape: event_name, order, config, depends_on, retry_policy and timeout_seconds at the top.
    let doc = json!({
        "name": "Customer Onboarding - Standard",
        "trigger": {"type": "event", "event_name": "customer.created"},
        "steps": [
            {"id": "step_2", "order": 2, "type": "create_wallet", "config": {"currency": "USD", "conversion_rate": 1.0, "initial_credits": 100}, "depends_on": ["step_1"]},
            {"id": "step_1", "order": 1, "type": "assign_plan", "config": {"plan_id": "plan_starter", "currency": "USD"}}
        ],
        "enabled": true,
        "retry_policy": {"max_attempts": 3, "initial_interval_seconds": 1, "backoff_coefficient": 2.0},
        "timeout_seconds": 3600
    });
    let w = crate::support::workflow(&doc);
    assert_eq!(w.id, "customer_onboarding_standard");
    assert_eq!(
        w.steps.steps[0].id, "step_1",
        "steps are ordered by `order`"
    );
    assert_eq!(w.settings.timeout.unwrap().as_millis(), 3_600_000);
    assert_eq!(
        w.settings
            .retry_policy
            .unwrap()
            .initial_interval
            .as_millis(),
        1000
    );
}

#[test]
fn hostile_documents_get_clear_errors() {
    let deep = "[".repeat(10_000) + &"]".repeat(10_000);
    let v = validate_workflow_text(deep.as_bytes(), None, catalog(), &Rules::default());
    assert!(
        v.diagnostics[0].message.contains("nests deeper"),
        "{}",
        v.diagnostics[0].message
    );
    let big = format!(
        "{{\"workflow_id\": \"w\", \"description\": \"{}\"}}",
        "x".repeat(10 * 1024 * 1024)
    );
    let v = validate_workflow_text(big.as_bytes(), None, catalog(), &Rules::default());
    assert!(
        v.diagnostics[0].message.contains("limit"),
        "{}",
        v.diagnostics[0].message
    );
    // Wrong types everywhere, but no panic.
    for doc in [
        json!(null),
        json!(1),
        json!("x"),
        json!({"workflow_id": 1, "steps": [null, 1, "x", [], {}]}),
        json!({"workflow_id": "w", "trigger": [], "steps": [{"id": "a", "type": []}]}),
    ] {
        let v = validate(&doc);
        assert!(!v.is_valid(), "{doc}");
        assert!(!v.diagnostics.is_empty());
    }
}

// Regressions found in review of the first version.

#[test]
fn a_guarded_step_does_not_make_the_next_one_unreachable() {
    let v = validate(&wf(json!([
        {"id": "block_big", "type": "action", "action": "block", "condition": {"field": "total", "operator": "gt", "value": 100}},
        allow("allow_rest")
    ])));
    assert!(v.diagnostics.is_empty(), "{}", render(&v.diagnostics));
}

#[test]
fn end_cannot_go_with_targets_and_next_has_no_place_in_a_dag() {
    let cond = json!({"field": "x", "operator": "eq", "value": 1});
    expect(
        &wf(
            json!([{"id": "c", "type": "condition", "condition": cond, "on_true": "a", "end": true}, allow("a")]),
        ),
        Code::InvalidValue,
        "$.steps[0].end",
    );
    expect(
        &wf(
            json!([{"id": "s", "type": "set", "variables": {"a": 1}, "next": "a", "end": true}, allow("a")]),
        ),
        Code::InvalidValue,
        "$.steps[0].end",
    );
    expect(
        &wf(json!([
            {"id": "a", "type": "create_task", "config": {"title": "t"}, "next": "b"},
            {"id": "b", "type": "create_task", "config": {"title": "t"}, "depends_on": ["a"]}
        ])),
        Code::InvalidValue,
        "$.steps[0].next",
    );
}

#[test]
fn small_spelling_traps_are_errors() {
    expect(
        &json!({"workflow_id": "w", "settings": {"on_error": "retry_later"}, "steps": [allow("a")]}),
        Code::InvalidValue,
        "$.settings.on_error",
    );
    expect(
        &json!({"workflow_id": "w", "trigger": {"type": "event", "event": "e", "debounce": "5000"}, "steps": [allow("a")]}),
        Code::BadDuration,
        "$.trigger.debounce",
    );
    expect(
        &wf(
            json!([{"id": "f", "type": "foreach", "items": "{{xs}}", "as": "steps", "steps": [allow("b")]}]),
        ),
        Code::InvalidValue,
        "$.steps[0].as",
    );
    expect(
        &wf(
            json!([{"id": "a", "type": "action", "action": "block", "execute": [{"type": "notify", "config": {"recipient": "x"}, "message": "m"}]}]),
        ),
        Code::InvalidValue,
        "$.steps[0].execute[0]",
    );
    let v = validate(&wf(
        json!([{"id": "w", "type": "wait", "event": "e", "timeout": "soon"}]),
    ));
    assert_eq!(
        v.errors().filter(|d| d.code == Code::BadDuration).count(),
        1,
        "reported once: {}",
        render(&v.diagnostics)
    );
    let v = validate(&wf(
        json!([{"id": "s", "type": "send_email", "config": {"to": "a@b.c", "subject": "s"}, "on_error": "contine"}]),
    ));
    assert!(
        v.errors().any(|d| d
            .message
            .contains("on_error is fail, continue, catch or a step id")),
        "{}",
        render(&v.diagnostics)
    );
}

#[test]
fn rules_that_refer_to_each_other_in_a_circle_are_an_error() {
    let mut doc = wf(
        json!([{"id": "c", "type": "condition", "condition": {"rule": "a"}, "on_true": "x", "on_false": "x"}, allow("x")]),
    );
    doc["rules"] = json!([
        {"rule_id": "a", "conditions": {"rule": "b"}},
        {"rule_id": "b", "conditions": {"and": [{"field": "n", "operator": "gt", "value": 1}, {"rule": "a"}]}},
        {"rule_id": "self", "conditions": {"rule": "self"}}
    ]);
    let v = validate(&doc);
    let msgs: Vec<&str> = v
        .errors()
        .filter(|d| d.code == Code::DependencyCycle)
        .map(|d| d.message.as_str())
        .collect();
    assert_eq!(msgs.len(), 2, "{msgs:?}");
    assert!(msgs.iter().any(|m| m.contains("a → b → a")));
    assert!(msgs.iter().any(|m| m.contains("self → self")));
}

#[test]
fn unknown_config_fields_are_reported_where_they_are_with_a_suggestion() {
    let v = validate(&wf(
        json!([{"id": "a", "type": "send_email", "config": {"to": "a@b.c", "subjct": "hi"}}]),
    ));
    let d: Vec<(&str, &str)> = v
        .errors()
        .map(|d| (d.path.as_str(), d.message.as_str()))
        .collect();
    assert!(
        d.iter()
            .any(|(p, m)| *p == "$.steps[0].config.subjct" && m.contains("did you mean 'subject'")),
        "{d:?}"
    );
    assert!(
        d.iter().any(
            |(p, m)| *p == "$.steps[0].config" && m.contains("needs one of: subject, template")
        ),
        "{d:?}"
    );
}
