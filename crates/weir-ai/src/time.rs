//! Time phrases: durations ("24 hours", "a week", "48h"), and schedules ("every weekday at 9am",
//! "on the first day of every month at 6am", "every 15 minutes", "midnight UTC") turned into a
//! five-field cron and an IANA time zone.

use crate::lexicon::{TIMEZONES, number_word};
use crate::token::{Kind, Token};

const MINUTE: u64 = 60;
const HOUR: u64 = 3600;
const DAY: u64 = 86_400;

fn unit_seconds(w: &str) -> Option<u64> {
    Some(match w {
        "second" | "seconds" | "sec" | "secs" => 1,
        "minute" | "minutes" | "min" | "mins" => MINUTE,
        "hour" | "hours" | "hr" | "hrs" | "h" => HOUR,
        "day" | "days" | "business day" | "d" => DAY,
        "week" | "weeks" | "wk" | "wks" => 7 * DAY,
        "month" | "months" => 30 * DAY,
        "year" | "years" => 365 * DAY,
        _ => return None,
    })
}

/// A duration starting at token `i`: "24 hours", "two days", "a week", "48h", "1h30m". Returns
/// the seconds and how many tokens it took.
pub fn duration_at(toks: &[Token], i: usize) -> Option<(u64, usize)> {
    let t = toks.get(i)?;
    // One word: "24h", "7d", "15m", "48hrs".
    if t.kind == Kind::Word
        && t.low.starts_with(|c: char| c.is_ascii_digit())
        && let Some(secs) = compact_duration(&t.low)
    {
        return Some((secs, 1));
    }
    let amount = match (t.kind, t.num) {
        (Kind::Number, Some(n)) if !n.money && !n.percent && n.value > 0.0 => n.value,
        (Kind::Word, _) => number_word(&t.low)?,
        _ => return None,
    };
    let mut j = i + 1;
    // "a couple of days", "a few hours" are not exact: "a couple" is 2.
    if toks.get(j).is_some_and(|t| t.low == "couple") {
        j += 1;
        if toks.get(j).is_some_and(|t| t.low == "of") {
            j += 1;
        }
    }
    // "24 business hours" reads as hours.
    if toks
        .get(j)
        .is_some_and(|t| t.low == "business" || t.low == "full" || t.low == "calendar")
    {
        j += 1;
    }
    let unit = toks.get(j).filter(|t| t.is_word())?;
    let per = unit_seconds(&unit.low)?;
    let secs = (amount * per as f64).round() as u64;
    (secs > 0).then_some((secs, j + 1 - i))
}

/// "24h", "7d", "1h30m", "48hrs", "2w".
fn compact_duration(s: &str) -> Option<u64> {
    let mut total = 0u64;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let n: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let letters = rest.chars().take_while(char::is_ascii_alphabetic).count();
        let per = match &rest[..letters] {
            "s" => 1,
            "m" | "min" | "mins" => MINUTE,
            "h" | "hr" | "hrs" => HOUR,
            "d" => DAY,
            "w" => 7 * DAY,
            _ => return None,
        };
        rest = &rest[letters..];
        total = total.checked_add(n.checked_mul(per)?)?;
    }
    (total > 0).then_some(total)
}

/// A duration as weir writes it: "24h", "3d", "90m", "45s".
pub fn format_duration(secs: u64) -> String {
    if secs >= DAY && secs.is_multiple_of(DAY) {
        format!("{}d", secs / DAY)
    } else if secs >= HOUR && secs.is_multiple_of(HOUR) {
        format!("{}h", secs / HOUR)
    } else if secs >= MINUTE && secs.is_multiple_of(MINUTE) {
        format!("{}m", secs / MINUTE)
    } else {
        format!("{secs}s")
    }
}

/// Days in a due date ("within 3 days" → 3), rounding up.
pub fn days(secs: u64) -> u64 {
    secs.div_ceil(DAY)
}

