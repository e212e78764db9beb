//! The `/v4` paths, written once: the routes, the 405 table and the OpenAPI document use them.
//! Each is relative to `SCOPE`, as actix registers it inside `web::scope(SCOPE)`.

pub const SCOPE: &str = "/v4";

pub const USER_ME: &str = "/user/me";
pub const USERS: &str = "/user";
pub const USER: &str = "/user/{id}";
pub const MEETING_TYPES: &str = "/meeting-type";
pub const MEETING_TYPE: &str = "/meeting-type/{id}";
pub const APPOINTMENTS_PAGINATED: &str = "/appointment/paginated";
pub const OPENAPI: &str = "/openapi.json";
pub const CREDENTIALS_REVOKE: &str = "/credentials/revoke";
/// A user's GDPR export (Platform API Keys only).
pub const USER_EXPORT: &str = "/user/{id}/export";

/// The company's webhook endpoints. meetergo documents them without the version, so they are
/// served at `/webhooks` as well as under `SCOPE`.
pub const WEBHOOKS: &str = "/webhooks";
pub const WEBHOOK: &str = "/webhooks/{id}";

fn under(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// Whether `path` (a request's full path) is the API's: under its scope, or the unversioned
/// webhooks.
pub fn is_api(path: &str) -> bool {
    under(path, SCOPE) || under(path, WEBHOOKS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scope_and_the_unversioned_webhooks_are_the_api() {
        assert!(is_api("/v4/user"));
        assert!(is_api("/webhooks"));
        assert!(is_api("/webhooks/abc"));
        assert!(!is_api("/webhooksx"));
        assert!(!is_api("/settings/webhooks"));
    }
}
