//! Every page of the console, as each role, at laptop and phone width (`crawl`), and what the
//! shell around every page promises: the navigation on error pages, the profile link, field
//! errors tied to their fields, and SAML refusals people can act on (`shell`).

mod crawl;
mod keyboard;
mod shell;
