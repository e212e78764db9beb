//! One way to talk HTTP to the app for every kind of caller, after crates.io's `RequestHelper`:
//! `Anonymous` (no cookies, no credential), `Browser` (one cookie jar: a visitor until it signs
//! in, then a signed-in session) and `TokenUser` (a personal access token or a Platform API key,
//! optionally naming the user it acts for). Every request answers with a `Reply`.

use std::sync::{Arc, Mutex, OnceLock};

use reqwest::header::HeaderMap;
use reqwest::redirect::Policy;
use reqwest::{Client, Method, RequestBuilder};
use serde_json::Value;

use super::html::csrf_in;

/// A response, read to the end.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    /// The body as text (an HTML page, CSV, or JSON before `json()` parses it).
    pub body: String,
    json: OnceLock<Value>,
}

impl Reply {
    pub async fn read(r: reqwest::Response) -> Self {
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let body = r.text().await.expect("the body");
        Self {
            status,
            headers,
            body,
            json: OnceLock::new(),
        }
    }

    /// The body as JSON: `Null` when empty, the text as a JSON string when it is not JSON.
    pub fn json(&self) -> &Value {
        self.json.get_or_init(|| {
            if self.body.is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&self.body)
                    .unwrap_or_else(|_| Value::String(self.body.clone()))
            }
        })
    }

    /// The `code` of a `/v4` error body ("" when there is none).
    pub fn code(&self) -> &str {
        self.json()["code"].as_str().unwrap_or_default()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Where a redirect leads ("" when it is none).
    pub fn location(&self) -> &str {
        self.header("location").unwrap_or_default()
    }

    pub fn content_type(&self) -> &str {
        self.header("content-type").unwrap_or_default()
    }

    pub fn set_cookies(&self) -> Vec<&str> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect()
    }

    /// Fails, with the body, unless the status is `want`.
    #[track_caller]
    pub fn assert_status(&self, want: u16) -> &Self {
        assert_eq!(self.status, want, "status; body: {}", self.body);
        self
    }

    /// Fails, with the body, unless this is a 303 to `to`.
    #[track_caller]
    pub fn assert_redirect(&self, to: &str) -> &Self {
        assert_eq!(
            (self.status, self.location()),
            (303, to),
            "a redirect; body: {}",
            self.body
        );
        self
    }
}

/// What every caller can do; a caller says only where the app is, which HTTP client it uses and
/// how it identifies itself.
pub trait RequestHelper {
    /// The app's address, like `http://127.0.0.1:4321`.
    fn base(&self) -> &str;

    fn http(&self) -> &Client;

    /// Adds what identifies this caller (a cookie jar does that by itself).
    fn identify(&self, request: RequestBuilder) -> RequestBuilder {
        request
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base())
    }

    /// A request of this caller, to adjust before `send`.
    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.identify(self.http().request(method, self.url(path)))
    }

    async fn send(&self, request: RequestBuilder) -> Reply {
        Reply::read(request.send().await.expect("the app answers")).await
    }

    async fn get(&self, path: &str) -> Reply {
        self.send(self.request(Method::GET, path)).await
    }

    async fn delete(&self, path: &str) -> Reply {
        self.send(self.request(Method::DELETE, path)).await
    }

    async fn post_json(&self, path: &str, body: &Value) -> Reply {
        self.call(Method::POST, path, Some(body)).await
    }

    async fn patch_json(&self, path: &str, body: &Value) -> Reply {
        self.call(Method::PATCH, path, Some(body)).await
    }

    async fn delete_json(&self, path: &str, body: &Value) -> Reply {
        self.call(Method::DELETE, path, Some(body)).await
    }

    /// Any method, with a JSON body when one is given (for tables of calls).
    async fn call(&self, method: Method, path: &str, body: Option<&Value>) -> Reply {
        let mut request = self.request(method, path);
        if let Some(b) = body {
            request = request.json(b);
        }
        self.send(request).await
    }

    /// The CSRF token of this caller's forms: from the sign-in page, or from the dashboard
    /// when signed in.
    async fn csrf_token(&self) -> String {
        for page in ["/login", "/dashboard"] {
            if let Some(token) = csrf_in(&self.get(page).await.body) {
                return token;
            }
        }
        panic!("no CSRF token on /login or /dashboard")
    }

    /// POSTs a form with this caller's CSRF token added, as the page's form would.
    async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Reply {
        let token = self.csrf_token().await;
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        all.push(("csrf_token", &token));
        self.send(self.request(Method::POST, path).form(&all)).await
    }
}

