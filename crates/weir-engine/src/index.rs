//! The trigger index: per tenant × environment, the enabled workflows parsed once with what
//! their triggers listen for, their rules and connectors, refreshed from the store when a
//! workflow changes (here at once; from another node sharing PostgreSQL as soon as its notice
//! arrives, and within [`INDEX_REFRESH`] whatever happens).

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use weir_core::diag::Diagnostic;
use weir_core::model::TriggerKind;
use weir_core::{ActionCatalog as _, Rules, Workflow, validate_value};
use weir_store::{Named, Scope, WorkflowVersion};

use crate::{ConnectorSet, Engine, Error, Result, ScopedCatalog, context};

/// What a scope without connectors or rules of its own has: shared, not made for every run.
static NO_CONNECTORS: std::sync::LazyLock<Arc<ConnectorSet>> =
    std::sync::LazyLock::new(Arc::default);
static NO_RULES: std::sync::LazyLock<Arc<Rules>> = std::sync::LazyLock::new(Arc::default);

/// A workflow version in the trigger index, parsed once.
pub(crate) struct Indexed {
    pub(crate) workflow_id: String,
    pub(crate) version: i64,
    pub(crate) enabled: bool,
    /// When the workflow was last saved, enabled or disabled (where a schedule starts from).
    pub(crate) updated_ms: i64,
    /// Whether a run loads context first (a `context.load` name with a data source), so it
    /// starts on a worker.
    pub(crate) loads_context: bool,
    pub(crate) workflow: Arc<Workflow>,
    /// The scope's rules with the workflow's own.
    pub(crate) rules: Arc<Rules>,
}

/// An action type of a scope, as capabilities list it.
#[derive(Debug, Clone)]
pub struct ActionInfo {
    pub name: String,
    pub description: String,
    pub side_effect: bool,
    /// The JSON Schema of its config.
    pub schema: Value,
    /// One of the scope's connectors' rather than a built-in.
    pub connector: bool,
}

/// How stale another node's workflow changes may be in this node's trigger index.
pub(crate) const INDEX_REFRESH: Duration = Duration::from_secs(5);

impl Engine {
    /// Reads a stored version again. It was checked when stored; a rule it names may have been
    /// deleted since (and then evaluates to false), so an unknown rule does not stop it.
    pub(crate) fn parse(&self, scope: &Scope, definition: &Value) -> Result<Workflow> {
        let extra = self.scope_connectors(scope);
        let catalog = ScopedCatalog {
            base: &self.catalog,
            extra: &extra,
        };
        let validated = validate_value(definition, &catalog, &Rules::default());
        let blocking = validated
            .errors()
            .any(|d| d.code != weir_core::Code::UnknownRule);
        match validated.workflow {
            Some(wf) if !blocking => Ok(wf),
            _ => Err(Error::Invalid(validated.diagnostics)),
        }
    }

    /// The scope's connectors.
    pub fn scope_connectors(&self, scope: &Scope) -> Arc<ConnectorSet> {
        self.connectors
            .read()
            .expect("connectors lock")
            .get(scope)
            .cloned()
            .unwrap_or_else(|| NO_CONNECTORS.clone())
    }

    /// The scope's stored rules.
    pub fn scope_rules(&self, scope: &Scope) -> Arc<Rules> {
        self.rules
            .read()
            .expect("rules lock")
            .get(scope)
            .cloned()
            .unwrap_or_else(|| NO_RULES.clone())
    }

    /// The rules a workflow's conditions see: the scope's, and its own over them.
    pub(crate) fn rules_for(&self, scope: &Scope, wf: &Workflow) -> Arc<Rules> {
        let base = self.scope_rules(scope);
        if wf.rules.is_empty() {
            return base;
        }
        let mut merged = (*base).clone();
        for r in &wf.rules {
            merged.insert(r.clone());
        }
        Arc::new(merged)
    }

    /// WEIR-W104 for each approver or recipient role that names neither a team of the scope
    /// nor a permission role: the approval or notification would reach nobody.
    pub(crate) async fn unknown_teams(
        &self,
        scope: &Scope,
        wf: &Workflow,
    ) -> Result<Vec<Diagnostic>> {
        let named = weir_core::roles::role_references(wf);
        if named.is_empty() {
            return Ok(Vec::new());
        }
        let teams: std::collections::HashSet<String> = self
            .store
            .teams(scope)
            .await?
            .into_iter()
            .map(|t| t.name)
            .collect();
        Ok(named
            .iter()
            .filter(|r| !weir_store::ROLES.contains(&r.name.as_str()) && !teams.contains(&r.name))
            .map(|r| r.unknown_team())
            .collect())
    }

