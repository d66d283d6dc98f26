//! The write of a batch of events (group commit), planned once for both ways of running it:
//! through sqlx (PostgreSQL, and SQLite batches that need the general path) and through the
//! native SQLite writer (see `native.rs`).
//!
//! A batch first reads what it depends on (stored idempotency keys, waits for its event
//! types), then [`plan`] turns the batch and those reads into the answers and a list of
//! statements: a few multi-row inserts, since each statement, not its size, is what costs.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use std::fmt::Write as _;

use weir_core::dryrun::event_matches;

use crate::*;

/// One event of a batch, with the executions it starts.
pub(crate) type Entry = (Scope, NewEvent, Vec<NewExecution>);

/// A value to bind. Statements number their parameters `$1, $2, …` in the order they appear,
/// so binding by position and by name agree. Text is mostly borrowed from the batch: a run
/// binds some fifty values, and copying each was most of what planning cost.
#[derive(Debug, Clone)]
pub(crate) enum Bind<'a> {
    S(Cow<'a, str>),
    OS(Option<Cow<'a, str>>),
    I(i64),
    OI(Option<i64>),
    /// The database clock, written into the SQL instead of bound.
    Now,
}

/// Borrowed text to bind.
fn text(v: &str) -> Bind<'_> {
    Bind::S(Cow::Borrowed(v))
}

/// Borrowed text or null to bind.
fn text_or_null(v: Option<&str>) -> Bind<'_> {
    Bind::OS(v.map(Cow::Borrowed))
}

/// A statement of the plan.
pub(crate) enum Statement<'a> {
    Sql(String, Vec<Bind<'a>>),
    /// Rows for one table: a multi-row insert through sqlx (each statement is a round trip,
    /// or a hop to sqlx's SQLite thread), one cached single-row statement per row natively
    /// (nothing to build, parse or look up by a long text).
    Insert(Insert<'a>),
    /// An execution whose first step opened approvals or child runs, or closed something: it
    /// is written by the general commit path (`SqlStore::apply_body`), which only sqlx runs.
    General {
        entry: usize,
        execution: usize,
    },
}

/// A read the plan depends on; its rows are lists of text columns.
pub(crate) struct Read<'a> {
    pub sql: String,
    pub binds: Vec<Bind<'a>>,
}

/// What the batch answers for one event.
pub(crate) enum Answer {
    /// Written; whether it queued work for a worker.
    New(String, bool),
    /// The key was seen before (stored, or earlier in this batch) with the same event type
    /// and payload: answer with that event.
    Seen(Scope, String),
    /// The key was seen before with another event type or payload: that event's id.
    Reused(String),
}

pub(crate) struct Plan<'a> {
    pub answers: Vec<Answer>,
    pub statements: Vec<Statement<'a>>,
}

/// Whether an execution's first step writes only rows a multi-row insert can hold.
pub(crate) fn is_simple(e: &NewExecution) -> bool {
    e.initial.as_ref().is_none_or(|c| {
        c.approvals.is_empty()
            && c.withdrawn_approvals.is_empty()
            && c.expired_approvals.is_empty()
            && c.new_executions.is_empty()
            && c.done_items.is_empty()
            && c.cancel_keys.is_empty()
            && c.awaits_remove.is_empty()
            && c.other_items.is_empty()
    })
}

/// The reads a batch depends on, in the order [`plan`] takes their results: one per event
/// with an idempotency key, then the waits for the batch's event types, in chunks.
pub(crate) fn reads<'a>(batch: &[&'a Entry]) -> Vec<Read<'a>> {
    let mut out = Vec::new();
    for (scope, event, _) in batch.iter().copied() {
        if let Some(key) = &event.idempotency_key {
            out.push(Read {
                sql: "SELECT id, event_type, payload FROM events WHERE tenant_id = $1 AND environment_id = $2 AND idempotency_key = $3".into(),
                binds: vec![text(&scope.tenant), text(&scope.environment), text(key)],
            });
        }
    }
    for chunk in event_types(batch).chunks(500) {
        let marks: Vec<String> = (1..=chunk.len()).map(|n| format!("${n}")).collect();
        out.push(Read {
            sql: format!(
                "SELECT DISTINCT tenant_id, environment_id, event_type FROM awaits WHERE event_type IN ({}) OR event_type LIKE '%*'",
                marks.join(", ")
            ),
            binds: chunk.iter().map(|t| text(t)).collect(),
        });
    }
    out
}