/// Every test client: a pooled connection idle for 2 s is closed by the client, well before
/// the server's keep-alive (actix's default, 5 s) closes it. Otherwise a request can go out on a
/// connection just as the server closes it and get no answer (`IncompleteMessage`), a race of
/// HTTP/1.1 keep-alive that real clients meet too, and that a loaded test machine made visible.
fn client_builder() -> reqwest::ClientBuilder {
    Client::builder().pool_idle_timeout(std::time::Duration::from_secs(2))
}

/// The HTTP client of callers without cookies; redirects are answers to check, not to follow.
pub fn cookie_less_http() -> Client {
    client_builder()
        .redirect(Policy::none())
        .build()
        .expect("http client")
}

/// A cookie-less client behind a reverse proxy on 127.0.0.1 (see `Browser::behind_proxy`).
pub fn forwarded_http(forwarded_for: &str) -> Client {
    client_builder()
        .redirect(Policy::none())
        .default_headers(forwarded_for_header(forwarded_for))
        .build()
        .expect("http client")
}

/// A cookie-less client whose connections come from `ip` (a caller on another machine).
pub fn http_from_address(ip: std::net::IpAddr) -> Client {
    client_builder()
        .local_address(ip)
        .redirect(Policy::none())
        .build()
        .expect("http client")
}

fn forwarded_for_header(forwarded_for: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        "x-forwarded-for",
        forwarded_for.parse().expect("a header value"),
    );
    headers
}

/// No cookies, no credential.
#[derive(Clone)]
pub struct Anonymous {
    base: String,
    http: Client,
}

impl Anonymous {
    pub fn new(base: &str, http: Client) -> Self {
        Self {
            base: base.to_owned(),
            http,
        }
    }
}

impl RequestHelper for Anonymous {
    fn base(&self) -> &str {
        &self.base
    }
    fn http(&self) -> &Client {
        &self.http
    }
}

/// One browser: a cookie jar of its own (a clone shares it). Anonymous until it signs in.
#[derive(Clone)]
pub struct Browser {
    base: String,
    http: Client,
    /// The token of this jar's forms, until the session changes (tokens are bound to it).
    csrf: Arc<Mutex<Option<String>>>,
}

impl Browser {
    /// A fresh cookie jar on the app at `base` (the test app, or a console binary).
    pub fn new(base: &str) -> Self {
        Self::with_client(base, client_builder())
    }

    /// A browser on another machine: its connections come from `ip` (any 127.x.y.z reaches the
    /// app on loopback), so the app sees another client address.
    pub fn from_address(base: &str, ip: std::net::IpAddr) -> Self {
        Self::with_client(base, client_builder().local_address(ip))
    }

    /// A browser behind a reverse proxy on 127.0.0.1: its requests carry `X-Forwarded-For`
    /// as the proxy sent it (the client's own entries, then the address the proxy saw).
    pub fn behind_proxy(base: &str, forwarded_for: &str) -> Self {
        Self::with_client(
            base,
            client_builder().default_headers(forwarded_for_header(forwarded_for)),
        )
    }

    /// A browser on the machine `ip` that writes an `X-Forwarded-For` of its own into every
    /// request, as a client trying to pass for `forwarded_for` would.
    pub fn from_address_claiming(base: &str, ip: std::net::IpAddr, forwarded_for: &str) -> Self {
        Self::with_client(
            base,
            client_builder()
                .local_address(ip)
                .default_headers(forwarded_for_header(forwarded_for)),
        )
    }

    /// The same browser (cookie jar, form token, client address) talking to the app at `base`:
    /// one instance of several, directly rather than through their load balancer. Cookies
    /// ignore the port, so the session goes along.
    pub fn at(&self, base: &str) -> Self {
        Self {
            base: base.to_owned(),
            ..self.clone()
        }
    }

