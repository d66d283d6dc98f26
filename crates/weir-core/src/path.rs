//! Dot paths into the execution context: `order.total`, `items.0.sku`, `lead.owner.email`.

use std::fmt;

use serde_json::Value;

/// A parsed dot path. Numeric segments index arrays and also match object keys spelled as
/// digits, so `items.0.sku` works on `{"items": [{"sku": ..}]}`.
#[derive(Clone, PartialEq, Eq)]
pub struct FieldPath {
    text: String,
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Segment {
    key: String,
    index: Option<usize>,
}

impl FieldPath {
    /// Parses a path. Segments are separated by dots; `a[0]` is accepted as `a.0`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err("empty field path".into());
        }
        let normalized = trimmed.replace('[', ".").replace(']', "");
        let mut segments = Vec::new();
        for part in normalized.split('.') {
            if part.is_empty() {
                return Err(format!(
                    "'{text}' has an empty segment; write paths like order.items.0.sku"
                ));
            }
            if part
                .chars()
                .any(|c| c.is_whitespace() || c == '{' || c == '}')
            {
                return Err(format!("'{text}' is not a field path"));
            }
            segments.push(Segment {
                key: part.to_owned(),
                index: part.parse().ok(),
            });
        }
        Ok(FieldPath {
            text: trimmed.to_owned(),
            segments,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The path as dotted object keys, when every segment is a plain name (letters, digits
    /// and `_`, not starting with a digit): a path a database's JSON functions read the same.
    pub fn plain_keys(&self) -> Option<String> {
        let plain = |k: &str| {
            k.chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        };
        // Joined again: `order[id]` is read as `order.id`, which is what a database reads.
        self.segments
            .iter()
            .all(|s| s.index.is_none() && plain(&s.key))
            .then(|| {
                let keys: Vec<&str> = self.segments.iter().map(|s| s.key.as_str()).collect();
                keys.join(".")
            })
    }

    pub fn first(&self) -> &str {
        &self.segments[0].key
    }

    /// Looks the path up in a context. `None` means the field is absent.
    pub fn lookup<'v>(&self, root: &'v Value) -> Option<&'v Value> {
        lookup_segments(
            root,
            self.segments.iter().map(|s| (s.key.as_str(), s.index)),
        )
    }

    /// Looks up everything after the first segment, starting at `value`.
    pub fn lookup_rest<'v>(&self, value: &'v Value) -> Option<&'v Value> {
        lookup_segments(
            value,
            self.segments
                .iter()
                .skip(1)
                .map(|s| (s.key.as_str(), s.index)),
        )
    }
}

fn lookup_segments<'v, 's>(
    root: &'v Value,
    segments: impl Iterator<Item = (&'s str, Option<usize>)>,
) -> Option<&'v Value> {
    let mut cur = root;
    for (key, index) in segments {
        cur = match cur {
            Value::Object(map) => map.get(key)?,
            Value::Array(items) => items.get(index?)?,
            _ => return None,
        };
    }
    Some(cur)
}

impl fmt::Debug for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FieldPath({})", self.text)
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// The JSON type name of a value, for messages.
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn walks_objects_and_arrays() {
        let ctx = json!({"lead": {"owner": {"email": "a@b.c"}}, "items": [{"sku": "X1"}], "m": {"0": "zero"}});
        let get = |p: &str| FieldPath::parse(p).unwrap().lookup(&ctx).cloned();
        assert_eq!(get("lead.owner.email"), Some(json!("a@b.c")));
        assert_eq!(get("items.0.sku"), Some(json!("X1")));
        assert_eq!(get("items[0].sku"), Some(json!("X1")));
        assert_eq!(get("m.0"), Some(json!("zero")));
        assert_eq!(get("items.1.sku"), None);
        assert_eq!(get("lead.owner.email.x"), None);
        assert_eq!(get("nope"), None);
    }

    #[test]
    fn rejects_malformed_paths() {
        for bad in ["", "a..b", ".a", "a.", "a b", "{{a}}"] {
            assert!(FieldPath::parse(bad).is_err(), "{bad}");
        }
    }
}