fn event_types<'a>(batch: &[&'a Entry]) -> Vec<&'a str> {
    let mut types: Vec<&str> = batch
        .iter()
        .map(|(_, e, _)| e.event_type.as_str())
        .collect();
    types.sort_unstable();
    types.dedup();
    types
}

/// Whether an event is the one stored under its idempotency key: the same type and payload
/// (as JSON values: key order and spacing aside).
fn same_event(event: &NewEvent, event_type: &str, payload: &str) -> bool {
    let parse = |text: &str| serde_json::from_str::<serde_json::Value>(text).ok();
    event.event_type == event_type
        && (event.payload.as_str() == payload
            || parse(event.payload.as_str()).is_some_and(|p| Some(p) == parse(payload)))
}

/// Plans the batch from the results of [`reads`] (in the same order).
pub(crate) fn plan<'a>(
    batch: &[&'a Entry],
    now: &str,
    shard: &str,
    postgres: bool,
    results: Vec<Vec<Vec<String>>>,
) -> Result<Plan<'a>> {
    let mut results = results.into_iter();
    let mut answers = Vec::with_capacity(batch.len());
    let mut in_batch: HashMap<(&Scope, &str), &NewEvent> = HashMap::new();
    let mut fresh: Vec<usize> = Vec::new();
    for (n, (scope, event, _)) in batch.iter().copied().enumerate() {
        if let Some(key) = &event.idempotency_key {
            let stored = results
                .next()
                .ok_or_else(|| Error::Corrupt("a batch read is missing".into()))?;
            let earlier = match in_batch.get(&(scope, key.as_str())) {
                Some(first) => Some((
                    first.id.clone(),
                    first.event_type.clone(),
                    first.payload.as_str().to_owned(),
                )),
                None => match stored.into_iter().next() {
                    None => None,
                    Some(row) => {
                        let [id, event_type, payload] =
                            <[String; 3]>::try_from(row).map_err(|_| {
                                Error::Corrupt("a stored event reads back short".into())
                            })?;
                        Some((id, event_type, payload))
                    }
                },
            };
            if let Some((id, event_type, payload)) = earlier {
                answers.push(match same_event(event, &event_type, &payload) {
                    true => Answer::Seen(scope.clone(), id),
                    false => Answer::Reused(id),
                });
                continue;
            }
            in_batch.insert((scope, key), event);
        }
        answers.push(Answer::New(event.id.clone(), false));
        fresh.push(n);
    }
    // What executions that were waiting before this batch wait for, by scope: event types,
    // and patterns (`order.*`).
    let mut waited: HashMap<Scope, HashSet<String>> = HashMap::new();
    for rows in results {
        for row in rows {
            let [tenant, environment, event_type] = <[String; 3]>::try_from(row)
                .map_err(|_| Error::Corrupt("a wait read has the wrong columns".into()))?;
            waited
                .entry(Scope::new(tenant, environment))
                .or_default()
                .insert(event_type);
        }
    }

    let mut statements = Vec::new();
    let mut events = Rows::new(8);
    let mut executions = Rows::new(14);
    let mut steps = Rows::new(10);
    let mut items = Rows::new(7);
    let mut awaits = Rows::new(7);
    let mut tally = crate::stats::Tally::default();
    // Waits opened by executions earlier in this batch, for events later in it.
    let mut opened: Vec<(&Scope, &NewAwait, &str)> = Vec::new();
    // A wait takes the event unless the payload holds another text at the path its `match`
    // requires (the `match` decides on what is queued). SQLite's JSON paths start with `$`,
    // written char(36): in a statement `$` marks the bound values.
    let takes = match postgres {
        false => {
            "(match_path IS NULL \
             OR IFNULL(json_type($1, char(36) || '.payload.' || match_path), '') <> 'text' \
             OR json_extract($1, char(36) || '.payload.' || match_path) = match_text)"
        }
        true => {
            "(match_path IS NULL \
             OR COALESCE(jsonb_typeof(CAST($1 AS jsonb) #> string_to_array('payload.' || match_path, '.')), '') <> 'string' \
             OR (CAST($1 AS jsonb) #>> string_to_array('payload.' || match_path, '.')) = match_text)"
        }
    };
    for n in fresh {
        let (scope, event, list) = batch[n];
        let mut queued = false;
        let mut patterns: Vec<&String> = waited
            .get(scope)
            .map(|w| {
                w.iter()
                    .filter(|p| event_matches(p, &event.event_type))
                    .collect()
            })
            .unwrap_or_default();
        if !patterns.is_empty() {
            patterns.sort();
            // Once per execution, however many of its threads wait, for whichever pattern.
            let marks: Vec<String> = (4..4 + patterns.len()).map(|n| format!("${n}")).collect();
            let mut binds = vec![
                Bind::S(Cow::Owned(delivery(event))),
                text(&scope.tenant),
                text(&scope.environment),
            ];
            binds.extend(patterns.into_iter().map(|p| Bind::S(Cow::Owned(p.clone()))));
            statements.push(Statement::Sql(
                format!(
                    "INSERT INTO inbox (execution_id, tenant_id, environment_id, kind, payload, run_at_ms) \
                     SELECT DISTINCT execution_id, tenant_id, environment_id, 'event', $1, {now} FROM awaits \
                     WHERE tenant_id = $2 AND environment_id = $3 AND event_type IN ({}) AND {}",
                    marks.join(", "),
                    // PostgreSQL's jsonb holds no NUL: such a payload goes to every wait.
                    match event.payload.as_str().contains("\\u0000") {
                        true => "1 = 1",
                        false => takes,
                    }
                ),
                binds,
            ));
            queued = true;
        }
        events.push(vec![
            text(&event.id),
            text(&scope.tenant),
            text(&scope.environment),
            text(&event.event_type),
            text_or_null(event.source.as_deref()),
            text_or_null(event.idempotency_key.as_deref()),
            text(event.payload.as_str()),
            Bind::Now,
        ]);
        let mut delivered = HashSet::new();
        let mut payload = None;
        for (at, a, execution_id) in &opened {
            // Once per execution, however many of its threads wait.
            if *at == scope
                && event_matches(&a.event_type, &event.event_type)
                && (a.requires.is_none()
                    || a.may_take(payload.get_or_insert_with(|| {
                        serde_json::from_str(event.payload.as_str()).unwrap_or(Value::Null)
                    })))
                && delivered.insert(*execution_id)
            {
                items.push(vec![
                    text(execution_id),
                    text(&scope.tenant),
                    text(&scope.environment),
                    text("event"),
                    Bind::OS(None),
                    Bind::S(Cow::Owned(delivery(event))),
                    Bind::OI(None),
                ]);
            }
        }
        queued |= !delivered.is_empty();
        for (x, e) in list.iter().enumerate() {
            if !is_simple(e) {
                statements.push(Statement::General {
                    entry: n,
                    execution: x,
                });
                queued = true;
                if let Some(first) = &e.initial {
                    for a in &first.awaits_add {
                        opened.push((scope, a, &e.id));
                    }
                }
                continue;
            }
            let Columns {
                state,
                status,
                decision,
                reason,
                error,
                finished,
            } = e.columns();
            executions.push(vec![
                text(&e.id),
                text(&scope.tenant),
                text(&scope.environment),
                text(&e.workflow_id),
                Bind::I(e.workflow_version),
                text_or_null(Some(&event.id)),
                text_or_null(e.parent_id.as_deref()),
                text(status),
                text_or_null(decision),
                text_or_null(reason),
                text_or_null(error),
                text(state.as_str()),
                text_or_null(e.held_by.as_ref().map(|(owner, _)| owner.as_str())),
                Bind::OI(e.held_by.as_ref().map(|(_, until)| *until)),
            ]);
            executions.finished.push(finished);
            tally.started(scope, &e.workflow_id);
            tally.run(scope, &e.workflow_id, status, decision);
            let item =
                |kind: &'a str, key: Option<&'a str>, payload: String, run_at: Option<i64>| {
                    vec![
                        text(&e.id),
                        text(&scope.tenant),
                        text(&scope.environment),
                        text(kind),
                        text_or_null(key),
                        Bind::S(Cow::Owned(payload)),
                        Bind::OI(run_at),
                    ]
                };
            // A run this node goes on with itself needs no worker.
            let before = items.rows.len();
            match &e.initial {
                None => items.push(item("start", None, "{}".into(), None)),
                Some(c) => {
                    for (k, st) in c.steps.iter().enumerate() {
                        steps.push(vec![
                            text(&e.id),
                            text(&st.key),
                            text(&scope.tenant),
                            text(&scope.environment),
                            text(&st.step_id),
                            text(&st.step_type),
                            text(&st.status),
                            Bind::I(st.attempt),
                            text(st.record.as_str()),
                            Bind::I(k as i64 + 1),
                        ]);
                        tally.attempt(scope, &e.workflow_id, &st.step_id, &st.status);
                    }
                    if !c.finished {
                        for it in &c.new_items {
                            items.push(item(
                                it.work.kind(),
                                it.key.as_deref(),
                                it.work.payload(),
                                it.run_at_ms,
                            ));
                        }
                        for a in &c.awaits_add {
                            awaits.push(vec![
                                text(&scope.tenant),
                                text(&scope.environment),
                                text(&a.event_type),
                                text(&e.id),
                                Bind::I(a.thread),
                                text_or_null(a.requires.as_ref().map(|(p, _)| p.as_str())),
                                text_or_null(a.requires.as_ref().map(|(_, t)| t.as_str())),
                            ]);
                            opened.push((scope, a, &e.id));
                        }
                    }
                }
            }
            queued |= e.held_by.is_none() && items.rows.len() > before;
        }
        if queued {
            answers[n] = Answer::New(event.id.clone(), true);
        }
    }
    events.insert(&mut statements, "INSERT INTO events (id, tenant_id, environment_id, event_type, source, idempotency_key, payload, received_ms) VALUES", None);
    executions.insert(
        &mut statements,
        "INSERT INTO executions (id, tenant_id, environment_id, workflow_id, workflow_version, event_id, parent_id, status, decision, reason, error, state, lease_owner, lease_expires_ms, started_ms, completed_ms, updated_ms, epoch) VALUES",
        Some("{now}, CASE WHEN {finished} = 1 THEN {now} ELSE NULL END, {now}, 0"),
    );
    steps.insert(&mut statements, "INSERT INTO step_executions (execution_id, record_key, tenant_id, environment_id, step_id, step_type, status, attempt, record, seq, started_ms, updated_ms) VALUES", Some("{now}, {now}"));
    items.insert_inbox(&mut statements);
    awaits.insert(
        &mut statements,
        "INSERT INTO awaits (tenant_id, environment_id, event_type, execution_id, thread, match_path, match_text) VALUES",
        None,
    );
    statements.extend(tally.statements(now, shard));
    Ok(Plan {
        answers,
        statements,
    })
}

