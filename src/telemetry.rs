//! Structured logs. Every line of a request carries its request id (tracing-actix-web's root
//! span). Handlers never log passwords, tokens, cookies or CSRF values.

use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .try_init();
}
