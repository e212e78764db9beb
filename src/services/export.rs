//! The GDPR export: one JSON document with everything the console holds about a person —
//! profile, company and role, linked identities, credential metadata (never a secret or a
//! hash), two-factor state (never its key or recovery codes), the meeting types they own, the
//! appointments they host and the audit events of their company where they are actor or
//! target.
//!
//! It streams. `open` checks who asks, records the export in the audit log and reads the small
//! head (profile … credentials) in one transaction; `Export::into_stream` then yields the
//! document a page at a time: each page is one keyset query (`PAGE_SIZE` rows, the next page
//! starting after the last id) run on the database threads, serialized, and handed to the HTTP
//! body. The stream is pulled: the next page is read only when the body asks for more, which
//! it does once the client has taken the last one. So at most one page is in memory, whether
//! the person hosts fifty appointments or fifty thousand.

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::HttpResponse;
use chrono::NaiveDateTime;
use futures_util::{Stream, TryStreamExt};
use serde::Serialize;
use utoipa::ToSchema;

use crate::authz::{authorize, Action, Actor, Principal};
use crate::db::models::{
    Appointment, AuditCursor, AuditEvent, AuditSubject, Authenticator, Company, Identity,
    MeetingType, PersonalAccessToken, PlatformApiKey, RecoveryCodes, User,
};
use crate::db::{Db, Tx};
use crate::domain::{AppointmentId, CompanyId, MeetingTypeId, UserId};
use crate::error::{AppError, Refusal};
use crate::services::audit::{self, AuditKind, Event, Origin};
use crate::services::team;

/// The document's format; a reader can tell versions apart. Bump it when a field changes.
pub const FORMAT: &str = "meetergo-console.personal-data/1";

/// Rows per query, and so the most rows in memory at once.
pub const PAGE_SIZE: i64 = 500;

/// How the request reached the console, for the audit log and the document's time.
#[derive(Debug, Clone)]
pub struct Via {
    /// The credential's id when it came through `/v4`.
    pub credential: Option<String>,
    pub origin: Origin,
    pub now: NaiveDateTime,
}

fn time(t: NaiveDateTime) -> String {
    t.and_utc().to_rfc3339()
}

fn maybe_time(t: Option<NaiveDateTime>) -> Option<String> {
    t.map(time)
}

/// The person.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    pub id: String,
    pub name: String,
    pub email: String,
    pub email_verified: bool,
    pub email_verified_at: Option<String>,
    #[schema(example = "Europe/Berlin")]
    pub timezone: String,
    #[schema(example = "member")]
    pub role: String,
    #[schema(example = "active")]
    pub status: String,
    /// Whether the account has a password (never the password or its hash).
    pub has_password: bool,
    pub created_at: String,
    pub updated_at: String,
    pub last_sign_in_at: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CompanyPart {
    pub id: String,
    pub name: String,
}

/// On or off, never the key or the recovery codes.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TwoFactor {
    pub enabled: bool,
    pub enabled_at: Option<String>,
    pub unused_recovery_codes: i64,
}

/// A sign-in provider linked to the account.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LinkedIdentity {
    pub provider: String,
    pub issuer: String,
    pub subject: String,
    pub email: String,
    pub linked_at: String,
    pub last_used_at: Option<String>,
}

/// A Personal Access Token's metadata: its display prefix, never the token or its hash.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenMetadata {
    pub id: String,
    pub name: String,
    pub prefix: String,
    #[schema(example = "active")]
    pub status: String,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
    pub last_used_ip: Option<String>,
    pub revoked_at: Option<String>,
}

