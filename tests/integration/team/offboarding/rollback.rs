//! A failure half way through offboarding leaves everything as it was.

use diesel::connection::SimpleConnection;

use crate::helpers::db::{company_events, conn, invitation, session_count, status_of};
use crate::helpers::html::link_path;
use crate::helpers::{backend, RequestHelper, TestApp};

use super::{api_me, footprint, host_of, leaver, meeting_type_row, offboard_path, Leaver, World};

fn install_failing_trigger(app: &TestApp) {
    let sql = match backend() {
        "postgres" => {
            "CREATE FUNCTION fail_offboard() RETURNS trigger LANGUAGE plpgsql AS $$ \
               BEGIN RAISE EXCEPTION 'injected failure'; END; $$; \
             CREATE TRIGGER fail_offboard BEFORE UPDATE OF status ON users \
               FOR EACH ROW WHEN (NEW.status = 'removed') EXECUTE FUNCTION fail_offboard();"
        }
        _ => {
            "CREATE TRIGGER fail_offboard BEFORE UPDATE OF status ON users \
               WHEN NEW.status = 'removed' \
               BEGIN SELECT RAISE(ABORT, 'injected failure'); END;"
        }
    };
    conn(app).batch_execute(sql).expect("install trigger");
}

fn drop_failing_trigger(app: &TestApp) {
    let sql = match backend() {
        "postgres" => "DROP TRIGGER fail_offboard ON users; DROP FUNCTION fail_offboard();",
        _ => "DROP TRIGGER fail_offboard;",
    };
    conn(app).batch_execute(sql).expect("drop trigger");
}

/// Everything the leaver had still works.
async fn assert_leaver_untouched(app: &TestApp, l: &Leaver) {
    let id = &l.person.id;
    assert_eq!(status_of(app, id), "active");
    assert_eq!(meeting_type_row(app, &l.intro).owner_id.as_str(), id);
    assert_eq!(meeting_type_row(app, &l.intro).slug, "intro");
    assert_eq!(meeting_type_row(app, &l.demo).owner_id.as_str(), id);
    for a in l.future.iter().chain([&l.past]) {
        assert_eq!(&host_of(app, a), id);
    }
    for pat in &l.pats {
        assert_eq!(api_me(app, pat).await, 200, "the token still works");
    }
    assert_eq!(session_count(app, id), 2);
    assert!(l.person.browser.is_signed_in().await);
    assert!(l.second_browser.is_signed_in().await);
    let i = invitation(app, &l.invitee).expect("invitation");
    assert!(i.revoked_at.is_none() && i.accepted_at.is_none());
    assert_eq!(
        app.browser().get(&link_path(&l.invite_link)).await.status,
        200,
        "the invitation is still pending"
    );
}

#[actix_web::test]
async fn offboarding_rolls_back_entirely_when_its_last_step_fails() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let l = leaver(&w).await;
    let path = offboard_path(&l.person.id);

    // The last step (status → removed) fails: an error page, and nothing changed.
    install_failing_trigger(&app);
    let before = footprint(&app);
    let r = w
        .owner
        .browser
        .post_form(&path, &[("transfer_to", w.owner.id.as_str())])
        .await;
    assert_eq!(r.status, 500, "{}", r.body);
    assert!(r.body.contains("Something went wrong"));
    assert!(
        !r.body.contains("injected failure"),
        "no internals on the page"
    );
    assert_eq!(footprint(&app), before);
    assert_leaver_untouched(&app, &l).await;
    drop_failing_trigger(&app);

    // With the cause gone it goes through.
    let r = w
        .owner
        .browser
        .post_form(&path, &[("transfer_to", w.owner.id.as_str())])
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(status_of(&app, &l.person.id), "removed");
    assert_eq!(
        company_events(&app, &w.company, "member.offboarded").len(),
        1
    );
}

#[actix_web::test]
async fn offboarding_to_a_receiver_removed_since_the_preview_is_a_conflict_that_changes_nothing() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let l = leaver(&w).await;
    let path = offboard_path(&l.person.id);

    // The receiver is removed between the preview and the confirmation: 409, nothing changed.
    let (receiver, _) = w.fresh("Rachel", "member").await;
    let preview = w
        .owner
        .browser
        .get(&format!("{path}?transfer_to={receiver}"))
        .await;
    assert_eq!(preview.status, 200);
    assert!(preview
        .body
        .contains(&format!("<option value=\"{receiver}\" selected>")));
    let r = w
        .owner
        .browser
        .post_form(
            &format!("/settings/members/{receiver}/offboard"),
            &[("transfer_to", w.owner.id.as_str())],
        )
        .await;
    assert_eq!(r.status, 303, "the receiver leaves first");
    let before = footprint(&app);
    let r = w
        .owner
        .browser
        .post_form(&path, &[("transfer_to", receiver.as_str())])
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("not an active member"), "{}", r.body);
    assert_eq!(footprint(&app), before);
    assert_leaver_untouched(&app, &l).await;

    // With the cause gone it goes through.
    let r = w
        .owner
        .browser
        .post_form(&path, &[("transfer_to", w.owner.id.as_str())])
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(status_of(&app, &l.person.id), "removed");
    assert_eq!(
        company_events(&app, &w.company, "member.offboarded").len(),
        2
    );
}
