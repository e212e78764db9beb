//! Managing a company's webhook endpoints (Settings → Webhooks and the `/webhooks` API):
//! create, change, switch on and off, delete, rotate the signing secret, redeliver a delivery
//! and send a test event. Each is one transaction with its audit record. Delivering is the job
//! runner's (`webhooks`); this side only reads its log and hands it work.

use std::sync::Arc;

use chrono::{Duration, NaiveDateTime};

use crate::auth::keys::Keys;
use crate::authz::{authorize, Action, Actor};
use crate::db::models::{AttemptLogEntry, DeliveryLog, DeliveryLogEntry, User, WebhookEndpoint};
use crate::db::{Db, Tx};
use crate::domain::webhook::{Description, EndpointUrl, EventTypes};
use crate::domain::{CompanyId, WebhookDeliveryId, WebhookEndpointId, WebhookEventId};
use crate::error::{AppError, Refusal};
use crate::services::audit::{self, AuditKind, Event, Origin};
use crate::services::team::current_actor;
use crate::services::Acting;
use crate::webhooks::secret::SigningSecret;
use crate::webhooks::{outbox, WebhookEventType, MAX_ENDPOINTS_PER_COMPANY};

/// The refusal of a creation beyond meetergo's limit.
pub const LIMIT_REACHED: &str =
    "Your company already has 6 webhooks, the most it can have. Delete one before adding another.";
/// How long a rotated-out secret keeps signing beside the new one.
pub const ROTATION_OVERLAP_HOURS: i64 = 24;
/// Deliveries per page of the delivery log.
pub const LOG_PAGE_SIZE: i64 = 50;

/// Through what someone manages webhooks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// The console's settings pages.
    Console,
    /// A Personal Access Token (its id): acts with its owner's role.
    Pat(String),
    /// A Platform API Key (its id), acting as the user named in `x-meetergo-api-user-id`.
    ApiKey(String),
}

/// Who manages webhooks, through what, from where, when.
#[derive(Debug, Clone)]
pub struct Manager {
    pub user: User,
    pub via: Via,
    pub origin: Origin,
    pub now: NaiveDateTime,
}

impl Manager {
    pub fn console(by: Acting) -> Self {
        Self {
            user: by.user,
            via: Via::Console,
            origin: by.origin,
            now: by.now,
        }
    }

    fn company(&self) -> &CompanyId {
        &self.user.company_id
    }

    fn credential(&self) -> Option<&str> {
        match &self.via {
            Via::Console => None,
            Via::Pat(id) | Via::ApiKey(id) => Some(id),
        }
    }

    /// An audit event about `endpoint`, naming the credential when the API was used.
    fn event(&self, kind: AuditKind, endpoint: &WebhookEndpointId) -> Event {
        let event = Event::new(kind)
            .company(self.company())
            .actor(&self.user.id)
            .target(endpoint.to_string());
        match self.credential() {
            Some(id) => event.credential(id),
            None => event,
        }
    }
}

/// Checks, inside the transaction and on the person as the database has them now, that they
/// may manage webhooks.
fn allowed(conn: &mut Tx<'_>, by: &Manager) -> Result<(), AppError> {
    let verdict = match &by.via {
        Via::ApiKey(_) => authorize(
            Actor::ApiKey {
                company: by.company(),
                acting: Some(&by.user.id),
            },
            Action::ManageWebhooks,
        ),
        Via::Pat(_) => authorize(
            Actor::Pat(&current_actor(conn, &by.user)?),
            Action::ManageWebhooks,
        ),
        Via::Console => authorize(
            Actor::Member(&current_actor(conn, &by.user)?),
            Action::ManageWebhooks,
        ),
    };
    verdict.map_err(|d| Refusal::forbidden(d.0).into())
}

fn live_endpoint(
    conn: &mut Tx<'_>,
    by: &Manager,
    id: &WebhookEndpointId,
) -> Result<WebhookEndpoint, AppError> {
    WebhookEndpoint::find_for_company(conn, by.company(), id)?.ok_or(AppError::NotFound)
}

fn encrypt(
    secret: &SigningSecret,
    keys: &Keys,
    id: &WebhookEndpointId,
) -> Result<String, AppError> {
    secret
        .encrypt(keys, id.as_str())
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("a webhook secret did not encrypt")))
}

// ---------------------------------------------------------------------------------------------
// Reads

pub async fn list(db: &Db, company: CompanyId) -> Result<Vec<WebhookEndpoint>, AppError> {
    db.run(move |conn| WebhookEndpoint::list_for_company(conn, &company))
        .await
}

