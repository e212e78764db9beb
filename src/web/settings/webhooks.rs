//! Settings → Webhooks (owners and admins): the company's endpoints, their signing secrets
//! (shown once, when made or rotated) and each endpoint's delivery log with "Redeliver" and
//! "Send test event". Every change is a POST form; nothing needs JavaScript.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::authz::Action;
use crate::db::models::WebhookEndpoint;
use crate::domain::webhook::{Description, EndpointUrl, EventTypes, DESCRIPTION_MAX};
use crate::domain::{FieldError, WebhookDeliveryId, WebhookEndpointId};
use crate::error::{AppError, RefusalKind};
use crate::paths;
use crate::services::webhooks::{
    self, DeliveryLogPage, Manager, NewWebhook, WebhookChanges, ROTATION_OVERLAP_HOURS,
};
use crate::web::context::Member;
use crate::web::page::{render, render_with_status, FlashKind, FormErrors, Shell};
use crate::web::views::{fmt_time, When};
use crate::webhooks::target::TargetPolicy;
use crate::webhooks::{WebhookEventType, MAX_ENDPOINTS_PER_COMPANY};

const SECTION: &str = "webhooks";
/// Form errors that belong to no one field (the limit, a conflict).
const FORM: &str = "form";

/// What each event type is for, in the form's words.
fn describe(t: WebhookEventType) -> &'static str {
    match t {
        WebhookEventType::NewEmployee => {
            "Someone joined the company (invitation, domain, SCIM or API)"
        }
        WebhookEventType::EmployeeOffboarded => "Someone was offboarded",
        WebhookEventType::CredentialCreated => "A personal access token or API key was created",
        WebhookEventType::CredentialRevoked => "A personal access token or API key was revoked",
        WebhookEventType::CredentialExpiring => "A personal access token or API key expires soon",
        WebhookEventType::Test => "A test event",
    }
}

/// One endpoint in the list.
pub struct WebhookRow {
    pub id: String,
    pub endpoint: String,
    pub description: String,
    pub events: String,
    pub enabled: bool,
    pub disabled_reason: String,
    pub secret_prefix: String,
    pub created: Option<When>,
    pub edit_href: String,
    pub deliveries_href: String,
}

impl WebhookRow {
    fn of(e: &WebhookEndpoint, now: chrono::NaiveDateTime) -> Self {
        Self {
            id: e.id.to_string(),
            endpoint: e.endpoint.clone(),
            description: e.description.clone().unwrap_or_default(),
            events: EventTypes::from_stored(&e.event_types).names().join(", "),
            enabled: e.enabled,
            disabled_reason: e.disabled_reason.clone().unwrap_or_default(),
            secret_prefix: e.secret_prefix.clone(),
            created: When::of(Some(e.created_at), now),
            edit_href: paths::webhook(&e.id),
            deliveries_href: paths::webhook_deliveries(&e.id),
        }
    }
}

#[derive(Template)]
#[template(path = "settings/webhooks.html")]
struct WebhooksPage {
    shell: Shell,
    section: &'static str,
    rows: Vec<WebhookRow>,
    limit: i64,
    new_secret: Option<String>,
    new_secret_name: String,
    new_secret_note: String,
}

impl WebhooksPage {
    fn can_add(&self) -> bool {
        (self.rows.len() as i64) < self.limit
    }
}

async fn list_page(m: &Member, shell: Shell) -> Result<WebhooksPage, AppError> {
    let rows = webhooks::list(&m.app.db, m.me.company.id.clone()).await?;
    Ok(WebhooksPage {
        shell,
        section: SECTION,
        rows: rows.iter().map(|e| WebhookRow::of(e, m.now)).collect(),
        limit: MAX_ENDPOINTS_PER_COMPANY,
        new_secret: None,
        new_secret_name: String::new(),
        new_secret_note: String::new(),
    })
}

async fn list(m: Member, shell: Shell) -> Result<HttpResponse, AppError> {
    m.require(Action::ManageWebhooks)?;
    render(&list_page(&m, shell).await?)
}

/// One event type's checkbox.
pub struct EventChoice {
    pub name: &'static str,
    pub label: &'static str,
    pub checked: bool,
}

/// What the edit page shows about the endpoint beside the form.
pub struct EndpointFacts {
    pub id: WebhookEndpointId,
    pub enabled: bool,
    pub disabled_reason: String,
    pub disabled_at: Option<When>,
    pub secret_prefix: String,
    /// Until when the rotated-out secret still signs, while it does.
    pub previous_until: Option<When>,
    pub created: Option<When>,
}

