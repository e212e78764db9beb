//! A person with tens of thousands of appointments: the export is complete, in order, parses,
//! and streams a page at a time.
//!
//! What shows that the server never holds it all: the response has no Content-Length (it is
//! sent as it is produced), and the export's own stream, read here directly, yields the
//! document as one chunk per page of rows, none larger than a page's worth, and it reads the
//! next page from the database only when the previous chunk was taken (`try_unfold`).

use std::collections::HashSet;
use std::time::Instant;

use chrono::Duration;
use diesel::prelude::*;
use futures_util::StreamExt;
use meetergo_console::db::models::{now, Appointment, AuditEvent, MeetingType};
use meetergo_console::db::schema::{appointments, audit_events};
use meetergo_console::db::DbConnection;
use meetergo_console::domain::{
    AppointmentId, AuditEventId, AuditKind, CompanyId, MeetingTypeId, UserId,
};
use meetergo_console::services::audit::Origin;
use meetergo_console::services::export::{self, Via, PAGE_SIZE};
use serde_json::Value;

use crate::helpers::db::{conn, user};
use crate::helpers::fixtures::sign_up;
use crate::helpers::{backend, email, RequestHelper, TestApp};

use super::document;

/// Appointments of the person exported. 50,000 takes a few seconds on either backend.
const APPOINTMENTS: usize = 50_000;
/// Audit events about the person, all at the same instant (pages break ties by id).
const EVENTS: usize = 1_200;
/// Events of the same company about someone else: never in the export.
const OTHER_EVENTS: usize = 300;
/// An attendee name that only a real JSON encoder writes correctly.
const AWKWARD: &str = "Zoë \"Q\" \\ O'Brien\n\t</script>\u{2028}\u{0001}";

