//! The SCIM secret's two ways in (Bearer, Basic with the company id), each for its own company
//! only, and the SCIM error for everything else.

use reqwest::Method;

use crate::helpers::RequestHelper;
use crate::helpers::TestApp;

use super::{assert_scim_error, basic, create, idp, nobody, provisioned};

#[actix_web::test]
async fn bearer_and_basic_both_let_the_identity_provider_in() {
    let app = TestApp::spawn().await;
    let p = provisioned(&app, "Auth Co").await;
    let company = &p.owner.company_id;

    let r = idp(&app, &p.secret).get("/scim/v2/Users").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.content_type().starts_with("application/scim+json"));
    let r = basic(&app, Method::GET, "/scim/Users", company, &p.secret).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["totalResults"], 1, "the owner: {}", r.body);
    let r = basic(&app, Method::GET, "/scim/v2/Users", company, &p.secret).await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[actix_web::test]
async fn a_secret_works_only_for_its_own_company() {
    let app = TestApp::spawn().await;
    let a = provisioned(&app, "A Co").await;
    let b = provisioned(&app, "B Co").await;
    let ada = create(&app, &a.secret, &crate::helpers::email("ada"), "Ada").await;
    let ada_id = ada["id"].as_str().unwrap();

    // B's secret with A's company id, and A's secret with B's: both refused.
    let r = basic(
        &app,
        Method::GET,
        "/scim/v2/Users",
        &a.owner.company_id,
        &b.secret,
    )
    .await;
    assert_scim_error(&r, 401, None);
    let r = basic(
        &app,
        Method::GET,
        "/scim/v2/Users",
        &b.owner.company_id,
        &a.secret,
    )
    .await;
    assert_scim_error(&r, 401, None);
    // B's own secret sees B's people only: A's person is not found, not listed, not changed.
    let as_b = idp(&app, &b.secret);
    assert_scim_error(
        &as_b.get(&format!("/scim/v2/Users/{ada_id}")).await,
        404,
        None,
    );
    let r = as_b.get("/scim/v2/Users").await;
    assert_eq!(r.json()["totalResults"], 1, "{}", r.body);
    let r = super::send(
        &as_b,
        Method::PATCH,
        &format!("/scim/v2/Users/{ada_id}"),
        &super::patch(serde_json::json!([{"op": "replace", "value": {"active": false}}])),
    )
    .await;
    assert_scim_error(&r, 404, None);
    assert_scim_error(
        &as_b.delete(&format!("/scim/v2/Users/{ada_id}")).await,
        404,
        None,
    );
    let r = idp(&app, &a.secret)
        .get(&format!("/scim/v2/Users/{ada_id}"))
        .await;
    assert_eq!(r.json()["active"], true, "{}", r.body);
}

#[actix_web::test]
async fn anything_but_a_valid_secret_is_a_scim_401() {
    let app = TestApp::spawn().await;
    let p = provisioned(&app, "Refuse Co").await;
    let pat = p.owner.browser.create_pat("cli", "30").await;
    let key = p.owner.browser.create_api_key("Production", "30").await;
    let mut typo = p.secret.clone().into_bytes();
    typo[12] = if typo[12] == b'a' { b'b' } else { b'a' };
    let typo = String::from_utf8(typo).unwrap();
    let unknown = "scim_000000000000000000000000000000000000";
    for bad in [
        pat.as_str(),
        key.as_str(),
        typo.as_str(),
        unknown,
        "",
        "scim_",
    ] {
        assert_scim_error(&idp(&app, bad).get("/scim/v2/Users").await, 401, None);
    }
    let r = nobody(&app).get("/scim/v2/Users").await;
    assert_scim_error(&r, 401, None);
    assert!(r.header("www-authenticate").is_some());
    let r = basic(
        &app,
        Method::GET,
        "/scim/v2/Users",
        "not-a-company",
        &p.secret,
    )
    .await;
    assert_scim_error(&r, 401, None);
    // And a SCIM secret is no API credential.
    let r = app.token(&p.secret).get("/v4/user/me").await;
    assert_eq!(r.status, 401);
}

#[actix_web::test]
async fn requests_are_rate_limited_per_secret() {
    let app = TestApp::spawn_with(|s| {
        s.api_rate_limit_per_minute = 2;
        s.api_rate_limit_burst = 2;
    })
    .await;
    let p = provisioned(&app, "Busy Co").await;
    let as_idp = idp(&app, &p.secret);
    assert_eq!(as_idp.get("/scim/v2/Users").await.status, 200);
    assert_eq!(as_idp.get("/scim/v2/Users").await.status, 200);
    let r = as_idp.get("/scim/v2/Users").await;
    assert_scim_error(&r, 429, None);
    assert!(r.header("retry-after").is_some());
    // Another company's secret has its own allowance.
    let other = provisioned(&app, "Calm Co").await;
    assert_eq!(
        idp(&app, &other.secret).get("/scim/v2/Users").await.status,
        200
    );
}
