//! The account's own pages: confirming and changing one's email address.

mod email_change;
mod email_verification;
