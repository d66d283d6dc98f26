//! The times a schedule trigger fires: its cron expression read once, in its time zone, between
//! its start and end.
//!
//! Daylight saving time follows Vixie cron (through croner): a time of day that a spring-forward
//! skips fires once, at the first minute after the gap; a fixed time of day that a fall-back
//! repeats fires once, on its first pass; wildcard and step fields (`*/15`, `*`) fire on both
//! passes, since they mean "every so often" rather than "at this time of day". Fire times are
//! instants (UTC); a search never goes backwards in time.

use chrono::{DateTime, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use croner::Cron;
use serde_json::{Map, Value, json};

use crate::model::Schedule;

/// A cron expression, its time zone and its bounds, ready to answer "when next?".
#[derive(Debug, Clone)]
pub struct Plan {
    cron: Cron,
    tz: Tz,
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
}

/// Reads a cron expression: five fields (minute hour day month weekday), six with seconds
/// first, or a shorthand (`@yearly`, `@annually`, `@monthly`, `@weekly`, `@daily`,
/// `@midnight`, `@hourly`).
pub fn compile_cron(expr: &str) -> Result<Cron, String> {
    let trimmed = expr.trim();
    if trimmed.is_empty() {
        return Err("empty cron expression".into());
    }
    let fields = trimmed.split_whitespace().count();
    if !trimmed.starts_with('@') && !(5..=6).contains(&fields) {
        return Err(format!(
            "'{expr}' has {fields} fields; cron takes 5 (minute hour day month weekday) or 6 (with seconds first)"
        ));
    }
    let pattern = if trimmed.eq_ignore_ascii_case("@midnight") {
        "@daily"
    } else {
        trimmed
    };
    croner::parser::CronParser::builder()
        .seconds(croner::parser::Seconds::Optional)
        .year(croner::parser::Year::Disallowed)
        .build()
        .parse(pattern)
        .map_err(|e| format!("'{expr}' is not a valid cron expression: {e}"))
}

/// Reads a `start_at` / `end_at` bound: an RFC 3339 time, or a date or a date and time
/// without an offset, which is read in the schedule's zone. A date alone is the start of that
/// day, or with `end_of_day` (for `end_at`) its last millisecond, so the day counts.
pub fn parse_bound(s: &str, tz: Tz, end_of_day: bool) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    let formats = [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ];
    if let Some(naive) = formats
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
    {
        return local_instant(tz, naive);
    }
    let day = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
    if end_of_day {
        let next = day.succ_opt()?.and_hms_opt(0, 0, 0)?;
        return local_instant(tz, next).map(|t| t - chrono::Duration::milliseconds(1));
    }
    local_instant(tz, day.and_hms_opt(0, 0, 0)?)
}

/// The instant a wall clock time names in `tz`: the earlier one when a fall-back repeats it,
/// the first after the gap when a spring-forward skips it.
fn local_instant(tz: Tz, naive: NaiveDateTime) -> Option<DateTime<Utc>> {
    match tz.from_local_datetime(&naive) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => Some(t.with_timezone(&Utc)),
        LocalResult::None => (1..=4 * 60)
            .map(|m| naive + chrono::Duration::minutes(m))
            .find_map(|n| tz.from_local_datetime(&n).earliest())
            .map(|t| t.with_timezone(&Utc)),
    }
}

impl Plan {
    pub fn new(
        cron: Cron,
        tz: Tz,
        start: Option<DateTime<Utc>>,
        end: Option<DateTime<Utc>>,
    ) -> Plan {
        // Fires are whole seconds: a start within a second starts at the next whole one.
        let start = start.map(|t| match t.timestamp_subsec_millis() {
            0 => t,
            ms => t + chrono::Duration::milliseconds(1000 - i64::from(ms)),
        });
        Plan {
            cron,
            tz,
            start,
            end,
        }
    }

    pub fn timezone(&self) -> Tz {
        self.tz
    }

