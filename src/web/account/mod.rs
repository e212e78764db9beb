//! The account pages under /profile, one module per section.

pub mod two_factor;
