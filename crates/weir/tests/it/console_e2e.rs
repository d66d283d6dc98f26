//! The web console end to end, in a browser: Playwright (`ui/e2e/`, configured by
//! `ui/playwright.config.ts`) drives Debian's chromium against a real `weir serve` on loopback
//! with a SQLite file, which this test starts and fills through the API: a user to sign in as,
//! the quickstart workflow, and runs that were allowed, approved, rejected, or wait for a
//! manager. The browser signs in, follows the navigation, opens a run's path, sees a new run
//! arrive live, approves a request, and runs axe on every page in both themes.
//!
//! Needs node, `ui/node_modules` (`cd ui && npm ci`) and chromium (`WEIR_CHROMIUM`, else
//! `/usr/bin/chromium`); without them the test says it is skipped, or fails under
//! `WEIR_REQUIRE_NODE=1`. `WEIR_SCREENSHOTS=docs/screenshots` also saves a screenshot of every
//! page there (the ones docs/console.md shows).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use serde_json::{Value, json};

use crate::serve::{Server, free_port, poll, scratch};

const ADMIN_KEY: &str = "console-e2e-admin-key";
const EMAIL: &str = "ana@example.com";
const PASSWORD: &str = "a long passphrase";
const QUICKSTART: &str = include_str!("../../../../examples/quickstart.workflow.yaml");
/// Other workflows, so the list looks like a tenant's (they listen to other events).
const NEIGHBOURS: &[&str] = &[
    include_str!("../../../../examples/004-auto-qualify-leads.workflow.json"),
    include_str!("../../../../examples/004-deal-stage-notification.workflow.json"),
    include_str!("../../../../examples/004-lead-nurture.workflow.json"),
];

fn ui_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui")
}

/// The browser to drive, or why these tests cannot run here.
fn tools() -> Result<PathBuf, String> {
    if Command::new("node").arg("--version").output().is_err() {
        return Err("node is not on PATH".into());
    }
    for package in ["@playwright/test", "@axe-core/playwright"] {
        if !ui_dir().join("node_modules").join(package).exists() {
            return Err(format!(
                "ui/node_modules has no {package} (cd ui && npm ci)"
            ));
        }
    }
    let chromium = std::env::var_os("WEIR_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    if !chromium.is_file() {
        return Err(format!(
            "there is no chromium at {} (apt-get install chromium, or set WEIR_CHROMIUM)",
            chromium.display()
        ));
    }
    Ok(chromium)
}

/// Sends an order's checkout event as the admin key: the run it started.
fn checkout(server: &Server, order: &str, total: u64) -> String {
    let event = json!({"event_type": "order.checkout.initiated", "payload": {"order": {"id": order, "total": total}}});
    let (status, answer) = server.with(ADMIN_KEY, "POST", "/api/v1/events", Some(event));
    assert_eq!(status, 200, "{answer}");
    answer["executions"][0]["execution_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no run for {order}: {answer}"))
        .to_owned()
}

/// The pending approval of an order's run.
fn approval_of(server: &Server, execution: &str) -> String {
    let path = format!("/api/v1/approvals?status=pending&execution_id={execution}");
    let found = poll(server, ADMIN_KEY, &path, |v| {
        v["approvals"]
            .as_array()
            .is_some_and(|a| a.iter().any(|a| a["execution_id"] == execution))
    });
    let approvals = found["approvals"].as_array().unwrap();
    let approval = approvals
        .iter()
        .find(|a| a["execution_id"] == execution)
        .unwrap();
    approval["id"].as_str().unwrap().to_owned()
}

/// Decides an order's approval through the API and waits for its run to finish.
fn decide(server: &Server, execution: &str, verdict: &str, reason: &str) {
    let approval = approval_of(server, execution);
    let (status, answer) = server.with(
        ADMIN_KEY,
        "POST",
        &format!("/api/v1/approvals/{approval}/{verdict}"),
        Some(json!({"reason": reason})),
    );
    assert_eq!(status, 200, "{answer}");
    poll(
        server,
        ADMIN_KEY,
        &format!("/api/v1/executions/{execution}"),
        |v| v["status"] == "completed",
    );
}

