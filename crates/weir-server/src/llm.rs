//! The `llm` mode of `POST /api/v1/ai/interpret`: a prompt goes to an OpenAI-compatible chat
//! endpoint with the format and the caller's capabilities; its workflow is checked in the
//! caller's scope, and the diagnostics go back for a corrected answer, a few rounds at most.
//! The endpoint is the scope's `llm` setting (its key a secret of the scope) or the server's
//! (`WEIR_LLM_URL`, `WEIR_LLM_MODEL`, `WEIR_LLM_API_KEY`). Requests pass the outbound guard of
//! workflow HTTP actions, and the key is never written anywhere but the request's header.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use weir_actions::outbound::{Guard, to_port};
use weir_api_types::Detail;
use weir_api_types::ai::Understanding;
use weir_api_types::ai::{LlmSettingRequest, LlmSettingView};
use weir_core::Diagnostic;
use weir_engine::secrets::HostPattern;
use weir_store::Scope;

use crate::access::{Auth, audit, need};
use crate::body::JsonBody;
use crate::{ApiError, ApiResult, AppState, time_text};

pub(crate) fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new().routes(routes!(get_setting, put_setting, delete_setting))
}

fn view_of(setting: weir_store::ScopeSetting) -> ApiResult<LlmSettingView> {
    let stored: LlmSetting =
        serde_json::from_value(setting.value).map_err(|_| ApiError::internal())?;
    Ok(LlmSettingView {
        url: stored.url,
        model: stored.model,
        api_key_secret: stored.api_key_secret,
        updated_at: time_text(setting.updated_ms),
    })
}

/// The environment's LLM endpoint
///
/// Where prompts of `POST /api/v1/ai/interpret` in `llm` mode go from this environment; 404
/// when it has none (the server's, if any, is used). Needs `admin`.
#[utoipa::path(get, path = "/api/v1/settings/llm", tag = "ai",
    responses((status = 200, body = LlmSettingView)))]
async fn get_setting(
    caller: Auth<need::Admin>,
    State(state): State<Arc<AppState>>,
) -> ApiResult<Json<LlmSettingView>> {
    match state.store.scope_setting(&caller.scope, SETTING).await? {
        Some(setting) => Ok(Json(view_of(setting)?)),
        None => Err(ApiError::not_found("llm setting")),
    }
}

/// Set the environment's LLM endpoint
///
/// An OpenAI-compatible chat endpoint and model, and the secret holding its key; checked
/// before it is stored (the URL, and that the secret exists and may go to that host).
/// Requests to it pass the outbound guard of workflow HTTP actions. Audited. Needs `admin`.
#[utoipa::path(put, path = "/api/v1/settings/llm", tag = "ai", request_body = LlmSettingRequest,
    responses((status = 200, body = LlmSettingView)))]
async fn put_setting(
    caller: Auth<need::Admin>,
    State(state): State<Arc<AppState>>,
    JsonBody(request): JsonBody<LlmSettingRequest>,
) -> ApiResult<Json<LlmSettingView>> {
    let setting = LlmSetting {
        url: request.url,
        model: request.model,
        api_key_secret: request.api_key_secret,
    };
    if setting.url.len() > 2048 {
        return Err(ApiError::invalid(
            "url is too long",
            vec![Detail::new("$.url", "at most 2048 characters")],
        ));
    }
    if let Err((path, message)) = check_setting(&state, &caller.scope, &setting).await {
        return Err(ApiError::invalid(
            format!("the llm setting is invalid: {message}"),
            vec![Detail::new(path, message)],
        ));
    }
    let value = serde_json::to_value(&setting).map_err(|_| ApiError::internal())?;
    let stored = state
        .store
        .put_scope_setting(&caller.scope, SETTING, &value)
        .await?;
    audit(&state, &caller, "setting.update", SETTING, Some(value)).await?;
    Ok(Json(view_of(stored)?))
}

/// Remove the environment's LLM endpoint
///
/// Prompts in `llm` mode then go to the server's endpoint, if it has one. Audited. Needs
/// `admin`.
#[utoipa::path(delete, path = "/api/v1/settings/llm", tag = "ai",
    responses((status = 204)))]
async fn delete_setting(
    caller: Auth<need::Admin>,
    State(state): State<Arc<AppState>>,
) -> ApiResult<StatusCode> {
    crate::access::remove_setting(&state, &caller, SETTING, "llm setting").await
}

