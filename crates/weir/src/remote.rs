//! The commands that talk to a running server (seed 000 §8.1): deploy, list, logs, version,
//! executions, approve, reject, emit, create. The server is `--server` / `WEIR_SERVER`
//! (default `http://127.0.0.1:8080`); the key is `--api-key` / `WEIR_API_KEY`, else the admin
//! key a local `weir serve` wrote to `./weir-data/admin-api-key`.
//!
//! Exit codes as elsewhere: 0 done, 1 the server refused (its error is printed), 2 usage or the
//! server cannot be reached.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use serde_json::{Value, json};

use crate::input::Failure;

/// Where the server is and how to call it.
#[derive(Args, Clone)]
pub struct Remote {
    /// The server's base URL.
    #[arg(long, env = "WEIR_SERVER", default_value = "http://127.0.0.1:8080")]
    pub server: String,
    /// The API key (default: ./weir-data/admin-api-key, as a local `weir serve` writes it).
    #[arg(long, env = "WEIR_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
}

pub struct Client {
    base: String,
    key: String,
    http: reqwest::blocking::Client,
}

impl Client {
    /// The server's base URL, without a trailing slash.
    pub fn base(&self) -> &str {
        self.base.trim_end_matches('/')
    }

    pub fn new(remote: &Remote) -> Result<Client, Failure> {
        let key = match &remote.api_key {
            Some(k) => k.clone(),
            None => std::fs::read_to_string("weir-data/admin-api-key")
                .map(|k| k.trim().to_owned())
                .map_err(|_| {
                    Failure::Usage(
                        "no API key: pass --api-key or set WEIR_API_KEY (a local `weir serve` writes its admin key to ./weir-data/admin-api-key)".into(),
                    )
                })?,
        };
        let base = remote.server.trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(Failure::Usage(format!(
                "--server '{base}' is not an http:// or https:// URL"
            )));
        }
        // One crypto provider for the whole binary (rustls with ring).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(100))
            .build()
            .map_err(|e| Failure::Usage(format!("cannot make an HTTP client: {e}")))?;
        Ok(Client { base, key, http })
    }

    /// Sends a request; the answer's JSON when it is 2xx, else the server's error as a
    /// `Check` failure (exit 1). An unreachable server is a `Usage` failure (exit 2).
    pub fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<(&str, Vec<u8>)>,
    ) -> Result<Value, Failure> {
        let method = reqwest::Method::from_bytes(method.as_bytes())
            .map_err(|_| Failure::Usage(format!("bad method {method}")))?;
        let url = format!("{}{path}", self.base);
        let mut request = self.http.request(method, &url).bearer_auth(&self.key);
        if let Some((content_type, bytes)) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, content_type)
                .body(bytes);
        }
        let response = request
            .send()
            .map_err(|e| Failure::Usage(format!("cannot reach {}: {e}", self.base)))?;
        let status = response.status();
        let text = response
            .text()
            .map_err(|e| Failure::Usage(format!("{url}: the answer did not arrive: {e}")))?;
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        if status.is_success() {
            return Ok(value);
        }
        let mut message = format!(
            "{} {}",
            status.as_u16(),
            value["error"]["message"]
                .as_str()
                .unwrap_or("the server refused")
        );
        for d in value["error"]["details"].as_array().into_iter().flatten() {
            message.push_str(&format!(
                "\n  {}: {}",
                d["path"].as_str().unwrap_or("$"),
                d["message"].as_str().unwrap_or("")
            ));
        }
        Err(Failure::Check(message))
    }

    pub fn json(&self, method: &str, path: &str, body: &Value) -> Result<Value, Failure> {
        self.call(
            method,
            path,
            Some(("application/json", body.to_string().into_bytes())),
        )
    }
}

/// Percent-encodes a path segment or query value.
pub fn enc(s: &str) -> String {
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

/// GETs `path`: the answer to show as a table, or `None` once it is printed as JSON.
fn fetch(client: &Client, path: &str, as_json: bool) -> Result<Option<Value>, Failure> {
    let answer = client.call("GET", path, None)?;
    if as_json {
        print_json(&answer);
        return Ok(None);
    }
    Ok(Some(answer))
}

fn print_json(v: &Value) {
    outln!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
}

/// A value as a table or line shows it: what the server sent may hold control characters,
/// which never reach the terminal.
fn text(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) => crate::input::sanitize(s),
        other => crate::input::sanitize(&other.to_string()),
    }
}

