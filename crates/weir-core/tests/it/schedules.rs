//! Schedule fire times against an independent reference: Python's croniter, over a year of
//! fires for 50 expressions in 5 zones, with windows around every DST transition.

use std::io::Write;
use std::process::{Command, Stdio};

use chrono::{DateTime, Duration, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use serde_json::{Value, json};
use weir_core::schedule::{Plan, compile_cron};

const EXPRESSIONS: [&str; 50] = [
    "* * * * *",
    "*/5 * * * *",
    "*/7 * * * *",
    "0 * * * *",
    "15,45 * * * *",
    "0 9 * * *",
    "30 2 * * *",
    "0 2 * * *",
    "59 1 * * *",
    "30 1 * * *",
    "0 3 * * *",
    "45 2 * * *",
    "0 0 * * *",
    "0 12 * * MON-FRI",
    "0 9 * * 1,3,5",
    "0 18 * * SAT,SUN",
    "0 0 1 * *",
    "0 0 15 * *",
    "0 6 1,15 * *",
    "0 0 L * *",
    "0 10 * * 5#3",
    "0 0 1 1 *",
    "0 0 29 2 *",
    "0 0 31 * *",
    "0 8 1-7 * MON",
    "0 7 13 * 5",
    "*/15 1-3 * * *",
    "0 */2 * * *",
    "0 */3 * * *",
    "30 */6 * * *",
    "0 0,1,2,3 * * *",
    "5-10 2 * * *",
    "0 9-17 * * MON-FRI",
    "0 0 * JAN,JUL *",
    "0 12 * 3-10 *",
    "0 0 1 */3 *",
    "0 22 * * 0",
    "45 23 31 12 *",
    "@hourly",
    "@daily",
    "@weekly",
    "@monthly",
    "@yearly",
    "0 0 0 * * *",
    "30 30 2 * * *",
    "*/30 * * * * *",
    "0 */10 * * * *",
    "15 0 9 * * MON",
    "0 0 1-4 * * *",
    "* * * * * *",
];

const ZONES: [&str; 5] = [
    "America/New_York",
    "Europe/Berlin",
    "Australia/Sydney",
    "Asia/Kolkata",
    "Pacific/Chatham",
];

/// The instants in 2026 at which `tz` changes its offset, each with whether clocks go forward.
fn transitions(tz: Tz) -> Vec<(DateTime<Utc>, bool)> {
    let mut out = Vec::new();
    let mut t = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let end = Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap();
    let offset = |t: DateTime<Utc>| t.with_timezone(&tz).offset().fix().local_minus_utc();
    while t < end {
        let next = t + Duration::minutes(15);
        if offset(next) != offset(t) {
            out.push((next, offset(next) > offset(t)));
        }
        t = next;
    }
    out
}

struct Case {
    expr: &'static str,
    tz: Tz,
    start: DateTime<Utc>,
    count: usize,
}

fn cases() -> Vec<Case> {
    let year = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let mut out = Vec::new();
    for tz in ZONES {
        let tz: Tz = tz.parse().unwrap();
        let shifts = transitions(tz);
        for expr in EXPRESSIONS {
            // A year of fires (all of them for daily and sparser expressions)...
            out.push(Case {
                expr,
                tz,
                start: year,
                count: 400,
            });
            // ...and every DST transition, met from far enough before it that both the
            // per-second and the daily expressions cross it.
            let per_second = expr.split_whitespace().count() == 6 && expr.starts_with('*');
            for &(at, _) in &shifts {
                let count = if per_second { 700 } else { 150 };
                out.push(Case {
                    expr,
                    tz,
                    start: at - Duration::minutes(10),
                    count,
                });
                out.push(Case {
                    expr,
                    tz,
                    start: at - Duration::hours(26),
                    count: 60,
                });
            }
        }
    }
    out
}

fn reference(cases: &[Case]) -> Option<Vec<Vec<i64>>> {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/reference/croniter_fires.py"
    );
    let has = Command::new("python3")
        .args(["-c", "import croniter"])
        .output();
    if !matches!(has, Ok(o) if o.status.success()) {
        assert!(
            std::env::var_os("WEIR_REQUIRE_CRONITER").is_none(),
            "WEIR_REQUIRE_CRONITER is set but python3 cannot import croniter (pip install croniter==7.0.0)"
        );
        eprintln!(
            "\n*** SKIPPED: the cron reference test needs python3 with croniter (pip install croniter==7.0.0) ***\n"
        );
        return None;
    }
    let request = json!({
        "cases": cases.iter().map(|c| json!({
            "expr": c.expr, "tz": c.tz.name(), "start": c.start.timestamp(), "count": c.count,
        })).collect::<Vec<Value>>()
    });
    let mut child = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(request.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "the croniter script failed");
    Some(serde_json::from_slice(&out.stdout).expect("the croniter script prints JSON"))
}

