//! The credential forms of issue 14: the expiry field without JavaScript (each preset says its
//! date, a typed date wins), post/redirect/get with the secret shown once, and renaming a
//! credential or giving it a note.

use chrono::{Duration, NaiveDate};
use diesel::prelude::*;
use meetergo_console::db::schema::{
    audit_events, personal_access_tokens as pats, platform_api_keys as keys,
};

use crate::helpers::db::{conn, pat_id};
use crate::helpers::fixtures::{key_id_of, sign_up, signed_in_user};
use crate::helpers::html::{new_secret_in, testid_text};
use crate::helpers::{email, RequestHelper, TestApp};

fn today(app: &TestApp) -> NaiveDate {
    app.clock.now().date()
}

fn token_expiry(app: &TestApp, id: &str) -> Option<NaiveDate> {
    pats::table
        .filter(pats::id.eq(id))
        .select(pats::expires_at)
        .first::<Option<chrono::NaiveDateTime>>(&mut *conn(app))
        .expect("token row")
        .map(|at| at.date())
}

fn audit_kinds(app: &TestApp, subject: &str) -> Vec<(String, String)> {
    audit_events::table
        .filter(audit_events::target.like(format!("%({subject})")))
        .select((audit_events::kind, audit_events::detail))
        .load::<(String, Option<String>)>(&mut *conn(app))
        .expect("audit events")
        .into_iter()
        .map(|(k, d)| (k, d.unwrap_or_default()))
        .collect()
}

