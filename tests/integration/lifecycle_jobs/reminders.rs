//! Reminder mails at 14, 7 and 1 days before expiry and on expiry: to the right people, once
//! each, with name, prefix, date and link and never the secret; none for a threshold that had
//! passed before the credential existed, none for a credential that no longer works.

use crate::helpers::fixtures::{mails_to, secret_part};
use crate::helpers::{RequestHelper, TempDir, TestApp};

use super::support::{
    api_key, company, key_link, move_to_days_before, pat, pat_link, quoted_printable_decoded,
    reminders_to,
};

#[actix_web::test]
async fn each_threshold_is_mailed_once_to_the_right_people() {
    let app = TestApp::spawn().await;
    let c = company(&app).await;
    let token = c.member.browser.create_pat("CRM sync", "20").await;
    let key = c.admin.browser.create_api_key("Production", "20").await;
    let (pat, key_row) = (
        pat(&app, &c.member, "CRM sync"),
        api_key(&app, "Production"),
    );
    let expires = pat.expires_at.expect("an expiry");
    assert_eq!(key_row.expires_at, expires, "both made for 20 days");
    let (pat_link, key_link) = (
        pat_link(&app, &pat.id.to_string()),
        key_link(&app, &key_row.id.to_string()),
    );

    let report = app.run_jobs().await;
    assert_eq!(report.reminders.sent, 0, "nothing is due 20 days ahead");

    for (stage, days) in [14, 7, 1, 0].into_iter().enumerate() {
        move_to_days_before(&app, expires, days);
        let first = app.run_jobs().await;
        let second = app.run_jobs().await;
        assert_eq!(first.failures, 0);
        assert_eq!(
            first.reminders.sent, 2,
            "{days} days: one reminder per credential"
        );
        assert_eq!(
            first.reminders.mails, 3,
            "{days} days: member; owner and admin-creator"
        );
        assert_eq!(
            second.reminders.sent, 0,
            "{days} days: the second run sends nothing"
        );

        let n = stage + 1;
        let member_mails = reminders_to(&app, &c.member.email, &pat_link);
        assert_eq!(member_mails.len(), n, "{days} days: the owner of the token");
        for who in [&c.owner, &c.admin] {
            assert_eq!(
                reminders_to(&app, &who.email, &key_link).len(),
                n,
                "{days} days: {} hears about the key once",
                who.email
            );
            assert!(reminders_to(&app, &who.email, &pat_link).is_empty());
        }
        assert!(
            reminders_to(&app, &c.member.email, &key_link).is_empty(),
            "a member hears nothing about the company's keys"
        );

        let pat_mail = member_mails.last().expect("a mail");
        let key_mail = reminders_to(&app, &c.owner.email, &key_link)
            .pop()
            .expect("a mail");
        for (mail, name, prefix, secret) in [
            (pat_mail, "CRM sync", &pat.prefix, secret_part(&token)),
            (&key_mail, "Production", &key_row.prefix, secret_part(&key)),
        ] {
            assert!(mail.contains(name), "{days} days: the name in {mail}");
            let prefix = prefix.trim_end_matches('\u{2026}');
            assert!(mail.contains(prefix), "{days} days: the prefix in {mail}");
            let date = expires.format("%Y-%m-%d").to_string();
            assert!(mail.contains(&date), "{days} days: the date in {mail}");
            assert!(!mail.contains(secret), "{days} days: never the secret");
            if days == 0 {
                assert!(mail.contains("expired on"), "on expiry: {mail}");
            } else {
                assert!(mail.contains(&format!("expires in {days} day")), "{mail}");
            }
        }
    }

    crate::helpers::time::days_pass(&app, 3);
    let later = app.run_jobs().await;
    assert_eq!(later.reminders.sent, 0, "nothing after the expiry mail");
    assert_eq!(reminders_to(&app, &c.member.email, &pat_link).len(), 4);
}

