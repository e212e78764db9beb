//! The client's address, decided once per request and used for everything: rate limits, audit
//! events, credentials' "last used" address, the sessions list and the log.
//!
//! Behind a reverse proxy the socket peer is the proxy. Only when that peer is one of
//! `TRUSTED_PROXIES` do its headers count: the client is then the right-most hop of
//! `X-Forwarded-For` (or, without it, of `Forwarded: for=`) that is not itself a trusted proxy.
//! Hops further left were written by whoever connected to the first proxy and prove nothing.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderMap, FORWARDED, X_FORWARDED_FOR};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, HttpRequest};
use ipnet::IpNet;

use crate::config::Settings;

/// The networks whose connections may say who the client is (`TRUSTED_PROXIES`). Empty by
/// default: the socket peer is the client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "TRUSTED_PROXIES: `{0}` is not a network like 10.0.0.0/8 or fd00::/8, nor an address like \
     192.0.2.1 (separate several with commas)"
)]
pub struct InvalidTrustedProxy(String);

impl FromStr for TrustedProxies {
    type Err = InvalidTrustedProxy;

    /// Comma-separated networks; a bare address is a network of one.
    fn from_str(list: &str) -> Result<Self, Self::Err> {
        list.split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                let net = match entry.parse::<IpNet>() {
                    Ok(net) => net,
                    Err(_) => entry
                        .parse::<IpAddr>()
                        .map(IpNet::from)
                        .map_err(|_| InvalidTrustedProxy(entry.chars().take(64).collect()))?,
                };
                Ok(canonical_net(net.trunc()))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }
}

/// `::ffff:10.0.0.0/104` is `10.0.0.0/8`: addresses are compared in their IPv4 form.
fn canonical_net(net: IpNet) -> IpNet {
    match net {
        IpNet::V6(v6) => match v6.addr().to_ipv4_mapped() {
            Some(v4) if v6.prefix_len() >= 96 => {
                ipnet::Ipv4Net::new(v4, v6.prefix_len() - 96).map_or(net, IpNet::V4)
            }
            _ => net,
        },
        IpNet::V4(_) => net,
    }
}

impl TrustedProxies {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }
}

/// THE rule: who the client of a request is, from its socket peer and headers.
pub fn client_ip(
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    trusted: &TrustedProxies,
) -> Option<IpAddr> {
    let peer = peer?.to_canonical();
    if !trusted.contains(peer) {
        return Some(peer);
    }
    let hops = forwarded_hops(headers);
    // Right to left, past the trusted proxies; a hop that is no address ("unknown", garbage)
    // says nothing and is passed over.
    let mut leftmost_trusted = None;
    for hop in hops.iter().rev().flatten() {
        if !trusted.contains(*hop) {
            return Some(*hop);
        }
        leftmost_trusted = Some(*hop);
    }
    // Every hop is a trusted proxy: the request started inside, at the furthest of them.
    Some(leftmost_trusted.unwrap_or(peer))
}

/// The hops a proxy reports, client first: `X-Forwarded-For` when there is one (what nginx and
/// most load balancers set), otherwise `Forwarded`'s `for=`. Never both: a proxy that sets one
/// passes the other through from the client untouched.
fn forwarded_hops(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let xff: Vec<Option<IpAddr>> = headers
        .get_all(X_FORWARDED_FOR)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(parse_hop)
        .collect();
    if !xff.is_empty() {
        return xff;
    }
    headers
        .get_all(FORWARDED)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|element| {
            element
                .split(';')
                .filter_map(|pair| pair.split_once('='))
                .find(|(name, _)| name.trim().eq_ignore_ascii_case("for"))
                .and_then(|(_, value)| parse_hop(value.trim().trim_matches('"')))
        })
        .collect()
}

/// `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`, `[2001:db8::1]` or `[2001:db8::1]:4711`.
fn parse_hop(raw: &str) -> Option<IpAddr> {
    let raw = raw.trim();
    let ip = raw
        .parse::<IpAddr>()
        .ok()
        .or_else(|| raw.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| {
            raw.strip_prefix('[')
                .and_then(|r| r.strip_suffix(']'))
                .and_then(|r| r.parse::<IpAddr>().ok())
        })?;
    Some(ip.to_canonical())
}

/// The client address of a request, as decided by [`client_ip`], kept in its extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(Option<IpAddr>);

impl ClientIp {
    /// Decided on first use (normally by [`remember`], before anything else runs), then kept.
    pub fn of(req: &HttpRequest) -> Option<IpAddr> {
        if let Some(known) = req.extensions().get::<ClientIp>() {
            return known.0;
        }
        let none = TrustedProxies::default();
        let settings = req.app_data::<web::Data<Settings>>();
        let trusted = settings.map_or(&none, |s| &s.trusted_proxies);
        let ip = client_ip(req.peer_addr().map(|a| a.ip()), req.headers(), trusted);
        req.extensions_mut().insert(ClientIp(ip));
        ip
    }
}

