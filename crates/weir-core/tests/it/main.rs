//! Integration tests of weir-core, one binary with a module per feature.

mod conditions;
mod dryrun;
mod executor;
mod fixtures;
mod schedules;
mod support;
mod templates;
mod tidy;
mod validation;
