//! The authorization matrix: every kind of principal × every /v4 endpoint, with whom each
//! call acted as, and which other users' appointments each may read.

use meetergo_console::auth::tokens;
use meetergo_console::domain::ApiKeyId;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::fixtures::create_user;
use crate::helpers::{email, random_id, Reply, RequestHelper, TestApp};

use super::{user_status, World};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Pass(u16),
    Fail(u16, &'static str),
}

const OK: Expect = Expect::Pass(200);
const CREATED: Expect = Expect::Pass(201);
const GONE: Expect = Expect::Pass(204);
const MISSING: Expect = Expect::Fail(401, "missing_authorization");
const INVALID: Expect = Expect::Fail(401, "invalid_credential");
const EXPIRED: Expect = Expect::Fail(401, "credential_expired");
const NO_HEADER: Expect = Expect::Fail(400, "missing_user_header");
const IMPERSONATION: Expect = Expect::Fail(403, "impersonation_forbidden");
const OUTSIDER: Expect = Expect::Fail(403, "user_not_in_company");
const FORBIDDEN: Expect = Expect::Fail(403, "forbidden");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Me,
    ListUsers,
    CreateUser,
    UpdateMember,
    DeleteUser,
    ListMeetingTypes,
    CreateMeetingType,
    GetMeetingType,
    UpdateMeetingType,
    MemberAppointments,
}

/// The columns of the matrix, in this order.
const ENDPOINTS: [Endpoint; 10] = [
    Endpoint::Me,
    Endpoint::ListUsers,
    Endpoint::CreateUser,
    Endpoint::UpdateMember,
    Endpoint::DeleteUser,
    Endpoint::ListMeetingTypes,
    Endpoint::CreateMeetingType,
    Endpoint::GetMeetingType,
    Endpoint::UpdateMeetingType,
    Endpoint::MemberAppointments,
];

struct Principal {
    name: &'static str,
    bearer: Option<String>,
    header: Option<String>,
    /// Whom it acts as on endpoints that need the user header (None: it is refused).
    acts_as: Option<String>,
    /// Whom `GET /v4/user/me` and `POST /v4/user` act as (an API key without header: the owner).
    me: Option<String>,
    row: [Expect; 10],
}

fn principal(
    name: &'static str,
    bearer: Option<&str>,
    header: Option<&str>,
    acts_as: Option<&str>,
    me: Option<&str>,
    row: [Expect; 10],
) -> Principal {
    Principal {
        name,
        bearer: bearer.map(str::to_owned),
        header: header.map(str::to_owned),
        acts_as: acts_as.map(str::to_owned),
        me: me.map(str::to_owned),
        row,
    }
}

impl Principal {
    /// One call as this principal: with its credential and header, or with neither.
    async fn call(&self, app: &TestApp, method: Method, path: &str, body: Option<&Value>) -> Reply {
        match &self.bearer {
            Some(b) => {
                let caller = app.token(b).acting_as_opt(self.header.as_deref());
                caller.call(method, path, body).await
            }
            None => {
                assert!(
                    self.header.is_none(),
                    "{}: a header needs a credential",
                    self.name
                );
                app.anonymous().call(method, path, body).await
            }
        }
    }
}

