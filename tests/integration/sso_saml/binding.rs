//! A response counts only in the browser that started its request, once: unsolicited,
//! foreign, unknown and replayed responses are refused, and one company's response is no good
//! at another's.

use std::rc::Rc;

use meetergo_console::domain::Role;

use crate::helpers::db::{add_user, company_event_details};
use crate::helpers::{email, RequestHelper, TestApp};

use super::idp::{Idp, Tenant};
use super::sp::{refuse_at, save_sso, setup, signed_in_as, Setup};

/// "Binding SAML BV" with SAML set up and a member; returns the setup and the member's email.
async fn binding(app: &TestApp) -> (Setup, String) {
    let idp = Rc::new(Idp::start().await);
    let s = setup(app, idp, Tenant::new("bind", "idp"), "Binding SAML BV").await;
    let member = email("member");
    add_user(app, &s.company_id, "Mo Member", &member, Role::Member);
    (s, member)
}

#[actix_web::test]
async fn unsolicited_responses_are_refused_while_idp_initiated_sign_in_is_off() {
    let app = TestApp::spawn().await;
    let (s, member) = binding(&app).await;

    // Unsolicited while IdP-initiated sign-in is off.
    let unsolicited = s.response(&member, &[]).await;
    let c = app.browser();
    s.refuse(&app, &c, &unsolicited, "unsolicited", "unsolicited")
        .await;
    // …also from a browser that has a pending request of its own.
    let c = app.browser();
    s.start(&app, &c, &s.sp.slug).await;
    s.refuse(
        &app,
        &c,
        &unsolicited,
        "unsolicited",
        "unsolicited, bound browser",
    )
    .await;
}

#[actix_web::test]
async fn a_response_is_served_only_in_the_browser_that_started_its_request() {
    let app = TestApp::spawn().await;
    let (s, member) = binding(&app).await;

    // A response to browser A's request, posted by browser B (with its own binding cookie).
    let a = app.browser();
    let b = app.browser();
    let id_a = s.start(&app, &a, &s.sp.slug).await;
    s.start(&app, &b, &s.sp.slug).await;
    let for_a = s.response(&member, &["--in-response-to", &id_a]).await;
    s.refuse(
        &app,
        &b,
        &for_a,
        "InResponseTo does not name a pending request",
        "another browser's request",
    )
    .await;
    // Without any binding cookie at all.
    s.refuse(
        &app,
        &app.browser(),
        &for_a,
        "InResponseTo does not name a pending request",
        "no binding cookie",
    )
    .await;
    // Browser A itself is still served.
    s.accept(&app, &a, &for_a, &member, "the browser that started it")
        .await;
}

#[actix_web::test]
async fn replayed_responses_and_unknown_requests_are_refused() {
    let app = TestApp::spawn().await;
    let (s, member) = binding(&app).await;
    let a = app.browser();
    let id_a = s.start(&app, &a, &s.sp.slug).await;
    let for_a = s.response(&member, &["--in-response-to", &id_a]).await;
    s.accept(&app, &a, &for_a, &member, "the browser that started it")
        .await;

    // Replayed: the same response again, from the same browser after signing out, and from
    // another one.
    let r = a.post_form("/logout", &[]).await;
    assert_eq!(r.status, 303);
    assert_eq!(signed_in_as(&a).await, None);
    s.refuse(
        &app,
        &a,
        &for_a,
        "InResponseTo does not name a pending request",
        "replayed in the same browser",
    )
    .await;
    let c = app.browser();
    s.start(&app, &c, &s.sp.slug).await;
    s.refuse(
        &app,
        &c,
        &for_a,
        "InResponseTo does not name a pending request",
        "replayed in another browser",
    )
    .await;

    // An InResponseTo that names no request at all.
    let c = app.browser();
    s.start(&app, &c, &s.sp.slug).await;
    let unknown = s
        .response(
            &member,
            &["--in-response-to", "_0123456789abcdef0123456789abcdef"],
        )
        .await;
    s.refuse(
        &app,
        &c,
        &unknown,
        "InResponseTo does not name a pending request",
        "unknown InResponseTo",
    )
    .await;
}

