//! Offboarding at scale: a member with 5,000 meeting types, 50,000 appointments (half of them
//! upcoming) and 500 tokens, handed to a colleague in one transaction. Prints the time on
//! SQLite and PostgreSQL. Run: `cargo bench --bench offboarding` (PostgreSQL from
//! BENCH_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/postgres; BENCH_BACKENDS=sqlite skips it).

// A measuring tool, not a request path: a failure stops it with a message (see clippy.toml).
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::time::Instant;

use chrono::Duration;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use meetergo_console::db::models::{now, Appointment, MeetingType, PersonalAccessToken, User};
use meetergo_console::db::schema::{appointments, meeting_types, personal_access_tokens};
use meetergo_console::db::{DatabaseUrl, Db, DbConnection};
use meetergo_console::domain::{AppointmentId, Email, Label, MeetingTypeId, Role, TokenId};
use meetergo_console::services::audit::Origin;
use meetergo_console::services::joining::{self, NewAccount};
use meetergo_console::services::offboarding;

const MEETING_TYPES: usize = 5_000;
const APPOINTMENTS_PER_TYPE: usize = 10;
const TOKENS: usize = 500;
/// Meeting types whose slug the receiver already uses (renamed with a suffix).
const COLLISIONS: usize = 50;

fn account(name: &str, email: &str) -> NewAccount {
    NewAccount {
        name: Label::parse("name", "name", name, 100).unwrap_or_else(|e| panic!("{e:?}")),
        email: Email::parse("email", email).unwrap_or_else(|e| panic!("{e:?}")),
        password_hash: None,
        email_verified_at: None,
    }
}

