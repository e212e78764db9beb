//! Every /settings route × every role: anonymous, member, admin, owner, and an admin of another
//! company using this company's ids. Each cell prepares its own targets, makes the request, and
//! checks the effect (or that nothing changed).

use crate::helpers::db::{
    all_roles, company, company_events, events_about, invitation, role_of, session_count, status_of,
};
use crate::helpers::fixtures::{mailed_invite_link, mails_to};
use crate::helpers::html::{invite_link_in, link_path};
use crate::helpers::{email, Browser, Reply, RequestHelper, TestApp, PASSWORD};

use super::{World, CSV_HEADER};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Actor {
    Anonymous,
    Member,
    Admin,
    Owner,
    /// An admin of another company, using this company's ids.
    Outsider,
}

const ACTORS: [Actor; 5] = [
    Actor::Anonymous,
    Actor::Member,
    Actor::Admin,
    Actor::Owner,
    Actor::Outsider,
];

/// The browser the actor uses.
fn browser_of<'w>(w: &'w World<'_>, actor: Actor) -> &'w Browser {
    match actor {
        Actor::Anonymous => &w.anonymous,
        Actor::Member => &w.member.browser,
        Actor::Admin => &w.admin.browser,
        Actor::Owner => &w.owner.browser,
        Actor::Outsider => &w.outsider.browser,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    /// 303 to /login.
    Login,
    Status(u16),
    /// 303 to this path.
    Redirect(&'static str),
}

#[derive(Debug, Clone, Copy)]
enum Route {
    Index,
    Members,
    /// A member made admin.
    RoleMemberToAdmin,
    /// An admin made member.
    RoleAdminToMember,
    /// A member set to member (the one change an admin may make).
    RoleMemberToMember,
    SignOut,
    Invite,
    Resend,
    Revoke,
    Company,
    SaveCompany,
    OffboardPreview,
    Offboard,
    Audit,
    AuditCsv,
    TransferOwnership,
}

const LOGIN: Want = Want::Login;
const OK: Want = Want::Status(200);
const FORBIDDEN: Want = Want::Status(403);
const NOT_FOUND: Want = Want::Status(404);
const TO_MEMBERS: Want = Want::Redirect("/settings/members");
const TO_COMPANY: Want = Want::Redirect("/settings/company");

/// Columns: anonymous, member, admin, owner, admin of another company.
/// The ownership transfer is last: the owner's cell hands the company over.
#[rustfmt::skip]
const MATRIX: [(Route, [Want; 5]); 16] = [
    (Route::Index,              [LOGIN, TO_MEMBERS, TO_MEMBERS, TO_MEMBERS, TO_MEMBERS]),
    (Route::Members,            [LOGIN, FORBIDDEN,  OK,         OK,         OK]),
    (Route::RoleMemberToAdmin,  [LOGIN, FORBIDDEN,  FORBIDDEN,  TO_MEMBERS, NOT_FOUND]),
    (Route::RoleAdminToMember,  [LOGIN, FORBIDDEN,  FORBIDDEN,  TO_MEMBERS, NOT_FOUND]),
    (Route::RoleMemberToMember, [LOGIN, FORBIDDEN,  TO_MEMBERS, TO_MEMBERS, NOT_FOUND]),
    (Route::SignOut,            [LOGIN, FORBIDDEN,  TO_MEMBERS, TO_MEMBERS, NOT_FOUND]),
    (Route::Invite,             [LOGIN, FORBIDDEN,  OK,         OK,         OK]),
    (Route::Resend,             [LOGIN, FORBIDDEN,  OK,         OK,         NOT_FOUND]),
    (Route::Revoke,             [LOGIN, FORBIDDEN,  TO_MEMBERS, TO_MEMBERS, NOT_FOUND]),
    (Route::Company,            [LOGIN, FORBIDDEN,  OK,         OK,         OK]),
    (Route::SaveCompany,        [LOGIN, FORBIDDEN,  TO_COMPANY, TO_COMPANY, TO_COMPANY]),
    (Route::OffboardPreview,    [LOGIN, FORBIDDEN,  OK,         OK,         NOT_FOUND]),
    (Route::Offboard,           [LOGIN, FORBIDDEN,  TO_MEMBERS, TO_MEMBERS, NOT_FOUND]),
    (Route::Audit,              [LOGIN, FORBIDDEN,  OK,         OK,         OK]),
    (Route::AuditCsv,           [LOGIN, FORBIDDEN,  OK,         OK,         OK]),
    (Route::TransferOwnership,  [LOGIN, FORBIDDEN,  FORBIDDEN,  TO_COMPANY, NOT_FOUND]),
];

fn assert_reply(what: &str, want: Want, r: &Reply) {
    match want {
        Want::Login => {
            assert_eq!(
                (r.status, r.location()),
                (303, "/login"),
                "{what}: {}",
                r.body
            )
        }
        Want::Status(s) => assert_eq!(r.status, s, "{what}: {}", r.body),
        Want::Redirect(to) => {
            assert_eq!((r.status, r.location()), (303, to), "{what}: {}", r.body)
        }
    }
}

/// One cell: prepares its own targets, makes the request, and checks the effect (or that
/// nothing changed).
async fn matrix_cell(w: &World<'_>, route: Route, actor: Actor, want: Want) {
    let app = w.app;
    let who = browser_of(w, actor);
    let what = format!("{route:?} by {actor:?}");
    let granted = matches!(want, Want::Status(200) | Want::Redirect(_));
    // The action took effect in company A (an outsider's success happens in company B).
    let here = granted && actor != Actor::Outsider;
    let outsider = actor == Actor::Outsider;
    match route {
        Route::Index => {
            let r = who.get("/settings").await;
            assert_reply(&what, want, &r);
        }
        Route::Members => {
            let r = who.get("/settings/members").await;
            assert_reply(&what, want, &r);
            assert_eq!(
                r.body.contains(&w.member.email),
                here,
                "{what}: lists A's member"
            );
            assert_eq!(
                r.body.contains(&w.outsider.email),
                outsider,
                "{what}: lists B's admin"
            );
        }
        Route::RoleMemberToAdmin | Route::RoleAdminToMember | Route::RoleMemberToMember => {
            let (from, to) = match route {
                Route::RoleMemberToAdmin => ("member", "admin"),
                Route::RoleAdminToMember => ("admin", "member"),
                _ => ("member", "member"),
            };
            let (target, address) = w.fresh("Target", from).await;
            let r = who
                .post_form(&format!("/settings/members/{target}/role"), &[("role", to)])
                .await;
            assert_reply(&what, want, &r);
            let changed = here && from != to;
            assert_eq!(
                role_of(app, &target),
                if here { to } else { from },
                "{what}: the target's role"
            );
            assert_eq!(
                events_about(app, &w.company, "role.changed", &address),
                usize::from(changed),
                "{what}: role.changed events"
            );
        }
        Route::SignOut => {
            let target = w.fresh_signed_in("Signed", "member").await;
            assert_eq!(session_count(app, &target.id), 1);
            let r = who
                .post_form(&format!("/settings/members/{}/sign-out", target.id), &[])
                .await;
            assert_reply(&what, want, &r);
            assert_eq!(
                session_count(app, &target.id),
                if here { 0 } else { 1 },
                "{what}: the target's sessions"
            );
            assert_eq!(
                target.browser.is_signed_in().await,
                !here,
                "{what}: target's browser"
            );
            assert_eq!(
                events_about(app, &w.company, "sessions.ended", &target.email),
                usize::from(here),
                "{what}: sessions.ended events"
            );
        }
        Route::Invite => {
            let address = email("invitee");
            let r = who
                .post_form(
                    "/settings/members/invite",
                    &[("email", address.as_str()), ("role", "member")],
                )
                .await;
            assert_reply(&what, want, &r);
            let stored = invitation(app, &address);
            assert_eq!(stored.is_some(), granted, "{what}: invitation stored");
            assert!(invite_link_in(&r.body).is_none(), "{what}: never shown");
            assert_eq!(
                mails_to(app, &address)
                    .iter()
                    .any(|m| m.contains("/invite/")),
                granted,
                "{what}: link mailed"
            );
            if let Some(i) = stored {
                let expected = if outsider {
                    &w.other_company
                } else {
                    &w.company
                };
                assert_eq!(i.company_id.as_str(), expected, "{what}: invited into");
            }
        }
        Route::Resend => {
            let (id, address, link) = w.invitation("resent").await;
            let before = invitation(app, &address).expect("invitation").token_hash;
            let r = who
                .post_form(&format!("/settings/invitations/{id}/resend"), &[])
                .await;
            assert_reply(&what, want, &r);
            let after = invitation(app, &address).expect("invitation").token_hash;
            assert_eq!(before != after, here, "{what}: a new secret");
            let old = app.browser().get(&link_path(&link)).await;
            assert_eq!(old.status, if here { 404 } else { 200 }, "{what}: old link");
            if here {
                let new = mailed_invite_link(app, &address);
                assert_ne!(new, link);
                assert_eq!(app.browser().get(&link_path(&new)).await.status, 200);
            }
        }
        Route::Revoke => {
            let (id, address, link) = w.invitation("revoked").await;
            let r = who
                .post_form(&format!("/settings/invitations/{id}/revoke"), &[])
                .await;
            assert_reply(&what, want, &r);
            let i = invitation(app, &address).expect("invitation");
            assert_eq!(i.revoked_at.is_some(), here, "{what}: revoked");
            let opened = app.browser().get(&link_path(&link)).await;
            assert_eq!(opened.status, if here { 410 } else { 200 }, "{what}: link");
        }
        Route::Company => {
            let r = who.get("/settings/company").await;
            assert_reply(&what, want, &r);
            let a_name = company(app, &w.company).name;
            let b_name = company(app, &w.other_company).name;
            // The company's name field, not the top bar (which names the viewer's company on
            // every page, the 403 page included).
            let field = |name: &str| format!("value=\"{name}\"");
            assert_eq!(
                r.body.contains(&field(&a_name)),
                here,
                "{what}: shows A's settings"
            );
            assert_eq!(
                r.body.contains(&field(&b_name)),
                outsider,
                "{what}: shows B's settings"
            );
        }
        Route::SaveCompany => {
            let before_a = company(app, &w.company);
            let before_b = company(app, &w.other_company);
            let name = format!("Renamed by {actor:?}");
            let r = who
                .post_form(
                    "/settings/company",
                    &[("name", name.as_str()), ("allowed_domains", "")],
                )
                .await;
            assert_reply(&what, want, &r);
            let after_a = company(app, &w.company);
            let after_b = company(app, &w.other_company);
            assert_eq!(
                after_a.name,
                if here { name.clone() } else { before_a.name },
                "{what}: A's name"
            );
            assert_eq!(
                after_b.name,
                if outsider { name } else { before_b.name },
                "{what}: B's name"
            );
            assert!(!after_a.require_invitation && after_a.allowed_domains.is_empty());
        }
        Route::OffboardPreview => {
            let (leaver, address) = w.fresh("Previewed", "member").await;
            let r = who
                .get(&format!("/settings/members/{leaver}/offboard"))
                .await;
            assert_reply(&what, want, &r);
            assert_eq!(r.body.contains(&address), here, "{what}: names the leaver");
            assert_eq!(
                status_of(app, &leaver),
                "active",
                "{what}: a preview changes nothing"
            );
        }
        Route::Offboard => {
            let (leaver, address) = w.fresh("Leaver", "member").await;
            let r = who
                .post_form(
                    &format!("/settings/members/{leaver}/offboard"),
                    &[("transfer_to", w.owner.id.as_str())],
                )
                .await;
            assert_reply(&what, want, &r);
            assert_eq!(
                status_of(app, &leaver),
                if here { "removed" } else { "active" },
                "{what}: leaver's status"
            );
            assert_eq!(
                events_about(app, &w.company, "member.offboarded", &address),
                usize::from(here),
                "{what}: member.offboarded events"
            );
        }
        Route::Audit => {
            let r = who.get("/settings/audit").await;
            assert_reply(&what, want, &r);
            assert_eq!(r.body.contains(&w.member.email), here, "{what}: A's events");
            assert_eq!(
                r.body.contains(&w.outsider.email),
                outsider,
                "{what}: B's events"
            );
            assert_eq!(r.body.contains("data-testid=\"audit-table\""), granted);
        }
        Route::AuditCsv => {
            let r = who.get("/settings/audit.csv").await;
            assert_reply(&what, want, &r);
            assert_eq!(
                r.content_type().starts_with("text/csv"),
                granted,
                "{what}: {}",
                r.content_type()
            );
            assert_eq!(
                r.body.starts_with(CSV_HEADER),
                granted,
                "{what}: CSV header"
            );
            assert_eq!(r.body.contains(&w.member.email), here, "{what}: A's events");
            assert_eq!(
                r.body.contains(&w.outsider.email),
                outsider,
                "{what}: B's events"
            );
        }
        Route::TransferOwnership => {
            let (target, _) = w.fresh("Heir", "admin").await;
            let before = all_roles(app);
            let r = who
                .post_form(
                    "/settings/company/transfer-ownership",
                    &[("user_id", target.as_str()), ("password", PASSWORD)],
                )
                .await;
            assert_reply(&what, want, &r);
            if here {
                assert_eq!(role_of(app, &target), "owner", "{what}: the new owner");
                assert_eq!(role_of(app, &w.owner.id), "admin", "{what}: the old owner");
                assert_eq!(
                    company_events(app, &w.company, "ownership.transferred").len(),
                    1
                );
            } else {
                assert_eq!(all_roles(app), before, "{what}: no role changed");
            }
        }
    }
}

#[actix_web::test]
async fn settings_routes_by_role_matrix() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    for (route, wants) in MATRIX {
        for (actor, want) in ACTORS.into_iter().zip(wants) {
            matrix_cell(&w, route, actor, want).await;
        }
    }
    // The people the cells acted as are untouched: still there, still signed in.
    for p in [&w.member, &w.admin, &w.outsider] {
        assert_eq!(status_of(&app, &p.id), "active");
        assert!(
            p.browser.is_signed_in().await,
            "{} still signed in",
            p.email
        );
    }
    assert_eq!(role_of(&app, &w.member.id), "member");
    assert_eq!(role_of(&app, &w.outsider.id), "admin");
}
