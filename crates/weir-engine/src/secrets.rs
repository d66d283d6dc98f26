//! Secrets: sealed with AES-256-GCM under the installation's master key (a random nonce each
//! time; the tenant, environment and name are the associated data, so a sealed value moved to
//! another scope or name does not open), opened only to render an action's input, and scrubbed
//! from whatever an action answers, in plain, base64 (wherever the value sits in the encoded
//! data) and URL-encoded forms.

use std::collections::HashMap;

use base64::Engine as _;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use serde_json::Value;
use weir_store::Scope;

/// What a scrubbed secret becomes.
pub const REDACTED: &str = "***";

/// The shortest secret value accepted: shorter ones could not be scrubbed from output without
/// scrubbing ordinary text.
pub const MIN_SECRET_LEN: usize = 4;

/// Whether two byte strings are equal, in a time that depends on their length only.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

pub struct Vault {
    key: LessSafeKey,
    random: SystemRandom,
    /// Derived from the master key (never the key itself): makes webhook URL tokens.
    tokens: ring::hmac::Key,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vault(..)")
    }
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

fn aad(scope: &Scope, name: &str) -> String {
    format!("{}\u{0}{}\u{0}{}", scope.tenant, scope.environment, name)
}

impl Vault {
    pub fn new(master_key: &[u8; 32]) -> Vault {
        let key = UnboundKey::new(&AES_256_GCM, master_key).expect("a 32-byte AES-256 key");
        let derive = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, master_key);
        let token_key = ring::hmac::sign(&derive, b"weir webhook url tokens v1");
        Vault {
            key: LessSafeKey::new(key),
            random: SystemRandom::new(),
            tokens: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, token_key.as_ref()),
        }
    }

    /// A fresh random master key.
    pub fn generate_key() -> Result<[u8; 32], String> {
        let mut key = [0u8; 32];
        SystemRandom::new()
            .fill(&mut key)
            .map_err(|_| "the system has no randomness to make a key".to_owned())?;
        Ok(key)
    }

    /// A workflow's webhook URL token: stable (while the master key is), unguessable, and
    /// different for every tenant, environment and workflow. 32 hex digits.
    pub fn webhook_token(&self, scope: &Scope, workflow_id: &str) -> String {
        let tag = ring::hmac::sign(&self.tokens, aad(scope, workflow_id).as_bytes());
        tag.as_ref()[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// `base64(nonce ‖ ciphertext ‖ tag)`.
    pub fn seal(&self, scope: &Scope, name: &str, value: &str) -> Result<String, String> {
        let mut nonce = [0u8; NONCE_LEN];
        self.random
            .fill(&mut nonce)
            .map_err(|_| "no randomness for a nonce".to_owned())?;
        let mut data = value.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad(scope, name)),
                &mut data,
            )
            .map_err(|_| "sealing failed".to_owned())?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        Ok(b64().encode(out))
    }

    pub fn open(&self, scope: &Scope, name: &str, sealed: &str) -> Result<String, String> {
        let fail = || format!("the secret {name} does not open with this master key");
        let bytes = b64().decode(sealed).map_err(|_| fail())?;
        if bytes.len() < NONCE_LEN {
            return Err(fail());
        }
        let (nonce, rest) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| fail())?;
        let mut data = rest.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(aad(scope, name)), &mut data)
            .map_err(|_| fail())?;
        String::from_utf8(plain.to_vec()).map_err(|_| fail())
    }
}

/// The shortest base64 run scrubbed as the trace of a secret that does not start a 3-byte group
/// of the encoded data: 6 characters (36 bits) turn up by chance about once in 69 billion
/// positions of random base64, 4 characters once in 17 million, which a base64 image or file in
/// an answer would hit.
const MIN_ALIGNED_BASE64: usize = 6;

/// The base64 forms of a value wherever it sits in the encoded data (as in a Basic-auth header,
/// `base64("user:" + password)`, whose password starts 0, 1 or 2 bytes into a 3-byte group, by
/// the length of the user name): for each offset k, the characters only the value's bits decide,
/// and those followed by the last, partial character, as when the value ends the data. In the
/// standard and the URL-safe alphabets.
fn base64_forms(value: &[u8]) -> Vec<String> {
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    let mut out = Vec::new();
    for engine in [STANDARD_NO_PAD, URL_SAFE_NO_PAD] {
        for k in 0..3usize {
            let mut data = vec![0u8; k];
            data.extend_from_slice(value);
            let encoded = engine.encode(&data);
            // Character i carries bits 6i..6i+6; the value's bits are 8k..8(k + len).
            let start = (8 * k).div_ceil(6);
            let end = 8 * data.len() / 6;
            if end > start {
                out.push(encoded[start..end].to_owned());
            }
            out.push(encoded[start.min(encoded.len())..].to_owned());
        }
    }
    out.retain(|f| f.len() >= MIN_ALIGNED_BASE64);
    out
}

