//! `/mcp`: Weir's MCP server (`weir-mcp`) over streamable HTTP, on the main listener beside
//! the REST API.
//!
//! It is not a REST operation (MCP is JSON-RPC of its own, described by its tools), so it is
//! mounted outside the documented API. Its tools call that API in-process: each tool call is
//! a request to the router with the MCP request's own `Authorization`, so it is authorized,
//! validated and audited as the REST call it mirrors. The agent is named by the client's own
//! `X-Agent-*` headers, else by its MCP name (`clientInfo.name`) with type `mcp`, so every
//! mutation an MCP client makes is audited with `actor_type: ai_agent`.
//!
//! Only a bearer key or session token opens it (never the session cookie, so a browser page
//! cannot ride on a signed-in user); without a valid one it answers 401 with
//! `WWW-Authenticate: Bearer` before any MCP processing.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rmcp::model::Extensions;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tower::ServiceExt;
use weir_api_types::ErrorCode;
use weir_mcp::{Answer, Body as McpBody, Request, Weir};

use crate::{ApiError, AppState, access};

/// Where the MCP endpoint is.
pub(crate) const PATH: &str = "/mcp";

/// The agent type of an MCP client that does not say its own.
const AGENT_TYPE: &str = "mcp";

/// `api` (the router of the REST API) with the MCP endpoint beside it.
pub(crate) fn mount(api: Router, state: Arc<AppState>, document: &serde_json::Value) -> Router {
    let weir = Weir::new(
        Arc::new(InProcess {
            router: api.clone(),
            limit: state.max_body_bytes.saturating_mul(4),
        }),
        document,
    );
    let mut config = StreamableHttpServerConfig::default()
        .with_allowed_hosts(state.mcp_allowed_hosts.clone())
        .with_json_response(true)
        .with_cancellation_token(state.shutdown.child_token())
        // A tool call carries a definition at most the API's body limit, escaped once more
        // when sent as text.
        .with_max_request_body_bytes(state.max_body_bytes.saturating_mul(2));
    if state.mcp_allowed_hosts.is_empty() {
        config = config.disable_allowed_hosts();
    }
    let service = StreamableHttpService::new(
        move || Ok(weir.clone()),
        Arc::new(LocalSessionManager::default()),
        config,
    );
    // The one route outside the API document (the router's tidy test allows only this one).
    let mcp = Router::new()
        .nest_service(PATH, service)
        .layer(axum::middleware::from_fn_with_state(state, gate));
    api.merge(mcp)
}

/// 401 with `WWW-Authenticate: Bearer` unless the request carries a valid bearer key or
/// session token (the cookie does not count); the caller's other refusals (a rate limit)
/// as the API answers them.
async fn gate(
    axum::extract::State(state): axum::extract::State<Arc<AppState>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let refused = match request.headers().get(header::AUTHORIZATION) {
        None => Some(ApiError::new(
            ErrorCode::Unauthorized,
            "send Authorization: Bearer <api key>",
        )),
        Some(_) => access::authorize(&state, request.headers()).await.err(),
    };
    let Some(error) = refused else {
        return next.run(request).await;
    };
    let mut response = error.into_response();
    if response.status() == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"weir\""),
        );
    }
    response
}

/// The REST API, called in-process.
struct InProcess {
    router: Router,
    /// The largest answer read back (a page of executions with their contexts can be large).
    limit: usize,
}

impl weir_mcp::Api for InProcess {
    async fn call(&self, request: Request, http: &Extensions) -> Result<Answer, String> {
        let incoming = http.get::<axum::http::request::Parts>().map(|p| &p.headers);
        let mut builder = axum::http::Request::builder()
            .method(request.method.as_str())
            .uri(&request.path);
        if let (Some(headers), Some(incoming)) = (builder.headers_mut(), incoming) {
            pass_caller(incoming, headers, request.client.as_deref());
        }
        let body = match request.body {
            None => Body::empty(),
            Some(McpBody::Json(v)) => {
                builder = builder.header(header::CONTENT_TYPE, "application/json");
                Body::from(v.to_string())
            }
            Some(McpBody::Yaml(text)) => {
                builder = builder.header(header::CONTENT_TYPE, "application/yaml");
                Body::from(text)
            }
        };
        let request = builder
            .body(body)
            .map_err(|e| format!("cannot make the request: {e}"))?;
        let response = match self.router.clone().oneshot(request).await {
            Ok(r) => r,
            Err(never) => match never {},
        };
        let status = response.status().as_u16();
        let bytes = axum::body::to_bytes(response.into_body(), self.limit)
            .await
            .map_err(|e| format!("the answer did not arrive whole: {e}"))?;
        let body = match bytes.is_empty() {
            true => serde_json::Value::Null,
            false => serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| String::from_utf8_lossy(&bytes).into_owned().into()),
        };
        Ok(Answer { status, body })
    }
}

