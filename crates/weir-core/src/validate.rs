//! Validation: reads a definition and checks it as a whole, returning every diagnostic at once.
//! Field-level problems come from the reader (`parse.rs`); this module adds the checks that need
//! the whole workflow: step ids, jump targets, dependency cycles, rules, reachability.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use crate::catalog::ActionCatalog;
use crate::condition::Condition;
use crate::diag::{Code, Diagnostic, Diags};
use crate::document::{DocumentError, Format, load_value};
use crate::env::Rules;
use crate::model::*;
use crate::parse::Reader;

/// The outcome of validation: the workflow when it could be read, and every diagnostic.
#[derive(Debug)]
pub struct Validated {
    pub workflow: Option<Workflow>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Validated {
    /// Valid means readable with no errors; warnings are allowed.
    pub fn is_valid(&self) -> bool {
        self.workflow.is_some() && !self.diagnostics.iter().any(Diagnostic::is_error)
    }

    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.is_error())
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| !d.is_error())
    }

    /// The workflow, if it is valid.
    pub fn into_valid(self) -> Result<Workflow, Vec<Diagnostic>> {
        if self.is_valid() {
            // is_valid checked that the workflow is present.
            self.workflow.ok_or_else(Vec::new)
        } else {
            Err(self
                .diagnostics
                .into_iter()
                .filter(Diagnostic::is_error)
                .collect())
        }
    }
}

/// Turns a document error into the diagnostic validation reports for it.
pub fn document_diagnostic(err: &DocumentError) -> Diagnostic {
    let mut message = err.to_string();
    if let DocumentError::Syntax {
        line: Some(l),
        column: Some(c),
        ..
    } = err
    {
        message.push_str(&format!(" (line {l}, column {c})"));
    }
    Diagnostic::new(Code::Syntax, "$", message)
}

/// Validates a workflow document given as JSON or YAML bytes.
pub fn validate_workflow_text(
    bytes: &[u8],
    format: Option<Format>,
    catalog: &dyn ActionCatalog,
    rules: &Rules,
) -> Validated {
    match load_value(bytes, format) {
        Ok(value) => validate_value(&value, catalog, rules),
        Err(e) => Validated {
            workflow: None,
            diagnostics: vec![document_diagnostic(&e)],
        },
    }
}

/// Validates a workflow already parsed into a JSON value.
/// Reads a rule kept on its own (`rule_id`, `name`, `type`, `conditions`): the
/// rule, or every problem found. The rules it refers to must be in `rules`; it may not refer to
/// itself.
pub fn validate_rule(value: &Value, rules: &Rules) -> Result<crate::env::Rule, Vec<Diagnostic>> {
    let catalog = crate::catalog::BuiltinCatalog::new();
    let mut reader = Reader::new(&catalog);
    let rule = reader.rule(value, "$");
    let mut diags = reader.diags;
    if let Some(r) = &rule {
        let mut refs = Vec::new();
        r.condition.rule_refs(&mut refs);
        for id in refs {
            if id == r.id {
                diags.push(
                    Code::UnknownRule,
                    "$.conditions",
                    "a rule cannot refer to itself",
                );
            } else if !rules.contains(&id) {
                diags.push(
                    Code::UnknownRule,
                    "$.conditions",
                    format!("unknown rule '{id}'"),
                );
            }
        }
    }
    match rule {
        Some(r) if !diags.has_errors() => Ok(r),
        _ => Err(diags.0),
    }
}

/// Reads a stored rule again without checking the rules it refers to (they may have gone
/// since; a missing rule evaluates to false).
pub fn read_rule(value: &Value) -> Result<crate::env::Rule, Vec<Diagnostic>> {
    let catalog = crate::catalog::BuiltinCatalog::new();
    let mut reader = Reader::new(&catalog);
    match reader.rule(value, "$") {
        Some(r) if !reader.diags.has_errors() => Ok(r),
        _ => Err(reader.diags.0),
    }
}

pub fn validate_value(value: &Value, catalog: &dyn ActionCatalog, rules: &Rules) -> Validated {
    let mut reader = Reader::new(catalog);
    let workflow = reader.workflow(value);
    let mut diags = reader.diags;
    if let Some(wf) = &workflow {
        check_workflow(wf, rules, &mut diags);
    }
    let mut diagnostics = diags.0;
    // Errors first, then warnings; each in document order as found.
    diagnostics.sort_by_key(|d| d.severity);
    Validated {
        workflow,
        diagnostics,
    }
}

