//! The router and the API document, made together: every documented operation is registered
//! through `utoipa-axum` from its handler's `#[utoipa::path]`, so what is routed is what is
//! documented. The middlewares give every error one shape and refuse hostile URLs.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use utoipa::OpenApi;
use utoipa::openapi::path::{Parameter, ParameterIn};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{RefOr, Required, ResponseBuilder};
use utoipa_axum::router::OpenApiRouter;
use weir_api_types::{ErrorBody, ErrorCode, Health, Readiness};

use crate::{
    ApiError, AppState, access, ai, alerts, approvals, connectors, context, dryrun, events,
    executions, hooks, llm, records, retention, rules, schedules, secrets, stats, stream, teams,
    templates, users, workflows,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Weir API",
        description = "Events in, allow/block decisions out, durable workflows. Every /api/v1 call needs `Authorization: Bearer <API key or session token>`; errors are {\"error\": {\"code\", \"message\", \"details\"}}."
    ),
    servers((url = "/")),
    modifiers(&Contract),
    components(schemas(ErrorBody)),
    security(("bearer" = []))
)]
struct ApiDoc;

/// The documented routes and the document.
fn documented() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(utoipa_axum::routes!(health))
        .routes(utoipa_axum::routes!(ready))
        .routes(utoipa_axum::routes!(openapi_json))
        .merge(workflows::routes())
        .merge(executions::routes())
        .merge(events::routes())
        .merge(approvals::routes())
        .merge(access::routes())
        .merge(users::routes())
        .merge(ai::routes())
        .merge(stats::routes())
        .merge(teams::routes())
        .merge(stream::routes())
        .merge(rules::routes())
        .merge(hooks::routes())
        .merge(schedules::routes())
        .merge(context::routes())
        .merge(connectors::routes())
        .merge(records::routes())
        .merge(secrets::routes())
        .merge(llm::routes())
        .merge(retention::routes())
        .merge(alerts::routes())
        .merge(dryrun::routes())
        .merge(templates::routes())
}

/// The OpenAPI 3.1 document of the API, as served at `/api/v1/openapi.json`.
pub fn document() -> serde_json::Value {
    let (_, doc) = documented().split_for_parts();
    made(doc)
}

/// The generated document with what every operation shares, and exact schemas.
fn made(mut doc: utoipa::openapi::OpenApi) -> serde_json::Value {
    finish(&mut doc);
    let mut doc = serde_json::to_value(doc).unwrap_or_default();
    exact(&mut doc);
    doc
}

pub fn router(state: Arc<AppState>) -> Router {
    // The routes and the document are made once, together; the document is served as the
    // text it serializes to.
    let (documented, doc) = documented().split_for_parts();
    let doc = made(doc);
    let _ = DOCUMENT.set(doc.to_string());
    let api = documented
        // The interactive reference (Swagger UI, its assets built into the binary), reading
        // the document from `/api/v1/openapi.json`.
        .merge(Router::from(
            utoipa_swagger_ui::SwaggerUi::new("/api/v1/docs")
                .config(utoipa_swagger_ui::Config::from("/api/v1/openapi.json")),
        ))
        .fallback(fallback)
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                ErrorCode::MethodNotAllowed,
                "this endpoint does not take that method",
            )
        })
        .layer(axum::middleware::from_fn(no_control_characters_in_url))
        .layer(axum::middleware::from_fn(csrf))
        .layer(axum::middleware::from_fn(uniform_errors))
        .with_state(state.clone());
    // MCP beside the API, outside its document and its middlewares: its tools call `api`.
    // Every request, MCP's and the console's too, gets a span and a request id.
    crate::mcp::mount(api, state, &doc).layer(axum::middleware::from_fn(crate::requests::trace))
}

/// The document, made once.
static DOCUMENT: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// This document
///
/// The OpenAPI 3.1 document of the API (no key needed).
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "system", security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document", body = Object)))]
async fn openapi_json() -> Response {
    let text = DOCUMENT.get_or_init(|| document().to_string()).clone();
    ([(header::CONTENT_TYPE, "application/json")], text).into_response()
}

