//! Context enrichment (`context.load`): a tenant's data sources, each the data
//! of an entity (`customer.history`) read through an action (a connector's, or a built-in such
//! as `http_request`) or from Weir's own records, and cached per entity for a TTL.
//!
//! A run whose workflow loads context starts on a worker, not in memory: its sources load in
//! parallel, each bounded by a timeout, before the first step. What loaded goes into the run's
//! context under the source's name (`customer.history`), and a `context` step record shows what
//! came from where. A source that fails fails the run, or leaves its name null when its (or
//! the workflow's) `on_error` is `continue`. A name no source is registered for loads nothing.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use serde_json::{Map, Value, json};
use weir_core::Workflow;
use weir_core::executor::{StepRecord, StepState};
use weir_core::model::ContextSpec;
use weir_core::path::FieldPath;
use weir_core::template::{RenderTrace, Secrets, Template, TemplateValue};
use weir_store::{CachedContext, Scope};

use crate::{ActionContext, Engine, Result, live_env};

/// How long a source's data is kept when it does not say.
const DEFAULT_TTL: Duration = Duration::from_secs(300);
/// The built-in actions a data source may load with (besides its scope's connector actions):
/// those that only read.
pub const LOADING_ACTIONS: [&str; 1] = ["http_request"];

/// How long a source may take when it does not say.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnLoadError {
    Fail,
    Continue,
}

#[derive(Debug)]
enum Fetch {
    /// An action's output (a connector action, or a built-in like `http_request`).
    Action {
        action: String,
        config: TemplateValue,
    },
    /// The fields of a record in Weir's record store.
    Record { entity_type: String },
}

/// One data source, read once from its definition.
#[derive(Debug)]
pub struct DataSource {
    pub name: String,
    pub entity_type: String,
    entity_id: Template,
    fetch: Fetch,
    select: Option<FieldPath>,
    pub ttl: Duration,
    pub timeout: Duration,
    pub on_error: OnLoadError,
}

impl DataSource {
    /// Reads a definition; every problem comes back with its JSON path.
    pub fn read(name: &str, def: &Value) -> std::result::Result<DataSource, Vec<(String, String)>> {
        let mut problems = Vec::new();
        let Some(map) = def.as_object() else {
            return Err(vec![("$".into(), "a data source is a JSON object".into())]);
        };
        let known = [
            "name",
            "description",
            "entity_type",
            "entity_id",
            "action",
            "config",
            "record",
            "select",
            "ttl",
            "timeout",
            "on_error",
        ];
        for k in map.keys().filter(|k| !known.contains(&k.as_str())) {
            problems.push((
                format!("$.{k}"),
                format!("unknown field '{k}'; known: {}", known.join(", ")),
            ));
        }
        if name.is_empty()
            || name.len() > 200
            || !name.split('.').all(|p| {
                !p.is_empty()
                    && p.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            })
        {
            problems.push((
                "$.name".into(),
                format!(
                    "'{name}' is not a data source name: dot-separated words, like customer.history"
                ),
            ));
        }
        let text = |key: &str, problems: &mut Vec<(String, String)>| -> Option<String> {
            match map.get(key) {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(_) => {
                    problems.push((format!("$.{key}"), format!("'{key}' must be a string")));
                    None
                }
            }
        };
        let entity_type = text("entity_type", &mut problems)
            .unwrap_or_else(|| name.split('.').next().unwrap_or_default().to_owned());
        let entity_id = match text("entity_id", &mut problems) {
            Some(t) => Template::parse(&t)
                .map_err(|e| problems.push(("$.entity_id".into(), e)))
                .ok(),
            None => {
                problems.push((
                    "$.entity_id".into(),
                    "'entity_id' is required: a template over the run's payload, like \"{{customer.id}}\"".into(),
                ));
                None
            }
        };
        let action = text("action", &mut problems);
        let fetch = match (action, map.get("record")) {
            (Some(_), Some(_)) => {
                problems.push(("$".into(), "give only one of 'action' and 'record'".into()));
                None
            }
            (Some(action), None) => {
                let mut errors = Vec::new();
                let config = TemplateValue::compile(
                    map.get("config").unwrap_or(&json!({})),
                    "$.config",
                    &mut errors,
                );
                problems.extend(errors);
                Some(Fetch::Action { action, config })
            }
            (None, Some(Value::Bool(true))) => Some(Fetch::Record {
                entity_type: entity_type.clone(),
            }),
            (None, Some(Value::String(t))) => Some(Fetch::Record {
                entity_type: t.clone(),
            }),
            (None, Some(_)) => {
                problems.push((
                    "$.record".into(),
                    "'record' is true or a record type".into(),
                ));
                None
            }
            (None, None) => {
                problems.push((
                    "$".into(),
                    "a data source needs 'action' (with its 'config') or 'record'".into(),
                ));
                None
            }
        };
        let select = text("select", &mut problems).and_then(|s| {
            FieldPath::parse(&s)
                .map_err(|e| problems.push(("$.select".into(), e)))
                .ok()
        });
        let mut duration = |key: &str, default: Duration, max: Duration| -> Duration {
            match map.get(key) {
                None => default,
                Some(v) => match weir_core::Duration::from_value(v) {
                    Ok(d) if Duration::from_millis(d.as_millis()) <= max => {
                        Duration::from_millis(d.as_millis())
                    }
                    Ok(_) => {
                        problems.push((
                            format!("$.{key}"),
                            format!("'{key}' is at most {}s", max.as_secs()),
                        ));
                        default
                    }
                    Err(e) => {
                        problems.push((format!("$.{key}"), e));
                        default
                    }
                },
            }
        };
        let ttl = duration("ttl", DEFAULT_TTL, Duration::from_secs(30 * 86_400));
        let timeout = duration("timeout", DEFAULT_TIMEOUT, Duration::from_secs(60));
        let on_error = match text("on_error", &mut problems).as_deref() {
            None | Some("fail") => OnLoadError::Fail,
            Some("continue") => OnLoadError::Continue,
            Some(other) => {
                problems.push((
                    "$.on_error".into(),
                    format!("'on_error' is fail or continue, found '{other}'"),
                ));
                OnLoadError::Fail
            }
        };
        match (entity_id, fetch) {
            (Some(entity_id), Some(fetch)) if problems.is_empty() => Ok(DataSource {
                name: name.to_owned(),
                entity_type,
                entity_id,
                fetch,
                select,
                ttl,
                timeout,
                on_error,
            }),
            _ => Err(problems),
        }
    }

