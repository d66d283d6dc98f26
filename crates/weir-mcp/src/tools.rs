//! The tools: a table naming, for each, the REST operation it calls and how its arguments
//! become that call's path, query and body. Input and output schemas are read from the
//! operation in the API's OpenAPI document, so a tool takes exactly what its operation takes.

use std::collections::BTreeSet;
use std::sync::Arc;

use rmcp::model::{CallToolResult, ContentBlock, Tool, ToolAnnotations};
use serde_json::{Map, Value, json};
use weir_api_types::ErrorBody;

use crate::{Answer, Body, Method, Request};

/// One tool: its name, what it is for, and the operation it calls.
#[derive(Debug)]
pub struct ToolSpec {
    pub name: &'static str,
    pub title: &'static str,
    /// What the tool is for, said to the agent before the operation's own description.
    pub summary: &'static str,
    /// The operation called; with a `choice`, one per value of that argument.
    pub operations: &'static [Operation],
    /// The argument that chooses among `operations` (by their `choice` value).
    pub choice: Option<&'static str>,
    pub body: BodyArgs,
    pub hints: Hints,
}

#[derive(Debug)]
pub struct Operation {
    /// The value of the tool's `choice` argument that picks this operation.
    pub choice: &'static str,
    pub method: Method,
    /// As in the API document: `/api/v1/executions/{id}`.
    pub path: &'static str,
}

/// How a tool's arguments make the request's body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyArgs {
    /// The operation takes no body.
    None,
    /// The body's fields are the tool's arguments (beside the path's and the query's).
    Fields,
    /// The body is this one argument (a workflow definition), an object or its text.
    Whole(&'static str),
}

/// The MCP annotations, said truthfully: whether the tool changes anything, whether what it
/// changes can be lost (a version replaced, a run cancelled, a decision taken), whether
/// calling it twice does more than once, and whether it reaches beyond Weir (the runs an
/// event starts perform their actions).
#[derive(Debug, Clone, Copy)]
pub struct Hints {
    pub read_only: bool,
    pub destructive: bool,
    pub idempotent: bool,
    pub open_world: bool,
}

const READ: Hints = Hints {
    read_only: true,
    destructive: false,
    idempotent: true,
    open_world: false,
};

/// One operation, no choice.
macro_rules! op {
    ($method:ident $path:literal) => {
        &[Operation {
            choice: "",
            method: Method::$method,
            path: $path,
        }]
    };
}

