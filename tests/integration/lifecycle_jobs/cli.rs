//! `meetergo-console run-jobs --once`, for cron: the built binary, on the test app's database,
//! with the system clock. A due reminder is mailed once; a second run mails nothing.

use std::process::Command;

use meetergo_console::db::DatabaseUrl;

use crate::helpers::TestApp;

use super::support::{company, pat, pat_link, reminders_to};

fn run_jobs_once(app: &TestApp) -> String {
    let database_url = match &app.settings.database_url {
        DatabaseUrl::Sqlite(path) => path.clone(),
        DatabaseUrl::Postgres(url) => url.clone(),
    };
    let out = Command::new(env!("CARGO_BIN_EXE_meetergo-console"))
        .args(["run-jobs", "--once"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        // Into the app's own folder, so its mail lands where the test reads it.
        .env("DATA_DIR", &app.data_dir)
        .env("DATABASE_URL", database_url)
        .env("PUBLIC_URL", &app.address)
        .env("SECRET_KEY", "cli-jobs-test-secret-key-0123456789abcdef")
        .env("RUST_LOG", "warn")
        .output()
        .expect("the console binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "run-jobs --once: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[actix_web::test]
async fn run_jobs_once_mails_a_due_reminder_once() {
    let app = TestApp::spawn().await;
    let c = company(&app).await;
    // The binary runs on the system clock, so the token is made 10 days in the app's past, to
    // expire at the end of tomorrow (real time): its 7-day mark passed while it existed.
    assert!(app.clock.advance(chrono::Duration::days(-10)));
    c.member.browser.create_pat("Cron", "11").await;
    let token = pat(&app, &c.member, "Cron");
    let link = pat_link(&app, &token.id.to_string());
    assert!(reminders_to(&app, &c.member.email, &link).is_empty());

    let first = run_jobs_once(&app);
    assert!(first.contains("1 expiry reminders sent"), "{first}");
    let mails = reminders_to(&app, &c.member.email, &link);
    assert_eq!(mails.len(), 1, "the 7-day reminder");
    assert!(mails[0].contains("expires in 7 days"), "{}", mails[0]);

    let second = run_jobs_once(&app);
    assert!(second.contains("0 expiry reminders sent"), "{second}");
    assert_eq!(reminders_to(&app, &c.member.email, &link).len(), 1);
}
