//! One browser flow through team administration: invite, accept from the mail, change the
//! role, create a token, offboard, and the token and the session are gone.

use fantoccini::{Client, Locator};

use crate::helpers::chrome::{
    assert_api_accepts, assert_api_refuses, by_testid, chromium, click, eventually, fill, find,
    sign_up, testid, text_of, wait_for_path,
};
use crate::helpers::db::user_by_email;
use crate::helpers::fixtures::mails_to;
use crate::helpers::html::link_path;
use crate::helpers::{email, TestApp, PASSWORD};

/// The members-table row of `address`, with this attribute value, shows up.
async fn wait_for_row(c: &Client, address: &str, attr: &str, value: &str) {
    let css = format!("tr[data-email=\"{address}\"][{attr}=\"{value}\"]");
    eventually(&css, || async {
        c.find_all(Locator::Css(&css))
            .await
            .map(|v| v.len() == 1)
            .unwrap_or(false)
    })
    .await;
}

async fn set_role(c: &Client, app: &TestApp, address: &str, role: &str) {
    c.goto(&app.url("/settings/members"))
        .await
        .expect("open members");
    let row = format!("tr[data-email=\"{address}\"]");
    find(c, &format!("{row} {}", testid("member-role-select")))
        .await
        .select_by_value(role)
        .await
        .expect("choose role");
    find(c, &format!("{row} {}", testid("member-role-save")))
        .await
        .click()
        .await
        .expect("save role");
    wait_for_row(c, address, "data-role", role).await;
    let words = if role == "admin" {
        "an admin"
    } else {
        "a member"
    };
    assert!(text_of(c, "flash")
        .await
        .ends_with(&format!("is now {words}.")));
}

async fn role_on_dashboard(c: &Client, app: &TestApp) -> String {
    c.goto(&app.url("/dashboard")).await.expect("dashboard");
    text_of(c, "dashboard-role").await
}

#[actix_web::test]
async fn team_flow_in_a_browser() {
    let app = TestApp::spawn().await;
    let (_owner_driver, owner) = chromium().await;
    let (_member_driver, member) = chromium().await;
    let owner_email = email("owner");
    sign_up(&owner, &app, "Browser Team", "Olga Owner", &owner_email).await;

    // The owner invites someone.
    let invitee = email("nina");
    owner
        .goto(&app.url("/settings/members"))
        .await
        .expect("open members");
    fill(&owner, "invite-email", &invitee).await;
    by_testid(&owner, "invite-role")
        .await
        .select_by_value("member")
        .await
        .expect("choose member");
    click(&owner, "invite-submit").await;
    let sent = text_of(&owner, "flash").await;
    assert!(sent.contains("Invitation sent to"), "{sent}");

    // The link is read from the mail (the page never shows it), and opened in another browser.
    let mail = mails_to(&app, &invitee).pop().expect("invitation mail");
    let start = mail.find("http://").expect("link in mail");
    let link: String = mail
        .get(start..)
        .expect("link")
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    let page = owner.source().await.expect("page source");
    assert!(!page.contains(&link), "the page never shows the link");
    member
        .goto(&app.url(&link_path(&link)))
        .await
        .expect("open invitation");
    let fixed = by_testid(&member, "accept-email").await;
    assert_eq!(
        fixed.prop("value").await.expect("value").as_deref(),
        Some(invitee.as_str())
    );
    assert!(fixed
        .attr("readonly")
        .await
        .expect("readonly attr")
        .is_some());
    fill(&member, "accept-name", "Nina New").await;
    fill(&member, "accept-password", PASSWORD).await;
    click(&member, "accept-submit").await;
    wait_for_path(&member, "/dashboard").await;
    assert_eq!(
        text_of(&member, "dashboard-title").await,
        "Welcome, Nina New"
    );
    assert_eq!(text_of(&member, "dashboard-role").await, "member");

    // The owner makes them admin, and back; their next page shows it.
    owner
        .goto(&app.url("/settings/members"))
        .await
        .expect("members");
    wait_for_row(&owner, &invitee, "data-role", "member").await;
    set_role(&owner, &app, &invitee, "admin").await;
    assert_eq!(role_on_dashboard(&member, &app).await, "admin");
    set_role(&owner, &app, &invitee, "member").await;
    assert_eq!(role_on_dashboard(&member, &app).await, "member");

    // The member creates a PAT.
    member
        .goto(&app.url("/integrations/api"))
        .await
        .expect("open /integrations/api");
    fill(&member, "token-name", "Nina's script").await;
    by_testid(&member, "expiry-30")
        .await
        .click()
        .await
        .expect("choose 30 days");
    click(&member, "create-token").await;
    let pat = text_of(&member, "new-token").await;
    assert!(pat.starts_with("rgo-"), "{pat}");
    assert_api_accepts(&app, &pat, &invitee).await;

    // The owner offboards them, transferring to themself.
    let owner_id = user_by_email(&app, &owner_email)
        .expect("owner")
        .id
        .to_string();
    let member_id = user_by_email(&app, &invitee)
        .expect("member")
        .id
        .to_string();
    owner
        .goto(&app.url("/settings/members"))
        .await
        .expect("members");
    find(
        &owner,
        &format!("tr[data-email=\"{invitee}\"] {}", testid("member-offboard")),
    )
    .await
    .click()
    .await
    .expect("open offboarding");
    wait_for_path(&owner, &format!("/settings/members/{member_id}/offboard")).await;
    let preview = text_of(&owner, "preview-sessions").await;
    assert_eq!(
        preview,
        "Nina New is signed in on 1 device or browser right now and is signed out there."
    );
    let summary = by_testid(&owner, "offboard-preview")
        .await
        .text()
        .await
        .expect("preview text");
    assert!(summary.contains("Nina's script"), "{summary}");
    // One choice, on the preview; the confirmation carries it.
    by_testid(&owner, "preview-transfer-to")
        .await
        .select_by_value(&owner_id)
        .await
        .expect("transfer to the owner");
    click(&owner, "preview-update").await;
    eventually("the preview for the owner", || async {
        owner
            .current_url()
            .await
            .map(|u| u.query() == Some(&format!("transfer_to={owner_id}")))
            .unwrap_or(false)
    })
    .await;
    assert!(text_of(&owner, "offboard-receiver")
        .await
        .starts_with("Meeting types and appointments go to Olga Owner."));
    click(&owner, "offboard-confirm").await;
    wait_for_path(&owner, "/settings/members").await;
    assert!(text_of(&owner, "flash")
        .await
        .starts_with("Nina New was offboarded: "));
    wait_for_row(&owner, &invitee, "data-status", "removed").await;

    // Their token is refused, and their browser is signed out.
    assert_api_refuses(&app, &pat).await;
    member
        .goto(&app.url("/dashboard"))
        .await
        .expect("open dashboard");
    wait_for_path(&member, "/login").await;

    owner.close().await.expect("close owner browser");
    member.close().await.expect("close member browser");
}