/// The name of the scope setting.
pub(crate) const SETTING: &str = "llm";

/// How many times the diagnostics of an answer go back for a corrected one.
pub const MAX_CORRECTIONS: u32 = 3;

/// How long one request to the endpoint may take, answer included.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// The largest answer read from the endpoint.
const MAX_ANSWER_BYTES: usize = 2 * 1024 * 1024;

/// The most diagnostics sent back in one round.
const MAX_DIAGNOSTICS_SENT: usize = 20;

/// The format, the answer's shape and what makes a good answer: the system prompt's start.
const GUIDE: &str = include_str!("llm_guide.md");

/// The server's endpoint, from its environment.
#[derive(Clone, Default)]
pub struct LlmConfig {
    /// The base URL (`https://api.openai.com/v1`) or the full chat completions URL.
    pub url: String,
    pub model: String,
    pub api_key: Option<String>,
}

impl LlmConfig {
    /// The server's endpoint from its settings: both a URL and a model, or neither.
    pub fn from_settings(
        url: Option<String>,
        model: Option<String>,
        api_key: Option<String>,
    ) -> Result<Option<LlmConfig>, String> {
        match (url, model) {
            (None, None) => Ok(None),
            (Some(url), Some(model)) => {
                endpoint_url(&url).map_err(|e| format!("llm_url: {e}"))?;
                if model.trim().is_empty() || model.chars().count() > 200 {
                    return Err("llm_model is a model name of 1 to 200 characters".into());
                }
                Ok(Some(LlmConfig {
                    url,
                    model,
                    api_key,
                }))
            }
            (Some(_), None) => {
                Err("llm_url is given without llm_model (WEIR_LLM_MODEL): name the model".into())
            }
            (None, Some(_)) => {
                Err("llm_model is given without llm_url (WEIR_LLM_URL): name the endpoint".into())
            }
        }
    }
}

impl std::fmt::Debug for LlmConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmConfig")
            .field("url", &self.url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "…"))
            .finish()
    }
}

/// The scope's `llm` setting as stored: the key is the name of a secret, never its value.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LlmSetting {
    pub url: String,
    pub model: String,
    #[serde(default)]
    pub api_key_secret: Option<String>,
}

/// Where a request goes, resolved for one caller.
pub(crate) struct Endpoint {
    url: reqwest::Url,
    model: String,
    key: Option<String>,
}