    /// The first fire strictly after `t`, if the schedule fires again.
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let (from, inclusive) = match self.start {
            Some(start) if start > t => (start, true),
            _ => (t, false),
        };
        let next = self
            .cron
            .find_next_occurrence(&from.with_timezone(&self.tz), inclusive)
            .ok()?
            .with_timezone(&Utc);
        match self.end {
            Some(end) if next > end => None,
            _ => Some(next),
        }
    }

    /// The last fire at or before `t`, if there was one.
    pub fn last_at_or_before(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let t = match self.end {
            Some(end) if end < t => end,
            _ => t,
        };
        let last = self
            .cron
            .find_previous_occurrence(&t.with_timezone(&self.tz), true)
            .ok()?
            .with_timezone(&Utc);
        match self.start {
            Some(start) if last < start => None,
            _ => Some(last),
        }
    }

    /// The next `n` fires after `t`.
    pub fn upcoming(&self, t: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
        let mut out = Vec::with_capacity(n);
        let mut at = t;
        while out.len() < n {
            match self.next_after(at) {
                Some(next) => {
                    out.push(next);
                    at = next;
                }
                None => break,
            }
        }
        out
    }

    /// Up to `limit` of the latest fires in `(after, until]`, oldest first. It walks backwards,
    /// so a long gap costs `limit` steps, not one per fire.
    pub fn latest_between(
        &self,
        after: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: usize,
    ) -> Vec<DateTime<Utc>> {
        let mut out = Vec::new();
        let mut at = until;
        let mut inclusive = true;
        while out.len() < limit {
            let Some(prev) = (if inclusive {
                self.last_at_or_before(at)
            } else {
                self.last_at_or_before(at - chrono::Duration::milliseconds(1))
            }) else {
                break;
            };
            if prev <= after {
                break;
            }
            out.push(prev);
            at = prev;
            inclusive = false;
        }
        out.reverse();
        out
    }
}

impl Schedule {
    /// What a run this schedule starts sees as its trigger payload: the trigger's `payload`
    /// fields, and `schedule` with the fire time, in UTC and in the schedule's zone, and whether
    /// it is a late run of a fire missed while no node was running.
    pub fn fire_payload(&self, fire: DateTime<Utc>, missed: bool) -> Value {
        let mut out = match &self.payload {
            Some(Value::Object(m)) => m.clone(),
            Some(other) => {
                let mut m = Map::new();
                m.insert("payload".into(), other.clone());
                m
            }
            None => Map::new(),
        };
        let tz = self.plan.timezone();
        out.insert(
            "schedule".into(),
            json!({
                "cron": self.cron,
                "timezone": tz.name(),
                "fire_time": fire.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                "local_time": fire.with_timezone(&tz).to_rfc3339_opts(chrono::SecondsFormat::Millis, false),
                "missed": missed,
            }),
        );
        Value::Object(out)
    }
}

