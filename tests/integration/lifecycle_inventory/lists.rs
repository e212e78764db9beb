//! Expiry badges, the sort by expiry and the collapsed "Inactive" section on the credential
//! lists, and the dashboard's list of credentials expiring soon.

use crate::helpers::fixtures::{key_id_of, sign_up, signed_in_user};
use crate::helpers::time::days_pass;
use crate::helpers::{email, RequestHelper, TestApp};

use super::attr;

/// (data-token-id, badge level, badge text) of each token row in `section` of the page, in order.
fn token_rows(html: &str, row_testid: &str, id_attr: &str) -> Vec<(String, String, String)> {
    html.split(&format!("<tr data-testid=\"{row_testid}\""))
        .skip(1)
        .map(|chunk| {
            let row = chunk
                .get(..chunk.find("</tr>").expect("row end"))
                .expect("row");
            let tag = row.get(..row.find('>').expect("tag")).expect("tag");
            let (level, text) = match row.find("data-testid=\"expiry-badge\"") {
                Some(at) => {
                    let badge = row.get(at..).expect("badge");
                    let open = badge.find('>').expect("badge open") + 1;
                    let close = badge.find("</span>").expect("badge close");
                    let before = row.get(..at).expect("before");
                    let start = before.rfind("<span").expect("badge tag");
                    let badge_tag = row.get(start..at + open).expect("badge tag");
                    (
                        attr(badge_tag, "data-level"),
                        badge
                            .get(open..close)
                            .expect("badge text")
                            .trim()
                            .to_owned(),
                    )
                }
                None => (String::new(), String::new()),
            };
            (attr(tag, id_attr), level, text)
        })
        .collect()
}

/// The page split at the "Inactive" disclosure: (before it, inside it).
fn split_inactive(html: &str) -> (&str, &str) {
    match html.find("data-testid=\"inactive-credentials\"") {
        Some(at) => {
            let (active, rest) = html.split_at(at);
            // The section ends the list (the rows hold disclosures of their own).
            let end = rest.find("</section>").expect("section end");
            (active, rest.get(..end).expect("inactive"))
        }
        None => (html, ""),
    }
}

#[actix_web::test]
async fn token_badges_warn_as_expiry_nears_and_ended_tokens_move_to_inactive() {
    let app = TestApp::spawn().await;
    let owner = sign_up(&app, "Badge GmbH", "Bea Badge", &email("bea")).await;
    let b = &owner.browser;
    b.create_pat("month", "30").await;
    b.create_pat("forever", "none").await;
    b.create_pat("quarter", "90").await;
    b.create_pat("week", "7").await;
    b.create_pat("to revoke", "60").await;
    let id = |name: &str| crate::helpers::db::pat_id(&app, &owner.id, name);
    let r = b
        .post_form(
            &format!("/integrations/api/tokens/{}/revoke", id("to revoke")),
            &[],
        )
        .await;
    assert_eq!(r.status, 303);

    let page = b.get("/integrations/api").await;
    assert_eq!(page.status, 200);
    let (active, inactive) = split_inactive(&page.body);
    let rows = token_rows(active, "token-row", "data-token-id");
    let order: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
    assert_eq!(
        order,
        [id("week"), id("month"), id("quarter"), id("forever")],
        "soonest expiry first, no expiry last"
    );
    let badges: Vec<(String, String)> = rows.iter().map(|r| (r.1.clone(), r.2.clone())).collect();
    assert_eq!(
        badges,
        [
            ("warning".to_owned(), "expires in 7 days".to_owned()),
            ("neutral".to_owned(), "expires in 30 days".to_owned()),
            ("neutral".to_owned(), "expires in 90 days".to_owned()),
            ("neutral".to_owned(), "no expiry".to_owned()),
        ]
    );
    // The revoked one sits in the collapsed section, which works without script.
    assert!(page
        .body
        .contains("<details class=\"inactive\" data-testid=\"inactive-credentials\">"));
    let ended = token_rows(inactive, "token-row", "data-token-id");
    assert_eq!(ended.len(), 1);
    assert_eq!(ended[0].0, id("to revoke"));

    // 20 days on: the month token has 10 days left (amber), the week one has expired.
    days_pass(&app, 20);
    let page = b.get("/integrations/api").await;
    let (active, inactive) = split_inactive(&page.body);
    let rows = token_rows(active, "token-row", "data-token-id");
    let month = rows.iter().find(|r| r.0 == id("month")).expect("month row");
    assert_eq!(
        (month.1.as_str(), month.2.as_str()),
        ("warning", "expires in 10 days")
    );
    assert_eq!(rows.first().map(|r| r.0.clone()), Some(id("month")));
    let ended: Vec<String> = token_rows(inactive, "token-row", "data-token-id")
        .into_iter()
        .map(|r| {
            if r.0 == id("week") {
                assert_eq!((r.1.as_str(), r.2.as_str()), ("expired", "expired"));
            }
            r.0
        })
        .collect();
    assert!(
        ended.contains(&id("week")) && ended.contains(&id("to revoke")),
        "{ended:?}"
    );
    assert!(page.body.contains("Inactive (2)"));

    // 8 more days: 2 days left, red.
    days_pass(&app, 8);
    let page = b.get("/integrations/api").await;
    let rows = token_rows(split_inactive(&page.body).0, "token-row", "data-token-id");
    let month = rows.iter().find(|r| r.0 == id("month")).expect("month row");
    assert_eq!(
        (month.1.as_str(), month.2.as_str()),
        ("urgent", "expires in 2 days")
    );
}

