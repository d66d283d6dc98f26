//! Weir's MCP server: tools that let an AI agent read, check, try, deploy and run workflows.
//!
//! Every tool is one call of Weir's own REST API, made through [`Api`]: in `weir serve` the
//! server's router called in-process with the MCP request's key, in `weir mcp` an HTTP client
//! to a server. So a tool is authorized, validated and audited exactly like its REST twin,
//! and no rule lives here. The tools' input and output schemas are read from the API's OpenAPI
//! document (the types of `weir-api-types`), so they cannot drift from what the API takes and
//! answers; a tool whose operation the document lacks is left out.
//!
//! A REST error becomes a tool result with `isError` and the API's message and details (with
//! their suggested fixes), not a protocol error, so an agent can correct itself.

use std::future::Future;
use std::sync::Arc;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    InitializeResult, ListResourceTemplatesResult, ListResourcesResult, ListToolsResult,
    PaginatedRequestParams, ReadResourceRequestParams, ReadResourceResponse, ServerCapabilities,
    Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};
use serde_json::Value;

mod resources;
mod tools;

pub use rmcp::model::Extensions;
pub use tools::{TOOLS, ToolSpec};

/// A call of Weir's REST API, as a tool makes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub method: Method,
    /// The path with its query string: `/api/v1/executions?status=waiting`.
    pub path: String,
    pub body: Option<Body>,
    /// The MCP client's name (its `clientInfo.name`), to name the agent by when the caller
    /// does not name itself.
    pub client: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

/// A request's body.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    Json(Value),
    /// A definition given as text: sent as YAML, which JSON text also is.
    Yaml(String),
}

/// What the API answered: its status and its JSON body (`null` when it had none).
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

/// Weir's REST API, as the tools call it.
pub trait Api: Send + Sync + 'static {
    /// Makes the call; `Err` when the API could not be reached at all (said to the agent as
    /// a tool error). `http` holds what the MCP transport knows of the request that carried
    /// the tool call (over streamable HTTP, its `http::request::Parts`).
    fn call(
        &self,
        request: Request,
        http: &Extensions,
    ) -> impl Future<Output = Result<Answer, String>> + Send;
}

/// The MCP server: the tools of [`TOOLS`] found in the API document, over an [`Api`].
pub struct Weir<A> {
    api: Arc<A>,
    tools: Arc<tools::Catalog>,
}

impl<A> Clone for Weir<A> {
    fn clone(&self) -> Self {
        Weir {
            api: self.api.clone(),
            tools: self.tools.clone(),
        }
    }
}

impl<A: Api> Weir<A> {
    /// A server over `api`, with the tools whose operations `document` (the API's OpenAPI
    /// document) has.
    pub fn new(api: Arc<A>, document: &Value) -> Self {
        Weir {
            api,
            tools: Arc::new(tools::Catalog::new(document)),
        }
    }

    /// The tools offered, as listed to clients.
    pub fn tools(&self) -> Vec<Tool> {
        self.tools.tools()
    }

    /// Serves MCP over this process's stdin and stdout until the client closes them.
    pub async fn serve_stdio(self) -> Result<(), String> {
        let running = self
            .serve(rmcp::transport::io::stdio())
            .await
            .map_err(|e| format!("MCP over stdio did not start: {e}"))?;
        running
            .waiting()
            .await
            .map(|_| ())
            .map_err(|e| format!("MCP over stdio stopped: {e}"))
    }
}

const INSTRUCTIONS: &str = "Weir runs workflows on events: triggers, conditions, approvals, \
actions, allow/block decisions. To build one: read get_capabilities (entities, operators, step \
and action types of this scope) and list_templates, or the resource weir://docs/format; write \
a definition; check it with validate_workflow (each problem comes with a fix, and \
fixed_workflow when every fix is sure); try it with test_workflow (a dry run: nothing is \
stored or performed); then deploy_workflow. emit_event sends an event and answers the \
decisions; list_executions, get_execution and get_execution_trace show what ran; \
list_approvals and decide_approval handle the approvals runs wait on. A refused call answers \
the API's error with details: correct the input and call again.";

impl<A: Api> ServerHandler for Weir<A> {
    fn get_info(&self) -> InitializeResult {
        InitializeResult::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .build(),
        )
        .with_server_info(
            Implementation::new("weir", env!("CARGO_PKG_VERSION"))
                .with_title("Weir workflow engine"),
        )
        .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(self.tools.tools()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.tools.get(name).map(|t| t.tool.clone())
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let Some(tool) = self.tools.get(&request.name) else {
            return Err(ErrorData::invalid_params(
                format!("no tool '{}'", request.name),
                None,
            ));
        };
        let arguments = request.arguments.unwrap_or_default();
        let call = match tool.request(&arguments) {
            Ok(call) => call,
            Err(problem) => return Ok(error_result(problem).into()),
        };
        let call = Request {
            client: client_name(&context),
            ..call
        };
        let (method, path) = (call.method, call.path.clone());
        Ok(match self.api.call(call, &context.extensions).await {
            Ok(answer) => tools::result(method, &path, answer).into(),
            Err(unreachable) => error_result(unreachable).into(),
        })
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let templates = self
            .api
            .call(
                resources::templates_request(client_name(&context)),
                &context.extensions,
            )
            .await;
        Ok(ListResourcesResult::with_all_items(resources::list(
            templates,
        )))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        Ok(ListResourceTemplatesResult::with_all_items(
            resources::templates(),
        ))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let client = client_name(&context);
        resources::read(self.api.as_ref(), &request.uri, client, &context)
            .await
            .map(Into::into)
    }
}

/// The client's name, from this request's metadata or the session's `initialize`.
fn client_name(context: &RequestContext<RoleServer>) -> Option<String> {
    context
        .client_info()
        .map(|i| i.name)
        .filter(|n| !n.trim().is_empty())
}

/// A tool result saying what went wrong, for the agent to correct.
fn error_result(message: String) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(message)])
}

#[cfg(test)]
mod tests {
    /// The architecture's invariant: a tool is a call of the REST API, so this crate has
    /// nothing to decide with: no store, no engine, no server, no HTTP stack of its own.
    #[test]
    fn weir_mcp_reaches_weir_only_through_the_api() {
        let manifest = include_str!("../Cargo.toml");
        let deps = manifest
            .split("[dependencies]")
            .nth(1)
            .and_then(|rest| rest.split("\n[").next())
            .unwrap_or_default();
        let names: Vec<&str> = deps
            .lines()
            .filter_map(|l| l.split(['.', ' ', '=']).next())
            .filter(|n| !n.is_empty() && !n.starts_with('#'))
            .collect();
        assert_eq!(names, ["weir-api-types", "rmcp", "serde_json"], "{deps}");
    }
}