#[derive(Template)]
#[template(path = "settings/webhook_form.html")]
struct WebhookFormPage {
    shell: Shell,
    section: &'static str,
    editing: Option<EndpointFacts>,
    action: String,
    form_endpoint: String,
    form_description: String,
    events: Vec<EventChoice>,
    errors: FormErrors,
    max_description: usize,
}

fn form_page(
    shell: Shell,
    editing: Option<EndpointFacts>,
    endpoint: String,
    description: String,
    checked: &[String],
    errors: Vec<FieldError>,
) -> WebhookFormPage {
    let action = match &editing {
        Some(facts) => paths::webhook(&facts.id),
        None => paths::WEBHOOK_NEW.to_owned(),
    };
    WebhookFormPage {
        shell,
        section: SECTION,
        editing,
        action,
        form_endpoint: endpoint,
        form_description: description,
        events: WebhookEventType::subscribable()
            .map(|t| EventChoice {
                name: t.as_str(),
                label: describe(t),
                checked: checked.iter().any(|c| c == t.as_str()),
            })
            .collect(),
        errors: FormErrors(errors),
        max_description: DESCRIPTION_MAX,
    }
}

fn facts(e: &WebhookEndpoint, now: chrono::NaiveDateTime) -> EndpointFacts {
    EndpointFacts {
        id: e.id.clone(),
        enabled: e.enabled,
        disabled_reason: e.disabled_reason.clone().unwrap_or_default(),
        disabled_at: When::of(e.disabled_at, now),
        secret_prefix: e.secret_prefix.clone(),
        previous_until: e
            .previous_secret_expires_at
            .filter(|until| *until > now)
            .map(|until| When::at(until, now)),
        created: When::of(Some(e.created_at), now),
    }
}

fn stored_names(e: &WebhookEndpoint) -> Vec<String> {
    EventTypes::from_stored(&e.event_types)
        .names()
        .into_iter()
        .map(str::to_owned)
        .collect()
}

async fn new_form(m: Member, shell: Shell) -> Result<HttpResponse, AppError> {
    m.require(Action::ManageWebhooks)?;
    render(&form_page(
        shell,
        None,
        String::new(),
        String::new(),
        &[],
        Vec::new(),
    ))
}

/// The submitted form: repeated `event_types` checkboxes, so a list of pairs.
struct Submitted {
    endpoint: String,
    description: String,
    event_types: Vec<String>,
}

impl Submitted {
    fn of(fields: Vec<(String, String)>) -> Self {
        let mut s = Self {
            endpoint: String::new(),
            description: String::new(),
            event_types: Vec::new(),
        };
        for (name, value) in fields {
            match name.as_str() {
                "endpoint" => s.endpoint = value,
                "description" => s.description = value,
                "event_types" => s.event_types.push(value),
                _ => {}
            }
        }
        s
    }

    /// Parsed, or every field's error at once.
    fn parse(&self, policy: &TargetPolicy) -> Result<NewWebhook, Vec<FieldError>> {
        let endpoint = EndpointUrl::parse("endpoint", &self.endpoint, policy);
        let description = Description::parse("description", Some(&self.description));
        let event_types =
            EventTypes::parse("event_types", self.event_types.iter().map(String::as_str));
        match (endpoint, description, event_types) {
            (Ok(endpoint), Ok(description), Ok(event_types)) => Ok(NewWebhook {
                endpoint,
                description,
                event_types,
            }),
            (e, d, t) => Err([e.err(), d.err(), t.err()].into_iter().flatten().collect()),
        }
    }
}

/// A refusal the person can act on, as a form error; anything else stays an error.
fn as_form_error(e: AppError) -> Result<FieldError, AppError> {
    match e {
        AppError::Refused(r) if matches!(r.kind, RefusalKind::Invalid | RefusalKind::Conflict) => {
            Ok(r.as_field_error(FORM))
        }
        other => Err(other),
    }
}

