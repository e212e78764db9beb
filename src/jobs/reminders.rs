//! Expiry reminders: 14, 7 and 1 days before a credential expires, and once when it has.
//! A personal access token's go to its owner; a Platform API key's to its creator and every
//! owner and admin of its company. Never the secret: name, display prefix, date and a link.
//!
//! Exactly once per (credential, threshold), with any number of instances: the mail is first
//! *claimed* by inserting its row into `credential_reminders` (primary key on credential and
//! threshold, `ON CONFLICT DO NOTHING`), and only the run whose insert took the row mails it.
//! The claim is committed before the mail goes out (mail is slow and must not hold a write
//! lock), so a crash between the two is the one window where the guarantee bends:
//! - the mail could not be sent to anyone (SMTP refused): the claim is released at once and
//!   the next run tries again;
//! - the process died after the claim and before recording the mail as sent: after
//!   `CLAIM_LEASE` the claim counts as abandoned and the next run mails again. That is
//!   at-least-once for this window only: a duplicate needs a crash in the milliseconds
//!   between the SMTP server accepting the mail and the `sent_at` update, while at-most-once
//!   would lose a reminder on every crash during sending; a second reminder is the lesser harm.

use std::collections::{HashMap, HashSet};

use chrono::{Duration, NaiveDateTime};

use crate::db::job_lock::JobLock;
use crate::db::models::{CredentialReminder, PersonalAccessToken, PlatformApiKey, User};
use crate::db::{Db, DbConnection, Tx};
use crate::domain::{CompanyId, CredentialKind};
use crate::error::AppError;
use crate::services::mail::{Mail, Mailer};
use crate::webhooks::emit::{self, Subject};

/// Days before expiry at which a reminder is due; 0 is the expiry itself.
pub const THRESHOLDS_DAYS: [i32; 4] = [14, 7, 1, 0];

/// A credential that expired longer ago than this gets no "has expired" mail (the runner was
/// off, or the credential expired before reminders existed): news that old helps nobody.
const EXPIRED_NOTICE_WINDOW: Duration = Duration::days(7);

/// A claim not confirmed sent after this long was left by a run that died (see above).
const CLAIM_LEASE: Duration = Duration::hours(1);

/// What one run of the reminders did: counts only.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RemindersReport {
    /// Reminders mailed to at least one recipient.
    pub sent: usize,
    /// Mails sent (a key's reminder goes to several people).
    pub mails: usize,
    /// Thresholds that had passed before they could be mailed, marked and not mailed.
    pub skipped: usize,
    /// Reminders that reached nobody; released for the next run.
    pub failed: usize,
    /// Another instance was claiming reminders at the same moment (PostgreSQL); it mails them.
    pub busy: bool,
}

/// A reminder this run claimed and must mail.
#[derive(Debug, Clone)]
struct Claimed {
    kind: CredentialKind,
    id: String,
    threshold_days: i32,
    name: String,
    prefix: String,
    expires_at: NaiveDateTime,
    recipients: Vec<String>,
}

/// A credential close enough to expiry to have a reminder due.
struct Candidate {
    kind: CredentialKind,
    id: String,
    company: CompanyId,
    name: String,
    prefix: String,
    created_at: NaiveDateTime,
    expires_at: NaiveDateTime,
    recipients: Vec<String>,
}

/// The most recent threshold reached at `now`: the smallest number of days `t` with
/// `now >= expires_at - t days`; `None` while more than 14 days are left.
pub fn due_threshold(expires_at: NaiveDateTime, now: NaiveDateTime) -> Option<i32> {
    THRESHOLDS_DAYS
        .iter()
        .rev()
        .copied()
        .find(|&t| now >= expires_at - Duration::days(i64::from(t)))
}

