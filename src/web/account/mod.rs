//! The account's own pages under /profile, one module per section.

pub mod email;
pub mod password;