#[actix_web::test]
async fn api_key_badges_and_the_inactive_section() {
    let app = TestApp::spawn().await;
    let owner = sign_up(&app, "Key Badge AG", "Kai Key", &email("kai")).await;
    let b = &owner.browser;
    let month = key_id_of(&b.create_api_key("month", "30").await);
    let week = key_id_of(&b.create_api_key("week", "7").await);
    let paused = key_id_of(&b.create_api_key("paused", "60").await);
    let gone = key_id_of(&b.create_api_key("gone", "90").await);
    assert_eq!(
        b.post_form(&format!("/admin/api-keys/{paused}/deactivate"), &[])
            .await
            .status,
        303
    );
    assert_eq!(
        b.post_form(&format!("/admin/api-keys/{gone}/revoke"), &[])
            .await
            .status,
        303
    );

    let page = b.get("/admin/api-keys").await;
    let (active, inactive) = split_inactive(&page.body);
    let rows = token_rows(active, "key-row", "data-key-id");
    let order: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
    assert_eq!(
        order,
        [week.clone(), month.clone(), paused.clone()],
        "deactivated stays, by expiry"
    );
    assert_eq!(rows[0].1, "warning");
    assert_eq!(rows[0].2, "expires in 7 days");
    assert!(active.contains(&format!(
        "data-key-id=\"{paused}\" data-status=\"deactivated\""
    )));
    let ended = token_rows(inactive, "key-row", "data-key-id");
    assert_eq!(
        ended.iter().map(|r| r.0.clone()).collect::<Vec<_>>(),
        [gone]
    );

    days_pass(&app, 5);
    let page = b.get("/admin/api-keys").await;
    let rows = token_rows(split_inactive(&page.body).0, "key-row", "data-key-id");
    assert_eq!(
        (rows[0].1.as_str(), rows[0].2.as_str()),
        ("urgent", "expires in 2 days")
    );
}

#[actix_web::test]
async fn the_dashboard_lists_what_expires_soon_to_the_right_people() {
    let app = TestApp::spawn().await;
    let owner = sign_up(&app, "Dash KG", "Dora Dash", &email("dora")).await;
    let long_key = owner.browser.create_api_key("Long key", "90").await;
    let member = signed_in_user(&app, &long_key, "Max", "member").await;
    let admin = signed_in_user(&app, &long_key, "Ari", "admin").await;

    // Nothing expires soon yet: empty states.
    let dash = owner.browser.get("/dashboard").await;
    assert!(
        dash.body.contains("data-testid=\"expiring-tokens-empty\""),
        "{}",
        dash.body
    );
    assert!(dash.body.contains("data-testid=\"expiring-keys-empty\""));

    member.browser.create_pat("Max weekly", "7").await;
    member.browser.create_pat("Max monthly", "30").await;
    owner.browser.create_pat("Dora daily", "7").await;
    let short_key = key_id_of(&owner.browser.create_api_key("Short key", "7").await);
    let weekly = crate::helpers::db::pat_id(&app, &member.id, "Max weekly");

    // The member: their own soon-expiring token with a regenerate link; no company keys.
    let dash = member.browser.get("/dashboard").await;
    assert_eq!(dash.status, 200);
    assert!(dash.body.contains("Max weekly"));
    assert!(!dash.body.contains("Max monthly"), "30 days is not soon");
    assert!(!dash.body.contains("Dora daily"), "only one's own tokens");
    assert!(dash.body.contains(&format!(
        "href=\"/integrations/api/tokens/{weekly}/regenerate\""
    )));
    assert!(!dash.body.contains("Short key") && !dash.body.contains("expiring-keys"));
    assert!(dash.body.contains("data-testid=\"expiry-badge\""));

    // The admin: no token of their own expires, but the company key does.
    let dash = admin.browser.get("/dashboard").await;
    assert!(dash.body.contains("data-testid=\"expiring-tokens-empty\""));
    assert!(dash.body.contains("Short key"));
    assert!(dash
        .body
        .contains(&format!("href=\"/admin/api-keys/{short_key}/regenerate\"")));
    assert!(!dash.body.contains("Long key"), "90 days is not soon");
    assert!(
        !dash.body.contains("Max weekly"),
        "not other people's tokens"
    );

    // The owner: their token and the key.
    let dash = owner.browser.get("/dashboard").await;
    assert!(dash.body.contains("Dora daily") && dash.body.contains("Short key"));

    // Once expired, they leave the list.
    days_pass(&app, 8);
    let dash = owner.browser.get("/dashboard").await;
    assert!(!dash.body.contains("Dora daily") && !dash.body.contains("Short key"));
    // And 76 days later the long key is due: now it is listed.
    days_pass(&app, 76);
    let dash = admin.browser.get("/dashboard").await;
    assert!(dash.body.contains("Long key"), "{}", dash.body);
}
