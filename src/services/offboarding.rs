//! Offboarding a member: in one transaction their meeting types and future appointments go to a
//! colleague, their tokens and sessions die, their pending invitations are withdrawn, and they
//! become `removed`. A failure anywhere leaves everything as it was.
//!
//! What moves is chosen per kind (`Handover`, meetergo's per-resource switches); of those kinds
//! this console has meeting types. Meeting types not handed over are soft-deleted and stay
//! with the removed user for history, so nobody can book them any more. Future appointments
//! always go to the receiver: people booked them, and someone has to host them.

use diesel::prelude::*;

use crate::authz::{authorize, Action, Actor};
use chrono::NaiveDateTime;

use crate::db::models::{MeetingType, PersonalAccessToken, User};
use crate::db::schema::{appointments, invitations, meeting_types};
use crate::db::{Db, DbConnection, Tx};
use crate::domain::{TokenId, UserId, UserStatus};
use crate::error::{AppError, Refusal};
use crate::services::audit::{self, AuditKind, Event, Origin, Source, Subject};
use crate::services::mail::{Mail, Mailer};
use crate::webhooks;

const ALREADY_OFFBOARDED: &str = "This member has already been offboarded.";
const RECEIVER_NOT_ACTIVE: &str =
    "The member chosen to receive the meeting types is not an active member.";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OffboardingReport {
    pub meeting_types_moved: usize,
    pub meeting_types_deleted: usize,
    pub slugs_renamed: usize,
    pub appointments_moved: usize,
    pub tokens_revoked: usize,
    pub sessions_ended: usize,
    pub invitations_revoked: usize,
    /// The leaver's tokens that worked until now: the integrations that stop.
    pub stopped_tokens: Vec<StoppedToken>,
    /// Who received the leaver's work (and is told what stopped), and who left.
    pub receiver_email: String,
    pub receiver_name: String,
    pub leaver_name: String,
}

/// A Personal Access Token that stopped working with its owner's offboarding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoppedToken {
    pub name: String,
    pub prefix: String,
    pub last_used_at: Option<NaiveDateTime>,
}

/// Which kinds of the leaver's resources go to the receiver; everything by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Handover {
    pub meeting_types: bool,
}

impl Default for Handover {
    fn default() -> Self {
        Self {
            meeting_types: true,
        }
    }
}

/// The slug each of the leaver's meeting types will have with the new owner: unchanged, or
/// with the first free numeric suffix when the new owner already uses it.
pub fn planned_slugs(
    conn: &mut DbConnection,
    leaver: &UserId,
    receiver: &UserId,
) -> QueryResult<Vec<(MeetingType, String)>> {
    // Deleted ones move too (they keep their slugs, and slugs are unique per owner).
    let theirs = MeetingType::list_all_for_owner(conn, leaver)?;
    let mut taken: std::collections::HashSet<String> = meeting_types::table
        .filter(meeting_types::owner_id.eq(receiver))
        .select(meeting_types::slug)
        .load::<String>(conn)?
        .into_iter()
        .collect();
    let mut planned = Vec::with_capacity(theirs.len());
    for mt in theirs {
        let mut slug = mt.slug.clone();
        let mut n = 1;
        while taken.contains(&slug) {
            n += 1;
            slug = format!("{}-{n}", mt.slug);
        }
        taken.insert(slug.clone());
        planned.push((mt, slug));
    }
    Ok(planned)
}

/// The transition itself, taken before any work moves: the leaver goes from the status read
/// in this transaction to `removed` only if nobody changed it meanwhile, and the receiver's
/// row is held while they are still active. Of several offboardings at once exactly one gets
/// past this; the others wait for its rows (PostgreSQL) or its write lock (SQLite), then find
/// them changed and end in a conflict, having written nothing. Rows are taken in id order, so
/// two offboardings that name each other as receiver wait for one another, never deadlock.
fn claim(conn: &mut DbConnection, leaver: &User, receiver: &UserId) -> Result<(), AppError> {
    let remove = |conn: &mut DbConnection| -> Result<(), AppError> {
        if User::change_status(conn, &leaver.id, leaver.status(), UserStatus::Removed)? {
            Ok(())
        } else {
            Err(Refusal::conflict(ALREADY_OFFBOARDED).into())
        }
    };
    let hold = |conn: &mut DbConnection| -> Result<(), AppError> {
        if User::hold_active(conn, receiver)? {
            Ok(())
        } else {
            Err(Refusal::conflict(RECEIVER_NOT_ACTIVE).into())
        }
    };
    if leaver.id.as_str() < receiver.as_str() {
        remove(conn)?;
        hold(conn)
    } else {
        hold(conn)?;
        remove(conn)
    }
}