#[actix_web::test]
async fn idp_initiated_responses_count_once_and_cannot_take_over_a_request() {
    let app = TestApp::spawn().await;
    let (s, member) = binding(&app).await;
    let unknown = s
        .response(
            &member,
            &["--in-response-to", "_0123456789abcdef0123456789abcdef"],
        )
        .await;

    // IdP-initiated on: an unsolicited response is accepted once, then it is a replay.
    let r = save_sso(&s.owner_browser, "", &["allow_idp_initiated"]).await;
    assert_eq!(r.status, 303);
    let unsolicited = s.response(&member, &[]).await;
    let c = app.browser();
    s.accept(&app, &c, &unsolicited, &member, "IdP-initiated")
        .await;
    s.refuse(
        &app,
        &app.browser(),
        &unsolicited,
        "saml: replayed assertion",
        "replayed IdP-initiated",
    )
    .await;
    assert_eq!(
        company_event_details(&app, &s.company_id, "sign_in.failed")
            .last()
            .map(String::as_str),
        Some("saml: replayed assertion"),
        "the reason, once"
    );
    // Browser A's solicited response with InResponseTo cut from the unsigned envelope, posted
    // by browser B as if IdP-initiated: the signed SubjectConfirmationData still names A's
    // request, which B did not start.
    let a = app.browser();
    let id_a = s.start(&app, &a, &s.sp.slug).await;
    let raw = s
        .response(&member, &["--in-response-to", &id_a, "--raw"])
        .await;
    let envelope_irt = format!(" InResponseTo=\"{id_a}\"");
    assert_eq!(raw.matches(&envelope_irt).count(), 2, "{raw}");
    let stripped = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(raw.replacen(&envelope_irt, "", 1))
    };
    let b = app.browser();
    s.start(&app, &b, &s.sp.slug).await;
    s.refuse(
        &app,
        &b,
        &stripped,
        "the request was already answered",
        "A's response made unsolicited, posted by B",
    )
    .await;
    assert_eq!(
        company_event_details(&app, &s.company_id, "sign_in.failed")
            .last()
            .map(String::as_str),
        Some("saml: the request was already answered")
    );
    // A still signs in with a response to its request.
    let for_a = s.response(&member, &["--in-response-to", &id_a]).await;
    s.accept(&app, &a, &for_a, &member, "A after B's attempt")
        .await;
    // Solicited responses still need this browser's request.
    let c = app.browser();
    s.start(&app, &c, &s.sp.slug).await;
    s.refuse(
        &app,
        &c,
        &unknown,
        "InResponseTo does not name a pending request",
        "unknown InResponseTo, IdP-initiated on",
    )
    .await;
}

#[actix_web::test]
async fn a_response_for_another_company_is_refused() {
    let app = TestApp::spawn().await;
    let (s, _) = binding(&app).await;
    let idp = s.idp.clone();

    // Company B, with its own IdP and key. One browser starts at both companies.
    let b = setup(
        &app,
        idp.clone(),
        Tenant::new("other", "wrong"),
        "Other Company Oy",
    )
    .await;
    let c = app.browser();
    let id_a = s.start(&app, &c, &s.sp.slug).await;
    let id_b = b.start(&app, &c, &b.sp.slug).await;
    // B's valid response, to A's ACS: refused.
    let for_b = b.response(&b.owner, &["--in-response-to", &id_b]).await;
    refuse_at(
        &app,
        &c,
        &s.sp.slug,
        &s.company_id,
        &for_b,
        "Destination",
        "company B's response at company A's ACS",
    )
    .await;
    // Even naming A's pending request.
    let for_b_naming_a = b.response(&s.owner, &["--in-response-to", &id_a]).await;
    refuse_at(
        &app,
        &c,
        &s.sp.slug,
        &s.company_id,
        &for_b_naming_a,
        "Destination",
        "company B's response naming A's request",
    )
    .await;
    // B's IdP addressing A's ACS: its key is not A's.
    let b_to_a = idp
        .response(&b.tenant, &s.sp, &s.owner, &["--in-response-to", &id_a])
        .await;
    refuse_at(
        &app,
        &c,
        &s.sp.slug,
        &s.company_id,
        &b_to_a,
        "must be signed",
        "company B's IdP addressing company A",
    )
    .await;
    // B's IdP vouching for A's owner at B: the account is outside B.
    let c2 = app.browser();
    let a_owner_at_b = b.solicited(&app, &c2, &s.owner, &[]).await;
    b.refuse(
        &app,
        &c2,
        &a_owner_at_b,
        "outside this company",
        "A's owner through B's IdP",
    )
    .await;
    // The response was fine for B.
    b.accept(&app, &c, &for_b, &b.owner, "company B's response at B")
        .await;
}
