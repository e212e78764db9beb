//! The inventory: who sees it, what it lists, filters, sorting and the CSV export.

use crate::helpers::fixtures::secret_part;
use crate::helpers::html::unescape;
use crate::helpers::time::days_pass;
use crate::helpers::{RequestHelper, TestApp};

use super::{inventory, names, World};

#[actix_web::test]
async fn admins_see_every_members_tokens_and_the_company_keys_but_not_another_company() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;

    for viewer in [&w.owner, &w.admin] {
        let r = viewer.browser.get("/settings/credentials").await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(r.body.contains("data-testid=\"settings-nav-credentials\""));
        let rows = super::rows(&r.body);
        let mut seen = names(&rows);
        seen.sort();
        assert_eq!(
            seen,
            [
                "Abe backup",
                "Ada sync",
                "Mia CRM",
                "Olga forever",
                "Team key"
            ],
            "every member's PAT and the company key, nothing of company B"
        );
        let member_row = rows
            .iter()
            .find(|r| r.name == "Mia CRM")
            .expect("member row");
        assert_eq!(member_row.kind, "pat");
        assert_eq!(member_row.status, "active");
        assert!(
            member_row.person.contains(&w.name_of(&w.member)),
            "{member_row:?}"
        );
        let key_row = rows.iter().find(|r| r.name == "Team key").expect("key row");
        assert_eq!(key_row.kind, "api_key");
        assert!(
            key_row.person.contains(&w.name_of(&w.owner)),
            "creator: {key_row:?}"
        );
        // Names link to the detail pages.
        assert!(member_row.html.contains(&format!(
            "href=\"/integrations/api/tokens/{}\"",
            member_row.id
        )));
        assert!(key_row
            .html
            .contains(&format!("href=\"/admin/api-keys/{}\"", key_row.id)));
        for secret in [
            &w.member_pat,
            &w.admin_pat,
            &w.owner_pat,
            &w.key,
            &w.outsider_pat,
            &w.other_key,
        ] {
            assert!(
                !r.body.contains(secret_part(secret)),
                "no secret on the page"
            );
        }
        assert!(!r.body.contains("Otto secret tool") && !r.body.contains("Outsider key"));
    }

    // Signed-out visitors are sent to sign in.
    let r = app.browser().get("/settings/credentials").await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location(), "/login");
    // Members are refused the page and the export.
    for path in ["/settings/credentials", "/settings/credentials.csv"] {
        let r = w.member.browser.get(path).await;
        assert_eq!(r.status, 403, "member on {path}");
    }
    // The other company's admin sees only its own.
    let theirs = inventory(&w.outsider, "").await;
    let mut seen = names(&theirs);
    seen.sort();
    assert_eq!(seen, ["Otto secret tool", "Outsider key"]);
}

