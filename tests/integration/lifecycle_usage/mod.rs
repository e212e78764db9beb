//! Credential usage (issue 11, §5 and §7): `/v4` requests are counted per credential, day and
//! outcome in memory and written in batches that add up (across flushes and instances, and at
//! a graceful shutdown); each credential's detail page charts them and lists the last five
//! addresses; the offboarding preview and the successor's mail say which integrations stop.

use std::net::IpAddr;

use meetergo_console::db::models::{daily_since, CredentialIp};
use reqwest::redirect::Policy;

use crate::helpers::db::pat_id;
use crate::helpers::fixtures::{key_id_of, sign_up, signed_in_user, wait_for_mails};
use crate::helpers::html::testid_text;
use crate::helpers::{email, RequestHelper, TempDir, TestApp, TokenUser};

const MISSING_MEETING_TYPE: &str = "/v4/meeting-type/00000000-0000-4000-8000-000000000000";

/// The `data-<outcome>` counts of the detail page's total row: (2xx, 4xx, 429).
fn totals(html: &str) -> (u64, u64, u64) {
    let marker = "data-testid=\"usage-total\"";
    let at = html
        .find(marker)
        .unwrap_or_else(|| panic!("no usage total in {html}"));
    let row = &html[at..at + html[at..].find('>').expect("end of the row tag")];
    let attr = |name: &str| -> u64 {
        let key = format!("data-{name}=\"");
        let start = row.find(&key).expect("attribute") + key.len();
        row[start..start + row[start..].find('"').unwrap()]
            .parse()
            .unwrap()
    };
    (attr("2xx"), attr("4xx"), attr("429"))
}

/// The chart: present, an `<svg>` whose tags all close in order, with a title and no script.
fn assert_well_formed_chart(html: &str) {
    let start = html
        .find("<svg data-testid=\"usage-chart\"")
        .expect("the chart");
    let end = start + html[start..].find("</svg>").expect("the chart closes") + "</svg>".len();
    let svg = &html[start..end];
    assert!(svg.contains("<title id=\"usage-chart-title\">"), "{svg}");
    assert!(svg.contains("<desc id=\"usage-chart-desc\">"), "{svg}");
    assert!(!svg.contains("<script"), "{svg}");
    let mut open: Vec<&str> = Vec::new();
    let mut rest = svg;
    while let Some(lt) = rest.find('<') {
        let gt = lt + rest[lt..].find('>').expect("every tag ends");
        let tag = &rest[lt + 1..gt];
        rest = &rest[gt + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(
                open.pop(),
                Some(name.trim()),
                "tags close in order in {svg}"
            );
        } else if !tag.ends_with('/') {
            let name = tag.split_whitespace().next().expect("a tag name");
            open.push(name);
        }
    }
    assert!(open.is_empty(), "unclosed {open:?} in {svg}");
}

fn ips_listed(html: &str) -> Vec<String> {
    html.match_indices("data-testid=\"usage-ip\" data-ip=\"")
        .map(|(at, m)| {
            let rest = &html[at + m.len()..];
            rest[..rest.find('"').unwrap()].to_owned()
        })
        .collect()
}

/// A caller with this credential whose connections come from `ip` (any 127.x.y.z).
fn token_from(app: &TestApp, secret: &str, ip: &str) -> TokenUser {
    let ip: IpAddr = ip.parse().unwrap();
    let http = reqwest::Client::builder()
        .local_address(ip)
        .redirect(Policy::none())
        .build()
        .unwrap();
    TokenUser::new(&app.address, http, secret)
}

async fn calls(caller: &TokenUser, path: &str, n: usize, want: u16) {
    for i in 0..n {
        let r = caller.get(path).await;
        assert_eq!(r.status, want, "call {i} of {path}: {}", r.body);
    }
}

