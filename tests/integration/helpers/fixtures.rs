//! What a test needs before it starts, made the way people make it: companies signed up through
//! the pages, users created through `/v4`, credentials and invitations through their forms.

use serde_json::json;

use super::app::TestApp;
use super::client::{Browser, Reply, RequestHelper, TokenUser};
use super::db::{set_password, user_by_email};
use super::html::{invite_link_in, new_secret_in};
use super::PASSWORD;

/// A unique email for this test run.
pub fn email(who: &str) -> String {
    format!("{who}-{}@example.com", short_id())
}

/// A domain nobody else in this run has.
pub fn random_domain(prefix: &str) -> String {
    format!("{prefix}-{}.example.com", short_id())
}

fn short_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..8].to_owned()
}

pub fn random_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The id inside a Platform API key, `ak_live:<id>:<secret>`.
pub fn key_id_of(clear: &str) -> String {
    clear
        .strip_prefix("ak_live:")
        .and_then(|rest| rest.split(':').next())
        .expect("api key format")
        .to_owned()
}

/// The part of a credential that is secret: after `rgo-`, or after the key id.
pub fn secret_part(clear: &str) -> &str {
    if let Some(rest) = clear.strip_prefix("rgo-") {
        rest
    } else {
        clear.rsplit(':').next().expect("api key format")
    }
}

/// Someone with an account and a signed-in browser.
pub struct Person {
    pub id: String,
    pub email: String,
    pub company_id: String,
    pub browser: Browser,
}

/// Signs a new company up through the page and follows the confirmation link mailed to the
/// address (the joining rule runs then); the person stays signed in in the new browser.
pub async fn sign_up(app: &TestApp, company: &str, name: &str, address: &str) -> Person {
    let person = sign_up_unconfirmed(app, company, name, address).await;
    let r = confirm_email(&person.browser, &verification_path(app, address)).await;
    assert_eq!(r.status, 200, "{address} confirms: {}", r.body);
    let user = user_by_email(app, address).expect("the owner is stored");
    Person {
        company_id: user.company_id.to_string(),
        ..person
    }
}

/// Signs a new company up through the page without following the confirmation link.
pub async fn sign_up_unconfirmed(
    app: &TestApp,
    company: &str,
    name: &str,
    address: &str,
) -> Person {
    let browser = app.browser();
    let r = browser.signup(company, name, address).await;
    assert_eq!(r.status, 303, "{company} signs up: {}", r.body);
    let user = user_by_email(app, address).expect("the owner is stored");
    Person {
        id: user.id.to_string(),
        email: address.to_owned(),
        company_id: user.company_id.to_string(),
        browser,
    }
}

/// Creates a user of the key's company through `POST /v4/user`; returns its id.
pub async fn api_user(app: &TestApp, key: &str, name: &str, address: &str, role: &str) -> String {
    let r = app
        .token(key)
        .post_json(
            "/v4/user",
            &json!({"email": address, "givenName": name, "role": role}),
        )
        .await;
    assert_eq!(r.status, 201, "creating {role} {address}: {}", r.body);
    r.json()["userId"].as_str().expect("userId").to_owned()
}

/// A user of the key's company with a fresh email, through `POST /v4/user`: (id, email).
pub async fn create_user(app: &TestApp, key: &str, name: &str, role: &str) -> (String, String) {
    let address = email(&name.to_lowercase());
    let id = api_user(app, key, name, &address, role).await;
    (id, address)
}

/// A user of the key's company, created through the API, given the test password and signed
/// in from a browser of their own.
pub async fn signed_in_user(app: &TestApp, key: &str, name: &str, role: &str) -> Person {
    let (id, address) = create_user(app, key, name, role).await;
    set_password(app, &id);
    let browser = app.browser();
    browser.sign_in(&address).await;
    let company_id = user_by_email(app, &address)
        .expect("stored")
        .company_id
        .to_string();
    Person {
        id,
        email: address,
        company_id,
        browser,
    }
}

/// Creates a meeting type as the caller's user; returns its id.
pub async fn create_meeting_type(caller: &TokenUser, title: &str, slug: &str) -> String {
    let r = caller
        .post_json(
            "/v4/meeting-type",
            &json!({"title": title, "slug": slug, "duration": 30}),
        )
        .await;
    assert_eq!(r.status, 201, "creating meeting type {slug}: {}", r.body);
    r.json()["id"].as_str().expect("id").to_owned()
}

/// The .eml files written for `address`, oldest first.
pub fn mails_to(app: &TestApp, address: &str) -> Vec<String> {
    let dir = app.data_dir.join("mail");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    files
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .map(|p| std::fs::read_to_string(p).expect("read mail"))
        .filter(|m| m.contains(address))
        .collect()
}

/// The mails to `address` other than address confirmations (every sign-up sends one).
pub fn mails_to_besides_confirmation(app: &TestApp, address: &str) -> Vec<String> {
    mails_to(app, address)
        .into_iter()
        .filter(|m| !m.contains("/verify-email/"))
        .collect()
}

/// The mails to `address` besides address confirmations once there are at least `n` (mail
/// sent in the background), oldest first; fails after a few seconds.
pub async fn wait_for_mails(app: &TestApp, address: &str, n: usize) -> Vec<String> {
    for _ in 0..100 {
        let mails = mails_to_besides_confirmation(app, address);
        if mails.len() >= n {
            return mails;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(30)).await;
    }
    panic!("no {n} mails to {address}: {:?}", mails_to(app, address))
}