/// `weir deploy FILE...`: stores each file as a workflow, or as a new version of it.
pub fn deploy(client: &Client, files: &[PathBuf]) -> Result<(), Failure> {
    // Every file is checked here first, as `weir validate` checks it (the same paths and
    // messages), so nothing is deployed when one is broken. What only the server knows (its
    // connectors' action types and their schemas, its rules) the server checks.
    use weir_core::diag::Code;
    let catalog = weir_core::catalog::BuiltinCatalog::new();
    let rules = weir_core::Rules::default();
    let tty = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let mut broken = Vec::new();
    for file in files {
        let diagnostics = match crate::input::read_document(file)? {
            Ok(value) => weir_core::validate_value(&value, &catalog, &rules).diagnostics,
            Err(d) => vec![d],
        };
        let errors: Vec<_> = diagnostics
            .iter()
            .filter(|d| {
                d.is_error()
                    && !matches!(
                        d.code,
                        Code::UnknownActionType | Code::ActionConfig | Code::UnknownRule
                    )
            })
            .collect();
        let name = file.display().to_string();
        for d in &errors {
            crate::print_diagnostic(&name, d, tty);
        }
        if !errors.is_empty() {
            broken.push(format!("{name}: {} error(s)", errors.len()));
        }
    }
    if !broken.is_empty() {
        return Err(Failure::Check(format!(
            "nothing deployed: {}",
            broken.join(", ")
        )));
    }
    for file in files {
        let bytes = crate::input::read_bytes(file)?;
        let content_type = match file.extension().and_then(|e| e.to_str()) {
            Some("yaml" | "yml") => "application/yaml",
            _ => "application/json",
        };
        let stored = client
            .call("POST", "/api/v1/workflows", Some((content_type, bytes)))
            .map_err(|e| match e {
                Failure::Check(m) => Failure::Check(format!("{}: {m}", file.display())),
                other => other,
            })?;
        outln!(
            "deployed {} version {}{}",
            text(&stored["workflow_id"]),
            text(&stored["version"]),
            if stored["enabled"] == json!(false) {
                " (disabled)"
            } else {
                ""
            }
        );
        for w in stored["warnings"].as_array().into_iter().flatten() {
            errln!("warning: {}: {}", text(&w["path"]), text(&w["message"]));
        }
    }
    Ok(())
}

/// `weir list [--enabled]`.
pub fn list(client: &Client, enabled: bool, as_json: bool) -> Result<(), Failure> {
    let mut path = "/api/v1/workflows?limit=500".to_owned();
    if enabled {
        path.push_str("&enabled=true");
    }
    let Some(answer) = fetch(client, &path, as_json)? else {
        return Ok(());
    };
    outln!("{:<40} {:>7}  {:<8} NAME", "WORKFLOW", "VERSION", "ENABLED");
    for w in answer["workflows"].as_array().into_iter().flatten() {
        outln!(
            "{:<40} {:>7}  {:<8} {}",
            text(&w["workflow_id"]),
            text(&w["version"]),
            text(&w["enabled"]),
            text(&w["name"])
        );
    }
    Ok(())
}

/// The columns of [`execution_line`].
const EXECUTION_HEADER: &str = "STARTED                        ID                                    STATUS    DECISION REASON";

fn execution_line(e: &Value) -> String {
    let why = if e["error"].is_null() {
        &e["reason"]
    } else {
        &e["error"]
    };
    format!(
        "{:<29}  {:<36}  {:<9} {:<8} {}",
        text(&e["started_at"]),
        text(&e["id"]),
        text(&e["status"]),
        text(&e["decision"]),
        text(why)
    )
}