/// Every tool, in the order they are listed.
pub const TOOLS: &[ToolSpec] = &[
    ToolSpec {
        name: "list_workflows",
        title: "List workflows",
        summary: "The workflows of this tenant and environment: id, name, current version, \
                  enabled, the events their triggers hear, and their recent runs.",
        operations: op!(Get "/api/v1/workflows"),
        choice: None,
        body: BodyArgs::None,
        hints: READ,
    },
    ToolSpec {
        name: "get_workflow",
        title: "Get a workflow",
        summary: "A workflow's current version, with its definition.",
        operations: op!(Get "/api/v1/workflows/{id}"),
        choice: None,
        body: BodyArgs::None,
        hints: READ,
    },
    ToolSpec {
        name: "validate_workflow",
        title: "Validate a workflow",
        summary: "Checks a definition as deploying it here would, storing nothing: every \
                  problem with its JSON path and a suggested fix, and `fixed_workflow` when \
                  every fix is sure.",
        operations: op!(Post "/api/v1/ai/validate"),
        choice: None,
        body: BodyArgs::Fields,
        hints: READ,
    },
    ToolSpec {
        name: "test_workflow",
        title: "Dry-run a workflow",
        summary: "Tries a workflow (a definition, or a stored one by `workflow_id`) on one \
                  event without storing or performing anything: the trigger that heard it, \
                  the values each condition compared, each action's input, the path taken \
                  and the decision.",
        operations: op!(Post "/api/v1/dry-run"),
        choice: None,
        body: BodyArgs::Fields,
        hints: READ,
    },
    ToolSpec {
        name: "deploy_workflow",
        title: "Deploy a workflow",
        summary: "Stores a definition (an object, or its JSON or YAML text) as a new workflow, \
                  or as a new current version of the workflow with its `workflow_id` (earlier \
                  versions stay, for a rollback). An enabled workflow hears live events at \
                  once. Validate and test it first.",
        operations: op!(Post "/api/v1/workflows"),
        choice: None,
        body: BodyArgs::Whole("workflow"),
        hints: Hints {
            read_only: false,
            destructive: true,
            idempotent: false,
            open_world: false,
        },
    },
    ToolSpec {
        name: "enable_workflow",
        title: "Enable a workflow",
        summary: "Lets a workflow's triggers start runs again.",
        operations: op!(Post "/api/v1/workflows/{id}/enable"),
        choice: None,
        body: BodyArgs::None,
        hints: Hints {
            read_only: false,
            destructive: false,
            idempotent: true,
            open_world: false,
        },
    },
    ToolSpec {
        name: "disable_workflow",
        title: "Disable a workflow",
        summary: "Stops a workflow's triggers from starting runs (runs under way go on).",
        operations: op!(Post "/api/v1/workflows/{id}/disable"),
        choice: None,
        body: BodyArgs::None,
        hints: Hints {
            read_only: false,
            destructive: true,
            idempotent: true,
            open_world: false,
        },
    },
    ToolSpec {
        name: "emit_event",
        title: "Send an event",
        summary: "Sends an event: every enabled workflow whose trigger hears it runs, and \
                  their actions are performed for real. Answers the decision (allow/block) \
                  and the executions started, once each decided, ended or waits.",
        operations: op!(Post "/api/v1/events"),
        choice: None,
        body: BodyArgs::Fields,
        hints: Hints {
            read_only: false,
            destructive: false,
            idempotent: false,
            open_world: true,
        },
    },
    ToolSpec {
        name: "list_executions",
        title: "List executions",
        summary: "Runs, newest first, by workflow, status, decision, event or time.",
        operations: op!(Get "/api/v1/executions"),
        choice: None,
        body: BodyArgs::None,
        hints: READ,
    },
    ToolSpec {
        name: "get_execution",
        title: "Get an execution",
        summary: "One run: its status, decision, context and every step attempt.",
        operations: op!(Get "/api/v1/executions/{id}"),
        choice: None,
        body: BodyArgs::None,
        hints: READ,
    },
    ToolSpec {
        name: "get_execution_trace",
        title: "Get an execution's trace",
        summary: "One run's timeline: its start, each step attempt with the values its \
                  condition compared or its rendered input, and its end.",
        operations: op!(Get "/api/v1/executions/{id}/trace"),
        choice: None,
        body: BodyArgs::None,
        hints: READ,
    },
    ToolSpec {
        name: "retry_execution",
        title: "Retry an execution",
        summary: "Runs a failed execution again from its failed step; its actions are \
                  performed again.",
        operations: op!(Post "/api/v1/executions/{id}/retry"),
        choice: None,
        body: BodyArgs::None,
        hints: Hints {
            read_only: false,
            destructive: false,
            idempotent: false,
            open_world: true,
        },
    },
    ToolSpec {
        name: "cancel_execution",
        title: "Cancel an execution",
        summary: "Cancels a running or waiting execution; it cannot be resumed.",
        operations: op!(Post "/api/v1/executions/{id}/cancel"),
        choice: None,
        body: BodyArgs::None,
        hints: Hints {
            read_only: false,
            destructive: true,
            idempotent: true,
            open_world: false,
        },
    },
    ToolSpec {
        name: "list_approvals",
        title: "List approvals",
        summary: "Approvals, newest first: pending ones wait for a decision (filter by \
                  status, entity, role or execution).",
        operations: op!(Get "/api/v1/approvals"),
        choice: None,
        body: BodyArgs::None,
        hints: READ,
    },
    ToolSpec {
        name: "decide_approval",
        title: "Approve or reject",
        summary: "Decides a pending approval (`decision`: approve or reject, with an optional \
                  reason); the run waiting on it goes on. A decision is final.",
        operations: &[
            Operation {
                choice: "approve",
                method: Method::Post,
                path: "/api/v1/approvals/{id}/approve",
            },
            Operation {
                choice: "reject",
                method: Method::Post,
                path: "/api/v1/approvals/{id}/reject",
            },
        ],
        choice: Some("decision"),
        body: BodyArgs::Fields,
        hints: Hints {
            read_only: false,
            destructive: true,
            idempotent: false,
            open_world: true,
        },
    },
    ToolSpec {
        name: "get_capabilities",
        title: "What can be built here",
        summary: "What this scope can build with: entities with their fields and events, \
                  condition operators, step types, action types with their config schemas \
                  (built-ins and connectors), templates, and the events received lately.",
        operations: op!(Get "/api/v1/ai/capabilities"),
        choice: None,
        body: BodyArgs::None,
        hints: READ,
    },
    ToolSpec {
        name: "interpret",
        title: "Turn a sentence into a workflow",
        summary: "Interprets a plain-language rule into a suggested workflow, with questions \
                  when something is ambiguous. Nothing is deployed.",
        operations: op!(Post "/api/v1/ai/interpret"),
        choice: None,
        body: BodyArgs::Fields,
        hints: READ,
    },
    ToolSpec {
        name: "list_templates",
        title: "List templates",
        summary: "Complete workflows to start from, each with its definition.",
        operations: op!(Get "/api/v1/templates"),
        choice: None,
        body: BodyArgs::None,
        hints: READ,
    },
];