/// A Platform API Key the person created: its display prefix, never the secret or its hash.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyMetadata {
    pub id: String,
    pub name: String,
    pub prefix: String,
    #[schema(example = "active")]
    pub status: String,
    pub created_at: String,
    pub expires_at: String,
    pub last_used_at: Option<String>,
    pub last_used_ip: Option<String>,
    pub deactivated_at: Option<String>,
    pub revoked_at: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MeetingTypeRecord {
    pub id: String,
    pub title: String,
    pub slug: String,
    pub duration_minutes: i32,
    pub created_at: String,
    pub deleted_at: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppointmentRecord {
    pub id: String,
    pub meeting_type_id: String,
    pub starts_at: String,
    pub ends_at: String,
    pub attendee_name: String,
    pub attendee_email: String,
    pub created_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditRecord {
    pub id: String,
    #[schema(example = "pat.created")]
    pub kind: String,
    pub at: String,
    pub actor_id: Option<String>,
    pub credential_id: Option<String>,
    pub target: Option<String>,
    pub detail: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// How many entries each streamed list holds: written last, so a reader can check that
/// nothing was cut off.
#[derive(Debug, Default, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    pub meeting_types: u64,
    pub appointments: u64,
    pub audit_events: u64,
}

/// The whole document, for the OpenAPI description only: it is never built in one piece but
/// streamed (`Head`, then the lists, then `counts`), in this field order.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PersonalDataExport {
    #[schema(example = "meetergo-console.personal-data/1")]
    pub format: String,
    pub exported_at: String,
    pub profile: Profile,
    pub company: CompanyPart,
    pub two_factor: TwoFactor,
    pub identities: Vec<LinkedIdentity>,
    pub personal_access_tokens: Vec<TokenMetadata>,
    pub api_keys_created: Vec<ApiKeyMetadata>,
    pub meeting_types: Vec<MeetingTypeRecord>,
    pub appointments: Vec<AppointmentRecord>,
    pub audit_events: Vec<AuditRecord>,
    pub counts: Counts,
}

/// The part read in the opening transaction: small, whatever the person's history.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Head {
    format: &'static str,
    exported_at: String,
    profile: Profile,
    company: CompanyPart,
    two_factor: TwoFactor,
    identities: Vec<LinkedIdentity>,
    personal_access_tokens: Vec<TokenMetadata>,
    api_keys_created: Vec<ApiKeyMetadata>,
}

impl From<&User> for Profile {
    fn from(u: &User) -> Self {
        Self {
            id: u.id.to_string(),
            name: u.name.clone(),
            email: u.email.clone(),
            email_verified: u.email_verified_at.is_some(),
            email_verified_at: maybe_time(u.email_verified_at),
            timezone: u.timezone.clone(),
            role: u.role().to_string(),
            status: u.status().as_str().to_owned(),
            has_password: u.password_hash.is_some(),
            created_at: time(u.created_at),
            updated_at: time(u.updated_at),
            last_sign_in_at: maybe_time(u.last_sign_in_at),
        }
    }
}

fn token_metadata(t: PersonalAccessToken, now: NaiveDateTime) -> TokenMetadata {
    TokenMetadata {
        status: t.status(now).label().to_owned(),
        id: t.id.to_string(),
        name: t.name,
        prefix: t.prefix,
        created_at: time(t.created_at),
        expires_at: maybe_time(t.expires_at),
        last_used_at: maybe_time(t.last_used_at),
        last_used_ip: t.last_used_ip,
        revoked_at: maybe_time(t.revoked_at),
    }
}

fn key_metadata(k: PlatformApiKey, now: NaiveDateTime) -> ApiKeyMetadata {
    ApiKeyMetadata {
        status: k.status(now).label().to_owned(),
        id: k.id.to_string(),
        name: k.name,
        prefix: k.prefix,
        created_at: time(k.created_at),
        expires_at: time(k.expires_at),
        last_used_at: maybe_time(k.last_used_at),
        last_used_ip: k.last_used_ip,
        deactivated_at: maybe_time(k.deactivated_at),
        revoked_at: maybe_time(k.revoked_at),
    }
}

