//! The condition DSL: every operator (true, false, type mismatch, missing field), aliases,
//! combinators, short-circuiting, dates, templates and rules.

use serde_json::{Value, json};
use weir_core::Rules;
use weir_core::condition::{CondTrace, Condition};
use weir_core::diag::{Code, Diags};
use weir_core::env::Rule;
use weir_core::template::RenderTrace;

use crate::support::{condition, env};

fn ctx() -> Value {
    json!({
        "n": 10, "f": 2.5, "big": 18446744073709551615u64, "neg": -3,
        "s": "hello world", "b": true, "arr": ["a", "b", 3], "obj": {"k": 1}, "nul": null,
        "created_at": "2026-11-01T10:00:00Z", "day": "2026-11-20", "old": "2025-01-01T00:00:00+02:00",
        "soon": "2026-11-25T00:00:00Z", "email": "jane@example.com", "empty_s": "", "empty_a": [],
        "items": [{"sku": "X1", "qty": 2}], "limit": 12, "tier": "gold",
        "lead": {"owner": {"email": "o@x.io"}, "company_name": "Tech Corp"}
    })
}

/// Evaluates `{field, operator, value}` both ways (fast and traced) and checks they agree.
fn eval(field: &str, op: &str, value: Option<Value>) -> (bool, CondTrace) {
    let mut doc = json!({"field": field, "operator": op});
    if let Some(v) = value {
        doc["value"] = v;
    }
    let c = condition(&doc);
    let rules = Rules::default();
    let env = env(&rules);
    let ctx = ctx();
    let fast = c.eval(&ctx, &env);
    let traced = c.eval_traced(&ctx, &env, &mut RenderTrace::default());
    assert_eq!(
        fast,
        traced.result(),
        "fast and traced evaluation disagree for {doc}"
    );
    (fast, traced)
}

fn note(t: &CondTrace) -> Option<String> {
    match t {
        CondTrace::Compare { note, .. } => note.clone(),
        _ => None,
    }
}

/// (field, operator, value, expected result, expected note fragment)
type Case = (
    &'static str,
    &'static str,
    Option<Value>,
    bool,
    Option<&'static str>,
);

