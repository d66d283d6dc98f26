//! The HTTP/1.1 client of outbound actions: hyper's connections, kept per origin for reuse,
//! every address passing the guard before it is connected to.
//!
//! Why not reqwest (which the LLM endpoint and the CLI use): a node holds one connection per
//! call in flight, thousands of them when services answer slowly, and what a connection costs
//! while it waits is the node's memory. Through reqwest and hyper-util's pool a waiting call
//! took ~27 KB; on hyper's connection alone ~18 KB (10,000 calls held: 272 MB against 181 MB).
//! What this adds to hyper is the
//! small part reqwest did for the action: resolution through the guard, TLS (rustls with the
//! platform's roots), a Host header, and idle connections kept per origin.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{HeaderName, HeaderValue};
use hyper_util::rt::TokioIo;

use crate::outbound::Guard;

/// How long a new connection may take, TLS included.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long an idle connection is kept for the next request to its origin.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// The most idle connections kept per origin.
const MAX_IDLE_PER_ORIGIN: usize = 256;
const USER_AGENT: &str = concat!("weir/", env!("CARGO_PKG_VERSION"));

/// The sending half of a connection.
type Sender = SendRequest<Full<Bytes>>;

/// Why a request was not answered.
#[derive(Debug)]
pub enum Failure {
    /// The guard refused an address.
    Refused(String),
    /// No connection or no answer in time.
    Timeout(String),
    /// The connection failed (refused, reset, TLS).
    Network(String),
    /// The request cannot be written (a header name or value that HTTP does not allow).
    Invalid(String),
}

/// An answer whose body is still to read; its connection goes back to the client's idle ones
/// once the body has been read to its end.
pub struct Response {
    pub head: hyper::http::response::Parts,
    body: Incoming,
    back: Option<(Arc<Pool>, Origin, Sender)>,
}

/// Why a body was not read whole.
pub enum BodyFailure {
    /// It is longer than the limit.
    TooLarge,
    /// The connection failed while it was read.
    Network(String),
}

impl Response {
    /// Reads the body, at most `limit` bytes. A body read to its end gives its connection back.
    pub async fn bytes(mut self, limit: usize) -> Result<Vec<u8>, BodyFailure> {
        let mut bytes = Vec::new();
        while let Some(frame) = self.body.frame().await {
            let frame = frame.map_err(|e| BodyFailure::Network(error_text(&e)))?;
            if let Ok(data) = frame.into_data() {
                if bytes.len() + data.len() > limit {
                    return Err(BodyFailure::TooLarge);
                }
                bytes.extend_from_slice(&data);
            }
        }
        if let Some((pool, origin, sender)) = self.back.take() {
            pool.give_back(origin, sender);
        }
        Ok(bytes)
    }
}

#[derive(Clone, PartialEq, Eq, Hash)]
struct Origin {
    https: bool,
    host: String,
    port: u16,
}

#[derive(Default)]
struct Pool {
    idle: Mutex<Idle>,
}

#[derive(Default)]
struct Idle {
    by_origin: HashMap<Origin, Vec<(Sender, Instant)>>,
    swept: Option<Instant>,
}

impl Pool {
    /// An idle connection to the origin that can take a request now.
    fn take(&self, origin: &Origin) -> Option<Sender> {
        let mut idle = self.idle.lock().expect("idle connections");
        idle.sweep();
        let list = idle.by_origin.get_mut(origin)?;
        while let Some((sender, since)) = list.pop() {
            if since.elapsed() < IDLE_TIMEOUT && sender.is_ready() {
                return Some(sender);
            }
        }
        None
    }

    /// Keeps a connection whose answer has been read, once it can take the next request (at
    /// once, usually; otherwise when its connection task has finished with the answer).
    fn give_back(self: &Arc<Self>, origin: Origin, mut sender: Sender) {
        if sender.is_closed() {
            return;
        }
        if sender.is_ready() {
            return self.keep(origin, sender);
        }
        let pool = self.clone();
        tokio::spawn(async move {
            // A server that stops reading without closing does not keep this for ever.
            if let Ok(Ok(())) = tokio::time::timeout(IDLE_TIMEOUT, sender.ready()).await {
                pool.keep(origin, sender);
            }
        });
    }

    fn keep(&self, origin: Origin, sender: Sender) {
        let mut idle = self.idle.lock().expect("idle connections");
        idle.sweep();
        let list = idle.by_origin.entry(origin).or_default();
        if list.len() < MAX_IDLE_PER_ORIGIN {
            list.push((sender, Instant::now()));
        }
    }
}

