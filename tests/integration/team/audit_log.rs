//! The audit log: what it records, its filters, its CSV export, and no secret in any of it.

use diesel::prelude::*;
use meetergo_console::db::schema::audit_events;

use crate::helpers::db::conn;
use crate::helpers::html::{link_path, testid_text, token_of, unescape};
use crate::helpers::{email, RequestHelper, TestApp, PASSWORD};

use super::{World, CSV_HEADER};

/// The text after `start` up to `end` in `row`, unescaped ("" when `start` is not there).
fn after(row: &str, start: &str, end: &str) -> String {
    row.find(start)
        .and_then(|at| {
            let rest = row.get(at + start.len()..)?;
            rest.get(..rest.find(end)?)
        })
        .map(|s| unescape(s.trim()))
        .unwrap_or_default()
}

/// The audit table rows as values to compare with the export: exact time, actor (name), kind
/// (as stored, from `data-kind`), target (as shown), detail, via (as shown), ip, full user agent.
fn audit_rows(html: &str) -> Vec<Vec<String>> {
    html.split("<tr data-testid=\"audit-row\"")
        .skip(1)
        .map(|chunk| {
            let row = chunk
                .get(..chunk.find("</tr>").expect("row end"))
                .expect("row");
            let text = |id: &str| testid_text(row, id).unwrap_or_default();
            vec![
                after(row, "<time datetime=\"", ">")
                    .split("title=\"")
                    .nth(1)
                    .unwrap_or_default()
                    .trim_end_matches('"')
                    .to_owned(),
                text("audit-actor-name"),
                after(row, " data-kind=\"", "\""),
                text("audit-target"),
                after(
                    row,
                    "<td data-label=\"Detail\" class=\"wrap-anywhere\">",
                    "</td>",
                ),
                text("audit-via"),
                after(row, "<span class=\"ip\">", "<"),
                after(row, "<p class=\"ua-full\">", "<"),
            ]
        })
        .collect()
}

/// What the page and the export must agree on: everything but the target and the "via" column,
/// which the page names in words and the export keeps raw.
fn comparable(rows: Vec<Vec<String>>) -> Vec<Vec<String>> {
    rows.into_iter()
        .map(|r| {
            r.into_iter()
                .enumerate()
                .filter(|(i, _)| *i != 3 && *i != 5)
                .map(|(_, v)| v)
                .collect()
        })
        .collect()
}

/// CSV records in the page's column order (the actor as the page names it: without the email).
fn csv_rows(body: &str) -> Vec<Vec<String>> {
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .expect("csv header")
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(header.join(","), CSV_HEADER);
    reader
        .records()
        .map(|r| {
            let r = r.expect("csv record");
            let f = |i: usize| {
                let v = r.get(i).expect("csv field").to_owned();
                // Formula-looking cells get a leading quote in the export.
                match v.strip_prefix('\'') {
                    Some(rest) if rest.starts_with(['=', '+', '-', '@']) => rest.to_owned(),
                    _ => v,
                }
            };
            let actor = f(1).split(" <").next().unwrap_or_default().to_owned();
            vec![f(0), actor, f(3), f(4), f(5), f(2), f(6), f(7)]
        })
        .collect()
}

fn kinds(rows: &[Vec<String>]) -> Vec<String> {
    rows.iter().map(|r| r[2].clone()).collect()
}

/// Things worth recording, done in company A: a PAT, an invitation accepted, two role changes,
/// a sign-out everywhere and a settings change. Returns every secret that passed by.
async fn record_activity(app: &TestApp, w: &World<'_>) -> Vec<String> {
    let owner = &w.owner.browser;
    let member_pat = w.member.browser.create_pat("audit cli", "30").await;
    let invitee = email("aud");
    let link = owner.invite(&invitee, "member").await;
    let guest = app.browser();
    assert_eq!(
        guest
            .post_form(
                &link_path(&link),
                &[("name", "Aud"), ("password", PASSWORD)]
            )
            .await
            .status,
        303
    );
    for role in ["admin", "member"] {
        let r = owner
            .post_form(
                &format!("/settings/members/{}/role", w.member.id),
                &[("role", role)],
            )
            .await;
        assert_eq!(r.status, 303);
    }
    let r = owner
        .post_form(&format!("/settings/members/{}/sign-out", w.member.id), &[])
        .await;
    assert_eq!(r.status, 303);
    let r = owner
        .post_form(
            "/settings/company",
            &[("name", "Alpha Audited"), ("allowed_domains", "")],
        )
        .await;
    assert_eq!(r.status, 303);
    vec![
        w.key.clone(),
        w.key.rsplit(':').next().expect("key secret").to_owned(),
        member_pat.clone(),
        member_pat.trim_start_matches("rgo-").to_owned(),
        token_of(&link),
        PASSWORD.to_owned(),
    ]
}