/// Claims the reminders due at `now`, mails them, and records the outcome.
pub async fn send_due(
    db: &Db,
    mailer: &Mailer,
    public_url: &str,
    now: NaiveDateTime,
) -> Result<RemindersReport, AppError> {
    let Some((claimed, skipped)) = db.transaction(move |tx| claim_due(tx, now)).await? else {
        return Ok(RemindersReport {
            busy: true,
            ..RemindersReport::default()
        });
    };
    let mut report = RemindersReport {
        skipped,
        ..RemindersReport::default()
    };
    for reminder in claimed {
        let mut delivered = 0;
        for to in &reminder.recipients {
            match mailer
                .send(reminder_mail(public_url, &reminder, to, now))
                .await
            {
                Ok(()) => delivered += 1,
                Err(e) => tracing::warn!(
                    error = %e,
                    credential = %reminder.id,
                    threshold_days = reminder.threshold_days,
                    "expiry reminder not sent to one recipient"
                ),
            }
        }
        report.mails += delivered;
        let (id, threshold) = (reminder.id.clone(), reminder.threshold_days);
        // Sent to someone: done (retrying would mail the others again). Sent to nobody: give
        // the claim back so the next run tries again.
        let recorded = if delivered > 0 {
            report.sent += 1;
            db.run(move |conn| CredentialReminder::mark_sent(conn, &id, threshold, now))
                .await
        } else {
            report.failed += 1;
            db.run(move |conn| CredentialReminder::release(conn, &id, threshold))
                .await
        };
        if let Err(e) = recorded {
            // The claim stays unconfirmed; after the lease a later run takes it again.
            tracing::warn!(error = %e, credential = %reminder.id, "recording a reminder failed");
        }
    }
    Ok(report)
}

/// Inside the write transaction: which reminders are due, claimed by this run. `None` when
/// another instance holds the reminder lock right now.
fn claim_due(
    conn: &mut Tx<'_>,
    now: NaiveDateTime,
) -> Result<Option<(Vec<Claimed>, usize)>, AppError> {
    // One instance at a time claims reminders; the others skip this run instead of waiting.
    // (The claim rows alone already keep the mails unique; the lock saves the others the work.)
    if !JobLock::Reminders.try_take_for_transaction(conn)? {
        return Ok(None);
    }
    let candidates = candidates(conn, now)?;
    let ids: Vec<String> = candidates.iter().map(|c| c.id.clone()).collect();
    let existing: HashMap<(String, i32), CredentialReminder> = CredentialReminder::of(conn, &ids)?
        .into_iter()
        .map(|r| ((r.credential_id.clone(), r.threshold_days), r))
        .collect();
    let mut claimed = Vec::new();
    let mut skipped = 0;
    for c in candidates {
        let Some(due) = due_threshold(c.expires_at, now) else {
            continue;
        };
        let row = |threshold_days: i32, skipped: bool| CredentialReminder {
            credential_id: c.id.clone(),
            threshold_days,
            credential_kind: c.kind,
            claimed_at: now,
            sent_at: None,
            skipped,
        };
        // Earlier thresholds this run never mailed are past: never mail them late.
        for earlier in THRESHOLDS_DAYS.into_iter().filter(|&t| t > due) {
            if !existing.contains_key(&(c.id.clone(), earlier)) && row(earlier, true).claim(conn)? {
                skipped += 1;
            }
        }
        // A credential made with 5 days left crossed the 7-day mark before it existed; a key
        // whose company has nobody left to tell is not retried every round either.
        let crossed_while_alive = c.created_at < c.expires_at - Duration::days(i64::from(due))
            && !c.recipients.is_empty();
        let take = match existing.get(&(c.id.clone(), due)) {
            None if crossed_while_alive => row(due, false).claim(conn)?,
            None => {
                if row(due, true).claim(conn)? {
                    skipped += 1;
                }
                false
            }
            Some(r) if !r.skipped && r.sent_at.is_none() && r.claimed_at <= now - CLAIM_LEASE => {
                CredentialReminder::reclaim_stale(conn, &c.id, due, now - CLAIM_LEASE, now)?
            }
            Some(_) => false,
        };
        if take {
            // `credential_expiring` goes out with the claim: once per (credential, threshold).
            let subject = match c.kind {
                CredentialKind::Pat => c.id.parse().map(Subject::Pat),
                CredentialKind::ApiKey => c.id.parse().map(Subject::ApiKey),
            };
            if let Ok(subject) = subject {
                emit::credential_expiring(conn, &c.company, &subject, due)?;
            }
            claimed.push(Claimed {
                kind: c.kind,
                id: c.id,
                threshold_days: due,
                name: c.name,
                prefix: c.prefix,
                expires_at: c.expires_at,
                recipients: c.recipients,
            });
        }
    }
    Ok(Some((claimed, skipped)))
}