/// Rows inserted directly, many per statement (the fixtures through the pages would take hours).
pub(super) fn seed(
    app: &TestApp,
    host: &UserId,
    company: &CompanyId,
) -> (HashSet<String>, HashSet<String>) {
    let at = now();
    let meeting_type = MeetingType {
        id: MeetingTypeId::new(),
        owner_id: host.clone(),
        title: "Bulk".into(),
        slug: "bulk".into(),
        duration_minutes: 30,
        created_at: at,
        deleted_at: None,
    };
    let appts: Vec<Appointment> = (0..APPOINTMENTS)
        .map(|i| {
            let starts = at + Duration::minutes(30 * i as i64);
            Appointment {
                id: AppointmentId::new(),
                meeting_type_id: meeting_type.id.clone(),
                host_id: host.clone(),
                starts_at: starts,
                ends_at: starts + Duration::minutes(30),
                attendee_name: if i == 7 {
                    AWKWARD.to_owned()
                } else {
                    format!("Guest {i}")
                },
                attendee_email: format!("guest{i}@example.org"),
                created_at: at,
            }
        })
        .collect();
    let event = |actor: Option<String>, target: Option<String>| AuditEvent {
        id: AuditEventId::new(),
        company_id: Some(company.clone()),
        actor_id: actor,
        credential_id: None,
        kind: AuditKind::SettingsChanged,
        target,
        detail: Some("bulk".into()),
        ip: Some("192.0.2.1".into()),
        user_agent: None,
        created_at: at,
    };
    let mut events: Vec<AuditEvent> = (0..EVENTS)
        .map(|i| {
            if i % 2 == 0 {
                event(Some(host.to_string()), None)
            } else {
                event(None, Some(format!("someone@example.org ({host})")))
            }
        })
        .collect();
    let others: Vec<AuditEvent> = (0..OTHER_EVENTS)
        .map(|_| event(Some(UserId::new().to_string()), Some("x_y%z".into())))
        .collect();
    let mine = events.iter().map(|e| e.id.to_string()).collect();
    let not_mine = others.iter().map(|e| e.id.to_string()).collect();
    events.extend(others);
    let mut c = conn(app);
    meeting_type.insert(&mut c).unwrap();
    // Multi-row INSERTs are backend-specific in Diesel: the same code on each connection.
    macro_rules! insert_all {
        ($c:expr) => {
            $c.transaction::<_, diesel::result::Error, _>(|c| {
                for chunk in appts.chunks(1000) {
                    diesel::insert_into(appointments::table)
                        .values(chunk)
                        .execute(c)?;
                }
                for chunk in events.chunks(500) {
                    diesel::insert_into(audit_events::table)
                        .values(chunk)
                        .execute(c)?;
                }
                Ok(())
            })
        };
    }
    match &mut *c {
        DbConnection::Sqlite(c) => insert_all!(c),
        DbConnection::Postgres(c) => insert_all!(c),
    }
    .unwrap();
    (mine, not_mine)
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn fifty_thousand_appointments_stream_in_pages_and_all_arrive() {
    let app = TestApp::spawn().await;
    let owner = sign_up(&app, "Busy Co", "Bea Busy", &email("busy")).await;
    let person = user(&app, &owner.id);
    let seeded = Instant::now();
    let (mine, not_mine) = seed(&app, &person.id, &person.company_id);
    eprintln!(
        "{}: seeded {APPOINTMENTS} appointments in {:.1} s",
        backend(),
        seeded.elapsed().as_secs_f64()
    );

    // A browser signed in now: the first one's connection sat idle through the seeding and
    // may be closed by the server's keep-alive timeout just as it is reused.
    let browser = app.browser();
    browser.sign_in(&owner.email).await;
    let started = Instant::now();
    let r = browser.get("/profile/export").await;
    eprintln!(
        "{}: exported {} bytes in {:.1} s",
        backend(),
        r.body.len(),
        started.elapsed().as_secs_f64()
    );
    assert_eq!(
        r.header("content-length"),
        None,
        "streamed, not built first"
    );
    let doc = document(&r);
    assert_eq!(doc["counts"]["appointments"], APPOINTMENTS as u64);
    let appointment_ids = ids(&doc["appointments"]);
    assert_eq!(appointment_ids.len(), APPOINTMENTS);
    // In id order, each once: the pages met without a gap or an overlap.
    assert!(appointment_ids.windows(2).all(|w| w[0] < w[1]));
    assert!(doc["appointments"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["attendeeName"] == AWKWARD));
    assert!(doc["meetingTypes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["slug"] == "bulk"));
    // Three pages of events at one instant, each once; nobody else's.
    let event_ids = ids(&doc["auditEvents"]);
    let unique: HashSet<&String> = event_ids.iter().collect();
    assert_eq!(unique.len(), event_ids.len(), "no event twice");
    assert!(
        mine.iter().all(|id| unique.contains(id)),
        "every event about them"
    );
    assert!(
        !not_mine.iter().any(|id| unique.contains(id)),
        "nobody else's"
    );

    // The stream itself: one chunk per page, each bounded by a page's worth of rows.
    let export = export::open(
        &app.db,
        person.clone(),
        Via {
            credential: None,
            origin: Origin::default(),
            now: app.clock.now(),
        },
        person.id.clone(),
    )
    .await
    .unwrap();
    let mut stream = Box::pin(export.into_stream());
    let (mut chunks, mut largest, mut body) = (0usize, 0usize, Vec::new());
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        chunks += 1;
        largest = largest.max(chunk.len());
        body.extend_from_slice(&chunk);
    }
    let pages = APPOINTMENTS / PAGE_SIZE as usize;
    assert!(
        chunks > pages,
        "{chunks} chunks for {pages} pages of appointments"
    );
    assert!(
        largest < PAGE_SIZE as usize * 1024,
        "the largest chunk ({largest} bytes) is about one page of rows"
    );
    assert!(
        largest * 20 < body.len(),
        "no chunk is a large part of the document"
    );
    let again: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(again["counts"]["appointments"], APPOINTMENTS as u64);
}
