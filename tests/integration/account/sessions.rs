//! Profile → Sessions: every signed-in browser listed with its device and address, "this
//! session" marked, one signed out or all the others; and renaming oneself.

use reqwest::Method;

use crate::helpers::db::{events_of_kind, user};
use crate::helpers::fixtures::sign_up;
use crate::helpers::{email, RequestHelper, TestApp};

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

fn rows(html: &str) -> Vec<&str> {
    html.split("data-testid=\"session-row\"")
        .skip(1)
        .map(|r| r.split("</tr>").next().unwrap())
        .collect()
}

fn row_id(row: &str) -> String {
    let marker = "name=\"session\" value=\"";
    let start = row.find(marker).unwrap() + marker.len();
    row[start..].split('"').next().unwrap().to_owned()
}

#[actix_web::test]
async fn sessions_are_listed_and_signed_out_one_or_all_others() {
    let app = TestApp::spawn().await;
    let who = email("ss");
    let me = sign_up(&app, "Session Co", "Sam", &who).await;
    let laptop = app.browser();
    laptop.sign_in(&who).await;
    let r = laptop
        .send(
            laptop
                .request(Method::GET, "/dashboard")
                .header("user-agent", FIREFOX),
        )
        .await;
    assert_eq!(r.status, 200);

    let page = me.browser.get("/profile/sessions").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let listed = rows(&page.body);
    assert_eq!(listed.len(), 2, "two browsers signed in");
    let current: Vec<_> = listed
        .iter()
        .filter(|r| r.contains("data-current"))
        .collect();
    assert_eq!(
        current.len(),
        1,
        "exactly one is this session: {}",
        page.body
    );
    assert!(current[0].contains("this session"));
    let other = listed.iter().find(|r| !r.contains("data-current")).unwrap();
    assert!(other.contains("Firefox on Linux"), "{other}");
    assert!(other.contains("127.0.0.1"));

    // Sign out the laptop from here.
    me.browser
        .post_form("/profile/sessions/sign-out", &[("session", &row_id(other))])
        .await
        .assert_redirect("/profile/sessions");
    assert!(!laptop.is_signed_in().await);
    assert!(me.browser.is_signed_in().await);
    assert_eq!(events_of_kind(&app, "session.ended").len(), 1);
    // Someone else's or an ended session: nothing happens.
    let r = me
        .browser
        .post_form("/profile/sessions/sign-out", &[("session", &row_id(other))])
        .await;
    r.assert_redirect("/profile/sessions");

    // Two more browsers, then "Sign out all other sessions".
    let (a, b) = (app.browser(), app.browser());
    a.sign_in(&who).await;
    b.sign_in(&who).await;
    me.browser
        .post_form("/profile/sessions/sign-out-others", &[])
        .await
        .assert_redirect("/profile/sessions");
    assert!(!a.is_signed_in().await && !b.is_signed_in().await);
    assert!(me.browser.is_signed_in().await, "this session stays");
    let page = me.browser.get("/profile/sessions").await;
    assert_eq!(rows(&page.body).len(), 1);
    assert!(events_of_kind(&app, "sessions.ended").iter().any(|e| e
        .detail
        .as_deref()
        .unwrap_or("")
        .contains("2 other sessions")));

    // Signing out this session from the list signs me out.
    let page = me.browser.get("/profile/sessions").await;
    let mine = row_id(rows(&page.body)[0]);
    me.browser
        .post_form("/profile/sessions/sign-out", &[("session", &mine)])
        .await
        .assert_redirect("/login");
    assert!(!me.browser.is_signed_in().await);
}

#[actix_web::test]
async fn the_profile_links_its_sections_and_renames() {
    let app = TestApp::spawn().await;
    let me = sign_up(&app, "Name Co", "Nia", &email("nm")).await;
    let dash = me.browser.get("/dashboard").await;
    assert!(
        dash.body.contains("data-testid=\"nav-profile\""),
        "the user menu links the profile"
    );
    let profile = me.browser.get("/profile").await;
    for id in ["profile-two-factor", "profile-sessions", "name-form"] {
        assert!(
            profile.body.contains(&format!("data-testid=\"{id}\"")),
            "{id}"
        );
    }
    me.browser
        .post_form("/profile/name", &[("name", "Nia Novak")])
        .await
        .assert_redirect("/profile");
    assert_eq!(user(&app, &me.id).name, "Nia Novak");
    assert_eq!(events_of_kind(&app, "profile.updated").len(), 1);
    me.browser
        .post_form("/profile/name", &[("name", "   ")])
        .await
        .assert_redirect("/profile");
    assert_eq!(
        user(&app, &me.id).name,
        "Nia Novak",
        "an empty name is refused"
    );
}
