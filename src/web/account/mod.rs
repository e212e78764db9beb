//! The account's own pages beside the profile: one module per sub-page.

pub mod email;