impl Schedule {
    /// The schedule as the API and the CLI show it: its settings and its next `count` fires
    /// after `after`, each in UTC and in the schedule's zone.
    pub fn describe(&self, trigger: usize, after: DateTime<Utc>, count: usize) -> Value {
        let tz = self.plan.timezone();
        let next: Vec<Value> = self
            .plan
            .upcoming(after, count)
            .iter()
            .map(|t| {
                json!({
                    "at": t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    "local": t.with_timezone(&tz).to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
                })
            })
            .collect();
        json!({
            "trigger": trigger,
            "cron": self.cron,
            "timezone": tz.name(),
            "start_at": self.start_at,
            "end_at": self.end_at,
            "catch_up": match self.catch_up {
                crate::model::CatchUp::None => "none",
                crate::model::CatchUp::Latest => "latest",
                crate::model::CatchUp::All => "all",
            },
            "next": next,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(expr: &str, tz: &str) -> Plan {
        Plan::new(compile_cron(expr).unwrap(), tz.parse().unwrap(), None, None)
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn local(p: &Plan, times: &[DateTime<Utc>]) -> Vec<String> {
        times
            .iter()
            .map(|t| t.with_timezone(&p.tz).format("%m-%d %H:%M%:z").to_string())
            .collect()
    }

    #[test]
    fn a_time_skipped_by_spring_forward_fires_once_just_after_the_gap() {
        let p = plan("30 2 * * *", "America/New_York");
        let fires = p.upcoming(at("2026-03-07T00:00:00-05:00"), 3);
        assert_eq!(
            local(&p, &fires),
            [
                "03-07 02:30-05:00",
                "03-08 03:00-04:00",
                "03-09 02:30-04:00"
            ]
        );
    }

    #[test]
    fn a_time_repeated_by_fall_back_fires_once_but_intervals_fire_on_both_passes() {
        let p = plan("30 1 * * *", "America/New_York");
        let fires = p.upcoming(at("2026-10-31T00:00:00-04:00"), 3);
        assert_eq!(
            local(&p, &fires),
            [
                "10-31 01:30-04:00",
                "11-01 01:30-04:00",
                "11-02 01:30-05:00"
            ]
        );

        let p = plan("*/30 * * * *", "America/New_York");
        let fires = p.upcoming(at("2026-11-01T00:45:00-04:00"), 5);
        assert_eq!(
            local(&p, &fires),
            [
                "11-01 01:00-04:00",
                "11-01 01:30-04:00",
                "11-01 01:00-05:00",
                "11-01 01:30-05:00",
                "11-01 02:00-05:00"
            ]
        );
    }

    #[test]
    fn seconds_shorthands_and_bounds() {
        let p = plan("*/10 * * * * *", "UTC");
        assert_eq!(
            p.upcoming(at("2026-01-01T00:00:05Z"), 2),
            [at("2026-01-01T00:00:10Z"), at("2026-01-01T00:00:20Z")]
        );
        for (short, next) in [
            ("@hourly", "2026-01-01T01:00:00Z"),
            ("@daily", "2026-01-02T00:00:00Z"),
            ("@midnight", "2026-01-02T00:00:00Z"),
            ("@weekly", "2026-01-04T00:00:00Z"),
            ("@monthly", "2026-02-01T00:00:00Z"),
            ("@yearly", "2027-01-01T00:00:00Z"),
        ] {
            assert_eq!(
                plan(short, "UTC").next_after(at("2026-01-01T00:00:00Z")),
                Some(at(next)),
                "{short}"
            );
        }
        let tz: Tz = "Europe/Paris".parse().unwrap();
        let bounded = Plan::new(
            compile_cron("0 9 * * *").unwrap(),
            tz,
            parse_bound("2026-06-10", tz, false),
            parse_bound("2026-06-12", tz, true),
        );
        assert_eq!(
            local(&bounded, &bounded.upcoming(at("2026-01-01T00:00:00Z"), 10)),
            [
                "06-10 09:00+02:00",
                "06-11 09:00+02:00",
                "06-12 09:00+02:00"
            ]
        );
        assert_eq!(bounded.last_at_or_before(at("2026-06-10T06:00:00Z")), None);
        // A start within a second does not fire the second it is in.
        let half = Plan::new(
            compile_cron("* * * * * *").unwrap(),
            tz,
            Some(at("2026-01-01T09:00:00.500Z")),
            None,
        );
        assert_eq!(
            half.next_after(at("2026-01-01T08:00:00Z")),
            Some(at("2026-01-01T09:00:01Z"))
        );
        assert_eq!(
            bounded.last_at_or_before(at("2027-01-01T00:00:00Z")),
            Some(at("2026-06-12T07:00:00Z"))
        );
    }

    #[test]
    fn the_latest_fires_of_a_long_gap_are_found_walking_back() {
        let p = plan("* * * * * *", "UTC");
        let got = p.latest_between(at("2020-01-01T00:00:00Z"), at("2026-01-01T00:00:00Z"), 3);
        assert_eq!(
            got,
            [
                at("2025-12-31T23:59:58Z"),
                at("2025-12-31T23:59:59Z"),
                at("2026-01-01T00:00:00Z")
            ]
        );
        let p = plan("0 0 1 1 *", "UTC");
        assert_eq!(
            p.latest_between(at("2025-06-01T00:00:00Z"), at("2026-06-01T00:00:00Z"), 5),
            [at("2026-01-01T00:00:00Z")]
        );
    }

    #[test]
    fn bad_expressions_say_why() {
        assert!(compile_cron("").unwrap_err().contains("empty"));
        assert!(compile_cron("* * *").unwrap_err().contains("3 fields"));
        assert!(
            compile_cron("61 * * * *")
                .unwrap_err()
                .contains("not a valid cron")
        );
        assert!(
            compile_cron("* * * * * * *")
                .unwrap_err()
                .contains("7 fields")
        );
    }
}
