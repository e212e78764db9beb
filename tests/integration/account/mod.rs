//! The account's own controls: confirming and changing one's email address, forgetting and
//! changing a password.

mod change_password;
mod email_change;
mod email_verification;
mod forgot_password;
mod in_a_browser;