/// The caller of the MCP request becomes the caller of the API request: its `Authorization`,
/// and its agent: its own `X-Agent-*` headers, else its MCP name with type `mcp` (and the MCP
/// session as the agent's session).
fn pass_caller(incoming: &HeaderMap, outgoing: &mut HeaderMap, client: Option<&str>) {
    if let Some(auth) = incoming.get(header::AUTHORIZATION) {
        outgoing.insert(header::AUTHORIZATION, auth.clone());
    }
    let agent_id = HeaderName::from_static("x-agent-id");
    let agent_type = HeaderName::from_static("x-agent-type");
    let session_id = HeaderName::from_static("x-session-id");
    if incoming.contains_key(&agent_id) {
        for name in [agent_id, agent_type, session_id] {
            if let Some(v) = incoming.get(&name) {
                outgoing.insert(name, v.clone());
            }
        }
        return;
    }
    let id = agent_name(client.unwrap_or_default());
    if let Ok(id) = HeaderValue::from_str(&id) {
        outgoing.insert(agent_id, id);
    }
    outgoing.insert(agent_type, HeaderValue::from_static(AGENT_TYPE));
    let session = incoming
        .get(&session_id)
        .or_else(|| incoming.get("mcp-session-id"));
    if let Some(v) = session {
        outgoing.insert(session_id, v.clone());
    }
}

/// A client's name as an agent id: printable ASCII, 1 to 200 characters (what `X-Agent-ID`
/// takes), `mcp-client` when it gave none.
fn agent_name(client: &str) -> String {
    let name: String = client
        .chars()
        .filter(|c| c.is_ascii_graphic() || *c == ' ')
        .take(200)
        .collect();
    match name.trim() {
        "" => "mcp-client".to_owned(),
        n => n.to_owned(),
    }
}

/// The hosts `/mcp` answers to (rmcp refuses another `Host`, against DNS rebinding): on a
/// loopback address, loopback names only; on any other, every host (a bearer key is needed
/// anyway, and a server others reach is reached by names it cannot know), unless `extra`
/// names them. `extra` adds to the loopback names.
pub fn allowed_hosts(listen: std::net::SocketAddr, extra: &[String]) -> Vec<String> {
    if !listen.ip().is_loopback() {
        return extra.to_vec();
    }
    let mut hosts: Vec<String> = ["localhost", "127.0.0.1", "::1"]
        .map(str::to_owned)
        .to_vec();
    hosts.extend(extra.iter().cloned());
    hosts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_mcp_client_without_agent_headers_is_named_by_its_client_name() {
        let mut incoming = HeaderMap::new();
        incoming.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer k"));
        incoming.insert("mcp-session-id", HeaderValue::from_static("s1"));
        let mut out = HeaderMap::new();
        pass_caller(&incoming, &mut out, Some("claude-ai\u{7}é"));
        assert_eq!(out["authorization"], "Bearer k");
        assert_eq!(out["x-agent-id"], "claude-ai");
        assert_eq!(out["x-agent-type"], "mcp");
        assert_eq!(out["x-session-id"], "s1");

        let mut out = HeaderMap::new();
        pass_caller(&incoming, &mut out, None);
        assert_eq!(out["x-agent-id"], "mcp-client");

        // Its own headers win.
        incoming.insert("x-agent-id", HeaderValue::from_static("pricing-bot"));
        incoming.insert("x-agent-type", HeaderValue::from_static("openai"));
        let mut out = HeaderMap::new();
        pass_caller(&incoming, &mut out, Some("claude-ai"));
        assert_eq!(out["x-agent-id"], "pricing-bot");
        assert_eq!(out["x-agent-type"], "openai");
        assert!(!out.contains_key("x-session-id"));
    }

    #[test]
    fn allowed_hosts_follow_the_listen_address() {
        let on = |a: &str| allowed_hosts(a.parse().unwrap(), &[]);
        assert_eq!(on("127.0.0.1:8080"), ["localhost", "127.0.0.1", "::1"]);
        assert_eq!(on("[::1]:8080"), ["localhost", "127.0.0.1", "::1"]);
        assert!(on("0.0.0.0:8080").is_empty(), "every host");
        assert!(on("10.1.2.3:8080").is_empty(), "every host");
        assert_eq!(
            allowed_hosts("0.0.0.0:80".parse().unwrap(), &["weir.example.com".into()]),
            ["weir.example.com"]
        );
    }
}
