//! The starter workflows shipped in `templates/`, embedded at build time.

include!(concat!(env!("OUT_DIR"), "/templates.rs"));

pub fn get(name: &str) -> Option<&'static str> {
    TEMPLATES.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

pub fn names() -> Vec<&'static str> {
    TEMPLATES.iter().map(|(n, _)| *n).collect()
}