    /// The key of this source's data in an entity's context (`history` of `customer.history`).
    pub fn key(&self) -> &str {
        self.name
            .strip_prefix(&self.entity_type)
            .and_then(|r| r.strip_prefix('.'))
            .unwrap_or(&self.name)
    }
}

/// A scope's data sources, by name.
#[derive(Debug, Default)]
pub struct SourceSet {
    by_name: HashMap<String, Arc<DataSource>>,
    source: Vec<Value>,
}

impl SourceSet {
    /// Builds the set from stored rows (`{"name", "definition"}`); one that no longer reads is
    /// left out, said once.
    pub fn build(rows: Vec<Value>) -> SourceSet {
        let mut by_name = HashMap::new();
        for row in &rows {
            let name = row["name"].as_str().unwrap_or_default();
            match DataSource::read(name, &row["definition"]) {
                Ok(s) => {
                    by_name.insert(name.to_owned(), Arc::new(s));
                }
                Err(p) => tracing::error!("data source {name} does not read: {p:?}"),
            }
        }
        SourceSet {
            by_name,
            source: rows,
        }
    }

    pub fn same_source(&self, rows: &[Value]) -> bool {
        self.source == rows
    }

    pub fn get(&self, name: &str) -> Option<&Arc<DataSource>> {
        self.by_name.get(name)
    }

    pub fn of_type<'a>(
        &'a self,
        entity_type: &'a str,
    ) -> impl Iterator<Item = &'a Arc<DataSource>> {
        let mut v: Vec<&Arc<DataSource>> = self
            .by_name
            .values()
            .filter(|s| s.entity_type == entity_type)
            .collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v.into_iter()
    }
}

/// What one source gave for one entity.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub data: Value,
    /// Served from the cache rather than loaded now.
    pub cached: bool,
    pub cached_ms: i64,
    pub expires_ms: i64,
}

/// How loading one name went.
enum Outcome {
    /// No data source has the name: nothing to load.
    Unregistered,
    Failed(Arc<DataSource>, String),
    Loaded {
        source: Arc<DataSource>,
        id: String,
        loaded: Loaded,
        ms: u64,
    },
}

/// What loading a run's context did: the payload with the loaded data, the trace record, and
/// the error that fails the run, if one does.
pub(crate) struct Enriched {
    pub payload: Value,
    pub record: StepRecord,
    pub failure: Option<String>,
}

