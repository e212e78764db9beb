//! The receiver process, endpoints made straight in the database (the settings pages and API
//! are tested on their own), and reads of the outbox tables.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use meetergo_console::auth::keys::Keys;
use meetergo_console::db::models::{WebhookAttempt, WebhookDelivery, WebhookEndpoint};
use meetergo_console::db::schema::{webhook_deliveries, webhook_endpoints, webhook_events};
use meetergo_console::domain::{CompanyId, WebhookEndpointId};
use meetergo_console::webhooks::secret::SigningSecret;
use meetergo_console::webhooks::WebhookEventType;
use serde_json::Value;

use crate::helpers::db::conn;
use crate::helpers::fixtures::sign_up;
use crate::helpers::{email, Person, TestApp};

/// `tests/webhooks/receiver.py` running under the venv's python (`WEBHOOK_PYTHON`, from
/// `tests/webhooks/setup.sh`); killed when dropped.
pub struct Receiver {
    child: Child,
    pub port: u16,
    http: reqwest::Client,
}

impl Receiver {
    /// A receiver that accepts a delivery only if it verifies with each of `secrets`.
    pub fn start(secrets: &[&str]) -> Self {
        let python = std::env::var("WEBHOOK_PYTHON").expect(
            "WEBHOOK_PYTHON is not set: run `export WEBHOOK_PYTHON=$(bash tests/webhooks/setup.sh | tail -n1)` (scripts/test does)",
        );
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/webhooks/receiver.py");
        let mut command = Command::new(&python);
        command.arg(script);
        for s in secrets {
            command.arg("--secret").arg(s);
        }
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("starting the webhook receiver with {python}: {e}"));
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("receiver stdout"))
            .read_line(&mut line)
            .expect("the receiver prints its port");
        let port = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("receiver port, got {line:?}"));
        Self {
            child,
            port,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("client"),
        }
    }

    /// Where the console sends deliveries.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.port)
    }

    pub async fn control(&self, change: Value) {
        let r = self
            .http
            .post(format!("http://127.0.0.1:{}/_control", self.port))
            .json(&change)
            .send()
            .await
            .expect("receiver control");
        assert!(r.status().is_success());
    }

    async fn state(&self) -> Value {
        self.http
            .get(format!("http://127.0.0.1:{}/_received", self.port))
            .send()
            .await
            .expect("receiver state")
            .json()
            .await
            .expect("receiver state is JSON")
    }

    /// Verified deliveries answered 200: `{id, type, body}`.
    pub async fn deliveries(&self) -> Vec<Value> {
        self.state().await["deliveries"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Every request that reached it: `{id, verified, status, error}`.
    pub async fn requests(&self) -> Vec<Value> {
        self.state().await["requests"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    pub async fn followed(&self) -> u64 {
        self.state().await["followed"].as_u64().unwrap_or_default()
    }

    /// Waits (polling) until `n` requests are being held by `hang`.
    pub async fn wait_hanging(&self, n: u64) {
        for _ in 0..200 {
            if self.state().await["hanging"].as_u64().unwrap_or_default() >= n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the receiver never held {n} requests");
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A company (its owner signed in) with a Platform API key that can make and remove people.
pub struct Company {
    pub owner: Person,
    pub key: String,
}

pub async fn company(app: &TestApp) -> Company {
    let owner = sign_up(app, "Hooks Inc", "Olive Owner", &email("olive")).await;
    let key = owner.browser.create_api_key("Bootstrap", "90").await;
    Company { owner, key }
}

/// An endpoint of `company` for `url` subscribed to every event type, as the settings page
/// would store it; returns it with its secret in clear.
pub fn endpoint(app: &TestApp, company: &str, url: &str) -> (WebhookEndpoint, SigningSecret) {
    let secret = SigningSecret::generate();
    let id = WebhookEndpointId::new();
    let keys = Keys::derive(app.settings.secret_key_bytes());
    let now = app.clock.now();
    let types: Vec<&str> = WebhookEventType::subscribable()
        .map(|t| t.as_str())
        .collect();
    let endpoint = WebhookEndpoint {
        id: id.clone(),
        company_id: company.parse::<CompanyId>().expect("company id"),
        endpoint: url.to_owned(),
        description: Some("test receiver".into()),
        event_types: types.join(","),
        secret_encrypted: secret.encrypt(&keys, id.as_str()).expect("encrypts"),
        secret_prefix: secret.display_prefix(),
        previous_secret_encrypted: None,
        previous_secret_expires_at: None,
        enabled: true,
        disabled_at: None,
        disabled_reason: None,
        failing_since: None,
        created_by: None,
        created_at: now,
        updated_at: now,
        deleted_at: None,
    };
    endpoint.insert(&mut conn(app)).expect("endpoint stored");
    (endpoint, secret)
}

/// A rotation as the settings page does it: `new` signs from now on, the endpoint's current
/// secret keeps signing until `until`.
pub fn rotate(
    app: &TestApp,
    endpoint: &WebhookEndpoint,
    new: &SigningSecret,
    until: NaiveDateTime,
) {
    let keys = Keys::derive(app.settings.secret_key_bytes());
    diesel::update(webhook_endpoints::table.filter(webhook_endpoints::id.eq(&endpoint.id)))
        .set((
            webhook_endpoints::previous_secret_encrypted.eq(Some(&endpoint.secret_encrypted)),
            webhook_endpoints::previous_secret_expires_at.eq(Some(until)),
            webhook_endpoints::secret_encrypted
                .eq(new.encrypt(&keys, endpoint.id.as_str()).expect("encrypts")),
            webhook_endpoints::secret_prefix.eq(new.display_prefix()),
        ))
        .execute(&mut *conn(app))
        .expect("rotated");
}

/// Deletes an endpoint as the settings page does (soft: the delivery log stays).
pub fn delete_endpoint(app: &TestApp, endpoint: &WebhookEndpoint, at: NaiveDateTime) {
    diesel::update(webhook_endpoints::table.filter(webhook_endpoints::id.eq(&endpoint.id)))
        .set(webhook_endpoints::deleted_at.eq(Some(at)))
        .execute(&mut *conn(app))
        .expect("deleted");
}

pub fn endpoint_now(app: &TestApp, id: &WebhookEndpointId) -> WebhookEndpoint {
    webhook_endpoints::table
        .filter(webhook_endpoints::id.eq(id))
        .select(WebhookEndpoint::as_select())
        .first(&mut *conn(app))
        .expect("endpoint")
}

/// The outbox's events of a company: (id, type, payload), oldest first.
pub fn events(app: &TestApp, company: &str) -> Vec<(String, String, Value)> {
    webhook_events::table
        .filter(webhook_events::company_id.eq(company))
        .order((webhook_events::created_at, webhook_events::id))
        .select((
            webhook_events::id,
            webhook_events::event_type,
            webhook_events::payload,
        ))
        .load::<(String, String, String)>(&mut *conn(app))
        .expect("events")
        .into_iter()
        .map(|(id, t, p)| (id, t, serde_json::from_str(&p).expect("payload is JSON")))
        .collect()
}

/// Every delivery to an endpoint, oldest first.
pub fn deliveries(app: &TestApp, endpoint: &WebhookEndpointId) -> Vec<WebhookDelivery> {
    webhook_deliveries::table
        .filter(webhook_deliveries::endpoint_id.eq(endpoint))
        .order((webhook_deliveries::created_at, webhook_deliveries::id))
        .select(WebhookDelivery::as_select())
        .load(&mut *conn(app))
        .expect("deliveries")
}

pub fn attempts(app: &TestApp, delivery: &WebhookDelivery) -> Vec<WebhookAttempt> {
    WebhookAttempt::of_delivery(&mut conn(app), &delivery.id).expect("attempts")
}

/// The receiver's deliveries of one type.
pub fn of_type<'a>(delivered: &'a [Value], kind: &str) -> Vec<&'a Value> {
    delivered.iter().filter(|d| d["type"] == kind).collect()
}
