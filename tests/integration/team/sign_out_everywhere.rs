//! "Sign out everywhere": an admin ends every session of a member, and only theirs.

use crate::helpers::db::{company_events, session_count, status_of};
use crate::helpers::{RequestHelper, TestApp};

use super::World;

#[actix_web::test]
async fn sign_out_everywhere_ends_every_session_of_the_member() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let second = app.browser();
    second.sign_in(&w.member.email).await;
    assert!(w.member.browser.is_signed_in().await);
    assert!(second.is_signed_in().await);
    assert_eq!(session_count(&app, &w.member.id), 2);

    let r = w
        .admin
        .browser
        .post_form(&format!("/settings/members/{}/sign-out", w.member.id), &[])
        .await;
    assert_eq!(r.status, 303);
    let page = w.admin.browser.get(r.location()).await.body;
    assert!(
        page.contains("Mia was signed out everywhere (2 sessions)."),
        "flash"
    );

    for browser in [&w.member.browser, &second] {
        let r = browser.get("/integrations/api").await;
        assert_eq!((r.status, r.location()), (303, "/login"));
    }
    assert_eq!(session_count(&app, &w.member.id), 0);
    let ended = company_events(&app, &w.company, "sessions.ended");
    assert_eq!(ended.len(), 1);
    assert_eq!(ended[0].actor_id.as_deref(), Some(w.admin.id.as_str()));
    assert!(ended[0]
        .target
        .as_deref()
        .unwrap_or_default()
        .contains(&w.member.email));
    assert_eq!(ended[0].detail.as_deref(), Some("2 sessions"));
    // Others stay signed in; the member is not locked out.
    assert!(w.admin.browser.is_signed_in().await);
    assert!(w.owner.browser.is_signed_in().await);
    assert_eq!(status_of(&app, &w.member.id), "active");
    w.member.browser.sign_in(&w.member.email).await;
    assert!(w.member.browser.is_signed_in().await);
}
