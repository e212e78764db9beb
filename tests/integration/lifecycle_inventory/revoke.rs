//! Revoking a member's token from the inventory: who may, the reason, the mail, the audit
//! event, and two admins at once.

use crate::helpers::db::company_events;
use crate::helpers::fixtures::{mails_to_besides_confirmation, secret_part, wait_for_mails};
use crate::helpers::html::testid_text;
use crate::helpers::{Person, Reply, RequestHelper, TestApp};

use super::{inventory, World};

async fn revoke(by: &Person, token_id: &str, reason: &str) -> Reply {
    by.browser
        .post_form(
            &format!("/settings/credentials/{token_id}/revoke"),
            &[("reason", reason)],
        )
        .await
}

#[actix_web::test]
async fn an_admin_revokes_a_members_token_with_a_reason() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let id = w.pat(&w.member, "Mia CRM");
    assert_eq!(
        app.token(&w.member_pat).get("/v4/user/me").await.status,
        200
    );

    // The confirmation page names the token and asks for a reason; no secret on it.
    let page = w
        .admin
        .browser
        .get(&format!("/settings/credentials/{id}/revoke"))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Mia CRM"));
    assert!(page.body.contains("name=\"reason\""));
    assert!(page.body.contains("data-testid=\"confirm-revoke\""));
    assert!(!page.body.contains(secret_part(&w.member_pat)));
    // The inventory row links to it.
    let rows = inventory(&w.admin, "").await;
    let row = rows.iter().find(|r| r.id == id).expect("row");
    assert!(row
        .html
        .contains(&format!("/settings/credentials/{id}/revoke")));

    let reason = "Laptop stolen; rotate everything";
    let r = revoke(&w.admin, &id, reason).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(
        r.location().starts_with("/settings/credentials"),
        "{}",
        r.location()
    );
    let after = w.admin.browser.get(r.location()).await;
    let flash = testid_text(&after.body, "flash").unwrap_or_default();
    assert!(
        flash.contains("revoked") && flash.contains("Mia CRM"),
        "{flash}"
    );
    let row = super::rows(&after.body)
        .into_iter()
        .find(|r| r.id == id)
        .expect("row");
    assert_eq!(row.status, "revoked");
    assert!(
        !row.html.contains("revoke-credential"),
        "no second revoke link"
    );

    // The token stops working at once.
    let r = app.token(&w.member_pat).get("/v4/user/me").await;
    assert_eq!(r.status, 401, "{}", r.body);

    // Its owner is told who and why, never the secret.
    let mails = wait_for_mails(&app, &w.member.email, 1).await;
    let mail = mails.last().expect("mail");
    assert!(mail.contains("Mia CRM"), "{mail}");
    assert!(
        mail.contains(&w.name_of(&w.admin)),
        "names the admin: {mail}"
    );
    assert!(mail.contains(&w.admin.email), "{mail}");
    assert!(mail.contains("Laptop stolen"), "gives the reason: {mail}");
    assert!(
        !mail.contains(secret_part(&w.member_pat)),
        "never the secret"
    );

    // Audited with the reason.
    let events = company_events(&app, &w.company, "pat.revoked_by_admin");
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!(event.actor_id.as_deref(), Some(w.admin.id.as_str()));
    assert!(event.target.as_deref().unwrap_or_default().contains(&id));
    assert!(event.detail.as_deref().unwrap_or_default().contains(reason));

    // Again: a conflict, said plainly; nothing more is mailed or recorded.
    let again = revoke(&w.admin, &id, "").await;
    assert_eq!(again.status, 409, "{}", again.body);
    assert!(again.body.contains("already revoked"), "{}", again.body);
    assert_eq!(
        mails_to_besides_confirmation(&app, &w.member.email).len(),
        1
    );
    assert_eq!(
        company_events(&app, &w.company, "pat.revoked_by_admin").len(),
        1
    );
}

#[actix_web::test]
async fn without_a_reason_the_mail_says_none_was_given() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let id = w.pat(&w.member, "Mia CRM");
    assert_eq!(revoke(&w.owner, &id, "  ").await.status, 303);
    let mails = wait_for_mails(&app, &w.member.email, 1).await;
    assert!(mails.last().expect("mail").contains("no reason given"));
    let details = company_events(&app, &w.company, "pat.revoked_by_admin");
    assert_eq!(details.len(), 1);
    assert!(details[0].detail.is_none());
}