/// The inbox payload that delivers an event to a waiting execution.
fn delivery(event: &NewEvent) -> String {
    format!(
        r#"{{"event_type":{},"payload":{}}}"#,
        Value::from(event.event_type.as_str()),
        event.payload.as_str()
    )
}

/// The rows for one table, as planning finds them.
struct Rows<'a> {
    width: usize,
    rows: Vec<Vec<Bind<'a>>>,
    /// Per row, for `executions`: whether the run already finished (sets completed_ms).
    finished: Vec<bool>,
}

impl<'a> Rows<'a> {
    fn new(width: usize) -> Self {
        Rows {
            width,
            rows: Vec::new(),
            finished: Vec::new(),
        }
    }

    fn push(&mut self, row: Vec<Bind<'a>>) {
        debug_assert_eq!(row.len(), self.width);
        self.rows.push(row);
    }

    fn insert(self, out: &mut Vec<Statement<'a>>, head: &'static str, tail: Option<&'static str>) {
        if !self.rows.is_empty() {
            out.push(Statement::Insert(Insert {
                head,
                tail,
                rows: self.rows,
                finished: self.finished,
            }));
        }
    }

    /// Queued items: their due time is the bound value or, when null, now.
    fn insert_inbox(self, out: &mut Vec<Statement<'a>>) {
        let mut due_now = Rows::new(6);
        let mut due_later = Rows::new(7);
        for mut row in self.rows {
            match row.pop() {
                Some(Bind::OI(Some(at))) => {
                    row.push(Bind::I(at));
                    due_later.push(row);
                }
                _ => due_now.push(row),
            }
        }
        let cols = "INSERT INTO inbox (execution_id, tenant_id, environment_id, kind, item_key, payload, run_at_ms) VALUES";
        due_now.insert(out, cols, Some("{now}"));
        due_later.insert(out, cols, None);
    }
}