#[actix_web::test]
async fn a_credential_made_late_gets_only_the_thresholds_still_ahead() {
    let app = TestApp::spawn().await;
    let c = company(&app).await;
    c.member.browser.create_pat("Short", "5").await;
    let short = pat(&app, &c.member, "Short");
    // Two that no longer work get nothing: a revoked token and a deactivated key.
    c.member.browser.create_pat("Revoked", "5").await;
    let revoked = pat(&app, &c.member, "Revoked");
    let r = c
        .member
        .browser
        .post_form(
            &format!("/integrations/api/tokens/{}/revoke", revoked.id),
            &[],
        )
        .await;
    assert!(r.status < 400, "revoking: {}", r.body);
    c.admin.browser.create_api_key("Paused", "5").await;
    let paused = api_key(&app, "Paused");
    let r = c
        .admin
        .browser
        .post_form(&format!("/admin/api-keys/{}/deactivate", paused.id), &[])
        .await;
    assert!(r.status < 400, "deactivating: {}", r.body);
    let expires = short.expires_at.expect("an expiry");
    let link = pat_link(&app, &short.id.to_string());

    let now = app.run_jobs().await;
    assert_eq!(now.reminders.sent, 0, "no late 14- or 7-day reminder");
    assert_eq!(now.reminders.skipped, 2, "14 and 7 days marked as passed");
    assert!(reminders_to(&app, &c.member.email, &link).is_empty());

    move_to_days_before(&app, expires, 1);
    assert_eq!(app.run_jobs().await.reminders.sent, 1, "the 1-day reminder");
    move_to_days_before(&app, expires, 0);
    assert_eq!(app.run_jobs().await.reminders.sent, 1, "the expiry notice");
    let mails = reminders_to(&app, &c.member.email, &link);
    assert_eq!(mails.len(), 2, "1 day and expiry only");
    assert!(reminders_to(
        &app,
        &c.member.email,
        &pat_link(&app, &revoked.id.to_string())
    )
    .is_empty());
    let paused_link = key_link(&app, &paused.id.to_string());
    for who in [&c.owner, &c.admin] {
        assert!(reminders_to(&app, &who.email, &paused_link).is_empty());
    }
}

/// Two instances on one database, both running their jobs at the same moment at every
/// threshold: still one mail per (credential, threshold, person).
#[actix_web::test]
async fn two_instances_running_jobs_together_mail_each_reminder_once() {
    let a = TestApp::spawn().await;
    let b = TestApp::spawn_on(TempDir::new(), a.settings.database_url.clone(), |_| {}).await;
    let c = company(&a).await;
    c.member.browser.create_pat("Sync", "20").await;
    c.admin.browser.create_api_key("Live", "20").await;
    let pat = pat(&a, &c.member, "Sync");
    let key = api_key(&a, "Live");
    let expires = key.expires_at;
    let (pat_link, key_link) = (
        pat_link(&a, &pat.id.to_string()),
        key_link(&a, &key.id.to_string()),
    );
    // Mail from either instance counts; links name the instance that sent it.
    let count = |address: &str, link_path: &str| -> usize {
        [&a, &b]
            .into_iter()
            .map(|app| {
                mails_to(app, address)
                    .iter()
                    .map(|m| quoted_printable_decoded(m))
                    .filter(|m| m.contains(link_path))
                    .count()
            })
            .sum()
    };
    let pat_path = pat_link.trim_start_matches(&a.address).to_owned();
    let key_path = key_link.trim_start_matches(&a.address).to_owned();

    for (stage, days) in [14, 7, 1, 0].into_iter().enumerate() {
        move_to_days_before(&a, expires, days);
        move_to_days_before(&b, expires, days);
        let (ra, rb) = tokio::join!(a.run_jobs(), b.run_jobs());
        assert_eq!(ra.failures + rb.failures, 0);
        assert_eq!(
            ra.reminders.sent + rb.reminders.sent,
            2,
            "{days} days: each credential's reminder claimed by one instance ({ra:?} / {rb:?})"
        );
        let n = stage + 1;
        assert_eq!(
            count(&c.member.email, &pat_path),
            n,
            "{days} days: token owner"
        );
        assert_eq!(count(&c.owner.email, &key_path), n, "{days} days: owner");
        assert_eq!(count(&c.admin.email, &key_path), n, "{days} days: admin");
    }
}