/// Reads a list of reusable rules (a JSON array, or an object with a `rules` array).
pub fn read_rules(value: &Value, catalog: &dyn ActionCatalog) -> (Rules, Vec<Diagnostic>) {
    let mut reader = Reader::new(catalog);
    let mut rules = Rules::default();
    let (list, base) = match value {
        Value::Array(list) => (Some(list), "$".to_owned()),
        Value::Object(map) if map.get("rules").is_some_and(Value::is_array) => (
            map.get("rules").and_then(Value::as_array),
            "$.rules".to_owned(),
        ),
        Value::Object(_) => {
            if let Some(r) = reader.rule(value, "$") {
                rules.insert(r);
            }
            (None, String::new())
        }
        _ => {
            reader
                .diags
                .push(Code::WrongType, "$", "a rules file is a list of rules");
            (None, String::new())
        }
    };
    for (i, item) in list.into_iter().flatten().enumerate() {
        if let Some(r) = reader.rule(item, &crate::diag::index(&base, i)) {
            rules.insert(r);
        }
    }
    (rules, reader.diags.0)
}

// ---------------------------------------------------------------------------------------------

fn check_workflow(wf: &Workflow, external_rules: &Rules, diags: &mut Diags) {
    // Duplicate step ids are reported by the reader, which sees invalid steps too.
    let mut where_is: HashMap<&str, &str> = HashMap::new();
    visit_lists(&wf.steps, &mut |list| {
        for s in &list.steps {
            where_is.entry(&s.id).or_insert(&list.path);
        }
    });

    visit_lists(&wf.steps, &mut |list| check_list(list, &where_is, diags));

    // Rules: those in the file and those supplied from outside.
    let local: HashSet<&str> = wf.rules.iter().map(|r| r.id.as_str()).collect();
    let mut check_rules = |cond: &Condition, path: &str| {
        let mut refs = Vec::new();
        cond.rule_refs(&mut refs);
        for r in refs {
            if !local.contains(r.as_str()) && !external_rules.contains(&r) {
                diags.push(
                    Code::UnknownRule,
                    path,
                    format!("unknown rule '{r}'; define it under 'rules' or load it with --rules"),
                );
            }
        }
    };
    for t in &wf.triggers {
        if let Some(c) = &t.conditions {
            check_rules(c, &format!("{}.conditions", t.path));
        }
    }
    for r in &wf.rules {
        check_rules(&r.condition, "$.rules");
    }

    visit_steps(&wf.steps, &mut |step| {
        for (label, c) in step_conditions(step) {
            check_rules(c, &format!("{}.{label}", step.path));
        }
    });

    check_rule_cycles(wf, external_rules, diags);
    if !wf.steps.is_dag() {
        check_flow(&wf.steps, diags);
        check_decisions(wf, diags);
    }
}

/// Every condition a step holds, with the field it is under.
fn step_conditions(step: &Step) -> Vec<(&'static str, &Condition)> {
    let mut out = Vec::new();
    if let Some(g) = &step.guard {
        out.push(("condition", g));
    }
    match &step.kind {
        StepKind::Condition { condition, .. } => out.push(("condition", condition)),
        StepKind::Wait {
            matches: Some(m), ..
        } => out.push(("match", m)),
        StepKind::Switch { cases, .. } => out.extend(
            cases
                .iter()
                .filter_map(|c| c.condition.as_ref())
                .map(|c| ("cases", c)),
        ),
        _ => {}
    }
    out
}

pub(crate) fn visit_steps<'w>(list: &'w StepList, f: &mut dyn FnMut(&'w Step)) {
    for step in &list.steps {
        f(step);
        for child in child_lists(step) {
            visit_steps(child, f);
        }
    }
}

fn visit_lists<'w>(list: &'w StepList, f: &mut dyn FnMut(&'w StepList)) {
    f(list);
    for step in &list.steps {
        for child in child_lists(step) {
            visit_lists(child, f);
        }
    }
}

pub(crate) fn child_lists(step: &Step) -> Vec<&StepList> {
    match &step.kind {
        StepKind::Parallel { branches, .. } => branches.iter().collect(),
        StepKind::Foreach { body, .. } => vec![body],
        _ => Vec::new(),
    }
}

