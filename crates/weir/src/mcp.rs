//! `weir mcp --server URL`: Weir's MCP tools over stdio, for clients that start a command
//! (Claude Desktop, editors). Each tool call is a request to the server's API with the key
//! (`--api-key` / `WEIR_API_KEY`), the client's MCP name as `X-Agent-ID` and `mcp` as
//! `X-Agent-Type`, so the server authorizes and audits it as that agent. Stdout carries MCP
//! only; what goes wrong is said on stderr.

use std::process::ExitCode;
use std::sync::Arc;

use serde_json::Value;
use weir_mcp::{Answer, Body, Request, Weir};

use crate::input::Failure;
use crate::remote::{Client, Remote};

/// The API of a server, over HTTP.
struct HttpApi {
    client: Client,
}

impl weir_mcp::Api for HttpApi {
    async fn call(&self, request: Request, _http: &weir_mcp::Extensions) -> Result<Answer, String> {
        let client = self.client.clone();
        let agent = request
            .client
            .clone()
            .unwrap_or_else(|| "mcp-client".into());
        let answer = tokio::task::spawn_blocking(move || {
            let body = match &request.body {
                None => None,
                Some(Body::Json(v)) => Some(("application/json", v.to_string().into_bytes())),
                Some(Body::Yaml(t)) => Some(("application/yaml", t.clone().into_bytes())),
            };
            let headers = [
                ("X-Agent-ID", agent_id(&agent)),
                ("X-Agent-Type", "mcp".to_owned()),
            ];
            client.send(request.method.as_str(), &request.path, body, &headers)
        })
        .await
        .map_err(|e| format!("the call did not finish: {e}"))?;
        match answer {
            Ok((status, body)) => Ok(Answer {
                status,
                body: match body {
                    Value::String(s) if s.is_empty() => Value::Null,
                    other => other,
                },
            }),
            Err(Failure::Usage(m) | Failure::Check(m)) => Err(m),
        }
    }
}

/// A client's name as `X-Agent-ID` takes it: printable ASCII, 1 to 200 characters.
fn agent_id(name: &str) -> String {
    let id: String = name
        .chars()
        .filter(|c| c.is_ascii_graphic() || *c == ' ')
        .take(200)
        .collect();
    match id.trim() {
        "" => "mcp-client".to_owned(),
        id => id.to_owned(),
    }
}

pub fn serve(remote: &Remote) -> Result<ExitCode, Failure> {
    let api = Arc::new(HttpApi {
        client: Client::new(remote)?,
    });
    // The blocking HTTP client must not be dropped inside the runtime: this handle outlives it.
    let _keep = api.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Failure::Usage(format!("cannot start the runtime: {e}")))?;
    let served = runtime.block_on(Weir::new(api, &weir_server::document()).serve_stdio());
    drop(runtime);
    served.map_err(Failure::Check)?;
    Ok(ExitCode::SUCCESS)
}
