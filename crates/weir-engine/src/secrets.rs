//! Secrets: sealed with AES-256-GCM under the installation's master key (a random nonce each
//! time; the tenant, environment and name are the associated data, so a sealed value moved to
//! another scope or name does not open), opened only to render an action's input, and scrubbed
//! from whatever an action answers, in plain, base64 (wherever the value sits in the encoded
//! data) and URL-encoded forms.

use std::collections::HashMap;
use std::sync::Arc;

use base64::Engine as _;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use serde_json::Value;
use weir_core::template::RenderTrace;
use weir_store::{Scope, SecretPolicy};

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

/// The action types that run tenant code: a secret reaches them only when its
/// `allowed_actions` names them, since code can return a value in a form no scrubbing knows.
pub const CODE_ACTIONS: &[&str] = &["code", "transform", "transform_data"];

/// The action types that send their input over HTTP, where every request is checked against
/// the hosts its secrets may go to (connector actions too). A secret restricted to hosts goes
/// to no other action.
pub const HTTP_ACTIONS: &[&str] = &["http_request", "webhook", "call_webhook"];

/// A secret restricted to hosts: every form of it, to find it in a request.
#[derive(Debug)]
struct Bound {
    name: String,
    forms: Vec<String>,
    hosts: Vec<HostPattern>,
}

/// A scope's opened secrets, for one round of work; or the part of them one action may use
/// (see [`SecretValues::for_action`]), which still scrubs them all.
pub struct SecretValues {
    values: HashMap<String, String>,
    policies: Arc<HashMap<String, SecretPolicy>>,
    /// Every form of every secret of the scope, longest first: what scrubbing replaces.
    forms: Arc<Vec<String>>,
    /// The secrets restricted to hosts.
    bound: Arc<Vec<Bound>>,
    /// The secrets this view holds back from its action, with why.
    withheld: HashMap<String, String>,
    /// The host-restricted secrets the action's input named (see [`SecretValues::naming`]).
    named: Vec<String>,
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

/// Every form a value could be echoed in.
fn forms_of(v: &str) -> Vec<String> {
    let mut forms = vec![v.to_owned()];
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
    forms.retain(|f| f.len() >= MIN_SECRET_LEN);
    forms
}

fn lookup_of(values: &HashMap<String, String>) -> Lookup {
    let map = values.clone();
    Box::new(move |name| map.get(name).cloned())
}

impl SecretValues {
    /// Secrets with no restriction but the one every secret has: no code receives them.
    pub fn new(values: HashMap<String, String>) -> SecretValues {
        SecretValues::with_policies(
            values
                .into_iter()
                .map(|(k, v)| (k, (v, SecretPolicy::default())))
                .collect(),
        )
    }

    pub fn with_policies(secrets: HashMap<String, (String, SecretPolicy)>) -> SecretValues {
        let mut forms: Vec<String> = Vec::new();
        let mut bound = Vec::new();
        let mut values = HashMap::new();
        let mut policies = HashMap::new();
        for (name, (v, policy)) in secrets {
            if v.len() >= MIN_SECRET_LEN {
                let of = forms_of(&v);
                if let Some(hosts) = &policy.allowed_hosts {
                    bound.push(Bound {
                        name: name.clone(),
                        forms: of.clone(),
                        // The API accepts only patterns that parse.
                        hosts: hosts
                            .iter()
                            .filter_map(|h| HostPattern::parse(h).ok())
                            .collect(),
                    });
                }
                forms.extend(of);
            }
            values.insert(name.clone(), v);
            policies.insert(name, policy);
        }
        forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
        forms.dedup();
        SecretValues {
            lookup: lookup_of(&values),
            values,
            policies: Arc::new(policies),
            forms: Arc::new(forms),
            bound: Arc::new(bound),
            withheld: HashMap::new(),
            named: Vec::new(),
        }
    }

    /// The secrets an action of this type (performed by a connector or not) may receive. The
    /// view scrubs every secret of the scope, and tells why it holds one back
    /// ([`SecretValues::refusal`]).
    pub fn for_action(
        self: &Arc<Self>,
        action_type: &str,
        by_connector: bool,
    ) -> Arc<SecretValues> {
        match self.narrowed(action_type, by_connector) {
            Some(view) => Arc::new(view),
            None => self.clone(),
        }
    }

