//! The console's pages, one module per page group.

pub mod account;
pub mod admin_api_keys;
pub mod context;
pub mod csv_export;
pub mod dashboard;
pub mod health;
pub mod input_guard;
pub mod integrations;
pub mod invitations;
pub mod page;
pub mod password_recovery;
pub mod settings;
pub mod sign_in;
pub mod sso;
pub mod two_factor_sign_in;
pub mod usage_view;
pub mod user_agent;
pub mod views;

use crate::auth::session::CurrentUser;
use crate::authz::{authorize, Action, Actor};
use crate::error::AppError;

/// Refuses with 403 unless the signed-in user may do `action`.
pub fn require(me: &CurrentUser, action: Action<'_>) -> Result<(), AppError> {
    authorize(Actor::Member(&me.user), action).map_err(|_| AppError::Forbidden)
}
