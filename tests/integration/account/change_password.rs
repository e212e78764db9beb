//! Profile → Password: a change needs the current password and signs every other session out
//! (this one stays); people without a password may set one unless their company enforces SSO.

use diesel::prelude::*;
use meetergo_console::db::schema::users;

use crate::helpers::db::{company_events, conn, session_count, set_sso_enforced};
use crate::helpers::fixtures::sign_up;
use crate::helpers::{email, RequestHelper, TestApp, PASSWORD};

const NEW_PASSWORD: &str = "a changed passphrase for tests";

/// As if the person had only ever signed in through a provider.
fn clear_password(app: &TestApp, id: &str) {
    diesel::update(users::table.filter(users::id.eq(id)))
        .set(users::password_hash.eq(None::<String>))
        .execute(&mut *conn(app))
        .expect("clear password");
}

#[actix_web::test]
async fn a_change_keeps_this_session_and_ends_the_others() {
    let app = TestApp::spawn().await;
    let address = email("changer");
    let person = sign_up(&app, "Change Co", "Cy", &address).await;
    let profile = person.browser.get("/profile").await;
    assert!(profile.body.contains("href=\"/profile/password\""));
    let other = app.browser();
    other.sign_in(&address).await;
    assert_eq!(session_count(&app, &person.id), 2);

    // A wrong current password changes nothing.
    let r = person
        .browser
        .post_form(
            "/profile/password",
            &[
                ("current_password", "not my password"),
                ("new_password", NEW_PASSWORD),
            ],
        )
        .await;
    r.assert_status(422);
    assert!(
        r.body.contains("data-testid=\"error-current_password\""),
        "{}",
        r.body
    );
    assert!(other.is_signed_in().await);

    let r = person
        .browser
        .post_form(
            "/profile/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", NEW_PASSWORD),
            ],
        )
        .await;
    r.assert_redirect("/profile/password");
    assert!(person.browser.is_signed_in().await, "this session stays");
    assert!(!other.is_signed_in().await, "the other session ended");
    assert_eq!(session_count(&app, &person.id), 1);
    assert_eq!(
        company_events(&app, &person.company_id, "password.changed").len(),
        1
    );
    // The kept session still posts forms.
    person
        .browser
        .post_form("/logout", &[])
        .await
        .assert_redirect("/login");
    assert_eq!(app.browser().login(&address, PASSWORD).await.status, 401);
    app.browser()
        .login(&address, NEW_PASSWORD)
        .await
        .assert_redirect("/dashboard");
}

#[actix_web::test]
async fn someone_without_a_password_may_set_one_unless_sso_is_enforced() {
    let app = TestApp::spawn().await;
    let address = email("ssoonly");
    let person = sign_up(&app, "Sso Only Co", "So", &address).await;
    clear_password(&app, &person.id);

    let page = person.browser.get("/profile/password").await;
    page.assert_status(200);
    assert!(
        !page.body.contains("name=\"current_password\""),
        "{}",
        page.body
    );
    let r = person
        .browser
        .post_form("/profile/password", &[("new_password", "short")])
        .await;
    r.assert_status(422);
    assert!(r.body.contains("data-testid=\"error-new_password\""));
    person
        .browser
        .post_form("/profile/password", &[("new_password", NEW_PASSWORD)])
        .await
        .assert_redirect("/profile/password");
    app.browser()
        .login(&address, NEW_PASSWORD)
        .await
        .assert_redirect("/dashboard");
}

#[actix_web::test]
async fn a_member_of_a_company_that_enforces_sso_cannot_set_a_first_password() {
    let app = TestApp::spawn().await;
    let owner = sign_up(&app, "Enforcing Co", "Owen", &email("owner")).await;
    let key = owner.browser.create_api_key("k", "30").await;
    let member = crate::helpers::fixtures::signed_in_user(&app, &key, "Mia", "member").await;
    clear_password(&app, &member.id);
    set_sso_enforced(&app, &owner.company_id, true);

    let page = member.browser.get("/profile/password").await;
    assert!(
        page.body.contains("data-testid=\"password-sso-only\""),
        "{}",
        page.body
    );
    let r = member
        .browser
        .post_form("/profile/password", &[("new_password", NEW_PASSWORD)])
        .await;
    r.assert_status(403);
    let has_password = users::table
        .filter(users::id.eq(&member.id))
        .select(users::password_hash)
        .first::<Option<String>>(&mut *conn(&app))
        .expect("user");
    assert!(has_password.is_none());
}