/// `weir executions [--workflow W] [--status S] [--limit N]`.
pub fn executions(
    client: &Client,
    workflow: Option<&str>,
    status: Option<&str>,
    limit: u32,
    as_json: bool,
) -> Result<(), Failure> {
    let mut path = format!("/api/v1/executions?limit={limit}");
    if let Some(w) = workflow {
        path.push_str(&format!("&workflow_id={}", enc(w)));
    }
    if let Some(s) = status {
        path.push_str(&format!("&status={}", enc(s)));
    }
    let Some(answer) = fetch(client, &path, as_json)? else {
        return Ok(());
    };
    outln!("{:<32} {EXECUTION_HEADER}", "WORKFLOW");
    for e in answer["executions"].as_array().into_iter().flatten() {
        outln!("{:<32} {}", text(&e["workflow_id"]), execution_line(e));
    }
    Ok(())
}

/// `weir approvals [--status S] [--limit N]`.
pub fn approvals(
    client: &Client,
    status: Option<&str>,
    limit: u32,
    as_json: bool,
) -> Result<(), Failure> {
    let mut path = format!("/api/v1/approvals?limit={limit}");
    if let Some(s) = status {
        path.push_str(&format!("&status={}", enc(s)));
    }
    let Some(answer) = fetch(client, &path, as_json)? else {
        return Ok(());
    };
    outln!(
        "{:<40} {:<9} {:<16} {:<24} {:<29} EXECUTION",
        "ID",
        "STATUS",
        "ROLE",
        "ENTITY",
        "REQUESTED"
    );
    for a in answer["approvals"].as_array().into_iter().flatten() {
        let entity = match (&a["entity"], &a["entity_id"]) {
            (Value::Null, _) => "-".to_owned(),
            (kind, Value::Null) => text(kind),
            (kind, id) => format!("{} {}", text(kind), text(id)),
        };
        outln!(
            "{:<40} {:<9} {:<16} {:<24} {:<29} {}",
            text(&a["id"]),
            text(&a["status"]),
            text(&a["approver_role"]),
            entity,
            text(&a["requested_at"]),
            text(&a["execution_id"])
        );
    }
    Ok(())
}

/// `weir execution show ID`.
pub fn execution_show(client: &Client, id: &str, as_json: bool) -> Result<(), Failure> {
    let Some(e) = fetch(client, &format!("/api/v1/executions/{}", enc(id)), as_json)? else {
        return Ok(());
    };
    outln!("execution {}", text(&e["id"]));
    outln!(
        "  workflow   {} version {}",
        text(&e["workflow_id"]),
        text(&e["workflow_version"])
    );
    outln!("  status     {}", text(&e["status"]));
    outln!("  decision   {}", text(&e["decision"]));
    for (label, key) in [("reason", "reason"), ("error", "error")] {
        if !e[key].is_null() {
            outln!("  {label:<10} {}", text(&e[key]));
        }
    }
    outln!(
        "  started    {}  finished {}",
        text(&e["started_at"]),
        text(&e["completed_at"])
    );
    outln!(
        "{:<32} {:<16} {:<10} {:>7}  ERROR",
        "STEP",
        "TYPE",
        "STATUS",
        "ATTEMPT"
    );
    for s in e["steps"].as_array().into_iter().flatten() {
        outln!(
            "{:<32} {:<16} {:<10} {:>7}  {}",
            text(&s["step_id"]),
            text(&s["type"]),
            text(&s["status"]),
            text(&s["attempt"]),
            if s["error"].is_null() {
                String::new()
            } else {
                text(&s["error"])
            }
        );
    }
    Ok(())
}

/// `weir execution trace ID`.
pub fn execution_trace(client: &Client, id: &str, as_json: bool) -> Result<(), Failure> {
    let path = format!("/api/v1/executions/{}/trace", enc(id));
    let Some(t) = fetch(client, &path, as_json)? else {
        return Ok(());
    };
    outln!(
        "{:<29} {:<9} {:<32} {:<10} DETAIL",
        "AT",
        "KIND",
        "STEP",
        "STATUS"
    );
    for entry in t["timeline"].as_array().into_iter().flatten() {
        let detail = match entry["kind"].as_str() {
            Some("started") => format!("event {}", text(&entry["trigger_event"])),
            Some("finished") => format!(
                "decision {} {}",
                text(&entry["decision"]),
                text(if entry["error"].is_null() {
                    &entry["reason"]
                } else {
                    &entry["error"]
                })
            ),
            _ if !entry["error"].is_null() => text(&entry["error"]),
            _ if !entry["input"]["condition"].is_null() => {
                format!("compared {}", text(&entry["input"]["condition"]))
            }
            _ if !entry["input"].is_null() => format!("input {}", text(&entry["input"])),
            _ => String::new(),
        };
        outln!(
            "{:<29} {:<9} {:<32} {:<10} {}",
            text(&entry["at"]),
            text(&entry["kind"]),
            if entry["step_id"].is_null() {
                String::new()
            } else {
                text(&entry["step_id"])
            },
            if entry["status"].is_null() {
                String::new()
            } else {
                text(&entry["status"])
            },
            detail
        );
    }
    Ok(())
}

