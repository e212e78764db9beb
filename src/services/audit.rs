//! The audit trail: who did what, through which credential, from where, when.
//! Details are counts and names, never a secret.

use actix_web::HttpRequest;

use crate::db::models::{now, AuditEvent};
use crate::db::DbConnection;
use crate::domain::{AuditEventId, CompanyId, UserId};
use crate::error::AppError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditKind {
    SignInSucceeded,
    SignInFailed,
    SignedOut,
    SignedUp,
    RateLimited,
    PatCreated,
    PatRevoked,
    ApiKeyCreated,
    ApiKeyDeactivated,
    ApiKeyActivated,
    ApiKeyRevoked,
    UserCreated,
    UserUpdated,
    MemberOffboarded,
    SessionsEnded,
    RoleChanged,
    OwnershipTransferred,
    InvitationSent,
    InvitationResent,
    InvitationAccepted,
    InvitationRevoked,
    SettingsChanged,
    SignInBreakGlass,
    IdentityLinked,
    IdentityUnlinked,
    SsoConfigChanged,
}

impl AuditKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SignInSucceeded => "sign_in.succeeded",
            Self::SignInFailed => "sign_in.failed",
            Self::SignedOut => "sign_out",
            Self::SignedUp => "sign_up",
            Self::RateLimited => "rate_limit.hit",
            Self::PatCreated => "pat.created",
            Self::PatRevoked => "pat.revoked",
            Self::ApiKeyCreated => "api_key.created",
            Self::ApiKeyDeactivated => "api_key.deactivated",
            Self::ApiKeyActivated => "api_key.activated",
            Self::ApiKeyRevoked => "api_key.revoked",
            Self::UserCreated => "user.created",
            Self::UserUpdated => "user.updated",
            Self::MemberOffboarded => "member.offboarded",
            Self::SessionsEnded => "sessions.ended",
            Self::RoleChanged => "role.changed",
            Self::OwnershipTransferred => "ownership.transferred",
            Self::InvitationSent => "invitation.sent",
            Self::InvitationResent => "invitation.resent",
            Self::InvitationAccepted => "invitation.accepted",
            Self::InvitationRevoked => "invitation.revoked",
            Self::SettingsChanged => "settings.changed",
            Self::SignInBreakGlass => "sign_in.break_glass",
            Self::IdentityLinked => "identity.linked",
            Self::IdentityUnlinked => "identity.unlinked",
            Self::SsoConfigChanged => "sso.config_changed",
        }
    }

    pub const ALL: &'static [AuditKind] = &[
        Self::SignInSucceeded,
        Self::SignInFailed,
        Self::SignedOut,
        Self::SignedUp,
        Self::RateLimited,
        Self::PatCreated,
        Self::PatRevoked,
        Self::ApiKeyCreated,
        Self::ApiKeyDeactivated,
        Self::ApiKeyActivated,
        Self::ApiKeyRevoked,
        Self::UserCreated,
        Self::UserUpdated,
        Self::MemberOffboarded,
        Self::SessionsEnded,
        Self::RoleChanged,
        Self::OwnershipTransferred,
        Self::InvitationSent,
        Self::InvitationResent,
        Self::InvitationAccepted,
        Self::InvitationRevoked,
        Self::SettingsChanged,
        Self::SignInBreakGlass,
        Self::IdentityLinked,
        Self::IdentityUnlinked,
        Self::SsoConfigChanged,
    ];
}

/// Where a request came from, taken once per request.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl Origin {
    pub fn of(req: &HttpRequest) -> Self {
        Self {
            ip: req.peer_addr().map(|a| a.ip().to_string()),
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
}

pub fn record(conn: &mut DbConnection, origin: &Origin, event: Event) -> diesel::QueryResult<()> {
    AuditEvent {
        id: AuditEventId::new(),
        company_id: event.company,
        actor_id: event.actor.map(String::from),
        credential_id: event.credential,
        kind: event.kind.as_str().to_owned(),
        target: event.target,
        detail: event.detail,
        ip: origin.ip.clone(),
        user_agent: origin.user_agent.clone(),
        created_at: now(),
    }
    .insert(conn)
}
