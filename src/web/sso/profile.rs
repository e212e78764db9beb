//! The profile: linked sign-in identities, link and unlink.

use actix_web::{web, HttpResponse};
use askama::Template;

use crate::db::models::Identity;
use crate::domain::IdentityId;
use crate::error::AppError;
use crate::paths;
use crate::services::sso as sso_service;
use crate::web::context::Member;
use crate::web::page::{render, FlashKind, Shell};
use crate::web::views::When;

pub struct IdentityRow {
    pub id: String,
    pub provider: String,
    pub email: String,
    pub linked: Option<When>,
    pub last_used: Option<When>,
}

pub struct ProviderLink {
    pub key: String,
    pub name: String,
}

#[derive(Template)]
#[template(path = "profile.html")]
struct ProfilePage {
    shell: Shell,
    name: String,
    email: String,
    role: String,
    has_password: bool,
    identities: Vec<IdentityRow>,
    providers: Vec<ProviderLink>,
}

pub(super) async fn profile(m: Member, shell: Shell) -> Result<HttpResponse, AppError> {
    let me = &m.me;
    let id = me.user.id.clone();
    let identities = m
        .app
        .db
        .run(move |conn| Identity::of_user(conn, &id))
        .await?;
    let providers = m
        .app
        .oidc
        .providers()
        .iter()
        .filter(|p| !identities.iter().any(|i| i.provider == p.key))
        .map(|p| ProviderLink {
            key: p.key.clone(),
            name: p.display_name.clone(),
        })
        .collect();
    render(&ProfilePage {
        shell,
        name: me.user.name.clone(),
        email: me.user.email.clone(),
        role: me.user.role().to_string(),
        has_password: me.user.password_hash.is_some(),
        identities: identities
            .into_iter()
            .map(|i| IdentityRow {
                id: i.id.to_string(),
                provider: i.provider,
                email: i.email,
                linked: When::of(Some(i.created_at), m.now),
                last_used: When::of(i.last_used_at, m.now),
            })
            .collect(),
        providers,
    })
}

pub(super) async fn unlink(m: Member, id: web::Path<IdentityId>) -> Result<HttpResponse, AppError> {
    Ok(
        match sso_service::unlink_identity(&m.app.db, m.acting(), id.into_inner()).await {
            Ok(identity) => m.redirect_with_flash(
                paths::PROFILE,
                FlashKind::Success,
                &format!("{} is unlinked.", identity.provider),
            ),
            Err(AppError::Refused(r)) => {
                m.redirect_with_flash(paths::PROFILE, FlashKind::Error, &r.message)
            }
            Err(e) => return Err(e),
        },
    )
}