/// The `/password/reset/<token>` path in a mail.
pub fn reset_path_in(mail: &str) -> String {
    let at = mail
        .find("/password/reset/")
        .expect("a reset link in the mail");
    let rest = mail.get(at..).expect("link");
    rest.chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '/' || *c == '-' || *c == '_')
        .collect()
}

/// Follows a confirmation link as a person does: the link opens a page (which uses nothing up)
/// and its button confirms. Answers what the button's POST answered.
pub async fn confirm_email(caller: &impl RequestHelper, link: &str) -> Reply {
    let page = caller.get(link).await;
    if page.status != 200 {
        return page;
    }
    assert!(
        page.body.contains("data-testid=\"confirm-email\""),
        "the link opens a confirmation page: {}",
        page.body
    );
    caller.post_form(link, &[]).await
}

/// `/verify-email/<token>` from the newest confirmation mail sent to `address`.
pub fn verification_path(app: &TestApp, address: &str) -> String {
    let mails = mails_to(app, address);
    let mail = mails
        .iter()
        .rev()
        .find(|m| m.contains("/verify-email/"))
        .unwrap_or_else(|| panic!("a confirmation mail to {address}"));
    let at = mail.find("/verify-email/").expect("a link");
    mail[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '/' || *c == '-')
        .collect()
}

/// What a person does in their browser, through the pages' forms.
impl Browser {
    pub async fn signup(&self, company: &str, name: &str, address: &str) -> Reply {
        self.post_form(
            "/signup",
            &[
                ("company_name", company),
                ("name", name),
                ("email", address),
                ("password", PASSWORD),
            ],
        )
        .await
    }

    pub async fn login(&self, address: &str, password: &str) -> Reply {
        self.post_form("/login", &[("email", address), ("password", password)])
            .await
    }

    /// Signs in with the test password; it must succeed.
    pub async fn sign_in(&self, address: &str) {
        let r = self.login(address, PASSWORD).await;
        assert_eq!(r.status, 303, "{address} signs in: {}", r.body);
        assert_eq!(r.location(), "/dashboard");
    }

    pub async fn logout(&self) -> Reply {
        self.post_form("/logout", &[]).await
    }

    /// True on the dashboard, false when sent to /login; anything else fails.
    pub async fn is_signed_in(&self) -> bool {
        let r = self.get("/dashboard").await;
        match r.status {
            200 => true,
            303 => {
                assert_eq!(r.location(), "/login", "signed out → /login");
                false
            }
            other => panic!("GET /dashboard answered {other}"),
        }
    }

    /// Posts a form that issues a secret and, when it answers with the redirect of
    /// post/redirect/get, follows it to the page that shows the secret once.
    pub async fn post_and_follow(&self, path: &str, fields: &[(&str, &str)]) -> Reply {
        let r = self.post_form(path, fields).await;
        if r.status != 303 {
            return r;
        }
        self.get(r.location()).await
    }

    /// Creates a personal access token through the page; returns the token shown once.
    pub async fn create_pat(&self, name: &str, expiry: &str) -> String {
        let r = self
            .post_and_follow(
                "/integrations/api/tokens",
                &[("name", name), ("expiry", expiry)],
            )
            .await;
        assert_eq!(r.status, 200, "creating PAT {name}: {}", r.body);
        new_secret_in(&r.body).expect("new token shown")
    }

    /// Creates a Platform API key through the admin page; returns the key shown once.
    pub async fn create_api_key(&self, name: &str, expiry_days: &str) -> String {
        let r = self
            .post_and_follow(
                "/admin/api-keys",
                &[("name", name), ("expiry", expiry_days)],
            )
            .await;
        assert_eq!(r.status, 200, "creating API key {name}: {}", r.body);
        new_secret_in(&r.body).expect("new key shown")
    }

    /// Invites `address` through the members page; returns the link mailed to it (the page
    /// never shows it).
    pub async fn invite(&self, address: &str, role: &str) -> String {
        let r = self
            .post_form(
                "/settings/members/invite",
                &[("email", address), ("role", role)],
            )
            .await;
        assert_eq!(r.status, 200, "inviting {address}: {}", r.body);
        assert!(invite_link_in(&r.body).is_none(), "the link is only mailed");
        newest_invite_link(&super::app::mail_dir_of(self.base()), address)
            .expect("invitation link mailed")
    }
}

/// The newest invitation link (`http://…/invite/<token>`) mailed to `address`.
pub fn mailed_invite_link(app: &TestApp, address: &str) -> String {
    newest_invite_link(&app.data_dir.join("mail"), address).expect("invitation link mailed")
}

fn newest_invite_link(dir: &std::path::Path, address: &str) -> Option<String> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    files
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .filter(|m| m.contains(address))
        .filter_map(|m| {
            let at = m.find("/invite/")?;
            let start = m.get(..at)?.rfind("http")?;
            Some(
                m.get(start..)?
                    .chars()
                    .take_while(|c| !c.is_whitespace())
                    .collect::<String>(),
            )
        })
        .next_back()
}