/// Rows to insert into one table.
pub(crate) struct Insert<'a> {
    /// `INSERT INTO t (columns…) VALUES`
    pub head: &'static str,
    /// SQL written after each row's values, `{now}` and `{finished}` filled in.
    pub tail: Option<&'static str>,
    pub rows: Vec<Vec<Bind<'a>>>,
    /// Per row, for `executions`: whether the run already finished (sets completed_ms).
    pub finished: Vec<bool>,
}

impl<'a> Insert<'a> {
    /// Whether row `n` is of a finished run.
    pub fn finished(&self, n: usize) -> bool {
        self.finished.get(n).copied().unwrap_or(false)
    }

    /// Multi-row statements, `$n` numbered, each under the parameter limits.
    pub fn statements(self, now: &str) -> Vec<(String, Vec<Bind<'a>>)> {
        const CHUNK: usize = 200;
        let mut out = Vec::new();
        let mut finished = self.finished.into_iter();
        let mut rows = self.rows.into_iter().peekable();
        while rows.peek().is_some() {
            let mut text = String::from(self.head);
            let mut binds = Vec::new();
            for (r, row) in rows.by_ref().take(CHUNK).enumerate() {
                text.push_str(if r == 0 { " " } else { ", " });
                let done = finished.next().unwrap_or(false);
                let at = binds.len();
                push_row(&mut text, &row, self.tail, done, now, '$', at);
                binds.extend(row.into_iter().filter(|b| !matches!(b, Bind::Now)));
            }
            out.push((text, binds));
        }
        out
    }

    /// The statement that inserts one row shaped like `row`, numbered `?1, ?2, …`.
    pub fn row_sql(&self, row: &[Bind<'_>], finished: bool, now: &str) -> String {
        let mut text = String::from(self.head);
        text.push(' ');
        push_row(&mut text, row, self.tail, finished, now, '?', 0);
        text
    }
}

/// Writes `(values…, tail)` for a row whose values are numbered from `after + 1`, and `now`
/// for the clock.
fn push_row(
    text: &mut String,
    row: &[Bind<'_>],
    tail: Option<&str>,
    finished: bool,
    now: &str,
    mark: char,
    after: usize,
) {
    text.push('(');
    let mut n = after;
    for (c, b) in row.iter().enumerate() {
        if c > 0 {
            text.push_str(", ");
        }
        if matches!(b, Bind::Now) {
            text.push_str(now);
        } else {
            n += 1;
            let _ = write!(text, "{mark}{n}");
        }
    }
    if let Some(t) = tail {
        text.push_str(", ");
        text.push_str(
            &t.replace("{now}", now)
                .replace("{finished}", if finished { "1" } else { "0" }),
        );
    }
    text.push(')');
}
