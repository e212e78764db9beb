//! The account's own pages under /profile, one module per section.

pub mod email;
pub mod export;
pub mod password;
pub mod sessions;
pub mod two_factor;
