//! `active: true` on a deprovisioned person brings them back as a member: an admin role is not
//! given back by the identity provider, and the audit record says what happened.

use meetergo_console::domain::Role;
use reqwest::Method;
use serde_json::json;

use crate::helpers::db::{add_user, company_events, role_of, status_of};
use crate::helpers::{email, TestApp};

use super::{idp, patch, provisioned, send};

#[actix_web::test]
async fn a_deprovisioned_admin_comes_back_as_a_member_and_the_audit_log_says_so() {
    let app = TestApp::spawn().await;
    let p = provisioned(&app, "Comeback Co").await;
    let as_idp = idp(&app, &p.secret);
    let admin = add_user(
        &app,
        &p.owner.company_id,
        "Ada Admin",
        &email("ada"),
        Role::Admin,
    );
    let member = add_user(
        &app,
        &p.owner.company_id,
        "Max Member",
        &email("max"),
        Role::Member,
    );

    for (person, was) in [(&admin, "admin"), (&member, "member")] {
        let path = format!("/scim/v2/Users/{}", person.id);
        // Entra ID's deprovisioning, then Okta's reactivation.
        let r = send(
            &as_idp,
            Method::PATCH,
            &path,
            &patch(json!([{"op": "Replace", "path": "active", "value": "False"}])),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(status_of(&app, person.id.as_str()), "removed");
        assert_eq!(
            role_of(&app, person.id.as_str()),
            was,
            "offboarding keeps the role"
        );

        let r = send(
            &as_idp,
            Method::PATCH,
            &path,
            &patch(json!([{"op": "replace", "value": {"active": true}}])),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.json()["active"], true);
        assert_eq!(status_of(&app, person.id.as_str()), "active");
        assert_eq!(
            role_of(&app, person.id.as_str()),
            "member",
            "{was} comes back as a member"
        );
    }

    let details: Vec<String> = company_events(&app, &p.owner.company_id, "user.reactivated")
        .into_iter()
        .map(|e| {
            assert!(e.credential_id.is_some() && e.actor_id.is_none(), "{e:?}");
            format!(
                "{} | {}",
                e.target.unwrap_or_default(),
                e.detail.unwrap_or_default()
            )
        })
        .collect();
    assert_eq!(details.len(), 2, "{details:?}");
    assert!(
        details.iter().any(|d| d.contains(admin.id.as_str())
            && d.ends_with("via SCIM as member (was admin); no tokens, nothing moved back")),
        "{details:?}"
    );
    assert!(
        details.iter().any(|d| d.contains(member.id.as_str())
            && d.ends_with("via SCIM as member; no tokens, nothing moved back")),
        "{details:?}"
    );
    // A second `active: true` changes nothing and records nothing.
    let r = send(
        &as_idp,
        Method::PUT,
        &format!("/scim/v2/Users/{}", admin.id),
        &json!({"userName": admin.email, "active": true}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        company_events(&app, &p.owner.company_id, "user.reactivated").len(),
        2
    );
}