/// Credentials still in use that expire within the largest threshold, or expired recently.
fn candidates(conn: &mut DbConnection, now: NaiveDateTime) -> Result<Vec<Candidate>, AppError> {
    let largest = Duration::days(i64::from(THRESHOLDS_DAYS[0]));
    let (from, to) = (now - EXPIRED_NOTICE_WINDOW, now + largest);
    let mut found = Vec::new();
    for (pat, owner) in CredentialReminder::pats_expiring(conn, from, to)? {
        found.push(pat_candidate(pat, owner));
    }
    for key in CredentialReminder::api_keys_expiring(conn, from, to)? {
        let recipients =
            CredentialReminder::api_key_recipients(conn, &key.company_id, &key.created_by)?;
        found.push(key_candidate(key, recipients));
    }
    Ok(found)
}

fn pat_candidate(pat: PersonalAccessToken, owner: User) -> Candidate {
    Candidate {
        kind: CredentialKind::Pat,
        id: pat.id.to_string(),
        company: owner.company_id,
        name: pat.name,
        prefix: pat.prefix,
        created_at: pat.created_at,
        // Selected only with an expiry.
        expires_at: pat.expires_at.unwrap_or(pat.created_at),
        recipients: vec![owner.email],
    }
}

fn key_candidate(key: PlatformApiKey, recipients: Vec<String>) -> Candidate {
    // Each address once, even when the creator is also an admin.
    let mut seen = HashSet::new();
    let recipients = recipients
        .into_iter()
        .filter(|to| seen.insert(to.to_lowercase()))
        .collect();
    Candidate {
        kind: CredentialKind::ApiKey,
        id: key.id.to_string(),
        company: key.company_id,
        name: key.name,
        prefix: key.prefix,
        created_at: key.created_at,
        expires_at: key.expires_at,
        recipients,
    }
}

/// The mail for one recipient. Plain ASCII apart from the user's own credential name, so
/// the link reaches mail clients unwrapped.
fn reminder_mail(public_url: &str, r: &Claimed, to: &str, now: NaiveDateTime) -> Mail {
    let (what, link, why) = match r.kind {
        CredentialKind::Pat => (
            "personal access token",
            format!("{public_url}{}", crate::paths::api_token(&r.id)),
            "You get this mail because the token is yours.",
        ),
        CredentialKind::ApiKey => (
            "Platform API key",
            format!("{public_url}{}", crate::paths::admin_api_key(&r.id)),
            "You get this mail because you created this key or are an owner or admin of its company.",
        ),
    };
    let name = &r.name;
    // The stored display prefix ends in an ellipsis; written out in ASCII here.
    let prefix = format!("{}...", r.prefix.trim_end_matches('\u{2026}'));
    let date = r.expires_at.format("%Y-%m-%d %H:%M UTC");
    let (subject, opening) = if r.threshold_days == 0 || r.expires_at <= now {
        (
            format!("Your {what} \"{name}\" has expired"),
            format!(
                "The {what} \"{name}\" ({prefix}) expired on {date}. Requests that use it are refused."
            ),
        )
    } else {
        let left = match r.threshold_days {
            1 => "1 day".to_owned(),
            n => format!("{n} days"),
        };
        (
            format!("Your {what} \"{name}\" expires in {left}"),
            format!(
                "The {what} \"{name}\" ({prefix}) expires on {date}. Requests that use it will be refused from then on."
            ),
        )
    };
    Mail {
        to: to.to_owned(),
        subject,
        body: format!(
            "{opening}\n\nTo keep your integrations working, regenerate it and switch them to the new one:\n\n{link}\n\n{why}\nThis mail never contains the credential itself.\n"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap_or_default()
    }

    #[test]
    fn the_most_recent_threshold_reached_is_due() {
        let expires = at("2026-12-31 23:59:59");
        assert_eq!(due_threshold(expires, at("2026-12-17 23:59:58")), None);
        assert_eq!(due_threshold(expires, at("2026-12-17 23:59:59")), Some(14));
        assert_eq!(due_threshold(expires, at("2026-12-24 23:59:59")), Some(7));
        assert_eq!(due_threshold(expires, at("2026-12-31 00:00:00")), Some(1));
        assert_eq!(due_threshold(expires, at("2026-12-31 23:59:59")), Some(0));
        assert_eq!(due_threshold(expires, at("2027-01-05 00:00:00")), Some(0));
    }
}
