//! The database read and written directly: what a test checks after the HTTP calls, and the
//! few changes no page offers. Reads of model rows live here, so a change of a model's shape is
//! fixed in one place.

use std::sync::OnceLock;

use diesel::prelude::*;
use meetergo_console::auth::password::hash_now;
use meetergo_console::db::models::{AuditEvent, Company, Invitation, User};
use meetergo_console::db::schema::{audit_events, companies, invitations, sessions, users};
use meetergo_console::db::PooledConnection;
use meetergo_console::domain::UserStatus;
use meetergo_console::domain::{Email, Label, Role};
use meetergo_console::services::joining::{add_member, NewAccount};

use super::app::TestApp;
use super::PASSWORD;

pub fn conn(app: &TestApp) -> PooledConnection {
    app.db.conn().expect("db connection")
}

pub fn user(app: &TestApp, id: &str) -> User {
    users::table
        .filter(users::id.eq(id))
        .select(User::as_select())
        .first(&mut *conn(app))
        .expect("user by id")
}

pub fn user_by_email(app: &TestApp, address: &str) -> Option<User> {
    users::table
        .filter(users::email.eq(address.to_lowercase()))
        .select(User::as_select())
        .first(&mut *conn(app))
        .optional()
        .expect("user by email")
}

/// The id of the user with this email; the user must exist.
pub fn user_id(app: &TestApp, address: &str) -> String {
    user_by_email(app, address)
        .unwrap_or_else(|| panic!("no user {address}"))
        .id
        .to_string()
}

pub fn role_of(app: &TestApp, id: &str) -> String {
    user(app, id).role.to_string()
}

pub fn status_of(app: &TestApp, id: &str) -> String {
    user(app, id).status.to_string()
}

/// (id, role, status) of every user, by id.
pub fn all_roles(app: &TestApp) -> Vec<(String, String, String)> {
    users::table
        .order(users::id.asc())
        .select((users::id, users::role, users::status))
        .load(&mut *conn(app))
        .expect("users")
}

pub fn count_users(app: &TestApp) -> i64 {
    users::table
        .count()
        .get_result(&mut *conn(app))
        .expect("count users")
}

pub fn count_companies(app: &TestApp) -> i64 {
    companies::table
        .count()
        .get_result(&mut *conn(app))
        .expect("count companies")
}

/// Server-side sessions of every kind (signed in or not).
pub fn count_sessions(app: &TestApp) -> i64 {
    sessions::table
        .count()
        .get_result(&mut *conn(app))
        .expect("count sessions")
}

pub fn company(app: &TestApp, id: &str) -> Company {
    companies::table
        .filter(companies::id.eq(id))
        .select(Company::as_select())
        .first(&mut *conn(app))
        .expect("company")
}

pub fn session_count(app: &TestApp, user_id: &str) -> i64 {
    sessions::table
        .filter(sessions::user_id.eq(user_id))
        .count()
        .get_result(&mut *conn(app))
        .expect("count sessions")
}

/// The company's audit events of this kind, oldest first.
pub fn company_events(app: &TestApp, company_id: &str, kind: &str) -> Vec<AuditEvent> {
    audit_events::table
        .filter(audit_events::company_id.eq(company_id))
        .filter(audit_events::kind.eq(kind))
        .order(audit_events::created_at.asc())
        .select(AuditEvent::as_select())
        .load(&mut *conn(app))
        .expect("audit events")
}

/// The details of the company's audit events of this kind, oldest first.
pub fn company_event_details(app: &TestApp, company_id: &str, kind: &str) -> Vec<String> {
    company_events(app, company_id, kind)
        .into_iter()
        .map(|e| e.detail.unwrap_or_default())
        .collect()
}

/// The company's events of this kind whose target mentions `needle`.
pub fn events_about(app: &TestApp, company_id: &str, kind: &str, needle: &str) -> usize {
    company_events(app, company_id, kind)
        .iter()
        .filter(|e| e.target.as_deref().unwrap_or_default().contains(needle))
        .count()
}

/// Every audit event of this kind in the (fresh) database, oldest first.
pub fn events_of_kind(app: &TestApp, kind: &str) -> Vec<AuditEvent> {
    audit_events::table
        .filter(audit_events::kind.eq(kind))
        .order((audit_events::created_at.asc(), audit_events::id.asc()))
        .select(AuditEvent::as_select())
        .load(&mut *conn(app))
        .expect("audit events")
}