#[actix_web::test]
async fn the_audit_log_shows_every_kind_newest_first_and_filters_by_kind_actor_and_date() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let owner = &w.owner.browser;
    record_activity(&app, &w).await;

    // Everything, newest first.
    let total: i64 = audit_events::table
        .filter(audit_events::company_id.eq(&w.company))
        .count()
        .get_result(&mut *conn(&app))
        .expect("count");
    assert!(total < 50, "fits one page: {total}");
    let page = owner.get("/settings/audit").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(&format!("{total} events")));
    let all = audit_rows(&page.body);
    assert_eq!(all.len() as i64, total);
    let seen = kinds(&all);
    for kind in [
        "sign_up",
        "sign_in.succeeded",
        "api_key.created",
        "user.created",
        "pat.created",
        "invitation.sent",
        "invitation.accepted",
        "role.changed",
        "sessions.ended",
        "settings.changed",
    ] {
        assert!(
            seen.iter().any(|k| k == kind),
            "{kind} in the log: {seen:?}"
        );
    }
    assert_eq!(
        seen.first().map(String::as_str),
        Some("settings.changed"),
        "newest first"
    );

    // Filter by kind.
    let r = owner.get("/settings/audit?kind=role.changed").await;
    let rows = audit_rows(&r.body);
    assert_eq!(kinds(&rows), ["role.changed", "role.changed"]);
    assert!(r.body.contains("2 events"));
    assert!(rows[0][4].contains("admin → member") && rows[1][4].contains("member → admin"));
    for row in &rows {
        assert_eq!(row[1], "Olga Owner", "{rows:?}");
    }

    // Filter by actor.
    let r = owner
        .get(&format!("/settings/audit?actor={}", w.member.id))
        .await;
    let rows = audit_rows(&r.body);
    let by_member = audit_events::table
        .filter(audit_events::company_id.eq(&w.company))
        .filter(audit_events::actor_id.eq(&w.member.id))
        .count()
        .get_result::<i64>(&mut *conn(&app))
        .expect("count");
    assert_eq!(rows.len() as i64, by_member);
    assert!(!rows.is_empty() && (rows.len() as i64) < total);
    assert!(rows.iter().all(|r| r[1] == "Mia"));
    let kinds_of_member = kinds(&rows);
    assert!(kinds_of_member.contains(&"pat.created".to_owned()));
    assert!(!kinds_of_member.contains(&"role.changed".to_owned()));
    // Both together.
    let r = owner
        .get(&format!(
            "/settings/audit?actor={}&kind=pat.created",
            w.member.id
        ))
        .await;
    assert_eq!(kinds(&audit_rows(&r.body)), ["pat.created"]);
    // A date range that excludes today finds nothing.
    let r = owner
        .get("/settings/audit?from=2000-01-01&to=2000-12-31")
        .await;
    assert!(r.body.contains("data-testid=\"audit-empty\""));
}

#[actix_web::test]
async fn the_csv_export_has_the_rows_of_the_page() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let owner = &w.owner.browser;
    record_activity(&app, &w).await;

    let page = owner.get("/settings/audit").await;
    let all = audit_rows(&page.body);

    // The CSV export has the same rows as the page.
    let csv = owner.get("/settings/audit.csv").await;
    assert_eq!(csv.status, 200);
    assert!(
        csv.content_type().starts_with("text/csv"),
        "{}",
        csv.content_type()
    );
    assert_eq!(csv.body.lines().next(), Some(CSV_HEADER));
    assert_eq!(all.len(), csv_rows(&csv.body).len());
    assert_eq!(comparable(csv_rows(&csv.body)), comparable(all));
    let csv = owner.get("/settings/audit.csv?kind=role.changed").await;
    assert_eq!(
        kinds(&csv_rows(&csv.body)),
        ["role.changed", "role.changed"]
    );
    let csv_by_member = owner
        .get(&format!("/settings/audit.csv?actor={}", w.member.id))
        .await;
    assert_eq!(
        comparable(csv_rows(&csv_by_member.body)),
        comparable(audit_rows(
            &owner
                .get(&format!("/settings/audit?actor={}", w.member.id))
                .await
                .body
        ))
    );
}

#[actix_web::test]
async fn no_secret_reaches_the_audit_log() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let owner = &w.owner.browser;
    let secrets = record_activity(&app, &w).await;

    let page = owner.get("/settings/audit").await;

    // No secret anywhere.
    let everything = format!(
        "{}\n{}",
        page.body,
        owner.get("/settings/audit.csv").await.body
    );
    for secret in &secrets {
        assert!(secret.len() >= 16, "a real secret: {secret}");
        assert!(
            !everything.contains(secret.as_str()),
            "{secret} leaked into the audit log"
        );
    }
    let stored: Vec<(Option<String>, Option<String>)> = audit_events::table
        .select((audit_events::target, audit_events::detail))
        .load(&mut *conn(&app))
        .expect("events");
    let stored = format!("{stored:?}");
    for secret in &secrets {
        assert!(
            !stored.contains(secret.as_str()),
            "{secret} stored in the audit log"
        );
    }
}