/// Liveness
///
/// `ok` while the process serves.
#[utoipa::path(get, path = "/health", tag = "system", security(()),
    responses((status = 200, body = Health)))]
async fn health() -> axum::Json<Health> {
    axum::Json(Health {
        status: "ok".into(),
    })
}

/// How long the workers may go without a round before the node is not ready.
const WORKER_SILENCE: std::time::Duration = std::time::Duration::from_secs(10);

/// Readiness
///
/// Whether this node can do its work: a read and a write of the database succeed now, and its
/// workers go round (a load balancer sends traffic only to ready nodes). 503 otherwise, saying
/// which; the cause is in the node's log.
#[utoipa::path(get, path = "/health/ready", tag = "system", security(()),
    responses((status = 200, body = Readiness), (status = 503, body = Readiness)))]
async fn ready(State(state): State<Arc<AppState>>) -> Response {
    let database = match state.store.probe().await {
        Ok(()) => "ok",
        Err(e) => {
            tracing::error!("readiness: the database: {e}");
            "failing"
        }
    };
    let workers = match state.engine.worker_silence() {
        Some(quiet) if quiet <= WORKER_SILENCE => "ok",
        Some(quiet) => {
            tracing::error!("readiness: no worker went round for {} s", quiet.as_secs());
            "stalled"
        }
        None => "stopped",
    };
    let ok = database == "ok" && workers == "ok";
    let status = match ok {
        true => StatusCode::OK,
        false => StatusCode::SERVICE_UNAVAILABLE,
    };
    let body = Readiness {
        status: if ok { "ok" } else { "unavailable" }.into(),
        database: database.into(),
        workers: workers.into(),
    };
    (status, axum::Json(body)).into_response()
}