/// The jump targets a step names, with the field each is under.
pub(crate) fn named_targets(step: &Step) -> Vec<(String, &str)> {
    fn add<'s>(out: &mut Vec<(String, &'s str)>, field: &str, t: &'s Option<String>) {
        if let Some(t) = t {
            out.push((field.to_owned(), t.as_str()));
        }
    }
    let mut out: Vec<(String, &str)> = Vec::new();
    add(&mut out, "next", &step.next);
    if let Some(OnError::Goto(t)) = &step.on_error {
        out.push(("on_error".into(), t));
    }
    match &step.kind {
        StepKind::Condition {
            on_true, on_false, ..
        }
        | StepKind::Parallel {
            on_true, on_false, ..
        } => {
            add(&mut out, "on_true", on_true);
            add(&mut out, "on_false", on_false);
        }
        StepKind::Switch { cases, default, .. } => {
            for (i, c) in cases.iter().enumerate() {
                out.push((format!("cases[{i}].next"), c.next.as_str()));
            }
            add(&mut out, "default", default);
        }
        StepKind::Wait { on_timeout, .. } => add(&mut out, "on_timeout", on_timeout),
        StepKind::Approval(a) => {
            add(&mut out, "on_approve", &a.on_approve);
            add(&mut out, "on_reject", &a.on_reject);
            add(&mut out, "on_timeout", &a.on_timeout);
        }
        _ => {}
    }
    out
}

fn check_list(list: &StepList, where_is: &HashMap<&str, &str>, diags: &mut Diags) {
    let ids: Vec<&str> = list.steps.iter().map(|s| s.id.as_str()).collect();
    let dag = list.is_dag();
    for step in &list.steps {
        let branches: Vec<String> = named_targets(step)
            .into_iter()
            .map(|(field, _)| field)
            .filter(|f| f != "on_error")
            .collect();
        if step.end && !branches.is_empty() {
            let msg = format!(
                "\"end\": true cannot go with {}: the step would both end and go on",
                branches.join(", ")
            );
            diags.push(Code::InvalidValue, &format!("{}.end", step.path), msg);
        }
        if dag && step.next.is_some() {
            let msg = "in a list that uses depends_on, steps run when their dependencies are done; 'next' has no effect here (use depends_on)";
            diags.push(Code::InvalidValue, &format!("{}.next", step.path), msg);
        }
        for (field, target) in named_targets(step) {
            if ids.contains(&target) {
                if target == step.id && field == "next" {
                    diags.push(
                        Code::UnknownTarget,
                        &format!("{}.{field}", step.path),
                        format!("step '{}' names itself as 'next'", step.id),
                    );
                }
                continue;
            }
            let msg = match where_is.get(target) {
                Some(other) => format!(
                    "'{target}' is in another step list ({other}); a step can only go to steps of its own list"
                ),
                None => {
                    let hint = crate::parse_closest(target, &ids)
                        .map(|c| format!(" (did you mean '{c}'?)"))
                        .unwrap_or_default();
                    let values = if field == "on_error" {
                        "; on_error is fail, continue, catch or a step id"
                    } else {
                        ""
                    };
                    format!("no step '{target}' for '{field}'{hint}{values}")
                }
            };
            let fix = match where_is.get(target) {
                Some(_) => None,
                None => crate::parse::replace_with(target, &ids),
            };
            diags.push_fix(
                Code::UnknownTarget,
                &format!("{}.{field}", step.path),
                msg,
                fix,
            );
        }
        for (i, dep) in step.depends_on.iter().enumerate() {
            if !ids.contains(&dep.as_str()) {
                let msg = match where_is.get(dep.as_str()) {
                    Some(other) => format!(
                        "'{dep}' is in another step list ({other}); depends_on names steps of the same list"
                    ),
                    None => format!("'{}' depends on '{dep}', which is not a step", step.id),
                };
                diags.push(
                    Code::UnknownDependency,
                    &format!("{}.depends_on[{i}]", step.path),
                    msg,
                );
            }
        }
    }
    check_cycles(list, diags);
}