impl Idle {
    /// Drops, now and then, connections that have waited too long or that their server closed,
    /// and origins with none left.
    fn sweep(&mut self) {
        let now = Instant::now();
        if self
            .swept
            .is_some_and(|at| now.duration_since(at) < IDLE_TIMEOUT / 2)
        {
            return;
        }
        self.swept = Some(now);
        self.by_origin.retain(|_, list| {
            list.retain(|(sender, since)| {
                now.duration_since(*since) < IDLE_TIMEOUT && !sender.is_closed()
            });
            !list.is_empty()
        });
    }
}

/// The outbound HTTP client: every name it resolves and every address it connects to passes
/// the guard; it follows no redirect (a caller that does checks each hop) and uses no proxy.
pub struct Client {
    guard: Arc<Guard>,
    pool: Arc<Pool>,
    tls: OnceLock<Result<tokio_rustls::TlsConnector, String>>,
}

impl Client {
    pub fn new(guard: Arc<Guard>) -> Client {
        Client {
            guard,
            pool: Arc::default(),
            tls: OnceLock::new(),
        }
    }

    /// A client that trusts the given TLS configuration instead of the platform's roots.
    pub fn with_tls(guard: Arc<Guard>, tls: rustls::ClientConfig) -> Client {
        let client = Client::new(guard);
        let _ = client.tls.set(Ok(connector(tls)));
        client
    }

    /// Sends one request and waits for the head of its answer (the caller bounds the time).
    /// The URL must be http or https with a host; `headers` go as given, after `Host`,
    /// `User-Agent` and `Accept`, which they may replace.
    pub async fn send(
        &self,
        method: hyper::Method,
        url: &url::Url,
        headers: &[(&str, &str)],
        body: Option<Bytes>,
    ) -> Result<Response, Failure> {
        let origin = origin(url)?;
        // Boxed: while the call waits, the request is in the connection's queue, and this
        // future keeps 8 bytes for it instead of 240.
        let mut request = Some(Box::new(request(method, url, headers, body)?));
        // An idle connection that its server closed meanwhile takes no request; the request
        // then goes on a new one. A request that was written is never sent again here.
        while let Some(mut sender) = self.pool.take(&origin) {
            let req = request.take().expect("the request is at hand");
            match sender.try_send_request(*req).await {
                Ok(answer) => return Ok(self.answer(origin, sender, answer)),
                Err(mut e) => match e.take_message() {
                    Some(req) => request = Some(Box::new(req)),
                    None => return Err(Failure::Network(error_text(e.error()))),
                },
            }
        }
        // Boxed: connecting (TLS included) takes a large future, which a call waiting for its
        // answer would otherwise keep.
        let mut sender = Box::pin(self.connect(&origin)).await?;
        match sender
            .send_request(*request.take().expect("the request is at hand"))
            .await
        {
            Ok(answer) => Ok(self.answer(origin, sender, answer)),
            Err(e) => Err(Failure::Network(error_text(&e))),
        }
    }

    fn answer(
        &self,
        origin: Origin,
        sender: Sender,
        answer: hyper::Response<Incoming>,
    ) -> Response {
        let (head, body) = answer.into_parts();
        Response {
            head,
            body,
            back: Some((self.pool.clone(), origin, sender)),
        }
    }

    async fn connect(&self, origin: &Origin) -> Result<Sender, Failure> {
        let what = format!("connecting to {}:{}", origin.host, origin.port);
        let io = tokio::time::timeout(CONNECT_TIMEOUT, self.open(origin))
            .await
            .map_err(|_| Failure::Timeout(format!("{what}: no connection within 10 s")))??;
        let handshake = match io {
            Stream::Plain(tcp) => self.handshake(TokioIo::new(tcp)).await,
            Stream::Tls(tls) => self.handshake(TokioIo::new(tls)).await,
        };
        handshake.map_err(|e| Failure::Network(format!("{what}: {}", error_text(&e))))
    }

    async fn handshake<T>(&self, io: T) -> hyper::Result<Sender>
    where
        T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    {
        // hyper's own read buffer (8 KB, growing for a longer header section): a smaller exact
        // size would save 3.5 KB per waiting call, but hyper then refuses any answer whose
        // header section does not fit in it.
        let (sender, connection) = http1::Builder::new().handshake(io).await?;
        // The connection is the task's whole future (a failure is reported to the request it
        // was serving): wrapped in a block that awaits it, it would be held there twice, as
        // the block's capture and as what it awaits, 700 bytes more per open connection.
        tokio::spawn(connection);
        Ok(sender)
    }