#[actix_web::test]
async fn each_filter_narrows_the_rows() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let sorted = |rows: Vec<super::Row>| {
        let mut n = names(&rows);
        n.sort();
        n
    };

    // Person: the PATs they own and the keys they created.
    let mia = sorted(inventory(&w.owner, &format!("person={}", w.member.id)).await);
    assert_eq!(mia, ["Mia CRM"]);
    let olga = sorted(inventory(&w.owner, &format!("person={}", w.owner.id)).await);
    assert_eq!(olga, ["Olga forever", "Team key"]);

    // Kind.
    assert_eq!(
        sorted(inventory(&w.owner, "kind=api_key").await),
        ["Team key"]
    );
    assert_eq!(
        sorted(inventory(&w.owner, "kind=pat").await),
        ["Abe backup", "Ada sync", "Mia CRM", "Olga forever"]
    );

    // Status: revoked, deactivated, active.
    let r = w
        .admin2
        .browser
        .post_form(
            &format!(
                "/integrations/api/tokens/{}/revoke",
                w.pat(&w.admin2, "Abe backup")
            ),
            &[],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = w
        .owner
        .browser
        .post_form(&format!("/admin/api-keys/{}/deactivate", w.key_id()), &[])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(
        sorted(inventory(&w.owner, "status=revoked").await),
        ["Abe backup"]
    );
    assert_eq!(
        sorted(inventory(&w.owner, "status=deactivated").await),
        ["Team key"]
    );
    assert_eq!(
        sorted(inventory(&w.owner, "status=active").await),
        ["Ada sync", "Mia CRM", "Olga forever"]
    );
    assert!(inventory(&w.owner, "status=expired").await.is_empty());

    // Expiring within N days: only the 7-day token within 10 days; the 30-day ones within 31
    // (not the revoked one, not the one without expiry).
    assert_eq!(
        sorted(inventory(&w.owner, "expiring_within=10").await),
        ["Ada sync"]
    );
    assert_eq!(
        sorted(inventory(&w.owner, "expiring_within=31").await),
        ["Ada sync", "Mia CRM", "Team key"]
    );

    // Unused for N days: nothing is 5 days old yet.
    assert!(inventory(&w.owner, "unused_for=5").await.is_empty());
    days_pass(&app, 6);
    // Mia uses her token now: she is the only one used within the last 5 days.
    let r = app.token(&w.member_pat).get("/v4/user/me").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        sorted(inventory(&w.owner, "unused_for=5").await),
        ["Abe backup", "Ada sync", "Olga forever", "Team key"]
    );
    days_pass(&app, 2);
    // The 7-day token has expired; combined filters narrow together.
    assert_eq!(
        sorted(inventory(&w.owner, "status=expired").await),
        ["Ada sync"]
    );
    assert_eq!(
        sorted(
            inventory(
                &w.owner,
                &format!("status=active&kind=pat&person={}", w.member.id)
            )
            .await
        ),
        ["Mia CRM"]
    );
    // Filters that name nothing valid are ignored, never an error.
    for junk in [
        "status=bogus",
        "kind=x",
        "expiring_within=-3",
        "unused_for=abc",
        "sort=evil&dir=up",
        "person=nobody",
    ] {
        assert_eq!(inventory(&w.owner, junk).await.len(), 5, "{junk}");
    }
}

#[actix_web::test]
async fn sorting_by_each_column_both_ways() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;

    let by_name = names(&inventory(&w.owner, "sort=name&dir=asc").await);
    assert_eq!(
        by_name,
        [
            "Abe backup",
            "Ada sync",
            "Mia CRM",
            "Olga forever",
            "Team key"
        ]
    );
    let mut reversed = by_name.clone();
    reversed.reverse();
    assert_eq!(
        names(&inventory(&w.owner, "sort=name&dir=desc").await),
        reversed
    );

    // Soonest expiry first; no expiry last either way.
    let by_expiry = names(&inventory(&w.owner, "sort=expires&dir=asc").await);
    assert_eq!(by_expiry.first().map(String::as_str), Some("Ada sync"));
    assert_eq!(by_expiry.last().map(String::as_str), Some("Olga forever"));
    let by_expiry_desc = names(&inventory(&w.owner, "sort=expires&dir=desc").await);
    assert_eq!(
        by_expiry_desc.last().map(String::as_str),
        Some("Olga forever")
    );
    assert_eq!(by_expiry_desc.get(3).map(String::as_str), Some("Ada sync"));

    // Creation order: the key came first, the member's token last.
    let by_created = names(&inventory(&w.owner, "sort=created&dir=asc").await);
    assert_eq!(by_created.first().map(String::as_str), Some("Team key"));
    assert_eq!(by_created.last().map(String::as_str), Some("Mia CRM"));
    let newest_first = names(&inventory(&w.owner, "").await);
    assert_eq!(
        newest_first.first().map(String::as_str),
        Some("Mia CRM"),
        "default: newest first"
    );

    // Owner / creator name: Abe, Ada, Mia, then Olga's two.
    let by_owner = inventory(&w.owner, "sort=owner&dir=asc").await;
    let first_owner = &by_owner.first().expect("rows").person;
    assert!(first_owner.starts_with("Abe"), "{first_owner}");
    assert!(by_owner.last().expect("rows").person.starts_with("Olga"));

    // Last used: the one used most recently first when descending; never used last.
    days_pass(&app, 1);
    assert_eq!(
        app.token(&w.admin2_pat).get("/v4/user/me").await.status,
        200
    );
    days_pass(&app, 1);
    assert_eq!(
        app.token(&w.member_pat).get("/v4/user/me").await.status,
        200
    );
    // (The key was used when the fixtures created users through the API.)
    let used = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let by_use = names(&inventory(&w.owner, "sort=last_used&dir=desc").await);
    assert_eq!(
        by_use.get(..3),
        Some(&used(&["Mia CRM", "Abe backup", "Team key"])[..])
    );
    let by_use_asc = names(&inventory(&w.owner, "sort=last_used&dir=asc").await);
    assert_eq!(
        by_use_asc.get(..3),
        Some(&used(&["Team key", "Abe backup", "Mia CRM"])[..])
    );

    // The column headers link to the other direction of the current sort.
    let r = w
        .owner
        .browser
        .get("/settings/credentials?sort=name&dir=asc")
        .await;
    assert!(
        r.body.contains("aria-sort=\"ascending\""),
        "current column marked"
    );
    assert!(
        unescape(&r.body).contains("sort=name&dir=desc"),
        "its link turns it around"
    );
}