/// Who asks for an offboarding.
#[derive(Debug, Clone)]
pub enum Requester {
    /// A member on the console's page.
    Member(UserId),
    /// A Platform API key (its id), through `DELETE /v4/user/{id}`.
    ApiKey(String),
    /// The company's identity provider through SCIM (the SCIM secret's id): deprovisioning.
    Scim(String),
}

/// One offboarding as asked for: who leaves, who receives (the company's owner when `None`),
/// what is handed over, and who asks, from where, when.
#[derive(Debug, Clone)]
pub struct Offboarding {
    pub leaver: User,
    pub receiver: Option<UserId>,
    pub handover: Handover,
    pub requester: Requester,
    pub origin: Origin,
    pub now: NaiveDateTime,
}

/// Carries out the offboarding in one transaction.
pub async fn offboard(db: &Db, job: Offboarding) -> Result<OffboardingReport, AppError> {
    db.transaction(move |tx| offboard_in(tx, &job)).await
}

/// The offboarding as one step of a larger transaction (SCIM deprovisioning changes the
/// person's attributes in the same one).
pub fn offboard_in(conn: &mut Tx<'_>, job: &Offboarding) -> Result<OffboardingReport, AppError> {
    let leaver = &job.leaver;
    let receiver_id = &match &job.receiver {
        Some(id) => id.clone(),
        None => User::owner_of(conn, &leaver.company_id)?.id,
    };
    let handover = job.handover;
    let (actor, credential) = match &job.requester {
        Requester::Member(id) => (Some(id), None),
        Requester::ApiKey(key) | Requester::Scim(key) => (None, Some(key.as_str())),
    };
    let via_scim = matches!(job.requester, Requester::Scim(_));
    // Re-read both inside the transaction: the receiver may have been removed meanwhile.
    let receiver = User::find_in_company(conn, &leaver.company_id, receiver_id)?
        .filter(|r| r.is_active() && r.id != leaver.id)
        .ok_or_else(|| AppError::from(Refusal::conflict(RECEIVER_NOT_ACTIVE)))?;
    let leaver_now = User::find(conn, &leaver.id)?.ok_or(AppError::NotFound)?;
    if leaver_now.status() == UserStatus::Removed {
        return Err(Refusal::conflict(ALREADY_OFFBOARDED).into());
    }
    // Authorized again on what the database says now: a member promoted (or an actor demoted)
    // since the page was loaded is judged by their current role.
    let allowed = match actor {
        Some(actor_id) => {
            let actor = User::find(conn, actor_id)?
                .filter(|a| a.is_active() && a.company_id == leaver.company_id)
                .ok_or(AppError::Forbidden)?;
            authorize(Actor::Member(&actor), Action::Offboard(&leaver_now))
        }
        None if via_scim => authorize(
            Actor::Scim {
                company: &leaver.company_id,
            },
            Action::Offboard(&leaver_now),
        ),
        None => authorize(
            Actor::ApiKey {
                company: &leaver.company_id,
                acting: None,
            },
            Action::DeleteUser(&leaver_now),
        ),
    };
    allowed.map_err(|_| AppError::Forbidden)?;
    claim(conn, &leaver_now, &receiver.id)?;

    let mut report = OffboardingReport::default();
    let at = job.now;
    if handover.meeting_types {
        move_meeting_types(conn, leaver, &receiver.id, &mut report)?;
    } else {
        report.meeting_types_deleted = MeetingType::soft_delete_all_of(conn, &leaver.id, at)?;
    }
    report.appointments_moved = diesel::update(
        appointments::table
            .filter(appointments::host_id.eq(&leaver.id))
            .filter(appointments::starts_at.ge(at)),
    )
    .set(appointments::host_id.eq(&receiver.id))
    .execute(&mut **conn)?;
    let working = PersonalAccessToken::active_of(conn, &leaver.id, at)?;
    let stopped: Vec<TokenId> = working.iter().map(|t| t.id.clone()).collect();
    report.stopped_tokens = working
        .into_iter()
        .map(|t| StoppedToken {
            name: t.name,
            prefix: t.prefix,
            last_used_at: t.last_used_at,
        })
        .collect();
    report.receiver_email = receiver.email.clone();
    report.receiver_name = receiver.name.clone();
    report.leaver_name = leaver_now.name.clone();
    report.tokens_revoked = PersonalAccessToken::revoke_all_of(conn, &leaver.id)?;
    for token in &stopped {
        webhooks::emit::credential_revoked(
            conn,
            &leaver.company_id,
            &Subject::Pat(token.clone()),
            actor,
            webhooks::emit::RevokedBecause::Offboarding,
            None,
        )?;
    }
    report.sessions_ended = User::end_all_sessions(conn, &leaver.id)?;
    report.invitations_revoked = diesel::update(
        invitations::table
            .filter(invitations::invited_by.eq(&leaver.id))
            .filter(invitations::accepted_at.is_null())
            .filter(invitations::revoked_at.is_null()),
    )
    .set(invitations::revoked_at.eq(at))
    .execute(&mut **conn)?;

    let mut event = Event::new(AuditKind::MemberOffboarded)
        .company(&leaver.company_id)
        .target(format!("{} ({})", leaver.email, leaver.id))
        .detail(format!(
            "{}to {}: {} meeting types ({} renamed), {} appointments, {} tokens revoked, {} sessions ended, {} invitations revoked{}",
            if via_scim { "via SCIM, " } else { "" },
            receiver.email,
            report.meeting_types_moved,
            report.slugs_renamed,
            report.appointments_moved,
            report.tokens_revoked,
            report.sessions_ended,
            report.invitations_revoked,
            if handover.meeting_types {
                String::new()
            } else {
                format!("; {} meeting types deleted, not handed over", report.meeting_types_deleted)
            }
        ));
    event.actor = actor.cloned();
    event.credential = credential.map(str::to_owned);
    event.subject = Some(Subject::Person(leaver.id.clone()));
    if via_scim {
        event.source = Some(Source::Scim);
    }
    audit::record(conn, &job.origin, event)?;
    Ok(report)
}

