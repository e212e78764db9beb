//! Offboarding a member: a preview of everything that will happen, then one transaction.

use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::authz::Action;
use crate::db::models::User;
use crate::domain::{UserId, UserStatus};
use crate::error::{AppError, Refusal};
use crate::paths;
use crate::services::offboarding;
use crate::web::context::Member;
use crate::web::page::{render, FlashKind, Shell};
use crate::web::views::{fmt_ago, fmt_date, fmt_time};

pub struct PlannedMeetingType {
    pub title: String,
    pub slug: String,
    pub new_slug: String,
    pub upcoming: Vec<String>,
}

/// A credential of the leaver's and how it was used lately: what will stop (their tokens) or
/// keep working (the company keys they created).
pub struct PlannedCredential {
    pub name: String,
    pub prefix: String,
    /// "used 2 hours ago" or "never used"
    pub last_used: String,
    /// The exact time, for the title attribute.
    pub last_used_at: String,
    /// Addresses it was used from in the last 30 days, latest first.
    pub ips: Vec<String>,
    pub expires: String,
}

fn planned(
    id: String,
    name: String,
    prefix: String,
    last_used_at: Option<chrono::NaiveDateTime>,
    expires: String,
    recent_ips: &mut std::collections::HashMap<String, Vec<String>>,
    now: chrono::NaiveDateTime,
) -> PlannedCredential {
    PlannedCredential {
        name,
        prefix,
        last_used: last_used_at
            .map(|at| format!("used {}", fmt_ago(at, now)))
            .unwrap_or_else(|| "never used".into()),
        last_used_at: fmt_time(last_used_at),
        ips: recent_ips.remove(&id).unwrap_or_default(),
        expires,
    }
}

pub struct Choice {
    pub id: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "settings/offboard.html")]
struct OffboardPage {
    shell: Shell,
    section: &'static str,
    leaver_id: String,
    leaver_name: String,
    leaver_email: String,
    receiver_id: String,
    receiver_name: String,
    /// Appointments still to come across the meeting types that move.
    upcoming: usize,
    meeting_types: Vec<PlannedMeetingType>,
    tokens: Vec<PlannedCredential>,
    sessions: i64,
    invitations: Vec<String>,
    api_keys: Vec<PlannedCredential>,
    choices: Vec<Choice>,
}

#[derive(Debug, Default, Deserialize)]
pub struct PreviewQuery {
    transfer_to: Option<String>,
}

async fn leaver(m: &Member, id: UserId) -> Result<User, AppError> {
    let company = m.me.company.id.clone();
    let user = m
        .app
        .db
        .run(move |conn| User::find_in_company(conn, &company, &id))
        .await?
        .ok_or(AppError::NotFound)?;
    m.require(Action::Offboard(&user))?;
    if user.status() == UserStatus::Removed {
        return Err(Refusal::conflict("This member has already been offboarded.").into());
    }
    Ok(user)
}

