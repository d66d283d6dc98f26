//! Templates: paths, type preservation, helpers, secrets and unknown paths.

use serde_json::{Value, json};
use weir_core::template::{REDACTED, RenderTrace, Secrets, Template, TemplateValue};
use weir_core::{Env, Rules};

use crate::support::now;

fn ctx() -> Value {
    json!({"lead": {"id": 42, "email": "a@b.c", "company_name": "Tech Corp", "tags": ["x"], "owner": {"email": "o@x.io"}}, "flag": false})
}

fn render(text: &str, secrets: Secrets) -> (Value, RenderTrace) {
    let rules = Rules::default();
    let secret = |name: &str| (name == "API_KEY").then(|| "s3cret".to_owned());
    let ids = || "id-1".to_owned();
    let env = Env {
        now: now(),
        secrets: &secret,
        ids: &ids,
        rules: &rules,
    };
    let t = Template::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
    let mut trace = RenderTrace::default();
    let v = t.render(&ctx(), &env, secrets, &mut trace);
    (v, trace)
}

#[test]
fn paths_in_text_and_whole_values_keep_their_type() {
    assert_eq!(
        render("Follow up with {{lead.company_name}}", Secrets::Reveal).0,
        json!("Follow up with Tech Corp")
    );
    assert_eq!(
        render("/leads/{{lead.id}}", Secrets::Reveal).0,
        json!("/leads/42")
    );
    assert_eq!(render("{{lead.id}}", Secrets::Reveal).0, json!(42));
    assert_eq!(render("{{ lead.tags }}", Secrets::Reveal).0, json!(["x"]));
    assert_eq!(render("{{flag}}", Secrets::Reveal).0, json!(false));
    assert_eq!(
        render("{{lead.owner}}", Secrets::Reveal).0,
        json!({"email": "o@x.io"})
    );
    assert_eq!(
        render("tags: {{lead.tags}}", Secrets::Reveal).0,
        json!("tags: [\"x\"]")
    );
}

#[test]
fn helpers_use_the_environment() {
    // now is 2026-11-22T12:00:00Z
    assert_eq!(render("{{today}}", Secrets::Reveal).0, json!("2026-11-22"));
    assert_eq!(
        render("{{today+2}}", Secrets::Reveal).0,
        json!("2026-11-24")
    );
    assert_eq!(
        render("{{today-30}}", Secrets::Reveal).0,
        json!("2026-10-23")
    );
    assert_eq!(
        render("{{now}}", Secrets::Reveal).0,
        json!("2026-11-22T12:00:00Z")
    );
    assert_eq!(
        render("{{now-1h}}", Secrets::Reveal).0,
        json!("2026-11-22T11:00:00Z")
    );
    assert_eq!(render("{{uuid}}", Secrets::Reveal).0, json!("id-1"));
}

#[test]
fn secrets_resolve_through_the_callback_and_are_redacted_in_traces() {
    let (v, t) = render("Bearer {{secrets.API_KEY}}", Secrets::Reveal);
    assert_eq!(v, json!("Bearer s3cret"));
    assert_eq!(t.secrets_used, vec!["API_KEY"]);
    let (v, _) = render("Bearer {{secrets.API_KEY}}", Secrets::Redact);
    assert_eq!(v, json!(format!("Bearer {REDACTED}")));
    assert!(!v.to_string().contains("s3cret"));
    let (v, t) = render("{{secrets.MISSING}}", Secrets::Reveal);
    assert_eq!(v, Value::Null);
    assert_eq!(t.missing_secrets, vec!["MISSING"]);
}

#[test]
fn unknown_paths_render_empty_or_null_and_are_listed() {
    let (v, t) = render("Hi {{lead.first_name}}!", Secrets::Reveal);
    assert_eq!(v, json!("Hi !"));
    assert_eq!(t.missing_paths, vec!["lead.first_name"]);
    let (v, t) = render("{{nope.deeper}}", Secrets::Reveal);
    assert_eq!(v, Value::Null);
    assert_eq!(t.missing_paths, vec!["nope.deeper"]);
}

#[test]
fn malformed_templates_are_rejected_at_parse_time() {
    for bad in [
        "{{",
        "{{}}",
        "a {{b",
        "{{today+x}}",
        "{{now-forever}}",
        "{{secrets.}}",
        "{{a b}}",
        "{{a..b}}",
    ] {
        assert!(Template::parse(bad).is_err(), "{bad} should not parse");
    }
}

#[test]
fn template_values_render_nested_structures() {
    let config = json!({"to": "{{lead.email}}", "variables": {"id": "{{lead.id}}", "n": 1}, "list": ["{{flag}}", "x"]});
    let mut errors = Vec::new();
    let tv = TemplateValue::compile(&config, "$", &mut errors);
    assert!(errors.is_empty());
    let rules = Rules::default();
    let env = Env::new(now(), &rules);
    let v = tv.render(&ctx(), &env, Secrets::Redact, &mut RenderTrace::default());
    assert_eq!(
        v,
        json!({"to": "a@b.c", "variables": {"id": 42, "n": 1}, "list": [false, "x"]})
    );
    // A subtree without templates is kept as one literal.
    let lit = TemplateValue::compile(&json!({"a": [1, 2]}), "$", &mut errors);
    assert!(lit.as_literal().is_some());
}

#[test]
fn today_takes_whole_day_durations_as_in_conditions() {
    assert_eq!(
        render("{{today-1w}}", Secrets::Reveal).0,
        json!("2026-11-15")
    );
    assert_eq!(
        render("{{today+2d}}", Secrets::Reveal).0,
        json!("2026-11-24")
    );
    assert!(
        Template::parse("{{today+3h}}").is_err(),
        "a date moves by whole days"
    );
}
