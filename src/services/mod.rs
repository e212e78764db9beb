//! Operations that span tables and must be atomic. Each public operation opens its own
//! transaction (handlers open none); the steps it is made of take a `Tx`, so they can only run
//! inside one.

pub mod account;
pub mod audit;
pub mod checklist;
pub mod credential_inventory;
pub mod credential_policy;
pub mod credentials;
pub mod dns;
pub mod email_verification;
pub mod export;
pub mod invitations;
pub mod joining;
pub mod mail;
pub mod meeting_types;
pub mod offboarding;
pub mod passwords;
pub mod platform_users;
pub mod scim;
pub mod sso;
pub mod sso_settings;
pub mod team;
pub mod two_factor;
pub mod usage;
pub mod webhooks;

use chrono::NaiveDateTime;

use crate::db::models::User;
use audit::Origin;

/// Who does something, from where, and when: what every audited write needs.
#[derive(Debug, Clone)]
pub struct Acting {
    pub user: User,
    pub origin: Origin,
    pub now: NaiveDateTime,
}
