//! `meetergo-console demo`: a demo company so the pages are never empty on a first look.

use chrono::{Duration, Timelike};
use diesel::Connection;

use crate::auth::password::hash_now;
use crate::db::models::{now, Appointment, Company, MeetingType};
use crate::db::Db;
use crate::domain::{AppointmentId, Email, Label, MeetingTypeId, Role};
use crate::error::{AppError, Refusal};
use crate::services::joining::{self, NewAccount};

pub const DEMO_PASSWORD: &str = "demo-console-2026";

const PEOPLE: &[(&str, &str, Role)] = &[
    ("Olivia Owner", "owner@demo.meetergo.test", Role::Owner),
    ("Adam Admin", "admin@demo.meetergo.test", Role::Admin),
    ("Mia Member", "mia@demo.meetergo.test", Role::Member),
    ("Max Member", "max@demo.meetergo.test", Role::Member),
    ("Lea Member", "lea@demo.meetergo.test", Role::Member),
];

const MEETING_TYPES: &[(&str, &str, i32)] = &[
    ("Intro call", "intro-call", 15),
    ("Product demo", "product-demo", 45),
    ("Consultation", "consultation", 30),
];

pub fn seed(db: &Db) -> Result<String, AppError> {
    let hash = hash_now(DEMO_PASSWORD)?;
    let mut conn = db.conn()?;
    conn.transaction::<_, AppError, _>(|conn| {
        if Company::find_by_slug(conn, "demo-company")?.is_some() {
            return Err(AppError::from(Refusal::conflict(
                "the demo company exists already",
            )));
        }
        let account = |(name, email, _): &(&str, &str, Role)| -> Result<NewAccount, AppError> {
            Ok(NewAccount {
                name: Label::parse("name", "name", name, 100)
                    .map_err(|e| AppError::BadRequest(e.message))?,
                email: Email::parse("email", email).map_err(|e| AppError::BadRequest(e.message))?,
                password_hash: Some(hash.clone()),
                email_verified_at: Some(crate::db::models::now()),
            })
        };
        let company_name = Label::parse("company_name", "company name", "Demo Company", 100)
            .map_err(|e| AppError::BadRequest(e.message))?;
        let mut people = PEOPLE.iter();
        let first = people
            .next()
            .ok_or_else(|| AppError::BadRequest("no demo people".into()))?;
        let (company, owner) = joining::create_workspace(conn, &company_name, account(first)?)?;
        let mut users = vec![owner];
        for person in people {
            users.push(joining::add_member(
                conn,
                &company.id,
                account(person)?,
                person.2,
            )?);
        }
        let start = now()
            .with_minute(0)
            .and_then(|t| t.with_second(0))
            .unwrap_or_else(now);
        for (i, user) in users.iter().enumerate() {
            for (j, (title, slug, minutes)) in MEETING_TYPES.iter().enumerate() {
                let mt = MeetingType {
                    id: MeetingTypeId::new(),
                    owner_id: user.id.clone(),
                    title: (*title).to_owned(),
                    slug: (*slug).to_owned(),
                    duration_minutes: *minutes,
                    created_at: now(),
                    deleted_at: None,
                };
                mt.insert(conn)?;
                for k in 0..4i64 {
                    let starts = start
                        + Duration::days(k * 2 - 2)
                        + Duration::hours(9 + j as i64 + i as i64);
                    Appointment {
                        id: AppointmentId::new(),
                        meeting_type_id: mt.id.clone(),
                        host_id: user.id.clone(),
                        starts_at: starts,
                        ends_at: starts + Duration::minutes(i64::from(*minutes)),
                        attendee_name: format!("Guest {}", k + 1),
                        attendee_email: format!("guest{}@example.org", k + 1),
                        created_at: now(),
                    }
                    .insert(conn)?;
                }
            }
        }
        let mut out =
            String::from("Demo company created. Sign in at /login with any of these (password: ");
        out.push_str(DEMO_PASSWORD);
        out.push_str("):\n");
        for (name, email, role) in PEOPLE {
            out.push_str(&format!("  {email:<28} {role:<7} {name}\n"));
        }
        Ok(out)
    })
}