/// The mail telling the receiver which of the leaver's integrations stopped (names and last
/// use, never a secret); none when no working token was revoked.
pub fn stopped_integrations_mail(report: &OffboardingReport) -> Option<Mail> {
    if report.stopped_tokens.is_empty() || report.receiver_email.is_empty() {
        return None;
    }
    let mut list = String::new();
    for t in &report.stopped_tokens {
        let used = match t.last_used_at {
            Some(at) => format!("last used {}", at.format("%Y-%m-%d %H:%M UTC")),
            None => "never used".to_owned(),
        };
        list.push_str(&format!("- {} ({}...), {used}\n", t.name, t.prefix));
    }
    Some(Mail {
        to: report.receiver_email.clone(),
        subject: format!(
            "{} was offboarded: {} API integration{} stopped",
            report.leaver_name,
            report.stopped_tokens.len(),
            if report.stopped_tokens.len() == 1 {
                ""
            } else {
                "s"
            }
        ),
        body: format!(
            "{} was offboarded and their work was handed to you.\n\n\
             These Personal Access Tokens of theirs were revoked, so whatever used them\n\
             (scripts, syncs, integrations) has stopped working:\n\n{list}\n\
             To keep such an integration running, create a token of your own (or a company\n\
             Platform API Key) and put it where the old one was used.\n\
             Platform API Keys they created keep working: they belong to the company.\n",
            report.leaver_name
        ),
    })
}

/// Sends `stopped_integrations_mail` in the background: the offboarding is done either way.
pub fn notify_receiver(mailer: &Mailer, report: &OffboardingReport) {
    if let Some(mail) = stopped_integrations_mail(report) {
        let mailer = mailer.clone();
        actix_web::rt::spawn(async move {
            if let Err(e) = mailer.send(mail).await {
                tracing::warn!(error = %e, "the stopped integrations mail could not be sent");
            }
        });
    }
}