/// Whether seconds, minutes and hours are each one value: a "time of day" job, which fires
/// once when a fall-back repeats its time and just after the gap when a spring-forward skips
/// it. Lists, ranges, steps and wildcards are intervals: they fire on both passes of a
/// repeated hour and skip times in a gap.
fn fixed_time(expr: &str) -> bool {
    let expanded = match expr {
        "@hourly" => "0 * * * *",
        e if e.starts_with('@') => "0 0 * * *",
        e => e,
    };
    let fields: Vec<&str> = expanded.split_whitespace().collect();
    let time = if fields.len() == 6 {
        &fields[..3]
    } else {
        &fields[..2]
    };
    time.iter().all(|f| f.chars().all(|c| c.is_ascii_digit()))
}

/// croniter's fires, with Weir's documented DST rules where the two differ: croniter fires a
/// fixed time twice in a repeated hour (Weir once, on the first pass), keeps the seconds of a
/// time moved out of a gap (Weir fires at the first instant after the gap), and moves list,
/// range and step times out of a gap (Weir skips them, as croner and Vixie cron do for
/// intervals). Only fires within three hours after a transition are ever changed.
fn with_weir_dst_rules(
    case: &Case,
    cron: &croner::Cron,
    springs: &[DateTime<Utc>],
    fires: &[i64],
) -> Vec<i64> {
    let fixed = fixed_time(case.expr);
    let mut out: Vec<i64> = Vec::new();
    for &s in fires {
        let t = Utc.timestamp_opt(s, 0).unwrap();
        let local = t.with_timezone(&case.tz);
        let after_spring = springs
            .iter()
            .find(|&&at| t >= at && t < at + Duration::hours(3));
        let mut fire = t;
        if let Some(&gap_end) = after_spring
            && !cron.is_time_matching(&local).unwrap()
        {
            if !fixed {
                continue;
            }
            fire = gap_end;
        }
        // The second pass of a repeated wall clock time: a fixed time fired on the first.
        let second_pass = matches!(
            case.tz.from_local_datetime(&local.naive_local()),
            chrono::LocalResult::Ambiguous(_, later) if later == local
        );
        if fixed && second_pass {
            continue;
        }
        if out.last() != Some(&fire.timestamp()) {
            out.push(fire.timestamp());
        }
    }
    out
}

#[test]
fn fire_times_agree_with_croniter_over_a_year_in_five_zones() {
    let cases = cases();
    let clock = std::time::Instant::now();
    let Some(reference) = reference(&cases) else {
        return;
    };
    let python = clock.elapsed();
    // Fires from 2026 to early 2027: far-future offsets are the tz databases' guesses.
    let horizon = Utc
        .with_ymd_and_hms(2027, 2, 1, 0, 0, 0)
        .unwrap()
        .timestamp();
    let mut mismatches = Vec::new();
    let (mut compared, mut adjusted) = (0usize, 0usize);
    let mut springs: std::collections::HashMap<Tz, Vec<DateTime<Utc>>> = Default::default();
    for (case, raw) in cases.iter().zip(&reference) {
        let springs = springs.entry(case.tz).or_insert_with(|| {
            transitions(case.tz)
                .into_iter()
                .filter(|t| t.1)
                .map(|t| t.0)
                .collect()
        });
        let cron = compile_cron(case.expr).unwrap();
        let plan = Plan::new(cron.clone(), case.tz, None, None);
        // Compare up to the last time both looked at.
        let until = raw.last().copied().unwrap_or(horizon).min(horizon);
        let raw: Vec<i64> = raw.iter().copied().filter(|&t| t <= until).collect();
        let want: Vec<i64> = with_weir_dst_rules(case, &cron, springs, &raw)
            .into_iter()
            .filter(|&t| t <= until)
            .collect();
        if want != raw {
            adjusted += 1;
        }
        let got: Vec<i64> = plan
            .upcoming(case.start, case.count)
            .iter()
            .map(|t| t.timestamp())
            .filter(|&t| t <= until)
            .collect();
        compared += want.len();
        if got != want {
            let i = got
                .iter()
                .zip(&want)
                .position(|(a, b)| a != b)
                .unwrap_or(got.len().min(want.len()));
            let show = |v: &[i64]| -> Vec<String> {
                v.iter()
                    .skip(i.saturating_sub(1))
                    .take(4)
                    .map(|&s| {
                        Utc.timestamp_opt(s, 0)
                            .unwrap()
                            .with_timezone(&case.tz)
                            .to_rfc3339()
                    })
                    .collect()
            };
            mismatches.push(format!(
                "{} in {} after {}: weir {:?}, croniter {:?}",
                case.expr,
                case.tz.name(),
                case.start,
                show(&got),
                show(&want)
            ));
        }
    }
    eprintln!(
        "compared {compared} fire times in {} cases ({adjusted} crossed a DST rule where Weir and croniter differ); croniter took {python:?}, the rest {:?}",
        cases.len(),
        clock.elapsed() - python
    );
    assert!(compared > 100_000, "only {compared} fire times compared");
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}
