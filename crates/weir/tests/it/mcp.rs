//! The MCP server with a real client: the official Python SDK (`mcp`, pinned in `.ci/run`)
//! drives `tests/mcp/client.py` over streamable HTTP (`/mcp` of a real `weir serve`, in the
//! stateless 2026-07-28 protocol and in the session-based one before it) and over stdio
//! (`weir mcp --server URL`), and the audit log names it as the agent that acted.
//! Without python3 and the SDK the test says it is skipped, unless `WEIR_REQUIRE_MCP=1`.

use std::process::Command;

use serde_json::{Value, json};

use crate::serve::{Server, free_port, scratch};

const ROOT: &str = "mcp-root-key-0123456789";

/// The version of the Python SDK the test is written against.
const SDK: &str = "2.3.0";

/// Whether python3 has the pinned SDK; else why not.
fn sdk() -> Result<(), String> {
    let probe = Command::new("python3")
        .args([
            "-c",
            "import importlib.metadata as m, mcp; print(m.version('mcp'))",
        ])
        .output();
    match probe {
        Err(e) => Err(format!("python3 cannot be run ({e})")),
        Ok(o) if !o.status.success() => Err("python3 cannot import mcp".into()),
        Ok(o) if String::from_utf8_lossy(&o.stdout).trim() != SDK => Err(format!(
            "python3 has mcp {}, not {SDK}",
            String::from_utf8_lossy(&o.stdout).trim()
        )),
        Ok(_) => Ok(()),
    }
}

/// The tools the server must offer: every tool of the table, each one's operation in the
/// server's document.
fn expected_tools(server: &Server) -> Vec<&'static str> {
    let (status, doc) = server.get("/api/v1/openapi.json");
    assert_eq!(status, 200);
    for tool in weir_mcp::TOOLS {
        for op in tool.operations {
            assert!(
                doc["paths"][op.path]
                    .get(op.method.as_str().to_ascii_lowercase())
                    .is_some(),
                "{}: the API has no {} {}",
                tool.name,
                op.method.as_str(),
                op.path
            );
        }
    }
    weir_mcp::TOOLS.iter().map(|t| t.name).collect()
}

/// Runs the client script in `mode`; what it saw, as JSON.
fn client(server: &Server, mode: &str, expected: &[&str]) -> Value {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/mcp/client.py");
    let url = format!("http://127.0.0.1:{}", server.port);
    let mut cmd = Command::new("python3");
    cmd.args([script, mode, &url, &json!(expected).to_string()])
        .arg(env!("CARGO_BIN_EXE_weir"))
        .env("WEIR_API_KEY", ROOT)
        .env_remove("WEIR_SERVER");
    let out = cmd.output().expect("run python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the {mode} client failed:\n{stderr}\n{stdout}"
    );
    eprintln!("mcp {mode}: {stdout}");
    serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

#[test]
fn a_python_mcp_client_builds_tests_deploys_and_runs_an_approval_workflow_over_http_and_stdio() {
    if let Err(why) = sdk() {
        let msg = format!(
            "{why}: the MCP client test is SKIPPED. `python3 -m pip install mcp=={SDK}` (.ci/run does) to run it."
        );
        if std::env::var("WEIR_REQUIRE_MCP").is_ok_and(|v| v == "1") {
            panic!("{msg}");
        }
        eprintln!("\n*** {msg} ***\n");
        return;
    }
    let dir = scratch("mcp");
    let server = Server::start_with(
        &dir,
        free_port(),
        &[("WEIR_ADMIN_KEY", ROOT), ("WEIR_RATE_LIMIT", "0")],
    );
    let expected = expected_tools(&server);
    assert_eq!(expected.len(), 18, "{expected:?}");

    let http = client(&server, "http", &expected);
    assert_eq!(http["protocol"], "2026-07-28", "{http}");
    assert_eq!(
        http["without_key"],
        json!({"no key": 401, "wrong key": 401})
    );
    let legacy = client(&server, "legacy", &expected);
    assert_ne!(legacy["protocol"], "2026-07-28", "{legacy}");
    let stdio = client(&server, "stdio", &expected);

    // Every mutation each client made is audited as the agent it is, by its MCP name.
    for (seen, agent) in [
        (&http, "weir-mcp-test-http"),
        (&legacy, "weir-mcp-test-legacy"),
        (&stdio, "weir-mcp-test-stdio"),
    ] {
        let workflow = seen["workflow_id"].as_str().unwrap();
        let (status, log) = server.get(&format!(
            "/api/v1/audit?actor_type=ai_agent&actor_id={agent}&limit=100"
        ));
        assert_eq!(status, 200, "{log}");
        let records = log["audit"].as_array().unwrap();
        let deploy = records
            .iter()
            .find(|r| r["action"] == "workflow.put" && r["target"] == workflow)
            .unwrap_or_else(|| panic!("no audited deploy by {agent}: {log}"));
        assert_eq!(deploy["actor_type"], "ai_agent");
        assert_eq!(deploy["changes"]["agent"]["type"], "mcp");
        assert!(
            deploy["changes"]["agent"]["api_key_id"].is_string(),
            "{deploy}"
        );
        let actions: Vec<&str> = records
            .iter()
            .filter_map(|r| r["action"].as_str())
            .collect();
        for a in ["workflow.put", "workflow.enable", "workflow.disable"] {
            assert!(actions.contains(&a), "{agent}: no {a} in {actions:?}");
        }
        assert!(
            actions.iter().any(|a| a.starts_with("approval.")),
            "{agent}: the decision is audited: {actions:?}"
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}
