//! Weir's pure core: the workflow definition model, its parser and validator, the condition DSL,
//! templates, the executor, and the dry run that drives it. Nothing here performs I/O, spawns
//! tasks or reads the clock: time, secrets and ids come in through [`Env`].

pub mod catalog;
pub mod condition;
pub mod context;
pub mod diag;
pub mod document;
pub mod dryrun;
pub mod duration;
pub mod entities;
pub mod env;
pub mod executor;
pub mod fixes;
pub mod format;
pub mod model;
mod parse;
pub mod path;
pub mod roles;
pub mod schedule;
pub mod template;
pub mod validate;

pub use catalog::{ActionCatalog, ActionType, BuiltinCatalog};
pub use condition::{Condition, Op};
pub use diag::{Code, Diagnostic, Fix, Severity};
pub use document::{Format, load_value};
pub use dryrun::{DryRun, DryRunOptions, dry_run};

pub use duration::Duration;
pub use env::{Env, Rules};
pub use model::Workflow;
pub use parse::{CONTROL_STEP_TYPES, valid_id};
pub use template::{Template, TemplateValue};
pub use validate::{Validated, read_rule, validate_rule, validate_value, validate_workflow_text};

// Problems with a definition are diagnostics (`diag`), and unreadable documents are
// `document::DocumentError`: this crate has no other errors.
pub(crate) use parse::closest as parse_closest;