impl From<MeetingType> for MeetingTypeRecord {
    fn from(m: MeetingType) -> Self {
        Self {
            id: m.id.to_string(),
            title: m.title,
            slug: m.slug,
            duration_minutes: m.duration_minutes,
            created_at: time(m.created_at),
            deleted_at: maybe_time(m.deleted_at),
        }
    }
}

impl From<Appointment> for AppointmentRecord {
    fn from(a: Appointment) -> Self {
        Self {
            id: a.id.to_string(),
            meeting_type_id: a.meeting_type_id.to_string(),
            starts_at: time(a.starts_at),
            ends_at: time(a.ends_at),
            attendee_name: a.attendee_name,
            attendee_email: a.attendee_email,
            created_at: time(a.created_at),
        }
    }
}

impl From<AuditEvent> for AuditRecord {
    fn from(e: AuditEvent) -> Self {
        Self {
            id: e.id.to_string(),
            kind: e.kind.as_str().to_owned(),
            at: time(e.created_at),
            actor_id: e.actor_id,
            credential_id: e.credential_id,
            target: e.target,
            detail: e.detail,
            ip: e.ip,
            user_agent: e.user_agent,
        }
    }
}

fn json_failed(e: serde_json::Error) -> AppError {
    AppError::Internal(anyhow::anyhow!("writing the export: {e}"))
}

/// An authorized export, its head read: stream it with `into_stream`.
pub struct Export {
    db: Db,
    subject: User,
    /// The document up to the opening `[` of the first streamed list.
    head: Vec<u8>,
    page_size: i64,
}

/// Checks that `by` may export `subject`'s data, records it in the audit log (`user.exported`)
/// and reads the document's head, in one transaction. Another company's user (or an unknown
/// id) is `NotFound`; a refusal carries authz's reason.
pub async fn open(
    db: &Db,
    by: impl Principal,
    via: Via,
    subject: UserId,
) -> Result<Export, AppError> {
    let (subject, head) = db
        .transaction(move |tx| open_in(tx, &by, &via, &subject))
        .await?;
    Ok(Export {
        db: db.clone(),
        subject,
        head,
        page_size: PAGE_SIZE,
    })
}

fn refused(e: crate::authz::Denied) -> AppError {
    tracing::info!(reason = e.0, "export refused by authorization");
    Refusal::forbidden(e.0).into()
}

