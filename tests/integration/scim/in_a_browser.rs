//! Settings → Provisioning in a headless Chromium: an owner generates the SCIM secret, copies it
//! from the one page that shows it, and turns SCIM off again.

use crate::helpers::chrome::{chromium, click, sign_up, text_of, wait_for_path};
use crate::helpers::{email, RequestHelper, TestApp};

use super::{assert_scim_error, idp};

#[actix_web::test]
async fn an_owner_sets_up_provisioning_in_a_browser() {
    let app = TestApp::spawn().await;
    let (_driver, c) = chromium().await;
    sign_up(&c, &app, "Browser Co", "Bo Owner", &email("bo")).await;

    c.goto(&app.url("/settings")).await.expect("open settings");
    click(&c, "settings-nav-provisioning").await;
    wait_for_path(&c, "/settings/provisioning").await;
    assert!(text_of(&c, "scim-status").await.contains("off"));
    let company = text_of(&c, "company-id").await;
    assert_eq!(company.len(), 36, "{company}");

    click(&c, "scim-generate").await;
    wait_for_path(&c, "/settings/provisioning/secret").await;
    let secret = text_of(&c, "new-token").await;
    assert!(secret.starts_with("scim_"), "{secret}");
    assert!(text_of(&c, "scim-status").await.contains("on"));
    let r = idp(&app, &secret).get("/scim/v2/Users").await;
    assert_eq!(r.status, 200, "{}", r.body);

    // Turning it off: the checkbox, then Save.
    c.goto(&app.url("/settings/provisioning"))
        .await
        .expect("open provisioning");
    click(&c, "scim-enabled").await;
    click(&c, "provisioning-save").await;
    wait_for_path(&c, "/settings/provisioning").await;
    crate::helpers::chrome::eventually("SCIM to be off", || async {
        text_of(&c, "scim-status").await.contains("off")
    })
    .await;
    assert_scim_error(&idp(&app, &secret).get("/scim/v2/Users").await, 401, None);
}
