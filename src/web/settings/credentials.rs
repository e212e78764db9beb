//! Settings → Credentials: every member's Personal Access Tokens and the company's API keys
//! in one table (owners and admins), filtered, sorted and paged by the database, exported as
//! CSV with the same filters; and revoking a member's token with a reason.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::{Duration, NaiveDateTime};
use serde::Deserialize;

use crate::authz::{authorize, Action, Actor};
use crate::db::models::{
    CredentialKind, CredentialStatus, InventoryFilter, InventoryItem, InventorySort, User,
};
use crate::domain::{Expiry, FieldError, Reason, SearchText, TokenId, UserId};
use crate::error::{AppError, RefusalKind};
use crate::paths;
use crate::services::credential_inventory;
use crate::web::context::Member;
use crate::web::csv_export::safe_cell;
use crate::web::page::{render, render_with_status, FlashKind, FormErrors, Shell};
use crate::web::views::{fmt_date, fmt_time, When};

const PAGE_SIZE: i64 = 50;
const CSV_LIMIT: i64 = 100_000;
/// The longest "expiring within" / "unused for" a filter takes: ten years.
const MAX_FILTER_DAYS: i64 = 3650;

const STATUSES: [CredentialStatus; 5] = [
    CredentialStatus::Active,
    CredentialStatus::Expired,
    CredentialStatus::Revoked,
    CredentialStatus::Deactivated,
    CredentialStatus::Replaced,
];

#[derive(Debug, Default, Deserialize, Clone)]
pub struct InventoryQuery {
    #[serde(default)]
    person: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    expiring_within: String,
    #[serde(default)]
    unused_for: String,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    dir: String,
    page: Option<i64>,
}

fn days(raw: &str) -> Option<i64> {
    raw.trim()
        .parse::<i64>()
        .ok()
        .filter(|d| (1..=MAX_FILTER_DAYS).contains(d))
}

impl InventoryQuery {
    /// Each box cut to what a filter can hold, before it is used or echoed in links.
    fn capped(self) -> Self {
        let cap = |s: String| SearchText::new(&s).as_str().to_owned();
        Self {
            person: cap(self.person),
            kind: cap(self.kind),
            status: cap(self.status),
            expiring_within: cap(self.expiring_within),
            unused_for: cap(self.unused_for),
            sort: cap(self.sort),
            dir: cap(self.dir),
            page: self.page,
        }
    }

    fn sort(&self) -> InventorySort {
        InventorySort::parse(&self.sort).unwrap_or_default()
    }

    /// Newest first unless asked otherwise.
    fn descending(&self) -> bool {
        self.dir != "asc"
    }

    fn filter(&self, now: NaiveDateTime) -> InventoryFilter {
        InventoryFilter {
            person: self.person.parse::<UserId>().ok(),
            kind: CredentialKind::parse(&self.kind),
            status: STATUSES
                .into_iter()
                .find(|s| s.label() == self.status.as_str()),
            expiring_by: days(&self.expiring_within).map(|d| now + Duration::days(d)),
            unused_since: days(&self.unused_for).map(|d| now - Duration::days(d)),
            sort: self.sort(),
            descending: self.descending(),
            now,
        }
    }

    fn pairs(&self) -> Vec<(&'static str, &str)> {
        vec![
            ("person", self.person.as_str()),
            ("kind", self.kind.as_str()),
            ("status", self.status.as_str()),
            ("expiring_within", self.expiring_within.as_str()),
            ("unused_for", self.unused_for.as_str()),
        ]
    }

    /// The filters (without sorting) as a query string, for the column headers.
    fn filter_string(&self) -> String {
        serde_urlencoded::to_string(self.pairs()).unwrap_or_default()
    }

    /// Filters and sorting, for pagination and the export link.
    fn query_string(&self) -> String {
        let mut pairs = self.pairs();
        pairs.push(("sort", self.sort().as_str()));
        pairs.push(("dir", if self.descending() { "desc" } else { "asc" }));
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    }
}

pub struct InventoryRow {
    pub kind: &'static str,
    pub kind_label: &'static str,
    pub id: String,
    pub name: String,
    pub detail_href: String,
    pub prefix: String,
    pub person: String,
    pub person_email: String,
    pub created: String,
    pub expires: String,
    pub expiry: Expiry,
    pub last_used: String,
    pub last_used_ip: String,
    pub status: &'static str,
    /// Where this row's credential is revoked, when the viewer may and it is not yet.
    pub revoke_href: Option<String>,
    /// The same moments for the page: words, with the exact UTC time beside them.
    pub created_at: When,
    pub expires_at: Option<When>,
    pub last_used_at: Option<When>,
}