/// A tool as offered: its spec, its MCP definition, and what its arguments are.
pub(crate) struct Built {
    pub(crate) spec: &'static ToolSpec,
    pub(crate) tool: Tool,
    /// Path parameters (`id`), query parameters, and body fields, by name.
    path: Vec<String>,
    query: Vec<String>,
    fields: Vec<String>,
}

/// The tools whose operations the document has.
pub(crate) struct Catalog {
    tools: Vec<Built>,
}

impl Catalog {
    pub(crate) fn new(document: &Value) -> Self {
        Catalog {
            tools: TOOLS.iter().filter_map(|s| build(s, document)).collect(),
        }
    }

    pub(crate) fn tools(&self) -> Vec<Tool> {
        self.tools.iter().map(|t| t.tool.clone()).collect()
    }

    pub(crate) fn get(&self, name: &str) -> Option<&Built> {
        self.tools.iter().find(|t| t.spec.name == name)
    }
}

/// The operation `method path` of the document.
fn operation<'d>(document: &'d Value, op: &Operation) -> Option<&'d Value> {
    document
        .get("paths")?
        .get(op.path)?
        .get(op.method.as_str().to_ascii_lowercase())
}

/// A schema of the document with its references made local: `#/components/schemas/X`
/// becomes `#/$defs/X`, and every schema it names (and they name) goes into `defs`.
struct Defs<'d> {
    components: &'d Value,
    defs: Map<String, Value>,
}

impl<'d> Defs<'d> {
    fn new(document: &'d Value) -> Self {
        Defs {
            components: &document["components"]["schemas"],
            defs: Map::new(),
        }
    }

    /// `schema` with its references made local.
    fn local(&mut self, schema: &Value) -> Value {
        match schema {
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| {
                        let v = match (k.as_str(), v.as_str()) {
                            ("$ref", Some(r)) => match r.strip_prefix("#/components/schemas/") {
                                Some(name) => {
                                    self.take(name);
                                    Value::from(format!("#/$defs/{name}"))
                                }
                                None => v.clone(),
                            },
                            _ => self.local(v),
                        };
                        (k.clone(), v)
                    })
                    .collect(),
            ),
            Value::Array(items) => Value::Array(items.iter().map(|i| self.local(i)).collect()),
            other => other.clone(),
        }
    }

    fn take(&mut self, name: &str) {
        if self.defs.contains_key(name) {
            return;
        }
        // Taken before its body is walked, so a schema that names itself ends.
        self.defs.insert(name.to_owned(), Value::Null);
        let body = self.components.get(name).cloned().unwrap_or(json!({}));
        let body = self.local(&body);
        self.defs.insert(name.to_owned(), body);
    }

    /// The schema `schema` names, when it is a reference; else itself.
    fn resolved(&self, schema: &'d Value) -> &'d Value {
        schema
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/components/schemas/"))
            .and_then(|name| self.components.get(name))
            .unwrap_or(schema)
    }

    /// `root` as a schema document: its `$defs` are the schemas it names.
    fn finish(self, mut root: Map<String, Value>) -> Map<String, Value> {
        if !self.defs.is_empty() {
            root.insert("$defs".into(), Value::Object(self.defs));
        }
        root
    }
}

