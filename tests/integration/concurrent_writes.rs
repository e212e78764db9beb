//! Many people writing at once: sixteen people create and revoke tokens for 20 s. On SQLite a
//! write transaction that began deferred could fail at once with "database is locked"; every
//! write must wait its turn instead, so nobody sees an error page.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::{Duration, Instant};

use diesel::prelude::*;
use meetergo_console::db::schema::personal_access_tokens;

use crate::helpers::{csrf_in, email, RequestHelper, TestApp};

const WRITERS: usize = 16;
const RUN_FOR: Duration = Duration::from_secs(20);

#[actix_web::test]
async fn sixteen_writers_at_once_never_see_a_server_error() {
    let app = TestApp::spawn().await;
    let mut people = Vec::new();
    for i in 0..WRITERS {
        let browser = app.browser();
        let r = browser
            .signup(
                &format!("Writers {i}"),
                &format!("Writer {i}"),
                &email(&format!("writer{i}")),
            )
            .await;
        assert_eq!(r.status, 303, "sign-up {i}");
        // Raw requests from here on: each writer runs in a task of its own.
        people.push(browser.http().clone());
    }

    let deadline = Instant::now() + RUN_FOR;
    let tasks = people.into_iter().enumerate().map(|(i, client)| {
        let (base, db) = (app.address.clone(), app.db.clone());
        actix_web::rt::spawn(async move {
            let page = client
                .get(format!("{base}/integrations/api"))
                .send()
                .await
                .expect("tokens page");
            let csrf = csrf_in(&page.text().await.expect("body")).expect("csrf token");
            let mut answers: Vec<(String, u16)> = Vec::new();
            let mut n = 0;
            while Instant::now() < deadline {
                n += 1;
                let name = format!("w{i}-{n}");
                let created = client
                    .post(format!("{base}/integrations/api/tokens"))
                    .form(&[
                        ("csrf_token", csrf.as_str()),
                        ("name", &name),
                        ("expiry", "30"),
                    ])
                    .send()
                    .await
                    .expect("create answered");
                answers.push(("create".into(), created.status().as_u16()));
                // Post/redirect/get: a created token answers with the redirect to its one display.
                if created.status() != 303 {
                    continue;
                }
                let lookup = name.clone();
                let id: String = db
                    .run(move |conn| {
                        personal_access_tokens::table
                            .filter(personal_access_tokens::name.eq(lookup))
                            .select(personal_access_tokens::id)
                            .load::<String>(conn)
                    })
                    .await
                    .expect("token id")
                    .pop()
                    .expect("the created token is stored");
                let revoked = client
                    .post(format!("{base}/integrations/api/tokens/{id}/revoke"))
                    .form(&[("csrf_token", csrf.as_str())])
                    .send()
                    .await
                    .expect("revoke answered");
                answers.push(("revoke".into(), revoked.status().as_u16()));
            }
            answers
        })
    });
    let mut answers = Vec::new();
    for t in tasks.collect::<Vec<_>>() {
        answers.extend(t.await.expect("writer"));
    }
    let failed: Vec<_> = answers
        .iter()
        .filter(|(what, status)| match what.as_str() {
            "create" => *status != 303,
            _ => *status != 303,
        })
        .collect();
    let writes = answers.len();
    assert!(
        writes >= WRITERS * 10,
        "the writers wrote ({writes} writes)"
    );
    assert!(
        failed.is_empty(),
        "{} of {writes} writes failed: {:?}",
        failed.len(),
        failed.iter().take(10).collect::<Vec<_>>()
    );
}
