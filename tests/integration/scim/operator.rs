//! SCIM as an operator runs it: two instances on one database, and the database restarting
//! while the identity provider calls.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use meetergo_console::db::schema::{meeting_types, scim_users, users};
use meetergo_console::db::DatabaseUrl;
use reqwest::Method;
use serde_json::json;

use crate::db_outage::PrivateCluster;
use crate::helpers::db::conn;
use crate::helpers::{backend, email, RequestHelper, TempDir, TestApp};

use super::{assert_scim_error, create, idp, okta_user, patch, provisioned, send};

#[actix_web::test]
async fn two_instances_serve_scim_on_one_database() {
    let a = TestApp::spawn().await;
    let b = TestApp::spawn_on(TempDir::new(), a.settings.database_url.clone(), |_| {}).await;
    let p = provisioned(&a, "Twin Instances").await;
    let (on_a, on_b) = (idp(&a, &p.secret), idp(&b, &p.secret));

    // Created on A; read, patched and deleted on B.
    let address = email("tess");
    let created = create(&a, &p.secret, &address, "Tess").await;
    let path = format!("/scim/v2/Users/{}", created["id"].as_str().unwrap());
    let r = on_b.get(&path).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["userName"], address.as_str());
    let r = send(
        &on_b,
        Method::PATCH,
        &path,
        &patch(json!([{"op": "Replace", "path": "name.givenName", "value": "Theresa"}])),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(on_a.get(&path).await.json()["name"]["givenName"], "Theresa");
    assert_eq!(on_b.delete(&path).await.status, 204);
    assert_scim_error(&on_a.get(&path).await, 404, None);

    // One email created on both at once, a few times: one 201 and one 409 uniqueness each.
    for round in 0..4 {
        let address = email(&format!("twin{round}"));
        let body = okta_user(&address, "Twin", "Race");
        let (ra, rb) = tokio::join!(
            send(&on_a, Method::POST, "/scim/v2/Users", &body),
            send(&on_b, Method::POST, "/scim/v2/Users", &body)
        );
        let mut statuses = [ra.status, rb.status];
        statuses.sort_unstable();
        assert_eq!(statuses, [201, 409], "{}\n{}", ra.body, rb.body);
        let refused = if ra.status == 409 { &ra } else { &rb };
        assert_scim_error(refused, 409, Some("uniqueness"));
        let found = on_b
            .get(&format!(
                "/scim/v2/Users?filter=userName%20eq%20%22{address}%22"
            ))
            .await;
        assert_eq!(found.json()["totalResults"], 1, "{}", found.body);
    }
}

/// What one SCIM creation answered.
#[derive(Debug, Clone)]
struct Attempt {
    address: String,
    status: u16,
}

