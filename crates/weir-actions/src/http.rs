//! `http_request`, `webhook` and `call_webhook`: one HTTP request per attempt, through the
//! outbound guard. The step output is the response: `status`, `headers` and `body` (JSON when
//! it parses, text otherwise). Timeouts, connection errors, 408, 429 and 5xx are retryable (by
//! the step's retry policy, whose `retry_on` names the classes `timeout`, `network`, `429` and
//! `5xx`), and `Retry-After` sets the least wait; other 4xx are not. Every request carries an
//! `Idempotency-Key` shared by all attempts of the step, and, given a `signing_secret`, an
//! HMAC-SHA256 signature over the timestamp and the body.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hmac::{Hmac, Mac};
use serde_json::{Map, Value, json};
use sha2::Sha256;
use weir_core::executor::ActionError;
use weir_engine::{Action, ActionContext};

use crate::invalid;
use crate::outbound::{Guard, GuardedResolver};

/// The default and the longest time a request may take.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const MAX_TIMEOUT: Duration = Duration::from_secs(300);
/// The most of a response body kept: a step output is stored with the run.
pub const MAX_RESPONSE_BYTES: usize = 1 << 20;
/// Redirect hops followed, each checked by the guard.
const MAX_REDIRECTS: usize = 5;
/// The default signature header: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`.
pub const SIGNATURE_HEADER: &str = "X-Weir-Signature";

/// An error the guard raised inside the client (resolver or redirect policy): not a network
/// failure to retry, but a refusal.
#[derive(Debug)]
struct Refused(String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

pub struct HttpAction {
    guard: Arc<Guard>,
    follow: reqwest::Client,
    stay: reqwest::Client,
}

impl HttpAction {
    pub fn new(guard: Arc<Guard>) -> Result<HttpAction, String> {
        let build = |redirect: reqwest::redirect::Policy| {
            reqwest::Client::builder()
                .dns_resolver(Arc::new(GuardedResolver(guard.clone())))
                .redirect(redirect)
                .no_proxy()
                .user_agent(concat!("weir/", env!("CARGO_PKG_VERSION")))
                .connect_timeout(Duration::from_secs(10))
                .build()
                .map_err(|e| format!("cannot build the HTTP client: {e}"))
        };
        let hops = guard.clone();
        let follow = build(reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= MAX_REDIRECTS {
                return attempt.error(Refused(format!("more than {MAX_REDIRECTS} redirects")));
            }
            match hops.check_url(attempt.url()) {
                Ok(()) => attempt.follow(),
                Err(e) => {
                    let why = format!("a redirect to {}: {e}", attempt.url());
                    attempt.error(Refused(why))
                }
            }
        }))?;
        let stay = build(reqwest::redirect::Policy::none())?;
        Ok(HttpAction {
            guard,
            follow,
            stay,
        })
    }
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The request a rendered config describes.
struct Request {
    method: reqwest::Method,
    url: reqwest::Url,
    headers: Vec<(String, String)>,
    body: Option<(Vec<u8>, &'static str)>,
    timeout: Duration,
    expect: Option<Vec<u16>>,
    signing_secret: Option<String>,
    signature_header: String,
    follow: bool,
}

fn read_request(input: &Value) -> Result<Request, ActionError> {
    let cfg = input
        .as_object()
        .ok_or_else(|| invalid("the config is not an object"))?;
    let url_text = cfg
        .get("url")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("the config needs a 'url'"))?;
    let mut url = reqwest::Url::parse(url_text.trim())
        .map_err(|e| invalid(format!("the url '{url_text}' is not a URL: {e}")))?;
    if let Some(query) = cfg.get("query").and_then(Value::as_object) {
        let mut pairs = url.query_pairs_mut();
        for (k, v) in query {
            match v {
                Value::Null => {}
                Value::Array(items) => {
                    for item in items {
                        pairs
                            .append_pair(k, &scalar_text(item).unwrap_or_else(|| item.to_string()));
                    }
                }
                other => {
                    pairs.append_pair(k, &scalar_text(other).unwrap_or_else(|| other.to_string()));
                }
            }
        }
    }
    let body = match (cfg.get("body"), cfg.get("form")) {
        (Some(_), Some(_)) => return Err(invalid("give a 'body' or a 'form', not both")),
        (Some(Value::String(s)), None) => {
            Some((s.clone().into_bytes(), "text/plain; charset=utf-8"))
        }
        (Some(Value::Null), None) | (None, None) => None,
        (Some(v), None) => Some((v.to_string().into_bytes(), "application/json")),
        (None, Some(Value::Object(form))) => {
            let mut enc = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in form {
                enc.append_pair(k, &scalar_text(v).unwrap_or_else(|| v.to_string()));
            }
            Some((
                enc.finish().into_bytes(),
                "application/x-www-form-urlencoded",
            ))
        }
        (None, Some(_)) => return Err(invalid("'form' is an object of fields")),
    };
    let method_text = match cfg.get("method").and_then(Value::as_str) {
        Some(m) => m.to_ascii_uppercase(),
        None if body.is_some() => "POST".into(),
        None => "GET".into(),
    };
    let method = match method_text.as_str() {
        "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD" => {
            reqwest::Method::from_bytes(method_text.as_bytes())
                .map_err(|_| invalid("bad method"))?
        }
        other => return Err(invalid(format!("the method '{other}' is not supported"))),
    };
    let mut headers = Vec::new();
    if let Some(h) = cfg.get("headers").and_then(Value::as_object) {
        for (k, v) in h {
            let value =
                scalar_text(v).ok_or_else(|| invalid(format!("the header '{k}' is not text")))?;
            headers.push((k.clone(), value));
        }
    }
    if let Some(auth) = cfg.get("auth") {
        headers.push(auth_header(auth)?);
    }
    let timeout = match cfg.get("timeout") {
        None | Some(Value::Null) => DEFAULT_TIMEOUT,
        Some(v) => {
            let d =
                weir_core::Duration::from_value(v).map_err(|e| invalid(format!("timeout: {e}")))?;
            Duration::from_millis(d.as_millis()).min(MAX_TIMEOUT)
        }
    };
    let expect = match cfg.get("expect_status") {
        Some(Value::Array(codes)) => Some(
            codes
                .iter()
                .filter_map(|c| c.as_u64().and_then(|c| u16::try_from(c).ok()))
                .collect(),
        ),
        _ => None,
    };
    Ok(Request {
        method,
        url,
        headers,
        body,
        timeout,
        expect,
        signing_secret: cfg
            .get("signing_secret")
            .and_then(Value::as_str)
            .map(str::to_owned),
        signature_header: cfg
            .get("signature_header")
            .and_then(Value::as_str)
            .unwrap_or(SIGNATURE_HEADER)
            .to_owned(),
        follow: cfg.get("follow_redirects").and_then(Value::as_bool) != Some(false),
    })
}