/// A value as it sits inside a JSON string (without the quotes), as serde_json writes it.
fn json_escaped(value: &str) -> String {
    let quoted = Value::String(value.to_owned()).to_string();
    quoted[1..quoted.len() - 1].to_owned()
}

/// The JSON-escaped forms of a value that holds `"`, `\`, `/`, a control character or
/// non-ASCII text, as a peer that echoes a JSON body sends it back: escaped once (a JSON body
/// read as text), twice (a JSON body echoed inside a JSON string), and as Python's `json.dumps`
/// (`\u00e9` for non-ASCII) and PHP's `json_encode` (also `\/`) write it.
fn json_forms(value: &str) -> Vec<String> {
    let once = json_escaped(value);
    let ascii: String = once
        .chars()
        .map(|c| match c {
            c if c.is_ascii() => c.to_string(),
            c => {
                let mut units = [0u16; 2];
                c.encode_utf16(&mut units)
                    .iter()
                    .map(|u| format!("\\u{u:04x}"))
                    .collect()
            }
        })
        .collect();
    let php = ascii.replace('/', "\\/");
    vec![json_escaped(&once), once, ascii, php]
}

type Lookup = Box<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// A scope's opened secrets, for one round of work.
pub struct SecretValues {
    values: HashMap<String, String>,
    /// Every form a value could be echoed in, longest first.
    forms: Vec<String>,
    /// `values` as the lookup an [`weir_core::Env`] takes.
    lookup: Lookup,
}

impl Default for SecretValues {
    fn default() -> Self {
        SecretValues::new(HashMap::new())
    }
}

impl std::fmt::Debug for SecretValues {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&String> = self.values.keys().collect();
        names.sort();
        write!(f, "SecretValues({names:?})")
    }
}

impl SecretValues {
    pub fn new(values: HashMap<String, String>) -> SecretValues {
        let mut forms: Vec<String> = Vec::new();
        for v in values.values().filter(|v| v.len() >= MIN_SECRET_LEN) {
            forms.push(v.clone());
            for engine in [
                base64::engine::general_purpose::STANDARD,
                base64::engine::general_purpose::URL_SAFE,
            ] {
                let e = engine.encode(v);
                forms.push(e.trim_end_matches('=').to_owned());
            }
            forms.extend(base64_forms(v.as_bytes()));
            forms.extend(json_forms(v));
            forms.push(url::form_urlencoded::byte_serialize(v.as_bytes()).collect());
            forms.push(
                url::form_urlencoded::byte_serialize(v.as_bytes())
                    .collect::<String>()
                    .replace('+', "%20"),
            );
        }
        forms.retain(|f| f.len() >= MIN_SECRET_LEN);
        forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
        forms.dedup();
        let map = values.clone();
        SecretValues {
            values,
            forms,
            lookup: Box::new(move |name| map.get(name).cloned()),
        }
    }

    pub fn get(&self, name: &str) -> Option<String> {
        self.values.get(name).cloned()
    }

