//! Connectors: a tenant's own action types over HTTP. A definition names a base URL, an auth
//! method (API key header, bearer or basic from a secret, OAuth2 client credentials with the
//! token cached until shortly before it expires) and, per action, a JSON Schema of the step's
//! config, a request template and an output mapping:
//!
//! ```json
//! {"name": "billing", "base_url": "https://billing.example.com/api",
//!  "auth": {"type": "bearer", "secret": "BILLING_TOKEN"},
//!  "actions": {"assign_plan": {
//!     "config_schema": {"type": "object", "required": ["plan_id"]},
//!     "request": {"method": "POST", "path": "/subscriptions",
//!                 "body": {"customer_id": "{{customer_id}}", "plan_id": "{{input.plan_id}}"}},
//!     "output": {"subscription_id": "{{response.body.id}}"}}}}
//! ```
//!
//! Templates see the run's context (`{{customer_id}}`, `{{steps.x.output}}`), the step's
//! rendered config as `input` (also `config`), and `secrets`. Requests go through the HTTP
//! action, so the SSRF guard, retries, the idempotency key and the response limits apply.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::{Map, Value, json};
use weir_core::catalog::ActionType;
use weir_core::executor::ActionError;
use weir_core::template::{RenderTrace, Secrets};
use weir_core::{Env, Rules, TemplateValue};
use weir_engine::{Action, ActionContext, ConnectorRunner};

use crate::http::HttpAction;
use crate::invalid;

/// Names a connector action may not take: step kinds and the engine's own actions.
const RESERVED: &[&str] = &[
    "action",
    "allow",
    "approval",
    "block",
    "condition",
    "decision",
    "delay",
    "emit_event",
    "execute",
    "foreach",
    "log",
    "loop",
    "noop",
    "parallel",
    "set",
    "subworkflow",
    "switch",
    "wait",
    "wait_for_event",
    "code",
    "transform",
];

/// Tenant, environment and connector name.
type TokenKey = (String, String, String);

pub struct Runner {
    http: Arc<HttpAction>,
    /// OAuth2 access tokens, with when they go stale.
    tokens: Mutex<HashMap<TokenKey, (String, Instant)>>,
}

impl Runner {
    pub fn new(http: Arc<HttpAction>) -> Runner {
        Runner {
            http,
            tokens: Mutex::new(HashMap::new()),
        }
    }
}

fn secret(ctx: &ActionContext, name: Option<&str>, what: &str) -> Result<String, ActionError> {
    let name = name.ok_or_else(|| invalid(format!("the connector's auth needs '{what}'")))?;
    ctx.secrets.get(name).ok_or_else(|| match ctx.secrets.withheld(name) {
        Some(why) => ActionError::refused(why),
        None => invalid(format!(
            "the secret {name} that the connector's auth names is not set (POST /api/v1/secrets)"
        )),
    })
}

/// Renders a connector template; an error when it asks for a secret this action may not
/// receive.
fn render(
    value: &Value,
    view: &Value,
    ctx: &ActionContext,
    secrets: Secrets,
) -> Result<Value, ActionError> {
    let mut errors = Vec::new();
    let tv = TemplateValue::compile(value, "$", &mut errors);
    let rules = Rules::default();
    let ids = || uuid_like(ctx);
    let env = Env {
        now: chrono::Utc::now(),
        secrets: ctx.secrets.lookup(),
        ids: &ids,
        rules: &rules,
    };
    let mut trace = RenderTrace::default();
    let out = tv.render(view, &env, secrets, &mut trace);
    match ctx.secrets.refusal(&trace) {
        Some(why) => Err(ActionError::refused(why)),
        None => Ok(out),
    }
}

/// `{{uuid}}` in a connector template: stable per step, so a retry sends the same one.
fn uuid_like(ctx: &ActionContext) -> String {
    ctx.operation_key().to_owned()
}

