//! Applying the fixes diagnostics suggest ([`crate::diag::Fix`]): the corrected document an
//! agent can take as it is, when every error has a fix that is sure.

use serde_json::Value;

use crate::diag::{Diagnostic, Fix};

/// A step of a diagnostic's path: a field or an index.
#[derive(Debug, PartialEq)]
enum Step {
    Field(String),
    Index(usize),
}

/// Reads a path as diagnostics write it: `$`, then `.name`, `[3]` or `["any key"]`.
fn steps(path: &str) -> Option<Vec<Step>> {
    let mut rest = path.strip_prefix('$')?;
    let mut out = Vec::new();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            out.push(Step::Field(r[..end].to_owned()));
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            if r.starts_with('"') {
                // A JSON string, then `]`.
                let mut de = serde_json::Deserializer::from_str(r).into_iter::<String>();
                let key = de.next()?.ok()?;
                let used = de.byte_offset();
                out.push(Step::Field(key));
                rest = r[used..].strip_prefix(']')?;
            } else {
                let end = r.find(']')?;
                out.push(Step::Index(r[..end].parse().ok()?));
                rest = &r[end + 1..];
            }
        } else {
            return None;
        }
    }
    Some(out)
}

fn at<'v>(doc: &'v mut Value, path: &[Step]) -> Option<&'v mut Value> {
    path.iter().try_fold(doc, |v, s| match s {
        Step::Field(k) => v.as_object_mut()?.get_mut(k),
        Step::Index(i) => v.as_array_mut()?.get_mut(*i),
    })
}

/// Applies one fix at its diagnostic's path; `false` when the path is not in the document.
pub fn apply(doc: &mut Value, path: &str, fix: &Fix) -> bool {
    let Some(path) = steps(path) else {
        return false;
    };
    match fix {
        Fix::Replace { value } => match at(doc, &path) {
            Some(v) => {
                *v = value.clone();
                true
            }
            None => false,
        },
        Fix::Rename { to } => {
            let Some((Step::Field(from), parent)) = path.split_last() else {
                return false;
            };
            let Some(map) = at(doc, parent).and_then(Value::as_object_mut) else {
                return false;
            };
            if map.contains_key(to) {
                return false;
            }
            match map.remove(from) {
                Some(v) => {
                    map.insert(to.clone(), v);
                    true
                }
                None => false,
            }
        }
        Fix::Add { field, value } => match at(doc, &path).and_then(Value::as_object_mut) {
            Some(map) if !map.contains_key(field) => {
                map.insert(field.clone(), value.clone());
                true
            }
            _ => false,
        },
    }
}

/// The document with every error's fix applied, when each error has a fix that is sure
/// ([`Fix::is_certain`]) and each applies; `None` otherwise. Warnings are left as they are.
pub fn fix_errors(doc: &Value, diagnostics: &[Diagnostic]) -> Option<Value> {
    let errors: Vec<&Diagnostic> = diagnostics.iter().filter(|d| d.is_error()).collect();
    if errors.is_empty()
        || errors
            .iter()
            .any(|d| !d.fix.as_ref().is_some_and(Fix::is_certain))
    {
        return None;
    }
    let mut fixed = doc.clone();
    for d in errors {
        let fix = d.fix.as_ref()?;
        if !apply(&mut fixed, &d.path, fix) {
            return None;
        }
    }
    Some(fixed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BuiltinCatalog, Rules, validate_value};
    use serde_json::json;

    #[test]
    fn paths_read_as_diagnostics_write_them() {
        assert_eq!(
            steps("$.steps[2].on_true").unwrap(),
            [
                Step::Field("steps".into()),
                Step::Index(2),
                Step::Field("on_true".into())
            ]
        );
        assert_eq!(
            steps(r#"$.config["a key.with]dots"].x"#).unwrap(),
            [
                Step::Field("config".into()),
                Step::Field("a key.with]dots".into()),
                Step::Field("x".into())
            ]
        );
        assert!(steps("steps[0]").is_none());
        assert!(steps("$.a[x]").is_none());
    }

    fn check(doc: &Value) -> Vec<Diagnostic> {
        validate_value(doc, &BuiltinCatalog::new(), &Rules::default()).diagnostics
    }

    #[test]
    fn misspellings_with_one_close_match_are_fixed() {
        let doc = json!({"workflow_id": "w", "trigger": {"type": "event", "event": "order.created"},
            "steps": [
                {"id": "check", "type": "condition",
                 "condition": {"field": "order.total", "operator": "greter_than", "value": 100},
                 "on_true": "blok", "on_flase": "allow"},
                {"id": "block", "type": "action", "action": "block"},
                {"id": "allow", "type": "action", "action": "allow"}]});
        let diags = check(&doc);
        assert!(
            diags.iter().filter(|d| d.is_error()).count() >= 3,
            "{diags:#?}"
        );
        let fixed = fix_errors(&doc, &diags).expect("every error has a sure fix");
        let again = check(&fixed);
        assert!(again.iter().all(|d| !d.is_error()), "{again:#?}");
        assert_eq!(fixed["steps"][0]["on_true"], "block");
        assert_eq!(fixed["steps"][0]["on_false"], "allow");
        assert_eq!(fixed["steps"][0]["condition"]["operator"], "gt");
    }

    #[test]
    fn a_missing_field_is_suggested_with_an_example_but_not_applied() {
        let doc = json!({"workflow_id": "w", "trigger": {"type": "event", "event": "order.created"},
            "steps": [{"type": "action", "action": "allow"}]});
        let diags = check(&doc);
        let missing = diags
            .iter()
            .find(|d| d.message.contains("needs 'id'"))
            .expect("missing id");
        assert!(matches!(&missing.fix, Some(Fix::Add { field, .. }) if field == "id"));
        assert_eq!(fix_errors(&doc, &diags), None);
    }

    #[test]
    fn a_misspelling_close_to_two_names_has_no_fix() {
        let doc = json!({"workflow_id": "w", "trigger": {"type": "event", "event": "e"},
            "steps": [
                {"id": "a", "type": "condition", "condition": {"field": "x", "operator": "eq", "value": 1},
                 "on_true": "stepc", "on_false": "stepb"},
                {"id": "stepa", "type": "action", "action": "allow"},
                {"id": "stepb", "type": "action", "action": "block"}]});
        let diags = check(&doc);
        let target = diags.iter().find(|d| d.path.ends_with("on_true")).unwrap();
        assert_eq!(target.fix, None, "stepa and stepb are as close to stepc");
        assert_eq!(fix_errors(&doc, &diags), None);
    }
}
