//! The guard on outbound HTTP (SSRF): a workflow author chooses URLs, so by default no request
//! may reach loopback, private, link-local, CGNAT, unique-local, multicast, reserved or cloud
//! metadata addresses, in IPv4 or IPv6 (including IPv4 inside IPv6: mapped, compatible, NAT64
//! and 6to4). Names are checked where they are resolved, so the address checked is the address
//! connected to (no rebinding between check and use); literal addresses, in any encoding the URL
//! parser accepts (`0x7f.1`, `2130706433`, `[::ffff:127.0.0.1]`), are checked before sending
//! and on every redirect hop. An operator allow-list opens hosts and networks:
//! `WEIR_OUTBOUND_ALLOW=127.0.0.1,10.1.0.0/16,hooks.example.com`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use ipnet::IpNet;

/// What may be reached although the default refuses it.
#[derive(Debug, Clone, Default)]
pub struct AllowList {
    nets: Vec<IpNet>,
    /// Lowercase host names, exact.
    hosts: Vec<String>,
}

impl AllowList {
    /// Reads a comma-separated list of addresses, networks (CIDR) and host names.
    pub fn parse(text: &str) -> Result<AllowList, String> {
        let mut list = AllowList::default();
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            if let Ok(net) = item.parse::<IpNet>() {
                list.nets.push(net.trunc());
            } else if let Ok(ip) = item.parse::<IpAddr>() {
                list.nets.push(IpNet::from(ip));
            } else if valid_host(item) {
                list.hosts.push(item.to_ascii_lowercase());
            } else {
                return Err(format!(
                    "'{item}' is not an address, a network like 10.1.0.0/16 or a host name"
                ));
            }
        }
        Ok(list)
    }

    pub fn allows_ip(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.nets.iter().any(|n| n.contains(&ip))
    }

    pub fn allows_host(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.hosts.contains(&host)
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
    /// if it has one, may be reached. Host names are checked when they are resolved.
    pub fn check_url(&self, url: &reqwest::Url) -> Result<(), String> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!(
                "only http and https URLs may be called, not {}:",
                url.scheme()
            ));
        }
        match url.host() {
            None => Err("the URL has no host".into()),
            Some(url::Host::Domain(d)) if self.allow.allows_host(d) => Ok(()),
            Some(url::Host::Domain(_)) => Ok(()),
            Some(url::Host::Ipv4(ip)) => self.check_ip(None, IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => self.check_ip(None, IpAddr::V6(ip)),
        }
    }

    /// Checks an address a host resolved to (or a literal one).
    pub fn check_ip(&self, host: Option<&str>, ip: IpAddr) -> Result<(), String> {
        if host.is_some_and(|h| self.allow.allows_host(h)) || self.allow.allows_ip(ip) {
            return Ok(());
        }
        match forbidden(ip) {
            None => Ok(()),
            Some(why) => Err(match host {
                Some(h) => format!(
                    "{h} resolves to {ip}, a {why} address, which workflows may not call (an operator can allow it with WEIR_OUTBOUND_ALLOW)"
                ),
                None => format!(
                    "{ip} is a {why} address, which workflows may not call (an operator can allow it with WEIR_OUTBOUND_ALLOW)"
                ),
            }),
        }
    }
}

/// The DNS resolver of the HTTP client: resolves with the system resolver and refuses a name
/// any of whose addresses may not be reached.
pub struct GuardedResolver(pub Arc<Guard>);

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let guard = self.0.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            for a in &addrs {
                guard
                    .check_ip(Some(&host), a.ip())
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
        assert!(
            g.check_ip(Some("hooks.example.com"), "10.9.9.9".parse().unwrap())
                .is_ok()
        );
        assert!(
            g.check_ip(Some("other.example.com"), "10.9.9.9".parse().unwrap())
                .is_err()
        );
        assert!(AllowList::parse("10.0.0.0/33").is_err());
        assert!(AllowList::parse("bad host!").is_err());
    }
}
