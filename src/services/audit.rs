//! The audit trail: who did what, through which credential, from where, when.
//! Details are counts and names, never a secret.

use actix_web::HttpRequest;

use crate::db::models::{now, AuditEvent};
use crate::db::DbConnection;
// Declared in the domain beside the other stored kinds; events are recorded through here.
pub use crate::domain::AuditKind;
use crate::domain::{AuditEventId, CompanyId, UserId};
use crate::error::AppError;
pub use crate::webhooks::emit::{Source, Subject};

/// Where a request came from, taken once per request.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl Origin {
    pub fn of(req: &HttpRequest) -> Self {
        Self {
            ip: crate::client_ip::ClientIp::of(req).map(|ip| ip.to_string()),
            user_agent: req
                .headers()
                .get(actix_web::http::header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(|s| s.chars().take(256).collect()),
        }
    }
}

/// Records one event on its own (not part of a larger write).
pub async fn record_now(db: &crate::db::Db, origin: Origin, event: Event) -> Result<(), AppError> {
    db.run(move |conn| record(conn, &origin, event)).await
}

/// One event to record.
#[derive(Debug, Clone)]
pub struct Event {
    pub kind: AuditKind,
    pub company: Option<CompanyId>,
    pub actor: Option<UserId>,
    pub credential: Option<String>,
    pub target: Option<String>,
    pub detail: Option<String>,
    /// What the event is about, when a webhook follows from it (see `webhooks::emit`).
    pub subject: Option<Subject>,
    /// Through what someone joined or left (for the webhook's `source`).
    pub source: Option<Source>,
    /// Why, in the words of whoever did it (also written into `detail`).
    pub reason: Option<String>,
}

impl Event {
    pub fn new(kind: AuditKind) -> Self {
        Self {
            kind,
            company: None,
            actor: None,
            credential: None,
            target: None,
            detail: None,
            subject: None,
            source: None,
            reason: None,
        }
    }
    pub fn company(mut self, c: &CompanyId) -> Self {
        self.company = Some(c.clone());
        self
    }
    pub fn actor(mut self, u: &UserId) -> Self {
        self.actor = Some(u.clone());
        self
    }
    pub fn credential(mut self, id: &str) -> Self {
        self.credential = Some(id.to_owned());
        self
    }
    pub fn target(mut self, t: impl Into<String>) -> Self {
        self.target = Some(t.into());
        self
    }
    pub fn detail(mut self, d: impl Into<String>) -> Self {
        self.detail = Some(d.into());
        self
    }
    pub fn subject(mut self, s: Subject) -> Self {
        self.subject = Some(s);
        self
    }
    pub fn source(mut self, s: Source) -> Self {
        self.source = Some(s);
        self
    }
    pub fn reason(mut self, r: impl Into<String>) -> Self {
        let r = r.into();
        self.detail = Some(format!("reason: {r}"));
        self.reason = Some(r);
        self
    }
}

/// Records `event` and, in the same transaction, the webhook event that follows from it.
/// An event that can change a principal also invalidates the credential cache, at commit.
pub fn record(conn: &mut DbConnection, origin: &Origin, event: Event) -> diesel::QueryResult<()> {
    if event.kind.affects_principals() {
        crate::auth::credential_cache::principals_changed(conn)?;
    }
    crate::webhooks::emit::on_audit(conn, &event)?;
    AuditEvent {
        id: AuditEventId::new(),
        company_id: event.company,
        actor_id: event.actor.map(String::from),
        credential_id: event.credential,
        kind: event.kind,
        target: event.target,
        detail: event.detail,
        ip: origin.ip.clone(),
        user_agent: origin.user_agent.clone(),
        created_at: now(),
    }
    .insert(conn)
}