impl Runner {
    /// An OAuth2 client-credentials token, from the cache while it is fresh.
    async fn oauth_token(
        &self,
        def: &Value,
        auth: &Value,
        ctx: &ActionContext,
        fresh: bool,
    ) -> Result<String, ActionError> {
        let key = (
            ctx.scope.tenant.clone(),
            ctx.scope.environment.clone(),
            def["name"].as_str().unwrap_or_default().to_owned(),
        );
        if !fresh
            && let Some((token, until)) = self.tokens.lock().expect("tokens").get(&key)
            && Instant::now() < *until
        {
            return Ok(token.clone());
        }
        let token_url = auth["token_url"]
            .as_str()
            .ok_or_else(|| invalid("oauth2 auth needs 'token_url'"))?;
        let mut form = Map::new();
        form.insert("grant_type".into(), json!("client_credentials"));
        form.insert("client_id".into(), auth["client_id"].clone());
        form.insert(
            "client_secret".into(),
            json!(secret(
                ctx,
                auth["client_secret"].as_str(),
                "client_secret"
            )?),
        );
        if let Some(scope) = auth["scope"].as_str() {
            form.insert("scope".into(), json!(scope));
        }
        let answer = self
            .http
            .perform(
                ctx,
                json!({"url": token_url, "method": "POST", "form": form}),
            )
            .await
            .map_err(|mut e| {
                e.message = format!("getting an OAuth2 token: {}", e.message);
                e
            })?;
        let token = answer["body"]["access_token"]
            .as_str()
            .ok_or_else(|| ActionError::retryable("the OAuth2 token answer has no access_token"))?
            .to_owned();
        let lifetime = answer["body"]["expires_in"].as_u64().unwrap_or(300);
        // Renewed a little early, so a token does not expire on its way.
        let until = Instant::now() + Duration::from_secs(lifetime.saturating_sub(30));
        let mut tokens = self.tokens.lock().expect("tokens");
        if tokens.len() > 10_000 {
            tokens.clear();
        }
        tokens.insert(key, (token.clone(), until));
        Ok(token)
    }

    async fn auth_header(
        &self,
        def: &Value,
        ctx: &ActionContext,
        fresh_token: bool,
    ) -> Result<Option<(String, String)>, ActionError> {
        let auth = &def["auth"];
        Ok(match auth["type"].as_str().unwrap_or("none") {
            "none" => None,
            "api_key" => Some((
                auth["header"].as_str().unwrap_or("X-API-Key").to_owned(),
                secret(ctx, auth["secret"].as_str(), "secret")?,
            )),
            "bearer" => Some((
                "Authorization".into(),
                format!("Bearer {}", secret(ctx, auth["secret"].as_str(), "secret")?),
            )),
            "basic" => {
                use base64::Engine as _;
                let user = auth["username"].as_str().unwrap_or_default();
                let pass = secret(ctx, auth["password_secret"].as_str(), "password_secret")?;
                let pair =
                    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
                Some(("Authorization".into(), format!("Basic {pair}")))
            }
            "oauth2" => {
                let token = self.oauth_token(def, auth, ctx, fresh_token).await?;
                Some(("Authorization".into(), format!("Bearer {token}")))
            }
            other => return Err(invalid(format!("unknown auth type '{other}'"))),
        })
    }
}

#[async_trait]
impl ConnectorRunner for Runner {
    async fn perform(
        &self,
        def: &Value,
        action: &str,
        ctx: &ActionContext,
        input: Value,
    ) -> Result<Value, ActionError> {
        let spec = &def["actions"][action];
        let request = &spec["request"];
        let mut view = match &ctx.context {
            Value::Object(m) => m.clone(),
            _ => Map::new(),
        };
        view.insert("input".into(), input.clone());
        view.insert("config".into(), input.clone());
        view.insert(
            "connector".into(),
            json!({"name": def["name"], "base_url": def["base_url"]}),
        );
        let view = Value::Object(view);
        let path = render(&request["path"], &view, ctx, Secrets::Reveal)?;
        let path = path.as_str().unwrap_or("");
        let base = def["base_url"]
            .as_str()
            .unwrap_or_default()
            .trim_end_matches('/');
        let mut call = Map::new();
        call.insert("url".into(), json!(format!("{base}{path}")));
        call.insert(
            "method".into(),
            json!(request["method"].as_str().unwrap_or("POST")),
        );
        for field in ["query", "body", "form"] {
            if let Some(v) = request.get(field) {
                call.insert(field.into(), render(v, &view, ctx, Secrets::Reveal)?);
            }
        }
        let mut headers = match render(&def["headers"], &view, ctx, Secrets::Reveal)? {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        if let Value::Object(h) = render(&request["headers"], &view, ctx, Secrets::Reveal)? {
            headers.extend(h);
        }
        for field in ["timeout", "expect_status"] {
            if let Some(v) = spec.get(field).or_else(|| def.get(field)) {
                call.insert(field.into(), v.clone());
            }
        }
        let mut attempt = 0;
        let response = loop {
            attempt += 1;
            let mut h = headers.clone();
            if let Some((name, value)) = self.auth_header(def, ctx, attempt > 1).await? {
                h.insert(name, json!(value));
            }
            call.insert("headers".into(), Value::Object(h));
            match self.http.perform(ctx, Value::Object(call.clone())).await {
                // An expired OAuth2 token: get a new one once.
                Err(e)
                    if attempt == 1
                        && def["auth"]["type"] == "oauth2"
                        && e.message.contains("answered 401") =>
                {
                    continue;
                }
                other => break other?,
            }
        };
        let result = json!({"response": response, "input": input});
        Ok(match spec.get("output") {
            Some(mapping) if !mapping.is_null() => render(mapping, &result, ctx, Secrets::Redact)?,
            _ => json!({"status": response["status"], "body": response["body"]}),
        })
    }
}

/// An action type name: a lowercase letter, then lowercase letters, digits and `_`.
fn valid_action_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 64
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_')
}

