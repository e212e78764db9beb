//! "Regenerate…": the successor works at once; the predecessor until the successor's first use
//! or the end of the grace, whichever comes first; then 401 `Invalid API key`.

use chrono::Duration;

use super::{
    current_key_id, key_regenerate_path, me_with, regenerate, regenerated, successor_of_token,
    token_regenerate_path, token_row,
};
use crate::helpers::db::{events_of_kind, pat_id};
use crate::helpers::fixtures::{key_id_of, sign_up};
use crate::helpers::{email, RequestHelper, TestApp};
use crate::races::{assert_one_winner, post_at_once};

const REFUSED: (u16, &str) = (401, "invalid_credential");

fn refused(outcome: (u16, String)) -> bool {
    (outcome.0, outcome.1.as_str()) == REFUSED
}

#[actix_web::test]
async fn a_regenerated_token_overlaps_until_the_successor_is_first_used() {
    let app = TestApp::spawn().await;
    let owner = sign_up(&app, "Rotate GmbH", "Rita Rotate", &email("rita")).await;
    let old = owner.browser.create_pat("CRM sync", "30").await;
    let id = pat_id(&app, &owner.id, "CRM sync");

    // The confirmation page offers the grace periods, 24 hours chosen, and works without JS.
    let page = owner.browser.get(&token_regenerate_path(&id)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    for grace in ["none", "1h", "24h", "7d"] {
        assert!(page.body.contains(&format!("value=\"{grace}\"")), "{grace}");
    }
    assert!(
        page.body.contains("value=\"24h\" checked"),
        "24h by default"
    );

    let new = regenerated(&owner.browser, &token_regenerate_path(&id), "24h").await;
    assert_ne!(new, old);
    assert!(new.starts_with("rgo-"));
    let successor = successor_of_token(&app, &id).expect("a successor");

    // Same name, a fresh expiry of the same length (30 days from today).
    let (expires, _) = token_row(&app, &successor);
    let today = app.clock.now().date();
    assert_eq!(expires.map(|e| e.date()), Some(today + Duration::days(30)));

    // Both work while the successor is unused ...
    assert_eq!(me_with(&app, &old).await.0, 200, "the old one in its grace");
    assert_eq!(me_with(&app, &new).await.0, 200, "the new one");
    // ... and its first use ended the old one's grace.
    assert!(
        refused(me_with(&app, &old).await),
        "the old one after cut-over"
    );
    assert_eq!(me_with(&app, &new).await.0, 200, "the new one still");

    // The list links them; the audit log names both.
    let list = owner.browser.get("/integrations/api").await.body;
    assert!(list.contains(&format!("data-token-id=\"{id}\" data-status=\"replaced\"")));
    assert!(list.contains(&format!(
        "data-token-id=\"{successor}\" data-status=\"active\""
    )));
    assert!(
        list.contains("data-testid=\"replaced-by\"") && list.contains("data-testid=\"replaces\"")
    );
    // So do the detail pages (where the reminder mails lead): the old one says what replaced
    // it and offers no second regeneration; the new one offers it and shows its expiry badge.
    let old_page = owner
        .browser
        .get(&format!("/integrations/api/tokens/{id}"))
        .await
        .body;
    assert!(
        old_page.contains("data-testid=\"replaced-by\""),
        "{old_page}"
    );
    assert!(!old_page.contains("data-testid=\"regenerate-token\""));
    let new_page = owner
        .browser
        .get(&format!("/integrations/api/tokens/{successor}"))
        .await
        .body;
    assert!(new_page.contains("data-testid=\"replaces\""), "{new_page}");
    assert!(new_page.contains(&format!("href=\"{}\"", token_regenerate_path(&successor))));
    assert!(new_page.contains("data-testid=\"expiry-badge\""));
    let events = events_of_kind(&app, "pat.regenerated");
    assert_eq!(events.len(), 1);
    let target = events[0].target.clone().unwrap_or_default();
    assert!(
        target.contains(&id) && target.contains(&successor),
        "{target}"
    );
}

#[actix_web::test]
async fn a_regenerated_api_key_overlaps_until_the_successor_is_first_used() {
    let app = TestApp::spawn().await;
    let owner = sign_up(&app, "Keys AG", "Kai Keys", &email("kai")).await;
    let old = owner.browser.create_api_key("Production", "60").await;
    let id = key_id_of(&old);
    let page = owner.browser.get(&key_regenerate_path(&id)).await;
    assert_eq!(page.status, 200, "{}", page.body);

    let new = regenerated(&owner.browser, &key_regenerate_path(&id), "24h").await;
    assert!(new.starts_with("ak_live:"));
    assert_eq!(key_id_of(&new), current_key_id(&app, "Production"));

    assert_eq!(me_with(&app, &old).await.0, 200, "the old key in its grace");
    assert_eq!(me_with(&app, &new).await.0, 200, "the new key");
    assert!(
        refused(me_with(&app, &old).await),
        "the old key after cut-over"
    );
    let list = owner.browser.get("/admin/api-keys").await.body;
    assert!(list.contains(&format!("data-key-id=\"{id}\" data-status=\"replaced\"")));
    assert_eq!(events_of_kind(&app, "api_key.regenerated").len(), 1);
}

#[actix_web::test]
async fn the_grace_ends_the_old_credential_when_the_new_one_stays_unused() {
    let app = TestApp::spawn().await;
    let owner = sign_up(&app, "Grace Ltd", "Gus Grace", &email("gus")).await;
    let old_pat = owner.browser.create_pat("nightly", "30").await;
    let old_key = owner.browser.create_api_key("Nightly", "30").await;
    let pat = pat_id(&app, &owner.id, "nightly");
    let new_pat = regenerated(&owner.browser, &token_regenerate_path(&pat), "1h").await;
    let new_key = regenerated(
        &owner.browser,
        &key_regenerate_path(&key_id_of(&old_key)),
        "1h",
    )
    .await;

    app.clock.advance(Duration::minutes(59));
    assert_eq!(
        me_with(&app, &old_pat).await.0,
        200,
        "token within the hour"
    );
    assert_eq!(me_with(&app, &old_key).await.0, 200, "key within the hour");
    app.clock.advance(Duration::minutes(2));
    assert!(
        refused(me_with(&app, &old_pat).await),
        "token past the hour"
    );
    assert!(refused(me_with(&app, &old_key).await), "key past the hour");
    assert_eq!(me_with(&app, &new_pat).await.0, 200);
    assert_eq!(me_with(&app, &new_key).await.0, 200);
}

#[actix_web::test]
async fn without_grace_the_old_credential_stops_at_once() {
    let app = TestApp::spawn().await;
    let owner = sign_up(&app, "Now Inc", "Nia Now", &email("nia")).await;
    let old_pat = owner.browser.create_pat("deploy", "none").await;
    let old_key = owner.browser.create_api_key("Deploy", "7").await;
    let pat = pat_id(&app, &owner.id, "deploy");
    let r = regenerate(&owner.browser, &token_regenerate_path(&pat), "none").await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("stopped working"), "{}", r.body);
    regenerated(
        &owner.browser,
        &key_regenerate_path(&key_id_of(&old_key)),
        "none",
    )
    .await;
    assert!(refused(me_with(&app, &old_pat).await));
    assert!(refused(me_with(&app, &old_key).await));
    // A token without expiry is regenerated without expiry (no company limit).
    let successor = successor_of_token(&app, &pat).expect("successor");
    assert_eq!(token_row(&app, &successor).0, None);
}

