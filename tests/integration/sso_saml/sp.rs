//! The console as the service provider: companies that configure SAML through Settings → SSO,
//! starting a sign-in at /sso/start, posting responses to the ACS, and checking each answer
//! whole (accepted and signed in, or refused with nothing created).

use std::collections::HashMap;
use std::rc::Rc;

use diesel::prelude::*;
use meetergo_console::db::schema::{companies, identities, sessions, sso_requests, users};
use reqwest::Method;

use crate::helpers::db::{company, company_event_details, conn, user_by_email};
use crate::helpers::html::unescape;
use crate::helpers::{email, Browser, Reply, RequestHelper, TestApp};

use super::idp::{root_attr, sp, Idp, Sp, Tenant};

/// `(issuer, subject, user)` of every linked identity.
pub fn identities_of_company(app: &TestApp, company_id: &str) -> Vec<(String, String, String)> {
    identities::table
        .inner_join(users::table)
        .filter(users::company_id.eq(company_id))
        .select((identities::issuer, identities::subject, identities::user_id))
        .load(&mut *conn(app))
        .expect("identities")
}

/// What a refused sign-in must leave untouched.
#[derive(Debug, PartialEq, Eq)]
pub struct Footprint {
    pub users: i64,
    pub identities: i64,
    pub companies: i64,
    pub signed_in_sessions: i64,
    pub accounts: Vec<(String, String, String)>,
}

pub fn footprint(app: &TestApp) -> Footprint {
    let mut conn = conn(app);
    Footprint {
        users: users::table.count().get_result(&mut *conn).expect("users"),
        identities: identities::table
            .count()
            .get_result(&mut *conn)
            .expect("identities"),
        companies: companies::table
            .count()
            .get_result(&mut *conn)
            .expect("companies"),
        signed_in_sessions: sessions::table
            .filter(sessions::user_id.is_not_null())
            .count()
            .get_result(&mut *conn)
            .expect("sessions"),
        accounts: users::table
            .select((users::email, users::role, users::company_id))
            .order(users::email.asc())
            .load(&mut *conn)
            .expect("users"),
    }
}

/// The email of the user this browser is signed in as, read from /profile.
pub async fn signed_in_as(c: &Browser) -> Option<String> {
    let r = c.get("/profile").await;
    if r.status != 200 {
        return None;
    }
    let html = r.body;
    let at = html.find("<h1>Your profile</h1>")?;
    let rest = &html[at..];
    let p = rest.find("<p>")? + 3;
    let line = &rest[p..p + rest[p..].find("</p>")?];
    line.split(" · ").nth(1).map(|s| s.trim().to_owned())
}

/// Saves Settings → SSO with this metadata and these checkboxes ticked.
pub async fn save_sso(c: &Browser, metadata: &str, flags: &[&str]) -> Reply {
    let mut fields: Vec<(&str, &str)> = vec![("metadata_xml", metadata)];
    fields.extend(flags.iter().map(|f| (*f, "on")));
    c.post_form("/settings/sso", &fields).await
}

/// A company with SAML configured through Settings → SSO by its owner.
pub struct Setup {
    pub idp: Rc<Idp>,
    pub tenant: Tenant,
    pub sp: Sp,
    pub company_id: String,
    pub owner: String,
    /// The owner's browser, signed in.
    pub owner_browser: Browser,
}

/// Signs up a company and saves the tenant's metadata as its owner.
pub async fn setup(app: &TestApp, idp: Rc<Idp>, tenant: Tenant, company_name: &str) -> Setup {
    let owner = email("owner");
    let owner_browser = app.browser();
    let r = owner_browser
        .signup(company_name, "Olga Owner", &owner)
        .await;
    assert_eq!(r.status, 303, "signup {company_name}");
    let company_id = user_by_email(app, &owner)
        .expect("owner stored")
        .company_id
        .to_string();
    let slug = company(app, &company_id).slug;
    let metadata = idp.metadata(&tenant, true).await;
    let r = save_sso(&owner_browser, &metadata, &[]).await;
    assert_eq!(r.status, 303, "saving the IdP metadata");
    Setup {
        idp,
        sp: sp(app, &slug),
        tenant,
        company_id,
        owner,
        owner_browser,
    }
}

impl Setup {
    /// POST /sso/start in browser `c`: checks the redirect to the IdP and returns the
    /// AuthnRequest's ID read from the deflated SAMLRequest.
    pub async fn start(&self, app: &TestApp, c: &Browser, identifier: &str) -> String {
        start_sso(app, c, &self.idp, &self.tenant, &self.sp, identifier).await
    }

    pub async fn response(&self, name_id: &str, extra: &[&str]) -> String {
        self.idp
            .response(&self.tenant, &self.sp, name_id, extra)
            .await
    }

    /// A response to a request `c` just started.
    pub async fn solicited(
        &self,
        app: &TestApp,
        c: &Browser,
        name_id: &str,
        extra: &[&str],
    ) -> String {
        let id = self.start(app, c, &self.sp.slug).await;
        let mut all = vec!["--in-response-to", id.as_str()];
        all.extend_from_slice(extra);
        self.response(name_id, &all).await
    }

    /// Posts a response that must be accepted: 303 to the dashboard, signed in as `who`.
    pub async fn accept(
        &self,
        app: &TestApp,
        c: &Browser,
        saml_response: &str,
        who: &str,
        what: &str,
    ) {
        let r = post_acs(c, &self.sp.slug, saml_response).await;
        assert_eq!(
            (r.status, r.location()),
            (303, "/dashboard"),
            "{what}: the response must be accepted; audit: {:?}; page: {}",
            company_event_details(app, &self.company_id, "sign_in.failed").last(),
            r.body
        );
        assert_eq!(
            signed_in_as(c).await.as_deref(),
            Some(who.to_lowercase().as_str()),
            "{what}: signed in as {who}"
        );
    }

