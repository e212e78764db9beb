//! Nobody offboards the owner, and nobody offboards themself.

use crate::helpers::{RequestHelper, TestApp};

use super::{footprint, offboard_path, World};

#[actix_web::test]
async fn nobody_offboards_the_owner_or_themself() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    // Nobody offboards the owner, and nobody offboards themself.
    let other_admin = w.fresh_signed_in("Alex", "admin").await;
    let before = footprint(&app);
    for (who, target) in [
        (&w.admin.browser, &w.owner.id),
        (&w.owner.browser, &w.owner.id),
        (&w.admin.browser, &w.admin.id),
        (&other_admin.browser, &other_admin.id),
    ] {
        let r = who.get(&offboard_path(target)).await;
        assert_eq!(r.status, 403, "preview of {target}");
        let r = who
            .post_form(
                &offboard_path(target),
                &[("transfer_to", w.member.id.as_str())],
            )
            .await;
        assert_eq!(r.status, 403, "offboarding {target}");
        assert_eq!(footprint(&app), before);
    }
    assert!(w.admin.browser.is_signed_in().await);
    assert!(w.owner.browser.is_signed_in().await);
}
