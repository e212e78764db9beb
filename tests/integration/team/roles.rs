//! Role changes follow the hierarchy: what the members page offers, and what each role may do.

use crate::helpers::db::{all_roles, company_events, role_of};
use crate::helpers::html::{member_row, role_choices};
use crate::helpers::{Browser, RequestHelper, TestApp};

use super::World;

#[actix_web::test]
async fn the_members_page_offers_only_the_role_changes_allowed() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let (_, other_admin_email) = w.fresh("Abe", "admin").await;
    let (admin, member, owner) = (&w.admin, &w.member, &w.owner);

    // What the members page offers agrees with the rules.
    let admins_view = admin.browser.get("/settings/members").await.body;
    let row = |html: &str, e: &str| member_row(html, e).expect("member row").to_owned();
    // An admin cannot make a member an admin: no select with a single option, the role as text.
    assert!(role_choices(&row(&admins_view, &member.email)).is_empty());
    assert!(row(&admins_view, &member.email)
        .contains("<span data-testid=\"member-role\">member</span>"));
    assert!(role_choices(&row(&admins_view, &other_admin_email)).is_empty());
    assert!(role_choices(&row(&admins_view, &owner.email)).is_empty());
    assert!(
        role_choices(&row(&admins_view, &admin.email)).is_empty(),
        "not oneself"
    );
    let owners_view = owner.browser.get("/settings/members").await.body;
    assert_eq!(
        role_choices(&row(&owners_view, &member.email)),
        ["member", "admin"]
    );
    assert_eq!(
        role_choices(&row(&owners_view, &other_admin_email)),
        ["member", "admin"]
    );
    assert!(role_choices(&row(&owners_view, &owner.email)).is_empty());
}

#[actix_web::test]
async fn role_changes_follow_the_hierarchy() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let (other_admin, _) = w.fresh("Abe", "admin").await;
    let (member2, _) = w.fresh("Max", "member").await;
    let (admin, member, owner) = (&w.admin, &w.member, &w.owner);

    // (who, target, new role, expected status, the target's role afterwards)
    let cases: [(&Browser, &str, &str, u16, &str); 14] = [
        (&admin.browser, &member.id, "member", 303, "member"),
        (&admin.browser, &member.id, "admin", 403, "member"),
        (&admin.browser, &other_admin, "member", 403, "admin"),
        (&admin.browser, &other_admin, "admin", 403, "admin"),
        (&admin.browser, &owner.id, "member", 403, "owner"),
        (&admin.browser, &owner.id, "admin", 403, "owner"),
        (&admin.browser, &admin.id, "member", 403, "admin"),
        (&member.browser, &member2, "admin", 403, "member"),
        (&member.browser, &member.id, "admin", 403, "member"),
        (&owner.browser, &member.id, "admin", 303, "admin"),
        (&owner.browser, &other_admin, "member", 303, "member"),
        (&owner.browser, &owner.id, "admin", 403, "owner"),
        (&owner.browser, &admin.id, "owner", 403, "admin"),
        (&owner.browser, &member2, "superuser", 400, "member"),
    ];
    for (i, (who, target, to, status, after)) in cases.into_iter().enumerate() {
        let before = all_roles(&app);
        let r = who
            .post_form(&format!("/settings/members/{target}/role"), &[("role", to)])
            .await;
        assert_eq!(r.status, status, "case {i}: {target} → {to}: {}", r.body);
        if status == 303 {
            assert_eq!(r.location(), "/settings/members");
            let page = who.get(r.location()).await.body;
            let words = if to == "admin" {
                "an admin"
            } else {
                "a member"
            };
            assert!(
                page.contains(&format!("is now {words}.")),
                "case {i}: flash"
            );
        }
        assert_eq!(role_of(&app, target), after, "case {i}: {target} → {to}");
        if status != 303 {
            assert_eq!(all_roles(&app), before, "case {i}: nothing changed");
        }
    }
    // The member is an admin now: the owner takes it back.
    let r = owner
        .browser
        .post_form(
            &format!("/settings/members/{}/role", member.id),
            &[("role", "member")],
        )
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(role_of(&app, &member.id), "member");
    assert_eq!(
        role_of(&app, &owner.id),
        "owner",
        "nobody demoted the owner"
    );

    // Three real changes, each in the audit log by the owner; refusals and no-ops left none.
    let changes = company_events(&app, &w.company, "role.changed");
    let details: Vec<&str> = changes
        .iter()
        .map(|e| e.detail.as_deref().unwrap_or_default())
        .collect();
    assert_eq!(
        details,
        ["member → admin", "admin → member", "admin → member"]
    );
    assert!(changes
        .iter()
        .all(|e| e.actor_id.as_deref() == Some(owner.id.as_str())));
}
