//! The account pages under /profile, one module per section.

pub mod sessions;
pub mod two_factor;