async fn create(
    m: Member,
    shell: Shell,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    m.require(Action::ManageWebhooks)?;
    let submitted = Submitted::of(form.into_inner());
    let policy = TargetPolicy::from_settings(&m.app.settings);
    let outcome = match submitted.parse(&policy) {
        Err(errors) => Err(errors),
        Ok(new) => {
            let by = Manager::console(m.acting());
            match webhooks::create(&m.app.db, m.app.keys.clone(), by, new).await {
                Ok(created) => Ok(created),
                Err(e) => Err(vec![as_form_error(e)?]),
            }
        }
    };
    match outcome {
        Ok((endpoint, secret)) => {
            let mut page = list_page(&m, shell).await?;
            page.new_secret = Some(secret.expose().to_owned());
            page.new_secret_name = format!("signing secret for {}", endpoint.endpoint);
            page.new_secret_note =
                "Your receiver checks each delivery's webhook-signature header with it (Standard Webhooks)."
                    .to_owned();
            render(&page)
        }
        Err(errors) => render_with_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &form_page(
                shell,
                None,
                submitted.endpoint,
                submitted.description,
                &submitted.event_types,
                errors,
            ),
        ),
    }
}

async fn endpoint_of(m: &Member, id: WebhookEndpointId) -> Result<WebhookEndpoint, AppError> {
    webhooks::find(&m.app.db, m.me.company.id.clone(), id).await
}

async fn edit_form(
    m: Member,
    shell: Shell,
    id: web::Path<WebhookEndpointId>,
) -> Result<HttpResponse, AppError> {
    m.require(Action::ManageWebhooks)?;
    let e = endpoint_of(&m, id.into_inner()).await?;
    render(&form_page(
        shell,
        Some(facts(&e, m.now)),
        e.endpoint.clone(),
        e.description.clone().unwrap_or_default(),
        &stored_names(&e),
        Vec::new(),
    ))
}

async fn save(
    m: Member,
    shell: Shell,
    id: web::Path<WebhookEndpointId>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    m.require(Action::ManageWebhooks)?;
    let id = id.into_inner();
    let submitted = Submitted::of(form.into_inner());
    let policy = TargetPolicy::from_settings(&m.app.settings);
    let outcome = match submitted.parse(&policy) {
        Err(errors) => Err(errors),
        Ok(new) => {
            let changes = WebhookChanges {
                endpoint: Some(new.endpoint),
                description: Some(new.description),
                event_types: Some(new.event_types),
                enabled: None,
            };
            let by = Manager::console(m.acting());
            match webhooks::update(&m.app.db, by, id.clone(), changes).await {
                Ok(e) => Ok(e),
                Err(e) => Err(vec![as_form_error(e)?]),
            }
        }
    };
    match outcome {
        Ok(e) => Ok(m.redirect_with_flash(
            paths::WEBHOOKS,
            FlashKind::Success,
            &format!("Webhook {} saved.", e.endpoint),
        )),
        Err(errors) => {
            let e = endpoint_of(&m, id).await?;
            render_with_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &form_page(
                    shell,
                    Some(facts(&e, m.now)),
                    submitted.endpoint,
                    submitted.description,
                    &submitted.event_types,
                    errors,
                ),
            )
        }
    }
}

async fn switch(m: Member, id: WebhookEndpointId, on: bool) -> Result<HttpResponse, AppError> {
    m.require(Action::ManageWebhooks)?;
    let changes = WebhookChanges {
        enabled: Some(on),
        ..WebhookChanges::default()
    };
    let e = webhooks::update(&m.app.db, Manager::console(m.acting()), id, changes).await?;
    let text = if on {
        format!("Webhook {} switched on.", e.endpoint)
    } else {
        format!(
            "Webhook {} switched off. Nothing is delivered to it until you switch it on again.",
            e.endpoint
        )
    };
    Ok(m.redirect_with_flash(paths::WEBHOOKS, FlashKind::Success, &text))
}

async fn enable(m: Member, id: web::Path<WebhookEndpointId>) -> Result<HttpResponse, AppError> {
    switch(m, id.into_inner(), true).await
}

async fn disable(m: Member, id: web::Path<WebhookEndpointId>) -> Result<HttpResponse, AppError> {
    switch(m, id.into_inner(), false).await
}

#[derive(Template)]
#[template(path = "settings/webhook_confirm.html")]
struct ConfirmPage {
    shell: Shell,
    section: &'static str,
    title: &'static str,
    endpoint: String,
    secret_prefix: String,
    explanation: String,
    action: String,
    button: &'static str,
    button_testid: &'static str,
    danger: bool,
}

