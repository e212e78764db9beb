//! Sign-up, sign-in, sign-out, sessions, CSRF and rate limits; the pages every visitor meets;
//! and the company rules that decide who may sign up or in with a password.

mod company_rules;
mod csrf;
mod csrf_binding;
mod lockout;
mod robustness;
mod sessions;
mod sign_up;
