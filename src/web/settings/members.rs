//! Members: the list, roles and "sign out everywhere" (invitations: `invitations`).

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::authz::{authorize, Action, Actor};
use crate::db::models::{Invitation, PersonalAccessToken, User};
use crate::domain::{FieldError, Role, SearchText, UserId};
use crate::error::{AppError, RefusalKind};
use crate::paths;
use crate::services::team;
use crate::web::context::Member;
use crate::web::page::{render, render_with_status, FlashKind, FormErrors, Shell};
use crate::web::views::{Version, When};

pub const PAGE_SIZE: i64 = 25;
/// Far beyond any real list; keeps `(page - 1) * size` from overflowing.
pub const MAX_PAGE: i64 = 1_000_000;

pub struct MemberRow {
    pub id: String,
    pub name: String,
    pub email: String,
    pub role: String,
    pub status: String,
    pub joined: When,
    pub last_sign_in: Option<When>,
    pub active_tokens: i64,
    pub is_me: bool,
    /// The roles the select offers: the current one and those the viewer may set. Empty when
    /// the viewer can change nothing (then the role is plain text, not a one-option select).
    pub role_choices: Vec<&'static str>,
    /// Why the last role change for this person was refused, shown beside their select.
    pub role_error: Option<String>,
    pub can_sign_out: bool,
    pub can_offboard: bool,
    /// Download their personal data (GDPR export), removed members included.
    pub can_export: bool,
}

pub struct InvitationRow {
    pub id: String,
    pub email: String,
    pub role: String,
    pub invited_by: String,
    pub expires: When,
    /// The link a resend replaces: its expiry, which every resend moves on.
    pub link_version: Version,
}

#[derive(Template)]
#[template(path = "settings/members.html")]
pub(super) struct MembersPage {
    pub(super) shell: Shell,
    section: &'static str,
    rows: Vec<MemberRow>,
    invitations: Vec<InvitationRow>,
    query: String,
    page: i64,
    pages: i64,
    /// People who can still sign in or be reactivated: removed members are counted apart.
    people: i64,
    removed: i64,
    invite_email: String,
    invite_role: String,
    invite_roles: Vec<&'static str>,
    errors: FormErrors,
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    page: Option<i64>,
}

#[derive(Default)]
pub(super) struct PageInput {
    pub(super) query: String,
    pub(super) page: i64,
    pub(super) invite_email: String,
    pub(super) invite_role: String,
    pub(super) errors: Vec<FieldError>,
    /// A refused role change: whose, and why.
    pub(super) role_error: Option<(UserId, String)>,
}

pub(super) async fn members_page(
    shell: Shell,
    m: &Member,
    input: PageInput,
) -> Result<MembersPage, AppError> {
    let me = &m.me;
    let company = me.company.id.clone();
    let at = m.now;
    let (q, page) = (SearchText::new(&input.query), input.page.clamp(1, MAX_PAGE));
    let (users, total, removed, counts, pending) = m
        .app
        .db
        .run(move |conn| {
            let (users, total) =
                User::search_in_company(conn, &company, &q, PAGE_SIZE, (page - 1) * PAGE_SIZE)?;
            let removed = User::count_removed_matching(conn, &company, &q)?;
            let ids: Vec<UserId> = users.iter().map(|u| u.id.clone()).collect();
            let counts = PersonalAccessToken::active_counts(conn, &ids, at)?;
            let pending = Invitation::pending_in_company(conn, &company, at)?;
            Ok::<_, AppError>((users, total, removed, counts, pending))
        })
        .await?;
    let viewer = &me.user;
    let rows = users
        .iter()
        .map(|u| {
            let mut row = member_row(viewer, u, &counts, at);
            if let Some((_, why)) = input.role_error.as_ref().filter(|(id, _)| *id == u.id) {
                row.role_error = Some(why.clone());
            }
            row
        })
        .collect();
    let invite_roles = [Role::Member, Role::Admin]
        .into_iter()
        .filter(|r| authorize(Actor::Member(viewer), Action::Invite { role: *r }).is_ok())
        .map(Role::as_str)
        .collect();
    Ok(MembersPage {
        shell,
        section: "members",
        rows,
        invitations: pending
            .into_iter()
            .map(|(i, by)| InvitationRow {
                id: i.id.to_string(),
                email: i.email,
                role: i.role.to_string(),
                invited_by: by,
                expires: When::at(i.expires_at, at),
                link_version: Version(Some(i.expires_at)),
            })
            .collect(),
        query: input.query,
        page,
        pages: ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1),
        people: total - removed,
        removed,
        invite_email: input.invite_email,
        invite_role: if input.invite_role.is_empty() {
            Role::Member.as_str().to_owned()
        } else {
            input.invite_role
        },
        invite_roles,
        errors: FormErrors(input.errors),
    })
}