async fn delete_confirm(
    m: Member,
    shell: Shell,
    id: web::Path<WebhookEndpointId>,
) -> Result<HttpResponse, AppError> {
    m.require(Action::ManageWebhooks)?;
    let e = endpoint_of(&m, id.into_inner()).await?;
    render(&ConfirmPage {
        shell,
        section: SECTION,
        title: "Delete this webhook?",
        action: paths::webhook_delete(&e.id),
        endpoint: e.endpoint,
        secret_prefix: e.secret_prefix,
        explanation: "Nothing is delivered to it any more, and deliveries still waiting are given up. Its delivery log is kept. This cannot be undone.".to_owned(),
        button: "Delete webhook",
        button_testid: "confirm-delete",
        danger: true,
    })
}

async fn delete(m: Member, id: web::Path<WebhookEndpointId>) -> Result<HttpResponse, AppError> {
    m.require(Action::ManageWebhooks)?;
    webhooks::delete(&m.app.db, Manager::console(m.acting()), id.into_inner()).await?;
    Ok(m.redirect_with_flash(paths::WEBHOOKS, FlashKind::Success, "Webhook deleted."))
}

async fn rotate_confirm(
    m: Member,
    shell: Shell,
    id: web::Path<WebhookEndpointId>,
) -> Result<HttpResponse, AppError> {
    m.require(Action::ManageWebhooks)?;
    let e = endpoint_of(&m, id.into_inner()).await?;
    render(&ConfirmPage {
        shell,
        section: SECTION,
        title: "Rotate the signing secret?",
        action: paths::webhook_rotate(&e.id),
        endpoint: e.endpoint,
        secret_prefix: e.secret_prefix,
        explanation: format!(
            "A new secret is made and shown once. For the next {ROTATION_OVERLAP_HOURS} hours every delivery carries two signatures, one with the new secret and one with the current one, so your receiver keeps accepting deliveries while you switch it to the new secret. After that only the new secret signs."
        ),
        button: "Rotate secret",
        button_testid: "confirm-rotate",
        danger: false,
    })
}

async fn rotate(
    m: Member,
    shell: Shell,
    id: web::Path<WebhookEndpointId>,
) -> Result<HttpResponse, AppError> {
    m.require(Action::ManageWebhooks)?;
    let by = Manager::console(m.acting());
    let done = webhooks::rotate_secret(&m.app.db, m.app.keys.clone(), by, id.into_inner()).await?;
    let mut page = list_page(&m, shell).await?;
    page.new_secret = Some(done.secret.expose().to_owned());
    page.new_secret_name = format!("new signing secret for {}", done.endpoint.endpoint);
    page.new_secret_note = format!(
        "The previous secret keeps signing beside it until {}.",
        fmt_time(Some(done.previous_until))
    );
    render(&page)
}

/// One attempt in the log.
pub struct AttemptView {
    pub at: Option<When>,
    pub status: String,
    pub latency: String,
    pub excerpt: String,
    pub error: String,
}

/// One delivery in the log.
pub struct DeliveryView {
    pub id: String,
    pub event_type: &'static str,
    pub event_id: String,
    pub state: &'static str,
    pub attempts: i32,
    pub last_status: String,
    pub last_latency: String,
    /// None once the delivery is settled (shown as a dash).
    pub next_attempt: Option<When>,
    pub created: Option<When>,
    pub redeliver_action: String,
    pub tried: Vec<AttemptView>,
}

#[derive(Template)]
#[template(path = "settings/webhook_deliveries.html")]
struct DeliveriesPage {
    shell: Shell,
    section: &'static str,
    endpoint: String,
    endpoint_id: WebhookEndpointId,
    enabled: bool,
    rows: Vec<DeliveryView>,
    total: i64,
    page: i64,
    pages: i64,
    newer_href: Option<String>,
    older_href: Option<String>,
}

fn status_text(code: Option<i32>) -> String {
    code.map_or_else(|| "no answer".to_owned(), |c| c.to_string())
}

fn deliveries_view(log: DeliveryLogPage, now: chrono::NaiveDateTime) -> Vec<DeliveryView> {
    log.deliveries
        .into_iter()
        .map(|d| {
            let last = d.last_attempt();
            let pending = d.delivery.state == crate::webhooks::DeliveryState::Pending;
            DeliveryView {
                last_status: last.map_or_else(String::new, |a| status_text(a.status_code)),
                last_latency: last.map_or_else(String::new, |a| format!("{} ms", a.latency_ms)),
                next_attempt: pending.then(|| When::at(d.delivery.next_attempt_at, now)),
                tried: d
                    .attempts
                    .iter()
                    .map(|a| AttemptView {
                        at: When::of(Some(a.attempted_at), now),
                        status: status_text(a.status_code),
                        latency: format!("{} ms", a.latency_ms),
                        excerpt: a.response_excerpt.clone().unwrap_or_default(),
                        error: a.error.clone().unwrap_or_default(),
                    })
                    .collect(),
                id: d.delivery.id.to_string(),
                event_type: d.delivery.event_type.as_str(),
                event_id: d.delivery.event_id.to_string(),
                state: d.delivery.state.as_str(),
                attempts: d.delivery.attempts,
                created: When::of(Some(d.delivery.created_at), now),
                redeliver_action: paths::webhook_redeliver(&d.delivery.id),
            }
        })
        .collect()
}

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    page: Option<String>,
}

