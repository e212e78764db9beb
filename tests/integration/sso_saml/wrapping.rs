//! Signature wrapping (XSW) and comment injection: the signed assertion is the one read, and a
//! NameID cut short by a comment never signs anyone in.

use std::rc::Rc;

use meetergo_console::domain::Role;

use crate::helpers::db::{add_user, set_joining, user_by_email};
use crate::helpers::{email, random_domain, TestApp};

use super::idp::{Idp, Tenant};
use super::sp::{identities_of_company, setup, signed_in_as};

#[actix_web::test]
async fn signature_wrapping_is_refused() {
    let app = TestApp::spawn().await;
    let idp = Rc::new(Idp::start().await);
    let s = setup(&app, idp, Tenant::new("xsw", "idp"), "Wrapping SAML KG").await;
    let member = email("member");
    add_user(&app, &s.company_id, "Mo Member", &member, Role::Member);
    let owner_id = user_by_email(&app, &s.owner).expect("owner").id.to_string();

    for variant in [
        "xsw-before",
        "xsw-after",
        "xsw-inside",
        "xsw-inside-advice",
        "xsw-extensions",
        "xsw-object",
    ] {
        for sign in ["assertion", "both"] {
            if variant != "xsw-object" && sign == "both" {
                continue;
            }
            let c = app.browser();
            let resp = s
                .solicited(
                    &app,
                    &c,
                    &member,
                    &[
                        "--variant",
                        variant,
                        "--sign",
                        sign,
                        "--evil-name-id",
                        &s.owner,
                    ],
                )
                .await;
            let what = format!("{variant} (--sign {sign})");
            s.refuse(&app, &c, &resp, "Assertion", &what).await;
            assert_ne!(
                signed_in_as(&c).await.as_deref(),
                Some(s.owner.as_str()),
                "{what}: the evil NameID never signs in"
            );
        }
    }
    // An evil NameID that could join just in time (a newcomer at the company's domain) is not
    // created either.
    let domain = random_domain("xsw");
    set_joining(&app, &s.company_id, &domain, false);
    let evil = format!("evil@{domain}");
    for variant in ["xsw-before", "xsw-inside-advice", "xsw-extensions"] {
        let c = app.browser();
        let resp = s
            .solicited(
                &app,
                &c,
                &member,
                &["--variant", variant, "--evil-name-id", &evil],
            )
            .await;
        s.refuse(&app, &c, &resp, "Assertion", variant).await;
        assert!(user_by_email(&app, &evil).is_none(), "{variant}");
    }
    assert!(
        !identities_of_company(&app, &s.company_id)
            .iter()
            .any(|(_, subject, user)| subject == &s.owner || subject == &evil || user == &owner_id),
        "no identity for the evil NameIDs"
    );

    // The same user with a clean response signs in.
    let c = app.browser();
    let resp = s.solicited(&app, &c, &member, &[]).await;
    s.accept(&app, &c, &resp, &member, "clean response").await;
}

#[actix_web::test]
async fn a_comment_in_the_name_id_is_refused() {
    let app = TestApp::spawn().await;
    let idp = Rc::new(Idp::start().await);
    let s = setup(&app, idp, Tenant::new("xsw", "idp"), "Wrapping SAML KG").await;
    let member = email("member");
    add_user(&app, &s.company_id, "Mo Member", &member, Role::Member);
    // A comment in the NameID: the signature holds, but the truncated address is the owner's.
    let signed = format!("{}.attacker.example", s.owner);
    for with_domain_claimed in [false, true] {
        if with_domain_claimed {
            // Even if the full address could join just in time.
            set_joining(&app, &s.company_id, "example.com.attacker.example", false);
        }
        let c = app.browser();
        let resp = s
            .solicited(
                &app,
                &c,
                &signed,
                &["--variant", "comment", "--comment-after", &s.owner],
            )
            .await;
        s.refuse(&app, &c, &resp, "comment", "comment in the NameID")
            .await;
        assert_eq!(signed_in_as(&c).await, None);
        assert!(user_by_email(&app, &signed).is_none());
    }

    // A member with a clean response signs in.
    let c = app.browser();
    let resp = s.solicited(&app, &c, &member, &[]).await;
    s.accept(&app, &c, &resp, &member, "clean response").await;
}