/// Makes every object schema of the generated document exact, so that a response with a
/// field the document does not name, or without one it names, fails conformance:
/// - an `allOf` of objects (a flattened struct, a tagged enum's variant) becomes the one object
///   it describes;
/// - an object with named properties takes no others (`additionalProperties: false`); maps
///   (no named properties) stay open;
/// - in what the API answers (schemas no request body names), a nullable property is always
///   there, `null` when it has no value (an `Option` field that is left out when empty is
///   written `nullable = false` in its type, and stays optional).
fn exact(doc: &mut serde_json::Value) {
    use serde_json::{Map, Value};
    let components = doc["components"]["schemas"].clone();
    fn resolve<'a>(v: &'a Value, components: &'a Value) -> &'a Value {
        match v.get("$ref").and_then(Value::as_str) {
            Some(r) => r
                .strip_prefix("#/components/schemas/")
                .and_then(|name| components.get(name))
                .unwrap_or(v),
            None => v,
        }
    }
    fn nullable(v: &Value) -> bool {
        let null = Value::from("null");
        v.get("type")
            .and_then(Value::as_array)
            .is_some_and(|t| t.contains(&null))
            || v.get("oneOf")
                .and_then(Value::as_array)
                .is_some_and(|o| o.iter().any(|s| s.get("type") == Some(&null)))
    }
    fn walk(v: &mut Value, components: &Value, answers: bool) {
        match v {
            Value::Object(map) => {
                if let Some(Value::Array(parts)) = map.get("allOf") {
                    let parts: Vec<Value> = parts
                        .iter()
                        .map(|p| resolve(p, components).clone())
                        .collect();
                    if parts.iter().all(|p| p.get("properties").is_some()) {
                        let mut properties = Map::new();
                        let mut required: Vec<Value> = Vec::new();
                        for p in &parts {
                            if let Some(Value::Object(props)) = p.get("properties") {
                                properties.extend(props.clone());
                            }
                            if let Some(Value::Array(r)) = p.get("required") {
                                required.extend(r.iter().cloned());
                            }
                        }
                        map.remove("allOf");
                        map.insert("type".into(), Value::from("object"));
                        map.insert("properties".into(), Value::Object(properties));
                        map.insert("required".into(), Value::Array(required));
                    }
                }
                if let Some(Value::Object(props)) = map.get("properties") {
                    let always: Vec<String> = match answers {
                        true => props
                            .iter()
                            .filter(|(_, p)| nullable(p))
                            .map(|(k, _)| k.clone())
                            .collect(),
                        false => Vec::new(),
                    };
                    let required = map
                        .entry("required")
                        .or_insert_with(|| Value::Array(Vec::new()));
                    if let Value::Array(required) = required {
                        for k in always {
                            if !required.iter().any(|r| r == &Value::from(k.as_str())) {
                                required.push(Value::from(k));
                            }
                        }
                    }
                    map.entry("additionalProperties")
                        .or_insert(Value::Bool(false));
                }
                for (_, child) in map.iter_mut() {
                    walk(child, components, answers);
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|i| walk(i, components, answers)),
            _ => {}
        }
    }
    // What request bodies name, and what those name in turn, is what callers send.
    let mut sent: Vec<String> = Vec::new();
    let mut queue: Vec<String> = Vec::new();
    let refs = |v: &Value| -> Vec<String> {
        v.to_string()
            .split("\"#/components/schemas/")
            .skip(1)
            .filter_map(|p| p.split('"').next())
            .map(str::to_owned)
            .collect()
    };
    for item in doc["paths"].as_object().into_iter().flatten() {
        for op in item.1.as_object().into_iter().flatten() {
            if let Some(body) = op.1.get("requestBody") {
                queue.extend(refs(body));
            }
        }
    }
    while let Some(name) = queue.pop() {
        if !sent.contains(&name) {
            queue.extend(refs(&components[&name]));
            sent.push(name);
        }
    }
    if let Some(Value::Object(schemas)) = doc.pointer_mut("/components/schemas") {
        for (name, schema) in schemas.iter_mut() {
            walk(schema, &components, !sent.contains(name));
        }
    }
    if let Some(paths) = doc.get_mut("paths") {
        walk(paths, &components, false);
    }
}

/// The bearer scheme every operation but the open ones names.
struct Contract;

impl utoipa::Modify for Contract {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// What every operation shares, added to the generated document: the path parameters its
/// path names, and the error answers (`ErrorBody`) it can give: every operation the
/// malformed-input one; one that needs a caller, the caller's; one with a body, the body's.
fn finish(doc: &mut utoipa::openapi::OpenApi) {
    let error = |what: &str| -> RefOr<utoipa::openapi::Response> {
        RefOr::T(
            ResponseBuilder::new()
                .description(what)
                .content(
                    "application/json",
                    utoipa::openapi::ContentBuilder::new()
                        .schema(Some(utoipa::openapi::Ref::from_schema_name("ErrorBody")))
                        .build(),
                )
                .build(),
        )
    };
    for (path, item) in doc.paths.paths.iter_mut() {
        let id_of = |method: &str| {
            format!(
                "{method}_{}",
                path.trim_start_matches('/')
                    .replace(['/', '{', '}', '-', '.'], "_")
            )
        };
        let names: Vec<String> = path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(str::to_owned)
            .collect();
        for (method, op) in [
            ("get", &mut item.get),
            ("put", &mut item.put),
            ("post", &mut item.post),
            ("delete", &mut item.delete),
            ("patch", &mut item.patch),
        ]
        .into_iter()
        .filter_map(|(m, op)| Some((m, op.as_mut()?)))
        {
            op.operation_id = Some(id_of(method));
            let params = op.parameters.get_or_insert_with(Vec::new);
            for name in names.iter().rev() {
                if !params
                    .iter()
                    .any(|p| matches!(p, RefOr::T(p) if p.name == *name && p.parameter_in == ParameterIn::Path))
                {
                    let mut p = Parameter::new(name.as_str());
                    p.parameter_in = ParameterIn::Path;
                    p.required = Required::True;
                    p.schema = Some(RefOr::T(
                        utoipa::openapi::schema::Object::with_type(
                            utoipa::openapi::schema::Type::String,
                        )
                        .into(),
                    ));
                    params.insert(0, RefOr::T(p));
                }
            }
            // An open operation (`security(())`) needs no caller: `security: []`.
            let open = op.security.as_ref().is_some_and(|s| {
                serde_json::to_value(s).is_ok_and(|v| v == serde_json::json!([{}]))
            });
            if open {
                op.security = Some(Vec::new());
            }
            let mut codes: Vec<(&str, &str)> = vec![(
                "400",
                "Malformed input (a query parameter, a path, or the body)",
            )];
            if !open {
                codes.extend([
                    ("401", "No valid API key or session"),
                    ("403", "The caller's role does not allow it"),
                    (
                        "404",
                        "No such object in the caller's tenant and environment",
                    ),
                    ("409", "Conflicts with the object's state"),
                    ("422", "Well-formed but invalid"),
                    ("429", "Over the caller's rate limit; see Retry-After"),
                ]);
            }
            if op.request_body.is_some() {
                codes.extend([
                    ("408", "The body did not arrive in time"),
                    ("413", "The body is too large"),
                    ("415", "Not JSON (or YAML where taken)"),
                    ("422", "Well-formed but invalid"),
                ]);
            }
            codes.push(("500", "Internal error (the cause is in the server's log)"));
            // OpenAPI asks every response for a description; a success's says what it is.
            for (status, response) in op.responses.responses.iter_mut() {
                if let RefOr::T(r) = response
                    && r.description.is_empty()
                {
                    r.description = match status.as_str() {
                        "201" => "Created",
                        "202" => "Accepted",
                        "204" => "Done, nothing to answer",
                        _ => "Done",
                    }
                    .to_owned();
                }
            }
            for (code, what) in codes {
                op.responses
                    .responses
                    .entry(code.to_owned())
                    .or_insert_with(|| error(what));
            }
        }
    }
}

async fn uniform_errors(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let text = axum::body::to_bytes(response.into_body(), 4096)
        .await
        .map(|b| {
            String::from_utf8_lossy(&b)
                .chars()
                .take(300)
                .collect::<String>()
        })
        .unwrap_or_default();
    let code = match status {
        StatusCode::NOT_FOUND => ErrorCode::NotFound,
        StatusCode::METHOD_NOT_ALLOWED => ErrorCode::MethodNotAllowed,
        StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::TooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorCode::UnsupportedMediaType,
        StatusCode::UNPROCESSABLE_ENTITY => ErrorCode::Invalid,
        s if s.is_server_error() => ErrorCode::Internal,
        _ => ErrorCode::BadRequest,
    };
    let message = if text.trim().is_empty() {
        status.canonical_reason().unwrap_or("error").to_owned()
    } else {
        text
    };
    ApiError::new(code, message).into_response()
}

/// What no route takes: the console's files and routes for a browser's GET, else 404 in the
/// API's shape.
async fn fallback(method: axum::http::Method, uri: axum::http::Uri) -> Response {
    let api = ["/api/", "/hooks/", "/health"]
        .iter()
        .any(|p| uri.path().starts_with(p));
    if !api && (method == axum::http::Method::GET || method == axum::http::Method::HEAD) {
        return crate::ui::serve(uri).await;
    }
    ApiError::new(ErrorCode::NotFound, "no such endpoint").into_response()
}

/// The header a signed-in browser's writes carry. A page of another site cannot send a custom
/// header to this origin (that needs a CORS preflight, which Weir never grants), so a write
/// that carries it comes from Weir's own console.
pub const CSRF_HEADER: &str = "x-weir-csrf";

/// Cross-site request forgery: a write authenticated by the session cookie alone (no
/// `Authorization` header) must carry [`CSRF_HEADER`], and an `Origin`, when sent, must be this
/// server's. API keys and bearer tokens are not sent by browsers on their own, so they need
/// neither.
async fn csrf(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let safe = matches!(
        *request.method(),
        axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS
    );
    let headers = request.headers();
    let by_cookie = !headers.contains_key(header::AUTHORIZATION)
        && headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.contains(crate::access::SESSION_COOKIE));
    if safe || !by_cookie {
        return next.run(request).await;
    }
    if !headers.contains_key(CSRF_HEADER) {
        return ApiError::forbidden(
            "a signed-in browser's write must carry the X-Weir-CSRF header (Weir's console sends it)",
        )
        .into_response();
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .map(|o| o.split_once("://").map_or(o, |(_, rest)| rest));
    if let (Some(origin), Some(host)) = (origin, host)
        && origin != host
    {
        return ApiError::forbidden("a write from another site's page is refused").into_response();
    }
    next.run(request).await
}

/// Ids and filters never hold control characters, and some databases refuse them (PostgreSQL
/// text cannot hold NUL), so a URL that encodes one is refused up front.
async fn no_control_characters_in_url(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let hostile = request.uri().to_string().as_bytes().windows(3).any(|w| {
        w[0] == b'%'
            && (matches!(w[1], b'0' | b'1') || w[1..].eq_ignore_ascii_case(b"7f"))
            && w[2].is_ascii_hexdigit()
    });
    if hostile {
        return ApiError::bad_request("the URL holds an encoded control character").into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    /// Every route is registered through utoipa-axum's `routes!`, from its handler's
    /// `#[utoipa::path]`: a route added with axum's own `route` (or nested) would be served
    /// but missing from the document. The exceptions: the MCP endpoint, which is not a REST
    /// operation (mounted once, in `mcp.rs`, at `mcp::PATH`, outside `/api/`), and the
    /// Prometheus scrape, served on the metrics listener of its own (`metrics.rs`).
    #[test]
    fn nothing_is_routed_without_being_documented() {
        let needles = [
            [".", "route("].concat(),
            [".", "route_service("].concat(),
            [".", "nest("].concat(),
            [".", "nest_service("].concat(),
        ];
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = 0;
        let mut mcp = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            files += 1;
            for (i, line) in text.lines().enumerate() {
                for needle in &needles {
                    if !line.contains(needle.as_str()) {
                        continue;
                    }
                    let the_mcp_endpoint = path.ends_with("mcp.rs")
                        && line.trim() == [".", "nest_service(PATH, service)"].concat();
                    // Prometheus's scrape, on a listener of its own, not the API's.
                    let the_metrics_listener = path.ends_with("metrics.rs")
                        && line.trim() == [".", "route(\"/metrics\", get(scrape))"].concat();
                    if the_metrics_listener {
                        continue;
                    }
                    assert!(
                        the_mcp_endpoint,
                        "{}:{}: routed without #[utoipa::path]: {line}",
                        path.display(),
                        i + 1
                    );
                    mcp += 1;
                }
            }
        }
        assert!(files > 10);
        assert_eq!(mcp, 1, "the MCP endpoint is mounted once");
        assert!(!crate::mcp::PATH.starts_with("/api/"));
        assert!(super::document()["paths"].get(crate::mcp::PATH).is_none());
    }

    /// Every operation of the document answers a named schema or says it answers nothing.
    #[test]
    fn every_operation_documents_its_answer() {
        let doc = super::document();
        let mut operations = 0;
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                operations += 1;
                let ok: Vec<(&String, &serde_json::Value)> = op["responses"]
                    .as_object()
                    .unwrap()
                    .iter()
                    .filter(|(code, _)| code.starts_with('2'))
                    .collect();
                assert!(!ok.is_empty(), "{method} {path} documents no success");
                for (code, response) in ok {
                    assert!(
                        response["description"]
                            .as_str()
                            .is_some_and(|d| !d.is_empty()),
                        "{method} {path} {code}"
                    );
                }
            }
        }
        assert!(operations >= 100, "{operations}");
    }
}