/// Reads a URL an endpoint may have: http or https, with a host, no user or password in it.
/// A base URL gets `/chat/completions` added.
pub(crate) fn endpoint_url(text: &str) -> Result<reqwest::Url, String> {
    let mut url =
        reqwest::Url::parse(text.trim()).map_err(|e| format!("{text:?} is not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(format!("{text:?} is not an http or https URL with a host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("the URL holds a user or password; give the key as a secret".into());
    }
    if !url
        .path()
        .trim_end_matches('/')
        .ends_with("/chat/completions")
    {
        let path = format!("{}/chat/completions", url.path().trim_end_matches('/'));
        url.set_path(&path);
    }
    Ok(url)
}

/// Checks a setting before it is stored: its URL and model, and that its secret exists in the
/// scope and may be sent to that host.
pub(crate) async fn check_setting(
    state: &AppState,
    scope: &Scope,
    setting: &LlmSetting,
) -> Result<(), (String, String)> {
    let url = endpoint_url(&setting.url).map_err(|e| ("$.url".to_owned(), e))?;
    if setting.model.trim().is_empty() || setting.model.chars().count() > 200 {
        return Err((
            "$.model".into(),
            "a model name of 1 to 200 characters".into(),
        ));
    }
    if let Some(name) = &setting.api_key_secret {
        secret_for(state, scope, name, &url)
            .await
            .map_err(|e| ("$.api_key_secret".to_owned(), e))?;
    }
    Ok(())
}

/// The value of a scope's secret, when its policy lets it go to `url` as an LLM key.
async fn secret_for(
    state: &AppState,
    scope: &Scope,
    name: &str,
    url: &reqwest::Url,
) -> Result<String, String> {
    let row = state
        .store
        .secret(scope, name)
        .await
        .map_err(|e| format!("cannot read the secret {name}: {e}"))?
        .ok_or_else(|| format!("there is no secret {name} in this environment"))?;
    if let Some(actions) = &row.policy.allowed_actions
        && !actions.iter().any(|a| a == SETTING)
    {
        return Err(format!(
            "the secret {name} may be used only by {} actions; add \"llm\" to its allowed_actions",
            actions.join(", ")
        ));
    }
    if let Some(hosts) = &row.policy.allowed_hosts
        && !hosts
            .iter()
            .filter_map(|h| HostPattern::parse(h).ok())
            .any(|h| h.matches(url))
    {
        return Err(format!(
            "the secret {name} may be sent only to {}, not to {}",
            hosts.join(", "),
            url.host_str().unwrap_or_default()
        ));
    }
    let values = state
        .engine
        .secret_values(scope)
        .await
        .map_err(|e| format!("cannot read the secrets: {e}"))?;
    values
        .get(name)
        .ok_or_else(|| format!("the secret {name} cannot be opened on this server"))
}

/// The endpoint for a caller: the scope's setting, else the server's; `Ok(None)` when neither
/// is configured.
pub(crate) async fn endpoint(state: &AppState, scope: &Scope) -> Result<Option<Endpoint>, String> {
    let setting = state
        .store
        .scope_setting(scope, SETTING)
        .await
        .map_err(|e| format!("cannot read the llm setting: {e}"))?;
    if let Some(setting) = setting {
        let setting: LlmSetting = serde_json::from_value(setting.value)
            .map_err(|e| format!("the llm setting is unreadable: {e}"))?;
        let url = endpoint_url(&setting.url)?;
        let key = match &setting.api_key_secret {
            Some(name) => Some(secret_for(state, scope, name, &url).await?),
            None => None,
        };
        return Ok(Some(Endpoint {
            url,
            model: setting.model,
            key,
        }));
    }
    let Some(config) = &state.llm else {
        return Ok(None);
    };
    Ok(Some(Endpoint {
        url: endpoint_url(&config.url)?,
        model: config.model.clone(),
        key: config.api_key.clone(),
    }))
}

/// The HTTP client of LLM requests: the one of workflow HTTP actions (no private addresses
/// unless the operator allows them, no redirects, no proxy).
pub(crate) fn client(guard: Arc<Guard>) -> reqwest::Client {
    weir_actions::outbound::client(guard).expect("a client with these options builds")
}

/// What the model answered, checked.
pub(crate) struct LlmAnswer {
    pub interpretation: Understanding,
    pub workflow: Value,
    pub confidence: f64,
    pub questions: Vec<String>,
    /// How many requests were made.
    pub requests: u32,
}

/// Asks the endpoint, checks each answer, and sends the diagnostics back until a workflow
/// validates (or [`MAX_CORRECTIONS`] are spent). `draft` is the offline interpreter's answer,
/// given to the model as a starting point. An `Err` says why no valid workflow came back, with
/// the key scrubbed from it.
pub(crate) async fn interpret(
    state: &AppState,
    scope: &Scope,
    endpoint: &Endpoint,
    prompt: &str,
    context: &weir_ai::InterpretContext,
    draft: &Value,
) -> Result<LlmAnswer, String> {
    let scrub = |text: String| match &endpoint.key {
        Some(key) if !key.is_empty() => text.replace(key.as_str(), "[redacted]"),
        _ => text,
    };
    let system = system_prompt(state, scope, context)
        .await
        .map_err(|e| scrub(e.message))?;
    let mut messages = vec![
        json!({"role": "system", "content": system}),
        json!({"role": "user", "content": format!(
            "Request: {prompt}\n\nA rule-based reader drafted this workflow from the request; \
             it may miss or misread parts. Correct and complete it so that it does exactly what \
             the request says:\n{draft}"
        )}),
    ];
    let mut last_problem = String::new();
    for round in 0..=MAX_CORRECTIONS {
        let content = chat(state, endpoint, &messages).await.map_err(scrub)?;
        messages.push(json!({"role": "assistant", "content": content}));
        let answer = match read_answer(&content) {
            Ok(a) => a,
            Err(why) => {
                last_problem = why.clone();
                messages.push(json!({"role": "user", "content": format!(
                    "{why}. Answer again with one JSON object of the shape described, and nothing else."
                )}));
                continue;
            }
        };
        let diagnostics = state
            .engine
            .check(scope, &answer.workflow)
            .await
            .map_err(|e| scrub(e.to_string()))?;
        let workflow = if diagnostics.iter().any(Diagnostic::is_error) {
            crate::ai::fix_until_valid(state, scope, &answer.workflow, &diagnostics)
                .await
                .map_err(|e| scrub(e.message))?
        } else {
            Some(answer.workflow.clone())
        };
        if let Some(workflow) = workflow {
            return Ok(LlmAnswer {
                interpretation: answer.understanding(&workflow),
                workflow,
                confidence: answer.confidence,
                questions: answer.questions,
                requests: round + 1,
            });
        }
        let errors: Vec<&Diagnostic> = diagnostics.iter().filter(|d| d.is_error()).collect();
        last_problem = format!(
            "the workflow has {} error(s), the first: {}: {}",
            errors.len(),
            errors[0].path,
            errors[0].message
        );
        messages.push(json!({"role": "user", "content": corrections(&errors)}));
    }
    Err(scrub(format!(
        "no valid workflow after {} corrections ({last_problem})",
        MAX_CORRECTIONS
    )))
}

/// The message that sends diagnostics back.
fn corrections(errors: &[&Diagnostic]) -> String {
    let mut text = String::from(
        "Weir's validator rejected the workflow. Fix every error below and answer again with \
         the whole JSON object (interpretation, workflow, confidence, questions):\n",
    );
    for d in errors.iter().take(MAX_DIAGNOSTICS_SENT) {
        text.push_str(&format!("- {} [{}]: {}", d.path, d.code, d.message));
        if let Some(fix) = &d.fix {
            text.push_str(&format!(" (suggested fix: {})", fix.describe()));
        }
        text.push('\n');
    }
    if errors.len() > MAX_DIAGNOSTICS_SENT {
        text.push_str(&format!(
            "- and {} more\n",
            errors.len() - MAX_DIAGNOSTICS_SENT
        ));
    }
    text
}

/// The system prompt: the guide, the caller's capabilities (without the templates' list) and
/// the ids and teams of the scope.
async fn system_prompt(
    state: &AppState,
    scope: &Scope,
    context: &weir_ai::InterpretContext,
) -> crate::ApiResult<String> {
    let caps = crate::ai::capabilities(state, scope).await?;
    let mut caps = serde_json::to_value(caps).map_err(|_| crate::ApiError::internal())?;
    if let Some(map) = caps.as_object_mut() {
        map.remove("templates");
    }
    Ok(format!(
        "{GUIDE}\nWhat this scope can build with (entities with their fields and events, \
         operators, step types, action types with their config schemas, events seen lately):\n\
         {caps}\n\nThe scope's teams: {teams}\nExisting workflow ids: {ids}\n",
        teams = json!(context.teams),
        ids = json!(context.workflow_ids),
    ))
}

/// One chat completion: the text of the first choice.
async fn chat(state: &AppState, endpoint: &Endpoint, messages: &[Value]) -> Result<String, String> {
    let url = &endpoint.url;
    state.outbound.check_url(url)?;
    let body = json!({"model": endpoint.model, "messages": messages, "temperature": 0});
    let mut request = state
        .llm_client
        .post(url.clone())
        .timeout(REQUEST_TIMEOUT)
        .json(&body);
    if let Some(key) = &endpoint.key {
        request = request.bearer_auth(key);
    }
    let port = url.port_or_known_default().unwrap_or_default();
    let mut response = to_port(port, request.send())
        .await
        .map_err(|e| format!("{url}: {}", weir_actions::client::error_text(&e)))?;
    let status = response.status();
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| {
        format!(
            "{url}: reading the answer: {}",
            weir_actions::client::error_text(&e)
        )
    })? {
        if bytes.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(format!("{url} answered more than {MAX_ANSWER_BYTES} bytes"));
        }
        bytes.extend_from_slice(&chunk);
    }
    if !status.is_success() {
        let text = String::from_utf8_lossy(&bytes);
        let text: String = text.chars().take(300).collect();
        return Err(format!("{url} answered {status}: {text}"));
    }
    let answer: Value = serde_json::from_slice(&bytes)
        .map_err(|e| format!("{url} answered something other than JSON: {e}"))?;
    answer
        .pointer("/choices/0/message/content")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| format!("{url} answered no choices[0].message.content"))
}

