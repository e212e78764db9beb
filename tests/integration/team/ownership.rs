//! Handing the company over: only the owner, with their password, to an active admin.

use meetergo_console::domain::UserStatus;

use crate::helpers::db::{all_roles, company_events, role_of, set_status};
use crate::helpers::{Browser, Person, Reply, RequestHelper, TestApp, PASSWORD};

use super::World;

async fn transfer(agent: &Browser, to: &str, password: &str) -> Reply {
    agent
        .post_form(
            "/settings/company/transfer-ownership",
            &[("user_id", to), ("password", password)],
        )
        .await
}

/// Company A with Hugo, an admin signed in (the heir), and Ivy, a deactivated admin.
async fn with_heir(w: &World<'_>) -> (Person, String, String) {
    let heir = w.fresh_signed_in("Hugo", "admin").await;
    let (inactive, inactive_email) = w.fresh("Ivy", "admin").await;
    set_status(w.app, &inactive, UserStatus::Deactivated);
    (heir, inactive, inactive_email)
}

#[actix_web::test]
async fn only_the_owner_is_offered_the_transfer_and_only_to_active_admins() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let (heir, inactive, inactive_email) = with_heir(&w).await;

    // The owner's page offers the active admins, and only them.
    let page = w.owner.browser.get("/settings/company").await.body;
    assert!(page.contains("data-testid=\"transfer-form\""));
    for (id, offered) in [
        (&heir.id, true),
        (&w.admin.id, true),
        (&w.member.id, false),
        (&inactive, false),
        (&w.owner.id, false),
    ] {
        assert_eq!(
            page.contains(&format!("<option value=\"{id}\">")),
            offered,
            "{id} offered"
        );
    }
    assert!(!page.contains(&inactive_email));
    let admins_page = w.admin.browser.get("/settings/company").await.body;
    assert!(
        !admins_page.contains("data-testid=\"transfer-form\""),
        "only the owner sees it"
    );
}

#[actix_web::test]
async fn a_transfer_needs_the_owner_their_password_and_an_active_admin() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let (heir, inactive, _) = with_heir(&w).await;

    let before = all_roles(&app);
    // (who, to, password, status, message on the page)
    let refused: [(&Browser, &str, &str, u16, Option<&str>); 7] = [
        (&w.admin.browser, &heir.id, PASSWORD, 403, None),
        (&w.member.browser, &heir.id, PASSWORD, 403, None),
        (&w.owner.browser, &w.member.id, PASSWORD, 403, None),
        (&w.owner.browser, &inactive, PASSWORD, 403, None),
        (&w.owner.browser, &w.owner.id, PASSWORD, 403, None),
        (
            &w.owner.browser,
            &heir.id,
            "not the owner's password",
            422,
            Some("That is not your password."),
        ),
        (
            &w.owner.browser,
            "",
            PASSWORD,
            422,
            Some("Choose the admin who becomes the owner."),
        ),
    ];
    for (i, (who, to, password, status, message)) in refused.into_iter().enumerate() {
        let r = transfer(who, to, password).await;
        assert_eq!(r.status, status, "case {i}: {}", r.body);
        if let Some(m) = message {
            assert!(r.body.contains(m), "case {i}: says {m:?}");
        }
        assert_eq!(all_roles(&app), before, "case {i}: nothing changed");
        assert!(company_events(&app, &w.company, "ownership.transferred").is_empty());
    }
}

#[actix_web::test]
async fn the_owner_hands_the_company_to_an_admin_and_becomes_an_admin() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let (heir, _, _) = with_heir(&w).await;

    let r = transfer(&w.owner.browser, &heir.id, PASSWORD).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location(), "/settings/company");
    assert_eq!(role_of(&app, &heir.id), "owner");
    assert_eq!(role_of(&app, &w.owner.id), "admin");
    let owners: Vec<_> = all_roles(&app)
        .into_iter()
        .filter(|(_, role, _)| role == "owner")
        .collect();
    assert_eq!(owners.len(), 2, "one owner in each company");
    let transferred = company_events(&app, &w.company, "ownership.transferred");
    assert_eq!(transferred.len(), 1);
    assert_eq!(
        transferred[0].actor_id.as_deref(),
        Some(w.owner.id.as_str())
    );
    assert!(transferred[0]
        .target
        .as_deref()
        .unwrap_or_default()
        .contains(&heir.email));
    let dashboard = heir.browser.get("/dashboard").await.body;
    assert!(dashboard.contains("data-testid=\"dashboard-role\">owner<"));

    // The old owner is an admin now: no transfer form, and no transfer.
    let page = w.owner.browser.get("/settings/company").await.body;
    assert!(!page.contains("data-testid=\"transfer-form\""));
    let after = all_roles(&app);
    let r = transfer(&w.owner.browser, &w.admin.id, PASSWORD).await;
    assert_eq!(r.status, 403);
    assert_eq!(all_roles(&app), after);
}
