//! The resources: the definition format's documentation (built in) and the templates (read
//! through the API, `GET /api/v1/templates`).

use rmcp::ErrorData;
use rmcp::RoleServer;
use rmcp::model::{Extensions, ReadResourceResult, Resource, ResourceContents, ResourceTemplate};
use rmcp::service::RequestContext;
use serde_json::Value;

use crate::{Answer, Api, Method, Request};

/// The documents served as resources: URI, name, title, text.
const DOCS: &[(&str, &str, &str, &str)] = &[
    (
        "weir://docs/format",
        "format",
        "The workflow definition format",
        include_str!("../../../docs/format.md"),
    ),
    (
        "weir://docs/diagnostics",
        "diagnostics",
        "What validation reports: every diagnostic code",
        include_str!("../../../docs/diagnostics.md"),
    ),
];

const TEMPLATE_PREFIX: &str = "weir://templates/";

pub(crate) fn templates_request(client: Option<String>) -> Request {
    Request {
        method: Method::Get,
        path: "/api/v1/templates".to_owned(),
        body: None,
        client,
    }
}

/// The documents, and the templates the API listed (none when it could not).
pub(crate) fn list(templates: Result<Answer, String>) -> Vec<Resource> {
    let mut all: Vec<Resource> = DOCS
        .iter()
        .map(|(uri, name, title, text)| {
            Resource::new(*uri, *name)
                .with_title(*title)
                .with_mime_type("text/markdown")
                .with_size(text.len() as u64)
        })
        .collect();
    if let Ok(Answer { status: 200, body }) = templates {
        for t in body["templates"].as_array().into_iter().flatten() {
            let (Some(id), Some(name)) = (t["id"].as_str(), t["name"].as_str()) else {
                continue;
            };
            let mut r = Resource::new(format!("{TEMPLATE_PREFIX}{id}"), format!("template {id}"))
                .with_title(name)
                .with_mime_type("application/json");
            if let Some(d) = t["description"].as_str().filter(|d| !d.is_empty()) {
                r = r.with_description(d);
            }
            all.push(r);
        }
    }
    all
}

pub(crate) fn templates() -> Vec<ResourceTemplate> {
    vec![
        ResourceTemplate::new(format!("{TEMPLATE_PREFIX}{{id}}"), "template")
            .with_title("A template's workflow definition")
            .with_mime_type("application/json"),
    ]
}

pub(crate) async fn read<A: Api>(
    api: &A,
    uri: &str,
    client: Option<String>,
    context: &RequestContext<RoleServer>,
) -> Result<ReadResourceResult, ErrorData> {
    if let Some((_, _, _, text)) = DOCS.iter().find(|d| d.0 == uri) {
        return Ok(ReadResourceResult::new(vec![
            ResourceContents::text(*text, uri).with_mime_type("text/markdown"),
        ]));
    }
    let Some(id) = uri
        .strip_prefix(TEMPLATE_PREFIX)
        .filter(|id| !id.is_empty())
    else {
        return Err(ErrorData::resource_not_found(
            format!("no resource {uri}"),
            None,
        ));
    };
    let http: &Extensions = &context.extensions;
    let answer = api
        .call(
            Request {
                method: Method::Get,
                path: format!("/api/v1/templates/{}", crate::tools::encode(id)),
                body: None,
                client,
            },
            http,
        )
        .await
        .map_err(|e| ErrorData::internal_error(e, None))?;
    match answer.status {
        200 => {
            let text = serde_json::to_string_pretty(&answer.body["workflow"]).unwrap_or_default();
            Ok(ReadResourceResult::new(vec![
                ResourceContents::text(text, uri).with_mime_type("application/json"),
            ]))
        }
        404 => Err(ErrorData::resource_not_found(
            format!("no template '{id}'"),
            None,
        )),
        status => Err(ErrorData::invalid_request(
            format!("the API refused ({status})"),
            Some(answer.body).filter(|b: &Value| !b.is_null()),
        )),
    }
}