/// Meeting types whose slug the receiver already uses move one by one with a new slug; all
/// the others move in one statement (what makes 5,000 of them take milliseconds, not seconds).
fn move_meeting_types(
    conn: &mut DbConnection,
    leaver: &User,
    receiver: &UserId,
    report: &mut OffboardingReport,
) -> QueryResult<()> {
    for (mt, slug) in planned_slugs(conn, &leaver.id, receiver)? {
        if slug != mt.slug {
            diesel::update(meeting_types::table.find(&mt.id))
                .set((
                    meeting_types::owner_id.eq(receiver),
                    meeting_types::slug.eq(&slug),
                ))
                .execute(conn)?;
            if mt.deleted_at.is_none() {
                report.slugs_renamed += 1;
                report.meeting_types_moved += 1;
            }
        }
    }
    // Deleted ones go along (so nothing dangles) but are not counted as moved work.
    report.meeting_types_moved += diesel::update(
        meeting_types::table
            .filter(meeting_types::owner_id.eq(&leaver.id))
            .filter(meeting_types::deleted_at.is_null()),
    )
    .set(meeting_types::owner_id.eq(receiver))
    .execute(conn)?;
    diesel::update(meeting_types::table.filter(meeting_types::owner_id.eq(&leaver.id)))
        .set(meeting_types::owner_id.eq(receiver))
        .execute(conn)?;
    Ok(())
}

/// What offboarding `leaver` to `receiver` would do, read for the confirmation page.
pub struct Plan {
    /// Everyone who could receive (active, not the leaver).
    pub candidates: Vec<User>,
    pub receiver: User,
    /// Each live meeting type, its slug with the receiver, and its upcoming appointments.
    pub meeting_types: Vec<PlannedMove>,
    pub tokens: Vec<PersonalAccessToken>,
    pub sessions: i64,
    pub invitations: Vec<crate::db::models::Invitation>,
    pub api_keys: Vec<crate::db::models::PlatformApiKey>,
    /// Per credential id (the tokens' and the keys'): the addresses it was used from in the
    /// last `RECENT_USE_DAYS` days, latest first.
    pub recent_ips: std::collections::HashMap<String, Vec<String>>,
}

/// How far back the preview looks for the addresses a credential was used from.
pub const RECENT_USE_DAYS: i64 = 30;

pub struct PlannedMove {
    pub meeting_type: MeetingType,
    pub new_slug: String,
    /// (start, attendee) of the appointments still to come.
    pub upcoming: Vec<(NaiveDateTime, String)>,
}

/// Reads the plan; `receiver` must be an active member other than the leaver (else 404).
pub async fn plan(
    db: &Db,
    leaver: UserId,
    receiver: UserId,
    company: crate::domain::CompanyId,
    now: NaiveDateTime,
) -> Result<Plan, AppError> {
    use crate::db::models::{CredentialIp, Invitation, PlatformApiKey};
    db.run(move |conn| {
        let candidates: Vec<User> = User::active_in_company(conn, &company)?
            .into_iter()
            .filter(|u| u.id != leaver)
            .collect();
        let receiver = candidates
            .iter()
            .find(|u| u.id == receiver)
            .cloned()
            .ok_or(AppError::NotFound)?;
        let mut meeting_types = Vec::new();
        // Deleted meeting types move too (they keep their slugs) but are not shown.
        for (mt, new_slug) in planned_slugs(conn, &leaver, &receiver.id)?
            .into_iter()
            .filter(|(mt, _)| mt.deleted_at.is_none())
        {
            let upcoming = appointments::table
                .filter(appointments::meeting_type_id.eq(&mt.id))
                .filter(appointments::host_id.eq(&leaver))
                .filter(appointments::starts_at.ge(now))
                .order(appointments::starts_at.asc())
                .select((appointments::starts_at, appointments::attendee_name))
                .load(conn)?;
            meeting_types.push(PlannedMove {
                meeting_type: mt,
                new_slug,
                upcoming,
            });
        }
        let tokens = PersonalAccessToken::active_of(conn, &leaver, now)?;
        let api_keys = PlatformApiKey::created_by_user(conn, &leaver)?;
        let ids: Vec<String> = tokens
            .iter()
            .map(|t| t.id.to_string())
            .chain(api_keys.iter().map(|k| k.id.to_string()))
            .collect();
        let since = now - chrono::Duration::days(RECENT_USE_DAYS);
        let mut recent_ips: std::collections::HashMap<String, Vec<String>> = Default::default();
        for seen in CredentialIp::seen_since(conn, &ids, since)? {
            recent_ips
                .entry(seen.credential_id)
                .or_default()
                .push(seen.ip);
        }
        Ok::<_, AppError>(Plan {
            candidates,
            receiver,
            meeting_types,
            tokens,
            sessions: User::count_sessions(conn, &leaver)?,
            invitations: Invitation::pending_sent_by(conn, &leaver, now)?,
            api_keys,
            recent_ips,
        })
    })
    .await
}