/// `auth`: `{"type": "bearer", "token"}`, `{"type": "basic", "username", "password"}` or
/// `{"type": "api_key", "header"?, "value"}`.
fn auth_header(auth: &Value) -> Result<(String, String), ActionError> {
    let field = |name: &str| {
        auth.get(name)
            .and_then(scalar_text)
            .ok_or_else(|| invalid(format!("auth needs '{name}'")))
    };
    match auth.get("type").and_then(Value::as_str).unwrap_or("bearer") {
        "bearer" => Ok((
            "Authorization".into(),
            format!("Bearer {}", field("token")?),
        )),
        "basic" => {
            use base64::Engine as _;
            let pair = format!("{}:{}", field("username")?, field("password")?);
            Ok((
                "Authorization".into(),
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(pair)
                ),
            ))
        }
        "api_key" => Ok((
            auth.get("header")
                .and_then(Value::as_str)
                .unwrap_or("X-API-Key")
                .to_owned(),
            field("value").or_else(|_| field("key"))?,
        )),
        other => Err(invalid(format!(
            "the auth type '{other}' is not one of bearer, basic, api_key"
        ))),
    }
}

/// `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// Seconds or an HTTP date, as milliseconds from now (at most an hour).
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<u64> {
    let text = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    let ms = match text.parse::<u64>() {
        Ok(secs) => secs.saturating_mul(1000),
        Err(_) => {
            let at = chrono::DateTime::parse_from_rfc2822(text).ok()?;
            let ms = at.timestamp_millis() - chrono::Utc::now().timestamp_millis();
            u64::try_from(ms).unwrap_or(0)
        }
    };
    Some(ms.min(3_600_000))
}

/// Whether the guard refused the request somewhere in the client (a resolved address or a
/// redirect hop).
fn refusal(e: &reqwest::Error) -> Option<String> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(r) = s.downcast_ref::<Refused>() {
            return Some(r.0.clone());
        }
        // The resolver's refusal arrives as a boxed string.
        let text = s.to_string();
        if text.contains("which workflows may not call") {
            return Some(text);
        }
        source = s.source();
    }
    None
}