/// A schedule read from a prompt.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    pub cron: String,
    pub timezone: String,
    /// The prompt gave no time of day (a default was used).
    pub time_assumed: bool,
    /// The prompt named a frequency ("every weekday", "hourly"), not only a time of day.
    pub recurring: bool,
}

const DAYS: &[(&str, &str)] = &[
    ("monday", "MON"),
    ("mondays", "MON"),
    ("mon", "MON"),
    ("tuesday", "TUE"),
    ("tuesdays", "TUE"),
    ("tue", "TUE"),
    ("tues", "TUE"),
    ("wednesday", "WED"),
    ("wednesdays", "WED"),
    ("wed", "WED"),
    ("thursday", "THU"),
    ("thursdays", "THU"),
    ("thu", "THU"),
    ("thurs", "THU"),
    ("friday", "FRI"),
    ("fridays", "FRI"),
    ("fri", "FRI"),
    ("saturday", "SAT"),
    ("saturdays", "SAT"),
    ("sat", "SAT"),
    ("sunday", "SUN"),
    ("sundays", "SUN"),
    ("sun", "SUN"),
];

fn day_code(w: &str) -> Option<&'static str> {
    DAYS.iter().find(|(n, _)| *n == w).map(|(_, c)| *c)
}

/// What a frequency word sets.
#[derive(Default)]
struct Parts {
    minute: Option<String>,
    hour: Option<String>,
    dom: Option<String>,
    month: Option<String>,
    dow: Vec<&'static str>,
    weekdays: bool,
    weekly: bool,
    found: bool,
    default_hour: Option<u32>,
    timezone: Option<String>,
}