#[actix_web::test]
async fn who_may_revoke_whose_token() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let owners = w.pat(&w.owner, "Olga forever");
    let admin2s = w.pat(&w.admin2, "Abe backup");
    let admins = w.pat(&w.admin, "Ada sync");
    let members = w.pat(&w.member, "Mia CRM");
    let outsiders = w.pat(&w.outsider, "Otto secret tool");

    // An admin touches neither the owner's token nor another admin's: 403, page and form.
    for target in [&owners, &admin2s] {
        let page = w
            .admin
            .browser
            .get(&format!("/settings/credentials/{target}/revoke"))
            .await;
        assert_eq!(page.status, 403, "{}", page.body);
        let r = revoke(&w.admin, target, "no").await;
        assert_eq!(r.status, 403, "{}", r.body);
    }
    assert!(
        revoke(&w.admin, &owners, "").await.body.contains("owner"),
        "says why"
    );
    // The inventory offers no revoke link for them either.
    let rows = inventory(&w.admin, "").await;
    for target in [&owners, &admin2s] {
        let row = rows.iter().find(|r| &r.id == target).expect("row");
        assert!(!row.html.contains("revoke-credential"), "{row:?}");
    }
    // A member may not revoke anyone's.
    assert_eq!(revoke(&w.member, &admins, "").await.status, 403);
    // Another company's token does not exist here.
    assert_eq!(revoke(&w.admin, &outsiders, "").await.status, 404);
    assert_eq!(revoke(&w.owner, &outsiders, "").await.status, 404);
    assert_eq!(
        w.owner
            .browser
            .get(&format!("/settings/credentials/{outsiders}/revoke"))
            .await
            .status,
        404
    );
    assert_eq!(revoke(&w.outsider, &members, "").await.status, 404);
    // Nothing changed so far.
    for secret in [
        &w.owner_pat,
        &w.admin_pat,
        &w.admin2_pat,
        &w.member_pat,
        &w.outsider_pat,
    ] {
        assert_eq!(app.token(secret).get("/v4/user/me").await.status, 200);
    }

    // The owner may revoke an admin's token.
    assert_eq!(revoke(&w.owner, &admin2s, "role change").await.status, 303);
    assert_eq!(
        app.token(&w.admin2_pat).get("/v4/user/me").await.status,
        401
    );
    assert!(wait_for_mails(&app, &w.admin2.email, 1)
        .await
        .last()
        .expect("mail")
        .contains("role change"));
}

#[actix_web::test]
async fn a_reason_is_checked() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let id = w.pat(&w.member, "Mia CRM");
    for bad in ["x".repeat(501), "evil\u{202e}txt".to_owned()] {
        let r = revoke(&w.admin, &id, &bad).await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert!(
            r.body.contains("data-testid=\"error-reason\""),
            "{}",
            r.body
        );
    }
    // A NUL byte is refused at the door.
    let r = revoke(&w.admin, &id, "a\u{0}b").await;
    assert!(r.status == 400 || r.status == 422, "{}", r.status);
    assert_eq!(
        app.token(&w.member_pat).get("/v4/user/me").await.status,
        200,
        "still works"
    );
    assert!(company_events(&app, &w.company, "pat.revoked_by_admin").is_empty());
}

#[actix_web::test]
async fn two_admins_revoking_at_once_make_one_revocation() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let id = w.pat(&w.member, "Mia CRM");
    // Both forms loaded first, so the two requests leave together.
    w.owner.browser.get("/dashboard").await;
    w.admin.browser.get("/dashboard").await;
    let (a, b) = futures_util::join!(
        revoke(&w.owner, &id, "first"),
        revoke(&w.admin, &id, "second")
    );
    let mut statuses = [a.status, b.status];
    statuses.sort_unstable();
    assert_eq!(
        statuses,
        [303, 409],
        "one wins, one is told: {} / {}",
        a.body,
        b.body
    );
    assert_eq!(
        company_events(&app, &w.company, "pat.revoked_by_admin").len(),
        1
    );
    assert_eq!(
        app.token(&w.member_pat).get("/v4/user/me").await.status,
        401
    );
    assert_eq!(wait_for_mails(&app, &w.member.email, 1).await.len(), 1);
}