/// `weir logs WORKFLOW [--tail]`: its recent executions, oldest first; with `--tail`, then
/// each new one as it starts, until interrupted.
pub fn logs(
    client: &Client,
    workflow: &str,
    tail: bool,
    limit: u32,
    as_json: bool,
) -> Result<(), Failure> {
    // JSON: one execution per line, so a follower can read them as they come.
    let line = |e: &Value| match as_json {
        true => e.to_string(),
        false => execution_line(e),
    };
    // The workflow's runs: a workflow that never was is a 404, not an empty list; a deleted
    // one's runs are still listed.
    let path = format!("/api/v1/workflows/{}/runs?limit={limit}", enc(workflow));
    let first = client.call("GET", &path, None)?;
    let mut seen: Option<String> = None;
    if !as_json {
        outln!("{EXECUTION_HEADER}");
    }
    let list = first["executions"].as_array().cloned().unwrap_or_default();
    for e in list.iter().rev() {
        outln!("{}", line(e));
    }
    if let Some(newest) = list.first() {
        seen = newest["id"].as_str().map(str::to_owned);
    }
    if !tail {
        return Ok(());
    }
    // Ids grow with time: anything above the newest seen is new.
    loop {
        std::thread::sleep(Duration::from_millis(500));
        let page = client.call("GET", &path, None)?;
        let fresh: Vec<&Value> = page["executions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| {
                seen.as_deref()
                    .is_none_or(|s| e["id"].as_str().is_some_and(|id| id > s))
            })
            .collect();
        for e in fresh.iter().rev() {
            outln!("{}", line(e));
        }
        if let Some(newest) = fresh.first() {
            seen = newest["id"].as_str().map(str::to_owned);
        }
    }
}

/// `weir version WORKFLOW [VERSION]`: lists the versions, or makes one current. VERSION is a
/// stored version number, or the `version` a definition declares (`2.0.0`).
pub fn version(
    client: &Client,
    workflow: &str,
    version: Option<&str>,
    as_json: bool,
) -> Result<(), Failure> {
    let base = format!("/api/v1/workflows/{}/versions", enc(workflow));
    let listed = client.call("GET", &base, None)?;
    let versions = listed["versions"].as_array().cloned().unwrap_or_default();
    let Some(wanted) = version else {
        if as_json {
            print_json(&listed);
            return Ok(());
        }
        outln!(
            "{:>7}  {:<10} {:<8} CREATED",
            "VERSION",
            "DECLARED",
            "CURRENT"
        );
        for v in &versions {
            outln!(
                "{:>7}  {:<10} {:<8} {}",
                text(&v["version"]),
                text(&v["declared_version"]),
                if v["current"] == json!(true) { "*" } else { "" },
                text(&v["created_at"])
            );
        }
        return Ok(());
    };
    let number = match wanted.parse::<i64>() {
        Ok(n) => n,
        Err(_) => versions
            .iter()
            .rev()
            .find(|v| v["declared_version"] == json!(wanted))
            .and_then(|v| v["version"].as_i64())
            .ok_or_else(|| {
                Failure::Check(format!("{workflow} has no version declared as '{wanted}'"))
            })?,
    };
    let done = client.call("POST", &format!("{base}/{number}/activate"), None)?;
    if as_json {
        print_json(&done);
        return Ok(());
    }
    outln!(
        "{} now runs version {}",
        text(&done["workflow_id"]),
        text(&done["version"])
    );
    Ok(())
}