fn open_in(
    tx: &mut Tx<'_>,
    by: &impl Principal,
    via: &Via,
    subject: &UserId,
) -> Result<(User, Vec<u8>), AppError> {
    // A person acting is judged as the database has them now (a role changed since sign-in).
    let current = match by.actor() {
        Actor::Member(u) | Actor::Pat(u) => Some(team::current_actor(tx, u)?),
        Actor::ApiKey { .. } | Actor::Scim { .. } => None,
    };
    let actor = match (by.actor(), &current) {
        (Actor::Member(_), Some(u)) => Actor::Member(u),
        (Actor::Pat(_), Some(u)) => Actor::Pat(u),
        (other, _) => other,
    };
    // A token never exports, whoever it names: refused before the id is looked up, so the
    // answer does not tell which ids exist.
    if let Actor::Pat(owner) = actor {
        authorize(actor, Action::ExportPersonalData(owner)).map_err(refused)?;
    }
    let (company, actor_id): (&CompanyId, Option<&UserId>) = match actor {
        Actor::Member(u) | Actor::Pat(u) => (&u.company_id, Some(&u.id)),
        Actor::ApiKey { company, acting } => (company, acting),
        Actor::Scim { company } => (company, None),
    };
    let subject = team::member_of_company(tx, company, subject)?;
    authorize(actor, Action::ExportPersonalData(&subject)).map_err(refused)?;

    let mut event = Event::new(AuditKind::UserExported)
        .company(&subject.company_id)
        .target(format!("{} ({})", subject.email, subject.id))
        .detail(match actor {
            Actor::Member(u) if u.id == subject.id => "personal data downloaded by the person",
            Actor::Member(_) => "personal data downloaded by an owner or admin",
            _ => "personal data exported through the API",
        });
    event.actor = actor_id.cloned();
    event.credential = via.credential.clone();
    audit::record(tx, &via.origin, event)?;

    let now = via.now;
    let company = Company::find(tx, &subject.company_id)?;
    let authenticator = Authenticator::of_user(tx, &subject.id)?.filter(|a| a.is_confirmed());
    let head = Head {
        format: FORMAT,
        exported_at: time(now),
        profile: Profile::from(&subject),
        company: CompanyPart {
            id: company.id.to_string(),
            name: company.name,
        },
        two_factor: TwoFactor {
            enabled: authenticator.is_some(),
            enabled_at: authenticator.and_then(|a| a.confirmed_at).map(time),
            unused_recovery_codes: RecoveryCodes::unused(tx, &subject.id)?,
        },
        identities: Identity::of_user(tx, &subject.id)?
            .into_iter()
            .map(|i| LinkedIdentity {
                provider: i.provider,
                issuer: i.issuer,
                subject: i.subject,
                email: i.email,
                linked_at: time(i.created_at),
                last_used_at: maybe_time(i.last_used_at),
            })
            .collect(),
        personal_access_tokens: PersonalAccessToken::all_of(tx, &subject.id)?
            .into_iter()
            .map(|t| token_metadata(t, now))
            .collect(),
        api_keys_created: PlatformApiKey::all_created_by(tx, &subject.company_id, &subject.id)?
            .into_iter()
            .map(|k| key_metadata(k, now))
            .collect(),
    };
    let mut bytes = serde_json::to_vec(&head).map_err(json_failed)?;
    // The head is an object; the lists continue it.
    if bytes.pop() != Some(b'}') {
        return Err(AppError::Internal(anyhow::anyhow!(
            "the export's head is not a JSON object"
        )));
    }
    bytes.extend_from_slice(b",\"meetingTypes\":[");
    Ok((subject, bytes))
}

/// Where the stream is.
enum Stage {
    Head(Vec<u8>),
    MeetingTypes(Option<MeetingTypeId>),
    Appointments(Option<AppointmentId>),
    AuditEvents(Option<AuditCursor>),
    Finished,
}

struct Cursor {
    db: Db,
    user: UserId,
    company: CompanyId,
    email: String,
    page_size: i64,
    stage: Stage,
    /// No comma before the next entry of the current list.
    first: bool,
    counts: Counts,
}

impl Cursor {
    fn entry(&mut self, out: &mut Vec<u8>, value: &impl Serialize) -> Result<(), AppError> {
        if !self.first {
            out.push(b',');
        }
        self.first = false;
        serde_json::to_writer(&mut *out, value).map_err(json_failed)
    }

    /// Closes the current list and opens `next` (`None`: ends the document with the counts).
    fn close_list(&mut self, out: &mut Vec<u8>, next: Option<&str>) -> Result<(), AppError> {
        self.first = true;
        match next {
            Some(name) => {
                out.extend_from_slice(b"],");
                serde_json::to_writer(&mut *out, name).map_err(json_failed)?;
                out.extend_from_slice(b":[");
            }
            None => {
                out.extend_from_slice(b"],\"counts\":");
                serde_json::to_writer(&mut *out, &self.counts).map_err(json_failed)?;
                out.push(b'}');
            }
        }
        Ok(())
    }

