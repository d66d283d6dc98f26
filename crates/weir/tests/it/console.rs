//! The web console as `weir serve` serves it: the app built into the binary (no Node needed),
//! client-side routes, cache headers, the Content-Security-Policy, and the CSRF rule for a
//! signed-in browser's writes.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::json;

use crate::serve::{Server, free_port, scratch};

/// One raw HTTP/1.1 exchange: status, head and body as text.
fn raw(
    server: &Server,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String, String) {
    let mut s = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\nContent-Length: {}\r\n",
        server.port,
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body.as_bytes()).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (status, head.to_ascii_lowercase(), body.to_owned())
}

const CSP: &str =
    "content-security-policy: default-src 'self'; script-src 'self'; style-src 'self'";

#[test]
fn the_console_is_served_from_the_binary_with_a_strict_policy() {
    let dir = scratch("console");
    let server = Server::start_with(&dir, free_port(), &[("WEIR_ADMIN_KEY", "console-key")]);
    // The page, at / and at any client-side route.
    for path in [
        "/",
        "/executions/0191f5a0-0000-7000-8000-000000000000",
        "/approvals?status=pending",
    ] {
        let (status, head, body) = raw(&server, "GET", path, &[], "");
        assert_eq!(status, 200, "{path}: {head}");
        assert!(head.contains("content-type: text/html"), "{head}");
        assert!(head.contains(CSP), "{head}");
        assert!(head.contains("cache-control: no-cache"), "{head}");
        assert!(head.contains("x-frame-options: deny"), "{head}");
        assert!(body.contains("<script type=\"module\""), "{body}");
        assert!(
            !body.contains("<script>") && !body.contains("style="),
            "nothing inline: {body}"
        );
    }
    // Its hashed assets, cached for good.
    let (_, _, page) = raw(&server, "GET", "/", &[], "");
    let script = page
        .split("src=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("the page loads a script");
    assert!(script.starts_with("/assets/"), "{script}");
    let (status, head, body) = raw(&server, "GET", script, &[], "");
    assert_eq!(status, 200);
    assert!(
        head.contains("content-type: text/javascript")
            || head.contains("content-type: application/javascript"),
        "{head}"
    );
    assert!(
        head.contains("cache-control: public, max-age=31536000, immutable"),
        "{head}"
    );
    assert!(!body.is_empty());
    // The API's own 404s stay JSON, also under the console's paths' look.
    let (status, head, body) = raw(&server, "GET", "/api/v1/nothing-here", &[], "");
    assert_eq!(status, 404);
    assert!(
        head.contains("application/json") && body.contains("no such endpoint"),
        "{body}"
    );
    let (status, _, _) = raw(&server, "POST", "/", &[], "");
    assert_eq!(status, 404, "the console takes no writes");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_signed_in_browser_writes_only_with_the_csrf_header_from_its_own_origin() {
    let dir = scratch("csrf");
    let server = Server::start_with(&dir, free_port(), &[("WEIR_ADMIN_KEY", "csrf-key")]);
    let user =
        json!({"email": "ed@example.com", "password": "a long passphrase", "role": "editor"});
    assert_eq!(
        server
            .with("csrf-key", "POST", "/api/v1/users", Some(user))
            .0,
        201
    );
    let login = r#"{"email": "ed@example.com", "password": "a long passphrase"}"#;
    let (status, head, _) = raw(
        &server,
        "POST",
        "/api/v1/auth/login",
        &[("Content-Type", "application/json")],
        login,
    );
    assert_eq!(status, 201, "{head}");
    let token = head
        .split("weir_session=")
        .nth(1)
        .and_then(|t| t.split(';').next())
        .expect("a session cookie")
        .to_owned();
    let cookie = format!("weir_session={token}");
    let wf = r#"{"workflow_id": "w", "trigger": {"type": "event", "event": "e"}, "steps": [{"id": "a", "type": "action", "action": "allow"}]}"#;
    let json_type = ("Content-Type", "application/json");
    // Reading by cookie needs nothing more.
    let (status, _, _) = raw(
        &server,
        "GET",
        "/api/v1/workflows",
        &[("Cookie", &cookie)],
        "",
    );
    assert_eq!(status, 200);
    // A write by cookie alone (what a form or script of another site could make the browser
    // send) is refused, and nothing is written.
    let (status, _, body) = raw(
        &server,
        "POST",
        "/api/v1/workflows",
        &[("Cookie", &cookie), json_type],
        wf,
    );
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("X-Weir-CSRF"), "{body}");
    // With the header but from another site's page: refused too.
    let (status, _, body) = raw(
        &server,
        "POST",
        "/api/v1/workflows",
        &[
            ("Cookie", &cookie),
            json_type,
            ("X-Weir-CSRF", "1"),
            ("Origin", "https://evil.example"),
        ],
        wf,
    );
    assert_eq!(status, 403, "{body}");
    let (_, listed) = server.with("csrf-key", "GET", "/api/v1/workflows", None);
    assert_eq!(listed["workflows"], json!([]), "nothing was written");
    // The console's own write: the header, from its own origin.
    let origin = format!("http://127.0.0.1:{}", server.port);
    let (status, _, body) = raw(
        &server,
        "POST",
        "/api/v1/workflows",
        &[
            ("Cookie", &cookie),
            json_type,
            ("X-Weir-CSRF", "1"),
            ("Origin", &origin),
        ],
        wf,
    );
    assert_eq!(status, 201, "{body}");
    // A bearer token is never sent by a browser on its own: no header needed.
    let (status, _, body) = raw(
        &server,
        "POST",
        "/api/v1/workflows/w/disable",
        &[("Authorization", &format!("Bearer {token}"))],
        "",
    );
    assert_eq!(status, 200, "{body}");
    let _ = std::fs::remove_dir_all(dir);
}