impl InventoryRow {
    /// Neither revoked nor replaced: the expiry badge applies.
    pub fn is_live(&self) -> bool {
        self.status != "revoked" && self.status != "replaced"
    }
}

fn row(item: InventoryItem, viewer: &User, now: NaiveDateTime) -> InventoryRow {
    let (kind_label, detail_href, revoke_href) = match item.kind {
        CredentialKind::Pat => {
            let may = authorize(Actor::Member(viewer), Action::RevokePatOf(&item.person)).is_ok();
            let live = item.status != CredentialStatus::Revoked;
            (
                "Personal Access Token",
                paths::api_token(&item.id),
                (may && live).then(|| paths::credential_revoke(&item.id)),
            )
        }
        // Keys are revoked where they are managed, on Settings → API.
        CredentialKind::ApiKey => (
            "API key",
            paths::admin_api_key(&item.id),
            (item.status != CredentialStatus::Revoked).then(|| paths::ADMIN_API_KEYS.to_owned()),
        ),
    };
    InventoryRow {
        kind: item.kind.as_str(),
        kind_label,
        detail_href,
        revoke_href,
        expiry: Expiry::of(item.expires_at, now),
        created_at: When::at(item.created_at, now),
        expires_at: When::of(item.expires_at, now),
        last_used_at: When::of(item.last_used_at, now),
        expires: item
            .expires_at
            .map(|e| fmt_date(Some(e)))
            .unwrap_or_else(|| "never".into()),
        id: item.id,
        name: item.name,
        prefix: item.prefix,
        person: item.person.name.clone(),
        person_email: item.person.email.clone(),
        created: fmt_time(Some(item.created_at)),
        last_used: fmt_time(item.last_used_at),
        last_used_ip: item.last_used_ip.unwrap_or_default(),
        status: item.status.label(),
    }
}

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// A sortable column header: its link, and whether the table is sorted by it now.
pub struct SortHeader {
    pub label: &'static str,
    pub key: &'static str,
    pub href: String,
    /// "ascending" or "descending" when the table is sorted by this column (aria-sort).
    pub current: Option<&'static str>,
    /// ▲ or ▼ beside the current column (aria-sort says it to screen readers).
    pub arrow: &'static str,
}

#[derive(Template)]
#[template(path = "settings/credentials.html")]
struct InventoryPage {
    shell: Shell,
    section: &'static str,
    rows: Vec<InventoryRow>,
    people: Vec<Choice>,
    kinds: Vec<Choice>,
    statuses: Vec<Choice>,
    expiring_within: String,
    unused_for: String,
    sort: &'static str,
    dir: &'static str,
    headers: Vec<SortHeader>,
    page: i64,
    pages: i64,
    total: i64,
    query_string: String,
}

fn choices(options: &[(&str, &str)], current: &str) -> Vec<Choice> {
    options
        .iter()
        .map(|(value, label)| Choice {
            value: (*value).to_owned(),
            label: (*label).to_owned(),
            selected: *value == current,
        })
        .collect()
}

fn headers(query: &InventoryQuery) -> Vec<SortHeader> {
    let filters = query.filter_string();
    [
        ("Name", InventorySort::Name),
        ("Owner / creator", InventorySort::Owner),
        ("Created", InventorySort::Created),
        ("Expires", InventorySort::Expires),
        ("Last used", InventorySort::LastUsed),
    ]
    .into_iter()
    .map(|(label, sort)| {
        let active = query.sort() == sort;
        // A click on the current column turns it around; a new column starts ascending.
        let dir = if active && !query.descending() {
            "desc"
        } else {
            "asc"
        };
        SortHeader {
            label,
            key: sort.as_str(),
            href: format!(
                "{}?{filters}&sort={}&dir={dir}",
                paths::CREDENTIALS,
                sort.as_str()
            ),
            current: active.then_some(if query.descending() {
                "descending"
            } else {
                "ascending"
            }),
            arrow: match (active, query.descending()) {
                (false, _) => "",
                (true, true) => "\u{25bc}",
                (true, false) => "\u{25b2}",
            },
        }
    })
    .collect()
}