    /// Resolves the host through the guard, connects to the first address that answers, and
    /// speaks TLS on it for https.
    async fn open(&self, origin: &Origin) -> Result<Stream, Failure> {
        let addrs = self.resolve(origin).await?;
        // Each address gets its share of the time, so one that drops packets (an IPv6 route
        // that leads nowhere) leaves time for the next.
        let share = (CONNECT_TIMEOUT / addrs.len().max(1) as u32).max(Duration::from_secs(1));
        let mut last = None;
        let mut tcp = None;
        for addr in addrs {
            match tokio::time::timeout(share, tokio::net::TcpStream::connect(addr)).await {
                Ok(Ok(stream)) => {
                    tcp = Some(stream);
                    break;
                }
                Ok(Err(e)) => last = Some(format!("{addr}: {e}")),
                Err(_) => last = Some(format!("{addr}: no answer within {} ms", share.as_millis())),
            }
        }
        let what = format!("connecting to {}:{}", origin.host, origin.port);
        let tcp =
            tcp.ok_or_else(|| Failure::Network(format!("{what}: {}", last.unwrap_or_default())))?;
        let _ = tcp.set_nodelay(true);
        if !origin.https {
            return Ok(Stream::Plain(tcp));
        }
        let tls = self
            .tls
            .get_or_init(platform_tls)
            .as_ref()
            .map_err(|e| Failure::Network(format!("{what}: {e}")))?;
        let host = origin.host.trim_start_matches('[').trim_end_matches(']');
        let name = rustls::pki_types::ServerName::try_from(host.to_owned())
            .map_err(|e| Failure::Network(format!("{what}: {e}")))?;
        let stream = tls
            .connect(name, tcp)
            .await
            .map_err(|e| Failure::Network(format!("{what}: TLS: {e}")))?;
        Ok(Stream::Tls(Box::new(stream)))
    }

    /// The addresses of the origin's host, every one of which the guard allows on its port.
    async fn resolve(&self, origin: &Origin) -> Result<Vec<SocketAddr>, Failure> {
        let port = origin.port;
        let literal = origin.host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = literal.parse::<std::net::IpAddr>() {
            self.guard
                .check_ip(None, ip, Some(port))
                .map_err(Failure::Refused)?;
            return Ok(vec![SocketAddr::new(ip, port)]);
        }
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((origin.host.as_str(), port))
            .await
            .map_err(|e| Failure::Network(format!("resolving {}: {e}", origin.host)))?
            .collect();
        for a in &addrs {
            self.guard
                .check_ip(Some(&origin.host), a.ip(), Some(port))
                .map_err(Failure::Refused)?;
        }
        if addrs.is_empty() {
            return Err(Failure::Network(format!(
                "{} resolves to no address",
                origin.host
            )));
        }
        Ok(addrs)
    }
}

enum Stream {
    Plain(tokio::net::TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<tokio::net::TcpStream>>),
}

fn connector(mut config: rustls::ClientConfig) -> tokio_rustls::TlsConnector {
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

/// TLS that trusts what the platform trusts, as browsers and reqwest do.
fn platform_tls() -> Result<tokio_rustls::TlsConnector, String> {
    use rustls_platform_verifier::ConfigVerifierExt;
    rustls::ClientConfig::with_platform_verifier()
        .map(connector)
        .map_err(|e| format!("cannot set up TLS: {e}"))
}

fn origin(url: &url::Url) -> Result<Origin, Failure> {
    let https = match url.scheme() {
        "http" => false,
        "https" => true,
        other => {
            return Err(Failure::Refused(format!(
                "only http and https URLs may be called, not {other}:"
            )));
        }
    };
    let host = url
        .host_str()
        .ok_or_else(|| Failure::Refused("the URL has no host".into()))?;
    Ok(Origin {
        https,
        host: host.to_ascii_lowercase(),
        port: url
            .port_or_known_default()
            .unwrap_or(if https { 443 } else { 80 }),
    })
}

/// The request in origin form, with `Host`, `User-Agent` and `Accept` unless the caller's
/// headers replace them.
fn request(
    method: hyper::Method,
    url: &url::Url,
    headers: &[(&str, &str)],
    body: Option<Bytes>,
) -> Result<hyper::Request<Full<Bytes>>, Failure> {
    let mut target = url.path().to_owned();
    if let Some(query) = url.query() {
        target.push('?');
        target.push_str(query);
    }
    let host = match url.port() {
        Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_owned(),
    };
    let bad = |what: String| Failure::Invalid(format!("{url}: {what}"));
    let mut req = hyper::Request::new(Full::new(body.unwrap_or_default()));
    *req.method_mut() = method;
    *req.uri_mut() = target
        .parse()
        .map_err(|e| bad(format!("the path is not a valid request target: {e}")))?;
    let h = req.headers_mut();
    let value = |v: &str| HeaderValue::from_str(v);
    h.insert(
        hyper::header::HOST,
        value(&host).map_err(|e| bad(format!("the host is not a header value: {e}")))?,
    );
    h.insert(
        hyper::header::USER_AGENT,
        HeaderValue::from_static(USER_AGENT),
    );
    h.insert(hyper::header::ACCEPT, HeaderValue::from_static("*/*"));
    let mut replaced: Vec<HeaderName> = Vec::new();
    for (name, v) in headers {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| bad(format!("'{name}' is not a header name")))?;
        let v =
            value(v).map_err(|_| bad(format!("the value of '{name}' is not a header value")))?;
        // A header the caller gives replaces the default of that name; its own repeats add up.
        if !replaced.contains(&name) {
            h.remove(&name);
            replaced.push(name.clone());
        }
        h.append(name, v);
    }
    Ok(req)
}