fn run(cases: Vec<Case>) {
    let mut failures = Vec::new();
    for (field, op, value, expected, note_part) in cases {
        let (got, trace) = eval(field, op, value.clone());
        let n = note(&trace);
        let note_ok = match note_part {
            Some(p) => n.as_deref().is_some_and(|n| n.contains(p)),
            None => n.is_none(),
        };
        if got != expected || !note_ok {
            failures.push(format!("{field} {op} {value:?}: got {got} (note {n:?}), expected {expected} (note {note_part:?})"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

const ABSENT: Option<&str> = Some("absent");
const MISMATCH: Option<&str> = Some("type mismatch");

#[test]
fn equality_operators() {
    run(vec![
        ("n", "eq", Some(json!(10)), true, None),
        ("n", "eq", Some(json!(10.0)), true, None),
        ("f", "eq", Some(json!(2.5)), true, None),
        ("n", "eq", Some(json!(11)), false, None),
        ("s", "eq", Some(json!("hello world")), true, None),
        ("b", "eq", Some(json!(true)), true, None),
        ("obj", "eq", Some(json!({"k": 1})), true, None),
        ("n", "eq", Some(json!("10")), false, MISMATCH),
        ("missing", "eq", Some(json!(1)), false, ABSENT),
        ("nul", "eq", Some(json!(1)), false, ABSENT),
        ("missing", "eq", Some(Value::Null), true, None),
        ("n", "ne", Some(json!(11)), true, None),
        ("n", "ne", Some(json!(10)), false, None),
        ("n", "ne", Some(json!("x")), false, MISMATCH),
        ("missing", "ne", Some(json!(1)), true, ABSENT),
        ("n", "ne", Some(Value::Null), true, None),
    ]);
}

#[test]
fn ordering_operators_across_integers_floats_and_strings() {
    run(vec![
        ("n", "gt", Some(json!(9.5)), true, None),
        ("n", "gt", Some(json!(10)), false, None),
        ("f", "gt", Some(json!(2)), true, None),
        ("big", "gt", Some(json!(1)), true, None),
        ("neg", "lt", Some(json!(0)), true, None),
        ("n", "gte", Some(json!(10)), true, None),
        ("n", "gte", Some(json!(10.5)), false, None),
        ("n", "lt", Some(json!(10.01)), true, None),
        ("n", "lt", Some(json!("x")), false, MISMATCH),
        ("n", "lt", Some(json!(10)), false, None),
        ("n", "lte", Some(json!(10)), true, None),
        ("n", "lte", Some(json!(9)), false, None),
        ("s", "gt", Some(json!("apple")), true, None),
        ("s", "lt", Some(json!("apple")), false, None),
        ("n", "gt", Some(json!("5")), false, MISMATCH),
        ("s", "lte", Some(json!(5)), false, MISMATCH),
        ("b", "gte", Some(json!(true)), false, MISMATCH),
        ("missing", "gt", Some(json!(1)), false, ABSENT),
        ("missing", "gte", Some(json!(1)), false, ABSENT),
        ("missing", "lt", Some(json!(1)), false, ABSENT),
        ("missing", "lte", Some(json!(1)), false, ABSENT),
    ]);
}

#[test]
fn aliases_mean_their_operator() {
    run(vec![
        ("n", "greater_than", Some(json!(5)), true, None),
        ("n", "less_than", Some(json!(5)), false, None),
        ("n", "neq", Some(json!(5)), true, None),
        ("n", ">=", Some(json!(10)), true, None),
        ("n", "==", Some(json!(10)), true, None),
        ("n", "GTE", Some(json!(10)), true, None),
        ("s", "starts_with", Some(json!("hello")), true, None),
        ("s", "ends_with", Some(json!("world")), true, None),
        ("n", "nin", Some(json!([1, 2])), true, None),
        ("n", "greater_than_or_equal", Some(json!(10)), true, None),
        ("n", "less_than_or_equal", Some(json!(9)), false, None),
    ]);
}

#[test]
fn membership_operators() {
    run(vec![
        ("tier", "in", Some(json!(["gold", "platinum"])), true, None),
        ("tier", "in", Some(json!(["silver"])), false, None),
        ("n", "in", Some(json!([1, 10.0])), true, None),
        ("missing", "in", Some(json!(["gold"])), false, ABSENT),
        ("n", "in", Some(json!(["10", "20"])), false, MISMATCH),
        ("n", "in", Some(json!(["10", 20])), false, None),
        ("n", "not_in", Some(json!(["10", "20"])), false, MISMATCH),
        ("tier", "not_in", Some(json!(["silver"])), true, None),
        ("tier", "not_in", Some(json!(["gold"])), false, None),
        ("missing", "not_in", Some(json!(["gold"])), true, ABSENT),
        ("s", "contains", Some(json!("lo wo")), true, None),
        ("s", "contains", Some(json!("xyz")), false, None),
        ("arr", "contains", Some(json!("b")), true, None),
        ("arr", "contains", Some(json!(3)), true, None),
        ("arr", "contains", Some(json!("z")), false, None),
        ("obj", "contains", Some(json!("k")), true, None),
        ("n", "contains", Some(json!("1")), false, MISMATCH),
        ("missing", "contains", Some(json!("a")), false, ABSENT),
        ("s", "not_contains", Some(json!("xyz")), true, None),
        ("s", "not_contains", Some(json!("hello")), false, None),
        ("missing", "not_contains", Some(json!("a")), true, ABSENT),
        ("n", "not_contains", Some(json!("a")), false, MISMATCH),
    ]);
}

#[test]
fn string_operators() {
    run(vec![
        ("s", "startswith", Some(json!("hello")), true, None),
        ("s", "startswith", Some(json!("world")), false, None),
        ("n", "startswith", Some(json!("1")), false, MISMATCH),
        ("missing", "startswith", Some(json!("a")), false, ABSENT),
        ("s", "endswith", Some(json!("world")), true, None),
        ("s", "endswith", Some(json!("hello")), false, None),
        ("arr", "endswith", Some(json!("b")), false, MISMATCH),
        ("missing", "endswith", Some(json!("a")), false, ABSENT),
        (
            "email",
            "matches",
            Some(json!("^[^@]+@example\\.com$")),
            true,
            None,
        ),
        ("email", "matches", Some(json!("^admin@")), false, None),
        ("n", "matches", Some(json!("1")), false, MISMATCH),
        ("missing", "matches", Some(json!(".*")), false, ABSENT),
        (
            "lead.company_name",
            "contains",
            Some(json!("Tech")),
            true,
            None,
        ),
    ]);
}

#[test]
fn existence_and_emptiness() {
    run(vec![
        ("n", "exists", None, true, None),
        ("missing", "exists", None, false, None),
        ("nul", "exists", None, false, None),
        ("n", "exists", Some(json!(false)), false, None),
        ("missing", "exists", Some(json!(false)), true, None),
        ("missing", "not_exists", None, true, None),
        ("n", "not_exists", None, false, None),
        ("nul", "not_exists", None, true, None),
        ("n", "not_empty", None, true, None),
        ("missing", "not_empty", None, false, None),
        ("empty_s", "is_empty", None, true, None),
        ("empty_a", "is_empty", None, true, None),
        ("missing", "is_empty", None, true, None),
        ("s", "is_empty", None, false, None),
        ("s", "not_empty", None, true, None),
        ("empty_a", "not_empty", None, false, None),
    ]);
}

#[test]
fn between_is_inclusive_for_numbers_strings_and_dates() {
    run(vec![
        ("n", "between", Some(json!([10, 20])), true, None),
        ("n", "between", Some(json!([1, 9.99])), false, None),
        ("f", "between", Some(json!([2, 3])), true, None),
        ("tier", "between", Some(json!(["a", "h"])), true, None),
        (
            "day",
            "between",
            Some(json!(["2026-11-01", "2026-11-30"])),
            true,
            None,
        ),
        ("n", "between", Some(json!(["a", "z"])), false, MISMATCH),
        ("missing", "between", Some(json!([1, 2])), false, ABSENT),
    ]);
}

#[test]
fn dates_compare_as_instants_and_relative_forms_resolve_against_now() {
    // now is 2026-11-22T12:00:00Z
    run(vec![
        ("created_at", "gt", Some(json!("2026-10-31")), true, None),
        // 2025-01-01T00:00:00+02:00 is 2024-12-31T22:00:00Z.
        ("old", "lt", Some(json!("2024-12-31T23:00:00Z")), true, None),
        (
            "old",
            "lt",
            Some(json!("2024-12-31T22:00:00Z")),
            false,
            None,
        ),
        (
            "old",
            "eq",
            Some(json!("2025-01-01T00:00:00+02:00")),
            true,
            None,
        ),
        // "signed up in the last 30 days", three ways.
        ("created_at", "gt", Some(json!("30d")), true, None),
        ("created_at", "gt", Some(json!("now-30d")), true, None),
        ("created_at", "gte", Some(json!("today-30")), true, None),
        ("created_at", "gt", Some(json!("now-7d")), false, None),
        ("old", "gt", Some(json!("30d")), false, None),
        ("created_at", "within_last", Some(json!("30d")), true, None),
        ("created_at", "within_last", Some(json!("7d")), false, None),
        ("soon", "within_last", Some(json!("30d")), false, None),
        ("old", "not_within_last", Some(json!("30d")), true, None),
        ("created_at", "older_than", Some(json!("30d")), false, None),
        ("soon", "within_next", Some(json!("7d")), true, None),
        ("created_at", "within_next", Some(json!("7d")), false, None),
        (
            "created_at",
            "before",
            Some(json!("2026-11-02")),
            true,
            None,
        ),
        ("created_at", "before", Some(json!("now-30d")), false, None),
        ("created_at", "after", Some(json!("today-30")), true, None),
        (
            "created_at",
            "after",
            Some(json!("2026-12-01")),
            false,
            None,
        ),
        ("s", "within_last", Some(json!("30d")), false, MISMATCH),
        ("s", "gt", Some(json!("now-30d")), false, MISMATCH),
        ("s", "before", Some(json!("2026-01-01")), false, MISMATCH),
        ("missing", "within_last", Some(json!("30d")), false, ABSENT),
        ("missing", "after", Some(json!("2026-01-01")), false, ABSENT),
        (
            "missing",
            "before",
            Some(json!("2026-01-01")),
            false,
            ABSENT,
        ),
        ("b", "after", Some(json!("2026-01-01")), false, MISMATCH),
        ("s", "not_within_last", Some(json!("30d")), false, MISMATCH),
        (
            "missing",
            "not_within_last",
            Some(json!("30d")),
            false,
            ABSENT,
        ),
        ("s", "within_next", Some(json!("7d")), false, MISMATCH),
        ("missing", "within_next", Some(json!("7d")), false, ABSENT),
    ]);
}

#[test]
fn dot_paths_reach_into_objects_and_arrays() {
    run(vec![
        ("lead.owner.email", "eq", Some(json!("o@x.io")), true, None),
        ("items.0.sku", "eq", Some(json!("X1")), true, None),
        ("items.0.qty", "gte", Some(json!(2)), true, None),
        ("items.1.sku", "eq", Some(json!("X1")), false, ABSENT),
        ("lead.owner.phone", "exists", None, false, None),
    ]);
}

#[test]
fn values_can_be_templates_over_the_context() {
    run(vec![
        ("n", "lt", Some(json!("{{limit}}")), true, None),
        ("n", "gt", Some(json!("{{limit}}")), false, None),
        ("tier", "eq", Some(json!("{{tier}}")), true, None),
        // A value naming an unknown path has nothing to compare with.
        (
            "n",
            "lt",
            Some(json!("{{no_such_limit}}")),
            false,
            Some("absent field"),
        ),
    ]);
    let (_, trace) = eval("n", "lt", Some(json!("{{limit}}")));
    assert!(matches!(trace, CondTrace::Compare { expected, .. } if expected == json!(12)));
}

#[test]
fn combinators_nest_and_short_circuit() {
    let rules = Rules::default();
    let env = env(&rules);
    let c = condition(&json!({"and": [
        {"field": "tier", "operator": "eq", "value": "gold"},
        {"or": [
            {"field": "n", "operator": "gt", "value": 100},
            {"not": {"field": "s", "operator": "contains", "value": "xyz"}}
        ]}
    ]}));
    let t = c.eval_traced(&ctx(), &env, &mut RenderTrace::default());
    assert!(t.result());
    // The `and` stops at the first false; the second comparison is not evaluated.
    let c = condition(&json!({"and": [
        {"field": "tier", "operator": "eq", "value": "silver"},
        {"field": "n", "operator": "gt", "value": 1}
    ]}));
    let t = c.eval_traced(&ctx(), &env, &mut RenderTrace::default());
    assert!(
        matches!(&t, CondTrace::And { and, result: false } if and.len() == 1),
        "{t:?}"
    );
    let c = condition(&json!({"or": [
        {"field": "tier", "operator": "eq", "value": "gold"},
        {"field": "n", "operator": "gt", "value": 1}
    ]}));
    let t = c.eval_traced(&ctx(), &env, &mut RenderTrace::default());
    assert!(
        matches!(&t, CondTrace::Or { or, result: true } if or.len() == 1),
        "{t:?}"
    );
    // A list is the `and` of its items (trigger conditions are often written as a list).
    let c = condition(
        &json!([{"field": "n", "operator": "eq", "value": 10}, {"field": "b", "operator": "eq", "value": false}]),
    );
    assert!(!c.eval(&ctx(), &env));
    // `all` and `any` are accepted for `and` and `or`.
    let c = condition(
        &json!({"any": [{"field": "n", "operator": "eq", "value": 1}, {"field": "b", "operator": "eq", "value": true}]}),
    );
    assert!(c.eval(&ctx(), &env));
}

#[test]
fn rules_are_referenced_by_id_and_cannot_recurse_forever() {
    let mut rules = Rules::default();
    rules.insert(Rule {
        id: "check_cart_value".into(),
        name: None,
        description: None,
        kind: Some("threshold".into()),
        enabled: true,
        condition: condition(
            &json!({"field": "cart.total", "operator": "greater_than", "value": 1000}),
        ),
    });
    rules.insert(Rule {
        id: "loop".into(),
        name: None,
        description: None,
        kind: None,
        enabled: true,
        condition: Condition::Rule("loop".into()),
    });
    let env = env(&rules);
    let c = condition(&json!({"rule": "check_cart_value"}));
    assert!(c.eval(&json!({"cart": {"total": 1500}}), &env));
    assert!(!c.eval(&json!({"cart": {"total": 500}}), &env));
    let t = c.eval_traced(
        &json!({"cart": {"total": 1500}}),
        &env,
        &mut RenderTrace::default(),
    );
    assert!(
        matches!(&t, CondTrace::Rule { rule, result: true, condition: Some(_), .. } if rule == "check_cart_value")
    );
    let looping = condition(&json!({"rule": "loop"}));
    assert!(!looping.eval(&json!({}), &env));
    let t = looping.eval_traced(&json!({}), &env, &mut RenderTrace::default());
    assert!(!t.result());
    let unknown = condition(&json!({"rule": "nope"}));
    let t = unknown.eval_traced(&json!({}), &env, &mut RenderTrace::default());
    assert!(
        matches!(&t, CondTrace::Rule { note: Some(n), result: false, .. } if n.contains("unknown"))
    );
}

#[test]
fn traces_show_the_values_compared() {
    let (_, t) = eval("n", "gte", Some(json!(5)));
    let v = serde_json::to_value(&t).unwrap();
    assert_eq!(
        v,
        json!({"field": "n", "operator": "gte", "expected": 5, "actual": 10, "result": true})
    );
    let (_, t) = eval("n", "eq", Some(json!("10")));
    let v = serde_json::to_value(&t).unwrap();
    assert_eq!(
        v["note"],
        json!("type mismatch: number compared with string")
    );
}

#[test]
fn malformed_conditions_are_diagnosed_with_paths() {
    let cases = [
        (
            json!({"field": "a", "operator": "bogus", "value": 1}),
            Code::UnknownOperator,
            "$.operator",
        ),
        (
            json!({"field": "a", "operator": "matches", "value": "(unclosed"}),
            Code::BadRegex,
            "$.value",
        ),
        (
            json!({"field": "a", "operator": "eq"}),
            Code::MissingField,
            "$",
        ),
        (
            json!({"operator": "eq", "value": 1}),
            Code::MissingField,
            "$",
        ),
        (
            json!({"field": "a", "operator": "in", "value": "x"}),
            Code::WrongType,
            "$.value",
        ),
        (
            json!({"field": "a", "operator": "between", "value": [1]}),
            Code::WrongType,
            "$.value",
        ),
        (
            json!({"field": "a", "operator": "within_last", "value": "soon"}),
            Code::BadDuration,
            "$.value",
        ),
        (
            json!({"field": "a", "operator": "before", "value": "whenever"}),
            Code::InvalidValue,
            "$.value",
        ),
        (
            json!({"field": "a..b", "operator": "eq", "value": 1}),
            Code::InvalidValue,
            "$.field",
        ),
        (
            json!({"field": 3, "operator": "eq", "value": 1}),
            Code::WrongType,
            "$.field",
        ),
        (
            json!({"field": "a", "operator": "eq", "value": 1, "extra": 2}),
            Code::UnknownField,
            "$.extra",
        ),
        (json!({"and": []}), Code::InvalidValue, "$.and"),
        (json!({"and": {"field": "a"}}), Code::WrongType, "$.and"),
        (
            json!({"and": [{"field": "a", "operator": "eq", "value": 1}], "or": []}),
            Code::InvalidValue,
            "$",
        ),
        (
            json!({"not": {"field": "a", "operator": "nope", "value": 1}}),
            Code::UnknownOperator,
            "$.not.operator",
        ),
        (json!({"rule": 5}), Code::WrongType, "$.rule"),
        (
            json!({"field": "a", "operator": "eq", "value": "{{unclosed"}),
            Code::BadTemplate,
            "$.value",
        ),
        (json!("a > 5"), Code::WrongType, "$"),
    ];
    for (doc, code, path) in cases {
        let mut diags = Diags::default();
        let parsed = Condition::parse(&doc, "$", &mut diags);
        assert!(parsed.is_none(), "{doc} should not parse");
        assert!(
            diags.0.iter().any(|d| d.code == code && d.path == path),
            "{doc}: expected {code} at {path}, got {:?}",
            diags.0
        );
    }
}

#[test]
fn deeply_nested_conditions_within_the_document_limit_evaluate() {
    // 60 levels of `not` is legal; evaluating it must not be a problem.
    let mut doc = json!({"field": "n", "operator": "eq", "value": 10});
    for _ in 0..60 {
        doc = json!({"not": doc});
    }
    let c = condition(&doc);
    let rules = Rules::default();
    assert!(c.eval(&ctx(), &env(&rules)));
}

// Regressions found in review of the first version.

#[test]
fn only_exact_relative_forms_are_dates() {
    run(vec![
        // "nowak" and "today's" are names, not times.
        ("s", "gt", Some(json!("nowak")), false, None),
        ("tier", "lt", Some(json!("nowak")), true, None),
        ("tier", "ne", Some(json!("today's special")), true, None),
        // Between two bare durations it is text.
        ("tier", "gt", Some(json!("2w")), true, None),
        ("created_at", "gt", Some(json!("30d ago")), true, None),
        ("created_at", "gt", Some(json!("-30d")), true, None),
    ]);
}

#[test]
fn a_value_template_naming_an_absent_field_compares_false() {
    run(vec![
        (
            "n",
            "eq",
            Some(json!("{{no_such_field}}")),
            false,
            Some("absent field"),
        ),
        (
            "missing",
            "eq",
            Some(json!("{{no_such_field}}")),
            false,
            Some("absent field"),
        ),
        (
            "n",
            "ne",
            Some(json!("{{no_such_field}}")),
            false,
            Some("absent field"),
        ),
    ]);
}

#[test]
fn a_disabled_rule_is_false() {
    let mut rules = Rules::default();
    rules.insert(Rule {
        id: "off".into(),
        name: None,
        description: None,
        kind: None,
        enabled: false,
        condition: condition(&json!({"field": "n", "operator": "eq", "value": 10})),
    });
    let env = env(&rules);
    let c = condition(&json!({"rule": "off"}));
    assert!(!c.eval(&ctx(), &env));
    let t = c.eval_traced(&ctx(), &env, &mut RenderTrace::default());
    assert!(matches!(&t, CondTrace::Rule { note: Some(n), .. } if n.contains("disabled")));
}

// Regressions from the review of issue 2.

#[test]
fn a_secret_in_a_value_is_compared_in_clear_and_shown_redacted() {
    let rules = Rules::default();
    let secret = |n: &str| (n == "TOKEN").then(|| "hunter2".to_owned());
    let ids = || "id".to_owned();
    let env = weir_core::Env {
        now: crate::support::now(),
        secrets: &secret,
        ids: &ids,
        rules: &rules,
    };
    let c = condition(&json!({"field": "token", "operator": "eq", "value": "{{secrets.TOKEN}}"}));
    assert!(c.eval(&json!({"token": "hunter2"}), &env));
    assert!(
        !c.eval(&json!({"token": "***"}), &env),
        "the redaction mark is not the secret"
    );
    let t = c.eval_traced(
        &json!({"token": "hunter2"}),
        &env,
        &mut RenderTrace::default(),
    );
    let text = serde_json::to_string(&t).unwrap();
    assert!(
        t.result() && text.contains("\"expected\":\"***\""),
        "{text}"
    );
}

#[test]
fn every_operator_spelling_means_its_operator() {
    use weir_core::condition::{OPERATOR_NAMES, Op};
    // One field and value per operator, each true for the context above.
    let sample = |op: Op| -> (&'static str, Option<Value>) {
        match op {
            Op::Eq => ("n", Some(json!(10))),
            Op::Ne => ("n", Some(json!(11))),
            Op::Gt => ("n", Some(json!(9))),
            Op::Gte => ("n", Some(json!(10))),
            Op::Lt => ("n", Some(json!(11))),
            Op::Lte => ("n", Some(json!(10))),
            Op::In => ("tier", Some(json!(["gold"]))),
            Op::NotIn => ("tier", Some(json!(["silver"]))),
            Op::Contains => ("s", Some(json!("lo w"))),
            Op::NotContains => ("s", Some(json!("xyz"))),
            Op::StartsWith => ("s", Some(json!("hell"))),
            Op::EndsWith => ("s", Some(json!("orld"))),
            Op::Exists => ("n", None),
            Op::NotExists => ("missing", None),
            Op::Matches => ("email", Some(json!("@example"))),
            Op::Between => ("n", Some(json!([1, 20]))),
            Op::Before => ("created_at", Some(json!("2026-11-02"))),
            Op::After => ("created_at", Some(json!("2026-10-01"))),
            Op::WithinLast => ("created_at", Some(json!("30d"))),
            Op::NotWithinLast => ("old", Some(json!("30d"))),
            Op::WithinNext => ("soon", Some(json!("7d"))),
            Op::IsEmpty => ("empty_s", None),
            Op::NotEmpty => ("s", None),
        }
    };
    assert!(OPERATOR_NAMES.len() >= 60);
    for (name, op) in OPERATOR_NAMES {
        let (field, value) = sample(*op);
        let (result, _) = eval(field, name, value.clone());
        assert!(
            result,
            "'{name}' should mean {} and hold for {field} {value:?}",
            op.name()
        );
        // The upper-case spelling works too.
        let (upper, _) = eval(field, &name.to_ascii_uppercase(), value);
        assert!(upper, "'{}'", name.to_ascii_uppercase());
    }
}

#[test]
fn equal_instants_are_equal_whatever_their_spelling() {
    run(vec![
        ("old", "eq", Some(json!("2024-12-31T22:00:00Z")), true, None),
        (
            "old",
            "in",
            Some(json!(["2024-12-31T22:00:00Z"])),
            true,
            None,
        ),
        (
            "old",
            "ne",
            Some(json!("2024-12-31T22:00:00Z")),
            false,
            None,
        ),
    ]);
}

#[test]
fn large_integers_are_not_rounded_against_floats() {
    let c = condition(&json!({"field": "x", "operator": "eq", "value": 9007199254740993u64}));
    let rules = Rules::default();
    assert!(!c.eval(&json!({"x": 9007199254740992.0}), &env(&rules)));
    assert!(c.eval(&json!({"x": 9007199254740993u64}), &env(&rules)));
    let c = condition(&json!({"field": "x", "operator": "eq", "value": 3}));
    assert!(c.eval(&json!({"x": 3.0}), &env(&rules)));
}

#[test]
fn a_templated_pattern_is_bounded() {
    let long = "a".repeat(2000);
    let ctx = json!({"p": long, "s": "aaa"});
    let c = condition(&json!({"field": "s", "operator": "matches", "value": "{{p}}"}));
    let rules = Rules::default();
    let t = c.eval_traced(&ctx, &env(&rules), &mut RenderTrace::default());
    assert!(!t.result());
    assert!(
        matches!(&t, CondTrace::Compare { note: Some(n), .. } if n.contains("longer than 1024")),
        "{t:?}"
    );
}

/// The text a wait stores so a store can skip events that cannot match: only an `eq` on a plain
/// path (bracketed keys read as dotted), valued by a string that renders the same for as long
/// as the run waits and is not a time.
#[test]
fn a_required_text_comes_only_from_a_stable_eq_on_a_plain_path() {
    let rules = Rules::default();
    let run = json!({"order": {"id": "o-7"}, "vars": {"ref": "r-1"}, "steps": {}});
    let required = |doc: Value| condition(&doc).required_text(&run, &env(&rules));
    let some = |p: &str, t: &str| Some((p.to_owned(), t.to_owned()));
    let eq = |field: &str, value: Value| json!({"field": field, "operator": "eq", "value": value});
    assert_eq!(
        required(eq("order_id", json!("{{order.id}}"))),
        some("order_id", "o-7")
    );
    assert_eq!(
        required(eq("payment[order]", json!("x"))),
        some("payment.order", "x")
    );
    assert_eq!(
        required(json!({"and": [eq("n", json!(5)), eq("a.b", json!("k-{{order.id}}"))]})),
        some("a.b", "k-o-7")
    );
    for doc in [
        // What later steps write may change while the run waits.
        eq("ref", json!("{{vars.ref}}")),
        eq("ref", json!("{{steps.s.output.id}}")),
        // A clock, a new id, a secret.
        eq("day", json!("d-{{today}}")),
        eq("id", json!("{{uuid}}")),
        eq("key", json!("{{secrets.KEY}}")),
        // Equal as instants whatever the text; not a string; not a plain path; not `eq`.
        eq("at", json!("2026-12-05T10:00:00Z")),
        eq("n", json!(5)),
        eq("items.0.sku", json!("x")),
        eq("0a", json!("x")),
        json!({"field": "id", "operator": "ne", "value": "x"}),
        json!({"or": [eq("a", json!("x")), eq("b", json!("y"))]}),
        json!({"not": eq("a", json!("x"))}),
        // A field the run lacks.
        eq("id", json!("{{order.missing}}")),
    ] {
        assert_eq!(required(doc.clone()), None, "{doc}");
    }
}
