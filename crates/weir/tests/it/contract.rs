//! The API contract as a client sees it: the document `weir openapi` prints (the one the
//! server serves) turned into TypeScript by `openapi-typescript`, as the web console does.
//! Every response body of the workflows, executions, events and approvals operations must be
//! a named, exact type: no `unknown`, except inside the fields that carry a tenant's own
//! JSON (payloads, contexts, definitions, step inputs and outputs).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// Fields whose value is whatever JSON a tenant sent or a workflow made (`value`: the value a
/// diagnostic's suggested fix puts in a definition, which a dry run's warnings carry).
const FREE_FORM: &[&str] = &[
    "payload",
    "value",
    "context",
    "input",
    "output",
    "declared_version",
    "[key: string]",
];

/// The tags whose answers the console reads first.
const TAGS: &[&str] = &["workflows", "executions", "events", "approvals"];

fn ui_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui")
}

#[test]
fn typescript_types_of_the_api_have_no_unknown_response_bodies() {
    let cli = ui_dir().join("node_modules/openapi-typescript/bin/cli.js");
    let node = Command::new("node").arg("--version").output();
    if !cli.exists() || node.is_err() {
        let msg = "openapi-typescript is not installed (cd ui && npm ci): the TypeScript check of the API document is SKIPPED";
        if std::env::var("WEIR_REQUIRE_NODE").is_ok_and(|v| v == "1") {
            panic!("{msg}");
        }
        eprintln!("\n*** {msg} ***\n");
        return;
    }
    let dir = weir_store::testing::scratch("contract");
    std::fs::create_dir_all(&dir).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_weir"))
        .arg("openapi")
        .output()
        .unwrap();
    assert!(out.status.success());
    let doc: Value = serde_json::from_slice(&out.stdout).expect("the document is JSON");
    // The console's types are made from its copy of the document: it must be this one.
    let copy: Value =
        serde_json::from_str(&std::fs::read_to_string(ui_dir().join("openapi.json")).unwrap())
            .unwrap();
    assert!(
        copy == doc,
        "ui/openapi.json is not the server's document: run `cargo run -p weir -- openapi > ui/openapi.json`, then in ui/ `npm run api-types && npm run build`"
    );
    let json_path = dir.join("openapi.json");
    std::fs::write(&json_path, &out.stdout).unwrap();
    let ts_path = dir.join("schema.d.ts");
    let run = Command::new("node")
        .arg(&cli)
        .arg(&json_path)
        .arg("-o")
        .arg(&ts_path)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let ts = std::fs::read_to_string(&ts_path).unwrap();

    // The schemas the chosen operations answer with, and every schema those name.
    let mut queue: Vec<String> = Vec::new();
    let mut checked_operations = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let tag = op["tags"][0].as_str().unwrap_or("");
            if !TAGS.contains(&tag) {
                continue;
            }
            checked_operations += 1;
            for (status, response) in op["responses"].as_object().unwrap() {
                if !status.starts_with('2') || status == "204" {
                    continue;
                }
                let schema = &response["content"]["application/json"]["schema"];
                let name = schema["$ref"]
                    .as_str()
                    .and_then(|r| r.strip_prefix("#/components/schemas/"))
                    .unwrap_or_else(|| {
                        panic!("{method} {path} {status} answers no named type: {schema}")
                    });
                queue.push(name.to_owned());
            }
        }
    }
    assert!(checked_operations >= 20, "{checked_operations}");
    let mut seen: Vec<String> = Vec::new();
    while let Some(name) = queue.pop() {
        if seen.contains(&name) {
            continue;
        }
        let block = schema_block(&ts, &name)
            .unwrap_or_else(|| panic!("no TypeScript type for the schema {name}"));
        assert!(
            block.trim() != format!("{name}: unknown;"),
            "{name} is unknown in TypeScript"
        );
        for line in block.lines().skip(1) {
            let line = line.trim();
            if line.contains("unknown") {
                let field = line.split(':').next().unwrap_or("").trim_end_matches('?');
                let field = if line.starts_with("[key: string]") {
                    "[key: string]"
                } else {
                    field
                };
                assert!(
                    FREE_FORM.contains(&field),
                    "{name}.{field} is `unknown` in TypeScript: {line}"
                );
            }
        }
        for piece in block.split("components[\"schemas\"][\"").skip(1) {
            queue.push(piece.split('"').next().unwrap().to_owned());
        }
        seen.push(name);
    }
    assert!(seen.len() >= 20, "{seen:?}");
    let _ = std::fs::remove_dir_all(dir);
}

/// The text of `name`'s type under `components.schemas` in openapi-typescript's output: from
/// `        Name: ` to the line that closes it at the same indentation.
fn schema_block(ts: &str, name: &str) -> Option<String> {
    let components = ts.find("export interface components {")?;
    let schemas = components + ts[components..].find("    schemas: {")?;
    let lines: Vec<&str> = ts[schemas..].lines().collect();
    let start = lines.iter().position(|l| {
        l.starts_with(&format!("        {name}: ")) || l.starts_with(&format!("        {name}?: "))
    })?;
    let first = lines[start];
    if first.ends_with(';') {
        return Some(first.to_owned());
    }
    let end = start
        + lines[start..].iter().position(|l| {
            *l == "        };" || l.starts_with("        } &") || *l == "        } | null;"
        })?;
    Some(lines[start..=end].join("\n"))
}
