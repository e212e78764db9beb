//! Domain types: a value of one of these has already been checked and cannot be bad.

pub mod ids;
pub mod password;
pub mod values;

pub use ids::*;
pub use values::*;
