//! Diagnostics: what validation says about a definition, each with a stable code and a JSON path.

use std::fmt;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// Stable diagnostic codes. They are listed, with an example each, in `docs/diagnostics.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Code {
    /// The document is not well-formed JSON or YAML, or is too large or too deep.
    #[serde(rename = "WEIR-V001")]
    Syntax,
    #[serde(rename = "WEIR-V002")]
    UnknownField,
    #[serde(rename = "WEIR-V003")]
    MissingField,
    #[serde(rename = "WEIR-V004")]
    WrongType,
    #[serde(rename = "WEIR-V005")]
    DuplicateStepId,
    #[serde(rename = "WEIR-V006")]
    UnknownTarget,
    #[serde(rename = "WEIR-V007")]
    DependencyCycle,
    #[serde(rename = "WEIR-V008")]
    UnknownOperator,
    #[serde(rename = "WEIR-V009")]
    UnknownActionType,
    #[serde(rename = "WEIR-V010")]
    BadRegex,
    #[serde(rename = "WEIR-V011")]
    BadDuration,
    #[serde(rename = "WEIR-V012")]
    BadCron,
    #[serde(rename = "WEIR-V013")]
    BadTimezone,
    #[serde(rename = "WEIR-V014")]
    EmptyParallel,
    #[serde(rename = "WEIR-V015")]
    ForeachWithoutItems,
    #[serde(rename = "WEIR-V016")]
    ActionConfig,
    #[serde(rename = "WEIR-V017")]
    InvalidValue,
    #[serde(rename = "WEIR-V018")]
    UnknownRule,
    #[serde(rename = "WEIR-V019")]
    BadTemplate,
    #[serde(rename = "WEIR-V020")]
    UnknownDependency,
    #[serde(rename = "WEIR-W101")]
    Unreachable,
    #[serde(rename = "WEIR-W102")]
    FallsThrough,
    #[serde(rename = "WEIR-W103")]
    NoDecision,
    /// An approver or recipient named by role that no team of the target environment (and no
    /// permission role) stands for. Only a server, which knows the environment's teams, says it.
    #[serde(rename = "WEIR-W104")]
    UnknownTeam,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Syntax => "WEIR-V001",
            Code::UnknownField => "WEIR-V002",
            Code::MissingField => "WEIR-V003",
            Code::WrongType => "WEIR-V004",
            Code::DuplicateStepId => "WEIR-V005",
            Code::UnknownTarget => "WEIR-V006",
            Code::DependencyCycle => "WEIR-V007",
            Code::UnknownOperator => "WEIR-V008",
            Code::UnknownActionType => "WEIR-V009",
            Code::BadRegex => "WEIR-V010",
            Code::BadDuration => "WEIR-V011",
            Code::BadCron => "WEIR-V012",
            Code::BadTimezone => "WEIR-V013",
            Code::EmptyParallel => "WEIR-V014",
            Code::ForeachWithoutItems => "WEIR-V015",
            Code::ActionConfig => "WEIR-V016",
            Code::InvalidValue => "WEIR-V017",
            Code::UnknownRule => "WEIR-V018",
            Code::BadTemplate => "WEIR-V019",
            Code::UnknownDependency => "WEIR-V020",
            Code::Unreachable => "WEIR-W101",
            Code::FallsThrough => "WEIR-W102",
            Code::NoDecision => "WEIR-W103",
            Code::UnknownTeam => "WEIR-W104",
        }
    }

    pub fn severity(self) -> Severity {
        match self {
            Code::Unreachable | Code::FallsThrough | Code::NoDecision | Code::UnknownTeam => {
                Severity::Warning
            }
            _ => Severity::Error,
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    pub code: Code,
    /// A JSON path into the document, like `$.steps[2].on_true`.
    pub path: String,
    pub message: String,
    /// A change to the document that would resolve it, when one is known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<Fix>,
}

/// A change to a document that resolves a diagnostic, at the diagnostic's path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Fix {
    /// Put `value` where the diagnostic points (the one close match of a misspelling).
    Replace { value: serde_json::Value },
    /// Rename the field the diagnostic points at to `to` (the one close match).
    Rename { to: String },
    /// Add the missing `field` to the object the diagnostic points at, with an example
    /// `value` to review: never applied on its own.
    Add {
        field: String,
        value: serde_json::Value,
    },
}

impl Fix {
    /// Whether applying it is sure to be what was meant: a misspelling with one close match,
    /// not an example value.
    pub fn is_certain(&self) -> bool {
        !matches!(self, Fix::Add { .. })
    }

    /// What it does, in a sentence.
    pub fn describe(&self) -> String {
        match self {
            Fix::Replace { value } => format!("replace the value with {value}"),
            Fix::Rename { to } => format!("rename the field to '{to}'"),
            Fix::Add { field, value } => {
                format!("add '{field}', for example {value} (an example: review it)")
            }
        }
    }
}

impl Diagnostic {
    pub fn new(code: Code, path: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: code.severity(),
            code,
            path: path.into(),
            message: message.into(),
            fix: None,
        }
    }

    pub fn with_fix(mut self, fix: Option<Fix>) -> Self {
        self.fix = fix;
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{level}[{}] {}: {}", self.code, self.path, self.message)
    }
}

/// Collects diagnostics while a document is read.
#[derive(Debug, Default)]
pub struct Diags(pub Vec<Diagnostic>);

impl Diags {
    pub fn push(&mut self, code: Code, path: &str, message: impl Into<String>) {
        self.0.push(Diagnostic::new(code, path, message));
    }

    pub fn push_fix(
        &mut self,
        code: Code,
        path: &str,
        message: impl Into<String>,
        fix: Option<Fix>,
    ) {
        self.0
            .push(Diagnostic::new(code, path, message).with_fix(fix));
    }

    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Diagnostic::is_error)
    }
}

/// Builds JSON paths such as `$.steps[0].condition.and[1]`.
pub fn key(parent: &str, key: &str) -> String {
    let simple = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !key.starts_with(|c: char| c.is_ascii_digit());
    if simple {
        format!("{parent}.{key}")
    } else {
        format!("{parent}[{}]", serde_json::Value::String(key.to_owned()))
    }
}

pub fn index(parent: &str, i: usize) -> String {
    format!("{parent}[{i}]")
}
