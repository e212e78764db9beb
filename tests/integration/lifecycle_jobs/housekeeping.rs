//! What the runner purges: expired sessions (the background loop too), and invitations whose
//! link expired long ago and was never used; a live session and an accepted invitation stay.

use diesel::prelude::*;
use meetergo_console::db::schema::{invitations, sessions};

use crate::helpers::db::conn;
use crate::helpers::fixtures::email;
use crate::helpers::{RequestHelper, TestApp};

use super::support::company;

/// A session row that expired an hour ago (system time: sessions keep it) and one that lasts.
fn two_sessions(app: &TestApp) -> (String, String) {
    let now = meetergo_console::db::models::now();
    let (old, live) = (crate::helpers::random_id(), crate::helpers::random_id());
    for (id, expires_at) in [
        (&old, now - chrono::Duration::hours(1)),
        (&live, now + chrono::Duration::hours(1)),
    ] {
        diesel::insert_into(sessions::table)
            .values((
                sessions::id.eq(id),
                sessions::state.eq("{}"),
                sessions::created_at.eq(now - chrono::Duration::hours(2)),
                sessions::expires_at.eq(expires_at),
            ))
            .execute(&mut *conn(app))
            .expect("insert a session");
    }
    (old, live)
}

fn session_exists(app: &TestApp, id: &str) -> bool {
    sessions::table
        .filter(sessions::id.eq(id))
        .count()
        .get_result::<i64>(&mut *conn(app))
        .expect("count")
        == 1
}

fn invitation_exists(app: &TestApp, address: &str) -> bool {
    invitations::table
        .filter(invitations::email.eq(address))
        .count()
        .get_result::<i64>(&mut *conn(app))
        .expect("count")
        > 0
}

#[actix_web::test]
async fn a_run_purges_expired_sessions_and_long_expired_unused_invitations() {
    let app = TestApp::spawn().await;
    let (old, live) = two_sessions(&app);
    let c = company(&app).await;
    let (stale, joined) = (email("stale"), email("joined"));
    c.owner.browser.invite(&stale, "member").await;
    let link = c.owner.browser.invite(&joined, "member").await;
    let path = link.trim_start_matches(&app.address);
    let r = app
        .browser()
        .post_form(
            path,
            &[
                ("name", "Joe Joined"),
                ("password", crate::helpers::PASSWORD),
            ],
        )
        .await;
    assert!(r.status < 400, "accepting: {}", r.body);

    let report = app.run_jobs().await;
    assert_eq!(report.failures, 0);
    assert!(!session_exists(&app, &old), "the expired session is gone");
    assert!(session_exists(&app, &live), "the live one stays");
    assert_eq!(report.invitations_purged, 0, "nothing expired yet");

    // Just expired: the link still says so rather than "not valid".
    crate::helpers::time::invitations_expire(&app);
    app.run_jobs().await;
    assert!(invitation_exists(&app, &stale));
    // A month later it goes; the accepted one stays.
    crate::helpers::time::days_pass(&app, 31);
    let report = app.run_jobs().await;
    assert_eq!(report.invitations_purged, 1);
    assert!(
        !invitation_exists(&app, &stale),
        "the unused invitation is purged"
    );
    assert!(invitation_exists(&app, &joined), "the accepted one stays");
}

#[actix_web::test]
async fn the_server_runs_its_jobs_every_interval() {
    let app =
        TestApp::spawn_with(|s| s.jobs_interval = Some(std::time::Duration::from_secs(1))).await;
    let (old, live) = two_sessions(&app);
    for _ in 0..100 {
        if !session_exists(&app, &old) {
            break;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        !session_exists(&app, &old),
        "purged by the loop within seconds"
    );
    assert!(session_exists(&app, &live));
}

/// Two instances on one database: the purges run on one at a time. While another instance is
/// mid-housekeeping (holding the lock in an open transaction, on PostgreSQL), a round skips
/// them and says so; two rounds started together purge each row once and fail nothing.
#[actix_web::test]
async fn with_two_instances_housekeeping_runs_on_one_at_a_time() {
    use meetergo_console::db::job_lock::JobLock;
    use meetergo_console::db::DbConnection;

    let first = TestApp::spawn().await;
    let second = TestApp::spawn_on(
        crate::helpers::TempDir::new(),
        first.settings.database_url.clone(),
        |_| {},
    )
    .await;
    let (old, live) = two_sessions(&first);

    if crate::helpers::backend() == "postgres" {
        let mut holder = conn(&first);
        let DbConnection::Postgres(pg) = &mut *holder else {
            panic!("a PostgreSQL connection on the postgres backend");
        };
        diesel::connection::SimpleConnection::batch_execute(
            pg,
            &format!(
                "BEGIN; SELECT pg_advisory_xact_lock({})",
                JobLock::Housekeeping.id()
            ),
        )
        .expect("hold the housekeeping lock");
        let report = second.run_jobs().await;
        assert!(report.housekeeping_busy, "{report}");
        assert_eq!(report.sessions_purged, 0);
        assert_eq!(report.failures, 0);
        assert!(session_exists(&second, &old), "left to the lock holder");
        diesel::connection::SimpleConnection::batch_execute(pg, "ROLLBACK").expect("release");
    }

    let (a, b) = tokio::join!(first.run_jobs(), second.run_jobs());
    assert_eq!(a.failures + b.failures, 0, "{a} / {b}");
    assert_eq!(a.sessions_purged + b.sessions_purged, 1, "{a} / {b}");
    assert!(!session_exists(&first, &old));
    assert!(session_exists(&first, &live));
}
