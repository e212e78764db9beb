//! Settings → Company → Credential policy: a maximum PAT lifetime that every issuing path obeys
//! and that shortens longer-lived tokens, and "Members may create PATs".

use chrono::Duration;

use super::{me_with, regenerated, successor_of_token, token_regenerate_path, token_row};
use crate::helpers::db::{events_of_kind, pat_id};
use crate::helpers::fixtures::{
    mails_to_besides_confirmation, sign_up, signed_in_user, wait_for_mails,
};
use crate::helpers::{email, Browser, Reply, RequestHelper, TestApp};

const POLICY: &str = "/settings/company/credential-policy";

async fn save_policy(browser: &Browser, max_days: &str, members_may_create: bool) -> Reply {
    let mut fields = vec![("max_pat_lifetime_days", max_days)];
    if members_may_create {
        fields.push(("members_may_create_pats", "on"));
    }
    browser.post_form(POLICY, &fields).await
}

#[actix_web::test]
async fn a_maximum_lifetime_refuses_longer_tokens_and_shortens_existing_ones() {
    let app = TestApp::spawn().await;
    let who = email("paula");
    let owner = sign_up(&app, "Policy GmbH", "Paula Policy", &who).await;
    let key = owner.browser.create_api_key("Provisioning", "30").await;
    let member = signed_in_user(&app, &key, "Mats", "member").await;
    let forever = owner.browser.create_pat("forever", "none").await;
    owner.browser.create_pat("quarter", "90").await;
    owner.browser.create_pat("week", "7").await;
    member.browser.create_pat("member long", "60").await;
    let week_before = token_row(&app, &pat_id(&app, &owner.id, "week")).0;

    // Only the owner sets it.
    let admin = signed_in_user(&app, &key, "Ada", "admin").await;
    assert_eq!(save_policy(&admin.browser, "30", true).await.status, 403);

    save_policy(&owner.browser, "30", true)
        .await
        .assert_redirect("/settings/company");
    let limit = app.clock.now().date() + Duration::days(30);
    for (user, name) in [
        (&owner.id, "forever"),
        (&owner.id, "quarter"),
        (&member.id, "member long"),
    ] {
        let expires = token_row(&app, &pat_id(&app, user, name)).0;
        assert_eq!(expires.map(|e| e.date()), Some(limit), "{name} shortened");
    }
    assert_eq!(
        token_row(&app, &pat_id(&app, &owner.id, "week")).0,
        week_before,
        "a shorter token keeps its expiry"
    );
    assert_eq!(
        me_with(&app, &forever).await.0,
        200,
        "shortened, still working"
    );
    let owner_mails = wait_for_mails(&app, &who, 2).await;
    assert!(owner_mails
        .iter()
        .any(|m| m.contains("forever") && m.contains(&limit.to_string())));
    assert!(owner_mails.iter().any(|m| m.contains("quarter")));
    assert!(
        owner_mails.iter().all(|m| !m.contains(&forever)),
        "never a secret"
    );
    let member_mails = wait_for_mails(&app, &member.email, 1).await;
    assert!(member_mails[0].contains("member long"));
    assert_eq!(events_of_kind(&app, "credential_policy.changed").len(), 1);

    // The form hides "No expiry" and refuses more than 30 days beside the date.
    let page = owner.browser.get("/integrations/api").await;
    assert!(
        !page.body.contains("data-testid=\"expiry-none\""),
        "no 'No expiry'"
    );
    assert!(page.body.contains("data-testid=\"max-lifetime\""));
    for expiry in ["60", "none"] {
        let r = owner
            .browser
            .post_form(
                "/integrations/api/tokens",
                &[("name", "too long"), ("expiry", expiry)],
            )
            .await;
        assert_eq!(r.status, 422, "{expiry}: {}", r.body);
        assert!(
            r.body.contains("data-testid=\"error-expires_at\""),
            "{expiry}: {}",
            r.body
        );
    }
    owner.browser.create_pat("fine", "30").await;
}

#[actix_web::test]
async fn regeneration_obeys_the_maximum_lifetime() {
    let app = TestApp::spawn().await;
    let owner = sign_up(&app, "Cap AG", "Carl Cap", &email("carl")).await;
    owner.browser.create_pat("ninety", "90").await;
    let id = pat_id(&app, &owner.id, "ninety");
    // 80 days on, the token (90 days long) ends within the new 30-day limit, so it stays.
    app.clock.advance(Duration::days(80));
    save_policy(&owner.browser, "30", true)
        .await
        .assert_redirect("/settings/company");
    assert!(mails_to_besides_confirmation(&app, &owner.email).is_empty());
    // Its successor would live 90 days; the policy caps it at 30 from today.
    regenerated(&owner.browser, &token_regenerate_path(&id), "24h").await;
    let successor = successor_of_token(&app, &id).expect("successor");
    let expires = token_row(&app, &successor).0.expect("an expiry");
    assert_eq!(expires.date(), app.clock.now().date() + Duration::days(30));
}

#[actix_web::test]
async fn members_may_be_kept_from_creating_tokens_but_admins_never() {
    let app = TestApp::spawn().await;
    let owner = sign_up(&app, "Closed Ltd", "Cleo Closed", &email("cleo")).await;
    let key = owner.browser.create_api_key("Provisioning", "30").await;
    let member = signed_in_user(&app, &key, "Milo", "member").await;
    let admin = signed_in_user(&app, &key, "Alma", "admin").await;
    let existing = member.browser.create_pat("before", "30").await;
    let before = pat_id(&app, &member.id, "before");

    save_policy(&owner.browser, "none", false)
        .await
        .assert_redirect("/settings/company");
    let settings = owner.browser.get("/settings/company").await.body;
    assert!(
        settings.contains("data-testid=\"member-token-count\">1 active token "),
        "{settings}"
    );
    assert!(settings.contains("href=\"/settings/credentials\""));

    let page = member.browser.get("/integrations/api").await.body;
    assert!(page.contains("data-testid=\"pat-creation-off\""), "{page}");
    assert!(!page.contains("data-testid=\"create-token-form\""));
    let r = member
        .browser
        .post_form(
            "/integrations/api/tokens",
            &[("name", "after"), ("expiry", "30")],
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = member
        .browser
        .post_form(&token_regenerate_path(&before), &[("grace", "24h")])
        .await;
    assert_eq!(r.status, 403, "regenerating is creating: {}", r.body);
    assert_eq!(
        me_with(&app, &existing).await.0,
        200,
        "existing tokens keep working"
    );

    admin.browser.create_pat("admin cli", "30").await;
    owner.browser.create_pat("owner cli", "30").await;

    save_policy(&owner.browser, "none", true)
        .await
        .assert_redirect("/settings/company");
    member.browser.create_pat("after", "30").await;
}
