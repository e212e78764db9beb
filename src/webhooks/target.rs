//! Where a webhook may be sent (no SSRF). Checked when an endpoint is saved
//! ([`check_endpoint_url`]) and again for every address it resolves to when a delivery
//! connects ([`is_public`]), so a name that later resolves to 127.0.0.1 (DNS rebinding) is
//! still refused. Redirects are never followed.

use std::net::IpAddr;

use crate::config::Settings;

/// The longest endpoint URL accepted.
pub const MAX_URL_LEN: usize = 2048;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TargetPolicy {
    /// `PUBLIC_URL` is https: endpoints must be https too.
    pub require_https: bool,
    /// `WEBHOOK_ALLOW_PRIVATE_TARGETS`: loopback and private addresses allowed (tests, dev).
    pub allow_private: bool,
}

impl TargetPolicy {
    pub fn from_settings(settings: &Settings) -> Self {
        Self {
            require_https: settings.is_https(),
            allow_private: settings.webhook_allow_private_targets,
        }
    }

    /// Whether a delivery may connect to `ip`.
    pub fn allows(&self, ip: IpAddr) -> bool {
        self.allow_private || is_public(ip)
    }
}

/// Parses an endpoint URL as a user typed it; the message says what is wrong with it.
pub fn check_endpoint_url(raw: &str, policy: &TargetPolicy) -> Result<url::Url, &'static str> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err("Enter the endpoint URL.");
    }
    if raw.len() > MAX_URL_LEN {
        return Err("The endpoint URL is too long.");
    }
    let url =
        url::Url::parse(raw).map_err(|_| "Enter a full URL, such as https://example.com/hooks.")?;
    match url.scheme() {
        "https" => {}
        "http" if !policy.require_https => {}
        "http" => return Err("The endpoint must use https."),
        _ => return Err("The endpoint must be an https URL."),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("The endpoint URL must not contain a user name or password.");
    }
    if url.fragment().is_some() {
        return Err("The endpoint URL must not contain a #fragment.");
    }
    match url.host() {
        None => return Err("The endpoint URL needs a host."),
        Some(url::Host::Ipv4(ip)) if !policy.allows(IpAddr::V4(ip)) => {
            return Err("The endpoint must be a public address.")
        }
        Some(url::Host::Ipv6(ip)) if !policy.allows(IpAddr::V6(ip)) => {
            return Err("The endpoint must be a public address.")
        }
        Some(url::Host::Domain(d))
            if !policy.allow_private
                && (d.eq_ignore_ascii_case("localhost") || d.ends_with(".localhost")) =>
        {
            return Err("The endpoint must be a public address.")
        }
        Some(_) => {}
    }
    Ok(url)
}

/// True for addresses on the public internet: not loopback, private, link-local, shared
/// (CGNAT), documentation, benchmarking, multicast, broadcast, unspecified or reserved, and
/// the same for IPv4 mapped or embedded in IPv6.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b)) // 100.64.0.0/10 shared address space
                || (a == 192 && b == 0 && c == 0) // 192.0.0.0/24 protocol assignments
                || (a == 198 && (b == 18 || b == 19)) // 198.18.0.0/15 benchmarking
                || a >= 240) // reserved and broadcast
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let seg = v6.segments();
            let first = seg.first().copied().unwrap_or(0);
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (first & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (first & 0xffc0) == 0xfec0 // site-local (deprecated)
                || first == 0x2001 && seg.get(1) == Some(&0x0db8) // documentation
                || first == 0x0064 && seg.get(1) == Some(&0xff9b) // NAT64 (embeds IPv4)
                || first == 0x2002 // 6to4 (embeds IPv4)
                || seg.iter().take(6).all(|s| *s == 0)) // IPv4-compatible ::a.b.c.d
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STRICT: TargetPolicy = TargetPolicy {
        require_https: true,
        allow_private: false,
    };

    #[test]
    fn non_public_addresses_are_refused() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "::1",
            "::ffff:127.0.0.1",
            "fd00::1",
            "fe80::1",
            "64:ff9b::a9fe:a9fe",
        ] {
            let ip: IpAddr = ip.parse().unwrap_or(IpAddr::from([127, 0, 0, 1]));
            assert!(!is_public(ip), "{ip} should not be public");
        }
        assert!(is_public(IpAddr::from([93, 184, 216, 34])));
        assert!(is_public(
            "2606:4700::1111"
                .parse()
                .unwrap_or(IpAddr::from([0, 0, 0, 0]))
        ));
    }

    #[test]
    fn urls_are_checked_for_scheme_host_and_address() {
        assert!(check_endpoint_url("https://hooks.example.com/in", &STRICT).is_ok());
        assert!(check_endpoint_url("http://hooks.example.com/in", &STRICT).is_err());
        assert!(check_endpoint_url("ftp://hooks.example.com/in", &STRICT).is_err());
        assert!(check_endpoint_url("https://127.0.0.1/in", &STRICT).is_err());
        assert!(check_endpoint_url("https://[::1]/in", &STRICT).is_err());
        assert!(check_endpoint_url("https://localhost/in", &STRICT).is_err());
        assert!(check_endpoint_url("https://u:p@hooks.example.com/", &STRICT).is_err());
        let relaxed = TargetPolicy {
            require_https: false,
            allow_private: true,
        };
        assert!(check_endpoint_url("http://127.0.0.1:9000/in", &relaxed).is_ok());
    }
}
