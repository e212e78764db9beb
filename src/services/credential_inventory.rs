//! Governing members' credentials from Settings → Credentials: an admin revokes someone
//! else's Personal Access Token, with a reason the token's owner is mailed.

use crate::authz::{authorize, Action, Actor};
use crate::db::models::{PersonalAccessToken, User};
use crate::db::Db;
use crate::domain::{Reason, TokenId};
use crate::error::{AppError, Refusal};
use crate::services::audit::{self, AuditKind, Event, Subject};
use crate::services::mail::{Mail, Mailer};
use crate::services::team::current_actor;
use crate::services::Acting;

/// A token revoked from the inventory, with who owned it and who revoked it.
pub struct RevokedPat {
    pub token: PersonalAccessToken,
    pub owner: User,
    pub by: User,
}

/// The token `id` of a member of the acting admin's company, if the admin may revoke it;
/// a token of another company is "not found".
pub async fn find_revocable(
    db: &Db,
    by: &User,
    id: TokenId,
) -> Result<(PersonalAccessToken, User), AppError> {
    let company = by.company_id.clone();
    let (token, owner) = db
        .run(move |conn| PersonalAccessToken::find_in_company(conn, &company, &id))
        .await?
        .ok_or(AppError::NotFound)?;
    permit(by, &owner)?;
    Ok((token, owner))
}

fn permit(by: &User, owner: &User) -> Result<(), AppError> {
    authorize(Actor::Member(by), Action::ViewCredentials)
        .and_then(|()| authorize(Actor::Member(by), Action::RevokePatOf(owner)))
        .map_err(|denied| Refusal::forbidden(denied.0).into())
}

/// Revokes a member's token in one transaction (permissions checked again inside it), records
/// `pat.revoked_by_admin` with the reason, then mails the owner. Of several revocations at
/// once one wins; the others are told it was already revoked.
pub async fn revoke_member_pat(
    db: &Db,
    mailer: &Mailer,
    public_url: &str,
    by: Acting,
    id: TokenId,
    reason: Reason,
) -> Result<RevokedPat, AppError> {
    let detail = reason.clone();
    let revoked = db
        .transaction(move |conn| {
            let admin = current_actor(conn, &by.user)?;
            let (token, owner) =
                PersonalAccessToken::find_in_company(conn, &admin.company_id, &id)?
                    .ok_or(AppError::NotFound)?;
            permit(&admin, &owner)?;
            if PersonalAccessToken::revoke_at(conn, &id, by.now)? == 0 {
                return Err(Refusal::conflict(format!(
                    "Token \u{201c}{}\u{201d} of {} was already revoked; nothing was changed.",
                    token.name, owner.name
                ))
                .into());
            }
            let mut event = Event::new(AuditKind::PatRevokedByAdmin)
                .company(&admin.company_id)
                .actor(&admin.id)
                .subject(Subject::Pat(token.id.clone()))
                .target(format!(
                    "token {} ({}) of {}",
                    token.name, token.id, owner.email
                ));
            if let Some(reason) = detail.as_deref() {
                event = event.reason(reason);
            }
            audit::record(conn, &by.origin, event)?;
            Ok(RevokedPat {
                token,
                owner,
                by: admin,
            })
        })
        .await?;
    // The revocation stands whether or not the mail goes out; a failed mail is logged.
    if let Err(e) = mailer.send(notice(&revoked, &reason, public_url)).await {
        tracing::warn!(error = %e, "mailing the owner of a revoked token failed");
    }
    Ok(revoked)
}

/// The mail to the token's owner: who revoked which token and why; never the secret.
fn notice(revoked: &RevokedPat, reason: &Reason, public_url: &str) -> Mail {
    let RevokedPat { token, owner, by } = revoked;
    let why = reason.as_deref().unwrap_or("(no reason given)");
    Mail {
        to: owner.email.clone(),
        subject: format!(
            "Your access token \u{201c}{}\u{201d} was revoked",
            token.name
        ),
        body: format!(
            "Hello {owner_name},\n\n\
             {by_name} ({by_email}) revoked your Personal Access Token \u{201c}{name}\u{201d} \
             ({prefix}\u{2026}). It no longer works; anything that used it stops.\n\n\
             Reason: {why}\n\n\
             If you still need API access, create a new token: {public_url}{tokens}\n",
            owner_name = owner.name,
            by_name = by.name,
            by_email = by.email,
            name = token.name,
            prefix = token.prefix,
            tokens = crate::paths::API_TOKENS,
        ),
    }
}
