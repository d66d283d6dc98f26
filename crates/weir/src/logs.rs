//! The logs of `weir serve`: `tracing` events and spans of every crate, filtered by level
//! (`--log-level`, or `RUST_LOG` with tracing's directives) and written to standard error as
//! text (colored on a terminal) or as JSON lines (`--log-format json`), each line with the
//! fields of the spans it happened in (a request's id and route, an execution's ids).

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// How log lines are written.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

impl LogFormat {
    pub fn parse(text: &str) -> Result<LogFormat, String> {
        match text {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            other => Err(format!("log_format '{other}' is not text or json")),
        }
    }
}

/// The levels `--log-level` takes.
const LEVELS: &[&str] = &["off", "error", "warn", "info", "debug", "trace"];

/// Weir's own crates: `--log-level` sets theirs; every other crate logs warnings and errors.
const CRATES: &[&str] = &[
    "weir",
    "weir_server",
    "weir_engine",
    "weir_store",
    "weir_actions",
    "weir_mcp",
    "weir_core",
    "weir_ai",
];

/// The filter: `RUST_LOG` when it is set, else `level` for Weir's crates.
fn filter(level: &str) -> Result<EnvFilter, String> {
    if let Ok(directives) = std::env::var("RUST_LOG")
        && !directives.trim().is_empty()
    {
        return EnvFilter::builder()
            .parse(&directives)
            .map_err(|e| format!("RUST_LOG '{directives}' does not read: {e}"));
    }
    if !LEVELS.contains(&level) {
        return Err(format!(
            "log_level '{level}' is not one of {}",
            LEVELS.join(", ")
        ));
    }
    let mut directives = vec!["warn".to_owned()];
    directives.extend(CRATES.iter().map(|c| format!("{c}={level}")));
    EnvFilter::builder()
        .parse(directives.join(","))
        .map_err(|e| format!("log_level '{level}': {e}"))
}

/// Installs the subscriber of the process.
pub fn init(level: &str, format: LogFormat) -> Result<(), String> {
    let filter = filter(level)?;
    let registry = tracing_subscriber::registry().with(filter);
    let done = match format {
        LogFormat::Text => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(std::io::stderr)
                    .with_ansi(std::io::stderr().is_terminal())
                    .with_target(false),
            )
            .try_init(),
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_writer(std::io::stderr)
                    .flatten_event(true)
                    .with_current_span(false)
                    .with_span_list(true),
            )
            .try_init(),
    };
    done.map_err(|e| format!("cannot start logging: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_and_formats_are_checked() {
        assert!(filter("debug").is_ok());
        assert!(filter("loud").unwrap_err().contains("is not one of"));
        assert_eq!(LogFormat::parse("json"), Ok(LogFormat::Json));
        assert!(LogFormat::parse("xml").is_err());
    }
}