/// The claim itself, below the PostgreSQL advisory lock: two transactions inserting the same
/// (credential, threshold) at once, the first still open while the second tries: one takes it,
/// the other is told so (not an error, and its transaction is not aborted).
#[actix_web::test]
async fn of_two_simultaneous_claims_exactly_one_takes_the_reminder() {
    use diesel::Connection;
    use meetergo_console::db::models::CredentialReminder;
    use meetergo_console::domain::CredentialKind;

    let app = TestApp::spawn().await;
    let reminder = CredentialReminder {
        credential_id: crate::helpers::random_id(),
        threshold_days: 7,
        credential_kind: CredentialKind::Pat,
        claimed_at: app.clock.now(),
        sent_at: None,
        skipped: false,
    };
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
    let claims: Vec<_> = [0u64, 100]
        .into_iter()
        .map(|delay| {
            let (db, reminder, barrier) = (app.db.clone(), reminder.clone(), barrier.clone());
            std::thread::spawn(move || {
                let mut conn = db.conn().expect("a connection");
                barrier.wait();
                std::thread::sleep(std::time::Duration::from_millis(delay));
                conn.transaction(|conn| {
                    let took = reminder.claim(conn)?;
                    // The first holds its row uncommitted while the second tries.
                    std::thread::sleep(std::time::Duration::from_millis(400));
                    diesel::QueryResult::Ok(took)
                })
                .expect("a claim is not an error")
            })
        })
        .collect();
    let took: Vec<bool> = claims.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(took.iter().filter(|t| **t).count(), 1, "{took:?}");
}

/// A run that died between claiming a reminder and mailing it left its claim unconfirmed: other
/// runs leave it alone for an hour (the run may still be sending), then mail it (at least once).
#[actix_web::test]
async fn a_claim_left_by_a_crashed_run_is_mailed_after_the_lease() {
    use meetergo_console::db::models::CredentialReminder;
    use meetergo_console::domain::CredentialKind;

    let app = TestApp::spawn().await;
    let c = company(&app).await;
    c.member.browser.create_pat("Orphan", "20").await;
    let token = pat(&app, &c.member, "Orphan");
    let link = pat_link(&app, &token.id.to_string());
    move_to_days_before(&app, token.expires_at.expect("an expiry"), 14);
    let orphan = CredentialReminder {
        credential_id: token.id.to_string(),
        threshold_days: 14,
        credential_kind: CredentialKind::Pat,
        claimed_at: app.clock.now(),
        sent_at: None,
        skipped: false,
    };
    assert!(orphan
        .claim(&mut crate::helpers::db::conn(&app))
        .expect("claim"));

    assert_eq!(app.run_jobs().await.reminders.sent, 0, "claimed elsewhere");
    assert!(app.clock.advance(chrono::Duration::minutes(61)));
    assert_eq!(app.run_jobs().await.reminders.sent, 1, "taken over");
    assert_eq!(app.run_jobs().await.reminders.sent, 0);
    assert_eq!(reminders_to(&app, &c.member.email, &link).len(), 1);
}

/// A reminder whose mail reached nobody (the mail system refused it) is given back and sent
/// by the next run.
#[actix_web::test]
async fn a_reminder_that_reached_nobody_is_retried() {
    let app = TestApp::spawn().await;
    let c = company(&app).await;
    c.member.browser.create_pat("Retry", "20").await;
    let token = pat(&app, &c.member, "Retry");
    let link = pat_link(&app, &token.id.to_string());
    move_to_days_before(&app, token.expires_at.expect("an expiry"), 14);
    // The mail folder is a file for a moment: every mail fails.
    let (mail, aside) = (app.data_dir.join("mail"), app.data_dir.join("mail.aside"));
    std::fs::rename(&mail, &aside).expect("move the mail folder");
    std::fs::write(&mail, b"").expect("a file in its place");
    let failed = app.run_jobs().await;
    assert_eq!((failed.reminders.sent, failed.reminders.failed), (0, 1));
    std::fs::remove_file(&mail).expect("remove the file");
    std::fs::rename(&aside, &mail).expect("the folder back");

    let retried = app.run_jobs().await;
    assert_eq!(retried.reminders.sent, 1, "sent on the next run");
    assert_eq!(reminders_to(&app, &c.member.email, &link).len(), 1);
}
