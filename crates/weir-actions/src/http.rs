//! `http_request`, `webhook` and `call_webhook`: one HTTP request per attempt, through the
//! outbound guard. The step output is the response: `status`, `headers` and `body` (JSON when
//! it parses, text otherwise). Timeouts, connection errors, 408, 429 and 5xx are retryable (by
//! the step's retry policy, whose `retry_on` names the classes `timeout`, `network`, `429` and
//! `5xx`), and `Retry-After` sets the least wait; other 4xx are not. Every request carries an
//! `Idempotency-Key` shared by all attempts of the step, and, given a `signing_secret`, an
//! HMAC-SHA256 signature over the timestamp and the body. Redirects are followed here, hop by
//! hop: each hop passes the guard, and a hop to another origin goes without every header that
//! came from a secret.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use hmac::{Hmac, Mac};
use serde_json::{Map, Value, json};
use sha2::Sha256;
use weir_core::executor::ActionError;
use weir_engine::{Action, ActionContext};

use crate::client::{BodyFailure, Client, Failure};
use crate::invalid;
use crate::outbound::Guard;

/// The default and the longest time a request may take.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const MAX_TIMEOUT: Duration = Duration::from_secs(300);
/// The most of a response body kept: a step output is stored with the run.
pub const MAX_RESPONSE_BYTES: usize = 1 << 20;
/// Redirect hops followed, each checked by the guard.
const MAX_REDIRECTS: usize = 5;
/// The default signature header: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`.
pub const SIGNATURE_HEADER: &str = "X-Weir-Signature";

pub struct HttpAction {
    guard: Arc<Guard>,
    /// Follows no redirect itself: `perform` does, so that it can drop headers on the way.
    client: Client,
}

impl HttpAction {
    pub fn new(guard: Arc<Guard>) -> Result<HttpAction, String> {
        let client = Client::new(guard.clone());
        Ok(HttpAction { guard, client })
    }