/// Middleware (outermost): decides the client address before the log, limits or handlers ask.
pub async fn remember(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    ClientIp::of(req.request());
    next.call(req).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))
    }

    fn proxies(list: &str) -> TrustedProxies {
        list.parse().unwrap_or_default()
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            if let Ok(value) = HeaderValue::from_str(value) {
                map.append(HeaderName::from_static(name), value);
            }
        }
        map
    }

    fn client(peer: &str, trusted: &str, pairs: &[(&'static str, &str)]) -> Option<IpAddr> {
        client_ip(Some(ip(peer)), &headers(pairs), &proxies(trusted))
    }

    #[test]
    fn the_list_parses_networks_and_bare_addresses() {
        let list = proxies(" 10.0.0.0/8, 192.0.2.7 ,fd00::/8,");
        assert!(list.contains(ip("10.1.2.3")));
        assert!(list.contains(ip("192.0.2.7")));
        assert!(!list.contains(ip("192.0.2.8")));
        assert!(list.contains(ip("fd12::1")));
        assert!(list.contains(ip("::ffff:10.9.9.9")), "IPv4-mapped peer");
        assert!(proxies("").is_empty());
        assert!(proxies("  ").is_empty());
        // Host bits are dropped, a mapped network is its IPv4 form.
        assert!(proxies("10.0.0.1/8").contains(ip("10.200.0.1")));
        assert!(proxies("::ffff:10.0.0.0/104").contains(ip("10.3.3.3")));
    }

    #[test]
    fn garbage_in_the_list_is_an_error_naming_the_entry() {
        for bad in [
            "10.0.0.0/33",
            "localhost",
            "10.0.0.0/8;",
            "1.2.3",
            "::1/129",
            "*",
        ] {
            let err = format!("10.0.0.0/8,{bad}").parse::<TrustedProxies>();
            let Err(err) = err else {
                panic!("{bad} was accepted");
            };
            assert!(err.to_string().contains(bad), "{err}");
        }
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_sends() {
        let spoofed = [
            ("x-forwarded-for", "203.0.113.9"),
            ("forwarded", "for=203.0.113.10"),
        ];
        assert_eq!(
            client("198.51.100.4", "", &spoofed),
            Some(ip("198.51.100.4"))
        );
        assert_eq!(
            client("198.51.100.4", "10.0.0.0/8", &spoofed),
            Some(ip("198.51.100.4"))
        );
    }

    #[test]
    fn a_trusted_peer_names_the_right_most_untrusted_hop() {
        // The client wrote the first entry itself; the proxy appended the address it saw.
        let xff = [("x-forwarded-for", "1.1.1.1, 203.0.113.9")];
        assert_eq!(
            client("10.0.0.2", "10.0.0.0/8", &xff),
            Some(ip("203.0.113.9"))
        );
        // Without any header the peer is the client.
        assert_eq!(client("10.0.0.2", "10.0.0.0/8", &[]), Some(ip("10.0.0.2")));
    }

    #[test]
    fn a_chain_of_trusted_proxies_is_walked_back_to_the_client() {
        let chain = [(
            "x-forwarded-for",
            "6.6.6.6, 203.0.113.9, 10.0.0.5, 192.168.1.1",
        )];
        assert_eq!(
            client("10.0.0.2", "10.0.0.0/8, 192.168.0.0/16", &chain),
            Some(ip("203.0.113.9"))
        );
        // Split over several header lines, in order.
        let lines = [
            ("x-forwarded-for", "6.6.6.6, 203.0.113.9"),
            ("x-forwarded-for", "10.0.0.5"),
        ];
        assert_eq!(
            client("10.0.0.2", "10.0.0.0/8", &lines),
            Some(ip("203.0.113.9"))
        );
        // All trusted: the request began inside, at the furthest hop.
        let inside = [("x-forwarded-for", "10.0.0.7, 10.0.0.5")];
        assert_eq!(
            client("10.0.0.2", "10.0.0.0/8", &inside),
            Some(ip("10.0.0.7"))
        );
    }

    #[test]
    fn ipv6_hops_and_peers() {
        let xff = [("x-forwarded-for", "2001:db8::1, [2001:db8::2]:4711")];
        assert_eq!(client("fd00::1", "fd00::/8", &xff), Some(ip("2001:db8::2")));
        // A dual-stack listener reports an IPv4 proxy as a mapped address.
        let xff = [("x-forwarded-for", "::ffff:203.0.113.9")];
        assert_eq!(
            client("::ffff:127.0.0.1", "127.0.0.1/32", &xff),
            Some(ip("203.0.113.9"))
        );
        assert_eq!(client("::1", "", &xff), Some(ip("::1")));
    }

    #[test]
    fn malformed_hops_are_passed_over() {
        let xff = [(
            "x-forwarded-for",
            "203.0.113.9, not-an-ip, , 999.1.1.1, unknown, 10.0.0.5",
        )];
        assert_eq!(
            client("10.0.0.2", "10.0.0.0/8", &xff),
            Some(ip("203.0.113.9"))
        );
        let garbage = [("x-forwarded-for", "<script>, ;;;, 1.2.3.4.5")];
        assert_eq!(
            client("10.0.0.2", "10.0.0.0/8", &garbage),
            Some(ip("10.0.0.2"))
        );
        assert_eq!(
            client_ip(None, &headers(&xff), &proxies("10.0.0.0/8")),
            None
        );
    }

    #[test]
    fn forwarded_is_read_when_there_is_no_x_forwarded_for() {
        let fwd = [(
            "forwarded",
            "for=198.51.100.1;proto=https, For=\"[2001:db8:cafe::17]:4711\";by=10.0.0.5, for=unknown, for=_hidden",
        )];
        assert_eq!(
            client("10.0.0.2", "10.0.0.0/8", &fwd),
            Some(ip("2001:db8:cafe::17"))
        );
        // X-Forwarded-For wins: the proxy that sets it passes a client's `Forwarded` through.
        let both = [
            ("forwarded", "for=6.6.6.6"),
            ("x-forwarded-for", "203.0.113.9"),
        ];
        assert_eq!(
            client("10.0.0.2", "10.0.0.0/8", &both),
            Some(ip("203.0.113.9"))
        );
    }
}
