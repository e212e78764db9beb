//! The HTTP client deliveries go out through: a 30 s timeout, no redirects (a 3xx is a failed
//! attempt), no proxy from the environment, and a resolver that keeps only the addresses the
//! [`TargetPolicy`] allows. The check happens when the connection is made, so a name that
//! resolved to a public address when the endpoint was saved and to 127.0.0.1 now (DNS
//! rebinding) is refused; a literal IP in the URL is checked before sending
//! ([`check_before_sending`]), as it is never resolved.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hickory_resolver::config::{NameServerConfigGroup, ResolverConfig, ResolverOpts};
use hickory_resolver::TokioAsyncResolver;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::target::{check_endpoint_url, TargetPolicy};

/// meetergo's documented limit, and the Standard Webhooks recommendation's order of size.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// Why a name gave no address a delivery may connect to.
const NO_PUBLIC_ADDRESS: &str = "resolves to no public address (loopback, private, link-local and other non-public addresses are refused)";

/// Builds the delivery client. `dns_server` is the console's `DNS_RESOLVER`, when set.
pub fn build(
    policy: TargetPolicy,
    dns_server: Option<SocketAddr>,
) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        .connect_timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .user_agent(concat!(
            "meetergo-console-webhooks/",
            env!("CARGO_PKG_VERSION")
        ))
        .dns_resolver(Arc::new(GuardedResolver { policy, dns_server }))
        .build()
}

/// What the endpoint URL says before any connection: the scheme and a literal address, by
/// the same rules as when it was saved (the policy may have changed since).
pub fn check_before_sending(endpoint: &str, policy: &TargetPolicy) -> Result<url::Url, String> {
    check_endpoint_url(endpoint, policy).map_err(|why| format!("refused before sending: {why}"))
}

struct GuardedResolver {
    policy: TargetPolicy,
    dns_server: Option<SocketAddr>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let (policy, dns_server) = (self.policy, self.dns_server);
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found = lookup(&host, dns_server).await?;
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|ip| policy.allows(*ip))
                .map(|ip| SocketAddr::new(ip, 0))
                .collect();
            if allowed.is_empty() {
                return Err(format!("{host} {NO_PUBLIC_ADDRESS}").into());
            }
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

type LookupError = Box<dyn std::error::Error + Send + Sync>;

async fn lookup(host: &str, dns_server: Option<SocketAddr>) -> Result<Vec<IpAddr>, LookupError> {
    match dns_server {
        Some(server) => {
            let mut opts = ResolverOpts::default();
            opts.timeout = Duration::from_secs(3);
            opts.attempts = 1;
            let servers =
                NameServerConfigGroup::from_ips_clear(&[server.ip()], server.port(), true);
            let resolver = TokioAsyncResolver::tokio(
                ResolverConfig::from_parts(None, Vec::new(), servers),
                opts,
            );
            // A trailing dot: the name is absolute, never searched under local domains.
            let answer = resolver
                .lookup_ip(format!("{}.", host.trim_end_matches('.')))
                .await?;
            Ok(answer.iter().collect())
        }
        None => Ok(tokio::net::lookup_host((host, 0))
            .await?
            .map(|a| a.ip())
            .collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn localhost() -> Name {
        "localhost".parse().expect("a valid name")
    }

    #[actix_web::test]
    async fn loopback_names_are_refused_unless_private_targets_are_allowed() {
        let strict = GuardedResolver {
            policy: TargetPolicy {
                require_https: false,
                allow_private: false,
            },
            dns_server: None,
        };
        let refused = strict.resolve(localhost()).await;
        let message = refused.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("no public address"), "{message}");
        let relaxed = GuardedResolver {
            policy: TargetPolicy {
                require_https: false,
                allow_private: true,
            },
            dns_server: None,
        };
        let found: Vec<SocketAddr> = relaxed
            .resolve(localhost())
            .await
            .map(|a| a.collect())
            .unwrap_or_default();
        assert!(found.iter().any(|a| a.ip().is_loopback()), "{found:?}");
    }
}
