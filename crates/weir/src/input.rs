//! Reading files and payload arguments, with the same limits the core applies.

use std::io::Read;
use std::path::Path;

use serde_json::Value;
use weir_core::diag::Diagnostic;
use weir_core::document::{DocumentError, MAX_DOCUMENT_BYTES};
use weir_core::{Format, load_value};

/// Why a command stopped.
pub enum Failure {
    /// Bad arguments or an unreadable file: exit 2.
    Usage(String),
    /// The thing checked is wrong: exit 1.
    Check(String),
}

/// Reads at most the document limit (plus one byte, to tell a too-large file).
pub fn read_bytes(path: &Path) -> Result<Vec<u8>, Failure> {
    let name = path.display();
    let file = std::fs::File::open(path)
        .map_err(|e| Failure::Usage(format!("cannot read {name}: {e}")))?;
    if file.metadata().map(|m| m.is_dir()).unwrap_or(false) {
        return Err(Failure::Usage(format!("{name} is a directory")));
    }
    let mut bytes = Vec::new();
    file.take(MAX_DOCUMENT_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Failure::Usage(format!("cannot read {name}: {e}")))?;
    Ok(bytes)
}

/// Reads a JSON or YAML document. A document that does not parse is a diagnostic, not a failure.
pub fn read_document(path: &Path) -> Result<Result<Value, Diagnostic>, Failure> {
    let bytes = read_bytes(path)?;
    let format = Format::from_extension(&path.display().to_string());
    Ok(load_value(&bytes, format)
        .map_err(|e| too_large_hint(weir_core::validate::document_diagnostic(&e), &e)))
}

fn too_large_hint(mut d: Diagnostic, e: &DocumentError) -> Diagnostic {
    if let DocumentError::TooLarge { .. } = e {
        d.message = format!("the document is larger than the {MAX_DOCUMENT_BYTES}-byte limit");
    }
    d
}

/// Reads a payload argument: inline JSON, `@FILE`, or `@-` for standard input.
pub fn read_payload(arg: &str, flag: &str) -> Result<Value, Failure> {
    let (bytes, what) = if arg == "@-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .take(MAX_DOCUMENT_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| Failure::Usage(format!("cannot read standard input: {e}")))?;
        (bytes, "standard input".to_owned())
    } else if let Some(path) = arg.strip_prefix('@') {
        (read_bytes(Path::new(path))?, path.to_owned())
    } else {
        (arg.as_bytes().to_vec(), flag.to_owned())
    };
    let format = if arg.starts_with('@') {
        Format::from_extension(&what)
    } else {
        Some(Format::Json)
    };
    let inline = !arg.starts_with('@');
    let value = load_value(&bytes, format).map_err(|e| match e {
        DocumentError::TooLarge { .. } => Failure::Check(format!(
            "{what}: the payload is larger than the {MAX_DOCUMENT_BYTES}-byte limit"
        )),
        DocumentError::Syntax {
            message,
            line,
            column,
            format,
        } => {
            let at = match (line, column) {
                (Some(l), Some(c)) => format!(" (line {l}, column {c})"),
                _ => String::new(),
            };
            let hint = if inline {
                "; an inline payload is JSON (use @FILE for YAML)"
            } else {
                ""
            };
            Failure::Check(format!("{what}: invalid {format}: {message}{at}{hint}"))
        }
        other => Failure::Check(format!("{what}: {other}")),
    })?;
    // An event payload is an object of fields; anything else is a mistake, not a payload.
    if !value.is_object() {
        return Err(Failure::Check(format!(
            "{what}: the payload must be a JSON object, found {}",
            weir_core::path::type_name(&value)
        )));
    }
    Ok(value)
}

/// Replaces control characters (terminal escapes among them) that came from input, so printing
/// a payload or a field name cannot drive the terminal.
pub fn sanitize(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                '\u{fffd}'
            } else {
                c
            }
        })
        .collect()
}