/// The tool of `spec`, when the document has its operations.
fn build(spec: &'static ToolSpec, document: &Value) -> Option<Built> {
    let ops: Vec<&Value> = spec
        .operations
        .iter()
        .map(|o| operation(document, o))
        .collect::<Option<_>>()?;
    // The operations a choice picks among take the same arguments; the first one's describe
    // them all.
    let (first, op) = (&spec.operations[0], ops[0]);
    let mut defs = Defs::new(document);
    let mut properties = Map::new();
    let mut required: Vec<Value> = Vec::new();
    let parameters: Vec<&Value> = op
        .get("parameters")
        .and_then(Value::as_array)
        .map(|p| p.iter().collect())
        .unwrap_or_default();
    let parameter = |name: &str, place: &str| {
        parameters
            .iter()
            .find(|p| p["name"] == name && p["in"] == place)
            .copied()
    };
    // Path parameters: `/api/v1/executions/{id}` takes `id`, the execution's.
    let mut path = Vec::new();
    let segments: Vec<&str> = first.path.split('/').collect();
    for (i, segment) in segments.iter().enumerate() {
        let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) else {
            continue;
        };
        let noun = segments[..i]
            .last()
            .map(|s| s.trim_end_matches('s'))
            .unwrap_or("object");
        let mut schema = parameter(name, "path")
            .and_then(|p| p.get("schema"))
            .map(|s| defs.local(s))
            .unwrap_or(json!({"type": "string"}));
        if let Value::Object(map) = &mut schema {
            map.insert(
                "description".into(),
                Value::from(format!("The {noun}'s {name}.")),
            );
        }
        properties.insert(name.to_owned(), schema);
        required.push(Value::from(name));
        path.push(name.to_owned());
    }
    // Query parameters.
    let mut query = Vec::new();
    for p in parameters.iter().filter(|p| p["in"] == "query") {
        let Some(name) = p["name"].as_str() else {
            continue;
        };
        let mut schema = defs.local(p.get("schema").unwrap_or(&json!({})));
        if let (Value::Object(map), Some(d)) = (&mut schema, p.get("description")) {
            map.insert("description".into(), d.clone());
        }
        if p["required"] == true {
            required.push(Value::from(name));
        }
        properties.insert(name.to_owned(), schema);
        query.push(name.to_owned());
    }
    // The body.
    let mut fields = Vec::new();
    let content = &op["requestBody"]["content"];
    let body_schema = content["application/json"].get("schema");
    match (spec.body, body_schema) {
        (BodyArgs::None, _) => {}
        (BodyArgs::Fields, Some(schema)) => {
            let body = defs.resolved(schema);
            for (name, field) in body["properties"].as_object().into_iter().flatten() {
                properties.insert(name.clone(), defs.local(field));
                fields.push(name.clone());
            }
            required.extend(body["required"].as_array().into_iter().flatten().cloned());
        }
        (BodyArgs::Whole(name), Some(schema)) => {
            let mut schema = defs.local(schema);
            if content.get("application/yaml").is_some() {
                schema = json!({"anyOf": [schema, {"type": "string",
                    "description": "The definition's JSON or YAML text."}]});
            }
            if op["requestBody"]["required"] == true {
                required.push(Value::from(name));
            }
            properties.insert(name.to_owned(), schema);
            fields.push(name.to_owned());
        }
        // A body the table expects and the document lacks: the table is wrong, and the
        // tool is left out rather than offered wrong.
        (_, None) => return None,
    }
    if let Some(choice) = spec.choice {
        let values: Vec<&str> = spec.operations.iter().map(|o| o.choice).collect();
        properties.insert(choice.to_owned(), json!({"type": "string", "enum": values}));
        required.push(Value::from(choice));
    }
    let mut seen = BTreeSet::new();
    required.retain(|r| seen.insert(r.to_string()));
    let input = defs.finish(Map::from_iter([
        ("type".to_owned(), Value::from("object")),
        ("properties".to_owned(), Value::Object(properties)),
        ("required".to_owned(), Value::Array(required)),
        ("additionalProperties".to_owned(), Value::Bool(false)),
    ]));
    let description = match op.get("description").and_then(Value::as_str) {
        Some(d) => format!("{}\n\n{d}", spec.summary),
        None => spec.summary.to_owned(),
    };
    let mut tool = Tool::new(spec.name, description, Arc::new(input)).with_annotations(
        ToolAnnotations::with_title(spec.title)
            .read_only(spec.hints.read_only)
            .destructive(spec.hints.destructive)
            .idempotent(spec.hints.idempotent)
            .open_world(spec.hints.open_world),
    );
    tool = tool.with_title(spec.title);
    if let Some(output) = output_schema(document, op) {
        tool = tool.with_raw_output_schema(Arc::new(output));
    }
    Some(Built {
        spec,
        tool,
        path,
        query,
        fields,
    })
}

/// The schema of the operation's success answer, when it is an object (MCP's output schemas
/// are).
fn output_schema(document: &Value, op: &Value) -> Option<Map<String, Value>> {
    let (_, response) = op["responses"]
        .as_object()?
        .iter()
        .find(|(status, _)| status.starts_with('2'))?;
    let schema = response["content"]["application/json"].get("schema")?;
    let mut defs = Defs::new(document);
    let root = defs.local(defs.resolved(schema));
    let root = root.as_object()?.clone();
    (root.get("type") == Some(&Value::from("object"))).then(|| defs.finish(root))
}