/// Finds cycles in `depends_on` and names each one: "a → b → c → a".
fn check_cycles(list: &StepList, diags: &mut Diags) {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done,
    }
    let index: HashMap<&str, usize> = list
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id.as_str(), i))
        .collect();
    let mut marks = vec![Mark::New; list.steps.len()];
    let mut reported: HashSet<Vec<usize>> = HashSet::new();
    for start in 0..list.steps.len() {
        if marks[start] != Mark::New {
            continue;
        }
        // Iterative DFS: (node, next dependency to look at).
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        marks[start] = Mark::Active;
        while let Some(&mut (node, ref mut k)) = stack.last_mut() {
            let deps = &list.steps[node].depends_on;
            if *k < deps.len() {
                let dep = &deps[*k];
                *k += 1;
                let Some(&d) = index.get(dep.as_str()) else {
                    continue;
                };
                match marks[d] {
                    Mark::New => {
                        marks[d] = Mark::Active;
                        stack.push((d, 0));
                    }
                    Mark::Active => {
                        let pos = stack.iter().position(|(n, _)| *n == d).unwrap_or(0);
                        let mut cycle: Vec<usize> = stack[pos..].iter().map(|(n, _)| *n).collect();
                        let mut key = cycle.clone();
                        key.sort_unstable();
                        if reported.insert(key) {
                            cycle.push(d);
                            let names: Vec<&str> =
                                cycle.iter().map(|i| list.steps[*i].id.as_str()).collect();
                            let first = &list.steps[cycle[0]];
                            diags.push(
                                Code::DependencyCycle,
                                &format!("{}.depends_on", first.path),
                                format!("depends_on forms a cycle: {}", names.join(" → ")),
                            );
                        }
                    }
                    Mark::Done => {}
                }
            } else {
                marks[node] = Mark::Done;
                stack.pop();
            }
        }
    }
}

/// Where control can go after a step in a sequential list: explicit targets, and whether it
/// falls through to the following step.
pub(crate) struct Flow<'s> {
    /// (field, target) pairs; `None` target means "the following step".
    pub edges: Vec<(&'static str, Option<&'s str>)>,
}

pub(crate) fn flow(step: &Step) -> Flow<'_> {
    let mut edges: Vec<(&'static str, Option<&str>)> = Vec::new();
    let fall = step.next.as_deref();
    fn or<'s>(t: &'s Option<String>, fall: Option<&'s str>) -> Option<&'s str> {
        t.as_deref().or(fall)
    }
    if let Some(OnError::Goto(t)) = &step.on_error {
        edges.push(("on_error", Some(t)));
    }
    // A step whose guard is false is skipped, and control goes on as after a plain step.
    if step.guard.is_some() {
        edges.push(("skipped", fall));
    }
    if step.end {
        return Flow { edges };
    }
    match &step.kind {
        StepKind::Decision(d) if d.verdict != Verdict::Execute && step.next.is_none() => {}
        StepKind::Condition {
            on_true, on_false, ..
        } => {
            edges.push(("on_true", or(on_true, fall)));
            edges.push(("on_false", or(on_false, fall)));
        }
        StepKind::Parallel {
            on_true,
            on_false,
            strategy: Strategy::AllMustPass,
            ..
        } => {
            edges.push(("on_true", or(on_true, fall)));
            edges.push(("on_false", or(on_false, fall)));
        }
        StepKind::Switch { cases, default, .. } => {
            for c in cases {
                edges.push(("case", Some(c.next.as_str())));
            }
            edges.push(("default", or(default, fall)));
        }
        StepKind::Wait { on_timeout, .. } => {
            edges.push(("event", fall));
            if on_timeout.is_some() {
                edges.push(("on_timeout", on_timeout.as_deref()));
            }
        }
        StepKind::Approval(a) => {
            edges.push(("on_approve", or(&a.on_approve, fall)));
            edges.push(("on_reject", or(&a.on_reject, fall)));
            if a.on_timeout.is_some() {
                edges.push(("on_timeout", a.on_timeout.as_deref()));
            }
        }
        _ => edges.push(("next", fall)),
    }
    Flow { edges }
}

/// Resolves a flow edge to a step index: a named target, or the following step.
fn resolve(list: &StepList, i: usize, target: Option<&str>) -> Option<usize> {
    match target {
        Some(t) => list.position(t),
        None => (i + 1 < list.steps.len()).then_some(i + 1),
    }
}

