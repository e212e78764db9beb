//! The account's own controls: forgetting and changing a password.

mod change_password;
mod forgot_password;
mod in_a_browser;