/// The newest invitation for this email, if any.
pub fn invitation(app: &TestApp, address: &str) -> Option<Invitation> {
    invitations::table
        .filter(invitations::email.eq(address.to_lowercase()))
        .order(invitations::created_at.desc())
        .select(Invitation::as_select())
        .first(&mut *conn(app))
        .optional()
        .expect("invitation by email")
}

/// Users created through the API have no password; give them the test password.
pub fn set_password(app: &TestApp, id: &str) {
    static HASH: OnceLock<String> = OnceLock::new();
    let hash = HASH.get_or_init(|| hash_now(PASSWORD).expect("hash"));
    let n = diesel::update(users::table.filter(users::id.eq(id)))
        .set(users::password_hash.eq(Some(hash.clone())))
        .execute(&mut *conn(app))
        .expect("set password");
    assert_eq!(n, 1);
}

/// Sets a user's status as an administrator outside the console would.
pub fn set_status(app: &TestApp, id: &str, status: UserStatus) {
    let id = id.parse().expect("a user id");
    let n = User::set_status(&mut conn(app), &id, status).expect("set status");
    assert_eq!(n, 1);
}

/// Claims `domains` (one per line) for the company, already verified, and sets Require
/// Invitation.
pub fn set_joining(app: &TestApp, company_id: &str, domains: &str, require_invitation: bool) {
    use meetergo_console::db::schema::company_domains;
    let mut conn = conn(app);
    let n = diesel::update(companies::table.filter(companies::id.eq(company_id)))
        .set((
            companies::allowed_domains.eq(domains),
            companies::require_invitation.eq(require_invitation),
        ))
        .execute(&mut *conn)
        .expect("update company");
    assert_eq!(n, 1);
    diesel::delete(company_domains::table.filter(company_domains::company_id.eq(company_id)))
        .execute(&mut *conn)
        .expect("forget claims");
    let at = meetergo_console::db::models::now();
    for d in domains.lines().map(str::trim).filter(|d| !d.is_empty()) {
        diesel::insert_into(company_domains::table)
            .values((
                company_domains::company_id.eq(company_id),
                company_domains::domain.eq(d),
                company_domains::dns_token.eq("fixture"),
                company_domains::created_at.eq(at),
                company_domains::verified_at.eq(Some(at)),
            ))
            .execute(&mut *conn)
            .expect("claim a verified domain");
    }
}

/// The company's claims as (domain, verified).
pub fn domain_claims(app: &TestApp, company_id: &str) -> Vec<(String, bool)> {
    use meetergo_console::db::schema::company_domains;
    company_domains::table
        .filter(company_domains::company_id.eq(company_id))
        .order(company_domains::domain.asc())
        .select((
            company_domains::domain,
            company_domains::verified_at.is_not_null(),
        ))
        .load(&mut *conn(app))
        .expect("claims")
}

pub fn set_sso_enforced(app: &TestApp, company_id: &str, enforced: bool) {
    let n = diesel::update(companies::table.filter(companies::id.eq(company_id)))
        .set(companies::sso_enforced.eq(enforced))
        .execute(&mut *conn(app))
        .expect("update company");
    assert_eq!(n, 1);
}

/// The id of the user's personal access token with this name.
pub fn pat_id(app: &TestApp, user_id: &str, name: &str) -> String {
    use meetergo_console::db::schema::personal_access_tokens as pats;
    pats::table
        .filter(pats::user_id.eq(user_id))
        .filter(pats::name.eq(name))
        .select(pats::id)
        .first::<String>(&mut *conn(app))
        .expect("token by name")
}

/// A member (with the test password) added straight to the database.
pub fn add_user(app: &TestApp, company_id: &str, name: &str, address: &str, role: Role) -> User {
    let company = company(app, company_id);
    let account = NewAccount {
        name: Label::parse("name", "name", name, 100).expect("name"),
        email: Email::parse("email", address).expect("email"),
        password_hash: Some(hash_now(PASSWORD).expect("hash")),
        // Like a person who joined by invitation: the address is proven.
        email_verified_at: Some(meetergo_console::db::models::now()),
    };
    add_member(&mut conn(app), &company.id, account, role).expect("add member")
}
