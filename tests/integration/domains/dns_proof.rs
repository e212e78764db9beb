//! Proving a domain by DNS: the TXT record shown on Settings → Company, looked up through the
//! resolver named by `DNS_RESOLVER` (here a server of the test's own on loopback).

use super::{claim, txt_value};
use crate::helpers::db::{domain_claims, user_by_email};
use crate::helpers::dns::DnsServer;
use crate::helpers::fixtures::{confirm_email, sign_up, verification_path};
use crate::helpers::{random_domain, Browser, Reply, RequestHelper, TestApp};

async fn verify(browser: &Browser, domain: &str) -> Reply {
    browser
        .post_form("/settings/company/domains/verify", &[("domain", domain)])
        .await
}

#[actix_web::test]
async fn verify_now_finds_the_txt_record_and_the_domain_then_counts() {
    let dns = DnsServer::start();
    let app = TestApp::spawn_with(|s| s.dns_resolver = Some(dns.addr)).await;
    let owner = sign_up(
        &app,
        "Dns Co",
        "Dora",
        &format!("dora@{}", random_domain("own")),
    )
    .await;
    let domain = random_domain("dns");
    assert_eq!(claim(&owner.browser, "Dns Co", &domain).await.status, 303);

    // Nothing published yet, or the wrong value: still pending.
    dns.add_txt(&domain, "meetergo-console-verification=someone-elses-token");
    verify(&owner.browser, &domain)
        .await
        .assert_redirect("/settings/company");
    let page = owner.browser.get("/settings/company").await.body;
    assert!(page.contains("No TXT record"), "{page}");
    assert_eq!(
        domain_claims(&app, &owner.company_id),
        [(domain.clone(), false)]
    );

    dns.add_txt(&domain, &txt_value(&owner.browser, &domain).await);
    verify(&owner.browser, &domain)
        .await
        .assert_redirect("/settings/company");
    assert_eq!(
        domain_claims(&app, &owner.company_id),
        [(domain.clone(), true)]
    );
    let page = owner.browser.get("/settings/company").await.body;
    assert!(page.contains("data-testid=\"domain-status\">verified<"));

    // From now on a newcomer with the domain joins on confirming their address.
    let joiner = app.browser();
    let address = format!("jan@{domain}");
    joiner.signup("Jan Co", "Jan", &address).await;
    confirm_email(&joiner, &verification_path(&app, &address)).await;
    let jan = user_by_email(&app, &address).unwrap();
    assert_eq!(jan.company_id.as_str(), owner.company_id);
}

#[actix_web::test]
async fn a_pending_claim_cannot_be_proven_once_another_company_holds_the_domain() {
    let dns = DnsServer::start();
    let app = TestApp::spawn_with(|s| s.dns_resolver = Some(dns.addr)).await;
    let domain = random_domain("both");
    let first = sign_up(
        &app,
        "First Co",
        "Fia",
        &format!("fia@{}", random_domain("f")),
    )
    .await;
    let second = sign_up(
        &app,
        "Second Co",
        "Sam",
        &format!("sam@{}", random_domain("s")),
    )
    .await;
    // Both claim it while it is unproven: pending claims do not block each other.
    assert_eq!(claim(&first.browser, "First Co", &domain).await.status, 303);
    assert_eq!(
        claim(&second.browser, "Second Co", &domain).await.status,
        303
    );
    dns.add_txt(&domain, &txt_value(&first.browser, &domain).await);
    dns.add_txt(&domain, &txt_value(&second.browser, &domain).await);
    verify(&first.browser, &domain).await;
    verify(&second.browser, &domain).await;
    let page = second.browser.get("/settings/company").await.body;
    assert!(page.contains("belongs to another company"), "{page}");
    assert_eq!(
        domain_claims(&app, &first.company_id),
        [(domain.clone(), true)]
    );
    assert_eq!(domain_claims(&app, &second.company_id), [(domain, false)]);
}
