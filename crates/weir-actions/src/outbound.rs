//! The guard on outbound HTTP (SSRF): a workflow author chooses URLs, so by default no request
//! may reach loopback, private, link-local, CGNAT, unique-local, multicast, reserved or cloud
//! metadata addresses, in IPv4 or IPv6 (including IPv4 inside IPv6: mapped, compatible, NAT64
//! and 6to4). Names are checked where they are resolved, so the address checked is the address
//! connected to (no rebinding between check and use); literal addresses, in any encoding the URL
//! parser accepts (`0x7f.1`, `2130706433`, `[::ffff:127.0.0.1]`), are checked before sending
//! and on every redirect hop. An operator allow-list opens hosts and networks, on every port or
//! on one: `WEIR_OUTBOUND_ALLOW=127.0.0.1:9000,[::1]:9000,10.1.0.0/16,hooks.example.com:8443`.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use ipnet::IpNet;

/// What may be reached although the default refuses it. Each entry opens every port, or the one
/// it names: allowing `127.0.0.1` for a test service would also open Weir's own API and a local
/// PostgreSQL to every workflow, `127.0.0.1:9000` opens the service only.
#[derive(Debug, Clone, Default)]
pub struct AllowList {
    nets: Vec<(IpNet, Option<u16>)>,
    /// Lowercase host names, exact.
    hosts: Vec<(String, Option<u16>)>,
}

/// What an allow-list entry opens.
enum Target {
    Net(IpNet),
    Host(String),
}

const ENTRY_FORMS: &str = "an address, a network like 10.1.0.0/16 or a host name, each with an optional :PORT (an IPv6 address with a port in brackets: [::1]:9000)";

impl AllowList {
    /// Reads a comma-separated list of addresses, networks (CIDR) and host names, each with an
    /// optional port: `127.0.0.1`, `127.0.0.1:9000`, `10.1.0.0/16:5432`, `::1`, `[::1]:9000`,
    /// `[fd00::/8]:443`, `hooks.example.com:8443`.
    pub fn parse(text: &str) -> Result<AllowList, String> {
        let mut list = AllowList::default();
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (target, port, bracketed) = split_port(item)?;
            let port = port.map(|p| parse_port(item, p)).transpose()?;
            match parse_target(item, target, bracketed)? {
                Target::Net(net) => list.nets.push((net, port)),
                Target::Host(host) => list.hosts.push((host, port)),
            }
        }
        Ok(list)
    }

    /// Whether an address is opened on a port; `None` for a port not known, which only entries
    /// without a port open.
    pub fn allows_ip(&self, ip: IpAddr, port: Option<u16>) -> bool {
        let ip = canonical(ip);
        self.nets
            .iter()
            .any(|(n, p)| n.contains(&ip) && port_matches(*p, port))
    }

    /// Whether a host name is opened on a port, as [`AllowList::allows_ip`].
    pub fn allows_host(&self, host: &str, port: Option<u16>) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.hosts
            .iter()
            .any(|(h, p)| *h == host && port_matches(*p, port))
    }

    /// The ports the list opens an address or host name on, when it opens it on some only.
    fn ports_of(&self, host: Option<&str>, ip: IpAddr) -> Vec<u16> {
        let host = host.map(|h| h.trim_end_matches('.').to_ascii_lowercase());
        let ip = canonical(ip);
        let by_host = self.hosts.iter().filter(|(h, _)| Some(h) == host.as_ref());
        let by_ip = self.nets.iter().filter(|(n, _)| n.contains(&ip));
        let mut ports: Vec<u16> = by_host
            .map(|(_, p)| *p)
            .chain(by_ip.map(|(_, p)| *p))
            .flatten()
            .collect();
        ports.sort_unstable();
        ports.dedup();
        ports
    }
}

fn port_matches(entry: Option<u16>, port: Option<u16>) -> bool {
    entry.is_none() || entry == port
}

