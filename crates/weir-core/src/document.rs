//! Reading definition and payload documents: JSON or YAML text into a JSON value, with limits on
//! size and nesting so hostile input gets a clear error instead of exhausting memory or stack.

use std::fmt;

use serde_json::Value;

/// The largest definition or payload document accepted: 1 MiB. Real workflows are a few KiB;
/// anything near this limit is a mistake or an attack.
pub const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;
/// The deepest nesting of arrays and objects accepted (serde_json's own recursion limit).
pub const MAX_DEPTH: usize = 128;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Yaml,
}

impl Format {
    /// The format a file name implies, if its extension says.
    pub fn from_extension(path: &str) -> Option<Format> {
        let lower = path.to_ascii_lowercase();
        if lower.ends_with(".json") {
            Some(Format::Json)
        } else if lower.ends_with(".yaml") || lower.ends_with(".yml") {
            Some(Format::Yaml)
        } else {
            None
        }
    }

    /// Guesses from the text: JSON starts with `{` or `[`.
    pub fn sniff(text: &str) -> Format {
        match text
            .trim_start_matches('\u{feff}')
            .trim_start()
            .as_bytes()
            .first()
        {
            Some(b'{') | Some(b'[') => Format::Json,
            _ => Format::Yaml,
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Json => "JSON",
            Format::Yaml => "YAML",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    #[error("the document is {size} bytes; the limit is {limit} bytes")]
    TooLarge { size: usize, limit: usize },
    #[error("the document is not UTF-8 text (invalid byte at offset {offset})")]
    NotUtf8 { offset: usize },
    #[error("the document is empty")]
    Empty,
    #[error("invalid {format}: {message}")]
    Syntax {
        format: Format,
        message: String,
        line: Option<usize>,
        column: Option<usize>,
    },
    #[error("the document nests deeper than {MAX_DEPTH} levels")]
    TooDeep,
}

/// Parses bytes as JSON or YAML (sniffed when `format` is `None`) into a JSON value.
pub fn load_value(bytes: &[u8], format: Option<Format>) -> Result<Value, DocumentError> {
    load_value_within(bytes, format, MAX_DOCUMENT_BYTES)
}

/// [`load_value`] with a size limit of the caller's (the server's configurable body limit).
pub fn load_value_within(
    bytes: &[u8],
    format: Option<Format>,
    limit: usize,
) -> Result<Value, DocumentError> {
    if bytes.len() > limit {
        return Err(DocumentError::TooLarge {
            size: bytes.len(),
            limit,
        });
    }
    let text = std::str::from_utf8(bytes).map_err(|e| DocumentError::NotUtf8 {
        offset: e.valid_up_to(),
    })?;
    let text = text.trim_start_matches('\u{feff}');
    if text.trim().is_empty() {
        return Err(DocumentError::Empty);
    }
    match format.unwrap_or_else(|| Format::sniff(text)) {
        Format::Json => serde_json::from_str::<StrictValue>(text)
            .map(|v| v.0)
            .map_err(|e| {
                if e.to_string().starts_with("recursion limit exceeded") {
                    return DocumentError::TooDeep;
                }
                let message = e.to_string();
                // serde_json appends " at line L column C"; keep the position separately.
                let message = message
                    .split(" at line ")
                    .next()
                    .unwrap_or(&message)
                    .to_owned();
                DocumentError::Syntax {
                    format: Format::Json,
                    message,
                    line: Some(e.line()),
                    column: Some(e.column()),
                }
            }),
        Format::Yaml => {
            // YAML 1.2 booleans only: `on_reject: no` names the step "no", it is not false.
            // Duplicate keys are an error (the library's default).
            // Aliases expand while the document is read: the expanded document may hold no more
            // nodes than one of this size could without aliases (and never more than the
            // library's 250,000), and scalars of no more than a few times its size (a tag
            // like `!!str` is counted resolved, at 21 bytes), so a "billion laughs" of a few
            // hundred bytes is refused at a few thousand nodes instead of growing to the
            // library's defaults (250,000 nodes: 64 MB for a 551-byte body).
            let options = serde_saphyr::options! {
                budget: serde_saphyr::budget! {
                    max_depth: MAX_DEPTH,
                    max_nodes: (text.len() / 2 + 1_000).min(250_000),
                    max_total_scalar_bytes: 5 * text.len() + 1_000,
                },
                strict_booleans: true,
                // `zip: 02134` stays the string it looks like, not the number 2134.
                leading_zero_numbers_as_strings: true,
            };
            let value: Value = serde_saphyr::from_str_with_options(text, options).map_err(|e| {
                let message = e.to_string();
                if message.contains("depth") && message.contains("budget")
                    || message.contains("max_depth")
                    || message.contains("recursion limit exceeded")
                {
                    return DocumentError::TooDeep;
                }
                yaml_error(&message)
            })?;
            if depth(&value) > MAX_DEPTH {
                return Err(DocumentError::TooDeep);
            }
            Ok(value)
        }
    }
}

/// A JSON value read with duplicate object keys refused (serde_json's own `Value` keeps the last
/// one silently, so two `on_true` keys in a step would go unnoticed).
struct StrictValue(Value);

impl<'de> serde::Deserialize<'de> for StrictValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(StrictValue)
    }
}