fn seed(db: &Db) -> (User, User) {
    let mut conn = db.conn().unwrap_or_else(|e| panic!("{e}"));
    let conn = &mut *conn;
    let company = Label::parse("company_name", "company", "Bench Co", 100)
        .unwrap_or_else(|e| panic!("{e:?}"));
    let (company, owner) =
        joining::create_workspace(conn, &company, account("Owner", "owner@bench.test"))
            .unwrap_or_else(|e| panic!("{e}"));
    let leaver = joining::add_member(
        conn,
        &company.id,
        account("Leaver", "leaver@bench.test"),
        Role::Member,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let at = now();
    let types: Vec<MeetingType> = (0..MEETING_TYPES)
        .map(|i| MeetingType {
            id: MeetingTypeId::new(),
            owner_id: leaver.id.clone(),
            title: format!("Meeting {i}"),
            slug: format!("meeting-{i}"),
            duration_minutes: 30,
            created_at: at,
            deleted_at: None,
        })
        .chain((0..COLLISIONS).map(|i| MeetingType {
            // The receiver already has some of the same slugs.
            id: MeetingTypeId::new(),
            owner_id: owner.id.clone(),
            title: format!("Owner meeting {i}"),
            slug: format!("meeting-{}", i * 7),
            duration_minutes: 30,
            created_at: at,
            deleted_at: None,
        }))
        .collect();
    let mut appts = Vec::with_capacity(MEETING_TYPES * APPOINTMENTS_PER_TYPE);
    for (t, mt) in types.iter().take(MEETING_TYPES).enumerate() {
        for k in 0..APPOINTMENTS_PER_TYPE {
            // Half in the past, half upcoming.
            let offset = (k as i64 - (APPOINTMENTS_PER_TYPE as i64 / 2)) * 24 + (t % 24) as i64 + 1;
            let starts = at + Duration::hours(offset);
            appts.push(Appointment {
                id: AppointmentId::new(),
                meeting_type_id: mt.id.clone(),
                host_id: leaver.id.clone(),
                starts_at: starts,
                ends_at: starts + Duration::minutes(30),
                attendee_name: "Guest".into(),
                attendee_email: "guest@example.org".into(),
                created_at: at,
            });
        }
    }
    let tokens: Vec<PersonalAccessToken> = (0..TOKENS)
        .map(|i| PersonalAccessToken {
            id: TokenId::new(),
            user_id: leaver.id.clone(),
            name: format!("token {i}"),
            token_hash: format!("{:064x}", i),
            prefix: "rgo-bench…".into(),
            created_at: at,
            expires_at: None,
            last_used_at: None,
            last_used_ip: None,
            revoked_at: None,
            replaces: None,
            replaced_by: None,
            superseded_at: None,
            rotation_alerted_at: None,
            note: None,
        })
        .collect();
    // Multi-row INSERTs are backend-specific in Diesel: run the same code on the concrete connection.
    macro_rules! insert_all {
        ($c:expr) => {
            $c.transaction::<_, diesel::result::Error, _>(|c| {
                for chunk in types.chunks(100) {
                    diesel::insert_into(meeting_types::table)
                        .values(chunk)
                        .execute(c)?;
                }
                for chunk in appts.chunks(100) {
                    diesel::insert_into(appointments::table)
                        .values(chunk)
                        .execute(c)?;
                }
                for chunk in tokens.chunks(100) {
                    diesel::insert_into(personal_access_tokens::table)
                        .values(chunk)
                        .execute(c)?;
                }
                Ok(())
            })
        };
    }
    match conn {
        DbConnection::Sqlite(c) => insert_all!(c),
        DbConnection::Postgres(c) => insert_all!(c),
    }
    .unwrap_or_else(|e| panic!("seeding: {e}"));
    (leaver, owner)
}

fn run(label: &str, url: DatabaseUrl) -> f64 {
    let db = Db::connect(&url, 2).unwrap_or_else(|e| panic!("{e}"));
    db.migrate().unwrap_or_else(|e| panic!("{e}"));
    let seeded = Instant::now();
    let (leaver, receiver) = seed(&db);
    let seed_secs = seeded.elapsed().as_secs_f64();
    let job = offboarding::Offboarding {
        leaver,
        receiver: Some(receiver.id.clone()),
        handover: offboarding::Handover::default(),
        requester: offboarding::Requester::ApiKey("bench".into()),
        origin: Origin::default(),
        now: now(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let started = Instant::now();
    let report = runtime
        .block_on(offboarding::offboard(&db, job))
        .unwrap_or_else(|e| panic!("offboarding: {e}"));
    let secs = started.elapsed().as_secs_f64();
    assert_eq!(report.meeting_types_moved, MEETING_TYPES);
    assert_eq!(report.tokens_revoked, TOKENS);
    assert_eq!(report.slugs_renamed, COLLISIONS);
    println!(
        "{label:<9} offboard: {:>7.1} ms  ({} meeting types, {} renamed, {} upcoming appointments moved, {} tokens revoked; seeding took {:.1} s)",
        secs * 1000.0,
        report.meeting_types_moved,
        report.slugs_renamed,
        report.appointments_moved,
        report.tokens_revoked,
        seed_secs
    );
    secs
}

fn main() {
    let backends = std::env::var("BENCH_BACKENDS").unwrap_or_else(|_| "sqlite postgres".into());
    println!(
        "offboarding benchmark: {MEETING_TYPES} meeting types, {} appointments, {TOKENS} tokens",
        MEETING_TYPES * APPOINTMENTS_PER_TYPE
    );
    let mut results = Vec::new();
    if backends.contains("sqlite") {
        let dir =
            std::env::temp_dir().join(format!("offboard-bench-{}", uuid::Uuid::new_v4().simple()));
        let secs = run(
            "sqlite",
            DatabaseUrl::Sqlite(dir.join("bench.sqlite").to_string_lossy().into_owned()),
        );
        let _ = std::fs::remove_dir_all(&dir);
        results.push(("sqlite", secs));
    }
    if backends.contains("postgres") {
        let admin = std::env::var("BENCH_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let name = format!("offboard_bench_{}", uuid::Uuid::new_v4().simple());
        let mut conn = PgConnection::establish(&admin)
            .unwrap_or_else(|e| panic!("PostgreSQL at {admin}: {e}"));
        conn.batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("{e}"));
        let base = admin
            .rsplit_once('/')
            .map(|(b, _)| b.to_owned())
            .unwrap_or(admin.clone());
        let secs = run("postgres", DatabaseUrl::Postgres(format!("{base}/{name}")));
        let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        results.push(("postgres", secs));
    }
    for (backend, secs) in results {
        let verdict = if secs < 1.0 { "under" } else { "OVER" };
        println!("{backend:<9} {verdict} the 1 s target ({:.2}× of it)", secs);
    }
}