/// Splits an entry into what it opens and its port, if it names one; and whether what it opens
/// was in brackets. A bare IPv6 address or network (more than one ':') has no port.
fn split_port(item: &str) -> Result<(&str, Option<&str>, bool), String> {
    if let Some(rest) = item.strip_prefix('[') {
        let Some((inside, after)) = rest.split_once(']') else {
            return Err(format!("'{item}' has no closing ']'"));
        };
        return match after {
            "" => Ok((inside, None, true)),
            _ => match after.strip_prefix(':') {
                Some(port) => Ok((inside, Some(port), true)),
                None => Err(format!(
                    "in '{item}', ']' is followed by '{after}' where ':PORT' or nothing goes"
                )),
            },
        };
    }
    match item.split_once(':') {
        Some((target, port)) if !port.contains(':') => Ok((target, Some(port), false)),
        _ => Ok((item, None, false)),
    }
}

fn parse_port(item: &str, port: &str) -> Result<u16, String> {
    match port.parse::<u16>() {
        Ok(p) if p > 0 && port.bytes().all(|b| b.is_ascii_digit()) => Ok(p),
        _ if port.is_empty() => Err(format!("in '{item}', no port follows ':'")),
        _ => Err(format!(
            "in '{item}', the port '{port}' is not a number from 1 to 65535"
        )),
    }
}

fn parse_target(item: &str, text: &str, bracketed: bool) -> Result<Target, String> {
    if let Some((addr, prefix)) = text.split_once('/') {
        let ip = addr.parse::<IpAddr>().map_err(|_| {
            format!("in '{item}', the network '{text}' does not start with an IP address")
        })?;
        let max = if ip.is_ipv4() { 32 } else { 128 };
        let net = prefix
            .parse::<u8>()
            .ok()
            .filter(|p| prefix.bytes().all(|b| b.is_ascii_digit()) && *p <= max)
            .and_then(|p| IpNet::new(ip, p).ok())
            .ok_or_else(|| {
                format!(
                    "in '{item}', the prefix length '/{prefix}' is not a number from 0 to {max}"
                )
            })?;
        return check_brackets(item, net.addr(), bracketed).map(|()| Target::Net(net.trunc()));
    }
    if let Ok(ip) = text.parse::<IpAddr>() {
        return check_brackets(item, ip, bracketed).map(|()| Target::Net(IpNet::from(ip)));
    }
    if bracketed {
        return Err(format!(
            "in '{item}', '{text}' is not an IPv6 address or network"
        ));
    }
    if text.contains(':') {
        return Err(format!(
            "'{item}' is not an IPv6 address; with a port, an IPv6 address goes in brackets: [2001:db8::1]:9000"
        ));
    }
    // A name whose last label is a number is an IPv4 address to a URL parser.
    let last = text.rsplit('.').next().unwrap_or_default();
    if !last.is_empty() && last.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("in '{item}', '{text}' is not an IPv4 address"));
    }
    if valid_host(text) {
        return Ok(Target::Host(text.to_ascii_lowercase()));
    }
    Err(format!("'{item}' is not {ENTRY_FORMS}"))
}

/// Brackets hold IPv6, as in a URL; IPv6 with a port needs them.
fn check_brackets(item: &str, ip: IpAddr, bracketed: bool) -> Result<(), String> {
    match (ip, bracketed) {
        (IpAddr::V4(_), true) => Err(format!(
            "in '{item}', brackets hold an IPv6 address, not {ip}"
        )),
        _ => Ok(()),
    }
}

fn valid_host(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// An IPv4 address carried inside an IPv6 one, which is where a packet really goes.
fn embedded_v4(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = v6.segments();
    let o = v6.octets();
    let v4 = |a: &[u8]| Ipv4Addr::new(a[0], a[1], a[2], a[3]);
    match s {
        // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible, deprecated but routable by some).
        [0, 0, 0, 0, 0, 0xffff, _, _] => Some(v4(&o[12..])),
        [0, 0, 0, 0, 0, 0, hi, _] if hi != 0 => Some(v4(&o[12..])),
        // 64:ff9b::/96 and 64:ff9b:1::/48 (NAT64).
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] | [0x64, 0xff9b, 1, _, _, _, _, _] => Some(v4(&o[12..])),
        // 2002:a.b.c.d::/48 (6to4).
        [0x2002, _, _, _, _, _, _, _] => Some(v4(&o[2..6])),
        _ => None,
    }
}

