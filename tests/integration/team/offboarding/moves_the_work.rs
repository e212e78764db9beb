//! What offboarding does: the preview lists it, the offboarding moves the leaver's work to the
//! receiver and cuts every access, and a second offboarding changes nothing.

use crate::helpers::db::{company_events, invitation, session_count, status_of};
use crate::helpers::html::{link_path, member_row, testid_text};
use crate::helpers::{RequestHelper, TestApp, PASSWORD};

use super::{api_me, footprint, host_of, leaver, meeting_type_row, offboard_path, World};

#[actix_web::test]
async fn the_preview_lists_everything_that_will_happen_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let l = leaver(&w).await;
    let leaver_id = l.person.id.clone();
    // The preview lists everything that will happen, and flags the slug collision.
    let preview = w.owner.browser.get(&offboard_path(&leaver_id)).await;
    assert_eq!(preview.status, 200);
    let html = &preview.body;
    for shown in [
        "Intro call",
        "Product demo",
        "Future Fiona",
        "Demo Dora",
        "laptop cli",
        "ci runner",
        l.invitee.as_str(),
        l.person.email.as_str(),
    ] {
        assert!(html.contains(shown), "preview shows {shown:?}");
    }
    assert!(
        !html.contains("Past Paul"),
        "past appointments are not moved"
    );
    assert_eq!(
        html.matches("data-testid=\"planned-meeting-type\"").count(),
        2
    );
    assert_eq!(html.matches("data-testid=\"slug-renamed\"").count(), 1);
    assert!(html.contains("becomes <code>/intro-2</code>"));
    assert_eq!(
        testid_text(html, "preview-sessions").as_deref(),
        Some(
            "Leo is signed in on 2 devices or browsers right now and is signed out of all of them."
        )
    );
    // Nothing happened yet.
    assert_eq!(status_of(&app, &leaver_id), "active");
    assert_eq!(api_me(&app, &l.pats[0]).await, 200);
}

#[actix_web::test]
async fn offboarding_moves_the_work_to_the_receiver_and_cuts_every_access() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let l = leaver(&w).await;
    let leaver_id = l.person.id.clone();
    let r = w
        .owner
        .browser
        .post_form(
            &offboard_path(&leaver_id),
            &[("transfer_to", w.owner.id.as_str())],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location(), "/settings/members");
    let members = w.owner.browser.get("/settings/members").await.body;
    assert!(members.contains(
        "Leo was offboarded: 2 meeting types and 2 upcoming appointments went to Olga Owner; 2 tokens stopped working; 2 sessions ended."
    ), "flash");
    let row = member_row(&members, &l.person.email).expect("still listed");
    assert!(row.contains("data-status=\"removed\""));
    assert!(!row.contains("member-offboard") && !row.contains("member-sign-out"));

    // Meeting types moved to the owner, the colliding slug with a suffix.
    let intro = meeting_type_row(&app, &l.intro);
    let demo = meeting_type_row(&app, &l.demo);
    assert_eq!(intro.owner_id.as_str(), w.owner.id);
    assert_eq!(intro.slug, "intro-2");
    assert_eq!(demo.owner_id.as_str(), w.owner.id);
    assert_eq!(demo.slug, "demo");
    assert_eq!(meeting_type_row(&app, &l.owners_intro).slug, "intro");
    // Only future appointments moved.
    for a in &l.future {
        assert_eq!(host_of(&app, a), w.owner.id, "future appointment moved");
    }
    assert_eq!(host_of(&app, &l.past), leaver_id, "past appointment stays");
    // Tokens dead, sessions ended, invitation withdrawn, status removed.
    for pat in &l.pats {
        assert_eq!(api_me(&app, pat).await, 401);
    }
    assert_eq!(session_count(&app, &leaver_id), 0);
    assert!(!l.person.browser.is_signed_in().await);
    assert!(!l.second_browser.is_signed_in().await);
    assert!(invitation(&app, &l.invitee)
        .expect("invitation")
        .revoked_at
        .is_some());
    assert_eq!(
        app.browser().get(&link_path(&l.invite_link)).await.status,
        410
    );
    assert_eq!(status_of(&app, &leaver_id), "removed");
    // They cannot sign in again.
    let r = app
        .browser()
        .post_form(
            "/login",
            &[("email", l.person.email.as_str()), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status, 401);
    // One audit event.
    let offboarded = company_events(&app, &w.company, "member.offboarded");
    assert_eq!(offboarded.len(), 1);
    assert_eq!(offboarded[0].actor_id.as_deref(), Some(w.owner.id.as_str()));
    assert!(offboarded[0]
        .target
        .as_deref()
        .unwrap_or_default()
        .contains(&l.person.email));
    assert!(offboarded[0]
        .detail
        .as_deref()
        .unwrap_or_default()
        .contains("2 meeting types (1 renamed), 2 appointments, 2 tokens revoked, 2 sessions ended, 1 invitations revoked"));
}

#[actix_web::test]
async fn offboarding_again_is_a_conflict_that_changes_nothing() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let l = leaver(&w).await;
    let leaver_id = l.person.id.clone();
    let r = w
        .owner
        .browser
        .post_form(
            &offboard_path(&leaver_id),
            &[("transfer_to", w.owner.id.as_str())],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    // Offboarding again is a conflict, and changes nothing.
    let before = footprint(&app);
    let r = w
        .owner
        .browser
        .post_form(
            &offboard_path(&leaver_id),
            &[("transfer_to", w.owner.id.as_str())],
        )
        .await;
    assert_eq!(r.status, 409);
    assert_eq!(footprint(&app), before);
}
