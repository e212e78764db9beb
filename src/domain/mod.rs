//! Domain types: a value of one of these has already been checked and cannot be bad.

pub mod expiry;
pub mod ids;
pub mod kinds;
pub mod password;
pub mod reason;
pub(crate) mod text_enum;
pub mod values;
pub mod webhook;

pub use expiry::{Expiry, ExpiryLevel};
pub use ids::*;
pub use kinds::*;
pub use reason::Reason;
pub use values::*;
