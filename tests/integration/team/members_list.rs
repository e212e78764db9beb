//! The members list: 25 people a page, and a search by name or email that keeps its query
//! across pages.

use serde_json::json;

use crate::helpers::fixtures::sign_up;
use crate::helpers::html::{member_row, member_rows};
use crate::helpers::{email, Browser, RequestHelper, TestApp};

/// "Crowd Co": its owner and 30 people named Zed Number01 … Number30, created through the API.
/// Returns the owner's browser, the owner's email and the 30 emails in order.
async fn crowd(app: &TestApp) -> (Browser, String, Vec<String>) {
    let owner_email = email("olga");
    let owner = sign_up(app, "Crowd Co", "Olga Owner", &owner_email).await;
    let key = owner.browser.create_api_key("Bulk", "30").await;
    let api = app.token(&key);
    let mut emails = Vec::new();
    for i in 1..=30 {
        let address = email(&format!("zed{i:02}"));
        let r = api
            .post_json(
                "/v4/user",
                &json!({"email": address, "givenName": "Zed", "familyName": format!("Number{i:02}")}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        emails.push(address);
    }
    (owner.browser, owner_email, emails)
}

#[actix_web::test]
async fn members_list_shows_25_people_a_page() {
    let app = TestApp::spawn().await;
    let (owner, owner_email, emails) = crowd(&app).await;

    // 31 people: 25 on the first page, then a next page with the rest.
    let first = owner.get("/settings/members").await.body;
    assert!(first.contains("<span class=\"muted\" data-testid=\"people-count\">(31)</span>"));
    assert_eq!(member_rows(&first), 25);
    assert!(first.contains("Page 1 of 2"));
    assert!(first.contains("data-testid=\"next-page\""));
    assert!(first.contains("href=\"/settings/members?q=&amp;page=2\""));
    let second = owner.get("/settings/members?q=&page=2").await.body;
    assert_eq!(member_rows(&second), 6);
    assert!(second.contains("Page 2 of 2"));
    assert!(!second.contains("data-testid=\"next-page\""));
    assert!(second.contains("rel=\"prev\""));
    // Each person on exactly one page.
    for address in emails.iter().chain([&owner_email]) {
        let on_first = member_row(&first, address).is_some();
        let on_second = member_row(&second, address).is_some();
        assert!(on_first ^ on_second, "{address} on exactly one page");
    }
}

#[actix_web::test]
async fn members_list_searches_by_name_and_email_across_pages() {
    let app = TestApp::spawn().await;
    let (owner, owner_email, emails) = crowd(&app).await;

    // Search by name (any case) and by email narrows.
    let r = owner.get("/settings/members?q=number07").await.body;
    assert_eq!(member_rows(&r), 1);
    assert!(member_row(&r, &emails[6]).is_some());
    let r = owner
        .get(&format!("/settings/members?q={}", emails[11]))
        .await
        .body;
    assert_eq!(member_rows(&r), 1);
    assert!(member_row(&r, &emails[11]).is_some());
    let r = owner.get("/settings/members?q=OLGA").await.body;
    assert_eq!(member_rows(&r), 1);
    assert!(member_row(&r, &owner_email).is_some());
    let r = owner.get("/settings/members?q=Number1").await.body;
    assert_eq!(member_rows(&r), 10, "Number10 … Number19");
    assert!(r.contains("<span class=\"muted\" data-testid=\"people-count\">(10)</span>"));
    assert!(!r.contains("data-testid=\"next-page\""));
    // A search that spans pages keeps the query in the page links.
    let r = owner.get("/settings/members?q=ZED").await.body;
    assert_eq!(member_rows(&r), 25);
    assert!(r.contains("<span class=\"muted\" data-testid=\"people-count\">(30)</span>"));
    assert!(r.contains("href=\"/settings/members?q=ZED&amp;page=2\""));
    assert!(member_row(&r, &owner_email).is_none());
    let r = owner.get("/settings/members?q=ZED&page=2").await.body;
    assert_eq!(member_rows(&r), 5);
    let r = owner.get("/settings/members?q=nobody-like-this").await.body;
    assert_eq!(member_rows(&r), 0);
    assert!(r.contains("data-testid=\"members-empty\""));
}