/// Finds a schedule in the tokens, marking what it read as used. `None` when the prompt names
/// no recurring time.
pub fn schedule(toks: &[Token], used: &mut [bool]) -> Option<Schedule> {
    let mut p = Parts::default();
    let mut clock: Option<(u32, u32)> = None;
    let low = |i: usize| toks.get(i).map_or("", |t: &Token| t.low.as_str());
    let mut i = 0;
    let mark = |used: &mut [bool], a: usize, b: usize| {
        for u in used.iter_mut().take(b).skip(a) {
            *u = true;
        }
    };
    while i < toks.len() {
        if used[i] {
            i += 1;
            continue;
        }
        let w = low(i);
        let every = matches!(w, "every" | "each" | "per");
        // "every 15 minutes", "every 2 hours"
        if every
            && let Some(n) = toks.get(i + 1).and_then(|t| t.num).filter(|n| !n.money)
            && let Some(per) = unit_seconds(low(i + 2))
        {
            let n = n.value as u64;
            match per {
                MINUTE if (1..60).contains(&n) => {
                    p.minute = Some(format!("*/{n}"));
                    p.hour = Some("*".into());
                }
                HOUR if (1..24).contains(&n) => {
                    p.minute = Some("0".into());
                    p.hour = Some(format!("*/{n}"));
                }
                DAY if (1..32).contains(&n) => {
                    p.dom = Some(format!("*/{n}"));
                }
                _ => {}
            }
            p.found = true;
            mark(used, i, i + 3);
            i += 3;
            continue;
        }
        let next = low(i + 1);
        let (kind, len) =
            if every || (w == "on" && (next == "weekdays" || day_code(next).is_some())) {
                (next, 2)
            } else {
                (w, 1)
            };
        let mut took = true;
        match kind {
            "weekday" | "weekdays" | "workday" | "workdays" | "business day" => p.weekdays = true,
            "day" | "daily" | "night" | "nightly" | "evening" | "morning" | "midnight"
                if every || matches!(kind, "daily" | "nightly") =>
            {
                if kind == "morning" {
                    p.default_hour = Some(9);
                } else if kind == "evening" {
                    p.default_hour = Some(18);
                } else if kind == "night" || kind == "nightly" || kind == "midnight" {
                    clock.get_or_insert((0, 0));
                }
            }
            "hour" | "hourly" if every || kind == "hourly" => {
                p.minute = Some("0".into());
                p.hour = Some("*".into());
            }
            "minute" if every => {
                p.minute = Some("*".into());
                p.hour = Some("*".into());
            }
            "week" | "weekly" if every || kind == "weekly" => p.weekly = true,
            "month" | "monthly" if every || kind == "monthly" => {
                p.dom.get_or_insert_with(|| "1".into());
            }
            "quarter" | "quarterly" if every || kind == "quarterly" => {
                p.dom.get_or_insert_with(|| "1".into());
                p.month = Some("1,4,7,10".into());
            }
            "year" | "yearly" | "annually" | "annual" if every || kind != "year" => {
                p.dom.get_or_insert_with(|| "1".into());
                p.month = Some("1".into());
            }
            "weekend" | "weekends" if every || w == "on" || kind == "weekends" => {
                p.dow = vec!["SAT", "SUN"];
            }
            d if day_code(d).is_some() && (every || w == "on" || d.ends_with('s')) => {
                // Days joined by "and" or commas: "every Monday and Thursday".
                let mut j = i + len - 1;
                let mut end = i + len;
                loop {
                    if let Some(c) = day_code(low(j)) {
                        if !p.dow.contains(&c) {
                            p.dow.push(c);
                        }
                        end = j + 1;
                    }
                    if matches!(low(j + 1), "and" | "," | "or" | "&")
                        && day_code(low(j + 2)).is_some()
                    {
                        j += 2;
                    } else {
                        break;
                    }
                }
                mark(used, i, end);
                p.found = true;
                i = end;
                continue;
            }
            _ => took = false,
        }
        if took {
            p.found = true;
            mark(used, i, i + len);
            i += len;
            continue;
        }
        // "on the first (day) of every month", "on the 15th of each month", "at the end of
        // every month", "last day of the month".
        if let Some((dom, len)) = day_of_month(toks, i) {
            p.dom = Some(dom);
            p.found = true;
            mark(used, i, i + len);
            i += len;
            continue;
        }
        // Times of day: "at 9am", "at 17:00", "at midnight", "at noon".
        let at = usize::from(w == "at");
        let t = &toks[i + at.min(toks.len() - 1 - i)];
        let c = match t.kind {
            Kind::Clock => t.clock,
            _ => match t.low.as_str() {
                "midnight" => Some((0, 0)),
                "noon" | "midday" => Some((12, 0)),
                _ => None,
            },
        };
        if let Some(c) = c.filter(|(h, m)| *h < 24 && *m < 60) {
            clock = Some(c);
            mark(used, i, i + at + 1);
            i += at + 1;
            continue;
        }
        // "at 9" after a frequency.
        if w == "at"
            && p.found
            && let Some(n) = toks.get(i + 1).and_then(|t| t.num)
            && !n.money
            && n.value.fract() == 0.0
            && (0.0..24.0).contains(&n.value)
            && toks
                .get(i + 2)
                .is_none_or(|t| unit_seconds(&t.low).is_none())
        {
            clock = Some((n.value as u32, 0));
            mark(used, i, i + 2);
            i += 2;
            continue;
        }
        i += 1;
    }
    if !p.found && clock.is_none() {
        return None;
    }
    p.timezone = timezone(toks, used);
    if p.weekly && p.dow.is_empty() && !p.weekdays {
        p.dow.push("MON");
    }
    let time_assumed = clock.is_none() && p.minute.is_none() && p.hour.is_none();
    let (hour, minute) = match clock {
        Some((h, m)) => (h.to_string(), m.to_string()),
        None => (
            p.hour
                .clone()
                .unwrap_or_else(|| p.default_hour.unwrap_or(9).to_string()),
            p.minute.clone().unwrap_or_else(|| "0".into()),
        ),
    };
    let dow = if p.weekdays {
        "MON-FRI".to_owned()
    } else if p.dow.is_empty() {
        "*".to_owned()
    } else {
        p.dow.join(",")
    };
    let cron = format!(
        "{minute} {hour} {} {} {dow}",
        p.dom.as_deref().unwrap_or("*"),
        p.month.as_deref().unwrap_or("*"),
    );
    Some(Schedule {
        cron,
        timezone: p.timezone.unwrap_or_else(|| "UTC".into()),
        time_assumed,
        recurring: p.found,
    })
}

