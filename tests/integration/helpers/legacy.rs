//! Transitional: the hand-rolled clients the tests used before `client.rs`, kept only until
//! every test file speaks through `RequestHelper`; then this file goes.

use reqwest::redirect::Policy;
use reqwest::{Client, Response, StatusCode};

use super::app::TestApp;
use super::html::{csrf_in, new_secret_in};
use super::PASSWORD;

pub fn client() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .expect("client")
}

impl TestApp {
    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    pub async fn get_html(&self, path: &str) -> (StatusCode, String) {
        let r = self.get(path).await;
        let status = r.status();
        (status, r.text().await.expect("body"))
    }

    /// The CSRF token of the form on `page`.
    pub async fn csrf_for(&self, page: &str) -> String {
        let (_, html) = self.get_html(page).await;
        csrf_in(&html).unwrap_or_else(|| panic!("no csrf_token on {page}"))
    }

    /// POSTs a form, with the CSRF token read from `page` first.
    pub async fn post_form(&self, page: &str, path: &str, fields: &[(&str, &str)]) -> Response {
        let token = self.csrf_for(page).await;
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        all.push(("csrf_token", &token));
        self.client
            .post(self.url(path))
            .form(&all)
            .send()
            .await
            .expect("POST")
    }

    pub async fn signup(&self, company: &str, name: &str, email: &str) -> Response {
        self.post_form(
            "/signup",
            "/signup",
            &[
                ("company_name", company),
                ("name", name),
                ("email", email),
                ("password", PASSWORD),
            ],
        )
        .await
    }

    pub async fn login(&self, email: &str, password: &str) -> Response {
        self.post_form(
            "/login",
            "/login",
            &[("email", email), ("password", password)],
        )
        .await
    }

    pub async fn logout(&self) -> Response {
        self.post_form("/dashboard", "/logout", &[]).await
    }

    /// Creates a PAT through the page and returns the clear token shown once.
    pub async fn create_pat(&self, name: &str, expiry: &str) -> String {
        let r = self
            .post_form(
                "/integrations/api",
                "/integrations/api/tokens",
                &[("name", name), ("expiry", expiry)],
            )
            .await;
        assert_eq!(r.status(), 200, "creating PAT {name}");
        new_secret_in(&r.text().await.expect("body")).expect("new token shown")
    }

    /// Creates a Platform API Key through the admin page and returns it.
    pub async fn create_api_key(&self, name: &str, expiry_days: &str) -> String {
        let r = self
            .post_form(
                "/admin/api-keys",
                "/admin/api-keys",
                &[("name", name), ("expiry", expiry_days)],
            )
            .await;
        assert_eq!(r.status(), 200, "creating API key {name}");
        new_secret_in(&r.text().await.expect("body")).expect("new key shown")
    }

    /// Another browser (its own cookie jar) on the same app.
    pub fn another_browser(&self) -> Browserless<'_> {
        Browserless {
            app: self,
            client: client(),
        }
    }

    pub async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        bearer: Option<&str>,
        user_header: Option<&str>,
    ) -> (StatusCode, serde_json::Value) {
        let mut req = reqwest::Client::new().request(method, self.url(path));
        if let Some(b) = bearer {
            req = req.bearer_auth(b);
        }
        if let Some(h) = user_header {
            req = req.header("x-meetergo-api-user-id", h);
        }
        let r = req.send().await.expect("api call");
        let status = r.status();
        let body = r.json().await.unwrap_or(serde_json::Value::Null);
        (status, body)
    }
}

/// A second cookie jar against the same app: another person's browser.
pub struct Browserless<'a> {
    pub app: &'a TestApp,
    pub client: Client,
}

impl Browserless<'_> {
    pub fn as_app(&self) -> TestAppView<'_> {
        TestAppView {
            address: &self.app.address,
            client: &self.client,
        }
    }
}

/// The form helpers of `TestApp`, for another cookie jar.
pub struct TestAppView<'a> {
    pub address: &'a str,
    pub client: &'a Client,
}

impl TestAppView<'_> {
    pub async fn get_html(&self, path: &str) -> (StatusCode, String) {
        let r = self
            .client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .expect("GET");
        let s = r.status();
        (s, r.text().await.expect("body"))
    }

    pub async fn post_form(&self, page: &str, path: &str, fields: &[(&str, &str)]) -> Response {
        let (_, html) = self.get_html(page).await;
        let token = csrf_in(&html).unwrap_or_default();
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        all.push(("csrf_token", &token));
        self.client
            .post(format!("{}{path}", self.address))
            .form(&all)
            .send()
            .await
            .expect("POST")
    }

    pub async fn login(&self, email: &str, password: &str) -> Response {
        self.post_form(
            "/login",
            "/login",
            &[("email", email), ("password", password)],
        )
        .await
    }

    pub async fn signup(&self, company: &str, name: &str, email: &str) -> Response {
        self.post_form(
            "/signup",
            "/signup",
            &[
                ("company_name", company),
                ("name", name),
                ("email", email),
                ("password", PASSWORD),
            ],
        )
        .await
    }

    /// Creates a PAT through the page in this browser and returns the clear token shown once.
    pub async fn create_pat(&self, name: &str, expiry: &str) -> String {
        let r = self
            .post_form(
                "/integrations/api",
                "/integrations/api/tokens",
                &[("name", name), ("expiry", expiry)],
            )
            .await;
        assert_eq!(r.status(), 200, "creating PAT {name}");
        new_secret_in(&r.text().await.expect("body")).expect("new token shown")
    }

    /// Creates a Platform API Key through the admin page in this browser and returns it.
    pub async fn create_api_key(&self, name: &str, expiry_days: &str) -> String {
        let r = self
            .post_form(
                "/admin/api-keys",
                "/admin/api-keys",
                &[("name", name), ("expiry", expiry_days)],
            )
            .await;
        assert_eq!(r.status(), 200, "creating API key {name}");
        new_secret_in(&r.text().await.expect("body")).expect("new key shown")
    }
}

pub fn location(r: &Response) -> String {
    r.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}
