//! Durations as written in definitions: `"500ms"`, `"30s"`, `"15m"`, `"24h"`, `"7d"`, `"1w"`,
//! compound forms like `"1h30m"`, or integer seconds.

use std::fmt;

use serde::Serialize;
use serde_json::Value;

/// A non-negative duration with millisecond precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration {
    millis: u64,
}

/// The longest duration a definition may name: about 100 years, far beyond any sane timer but
/// small enough that adding it to a timestamp never overflows.
const MAX_MILLIS: u64 = 100 * 366 * 24 * 3600 * 1000;

impl Duration {
    pub const fn from_millis(millis: u64) -> Self {
        Duration { millis }
    }

    pub const fn from_secs(secs: u64) -> Self {
        Duration {
            millis: secs * 1000,
        }
    }

    pub const fn as_millis(self) -> u64 {
        self.millis
    }

    pub fn as_chrono(self) -> chrono::Duration {
        // MAX_MILLIS fits in i64, so this conversion cannot fail for parsed durations.
        chrono::Duration::milliseconds(i64::try_from(self.millis).unwrap_or(i64::MAX / 2))
    }

    /// Parses the text form. Returns a plain message on failure.
    pub fn parse(text: &str) -> Result<Self, String> {
        let s = text.trim();
        if s.is_empty() {
            return Err("empty duration".into());
        }
        if let Ok(secs) = s.parse::<u64>() {
            return Self::checked(secs.checked_mul(1000), text);
        }
        let mut total: u64 = 0;
        let bytes = s.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            if start == i {
                return Err(format!(
                    "'{text}' is not a duration; use forms like 500ms, 30s, 15m, 24h or 7d"
                ));
            }
            let number: u64 = s[start..i]
                .parse()
                .map_err(|_| format!("'{text}' has a number too large for a duration"))?;
            let unit_start = i;
            while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
                i += 1;
            }
            let unit_ms: u64 = match &s[unit_start..i] {
                "ms" => 1,
                "s" | "sec" | "secs" => 1000,
                "m" | "min" | "mins" => 60_000,
                "h" | "hr" | "hrs" => 3_600_000,
                "d" => 86_400_000,
                "w" => 604_800_000,
                "" => {
                    return Err(if bytes.get(i).is_some_and(|b| b.is_ascii_whitespace()) {
                        format!(
                            "'{text}' has a space; write the unit right after the number, like 5h"
                        )
                    } else {
                        format!("'{text}' lacks a unit after {number}; use ms, s, m, h, d or w")
                    });
                }
                other => {
                    return Err(format!(
                        "'{text}' has an unknown unit '{other}'; use ms, s, m, h, d or w"
                    ));
                }
            };
            let part = number.checked_mul(unit_ms);
            total = match part.and_then(|p| total.checked_add(p)) {
                Some(t) => t,
                None => return Err(format!("'{text}' is too long a duration")),
            };
        }
        Self::checked(Some(total), text)
    }

    fn checked(millis: Option<u64>, text: &str) -> Result<Self, String> {
        match millis {
            Some(m) if m <= MAX_MILLIS => Ok(Duration { millis: m }),
            _ => Err(format!(
                "'{text}' is too long a duration (the limit is 100 years)"
            )),
        }
    }

    /// Reads a duration from a JSON value: a string in text form or a number of seconds.
    pub fn from_value(value: &Value) -> Result<Self, String> {
        match value {
            Value::String(s) => Self::parse(s),
            Value::Number(n) => {
                if let Some(secs) = n.as_u64() {
                    Self::checked(secs.checked_mul(1000), &n.to_string())
                } else if let Some(f) = n.as_f64().filter(|f| *f >= 0.0 && f.is_finite()) {
                    let ms = (f * 1000.0).round();
                    if ms > MAX_MILLIS as f64 {
                        Err(format!("{n} seconds is too long a duration"))
                    } else {
                        Ok(Duration { millis: ms as u64 })
                    }
                } else {
                    Err(format!("{n} is not a valid number of seconds"))
                }
            }
            other => Err(format!(
                "expected a duration like \"30s\" or a number of seconds, found {}",
                crate::path::type_name(other)
            )),
        }
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.millis;
        const UNITS: [(u64, &str); 5] = [
            (604_800_000, "w"),
            (86_400_000, "d"),
            (3_600_000, "h"),
            (60_000, "m"),
            (1000, "s"),
        ];
        if ms == 0 {
            return f.write_str("0s");
        }
        for (size, unit) in UNITS {
            if ms.is_multiple_of(size) {
                return write!(f, "{}{unit}", ms / size);
            }
        }
        write!(f, "{ms}ms")
    }
}

impl Serialize for Duration {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms_the_seeds_use() {
        assert_eq!(Duration::parse("500ms").unwrap().as_millis(), 500);
        assert_eq!(Duration::parse("30s").unwrap().as_millis(), 30_000);
        assert_eq!(Duration::parse("24h").unwrap().as_millis(), 86_400_000);
        assert_eq!(Duration::parse("7d").unwrap().as_millis(), 7 * 86_400_000);
        assert_eq!(Duration::parse("1h30m").unwrap().as_millis(), 5_400_000);
        assert_eq!(Duration::parse("90").unwrap().as_millis(), 90_000);
        assert_eq!(
            Duration::from_value(&serde_json::json!(3600))
                .unwrap()
                .as_millis(),
            3_600_000
        );
        assert_eq!(
            Duration::from_value(&serde_json::json!(1.5))
                .unwrap()
                .as_millis(),
            1500
        );
    }

    #[test]
    fn rejects_bad_forms_with_a_reason() {
        for bad in [
            "",
            "abc",
            "10x",
            "h",
            "5 h",
            "-5s",
            "99999999999999999999d",
            "36600000d",
        ] {
            assert!(Duration::parse(bad).is_err(), "{bad} should be rejected");
        }
        assert!(Duration::from_value(&serde_json::json!(-1)).is_err());
        assert!(Duration::from_value(&serde_json::json!(true)).is_err());
    }

    #[test]
    fn displays_in_the_largest_whole_unit() {
        assert_eq!(Duration::parse("7d").unwrap().to_string(), "1w");
        assert_eq!(Duration::parse("90m").unwrap().to_string(), "90m");
        assert_eq!(Duration::parse("1500ms").unwrap().to_string(), "1500ms");
    }
}