/// The address an allow-list compares: an IPv4 address inside IPv6 as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => embedded_v4(v6).map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Why an address may not be reached by default, or `None` when it is a public address.
pub fn forbidden(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Some(v4) => forbidden_v4(v4),
            None => forbidden_v6(v6),
        },
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        (0, _, _) => "'this network' (0.0.0.0/8)",
        (127, _, _) => "loopback",
        (10, _, _) | (172, 16..=31, _) | (192, 168, _) => "private",
        (100, 64..=127, _) => "shared address space (CGNAT)",
        (169, 254, _) => "link-local (and cloud metadata)",
        (192, 0, 0) => "IETF protocol assignments",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "documentation",
        (198, 18..=19, _) => "benchmarking",
        (224..=239, _, _) => "multicast",
        (240..=255, _, _) => "reserved or broadcast",
        _ => return None,
    })
}

fn forbidden_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    Some(if ip.is_unspecified() {
        "unspecified"
    } else if ip.is_loopback() {
        "loopback"
    } else if s[0] & 0xfe00 == 0xfc00 {
        "unique-local (and cloud metadata)"
    } else if s[0] & 0xffc0 == 0xfe80 || s[0] & 0xffc0 == 0xfec0 {
        "link-local or site-local"
    } else if s[0] & 0xff00 == 0xff00 {
        "multicast"
    } else if s[0] == 0x2001 && s[1] == 0x0db8 {
        "documentation"
    } else if s[0] == 0x0100 && s[1..4] == [0, 0, 0] {
        "discard-only"
    } else {
        return None;
    })
}

/// The guard an HTTP action consults.
#[derive(Debug, Clone, Default)]
pub struct Guard {
    pub allow: AllowList,
}

impl Guard {
    pub fn new(allow: AllowList) -> Arc<Guard> {
        Arc::new(Guard { allow })
    }

    /// Checks a URL before a request or a redirect hop: an http(s) URL whose literal address,
    /// if it has one, may be reached on its port. Host names are checked when they are resolved.
    pub fn check_url(&self, url: &reqwest::Url) -> Result<(), String> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!(
                "only http and https URLs may be called, not {}:",
                url.scheme()
            ));
        }
        let port = url.port_or_known_default();
        match url.host() {
            None => Err("the URL has no host".into()),
            Some(url::Host::Domain(_)) => Ok(()),
            Some(url::Host::Ipv4(ip)) => self.check_ip(None, IpAddr::V4(ip), port),
            Some(url::Host::Ipv6(ip)) => self.check_ip(None, IpAddr::V6(ip), port),
        }
    }

    /// Checks an address a host resolved to (or a literal one), to be connected to on `port`
    /// (`None`: not known, and then only allow-list entries without a port open it).
    pub fn check_ip(
        &self,
        host: Option<&str>,
        ip: IpAddr,
        port: Option<u16>,
    ) -> Result<(), String> {
        if host.is_some_and(|h| self.allow.allows_host(h, port)) || self.allow.allows_ip(ip, port) {
            return Ok(());
        }
        let Some(why) = forbidden(ip) else {
            return Ok(());
        };
        let what = match host {
            Some(h) => format!("{h} resolves to {ip}, a {why} address"),
            None => format!("{ip} is a {why} address"),
        };
        let ports = self.allow.ports_of(host, ip);
        Err(match (ports.is_empty(), port) {
            (false, Some(port)) => {
                let open: Vec<String> = ports.iter().map(u16::to_string).collect();
                format!(
                    "{what}, which workflows may not call on port {port} (WEIR_OUTBOUND_ALLOW opens it on port {} only)",
                    open.join(", ")
                )
            }
            _ => format!(
                "{what}, which workflows may not call (an operator can allow it with WEIR_OUTBOUND_ALLOW)"
            ),
        })
    }
}