#[actix_web::test]
async fn pages_hold_fifty_rows_and_the_filters_carry_over() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    for i in 0..48 {
        w.member
            .browser
            .create_pat(&format!("bulk {i:02}"), "30")
            .await;
    }
    // 4 + 48 PATs and one key: 53 rows, two pages.
    let first = inventory(&w.owner, "sort=name&dir=asc").await;
    assert_eq!(first.len(), 50);
    let second = inventory(&w.owner, "sort=name&dir=asc&page=2").await;
    assert_eq!(second.len(), 3);
    let mut all: Vec<String> = names(&first);
    all.extend(names(&second));
    let mut sorted = all.clone();
    sorted.sort_by_key(|n| n.to_ascii_lowercase());
    assert_eq!(all, sorted, "pages continue the order without overlap");
    all.dedup();
    assert_eq!(all.len(), 53);
    let r = w
        .owner
        .browser
        .get("/settings/credentials?sort=name&dir=asc")
        .await;
    assert!(
        unescape(&r.body).contains("sort=name&dir=asc&page=2"),
        "next page keeps the sort"
    );
    // A page past the end shows the last one.
    assert_eq!(
        inventory(&w.owner, "sort=name&dir=asc&page=999")
            .await
            .len(),
        3
    );
}

#[actix_web::test]
async fn csv_export_follows_the_filters_and_neutralises_formulas() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    w.member
        .browser
        .create_pat("=HYPERLINK(\"http://evil\")", "30")
        .await;
    w.member.browser.create_pat("@SUM(A1), nightly", "30").await;

    let r = w
        .admin
        .browser
        .get(&format!(
            "/settings/credentials.csv?kind=pat&person={}",
            w.member.id
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.content_type().starts_with("text/csv"),
        "{}",
        r.content_type()
    );
    let disposition = r.header("content-disposition").unwrap_or_default();
    assert!(disposition.starts_with("attachment"), "{disposition}");
    assert!(disposition.contains("credentials.csv"));

    let mut reader = csv::Reader::from_reader(r.body.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        header.join(","),
        "kind,owner,owner_email,name,prefix,created,expires,last_used,last_used_ip,status"
    );
    let records: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.expect("record").iter().map(str::to_owned).collect())
        .collect();
    assert_eq!(records.len(), 3, "only the member's PATs: {records:?}");
    let mut cells: Vec<String> = records.iter().map(|r| r[3].clone()).collect();
    cells.sort();
    assert_eq!(
        cells,
        [
            "'=HYPERLINK(\"http://evil\")",
            "'@SUM(A1), nightly",
            "Mia CRM"
        ],
        "formulas neutralised, commas and quotes escaped"
    );
    for record in &records {
        assert_eq!(record[0], "pat");
        assert_eq!(record[2], w.member.email);
        assert_eq!(record[9], "active");
        assert!(record[4].starts_with("rgo-"), "a prefix: {}", record[4]);
    }
    // The raw text quotes the cell with the comma and doubles the quotes.
    assert!(
        r.body.contains("\"'=HYPERLINK(\"\"http://evil\"\")\""),
        "{}",
        r.body
    );
    assert!(
        !r.body.contains(secret_part(&w.member_pat)),
        "no secret in the export"
    );

    // Without filters: every credential of the company and only those.
    let all = w.owner.browser.get("/settings/credentials.csv").await;
    let lines = all.body.lines().count();
    assert_eq!(lines, 1 + 7, "{}", all.body);
    assert!(!all.body.contains("Otto"), "no other company");
    // The page links to the export with its filters.
    let page = w.owner.browser.get("/settings/credentials?kind=pat").await;
    assert!(
        unescape(&page.body).contains("/settings/credentials.csv?person=&kind=pat"),
        "export link keeps the filter"
    );
}