async fn deliveries(
    m: Member,
    shell: Shell,
    id: web::Path<WebhookEndpointId>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, AppError> {
    m.require(Action::ManageWebhooks)?;
    let page = query
        .page
        .as_deref()
        .and_then(|p| p.trim().parse::<i64>().ok())
        .unwrap_or(1);
    let log =
        webhooks::delivery_log(&m.app.db, m.me.company.id.clone(), id.into_inner(), page).await?;
    let base = paths::webhook_deliveries(&log.endpoint.id);
    let (page, pages, total) = (log.page, log.pages, log.total);
    render(&DeliveriesPage {
        shell,
        section: SECTION,
        endpoint: log.endpoint.endpoint.clone(),
        endpoint_id: log.endpoint.id.clone(),
        enabled: log.endpoint.enabled,
        newer_href: (page > 1).then(|| format!("{base}?page={}", page - 1)),
        older_href: (page < pages).then(|| format!("{base}?page={}", page + 1)),
        rows: deliveries_view(log, m.now),
        total,
        page,
        pages,
    })
}

async fn send_test(m: Member, id: web::Path<WebhookEndpointId>) -> Result<HttpResponse, AppError> {
    m.require(Action::ManageWebhooks)?;
    let id = id.into_inner();
    let back = paths::webhook_deliveries(&id);
    match webhooks::send_test_event(&m.app.db, Manager::console(m.acting()), id).await {
        Ok(event) => Ok(m.redirect_with_flash(
            &back,
            FlashKind::Success,
            &format!("Test event {event} queued; it is delivered within a minute."),
        )),
        Err(AppError::Refused(r)) if r.kind == RefusalKind::Conflict => {
            Ok(m.redirect_with_flash(&back, FlashKind::Error, &r.message))
        }
        Err(e) => Err(e),
    }
}

async fn redeliver(m: Member, id: web::Path<WebhookDeliveryId>) -> Result<HttpResponse, AppError> {
    m.require(Action::ManageWebhooks)?;
    let delivery = id.into_inner();
    let by = Manager::console(m.acting());
    match webhooks::redeliver(&m.app.db, by, delivery.clone()).await {
        Ok(endpoint) => Ok(m.redirect_with_flash(
            &paths::webhook_deliveries(&endpoint),
            FlashKind::Success,
            &format!("Delivery {delivery} queued again; it is attempted within a minute."),
        )),
        Err(AppError::Refused(r)) if r.kind == RefusalKind::Conflict => {
            Ok(m.redirect_with_flash(paths::WEBHOOKS, FlashKind::Error, &r.message))
        }
        Err(e) => Err(e),
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    // `new` before `{id}`: the fixed path is not an id.
    cfg.route(paths::WEBHOOKS, web::get().to(list))
        .route(paths::WEBHOOK_NEW, web::get().to(new_form))
        .route(paths::WEBHOOK_NEW, web::post().to(create))
        .route(paths::WEBHOOK, web::get().to(edit_form))
        .route(paths::WEBHOOK, web::post().to(save))
        .route(paths::WEBHOOK_ENABLE, web::post().to(enable))
        .route(paths::WEBHOOK_DISABLE, web::post().to(disable))
        .route(paths::WEBHOOK_DELETE, web::get().to(delete_confirm))
        .route(paths::WEBHOOK_DELETE, web::post().to(delete))
        .route(paths::WEBHOOK_ROTATE, web::get().to(rotate_confirm))
        .route(paths::WEBHOOK_ROTATE, web::post().to(rotate))
        .route(paths::WEBHOOK_DELIVERIES, web::get().to(deliveries))
        .route(paths::WEBHOOK_TEST, web::post().to(send_test))
        .route(paths::WEBHOOK_REDELIVER, web::post().to(redeliver));
}
