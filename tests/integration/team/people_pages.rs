//! The members page and the audit log as people read them: controls only where they do
//! something, a confirmation before signing anyone out, counts and names in words.

use meetergo_console::db::models::{now, AuditEvent};
use meetergo_console::domain::{AuditEventId, AuditKind};

use crate::helpers::db::conn;
use crate::helpers::html::{member_row, role_choices, testid_text};
use crate::helpers::{RequestHelper, TestApp};

use super::World;

#[actix_web::test]
async fn viewers_see_a_role_select_only_where_they_can_change_the_role() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;

    // An admin may change no role of the world's people (only the owner makes admins, and
    // the member is a member already): no select at all, the role as words.
    let admins_view = w.admin.browser.get("/settings/members").await.body;
    assert!(
        !admins_view.contains("data-testid=\"member-role-select\""),
        "an admin sees no role select"
    );
    for (person, role) in [
        (&w.member.email, "member"),
        (&w.admin.email, "admin"),
        (&w.owner.email, "owner"),
    ] {
        let row = member_row(&admins_view, person).expect("row");
        assert!(
            row.contains(&format!("<span data-testid=\"member-role\">{role}</span>")),
            "{row}"
        );
    }
    // The owner changes the admin's and the member's role, not their own.
    let owners_view = w.owner.browser.get("/settings/members").await.body;
    let row = |e: &str| member_row(&owners_view, e).expect("row").to_owned();
    assert_eq!(role_choices(&row(&w.member.email)), ["member", "admin"]);
    assert!(row(&w.member.email).contains("aria-label=\"Save role for Mia\""));
    assert!(role_choices(&row(&w.owner.email)).is_empty());
    // A member does not see the page at all.
    assert_eq!(w.member.browser.get("/settings/members").await.status, 403);
}

#[actix_web::test]
async fn a_saved_role_is_said_in_words_and_a_refused_one_is_shown_beside_the_select() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let path = format!("/settings/members/{}/role", w.member.id);

    let r = w
        .owner
        .browser
        .post_form(&path, &[("role", "admin"), ("from", "member")])
        .await;
    assert_eq!(r.status, 303);
    let page = w.owner.browser.get(r.location()).await.body;
    assert_eq!(
        testid_text(&page, "flash").as_deref(),
        Some("Mia is now an admin.")
    );

    // A page that still shows "member": the change made meanwhile is a conflict, explained
    // beside Mia's select, which names the message.
    let r = w
        .owner
        .browser
        .post_form(&path, &[("role", "admin"), ("from", "member")])
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
    let row = member_row(&r.body, &w.member.email).expect("row");
    let error_id = format!("role-{}-error", w.member.id);
    assert!(
        row.contains(&format!(
            "aria-invalid=\"true\" aria-describedby=\"{error_id}\""
        )),
        "{row}"
    );
    assert!(row.contains(&format!("id=\"{error_id}\"")), "{row}");
    assert!(
        testid_text(row, "error-role")
            .unwrap_or_default()
            .contains("changed meanwhile"),
        "{row}"
    );
    // Nobody else's row carries an error.
    assert_eq!(r.body.matches("data-testid=\"error-role\"").count(), 1);
}

/// The part of `row` from `start` to the end of the enclosing `<details>`.
fn details_of<'h>(row: &'h str, start: &str) -> Option<&'h str> {
    let at = row.find(start)?;
    let rest = row.get(at..)?;
    rest.get(..rest.find("</details>")?)
}

#[actix_web::test]
async fn signing_out_everywhere_asks_first_and_warns_when_it_is_you() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let page = w.admin.browser.get("/settings/members").await.body;

    // Mia's row: a disclosure, and the button that acts only inside it, named for her.
    let row = member_row(&page, &w.member.email).expect("row");
    let confirm = details_of(
        row,
        "<details class=\"confirm\" data-testid=\"member-sign-out-confirm\"",
    )
    .expect("a confirmation around the sign-out");
    assert!(confirm.contains("data-testid=\"member-sign-out-open\">Sign out<span class=\"sr-only\"> Mia</span> everywhere…</summary>"));
    assert!(
        confirm.contains("data-testid=\"member-sign-out\" aria-label=\"Sign out Mia everywhere\"")
    );
    assert!(testid_text(confirm, "member-sign-out-warning")
        .unwrap_or_default()
        .starts_with("Mia is signed out on every device"));
    // Nowhere on the page is there a sign-out button outside its confirmation.
    assert_eq!(
        page.matches("data-testid=\"member-sign-out\"").count(),
        page.matches("<details class=\"confirm\" data-testid=\"member-sign-out-confirm\"")
            .count()
    );
    for chunk in page.split("data-testid=\"member-sign-out\"").skip(1) {
        let before_close = chunk.find("</details>").expect("inside details");
        let next_open = chunk.find("<details").unwrap_or(usize::MAX);
        assert!(
            before_close < next_open,
            "every sign-out button sits in its <details>"
        );
    }

    // The admin's own row says it signs them out too.
    let own = member_row(&page, &w.admin.email).expect("own row");
    let own_confirm = details_of(own, "<details class=\"confirm\"").expect("own confirmation");
    assert!(
        own_confirm.contains("<strong>this one too</strong>"),
        "{own_confirm}"
    );
    assert!(own_confirm.contains("aria-label=\"Sign me out everywhere, here too\""));
}

