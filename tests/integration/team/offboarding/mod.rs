//! Offboarding a member: the preview, moving their work to a colleague, cutting every access,
//! and (in `rollback`) a failure half way that leaves everything as it was.

mod moves_the_work;
mod one_choice;
mod rollback;
mod who_may;

use diesel::prelude::*;
use meetergo_console::db::models::{now, Appointment, MeetingType};
use meetergo_console::db::schema::{
    appointments, audit_events, invitations, meeting_types, personal_access_tokens, sessions, users,
};
use meetergo_console::domain::AppointmentId;

use crate::helpers::db::{conn, session_count};
use crate::helpers::fixtures::create_meeting_type;
use crate::helpers::{email, Browser, Person, RequestHelper, TestApp};

use super::World;

/// `GET /v4/user/me` with this credential: its status.
async fn api_me(app: &TestApp, bearer: &str) -> u16 {
    app.token(bearer).get("/v4/user/me").await.status
}

/// The path of the leaver's offboarding page and form.
fn offboard_path(id: &str) -> String {
    format!("/settings/members/{id}/offboard")
}

fn appointment(
    app: &TestApp,
    meeting_type: &str,
    host: &str,
    hours: i64,
    attendee: &str,
) -> String {
    let starts_at = now() + chrono::Duration::hours(hours);
    let a = Appointment {
        id: AppointmentId::new(),
        meeting_type_id: meeting_type.parse().expect("meeting type id"),
        host_id: host.parse().expect("host id"),
        starts_at,
        ends_at: starts_at + chrono::Duration::minutes(30),
        attendee_name: attendee.to_owned(),
        attendee_email: format!(
            "{}@attendees.example.com",
            attendee.to_lowercase().replace(' ', ".")
        ),
        created_at: now(),
    };
    a.insert(&mut conn(app)).expect("insert appointment");
    a.id.to_string()
}

fn meeting_type_row(app: &TestApp, id: &str) -> MeetingType {
    meeting_types::table
        .filter(meeting_types::id.eq(id))
        .select(MeetingType::as_select())
        .first(&mut *conn(app))
        .expect("meeting type")
}

fn host_of(app: &TestApp, appointment: &str) -> String {
    appointments::table
        .filter(appointments::id.eq(appointment))
        .select(appointments::host_id)
        .first(&mut *conn(app))
        .expect("appointment host")
}

/// Everything offboarding touches, to compare before and after.
#[derive(Debug, PartialEq, Eq)]
struct Footprint {
    meeting_types: Vec<(String, String, String)>,
    appointments: Vec<(String, String)>,
    tokens: Vec<(String, bool)>,
    session_users: Vec<Option<String>>,
    invitations: Vec<(String, bool, bool)>,
    users: Vec<(String, String, String)>,
    offboarded_events: i64,
}

fn footprint(app: &TestApp) -> Footprint {
    let mut c = conn(app);
    let mut session_users: Vec<Option<String>> = sessions::table
        .filter(sessions::user_id.is_not_null())
        .select(sessions::user_id)
        .load(&mut *c)
        .expect("sessions");
    session_users.sort();
    let tokens: Vec<(String, Option<chrono::NaiveDateTime>)> = personal_access_tokens::table
        .order(personal_access_tokens::id.asc())
        .select((
            personal_access_tokens::id,
            personal_access_tokens::revoked_at,
        ))
        .load(&mut *c)
        .expect("tokens");
    type InvitationState = (
        String,
        Option<chrono::NaiveDateTime>,
        Option<chrono::NaiveDateTime>,
    );
    let invitation_rows: Vec<InvitationState> = invitations::table
        .order(invitations::id.asc())
        .select((
            invitations::id,
            invitations::revoked_at,
            invitations::accepted_at,
        ))
        .load(&mut *c)
        .expect("invitations");
    Footprint {
        meeting_types: meeting_types::table
            .order(meeting_types::id.asc())
            .select((
                meeting_types::id,
                meeting_types::owner_id,
                meeting_types::slug,
            ))
            .load(&mut *c)
            .expect("meeting types"),
        appointments: appointments::table
            .order(appointments::id.asc())
            .select((appointments::id, appointments::host_id))
            .load(&mut *c)
            .expect("appointments"),
        tokens: tokens
            .into_iter()
            .map(|(id, revoked)| (id, revoked.is_some()))
            .collect(),
        session_users,
        invitations: invitation_rows
            .into_iter()
            .map(|(id, r, a)| (id, r.is_some(), a.is_some()))
            .collect(),
        users: users::table
            .order(users::id.asc())
            .select((users::id, users::role, users::status))
            .load(&mut *c)
            .expect("users"),
        offboarded_events: audit_events::table
            .filter(audit_events::kind.eq("member.offboarded"))
            .count()
            .get_result(&mut *c)
            .expect("count events"),
    }
}

// ---------------------------------------------------------------------------------------------
// Two companies: A (owner, admin, member, an API key) and B (with an admin, the outsider)
// ---------------------------------------------------------------------------------------------

/// A leaver with everything offboarding touches: two meeting types (one slug the owner also
/// uses), future and past appointments, two PATs, two browser sessions, and (as an admin) a
/// pending invitation they sent.
struct Leaver {
    person: Person,
    second_browser: Browser,
    pats: [String; 2],
    intro: String,
    demo: String,
    owners_intro: String,
    future: [String; 2],
    past: String,
    invitee: String,
    invite_link: String,
}

async fn leaver(w: &World<'_>) -> Leaver {
    let app = w.app;
    let person = w.fresh_signed_in("Leo", "member").await;
    let r = w
        .owner
        .browser
        .post_form(
            &format!("/settings/members/{}/role", person.id),
            &[("role", "admin")],
        )
        .await;
    assert_eq!(r.status, 303, "the leaver becomes an admin");
    let second_browser = app.browser();
    second_browser.sign_in(&person.email).await;
    let pats = [
        person.browser.create_pat("laptop cli", "30").await,
        person.browser.create_pat("ci runner", "30").await,
    ];
    // Without the default meeting type the API gave them: the leaver has exactly these two.
    let leaver_api = app.token(&pats[0]);
    let listed = leaver_api.get("/v4/meeting-type").await;
    for mt in listed.json().as_array().expect("list") {
        let id = mt["id"].as_str().expect("id");
        let r = leaver_api.delete(&format!("/v4/meeting-type/{id}")).await;
        assert_eq!(r.status, 200);
    }
    let intro = create_meeting_type(&leaver_api, "Intro call", "intro").await;
    let demo = create_meeting_type(&leaver_api, "Product demo", "demo").await;
    let owners_api = app.token(&w.key).acting_as(&w.owner.id);
    let owners_intro = create_meeting_type(&owners_api, "Owner intro", "intro").await;
    let future = [
        appointment(app, &intro, &person.id, 48, "Future Fiona"),
        appointment(app, &demo, &person.id, 72, "Demo Dora"),
    ];
    let past = appointment(app, &intro, &person.id, -48, "Past Paul");
    let invitee = email("invitee");
    let invite_link = person.browser.invite(&invitee, "member").await;
    assert_eq!(session_count(app, &person.id), 2, "two browser sessions");
    Leaver {
        person,
        second_browser,
        pats,
        intro,
        demo,
        owners_intro,
        future,
        past,
        invitee,
        invite_link,
    }
}
