//! The account pages under /profile.

mod in_a_browser;
mod sessions;
mod two_factor;
mod two_factor_required;
