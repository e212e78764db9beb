//! The every-page crawl (issue 14): a company with something in every table, then every page
//! of the console as owner, admin, member and a signed-out visitor, at laptop and phone width.
//! On each: axe-core's WCAG 2.1 AA rules find nothing, and the page is no wider than the
//! viewport. All failures are collected and reported together, so one run shows everything.

use fantoccini::Client;

use crate::helpers::chrome::{
    axe_violations, chromium, click, fill, horizontal_overflow, path, set_width, wait_for_path,
    DESKTOP, PHONE,
};
use crate::helpers::db::pat_id;
use crate::helpers::db::set_password;
use crate::helpers::fixtures::{api_user, key_id_of, mailed_invite_link, sign_up};
use crate::helpers::html::link_path;
use crate::helpers::{email, random_id, Person, RequestHelper, TestApp, PASSWORD};

/// Who visits, signed in with which address (None: a signed-out visitor).
struct Visit {
    role: &'static str,
    address: Option<String>,
    pages: Vec<String>,
}

/// What the crawl needs to name: the ids of things the seeded company holds.
struct Company {
    owner: Person,
    admin: Person,
    member: Person,
    api_key_id: String,
    webhook_id: String,
    leaver_id: String,
    invitation_path: String,
}

/// A person with a full name, made through `/v4/user`, given the test password and signed in
/// from an HTTP browser of their own (which seeds their tokens).
async fn colleague(app: &TestApp, key: &str, name: &str, role: &str) -> Person {
    let address = email(&name.to_lowercase().replace(' ', "."));
    let id = api_user(app, key, name, &address, role).await;
    set_password(app, &id);
    let browser = app.browser();
    browser.sign_in(&address).await;
    Person {
        id,
        email: address,
        company_id: String::new(),
        browser,
    }
}