fn error_text(e: &reqwest::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

#[async_trait]
impl Action for HttpAction {
    async fn perform(&self, ctx: &ActionContext, input: Value) -> Result<Value, ActionError> {
        let req = read_request(&input)?;
        self.guard
            .check_url(&req.url)
            .map_err(|e| ActionError::permanent(e).with_class("refused"))?;
        let client = if req.follow { &self.follow } else { &self.stay };
        let mut builder = client
            .request(req.method.clone(), req.url.clone())
            .timeout(req.timeout);
        let mut has_key = false;
        for (k, v) in &req.headers {
            has_key |= k.eq_ignore_ascii_case("idempotency-key");
            builder = builder.header(k.as_str(), v.as_str());
        }
        if !has_key {
            builder = builder.header("Idempotency-Key", ctx.operation_key());
        }
        let body = req.body.as_ref().map(|(b, _)| b.as_slice()).unwrap_or(&[]);
        if let Some(secret) = &req.signing_secret {
            let now = chrono::Utc::now().timestamp();
            builder = builder
                .header(req.signature_header.as_str(), signature(secret, now, body))
                .header("X-Weir-Timestamp", now.to_string());
        }
        if let Some((bytes, content_type)) = &req.body {
            if !req
                .headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            {
                builder = builder.header("Content-Type", *content_type);
            }
            builder = builder.body(bytes.clone());
        }
        let mut response = match builder.send().await {
            Ok(r) => r,
            Err(e) => {
                if let Some(why) = refusal(&e) {
                    return Err(ActionError::permanent(why).with_class("refused"));
                }
                let class = if e.is_timeout() { "timeout" } else { "network" };
                return Err(ActionError::retryable(format!(
                    "{} {}: {}",
                    req.method,
                    req.url,
                    error_text(&e)
                ))
                .with_class(class));
            }
        };
        let status = response.status().as_u16();
        let mut headers = Map::new();
        for (name, value) in response.headers() {
            if let Ok(v) = value.to_str() {
                headers.insert(name.as_str().to_owned(), json!(v));
            }
        }
        let wait = retry_after(response.headers());
        let mut bytes = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if bytes.len() + chunk.len() > MAX_RESPONSE_BYTES {
                        return Err(ActionError::permanent(format!(
                            "{} {} answered more than {} bytes",
                            req.method, req.url, MAX_RESPONSE_BYTES
                        ))
                        .with_class("too_large"));
                    }
                    bytes.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => {
                    let class = if e.is_timeout() { "timeout" } else { "network" };
                    return Err(ActionError::retryable(format!(
                        "{} {}: reading the answer: {}",
                        req.method,
                        req.url,
                        error_text(&e)
                    ))
                    .with_class(class));
                }
            }
        }
        let body = match serde_json::from_slice::<Value>(&bytes) {
            Ok(v) => v,
            Err(_) if bytes.is_empty() => Value::Null,
            Err(_) => Value::String(String::from_utf8_lossy(&bytes).into_owned()),
        };
        let ok = match &req.expect {
            Some(codes) => codes.contains(&status),
            None => (200..400).contains(&status),
        };
        if ok {
            return Ok(json!({ "status": status, "headers": headers, "body": body }));
        }
        let snippet: String = match &body {
            Value::String(s) => s.chars().take(200).collect(),
            Value::Null => String::new(),
            other => other.to_string().chars().take(200).collect(),
        };
        let message = format!("{} {} answered {status}: {snippet}", req.method, req.url);
        let mut err = match status {
            408 => ActionError::retryable(message).with_class("timeout"),
            429 => ActionError::retryable(message).with_class("429"),
            500..=599 => ActionError::retryable(message).with_class("5xx"),
            _ => ActionError::permanent(message).with_class("4xx"),
        };
        err.retry_after_ms = wait;
        Err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_over_timestamp_and_body() {
        // From Python: hmac.new(b"k", b"1700000000.{}", sha256).hexdigest()
        assert_eq!(
            signature("k", 1_700_000_000, b"{}"),
            "t=1700000000,v1=c6ef4734033cee2367414a0939385eca0397754aa7a59716da7463a9298b5146"
        );
    }

    #[test]
    fn a_config_reads_into_a_request() {
        let r = read_request(&json!({"url": "https://x.example/a?b=1", "query": {"c": [1, 2], "d": "e f"},
            "form": {"n": 1}, "auth": {"type": "basic", "username": "u", "password": "p"}, "timeout": "5s"}))
        .unwrap();
        assert_eq!(r.url.as_str(), "https://x.example/a?b=1&c=1&c=2&d=e+f");
        assert_eq!(r.method, reqwest::Method::POST);
        assert_eq!(r.body.unwrap().0, b"n=1");
        assert_eq!(
            r.headers,
            [("Authorization".to_owned(), "Basic dTpw".to_owned())]
        );
        assert_eq!(r.timeout, Duration::from_secs(5));
        assert!(read_request(&json!({"url": "x"})).is_err());
        assert!(read_request(&json!({"url": "https://x.example", "method": "TRACE"})).is_err());
        assert!(
            read_request(&json!({"url": "https://x.example", "body": {}, "form": {}})).is_err()
        );
    }
}
