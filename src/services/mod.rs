//! Operations that span tables and must be atomic.

pub mod audit;
pub mod credentials;
pub mod joining;
pub mod offboarding;