#[actix_web::test]
async fn the_detail_page_charts_requests_by_outcome_and_flushes_add_up() {
    let app = TestApp::spawn().await;
    let owner = sign_up(&app, "Usage", "Ula Usage", &email("ula")).await;
    let pat = owner.browser.create_pat("CRM sync", "30").await;
    let id = pat_id(&app, &owner.id, "CRM sync");
    let page = format!("/integrations/api/tokens/{id}");

    // Never used: the empty state, no chart.
    let before = owner.browser.get(&page).await;
    assert_eq!(before.status, 200, "{}", before.body);
    assert!(before.body.contains("data-testid=\"usage-empty\""));
    assert!(!before.body.contains("usage-chart"));
    assert_eq!(
        testid_text(&before.body, "credential-name").as_deref(),
        Some("CRM sync")
    );
    // The list links the name to this page.
    let list = owner.browser.get("/integrations/api").await.body;
    assert!(list.contains(&format!("href=\"{page}\"")), "{list}");

    let token = app.token(&pat);
    calls(&token, "/v4/user/me", 3, 200).await;
    calls(&token, MISSING_MEETING_TYPE, 1, 404).await;
    // Not attributed: no valid credential, or a route that never asks for one.
    calls(&app.token("rgo-not-a-real-token"), "/v4/user/me", 2, 401).await;
    assert_eq!(app.usage.pending_requests(), 4);
    assert_eq!(app.flush_usage().await, 4);

    let html = owner.browser.get(&page).await.body;
    assert_eq!(totals(&html), (3, 1, 0));
    assert_well_formed_chart(&html);
    let today = app.clock.now().date().to_string();
    assert!(html.contains(&format!("data-testid=\"usage-day\" data-day=\"{today}\"")));
    assert_eq!(ips_listed(&html), vec!["127.0.0.1".to_owned()]);

    // A second flush adds to the first.
    calls(&token, "/v4/user/me", 2, 200).await;
    calls(&token, MISSING_MEETING_TYPE, 1, 404).await;
    assert_eq!(app.flush_usage().await, 3);
    let html = owner.browser.get(&page).await.body;
    assert_eq!(totals(&html), (5, 2, 0));

    // A new day is a new bar; the old day stays within the 30 days shown.
    app.clock.advance(chrono::Duration::days(1));
    calls(&token, "/v4/user/me", 1, 200).await;
    app.flush_usage().await;
    let html = owner.browser.get(&page).await.body;
    assert_eq!(totals(&html), (6, 2, 0));
    assert_eq!(html.matches("data-testid=\"usage-day\"").count(), 2);
    // Past 30 days the first day drops out of the chart.
    app.clock.advance(chrono::Duration::days(29));
    let html = owner.browser.get(&page).await.body;
    assert_eq!(totals(&html), (1, 0, 0));
}

#[actix_web::test]
async fn rate_limited_requests_count_as_429_on_the_api_key_page() {
    let app = TestApp::spawn_with(|s| {
        s.api_rate_limit_per_minute = 3;
        s.api_rate_limit_burst = 3;
    })
    .await;
    let owner = sign_up(&app, "Limited", "Lim Ited", &email("lim")).await;
    let key = owner.browser.create_api_key("Production", "30").await;
    let key_id = key_id_of(&key);
    let caller = app.token(&key);
    calls(&caller, "/v4/user/me", 2, 200).await;
    calls(&caller, MISSING_MEETING_TYPE, 1, 400).await;
    calls(&caller, "/v4/user/me", 2, 429).await;
    app.flush_usage().await;

    let page = format!("/admin/api-keys/{key_id}");
    let r = owner.browser.get(&page).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(totals(&r.body), (2, 1, 2));
    assert_well_formed_chart(&r.body);
    assert!(r.body.contains("data-outcome=\"429\""));
    let list = owner.browser.get("/admin/api-keys").await.body;
    assert!(list.contains(&format!("href=\"{page}\"")));
}

