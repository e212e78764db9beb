//! Who the API treats a request as. A PAT acts as its owner; a Platform API Key acts as the
//! company user named in `x-meetergo-api-user-id`. A browser session never authenticates the API.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest, ResponseError};

use super::error::ApiError;
use crate::auth::credential_cache::{ActsAs, CacheKey, Resolved, Row, Shown, Ticket};
use crate::authz::Actor;
use crate::client_ip::ClientIp;
use crate::db::models::{
    is_cut_over, last_used_is_stale, KeyActsAs, PersonalAccessToken, PlatformApiKey, User,
};
use crate::db::DbConnection;
use crate::domain::{ApiKeyId, CompanyId, TokenId, UserId};
use crate::services::credentials::{self, RotationAlert};
use crate::services::usage::{IdentifiedCredential, Meter, UsageRecorder};
use crate::state::AppState;
use crate::telemetry::metrics::AuthOutcome;

use crate::auth::tokens::{self, Presented};

pub const USER_HEADER: &str = "x-meetergo-api-user-id";

/// The credential a request came with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    Pat(TokenId),
    ApiKey { id: ApiKeyId, company: CompanyId },
}

impl Credential {
    pub fn id(&self) -> &str {
        match self {
            Self::Pat(id) => id.as_str(),
            Self::ApiKey { id, .. } => id.as_str(),
        }
    }
}

/// The user an API request acts as, and the credential that let it. The user is shared with
/// the credential cache's entry.
#[derive(Debug, Clone)]
pub struct ActingUser {
    pub user: Arc<User>,
    pub credential: Credential,
    /// The user's public body, shared with the cache entry (see [`Self::shown`]).
    shown: Shown,
}

impl crate::authz::Principal for ActingUser {
    fn actor(&self) -> Actor<'_> {
        ActingUser::actor(self)
    }
}

impl ActingUser {
    pub fn actor(&self) -> Actor<'_> {
        match &self.credential {
            Credential::Pat(_) => Actor::Pat(&self.user),
            Credential::ApiKey { company, .. } => Actor::ApiKey {
                company,
                acting: Some(&self.user.id),
            },
        }
    }

    pub fn is_api_key(&self) -> bool {
        matches!(self.credential, Credential::ApiKey { .. })
    }

    /// The acting user as `show` writes it, made once per credential cache entry: the entry is
    /// dropped by any change to the user, so every request it answers shows the same body.
    pub fn shown<E>(
        &self,
        show: impl FnOnce(&User) -> Result<actix_web::web::Bytes, E>,
    ) -> Result<actix_web::web::Bytes, E> {
        if let Some(body) = self.shown.get() {
            return Ok(body.clone());
        }
        let body = show(&self.user)?;
        // Two requests may make it at once: both bodies are the same, either is kept.
        let _ = self.shown.set(body.clone());
        Ok(body)
    }
}

/// Without the user header, an API key either is refused (most endpoints) or acts as the
/// company owner (`GET /v4/user/me`, `POST /v4/user`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WithoutUserHeader {
    Refuse,
    ActAsOwner,
}

/// Extractor for endpoints where an API key must name the user.
pub struct Acting(pub ActingUser);
/// Extractor for endpoints where an API key without the header acts as the company owner.
pub struct ActingOrOwner(pub ActingUser);

fn bearer(req: &HttpRequest) -> Result<String, ApiError> {
    let value = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .ok_or_else(ApiError::missing_authorization)?;
    let value = value
        .to_str()
        .map_err(|_| ApiError::invalid_credential())?
        .trim();
    let (scheme, token) = value
        .split_once(' ')
        .ok_or_else(ApiError::invalid_credential)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(ApiError::invalid_credential());
    }
    Ok(token.trim().to_owned())
}

pub async fn resolve(req: &HttpRequest, policy: WithoutUserHeader) -> Result<ActingUser, ApiError> {
    let Some(app) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Err(ApiError::internal());
    };
    let mut credential = "unknown";
    let outcome = authenticate_request(req, &app, policy, &mut credential).await;
    let status = outcome
        .as_ref()
        .map_or_else(ResponseError::status_code, |_| StatusCode::OK);
    app.metrics
        .api_auth(credential, AuthOutcome::from_status(status));
    outcome
}