    /// An action whose client trusts the given TLS configuration instead of the platform's
    /// roots (a test's own certificate authority).
    pub fn with_tls(guard: Arc<Guard>, tls: rustls::ClientConfig) -> HttpAction {
        let client = Client::with_tls(guard.clone(), tls);
        HttpAction { guard, client }
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

/// The Basic `Authorization` value of a URL's user name and password, if it has them.
fn url_credentials(url: &reqwest::Url) -> Option<String> {
    use base64::Engine as _;
    if url.username().is_empty() && url.password().is_none() {
        return None;
    }
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    let pair = format!(
        "{}:{}",
        decode(url.username()),
        decode(url.password().unwrap_or_default())
    );
    Some(format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    ))
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

/// What a redirect answer asks for, as browsers and reqwest read it: the method of the next hop
/// and whether the body goes with it; `None` for an answer that is not a redirect to follow.
fn redirect_method(status: u16, method: &reqwest::Method) -> Option<(reqwest::Method, bool)> {
    use reqwest::Method;
    match status {
        301 | 302 if *method == Method::POST => Some((Method::GET, false)),
        301 | 302 | 307 | 308 => Some((method.clone(), true)),
        303 if *method == Method::HEAD => Some((Method::HEAD, false)),
        303 => Some((Method::GET, false)),
        _ => None,
    }
}

/// Whether two URLs are of one origin: scheme, host and port.
fn same_origin(a: &reqwest::Url, b: &reqwest::Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// Headers that do not go to another origin whatever their value: credentials by name, as
/// reqwest and browsers drop them.
const CREDENTIAL_HEADERS: [&str; 4] = ["authorization", "proxy-authorization", "cookie", "cookie2"];

/// Headers that describe a body, dropped with it.
const BODY_HEADERS: [&str; 3] = ["content-type", "content-length", "content-encoding"];

fn refused(why: String) -> ActionError {
    ActionError::refused(why)
}

impl HttpAction {
    /// Sends one hop and waits for the head of its answer until the deadline; a failure is a
    /// refusal of the guard or a network error to retry.
    async fn send(
        &self,
        method: &reqwest::Method,
        url: &reqwest::Url,
        headers: &[Header],
        body: Option<bytes::Bytes>,
        deadline: Instant,
    ) -> Result<crate::client::Response, ActionError> {
        let headers: Vec<(&str, &str)> = headers
            .iter()
            .map(|h| (h.name.as_str(), h.value.as_str()))
            .collect();
        let send = self.client.send(method.clone(), url, &headers, body);
        let failure = match tokio::time::timeout_at(deadline.into(), send).await {
            Ok(Ok(response)) => return Ok(response),
            Ok(Err(failure)) => failure,
            Err(_) => Failure::Timeout("no answer in time".into()),
        };
        Err(match failure {
            Failure::Refused(why) => refused(why),
            Failure::Invalid(why) => invalid(why),
            Failure::Timeout(why) => {
                ActionError::retryable(format!("{method} {url}: {why}")).with_class("timeout")
            }
            Failure::Network(why) => {
                ActionError::retryable(format!("{method} {url}: {why}")).with_class("network")
            }
        })
    }
}

/// A header of a request, and whether it must stay with the origin it was meant for.
struct Header {
    name: String,
    value: String,
    /// A credential by name, or a value that came from a secret (in any form scrubbing knows,
    /// so `X-API-Key: {{secrets.K}}` and a Basic-auth pair under any name), or a signature made
    /// with a secret (as good as the secret to whoever receives it).
    secret: bool,
}

#[async_trait]
impl Action for HttpAction {
    async fn perform(&self, ctx: &ActionContext, input: Value) -> Result<Value, ActionError> {
        let mut req = read_request(&input)?;
        // Not kept while the call waits: the request holds what it needs.
        drop(input);
        self.guard.check_url(&req.url).map_err(refused)?;
        let header = |name: &str, value: String, secret: bool| Header {
            secret: secret
                || CREDENTIAL_HEADERS.contains(&name.to_ascii_lowercase().as_str())
                || ctx.secrets.holds_secret(&value),
            name: name.to_owned(),
            value,
        };
        let mut headers: Vec<Header> = req
            .headers
            .iter()
            .map(|(k, v)| header(k, v.clone(), false))
            .collect();
        if !headers
            .iter()
            .any(|h| h.name.eq_ignore_ascii_case("idempotency-key"))
        {
            headers.push(header("Idempotency-Key", ctx.operation_key().into(), false));
        }
        // `https://user:password@host/` authenticates with Basic, as browsers and curl read it,
        // unless the request says how it authenticates.
        if let Some(basic) = url_credentials(&req.url)
            && !headers
                .iter()
                .any(|h| h.name.eq_ignore_ascii_case("authorization"))
        {
            headers.push(header("Authorization", basic, true));
        }
        // The run's trace goes on with the call, unless the workflow set its own.
        if let Some(traceparent) = &ctx.traceparent
            && !headers
                .iter()
                .any(|h| h.name.eq_ignore_ascii_case("traceparent"))
        {
            headers.push(header("traceparent", traceparent.clone(), false));
        }
        // Shared, not copied, by every hop that sends it.
        let mut body = req
            .body
            .take()
            .map(|(b, content_type)| (bytes::Bytes::from(b), content_type));
        if let Some(secret) = &req.signing_secret {
            let now = chrono::Utc::now().timestamp();
            let signed = body.as_ref().map(|(b, _)| &b[..]).unwrap_or(&[]);
            let from_secret = ctx.secrets.holds_secret(secret);
            headers.push(header(
                &req.signature_header,
                signature(secret, now, signed),
                from_secret,
            ));
            headers.push(header("X-Weir-Timestamp", now.to_string(), false));
        }
        if let Some((_, content_type)) = &body
            && !headers
                .iter()
                .any(|h| h.name.eq_ignore_ascii_case("content-type"))
        {
            headers.push(header("Content-Type", (*content_type).to_owned(), false));
        }
        // The timeout is the whole request's, every hop included.
        let deadline = Instant::now() + req.timeout;
        let (mut method, mut url) = (req.method.clone(), req.url.clone());
        let mut hops = 0;
        let response = loop {
            // Checked at every hop: a secret restricted to hosts goes to none other.
            if ctx.secrets.binds_hosts() {
                let body_text = body.as_ref().map(|(b, _)| String::from_utf8_lossy(b));
                let mut parts: Vec<&str> = vec![url.as_str()];
                parts.extend(headers.iter().map(|h| h.value.as_str()));
                parts.extend(body_text.as_deref());
                // A signature made with a secret is as good as the secret to its receiver.
                parts.extend(req.signing_secret.as_deref());
                ctx.secrets
                    .check_destination(&url, &parts)
                    .map_err(refused)?;
            }
            let body_bytes = body.as_ref().map(|(b, _)| b.clone());
            // Boxed, as is the reading below: a call waiting for its answer holds this
            // future alone, not room for every step of the action besides.
            let response =
                Box::pin(self.send(&method, &url, &headers, body_bytes, deadline)).await?;
            let status = response.head.status.as_u16();
            let next = match redirect_method(status, &method) {
                Some(next) if req.follow => next,
                _ => break response,
            };
            let Some(location) = response.head.headers.get(reqwest::header::LOCATION) else {
                break response;
            };
            let to = location
                .to_str()
                .ok()
                .and_then(|l| url.join(l).ok())
                .ok_or_else(|| {
                    ActionError::permanent(format!(
                        "{method} {url} answered {status} with a Location that is not a URL"
                    ))
                })?;
            hops += 1;
            if hops > MAX_REDIRECTS {
                return Err(refused(format!("more than {MAX_REDIRECTS} redirects")));
            }
            self.guard
                .check_url(&to)
                .map_err(|e| refused(format!("a redirect to {to}: {e}")))?;
            let (next_method, keep_body) = next;
            if !keep_body {
                body = None;
                headers.retain(|h| !BODY_HEADERS.contains(&h.name.to_ascii_lowercase().as_str()));
            }
            if !same_origin(&url, &to) {
                headers.retain(|h| !h.secret);
                if let Some((bytes, _)) = &body
                    && ctx.secrets.holds_secret(&String::from_utf8_lossy(bytes))
                {
                    return Err(refused(format!(
                        "a redirect to {to}: {status} would send a body holding a secret to another origin"
                    )));
                }
            }
            (method, url) = (next_method, to);
        };
        let status = response.head.status.as_u16();
        let mut headers = Map::new();
        for (name, value) in &response.head.headers {
            if let Ok(v) = value.to_str() {
                headers.insert(name.as_str().to_owned(), json!(v));
            }
        }
        let wait = retry_after(&response.head.headers);
        let read = tokio::time::timeout_at(deadline.into(), response.bytes(MAX_RESPONSE_BYTES));
        let bytes = match Box::pin(read).await {
            Ok(Ok(bytes)) => bytes,
            Ok(Err(BodyFailure::TooLarge)) => {
                return Err(ActionError::permanent(format!(
                    "{} {} answered more than {} bytes",
                    req.method, req.url, MAX_RESPONSE_BYTES
                ))
                .with_class("too_large"));
            }
            failed => {
                let (why, class) = match failed {
                    Ok(Err(BodyFailure::Network(why))) => (why, "network"),
                    _ => ("no whole answer in time".to_owned(), "timeout"),
                };
                return Err(ActionError::retryable(format!(
                    "{} {}: reading the answer: {why}",
                    req.method, req.url
                ))
                .with_class(class));
            }
        };
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
    use std::collections::HashMap;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;
    use std::sync::Mutex;

    use weir_engine::SecretValues;
    use weir_store::Scope;

    use super::*;
    use crate::outbound::AllowList;

    /// A request a [`Peer`] received: path, headers (lowercase names) and body.
    type Received = (String, HashMap<String, String>, Vec<u8>);

    /// A real HTTP server on 127.0.0.1 that records every request. `/redirect/STATUS?to=URL`
    /// answers STATUS with `Location: URL`; anything else answers 200 `{"ok": true}`.
    struct Peer {
        port: u16,
        received: Arc<Mutex<Vec<Received>>>,
    }

    impl Peer {
        fn start() -> Peer {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let port = listener.local_addr().unwrap().port();
            let received = Arc::new(Mutex::new(Vec::new()));
            let log = received.clone();
            std::thread::spawn(move || {
                for mut stream in listener.incoming().flatten() {
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    let mut line = String::new();
                    let _ = reader.read_line(&mut line);
                    let path = line.split_whitespace().nth(1).unwrap_or("").to_owned();
                    let mut headers = HashMap::new();
                    loop {
                        let mut h = String::new();
                        if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                            break;
                        }
                        if let Some((k, v)) = h.split_once(':') {
                            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
                        }
                    }
                    let len = headers
                        .get("content-length")
                        .map_or(0, |l| l.parse().unwrap());
                    let mut body = vec![0; len];
                    let _ = reader.read_exact(&mut body);
                    let answer = match path.strip_prefix("/redirect/") {
                        Some(rest) => {
                            let (status, to) = rest.split_once("?to=").unwrap();
                            format!("HTTP/1.1 {status} Redirect\r\nLocation: {to}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                        }
                        None => "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\nConnection: close\r\n\r\n{\"ok\":true}".to_owned(),
                    };
                    log.lock().unwrap().push((path, headers, body));
                    let _ = stream.write_all(answer.as_bytes());
                }
            });
            Peer { port, received }
        }

        fn url(&self, path: &str) -> String {
            format!("http://127.0.0.1:{}{path}", self.port)
        }

        fn requests_to(&self, path: &str) -> Vec<Received> {
            let all = self.received.lock().unwrap();
            all.iter().filter(|r| r.0 == path).cloned().collect()
        }
    }

    fn context(secrets: &[(&str, &str)]) -> ActionContext {
        let values = secrets
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        ActionContext {
            scope: Scope::new("t", "production"),
            execution_id: "run-1".into(),
            step_id: "call".into(),
            idempotency_key: "run-1:call:1".into(),
            traceparent: None,
            secrets: Arc::new(SecretValues::new(values)),
            context: Value::Null,
        }
    }

    /// An allow-list entry with a port applies to a host name too, which the guard checks where
    /// it is resolved, without the URL.
    #[tokio::test]
    async fn a_host_name_allowed_on_one_port_is_reached_on_that_port_only() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let (a, b) = (Peer::start(), Peer::start());
        let allow = AllowList::parse(&format!("localhost:{}", a.port)).unwrap();
        let http = HttpAction::new(Guard::new(allow)).unwrap();
        let ctx = context(&[]);
        let get = |url: String| http.perform(&ctx, json!({ "url": url }));
        let out = get(format!("http://localhost:{}/open", a.port))
            .await
            .unwrap();
        assert_eq!(out["status"], 200, "{out}");
        assert_eq!(a.requests_to("/open").len(), 1);
        for url in [
            format!("http://localhost:{}/closed", b.port),
            format!("http://127.0.0.1:{}/closed", a.port),
        ] {
            let refused = get(url.clone()).await.unwrap_err();
            assert_eq!(
                refused.class.as_deref(),
                Some("refused"),
                "{url}: {refused:?}"
            );
        }
        assert!(a.requests_to("/closed").is_empty() && b.requests_to("/closed").is_empty());
    }

    /// A user name and password in the URL authenticate with Basic (reqwest did so; the first
    /// client of Weir's own dropped them), unless the request names its own authorization.
    #[tokio::test]
    async fn a_url_with_a_user_and_password_authenticates_with_basic() {
        let peer = Peer::start();
        let http = HttpAction::new(Guard::new(AllowList::parse("127.0.0.1").unwrap())).unwrap();
        let url = format!("http://b%40b:p%3Ass@127.0.0.1:{}/in", peer.port);
        http.perform(&context(&[]), json!({"url": url}))
            .await
            .unwrap();
        let with_own = json!({"url": url, "auth": {"type": "bearer", "token": "t0k"}});
        http.perform(&context(&[]), with_own).await.unwrap();
        let got = peer.requests_to("/in");
        use base64::Engine as _;
        let basic = base64::engine::general_purpose::STANDARD.encode("b@b:p:ss");
        assert_eq!(got[0].1["authorization"], format!("Basic {basic}"));
        assert_eq!(got[1].1["authorization"], "Bearer t0k");
    }

    /// Regression: reqwest dropped Authorization and Cookie on a redirect to another host, but
    /// a custom header holding a secret (`X-API-Key: {{secrets.K}}`) went along.
    #[tokio::test]
    async fn a_redirect_to_another_origin_carries_no_header_that_came_from_a_secret() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let (a, b) = (Peer::start(), Peer::start());
        let guard = Guard::new(AllowList::parse("127.0.0.1").unwrap());
        let http = HttpAction::new(guard).unwrap();
        let key = "k3y-Zq8-very-secret";
        let ctx = context(&[("API_KEY", key), ("PASS", "hunter2-pass")]);
        // The config as the executor renders it: secrets revealed.
        let call = |url: String, body: Value| {
            json!({"url": url, "body": body, "headers": {
                "X-API-Key": key, "X-Trace": "t-1", "X-Key-Note": format!("key={key}")},
                "auth": {"type": "basic", "username": "bob", "password": "hunter2-pass"},
                "signing_secret": key})
        };
        for status in [302, 307] {
            let landing = format!("/landing-{status}");
            let to = b.url(&landing);
            let out = http
                .perform(
                    &ctx,
                    call(
                        a.url(&format!("/redirect/{status}?to={to}")),
                        json!({"n": 1}),
                    ),
                )
                .await
                .unwrap();
            assert_eq!(out["status"], 200, "{out}");
            let got = b.requests_to(&landing);
            assert_eq!(got.len(), 1, "{status}");
            let headers = &got[0].1;
            for gone in [
                "x-api-key",
                "x-key-note",
                "authorization",
                "x-weir-signature",
            ] {
                assert!(
                    !headers.contains_key(gone),
                    "{status}: {gone} went to {to}: {headers:?}"
                );
            }
            assert_eq!(
                headers["x-trace"], "t-1",
                "{status}: other headers go along"
            );
            assert!(headers.contains_key("idempotency-key"));
            assert_eq!(
                got[0].2,
                if status == 307 {
                    &b"{\"n\":1}"[..]
                } else {
                    b""
                }
            );
        }
        // To the same origin, nothing is dropped.
        let to = a.url("/same");
        http.perform(
            &ctx,
            call(a.url(&format!("/redirect/307?to={to}")), json!({"n": 1})),
        )
        .await
        .unwrap();
        let same = &a.requests_to("/same")[0].1;
        assert_eq!(same["x-api-key"], key);
        assert!(same["authorization"].starts_with("Basic "));
        // A body holding a secret is not sent to another origin (a 307 would send it again).
        let to = b.url("/never");
        let refused = http
            .perform(
                &ctx,
                call(a.url(&format!("/redirect/307?to={to}")), json!({"k": key})),
            )
            .await
            .unwrap_err();
        assert_eq!(refused.class.as_deref(), Some("refused"), "{refused:?}");
        assert!(b.requests_to("/never").is_empty());
    }

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
