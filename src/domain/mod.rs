//! Domain types: a value of one of these has already been checked and cannot be bad.

pub mod ids;
pub mod kinds;
pub mod password;
mod text_enum;
pub mod values;

pub use ids::*;
pub use kinds::*;
pub use values::*;