/// `credential` is set to the kind presented (`pat`, `api_key`) once it is known.
async fn authenticate_request(
    req: &HttpRequest,
    app: &web::Data<AppState>,
    policy: WithoutUserHeader,
    credential: &mut &'static str,
) -> Result<ActingUser, ApiError> {
    let presented = bearer(req)?;
    let user_header = NamedUser::of(req);
    let peer = ClientIp::of(req);
    let ip = peer.map(|ip| ip.to_string()).unwrap_or_default();
    let (db, keys, now) = (&app.db, &app.keys, app.clock.now());
    // Checked offline first: a malformed value never reaches the database.
    let parsed = tokens::parse(&presented).ok_or_else(ApiError::invalid_credential)?;
    let digest = keys.credential_digest(&presented);
    let parsed = match parsed {
        Presented::Pat(_) => {
            *credential = "pat";
            Kind::Pat
        }
        Presented::ApiKey { id, .. } => {
            *credential = "api_key";
            Kind::ApiKey(id)
        }
    };
    let cache = &app.credential_cache;
    let key = cache_key(digest, &parsed, &user_header, policy);
    // Read before the database is asked (see `auth::credential_cache`).
    let ticket = key.as_ref().and_then(|_| cache.ticket());
    if let (Some(ticket), Some(key)) = (ticket, &key) {
        if let Some(resolved) = cache.get(ticket, key) {
            let mut identified = None;
            if let Some(outcome) = from_cache(&resolved, &user_header, now, &mut identified) {
                if outcome.is_ok() {
                    touch_in_background(app, ticket, key, &resolved, now, ip);
                }
                return conclude(req, app, identified, None, peer, now, outcome).await;
            }
        }
    }
    let presented = Presentation {
        hash: crate::auth::keys::Keys::credential_hash_of(&digest),
        kind: parsed,
        user_header,
        policy,
        ip,
        now,
    };
    let usage = Arc::clone(&app.usage);
    let (identified, alert, outcome) = db
        .run(move |conn| {
            let (mut identified, mut alert) = (None, None);
            let outcome = authenticate(conn, presented, &usage, &mut identified, &mut alert);
            Ok::<_, crate::error::AppError>((identified, alert, outcome))
        })
        .await
        .map_err(ApiError::from)?;
    let outcome = outcome.map(|resolved| {
        let acting = acting(&resolved);
        if let (Some(ticket), Some(key)) = (ticket, key) {
            cache.insert(ticket, key, Arc::new(resolved));
        }
        acting
    });
    conclude(req, app, identified, alert, peer, now, outcome).await
}

/// What every answer shares, from the cache or the database: the usage and the API limit of a
/// valid credential, and the used-after-rotation alert.
async fn conclude(
    req: &HttpRequest,
    app: &web::Data<AppState>,
    identified: Option<Arc<Meter>>,
    alert: Option<RotationAlert>,
    peer: Option<std::net::IpAddr>,
    now: chrono::NaiveDateTime,
    outcome: Result<ActingUser, ApiError>,
) -> Result<ActingUser, ApiError> {
    // Counted by the `/v4` usage middleware once the response is known, and limited: a valid
    // credential over its budget is refused whatever else the request got wrong.
    if let Some(meter) = identified {
        let limited = app.limits.api_request(meter.credential()).await;
        req.extensions_mut().insert(IdentifiedCredential {
            meter,
            ip: peer,
            at: now,
        });
        limited.map_err(|r| ApiError::rate_limited(r.0))?;
    }
    if let Some(alert) = alert {
        // In the background: the refusal takes as long as any other.
        let (mailer, public_url) = (app.mailer.clone(), app.settings.public_url.clone());
        actix_web::rt::spawn(async move {
            for mail in alert.mails(&public_url) {
                if let Err(e) = mailer.send(mail).await {
                    tracing::warn!(error = %e, "the used-after-rotation alert could not be sent");
                }
            }
        });
    }
    outcome
}