    /// The next piece of the document: the head, or one page of a list (with the list's end
    /// when the page was not full). `None` once the document is complete.
    async fn next_chunk(mut self) -> Result<Option<(Bytes, Self)>, AppError> {
        let mut out = Vec::new();
        let limit = self.page_size;
        let full = |n: usize| i64::try_from(n).is_ok_and(|n| n >= limit);
        match std::mem::replace(&mut self.stage, Stage::Finished) {
            Stage::Head(head) => {
                out = head;
                self.stage = Stage::MeetingTypes(None);
            }
            Stage::MeetingTypes(after) => {
                let owner = self.user.clone();
                let rows = self
                    .db
                    .run(move |conn| MeetingType::export_page(conn, &owner, after.as_ref(), limit))
                    .await?;
                let more = full(rows.len());
                let last = rows.last().map(|r| r.id.clone());
                for row in rows {
                    self.entry(&mut out, &MeetingTypeRecord::from(row))?;
                    self.counts.meeting_types += 1;
                }
                self.stage = if more {
                    Stage::MeetingTypes(last)
                } else {
                    self.close_list(&mut out, Some("appointments"))?;
                    Stage::Appointments(None)
                };
            }
            Stage::Appointments(after) => {
                let host = self.user.clone();
                let rows = self
                    .db
                    .run(move |conn| Appointment::export_page(conn, &host, after.as_ref(), limit))
                    .await?;
                let more = full(rows.len());
                let last = rows.last().map(|r| r.id.clone());
                for row in rows {
                    self.entry(&mut out, &AppointmentRecord::from(row))?;
                    self.counts.appointments += 1;
                }
                self.stage = if more {
                    Stage::Appointments(last)
                } else {
                    self.close_list(&mut out, Some("auditEvents"))?;
                    Stage::AuditEvents(None)
                };
            }
            Stage::AuditEvents(after) => {
                let (user, company, email) =
                    (self.user.clone(), self.company.clone(), self.email.clone());
                let rows = self
                    .db
                    .run(move |conn| {
                        let subject = AuditSubject {
                            company: &company,
                            user: &user,
                            email: &email,
                        };
                        AuditEvent::export_page(conn, &subject, after.as_ref(), limit)
                    })
                    .await?;
                let more = full(rows.len());
                let last = rows.last().map(|r| (r.created_at, r.id.clone()));
                for row in rows {
                    self.entry(&mut out, &AuditRecord::from(row))?;
                    self.counts.audit_events += 1;
                }
                self.stage = if more {
                    Stage::AuditEvents(last)
                } else {
                    self.close_list(&mut out, None)?;
                    Stage::Finished
                };
            }
            Stage::Finished => return Ok(None),
        }
        Ok(Some((Bytes::from(out), self)))
    }
}

impl Export {
    /// The person whose data this is.
    pub fn subject(&self) -> &User {
        &self.subject
    }

    /// A file name for the download: whose data, and from when.
    pub fn file_name(&self, now: NaiveDateTime) -> String {
        format!(
            "personal-data-{}-{}.json",
            self.subject.id,
            now.format("%Y-%m-%d")
        )
    }

    /// Fewer rows per query (tests show the paging at work with little data).
    pub fn with_page_size(mut self, rows: i64) -> Self {
        self.page_size = rows.max(1);
        self
    }

    /// The document, piece by piece: the head, then one chunk per page of rows. Each chunk is
    /// read from the database only when the consumer asks for it. A database failure half
    /// way ends the stream with the error (the client sees a cut-off, unparsable document).
    pub fn into_stream(self) -> impl Stream<Item = Result<Bytes, AppError>> + 'static {
        let cursor = Cursor {
            db: self.db,
            user: self.subject.id.clone(),
            company: self.subject.company_id.clone(),
            email: self.subject.email.clone(),
            page_size: self.page_size,
            stage: Stage::Head(self.head),
            first: true,
            counts: Counts::default(),
        };
        futures_util::stream::try_unfold(cursor, Cursor::next_chunk).inspect_err(
            |e| tracing::warn!(error = %e, "the export stopped half way; the download is cut off"),
        )
    }

    /// The export as a download (the console's and the API's alike): JSON, never cached,
    /// sent as it is read.
    pub fn into_attachment(self, now: NaiveDateTime) -> HttpResponse {
        let disposition = format!("attachment; filename=\"{}\"", self.file_name(now));
        HttpResponse::Ok()
            .content_type("application/json")
            .insert_header((header::CONTENT_DISPOSITION, disposition))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .streaming(self.into_stream())
    }
}
