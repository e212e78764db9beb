//! A replaced credential used after its cut-over: refused as any invalid one, recorded, and its
//! owner mailed that it may have leaked; at most once an hour, whatever the number of attempts.

use chrono::Duration;

use super::{key_regenerate_path, me_with, regenerated, token_regenerate_path};
use crate::helpers::db::{events_of_kind, pat_id};
use crate::helpers::fixtures::{key_id_of, mails_to_besides_confirmation, sign_up, wait_for_mails};
use crate::helpers::{email, TestApp};

/// Time for a mail sent in the background to be written, when none is expected.
async fn settle() {
    actix_web::rt::time::sleep(std::time::Duration::from_millis(400)).await;
}

#[actix_web::test]
async fn a_replaced_token_used_again_is_recorded_and_mailed_once_an_hour() {
    let app = TestApp::spawn().await;
    let who = email("ursula");
    let owner = sign_up(&app, "After AG", "Ursula Used", &who).await;
    let old = owner.browser.create_pat("backup job", "30").await;
    let id = pat_id(&app, &owner.id, "backup job");
    let new = regenerated(&owner.browser, &token_regenerate_path(&id), "none").await;

    for attempt in 1..=3 {
        assert_eq!(
            me_with(&app, &old).await,
            (401, "invalid_credential".to_owned()),
            "attempt {attempt}: the same answer as any invalid key"
        );
    }
    let events = events_of_kind(&app, "credential.used_after_rotation");
    assert_eq!(events.len(), 1, "one event for the hour");
    assert_eq!(events[0].credential_id.as_deref(), Some(id.as_str()));
    assert!(
        events[0]
            .target
            .as_deref()
            .unwrap_or_default()
            .contains("replaced by"),
        "{:?}",
        events[0].target
    );
    let mails = wait_for_mails(&app, &who, 1).await;
    settle().await;
    let mails_now = mails_to_besides_confirmation(&app, &who);
    assert_eq!(mails_now.len(), 1, "one mail for the hour: {mails_now:?}");
    let mail = &mails[0];
    assert!(
        mail.contains("backup job") && mail.contains("may have leaked"),
        "{mail}"
    );
    assert!(
        !mail.contains(&old) && !mail.contains(&new),
        "never a secret"
    );

    // An hour later it is news again.
    app.clock.advance(Duration::minutes(61));
    assert_eq!(me_with(&app, &old).await.0, 401);
    wait_for_mails(&app, &who, 2).await;
    assert_eq!(
        events_of_kind(&app, "credential.used_after_rotation").len(),
        2
    );
    // The successor is untouched by all this.
    assert_eq!(me_with(&app, &new).await.0, 200);
}

#[actix_web::test]
async fn a_replaced_api_key_used_again_mails_the_company_admins() {
    let app = TestApp::spawn().await;
    let who = email("karl");
    let owner = sign_up(&app, "Key After", "Karl Key", &who).await;
    let old = owner.browser.create_api_key("Sync", "30").await;
    let new = regenerated(
        &owner.browser,
        &key_regenerate_path(&key_id_of(&old)),
        "24h",
    )
    .await;
    assert_eq!(me_with(&app, &new).await.0, 200, "first use cuts over");
    assert_eq!(me_with(&app, &old).await.0, 401);
    assert_eq!(me_with(&app, &old).await.0, 401);
    let mails = wait_for_mails(&app, &who, 1).await;
    assert!(mails[0].contains("Sync") && !mails[0].contains(&old));
    settle().await;
    assert_eq!(mails_to_besides_confirmation(&app, &who).len(), 1);
    assert_eq!(
        events_of_kind(&app, "credential.used_after_rotation").len(),
        1
    );
}