/// A live endpoint of the company, or `NotFound`.
pub async fn find(
    db: &Db,
    company: CompanyId,
    id: WebhookEndpointId,
) -> Result<WebhookEndpoint, AppError> {
    db.run(move |conn| WebhookEndpoint::find_for_company(conn, &company, &id))
        .await?
        .ok_or(AppError::NotFound)
}

/// One delivery in the log, with its attempts (oldest first).
pub struct LoggedDelivery {
    pub delivery: DeliveryLogEntry,
    pub attempts: Vec<AttemptLogEntry>,
}

impl LoggedDelivery {
    pub fn last_attempt(&self) -> Option<&AttemptLogEntry> {
        self.attempts.last()
    }
}

/// A page of an endpoint's delivery log.
pub struct DeliveryLogPage {
    pub endpoint: WebhookEndpoint,
    pub deliveries: Vec<LoggedDelivery>,
    pub total: i64,
    /// 1-based, within `1..=pages`.
    pub page: i64,
    pub pages: i64,
}

pub async fn delivery_log(
    db: &Db,
    company: CompanyId,
    id: WebhookEndpointId,
    page: i64,
) -> Result<DeliveryLogPage, AppError> {
    db.run(move |conn| {
        let endpoint =
            WebhookEndpoint::find_for_company(conn, &company, &id)?.ok_or(AppError::NotFound)?;
        let total = DeliveryLog::count(conn, &endpoint.id)?;
        let pages = ((total + LOG_PAGE_SIZE - 1) / LOG_PAGE_SIZE).max(1);
        let page = page.clamp(1, pages);
        let entries = DeliveryLog::page(
            conn,
            &endpoint.id,
            (page - 1) * LOG_PAGE_SIZE,
            LOG_PAGE_SIZE,
        )?;
        let ids: Vec<WebhookDeliveryId> = entries.iter().map(|d| d.id.clone()).collect();
        let mut attempts = DeliveryLog::attempts_of(conn, &ids)?;
        let deliveries = entries
            .into_iter()
            .map(|delivery| {
                let (mine, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut attempts)
                    .into_iter()
                    .partition(|a| a.delivery_id == delivery.id);
                attempts = rest;
                LoggedDelivery {
                    delivery,
                    attempts: mine,
                }
            })
            .collect();
        Ok::<_, AppError>(DeliveryLogPage {
            endpoint,
            deliveries,
            total,
            page,
            pages,
        })
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// Changes

/// A new endpoint, checked.
#[derive(Debug, Clone)]
pub struct NewWebhook {
    pub endpoint: EndpointUrl,
    pub description: Description,
    pub event_types: EventTypes,
}

/// Changes to an endpoint, checked; what is `None` stays.
#[derive(Debug, Clone, Default)]
pub struct WebhookChanges {
    pub endpoint: Option<EndpointUrl>,
    pub description: Option<Description>,
    pub event_types: Option<EventTypes>,
    pub enabled: Option<bool>,
}

/// Registers an endpoint with a new signing secret, returned in clear for its one showing. At
/// most `MAX_ENDPOINTS_PER_COMPANY` live endpoints: the company's row is held while they are
/// counted, so two creations at the limit's edge make one endpoint and one refusal.
pub async fn create(
    db: &Db,
    keys: Arc<Keys>,
    by: Manager,
    new: NewWebhook,
) -> Result<(WebhookEndpoint, SigningSecret), AppError> {
    db.transaction(move |conn| {
        allowed(conn, &by)?;
        WebhookEndpoint::hold_company(conn, by.company())?;
        if WebhookEndpoint::count_live(conn, by.company())? >= MAX_ENDPOINTS_PER_COMPANY {
            return Err(Refusal::conflict(LIMIT_REACHED).into());
        }
        let id = WebhookEndpointId::new();
        let secret = SigningSecret::generate();
        let endpoint = WebhookEndpoint {
            secret_encrypted: encrypt(&secret, &keys, &id)?,
            secret_prefix: secret.display_prefix(),
            id,
            company_id: by.company().clone(),
            endpoint: new.endpoint.as_str().to_owned(),
            description: new.description.into_inner(),
            event_types: new.event_types.to_stored(),
            previous_secret_encrypted: None,
            previous_secret_expires_at: None,
            enabled: true,
            disabled_at: None,
            disabled_reason: None,
            failing_since: None,
            created_by: Some(by.user.id.clone()),
            created_at: by.now,
            updated_at: by.now,
            deleted_at: None,
        };
        endpoint.insert(conn)?;
        audit::record(
            conn,
            &by.origin,
            by.event(AuditKind::WebhookCreated, &endpoint.id)
                .detail(format!(
                    "{} ({}); secret {}",
                    endpoint.endpoint, endpoint.event_types, endpoint.secret_prefix
                )),
        )?;
        Ok((endpoint, secret))
    })
    .await
}

/// Changes URL, description, event types or the enabled state. Switching an endpoint off
/// gives up its pending deliveries; switching it on clears why it was off and its run of
/// failures.
pub async fn update(
    db: &Db,
    by: Manager,
    id: WebhookEndpointId,
    changes: WebhookChanges,
) -> Result<WebhookEndpoint, AppError> {
    db.transaction(move |conn| {
        allowed(conn, &by)?;
        let mut endpoint = live_endpoint(conn, &by, &id)?;
        let mut what = Vec::new();
        if let Some(url) = changes.endpoint.filter(|u| u.as_str() != endpoint.endpoint) {
            what.push(format!("endpoint {} → {}", endpoint.endpoint, url.as_str()));
            endpoint.endpoint = url.as_str().to_owned();
        }
        if let Some(d) = changes
            .description
            .map(Description::into_inner)
            .filter(|d| *d != endpoint.description)
        {
            what.push("description".to_owned());
            endpoint.description = d;
        }
        if let Some(types) = changes
            .event_types
            .map(|t| t.to_stored())
            .filter(|t| *t != endpoint.event_types)
        {
            what.push(format!("event types {types}"));
            endpoint.event_types = types;
        }
        endpoint.updated_at = by.now;
        if !what.is_empty() {
            endpoint.save_settings(conn)?;
        }
        if let Some(on) = changes.enabled.filter(|on| *on != endpoint.enabled) {
            endpoint.enabled = on;
            if on {
                endpoint.disabled_at = None;
                endpoint.disabled_reason = None;
                endpoint.failing_since = None;
                what.push("enabled".to_owned());
            } else {
                endpoint.disabled_at = Some(by.now);
                endpoint.disabled_reason = Some(match by.via {
                    Via::Console => format!("Switched off by {}", by.user.name),
                    Via::Pat(_) | Via::ApiKey(_) => {
                        format!("Switched off through the API by {}", by.user.name)
                    }
                });
                DeliveryLog::fail_pending(conn, &endpoint.id, by.now)?;
                what.push("disabled".to_owned());
            }
            endpoint.save_enabled(conn)?;
        }
        if !what.is_empty() {
            audit::record(
                conn,
                &by.origin,
                by.event(AuditKind::WebhookUpdated, &endpoint.id)
                    .detail(what.join("; ")),
            )?;
        }
        Ok(endpoint)
    })
    .await
}

/// Deletes an endpoint (kept for the delivery history, never delivered to again); its
/// pending deliveries are given up.
pub async fn delete(db: &Db, by: Manager, id: WebhookEndpointId) -> Result<(), AppError> {
    db.transaction(move |conn| {
        allowed(conn, &by)?;
        let endpoint = live_endpoint(conn, &by, &id)?;
        if !WebhookEndpoint::soft_delete(conn, &endpoint.id, by.now)? {
            return Err(AppError::NotFound);
        }
        let given_up = DeliveryLog::fail_pending(conn, &endpoint.id, by.now)?;
        audit::record(
            conn,
            &by.origin,
            by.event(AuditKind::WebhookDeleted, &endpoint.id)
                .detail(format!(
                    "{}; {given_up} pending deliveries given up",
                    endpoint.endpoint
                )),
        )?;
        Ok(())
    })
    .await
}

/// What a rotation did: the new secret (in clear, for its one showing) and until when the
/// previous one keeps signing beside it.
pub struct Rotated {
    pub endpoint: WebhookEndpoint,
    pub secret: SigningSecret,
    pub previous_until: NaiveDateTime,
}

/// Gives the endpoint a new signing secret. For `ROTATION_OVERLAP_HOURS` every delivery is
/// signed with both, so the receiver can switch without losing one.
pub async fn rotate_secret(
    db: &Db,
    keys: Arc<Keys>,
    by: Manager,
    id: WebhookEndpointId,
) -> Result<Rotated, AppError> {
    db.transaction(move |conn| {
        allowed(conn, &by)?;
        let mut endpoint = live_endpoint(conn, &by, &id)?;
        let secret = SigningSecret::generate();
        let until = by.now + Duration::hours(ROTATION_OVERLAP_HOURS);
        let old_prefix = std::mem::replace(&mut endpoint.secret_prefix, secret.display_prefix());
        // Encrypted with the same endpoint id as associated data: moved as it is.
        endpoint.previous_secret_encrypted = Some(std::mem::replace(
            &mut endpoint.secret_encrypted,
            encrypt(&secret, &keys, &endpoint.id)?,
        ));
        endpoint.previous_secret_expires_at = Some(until);
        endpoint.updated_at = by.now;
        endpoint.save_secrets(conn)?;
        audit::record(
            conn,
            &by.origin,
            by.event(AuditKind::WebhookSecretRotated, &endpoint.id)
                .detail(format!(
                    "{} replaces {old_prefix}, which signs too until {}",
                    endpoint.secret_prefix,
                    until.format("%Y-%m-%d %H:%M UTC")
                )),
        )?;
        Ok(Rotated {
            endpoint,
            secret,
            previous_until: until,
        })
    })
    .await
}

fn enabled_or_refuse(endpoint: &WebhookEndpoint) -> Result<(), AppError> {
    if endpoint.enabled {
        Ok(())
    } else {
        Err(Refusal::conflict("This endpoint is switched off. Switch it on first.").into())
    }
}

/// Puts a delivery back to pending, due now: the job runner attempts it again, with the same
/// `webhook-id`. Returns its endpoint.
pub async fn redeliver(
    db: &Db,
    by: Manager,
    delivery: WebhookDeliveryId,
) -> Result<WebhookEndpointId, AppError> {
    db.transaction(move |conn| {
        allowed(conn, &by)?;
        let found = DeliveryLog::find_for_company(conn, by.company(), &delivery)?
            .ok_or(AppError::NotFound)?;
        let endpoint = live_endpoint(conn, &by, &found.endpoint_id)?;
        enabled_or_refuse(&endpoint)?;
        if !DeliveryLog::redeliver(conn, &found.id, by.now)? {
            return Err(AppError::NotFound);
        }
        audit::record(
            conn,
            &by.origin,
            by.event(AuditKind::WebhookRedelivered, &endpoint.id)
                .detail(format!("delivery {} (was {})", found.id, found.state)),
        )?;
        Ok(endpoint.id)
    })
    .await
}

/// Sends the endpoint a `test` event (to it alone, whatever it subscribes to).
pub async fn send_test_event(
    db: &Db,
    by: Manager,
    id: WebhookEndpointId,
) -> Result<WebhookEventId, AppError> {
    db.transaction(move |conn| {
        allowed(conn, &by)?;
        let endpoint = live_endpoint(conn, &by, &id)?;
        enabled_or_refuse(&endpoint)?;
        let event = outbox::enqueue_to(
            conn,
            by.company(),
            &endpoint.id,
            WebhookEventType::Test,
            serde_json::json!({
                "webhookEndpointId": endpoint.id.as_str(),
                "companyId": by.company().as_str(),
                "message": "A test event sent from Settings → Webhooks.",
            }),
            by.now,
        )?;
        audit::record(
            conn,
            &by.origin,
            by.event(AuditKind::WebhookTestSent, &endpoint.id)
                .detail(format!("event {event}")),
        )?;
        Ok(event)
    })
    .await
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use crate::config::Settings;
    use crate::db::DatabaseUrl;
    use crate::domain::webhook::EndpointUrl;
    use crate::webhooks::target::TargetPolicy;

    fn settings(public_url: &str, allow_private: bool) -> Settings {
        let mut s = Settings::for_tests(DatabaseUrl::Sqlite(":memory:".into()), PathBuf::new());
        s.public_url = public_url.to_owned();
        s.webhook_allow_private_targets = allow_private;
        s
    }

    /// Integration tests run on http, so the https rule is proven here.
    #[test]
    fn a_console_on_https_takes_https_endpoints_only() {
        let policy = TargetPolicy::from_settings(&settings("https://console.example.com", false));
        assert!(EndpointUrl::parse("endpoint", "http://hooks.example.com/in", &policy).is_err());
        assert!(EndpointUrl::parse("endpoint", "https://hooks.example.com/in", &policy).is_ok());
        assert!(EndpointUrl::parse("endpoint", "https://192.168.0.10/in", &policy).is_err());
        let local = TargetPolicy::from_settings(&settings("http://127.0.0.1:8080", true));
        assert!(EndpointUrl::parse("endpoint", "http://127.0.0.1:9000/in", &local).is_ok());
    }
}