fn member_row(
    viewer: &User,
    u: &User,
    counts: &HashMap<UserId, i64>,
    now: chrono::NaiveDateTime,
) -> MemberRow {
    let actor = Actor::Member(viewer);
    let live = u.status() != crate::domain::UserStatus::Removed;
    let may = |to: Role| authorize(actor, Action::ChangeRole { target: u, to }).is_ok();
    // A select is worth showing only when some other role than the current one can be saved.
    let changeable = live
        && [Role::Member, Role::Admin]
            .into_iter()
            .any(|r| r != u.role() && may(r));
    let role_choices = if changeable {
        [Role::Member, Role::Admin]
            .into_iter()
            .filter(|r| *r == u.role() || may(*r))
            .map(Role::as_str)
            .collect()
    } else {
        Vec::new()
    };
    MemberRow {
        id: u.id.to_string(),
        name: u.name.clone(),
        email: u.email.clone(),
        role: u.role().to_string(),
        status: u.status().as_str().to_owned(),
        joined: When::at(u.created_at, now),
        last_sign_in: When::of(u.last_sign_in_at, now),
        active_tokens: counts.get(&u.id).copied().unwrap_or(0),
        is_me: u.id == viewer.id,
        role_choices,
        role_error: None,
        can_sign_out: live && authorize(actor, Action::SignOutEverywhere(u)).is_ok(),
        can_offboard: live && authorize(actor, Action::Offboard(u)).is_ok(),
        can_export: authorize(actor, Action::ExportPersonalData(u)).is_ok(),
    }
}

async fn list(
    m: Member,
    shell: Shell,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    m.require(Action::ViewAdminArea)?;
    let query = query.into_inner();
    let input = PageInput {
        query: SearchText::new(&query.q).as_str().to_owned(),
        page: query.page.unwrap_or(1),
        ..PageInput::default()
    };
    render(&members_page(shell, &m, input).await?)
}

#[derive(Debug, Deserialize)]
pub struct RoleForm {
    role: String,
    /// The role the page showed: a change made meanwhile by someone else is then a conflict.
    from: Option<String>,
}

/// "is now an admin", "is now a member", "is now the owner".
fn role_in_words(role: Role) -> &'static str {
    match role {
        Role::Owner => "the owner",
        Role::Admin => "an admin",
        Role::Member => "a member",
    }
}

async fn change_role(
    m: Member,
    shell: Shell,
    target: web::Path<UserId>,
    form: web::Form<RoleForm>,
) -> Result<HttpResponse, AppError> {
    m.require(Action::ViewAdminArea)?;
    let role = Role::parse(&form.role)
        .ok_or_else(|| AppError::BadRequest("Choose admin or member.".into()))?;
    let from = match form.from.as_deref() {
        None => None,
        Some(raw) => Some(
            Role::parse(raw).ok_or_else(|| AppError::BadRequest("Unknown current role.".into()))?,
        ),
    };
    let target = target.into_inner();
    match team::change_role(&m.app.db, m.acting(), target.clone(), from, role).await {
        Ok(user) => Ok(m.redirect_with_flash(
            paths::MEMBERS,
            FlashKind::Success,
            &format!("{} is now {}.", user.name, role_in_words(role)),
        )),
        // The list again, with the reason beside that person's role select.
        Err(AppError::Refused(r))
            if matches!(r.kind, RefusalKind::Forbidden | RefusalKind::Conflict) =>
        {
            let input = PageInput {
                role_error: Some((target, r.message.clone())),
                ..PageInput::default()
            };
            render_with_status(r.status(), &members_page(shell, &m, input).await?)
        }
        Err(e) => Err(e),
    }
}

async fn sign_out_everywhere(
    m: Member,
    target: web::Path<UserId>,
) -> Result<HttpResponse, AppError> {
    m.require(Action::ViewAdminArea)?;
    let (user, ended) =
        team::sign_out_everywhere(&m.app.db, m.acting(), target.into_inner()).await?;
    Ok(m.redirect_with_flash(
        paths::MEMBERS,
        FlashKind::Success,
        &format!(
            "{} was signed out everywhere ({ended} session{}).",
            user.name,
            if ended == 1 { "" } else { "s" }
        ),
    ))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(paths::MEMBERS, web::get().to(list))
        .route(paths::MEMBER_ROLE, web::post().to(change_role))
        .route(paths::MEMBER_SIGN_OUT, web::post().to(sign_out_everywhere));
    super::invitations::routes(cfg);
}