/// The cache entry a request would be answered from: the credential and whom it acts as.
/// `None` where the database answers anyway with a refusal (a malformed user header, or an
/// API key without one where it is required): only successes are cached.
fn cache_key(
    digest: [u8; 32],
    kind: &Kind,
    user_header: &NamedUser,
    policy: WithoutUserHeader,
) -> Option<CacheKey> {
    let acts_as = match (kind, user_header, policy) {
        (Kind::Pat, _, _) => ActsAs::Owner,
        (Kind::ApiKey(_), NamedUser::User(named), _) => ActsAs::User(named.clone()),
        (Kind::ApiKey(_), NamedUser::Absent, WithoutUserHeader::ActAsOwner) => ActsAs::CompanyOwner,
        (Kind::ApiKey(_), NamedUser::Malformed, _)
        | (Kind::ApiKey(_), NamedUser::Absent, WithoutUserHeader::Refuse) => return None,
    };
    Some(CacheKey { digest, acts_as })
}

/// The checks that depend on the time or the request, on every hit; the rest held when the
/// entry was cached, and any write that changes them invalidates it. `None`: cut over since it
/// was cached, so the database path refuses it and sends the alert.
fn from_cache(
    resolved: &Resolved,
    user_header: &NamedUser,
    now: chrono::NaiveDateTime,
    identified: &mut Option<Arc<Meter>>,
) -> Option<Result<ActingUser, ApiError>> {
    let (superseded_at, expires_at) = match &resolved.credential {
        Row::Pat(token) => (token.superseded_at, token.expires_at),
        Row::ApiKey(key) => (key.superseded_at, Some(key.expires_at)),
    };
    if is_cut_over(superseded_at, now) {
        return None;
    }
    if expires_at.is_some_and(|e| e <= now) {
        return Some(Err(ApiError::credential_expired()));
    }
    *identified = Some(Arc::clone(&resolved.meter));
    // A key names the user it was resolved for; a PAT's header is checked on every hit.
    if let Row::Pat(_) = resolved.credential {
        if let Err(e) = user_header.allows_pat_of(&resolved.user.id) {
            return Some(Err(e));
        }
    }
    Some(Ok(acting(resolved)))
}

/// "Last used" on a hit: written off the request (so hits stay query-free) when it is due,
/// and the entry updated so the next hits do not write it again.
fn touch_in_background(
    app: &web::Data<AppState>,
    ticket: Ticket,
    key: &CacheKey,
    resolved: &Arc<Resolved>,
    now: chrono::NaiveDateTime,
    ip: String,
) {
    let (last_at, last_ip) = match &resolved.credential {
        Row::Pat(token) => (token.last_used_at, token.last_used_ip.as_deref()),
        Row::ApiKey(key) => (key.last_used_at, key.last_used_ip.as_deref()),
    };
    if !last_used_is_stale(last_at, last_ip, now, &ip) {
        return;
    }
    let mut touched = Resolved::clone(resolved);
    match &mut touched.credential {
        Row::Pat(token) => {
            token.last_used_at = Some(now);
            token.last_used_ip = Some(ip.clone());
        }
        Row::ApiKey(key) => {
            key.last_used_at = Some(now);
            key.last_used_ip = Some(ip.clone());
        }
    }
    app.credential_cache
        .insert(ticket, key.clone(), Arc::new(touched));
    // The row as it was cached: `touch` writes because that one's last use is stale.
    let resolved = Arc::clone(resolved);
    let db = app.db.clone();
    actix_web::rt::spawn(async move {
        let written = db
            .run(move |conn| match &resolved.credential {
                Row::Pat(token) => token.touch(conn, now, &ip),
                Row::ApiKey(key) => key.touch(conn, now, &ip),
            })
            .await;
        if let Err(e) = written {
            tracing::warn!(error = %e, "writing a credential's last use failed");
        }
    });
}