    /// Posts a response that must be refused: a 403 page, nobody signed in, nothing created,
    /// and one `sign_in.failed` event whose detail names `reason`.
    pub async fn refuse(
        &self,
        app: &TestApp,
        c: &Browser,
        saml_response: &str,
        reason: &str,
        what: &str,
    ) -> Reply {
        refuse_at(
            app,
            c,
            &self.sp.slug,
            &self.company_id,
            saml_response,
            reason,
            what,
        )
        .await
    }
}

/// Where POST /sso/start sends the browser: a 303 to the IdP, or a page that moves on to it
/// by itself (meta refresh, plus a Continue link), which keeps a form submission within the
/// login page's `form-action 'self'`.
pub fn idp_redirect(r: &Reply, identifier: &str) -> String {
    if r.status == 303 {
        return r.location().to_owned();
    }
    let html = &r.body;
    assert_eq!(
        r.status, 200,
        "POST /sso/start with {identifier}: a redirect to the IdP; page: {html}"
    );
    let marker = "data-testid=\"sso-continue\"";
    let at = html
        .find(marker)
        .unwrap_or_else(|| panic!("POST /sso/start with {identifier}: no Continue link: {html}"));
    let tag = &html[html[..at].rfind("<a").expect("the link's tag")..at];
    let href = tag
        .split("href=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the Continue link's href");
    let refresh = html
        .split("http-equiv=\"refresh\" content=\"0;url=")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("a meta refresh to the IdP: {html}"));
    assert_eq!(
        refresh, href,
        "the refresh and the link lead to the same place"
    );
    unescape(href)
}

/// POSTs /sso/start with `identifier` in browser `c` and follows the checks of the AuthnRequest
/// it sends to the IdP; returns the request's ID, which must be pending.
pub async fn start_sso(
    app: &TestApp,
    c: &Browser,
    idp: &Idp,
    tenant: &Tenant,
    sp: &Sp,
    identifier: &str,
) -> String {
    let r = c
        .post_form("/sso/start", &[("identifier", identifier)])
        .await;
    let loc = idp_redirect(&r, identifier);
    assert!(
        loc.starts_with(&format!("{}?", tenant.sso_url)),
        "redirected to the IdP's SSO URL {}: {loc}",
        tenant.sso_url
    );
    let url = url::Url::parse(&loc).expect("IdP URL");
    let query: HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(
        query.get("RelayState").map(String::as_str),
        Some(sp.slug.as_str())
    );
    let xml = idp
        .inflate(
            query
                .get("SAMLRequest")
                .expect("SAMLRequest in the redirect"),
        )
        .await;
    let id = root_attr(&xml, "ID").unwrap_or_else(|| panic!("no ID in {xml}"));
    assert_eq!(
        root_attr(&xml, "AssertionConsumerServiceURL").as_deref(),
        Some(sp.acs_url.as_str()),
        "the request names this company's ACS: {xml}"
    );
    assert_eq!(
        root_attr(&xml, "Destination").as_deref(),
        Some(tenant.sso_url.as_str()),
        "{xml}"
    );
    assert!(
        xml.contains(&format!(">{}</", sp.entity_id)),
        "the request's Issuer is the SP entity id {}: {xml}",
        sp.entity_id
    );
    let pending: i64 = sso_requests::table
        .filter(sso_requests::id.eq(&id))
        .filter(sso_requests::kind.eq("saml"))
        .filter(sso_requests::used_at.is_null())
        .count()
        .get_result(&mut *conn(app))
        .expect("sso_requests");
    assert_eq!(pending, 1, "the AuthnRequest {id} is pending");
    id
}

/// Posts a SAMLResponse to the company's assertion consumer, as the IdP's page would.
pub async fn post_acs(c: &Browser, slug: &str, saml_response: &str) -> Reply {
    let request = c
        .request(Method::POST, &format!("/sso/saml/{slug}/acs"))
        .form(&[("SAMLResponse", saml_response), ("RelayState", slug)]);
    c.send(request).await
}

/// Posts a response to the ACS of `slug` that must be refused: a 403 page, nobody signed in,
/// nothing created, and one `sign_in.failed` event of the company whose detail names `reason`.
pub async fn refuse_at(
    app: &TestApp,
    c: &Browser,
    slug: &str,
    company_id: &str,
    saml_response: &str,
    reason: &str,
    what: &str,
) -> Reply {
    let before = footprint(app);
    let failed_before = company_event_details(app, company_id, "sign_in.failed").len();
    let r = post_acs(c, slug, saml_response).await;
    assert_eq!(r.status, 403, "{what}: refused; page: {}", r.body);
    assert!(
        r.body.contains("data-testid=\"sso-problem\""),
        "{what}: the refusal page: {}",
        r.body
    );
    assert_eq!(signed_in_as(c).await, None, "{what}: nobody signed in");
    let failed = company_event_details(app, company_id, "sign_in.failed");
    let new: Vec<&String> = failed.iter().skip(failed_before).collect();
    assert_eq!(new.len(), 1, "{what}: one sign_in.failed event: {new:?}");
    assert!(
        new[0].contains(reason),
        "{what}: the audit detail names the reason {reason:?}: {:?}",
        new[0]
    );
    assert_eq!(footprint(app), before, "{what}: nothing created");
    // The person sees what the administrator should check, never the check's own words.
    if let Some(hint) = crate::helpers::html::testid_text(&r.body, "sso-admin-hint") {
        assert!(
            !hint.contains("saml:") && !hint.contains(new[0].as_str()),
            "{what}: the hint is not the audit detail: {hint}"
        );
    }
    r
}
