//! The crate's architecture invariant, checked: weir-ai depends on weir-core and serde only, so
//! it stays pure (no I/O, clock, network or model).

#[test]
fn weir_ai_depends_on_weir_core_and_serde_only() {
    let manifest = include_str!("../../Cargo.toml");
    let mut section = "";
    let mut deps = Vec::new();
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            section = line;
            continue;
        }
        if section == "[dependencies]"
            && let Some((name, _)) = line.split_once('=')
        {
            deps.push(name.trim().trim_end_matches(".workspace").to_owned());
        }
    }
    deps.sort();
    assert_eq!(deps, ["serde", "serde_json", "weir-core"]);
}