fn acting(resolved: &Resolved) -> ActingUser {
    let credential = match &resolved.credential {
        Row::Pat(token) => Credential::Pat(token.id.clone()),
        Row::ApiKey(key) => Credential::ApiKey {
            id: key.id.clone(),
            company: key.company_id.clone(),
        },
    };
    ActingUser {
        credential,
        user: Arc::clone(&resolved.user),
        shown: Arc::clone(&resolved.shown),
    }
}

enum Kind {
    Pat,
    ApiKey(ApiKeyId),
}

/// What `x-meetergo-api-user-id` says. A value that is there but is no user id (bytes that are
/// not text included) is malformed, never mistaken for an absent header.
#[derive(Debug, Clone, PartialEq, Eq)]
enum NamedUser {
    Absent,
    Malformed,
    User(UserId),
}

impl NamedUser {
    /// A PAT's header may name its owner, or nobody; naming anyone else is impersonation.
    fn allows_pat_of(&self, owner: &UserId) -> Result<(), ApiError> {
        match self {
            Self::Absent => Ok(()),
            Self::User(named) if named == owner => Ok(()),
            Self::User(_) | Self::Malformed => Err(ApiError::impersonation_forbidden()),
        }
    }

    fn of(req: &HttpRequest) -> Self {
        let Some(value) = req.headers().get(USER_HEADER) else {
            return Self::Absent;
        };
        match value.to_str().map(str::trim) {
            Ok("") => Self::Absent,
            Ok(text) => text.parse().map_or(Self::Malformed, Self::User),
            Err(_) => Self::Malformed,
        }
    }
}

/// A credential as far as it can be read without the database, and the request around it.
struct Presentation {
    hash: String,
    kind: Kind,
    user_header: NamedUser,
    policy: WithoutUserHeader,
    ip: String,
    now: chrono::NaiveDateTime,
}

