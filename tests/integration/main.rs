//! One integration test binary; its modules mirror the route tree.

mod helpers;
mod sign_in;