#[actix_web::test]
async fn replaced_revoked_expired_and_foreign_credentials_are_not_regenerated() {
    let app = TestApp::spawn().await;
    let owner = sign_up(&app, "Refuse SA", "Rolf Refuse", &email("rolf")).await;
    owner.browser.create_pat("once", "30").await;
    let once = pat_id(&app, &owner.id, "once");
    regenerated(&owner.browser, &token_regenerate_path(&once), "24h").await;
    let again = regenerate(&owner.browser, &token_regenerate_path(&once), "24h").await;
    assert_eq!(again.status, 409, "already replaced: {}", again.body);
    assert!(again.body.contains("already regenerated"), "{}", again.body);

    owner.browser.create_pat("gone", "30").await;
    let gone = pat_id(&app, &owner.id, "gone");
    let r = owner
        .browser
        .post_form(&format!("/integrations/api/tokens/{gone}/revoke"), &[])
        .await;
    assert_eq!(r.status, 303);
    let r = regenerate(&owner.browser, &token_regenerate_path(&gone), "24h").await;
    assert_eq!(r.status, 409, "revoked: {}", r.body);

    owner.browser.create_pat("short", "7").await;
    let short = pat_id(&app, &owner.id, "short");
    let key = owner.browser.create_api_key("Short", "7").await;
    app.clock.advance(Duration::days(8));
    let r = regenerate(&owner.browser, &token_regenerate_path(&short), "24h").await;
    assert_eq!(r.status, 409, "expired token: {}", r.body);
    let r = regenerate(
        &owner.browser,
        &key_regenerate_path(&key_id_of(&key)),
        "24h",
    )
    .await;
    assert_eq!(r.status, 409, "expired key: {}", r.body);

    // Someone else's token is not found; a bad grace is a field error.
    let other = sign_up(&app, "Other", "Otto Other", &email("otto")).await;
    other.browser.create_pat("theirs", "30").await;
    let theirs = pat_id(&app, &other.id, "theirs");
    let r = regenerate(&owner.browser, &token_regenerate_path(&theirs), "24h").await;
    assert_eq!(r.status, 404);
    let r = regenerate(&other.browser, &token_regenerate_path(&theirs), "forever").await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("data-testid=\"error-grace\""), "{}", r.body);
    assert!(successor_of_token(&app, &theirs).is_none());

    // No credential regenerates: the route is the console's, a bearer token is no session.
    let theirs_secret = other.browser.create_pat("cli", "30").await;
    let cli = pat_id(&app, &other.id, "cli");
    let r = app
        .token(&theirs_secret)
        .call(reqwest::Method::POST, &token_regenerate_path(&cli), None)
        .await;
    assert_ne!(r.status, 200);
    assert!(successor_of_token(&app, &cli).is_none());
}

#[actix_web::test]
async fn a_token_regenerated_many_times_at_once_has_one_successor() {
    let app = TestApp::spawn().await;
    let owner = sign_up(&app, "Race AG", "Rene Race", &email("rene")).await;
    owner.browser.create_pat("raced", "30").await;
    let id = pat_id(&app, &owner.id, "raced");
    let outcomes = post_at_once(
        &app,
        &owner.browser,
        &[("personal_access_tokens", &id)],
        &token_regenerate_path(&id),
        &[("grace", "24h")],
    )
    .await;
    assert_one_winner("regenerating a token", &outcomes, 303, &[409]);
    assert_eq!(events_of_kind(&app, "pat.regenerated").len(), 1);
    assert!(successor_of_token(&app, &id).is_some());

    let key = owner.browser.create_api_key("Raced", "30").await;
    let key_id = key_id_of(&key);
    let outcomes = post_at_once(
        &app,
        &owner.browser,
        &[("platform_api_keys", &key_id)],
        &key_regenerate_path(&key_id),
        &[("grace", "24h")],
    )
    .await;
    assert_one_winner("regenerating a key", &outcomes, 303, &[409]);
    assert_eq!(events_of_kind(&app, "api_key.regenerated").len(), 1);
}
