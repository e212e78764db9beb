//! The signed-in landing page.

use actix_web::{web, HttpResponse};
use askama::Template;

use crate::authz::{authorize, Action, Actor};
use crate::db::models::{MeetingType, PersonalAccessToken, PlatformApiKey};
use crate::domain::{expiry::WARN_DAYS, Expiry};
use crate::error::AppError;
use crate::paths;
use crate::services::checklist::{self, Fix, Item};

use super::context::Member;
use super::page::{render, Shell};
use super::views::When;

/// A credential that expires within `WARN_DAYS`, with where to regenerate it.
pub struct Expiring {
    pub name: String,
    pub prefix: String,
    pub expires: Option<When>,
    pub expiry: Expiry,
    pub detail_href: String,
    pub regenerate_href: String,
}

/// A name a checklist item lists, with when it was last seen.
pub struct NamedView {
    pub name: String,
    pub href: String,
    pub last_seen: Option<When>,
}

/// A checklist item's fix: a link, or a one-switch form posted with these hidden fields.
pub struct FixView {
    pub href: String,
    pub label: String,
    pub post: bool,
    pub fields: Vec<(&'static str, String)>,
}

/// One checklist item as the page shows it.
pub struct CheckView {
    pub id: &'static str,
    pub title: &'static str,
    pub ok: bool,
    pub state: &'static str,
    pub state_label: &'static str,
    pub summary: String,
    pub fix: Option<FixView>,
    pub names: Vec<NamedView>,
    pub more: usize,
}

impl CheckView {
    fn of(item: Item, now: chrono::NaiveDateTime) -> Self {
        Self {
            id: item.id,
            title: item.title,
            ok: item.is_ok(),
            state: item.state.as_str(),
            state_label: item.state.label(),
            summary: item.summary,
            fix: item.fix.map(|fix| match fix {
                Fix::Link { href, label } => FixView {
                    href,
                    label,
                    post: false,
                    fields: Vec::new(),
                },
                Fix::Switch {
                    action,
                    fields,
                    label,
                } => FixView {
                    href: action.to_owned(),
                    label: label.to_owned(),
                    post: true,
                    fields,
                },
            }),
            names: item
                .names
                .into_iter()
                .map(|n| NamedView {
                    name: n.name,
                    href: n.href,
                    last_seen: When::of(n.last_seen, now),
                })
                .collect(),
            more: item.more,
        }
    }
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    shell: Shell,
    /// The company's checklist items (owners and admins), then one's own.
    company_checks: Option<Vec<CheckView>>,
    personal_checks: Vec<CheckView>,
    checks_done: usize,
    checks_total: usize,
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
    let checks = checklist::for_viewer(&m.app.db, me.user.clone(), at).await?;
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
            expires: When::of(t.expires_at, at),
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
                expires: When::of(Some(k.expires_at), at),
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
        checks_done: checks.done(),
        checks_total: checks.total(),
        company_checks: checks
            .company
            .map(|items| items.into_iter().map(|i| CheckView::of(i, at)).collect()),
        personal_checks: checks
            .personal
            .into_iter()
            .map(|i| CheckView::of(i, at))
            .collect(),
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