#[actix_web::test]
async fn each_preset_says_its_date_and_a_typed_date_wins_over_it() {
    let app = TestApp::spawn().await;
    let owner = sign_up(&app, "Dates Ltd", "Dora Dates", &email("dora")).await;
    let page = owner.browser.get("/integrations/api").await.body;
    let in_30 = (today(&app) + Duration::days(30)).format("%-d %b %Y");
    assert!(
        page.contains(&format!("30 days \u{2014} until {in_30}")),
        "{page}"
    );
    assert!(
        page.contains("Custom date (used instead of the preset when filled)"),
        "without JavaScript the date field says it wins"
    );

    // A browser without JavaScript sends the checked preset and the typed date: the date wins.
    let wanted = today(&app) + Duration::days(45);
    let r = owner
        .browser
        .post_form(
            "/integrations/api/tokens",
            &[
                ("name", "typed"),
                ("expiry", "30"),
                ("expires_at", &wanted.to_string()),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let id = pat_id(&app, &owner.id, "typed");
    assert_eq!(token_expiry(&app, &id), Some(wanted));

    // Without a typed date the preset counts; "Custom date" without one is refused beside it.
    owner.browser.create_pat("preset", "7").await;
    let id = pat_id(&app, &owner.id, "preset");
    assert_eq!(
        token_expiry(&app, &id),
        Some(today(&app) + Duration::days(7))
    );
    let r = owner
        .browser
        .post_form(
            "/integrations/api/tokens",
            &[
                ("name", "no date"),
                ("expiry", "custom"),
                ("expires_at", ""),
            ],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        testid_text(&r.body, "error-expires_at").is_some(),
        "{}",
        r.body
    );
    assert!(r.body.contains("aria-describedby=\"expires_at-error\""));
    assert!(r.body.contains("aria-invalid=\"true\""));
    assert!(r.body.contains("data-testid=\"error-summary\""));

    // The same for an API key: the typed date wins over "7 days".
    let wanted = today(&app) + Duration::days(20);
    let r = owner
        .browser
        .post_form(
            "/admin/api-keys",
            &[
                ("name", "typed key"),
                ("expiry", "7"),
                ("expires_at", &wanted.to_string()),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let at: chrono::NaiveDateTime = keys::table
        .filter(keys::name.eq("typed key"))
        .select(keys::expires_at)
        .first(&mut *conn(&app))
        .expect("key row");
    assert_eq!(at.date(), wanted);
}

#[actix_web::test]
async fn a_new_key_and_a_regenerated_token_are_shown_once_after_a_redirect() {
    let app = TestApp::spawn().await;
    let owner = sign_up(&app, "Once Co", "Otis Once", &email("otis")).await;

    let r = owner
        .browser
        .post_form("/admin/api-keys", &[("name", "Prod"), ("expiry", "30")])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let at = r.location().to_owned();
    assert!(at.starts_with("/admin/api-keys?new="), "{at}");
    let page = owner.browser.get(&at).await;
    let key = new_secret_in(&page.body).expect("the key, once");
    assert!(page.body.contains("data-testid=\"new-secret-expiry\""));
    let again = owner.browser.get(&at).await.body;
    assert!(!again.contains(&key));
    assert!(
        again.contains("The key was shown once and is no longer displayed."),
        "{again}"
    );
    assert!(again.contains(&format!(
        "href=\"/admin/api-keys/{}/regenerate\"",
        key_id_of(&key)
    )));

    owner.browser.create_pat("rotating", "30").await;
    let id = pat_id(&app, &owner.id, "rotating");
    let r = owner
        .browser
        .post_form(
            &format!("/integrations/api/tokens/{id}/regenerate"),
            &[("grace", "24h")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let at = r.location().to_owned();
    let page = owner.browser.get(&at).await.body;
    let successor = new_secret_in(&page).expect("the successor, once");
    assert!(page.contains("data-testid=\"regenerated-note\""), "{page}");
    let again = owner.browser.get(&at).await.body;
    assert!(!again.contains(&successor));
    assert!(again.contains("The token was shown once and is no longer displayed."));

    // Another member's session never sees it, not even the notice about it.
    let member = signed_in_user(&app, &key, "Meg", "member").await;
    let theirs = member.browser.get(&at).await.body;
    assert!(!theirs.contains("data-testid=\"secret-gone\""));
    assert!(!theirs.contains("data-testid=\"new-token\""));
}

#[actix_web::test]
async fn a_token_is_renamed_and_noted_by_its_owner_only() {
    let app = TestApp::spawn().await;
    let owner = sign_up(&app, "Notes Inc", "Nora Notes", &email("nora")).await;
    let key = owner.browser.create_api_key("Team key", "30").await;
    let member = signed_in_user(&app, &key, "Max", "member").await;
    owner.browser.create_pat("CI", "30").await;
    owner.browser.create_pat("taken", "30").await;
    let id = pat_id(&app, &owner.id, "CI");
    let details = format!("/integrations/api/tokens/{id}/details");

    let r = owner
        .browser
        .post_form(
            &details,
            &[("name", "CI deploy"), ("note", "GitHub Actions; ask Nora")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = owner
        .browser
        .get(&format!("/integrations/api/tokens/{id}"))
        .await
        .body;
    assert_eq!(
        testid_text(&page, "credential-note").as_deref(),
        Some("GitHub Actions; ask Nora")
    );
    assert!(page.contains("<h1>CI deploy</h1>"), "{page}");
    let list = owner.browser.get("/integrations/api").await.body;
    assert!(list.contains("Revoke<span class=\"sr-only\"> token \u{201c}CI deploy\u{201d}</span>"));
    let events = audit_kinds(&app, &id);
    assert!(
        events
            .iter()
            .any(|(k, d)| k == "pat.updated" && d.contains("renamed from \u{201c}CI\u{201d}")),
        "{events:?}"
    );

    // Refusals stand beside their field.
    for (fields, field) in [
        (vec![("name", " "), ("note", "")], "name"),
        (vec![("name", "taken"), ("note", "")], "name"),
        (vec![("name", "ok"), ("note", &*"x".repeat(301))], "note"),
    ] {
        let r = owner.browser.post_form(&details, &fields).await;
        assert_eq!(r.status, 422, "{fields:?}: {}", r.body);
        assert!(
            r.body.contains(&format!("data-testid=\"error-{field}\"")),
            "{}",
            r.body
        );
        assert!(
            r.body
                .contains(&format!("aria-describedby=\"{field}-error\""))
                || field == "note"
        );
        assert!(r.body.contains("aria-invalid=\"true\""));
    }

    // Nobody else relabels it: another member does not even find it.
    let r = member
        .browser
        .post_form(&details, &[("name", "mine now"), ("note", "")])
        .await;
    assert_eq!(r.status, 404);

    // API keys: owners and admins, not members.
    let key_id = key_id_of(&key);
    let key_details = format!("/admin/api-keys/{key_id}/details");
    let r = member
        .browser
        .post_form(&key_details, &[("name", "x"), ("note", "")])
        .await;
    assert_eq!(r.status, 403);
    let r = owner
        .browser
        .post_form(
            &key_details,
            &[("name", "Team key (prod)"), ("note", "The booking widget")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let keys_page = owner.browser.get("/admin/api-keys").await.body;
    assert!(keys_page.contains("Team key (prod)"));
    assert_eq!(
        testid_text(&keys_page, "credential-note").as_deref(),
        Some("The booking widget")
    );
    assert!(audit_kinds(&app, &key_id)
        .iter()
        .any(|(k, _)| k == "api_key.updated"));
}

#[actix_web::test]
async fn empty_lists_say_what_to_do_next() {
    let app = TestApp::spawn().await;
    let owner = sign_up(&app, "Empty Co", "Emil Empty", &email("emil")).await;
    let page = owner.browser.get("/integrations/api").await.body;
    assert!(page.contains("data-testid=\"tokens-empty\""));
    assert!(page.contains("data-testid=\"tokens-empty-create\""));
    let page = owner.browser.get("/admin/api-keys").await.body;
    assert!(page.contains("data-testid=\"keys-empty-create\""), "{page}");
}

#[actix_web::test]
async fn a_secret_nobody_came_back_for_is_not_shown_later() {
    let app = TestApp::spawn().await;
    let owner = sign_up(&app, "Late Co", "Lars Late", &email("lars")).await;
    let r = owner
        .browser
        .post_form(
            "/integrations/api/tokens",
            &[("name", "left behind"), ("expiry", "30")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(app.clock.advance(Duration::minutes(11)));
    let page = owner.browser.get(r.location()).await.body;
    assert!(new_secret_in(&page).is_none(), "shown 11 minutes later");
    assert!(page.contains("data-testid=\"secret-gone\""), "{page}");
}
