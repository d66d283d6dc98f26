//! A real HTTP server on 127.0.0.1 for actions to call: it records every request and answers
//! by its path.
//!
//! - `/fail/N/STATUS/NAME`: answers STATUS to the first N requests (per NAME), then 200.
//! - `/status/STATUS`: always STATUS.
//! - `/retry-after/SECONDS/NAME`: the first request gets 429 with `Retry-After`, then 200.
//! - `/redirect?to=URL`: 302 to URL.
//! - `/echo-header/NAME`: answers the request header NAME's value in its body.
//! - anything else: 200 with `{"ok": true, "path": ...}`, or the `answer` set for that path
//!   (the answers queued for it with `answer_in_turn` first, one per request).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use serde_json::{Value, json};

#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    pub method: String,
    /// The path with its query.
    pub path: String,
    /// Lowercase names.
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
    pub at: Instant,
    /// The wall clock at arrival, to compare with times another process wrote down.
    pub wall: SystemTime,
}

impl Recorded {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

#[derive(Default)]
struct State {
    requests: Vec<Recorded>,
    counts: HashMap<String, usize>,
    answers: HashMap<String, (u16, Value)>,
    /// Answers given once each, in order, before `answers`.
    queued: HashMap<String, std::collections::VecDeque<(u16, Value)>>,
    /// Paths that answer only after this long.
    delays: HashMap<String, Duration>,
    /// Requests being answered now, and the most there were at once.
    in_flight: usize,
    peak: usize,
}

pub(crate) struct Peer {
    pub port: u16,
    state: Arc<Mutex<State>>,
}

impl Peer {
    pub fn start() -> Peer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let state = shared.clone();
                std::thread::spawn(move || {
                    let _ = serve(stream, &state);
                });
            }
        });
        Peer { port, state }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// What a path answers from now on.
    pub fn answer(&self, path: &str, status: u16, body: Value) {
        self.state
            .lock()
            .unwrap()
            .answers
            .insert(path.to_owned(), (status, body));
    }

    /// Queues an answer of a path: the next request to it that finds none queued before gets
    /// it, once.
    pub fn answer_in_turn(&self, path: &str, status: u16, body: Value) {
        self.state
            .lock()
            .unwrap()
            .queued
            .entry(path.to_owned())
            .or_default()
            .push_back((status, body));
    }

    /// Makes a path answer only after `delay` (a slow service).
    pub fn slow(&self, path: &str, delay: Duration) {
        self.state
            .lock()
            .unwrap()
            .delays
            .insert(path.to_owned(), delay);
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().requests.clone()
    }

    /// The most requests that were being answered at the same time.
    pub fn peak_in_flight(&self) -> usize {
        self.state.lock().unwrap().peak
    }

    /// The requests whose path starts with `prefix`.
    pub fn requests_to(&self, prefix: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.path.starts_with(prefix))
            .collect()
    }
}

fn serve(stream: TcpStream, state: &Mutex<State>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_owned();
    let path = parts.next().unwrap_or("").to_owned();
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" || h == "\n" {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
        }
    }
    let len: usize = headers
        .get("content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body)?;
    let recorded = Recorded {
        method,
        path: path.clone(),
        headers: headers.clone(),
        body,
        at: Instant::now(),
        wall: SystemTime::now(),
    };
    let (status, extra, answer, delay) = {
        let mut st = state.lock().unwrap();
        st.requests.push(recorded);
        st.in_flight += 1;
        st.peak = st.peak.max(st.in_flight);
        let delay = st
            .delays
            .get(path.split('?').next().unwrap_or_default())
            .copied();
        let (status, extra, answer) = respond(&mut st, &path, &headers);
        (status, extra, answer, delay)
    };
    if let Some(d) = delay {
        std::thread::sleep(d);
    }
    state.lock().unwrap().in_flight -= 1;
    let text = answer.to_string();
    let reason = match status {
        200 => "OK",
        302 => "Found",
        429 => "Too Many Requests",
        _ => "Status",
    };
    let mut out = stream;
    write!(
        out,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n{extra}\r\n{text}",
        text.len()
    )?;
    out.flush()
}

fn respond(st: &mut State, path: &str, headers: &HashMap<String, String>) -> (u16, String, Value) {
    let (route, query) = path.split_once('?').unwrap_or((path, ""));
    if let Some((status, body)) = st.queued.get_mut(route).and_then(|q| q.pop_front()) {
        return (status, String::new(), body);
    }
    if let Some(answer) = st.answers.get(route) {
        return (answer.0, String::new(), answer.1.clone());
    }
    let seg: Vec<&str> = route.trim_start_matches('/').split('/').collect();
    match seg.as_slice() {
        ["fail", n, status, name] => {
            let count = st.counts.entry((*name).to_owned()).or_default();
            *count += 1;
            if *count <= n.parse().unwrap_or(0) {
                let status = status.parse().unwrap_or(500);
                return (
                    status,
                    String::new(),
                    json!({"error": "failing on purpose", "attempt": *count}),
                );
            }
            (200, String::new(), json!({"ok": true, "attempt": *count}))
        }
        ["status", status] => (
            status.parse().unwrap_or(500),
            String::new(),
            json!({"status": status}),
        ),
        ["retry-after", secs, name] => {
            let count = st.counts.entry((*name).to_owned()).or_default();
            *count += 1;
            if *count == 1 {
                return (
                    429,
                    format!("Retry-After: {secs}\r\n"),
                    json!({"error": "slow down"}),
                );
            }
            (200, String::new(), json!({"ok": true}))
        }
        ["redirect"] => {
            let to = query
                .split('&')
                .find_map(|p| p.strip_prefix("to="))
                .map(url_decode)
                .unwrap_or_default();
            (302, format!("Location: {to}\r\n"), json!({"redirect": to}))
        }
        ["echo-header", name] => (
            200,
            String::new(),
            json!({"value": headers.get(&name.to_ascii_lowercase())}),
        ),
        _ => (200, String::new(), json!({"ok": true, "path": path})),
    }
}

fn url_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