/// Owner, admin and two members; tokens for each, an API key, a pending invitation, a removed
/// member, a webhook with deliveries, and the audit events all of that leaves.
async fn seed(app: &TestApp) -> Company {
    let owner = sign_up(
        app,
        "Crawl Labs GmbH",
        "Olivia Owner",
        &email("crawl-owner"),
    )
    .await;
    let key = owner.browser.create_api_key("Payroll sync", "90").await;
    owner.browser.create_api_key("Old importer", "30").await;
    let admin = colleague(app, &key, "Adam Admin", "admin").await;
    let member = colleague(app, &key, "Mia Member", "member").await;
    for person in [&owner, &admin, &member] {
        person.browser.create_pat("CRM sync", "30").await;
        person.browser.create_pat("Calendar export", "90").await;
    }
    // A revoked token, so the inactive list has something in it.
    let old = owner.browser.create_pat("Retired script", "7").await;
    let old_id = pat_id(app, &owner.id, "Retired script");
    let r = owner
        .browser
        .post_form(&format!("/integrations/api/tokens/{old_id}/revoke"), &[])
        .await;
    assert!(r.status < 400, "revoking a token: {}", r.status);
    drop(old);
    let r = owner
        .browser
        .post_form(
            "/settings/webhooks/new",
            &[
                ("endpoint", "https://hooks.example.com/console"),
                ("description", "CRM sync"),
                ("event_types", "new_employee"),
                ("event_types", "employee_offboarded"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "adding a webhook: {}", r.body);
    let webhook_id = r
        .body
        .split("data-webhook-id=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the new webhook's row")
        .to_owned();
    // A delivery in the log: the endpoint's test event.
    let r = owner
        .browser
        .post_form(&format!("/settings/webhooks/{webhook_id}/test"), &[])
        .await;
    assert!(r.status < 400, "sending a test event: {}", r.status);
    let invitee = email("crawl-invitee");
    owner.browser.invite(&invitee, "member").await;
    let invitation_path = link_path(&mailed_invite_link(app, &invitee));
    // Someone who left: offboarded, their things handed to the owner.
    let gone_id = api_user(app, &key, "Greta Gone", &email("greta"), "member").await;
    let r = owner
        .browser
        .post_form(
            &format!("/settings/members/{gone_id}/offboard"),
            &[("transfer_to", owner.id.as_str())],
        )
        .await;
    assert!(
        r.status < 400,
        "offboarding a member: {} {}",
        r.status,
        r.body
    );
    // Someone about to leave, for the offboarding preview.
    let leaver_id = api_user(app, &key, "Leo Leaving", &email("leo"), "member").await;
    // A failed sign-in in the audit log.
    let r = app.browser().login(&member.email, "not the password").await;
    assert!(r.status >= 400, "a wrong password is refused");
    Company {
        api_key_id: key_id_of(&key),
        owner,
        admin,
        member,
        webhook_id,
        leaver_id,
        invitation_path,
    }
}

/// Every page a signed-in person can open, with the ids of `who`'s own token.
fn signed_in_pages(app: &TestApp, c: &Company, who: &Person) -> Vec<String> {
    let token = pat_id(app, &who.id, "CRM sync");
    let (key, hook) = (&c.api_key_id, &c.webhook_id);
    let mut pages: Vec<String> = [
        "/dashboard",
        "/profile",
        "/profile/password",
        "/profile/email",
        "/profile/two-factor",
        "/profile/sessions",
        "/integrations",
        "/integrations/api",
        "/admin/api-keys",
        "/settings/members",
        "/settings/audit",
        "/settings/credentials",
        "/settings/company",
        "/settings/sso",
        "/settings/provisioning",
        "/settings/webhooks",
        "/settings/webhooks/new",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    pages.extend([
        format!("/integrations/api/tokens/{token}"),
        format!("/integrations/api/tokens/{token}/regenerate"),
        format!("/admin/api-keys/{key}"),
        format!("/admin/api-keys/{key}/regenerate"),
        format!("/settings/members/{}/offboard", c.leaver_id),
        format!("/settings/credentials/{token}/revoke"),
        format!("/settings/webhooks/{hook}"),
        format!("/settings/webhooks/{hook}/deliveries"),
        format!("/settings/webhooks/{hook}/delete"),
        format!("/settings/webhooks/{hook}/rotate"),
        // The 404 page, signed in.
        format!("/integrations/api/tokens/{}", random_id()),
        "/no-such-page".to_owned(),
    ]);
    pages
}

fn visitor_pages(c: &Company) -> Vec<String> {
    vec![
        "/login".to_owned(),
        "/signup".to_owned(),
        "/password/forgot".to_owned(),
        format!("/password/reset/{}", random_id()),
        c.invitation_path.clone(),
        format!("/invite/{}", random_id()),
        format!("/verify-email/{}", random_id()),
    ]
}

async fn sign_in(c: &Client, app: &TestApp, address: &str) {
    c.delete_all_cookies()
        .await
        .expect("sign the last role out");
    c.goto(&app.url("/login")).await.expect("open /login");
    fill(c, "login-email", address).await;
    fill(c, "login-password", PASSWORD).await;
    click(c, "login-submit").await;
    wait_for_path(c, "/dashboard").await;
}

/// Checks the open page; one line per problem.
async fn check_page(
    c: &Client,
    role: &str,
    width: &str,
    page: &str,
    signed_in: bool,
) -> Vec<String> {
    let mut failures = Vec::new();
    let at = format!("{role}, {width}, {page}");
    if signed_in && path(c).await == "/login" {
        failures.push(format!("{at}: sent to /login (the session was lost)"));
        return failures;
    }
    for violation in axe_violations(c).await {
        failures.push(format!("{at}: axe {violation}"));
    }
    let (too_wide, culprits) = horizontal_overflow(c).await;
    if too_wide > 0 {
        failures.push(format!(
            "{at}: {too_wide}px wider than the viewport; widest: {}",
            culprits.join(", ")
        ));
    }
    failures
}

#[actix_web::test]
async fn every_page_is_accessible_and_fits_a_phone_for_every_role() {
    let app = TestApp::spawn().await;
    let company = seed(&app).await;
    let visits = [
        Visit {
            role: "owner",
            address: Some(company.owner.email.clone()),
            pages: signed_in_pages(&app, &company, &company.owner),
        },
        Visit {
            role: "admin",
            address: Some(company.admin.email.clone()),
            pages: signed_in_pages(&app, &company, &company.admin),
        },
        Visit {
            role: "member",
            address: Some(company.member.email.clone()),
            pages: signed_in_pages(&app, &company, &company.member),
        },
        Visit {
            role: "visitor",
            address: None,
            pages: visitor_pages(&company),
        },
    ];
    let (_driver, c) = chromium().await;
    let mut failures = Vec::new();
    let mut visited = 0;
    for visit in &visits {
        match &visit.address {
            Some(address) => sign_in(&c, &app, address).await,
            None => c.delete_all_cookies().await.expect("sign out"),
        }
        for (width, size) in [("1280", DESKTOP), ("390", PHONE)] {
            set_width(&c, size).await;
            for page in &visit.pages {
                c.goto(&app.url(page))
                    .await
                    .unwrap_or_else(|e| panic!("open {page}: {e}"));
                failures
                    .extend(check_page(&c, visit.role, width, page, visit.address.is_some()).await);
                visited += 1;
            }
        }
    }
    c.close().await.expect("close the browser session");
    assert!(visited > 100, "the crawl visited {visited} pages");
    assert!(
        failures.is_empty(),
        "{} problems on {visited} page visits:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