    fn with_client(base: &str, builder: reqwest::ClientBuilder) -> Self {
        let http = builder
            .cookie_store(true)
            .redirect(Policy::none())
            .build()
            .expect("http client");
        Self {
            base: base.to_owned(),
            http,
            csrf: Arc::new(Mutex::new(None)),
        }
    }
}

impl Browser {
    /// A browser for absolute URLs on another site (an identity provider): its "paths" are
    /// whole URLs.
    pub fn elsewhere() -> Self {
        Self::new("")
    }
}

/// What the console says when a form's CSRF token no longer fits the session.
const STALE_FORM: &str = "This form has expired";

impl Browser {
    fn forget_csrf(&self) {
        *self.csrf.lock().expect("csrf cache") = None;
    }
}

impl RequestHelper for Browser {
    fn base(&self) -> &str {
        &self.base
    }
    fn http(&self) -> &Client {
        &self.http
    }

    /// A new or ended session (sign-in, sign-out) brings new form tokens.
    async fn send(&self, request: RequestBuilder) -> Reply {
        let reply = Reply::read(request.send().await.expect("the app answers")).await;
        let session_changed = reply
            .set_cookies()
            .iter()
            .any(|c| c.starts_with("session=") || c.starts_with("__Host-session="));
        if session_changed {
            self.forget_csrf();
        }
        reply
    }

    /// As a person would: a form that went stale because the session ended elsewhere is
    /// loaded again and sent once more.
    async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Reply {
        let cached = self.csrf.lock().expect("csrf cache").is_some();
        let send = |token: String| {
            let mut all: Vec<(String, String)> = fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            all.push(("csrf_token".to_owned(), token));
            self.send(self.request(Method::POST, path).form(&all))
        };
        let reply = send(self.csrf_token().await).await;
        if cached && reply.status == 403 && reply.body.contains(STALE_FORM) {
            self.forget_csrf();
            return send(self.csrf_token().await).await;
        }
        reply
    }

    async fn csrf_token(&self) -> String {
        let known = self.csrf.lock().expect("csrf cache").clone();
        if let Some(token) = known {
            return token;
        }
        let mut token = None;
        for page in ["/login", "/dashboard"] {
            token = csrf_in(&self.get(page).await.body);
            if token.is_some() {
                break;
            }
        }
        let token = token.expect("a CSRF token on /login or /dashboard");
        *self.csrf.lock().expect("csrf cache") = Some(token.clone());
        token
    }
}

/// A personal access token or a Platform API key in `Authorization: Bearer …`, with the user it
/// acts for in `x-meetergo-api-user-id` when one is named.
#[derive(Clone)]
pub struct TokenUser {
    base: String,
    http: Client,
    secret: String,
    acting_as: Option<String>,
}

impl TokenUser {
    pub fn new(base: &str, http: Client, secret: &str) -> Self {
        Self {
            base: base.to_owned(),
            http,
            secret: secret.to_owned(),
            acting_as: None,
        }
    }

    /// The same credential naming `user` in `x-meetergo-api-user-id` (sent even when empty).
    pub fn acting_as(&self, user: &str) -> Self {
        Self {
            acting_as: Some(user.to_owned()),
            ..self.clone()
        }
    }

    /// `acting_as` when a user is given, else the credential alone.
    pub fn acting_as_opt(&self, user: Option<&str>) -> Self {
        match user {
            Some(u) => self.acting_as(u),
            None => self.clone(),
        }
    }
}

impl RequestHelper for TokenUser {
    fn base(&self) -> &str {
        &self.base
    }
    fn http(&self) -> &Client {
        &self.http
    }
    fn identify(&self, request: RequestBuilder) -> RequestBuilder {
        // As written, not `bearer_auth`: malformed credentials must reach the app unchanged.
        let request = request.header("authorization", format!("Bearer {}", self.secret));
        match &self.acting_as {
            Some(user) => request.header("x-meetergo-api-user-id", user),
            None => request,
        }
    }
}