/// The model's answer, read.
struct ModelAnswer {
    interpretation: Option<Value>,
    workflow: Value,
    confidence: f64,
    questions: Vec<String>,
}

impl ModelAnswer {
    /// What was understood: the model's own account where it gave a readable one, else read
    /// from the workflow (its trigger and the entity it names).
    fn understanding(&self, workflow: &Value) -> Understanding {
        if let Some(given) = &self.interpretation
            && let Ok(u) = serde_json::from_value::<Understanding>(given.clone())
        {
            return u;
        }
        let trigger = workflow
            .get("trigger")
            .or_else(|| workflow.pointer("/triggers/0"))
            .cloned()
            .map(|mut t| {
                if let Some(map) = t.as_object_mut() {
                    map.remove("conditions");
                    map.remove("condition");
                }
                t
            })
            .unwrap_or(Value::Null);
        let entities = trigger
            .get("event")
            .and_then(Value::as_str)
            .and_then(|e| e.split('.').next())
            .map(|e| vec![e.to_owned()])
            .unwrap_or_default();
        Understanding {
            action: None,
            entities,
            trigger,
            conditions: Vec::new(),
            actions: Vec::new(),
        }
    }
}

/// Reads the model's text: one JSON object, perhaps in a code fence or after some prose; its
/// `workflow` (or the object itself, when it is a definition).
fn read_answer(content: &str) -> Result<ModelAnswer, String> {
    let (Some(start), Some(end)) = (content.find('{'), content.rfind('}')) else {
        return Err("The answer held no JSON object".into());
    };
    if end < start {
        return Err("The answer held no JSON object".into());
    }
    let value: Value = serde_json::from_str(&content[start..=end])
        .map_err(|e| format!("The answer's JSON does not parse ({e})"))?;
    let Value::Object(mut map) = value else {
        return Err("The answer is not a JSON object".into());
    };
    let workflow = match map.remove("workflow") {
        Some(w @ Value::Object(_)) => w,
        Some(_) => return Err("The answer's \"workflow\" is not an object".into()),
        None if map.contains_key("steps") => {
            return Ok(ModelAnswer {
                interpretation: None,
                workflow: Value::Object(map),
                confidence: 0.5,
                questions: Vec::new(),
            });
        }
        None => return Err("The answer has no \"workflow\"".into()),
    };
    let confidence = map
        .get("confidence")
        .and_then(Value::as_f64)
        .filter(|c| c.is_finite())
        .map_or(0.7, |c| c.clamp(0.0, 1.0));
    let questions = map
        .get("questions")
        .and_then(Value::as_array)
        .map(|qs| {
            qs.iter()
                .filter_map(Value::as_str)
                .take(20)
                .map(|q| q.chars().take(500).collect())
                .collect()
        })
        .unwrap_or_default();
    Ok(ModelAnswer {
        interpretation: map.remove("interpretation"),
        workflow,
        confidence,
        questions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_base_url_gets_the_chat_completions_path() {
        let u = |t: &str| endpoint_url(t).map(|u| u.to_string());
        assert_eq!(
            u("https://api.openai.com/v1").unwrap(),
            "https://api.openai.com/v1/chat/completions"
        );
        assert_eq!(
            u("http://127.0.0.1:11434/v1/").unwrap(),
            "http://127.0.0.1:11434/v1/chat/completions"
        );
        assert_eq!(
            u("https://x.example.com/openai/chat/completions").unwrap(),
            "https://x.example.com/openai/chat/completions"
        );
        assert!(u("ftp://x.example.com/").is_err());
        assert!(u("https://user:pw@x.example.com/").is_err());
        assert!(u("not a url").is_err());
    }

    #[test]
    fn answers_are_read_from_fences_prose_or_a_bare_definition() {
        let fenced = "Here it is:\n```json\n{\"workflow\": {\"steps\": []}, \"confidence\": 3, \"questions\": [\"which team?\"]}\n```";
        let a = read_answer(fenced).unwrap();
        assert_eq!(a.workflow, json!({"steps": []}));
        assert_eq!(a.confidence, 1.0);
        assert_eq!(a.questions, ["which team?"]);
        let bare = read_answer("{\"workflow_id\": \"x\", \"steps\": []}").unwrap();
        assert_eq!(bare.workflow["workflow_id"], "x");
        assert!(read_answer("no idea").is_err());
        assert!(read_answer("} {").is_err());
        assert!(read_answer("{\"workflow\": 3}").is_err());
        assert!(read_answer("{\"interpretation\": {}}").is_err());
    }

    #[test]
    fn the_key_is_not_in_the_debug_form() {
        let c = LlmConfig {
            url: "https://x".into(),
            model: "m".into(),
            api_key: Some("sk-canary-123456".into()),
        };
        assert!(!format!("{c:?}").contains("canary"));
    }
}