impl Built {
    /// The request a call with these arguments makes, or what is wrong with them.
    pub(crate) fn request(&self, args: &Map<String, Value>) -> Result<Request, String> {
        let spec = self.spec;
        let takes = || {
            let mut names: Vec<&str> = self
                .path
                .iter()
                .chain(&self.query)
                .chain(&self.fields)
                .map(String::as_str)
                .collect();
            names.extend(spec.choice);
            names.join(", ")
        };
        for name in args.keys() {
            let known = self.path.contains(name)
                || self.query.contains(name)
                || self.fields.contains(name)
                || spec.choice == Some(name.as_str());
            if !known {
                return Err(format!(
                    "{} takes no argument '{name}'; it takes: {}",
                    spec.name,
                    takes()
                ));
            }
        }
        let op = match spec.choice {
            None => &spec.operations[0],
            Some(choice) => {
                let given = args.get(choice).and_then(Value::as_str);
                let values: Vec<&str> = spec.operations.iter().map(|o| o.choice).collect();
                spec.operations
                    .iter()
                    .find(|o| Some(o.choice) == given)
                    .ok_or_else(|| format!("'{choice}' must be one of: {}", values.join(", ")))?
            }
        };
        let mut path = op.path.to_owned();
        for name in &self.path {
            let value = args
                .get(name)
                .filter(|v| !v.is_null())
                .map(text)
                .filter(|t| !t.is_empty())
                .ok_or_else(|| format!("{} needs '{name}'", spec.name))?;
            path = path.replace(&format!("{{{name}}}"), &encode(&value));
        }
        let query: Vec<String> = self
            .query
            .iter()
            .filter_map(|name| {
                let value = args.get(name).filter(|v| !v.is_null())?;
                Some(format!("{name}={}", encode(&text(value))))
            })
            .collect();
        if !query.is_empty() {
            path = format!("{path}?{}", query.join("&"));
        }
        let body = match spec.body {
            BodyArgs::None => None,
            BodyArgs::Fields => Some(Body::Json(Value::Object(
                args.iter()
                    .filter(|(k, v)| self.fields.contains(k) && !v.is_null())
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            ))),
            BodyArgs::Whole(name) => match args.get(name) {
                Some(Value::String(text)) => Some(Body::Yaml(text.clone())),
                Some(v) if !v.is_null() => Some(Body::Json(v.clone())),
                _ => return Err(format!("{} needs '{name}'", spec.name)),
            },
        };
        Ok(Request {
            method: op.method,
            path,
            body,
            client: None,
        })
    }
}

