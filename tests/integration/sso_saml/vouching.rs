//! A company's own IdP proves an address only at a domain the company has proven: anyone can
//! set up an IdP that asserts any address, so elsewhere its word confirms nothing.

use std::rc::Rc;

use crate::helpers::db::{set_joining, user_by_email};
use crate::helpers::TestApp;

use super::idp::{Idp, Tenant};
use super::sp::setup;

#[actix_web::test]
async fn an_idp_confirms_only_addresses_at_the_companys_proven_domains() {
    let app = TestApp::spawn().await;
    let idp = Rc::new(Idp::start().await);
    let s = setup(&app, idp, Tenant::new("vouch", "idp"), "Vouch Co").await;
    let confirmed = |app: &TestApp| {
        user_by_email(app, &s.owner)
            .expect("owner")
            .email_verified_at
            .is_some()
    };
    assert!(!confirmed(&app), "the owner never followed the mailed link");

    // The company's IdP asserts the owner's address, but the company has not proven its domain.
    let c = app.browser();
    let resp = s.solicited(&app, &c, &s.owner, &[]).await;
    s.accept(&app, &c, &resp, &s.owner, "owner, domain unproven")
        .await;
    assert!(
        !confirmed(&app),
        "an IdP's word outside proven domains confirms nothing"
    );

    // Once the company has proven the domain, its IdP vouches for addresses there.
    let domain = s.owner.rsplit_once('@').expect("an address").1.to_owned();
    set_joining(&app, &s.company_id, &domain, false);
    let c = app.browser();
    let resp = s.solicited(&app, &c, &s.owner, &[]).await;
    s.accept(&app, &c, &resp, &s.owner, "owner, domain proven")
        .await;
    assert!(
        confirmed(&app),
        "the company's IdP confirms an address at its proven domain"
    );
}