/// Puts `value` at the dotted `path` in `root`, making objects on the way.
fn place(root: &mut Value, path: &str, value: Value) -> std::result::Result<(), String> {
    let mut at = root;
    let parts: Vec<&str> = path.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        let Value::Object(map) = at else {
            return Err(format!(
                "the payload's '{}' is not an object, so '{path}' cannot go in it",
                parts[..i].join(".")
            ));
        };
        if i + 1 == parts.len() {
            map.insert((*part).to_owned(), value);
            return Ok(());
        }
        at = map
            .entry((*part).to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    Ok(())
}

impl Engine {
    pub(crate) fn scope_sources(&self, scope: &Scope) -> Arc<SourceSet> {
        self.data_sources
            .read()
            .expect("data sources lock")
            .get(scope)
            .cloned()
            .unwrap_or_default()
    }

    /// Whether a data source may load with this action here: a connector action of the
    /// scope, or a built-in that only reads.
    pub fn loads_with(&self, scope: &Scope, action: &str) -> bool {
        self.scope_connectors(scope).performer(action).is_some()
            || LOADING_ACTIONS.contains(&action)
    }

    /// Whether starting this workflow loads anything (a `context.load` name with a source).
    pub(crate) fn loads_context(&self, scope: &Scope, wf: &Workflow) -> bool {
        let Some(c) = &wf.context else { return false };
        if c.load.is_empty() {
            return false;
        }
        let sources = self.scope_sources(scope);
        c.load.iter().any(|n| sources.get(n).is_some())
    }

    /// What a source has for an entity: from the cache while it is fresh (unless `refresh`),
    /// else loaded now, within the source's timeout (or `timeout`, if shorter), and cached.
    pub async fn load_entity(
        &self,
        scope: &Scope,
        source: &DataSource,
        entity_id: &str,
        refresh: bool,
        timeout: Option<Duration>,
    ) -> std::result::Result<Loaded, String> {
        if !refresh
            && let Some(hit) = self
                .store
                .cached_context(scope, &source.name, entity_id)
                .await
                .map_err(|e| format!("reading the cache: {e}"))?
        {
            return Ok(Loaded {
                data: hit.data,
                cached: true,
                cached_ms: hit.cached_ms,
                expires_ms: hit.expires_ms,
            });
        }
        let limit = timeout.map_or(source.timeout, |t| t.min(source.timeout));
        let data = match tokio::time::timeout(limit, self.fetch(scope, source, entity_id)).await {
            Ok(r) => r?,
            Err(_) => return Err(format!("timed out after {} ms", limit.as_millis())),
        };
        let entry = CachedContext {
            source: source.name.clone(),
            entity_type: source.entity_type.clone(),
            entity_id: entity_id.to_owned(),
            data,
            cached_ms: 0,
            expires_ms: 0,
        };
        let ttl = i64::try_from(source.ttl.as_millis()).unwrap_or(i64::MAX / 4);
        if ttl == 0 {
            let now = Utc::now().timestamp_millis();
            return Ok(Loaded {
                data: entry.data,
                cached: false,
                cached_ms: now,
                expires_ms: now,
            });
        }
        let kept = self
            .store
            .cache_context(scope, &entry, ttl)
            .await
            .map_err(|e| format!("writing the cache: {e}"))?;
        Ok(Loaded {
            data: kept.data,
            cached: false,
            cached_ms: kept.cached_ms,
            expires_ms: kept.expires_ms,
        })
    }

    /// Loads a source's data for one entity. The action's config sees only the entity's type
    /// and id (and secrets), so what it loads depends on nothing else the cache ignores.
    async fn fetch(
        &self,
        scope: &Scope,
        source: &DataSource,
        entity_id: &str,
    ) -> std::result::Result<Value, String> {
        let secrets = self.secret_values(scope).await.map_err(|e| e.to_string())?;
        let mut data = match &source.fetch {
            Fetch::Record { entity_type } => self
                .store
                .record(scope, entity_type, entity_id)
                .await
                .map_err(|e| e.to_string())?
                .map(|r| r["fields"].clone())
                .ok_or_else(|| format!("no {entity_type} record '{entity_id}'"))?,
            Fetch::Action { action, config } => {
                let ctx = json!({ "entity_id": entity_id, "entity_type": source.entity_type });
                let rules = weir_core::Rules::default();
                let connectors = self.scope_connectors(scope);
                let secrets = secrets.for_action(action, connectors.performer(action).is_some());
                let mut trace = RenderTrace::default();
                let input = config.render(
                    &ctx,
                    &live_env(&rules, &secrets),
                    Secrets::Reveal,
                    &mut trace,
                );
                if let Some(why) = secrets.refusal(&trace) {
                    return Err(why);
                }
                let key = format!("context:{}:{entity_id}", source.name);
                let action_ctx = ActionContext {
                    scope: scope.clone(),
                    execution_id: key.clone(),
                    step_id: format!("context:{}", source.name),
                    idempotency_key: format!("{key}:{}", uuid::Uuid::now_v7()),
                    traceparent: None,
                    secrets: secrets.clone(),
                    context: ctx,
                };
                let result = match connectors.performer(action) {
                    Some((connector, name)) => {
                        self.actions
                            .perform_connector(connector, name, &action_ctx, input)
                            .await
                    }
                    None if LOADING_ACTIONS.contains(&action.as_str()) => {
                        self.actions.perform(action, &action_ctx, input).await
                    }
                    None => {
                        return Err(format!(
                            "'{action}' is neither a connector action nor one of {}",
                            LOADING_ACTIONS.join(", ")
                        ));
                    }
                };
                // An error can quote the request it made, secrets and all.
                result.map_err(|e| secrets.scrub_text(&e.message))?
            }
        };
        if let Some(path) = &source.select {
            data = path.lookup(&data).cloned().unwrap_or(Value::Null);
        }
        // Loaded data is shown and kept: no secret goes into it.
        secrets.scrub(&mut data);
        Ok(data)
    }

    /// Loads a run's `context.load` sources in parallel and puts their data into its payload.
    pub(crate) async fn enrich(&self, scope: &Scope, wf: &Workflow, payload: &Value) -> Enriched {
        let none = ContextSpec::default();
        let spec = wf.context.as_ref().unwrap_or(&none);
        let sources = self.scope_sources(scope);
        let root = weir_core::context::payload_root(payload);
        let secrets = self.secret_values(scope).await.unwrap_or_default();
        let rules = weir_core::Rules::default();
        // Loading happens under the run's lease: it must end well before the lease does.
        let cap = Duration::from_millis(u64::try_from(self.lease_ms / 2).unwrap_or(1).max(1));
        let timeout = Some(
            spec.timeout
                .map_or(cap, |d| Duration::from_millis(d.as_millis()).min(cap)),
        );
        let started = std::time::Instant::now();
        let loads = spec.load.iter().map(|name| {
            let source = sources.get(name).cloned();
            let (root, secrets, rules) = (&root, &secrets, &rules);
            async move {
                let Some(source) = source else {
                    return (name, Outcome::Unregistered);
                };
                let id = match source.entity_id.render(
                    root,
                    &live_env(rules, secrets),
                    Secrets::Redact,
                    &mut RenderTrace::default(),
                ) {
                    Value::String(s) => s,
                    Value::Number(n) => n.to_string(),
                    _ => String::new(),
                };
                if id.is_empty() {
                    let why = "the entity id is empty in this payload".to_owned();
                    return (name, Outcome::Failed(source, why));
                }
                let at = std::time::Instant::now();
                match self.load_entity(scope, &source, &id, false, timeout).await {
                    Ok(loaded) => {
                        let ms = at.elapsed().as_millis() as u64;
                        (
                            name,
                            Outcome::Loaded {
                                source,
                                id,
                                loaded,
                                ms,
                            },
                        )
                    }
                    Err(why) => (name, Outcome::Failed(source, why)),
                }
            }
        });
        let results = futures_util::future::join_all(loads).await;
        let mut out = root.clone();
        let mut trace = Map::new();
        let mut failure = None;
        let workflow_policy = match spec.on_error.as_deref() {
            Some("continue") => Some(OnLoadError::Continue),
            Some("fail") => Some(OnLoadError::Fail),
            _ => None,
        };
        for (name, outcome) in results {
            match outcome {
                Outcome::Unregistered => {
                    let note = "no data source is registered under this name";
                    trace.insert(name.clone(), json!({ "loaded": false, "note": note }));
                }
                Outcome::Loaded {
                    source,
                    id,
                    loaded,
                    ms,
                } => {
                    trace.insert(
                        name.clone(),
                        json!({
                            "entity_type": source.entity_type, "entity_id": id,
                            "from": if loaded.cached { "cache" } else { "source" },
                            "cached_at": crate::ms_time(loaded.cached_ms),
                            "expires_at": crate::ms_time(loaded.expires_ms),
                            "duration_ms": ms,
                        }),
                    );
                    if let Err(e) = place(&mut out, name, loaded.data)
                        && failure.is_none()
                    {
                        failure = Some(format!("loading context {name}: {e}"));
                    }
                }
                Outcome::Failed(source, why) => {
                    let policy = workflow_policy.unwrap_or(source.on_error);
                    let shown = match policy {
                        OnLoadError::Continue => "continue",
                        OnLoadError::Fail => "fail",
                    };
                    trace.insert(name.clone(), json!({ "error": why, "on_error": shown }));
                    if policy == OnLoadError::Continue {
                        let _ = place(&mut out, name, Value::Null);
                    } else if failure.is_none() {
                        failure = Some(format!("loading context {name}: {why}"));
                    }
                }
            }
        }
        let record = StepRecord {
            key: "context".into(),
            step_id: "context".into(),
            step_type: "context".into(),
            status: if failure.is_some() {
                StepState::Failed
            } else {
                StepState::Completed
            },
            attempt: 1,
            thread: 0,
            parent_step: None,
            branch: None,
            iteration: None,
            input: Some(json!({ "load": spec.load })),
            output: Some(
                json!({ "sources": trace, "duration_ms": started.elapsed().as_millis() as u64 }),
            ),
            error: failure.clone(),
            at: Utc::now(),
        };
        Enriched {
            payload: out,
            record,
            failure,
        }
    }

    /// `GET /api/v1/context/{entity_type}/{id}`: every source of an entity type, for one
    /// entity (through the cache unless `refresh`); `None` when the type has no source.
    pub async fn entity_context(
        &self,
        scope: &Scope,
        entity_type: &str,
        entity_id: &str,
        refresh: bool,
    ) -> Result<Option<Value>> {
        let sources = self.scope_sources(scope);
        let of_type: Vec<&Arc<DataSource>> = sources.of_type(entity_type).collect();
        if of_type.is_empty() {
            return Ok(None);
        }
        let loads = of_type
            .iter()
            .map(|s| self.load_entity(scope, s, entity_id, refresh, None));
        let results = futures_util::future::join_all(loads).await;
        let (mut data, mut shown) = (Map::new(), Map::new());
        for (s, r) in of_type.iter().zip(results) {
            match r {
                Ok(l) => {
                    shown.insert(
                        s.name.clone(),
                        json!({
                            "from": if l.cached { "cache" } else { "source" },
                            "cached_at": crate::ms_time(l.cached_ms),
                            "expires_at": crate::ms_time(l.expires_ms),
                        }),
                    );
                    data.insert(s.key().to_owned(), l.data);
                }
                Err(e) => {
                    shown.insert(s.name.clone(), json!({ "error": e }));
                    data.insert(s.key().to_owned(), Value::Null);
                }
            }
        }
        Ok(Some(json!({
            "entity_type": entity_type, "entity_id": entity_id,
            "data": data, "sources": shown,
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definitions_are_read_with_every_problem() {
        let ok = DataSource::read(
            "customer.history",
            &json!({"entity_id": "{{customer.id}}", "action": "orders_history", "config": {"id": "{{entity_id}}"}, "ttl": "1m"}),
        )
        .unwrap();
        assert_eq!((ok.entity_type.as_str(), ok.key()), ("customer", "history"));
        assert_eq!(ok.ttl, Duration::from_secs(60));
        let bad = DataSource::read(
            "bad name",
            &json!({"action": "a", "record": true, "ttl": "forever", "on_error": "shrug", "extra": 1}),
        )
        .unwrap_err();
        let paths: Vec<&str> = bad.iter().map(|p| p.0.as_str()).collect();
        for p in [
            "$.extra",
            "$.name",
            "$.entity_id",
            "$",
            "$.ttl",
            "$.on_error",
        ] {
            assert!(paths.contains(&p), "{p} missing from {bad:?}");
        }
    }

    #[test]
    fn loaded_data_goes_under_its_name() {
        let mut root = json!({"customer": {"id": "c1"}});
        place(&mut root, "customer.history", json!([1])).unwrap();
        place(&mut root, "order.details", json!({"n": 2})).unwrap();
        assert_eq!(
            root,
            json!({"customer": {"id": "c1", "history": [1]}, "order": {"details": {"n": 2}}})
        );
        let mut root = json!({"customer": "c1"});
        assert!(
            place(&mut root, "customer.history", json!(1))
                .unwrap_err()
                .contains("'customer' is not an object")
        );
    }
}