tokio::task_local! {
    /// The port of the request being sent: the resolver is given only the host name.
    static PORT: u16;
}

/// Sends a request (runs `send`) with its port known to the resolver, so that allow-list
/// entries with a port apply to host names as they do to literal addresses. The client
/// resolves a name while the request is first polled, in the task that sends it; a resolution
/// outside it sees no port and is opened by entries without one only.
pub async fn to_port<F: Future>(port: u16, send: F) -> F::Output {
    PORT.scope(port, send).await
}

/// An HTTP client whose names resolve through the guard, that follows no redirect itself (a
/// caller that follows them checks each hop) and uses no proxy.
pub fn client(guard: Arc<Guard>) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .dns_resolver(Arc::new(GuardedResolver(guard)))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .user_agent(concat!("weir/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(std::time::Duration::from_secs(10))
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))
}

/// The DNS resolver of the HTTP client: resolves with the system resolver and refuses a name
/// any of whose addresses may not be reached.
pub struct GuardedResolver(pub Arc<Guard>);

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let guard = self.0.clone();
        let port = PORT.try_with(|p| *p).ok();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            for a in &addrs {
                guard
                    .check_ip(Some(&host), a.ip(), port)
                    .map_err(|e| -> Box<dyn std::error::Error + Send + Sync> { e.into() })?;
            }
            let addrs: reqwest::dns::Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(text: &str) -> bool {
        let url = reqwest::Url::parse(text).unwrap();
        Guard::default().check_url(&url).is_err()
    }

    #[test]
    fn every_class_of_internal_address_is_refused_in_every_spelling() {
        for url in [
            "http://127.0.0.1/",
            "http://127.1/",
            "http://0x7f.0.0.1/",
            "http://2130706433/",
            "http://017700000001/",
            "http://0.0.0.0/",
            "http://10.0.0.1/",
            "http://172.16.5.4/",
            "http://192.168.1.1/",
            "http://100.64.0.1/",
            "http://169.254.169.254/latest/meta-data/",
            "http://[::1]/",
            "http://[::]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:7f00:1]/",
            "http://[::127.0.0.1]/",
            "http://[64:ff9b::a9fe:a9fe]/",
            "http://[2002:a9fe:a9fe::1]/",
            "http://[fe80::1]/",
            "http://[fd00:ec2::254]/",
            "http://[fc00::1]/",
            "http://[ff02::1]/",
            "http://224.0.0.1/",
            "http://255.255.255.255/",
            "file:///etc/passwd",
            "gopher://example.com/",
        ] {
            assert!(refused(url), "{url} should be refused");
        }
        for url in [
            "https://93.184.215.14/",
            "https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/",
            "https://example.com/",
        ] {
            assert!(!refused(url), "{url} should pass");
        }
    }

    #[test]
    fn the_allow_list_opens_addresses_networks_and_hosts() {
        let allow = AllowList::parse("127.0.0.1, 10.1.0.0/16,hooks.example.com").unwrap();
        let g = Guard { allow };
        let ok = |u: &str| g.check_url(&reqwest::Url::parse(u).unwrap()).is_ok();
        assert!(ok("http://127.0.0.1:9000/x"));
        assert!(ok("http://[::ffff:127.0.0.1]/"));
        assert!(ok("http://10.1.200.3/"));
        assert!(!ok("http://10.2.0.1/"));
        assert!(!ok("http://127.0.0.2/"));
        let ten = "10.9.9.9".parse().unwrap();
        assert!(g.check_ip(Some("hooks.example.com"), ten, None).is_ok());
        assert!(g.check_ip(Some("other.example.com"), ten, None).is_err());
        assert!(AllowList::parse("10.0.0.0/33").is_err());
        assert!(AllowList::parse("bad host!").is_err());
    }

    /// Regression: the allow-list had no ports, so allowing 127.0.0.1 for a test service also
    /// opened Weir's own API and a local PostgreSQL to every workflow.
    #[test]
    fn an_allow_list_entry_with_a_port_opens_that_port_only() {
        let allow = AllowList::parse(
            "127.0.0.1:9000, [::1]:9001, 10.1.0.0/16:5432, [fd00::/8]:443, hooks.example.com:8443, ::2, [::3]",
        )
        .unwrap();
        let g = Guard { allow };
        let ok = |u: &str| g.check_url(&reqwest::Url::parse(u).unwrap()).is_ok();
        for open in [
            "http://127.0.0.1:9000/x",
            "http://[::ffff:127.0.0.1]:9000/",
            "http://[::1]:9001/",
            "http://10.1.2.3:5432/",
            "https://[fd12::1]/",
            "http://[::2]:1/",
            "http://[::3]:2/",
        ] {
            assert!(ok(open), "{open} should be open");
        }
        for closed in [
            "http://127.0.0.1:8080/api/v1/workflows",
            "http://127.0.0.1:5432/",
            "http://127.0.0.1/",
            "http://[::1]:9000/",
            "http://10.1.2.3:80/",
            "http://[fd12::1]:80/",
        ] {
            assert!(!ok(closed), "{closed} should be closed");
        }
        let refused = g
            .check_url(&reqwest::Url::parse("http://127.0.0.1:8080/").unwrap())
            .unwrap_err();
        assert!(
            refused.contains("port 8080") && refused.contains("opens it on port 9000 only"),
            "{refused}"
        );
    }

    #[test]
    fn a_host_name_with_a_port_is_open_on_that_port_and_a_port_not_known_opens_none() {
        let allow = AllowList::parse("hooks.example.com:8443, 10.0.0.0/8:80").unwrap();
        let g = Guard { allow };
        let ten = "10.9.9.9".parse().unwrap();
        assert!(
            g.check_ip(Some("hooks.example.com"), ten, Some(8443))
                .is_ok()
        );
        assert!(
            g.check_ip(Some("hooks.example.com"), ten, Some(443))
                .is_err()
        );
        assert!(g.check_ip(Some("other.example.com"), ten, Some(80)).is_ok());
        // A resolution whose port is not known is opened by entries without one only.
        assert!(g.check_ip(Some("hooks.example.com"), ten, None).is_err());
        assert!(g.check_ip(None, ten, None).is_err());
    }

    #[test]
    fn a_malformed_allow_list_entry_is_named_with_what_is_wrong() {
        for (entry, says) in [
            ("127.0.0.1:", "no port follows ':'"),
            (
                "127.0.0.1:0",
                "the port '0' is not a number from 1 to 65535",
            ),
            ("127.0.0.1:65536", "the port '65536' is not a number"),
            ("127.0.0.1:+80", "the port '+80' is not a number"),
            ("hooks.example.com:http", "the port 'http' is not a number"),
            ("[::1", "has no closing ']'"),
            ("[::1]9000", "']' is followed by '9000'"),
            ("[127.0.0.1]:80", "brackets hold an IPv6 address"),
            (
                "[hooks.example.com]:80",
                "is not an IPv6 address or network",
            ),
            (
                "10.0.0.0/33",
                "the prefix length '/33' is not a number from 0 to 32",
            ),
            (
                "fd00::/129",
                "the prefix length '/129' is not a number from 0 to 128",
            ),
            ("10.0.0/8:80", "does not start with an IP address"),
            ("10.0.0.300", "'10.0.0.300' is not an IPv4 address"),
            ("2001:db8::1::9000", "goes in brackets"),
            ("bad host!", "is not an address, a network"),
        ] {
            let error = AllowList::parse(&format!("127.0.0.1, {entry}")).unwrap_err();
            assert!(error.contains(entry), "{entry}: {error}");
            assert!(error.contains(says), "{entry}: {error}");
        }
    }
}
