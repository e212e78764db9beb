//! `POST /v4/user` as meetergo answers it: the time zone, and the default meeting type.

use diesel::prelude::*;
use meetergo_console::db::schema::users;
use serde_json::json;

use crate::helpers::db::conn;
use crate::helpers::{email, RequestHelper, TestApp};

use super::{validation, World};

#[actix_web::test]
async fn create_user_takes_timezone_and_provisions_the_default_meeting_type() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let address = email("berlin");
    let r = app
        .token(&w.key)
        .post_json(
            "/v4/user",
            &json!({"email": address, "givenName": "Bea", "familyName": "Berlin",
                      "timezone": "Europe/Berlin"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let user_id = r.json()["userId"].as_str().expect("userId").to_owned();
    let mt_id = r.json()["meetingTypeId"]
        .as_str()
        .expect("meetingTypeId")
        .to_owned();
    assert_eq!(
        *r.json(),
        json!({"userId": user_id, "availabilityId": null, "meetingTypeId": mt_id,
               "bookingUrl": null, "companyId": w.company_a, "email": address,
               "timezone": "Europe/Berlin"})
    );
    let tz: String = users::table
        .find(&user_id)
        .select(users::timezone)
        .first(&mut *conn(&app))
        .expect("timezone");
    assert_eq!(tz, "Europe/Berlin");
    let r = app
        .token(&w.key)
        .acting_as(&user_id)
        .get("/v4/meeting-type")
        .await;
    assert_eq!(r.status, 200);
    let list = r.json().as_array().expect("list");
    assert_eq!(list.len(), 1, "{}", r.body);
    assert_eq!(list[0]["id"], json!(mt_id));
    assert_eq!(list[0]["title"], "30 Minute Meeting");
    assert_eq!(list[0]["slug"], "30min");
    assert_eq!(list[0]["duration"], 30);
    assert_eq!(list[0]["userId"], json!(user_id));

    // Without a time zone: UTC.
    let r = app
        .token(&w.key)
        .post_json(
            "/v4/user",
            &json!({"email": email("nozone"), "givenName": "Nia"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["timezone"], "UTC");

    // An unknown zone is refused beside the field, and nobody is created.
    for bad in ["Mars/Olympus_Mons", "europe/berlin", "", "+02:00"] {
        let address = email("badzone");
        let r = app
            .token(&w.key)
            .post_json("/v4/user", &json!({"email": address, "timezone": bad}))
            .await;
        assert_eq!(r.status, 400, "{bad}");
        assert_eq!(
            *r.json(),
            validation(
                "timezone",
                "Use an IANA time zone name, like Europe/Berlin or UTC."
            ),
            "{bad}"
        );
        let n: i64 = users::table
            .filter(users::email.eq(&address))
            .count()
            .get_result(&mut *conn(&app))
            .expect("count");
        assert_eq!(n, 0, "{bad}");
    }
}