fn check_flow(list: &StepList, diags: &mut Diags) {
    for child in list.steps.iter().flat_map(child_lists) {
        if !child.is_dag() {
            check_flow(child, diags);
        }
    }
    if list.steps.is_empty() {
        return;
    }
    // Reachability from the first step.
    let mut reached = vec![false; list.steps.len()];
    let mut todo = vec![0usize];
    while let Some(i) = todo.pop() {
        if std::mem::replace(&mut reached[i], true) {
            continue;
        }
        for (_, t) in flow(&list.steps[i]).edges {
            if let Some(j) = resolve(list, i, t) {
                todo.push(j);
            }
        }
    }
    for (i, step) in list.steps.iter().enumerate() {
        if !reached[i] {
            diags.push(
                Code::Unreachable,
                &step.path,
                format!("step '{}' is never reached", step.id),
            );
        }
    }
    // A branch target that runs on, by falling through, into another branch's target.
    for step in &list.steps {
        let branch_targets: Vec<&str> = flow(step)
            .edges
            .iter()
            .filter(|(field, _)| !matches!(*field, "next" | "on_error" | "skipped"))
            .filter_map(|(_, t)| *t)
            .collect();
        if branch_targets.len() < 2 {
            continue;
        }
        for &t in &branch_targets {
            let Some(mut i) = list.position(t) else {
                continue;
            };
            for _ in 0..list.steps.len() {
                let s = &list.steps[i];
                let edges = flow(s).edges;
                // Only a plain fall-through (no explicit next, one way on) is suspicious.
                if s.next.is_some()
                    || edges.len() != 1
                    || edges[0].1.is_some()
                    || i + 1 >= list.steps.len()
                {
                    break;
                }
                let following = &list.steps[i + 1];
                if following.id != t && branch_targets.contains(&following.id.as_str()) {
                    diags.push(
                        Code::FallsThrough,
                        &s.path,
                        format!("'{}' falls through into '{}', the target of another branch of '{}'; add `next` or `end`", s.id, following.id, step.id),
                    );
                    break;
                }
                i += 1;
            }
        }
    }
}

fn decides(step: &Step) -> bool {
    match &step.kind {
        StepKind::Decision(d) => d.verdict != Verdict::Execute,
        _ => child_lists(step)
            .iter()
            .any(|l| l.steps.iter().any(decides)),
    }
}

/// Warns about paths that end without a decision in a workflow that decides on others.
fn check_decisions(wf: &Workflow, diags: &mut Diags) {
    let list = &wf.steps;
    if list.steps.is_empty() || !list.steps.iter().any(decides) {
        return;
    }
    let mut seen = HashSet::new();
    let mut todo = vec![(0usize, false)];
    let mut warned = HashSet::new();
    while let Some((i, decided)) = todo.pop() {
        if !seen.insert((i, decided)) {
            continue;
        }
        let step = &list.steps[i];
        let decided = decided || decides(step);
        let edges = flow(step).edges;
        let mut ends = edges.is_empty();
        for (_, t) in edges {
            match resolve(list, i, t) {
                Some(j) => todo.push((j, decided)),
                None if t.is_none() => ends = true,
                None => {}
            }
        }
        if ends && !decided && warned.insert(i) {
            diags.push(
                Code::NoDecision,
                &step.path,
                format!("a path ends at '{}' without an allow or block decision, though this workflow decides on others", step.id),
            );
        }
    }
}

/// The workflow id a name gives when a definition has none: "Customer Onboarding" →
/// "customer_onboarding".
pub fn slug_id(name: &str) -> String {
    crate::parse::slug(name)
}

/// Rules that refer to each other in a circle would never finish evaluating: name the circle.
fn check_rule_cycles(wf: &Workflow, external: &Rules, diags: &mut Diags) {
    let mut conditions: HashMap<&str, &Condition> = HashMap::new();
    for id in external.ids() {
        if let Some(r) = external.get(id) {
            conditions.insert(id, &r.condition);
        }
    }
    for r in &wf.rules {
        conditions.insert(&r.id, &r.condition);
    }
    let mut reported: HashSet<Vec<String>> = HashSet::new();
    let mut ids: Vec<&str> = conditions.keys().copied().collect();
    ids.sort_unstable();
    for start in ids {
        // Depth-first along rule references, with the path so far.
        let mut stack: Vec<(String, Vec<String>)> =
            vec![(start.to_owned(), vec![start.to_owned()])];
        let mut seen: HashSet<String> = HashSet::new();
        while let Some((id, path)) = stack.pop() {
            let Some(cond) = conditions.get(id.as_str()) else {
                continue;
            };
            let mut refs = Vec::new();
            cond.rule_refs(&mut refs);
            for next in refs {
                if next == start {
                    let mut cycle = path.clone();
                    cycle.push(next);
                    let mut key = path.clone();
                    key.sort();
                    if reported.insert(key) {
                        diags.push(
                            Code::DependencyCycle,
                            "$.rules",
                            format!(
                                "rules refer to each other in a circle: {}",
                                cycle.join(" → ")
                            ),
                        );
                    }
                } else if seen.insert(next.clone()) && path.len() < 64 {
                    let mut p = path.clone();
                    p.push(next.clone());
                    stack.push((next, p));
                }
            }
        }
    }
}