#[actix_web::test]
async fn the_people_count_leaves_out_removed_members() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let page = w.owner.browser.get("/settings/members").await.body;
    assert_eq!(testid_text(&page, "people-count").as_deref(), Some("(3)"));
    assert!(!page.contains("data-testid=\"removed-count\""));
    // Joined dates are <time> elements in words, not dates cut in two.
    let row = member_row(&page, &w.member.email).expect("row");
    assert!(
        row.contains("<td data-label=\"Joined\"><time datetime=\""),
        "{row}"
    );

    let r = w
        .owner
        .browser
        .post_form(
            &format!("/settings/members/{}/offboard", w.member.id),
            &[("transfer_to", w.owner.id.as_str())],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = w.owner.browser.get("/settings/members").await.body;
    assert_eq!(testid_text(&page, "people-count").as_deref(), Some("(2)"));
    assert_eq!(
        testid_text(&page, "removed-count").as_deref(),
        Some("· 1 removed")
    );
    assert!(member_row(&page, &w.member.email).is_some(), "still listed");
}

/// The `<tr>` of the audit row with this kind (the first one).
fn audit_row<'h>(html: &'h str, kind: &str) -> &'h str {
    let start = html
        .find(&format!("data-testid=\"audit-row\" data-kind=\"{kind}\""))
        .unwrap_or_else(|| panic!("a {kind} row"));
    let rest = html.get(start..).expect("row");
    rest.get(..rest.find("</tr>").expect("row end"))
        .expect("row")
}

/// The text a reader sees in `html`: tags and their attributes left out.
fn visible_text(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

#[actix_web::test]
async fn the_audit_log_names_events_and_people_in_words() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    // A failed sign-in as Mia, and a role change by the owner.
    let r = app
        .browser()
        .post_form(
            "/login",
            &[
                ("email", w.member.email.as_str()),
                ("password", "not her password"),
            ],
        )
        .await;
    assert_eq!(r.status, 401);
    let r = w
        .owner
        .browser
        .post_form(
            &format!("/settings/members/{}/role", w.member.id),
            &[("role", "admin")],
        )
        .await;
    assert_eq!(r.status, 303);
    // A sign-in from Chrome on a Mac.
    let chrome = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
    AuditEvent {
        id: AuditEventId::new(),
        company_id: Some(w.company.parse().expect("company id")),
        actor_id: Some(w.admin.id.clone()),
        credential_id: None,
        kind: AuditKind::SignInSucceeded,
        target: None,
        detail: None,
        ip: Some("203.0.113.7".into()),
        user_agent: Some(chrome.into()),
        created_at: now(),
    }
    .insert(&mut conn(&app))
    .expect("insert event");

    let page = w.owner.browser.get("/settings/audit").await.body;

    // The failed sign-in: its name in words, the email tried as target, the id only in a title.
    let failed = audit_row(&page, "sign_in.failed");
    assert_eq!(
        testid_text(failed, "audit-kind-label").as_deref(),
        Some("Failed sign-in")
    );
    assert_eq!(
        testid_text(failed, "audit-target"),
        Some(format!("Mia ({})", w.member.email))
    );
    assert!(failed.contains(&format!("title=\"{}\"", w.member.id)));
    assert!(
        !visible_text(failed).contains(&w.member.id),
        "no bare id: {failed}"
    );

    // The role change: who did it by name (email and id in the title), to whom by name.
    let changed = audit_row(&page, "role.changed");
    assert_eq!(
        testid_text(changed, "audit-kind-label").as_deref(),
        Some("Role changed")
    );
    assert_eq!(
        testid_text(changed, "audit-actor-name").as_deref(),
        Some("Olga Owner")
    );
    assert!(changed.contains(&format!("title=\"{} · {}\"", w.owner.email, w.owner.id)));
    assert_eq!(
        testid_text(changed, "audit-target"),
        Some(format!("Mia ({})", w.member.email))
    );
    for id in [&w.owner.id, &w.member.id] {
        assert!(!visible_text(changed).contains(id.as_str()), "{changed}");
    }

    // The browser in a few words, the whole header on demand.
    let signed_in = audit_row(&page, "sign_in.succeeded");
    assert_eq!(
        testid_text(signed_in, "audit-device").as_deref(),
        Some("Chrome on macOS")
    );
    assert!(signed_in.contains(&format!("<p class=\"ua-full\">{chrome}</p>")));

    // Filter is the form's primary action; the export a secondary one.
    assert!(page.contains("class=\"primary\" data-testid=\"audit-filter-submit\">Filter<"));
    assert!(page.contains("<a class=\"button secondary\""));
    // The kind filter offers the names too, and filters by the stored kind.
    assert!(page.contains("<option value=\"sign_in.failed\" >Failed sign-in</option>"));

    // The export keeps the raw values: the kind as stored, the target with its id.
    let csv = w
        .owner
        .browser
        .get("/settings/audit.csv?kind=sign_in.failed")
        .await
        .body;
    assert!(csv.contains(",sign_in.failed,"), "{csv}");
    assert!(csv.contains(&w.member.id), "{csv}");
}
