//! Architecture invariants, checked by reading the manifests and sources (ARCHITECTURE.md).

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Architecture invariant: `weir-core` knows nothing about SQL, HTTP, async runtimes, the file
/// system, the network or the clock.
#[test]
fn weir_core_is_pure() {
    let manifest = std::fs::read_to_string(root().join("crates/weir-core/Cargo.toml")).unwrap();
    let deps = manifest
        .split("[dependencies]")
        .nth(1)
        .unwrap()
        .split("\n[")
        .next()
        .unwrap();
    for banned in [
        "tokio", "sqlx", "axum", "reqwest", "hyper", "lettre", "rquickjs", "async-", "futures",
    ] {
        assert!(
            !deps.contains(banned),
            "weir-core must not depend on {banned}"
        );
    }
    let mut files = Vec::new();
    sources(&root().join("crates/weir-core/src"), &mut files);
    assert!(files.len() > 5);
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for banned in [
            "std::fs",
            "std::net",
            "std::process",
            "Utc::now",
            "SystemTime",
            "Instant::now",
            "std::thread",
            "async fn",
            "println!",
            "eprintln!",
        ] {
            assert!(
                !text.contains(banned),
                "{} uses {banned}; weir-core does no I/O and reads no clock",
                f.display()
            );
        }
    }
}

/// Every crate follows the workspace conventions of STYLE.md.
#[test]
fn crates_are_flat_private_and_share_lints() {
    for e in std::fs::read_dir(root().join("crates")).unwrap().flatten() {
        let name = e.file_name().into_string().unwrap();
        let manifest = std::fs::read_to_string(e.path().join("Cargo.toml")).unwrap();
        assert!(
            manifest.contains(&format!("name = \"{name}\"")),
            "{name}: the folder is named like the crate"
        );
        assert!(
            manifest.contains("version = \"0.0.0\""),
            "{name}: internal crates are 0.0.0"
        );
        assert!(
            manifest.contains("publish = false"),
            "{name}: internal crates are not published"
        );
        if name == UNSAFE_CRATE {
            // The one exception (ARCHITECTURE.md): its own lints, which must still hold every
            // `unsafe` block to a SAFETY note.
            for lint in [
                "unsafe_op_in_unsafe_fn = \"deny\"",
                "undocumented_unsafe_blocks = \"deny\"",
            ] {
                assert!(manifest.contains(lint), "{name}: sets {lint}");
            }
            continue;
        }
        assert!(
            manifest.contains("[lints]\nworkspace = true"),
            "{name}: uses the workspace lints"
        );
    }
}

/// The one crate allowed `unsafe` (a SQLite VFS over raw FFI).
const UNSAFE_CRATE: &str = "weir-sqlite-wal";

/// Every diagnostic code is documented in docs/diagnostics.md.
#[test]
fn every_diagnostic_code_is_documented() {
    let doc = std::fs::read_to_string(root().join("docs/diagnostics.md")).unwrap();
    let source = std::fs::read_to_string(root().join("crates/weir-core/src/diag.rs")).unwrap();
    let codes: Vec<&str> = source
        .match_indices("\"WEIR-")
        .map(|(i, _)| &source[i + 1..i + 10])
        .collect();
    assert!(codes.len() >= 20);
    for code in codes {
        assert!(doc.contains(code), "{code} is not in docs/diagnostics.md");
    }
}

/// Steps read each other's results, so the output of every built-in action type is documented
/// (docs/format.md §4.14), and `weir test` answers that shape by default.
#[test]
fn every_built_in_action_has_its_output_documented() {
    let doc = std::fs::read_to_string(root().join("docs/format.md")).unwrap();
    let section = doc
        .split("### 4.14 Action results")
        .nth(1)
        .expect("docs/format.md has §4.14 Action results")
        .split("\n## ")
        .next()
        .unwrap();
    let table: Vec<&str> = section.lines().filter(|l| l.starts_with("| `")).collect();
    let catalog = weir_core::catalog::BuiltinCatalog::new();
    let missing: Vec<&str> = catalog
        .iter()
        .map(|a| a.name.as_str())
        .filter(|name| {
            let cell = format!("`{name}`");
            !table
                .iter()
                .any(|row| row.split('|').nth(1).is_some_and(|c| c.contains(&cell)))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "action types without a documented output: {missing:?}"
    );
}
