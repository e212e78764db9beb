//! A company's SAML identity provider and "Enforce SSO", saved and removed as one change
//! with its audit record. Owner-only (`Action::ManageSso`), checked again inside.

use diesel::prelude::*;

use crate::authz::{authorize, Action, Actor};
use crate::db::models::{Company, SamlConfig, User};
use crate::db::schema::companies;
use crate::db::{Db, Tx};
use crate::error::{AppError, Refusal};
use crate::services::audit::{self, AuditKind};
use crate::services::team::{current_actor, denied, event};
use crate::services::Acting;

const CHANGED_MEANWHILE: &str =
    "Someone changed the single sign-on settings meanwhile. Reload the page to see them, then make your change again.";

fn owner(conn: &mut Tx<'_>, by: &Acting) -> Result<crate::db::models::User, AppError> {
    let actor = current_actor(conn, &by.user)?;
    authorize(Actor::Member(&actor), Action::ManageSso).map_err(denied)?;
    Ok(actor)
}

fn set_enforced(conn: &mut Tx<'_>, by: &Acting, enforce: bool) -> QueryResult<usize> {
    diesel::update(companies::table.find(&by.user.company_id))
        .set(companies::sso_enforced.eq(enforce))
        .execute(&mut **conn)
}

/// Saves `config` over the version the admin saw (`seen`: its `updated_at`, `None` when there
/// was none); a change made meanwhile is a conflict.
pub async fn save(
    db: &Db,
    by: Acting,
    config: SamlConfig,
    seen: Option<chrono::NaiveDateTime>,
    enforce: bool,
) -> Result<(), AppError> {
    db.transaction(move |conn| {
        let owner = owner(conn, &by)?;
        if !config.save_over(conn, seen)? {
            return Err(Refusal::conflict(CHANGED_MEANWHILE).into());
        }
        let was_enforced = Company::find(conn, &owner.company_id)?.sso_enforced;
        set_enforced(conn, &by, enforce)?;
        // Turning enforcement on ends what it forbids from now on: everyone but the owner
        // signed in by password or OIDC signs in again through the IdP. Tokens keep working.
        let ended = if enforce && !was_enforced {
            User::end_non_saml_sessions_in_company(conn, &owner.company_id, &owner.id)?
        } else {
            0
        };
        audit::record(
            conn,
            &by.origin,
            event(AuditKind::SsoConfigChanged, &owner).detail(format!(
                "idp {}; sha1 {}; idp-initiated {}; enforce {}; {ended} password or OIDC sessions ended",
                config.idp_entity_id, config.allow_sha1, config.allow_idp_initiated, enforce
            )),
        )?;
        Ok(())
    })
    .await
}

/// Removes the identity provider and turns enforcement off.
pub async fn remove(db: &Db, by: Acting) -> Result<(), AppError> {
    db.transaction(move |conn| {
        let owner = owner(conn, &by)?;
        if SamlConfig::delete(conn, &owner.company_id)? == 0 {
            return Err(Refusal::conflict(CHANGED_MEANWHILE).into());
        }
        set_enforced(conn, &by, false)?;
        audit::record(
            conn,
            &by.origin,
            event(AuditKind::SsoConfigChanged, &owner).detail("SAML removed; enforce off"),
        )?;
        Ok(())
    })
    .await
}