fn ordinal_day(t: &Token) -> Option<u32> {
    if let Some(n) = t.num.filter(|n| n.ordinal) {
        return Some(n.value as u32);
    }
    Some(match t.low.as_str() {
        "first" => 1,
        "second" => 2,
        "third" => 3,
        "fifth" => 5,
        "tenth" => 10,
        "fifteenth" => 15,
        "twentieth" => 20,
        _ => return None,
    })
}

/// "the first day of every month", "the 15th of each month", "the end of the month", "the last
/// day of the month": the day-of-month field and the tokens taken.
fn day_of_month(toks: &[Token], i: usize) -> Option<(String, usize)> {
    let low = |k: usize| toks.get(k).map_or("", |t: &Token| t.low.as_str());
    let mut j = i;
    if matches!(low(j), "on" | "at" | "by") {
        j += 1;
    }
    if low(j) == "the" {
        j += 1;
    }
    let dom = if matches!(low(j), "last" | "end") {
        j += 1;
        "L".to_owned()
    } else {
        let d = toks
            .get(j)
            .and_then(ordinal_day)
            .filter(|d| (1..=31).contains(d))?;
        j += 1;
        d.to_string()
    };
    if low(j) == "day" {
        j += 1;
    }
    if low(j) != "of" {
        return None;
    }
    j += 1;
    if matches!(low(j), "every" | "each" | "the" | "a") {
        j += 1;
    }
    if low(j) != "month" {
        return None;
    }
    Some((dom, j + 1 - i))
}