/// Prints what `GET /api/v1/workflows/{id}/schedule` answers (or the same, from a file).
pub fn print_schedule(shown: &Value) {
    for s in shown["schedules"].as_array().into_iter().flatten() {
        let mut head = format!(
            "{}  {}  (catch_up {})",
            text(&s["cron"]),
            text(&s["timezone"]),
            text(&s["catch_up"])
        );
        if s["last_fire"].is_string() {
            head.push_str(&format!(", last fired {}", text(&s["last_fire"])));
        }
        outln!("{head}");
        let next = s["next"].as_array().map(Vec::as_slice).unwrap_or_default();
        if next.is_empty() {
            outln!("  does not fire again");
        }
        for t in next {
            outln!("  {}  ({})", text(&t["local"]), text(&t["at"]));
        }
    }
}

/// `weir hook-url WORKFLOW`: the full URL of the workflow's webhook.
pub fn hook_url(client: &Client, workflow: &str) -> Result<(), Failure> {
    let hook = client.call(
        "GET",
        &format!("/api/v1/workflows/{}/hook", enc(workflow)),
        None,
    )?;
    outln!("{}{}", client.base(), text(&hook["path"]));
    Ok(())
}

/// `weir approve|reject ID [--reason R]`.
pub fn decide(
    client: &Client,
    id: &str,
    approve: bool,
    reason: Option<&str>,
) -> Result<(), Failure> {
    let verb = if approve { "approve" } else { "reject" };
    let body = match reason {
        Some(r) => json!({ "reason": r }),
        None => json!({}),
    };
    let done = client.json(
        "POST",
        &format!("/api/v1/approvals/{}/{verb}", enc(id)),
        &body,
    )?;
    outln!("{} {}", text(&done["id"]), text(&done["status"]));
    Ok(())
}

/// `weir emit EVENT --payload JSON`: sends an event; prints the decision and what it started.
pub fn emit(
    client: &Client,
    event: &str,
    payload: &Value,
    idempotency_key: Option<&str>,
    as_json: bool,
) -> Result<(), Failure> {
    let mut body = json!({ "event_type": event, "payload": payload });
    if let Some(k) = idempotency_key {
        body["idempotency_key"] = json!(k);
    }
    let answer = client.json("POST", "/api/v1/events", &body)?;
    if as_json {
        print_json(&answer);
    } else {
        outln!(
            "event {}: decision {}",
            text(&answer["event_id"]),
            text(&answer["decision"])
        );
        for e in answer["executions"].as_array().into_iter().flatten() {
            outln!(
                "  {} {} {} {} {}",
                text(&e["workflow_id"]),
                text(&e["execution_id"]),
                text(&e["status"]),
                text(&e["decision"]),
                text(&e["reason"])
            );
        }
    }
    // A run that failed fails the command (exit 1), with its error.
    let mut failures = Vec::new();
    for e in answer["executions"].as_array().into_iter().flatten() {
        if e["status"] == "failed" {
            let id = text(&e["execution_id"]);
            let run = client.call("GET", &format!("/api/v1/executions/{}", enc(&id)), None)?;
            failures.push(format!(
                "execution {id} of {} failed: {}",
                text(&e["workflow_id"]),
                text(&run["error"])
            ));
        }
    }
    match failures.is_empty() {
        true => Ok(()),
        false => Err(Failure::Check(failures.join("\n"))),
    }
}

/// `weir create --template T [--name N]`: deploys a starter workflow.
pub fn create(client: &Client, template: &str, name: Option<&str>) -> Result<(), Failure> {
    let Some(text_doc) = crate::templates::get(template) else {
        return Err(Failure::Usage(format!(
            "no template '{template}'; available: {}",
            crate::templates::names().join(", ")
        )));
    };
    let mut doc: Value = serde_json::from_str(text_doc)
        .map_err(|e| Failure::Check(format!("template '{template}' is broken: {e}")))?;
    let name = name.unwrap_or(template);
    let id = weir_core::validate::slug_id(name);
    if id.is_empty() {
        return Err(Failure::Usage(format!(
            "'{name}' makes no usable workflow id; use letters or digits"
        )));
    }
    doc["workflow_id"] = json!(id);
    doc["name"] = json!(name);
    let stored = client.json("POST", "/api/v1/workflows", &doc)?;
    outln!(
        "created {} version {} from template '{template}'",
        text(&stored["workflow_id"]),
        text(&stored["version"])
    );
    Ok(())
}
