//! The readable form of a dry-run: one line per step visit, indented under its parallel or
//! foreach, with the comparisons made and where control went.

use std::collections::HashMap;
use std::fmt::Write as _;

use serde_json::Value;
use weir_core::Workflow;
use weir_core::condition::CondTrace;
use weir_core::dryrun::{DecisionKind, DryRun, RunStatus, StepStatus};

pub fn render(wf: &Workflow, run: &DryRun, color: bool) -> String {
    let paint = |code: &str, t: &str| {
        if color {
            format!("\x1b[{code}m{t}\x1b[0m")
        } else {
            t.to_owned()
        }
    };
    let mut out = String::new();
    let _ = write!(out, "workflow {}", clean(&wf.id));
    if wf.name != wf.id {
        let _ = write!(out, " ({})", clean(&wf.name));
    }
    out.push('\n');
    match &run.trigger {
        Some(t) => {
            let what = t
                .event
                .as_deref()
                .map_or_else(|| t.kind.to_owned(), |e| format!("event {}", clean(e)));
            let verdict = if run.matched {
                "matched"
            } else {
                "did not match"
            };
            let _ = writeln!(out, "trigger #{} ({what}) {verdict}", t.index);
            if let Some(c) = &t.conditions {
                let _ = writeln!(out, "  conditions: {}", summarize(c));
            }
        }
        None if run.matched => {
            let _ = writeln!(out, "started manually");
        }
        None => {}
    }
    for note in &run.notes {
        let _ = writeln!(out, "note: {}", clean(note));
    }
    let mut depth: HashMap<&str, usize> = HashMap::new();
    for r in &run.steps {
        let d = r
            .parent
            .as_deref()
            .and_then(|p| depth.get(p))
            .map_or(0, |d| d + 1);
        depth.insert(&r.step_id, d);
        let indent = "  ".repeat(d + 1);
        let mark = match r.status {
            StepStatus::Completed => paint("32", "✓"),
            StepStatus::Skipped => paint("2", "-"),
            StepStatus::Failed => paint("31", "✗"),
            StepStatus::Waiting => paint("33", "…"),
            StepStatus::Cancelled => paint("2", "×"),
        };
        let mut where_ = String::new();
        if let Some(b) = r.branch {
            let _ = write!(where_, "[branch {b}] ");
        }
        if let Some(i) = r.iteration {
            let _ = write!(where_, "[item {i}] ");
        }
        let _ = write!(
            out,
            "{indent}{mark} {where_}{} ({})",
            clean(&r.step_id),
            clean(&r.step_type)
        );
        if let Some(g) = &r.guard {
            let _ = write!(out, " skipped: {}", summarize(g));
        }
        if let Some(c) = &r.condition {
            let _ = write!(out, " {} → {}", summarize(c), c.result());
        }
        if let Some(d) = r.decision {
            let word = match d {
                DecisionKind::Allow => paint("32;1", "ALLOW"),
                DecisionKind::Block => paint("31;1", "BLOCK"),
                DecisionKind::None => String::new(),
            };
            let _ = write!(out, " {word}");
        }
        if let Some(w) = &r.would {
            let _ = write!(out, " — {}", clean(w));
        }
        if let Some(n) = &r.next {
            let _ = write!(out, " → {}", clean(n));
        }
        if let Some(e) = &r.error {
            let _ = write!(out, " error: {}", clean(e));
        }
        out.push('\n');
        if let Some(Value::Object(input)) = &r.input
            && r.step_type != "action"
            && r.would
                .as_deref()
                .is_some_and(|w| w.starts_with("would perform"))
        {
            let _ = writeln!(out, "{indent}    input: {}", Value::Object(input.clone()));
        }
        if let Some(Value::Array(planned)) = r.input.as_ref().and_then(|i| i.get("execute")) {
            for p in planned {
                let _ = writeln!(
                    out,
                    "{indent}    {}: {}",
                    clean(p["type"].as_str().unwrap_or("?")),
                    p["config"]
                );
            }
        }
        if !r.templates.missing_paths.is_empty() {
            let _ = writeln!(
                out,
                "{indent}    {} {}",
                paint("33", "unknown paths:"),
                clean(&r.templates.missing_paths.join(", "))
            );
        }
        if !r.templates.missing_secrets.is_empty() {
            let _ = writeln!(
                out,
                "{indent}    {} {}",
                paint("33", "missing secrets:"),
                clean(&r.templates.missing_secrets.join(", "))
            );
        }
    }
    let decision = match run.decision {
        DecisionKind::Allow => paint("32;1", "ALLOW"),
        DecisionKind::Block => paint("31;1", "BLOCK"),
        DecisionKind::None => "none".to_owned(),
    };
    let _ = write!(out, "decision: {decision}");
    if let Some(reason) = &run.reason {
        let _ = write!(out, " — {}", clean(reason));
    }
    out.push('\n');
    let status = match run.status {
        RunStatus::Completed => "completed",
        RunStatus::Failed => "failed",
        RunStatus::Waiting => "waiting",
        RunStatus::NotMatched => "not matched",
    };
    let _ = writeln!(out, "status: {status}");
    if let Some(e) = &run.error {
        let _ = writeln!(out, "error: {}", clean(e));
    }
    out
}

/// One line for a condition trace: `order.total=15000 gte 10000 ✓ and (…)`.
fn summarize(t: &CondTrace) -> String {
    match t {
        CondTrace::Compare {
            field,
            operator,
            expected,
            actual,
            result,
            note,
        } => {
            let actual = if actual.is_null() {
                "absent".to_owned()
            } else {
                actual.to_string()
            };
            let mut s = format!("{}={actual} {operator} {expected}", clean(field));
            s.push_str(if *result { " ✓" } else { " ✗" });
            if let Some(n) = note {
                let _ = write!(s, " ({})", clean(n));
            }
            s
        }
        CondTrace::And { and, .. } => format!(
            "({})",
            and.iter().map(summarize).collect::<Vec<_>>().join(" and ")
        ),
        CondTrace::Or { or, .. } => format!(
            "({})",
            or.iter().map(summarize).collect::<Vec<_>>().join(" or ")
        ),
        CondTrace::Not { not, .. } => format!("not {}", summarize(not)),
        CondTrace::Rule {
            rule,
            condition,
            note,
            result,
        } => match (condition, note) {
            (Some(c), _) => format!("rule {} {}", clean(rule), summarize(c)),
            (None, Some(n)) => format!(
                "rule {} ({n}) {}",
                clean(rule),
                if *result { "✓" } else { "✗" }
            ),
            _ => format!("rule {}", clean(rule)),
        },
    }
}

/// Input-derived text without control characters (terminal escapes among them).
fn clean(text: &str) -> String {
    crate::input::sanitize(text)
}
