//! `weir`: validate, dry-run, format and scaffold Weir workflows from the command line.
//!
//! Data a user might pipe goes to stdout; progress, warnings and errors go to stderr.
//! Exit codes: 0 ok, 1 the thing checked failed, 2 usage error (bad arguments, unreadable file).

mod cases;
mod input;
mod logs;
mod templates;
mod tree;

/// mimalloc rather than glibc's malloc: under load the server's many small, short-lived JSON
/// values made glibc's allocator a fifth of its CPU time (issue #3 profile).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Writes to standard output. A reader that went away (`weir … | head`) ends the program
/// quietly instead of panicking.
fn emit(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|_| out.flush())
        && e.kind() == std::io::ErrorKind::BrokenPipe
    {
        std::process::exit(0);
    }
}

/// Writes to standard error, ignoring a closed stream.
fn emit_err(text: &str) {
    use std::io::Write;
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

macro_rules! outln {
    ($($t:tt)*) => { $crate::emit(&format!("{}\n", format_args!($($t)*))) };
}
macro_rules! out {
    ($($t:tt)*) => { $crate::emit(&format!($($t)*)) };
}
macro_rules! errln {
    ($($t:tt)*) => { $crate::emit_err(&format!("{}\n", format_args!($($t)*))) };
}

// After the output macros, which it uses.
mod mcp;
mod remote;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use serde_json::{Value, json};
use weir_core::catalog::{ActionCatalog, BuiltinCatalog};
use weir_core::diag::Diagnostic;
use weir_core::dryrun::{ApprovalOutcome, WaitOutcome};
use weir_core::{DryRunOptions, Env, Format, Rules, dry_run, format as wformat, validate};

use crate::input::{Failure, read_document, read_payload};

#[derive(Parser)]
#[command(name = "weir", version, about = "Weir workflow engine: write, check and dry-run workflows", long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Output {
    Text,
    Json,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum TriggerArg {
    Manual,
    Schedule,
    Webhook,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DocFormat {
    Json,
    Yaml,
}

impl From<DocFormat> for Format {
    fn from(f: DocFormat) -> Format {
        match f {
            DocFormat::Json => Format::Json,
            DocFormat::Yaml => Format::Yaml,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum Assume {
    Approve,
    Reject,
    Timeout,
}

/// The options of `weir serve`; each also from the environment or the config file.
#[derive(clap::Args, Debug)]
struct ServeArgs {
    /// The address to listen on.
    #[arg(long, env = "WEIR_LISTEN")]
    listen: Option<String>,
    /// The folder of the embedded SQLite database (and the admin key file).
    #[arg(long, env = "WEIR_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// A PostgreSQL URL (postgres://…) instead of the embedded SQLite database.
    #[arg(long, env = "WEIR_DATABASE_URL")]
    database_url: Option<String>,
    /// Requests per second each API key may make (bursts up to twice that); 0 turns the
    /// limit off. Over it, calls answer 429 with Retry-After.
    #[arg(long, env = "WEIR_RATE_LIMIT")]
    rate_limit: Option<u32>,
    /// How long a web UI session lasts, in seconds (default 3600).
    #[arg(long, env = "WEIR_SESSION_TTL")]
    session_ttl: Option<u32>,
    /// Addresses, networks and host names that workflow HTTP actions may reach although they
    /// are loopback, private or link-local, comma-separated, each on every port or on the one it
    /// names: 127.0.0.1:9000,[::1]:9000,10.1.0.0/16,hooks.example.com:8443.
    #[arg(long, env = "WEIR_OUTBOUND_ALLOW")]
    outbound_allow: Option<String>,
    /// How many actions (HTTP calls, emails, scripts…) the node performs at once, at most
    /// (default 1024); beyond it actions wait and workers claim less.
    #[arg(long, env = "WEIR_MAX_IN_FLIGHT_ACTIONS")]
    max_in_flight_actions: Option<u32>,
    /// How many workers claim executions with due work (default 2).
    #[arg(long, env = "WEIR_WORKERS")]
    workers: Option<u32>,
    /// How many executions a worker claims at once, at most (default 16).
    #[arg(long, env = "WEIR_CLAIM_BATCH")]
    claim_batch: Option<u32>,
    /// The largest request body the API takes, in bytes (default 1048576, 1 MiB); larger
    /// ones answer 413 (at once when their Content-Length says so).
    #[arg(long, env = "WEIR_MAX_BODY_BYTES")]
    max_body_bytes: Option<u32>,
    /// Host names (or host:port) the MCP endpoint /mcp answers to, comma-separated. On a
    /// loopback --listen it answers to localhost, 127.0.0.1 and ::1, and these too; on any
    /// other, to every host unless these are given.
    #[arg(long, env = "WEIR_MCP_ALLOWED_HOSTS")]
    mcp_allowed_hosts: Option<String>,
    /// An address to serve Prometheus metrics on (GET /metrics), apart from the API; off
    /// unless given.
    #[arg(long, env = "WEIR_METRICS_LISTEN")]
    metrics_listen: Option<String>,
    /// Label the executions' metrics with their workflow id (a series per workflow).
    #[arg(long, env = "WEIR_METRICS_WORKFLOW_LABELS")]
    metrics_workflow_labels: bool,
    /// How long finished executions (with their steps and events) and sent mail are kept:
    /// a duration like 30d (the default) or 12h, or off. An environment's own setting
    /// (PUT /api/v1/settings/retention) wins over it. Running executions are never deleted.
    #[arg(long, env = "WEIR_RETAIN_EXECUTIONS")]
    retain_executions: Option<String>,
    /// An OpenTelemetry collector's OTLP/HTTP endpoint (http://collector:4318): a trace per
    /// execution, with a span per step attempt and per action call, goes there as JSON.
    #[arg(long, env = "WEIR_OTLP_ENDPOINT")]
    otlp_endpoint: Option<String>,
    /// How long audit records are kept: a duration (default 400d), or off.
    #[arg(long, env = "WEIR_RETAIN_AUDIT")]
    retain_audit: Option<String>,
    /// How much the server logs: off, error, warn, info (default), debug or trace (Weir's own
    /// crates; others log warnings). RUST_LOG, when set, takes tracing's directives instead.
    #[arg(long, env = "WEIR_LOG_LEVEL")]
    log_level: Option<String>,
    /// How log lines are written to standard error: text (default) or json (one object a
    /// line, with the request's or execution's fields).
    #[arg(long, env = "WEIR_LOG_FORMAT", value_enum)]
    log_format: Option<logs::LogFormat>,
    /// An OpenAI-compatible chat endpoint for `POST /api/v1/ai/interpret` in `llm` mode: a
    /// base URL like https://api.openai.com/v1 (its key from WEIR_LLM_API_KEY, never an
    /// option). Requests pass the outbound guard: a local endpoint needs --outbound-allow.
    #[arg(long, env = "WEIR_LLM_URL")]
    llm_url: Option<String>,
    /// The model the LLM endpoint runs (with --llm-url).
    #[arg(long, env = "WEIR_LLM_MODEL")]
    llm_model: Option<String>,
    /// A JSON or YAML file with listen, data_dir, database_url, rate_limit, session_ttl,
    /// outbound_allow, max_in_flight_actions, workers, claim_batch, max_body_bytes,
    /// mcp_allowed_hosts, llm_url, llm_model, log_level, log_format, metrics_listen,
    /// metrics_workflow_labels, retain_executions, retain_audit and otlp_endpoint (options win
    /// over it).
    #[arg(long)]
    config: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the Weir server: the HTTP API and the engine's workers.
    ///
    /// With no options it keeps its data in ./weir-data (SQLite) and listens on 127.0.0.1:8080.
    /// The admin API key is WEIR_ADMIN_KEY when set, else generated on first start and written
    /// to <data-dir>/admin-api-key.
    Serve(ServeArgs),
    /// Copy the embedded SQLite database to a new file while `weir serve` goes on using it
    /// (a consistent snapshot, checked once written). The master key is not in it: keep the
    /// data folder's master-key file (or WEIR_MASTER_KEY) apart, or the secrets in the copy
    /// cannot be opened. On PostgreSQL use pg_dump.
    Backup {
        /// The backup file to write; it must not exist.
        file: PathBuf,
        /// The data folder of the database.
        #[arg(long, env = "WEIR_DATA_DIR", default_value = "weir-data")]
        data_dir: PathBuf,
    },
    /// Bring a database's schema up to this version of weir (weir serve does it at start), or
    /// with --check only say what it lacks: exit 0 when up to date, 1 when migrations are
    /// pending, 2 when the database was migrated by a newer weir or its migrations differ.
    Migrate {
        /// Change nothing: list the pending migrations.
        #[arg(long)]
        check: bool,
        /// The data folder of the embedded database.
        #[arg(long, env = "WEIR_DATA_DIR", default_value = "weir-data")]
        data_dir: PathBuf,
        /// A PostgreSQL URL instead of the embedded database.
        #[arg(long, env = "WEIR_DATABASE_URL")]
        database_url: Option<String>,
    },
    /// Serve Weir's MCP tools over stdio, for an MCP client that starts a command (Claude
    /// Desktop, an editor): each tool call is a call to the server's API with the key, as the
    /// agent the client names itself.
    Mcp {
        #[command(flatten)]
        remote: remote::Remote,
    },
    /// Deploy workflow files to a server: each becomes a workflow, or a new version of it.
    Deploy {
        /// JSON or YAML workflow files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[command(flatten)]
        remote: remote::Remote,
    },
    /// List a server's workflows.
    List {
        /// Only the enabled ones.
        #[arg(long)]
        enabled: bool,
        #[arg(long, short, value_enum, default_value = "text")]
        output: Output,
        #[command(flatten)]
        remote: remote::Remote,
    },
    /// Show a workflow's latest executions; with --tail, follow new ones as they start.
    Logs {
        workflow: String,
        /// Keep printing new executions until interrupted.
        #[arg(long)]
        tail: bool,
        /// How many recent executions to show first.
        #[arg(long, default_value_t = 20)]
        limit: u32,
        /// `json`: one execution per line.
        #[arg(long, short, value_enum, default_value = "text")]
        output: Output,
        #[command(flatten)]
        remote: remote::Remote,
    },
    /// Print when a workflow's schedule triggers fire next: of a workflow file, or of a
    /// workflow on a server (with when each last fired).
    Schedule {
        /// A workflow file (JSON or YAML), or the id of a workflow on the server.
        workflow: String,
        /// How many fire times to print.
        #[arg(long, short = 'n', default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=100))]
        count: u32,
        /// List fires after this time (RFC 3339). Default: now.
        #[arg(long)]
        after: Option<String>,
        /// Output format.
        #[arg(long, short, value_enum, default_value_t = Output::Text)]
        output: Output,
        #[command(flatten)]
        remote: remote::Remote,
    },
    /// Print the URL of a workflow's webhook trigger on a server.
    HookUrl {
        workflow: String,
        #[command(flatten)]
        remote: remote::Remote,
    },
    /// List a workflow's versions, or make one current (a rollback).
    Version {
        workflow: String,
        /// A version number, or the `version` a definition declares (like 2.0.0).
        version: Option<String>,
        #[arg(long, short, value_enum, default_value = "text")]
        output: Output,
        #[command(flatten)]
        remote: remote::Remote,
    },
    /// List a server's executions, newest first.
    Executions {
        /// Only this workflow's.
        #[arg(long)]
        workflow: Option<String>,
        /// Only those in this status (running, waiting, completed, failed, cancelled).
        #[arg(long)]
        status: Option<String>,
        #[arg(long, default_value_t = 20)]
        limit: u32,
        #[arg(long, short, value_enum, default_value = "text")]
        output: Output,
        #[command(flatten)]
        remote: remote::Remote,
    },
    /// List a server's approvals, newest first.
    Approvals {
        /// Only those in this status (pending, approved, rejected, expired, withdrawn).
        #[arg(long)]
        status: Option<String>,
        #[arg(long, default_value_t = 20)]
        limit: u32,
        #[arg(long, short, value_enum, default_value = "text")]
        output: Output,
        #[command(flatten)]
        remote: remote::Remote,
    },
    /// Show one execution: `show` its state and steps, `trace` its timeline.
    Execution {
        #[command(subcommand)]
        what: ExecutionCommand,
    },
    /// Approve a pending approval.
    Approve {
        /// The approval's id, or ENTITY:ID (`order:ord_1`) for the pending approval of that
        /// entity.
        id: String,
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        remote: remote::Remote,
    },
    /// Reject a pending approval.
    Reject {
        /// The approval's id, or ENTITY:ID (`order:ord_1`) for the pending approval of that
        /// entity.
        id: String,
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        remote: remote::Remote,
    },
    /// Send an event to a server; prints the decision and the executions it started.
    Emit {
        /// The event type, like order.checkout.initiated.
        event: String,
        /// The payload: JSON text, @FILE, or @- for standard input.
        #[arg(long, default_value = "{}")]
        payload: String,
        #[arg(long)]
        idempotency_key: Option<String>,
        #[arg(long, short, value_enum, default_value = "text")]
        output: Output,
        #[command(flatten)]
        remote: remote::Remote,
    },
    /// Deploy a starter workflow from a template to a server.
    Create {
        /// The template (see `weir templates`).
        #[arg(long)]
        template: String,
        /// The workflow's name (its id is made from it); the template's name by default.
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        remote: remote::Remote,
    },
    /// Check workflow files; print every problem with its JSON path.
    ///
    /// Exits 0 when every file is valid (warnings allowed), 1 otherwise.
    Validate {
        /// Workflow files (JSON or YAML).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Output format.
        #[arg(long, short, value_enum, default_value_t = Output::Text)]
        output: Output,
        /// A file of reusable rules that `{"rule": ID}` conditions may refer to.
        #[arg(long)]
        rules: Option<PathBuf>,
        /// Treat warnings as errors.
        #[arg(long)]
        strict: bool,
    },
    /// Dry-run a workflow against one event: show the path taken, without performing actions.
    Test(TestArgs),
    /// Write a starter workflow file from a template.
    Init {
        /// The workflow's name; the file is NAME.json (or .yaml).
        name: String,
        /// The template to start from (see `weir templates`).
        #[arg(long, short, default_value = "order-approval")]
        template: String,
        /// The file format to write.
        #[arg(long, value_enum, default_value_t = DocFormat::Json)]
        format: DocFormat,
        /// The directory to write into.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
    /// List the starter templates shipped with weir.
    Templates {
        /// Output format: names and first sentences, or JSON with the whole description.
        #[arg(long, short, value_enum, default_value_t = Output::Text)]
        output: Output,
    },
    /// List the action types workflows can use, with their config schemas.
    Actions {
        /// Output format: names and descriptions, or JSON with each config schema.
        #[arg(long, short, value_enum, default_value_t = Output::Text)]
        output: Output,
    },
    /// Print the API's OpenAPI 3.1 document (the one `weir serve` serves at
    /// /api/v1/openapi.json), for client generators.
    Openapi,
    /// Rewrite workflow files in canonical form (key order, indentation). YAML comments are lost.
    Fmt {
        /// Workflow files (JSON or YAML; each keeps its format).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Do not write; exit 1 if a file is not canonical.
        #[arg(long, conflicts_with = "stdout")]
        check: bool,
        /// Print the formatted document instead of rewriting the file.
        #[arg(long)]
        stdout: bool,
    },
    /// Convert a workflow between JSON and YAML.
    Convert {
        /// The workflow file to convert.
        file: PathBuf,
        /// The format to convert to.
        #[arg(long, value_enum)]
        to: DocFormat,
        /// Write here instead of standard output.
        #[arg(long, short = 'O')]
        out: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => cmd_serve(args),
        Command::Mcp { remote } => mcp::serve(&remote),
        Command::Validate {
            files,
            output,
            rules,
            strict,
        } => cmd_validate(&files, output, rules.as_deref(), strict),
        Command::Test(args) => cmd_test(args),
        Command::Init {
            name,
            template,
            format,
            dir,
            force,
        } => cmd_init(&name, &template, format.into(), &dir, force),
        Command::Templates { output } => cmd_templates(output),
        Command::Actions { output } => cmd_actions(output),
        Command::Backup { file, data_dir } => cmd_backup(&file, &data_dir),
        Command::Migrate {
            check,
            data_dir,
            database_url,
        } => cmd_migrate(check, &data_dir, database_url.as_deref()),
        Command::Openapi => {
            print_json(&weir_server::document());
            Ok(ExitCode::SUCCESS)
        }
        Command::Fmt {
            files,
            check,
            stdout,
        } => cmd_fmt(&files, check, stdout),
        Command::Convert { file, to, out } => cmd_convert(&file, to.into(), out.as_deref()),
        Command::Deploy { files, remote } => remote_cmd(&remote, |c| remote::deploy(c, &files)),
        Command::List {
            enabled,
            output,
            remote,
        } => remote_cmd(&remote, |c| {
            remote::list(c, enabled, output == Output::Json)
        }),
        Command::Logs {
            workflow,
            tail,
            limit,
            output,
            remote,
        } => remote_cmd(&remote, |c| {
            remote::logs(c, &workflow, tail, limit, output == Output::Json)
        }),
        Command::Schedule {
            workflow,
            count,
            after,
            output,
            remote,
        } => cmd_schedule(&workflow, count as usize, after.as_deref(), output, &remote),
        Command::HookUrl { workflow, remote } => {
            remote_cmd(&remote, |c| remote::hook_url(c, &workflow))
        }
        Command::Version {
            workflow,
            version,
            output,
            remote,
        } => remote_cmd(&remote, |c| {
            remote::version(c, &workflow, version.as_deref(), output == Output::Json)
        }),
        Command::Executions {
            workflow,
            status,
            limit,
            output,
            remote,
        } => remote_cmd(&remote, |c| {
            remote::executions(
                c,
                workflow.as_deref(),
                status.as_deref(),
                limit,
                output == Output::Json,
            )
        }),
        Command::Approvals {
            status,
            limit,
            output,
            remote,
        } => remote_cmd(&remote, |c| {
            remote::approvals(c, status.as_deref(), limit, output == Output::Json)
        }),
        Command::Execution {
            what: ExecutionCommand::Show { id, output, remote },
        } => remote_cmd(&remote, |c| {
            remote::execution_show(c, &id, output == Output::Json)
        }),
        Command::Execution {
            what: ExecutionCommand::Trace { id, output, remote },
        } => remote_cmd(&remote, |c| {
            remote::execution_trace(c, &id, output == Output::Json)
        }),
        Command::Approve { id, reason, remote } => {
            remote_cmd(&remote, |c| remote::decide(c, &id, true, reason.as_deref()))
        }
        Command::Reject { id, reason, remote } => remote_cmd(&remote, |c| {
            remote::decide(c, &id, false, reason.as_deref())
        }),
        Command::Emit {
            event,
            payload,
            idempotency_key,
            output,
            remote,
        } => remote_cmd(&remote, |c| {
            let payload = read_payload(&payload, "--payload")?;
            remote::emit(
                c,
                &event,
                &payload,
                idempotency_key.as_deref(),
                output == Output::Json,
            )
        }),
        Command::Create {
            template,
            name,
            remote,
        } => remote_cmd(&remote, |c| remote::create(c, &template, name.as_deref())),
    };
    match result {
        Ok(code) => code,
        // A message can quote what a server or a file said: no control character of it
        // reaches the terminal.
        Err(Failure::Usage(msg)) => {
            errln!("error: {}", input::sanitize(&msg));
            ExitCode::from(2)
        }
        Err(Failure::Check(msg)) => {
            errln!("error: {}", input::sanitize(&msg));
            ExitCode::from(1)
        }
    }
}

type CmdResult = Result<ExitCode, Failure>;

/// Runs a command against a server.
/// A time option (RFC 3339), or now when it is not given.
fn time_arg(flag: &str, value: Option<&str>) -> Result<chrono::DateTime<chrono::Utc>, Failure> {
    match value {
        Some(t) => chrono::DateTime::parse_from_rfc3339(t)
            .map(|t| t.with_timezone(&chrono::Utc))
            .map_err(|e| Failure::Usage(format!("{flag} '{t}' is not an RFC 3339 time: {e}"))),
        None => Ok(chrono::Utc::now()),
    }
}

fn cmd_schedule(
    workflow: &str,
    count: usize,
    after: Option<&str>,
    output: Output,
    remote: &remote::Remote,
) -> CmdResult {
    let after_time = time_arg("--after", after)?;
    let file = std::path::Path::new(workflow);
    let shown = if file.is_file() {
        let wf = valid_workflow(file, &Rules::default())?;
        let schedules: Vec<serde_json::Value> = wf
            .triggers
            .iter()
            .enumerate()
            .filter_map(|(i, t)| match &t.kind {
                weir_core::model::TriggerKind::Schedule(s) => {
                    Some(s.describe(i, after_time, count))
                }
                _ => None,
            })
            .collect();
        if schedules.is_empty() {
            return Err(Failure::Check(format!(
                "{workflow} has no schedule trigger"
            )));
        }
        serde_json::json!({ "workflow_id": wf.id, "schedules": schedules })
    } else {
        let client = remote::Client::new(remote)?;
        client.call(
            "GET",
            &format!(
                "/api/v1/workflows/{}/schedule?count={count}&after={}",
                remote::enc(workflow),
                remote::enc(&after_time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
            ),
            None,
        )?
    };
    if output == Output::Json {
        print_json(&shown);
    } else {
        remote::print_schedule(&shown);
    }
    Ok(ExitCode::SUCCESS)
}

fn remote_cmd(
    remote: &remote::Remote,
    run: impl FnOnce(&remote::Client) -> Result<(), Failure>,
) -> CmdResult {
    let client = remote::Client::new(remote)?;
    run(&client)?;
    Ok(ExitCode::SUCCESS)
}

fn cmd_backup(file: &std::path::Path, data_dir: &std::path::Path) -> CmdResult {
    if std::env::var("WEIR_DATABASE_URL").is_ok_and(|u| !u.is_empty()) {
        return Err(Failure::Usage(
            "weir backup copies the embedded SQLite database; back PostgreSQL up with pg_dump"
                .into(),
        ));
    }
    let size = weir_store::backup_sqlite(&data_dir.join("weir.db"), file)
        .map_err(|e| Failure::Usage(e.to_string()))?;
    println!(
        "backed up {} to {} ({:.1} MB)",
        data_dir.join("weir.db").display(),
        file.display(),
        size as f64 / 1e6
    );
    println!(
        "the master key is not in it: keep {} (or WEIR_MASTER_KEY) apart",
        data_dir.join("master-key").display()
    );
    Ok(ExitCode::SUCCESS)
}

fn cmd_migrate(check: bool, data_dir: &std::path::Path, database_url: Option<&str>) -> CmdResult {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Usage(format!("cannot start the runtime: {e}")))?;
    let db = data_dir.join("weir.db");
    let url = match database_url.filter(|u| !u.is_empty()) {
        Some(url) => url.to_owned(),
        None if db.is_file() => format!("sqlite://{}?mode=rw", db.display()),
        None => {
            return Err(Failure::Usage(format!(
                "there is no database at {}",
                db.display()
            )));
        }
    };
    let status = runtime
        .block_on(weir_store::migration_status(&url))
        .map_err(|e| Failure::Usage(e.to_string()))?;
    if !status.unknown.is_empty() {
        return Err(Failure::Usage(format!(
            "the database has migrations this weir does not know ({}): a newer weir migrated it; run that version or restore a backup",
            list(&status.unknown)
        )));
    }
    if !status.modified.is_empty() {
        return Err(Failure::Usage(format!(
            "migrations {} of the database differ from this weir's (or failed half-way); restore a backup",
            list(&status.modified)
        )));
    }
    if status.pending.is_empty() {
        println!("the database is up to date (migration {})", status.latest);
        return Ok(ExitCode::SUCCESS);
    }
    let pending: Vec<String> = status
        .pending
        .iter()
        .map(|(v, d)| format!("{v} {d}"))
        .collect();
    if check {
        println!(
            "{} migration(s) pending: {}",
            pending.len(),
            pending.join(", ")
        );
        return Ok(ExitCode::from(1));
    }
    // The embedded database is one process's at a time: not under a running server.
    let _lock = match database_url {
        Some(_) => None,
        None => Some(weir_server::lock_data_dir(data_dir).map_err(Failure::Usage)?),
    };
    runtime
        .block_on(weir_store::SqlStore::connect(&url))
        .map_err(|e| Failure::Usage(format!("cannot migrate the database: {e}")))?;
    println!("applied {}", pending.join(", "));
    Ok(ExitCode::SUCCESS)
}

fn list(versions: &[i64]) -> String {
    versions
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn cmd_serve(args: ServeArgs) -> CmdResult {
    let ServeArgs {
        listen,
        data_dir,
        database_url,
        rate_limit,
        session_ttl,
        outbound_allow,
        max_in_flight_actions,
        workers,
        claim_batch,
        max_body_bytes,
        mcp_allowed_hosts,
        llm_url,
        llm_model,
        log_level,
        log_format,
        metrics_listen,
        metrics_workflow_labels,
        retain_executions,
        retain_audit,
        otlp_endpoint,
        config,
    } = args;
    let file = match config.as_deref() {
        Some(path) => match read_document(path)? {
            Ok(Value::Object(map)) => {
                for k in map.keys() {
                    if !matches!(
                        k.as_str(),
                        "listen"
                            | "data_dir"
                            | "database_url"
                            | "rate_limit"
                            | "session_ttl"
                            | "outbound_allow"
                            | "max_in_flight_actions"
                            | "workers"
                            | "claim_batch"
                            | "max_body_bytes"
                            | "mcp_allowed_hosts"
                            | "llm_url"
                            | "llm_model"
                            | "log_level"
                            | "log_format"
                            | "metrics_listen"
                            | "metrics_workflow_labels"
                            | "retain_executions"
                            | "retain_audit"
                            | "otlp_endpoint"
                    ) {
                        return Err(Failure::Usage(format!(
                            "{}: unknown setting '{k}' (known: listen, data_dir, database_url, rate_limit, session_ttl, outbound_allow, max_in_flight_actions, workers, claim_batch, max_body_bytes, mcp_allowed_hosts, llm_url, llm_model, log_level, log_format, metrics_listen, metrics_workflow_labels, retain_executions, retain_audit, otlp_endpoint)",
                            path.display()
                        )));
                    }
                }
                map
            }
            Ok(_) => {
                return Err(Failure::Usage(format!(
                    "{}: a config file is an object",
                    path.display()
                )));
            }
            Err(d) => return Err(Failure::Usage(format!("{}: {}", path.display(), d.message))),
        },
        None => serde_json::Map::new(),
    };
    let setting = |v: Option<String>, key: &str| {
        v.or_else(|| file.get(key).and_then(Value::as_str).map(str::to_owned))
    };
    let listen = setting(listen, "listen").unwrap_or_else(|| "127.0.0.1:8080".to_owned());
    let listen: std::net::SocketAddr = listen.parse().map_err(|_| {
        Failure::Usage(format!(
            "--listen '{listen}' is not an address like 127.0.0.1:8080"
        ))
    })?;
    let data_dir = data_dir
        .or_else(|| {
            file.get("data_dir")
                .and_then(Value::as_str)
                .map(PathBuf::from)
        })
        .unwrap_or_else(|| PathBuf::from("weir-data"));
    let database_url = setting(database_url, "database_url");
    let mcp_allowed_hosts: Vec<String> = setting(mcp_allowed_hosts, "mcp_allowed_hosts")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .map(str::to_owned)
        .collect();
    let outbound_allow = setting(outbound_allow, "outbound_allow").unwrap_or_default();
    weir_actions::AllowList::parse(&outbound_allow)
        .map_err(|e| Failure::Usage(format!("outbound_allow: {e}")))?;
    let number = |given: Option<u32>, key: &str, default: u32, what: &str| match given {
        Some(n) => Ok(n),
        None => match file.get(key) {
            None => Ok(default),
            Some(v) => v
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| Failure::Usage(format!("{key} is a whole number of {what}"))),
        },
    };
    let rate_limit = number(
        rate_limit,
        "rate_limit",
        weir_server::DEFAULT_RATE_LIMIT,
        "requests per second",
    )?;
    let session_ttl = number(
        session_ttl,
        "session_ttl",
        weir_server::DEFAULT_SESSION_TTL,
        "seconds",
    )?;
    if !(1..=7 * 24 * 3600).contains(&session_ttl) {
        return Err(Failure::Usage(
            "session_ttl is a number of seconds from 1 to 604800 (a week)".into(),
        ));
    }
    let within = |n: u32, key: &str, range: std::ops::RangeInclusive<u32>| {
        if range.contains(&n) {
            Ok(n)
        } else {
            Err(Failure::Usage(format!(
                "{key} is a whole number from {} to {}",
                range.start(),
                range.end()
            )))
        }
    };
    let default_in_flight = u32::try_from(weir_server::DEFAULT_MAX_IN_FLIGHT).unwrap_or(1024);
    let max_in_flight_actions = within(
        number(
            max_in_flight_actions,
            "max_in_flight_actions",
            default_in_flight,
            "actions",
        )?,
        "max_in_flight_actions",
        1..=1_000_000,
    )?;
    let workers = within(
        number(workers, "workers", 2, "workers")?,
        "workers",
        1..=256,
    )?;
    let claim_batch = within(
        number(claim_batch, "claim_batch", 16, "executions")?,
        "claim_batch",
        1..=1000,
    )?;
    let default_body = u32::try_from(weir_server::DEFAULT_MAX_BODY_BYTES).unwrap_or(u32::MAX);
    let max_body_bytes = within(
        number(max_body_bytes, "max_body_bytes", default_body, "bytes")?,
        "max_body_bytes",
        1024..=64 * 1024 * 1024,
    )?;
    let admin_key = std::env::var("WEIR_ADMIN_KEY")
        .ok()
        .filter(|k| !k.is_empty());
    // Like the admin key, only from the environment: never on a command line or in a file
    // that could be shared.
    let master_key = std::env::var("WEIR_MASTER_KEY")
        .ok()
        .filter(|k| !k.is_empty());
    // The SMTP URL can hold a password: from the environment only, and never printed.
    let smtp_url = std::env::var("WEIR_SMTP_URL")
        .ok()
        .filter(|k| !k.is_empty());
    let smtp_from = std::env::var("WEIR_SMTP_FROM")
        .ok()
        .filter(|k| !k.is_empty());
    // How long a node's claim on an execution lasts; another node takes over after it. Tests
    // of several nodes shorten it.
    let lease_ms = match std::env::var("WEIR_LEASE_MS") {
        Ok(v) => v
            .parse::<i64>()
            .ok()
            .filter(|ms| (100..=3_600_000).contains(ms))
            .ok_or_else(|| {
                Failure::Usage(format!(
                    "WEIR_LEASE_MS '{v}' is not a number of milliseconds from 100 to 3600000"
                ))
            })?,
        Err(_) => 30_000,
    };
    // How often alerts are evaluated; tests shorten it.
    let alert_interval = match std::env::var("WEIR_ALERT_INTERVAL_MS") {
        Ok(v) => std::time::Duration::from_millis(
            v.parse::<u64>()
                .ok()
                .filter(|ms| (100..=3_600_000).contains(ms))
                .ok_or_else(|| {
                    Failure::Usage(format!(
                        "WEIR_ALERT_INTERVAL_MS '{v}' is not a number of milliseconds from 100 to 3600000"
                    ))
                })?,
        ),
        Err(_) => weir_server::DEFAULT_ALERT_INTERVAL,
    };
    let metrics_listen = match setting(metrics_listen, "metrics_listen") {
        Some(text) => Some(text.parse::<std::net::SocketAddr>().map_err(|_| {
            Failure::Usage(format!(
                "metrics_listen '{text}' is not an address like 127.0.0.1:9090"
            ))
        })?),
        None => None,
    };
    let metrics_workflow_labels = metrics_workflow_labels
        || file
            .get("metrics_workflow_labels")
            .and_then(Value::as_bool)
            .unwrap_or(false);
    let mut retention = weir_server::Retention::default();
    if let Some(text) = setting(retain_executions, "retain_executions") {
        retention.executions =
            weir_server::parse_retention(&text, "retain_executions").map_err(Failure::Usage)?;
    }
    if let Some(text) = setting(retain_audit, "retain_audit") {
        retention.audit =
            weir_server::parse_retention(&text, "retain_audit").map_err(Failure::Usage)?;
    }
    let log_format = match log_format {
        Some(f) => f,
        None => match setting(None, "log_format") {
            Some(text) => logs::LogFormat::parse(&text).map_err(Failure::Usage)?,
            None => logs::LogFormat::Text,
        },
    };
    let log_level = setting(log_level, "log_level").unwrap_or_else(|| "info".to_owned());
    logs::init(&log_level, log_format).map_err(Failure::Usage)?;
    // The key, like the master key, only from the environment; never printed.
    let llm_api_key = std::env::var("WEIR_LLM_API_KEY")
        .ok()
        .filter(|k| !k.is_empty());
    let llm = weir_server::LlmConfig::from_settings(
        setting(llm_url, "llm_url").filter(|u| !u.is_empty()),
        setting(llm_model, "llm_model").filter(|m| !m.is_empty()),
        llm_api_key,
    )
    .map_err(Failure::Usage)?;
    let config = weir_server::ServeConfig {
        listen,
        data_dir,
        database_url,
        admin_key,
        master_key,
        smtp_url,
        smtp_from,
        lease_ms,
        rate_limit,
        session_ttl,
        outbound_allow,
        max_in_flight_actions: max_in_flight_actions as usize,
        workers: workers as usize,
        claim_batch: i64::from(claim_batch),
        max_body_bytes: max_body_bytes as usize,
        mcp_allowed_hosts,
        llm,
        metrics_listen,
        metrics_workflow_labels,
        retention,
        alert_interval,
        otlp_endpoint: setting(otlp_endpoint, "otlp_endpoint").filter(|e| !e.is_empty()),
    };
    // mimalloc asks for transparent huge pages for its segments: a server holding thousands
    // of parked runs and connections, each a few kilobytes spread over many segments, then
    // holds a fifth more memory (10,000 calls in flight: 664 MB instead of 524 MB) for no
    // gain in speed. The flag is the whole process's, so it covers a kernel that gives huge
    // pages unasked too. Failing to set it changes nothing but memory.
    #[cfg(target_os = "linux")]
    let _ = nix::sys::prctl::set_thp_disable(true);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Usage(format!("cannot start the runtime: {e}")))?;
    runtime
        .block_on(weir_server::serve(config))
        .map_err(Failure::Usage)?;
    Ok(ExitCode::SUCCESS)
}

fn load_rules(
    path: Option<&std::path::Path>,
    catalog: &dyn ActionCatalog,
) -> Result<Rules, Failure> {
    let Some(path) = path else {
        return Ok(Rules::default());
    };
    let value = read_document(path)?
        .map_err(|d| Failure::Check(format!("{}: {}", path.display(), d.message)))?;
    let (rules, diags) = validate::read_rules(&value, catalog);
    let errors: Vec<&Diagnostic> = diags.iter().filter(|d| d.is_error()).collect();
    if !errors.is_empty() {
        let name = path.display().to_string();
        for d in &errors {
            print_diagnostic(&name, d, std::io::stderr().is_terminal());
        }
        return Err(Failure::Check(format!(
            "{name} has {} error(s)",
            errors.len()
        )));
    }
    Ok(rules)
}

fn color(enabled: bool, code: &str, text: &str) -> String {
    if enabled {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_owned()
    }
}

pub(crate) fn print_diagnostic(file: &str, d: &Diagnostic, tty: bool) {
    let level = if d.is_error() {
        color(tty, "31;1", "error")
    } else {
        color(tty, "33;1", "warning")
    };
    let (path, message) = (input::sanitize(&d.path), input::sanitize(&d.message));
    errln!(
        "{}: {level}[{}] {path}: {message}",
        input::sanitize(file),
        d.code
    );
}

fn cmd_validate(
    files: &[PathBuf],
    output: Output,
    rules: Option<&std::path::Path>,
    strict: bool,
) -> CmdResult {
    let catalog = BuiltinCatalog::new();
    let rules = load_rules(rules, &catalog)?;
    let tty = std::io::stderr().is_terminal();
    let mut all_ok = true;
    let mut reports = Vec::new();
    let mut unreadable = false;
    for file in files {
        let name = file.display().to_string();
        // One unreadable file is reported like any other problem; the rest are still checked.
        let diagnostics = match read_document(file) {
            Ok(Ok(value)) => validate::validate_value(&value, &catalog, &rules).diagnostics,
            Ok(Err(d)) => vec![d],
            Err(Failure::Usage(msg) | Failure::Check(msg)) => {
                unreadable = true;
                vec![Diagnostic::new(weir_core::diag::Code::Syntax, "$", msg)]
            }
        };
        let errors = diagnostics.iter().filter(|d| d.is_error()).count();
        let warnings = diagnostics.len() - errors;
        let ok = errors == 0 && !(strict && warnings > 0);
        all_ok &= ok;
        if output == Output::Text {
            for d in &diagnostics {
                print_diagnostic(&name, d, tty);
            }
            let verdict = if ok {
                color(tty, "32", "valid")
            } else {
                color(tty, "31", "invalid")
            };
            outln!("{name}: {verdict} ({errors} error(s), {warnings} warning(s))");
        }
        reports.push(json!({ "file": name, "valid": ok, "errors": errors, "warnings": warnings, "diagnostics": diagnostics }));
    }
    if output == Output::Json {
        print_json(&json!({ "valid": all_ok, "files": reports }));
    }
    if unreadable {
        // A file that cannot be read is a usage error, after the others were checked.
        return Ok(ExitCode::from(2));
    }
    Ok(if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

#[derive(clap::Args)]
struct TestArgs {
    /// The workflow file (JSON or YAML).
    file: PathBuf,
    /// The event type, e.g. order.checkout.initiated. Without it, the run starts manually.
    #[arg(long, conflicts_with = "trigger")]
    event: Option<String>,
    /// Start the run as this kind of trigger would: `schedule` (at its next fire after
    /// --now, with the schedule's payload) or `webhook` (with --payload as the delivery,
    /// checked against the webhook's schema).
    #[arg(long, value_enum)]
    trigger: Option<TriggerArg>,
    /// The event payload: inline JSON, @FILE, or @- for standard input.
    #[arg(long, default_value = "{}")]
    payload: String,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = Output::Text)]
    output: Output,
    /// Assume this outcome for approval steps instead of stopping there.
    #[arg(long, value_enum)]
    approval: Option<Assume>,
    /// Assume wait steps time out instead of stopping there.
    #[arg(long, conflicts_with = "wait_event")]
    wait_timeout: bool,
    /// Assume the awaited event arrives with this payload (inline JSON, @FILE or @-).
    #[arg(long)]
    wait_event: Option<String>,
    /// The time the run happens at (RFC 3339), for date conditions and {{now}}. Default: now.
    #[arg(long)]
    now: Option<String>,
    /// A secret for {{secrets.NAME}}, as NAME=VALUE. Secrets are redacted in the output.
    #[arg(long = "secret", value_name = "NAME=VALUE")]
    secrets: Vec<String>,
    /// A file of reusable rules that `{"rule": ID}` conditions may refer to.
    #[arg(long)]
    rules: Option<PathBuf>,
    /// The event's source, for triggers with a `source` filter.
    #[arg(long, requires = "event")]
    source: Option<String>,
    /// The result of an action step, as STEP_ID=JSON or STEP_ID=@FILE (repeatable), in place of
    /// the default result of its action type.
    #[arg(long = "mock", value_name = "STEP_ID=JSON")]
    mocks: Vec<String>,
    /// An action step whose every attempt fails, as STEP_ID=CLASS (repeatable); CLASS is
    /// timeout, 5xx, 4xx, 429, network, rate_limit or invalid (4xx and invalid are not retried).
    #[arg(long = "fail", value_name = "STEP_ID=CLASS")]
    failures: Vec<String>,
    /// A workflow that subworkflow steps may start (repeatable): their child runs are dry-run
    /// too, instead of answering an assumed result.
    #[arg(long = "subworkflow", value_name = "FILE")]
    subworkflows: Vec<PathBuf>,
    /// Dry-run every case of a case file (a JSON or YAML list of {"name", "event", "payload",
    /// "approval", "wait", "mocks", "fail", "expect": {"matched", "decision", "status",
    /// "steps"}}, like examples/*.events.json) and compare with what each expects: exit 1 when
    /// one differs.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["event", "trigger", "payload", "approval", "wait_timeout", "wait_event", "source", "mocks", "failures"])]
    cases: Option<PathBuf>,
}

#[derive(Subcommand)]
enum ExecutionCommand {
    /// Its status, decision, error and every step record.
    Show {
        id: String,
        #[arg(long, short, value_enum, default_value = "text")]
        output: Output,
        #[command(flatten)]
        remote: remote::Remote,
    },
    /// Its timeline: the start, every step attempt with what it compared or sent, the end.
    Trace {
        id: String,
        #[arg(long, short, value_enum, default_value = "text")]
        output: Output,
        #[command(flatten)]
        remote: remote::Remote,
    },
}

/// Checks that `--FLAG ID=…` names an action step of the workflow (or a decision step that
/// executes actions).
fn action_step(workflow: &weir_core::Workflow, flag: &str, id: &str) -> Result<(), Failure> {
    weir_core::dryrun::check_assumed_step(workflow, id).map_err(|e| {
        Failure::Usage(format!(
            "--{flag} {}: {}",
            input::sanitize(id),
            input::sanitize(&e)
        ))
    })
}

/// Reads `--fail STEP_ID=CLASS` arguments: each names an action step once, with an error class.
fn read_failures(
    args: &[String],
    workflow: &weir_core::Workflow,
    mocks: &std::collections::BTreeMap<String, Value>,
) -> Result<std::collections::BTreeMap<String, String>, Failure> {
    let classes = weir_core::dryrun::failure_classes();
    let mut failures = std::collections::BTreeMap::new();
    for arg in args {
        let Some((id, class)) = arg.split_once('=') else {
            return Err(Failure::Usage(format!(
                "--fail '{}' has no '=': give STEP_ID=CLASS, CLASS one of {}",
                input::sanitize(arg),
                classes.join(", ")
            )));
        };
        let (id, class) = (id.trim(), class.trim());
        let shown = input::sanitize(id);
        action_step(workflow, "fail", id)?;
        if !classes.contains(&class) {
            return Err(Failure::Usage(format!(
                "--fail {shown}: '{}' is not an error class; give one of {}",
                input::sanitize(class),
                classes.join(", ")
            )));
        }
        if mocks.contains_key(id) {
            return Err(Failure::Usage(format!(
                "step '{shown}' has both --mock and --fail: give one"
            )));
        }
        if failures.insert(id.to_owned(), class.to_owned()).is_some() {
            return Err(Failure::Usage(format!("--fail {shown} is given twice")));
        }
    }
    Ok(failures)
}

/// Reads `--mock STEP_ID=JSON` (or `STEP_ID=@FILE`) arguments: each names an action step of the
/// workflow (or a decision step that executes actions) once, with a JSON value.
fn read_mocks(
    args: &[String],
    workflow: &weir_core::Workflow,
) -> Result<std::collections::BTreeMap<String, Value>, Failure> {
    let mut mocks = std::collections::BTreeMap::new();
    for arg in args {
        let Some((id, text)) = arg.split_once('=') else {
            return Err(Failure::Usage(format!(
                "--mock '{}' has no '=': give STEP_ID=JSON or STEP_ID=@FILE",
                input::sanitize(arg)
            )));
        };
        let id = id.trim();
        let shown = input::sanitize(id);
        action_step(workflow, "mock", id)?;
        let (bytes, what) = match text.strip_prefix('@') {
            Some(path) => (
                input::read_bytes(std::path::Path::new(path)).map_err(|e| match e {
                    Failure::Usage(m) | Failure::Check(m) => {
                        Failure::Usage(format!("--mock {shown}: {m}"))
                    }
                })?,
                format!("--mock {shown}: {}", input::sanitize(path)),
            ),
            None => (text.as_bytes().to_vec(), format!("--mock {shown}")),
        };
        let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
            Failure::Usage(format!(
                "{what}: invalid JSON: {e} (a mock is a JSON value, like {{\"status\": 200}})"
            ))
        })?;
        if mocks.insert(id.to_owned(), value).is_some() {
            return Err(Failure::Usage(format!("--mock {shown} is given twice")));
        }
    }
    Ok(mocks)
}

/// Reads and validates a workflow file for a command that runs it; its diagnostics go to
/// stderr, and an invalid file is a failure.
fn valid_workflow(file: &std::path::Path, rules: &Rules) -> Result<weir_core::Workflow, Failure> {
    let catalog = BuiltinCatalog::new();
    let name = file.display().to_string();
    let value = match read_document(file)? {
        Ok(v) => v,
        Err(d) => {
            print_diagnostic(&name, &d, std::io::stderr().is_terminal());
            return Err(Failure::Check(format!(
                "{name} does not read as a workflow"
            )));
        }
    };
    let validated = validate::validate_value(&value, &catalog, rules);
    for d in validated.warnings() {
        print_diagnostic(&name, d, std::io::stderr().is_terminal());
    }
    validated.into_valid().map_err(|errors| {
        for d in &errors {
            print_diagnostic(&name, d, std::io::stderr().is_terminal());
        }
        Failure::Check(format!(
            "{name} is not valid ({} error(s)); fix it before testing",
            errors.len()
        ))
    })
}

fn cmd_test(a: TestArgs) -> CmdResult {
    let catalog = BuiltinCatalog::new();
    let mut rules = load_rules(a.rules.as_deref(), &catalog)?;
    let workflow = valid_workflow(&a.file, &rules)?;
    for r in &workflow.rules {
        rules.insert(r.clone());
    }
    let mut payload = read_payload(&a.payload, "--payload")?;
    let mut now = time_arg("--now", a.now.as_deref())?;
    // A scheduled run happens at the schedule's next fire, with the schedule's payload.
    let mut fire_note = None;
    if a.trigger == Some(TriggerArg::Schedule) {
        let schedule = workflow.triggers.iter().find_map(|t| match &t.kind {
            weir_core::model::TriggerKind::Schedule(s) => Some(s),
            _ => None,
        });
        if let Some(schedule) = schedule {
            let fire = schedule.plan.next_after(now).ok_or_else(|| {
                Failure::Check(format!(
                    "the schedule '{}' does not fire after {now}",
                    schedule.cron
                ))
            })?;
            payload = schedule.fire_payload(fire, false);
            fire_note = Some(format!(
                "the schedule '{}' fires next at {}; the run is tested as of then",
                schedule.cron,
                fire.with_timezone(&schedule.plan.timezone()).to_rfc3339()
            ));
            now = fire;
        }
    }
    let mut secret_map = std::collections::HashMap::new();
    for s in &a.secrets {
        let (k, v) = s.split_once('=').ok_or_else(|| {
            // The argument may be the secret itself: never echo it.
            Failure::Usage("--secret takes NAME=VALUE (an argument had no '=')".to_owned())
        })?;
        secret_map.insert(k.to_owned(), v.to_owned());
    }
    let secret_fn = |name: &str| secret_map.get(name).cloned();
    let id_fn = || uuid::Uuid::now_v7().to_string();
    let env = Env {
        now,
        secrets: &secret_fn,
        ids: &id_fn,
        rules: &rules,
    };
    let workflows: std::collections::BTreeMap<_, _> = a
        .subworkflows
        .iter()
        .map(|f| valid_workflow(f, &rules).map(|w| (w.id.clone(), w)))
        .collect::<Result<_, _>>()?;
    if let Some(path) = &a.cases {
        return test_cases(&workflow, path, &env, &workflows, a.output);
    }
    let wait = match (&a.wait_event, a.wait_timeout) {
        (Some(p), _) => Some(WaitOutcome::Event(read_payload(p, "--wait-event")?)),
        (None, true) => Some(WaitOutcome::Timeout),
        (None, false) => None,
    };
    let mocks = read_mocks(&a.mocks, &workflow)?;
    let opts = DryRunOptions {
        event: a.event.clone(),
        trigger: a.trigger.map(|t| {
            match t {
                TriggerArg::Manual => "manual",
                TriggerArg::Schedule => "schedule",
                TriggerArg::Webhook => "webhook",
            }
            .to_owned()
        }),
        approval: a.approval.map(|x| match x {
            Assume::Approve => ApprovalOutcome::Approve,
            Assume::Reject => ApprovalOutcome::Reject,
            Assume::Timeout => ApprovalOutcome::Timeout,
        }),
        wait,
        source: a.source.clone(),
        failures: read_failures(&a.failures, &workflow, &mocks)?,
        mocks,
        workflows,
    };
    let mut run = dry_run(&workflow, &payload, &env, &opts);
    run.notes.splice(0..0, fire_note);
    match a.output {
        Output::Json => {
            print_json(&serde_json::to_value(&run).map_err(|e| Failure::Check(e.to_string()))?)
        }
        Output::Text => out!(
            "{}",
            tree::render(&workflow, &run, std::io::stdout().is_terminal())
        ),
    }
    Ok(if run.status == weir_core::dryrun::RunStatus::Failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// `weir test FILE --cases CASES`: every case dry-run and compared with what it expects.
fn test_cases(
    workflow: &weir_core::Workflow,
    path: &std::path::Path,
    env: &Env<'_>,
    workflows: &std::collections::BTreeMap<String, weir_core::Workflow>,
    output: Output,
) -> CmdResult {
    let cases = cases::read(path, workflow)?;
    let mut results = Vec::new();
    let mut failed = 0;
    for case in &cases {
        let (differences, got) = cases::check(workflow, case, env, workflows);
        failed += usize::from(!differences.is_empty());
        results.push((case, differences, got));
    }
    match output {
        Output::Json => print_json(&json!({
            "passed": cases.len() - failed,
            "failed": failed,
            "cases": results.iter().map(|(case, differences, got)| json!({
                "name": case.name, "passed": differences.is_empty(),
                "differences": differences, "got": got,
            })).collect::<Vec<_>>(),
        })),
        Output::Text => {
            for (case, differences, _) in &results {
                let mark = if differences.is_empty() {
                    "ok  "
                } else {
                    "FAIL"
                };
                outln!("{mark} {}", input::sanitize(&case.name));
                for d in differences {
                    outln!("     {d}");
                }
            }
            outln!("{} of {} cases pass", cases.len() - failed, cases.len());
        }
    }
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn cmd_init(
    name: &str,
    template: &str,
    format: Format,
    dir: &std::path::Path,
    force: bool,
) -> CmdResult {
    let Some(text) = templates::get(template) else {
        return Err(Failure::Usage(format!(
            "no template '{template}'; available: {}",
            templates::names().join(", ")
        )));
    };
    let id = weir_core::validate::slug_id(name);
    if id.is_empty() {
        return Err(Failure::Usage(format!(
            "'{name}' makes no usable workflow id; use letters or digits"
        )));
    }
    let mut doc: Value = serde_json::from_str(text)
        .map_err(|e| Failure::Check(format!("template '{template}' is broken: {e}")))?;
    doc["workflow_id"] = json!(id);
    doc["name"] = json!(name);
    doc["version"] = json!("1.0.0");
    let ext = if format == Format::Json {
        "json"
    } else {
        "yaml"
    };
    let path = dir.join(format!("{}.{ext}", name_to_file(name)));
    if path.exists() && !force {
        return Err(Failure::Usage(format!(
            "{} exists; use --force to overwrite",
            path.display()
        )));
    }
    let text = wformat::render(&wformat::canonicalize(&doc), format).map_err(Failure::Check)?;
    std::fs::write(&path, text)
        .map_err(|e| Failure::Usage(format!("cannot write {}: {e}", path.display())))?;
    errln!("wrote {} from template '{template}'", path.display());
    errln!(
        "next: weir validate {0} && weir test {0} --event <type> --payload '{{...}}'",
        path.display()
    );
    outln!("{}", path.display());
    Ok(ExitCode::SUCCESS)
}

fn name_to_file(name: &str) -> String {
    let mut out = String::new();
    for c in name.trim().chars() {
        if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_owned()
}

fn cmd_templates(output: Output) -> CmdResult {
    let list: Vec<Value> = templates::TEMPLATES
        .iter()
        .map(|(name, text)| {
            let doc: Value = serde_json::from_str(text).unwrap_or(Value::Null);
            json!({ "name": name, "description": doc.get("description").cloned().unwrap_or(Value::Null) })
        })
        .collect();
    match output {
        Output::Json => print_json(&Value::Array(list)),
        Output::Text => {
            for t in &list {
                // The first sentence; `--output json` has the whole description.
                let description = t["description"].as_str().unwrap_or("");
                let first = description
                    .split_inclusive(". ")
                    .next()
                    .unwrap_or(description)
                    .trim_end();
                outln!("{:<26} {first}", t["name"].as_str().unwrap_or(""));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn cmd_actions(output: Output) -> CmdResult {
    let catalog = BuiltinCatalog::new();
    match output {
        Output::Json => print_json(&Value::Array(
            catalog
                .iter()
                .map(|a| json!({ "type": a.name, "description": a.description, "side_effect": a.side_effect, "config_schema": a.schema }))
                .collect(),
        )),
        Output::Text => {
            for a in catalog.iter() {
                outln!("{:<24} {}", a.name, a.description);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn cmd_fmt(files: &[PathBuf], check: bool, stdout: bool) -> CmdResult {
    let mut unformatted = Vec::new();
    for file in files {
        let name = file.display().to_string();
        let (value, format, original) = read_for_rewrite(file)?;
        let text =
            wformat::render(&wformat::canonicalize(&value), format).map_err(Failure::Check)?;
        if stdout {
            out!("{text}");
        } else if text != original {
            if check {
                errln!("{name}: not in canonical form");
                unformatted.push(name);
            } else {
                std::fs::write(file, &text)
                    .map_err(|e| Failure::Usage(format!("cannot write {name}: {e}")))?;
                errln!("{name}: formatted");
            }
        }
    }
    if check && !unformatted.is_empty() {
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

fn read_for_rewrite(file: &std::path::Path) -> Result<(Value, Format, String), Failure> {
    let name = file.display().to_string();
    let bytes = input::read_bytes(file)?;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let format = Format::from_extension(&name).unwrap_or_else(|| Format::sniff(&text));
    let value = weir_core::load_value(&bytes, Some(format))
        .map_err(|e| Failure::Check(format!("{name}: {e}")))?;
    Ok((value, format, text))
}

fn cmd_convert(file: &std::path::Path, to: Format, out: Option<&std::path::Path>) -> CmdResult {
    let (value, _, _) = read_for_rewrite(file)?;
    let text = wformat::render(&wformat::canonicalize(&value), to).map_err(Failure::Check)?;
    match out {
        Some(path) => {
            std::fs::write(path, text)
                .map_err(|e| Failure::Usage(format!("cannot write {}: {e}", path.display())))?;
            errln!("wrote {}", path.display());
        }
        None => out!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

fn print_json(v: &Value) {
    match serde_json::to_string_pretty(v) {
        Ok(s) => outln!("{s}"),
        Err(e) => errln!("error: cannot print JSON: {e}"),
    }
}