/// A time zone named anywhere: "UTC", "New York time", "Europe/Paris", "Paris time".
pub fn timezone(toks: &[Token], used: &mut [bool]) -> Option<String> {
    for i in 0..toks.len() {
        if used[i] {
            continue;
        }
        let raw = &toks[i].raw;
        // An IANA name as written.
        if raw.contains('/')
            && raw.chars().next().is_some_and(|c| c.is_ascii_uppercase())
            && raw.split('/').all(|p| !p.is_empty())
        {
            used[i] = true;
            return Some(raw.clone());
        }
        for (phrase, zone) in TIMEZONES {
            let words: Vec<&str> = phrase.split(' ').collect();
            let matches = words
                .iter()
                .enumerate()
                .all(|(k, w)| toks.get(i + k).is_some_and(|t| t.low == *w));
            // Short codes only in capitals ("ET", "PT"), so "at" or "pt" in text are not zones.
            let short = phrase.len() <= 3 && !["utc", "gmt"].contains(phrase);
            if matches && (!short || toks[i].raw.chars().all(|c| c.is_ascii_uppercase())) {
                let mut end = i + words.len();
                if toks.get(end).is_some_and(|t| t.low == "time") {
                    end += 1;
                }
                for u in used.iter_mut().take(end).skip(i) {
                    *u = true;
                }
                return Some((*zone).to_owned());
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::tokenize;

    fn dur(s: &str) -> Option<u64> {
        let t = tokenize(s);
        duration_at(&t, 0).map(|(d, _)| d)
    }

    fn cron(s: &str) -> Option<(String, String)> {
        let t = tokenize(s);
        let mut used = vec![false; t.len()];
        schedule(&t, &mut used).map(|s| (s.cron, s.timezone))
    }

    #[test]
    fn durations_in_words_numbers_and_compact_forms() {
        assert_eq!(dur("24 hours"), Some(86_400));
        assert_eq!(dur("two days"), Some(172_800));
        assert_eq!(dur("a week"), Some(604_800));
        assert_eq!(dur("an hour"), Some(3600));
        assert_eq!(dur("48h"), Some(172_800));
        assert_eq!(dur("1h30m"), Some(5400));
        assert_eq!(dur("15 minutes"), Some(900));
        assert_eq!(dur("3 business days"), Some(259_200));
        assert_eq!(dur("$5 days"), None);
        assert_eq!(dur("orders"), None);
        assert_eq!(format_duration(86_400), "1d");
        assert_eq!(format_duration(4 * 3600), "4h");
        assert_eq!(format_duration(90 * 60), "90m");
        assert_eq!(format_duration(14 * 86_400), "14d");
        assert_eq!(days(3 * 86_400), 3);
        assert_eq!(days(3600), 1);
    }

    #[test]
    fn schedules_become_cron() {
        let c = |s: &str| cron(s).map(|(c, _)| c);
        assert_eq!(
            c("every weekday at 9am").as_deref(),
            Some("0 9 * * MON-FRI")
        );
        assert_eq!(c("every day at midnight").as_deref(), Some("0 0 * * *"));
        assert_eq!(c("daily at 17:30").as_deref(), Some("30 17 * * *"));
        assert_eq!(
            c("every Monday at 8:30 AM").as_deref(),
            Some("30 8 * * MON")
        );
        assert_eq!(
            c("every Monday and Thursday at 10am").as_deref(),
            Some("0 10 * * MON,THU")
        );
        assert_eq!(c("on Fridays at 5pm").as_deref(), Some("0 17 * * FRI"));
        assert_eq!(c("each Friday at 5pm").as_deref(), Some("0 17 * * FRI"));
        assert_eq!(c("every 15 minutes").as_deref(), Some("*/15 * * * *"));
        assert_eq!(c("every 2 hours").as_deref(), Some("0 */2 * * *"));
        assert_eq!(c("hourly").as_deref(), Some("0 * * * *"));
        assert_eq!(c("every hour").as_deref(), Some("0 * * * *"));
        assert_eq!(
            c("on the first day of every month at 6am").as_deref(),
            Some("0 6 1 * *")
        );
        assert_eq!(
            c("on the 15th of each month at 8").as_deref(),
            Some("0 8 15 * *")
        );
        assert_eq!(c("at the end of every month").as_deref(), Some("0 9 L * *"));
        assert_eq!(c("every night").as_deref(), Some("0 0 * * *"));
        assert_eq!(c("every morning").as_deref(), Some("0 9 * * *"));
        assert_eq!(c("weekly").as_deref(), Some("0 9 * * MON"));
        assert_eq!(
            c("every weekend at noon").as_deref(),
            Some("0 12 * * SAT,SUN")
        );
        assert_eq!(c("quarterly").as_deref(), Some("0 9 1 1,4,7,10 *"));
        assert_eq!(c("every order over $5,000"), None);
        assert_eq!(c("each lead"), None);
    }

    #[test]
    fn time_zones() {
        let tz = |s: &str| cron(s).map(|(_, z)| z);
        assert_eq!(tz("every day at midnight UTC").as_deref(), Some("UTC"));
        assert_eq!(
            tz("every Monday at 8:30 AM New York time").as_deref(),
            Some("America/New_York")
        );
        assert_eq!(
            tz("each weekday at 7:30am Europe/Paris").as_deref(),
            Some("Europe/Paris")
        );
        assert_eq!(tz("daily at 9am ET").as_deref(), Some("America/New_York"));
        assert_eq!(tz("daily at 9am").as_deref(), Some("UTC"));
        assert_eq!(
            tz("daily at 9am London time").as_deref(),
            Some("Europe/London")
        );
    }

    #[test]
    fn a_missing_time_of_day_is_reported() {
        let t = tokenize("send a daily report");
        let mut used = vec![false; t.len()];
        let s = schedule(&t, &mut used).expect("daily");
        assert!(s.time_assumed);
        assert_eq!(s.cron, "0 9 * * *");
    }
}