fn valid_secret_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 64
        && (b[0].is_ascii_alphabetic() || b[0] == b'_')
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

/// Checks a connector definition; every problem as (JSON path, message).
pub fn check(def: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut err = |path: &str, message: String| out.push((path.to_owned(), message));
    let Some(map) = def.as_object() else {
        err("$", "a connector is an object".into());
        return out;
    };
    let known = [
        "name",
        "description",
        "base_url",
        "auth",
        "headers",
        "timeout",
        "actions",
    ];
    for k in map.keys().filter(|k| !known.contains(&k.as_str())) {
        err(
            &format!("$.{k}"),
            format!("unknown field; a connector has {}", known.join(", ")),
        );
    }
    match map.get("name").and_then(Value::as_str) {
        Some(n)
            if !n.is_empty()
                && n.len() <= 63
                && n.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-'
                }) => {}
        _ => err(
            "$.name",
            "lowercase letters, digits, '_' and '-', at most 63".into(),
        ),
    }
    match map
        .get("base_url")
        .and_then(Value::as_str)
        .map(reqwest::Url::parse)
    {
        Some(Ok(u)) if matches!(u.scheme(), "http" | "https") && u.query().is_none() => {}
        _ => err("$.base_url", "an http or https URL without a query".into()),
    }
    if let Some(d) = map.get("description")
        && !d.is_string()
    {
        err("$.description", "a string".into());
    }
    let auth = map.get("auth").cloned().unwrap_or(json!({"type": "none"}));
    let kind = auth["type"].as_str().unwrap_or("");
    let needs: &[&str] = match kind {
        "none" => &[],
        "api_key" | "bearer" => &["secret"],
        "basic" => &["username", "password_secret"],
        "oauth2" => &["token_url", "client_id", "client_secret"],
        _ => {
            err(
                "$.auth.type",
                "one of none, api_key, bearer, basic, oauth2".into(),
            );
            &[]
        }
    };
    for field in needs {
        match auth.get(*field).and_then(Value::as_str) {
            Some(v) if field.ends_with("secret") && !valid_secret_name(v) => err(
                &format!("$.auth.{field}"),
                "the name of a secret (POST /api/v1/secrets)".into(),
            ),
            Some(_) => {}
            None => err(
                &format!("$.auth.{field}"),
                format!("{kind} auth needs '{field}'"),
            ),
        }
    }
    if kind == "oauth2"
        && auth["token_url"]
            .as_str()
            .is_some_and(|u| reqwest::Url::parse(u).is_err())
    {
        err("$.auth.token_url", "a URL".into());
    }
    let mut template_errors = Vec::new();
    if let Some(h) = map.get("headers") {
        if !h.is_object() {
            err("$.headers", "an object of header templates".into());
        }
        TemplateValue::compile(h, "$.headers", &mut template_errors);
    }
    match map.get("actions").and_then(Value::as_object) {
        Some(actions) if !actions.is_empty() && actions.len() <= 100 => {
            for (name, spec) in actions {
                let at = format!("$.actions.{name}");
                if !valid_action_name(name) {
                    err(&at, "an action name is a lowercase letter, then lowercase letters, digits and '_'".into());
                }
                if RESERVED.contains(&name.as_str()) {
                    err(
                        &at,
                        format!("'{name}' is Weir's own; name the action otherwise"),
                    );
                }
                let Some(spec) = spec.as_object() else {
                    err(&at, "an action is an object".into());
                    continue;
                };
                let fields = [
                    "description",
                    "config_schema",
                    "request",
                    "output",
                    "timeout",
                    "expect_status",
                ];
                for k in spec.keys().filter(|k| !fields.contains(&k.as_str())) {
                    err(
                        &format!("{at}.{k}"),
                        format!("unknown field; an action has {}", fields.join(", ")),
                    );
                }
                if let Some(schema) = spec.get("config_schema")
                    && let Err(e) = ActionType::new(name, "", true, schema.clone())
                {
                    err(&format!("{at}.config_schema"), e);
                }
                let Some(request) = spec.get("request").and_then(Value::as_object) else {
                    err(
                        &format!("{at}.request"),
                        "required: {\"method\", \"path\", ...}".into(),
                    );
                    continue;
                };
                match request
                    .get("method")
                    .and_then(Value::as_str)
                    .map(str::to_ascii_uppercase)
                    .as_deref()
                {
                    None | Some("GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD") => {}
                    Some(_) => err(
                        &format!("{at}.request.method"),
                        "GET, POST, PUT, PATCH, DELETE or HEAD".into(),
                    ),
                }
                match request.get("path").and_then(Value::as_str) {
                    Some(p) if p.starts_with('/') && !p.starts_with("//") => {}
                    _ => err(
                        &format!("{at}.request.path"),
                        "a path under the base URL, starting with '/'".into(),
                    ),
                }
                for k in request.keys() {
                    if !["method", "path", "headers", "query", "body", "form"].contains(&k.as_str())
                    {
                        err(
                            &format!("{at}.request.{k}"),
                            "unknown field; a request has method, path, headers, query, body, form"
                                .into(),
                        );
                    }
                }
                TemplateValue::compile(
                    &Value::Object(request.clone()),
                    &format!("{at}.request"),
                    &mut template_errors,
                );
                if let Some(o) = spec.get("output") {
                    TemplateValue::compile(o, &format!("{at}.output"), &mut template_errors);
                }
            }
        }
        _ => err("$.actions", "an object of 1 to 100 actions".into()),
    }
    for (path, message) in template_errors {
        err(&path, message);
    }
    out
}

