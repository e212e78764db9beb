//! Team administration: the /settings routes by role, role rules and the ownership transfer,
//! invitations, the joining rule, offboarding (and its rollback), "sign out everywhere", the
//! audit log, the members list, and one browser flow through all of it.

mod audit_log;
mod in_a_browser;
mod invitation_oracle;
mod invitations;
mod members_list;
mod offboarding;
mod ownership;
mod people_in_a_browser;
mod people_pages;
mod require_invitation;
mod roles;
mod settings_matrix;
mod sign_out_everywhere;

use crate::helpers::db::{invitation, user};
use crate::helpers::fixtures::{create_user, sign_up, signed_in_user};
use crate::helpers::{email, Browser, Person, TestApp};

const COMPANY_A: &str = "Alpha Team";
const COMPANY_B: &str = "Beta Crew";

/// The header line of the audit log export.
const CSV_HEADER: &str = "time,actor,credential,kind,target,detail,ip,user_agent";

/// Two companies: A (owner, admin and member, each signed in, and an API key) and B (with an
/// admin, the outsider).
struct World<'a> {
    app: &'a TestApp,
    company: String,
    other_company: String,
    key: String,
    owner: Person,
    admin: Person,
    member: Person,
    /// An admin of company B.
    outsider: Person,
    anonymous: Browser,
}

impl<'a> World<'a> {
    async fn build(app: &'a TestApp) -> World<'a> {
        let owner = sign_up(app, COMPANY_A, "Olga Owner", &email("olga")).await;
        let key = owner.browser.create_api_key("Team key", "30").await;
        let admin = signed_in_user(app, &key, "Ada", "admin").await;
        let member = signed_in_user(app, &key, "Mia", "member").await;

        let b_owner = sign_up(app, COMPANY_B, "Bob Beta", &email("bob")).await;
        let b_key = b_owner.browser.create_api_key("B key", "30").await;
        let outsider = signed_in_user(app, &b_key, "Otto", "admin").await;
        let other_company = user(app, &outsider.id).company_id.to_string();
        let company = owner.company_id.clone();
        assert_ne!(company, other_company);
        World {
            app,
            company,
            other_company,
            key,
            owner,
            admin,
            member,
            outsider,
            anonymous: app.browser(),
        }
    }

    /// A user of company A created through the API (no password); returns (id, email).
    async fn fresh(&self, name: &str, role: &str) -> (String, String) {
        create_user(self.app, &self.key, name, role).await
    }

    /// A user of company A, signed in from their own browser.
    async fn fresh_signed_in(&self, name: &str, role: &str) -> Person {
        signed_in_user(self.app, &self.key, name, role).await
    }

    /// An invitation the owner sent; returns (invitation id, email, link).
    async fn invitation(&self, name: &str) -> (String, String, String) {
        let address = email(name);
        let link = self.owner.browser.invite(&address, "member").await;
        let id = invitation(self.app, &address)
            .expect("invitation stored")
            .id
            .to_string();
        (id, address, link)
    }
}
