//! Changing one's address on Profile → Email: a link to the new address, the change only when
//! it is followed, and a notice to the old address.

use crate::helpers::db::user_by_email;
use crate::helpers::fixtures::{confirm_email, mails_to, sign_up, verification_path};
use crate::helpers::{email, RequestHelper, TestApp};

#[actix_web::test]
async fn the_new_address_counts_only_once_its_link_is_followed() {
    let app = TestApp::spawn().await;
    let old = email("olivia");
    let olivia = sign_up(&app, "Change Co", "Olivia", &old).await;
    let profile = olivia.browser.get("/profile").await.body;
    assert!(profile.contains("href=\"/profile/email\""));

    let new = email("olivia-new");
    olivia
        .browser
        .post_form("/profile/email", &[("email", new.as_str())])
        .await
        .assert_redirect("/profile/email");
    assert_eq!(
        user_by_email(&app, &old).unwrap().email,
        old,
        "nothing changed yet"
    );
    assert!(user_by_email(&app, &new).is_none());

    let r = confirm_email(&olivia.browser, &verification_path(&app, &new)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let moved = user_by_email(&app, &new).expect("the account has the new address");
    assert_eq!(moved.id.as_str(), olivia.id);
    assert!(moved.email_verified_at.is_some());
    assert!(user_by_email(&app, &old).is_none());
    let notices = mails_to(&app, &old);
    assert!(
        notices
            .iter()
            .any(|m| m.contains("was changed") && m.contains(&new)),
        "the old address is told"
    );
    // The new address signs in; the old one no longer does.
    assert_eq!(
        app.browser()
            .login(&new, crate::helpers::PASSWORD)
            .await
            .status,
        303
    );
    assert_eq!(
        app.browser()
            .login(&old, crate::helpers::PASSWORD)
            .await
            .status,
        401
    );
}

#[actix_web::test]
async fn an_address_of_another_account_or_a_malformed_one_is_refused() {
    let app = TestApp::spawn().await;
    let taken = email("taken");
    sign_up(&app, "Taken Co", "Tara", &taken).await;
    let me = sign_up(&app, "Mine Co", "Mo", &email("mo")).await;
    for refused in [taken.as_str(), "not an address"] {
        let r = me
            .browser
            .post_form("/profile/email", &[("email", refused)])
            .await;
        assert_eq!(r.status, 422, "{refused}");
        assert!(r.body.contains("data-testid=\"error-email\""));
    }
}