/// The names a definition's actions take.
pub fn action_names(def: &Value) -> Vec<String> {
    def["actions"]
        .as_object()
        .map(|a| a.keys().cloned().collect())
        .unwrap_or_default()
}

/// Lets the engine's action registry run connectors through this crate's HTTP action.
pub fn runner(http: Arc<HttpAction>) -> Arc<dyn ConnectorRunner> {
    Arc::new(Runner::new(http))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_connectors_are_valid() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../connectors");
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let text = std::fs::read_to_string(entry.path()).unwrap();
            let def: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(
                check(&def),
                Vec::<(String, String)>::new(),
                "{}",
                entry.path().display()
            );
            seen += 1;
        }
        assert!(seen >= 3);
    }

    #[test]
    fn a_bad_definition_gets_every_problem_with_its_path() {
        let problems = check(
            &json!({"name": "Bad Name", "base_url": "ftp://x", "auth": {"type": "oauth2"},
            "actions": {"Upper": {"request": {"path": "no-slash", "method": "TRACE"}}, "set": {"request": {"path": "/{{"}}},
            "extra": 1}),
        );
        let paths: Vec<&str> = problems.iter().map(|(p, _)| p.as_str()).collect();
        for p in [
            "$.name",
            "$.base_url",
            "$.auth.token_url",
            "$.auth.client_secret",
            "$.actions.Upper",
            "$.actions.Upper.request.path",
            "$.actions.Upper.request.method",
            "$.actions.set",
            "$.extra",
        ] {
            assert!(paths.contains(&p), "{p} in {problems:?}");
        }
    }
}
