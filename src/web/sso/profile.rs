//! The profile: linked sign-in identities, link and unlink.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use crate::auth::oidc::Oidc;
use crate::auth::session::CurrentUser;
use crate::db::models::Identity;
use crate::db::Db;
use crate::domain::IdentityId;
use crate::error::AppError;
use crate::services::audit::Origin;
use crate::services::sso as sso_service;

use crate::web::page::{redirect_with_flash, render, FlashKind, Shell};
use crate::web::paths;

pub struct IdentityRow {
    pub id: String,
    pub provider: String,
    pub email: String,
    pub linked: String,
    pub last_used: String,
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

pub(super) async fn profile(
    shell: Shell,
    me: web::ReqData<CurrentUser>,
    db: web::Data<Db>,
    oidc: web::Data<Oidc>,
) -> Result<HttpResponse, AppError> {
    let me = me.into_inner();
    let id = me.user.id.clone();
    let identities = db.run(move |conn| Identity::of_user(conn, &id)).await?;
    let providers = oidc
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
                linked: crate::web::views::fmt_time(Some(i.created_at)),
                last_used: crate::web::views::fmt_time(i.last_used_at),
            })
            .collect(),
        providers,
    })
}

pub(super) async fn unlink(
    req: HttpRequest,
    me: web::ReqData<CurrentUser>,
    db: web::Data<Db>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id: IdentityId = path.into_inner().parse().map_err(|_| AppError::NotFound)?;
    let user = me.into_inner().user;
    let origin = Origin::of(&req);
    let outcome = db
        .transaction(move |conn| sso_service::unlink(conn, &user, &id, &origin))
        .await?;
    Ok(match outcome {
        Ok(identity) => redirect_with_flash(
            &req,
            paths::PROFILE,
            FlashKind::Success,
            &format!("{} is unlinked.", identity.provider),
        ),
        Err(r) => redirect_with_flash(&req, paths::PROFILE, FlashKind::Error, &r.0),
    })
}