#[test]
fn the_console_works_end_to_end_in_a_browser() {
    let chromium = match tools() {
        Ok(chromium) => chromium,
        Err(why) => {
            let msg = format!("{why}: the console's end-to-end tests are SKIPPED");
            if std::env::var("WEIR_REQUIRE_NODE").is_ok_and(|v| v == "1") {
                panic!("{msg}");
            }
            eprintln!("\n*** {msg} ***\n");
            return;
        }
    };
    let started = Instant::now();
    let dir = scratch("console-e2e");
    let server = Server::start_with(&dir, free_port(), &[("WEIR_ADMIN_KEY", ADMIN_KEY)]);

    // Who signs in: an admin, in the team the quickstart's approvals ask.
    let user = json!({"email": EMAIL, "password": PASSWORD, "role": "admin", "name": "Ana Lima"});
    let (status, made) = server.with(ADMIN_KEY, "POST", "/api/v1/users", Some(user));
    assert_eq!(status, 201, "{made}");
    let team = json!({"name": "sales_manager", "description": "Approves orders of $10,000 or more", "members": [EMAIL]});
    let (status, made) = server.with(ADMIN_KEY, "POST", "/api/v1/teams", Some(team));
    assert_eq!(status, 201, "{made}");
    // The tests' own key for the events they send and the runs they check.
    let key = json!({"tenant_id": "default", "environment": "production", "role": "editor", "name": "checkout service"});
    let (status, made) = server.with(ADMIN_KEY, "POST", "/api/v1/api-keys", Some(key));
    assert_eq!(status, 201, "{made}");
    let api_key = made["key"].as_str().unwrap().to_owned();

    let (status, deployed) = server.call(
        "POST",
        "/api/v1/workflows",
        Some(ADMIN_KEY),
        Some("application/yaml"),
        QUICKSTART.as_bytes(),
    );
    assert_eq!(status, 201, "{deployed}");
    for definition in NEIGHBOURS {
        let definition: Value = serde_json::from_str(definition).unwrap();
        let (status, deployed) =
            server.with(ADMIN_KEY, "POST", "/api/v1/workflows", Some(definition));
        assert_eq!(status, 201, "{deployed}");
    }

    // Runs in every state the pages show.
    checkout(&server, "ord_1001", 120);
    let approved = checkout(&server, "ord_1002", 25_000);
    decide(&server, &approved, "approve", "known customer");
    let rejected = checkout(&server, "ord_1003", 61_000);
    decide(&server, &rejected, "reject", "card declined twice");
    let waiting = checkout(&server, "ord_1004", 18_500);
    let to_approve = checkout(&server, "ord_1005", 48_000);
    approval_of(&server, &waiting);
    approval_of(&server, &to_approve);
    let seeded = started.elapsed();

    let out = Command::new("npx")
        .args(["--no", "playwright", "test"])
        .current_dir(ui_dir())
        .env("WEIR_CHROMIUM", &chromium)
        .env(
            "WEIR_E2E_BASE_URL",
            format!("http://127.0.0.1:{}", server.port),
        )
        .env("WEIR_E2E_EMAIL", EMAIL)
        .env("WEIR_E2E_PASSWORD", PASSWORD)
        .env("WEIR_E2E_API_KEY", &api_key)
        .env("WEIR_E2E_WORKFLOW_ID", "order_check")
        .env("WEIR_E2E_WORKFLOW_NAME", "Order check")
        .env("WEIR_E2E_EVENT_TYPE", "order.checkout.initiated")
        .env("WEIR_E2E_APPROVED_EXECUTION_ID", &approved)
        .env("WEIR_E2E_WAITING_EXECUTION_ID", &waiting)
        .env("WEIR_E2E_TO_APPROVE_ORDER_ID", "ord_1005")
        .env("WEIR_E2E_TO_APPROVE_EXECUTION_ID", &to_approve)
        .env("FORCE_COLOR", "0")
        .output()
        .expect("run npx playwright test");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // Playwright's scratch folder (ui/e2e/env.ts): the session, and on failure its screenshots.
    let playwright_scratch = std::env::temp_dir().join(format!("weir-e2e-{}", server.port));
    assert!(
        out.status.success(),
        "Playwright failed ({}); what it kept is in {}:\n{report}",
        out.status,
        playwright_scratch.display()
    );
    let _ = std::fs::remove_dir_all(playwright_scratch);
    eprintln!(
        "{report}\nconsole e2e: server and data {:.1} s, Playwright {:.1} s",
        seeded.as_secs_f64(),
        (started.elapsed() - seeded).as_secs_f64()
    );
    drop(server);
    let _ = std::fs::remove_dir_all(dir);
}
