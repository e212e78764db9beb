//! The signed-in landing page.

use actix_web::{web, HttpResponse};
use askama::Template;

use crate::authz::{authorize, Action, Actor};
use crate::db::models::{MeetingType, PersonalAccessToken, PlatformApiKey};
use crate::domain::{expiry::WARN_DAYS, Expiry};
use crate::error::AppError;
use crate::paths;

use super::context::Member;
use super::page::{render, Shell};
use super::views::fmt_date;

/// A credential that expires within `WARN_DAYS`, with where to regenerate it.
pub struct Expiring {
    pub name: String,
    pub prefix: String,
    pub expires: String,
    pub expiry: Expiry,
    pub detail_href: String,
    pub regenerate_href: String,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    shell: Shell,
    name: String,
    company: String,
    role: String,
    meeting_types: Vec<MeetingType>,
    active_tokens: i64,
    expiring_tokens: Vec<Expiring>,
    /// The company's keys, for those who manage them; `None` for everyone else.
    expiring_keys: Option<Vec<Expiring>>,
}

async fn dashboard(m: Member, shell: Shell) -> Result<HttpResponse, AppError> {
    let me = &m.me;
    let (id, at) = (me.user.id.clone(), m.now);
    let company = me.company.id.clone();
    let sees_keys = authorize(Actor::Member(&me.user), Action::ManageApiKeys).is_ok();
    let by = at + chrono::Duration::days(WARN_DAYS + 1);
    let (meeting_types, active_tokens, tokens, keys) = m
        .app
        .db
        .run(move |conn| {
            let keys = if sees_keys {
                Some(PlatformApiKey::expiring_in_company(conn, &company, at, by)?)
            } else {
                None
            };
            Ok::<_, AppError>((
                MeetingType::list_for_owner(conn, &id)?,
                PersonalAccessToken::count_active_of(conn, &id, at)?,
                PersonalAccessToken::expiring_of(conn, &id, at, by)?,
                keys,
            ))
        })
        .await?;
    // The database narrows to the days around the threshold; the badge's rule decides.
    let expiring_tokens = tokens
        .into_iter()
        .map(|t| Expiring {
            expiry: Expiry::of(t.expires_at, at),
            expires: fmt_date(t.expires_at),
            detail_href: paths::api_token(&t.id),
            regenerate_href: paths::api_token_regenerate(&t.id),
            name: t.name,
            prefix: t.prefix,
        })
        .filter(|e| e.expiry.is_soon())
        .collect();
    let expiring_keys = keys.map(|keys| {
        keys.into_iter()
            .map(|k| Expiring {
                expiry: Expiry::of(Some(k.expires_at), at),
                expires: fmt_date(Some(k.expires_at)),
                detail_href: paths::admin_api_key(&k.id),
                regenerate_href: paths::admin_api_key_regenerate(&k.id),
                name: k.name,
                prefix: k.prefix,
            })
            .filter(|e| e.expiry.is_soon())
            .collect()
    });
    render(&DashboardPage {
        shell,
        name: me.user.name.clone(),
        company: me.company.name.clone(),
        role: me.user.role().to_string(),
        meeting_types,
        active_tokens,
        expiring_tokens,
        expiring_keys,
    })
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(paths::DASHBOARD, web::get().to(dashboard));
}
