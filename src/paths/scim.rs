//! The SCIM 2.0 paths (RFC 7644), relative to either scope: `/scim/v2`, what Okta and Entra ID
//! expect, and `/scim`, meetergo's documented base path. Both serve the same resources.

pub const SCOPE_V2: &str = "/scim/v2";
pub const SCOPE: &str = "/scim";

pub const USERS: &str = "/Users";
pub const USER: &str = "/Users/{id}";
/// Queries by POST (RFC 7644 §3.4.3), on the Users endpoint and at the root.
pub const USERS_SEARCH: &str = "/Users/.search";
pub const SEARCH: &str = "/.search";
pub const GROUPS: &str = "/Groups";
pub const GROUP: &str = "/Groups/{id}";
pub const SERVICE_PROVIDER_CONFIG: &str = "/ServiceProviderConfig";
pub const RESOURCE_TYPES: &str = "/ResourceTypes";
pub const RESOURCE_TYPE: &str = "/ResourceTypes/{id}";
pub const SCHEMAS: &str = "/Schemas";
pub const SCHEMA: &str = "/Schemas/{id}";

/// Whether `path` (a request's full path) is under either SCIM scope.
pub fn is_scim(path: &str) -> bool {
    path.strip_prefix(SCOPE)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The scope `path` was asked under (`/scim/v2` or `/scim`), for the locations SCIM answers.
pub fn scope_of(path: &str) -> &'static str {
    if path
        .strip_prefix(SCOPE_V2)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    {
        SCOPE_V2
    } else {
        SCOPE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_scopes_are_scim_and_nothing_else_is() {
        assert!(is_scim("/scim/v2/Users"));
        assert!(is_scim("/scim/Users"));
        assert!(is_scim("/scim"));
        assert!(!is_scim("/scimitar"));
        assert!(!is_scim("/v4/user"));
        assert_eq!(scope_of("/scim/v2/Users/1"), SCOPE_V2);
        assert_eq!(scope_of("/scim/Users"), SCOPE);
        assert_eq!(scope_of("/scim/v2x"), SCOPE);
    }
}
