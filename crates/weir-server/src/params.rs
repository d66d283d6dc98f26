//! Query parameters of list endpoints, checked: an unknown parameter, a number out of range
//! or a time that does not parse is a 400 naming it.

use std::collections::HashMap;

use crate::{ApiError, ApiResult};

pub struct Params(HashMap<String, String>);

impl Params {
    /// Takes the query, refusing parameters not in `allowed`.
    pub fn new(q: HashMap<String, String>, allowed: &[&str]) -> ApiResult<Params> {
        if let Some(k) = q.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(ApiError::bad_request(format!(
                "unknown query parameter '{k}' (this endpoint takes {})",
                allowed.join(", ")
            )));
        }
        Ok(Params(q))
    }

    pub fn text(&self, k: &str) -> Option<String> {
        self.0.get(k).cloned()
    }

    pub fn number(&self, k: &str, default: i64, min: i64, max: i64) -> ApiResult<i64> {
        Ok(self.optional_number(k, min, max)?.unwrap_or(default))
    }

    pub fn optional_number(&self, k: &str, min: i64, max: i64) -> ApiResult<Option<i64>> {
        self.0
            .get(k)
            .map(|s| {
                s.parse::<i64>()
                    .ok()
                    .filter(|n| (min..=max).contains(n))
                    .ok_or_else(|| {
                        ApiError::bad_request(format!("{k} must be an integer from {min} to {max}"))
                    })
            })
            .transpose()
    }

    /// A value that must be one of `allowed` (a filter on a closed set: a misspelled one would
    /// otherwise match nothing and look like an empty list).
    pub fn one_of(&self, k: &str, allowed: &[&str]) -> ApiResult<Option<String>> {
        match self.0.get(k) {
            Some(v) if !allowed.contains(&v.as_str()) => Err(ApiError::bad_request(format!(
                "{k} must be one of {}, not '{v}'",
                allowed.join(", ")
            ))),
            v => Ok(v.cloned()),
        }
    }

    /// A page cursor: the `next_cursor` an earlier page gave, the id of an event or an
    /// execution (a UUID; a subworkflow's run adds `-child-N` to its parent's, at any depth).
    pub fn cursor(&self) -> ApiResult<Option<String>> {
        match self.0.get("cursor") {
            Some(c) if !is_item_id(c) => Err(ApiError::bad_request(
                "cursor is not one this endpoint gave: pass the next_cursor of the page before",
            )),
            c => Ok(c.cloned()),
        }
    }

    /// An RFC 3339 time, as milliseconds since the epoch.
    pub fn time(&self, k: &str) -> ApiResult<Option<i64>> {
        self.0
            .get(k)
            .map(|s| {
                chrono::DateTime::parse_from_rfc3339(s)
                    .map(|t| t.timestamp_millis())
                    .map_err(|_| {
                        ApiError::bad_request(format!(
                            "{k} must be an RFC 3339 time, like 2026-11-23T10:00:00Z"
                        ))
                    })
            })
            .transpose()
    }
}

/// Whether a text is an event's or an execution's id: a UUID, and for a subworkflow's run
/// `-child-N` after its parent's id, at any depth.
fn is_item_id(c: &str) -> bool {
    let (uuid, mut rest) = c.split_at_checked(36).unwrap_or((c, ""));
    while let Some(after) = rest.strip_prefix("-child-") {
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return false;
        }
        rest = &after[digits..];
    }
    rest.is_empty() && uuid::Uuid::parse_str(uuid).is_ok()
}

/// The cursor of the next page: the key of a full page's last item; `None` after a short page.
pub fn next_cursor<T>(items: &[T], limit: i64, key: impl Fn(&T) -> String) -> Option<String> {
    if items.len() as i64 == limit {
        items.last().map(key)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::is_item_id;

    /// Regression: a page ending on a subworkflow's run gave a cursor the check refused.
    #[test]
    fn cursors_are_the_ids_pages_end_on() {
        let id = "01a24299-f77b-77d7-9da1-198e88d3ba21";
        for ok in [
            id.to_owned(),
            format!("{id}-child-0"),
            format!("{id}-child-12-child-3"),
        ] {
            assert!(is_item_id(&ok), "{ok}");
        }
        for bad in [
            "zzz",
            "",
            "01a24299",
            &format!("{id}-child-"),
            &format!("{id}-child-x"),
            &format!("{id}x"),
        ] {
            assert!(!is_item_id(bad), "{bad}");
        }
    }
}
