//! Who the client is, in a fleet: the address nginx saw, never what a client wrote into
//! `X-Forwarded-For`, whether it talks to nginx or connects to an instance directly.

use crate::helpers::client::Browser;
use crate::helpers::db::events_of_kind;
use crate::helpers::fleet::{loopback, Fleet, NGINX_SOURCE};
use crate::helpers::{RequestHelper, PASSWORD};

use super::{owner, session_rows};

#[actix_web::test]
async fn a_forwarded_for_written_by_the_client_is_never_taken_as_the_client() {
    let fleet = Fleet::start(None).await;
    let health = reqwest::get(fleet.url("/healthz"))
        .await
        .expect("nginx answers");
    assert_eq!(health.status(), 200, "nginx passes requests on");
    let me = owner(&fleet, "Fleet Spoof Co").await;
    let who = me.email.as_str();

    // Through nginx from 127.0.0.3, claiming to be 198.51.100.7: nginx appends 127.0.0.3, the
    // right-most hop that is not a trusted proxy. Once on each instance.
    let base = fleet.base.as_str();
    fleet
        .until_each_instance_answered("/login", 303, move || async move {
            let spoofer = Browser::from_address_claiming(base, loopback(3), "198.51.100.7");
            let r = spoofer.login(who, PASSWORD).await;
            // The device and address are noted on the first signed-in page.
            spoofer.get("/dashboard").await.assert_status(200);
            r
        })
        .await;
    // Directly to the second instance from 127.0.0.1, which is no trusted proxy: the
    // header is ignored and the peer is the client.
    let direct = Browser::behind_proxy(&fleet.instances()[1].address, "203.0.113.9");
    direct.sign_in(who).await;
    direct.get("/dashboard").await.assert_status(200);

    let signed_in = events_of_kind(&fleet.instances()[0], "sign_in.succeeded");
    let ips: Vec<&str> = signed_in.iter().filter_map(|e| e.ip.as_deref()).collect();
    assert!(
        ips.iter().filter(|ip| **ip == "127.0.0.3").count() >= 2,
        "{ips:?}"
    );
    assert_eq!(ips.last(), Some(&"127.0.0.1"), "{ips:?}");
    assert!(
        ips.iter().all(|ip| ["127.0.0.1", "127.0.0.3"].contains(ip)),
        "neither a claimed address nor nginx's own ({NGINX_SOURCE}): {ips:?}"
    );

    let page = me.browser.get("/profile/sessions").await;
    let rows = session_rows(&page.body);
    assert!(rows.len() >= 4, "{rows:?}");
    assert!(
        rows.iter().filter(|r| r.contains("127.0.0.3")).count() >= 2,
        "{rows:?}"
    );
    assert!(
        rows.iter().filter(|r| r.contains("127.0.0.1")).count() >= 2,
        "the owner and the direct browser: {rows:?}"
    );
    for claimed in ["198.51.100.7", "203.0.113.9", NGINX_SOURCE] {
        assert!(
            rows.iter().all(|r| !r.contains(claimed)),
            "{claimed}: {rows:?}"
        );
    }
}
