//! The account's own controls: confirming and changing one's email address, forgetting and
//! changing a password, two-factor sign-in, sessions and name.

mod change_password;
mod email_change;
mod email_verification;
mod forgot_password;
mod in_a_browser;
mod sessions;
pub mod two_factor;
mod two_factor_in_a_browser;
mod two_factor_required;