/// An error with its causes, each said once.
pub fn error_text(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};

    use super::*;
    use crate::outbound::AllowList;

    fn guard(port: u16) -> Arc<Guard> {
        Guard::new(AllowList::parse(&format!("127.0.0.1:{port}")).unwrap())
    }

    /// Reads one request (head and Content-Length body) from a connection; `None` at its end.
    fn read_request(reader: &mut impl BufRead) -> Option<(String, Vec<String>)> {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).ok()? == 0 || h.trim().is_empty() {
                break;
            }
            headers.push(h.trim().to_ascii_lowercase());
        }
        let len = headers
            .iter()
            .find_map(|h| h.strip_prefix("content-length:"))
            .map_or(0, |l| l.trim().parse().unwrap());
        let mut body = vec![0; len];
        reader.read_exact(&mut body).ok()?;
        Some((line, headers))
    }

    /// A keep-alive HTTP/1.1 server on loopback that counts the connections it accepts and
    /// answers every request with its request line, closing each connection after `per`
    /// answers.
    fn keep_alive_server(per: usize) -> (u16, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                count.fetch_add(1, Ordering::SeqCst);
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    let mut writer = stream;
                    for n in 1..=per {
                        let Some((line, _)) = read_request(&mut reader) else {
                            return;
                        };
                        let body = line.trim();
                        let close = if n == per {
                            "Connection: close\r\n"
                        } else {
                            ""
                        };
                        let answer = format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n{close}\r\n{body}",
                            body.len()
                        );
                        writer.write_all(answer.as_bytes()).unwrap();
                    }
                });
            }
        });
        (port, accepted)
    }

    async fn get(client: &Client, url: &str) -> String {
        let url = url::Url::parse(url).unwrap();
        let response = client
            .send(hyper::Method::GET, &url, &[], None)
            .await
            .unwrap_or_else(|e| panic!("{url}: {e:?}"));
        assert_eq!(response.head.status, 200);
        let body = response.bytes(1 << 20).await.ok().unwrap();
        String::from_utf8(body).unwrap()
    }

    #[tokio::test]
    async fn a_connection_is_kept_for_the_next_request_to_its_origin() {
        let (port, accepted) = keep_alive_server(usize::MAX);
        let client = Client::new(guard(port));
        for i in 0..5 {
            let body = get(&client, &format!("http://127.0.0.1:{port}/n/{i}?q=1")).await;
            assert_eq!(body, format!("GET /n/{i}?q=1 HTTP/1.1"));
        }
        assert_eq!(
            accepted.load(Ordering::SeqCst),
            1,
            "one connection for five requests"
        );
    }

    /// A server that closes a connection after its answer: the next request goes on a new one.
    #[tokio::test]
    async fn a_connection_its_server_closed_is_not_used_again() {
        let (port, accepted) = keep_alive_server(2);
        let client = Client::new(guard(port));
        for i in 0..6 {
            get(&client, &format!("http://127.0.0.1:{port}/{i}")).await;
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn the_host_default_headers_and_the_callers_go_out_as_given() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let (line, headers) = read_request(&mut reader).unwrap();
            let mut writer = stream;
            writer
                .write_all(b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok")
                .unwrap();
            (line, headers)
        });
        let client = Client::new(guard(port));
        let url = url::Url::parse(&format!("http://127.0.0.1:{port}/p")).unwrap();
        let headers = [("User-Agent", "mine"), ("X-Two", "a"), ("X-Two", "b")];
        let response = client
            .send(hyper::Method::POST, &url, &headers, Some(Bytes::from("{}")))
            .await
            .unwrap();
        assert_eq!(response.head.status, 201);
        let (line, headers) = seen.join().unwrap();
        assert_eq!(line.trim(), "POST /p HTTP/1.1");
        for h in [
            format!("host: 127.0.0.1:{port}"),
            "user-agent: mine".into(),
            "accept: */*".into(),
            "x-two: a".into(),
            "x-two: b".into(),
            "content-length: 2".into(),
        ] {
            assert!(headers.contains(&h), "{h} in {headers:?}");
        }
        assert_eq!(
            headers
                .iter()
                .filter(|h| h.starts_with("user-agent"))
                .count(),
            1
        );
        let bad = client
            .send(hyper::Method::GET, &url, &[("bad name", "x")], None)
            .await;
        assert!(
            matches!(bad, Err(Failure::Invalid(ref e)) if e.contains("'bad name' is not a header name"))
        );
    }

    /// Regression: with hyper reading 512 bytes at a time, an answer whose header section was
    /// longer (cookies, a content security policy) failed as "message head is too large".
    #[tokio::test]
    async fn an_answer_with_a_long_header_section_is_read() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            read_request(&mut reader).unwrap();
            let cookies: String = (0..40)
                .map(|i| format!("Set-Cookie: c{i}={}\r\n", "v".repeat(400)))
                .collect();
            let answer = format!("HTTP/1.1 200 OK\r\n{cookies}Content-Length: 4\r\n\r\nlong");
            let mut writer = stream;
            writer.write_all(answer.as_bytes()).unwrap();
        });
        let client = Client::new(guard(port));
        let url = url::Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap();
        let response = client
            .send(hyper::Method::GET, &url, &[], None)
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            response.head.headers.get_all("set-cookie").iter().count(),
            40
        );
        assert_eq!(response.bytes(1 << 20).await.ok().unwrap(), b"long");
    }

    #[tokio::test]
    async fn an_address_the_guard_refuses_is_not_connected_to() {
        let (port, accepted) = keep_alive_server(usize::MAX);
        let client = Client::new(Guard::new(AllowList::default()));
        let url = url::Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap();
        let refused = client.send(hyper::Method::GET, &url, &[], None).await;
        assert!(matches!(refused, Err(Failure::Refused(ref e)) if e.contains("loopback")));
        let url = url::Url::parse(&format!("http://localhost:{port}/")).unwrap();
        let refused = client.send(hyper::Method::GET, &url, &[], None).await;
        assert!(
            matches!(refused, Err(Failure::Refused(ref e)) if e.contains("localhost resolves to"))
        );
        assert_eq!(accepted.load(Ordering::SeqCst), 0);
    }

    /// HTTPS with a certificate the client's configuration trusts, made by openssl for the
    /// test; the server is rustls on loopback.
    #[tokio::test]
    async fn https_is_spoken_with_a_certificate_that_verifies() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = std::env::temp_dir().join(format!("weir-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
        let made = std::process::Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
            ])
            .args(["-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"])
            .args(["-addext", "subjectAltName=IP:127.0.0.1"])
            .args(["-addext", "basicConstraints=critical,CA:FALSE"])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .output()
            .expect("openssl makes the test's certificate");
        assert!(
            made.status.success(),
            "{}",
            String::from_utf8_lossy(&made.stderr)
        );
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&cert)
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let key = PrivateKeyDer::from_pem_file(&key).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        let server = rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(certs.clone(), key)
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            while let Ok((tcp, _)) = listener.accept().await {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    continue;
                };
                let mut head = vec![0; 4096];
                let n = tls.read(&mut head).await.unwrap();
                let line = String::from_utf8_lossy(&head[..n])
                    .lines()
                    .next()
                    .unwrap()
                    .to_owned();
                let answer = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{line}",
                    line.len()
                );
                tls.write_all(answer.as_bytes()).await.unwrap();
            }
        });
        let mut roots = rustls::RootCertStore::empty();
        roots.add(certs[0].clone()).unwrap();
        let trusting = rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let client = Client::with_tls(guard(port), trusting);
        let body = get(&client, &format!("https://127.0.0.1:{port}/secure")).await;
        assert_eq!(body, "GET /secure HTTP/1.1");
        // The platform's roots do not hold the test's certificate.
        let strict = Client::new(guard(port));
        let url = url::Url::parse(&format!("https://127.0.0.1:{port}/")).unwrap();
        let failed = strict.send(hyper::Method::GET, &url, &[], None).await;
        assert!(
            matches!(failed, Err(Failure::Network(ref e)) if e.contains("TLS")),
            "{:?}",
            failed.err()
        );
    }
}
