//! The account pages under /profile.

mod sessions;
mod two_factor;
mod two_factor_required;
