//! The dry run (`weir test`) and a live run through the engine, on a real SQLite store, take
//! the same path on every example and template case: the same status, decision and ordered
//! step records. Actions answer what the dry run assumes they answer (its default result per
//! action type), a case's assumed approval is decided and its awaited event sent, and time
//! passes by making the run's next timer due now, as the dry run lets it pass.

use std::sync::Arc;

use serde_json::{Value, json};
use weir_core::dryrun::{DecisionKind, RunStatus};
use weir_core::executor::{ActionError, Execution};
use weir_core::{Env, Rules};
use weir_engine::{Action, ActionContext, Actions, Engine};
use weir_store::{NewItem, Scope, SqlStore, Store, Work};

#[path = "../../../weir-core/tests/it/support.rs"]
#[allow(dead_code)]
mod support;

/// Answers what the dry run assumes an action of its type answers.
struct AsDryRun(String);

#[async_trait::async_trait]
impl Action for AsDryRun {
    async fn perform(&self, _: &ActionContext, input: Value) -> Result<Value, ActionError> {
        Ok(weir_core::dryrun::default_action_result(&self.0, &input))
    }
}

async fn engine(dir: &std::path::Path) -> (Arc<Engine>, Scope) {
    let _ = std::fs::remove_dir_all(dir);
    let store: Arc<dyn Store> = Arc::new(SqlStore::open_sqlite(dir).await.unwrap());
    let scope = store.bootstrap("hash").await.unwrap().scope;
    let mut actions = Actions::builtin();
    let catalog = weir_core::catalog::BuiltinCatalog::new();
    for name in weir_core::catalog::ActionCatalog::names(&catalog) {
        actions.register(name, Arc::new(AsDryRun(name.to_owned())));
    }
    (Engine::with(store, 30_000, actions), scope)
}