#[actix_web::test]
async fn a_postgresql_restart_gives_503s_in_the_scim_error_schema_and_no_half_written_person() {
    if backend() != "postgres" {
        // A database server that goes away is PostgreSQL's case; SQLite is a file.
        return;
    }
    let cluster = Arc::new(PrivateCluster::start());
    let app = TestApp::spawn_on(TempDir::new(), DatabaseUrl::Postgres(cluster.url()), |s| {
        s.api_rate_limit_per_minute = 1_000_000;
        s.api_rate_limit_burst = 1_000_000;
    })
    .await;
    let p = provisioned(&app, "Restart Co").await;
    let existing = create(&app, &p.secret, &email("steady"), "Steady").await;
    let existing_path = format!("/scim/v2/Users/{}", existing["id"].as_str().unwrap());

    // The identity provider keeps creating people while the database restarts.
    let stop = Arc::new(AtomicBool::new(false));
    let attempts = Arc::new(Mutex::new(Vec::<Attempt>::new()));
    let mut workers = Vec::new();
    for worker in 0..3 {
        let (stop, attempts) = (Arc::clone(&stop), Arc::clone(&attempts));
        let caller = idp(&app, &p.secret);
        workers.push(actix_web::rt::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let address = email(&format!("load{worker}-{n}"));
                let r = send(
                    &caller,
                    Method::POST,
                    "/scim/v2/Users",
                    &okta_user(&address, "Load", "Test"),
                )
                .await;
                if r.status != 201 {
                    // Whatever failed says so in the SCIM error schema.
                    assert_scim_error(&r, r.status, None);
                }
                attempts.lock().unwrap().push(Attempt {
                    address,
                    status: r.status,
                });
                actix_web::rt::time::sleep(Duration::from_millis(20)).await;
            }
        }));
    }
    actix_web::rt::time::sleep(Duration::from_millis(500)).await;
    let pg = |action: &'static [&'static str]| {
        let c = Arc::clone(&cluster);
        actix_web::rt::task::spawn_blocking(move || c.pg_ctl(action))
    };
    pg(&["stop"]).await.expect("pg_ctl stop");

    // While it is down: every SCIM call is a prompt 503 in the SCIM error schema.
    let as_idp = idp(&app, &p.secret);
    let while_down = email("while-down");
    let started = Instant::now();
    let down = [
        send(
            &as_idp,
            Method::POST,
            "/scim/v2/Users",
            &okta_user(&while_down, "Down", "Time"),
        )
        .await,
        send(
            &as_idp,
            Method::PATCH,
            &existing_path,
            &patch(json!([{"op": "replace", "value": {"active": false}}])),
        )
        .await,
        as_idp.get(&existing_path).await,
        as_idp.delete(&existing_path).await,
    ];
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "503s come promptly ({:?})",
        started.elapsed()
    );
    for r in &down {
        assert_scim_error(r, 503, None);
        assert!(r.header("retry-after").is_some(), "{:?}", r.body);
    }
    actix_web::rt::time::sleep(Duration::from_millis(500)).await;
    pg(&["start"]).await.expect("pg_ctl start");

    // Back within seconds, with no restart of the console.
    let back = Instant::now();
    loop {
        let r = as_idp.get(&existing_path).await;
        if r.status == 200 {
            assert_eq!(
                r.json()["active"],
                true,
                "the PATCH while down changed nothing"
            );
            break;
        }
        assert_scim_error(&r, 503, None);
        assert!(
            back.elapsed() < Duration::from_secs(15),
            "SCIM works again within 15 s"
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    actix_web::rt::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.await.expect("SCIM load worker");
    }

    let attempts = attempts.lock().unwrap().clone();
    let odd: Vec<_> = attempts
        .iter()
        .filter(|a| a.status != 201 && a.status != 503)
        .collect();
    assert!(odd.is_empty(), "only 201 or 503: {odd:?}");
    assert!(
        attempts.iter().any(|a| a.status == 503) && attempts.iter().any(|a| a.status == 201),
        "the load met the outage: {attempts:?}"
    );
    // Every person of the company is whole: a SCIM row and the default meeting type, each
    // created exactly when its request answered 201.
    let mut c = conn(&app);
    let people: Vec<(String, String)> = users::table
        .filter(users::company_id.eq(&p.owner.company_id))
        .filter(users::id.ne(&p.owner.id))
        .select((users::id, users::email))
        .load(&mut *c)
        .unwrap();
    for (id, _) in &people {
        let rows: i64 = scim_users::table
            .filter(scim_users::user_id.eq(id))
            .count()
            .get_result(&mut *c)
            .unwrap();
        let types: i64 = meeting_types::table
            .filter(meeting_types::owner_id.eq(id))
            .count()
            .get_result(&mut *c)
            .unwrap();
        assert_eq!((rows, types), (1, 1), "person {id} is half-written");
    }
    let stored: HashSet<&str> = people.iter().map(|(_, e)| e.as_str()).collect();
    for a in &attempts {
        match a.status {
            201 => assert!(stored.contains(a.address.as_str()), "{a:?} was lost"),
            _ => assert!(!stored.contains(a.address.as_str()), "{a:?} was stored"),
        }
    }
    assert!(!stored.contains(while_down.as_str()));
    // And a creation refused while down succeeds when sent again.
    let retry = attempts.iter().find(|a| a.status == 503).unwrap();
    let r = send(
        &as_idp,
        Method::POST,
        "/scim/v2/Users",
        &okta_user(&retry.address, "Load", "Again"),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
}