async fn load(
    m: &Member,
    query: &InventoryQuery,
    page: i64,
    page_size: i64,
) -> Result<(Vec<InventoryRow>, i64, i64, Vec<User>), AppError> {
    let (company, filter) = (m.me.company.id.clone(), query.filter(m.now));
    let (items, total, page, people) = m
        .app
        .db
        .run(move |conn| {
            // Counted first, so a page past the end shows the last page.
            let (_, total) = InventoryItem::search(conn, &company, &filter, 0, 0)?;
            let last = ((total + page_size - 1) / page_size).max(1);
            let page = page.clamp(1, last);
            let (items, total) =
                InventoryItem::search(conn, &company, &filter, page_size, (page - 1) * page_size)?;
            let people = User::list_in_company(conn, &company, 10_000, 0)?.0;
            Ok::<_, AppError>((items, total, page, people))
        })
        .await?;
    let viewer = &m.me.user;
    let rows = items.into_iter().map(|i| row(i, viewer, m.now)).collect();
    Ok((rows, total, page, people))
}

async fn list(
    m: Member,
    shell: Shell,
    query: web::Query<InventoryQuery>,
) -> Result<HttpResponse, AppError> {
    m.require(Action::ViewCredentials)?;
    let query = query.into_inner().capped();
    let requested = query
        .page
        .unwrap_or(1)
        .clamp(1, crate::web::settings::members::MAX_PAGE);
    let (rows, total, page, people) = load(&m, &query, requested, PAGE_SIZE).await?;
    render(&InventoryPage {
        shell,
        section: "credentials",
        rows,
        people: people
            .iter()
            .map(|u| Choice {
                value: u.id.to_string(),
                label: format!("{} ({})", u.name, u.email),
                selected: u.id.as_str() == query.person,
            })
            .collect(),
        kinds: choices(
            &[("pat", "Personal Access Tokens"), ("api_key", "API keys")],
            &query.kind,
        ),
        statuses: choices(
            &[
                ("active", "Active"),
                ("expired", "Expired"),
                ("revoked", "Revoked"),
                ("deactivated", "Deactivated"),
                ("replaced", "Replaced (regenerated)"),
            ],
            &query.status,
        ),
        expiring_within: query.expiring_within.clone(),
        unused_for: query.unused_for.clone(),
        sort: query.sort().as_str(),
        dir: if query.descending() { "desc" } else { "asc" },
        headers: headers(&query),
        page,
        pages: ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1),
        total,
        query_string: query.query_string(),
    })
}

async fn export(m: Member, query: web::Query<InventoryQuery>) -> Result<HttpResponse, AppError> {
    m.require(Action::ViewCredentials)?;
    let query = query.into_inner().capped();
    let (rows, _, _, _) = load(&m, &query, 1, CSV_LIMIT).await?;
    let mut out = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| AppError::Internal(anyhow::anyhow!("csv: {e}"));
    out.write_record([
        "kind",
        "owner",
        "owner_email",
        "name",
        "prefix",
        "created",
        "expires",
        "last_used",
        "last_used_ip",
        "status",
    ])
    .map_err(fail)?;
    for r in rows {
        out.write_record(
            [
                r.kind.to_owned(),
                r.person,
                r.person_email,
                r.name,
                r.prefix,
                r.created,
                r.expires,
                r.last_used,
                r.last_used_ip,
                r.status.to_owned(),
            ]
            .map(safe_cell),
        )
        .map_err(fail)?;
    }
    crate::web::csv_export::attachment(out, "credentials.csv")
}

#[derive(Template)]
#[template(path = "settings/credential_revoke.html")]
struct RevokePage {
    shell: Shell,
    section: &'static str,
    id: String,
    name: String,
    prefix: String,
    owner: String,
    owner_email: String,
    created: When,
    expires: Option<When>,
    expiry: Expiry,
    last_used: Option<When>,
    last_used_ip: String,
    revoked: bool,
    reason: String,
    errors: FormErrors,
    max_reason: usize,
}