    /// [`SecretValues::for_action`], `None` when the action may receive them all.
    fn narrowed(&self, action_type: &str, by_connector: bool) -> Option<SecretValues> {
        let sends_http = by_connector || HTTP_ACTIONS.contains(&action_type);
        let mut withheld = HashMap::new();
        for (name, policy) in self.policies.iter() {
            let why = match &policy.allowed_actions {
                Some(allowed) if !allowed.iter().any(|a| a == action_type) => format!(
                    "the secret {name} may be used only by {} actions, not {action_type}",
                    allowed.join(", ")
                ),
                None if CODE_ACTIONS.contains(&action_type) => format!(
                    "the secret {name} is not handed to {action_type} steps (code could return it in a form no scrubbing finds); name {action_type} in the secret's allowed_actions to allow it"
                ),
                _ => match &policy.allowed_hosts {
                    Some(hosts) if !sends_http => format!(
                        "the secret {name} may be sent only to {}, and a {action_type} action sends nothing over HTTP",
                        hosts.join(", ")
                    ),
                    _ => continue,
                },
            };
            withheld.insert(name.clone(), why);
        }
        if withheld.is_empty() {
            return None;
        }
        let values: HashMap<String, String> = self
            .values
            .iter()
            .filter(|(k, _)| !withheld.contains_key(*k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Some(SecretValues {
            lookup: lookup_of(&values),
            values,
            policies: self.policies.clone(),
            forms: self.forms.clone(),
            bound: self.bound.clone(),
            withheld,
            named: Vec::new(),
        })
    }

    /// This view, knowing which secrets the action's input named: a request holding any of
    /// them goes only to its allowed hosts, even where the request spells it in a form no
    /// search finds (a host name lowercased, a URL's own percent-encoding).
    pub fn naming(self: &Arc<Self>, used: &[String]) -> Arc<SecretValues> {
        let named: Vec<String> = self
            .bound
            .iter()
            .filter(|b| used.contains(&b.name))
            .map(|b| b.name.clone())
            .collect();
        if named.is_empty() {
            return self.clone();
        }
        Arc::new(SecretValues {
            lookup: lookup_of(&self.values),
            values: self.values.clone(),
            policies: self.policies.clone(),
            forms: self.forms.clone(),
            bound: self.bound.clone(),
            withheld: self.withheld.clone(),
            named,
        })
    }

    /// Why this view holds a secret back from its action, if it does.
    pub fn withheld(&self, name: &str) -> Option<&str> {
        self.withheld.get(name).map(String::as_str)
    }

    /// Why an input rendered with this view may not be sent: it asked for a secret the view
    /// holds back.
    pub fn refusal(&self, trace: &RenderTrace) -> Option<String> {
        trace
            .missing_secrets
            .iter()
            .find_map(|name| self.withheld(name))
            .map(str::to_owned)
    }

    /// Whether some secret is restricted to hosts (see [`SecretValues::check_destination`]).
    pub fn binds_hosts(&self) -> bool {
        !self.bound.is_empty()
    }

    /// Whether a request to `url` may carry what `parts` hold (its URL, header values and
    /// body): an error naming the first secret restricted to other hosts that it holds.
    pub fn check_destination(&self, url: &url::Url, parts: &[&str]) -> Result<(), String> {
        // The URL as its parser spelled it may hide a secret (its own percent-encoding): it is
        // searched decoded too, and every text also lowercased (a host name is).
        let decoded: String = url::form_urlencoded::parse(url.as_str().as_bytes())
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&");
        for b in self.bound.iter() {
            if b.hosts.iter().any(|h| h.matches(url)) {
                continue;
            }
            let held = |text: &str| {
                let lower = text.to_lowercase();
                b.forms
                    .iter()
                    .any(|f| text.contains(f.as_str()) || lower.contains(&f.to_lowercase()))
            };
            if self.named.contains(&b.name) || held(&decoded) || parts.iter().any(|p| held(p)) {
                let to = match url.port_or_known_default() {
                    Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
                    None => url.host_str().unwrap_or_default().to_owned(),
                };
                let hosts: Vec<&str> = b.hosts.iter().map(|h| h.text.as_str()).collect();
                return Err(format!(
                    "the secret {} may be sent only to {}, not to {to}",
                    b.name,
                    hosts.join(", ")
                ));
            }
        }
        Ok(())
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
        for f in self.forms.iter() {
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

/// An entry of a secret's `allowed_hosts`: `api.example.com` (that host, any port),
/// `*.example.com` (its subdomains), `api.example.com:8443` or `[::1]:8080` (that port only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPattern {
    /// As given, to name it in errors.
    text: String,
    /// The host as URLs spell it (lowercase, punycode, IPv6 in brackets).
    host: String,
    subdomains: bool,
    port: Option<u16>,
}

impl HostPattern {
    pub fn parse(text: &str) -> Result<HostPattern, String> {
        let bad = |why: &str| {
            format!(
                "{text:?} is not a host pattern ({why}); like api.example.com, *.example.com or api.example.com:8443"
            )
        };
        let (subdomains, rest) = match text.strip_prefix("*.") {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        if rest.is_empty() || rest.contains(['/', '@', '?', '#', '*', ' ']) {
            return Err(bad(
                "a host name or address and a port only: no scheme, path or user",
            ));
        }
        // The port: after the last ':' outside an IPv6 address's brackets.
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') || h.ends_with(']') => {
                let port = p
                    .parse::<u16>()
                    .map_err(|_| bad("the port is not a number up to 65535"))?;
                (h, Some(port))
            }
            Some(_) if !rest.starts_with('[') => {
                return Err(bad("an IPv6 address goes in brackets"));
            }
            _ => (rest, None),
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        let url = url::Url::parse(&format!("http://{host}/")).map_err(|_| bad("not a host"))?;
        let host = url.host_str().ok_or_else(|| bad("not a host"))?.to_owned();
        if subdomains && matches!(url.host(), Some(url::Host::Ipv4(_) | url::Host::Ipv6(_))) {
            return Err(bad("an address has no subdomains"));
        }
        Ok(HostPattern {
            text: text.to_owned(),
            host,
            subdomains,
            port,
        })
    }

    pub fn matches(&self, url: &url::Url) -> bool {
        let Some(host) = url.host_str() else {
            return false;
        };
        let host_ok = match self.subdomains {
            true => host
                .strip_suffix(self.host.as_str())
                .is_some_and(|head| head.len() > 1 && head.ends_with('.')),
            false => host == self.host,
        };
        host_ok
            && self
                .port
                .is_none_or(|p| url.port_or_known_default() == Some(p))
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
    fn host_patterns_match_their_host_subdomains_and_port() {
        let url = |u: &str| url::Url::parse(u).unwrap();
        let p = HostPattern::parse("API.Example.com").unwrap();
        assert!(p.matches(&url("https://api.example.com/v1")));
        assert!(p.matches(&url("http://api.example.com:8080/")));
        assert!(!p.matches(&url("https://api.example.com.evil.test/")));
        assert!(!p.matches(&url("https://xapi.example.com/")));
        let p = HostPattern::parse("*.example.com").unwrap();
        assert!(p.matches(&url("https://a.b.example.com/")));
        assert!(!p.matches(&url("https://example.com/")));
        assert!(!p.matches(&url("https://badexample.com/")));
        let p = HostPattern::parse("127.0.0.1:8443").unwrap();
        assert!(p.matches(&url("https://127.0.0.1:8443/")));
        assert!(!p.matches(&url("https://127.0.0.1/")));
        let p = HostPattern::parse("api.example.com:443").unwrap();
        assert!(
            p.matches(&url("https://api.example.com/")),
            "the scheme's port"
        );
        let p = HostPattern::parse("[::1]:80").unwrap();
        assert!(p.matches(&url("http://[::1]/")));
        for bad in [
            "",
            "https://api.example.com",
            "api.example.com/path",
            "user@host",
            "::1",
            "*.10.0.0.1",
            "host:port",
            "host:70000",
            "*",
            "a b",
        ] {
            assert!(HostPattern::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn an_action_gets_only_the_secrets_its_type_may_have() {
        let policy = |hosts: Option<&[&str]>, actions: Option<&[&str]>| SecretPolicy {
            allowed_hosts: hosts.map(|h| h.iter().map(|s| s.to_string()).collect()),
            allowed_actions: actions.map(|a| a.iter().map(|s| s.to_string()).collect()),
        };
        let all = Arc::new(SecretValues::with_policies(HashMap::from([
            (
                "OPEN".to_owned(),
                ("open-value".to_owned(), policy(None, None)),
            ),
            (
                "HOSTED".to_owned(),
                (
                    "hosted-value".to_owned(),
                    policy(Some(&["api.example.com"]), None),
                ),
            ),
            (
                "CODE".to_owned(),
                ("code-value".to_owned(), policy(None, Some(&["code"]))),
            ),
        ])));
        let names = |v: &SecretValues| {
            let mut n: Vec<String> = ["OPEN", "HOSTED", "CODE"]
                .iter()
                .filter(|k| v.get(k).is_some())
                .map(|k| k.to_string())
                .collect();
            n.sort();
            n
        };
        assert_eq!(
            names(&all.for_action("http_request", false)),
            ["HOSTED", "OPEN"]
        );
        assert_eq!(
            names(&all.for_action("crm.update", true)),
            ["HOSTED", "OPEN"]
        );
        assert_eq!(names(&all.for_action("send_email", false)), ["OPEN"]);
        assert_eq!(names(&all.for_action("code", false)), ["CODE"]);
        assert_eq!(
            names(&all.for_action("transform", false)),
            Vec::<String>::new()
        );
        // A view still scrubs every secret, and says why it holds one back.
        let mail = all.for_action("send_email", false);
        assert_eq!(mail.scrub_text("x hosted-value code-value"), "x *** ***");
        let mut trace = RenderTrace::default();
        trace.missing_secrets.push("HOSTED".into());
        assert!(
            mail.refusal(&trace)
                .unwrap()
                .contains("sends nothing over HTTP")
        );
        // Requests: the hosted secret only to its host, in any part and form.
        let http = all.for_action("http_request", false);
        let to = |u: &str| url::Url::parse(u).unwrap();
        let b64 = base64::engine::general_purpose::STANDARD.encode("u:hosted-value");
        assert!(
            http.check_destination(&to("https://api.example.com/"), &["hosted-value"])
                .is_ok()
        );
        assert!(
            http.check_destination(&to("https://other.example.com/"), &["open-value"])
                .is_ok()
        );
        for part in [
            "Bearer hosted-value",
            &format!("Basic {b64}"),
            "q=hosted-value",
        ] {
            let err = http
                .check_destination(&to("https://other.example.com/"), &["x", part])
                .unwrap_err();
            assert!(err.contains("the secret HOSTED may be sent only to api.example.com, not to other.example.com:443"), "{err}");
        }
        // Forms a URL's parser makes: a lowercased host, a percent-encoded user.
        let upper = Arc::new(SecretValues::with_policies(HashMap::from([(
            "UP".to_owned(),
            (
                "Mixed+CASE/Val".to_owned(),
                policy(Some(&["api.example.com"]), None),
            ),
        )])));
        for url in [
            "https://mixed+case/val.evil.test/",
            "https://Mixed%2BCASE%2FVal@evil.test/",
        ] {
            let url = to(url);
            assert!(
                upper.check_destination(&url, &[url.as_str()]).is_err(),
                "{url}"
            );
        }
        // What the input named goes only to its hosts, whatever the request makes of it.
        let named = upper.naming(&["UP".to_owned()]);
        assert!(
            named
                .check_destination(&to("https://evil.test/"), &["nothing"])
                .is_err()
        );
        assert!(
            named
                .check_destination(&to("https://api.example.com/"), &["x"])
                .is_ok()
        );
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