    /// What is wrong with a definition in this scope (its connectors, rules and teams), as
    /// storing it would say, without storing it.
    pub async fn check(&self, scope: &Scope, definition: &Value) -> Result<Vec<Diagnostic>> {
        let extra = self.scope_connectors(scope);
        let catalog = ScopedCatalog {
            base: &self.catalog,
            extra: &extra,
        };
        let validated = validate_value(definition, &catalog, &self.scope_rules(scope));
        let mut diagnostics = validated.diagnostics.clone();
        if let Ok(wf) = validated.into_valid() {
            diagnostics.extend(self.unknown_teams(scope, &wf).await?);
        }
        Ok(diagnostics)
    }

    /// A definition read as storing it in this scope would read it (its connectors and
    /// rules): the workflow when no error stops it, and every diagnostic, as [`Engine::check`].
    pub async fn compile(
        &self,
        scope: &Scope,
        definition: &Value,
    ) -> Result<(Option<Workflow>, Vec<Diagnostic>)> {
        let extra = self.scope_connectors(scope);
        let catalog = ScopedCatalog {
            base: &self.catalog,
            extra: &extra,
        };
        let validated = validate_value(definition, &catalog, &self.scope_rules(scope));
        let mut diagnostics = validated.diagnostics.clone();
        let workflow = validated.into_valid().ok();
        if let Some(wf) = &workflow {
            diagnostics.extend(self.unknown_teams(scope, wf).await?);
        }
        Ok((workflow, diagnostics))
    }

    /// Dry-runs a workflow in this scope, as `weir test` does offline: conditions see the
    /// scope's rules and the workflow's own; no secret is opened (each is reported missing
    /// and renders as `***`), nothing is stored and no action is performed.
    pub fn dry_run(
        &self,
        scope: &Scope,
        wf: &Workflow,
        payload: &Value,
        opts: &weir_core::DryRunOptions,
    ) -> weir_core::DryRun {
        let rules = self.rules_for(scope, wf);
        let no_secret = |_: &str| None;
        let ids = || uuid::Uuid::now_v7().to_string();
        let env = weir_core::Env {
            now: chrono::Utc::now(),
            secrets: &no_secret,
            ids: &ids,
            rules: &rules,
        };
        weir_core::dry_run(wf, payload, &env, opts)
    }

    /// The scope's action types, built-ins and its connectors', by name.
    pub fn action_types(&self, scope: &Scope) -> Vec<ActionInfo> {
        let extra = self.scope_connectors(scope);
        let connectors: Vec<&str> = extra.names();
        let catalog = ScopedCatalog {
            base: &self.catalog,
            extra: &extra,
        };
        catalog
            .names()
            .into_iter()
            .filter_map(|n| {
                let t = catalog.get(n)?;
                Some(ActionInfo {
                    name: t.name.clone(),
                    description: t.description.clone(),
                    side_effect: t.side_effect,
                    schema: t.schema.clone(),
                    connector: connectors.contains(&n),
                })
            })
            .collect()
    }

    /// Validates and stores a new version of a workflow, and puts it in the trigger index.
    /// Its warnings include roles that name no team of the scope (WEIR-W104).
    pub async fn put_workflow(
        &self,
        scope: &Scope,
        definition: &Value,
    ) -> Result<(WorkflowVersion, Vec<Diagnostic>)> {
        let extra = self.scope_connectors(scope);
        let catalog = ScopedCatalog {
            base: &self.catalog,
            extra: &extra,
        };
        let validated = validate_value(definition, &catalog, &self.scope_rules(scope));
        let mut warnings: Vec<Diagnostic> = validated.warnings().cloned().collect();
        let diagnostics = validated.diagnostics.clone();
        let wf = validated
            .into_valid()
            .map_err(|_| Error::Invalid(diagnostics))?;
        warnings.extend(self.unknown_teams(scope, &wf).await?);
        let stored = self
            .store
            .put_workflow(scope, &wf.id, definition, wf.enabled)
            .await?;
        self.versions
            .lock()
            .expect("cache lock")
            .insert((scope.clone(), wf.id.clone(), stored.version), Arc::new(wf));
        self.refresh(scope).await?;
        Ok((stored, warnings))
    }