struct StrictVisitor;

impl<'de> serde::de::Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(StrictValue(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(serde::de::Error::custom(format!("duplicate key '{key}'")));
            }
            let StrictValue(v) = map.next_value()?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

/// Turns the YAML library's message into ours: its first line, the position as line and
/// column, and plain words for its resource limits (no Rust debug output, no source snippet).
fn yaml_error(message: &str) -> DocumentError {
    let first = message.lines().next().unwrap_or(message).trim();
    let first = first.strip_prefix("error: ").unwrap_or(first);
    // "line 6 column 14: what went wrong"
    let (mut line, mut column, mut text) = (None, None, first.to_owned());
    if let Some(rest) = first.strip_prefix("line ")
        && let Some((pos, what)) = rest.split_once(": ")
        && let Some((l, c)) = pos.split_once(" column ")
    {
        line = l.trim().parse().ok();
        column = c.trim().parse().ok();
        text = what.to_owned();
    }
    if text.contains("budget breached") {
        text = "the document expands past the reader's limits (too many nodes, aliases or anchors)"
            .into();
    }
    // The library suggests one of its own options; that means nothing to a user.
    let text = text.replace(", set DuplicateKeyPolicy in Options if acceptable", "");
    DocumentError::Syntax {
        format: Format::Yaml,
        message: text,
        line,
        column,
    }
}