#[actix_web::test]
async fn authorization_matrix() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let unknown_pat = tokens::reveal(&tokens::issue_pat()).to_owned();
    let unknown_key = tokens::reveal(&tokens::issue_api_key(&ApiKeyId::new())).to_owned();
    let (owner, admin, member) = (w.owner.as_str(), w.admin.as_str(), w.member.as_str());

    #[rustfmt::skip]
    let table = vec![
        // Columns, as ENDPOINTS: me, list users, create user, patch member, delete user,
        // list meeting types, create one, get one, patch one, the member's appointments.
        principal("no credential", None, None, None, None, [MISSING; 10]),
        principal("malformed", Some("nonsense"), None, None, None, [INVALID; 10]),
        principal("unknown PAT", Some(&unknown_pat), None, None, None, [INVALID; 10]),
        principal("unknown API key", Some(&unknown_key), None, None, None, [INVALID; 10]),
        principal("expired PAT", Some(&w.expired_pat), None, None, None, [EXPIRED; 10]),
        principal("expired API key", Some(&w.expired_key), Some(member), None, None, [EXPIRED; 10]),
        principal("revoked PAT", Some(&w.revoked_pat), None, None, None, [INVALID; 10]),
        principal("deactivated API key", Some(&w.deactivated_key), Some(member), None, None, [INVALID; 10]),
        principal("member PAT", Some(&w.member_pat), None, Some(member), Some(member),
            [OK, FORBIDDEN, FORBIDDEN, OK, FORBIDDEN, OK, CREATED, OK, OK, OK]),
        principal("admin PAT", Some(&w.admin_pat), None, Some(admin), Some(admin),
            [OK, OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK, CREATED, OK, OK, OK]),
        principal("owner PAT", Some(&w.owner_pat), None, Some(owner), Some(owner),
            [OK, OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK, CREATED, OK, OK, OK]),
        principal("member PAT naming the member", Some(&w.member_pat), Some(member), Some(member), Some(member),
            [OK, FORBIDDEN, FORBIDDEN, OK, FORBIDDEN, OK, CREATED, OK, OK, OK]),
        principal("admin PAT naming the member", Some(&w.admin_pat), Some(member), None, None, [IMPERSONATION; 10]),
        principal("API key, no header", Some(&w.key), None, None, Some(owner),
            [OK, NO_HEADER, CREATED, NO_HEADER, NO_HEADER, NO_HEADER, NO_HEADER, NO_HEADER, NO_HEADER, NO_HEADER]),
        principal("API key naming the member", Some(&w.key), Some(member), Some(member), Some(member),
            [OK, OK, CREATED, OK, GONE, OK, CREATED, OK, OK, OK]),
        principal("API key naming company B's user", Some(&w.key), Some(&w.b_owner), None, None, [OUTSIDER; 10]),
        principal("API key with a malformed header", Some(&w.key), Some("not-a-user-id"), None, None, [OUTSIDER; 10]),
    ];

    let mut mismatches = Vec::new();
    let mut cells = 0;
    let mut serial = 0;
    for p in &table {
        for (endpoint, expected) in ENDPOINTS.iter().zip(p.row) {
            serial += 1;
            let mut throwaway = None;
            let (method, path, body) = match endpoint {
                Endpoint::Me => (Method::GET, "/v4/user/me".to_owned(), None),
                Endpoint::ListUsers => (Method::GET, "/v4/user".to_owned(), None),
                Endpoint::CreateUser => (
                    Method::POST,
                    "/v4/user".to_owned(),
                    Some(
                        json!({"email": email("matrix"), "givenName": "Matrix", "role": "member"}),
                    ),
                ),
                Endpoint::UpdateMember => (
                    Method::PATCH,
                    format!("/v4/user/{member}"),
                    Some(json!({"givenName": "Mia"})),
                ),
                Endpoint::DeleteUser => {
                    // A fresh user per cell, so a cell that deletes cannot change the next one.
                    let (id, _) = create_user(&app, &w.key, "Throwaway", "member").await;
                    throwaway = Some(id.clone());
                    (Method::DELETE, format!("/v4/user/{id}"), None)
                }
                Endpoint::ListMeetingTypes => (Method::GET, "/v4/meeting-type".to_owned(), None),
                Endpoint::CreateMeetingType => (
                    Method::POST,
                    "/v4/meeting-type".to_owned(),
                    Some(json!({"title": "Matrix call", "slug": format!("matrix-{serial}")})),
                ),
                Endpoint::GetMeetingType | Endpoint::UpdateMeetingType => {
                    let id = p
                        .acts_as
                        .as_deref()
                        .and_then(|u| w.meeting_type_of(u))
                        .map(str::to_owned)
                        .unwrap_or_else(random_id);
                    if *endpoint == Endpoint::GetMeetingType {
                        (Method::GET, format!("/v4/meeting-type/{id}"), None)
                    } else {
                        (
                            Method::PATCH,
                            format!("/v4/meeting-type/{id}"),
                            Some(json!({"title": format!("Renamed {serial}")})),
                        )
                    }
                }
                Endpoint::MemberAppointments => (
                    Method::GET,
                    format!("/v4/appointment/paginated?userId={member}"),
                    None,
                ),
            };
            let r = p.call(&app, method.clone(), &path, body.as_ref()).await;
            cells += 1;
            let cell = format!("[{}] {method} {path}", p.name);
            match expected {
                Expect::Pass(status) => {
                    if r.status != status {
                        mismatches.push(format!(
                            "{cell}: expected {status}, got {} {}",
                            r.status, r.body
                        ));
                        continue;
                    }
                    // Who did it act as?
                    let acted = match endpoint {
                        Endpoint::Me => Some((r.json()["id"].clone(), p.me.clone())),
                        Endpoint::CreateMeetingType
                        | Endpoint::GetMeetingType
                        | Endpoint::UpdateMeetingType => {
                            Some((r.json()["userId"].clone(), p.acts_as.clone()))
                        }
                        Endpoint::UpdateMember => {
                            Some((r.json()["id"].clone(), Some(member.to_owned())))
                        }
                        Endpoint::CreateUser => {
                            Some((r.json()["companyId"].clone(), Some(w.company_a.clone())))
                        }
                        _ => None,
                    };
                    if let Some((got, want)) = acted {
                        if got.as_str() != want.as_deref() {
                            mismatches.push(format!("{cell}: acted as {got}, expected {want:?}"));
                        }
                    }
                    if *endpoint == Endpoint::DeleteUser {
                        let id = throwaway.as_deref().unwrap_or_default();
                        if user_status(&app, id) != "removed" {
                            mismatches.push(format!("{cell}: 204 but the user is not removed"));
                        }
                    }
                }
                Expect::Fail(status, code) => {
                    if r.status != status
                        || r.code() != code
                        || r.json()["statusCode"] != json!(status)
                    {
                        mismatches.push(format!(
                            "{cell}: expected {status} {code}, got {} {}",
                            r.status, r.body
                        ));
                    }
                    if let Some(id) = throwaway.as_deref() {
                        if user_status(&app, id) != "active" {
                            mismatches.push(format!("{cell}: refused, yet the user was removed"));
                        }
                    }
                }
            }
        }
    }
    assert_eq!(cells, table.len() * ENDPOINTS.len(), "every cell called");
    assert!(
        mismatches.is_empty(),
        "{} of {cells} cells differ:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );

    // Reaching other users' appointments: admins within the company only; members never.
    #[rustfmt::skip]
    let reads = [
        ("member PAT reads the owner's appointments", w.member_pat.as_str(), None, owner, FORBIDDEN),
        ("admin PAT reads the owner's appointments", w.admin_pat.as_str(), None, owner, OK),
        ("admin PAT reads company B's user", w.admin_pat.as_str(), None, w.b_owner.as_str(), FORBIDDEN),
        ("owner PAT with a malformed userId", w.owner_pat.as_str(), None, "nope", FORBIDDEN),
        ("API key as member reads company B's user", w.key.as_str(), Some(member), w.b_owner.as_str(), FORBIDDEN),
        ("API key as member reads the owner's", w.key.as_str(), Some(member), owner, OK),
    ];
    for (what, bearer, header, user, expected) in reads {
        let r = app
            .token(bearer)
            .acting_as_opt(header)
            .get(&format!("/v4/appointment/paginated?userId={user}"))
            .await;
        match expected {
            Expect::Pass(s) => assert_eq!(r.status, s, "{what}: {}", r.body),
            Expect::Fail(s, code) => {
                assert_eq!(r.status, s, "{what}: {}", r.body);
                assert_eq!(r.code(), code, "{what}");
            }
        }
    }
}
