//! Inviting people from the members page: send, send again, revoke. The link is mailed and
//! shown once to the admin.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;

use crate::authz::Action;
use crate::domain::{Email, FieldError, InvitationId, Role};
use crate::error::{AppError, Refusal};
use crate::paths;
use crate::services::invitations;
use crate::services::mail::Mail;
use crate::web::context::Member;
use crate::web::page::{render, render_with_status, FlashKind, Shell};
use crate::web::views::{fmt_date, Version};

use super::members::{members_page, PageInput};

#[derive(Debug, Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
}

/// Mails the invitation link. Only the invitee ever sees it: accepting it proves they read
/// mail at the address, which is why acceptance confirms the address.
async fn send_invitation(
    m: &Member,
    issued: &invitations::IssuedInvitation,
) -> Result<(), AppError> {
    let link = format!(
        "{}{}",
        m.app.settings.public_url,
        paths::invitation(&issued.token)
    );
    let (company, inviter) = (&m.me.company.name, &m.me.user.name);
    let expires = fmt_date(Some(issued.invitation.expires_at));
    m.app
        .mailer
        .send(Mail {
            to: issued.invitation.email.clone(),
            subject: format!("{inviter} invited you to {company} on meetergo"),
            body: format!(
                "Hello,\n\n{inviter} invited you to join {company} on the meetergo console.\n\n\
                 Accept the invitation here (valid until {expires}, usable once):\n{link}\n\n\
                 If you did not expect this, ignore this email.\n"
            ),
        })
        .await
}

/// The members page with a confirmation that the invitation was mailed.
async fn show_sent(
    shell: Shell,
    m: &Member,
    confirmation: String,
) -> Result<HttpResponse, AppError> {
    let mut page = members_page(shell, m, PageInput::default()).await?;
    page.shell.flashes.push(crate::web::page::Flash {
        kind: FlashKind::Success,
        text: confirmation,
    });
    render(&page)
}

/// Checks the invitation form: both values, or the message beside each wrong one.
fn parse_invite(form: &InviteForm) -> Result<(Email, Role), Vec<FieldError>> {
    let email = Email::parse("email", &form.email);
    let role = match Role::parse(&form.role) {
        Some(r @ (Role::Admin | Role::Member)) => Ok(r),
        _ => Err(FieldError::new("role", "Choose member or admin.")),
    };
    match (email, role) {
        (Ok(email), Ok(role)) => Ok((email, role)),
        (email, role) => Err([email.err(), role.err()].into_iter().flatten().collect()),
    }
}

/// Invitation mails a company may send per hour (`INVITE_RATE_LIMIT_PER_HOUR`).
async fn limit_invitations(m: &Member) -> Result<(), AppError> {
    m.app
        .limits
        .invitation(m.me.company.id.as_str())
        .await
        .map_err(|r| AppError::RateLimited {
            retry_after_secs: r.0,
        })
}

/// Invites and mails the link. A mail that cannot be sent takes the invitation back, so
/// nothing half-done stays, and is refused beside the email field.
async fn invite_and_send(
    m: &Member,
    email: Email,
    role: Role,
) -> Result<invitations::IssuedInvitation, AppError> {
    limit_invitations(m).await?;
    let (keys, ttl) = (m.app.keys.clone(), m.app.settings.invitation_ttl_days);
    let issued = invitations::invite(&m.app.db, keys, m.acting(), email, role, ttl).await?;
    match send_invitation(m, &issued).await {
        Ok(()) => Ok(issued),
        Err(e) => {
            tracing::warn!(error = %e, "invitation mail not sent; invitation withdrawn");
            invitations::withdraw_unsent(&m.app.db, m.acting(), issued.invitation).await?;
            Err(Refusal::field(
                "email",
                "The invitation could not be mailed to this address, so it was not sent. \
                 Check the address, or try again in a few minutes.",
            )
            .into())
        }
    }
}

async fn invite(
    m: Member,
    shell: Shell,
    form: web::Form<InviteForm>,
) -> Result<HttpResponse, AppError> {
    m.require(Action::ViewAdminArea)?;
    let form = form.into_inner();
    let errors = match parse_invite(&form) {
        Ok((email, role)) => match invite_and_send(&m, email, role).await {
            Ok(issued) => {
                let confirmation = format!("Invitation sent to {}.", issued.invitation.email);
                return show_sent(shell, &m, confirmation).await;
            }
            Err(AppError::Refused(r)) => vec![r.as_field_error("email")],
            Err(e) => return Err(e),
        },
        Err(errors) => errors,
    };
    // What was typed stays in the form, with the message beside the field.
    let input = PageInput {
        invite_email: form.email,
        invite_role: form.role,
        errors,
        ..PageInput::default()
    };
    render_with_status(
        StatusCode::UNPROCESSABLE_ENTITY,
        &members_page(shell, &m, input).await?,
    )
}

#[derive(Debug, Deserialize)]
pub struct ResendForm {
    /// The page's `link_version`: a resend over a link that changed meanwhile (another
    /// resend, from this or another tab) is a conflict. Without it, the link read now.
    replaces: Option<String>,
}

async fn resend(
    m: Member,
    shell: Shell,
    id: web::Path<InvitationId>,
    form: web::Form<ResendForm>,
) -> Result<HttpResponse, AppError> {
    m.require(Action::ViewAdminArea)?;
    let replaces = match form.replaces.as_deref() {
        Some(raw) => Version::parse(raw)?.0,
        None => None,
    };
    limit_invitations(&m).await?;
    let (keys, ttl) = (m.app.keys.clone(), m.app.settings.invitation_ttl_days);
    let issued =
        invitations::resend(&m.app.db, keys, m.acting(), id.into_inner(), replaces, ttl).await?;
    match send_invitation(&m, &issued).await {
        Ok(()) => {}
        Err(e) => {
            tracing::warn!(error = %e, "invitation mail not sent again");
            return Ok(m.redirect_with_flash(
                paths::MEMBERS,
                FlashKind::Error,
                &format!(
                    "The invitation could not be mailed to {}. Check the address, or try again \
                     in a few minutes.",
                    issued.invitation.email
                ),
            ));
        }
    };
    let confirmation = format!(
        "Invitation sent again to {}. The previous link no longer works.",
        issued.invitation.email
    );
    show_sent(shell, &m, confirmation).await
}

async fn revoke(m: Member, id: web::Path<InvitationId>) -> Result<HttpResponse, AppError> {
    m.require(Action::ViewAdminArea)?;
    let invitation = invitations::revoke_invitation(&m.app.db, m.acting(), id.into_inner()).await?;
    Ok(m.redirect_with_flash(
        paths::MEMBERS,
        FlashKind::Success,
        &format!("Invitation for {} revoked.", invitation.email),
    ))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(paths::MEMBER_INVITE, web::post().to(invite))
        .route(paths::INVITATION_RESEND, web::post().to(resend))
        .route(paths::INVITATION_REVOKE, web::post().to(revoke));
}
