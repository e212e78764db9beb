//! The sign-in round trip over HTTP: the app's browser starts it, a browser of its own signs in
//! at the provider, and the app's browser opens the callback.

use reqwest::Url;

use crate::helpers::html::unescape;
use crate::helpers::{Browser, OidcProvider, Reply, RequestHelper, TestApp, OIDC_PROVIDER_KEY};

pub fn param(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// `url` with the query parameter `name` replaced by `value`.
pub fn with_param(url: &Url, name: &str, value: &str) -> Url {
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == name {
                value.to_owned()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    let mut out = url.clone();
    out.query_pairs_mut().clear().extend_pairs(pairs);
    out
}

/// `url` without the query parameter `name`.
pub fn without_param(url: &Url, name: &str) -> Url {
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != name)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut out = url.clone();
    out.query_pairs_mut().clear().extend_pairs(pairs);
    out
}

/// GET /auth/oidc/okta/start (with `query`, like `?purpose=link`) in this browser: it must
/// send the browser to the provider's authorization endpoint. Returns that URL.
pub async fn start(provider: &OidcProvider, browser: &Browser, query: &str) -> Url {
    let r = browser
        .get(&format!("/auth/oidc/{OIDC_PROVIDER_KEY}/start{query}"))
        .await;
    assert_eq!(r.status, 303, "start answers with a redirect: {}", r.body);
    let url = Url::parse(r.location()).expect("an absolute authorization URL");
    assert_eq!(
        url.as_str()
            .split('?')
            .next()
            .expect("authorization endpoint"),
        format!("{}/auth", provider.issuer),
        "sent to the provider's authorization endpoint"
    );
    url
}

/// At the provider, in a browser of its own: opens the authorization URL, submits the login
/// form as `login` and follows the provider's redirects until it sends the browser back to
/// the app. Returns that URL (the app's callback), without opening it.
pub async fn at_provider(
    app: &TestApp,
    provider: &OidcProvider,
    authorize: &Url,
    login: &str,
) -> Url {
    let jar = Browser::elsewhere();
    let r = jar.get(authorize.as_str()).await;
    assert_eq!(
        r.status,
        303,
        "the provider shows its login: {}\nprovider log:\n{}",
        r.body,
        provider.log_text()
    );
    let interaction = authorize.join(r.location()).expect("interaction URL");
    let page = jar.get(interaction.as_str()).await;
    assert_eq!(page.status, 200, "login form: {}", page.body);
    let action = form_action(&page.body).expect("the provider's login form");
    let mut here = Url::parse(&action).expect("form action URL");
    let login_form = jar
        .request(reqwest::Method::POST, here.as_str())
        .form(&[("login", login), ("action", "login")]);
    let mut r = jar.send(login_form).await;
    for _ in 0..10 {
        assert_eq!(
            r.status,
            303,
            "the provider redirects after the login: {}\nprovider log:\n{}",
            r.body,
            provider.log_text()
        );
        let next = here.join(r.location()).expect("redirect URL");
        if next.as_str().starts_with(&app.address) {
            return next;
        }
        here = next;
        r = jar.get(here.as_str()).await;
    }
    panic!("the provider never sent the browser back to the app")
}

fn form_action(html: &str) -> Option<String> {
    let form = html.get(html.find("id=\"login-form\"")?..)?;
    let marker = "action=\"";
    let start = form.find(marker)? + marker.len();
    let rest = form.get(start..)?;
    Some(unescape(rest.get(..rest.find('"')?)?))
}

/// The app's callback (an absolute URL at the app), opened in this browser.
pub async fn callback(browser: &Browser, url: &Url) -> Reply {
    let path = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    };
    browser.get(&path).await
}

/// The whole round trip: start in this browser, sign in at the provider as `login`, back.
pub async fn round_trip(
    app: &TestApp,
    provider: &OidcProvider,
    browser: &Browser,
    query: &str,
    login: &str,
) -> Reply {
    let authorize = start(provider, browser, query).await;
    let back = at_provider(app, provider, &authorize, login).await;
    callback(browser, &back).await
}

pub async fn sign_in_as(
    app: &TestApp,
    provider: &OidcProvider,
    browser: &Browser,
    login: &str,
) -> Reply {
    round_trip(app, provider, browser, "", login).await
}