async fn preview(
    m: Member,
    shell: Shell,
    id: web::Path<UserId>,
    query: web::Query<PreviewQuery>,
) -> Result<HttpResponse, AppError> {
    m.require(Action::ViewAdminArea)?;
    let leaver = leaver(&m, id.into_inner()).await?;
    let receiver_id: UserId = query
        .transfer_to
        .as_deref()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| m.me.user.id.clone());
    let company = m.me.company.id.clone();
    let plan = offboarding::plan(&m.app.db, leaver.id.clone(), receiver_id, company, m.now).await?;
    let receiver = plan.receiver;
    let (mut recent_ips, now) = (plan.recent_ips, m.now);
    let upcoming = plan.meeting_types.iter().map(|p| p.upcoming.len()).sum();
    render(&OffboardPage {
        shell,
        section: "members",
        leaver_id: leaver.id.to_string(),
        leaver_name: leaver.name,
        leaver_email: leaver.email,
        receiver_id: receiver.id.to_string(),
        receiver_name: receiver.name.clone(),
        upcoming,
        meeting_types: plan
            .meeting_types
            .into_iter()
            .map(|p| PlannedMeetingType {
                title: p.meeting_type.title,
                slug: p.meeting_type.slug,
                new_slug: p.new_slug,
                upcoming: p
                    .upcoming
                    .into_iter()
                    .map(|(t, who)| format!("{} with {who}", fmt_time(Some(t))))
                    .collect(),
            })
            .collect(),
        tokens: plan
            .tokens
            .into_iter()
            .map(|t| {
                let expires = t
                    .expires_at
                    .map(|e| fmt_date(Some(e)))
                    .unwrap_or_else(|| "never".into());
                let id = t.id.to_string();
                planned(
                    id,
                    t.name,
                    t.prefix,
                    t.last_used_at,
                    expires,
                    &mut recent_ips,
                    now,
                )
            })
            .collect(),
        sessions: plan.sessions,
        invitations: plan
            .invitations
            .into_iter()
            .map(|i| format!("{} ({})", i.email, i.role))
            .collect(),
        api_keys: plan
            .api_keys
            .into_iter()
            .map(|k| {
                let expires = fmt_date(Some(k.expires_at));
                let id = k.id.to_string();
                planned(
                    id,
                    k.name,
                    k.prefix,
                    k.last_used_at,
                    expires,
                    &mut recent_ips,
                    now,
                )
            })
            .collect(),
        choices: plan
            .candidates
            .into_iter()
            .map(|u| Choice {
                selected: u.id == receiver.id,
                id: u.id.to_string(),
                label: format!("{} ({})", u.name, u.email),
            })
            .collect(),
    })
}

#[derive(Debug, Deserialize)]
pub struct ConfirmForm {
    transfer_to: String,
}

/// The confirmation posts to the preview's own address (`?transfer_to=` of the receiver the
/// preview showed) and carries that receiver in a hidden field: the one choice made on the
/// preview. A body naming someone else than the previewed address is refused, so what is done
/// is what was shown.
async fn confirm(
    m: Member,
    id: web::Path<UserId>,
    query: web::Query<PreviewQuery>,
    form: web::Form<ConfirmForm>,
) -> Result<HttpResponse, AppError> {
    m.require(Action::ViewAdminArea)?;
    let leaver = leaver(&m, id.into_inner()).await?;
    let receiver: UserId = form
        .transfer_to
        .parse()
        .map_err(|_| AppError::BadRequest("Choose who receives the meeting types.".into()))?;
    if let Some(previewed) = query.transfer_to.as_deref() {
        if previewed != receiver.as_str() {
            return Err(Refusal::conflict(
                "The preview showed the meeting types going to someone else. Look at the preview again and confirm from there.",
            )
            .into());
        }
    }
    let name = leaver.name.clone();
    let job = offboarding::Offboarding {
        leaver,
        receiver: Some(receiver),
        handover: offboarding::Handover::default(),
        requester: offboarding::Requester::Member(m.me.user.id.clone()),
        origin: m.origin.clone(),
        now: m.now,
    };
    let report = offboarding::offboard(&m.app.db, job).await?;
    offboarding::notify_receiver(&m.app.mailer, &report);
    Ok(m.redirect_with_flash(
        paths::MEMBERS,
        FlashKind::Success,
        &offboarded_in_words(&name, &report),
    ))
}

/// "Mia was offboarded: 3 meeting types and 2 upcoming appointments went to Adam; 2 tokens
/// stopped working; 1 session ended."
fn offboarded_in_words(name: &str, r: &offboarding::OffboardingReport) -> String {
    let n = |count: usize, one: &str, many: &str| {
        format!("{count} {}", if count == 1 { one } else { many })
    };
    format!(
        "{name} was offboarded: {} and {} went to {}; {} stopped working; {} ended.",
        n(r.meeting_types_moved, "meeting type", "meeting types"),
        n(
            r.appointments_moved,
            "upcoming appointment",
            "upcoming appointments"
        ),
        r.receiver_name,
        n(r.tokens_revoked, "token", "tokens"),
        n(r.sessions_ended, "session", "sessions"),
    )
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(paths::MEMBER_OFFBOARD, web::get().to(preview))
        .route(paths::MEMBER_OFFBOARD, web::post().to(confirm));
}