/// A value as a path segment or query value takes it.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Percent-encodes a path segment or query value.
pub(crate) fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The tool result of an API answer: a success's JSON as structured content; a refusal as an
/// error result with the API's message and details, each with its suggested fix. The text
/// says what was called and holds the JSON too, for clients that give a model only text.
pub(crate) fn result(method: Method, path: &str, answer: Answer) -> CallToolResult {
    let Answer { status, body } = answer;
    let json = serde_json::to_string(&body).unwrap_or_default();
    if (200..300).contains(&status) {
        let structured = match body {
            Value::Object(_) => body,
            Value::Null => json!({}),
            other => json!({ "result": other }),
        };
        let mut result = CallToolResult::success(vec![ContentBlock::text(format!(
            "{} {path}: {status}\n{json}",
            method.as_str()
        ))]);
        result.structured_content = Some(structured);
        return result;
    }
    let mut text = format!("{} {path} was refused ({status})", method.as_str());
    match serde_json::from_value::<ErrorBody>(body.clone()) {
        Ok(ErrorBody { error }) => {
            text.push_str(&format!(": {}: {}", error.code, error.message));
            for d in &error.details {
                text.push_str(&format!("\n- {}: {}", d.path, d.message));
                if let Some(fix) = &d.fix {
                    text.push_str(&format!(" (fix: {})", fix.description));
                }
            }
        }
        Err(_) => text.push_str(&format!("\n{json}")),
    }
    let mut result = CallToolResult::error(vec![ContentBlock::text(text)]);
    result.structured_content = Some(body);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tool names are what the issue names, each once.
    #[test]
    fn tool_names_are_unique() {
        let names: BTreeSet<&str> = TOOLS.iter().map(|t| t.name).collect();
        assert_eq!(names.len(), TOOLS.len());
    }

    #[test]
    fn arguments_become_the_path_the_query_and_the_body() {
        let document = json!({
            "paths": {
                "/api/v1/approvals/{id}/approve": {"post": {
                    "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                    "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/DecisionRequest"}}}},
                    "responses": {"200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Approval"}}}}}}},
                "/api/v1/approvals/{id}/reject": {"post": {
                    "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/DecisionRequest"}}}},
                    "responses": {"200": {}}}},
                "/api/v1/executions": {"get": {
                    "parameters": [{"name": "status", "in": "query", "schema": {"$ref": "#/components/schemas/Status"}},
                                   {"name": "limit", "in": "query", "schema": {"type": "integer"}}],
                    "responses": {"200": {}}}},
            },
            "components": {"schemas": {
                "DecisionRequest": {"type": "object", "properties": {"reason": {"type": ["string", "null"]}}},
                "Approval": {"type": "object", "properties": {"id": {"type": "string"}, "status": {"$ref": "#/components/schemas/Status"}}},
                "Status": {"type": "string", "enum": ["pending", "approved"]},
            }},
        });
        let catalog = Catalog::new(&document);
        let names: Vec<&str> = catalog.tools.iter().map(|t| t.spec.name).collect();
        assert_eq!(names, ["list_executions", "decide_approval"]);

        let decide = catalog.get("decide_approval").unwrap();
        let schema = serde_json::to_value(&*decide.tool.input_schema).unwrap();
        assert_eq!(schema["required"], json!(["id", "decision"]));
        assert_eq!(
            schema["properties"]["decision"]["enum"],
            json!(["approve", "reject"])
        );
        let output = serde_json::to_value(decide.tool.output_schema.as_deref().unwrap()).unwrap();
        assert_eq!(output["properties"]["status"]["$ref"], "#/$defs/Status");
        assert_eq!(
            output["$defs"]["Status"]["enum"],
            json!(["pending", "approved"])
        );

        let args = |v: Value| v.as_object().unwrap().clone();
        let call = decide
            .request(&args(
                json!({"id": "a/1", "decision": "reject", "reason": "too big"}),
            ))
            .unwrap();
        assert_eq!(call.path, "/api/v1/approvals/a%2F1/reject");
        assert_eq!(call.body, Some(Body::Json(json!({"reason": "too big"}))));
        let wrong = decide
            .request(&args(json!({"id": "a", "decision": "maybe"})))
            .unwrap_err();
        assert!(wrong.contains("approve, reject"), "{wrong}");
        let unknown = decide
            .request(&args(json!({"id": "a", "decision": "approve", "why": "x"})))
            .unwrap_err();
        assert!(
            unknown.contains("no argument 'why'") && unknown.contains("reason"),
            "{unknown}"
        );

        let list = catalog.get("list_executions").unwrap();
        let schema = serde_json::to_value(&*list.tool.input_schema).unwrap();
        assert_eq!(schema["properties"]["status"]["$ref"], "#/$defs/Status");
        let call = list
            .request(&args(
                json!({"status": "pending", "limit": 5, "cursor": null}),
            ))
            .unwrap_err();
        assert!(call.contains("no argument 'cursor'"), "{call}");
        let call = list
            .request(&args(json!({"status": "pending", "limit": 5})))
            .unwrap();
        assert_eq!(
            (call.method, call.path.as_str(), call.body),
            (
                Method::Get,
                "/api/v1/executions?status=pending&limit=5",
                None
            )
        );
    }

    #[test]
    fn a_refusal_is_an_error_result_with_the_apis_details_and_fixes() {
        let body = json!({"error": {"code": "invalid_workflow", "message": "the workflow is not valid",
            "details": [{"path": "$.steps[0].on_true", "message": "no step 'alow'",
                         "fix": {"op": "replace", "value": "allow", "certain": true, "description": "replace with 'allow'"}}]}});
        let r = result(
            Method::Post,
            "/api/v1/workflows",
            Answer {
                status: 422,
                body: body.clone(),
            },
        );
        assert_eq!(r.is_error, Some(true));
        assert_eq!(r.structured_content, Some(body));
        let text = serde_json::to_value(&r.content[0]).unwrap()["text"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            text.contains("invalid_workflow: the workflow is not valid"),
            "{text}"
        );
        assert!(
            text.contains("$.steps[0].on_true: no step 'alow' (fix: replace with 'allow')"),
            "{text}"
        );
    }
}
