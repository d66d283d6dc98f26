//! The commands that talk to a running server: deploy, list, logs, version, executions,
//! approvals, execution show and trace, approve, reject, emit, create. Answers are read into
//! the API's own types (`weir-api-types`), the ones the server answers with. The server is `--server` / `WEIR_SERVER`
//! (default `http://127.0.0.1:8080`); the key is `--api-key` / `WEIR_API_KEY`, else the admin
//! key a local `weir serve` wrote to `./weir-data/admin-api-key`.
//!
//! Exit codes as elsewhere: 0 done, 1 the server refused (its error is printed), 2 usage or the
//! server cannot be reached.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use weir_api_types::ErrorBody;
use weir_api_types::approvals::{Approval, ApprovalList};
use weir_api_types::events::EventAnswer;
use weir_api_types::executions::{
    Execution, ExecutionList, ExecutionStatus, ExecutionSummary, TimelineEntry, Trace,
};
use weir_api_types::triggers::HookUrl;
use weir_api_types::workflows::{StoredWorkflow, VersionActivated, VersionList, WorkflowList};

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

#[derive(Clone)]
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

    /// Sends a request with these extra headers; the answer's status and JSON (its text as
    /// a JSON string when it is not JSON). An unreachable server is a `Usage` failure.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<(&str, Vec<u8>)>,
        headers: &[(&str, String)],
    ) -> Result<(u16, Value), Failure> {
        let method = reqwest::Method::from_bytes(method.as_bytes())
            .map_err(|_| Failure::Usage(format!("bad method {method}")))?;
        let url = format!("{}{path}", self.base);
        let mut request = self.http.request(method, &url).bearer_auth(&self.key);
        for (name, value) in headers {
            request = request.header(*name, value);
        }
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
        Ok((status.as_u16(), value))
    }

    /// Sends a request; the answer's JSON when it is 2xx, else the server's error as a
    /// `Check` failure (exit 1). An unreachable server is a `Usage` failure (exit 2).
    pub fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<(&str, Vec<u8>)>,
    ) -> Result<Value, Failure> {
        let (status, value) = self.send(method, path, body, &[])?;
        if (200..300).contains(&status) {
            return Ok(value);
        }
        let Ok(ErrorBody { error }) = serde_json::from_value::<ErrorBody>(value) else {
            return Err(Failure::Check(format!("{status} the server refused")));
        };
        let mut message = format!("{status} {}", error.message);
        for d in &error.details {
            message.push_str(&format!("\n  {}: {}", d.path, d.message));
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

/// An answer read into its type; one that does not read is the server's fault (exit 1).
fn typed<T: DeserializeOwned>(answer: Value, path: &str) -> Result<T, Failure> {
    serde_json::from_value(answer)
        .map_err(|e| Failure::Check(format!("the answer to {path} does not read: {e}")))
}

/// GETs `path`: the answer to show as a table, or `None` once it is printed as JSON.
fn fetch<T: DeserializeOwned>(
    client: &Client,
    path: &str,
    as_json: bool,
) -> Result<Option<T>, Failure> {
    let answer = client.call("GET", path, None)?;
    if as_json {
        print_json(&answer);
        return Ok(None);
    }
    typed(answer, path).map(Some)
}

/// A line of text from the server, without its control characters.
fn clean(s: &str) -> String {
    crate::input::sanitize(s)
}

/// An optional value, `-` when there is none.
fn or_dash(v: Option<impl std::fmt::Display>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| clean(&v.to_string()))
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
        let stored: StoredWorkflow = typed(stored, "/api/v1/workflows")?;
        outln!(
            "deployed {} version {}{}",
            clean(&stored.workflow_id),
            stored.version,
            if stored.enabled { "" } else { " (disabled)" }
        );
        for w in &stored.warnings {
            errln!("warning: {}: {}", clean(&w.path), clean(&w.message));
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
    let Some(answer) = fetch::<WorkflowList>(client, &path, as_json)? else {
        return Ok(());
    };
    outln!("{:<40} {:>7}  {:<8} NAME", "WORKFLOW", "VERSION", "ENABLED");
    for w in &answer.workflows {
        outln!(
            "{:<40} {:>7}  {:<8} {}",
            clean(&w.workflow_id),
            w.version,
            w.enabled,
            clean(&w.name)
        );
    }
    Ok(())
}

/// The columns of [`execution_line`].
const EXECUTION_HEADER: &str = "STARTED                        ID                                    STATUS    DECISION REASON";

fn execution_line(e: &ExecutionSummary) -> String {
    format!(
        "{:<29}  {:<36}  {:<9} {:<8} {}",
        clean(&e.started_at),
        clean(&e.id),
        e.status,
        or_dash(e.decision),
        or_dash(e.error.as_ref().or(e.reason.as_ref()))
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
    let Some(answer) = fetch::<ExecutionList>(client, &path, as_json)? else {
        return Ok(());
    };
    outln!("{:<32} {EXECUTION_HEADER}", "WORKFLOW");
    for e in &answer.executions {
        outln!("{:<32} {}", clean(&e.workflow_id), execution_line(e));
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
    let Some(answer) = fetch::<ApprovalList>(client, &path, as_json)? else {
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
    for a in &answer.approvals {
        let entity = match (&a.entity, &a.entity_id) {
            (None, _) => "-".to_owned(),
            (Some(kind), None) => clean(kind),
            (Some(kind), Some(id)) => format!("{} {}", clean(kind), clean(id)),
        };
        outln!(
            "{:<40} {:<9} {:<16} {:<24} {:<29} {}",
            clean(&a.id),
            a.status,
            or_dash(a.approver_role.as_ref()),
            entity,
            clean(&a.requested_at),
            clean(&a.execution_id)
        );
    }
    Ok(())
}

/// `weir execution show ID`.
pub fn execution_show(client: &Client, id: &str, as_json: bool) -> Result<(), Failure> {
    let path = format!("/api/v1/executions/{}", enc(id));
    let Some(Execution { summary: e, steps }) = fetch::<Execution>(client, &path, as_json)? else {
        return Ok(());
    };
    outln!("execution {}", clean(&e.id));
    outln!(
        "  workflow   {} version {}",
        clean(&e.workflow_id),
        e.workflow_version
    );
    outln!("  status     {}", e.status);
    outln!("  decision   {}", or_dash(e.decision));
    for (label, value) in [("reason", &e.reason), ("error", &e.error)] {
        if let Some(v) = value {
            outln!("  {label:<10} {}", clean(v));
        }
    }
    outln!(
        "  started    {}  finished {}",
        clean(&e.started_at),
        or_dash(e.completed_at.as_ref())
    );
    outln!(
        "{:<32} {:<16} {:<10} {:>7}  ERROR",
        "STEP",
        "TYPE",
        "STATUS",
        "ATTEMPT"
    );
    for s in &steps {
        outln!(
            "{:<32} {:<16} {:<10} {:>7}  {}",
            clean(&s.step_id),
            clean(&s.step_type),
            s.status,
            s.attempt,
            s.error.as_deref().map(clean).unwrap_or_default()
        );
    }
    Ok(())
}

/// `weir execution trace ID`.
pub fn execution_trace(client: &Client, id: &str, as_json: bool) -> Result<(), Failure> {
    let path = format!("/api/v1/executions/{}/trace", enc(id));
    let Some(t) = fetch::<Trace>(client, &path, as_json)? else {
        return Ok(());
    };
    outln!(
        "{:<29} {:<9} {:<32} {:<10} DETAIL",
        "AT",
        "KIND",
        "STEP",
        "STATUS"
    );
    for entry in &t.timeline {
        let (at, kind, step, status, detail) = match entry {
            TimelineEntry::Started {
                at, trigger_event, ..
            } => (
                at.clone(),
                "started",
                String::new(),
                String::new(),
                format!("event {}", or_dash(trigger_event.as_ref())),
            ),
            TimelineEntry::Finished {
                at,
                status,
                decision,
                reason,
                error,
            } => (
                at.clone().unwrap_or_default(),
                "finished",
                String::new(),
                status.to_string(),
                format!(
                    "decision {} {}",
                    or_dash(*decision),
                    or_dash(error.as_ref().or(reason.as_ref()))
                ),
            ),
            TimelineEntry::Step(s) => {
                let detail = match (&s.error, &s.input) {
                    (Some(e), _) => clean(e),
                    (None, Some(input)) if !input["condition"].is_null() => {
                        format!("compared {}", text(&input["condition"]))
                    }
                    (None, Some(input)) => format!("input {}", text(input)),
                    (None, None) => String::new(),
                };
                (
                    s.at.clone(),
                    "step",
                    clean(&s.step_id),
                    s.status.to_string(),
                    detail,
                )
            }
        };
        outln!(
            "{:<29} {:<9} {:<32} {:<10} {}",
            clean(&at),
            kind,
            step,
            status,
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
    let line = |e: &ExecutionSummary| match as_json {
        true => serde_json::to_string(e).unwrap_or_default(),
        false => execution_line(e),
    };
    // The workflow's runs: a workflow that never was is a 404, not an empty list; a deleted
    // one's runs are still listed.
    let path = format!("/api/v1/workflows/{}/runs?limit={limit}", enc(workflow));
    let first: ExecutionList = typed(client.call("GET", &path, None)?, &path)?;
    let mut seen: Option<String> = None;
    if !as_json {
        outln!("{EXECUTION_HEADER}");
    }
    for e in first.executions.iter().rev() {
        outln!("{}", line(e));
    }
    if let Some(newest) = first.executions.first() {
        seen = Some(newest.id.clone());
    }
    if !tail {
        return Ok(());
    }
    // Ids grow with time: anything above the newest seen is new.
    loop {
        std::thread::sleep(Duration::from_millis(500));
        let page: ExecutionList = typed(client.call("GET", &path, None)?, &path)?;
        let fresh: Vec<&ExecutionSummary> = page
            .executions
            .iter()
            .filter(|e| seen.as_deref().is_none_or(|s| e.id.as_str() > s))
            .collect();
        for e in fresh.iter().rev() {
            outln!("{}", line(e));
        }
        if let Some(newest) = fresh.first() {
            seen = Some(newest.id.clone());
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
    let answer = client.call("GET", &base, None)?;
    if as_json && version.is_none() {
        print_json(&answer);
        return Ok(());
    }
    let versions = typed::<VersionList>(answer, &base)?.versions;
    let Some(wanted) = version else {
        outln!(
            "{:>7}  {:<10} {:<8} CREATED",
            "VERSION",
            "DECLARED",
            "CURRENT"
        );
        for v in &versions {
            outln!(
                "{:>7}  {:<10} {:<8} {}",
                v.version,
                text(v.declared_version.as_ref().unwrap_or(&Value::Null)),
                if v.current { "*" } else { "" },
                clean(&v.created_at)
            );
        }
        return Ok(());
    };
    let number = match wanted.parse::<i64>() {
        Ok(n) => n,
        Err(_) => versions
            .iter()
            .rev()
            .find(|v| v.declared_version == Some(json!(wanted)))
            .map(|v| v.version)
            .ok_or_else(|| {
                Failure::Check(format!("{workflow} has no version declared as '{wanted}'"))
            })?,
    };
    let path = format!("{base}/{number}/activate");
    let done = client.call("POST", &path, None)?;
    if as_json {
        print_json(&done);
        return Ok(());
    }
    let done: VersionActivated = typed(done, &path)?;
    outln!(
        "{} now runs version {}",
        clean(&done.workflow_id),
        done.version
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
    let path = format!("/api/v1/workflows/{}/hook", enc(workflow));
    let hook: HookUrl = typed(client.call("GET", &path, None)?, &path)?;
    outln!("{}{}", client.base(), clean(&hook.path));
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
    // `order:ord_1` names the pending approval of that entity.
    let resolved;
    let id = match id.split_once(':') {
        Some((entity, entity_id)) => {
            let path = format!(
                "/api/v1/approvals?status=pending&entity={}&entity_id={}",
                enc(entity),
                enc(entity_id)
            );
            let list: ApprovalList = typed(client.call("GET", &path, None)?, &path)?;
            match list.approvals.as_slice() {
                [one] => {
                    resolved = one.id.clone();
                    resolved.as_str()
                }
                [] => {
                    return Err(Failure::Check(format!(
                        "no pending approval for {} {}",
                        clean(entity),
                        clean(entity_id)
                    )));
                }
                several => {
                    let ids: Vec<String> = several.iter().map(|a| clean(&a.id)).collect();
                    return Err(Failure::Check(format!(
                        "{} pending approvals for {} {}; name one: {}",
                        several.len(),
                        clean(entity),
                        clean(entity_id),
                        ids.join(", ")
                    )));
                }
            }
        }
        None => id,
    };
    let body = match reason {
        Some(r) => json!({ "reason": r }),
        None => json!({}),
    };
    let path = format!("/api/v1/approvals/{}/{verb}", enc(id));
    let done: Approval = typed(client.json("POST", &path, &body)?, &path)?;
    outln!("{} {}", clean(&done.id), done.status);
    // The run goes on at once; say where it got to (a run that waits again, for another
    // approval say, is shown waiting after a moment).
    let run_path = format!("/api/v1/executions/{}", enc(&done.execution_id));
    let deadline = std::time::Instant::now() + Duration::from_secs(3);
    loop {
        let run: Execution = typed(client.call("GET", &run_path, None)?, &run_path)?;
        let e = run.summary;
        if e.status != ExecutionStatus::Waiting || std::time::Instant::now() >= deadline {
            outln!(
                "execution {} of {}: {} {}",
                clean(&e.id),
                clean(&e.workflow_id),
                e.status,
                or_dash(e.decision)
            );
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
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
    let raw = client.json("POST", "/api/v1/events", &body)?;
    if as_json {
        print_json(&raw);
    }
    let answer: EventAnswer = typed(raw, "/api/v1/events")?;
    if !as_json {
        outln!(
            "event {}: decision {}",
            clean(&answer.event_id),
            or_dash(answer.decision)
        );
        for e in &answer.executions {
            outln!(
                "  {} {} {} {} {}",
                clean(&e.workflow_id),
                clean(&e.execution_id),
                e.status,
                or_dash(e.decision),
                or_dash(e.reason.as_ref())
            );
        }
    }
    // A run that failed fails the command (exit 1), with its error.
    let mut failures = Vec::new();
    for e in &answer.executions {
        if e.status == ExecutionStatus::Failed {
            let path = format!("/api/v1/executions/{}", enc(&e.execution_id));
            let run: Execution = typed(client.call("GET", &path, None)?, &path)?;
            failures.push(format!(
                "execution {} of {} failed: {}",
                clean(&e.execution_id),
                clean(&e.workflow_id),
                or_dash(run.summary.error.as_ref())
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
    let stored: StoredWorkflow = typed(
        client.json("POST", "/api/v1/workflows", &doc)?,
        "/api/v1/workflows",
    )?;
    outln!(
        "created {} version {} from template '{template}'",
        clean(&stored.workflow_id),
        stored.version
    );
    Ok(())
}