#[actix_web::test]
async fn the_pages_are_for_the_owner_of_the_token_and_for_admins_of_the_key() {
    let app = TestApp::spawn().await;
    let owner = sign_up(&app, "Private", "Pia Private", &email("pia")).await;
    let key = owner.browser.create_api_key("Team key", "30").await;
    let member = signed_in_user(&app, &key, "Max", "member").await;
    let admin = signed_in_user(&app, &key, "Ada", "admin").await;
    member.browser.create_pat("mine", "30").await;
    let theirs = pat_id(&app, &member.id, "mine");

    let path = format!("/integrations/api/tokens/{theirs}");
    assert_eq!(member.browser.get(&path).await.status, 200);
    // Another member's token, even for the owner of the company: not found.
    assert_eq!(owner.browser.get(&path).await.status, 404);
    assert_eq!(admin.browser.get(&path).await.status, 404);
    let unknown = "/integrations/api/tokens/00000000-0000-4000-8000-000000000000";
    assert_eq!(member.browser.get(unknown).await.status, 404);

    let key_page = format!("/admin/api-keys/{}", key_id_of(&key));
    assert_eq!(admin.browser.get(&key_page).await.status, 200);
    assert_eq!(member.browser.get(&key_page).await.status, 403);
    // Another company's admin does not find it.
    let other = sign_up(&app, "Other", "Oz Other", &email("oz")).await;
    assert_eq!(other.browser.get(&key_page).await.status, 404);
}

#[actix_web::test]
async fn two_instances_flushing_into_one_database_add_up() {
    let first = TestApp::spawn().await;
    let second =
        TestApp::spawn_on(TempDir::new(), first.settings.database_url.clone(), |_| {}).await;
    let owner = sign_up(&first, "Twins", "Tim Twin", &email("tim")).await;
    let pat = owner.browser.create_pat("shared", "30").await;
    let id = pat_id(&first, &owner.id, "shared");
    calls(&first.token(&pat), "/v4/user/me", 3, 200).await;
    calls(&second.token(&pat), "/v4/user/me", 4, 200).await;
    calls(&second.token(&pat), MISSING_MEETING_TYPE, 2, 404).await;
    let (a, b) = tokio::join!(first.flush_usage(), second.flush_usage());
    assert_eq!((a, b), (3, 6));
    let html = owner
        .browser
        .get(&format!("/integrations/api/tokens/{id}"))
        .await
        .body;
    assert_eq!(totals(&html), (7, 2, 0));
}

#[actix_web::test]
async fn the_last_five_distinct_addresses_latest_first() {
    let app = TestApp::spawn().await;
    let owner = sign_up(&app, "Roaming", "Rob Roam", &email("rob")).await;
    let pat = owner.browser.create_pat("roaming", "30").await;
    let id = pat_id(&app, &owner.id, "roaming");
    for n in 1..=7 {
        let ip = format!("127.0.0.{n}");
        calls(&token_from(&app, &pat, &ip), "/v4/user/me", 1, 200).await;
        app.clock.advance(chrono::Duration::minutes(1));
    }
    // .2 again, latest of all: listed once, first.
    calls(&token_from(&app, &pat, "127.0.0.2"), "/v4/user/me", 1, 200).await;
    app.flush_usage().await;
    let html = owner
        .browser
        .get(&format!("/integrations/api/tokens/{id}"))
        .await
        .body;
    assert_eq!(
        ips_listed(&html),
        [
            "127.0.0.2",
            "127.0.0.7",
            "127.0.0.6",
            "127.0.0.5",
            "127.0.0.4"
        ]
    );
    let rows = CredentialIp::recent(&mut app.db.conn().unwrap(), &id, 10).unwrap();
    let two = rows.iter().find(|r| r.ip == "127.0.0.2").unwrap();
    assert!(
        two.first_seen < two.last_seen,
        "first and last seen both kept"
    );
}

#[actix_web::test]
async fn a_graceful_shutdown_writes_what_was_counted() {
    let app = TestApp::spawn().await;
    let owner = sign_up(&app, "Leaving", "Lee Ving", &email("lee")).await;
    let pat = owner.browser.create_pat("nightly", "30").await;
    let id = pat_id(&app, &owner.id, "nightly");
    calls(&app.token(&pat), "/v4/user/me", 4, 200).await;
    calls(&app.token(&pat), MISSING_MEETING_TYPE, 1, 404).await;
    assert_eq!(app.usage.pending_requests(), 5);
    app.shut_down().await;
    assert_eq!(app.usage.pending_requests(), 0);
    let since = app.clock.now().date() - chrono::Duration::days(1);
    let mut rows = daily_since(&mut app.db.conn().unwrap(), &id, since).unwrap();
    rows.sort();
    let counts: Vec<(String, i64)> = rows.into_iter().map(|(_, o, n)| (o, n)).collect();
    assert_eq!(counts, [("2xx".to_owned(), 4), ("4xx".to_owned(), 1)]);
}

