//! One round of a run: what the executor's effects add up to, as one commit of the store.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;
use weir_core::dryrun::DecisionKind;
use weir_core::executor::{Effect, ExecStatus, Execution, StepState};
use weir_store::{
    Commit, Json, NewApproval, NewAwait, NewExecution, NewItem, Scope, StepRow, Store, Work,
};

use crate::Result;
use crate::ingest::pending_state;

/// The `child` item a finished run puts in its parent's inbox.
pub(crate) fn child_result(id: &str, exec: &Execution) -> NewItem {
    let (output, error) =
        match exec.status {
            ExecStatus::Completed => (
                Some(exec.ctx.get("vars").cloned().unwrap_or(Value::Null)),
                None,
            ),
            _ => (
                None,
                Some(exec.error.clone().unwrap_or_else(|| {
                    format!("the child run was {:?}", exec.status).to_lowercase()
                })),
            ),
        };
    NewItem::now(Work::Child {
        id: id.to_owned(),
        output,
        error,
    })
}

/// How deep runs may start runs (a child's id names its ancestors, so this also bounds ids).
const MAX_SUBWORKFLOW_DEPTH: usize = 16;

pub(crate) fn perform_key(thread: u32, attempt: u32) -> String {
    format!("perform:{thread}:{attempt}")
}

fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

/// What one round of executor effects adds up to, as one commit.
#[derive(Default)]
pub(crate) struct Round {
    pub(crate) commit: Commit,
    /// When the actions this round asks for are due to whoever holds the execution next:
    /// `None` is now (nobody performs them yet: the run was started by an event and a worker
    /// will claim it); a node that performs them itself puts them off until its lease runs
    /// out, so they are performed again only if it dies.
    pub(crate) perform_at: Option<i64>,
}

impl Round {
    pub(crate) async fn absorb(
        &mut self,
        scope: &Scope,
        execution_id: &str,
        store: &Arc<dyn Store>,
        fx: Vec<Effect>,
        performs: &mut Vec<(u32, u32)>,
    ) -> Result<()> {
        let c = &mut self.commit;
        for effect in fx {
            match effect {
                Effect::Step(r) => {
                    if r.status == StepState::Failed {
                        tracing::warn!(
                            tenant = %scope.tenant,
                            environment = %scope.environment,
                            execution_id,
                            step_id = %r.step_id,
                            step_type = %r.step_type,
                            attempt = r.attempt,
                            error = r.error.as_deref().unwrap_or_default(),
                            "step failed"
                        );
                    }
                    let row = StepRow {
                        key: r.key.clone(),
                        step_id: r.step_id.clone(),
                        step_type: r.step_type.clone(),
                        status: serde_json::to_value(r.status)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_owned))
                            .unwrap_or_default(),
                        attempt: i64::from(r.attempt),
                        record: Json::of(&r),
                    };
                    // A later version of a record keeps the place of its first: records are
                    // listed in the order they were first written.
                    match c.steps.iter_mut().find(|s| s.key == row.key) {
                        Some(kept) => *kept = row,
                        None => c.steps.push(row),
                    }
                }
                Effect::Perform {
                    thread, attempt, ..
                } => {
                    // Durable before it is performed; the input is rendered again then, so no
                    // secret is written down.
                    c.new_items.push(NewItem {
                        work: Work::Perform { thread, attempt },
                        key: Some(perform_key(thread, attempt)),
                        run_at_ms: self.perform_at,
                    });
                    performs.push((thread, attempt));
                }
                Effect::SetTimer { timer, at } => {
                    c.new_items.push(NewItem {
                        work: Work::Timer { timer },
                        key: Some(format!("timer:{timer}")),
                        run_at_ms: Some(millis(at)),
                    });
                }
                Effect::CancelTimer { timer } => {
                    let key = format!("timer:{timer}");
                    c.new_items.retain(|i| i.key.as_deref() != Some(&key));
                    c.cancel_keys.push(key);
                }
                Effect::AwaitEvent {
                    thread,
                    event,
                    requires,
                } => c.awaits_add.push(NewAwait {
                    thread: i64::from(thread),
                    event_type: event,
                    requires,
                }),
                Effect::StopAwaiting { thread } => {
                    c.awaits_add.retain(|a| a.thread != i64::from(thread));
                    c.awaits_remove.push(i64::from(thread));
                }
                Effect::RequestApproval {
                    id,
                    step_id,
                    approver_role,
                    entity,
                    entity_id,
                    message,
                    expires_at,
                } => {
                    let text = |v: Option<Value>| {
                        v.map(|v| match v {
                            Value::String(s) => s,
                            other => other.to_string(),
                        })
                    };
                    c.approvals.push(NewApproval {
                        id,
                        step_id,
                        approver_role,
                        entity,
                        entity_id: text(entity_id),
                        message: text(message),
                        expires_ms: expires_at.map(millis),
                    });
                }
                Effect::WithdrawApproval { id } => c.withdrawn_approvals.push(id),
                Effect::ExpireApproval { id } => c.expired_approvals.push(id),
                Effect::StartChild { id, .. }
                    if id.matches("-child-").count() > MAX_SUBWORKFLOW_DEPTH =>
                {
                    c.new_items.push(NewItem::now(Work::Child {
                        id,
                        output: None,
                        error: Some(format!(
                            "subworkflows nest deeper than {MAX_SUBWORKFLOW_DEPTH} levels"
                        )),
                    }));
                }
                Effect::StartChild {
                    id,
                    workflow_id,
                    input,
                } => match store.workflow(scope, &workflow_id).await? {
                    Some(current) => c.new_executions.push(NewExecution {
                        id,
                        workflow_id,
                        workflow_version: current.version,
                        parent_id: Some(execution_id.to_owned()),
                        state: pending_state("subworkflow", None, &input),
                        status: "pending".into(),
                        initial: None,
                        held_by: None,
                    }),
                    None => c.new_items.push(NewItem::now(Work::Child {
                        id,
                        output: None,
                        error: Some(format!("no workflow '{workflow_id}'")),
                    })),
                },
                Effect::CancelChild { id } => {
                    c.other_items.push((id, NewItem::now(Work::Cancel)));
                }
                // The execution's own columns are derived from its state in `finish`.
                Effect::Decided { .. } | Effect::Finished { .. } => {}
            }
        }
        Ok(())
    }

    /// Fills in the execution's own columns from its state.
    pub(crate) fn finish(&mut self, exec: &Execution, release: bool) {
        let c = &mut self.commit;
        c.state = Json::of(exec);
        c.status = serde_json::to_value(exec.status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        c.decision = match exec.decision {
            Some(DecisionKind::Block) => Some("block".into()),
            Some(DecisionKind::Allow) => Some("allow".into()),
            Some(DecisionKind::None) | None => None,
        };
        c.reason = exec.reason.clone();
        c.error = exec.error.clone();
        c.finished = exec.status.is_terminal();
        c.release = release || c.finished;
    }
}
