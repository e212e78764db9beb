//! The account pages under /profile.

mod two_factor;
mod two_factor_required;
