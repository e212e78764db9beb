//! Company domains: claimed pending, counted only once proven (by the admin's confirmed address
//! or a DNS TXT record), held by one company at most; and the outsider who tries to take one.

mod claims;
mod dns_proof;
mod in_a_browser;
mod outsider;

use crate::helpers::{Browser, Reply, RequestHelper};

/// Saves Settings → Company with this domain list (Require Invitation off).
pub async fn claim(browser: &Browser, company: &str, domains: &str) -> Reply {
    browser
        .post_form(
            "/settings/company",
            &[("name", company), ("allowed_domains", domains)],
        )
        .await
}

/// The `meetergo-console-verification=…` value shown beside `domain` on Settings → Company.
pub async fn txt_value(browser: &Browser, domain: &str) -> String {
    let html = browser.get("/settings/company").await.body;
    let row_at = html
        .find(&format!("data-domain=\"{domain}\""))
        .expect("a row for the domain");
    let row = &html[row_at..];
    crate::helpers::html::testid_text(row, "dns-token").expect("the TXT value")
}
