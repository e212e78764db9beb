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
use crate::web::user_agent::device_of;
use crate::web::views::{fmt_time, When};

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

/// A person, token or thing as the log names it, with its id (or full text) for the tooltip.
pub struct Named {
    pub label: String,
    /// The id or raw value behind `label`; empty when the label is all there is.
    pub title: String,
}

impl Named {
    fn plain(label: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            title: String::new(),
        }
    }
}

/// One event as the page shows it: in words, names instead of ids.
pub struct EventRow {
    pub when: When,
    pub kind: &'static str,
    pub kind_label: &'static str,
    pub actor: Named,
    pub target: Named,
    pub via: Named,
    pub detail: String,
    pub ip: String,
    /// "Chrome on macOS"; the full header in `user_agent`, shown on demand.
    pub device: String,
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

/// The events of one selection and what names them: the company's people (by id) and the
/// names of the credentials the events went through.
struct Loaded {
    events: Vec<AuditEvent>,
    total: i64,
    people: Vec<User>,
    credentials: HashMap<String, String>,
}

async fn load(m: &Member, query: &AuditQuery, limit: i64, offset: i64) -> Result<Loaded, AppError> {
    let (company, filter) = (m.me.company.id.clone(), query.filter());
    m.app
        .db
        .run(move |conn| {
            let (events, total) = AuditEvent::search(conn, &company, &filter, limit, offset)?;
            let people = User::list_in_company(conn, &company, 10_000, 0)?.0;
            let mut ids: Vec<String> = events
                .iter()
                .filter_map(|e| e.credential_id.clone())
                .collect();
            ids.sort();
            ids.dedup();
            let credentials = AuditEvent::credential_names(conn, &company, &ids)?
                .into_iter()
                .collect();
            Ok::<_, AppError>(Loaded {
                events,
                total,
                people,
                credentials,
            })
        })
        .await
}

/// Who is who, by id and by email.
struct People<'a> {
    by_id: HashMap<&'a str, &'a User>,
    by_email: HashMap<&'a str, &'a User>,
}

impl<'a> People<'a> {
    fn of(users: &'a [User]) -> Self {
        Self {
            by_id: users.iter().map(|u| (u.id.as_str(), u)).collect(),
            by_email: users.iter().map(|u| (u.email.as_str(), u)).collect(),
        }
    }

    fn named(u: &User) -> String {
        format!("{} ({})", u.name, u.email)
    }

    fn actor(&self, id: Option<&str>) -> Named {
        match id {
            None => Named::plain("—"),
            Some(id) => match self.by_id.get(id) {
                Some(u) => Named {
                    label: u.name.clone(),
                    title: format!("{} · {id}", u.email),
                },
                None => Named {
                    label: "a former member".into(),
                    title: id.to_owned(),
                },
            },
        }
    }

    /// Targets are recorded as a bare user id, as "email (id)", "token CI (id)", or as text:
    /// the page shows the words and keeps the id for the tooltip.
    fn target(&self, kind: AuditKind, raw: Option<&str>) -> Named {
        let raw = raw.map(str::trim).unwrap_or_default();
        if raw.is_empty() {
            return Named::plain(if kind == AuditKind::SignInFailed {
                "unknown account"
            } else {
                "—"
            });
        }
        if let Some(u) = self.by_id.get(raw) {
            return Named {
                label: Self::named(u),
                title: raw.to_owned(),
            };
        }
        if looks_like_id(raw) {
            // An id that names nobody here (any more): never shown bare.
            let label = if kind == AuditKind::SignInFailed {
                "unknown account"
            } else {
                "a former member"
            };
            return Named {
                label: label.into(),
                title: raw.to_owned(),
            };
        }
        if let Some((words, id)) = raw
            .strip_suffix(')')
            .and_then(|r| r.rsplit_once(" ("))
            .filter(|(_, id)| looks_like_id(id))
        {
            let label = match self.by_email.get(words) {
                Some(u) => Self::named(u),
                None => words.to_owned(),
            };
            return Named {
                label,
                title: id.to_owned(),
            };
        }
        Named::plain(raw)
    }
}

/// A stored id (a UUID, as every table key here is).
fn looks_like_id(s: &str) -> bool {
    uuid::Uuid::parse_str(s).is_ok()
}

fn event_rows(loaded: Loaded, now: chrono::NaiveDateTime) -> Vec<EventRow> {
    let people = People::of(&loaded.people);
    loaded
        .events
        .iter()
        .map(|e| {
            let ua = e.user_agent.clone().unwrap_or_default();
            EventRow {
                when: When::at(e.created_at, now),
                kind: e.kind.as_str(),
                kind_label: e.kind.label(),
                actor: people.actor(e.actor_id.as_deref()),
                target: people.target(e.kind, e.target.as_deref()),
                via: match &e.credential_id {
                    None => Named::plain("console"),
                    Some(id) => Named {
                        label: loaded
                            .credentials
                            .get(id)
                            .cloned()
                            .unwrap_or_else(|| "a credential".into()),
                        title: id.clone(),
                    },
                },
                detail: e.detail.clone().unwrap_or_default(),
                ip: e.ip.clone().unwrap_or_default(),
                device: if ua.is_empty() {
                    String::new()
                } else {
                    device_of(&ua)
                },
                user_agent: ua,
            }
        })
        .collect()
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
    let loaded = load(&m, &query, PAGE_SIZE, (page - 1) * PAGE_SIZE).await?;
    let (total, actors) = (loaded.total, loaded.people.clone());
    render(&AuditPage {
        shell,
        section: "audit",
        rows: event_rows(loaded, m.now),
        actors: actors
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
                label: k.label().into(),
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
    let Loaded { events, people, .. } = load(&m, &query, CSV_LIMIT, 0).await?;
    // Raw, machine-readable columns: ids, kinds as stored, the full user agent.
    let names: HashMap<String, String> = people
        .iter()
        .map(|u| (u.id.to_string(), format!("{} <{}>", u.name, u.email)))
        .collect();
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
    for e in events {
        // A leading = + - @ would be read as a formula by spreadsheets.
        let cell = crate::web::csv_export::safe_cell;
        let actor = e
            .actor_id
            .as_ref()
            .map(|a| names.get(a).cloned().unwrap_or_else(|| a.clone()))
            .unwrap_or_else(|| "—".into());
        out.write_record([
            fmt_time(Some(e.created_at)),
            cell(actor),
            e.credential_id.unwrap_or_default(),
            e.kind.to_string(),
            cell(e.target.unwrap_or_default()),
            cell(e.detail.unwrap_or_default()),
            e.ip.unwrap_or_default(),
            cell(e.user_agent.unwrap_or_default()),
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
