//! Looking up a domain's TXT records to prove a company owns it. `DNS_RESOLVER` (ip:port)
//! replaces the system's resolver, so tests can answer from a server of their own.

use std::net::SocketAddr;
use std::time::Duration;

use hickory_resolver::config::{NameServerConfigGroup, ResolverConfig, ResolverOpts};
use hickory_resolver::TokioAsyncResolver;

/// The TXT record value that proves a domain: `meetergo-console-verification=<token>`.
pub const TXT_PREFIX: &str = "meetergo-console-verification=";

#[derive(Debug, Clone)]
pub struct DnsCheck {
    server: Option<SocketAddr>,
}

impl DnsCheck {
    pub fn new(server: Option<SocketAddr>) -> Self {
        Self { server }
    }

    // A resolver per check: it is cheap, and it runs on the caller's runtime (each actix
    // worker has its own), with no cache that would hide a record just added.
    fn resolver(&self) -> Option<TokioAsyncResolver> {
        let mut opts = ResolverOpts::default();
        opts.timeout = Duration::from_secs(3);
        opts.attempts = 1;
        opts.cache_size = 0;
        match self.server {
            Some(addr) => {
                let servers =
                    NameServerConfigGroup::from_ips_clear(&[addr.ip()], addr.port(), true);
                Some(TokioAsyncResolver::tokio(
                    ResolverConfig::from_parts(None, Vec::new(), servers),
                    opts,
                ))
            }
            None => match hickory_resolver::system_conf::read_system_conf() {
                Ok((config, _)) => Some(TokioAsyncResolver::tokio(config, opts)),
                Err(e) => {
                    tracing::warn!(error = %e, "no system DNS configuration");
                    None
                }
            },
        }
    }

    /// True when `domain` has a TXT record `meetergo-console-verification=<token>`. A failed
    /// look-up is a "not yet", logged: the admin can try again.
    pub async fn has_token(&self, domain: &str, token: &str) -> bool {
        let Some(resolver) = self.resolver() else {
            return false;
        };
        let wanted = format!("{TXT_PREFIX}{token}");
        // A trailing dot: the name is absolute, never searched under local domains.
        match resolver.txt_lookup(format!("{domain}.")).await {
            Ok(records) => records.iter().any(|txt| {
                let value: Vec<u8> = txt
                    .txt_data()
                    .iter()
                    .flat_map(|part| part.iter().copied())
                    .collect();
                String::from_utf8_lossy(&value).trim() == wanted
            }),
            Err(e) => {
                tracing::info!(domain, error = %e, "TXT look-up found nothing");
                false
            }
        }
    }
}