async fn settle(e: &Arc<Engine>) {
    for _ in 0..1000 {
        if e.work_once(16).await.unwrap() == 0 && e.running_executions() == 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    panic!("the engine did not settle");
}

type Outcome = (String, Option<String>, Vec<(String, String)>);

/// The ids of the steps inside a foreach with `concurrency` above 1, at any depth.
fn concurrent_steps(steps: &Value, inside: bool, out: &mut Vec<String>) {
    for step in steps.as_array().into_iter().flatten() {
        if inside && let Some(id) = step["id"].as_str() {
            out.push(id.to_owned());
        }
        let concurrent = step["type"] == "foreach" && step["concurrency"].as_u64().unwrap_or(1) > 1;
        concurrent_steps(&step["steps"], inside || concurrent, out);
    }
}

/// Records of one step inside a concurrent foreach that follow each other (its iterations) in
/// status order: live, concurrent actions finish in any order, where the dry run answers them
/// in the order they were asked for. Every other record keeps its place.
fn in_any_order_within_a_step(
    wf: &Value,
    mut path: Vec<(String, String)>,
) -> Vec<(String, String)> {
    let mut concurrent = Vec::new();
    concurrent_steps(&wf["steps"], false, &mut concurrent);
    let mut start = 0;
    while start < path.len() {
        let end = start
            + path[start..]
                .iter()
                .take_while(|(id, _)| *id == path[start].0)
                .count();
        if concurrent.contains(&path[start].0) {
            path[start..end].sort();
        }
        start = end;
    }
    path
}

/// The run's pending timers, earliest first, read from the store's queue: the engine keeps
/// when a timer is due only there.
fn timers(data: &std::path::Path, id: &str) -> Vec<u64> {
    let db = rusqlite::Connection::open(data.join("weir.db")).unwrap();
    let mut q = db
        .prepare("SELECT payload FROM inbox WHERE execution_id = ?1 AND kind = 'timer' ORDER BY run_at_ms, id")
        .unwrap();
    q.query_map([id], |r| r.get::<_, String>(0))
        .unwrap()
        .filter_map(|p| serde_json::from_str::<Value>(&p.unwrap()).ok()?["timer"].as_u64())
        .collect()
}

/// Runs one case live; `None` when it starts no run.
async fn live(
    e: &Arc<Engine>,
    scope: &Scope,
    data: &std::path::Path,
    wf: &Value,
    case: &Value,
) -> Option<Outcome> {
    let id = match case["event"].as_str() {
        None => {
            let id = wf["workflow_id"].as_str().unwrap();
            e.start(scope, id, &case["payload"]).await.unwrap()
        }
        Some(event) => {
            let ingest = e
                .ingest(
                    scope,
                    event,
                    &case["payload"],
                    case["source"].as_str(),
                    None,
                )
                .await
                .unwrap();
            match ingest.executions.first() {
                Some(run) => run.id.clone(),
                None => {
                    // A debounced trigger starts its run when the window closes: close it.
                    let db = rusqlite::Connection::open(data.join("weir.db")).unwrap();
                    if db.execute("UPDATE debounces SET due_ms = 0", []).unwrap() == 0 {
                        return None;
                    }
                    assert_eq!(e.fire_debounces().await.unwrap(), 1);
                    let filter = weir_store::ExecutionFilter::default();
                    e.store()
                        .executions(scope, &filter)
                        .await
                        .unwrap()
                        .first()?
                        .id
                        .clone()
                }
            }
        }
    };
    let (mut decided, mut sent) = (false, false);
    let timeouts = case["wait"] == json!("timeout") || case["approval"] == json!("timeout");
    for _ in 0..100 {
        settle(e).await;
        let row = e.store().execution(scope, &id).await.unwrap().unwrap();
        if matches!(row.status.as_str(), "completed" | "failed" | "cancelled") {
            break;
        }
        let exec: Execution = serde_json::from_value(row.state.clone()).unwrap();
        let steps = e.store().steps(scope, &id).await.unwrap();
        let pending_approval = steps.iter().rev().find_map(|s| {
            (s["status"] == "waiting")
                .then(|| s["input"]["approval_id"].as_str())
                .flatten()
        });
        if let (Some(approval), Some(outcome), false) =
            (pending_approval, case["approval"].as_str(), decided)
            && outcome != "timeout"
        {
            decided = true;
            e.store()
                .decide_approval(scope, approval, outcome == "approve", "agreement", None)
                .await
                .unwrap();
            continue;
        }
        if let (Some(awaited), true, false) = (
            exec.awaited_events().first().map(|s| s.to_string()),
            case["wait"].is_object(),
            sent,
        ) {
            sent = true;
            e.ingest(scope, &awaited, &case["wait"], None, None)
                .await
                .unwrap();
            continue;
        }
        // Only time is left: a delay or a retry passes; a deadline passes only when the case
        // assumes a timeout, or nothing waits on it.
        let waiting = pending_approval.is_some() || !exec.awaited_events().is_empty();
        // Timers already fired early stay queued for their time: only those the run still
        // has count.
        let pending = row.state["timers"].as_object().cloned().unwrap_or_default();
        let next = timers(data, &id).into_iter().find(|t| {
            pending.contains_key(&t.to_string()) && !(waiting && !timeouts && exec.is_deadline(*t))
        });
        let Some(timer) = next else { break };
        e.store()
            .enqueue(scope, &id, NewItem::now(Work::Timer { timer }))
            .await
            .unwrap();
    }
    let row = e.store().execution(scope, &id).await.unwrap().unwrap();
    let path = e
        .store()
        .steps(scope, &id)
        .await
        .unwrap()
        .iter()
        .map(|s| {
            let status = match s["status"].as_str().unwrap_or("") {
                // A step the live run leaves running (a parallel joining, a delay) is one the
                // dry run reports as waiting.
                "running" => "waiting",
                other => other,
            };
            (
                s["step_id"].as_str().unwrap_or("").to_owned(),
                status.to_owned(),
            )
        })
        .collect();
    let path = in_any_order_within_a_step(wf, path);
    let status = match row.status.as_str() {
        "running" => "waiting".to_owned(),
        s => s.to_owned(),
    };
    Some((status, row.decision, path))
}

fn planned(doc: &Value, case: &Value) -> Option<Outcome> {
    let wf = support::workflow(doc);
    // The workflow's own rules, as `weir test` and the engine read them.
    let mut rules = Rules::default();
    for r in &wf.rules {
        rules.insert(r.clone());
    }
    let plan = weir_core::dry_run(
        &wf,
        &case["payload"],
        &Env::new(chrono::Utc::now(), &rules),
        &support::case_options(case),
    );
    if !plan.matched {
        return None;
    }
    let status = match plan.status {
        RunStatus::Completed => "completed",
        RunStatus::Failed => "failed",
        RunStatus::Waiting | RunStatus::NotMatched => "waiting",
    };
    let decision = match plan.decision {
        DecisionKind::None => None,
        d => serde_json::to_value(d).unwrap().as_str().map(str::to_owned),
    };
    let path = plan
        .steps
        .iter()
        .map(|s| {
            let st = serde_json::to_value(s.status).unwrap();
            (s.step_id.clone(), st.as_str().unwrap().to_owned())
        })
        .collect();
    Some((
        status.to_owned(),
        decision,
        in_any_order_within_a_step(doc, path),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_run_takes_the_dry_runs_path_on_every_example_case() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let (mut compared, mut failures) = (0, Vec::new());
    for dir in ["examples", "templates"] {
        let mut files: Vec<_> = std::fs::read_dir(root.join(dir))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.to_string_lossy().ends_with(".events.json"))
            .collect();
        files.sort();
        for events in files {
            let name = events.file_name().unwrap().to_string_lossy().into_owned();
            let base = name.trim_end_matches(".events.json");
            let wf_file = match dir {
                "examples" => format!("{base}.workflow.json"),
                _ => format!("{base}.json"),
            };
            let wf: Value = serde_json::from_str(
                &std::fs::read_to_string(root.join(dir).join(wf_file)).unwrap(),
            )
            .unwrap();
            let cases: Value =
                serde_json::from_str(&std::fs::read_to_string(&events).unwrap()).unwrap();
            for (i, case) in cases.as_array().unwrap().iter().enumerate() {
                // A store of its own per case: one case's run never hears another's events.
                let data = weir_store::testing::scratch(&format!("agreement-{dir}-{base}-{i}"));
                let (e, scope) = engine(&data).await;
                e.put_workflow(&scope, &wf).await.unwrap();
                let dry = planned(&wf, case);
                let run = live(&e, &scope, &data, &wf, case).await;
                if dry.is_some() || run.is_some() {
                    compared += 1;
                }
                if dry != run {
                    failures.push(format!(
                        "{dir}/{name} / {}:\n    live {run:?}\n    dry  {dry:?}",
                        case["name"].as_str().unwrap_or("?")
                    ));
                }
                drop(e);
                let _ = std::fs::remove_dir_all(&data);
            }
        }
    }
    // 72 cases, of which 19 start no run (their trigger's conditions do not hold), on both
    // sides alike.
    assert!(compared >= 53, "compared only {compared} runs");
    assert!(
        failures.is_empty(),
        "{} of {compared} cases disagree:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// A dry run stopped a foreach at 1,000 items where a live run goes to 10,000.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_run_takes_the_dry_runs_path_through_a_foreach_of_1500_items() {
    let (wf, case) = support::many_items_case();
    let data = weir_store::testing::scratch("agreement-foreach");
    let (e, scope) = engine(&data).await;
    e.put_workflow(&scope, &wf).await.unwrap();
    let dry = planned(&wf, &case).unwrap();
    let run = live(&e, &scope, &data, &wf, &case).await.unwrap();
    assert_eq!(dry.2.len(), 1 + 1500 * 2 + 1);
    assert_eq!(run, dry);
    drop(e);
    let _ = std::fs::remove_dir_all(&data);
}
