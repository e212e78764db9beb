//! Offboarding asks once who takes over: the preview's choice is what the confirmation does,
//! and a confirmation naming someone else than the preview showed is refused.

use crate::helpers::db::status_of;
use crate::helpers::html::testid_text;
use crate::helpers::{RequestHelper, TestApp};

use super::{footprint, offboard_path, World};

#[actix_web::test]
async fn the_receiver_chosen_on_the_preview_is_carried_to_the_confirmation() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let (receiver, _) = w.fresh("Rachel", "member").await;
    let path = offboard_path(&w.member.id);

    let preview = w
        .owner
        .browser
        .get(&format!("{path}?transfer_to={receiver}"))
        .await;
    assert_eq!(preview.status, 200);
    let html = &preview.body;
    // One select, on the preview; the confirmation carries its value, hidden.
    assert_eq!(html.matches("<select").count(), 1, "one choice");
    assert!(html.contains(&format!("<option value=\"{receiver}\" selected>")));
    assert!(html.contains(&format!(
        "action=\"{path}?transfer_to={receiver}\" data-testid=\"offboard-form\""
    )));
    assert!(html.contains(&format!(
        "<input type=\"hidden\" name=\"transfer_to\" value=\"{receiver}\" data-testid=\"offboard-transfer-to\">"
    )));
    assert_eq!(
        testid_text(html, "summary-receiver").as_deref(),
        Some("Rachel")
    );
    // Cancel is a link outside the form of the red button.
    let form = html
        .split("data-testid=\"offboard-form\"")
        .nth(1)
        .and_then(|rest| rest.split("</form>").next())
        .expect("the confirmation form");
    assert!(form.contains("class=\"danger\""));
    assert!(!form.contains("offboard-cancel"));
    assert!(html.contains("data-testid=\"offboard-cancel\">Cancel and go back to Members</a>"));

    // A confirmation that names someone else than the preview's address: refused, nothing done.
    let before = footprint(&app);
    let r = w
        .owner
        .browser
        .post_form(
            &format!("{path}?transfer_to={receiver}"),
            &[("transfer_to", w.owner.id.as_str())],
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("Look at the preview again"), "{}", r.body);
    assert_eq!(footprint(&app), before);
    assert_eq!(status_of(&app, &w.member.id), "active");

    // The form as the preview wrote it goes through, to the receiver it showed.
    let r = w
        .owner
        .browser
        .post_form(
            &format!("{path}?transfer_to={receiver}"),
            &[("transfer_to", receiver.as_str())],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(status_of(&app, &w.member.id), "removed");
    let members = w.owner.browser.get("/settings/members").await.body;
    assert!(
        members.contains("Mia was offboarded: ") && members.contains(" went to Rachel; "),
        "{members}"
    );
}