#[actix_web::test]
async fn offboarding_shows_which_integrations_stop_and_mails_the_successor() {
    let app = TestApp::spawn().await;
    let owner = sign_up(&app, "Handover", "Hana Owner", &email("hana")).await;
    let key = owner.browser.create_api_key("Team key", "30").await;
    let leaver = signed_in_user(&app, &key, "Leo", "admin").await;
    let crm = leaver.browser.create_pat("CRM sync", "30").await;
    leaver.browser.create_pat("Unused script", "30").await;
    let their_key = leaver.browser.create_api_key("Warehouse", "30").await;
    calls(&token_from(&app, &crm, "127.0.0.9"), "/v4/user/me", 2, 200).await;
    calls(&app.token(&their_key), "/v4/user/me", 1, 200).await;
    app.flush_usage().await;
    app.clock.advance(chrono::Duration::hours(2));

    let preview = owner
        .browser
        .get(&format!("/settings/members/{}/offboard", leaver.id))
        .await;
    assert_eq!(preview.status, 200, "{}", preview.body);
    let html = &preview.body;
    let item = |row: &str| row[..row.find("</li>").unwrap()].to_owned();
    let crm_row = html
        .split("data-testid=\"planned-token\"")
        .skip(1)
        .map(item)
        .find(|row| row.contains("CRM sync"))
        .expect("the PAT is listed");
    assert!(crm_row.contains("used 2 hours ago"), "{crm_row}");
    assert!(crm_row.contains("from <span data-testid=\"planned-token-ips\">127.0.0.9</span>"));
    assert!(crm_row.contains("will stop working"));
    let unused = html
        .split("data-testid=\"planned-token\"")
        .skip(1)
        .map(item)
        .find(|row| row.contains("Unused script"))
        .expect("the unused PAT is listed");
    assert!(unused.contains("never used"), "{unused}");
    let key_row = html
        .split("data-testid=\"planned-api-key\"")
        .nth(1)
        .map(item)
        .expect("the key they created is listed");
    assert!(key_row.contains("Warehouse") && key_row.contains("keeps working"));
    assert!(
        key_row.contains("used 2 hours ago</span> from 127.0.0.1"),
        "{key_row}"
    );

    let r = owner
        .browser
        .post_form(
            &format!("/settings/members/{}/offboard", leaver.id),
            &[("transfer_to", owner.id.as_str())],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let mails = wait_for_mails(&app, &owner.email, 1).await;
    let mail = mails
        .iter()
        .find(|m| m.contains("API integration"))
        .expect("the successor is told what stopped");
    assert!(
        mail.contains("CRM sync") && mail.contains("Unused script"),
        "{mail}"
    );
    assert!(mail.contains("never used"), "{mail}");
    assert!(!mail.contains(&crm), "never a secret");
    assert_eq!(app.token(&crm).get("/v4/user/me").await.status, 401);
    assert_eq!(app.token(&their_key).get("/v4/user/me").await.status, 200);
}

#[actix_web::test]
async fn removing_a_user_through_the_api_mails_the_receiver_the_stopped_tokens() {
    let app = TestApp::spawn().await;
    let owner = sign_up(&app, "Removal", "Rhea Owner", &email("rhea")).await;
    let key = owner.browser.create_api_key("HR sync", "30").await;
    let leaver = signed_in_user(&app, &key, "Lou", "member").await;
    let receiver = signed_in_user(&app, &key, "Ria", "member").await;
    leaver.browser.create_pat("Calendar bridge", "30").await;
    let r = app
        .token(&key)
        .acting_as(&owner.id)
        .delete_json(
            &format!("/v4/user/{}", leaver.id),
            &serde_json::json!({"targetUserId": receiver.id}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    let mails = wait_for_mails(&app, &receiver.email, 1).await;
    assert!(
        mails
            .iter()
            .any(|m| m.contains("Calendar bridge") && m.contains("never used")),
        "{mails:?}"
    );
    // Nobody else is told: the owner received nothing of this kind.
    assert!(
        !crate::helpers::fixtures::mails_to_besides_confirmation(&app, &owner.email)
            .iter()
            .any(|m| m.contains("API integration"))
    );
}