/// The nesting depth of a value, computed without recursion.
pub fn depth(value: &Value) -> usize {
    let mut max = 0;
    let mut stack = vec![(value, 1usize)];
    while let Some((v, d)) = stack.pop() {
        max = max.max(d);
        match v {
            Value::Array(items) => stack.extend(items.iter().map(|i| (i, d + 1))),
            Value::Object(map) => stack.extend(map.values().map(|i| (i, d + 1))),
            _ => {}
        }
    }
    max
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: a 551-byte "billion laughs" grew the process by 64 MB before the library's
    /// node limit stopped it. Expansion is now bounded by what a document of its size could
    /// hold without aliases.
    #[test]
    fn yaml_aliases_cannot_expand_past_the_documents_size() {
        let mut laughs =
            String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for i in 1..9 {
            let p = format!("*a{}", i - 1);
            laughs.push_str(&format!("a{i}: &a{i} [{}]\n", [p.as_str(); 10].join(", ")));
        }
        assert!(laughs.len() < 1024);
        // Tags are counted resolved: a document of `!!str` values is not taken for an expansion.
        let tagged: String = (0..300).map(|i| format!("z{i}: !!str 0{i}\n")).collect();
        assert!(load_value(tagged.as_bytes(), Some(Format::Yaml)).is_ok());
        // A 100 KB string named a thousand times: 100 MB of scalars from 100 KB.
        let wide = format!(
            "s: &s \"{}\"\nl: [{}]\n",
            "x".repeat(100_000),
            vec!["*s"; 1000].join(", ")
        );
        for doc in [laughs, wide] {
            let err = load_value(doc.as_bytes(), Some(Format::Yaml)).unwrap_err();
            assert!(err.to_string().contains("expands past"), "{err}");
        }
        // Anchors used as people use them still read.
        let used = "defaults: &d {timeout: 30s, retries: 3}\nsteps:\n  - {id: a, config: *d}\n  - {id: b, config: *d}\n";
        let v = load_value(used.as_bytes(), Some(Format::Yaml)).unwrap();
        assert_eq!(v["steps"][1]["config"]["retries"], 3);
    }

    #[test]
    fn deep_json_is_refused_not_overflowed() {
        let deep = "[".repeat(10_000) + &"]".repeat(10_000);
        assert_eq!(
            load_value(deep.as_bytes(), None),
            Err(DocumentError::TooDeep)
        );
        let deep_obj = "{\"a\":".repeat(10_000) + "1" + &"}".repeat(10_000);
        assert_eq!(
            load_value(deep_obj.as_bytes(), None),
            Err(DocumentError::TooDeep)
        );
    }

    #[test]
    fn deep_yaml_is_refused_not_overflowed() {
        let flow = "[".repeat(10_000) + &"]".repeat(10_000);
        assert!(load_value(flow.as_bytes(), Some(Format::Yaml)).is_err());
        let mut block = String::new();
        for i in 0..10_000 {
            block.push_str(&" ".repeat(i));
            block.push_str("a:\n");
        }
        assert!(load_value(block.as_bytes(), Some(Format::Yaml)).is_err());
    }

    #[test]
    fn yaml_is_read_with_yaml_1_2_booleans_and_no_duplicate_keys() {
        let v = load_value(
            b"a: no\nb: yes\nc: true\nzip: 02134\nn: 42\n",
            Some(Format::Yaml),
        )
        .unwrap();
        assert_eq!(
            v,
            serde_json::json!({"a": "no", "b": "yes", "c": true, "zip": "02134", "n": 42})
        );
        let err = load_value(b"a: 1\na: 2\n", Some(Format::Yaml))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("duplicate mapping key: a") && !err.contains("Options"),
            "{err}"
        );
    }

    #[test]
    fn json_duplicate_keys_are_refused_with_their_position() {
        let err =
            load_value(b"{\"a\": {\"on_true\": \"x\",\n \"on_true\": \"y\"}}", None).unwrap_err();
        assert!(
            matches!(&err, DocumentError::Syntax { message, line: Some(2), .. } if message.contains("duplicate key 'on_true'")),
            "{err:?}"
        );
        let ok = load_value(b"{\"a\": [1, 2.5, -3, null, true, \"s\", {}]}", None).unwrap();
        assert_eq!(
            ok,
            serde_json::json!({"a": [1, 2.5, -3, null, true, "s", {}]})
        );
    }

    #[test]
    fn large_documents_are_refused() {
        let big = format!("{{\"a\": \"{}\"}}", "x".repeat(10 * 1024 * 1024));
        assert!(matches!(
            load_value(big.as_bytes(), None),
            Err(DocumentError::TooLarge { .. })
        ));
    }

    #[test]
    fn syntax_errors_carry_position() {
        let err = load_value(b"{\"a\": }", None).unwrap_err();
        assert!(
            matches!(err, DocumentError::Syntax { line: Some(1), .. }),
            "{err:?}"
        );
        assert!(load_value(b"a: [1, 2", Some(Format::Yaml)).is_err());
        assert!(matches!(
            load_value(b"\xff\xfe", None),
            Err(DocumentError::NotUtf8 { .. })
        ));
        assert_eq!(load_value(b"  \n", None), Err(DocumentError::Empty));
    }
}