/// Sets `identified` to the credential's usage meter once it is known to be a valid one, so
/// that its usage is counted whatever the request's outcome (a refusal with 429 included).
/// `alert` receives what to mail when a regenerated credential was used after its cut-over.
fn authenticate(
    conn: &mut DbConnection,
    presented: Presentation,
    usage: &UsageRecorder,
    identified: &mut Option<Arc<Meter>>,
    alert: &mut Option<RotationAlert>,
) -> Result<Resolved, ApiError> {
    let Presentation {
        hash,
        kind,
        user_header,
        policy,
        ip,
        now,
    } = presented;
    let (hash, ip) = (hash.as_str(), ip.as_str());
    match kind {
        Kind::Pat => {
            let (mut token, owner) = PersonalAccessToken::find_by_hash(conn, hash)?
                .ok_or_else(ApiError::invalid_credential)?;
            if token.revoked_at.is_some() || !owner.is_active() {
                return Err(ApiError::invalid_credential());
            }
            if is_cut_over(token.superseded_at, now) {
                *alert = credentials::token_used_after_rotation(conn, &token, &owner, ip, now)?;
                return Err(ApiError::invalid_credential());
            }
            if token.expires_at.is_some_and(|e| e <= now) {
                return Err(ApiError::credential_expired());
            }
            let meter = usage.meter(token.id.as_str());
            *identified = Some(Arc::clone(&meter));
            user_header.allows_pat_of(&owner.id)?;
            // A regenerated token's first use ends its predecessor's grace: one write, once.
            if let (Some(predecessor), None) = (&token.replaces, token.last_used_at) {
                PersonalAccessToken::cut_over(conn, predecessor, now)?;
            }
            token.touch(conn, now, ip)?;
            touched(&mut token.last_used_at, &mut token.last_used_ip, now, ip);
            Ok(Resolved {
                credential: Row::Pat(token),
                user: Arc::new(owner),
                shown: Shown::default(),
                meter,
            })
        }
        Kind::ApiKey(id) => {
            // The user the key would act as comes with the key, in the same indexed lookup:
            // the named user (if the header holds a well-formed id), or the company owner.
            let acts_as = match (&user_header, policy) {
                (NamedUser::User(named), _) => Some(KeyActsAs::User(named)),
                (NamedUser::Absent, WithoutUserHeader::ActAsOwner) => Some(KeyActsAs::Owner),
                // A malformed id, or no header where one is required: the key alone.
                (NamedUser::Malformed, _) | (NamedUser::Absent, WithoutUserHeader::Refuse) => None,
            };
            let found = match acts_as {
                Some(acts_as) => PlatformApiKey::find_by_hash_with_user(conn, hash, acts_as)?,
                None => PlatformApiKey::find_by_hash(conn, hash)?.map(|key| (key, None)),
            };
            let (mut key, user) = found
                .filter(|(k, _)| k.id == id)
                .ok_or_else(ApiError::invalid_credential)?;
            if key.revoked_at.is_some() || key.deactivated_at.is_some() {
                return Err(ApiError::invalid_credential());
            }
            if is_cut_over(key.superseded_at, now) {
                *alert = credentials::key_used_after_rotation(conn, &key, ip, now)?;
                return Err(ApiError::invalid_credential());
            }
            if key.expires_at <= now {
                return Err(ApiError::credential_expired());
            }
            let meter = usage.meter(key.id.as_str());
            *identified = Some(Arc::clone(&meter));
            let user = match user_header {
                NamedUser::Absent => match policy {
                    WithoutUserHeader::Refuse => return Err(ApiError::missing_user_header()),
                    // A company without an active owner: not found, as it always answered.
                    WithoutUserHeader::ActAsOwner => user.ok_or(diesel::result::Error::NotFound)?,
                },
                // Same answer for a malformed id, a stranger, or a user of another company.
                NamedUser::Malformed | NamedUser::User(_) => user
                    .filter(User::is_active)
                    .ok_or_else(ApiError::user_not_in_company)?,
            };
            if let (Some(predecessor), None) = (&key.replaces, key.last_used_at) {
                PlatformApiKey::cut_over(conn, predecessor, now)?;
            }
            key.touch(conn, now, ip)?;
            touched(&mut key.last_used_at, &mut key.last_used_ip, now, ip);
            Ok(Resolved {
                credential: Row::ApiKey(key),
                user: Arc::new(user),
                shown: Shown::default(),
                meter,
            })
        }
    }
}

/// The row as `touch` left it, for the cache: "last used" now, if it was due.
fn touched(
    at: &mut Option<chrono::NaiveDateTime>,
    last_ip: &mut Option<String>,
    now: chrono::NaiveDateTime,
    ip: &str,
) {
    if last_used_is_stale(*at, last_ip.as_deref(), now, ip) {
        *at = Some(now);
        *last_ip = Some(ip.to_owned());
    }
}

impl FromRequest for Acting {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { resolve(&req, WithoutUserHeader::Refuse).await.map(Acting) })
    }
}

impl FromRequest for ActingOrOwner {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            resolve(&req, WithoutUserHeader::ActAsOwner)
                .await
                .map(ActingOrOwner)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::HeaderValue;
    use actix_web::test::TestRequest;

    fn named(value: Option<HeaderValue>) -> NamedUser {
        let mut req = TestRequest::default();
        if let Some(v) = value {
            req = req.insert_header((USER_HEADER, v));
        }
        NamedUser::of(&req.to_http_request())
    }

    #[test]
    fn an_unreadable_user_header_is_malformed_not_absent() {
        assert_eq!(named(None), NamedUser::Absent);
        assert_eq!(
            named(Some(HeaderValue::from_static("  "))),
            NamedUser::Absent
        );
        assert_eq!(
            named(Some(HeaderValue::from_static("not-a-user-id"))),
            NamedUser::Malformed
        );
        assert_eq!(
            named(HeaderValue::from_bytes(b"\xff\xfe").ok()),
            NamedUser::Malformed
        );
        let id = UserId::new();
        assert_eq!(
            named(HeaderValue::from_str(id.as_str()).ok()),
            NamedUser::User(id)
        );
    }
}
