//! The job runner (issue 11, section 1): expiry reminders at 14, 7 and 1 days and on expiry,
//! each mailed exactly once (also with two instances on one database, and from
//! `meetergo-console run-jobs --once`), and the purges it took over from the old housekeeping.

mod cli;
mod housekeeping;
mod reminders;
mod support;
