//! Rows and the queries on them. Every function takes a connection and returns `QueryResult`.

mod audit;
mod browser_session;
mod company;
mod company_domain;
mod credential_inventory;
mod credential_reminder;
mod credentials;
mod email_verification;
mod invitation;
mod password_reset;
mod personal_data;
mod scheduling;
mod scim;
mod sso;
mod two_factor;
mod usage;
mod user;
mod webhook;
mod webhook_delivery;
mod webhook_log;

pub use audit::*;
pub use browser_session::*;
pub use company::*;
pub use company_domain::*;
pub use credential_inventory::*;
pub use credential_reminder::*;
pub use credentials::*;
pub use email_verification::*;
pub use invitation::*;
pub use password_reset::*;
pub use personal_data::*;
pub use scheduling::*;
pub use scim::*;
pub use sso::*;
pub use two_factor::*;
pub use usage::*;
pub use user::*;
pub use webhook::*;
pub use webhook_delivery::*;
pub use webhook_log::*;

/// The current time in UTC, at microsecond precision (what both backends keep).
pub fn now() -> chrono::NaiveDateTime {
    use chrono::{SubsecRound, Utc};
    Utc::now().naive_utc().trunc_subsecs(6)
}