    /// Rebuilds the rules and the trigger index of one scope from the store after a change
    /// made here, and tells the other nodes sharing the database to rebuild theirs.
    pub async fn refresh(&self, scope: &Scope) -> Result<()> {
        self.rebuild(scope).await?;
        let text = format!("{}\n{}\n{}", self.node, scope.tenant, scope.environment);
        if let Err(e) = self.store.notify(crate::stream::CHANGED, &text).await {
            // They rebuild it within INDEX_REFRESH anyway.
            tracing::warn!("telling other nodes of a change: {e}");
        }
        Ok(())
    }

    /// Rebuilds the rules and the trigger index of one scope from the store.
    pub(crate) async fn rebuild(&self, scope: &Scope) -> Result<()> {
        let mut rules = Rules::default();
        for r in self.store.rules(scope).await? {
            match weir_core::read_rule(&r.definition) {
                Ok(mut rule) => {
                    rule.enabled = rule.enabled && r.enabled;
                    rules.insert(rule);
                }
                Err(_) => tracing::error!("stored rule '{}' does not read back", r.rule_id),
            }
        }
        self.rules
            .write()
            .expect("rules lock")
            .insert(scope.clone(), Arc::new(rules));
        let rows = self.store.named(Named::Connectors, scope).await?;
        if !self.scope_connectors(scope).same_source(&rows) {
            self.connectors
                .write()
                .expect("connectors lock")
                .insert(scope.clone(), Arc::new(ConnectorSet::build(rows)));
        }
        let rows = self.store.named(Named::DataSources, scope).await?;
        if !self.scope_sources(scope).same_source(&rows) {
            self.data_sources
                .write()
                .expect("data sources lock")
                .insert(scope.clone(), Arc::new(context::SourceSet::build(rows)));
        }
        let mut entries = Vec::new();
        for v in self.store.workflows(scope).await? {
            // A version that no longer reads (a connector action it uses is gone or changed)
            // starts nothing; the rest of the scope goes on.
            let workflow = match self.workflow(scope, &v.workflow_id, v.version).await {
                Ok(w) => w,
                Err(Error::Invalid(d)) => {
                    let first = d.first().map(|d| d.message.clone()).unwrap_or_default();
                    tracing::error!(
                        "{}/{}: workflow {} version {} does not read and is not triggered: {first}",
                        scope.tenant,
                        scope.environment,
                        v.workflow_id,
                        v.version
                    );
                    continue;
                }
                Err(e) => return Err(e),
            };
            entries.push(Arc::new(Indexed {
                workflow_id: v.workflow_id,
                version: v.version,
                enabled: v.enabled,
                updated_ms: v.updated_ms,
                loads_context: self.loads_context(scope, &workflow),
                rules: self.rules_for(scope, &workflow),
                workflow,
            }));
        }
        let debounces = entries.iter().any(|e| {
            e.workflow.triggers.iter().any(|t| {
                matches!(
                    &t.kind,
                    TriggerKind::Event {
                        debounce: Some(_),
                        ..
                    }
                )
            })
        });
        if debounces {
            self.debouncing
                .store(true, std::sync::atomic::Ordering::Relaxed);
        }
        self.schedules.sync(scope, &entries);
        self.index
            .write()
            .expect("index lock")
            .insert(scope.clone(), entries);
        Ok(())
    }

    /// Builds the index of every scope (at start).
    pub async fn refresh_all(&self) -> Result<()> {
        for scope in self.store.scopes().await? {
            self.rebuild(&scope).await?;
        }
        Ok(())
    }

    /// A workflow version, parsed once and cached.
    pub async fn workflow(&self, scope: &Scope, id: &str, version: i64) -> Result<Arc<Workflow>> {
        let key = (scope.clone(), id.to_owned(), version);
        if let Some(w) = self.versions.lock().expect("cache lock").get(&key) {
            return Ok(w.clone());
        }
        let stored = self
            .store
            .workflow_version(scope, id, version)
            .await?
            .ok_or(weir_store::Error::NotFound)?;
        let wf = Arc::new(self.parse(scope, &stored.definition)?);
        self.versions
            .lock()
            .expect("cache lock")
            .insert(key, wf.clone());
        Ok(wf)
    }

    /// True for the one worker that is to rebuild the trigger index now.
    pub(crate) fn index_is_due(&self) -> bool {
        let mut at = self.indexed_at.lock().expect("index clock");
        let due = at.elapsed() >= INDEX_REFRESH;
        if due {
            *at = std::time::Instant::now();
        }
        due
    }
}
