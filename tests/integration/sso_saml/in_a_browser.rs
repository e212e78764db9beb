//! SAML sign-in in a real browser: /login → "Sign in with SSO" → the company's slug → the IdP's
//! page → back on the dashboard, by the page's button and by a page that submits itself.

use std::collections::HashMap;
use std::rc::Rc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::chrome::{by_testid, chromium, click, fill, text_of, wait_for_path};
use crate::helpers::db::company_event_details;
use crate::helpers::TestApp;

use super::idp::{root_attr, Idp, Sp, Tenant};
use super::sp::setup;

/// A minimal IdP web front end: GET /sso?SAMLRequest=…&RelayState=… answers with a page whose
/// form posts a fresh signed response for `user` to the request's ACS.
struct IdpServer {
    idp: Rc<Idp>,
    tenant: Tenant,
    sp: Sp,
    user: String,
    auto_submit: std::cell::Cell<bool>,
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl IdpServer {
    async fn serve(self: Rc<Self>, listener: tokio::net::TcpListener) {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                return;
            };
            let me = self.clone();
            actix_web::rt::spawn(async move { me.answer(socket).await });
        }
    }

    async fn answer(&self, mut socket: tokio::net::TcpStream) {
        let mut head = Vec::new();
        let mut buf = [0u8; 4096];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match socket.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
        let head = String::from_utf8_lossy(&head).into_owned();
        let target = head
            .lines()
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .unwrap_or("/")
            .to_owned();
        let url = url::Url::parse(&format!("http://idp{target}")).expect("request target");
        let query: HashMap<String, String> = url.query_pairs().into_owned().collect();
        let (status, body) = match (url.path(), query.get("SAMLRequest")) {
            ("/sso", Some(request)) => {
                let xml = self.idp.inflate(request).await;
                let id = root_attr(&xml, "ID").expect("AuthnRequest ID");
                let acs = root_attr(&xml, "AssertionConsumerServiceURL").expect("ACS URL");
                assert_eq!(acs, self.sp.acs_url);
                let response = self
                    .idp
                    .response(
                        &self.tenant,
                        &self.sp,
                        &self.user,
                        &["--in-response-to", &id],
                    )
                    .await;
                let relay = query.get("RelayState").cloned().unwrap_or_default();
                let script = if self.auto_submit.get() {
                    "<script>document.forms[0].submit()</script>"
                } else {
                    ""
                };
                (
                    "200 OK",
                    format!(
                        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Test IdP</title></head>\
                         <body><h1 data-testid=\"idp-page\">Test IdP</h1>\
                         <form method=\"post\" action=\"{}\">\
                         <input type=\"hidden\" name=\"SAMLResponse\" value=\"{}\">\
                         <input type=\"hidden\" name=\"RelayState\" value=\"{}\">\
                         <button type=\"submit\" data-testid=\"idp-submit\">Continue to the console</button>\
                         </form>{script}</body></html>",
                        html_escape(&acs),
                        html_escape(&response),
                        html_escape(&relay),
                    ),
                )
            }
            _ => ("404 Not Found", "not found".to_owned()),
        };
        let reply = format!(
            "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
             Cache-Control: no-store\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = socket.write_all(reply.as_bytes()).await;
        let _ = socket.shutdown().await;
    }
}

/// /login → "Sign in with SSO" → the company's slug → Continue.
async fn sso_from_login(c: &fantoccini::Client, app: &TestApp, slug: &str) {
    c.goto(&app.url("/login")).await.expect("open /login");
    click(c, "sso-toggle").await;
    fill(c, "sso-identifier", slug).await;
    click(c, "sso-submit").await;
}

#[actix_web::test]
async fn sso_sign_in_in_a_browser() {
    let app = TestApp::spawn().await;
    let idp = Rc::new(Idp::start().await);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the IdP");
    let idp_port = listener.local_addr().expect("IdP address").port();
    let tenant = Tenant {
        sso_url: format!("http://127.0.0.1:{idp_port}/sso"),
        ..Tenant::new("browser", "idp")
    };
    let s = setup(&app, idp.clone(), tenant, "Browser SAML GmbH").await;
    let server = Rc::new(IdpServer {
        idp,
        tenant: s.tenant.clone(),
        sp: s.sp.clone(),
        user: s.owner.clone(),
        auto_submit: std::cell::Cell::new(false),
    });
    actix_web::rt::spawn(server.clone().serve(listener));

    let (_driver, c) = chromium().await;

    // With the IdP page's button.
    sso_from_login(&c, &app, &s.sp.slug).await;
    by_testid(&c, "idp-page").await;
    let at = c.current_url().await.expect("url");
    assert_eq!(at.port(), Some(idp_port), "on the IdP's page: {at}");
    assert_eq!(at.path(), "/sso");
    click(&c, "idp-submit").await;
    wait_for_path(&c, "/dashboard").await;
    assert_eq!(text_of(&c, "dashboard-title").await, "Welcome, Olga Owner");
    assert_eq!(text_of(&c, "dashboard-role").await, "owner");
    assert!(
        company_event_details(&app, &s.company_id, "sign_in.succeeded")
            .iter()
            .any(|d| d.contains("saml"))
    );

    // Signed out, then again with the page submitting itself, as IdPs do.
    click(&c, "logout").await;
    wait_for_path(&c, "/login").await;
    server.auto_submit.set(true);
    sso_from_login(&c, &app, &s.sp.slug).await;
    wait_for_path(&c, "/dashboard").await;
    assert_eq!(text_of(&c, "dashboard-title").await, "Welcome, Olga Owner");

    c.close().await.expect("close browser session");
}
