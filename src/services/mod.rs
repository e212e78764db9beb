//! Operations that span tables and must be atomic.

pub mod audit;
pub mod credentials;
pub mod invitations;
pub mod joining;
pub mod mail;
pub mod meeting_types;
pub mod offboarding;
pub mod platform_users;
pub mod sso;
pub mod team;
