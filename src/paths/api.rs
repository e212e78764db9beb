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

/// Whether `path` (a request's full path) is under the API's scope.
pub fn is_api(path: &str) -> bool {
    path.strip_prefix(SCOPE)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}