    /// The lookup an [`weir_core::Env`] takes.
    pub fn lookup(&self) -> &(dyn Fn(&str) -> Option<String> + Sync) {
        &*self.lookup
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Whether a text holds a secret, in any form [`SecretValues::scrub_text`] replaces.
    pub fn holds_secret(&self, text: &str) -> bool {
        self.forms.iter().any(|f| text.contains(f.as_str()))
    }

    /// Replaces every form of every secret in a text.
    pub fn scrub_text(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for f in &self.forms {
            if out.contains(f.as_str()) {
                out = out.replace(f.as_str(), REDACTED);
            }
        }
        out
    }

    /// Scrubs every string (and object key) in a value.
    pub fn scrub(&self, value: &mut Value) {
        if self.forms.is_empty() {
            return;
        }
        match value {
            Value::String(s) if self.forms.iter().any(|f| s.contains(f.as_str())) => {
                *s = self.scrub_text(s);
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.scrub(v)),
            Value::Object(map) => {
                let dirty: Vec<String> = map
                    .keys()
                    .filter(|k| self.forms.iter().any(|f| k.contains(f.as_str())))
                    .cloned()
                    .collect();
                for k in dirty {
                    if let Some(v) = map.remove(&k) {
                        map.insert(self.scrub_text(&k), v);
                    }
                }
                map.values_mut().for_each(|v| self.scrub(v));
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_sealed_value_opens_only_in_its_scope_and_name_with_its_key() {
        let key = Vault::generate_key().unwrap();
        let vault = Vault::new(&key);
        let scope = Scope::new("t", "production");
        let sealed = vault.seal(&scope, "API_KEY", "s3cr3t-value").unwrap();
        assert!(!sealed.contains("s3cr3t"));
        assert_ne!(
            sealed,
            vault.seal(&scope, "API_KEY", "s3cr3t-value").unwrap()
        );
        assert_eq!(
            vault.open(&scope, "API_KEY", &sealed).unwrap(),
            "s3cr3t-value"
        );
        assert!(vault.open(&scope, "OTHER", &sealed).is_err());
        assert!(
            vault
                .open(&Scope::new("t", "development"), "API_KEY", &sealed)
                .is_err()
        );
        let other = Vault::new(&Vault::generate_key().unwrap());
        assert!(other.open(&scope, "API_KEY", &sealed).is_err());
        assert!(vault.open(&scope, "API_KEY", "not base64!").is_err());
    }

    /// Whether any stretch of base64 in a text, read from any character, decodes to something
    /// holding `needle`.
    fn decodes_to(text: &str, needle: &[u8]) -> bool {
        use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
        let runs = text.split(|c: char| !(c.is_ascii_alphanumeric() || "+/-_".contains(c)));
        runs.flat_map(|run| (0..4.min(run.len())).map(move |i| &run[i..]))
            .any(|run| {
                let whole = &run[..run.len() - run.len() % 4];
                [STANDARD_NO_PAD, URL_SAFE_NO_PAD].iter().any(|e| {
                    e.decode(whole)
                        .is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
                })
            })
    }

    /// Regression: the base64 of `user:SECRET` held the base64 of the secret only when `user:`
    /// was a multiple of 3 bytes long, so `admin:` was scrubbed and `bob:` leaked.
    #[test]
    fn basic_auth_is_scrubbed_whatever_the_length_of_the_user_name() {
        let secret = "hunter2-Xy9/Qz";
        let s = SecretValues::new(HashMap::from([("PASS".to_owned(), secret.to_owned())]));
        // The middle of the secret: what must not be readable from what is left.
        let core = &secret.as_bytes()[2..secret.len() - 2];
        for user in ["bob", "admin", "al", "a", ""] {
            for tail in ["", "@db.example.com:5432/app"] {
                let pair = format!("{user}:{secret}{tail}");
                for engine in [
                    base64::engine::general_purpose::STANDARD,
                    base64::engine::general_purpose::URL_SAFE,
                ] {
                    let header = format!("Basic {}", engine.encode(&pair));
                    assert!(decodes_to(&header, core), "the check reads {header}");
                    let mut v = json!({ "headers": { "authorization": header.clone() } });
                    s.scrub(&mut v);
                    let out = v["headers"]["authorization"].as_str().unwrap();
                    assert!(
                        out.contains(REDACTED),
                        "{pair:?}: {header} came out as {out}"
                    );
                    assert!(!decodes_to(out, core), "{pair:?}: {out} still holds it");
                }
            }
        }
        // A short value is no trace: random base64 is left alone.
        let noise = base64::engine::general_purpose::STANDARD.encode([7u8; 300]);
        assert_eq!(s.scrub_text(&noise), noise);
    }

    /// Regression: a secret holding `"` or `\` came back JSON-escaped from a peer that echoed
    /// the JSON body it was sent, and the escaped form was stored.
    #[test]
    fn a_secret_echoed_json_escaped_is_scrubbed() {
        let secret = r#"pa"ss\wörd/1"#;
        let s = SecretValues::new(HashMap::from([("K".to_owned(), secret.to_owned())]));
        let body = json!({ "token": secret }).to_string();
        assert!(body.contains(r#"pa\"ss\\wörd/1"#), "{body}");
        // What echoing peers send back: the body as text, the body inside a JSON string, and
        // the body as Python's json.dumps and PHP's json_encode write it.
        let python = r#"{"token": "pa\"ss\\w\u00f6rd/1"}"#;
        let php = r#"{"token":"pa\"ss\\w\u00f6rd\/1"}"#;
        let mut answer = json!({
            "text": format!("received {body}"),
            "nested": json!({ "received": body }).to_string(),
            "python": python,
            "php": php,
        });
        s.scrub(&mut answer);
        for field in ["text", "nested", "python", "php"] {
            let out = answer[field].as_str().unwrap();
            assert!(out.contains(REDACTED), "{field}: {out}");
            assert!(!out.contains("ss"), "{field}: {out}");
        }
        assert_eq!(answer["text"], r#"received {"token":"***"}"#);
    }

    #[test]
    fn scrubbing_finds_plain_base64_and_url_encoded_forms() {
        let s = SecretValues::new(HashMap::from([
            ("A".to_owned(), "p@ss w0rd/+".to_owned()),
            ("SHORT".to_owned(), "abc".to_owned()),
        ]));
        let b64 = base64::engine::general_purpose::STANDARD.encode("p@ss w0rd/+");
        let mut v = json!({
            "plain": "token=p@ss w0rd/+;", "b64": format!("Basic {b64}"),
            "url": "q=p%40ss+w0rd%2F%2B", "url2": "q=p%40ss%20w0rd%2F%2B",
            "list": ["x p@ss w0rd/+ y"], "p@ss w0rd/+": 1, "short": "abc",
        });
        s.scrub(&mut v);
        let text = v.to_string();
        assert!(!text.contains("p@ss w0rd"), "{text}");
        assert!(!text.contains(&b64), "{text}");
        assert!(!text.contains("p%40ss"), "{text}");
        assert_eq!(v["plain"], "token=***;");
        assert_eq!(
            v["short"], "abc",
            "short values are refused at the API instead"
        );
    }
}
