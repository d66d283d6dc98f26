//! Integration tests of weir-ai, one binary with a module per feature.

mod eval;
mod interpret;
mod tidy;