async fn revoke_page(
    m: &Member,
    shell: Shell,
    id: TokenId,
    reason: String,
    errors: Vec<FieldError>,
) -> Result<RevokePage, AppError> {
    let (token, owner) = credential_inventory::find_revocable(&m.app.db, &m.me.user, id).await?;
    Ok(RevokePage {
        shell,
        section: "credentials",
        id: token.id.to_string(),
        revoked: token.revoked_at.is_some(),
        expiry: Expiry::of(token.expires_at, m.now),
        expires: When::of(token.expires_at, m.now),
        name: token.name,
        prefix: token.prefix,
        owner: owner.name,
        owner_email: owner.email,
        created: When::at(token.created_at, m.now),
        last_used: When::of(token.last_used_at, m.now),
        last_used_ip: token.last_used_ip.unwrap_or_default(),
        reason,
        errors: FormErrors(errors),
        max_reason: Reason::MAX_CHARS,
    })
}

async fn confirm_revoke(
    m: Member,
    shell: Shell,
    id: web::Path<TokenId>,
) -> Result<HttpResponse, AppError> {
    m.require(Action::ViewCredentials)?;
    render(&revoke_page(&m, shell, id.into_inner(), String::new(), Vec::new()).await?)
}

#[derive(Debug, Default, Deserialize)]
pub struct RevokeForm {
    #[serde(default)]
    reason: String,
}

async fn revoke(
    m: Member,
    shell: Shell,
    id: web::Path<TokenId>,
    form: web::Form<RevokeForm>,
) -> Result<HttpResponse, AppError> {
    m.require(Action::ViewCredentials)?;
    let (id, form) = (id.into_inner(), form.into_inner());
    let outcome = match Reason::parse("reason", &form.reason) {
        Err(e) => Err(e),
        Ok(reason) => {
            match credential_inventory::revoke_member_pat(
                &m.app.db,
                &m.app.mailer,
                &m.app.settings.public_url,
                m.acting(),
                id.clone(),
                reason,
            )
            .await
            {
                Ok(revoked) => Ok(revoked),
                Err(AppError::Refused(r)) if r.kind == RefusalKind::Invalid => {
                    Err(r.as_field_error("reason"))
                }
                Err(e) => return Err(e),
            }
        }
    };
    match outcome {
        Ok(revoked) => {
            let back = format!(
                "{}?{}",
                paths::CREDENTIALS,
                serde_urlencoded::to_string([("person", revoked.owner.id.as_str())])
                    .unwrap_or_default()
            );
            Ok(m.redirect_with_flash(
                &back,
                FlashKind::Success,
                &format!(
                    // No ';' in a flash: the cookie that carries it is not percent-encoded.
                    "Token \u{201c}{}\u{201d} of {} revoked. It no longer works, and {} was told by mail.",
                    revoked.token.name, revoked.owner.name, revoked.owner.name
                ),
            ))
        }
        Err(error) => {
            let reason: String = form.reason.chars().take(Reason::MAX_CHARS * 2).collect();
            let page = revoke_page(&m, shell, id, reason, vec![error]).await?;
            render_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    // The CSV route first: "/settings/credentials" must not swallow it.
    cfg.route(paths::CREDENTIALS_CSV, web::get().to(export))
        .route(paths::CREDENTIALS, web::get().to(list))
        .route(paths::CREDENTIAL_REVOKE, web::get().to(confirm_revoke))
        .route(paths::CREDENTIAL_REVOKE, web::post().to(revoke));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised() {
        for formula in ["=1+1", "+1", "-1", "@SUM(A1)"] {
            assert_eq!(safe_cell(formula.into()), format!("'{formula}"));
        }
        assert_eq!(safe_cell("CRM sync".into()), "CRM sync");
        assert_eq!(safe_cell(String::new()), "");
    }

    #[test]
    fn filters_take_only_sensible_days() {
        assert_eq!(days("14"), Some(14));
        assert_eq!(days(" 7 "), Some(7));
        for bad in ["0", "-3", "3651", "abc", ""] {
            assert_eq!(days(bad), None, "{bad}");
        }
        let q = InventoryQuery {
            sort: "expires".into(),
            dir: "asc".into(),
            status: "deactivated".into(),
            ..InventoryQuery::default()
        };
        let f = q.filter(crate::db::models::now());
        assert_eq!(f.sort, InventorySort::Expires);
        assert!(!f.descending);
        assert_eq!(f.status, Some(CredentialStatus::Deactivated));
        assert!(
            InventoryQuery::default().descending(),
            "newest first by default"
        );
    }
}
