//! Prints what the offline interpreter makes of a prompt:
//! `cargo run -p weir-ai --example interpret -- "Block orders over $5,000 from new customers"`.

use std::io::Write;

fn main() {
    let prompt = std::env::args().skip(1).collect::<Vec<_>>().join(" ");
    let out = weir_ai::interpret(&prompt, &weir_ai::InterpretContext::default());
    let text = serde_json::to_string_pretty(&out).unwrap_or_default();
    // A closed pipe (`| head`) is not an error worth a panic.
    let _ = writeln!(std::io::stdout(), "{text}");
}
