//! The audit log: filter by actor, kind and date; paginated; CSV export of the same selection.

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::NaiveDate;
use serde::Deserialize;

use crate::authz::Action;
use crate::db::models::{AuditEvent, AuditFilter, User};
use crate::domain::SearchText;
use crate::error::AppError;
use crate::paths;
use crate::services::audit::AuditKind;
use crate::web::context::Member;
use crate::web::page::{render, Shell};
use crate::web::views::fmt_time;

const PAGE_SIZE: i64 = 50;
const CSV_LIMIT: i64 = 100_000;

#[derive(Debug, Default, Deserialize, Clone)]
pub struct AuditQuery {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    page: Option<i64>,
}

impl AuditQuery {
    /// Each box cut to what a filter can hold, before it is used or echoed in links.
    fn capped(self) -> Self {
        let cap = |s: String| SearchText::new(&s).as_str().to_owned();
        Self {
            actor: cap(self.actor),
            kind: cap(self.kind),
            from: cap(self.from),
            to: cap(self.to),
            page: self.page,
        }
    }

    fn filter(&self) -> AuditFilter {
        let date = |s: &str| NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok();
        AuditFilter {
            actor: Some(self.actor.trim().to_owned()).filter(|s| !s.is_empty()),
            kind: AuditKind::parse(self.kind.trim()),
            from: date(&self.from).and_then(|d| d.and_hms_opt(0, 0, 0)),
            until: date(&self.to)
                .and_then(|d| d.succ_opt())
                .and_then(|d| d.and_hms_opt(0, 0, 0)),
        }
    }

    /// The filter as a query string, for pagination and export links.
    fn query_string(&self) -> String {
        serde_urlencoded::to_string([
            ("actor", &self.actor),
            ("kind", &self.kind),
            ("from", &self.from),
            ("to", &self.to),
        ])
        .unwrap_or_default()
    }
}

pub struct EventRow {
    pub time: String,
    pub actor: String,
    pub credential: String,
    pub kind: String,
    pub target: String,
    pub detail: String,
    pub ip: String,
    pub user_agent: String,
}

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "settings/audit.html")]
struct AuditPage {
    shell: Shell,
    section: &'static str,
    rows: Vec<EventRow>,
    actors: Vec<Choice>,
    kinds: Vec<Choice>,
    from: String,
    to: String,
    page: i64,
    pages: i64,
    total: i64,
    query_string: String,
}

async fn load(
    m: &Member,
    query: &AuditQuery,
    limit: i64,
    offset: i64,
) -> Result<(Vec<EventRow>, i64, Vec<User>), AppError> {
    let (company, filter) = (m.me.company.id.clone(), query.filter());
    let (events, total, people) = m
        .app
        .db
        .run(move |conn| {
            let (events, total) = AuditEvent::search(conn, &company, &filter, limit, offset)?;
            let people = User::list_in_company(conn, &company, 10_000, 0)?.0;
            Ok::<_, AppError>((events, total, people))
        })
        .await?;
    let names: HashMap<String, String> = people
        .iter()
        .map(|u| (u.id.to_string(), format!("{} <{}>", u.name, u.email)))
        .collect();
    let rows = events
        .into_iter()
        .map(|e| EventRow {
            time: fmt_time(Some(e.created_at)),
            actor: e
                .actor_id
                .as_ref()
                .map(|a| names.get(a).cloned().unwrap_or_else(|| a.clone()))
                .unwrap_or_else(|| "—".into()),
            credential: e.credential_id.unwrap_or_default(),
            kind: e.kind.to_string(),
            target: e.target.unwrap_or_default(),
            detail: e.detail.unwrap_or_default(),
            ip: e.ip.unwrap_or_default(),
            user_agent: e.user_agent.unwrap_or_default(),
        })
        .collect();
    Ok((rows, total, people))
}

async fn list(
    m: Member,
    shell: Shell,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, AppError> {
    m.require(Action::ViewAdminArea)?;
    let query = query.into_inner().capped();
    let page = query
        .page
        .unwrap_or(1)
        .clamp(1, crate::web::settings::members::MAX_PAGE);
    let (rows, total, people) = load(&m, &query, PAGE_SIZE, (page - 1) * PAGE_SIZE).await?;
    render(&AuditPage {
        shell,
        section: "audit",
        rows,
        actors: people
            .iter()
            .map(|u| Choice {
                value: u.id.to_string(),
                label: format!("{} ({})", u.name, u.email),
                selected: u.id.as_str() == query.actor,
            })
            .collect(),
        kinds: AuditKind::ALL
            .iter()
            .map(|k| Choice {
                value: k.as_str().into(),
                label: k.as_str().into(),
                selected: k.as_str() == query.kind,
            })
            .collect(),
        from: query.from.clone(),
        to: query.to.clone(),
        page,
        pages: ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1),
        total,
        query_string: query.query_string(),
    })
}

async fn export(m: Member, query: web::Query<AuditQuery>) -> Result<HttpResponse, AppError> {
    m.require(Action::ViewAdminArea)?;
    let query = query.into_inner().capped();
    let (rows, _, _) = load(&m, &query, CSV_LIMIT, 0).await?;
    let mut out = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| AppError::Internal(anyhow::anyhow!("csv: {e}"));
    out.write_record([
        "time",
        "actor",
        "credential",
        "kind",
        "target",
        "detail",
        "ip",
        "user_agent",
    ])
    .map_err(fail)?;
    for r in rows {
        // A leading = + - @ would be read as a formula by spreadsheets.
        let cell = crate::web::csv_export::safe_cell;
        out.write_record([
            r.time,
            cell(r.actor),
            r.credential,
            r.kind,
            cell(r.target),
            cell(r.detail),
            r.ip,
            cell(r.user_agent),
        ])
        .map_err(fail)?;
    }
    crate::web::csv_export::attachment(out, "audit-log.csv")
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    // The CSV route first: "/settings/audit" must not swallow it.
    cfg.route(paths::AUDIT_LOG_CSV, web::get().to(export))
        .route(paths::AUDIT_LOG, web::get().to(list));
}
