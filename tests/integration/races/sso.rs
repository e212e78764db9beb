//! The SSO settings saved N times at once from one page: one save is written, and a page
//! older than the stored settings cannot overwrite them.

use diesel::prelude::*;
use meetergo_console::db::schema::saml_configs;

use super::{assert_one_winner, events, post_at_once, Team};
use crate::helpers::db::conn;
use crate::helpers::{Browser, RequestHelper, TestApp};

/// A self-signed certificate made for this test only (CN=races-test-idp, valid until 2126);
/// nothing is ever signed with it.
const CERTIFICATE: &str = "\
MIIDFTCCAf2gAwIBAgIUYRZw3OjVJdYyLyiMvChuxPS6EbIwDQYJKoZIhvcNAQELBQAwGTEXMBUG\
A1UEAwwOcmFjZXMtdGVzdC1pZHAwIBcNMjYxMjAxMTQzMDAwWhgPMjEyNjExMDcxNDMwMDBaMBkx\
FzAVBgNVBAMMDnJhY2VzLXRlc3QtaWRwMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\
2Gyxsdk1dCThfqB5ap2uMzKIDOjkxWCN8sgHj4b5Xbn0sjdBLpXlg2CUCdCOyz9VTvm+Kk1GvP8H\
XE1qB8+J35DT+LkZQTqQQlfOt01KG6VwPr7bQtH4vqvAjFRT2i8eqgRpCgeqpRKi9bC6cm3rlh8m\
5EphLgIqFi7DLP/Kdt1pcGkeB29Xb9RUjlCFEaMEVBG6I7UfJP2qLEqWdRVx7ynRp8Sp1q8637ud\
JW3WGg1nw75PwSh3L9azqambBKqA5Ld3GvXTAjl6sk6LLeJhDv0ps0npo3ovnTaWAxALdlko/yH3\
DFX8il4ZbzoxXY+mob3ypuyzsBU2u41/o7tK8QIDAQABo1MwUTAdBgNVHQ4EFgQUE9kZ7HSXOqz/\
aQjTJN+RUs8ILVcwHwYDVR0jBBgwFoAUE9kZ7HSXOqz/aQjTJN+RUs8ILVcwDwYDVR0TAQH/BAUw\
AwEB/zANBgkqhkiG9w0BAQsFAAOCAQEAov96jqyZwcwtUiCwoCl/JHUGN60V/drDGvXxfkRrjrjK\
3335d3Yh8Qd4JybZRScRgV3QUzwVXNcx0hNoVCgZlKXHhiVBDmIe7cMXCO1i67f2XVeNYcTPJw00\
6SoD0fkZXokFufq20/+bwd3xq1Mur/5u9+6Mf4c/va9Z+R9ZsNw0UBNpgHGrANkyWWAy4L7APHj8\
goUQbmtY+YrhfJUQWS85R1fsvQ32DRA0ycYHW/QEgwQLGA5SQbWULmJzL7K9VpgC2BcjHHQAQVK0\
Gb4UXpukR2C/lWFp1gGK+dg1lVoyPc63joBy/1Xp9udWkoIBG7gAdjwKfKuXtP36x5Qo7w==";

fn metadata() -> String {
    format!(
        r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="http://127.0.0.1:9/races-idp">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{CERTIFICATE}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="http://127.0.0.1:9/races-idp/sso"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>"#
    )
}

/// The hidden `version` of the settings form on /settings/sso.
async fn version_on_page(owner: &Browser) -> String {
    let r = owner.get("/settings/sso").await;
    assert_eq!(r.status, 200);
    let html = r.body;
    let marker = "name=\"version\" value=\"";
    let at = html.find(marker).expect("the form carries a version") + marker.len();
    let rest = html.get(at..).expect("rest");
    rest.get(..rest.find('"').expect("end"))
        .expect("version")
        .to_owned()
}

fn enforced(app: &TestApp) -> bool {
    use meetergo_console::db::schema::companies;
    companies::table
        .select(companies::sso_enforced)
        .first(&mut *conn(app))
        .expect("company")
}

#[actix_web::test]
async fn sso_settings_saved_many_times_at_once_are_saved_once() {
    let app = TestApp::spawn().await;
    let team = Team::new(&app).await;

    // The first save, from a page that showed no configuration: one row, one event.
    let first = version_on_page(&team.owner).await;
    assert_eq!(first, "", "nothing configured yet");
    let xml = metadata();
    let outcomes = post_at_once(
        &app,
        &team.owner,
        &[],
        "/settings/sso",
        &[("metadata_xml", &xml), ("version", &first)],
    )
    .await;
    assert_one_winner("first SSO save", &outcomes, 303, &[409]);
    assert_eq!(events(&app, "sso.config_changed"), 1);
    let rows: i64 = saml_configs::table
        .count()
        .get_result(&mut *conn(&app))
        .expect("count");
    assert_eq!(rows, 1);

    // A change of the saved settings, from one page, many times at once.
    let second = version_on_page(&team.owner).await;
    assert_ne!(second, "");
    let outcomes = post_at_once(
        &app,
        &team.owner,
        &[],
        "/settings/sso",
        &[("enforce_sso", "on"), ("version", &second)],
    )
    .await;
    assert_one_winner("changing SSO settings", &outcomes, 303, &[409]);
    assert_eq!(events(&app, "sso.config_changed"), 2);
    assert!(enforced(&app));

    // The page from before that change cannot overwrite it unseen.
    let stale = team
        .owner
        .post_form("/settings/sso", &[("version", &second)])
        .await;
    assert_eq!(stale.status, 409);
    assert!(enforced(&app), "the newer setting stays");
    assert_eq!(events(&app, "sso.config_changed"), 2);

    // Removing it, many times at once: removed once.
    let outcomes = post_at_once(&app, &team.owner, &[], "/settings/sso/remove", &[]).await;
    assert_one_winner("removing SAML", &outcomes, 303, &[409]);
    assert_eq!(events(&app, "sso.config_changed"), 3);
    assert!(!enforced(&app));
}
