//! Every route of the console, with its inputs and a harmless value for each.

use crate::helpers::PASSWORD;

/// One route and its inputs, with a harmless value for each input that is not under test.
pub struct Route {
    pub method: &'static str,
    /// The pattern as written in the source (`{name}` for a path parameter).
    pub path: &'static str,
    pub query: &'static [&'static str],
    /// Form fields (pages) or JSON fields (`/v4`): name and harmless value (raw JSON for `/v4`).
    pub fields: &'static [(&'static str, &'static str)],
    /// Would end the admin's session or undo the sweep's setup: swept anonymously only.
    pub anonymous_only: bool,
}

const fn page(method: &'static str, path: &'static str) -> Route {
    Route {
        method,
        path,
        query: &[],
        fields: &[],
        anonymous_only: false,
    }
}

/// Every route of the console. Add a route here when you add it to the app.
pub const ROUTES: &[Route] = &[
    page("GET", "/healthz"),
    page("GET", "/readyz"),
    page("GET", "/"),
    page("GET", "/login"),
    Route {
        fields: &[
            ("email", "nobody@example.com"),
            ("password", "wrong password"),
        ],
        ..page("POST", "/login")
    },
    Route {
        anonymous_only: true,
        ..page("POST", "/logout")
    },
    page("GET", "/signup"),
    Route {
        // The harmless email is invalid, so no sweep request creates an account.
        fields: &[
            ("company_name", "Hostile Co"),
            ("name", "Hostile"),
            ("email", "not-an-address"),
            ("password", PASSWORD),
        ],
        ..page("POST", "/signup")
    },
    page("GET", "/password/forgot"),
    Route {
        fields: &[("email", "nobody@example.com")],
        ..page("POST", "/password/forgot")
    },
    page("GET", "/password/reset/{token}"),
    Route {
        fields: &[("password", PASSWORD)],
        ..page("POST", "/password/reset/{token}")
    },
    page("GET", "/profile/password"),
    Route {
        // A wrong current password: no sweep request changes the admin's password.
        fields: &[
            ("current_password", "wrong password"),
            ("new_password", PASSWORD),
        ],
        ..page("POST", "/profile/password")
    },
    page("GET", "/invite/{token}"),
    Route {
        fields: &[("name", "Invitee"), ("password", PASSWORD)],
        ..page("POST", "/invite/{token}")
    },
    Route {
        query: &["purpose", "invitation"],
        ..page("GET", "/auth/oidc/{provider}/start")
    },
    Route {
        query: &["code", "state", "error", "error_description"],
        ..page("GET", "/auth/oidc/{provider}/callback")
    },
    Route {
        fields: &[("identifier", "nobody@example.com")],
        ..page("POST", "/sso/start")
    },
    page("GET", "/sso/saml/{slug}/metadata"),
    Route {
        fields: &[
            ("SAMLResponse", "PHNhbWxwOlJlc3BvbnNlLz4="),
            ("RelayState", "x"),
        ],
        ..page("POST", "/sso/saml/{slug}/acs")
    },
    page("GET", "/dashboard"),
    page("GET", "/integrations"),
    page("GET", "/integrations/api"),
    Route {
        fields: &[("name", "sweep"), ("expiry", "30"), ("expires_at", "")],
        ..page("POST", "/integrations/api/tokens")
    },
    page("POST", "/integrations/api/tokens/{id}/revoke"),
    page("GET", "/admin/api-keys"),
    Route {
        fields: &[("name", "sweep"), ("expiry", "30"), ("expires_at", "")],
        ..page("POST", "/admin/api-keys")
    },
    page("POST", "/admin/api-keys/{id}/deactivate"),
    page("POST", "/admin/api-keys/{id}/activate"),
    page("POST", "/admin/api-keys/{id}/revoke"),
    page("GET", "/integrations/api/tokens/{id}"),
    page("GET", "/admin/api-keys/{id}"),
    page("GET", "/settings"),
    Route {
        query: &["q", "page"],
        ..page("GET", "/settings/members")
    },
    Route {
        fields: &[("role", "member")],
        ..page("POST", "/settings/members/{id}/role")
    },
    page("POST", "/settings/members/{id}/sign-out"),
    Route {
        query: &["transfer_to"],
        ..page("GET", "/settings/members/{id}/offboard")
    },
    Route {
        fields: &[("transfer_to", "00000000-0000-4000-8000-000000000000")],
        ..page("POST", "/settings/members/{id}/offboard")
    },
    Route {
        fields: &[("email", "invitee@example.com"), ("role", "nobody")],
        ..page("POST", "/settings/members/invite")
    },
    page("POST", "/settings/invitations/{id}/resend"),
    page("POST", "/settings/invitations/{id}/revoke"),
    Route {
        query: &["actor", "kind", "from", "to", "page"],
        ..page("GET", "/settings/audit")
    },
    Route {
        query: &["actor", "kind", "from", "to"],
        ..page("GET", "/settings/audit.csv")
    },
    Route {
        query: &[
            "person",
            "kind",
            "status",
            "expiring_within",
            "unused_for",
            "sort",
            "dir",
            "page",
        ],
        ..page("GET", "/settings/credentials")
    },
    Route {
        query: &[
            "person",
            "kind",
            "status",
            "expiring_within",
            "unused_for",
            "sort",
            "dir",
        ],
        ..page("GET", "/settings/credentials.csv")
    },
    page("GET", "/settings/credentials/{id}/revoke"),
    Route {
        fields: &[("reason", "hostile sweep")],
        ..page("POST", "/settings/credentials/{id}/revoke")
    },
    page("GET", "/settings/company"),
    Route {
        fields: &[
            ("name", "Hostile Co"),
            ("require_invitation", "on"),
            ("allowed_domains", ""),
        ],
        ..page("POST", "/settings/company")
    },
    Route {
        fields: &[
            ("user_id", "00000000-0000-4000-8000-000000000000"),
            ("password", "wrong password"),
        ],
        ..page("POST", "/settings/company/transfer-ownership")
    },
    Route {
        fields: &[("domain", "hostile.example.com")],
        ..page("POST", "/settings/company/domains/verify")
    },
    page("GET", "/settings/sso"),
    Route {
        fields: &[
            ("metadata_xml", "<EntityDescriptor/>"),
            ("allow_sha1", "on"),
            ("allow_idp_initiated", "on"),
            ("enforce_sso", "on"),
        ],
        ..page("POST", "/settings/sso")
    },
    Route {
        anonymous_only: true,
        ..page("POST", "/settings/sso/remove")
    },
    page("GET", "/profile"),
    page("POST", "/profile/identities/{id}/unlink"),
    page("GET", "/verify-email/{token}"),
    page("POST", "/verify-email/{token}"),
    page("GET", "/profile/email"),
    Route {
        fields: &[("email", "new@hostile.example.com")],
        ..page("POST", "/profile/email")
    },
    page("POST", "/profile/email/resend"),
    page("GET", "/profile/two-factor"),
    Route {
        fields: &[("code", "123456")],
        ..page("POST", "/profile/two-factor/confirm")
    },
    Route {
        fields: &[("password", "wrong password"), ("code", "123456")],
        ..page("POST", "/profile/two-factor/disable")
    },
    Route {
        fields: &[("require_two_factor", "on")],
        ..page("POST", "/settings/company/two-factor")
    },
    page("GET", "/login/two-factor"),
    page("GET", "/profile/sessions"),
    Route {
        fields: &[("session", "0123abcd")],
        ..page("POST", "/profile/sessions/sign-out")
    },
    page("POST", "/profile/sessions/sign-out-others"),
    Route {
        fields: &[("name", "Ada")],
        ..page("POST", "/profile/name")
    },
    page("GET", "/profile/export"),
    page("GET", "/settings/members/{id}/export"),
    Route {
        fields: &[("code", "123456")],
        ..page("POST", "/login/two-factor")
    },
    page("GET", "/static/{file}"),
    page("GET", "/integrations/api/tokens/{id}/regenerate"),
    Route {
        fields: &[("grace", "24h")],
        ..page("POST", "/integrations/api/tokens/{id}/regenerate")
    },
    page("GET", "/admin/api-keys/{id}/regenerate"),
    Route {
        fields: &[("grace", "24h")],
        ..page("POST", "/admin/api-keys/{id}/regenerate")
    },
    Route {
        fields: &[("name", "sweep"), ("note", "swept")],
        ..page("POST", "/integrations/api/tokens/{id}/details")
    },
    Route {
        fields: &[("name", "sweep"), ("note", "swept")],
        ..page("POST", "/admin/api-keys/{id}/details")
    },
    Route {
        // No limit, members may create: the sweep's own token is left as it is.
        fields: &[
            ("max_pat_lifetime_days", "none"),
            ("members_may_create_pats", "on"),
        ],
        ..page("POST", "/settings/company/credential-policy")
    },
    page("GET", "/settings/provisioning"),
    Route {
        fields: &[("enabled", "on"), ("scim_successor", "")],
        ..page("POST", "/settings/provisioning")
    },
    Route {
        // A new secret would stop the one the SCIM routes are swept with.
        anonymous_only: true,
        ..page("POST", "/settings/provisioning/secret")
    },
    Route {
        anonymous_only: true,
        ..page("POST", "/settings/provisioning/secret/revoke")
    },
    // SCIM, under both scopes: fields hold raw JSON.
    Route {
        query: &[
            "filter",
            "startIndex",
            "count",
            "attributes",
            "excludedAttributes",
        ],
        ..page("GET", "/scim/v2/Users")
    },
    Route {
        fields: &[
            (
                "schemas",
                r#"["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]"#,
            ),
            ("filter", r#""userName eq \"nobody@example.com\"""#),
            ("attributes", r#"["userName"]"#),
            ("excludedAttributes", r#"["emails"]"#),
            ("startIndex", "1"),
            ("count", "10"),
        ],
        ..page("POST", "/scim/v2/Users/.search")
    },
    Route {
        fields: &[
            (
                "schemas",
                r#"["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]"#,
            ),
            ("filter", r#""userName eq \"nobody@example.com\"""#),
            ("attributes", r#"["userName"]"#),
            ("excludedAttributes", r#"["emails"]"#),
            ("startIndex", "1"),
            ("count", "10"),
        ],
        ..page("POST", "/scim/v2/.search")
    },
    Route {
        fields: &[
            (
                "schemas",
                r#"["urn:ietf:params:scim:schemas:core:2.0:User"]"#,
            ),
            ("userName", r#""not-an-address""#),
            ("name", r#"{"givenName": "Ada"}"#),
            ("active", "true"),
        ],
        ..page("POST", "/scim/v2/Users")
    },
    Route {
        query: &["attributes", "excludedAttributes"],
        ..page("GET", "/scim/v2/Users/{id}")
    },
    Route {
        fields: &[("userName", r#""not-an-address""#), ("active", "true")],
        ..page("PUT", "/scim/v2/Users/{id}")
    },
    Route {
        fields: &[
            (
                "schemas",
                r#"["urn:ietf:params:scim:api:messages:2.0:PatchOp"]"#,
            ),
            (
                "Operations",
                r#"[{"op": "Replace", "path": "name.givenName", "value": "Ada"}]"#,
            ),
        ],
        ..page("PATCH", "/scim/v2/Users/{id}")
    },
    page("DELETE", "/scim/v2/Users/{id}"),
    page("GET", "/scim/v2/Groups"),
    page("POST", "/scim/v2/Groups"),
    page("GET", "/scim/v2/Groups/{id}"),
    page("PUT", "/scim/v2/Groups/{id}"),
    page("PATCH", "/scim/v2/Groups/{id}"),
    page("DELETE", "/scim/v2/Groups/{id}"),
    page("GET", "/scim/v2/ServiceProviderConfig"),
    page("GET", "/scim/v2/ResourceTypes"),
    page("GET", "/scim/v2/ResourceTypes/{id}"),
    page("GET", "/scim/v2/Schemas"),
    page("GET", "/scim/v2/Schemas/{id}"),
    Route {
        query: &[
            "filter",
            "startIndex",
            "count",
            "attributes",
            "excludedAttributes",
        ],
        ..page("GET", "/scim/Users")
    },
    Route {
        fields: &[
            (
                "schemas",
                r#"["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]"#,
            ),
            ("filter", r#""userName eq \"nobody@example.com\"""#),
            ("attributes", r#"["userName"]"#),
            ("excludedAttributes", r#"["emails"]"#),
            ("startIndex", "1"),
            ("count", "10"),
        ],
        ..page("POST", "/scim/Users/.search")
    },
    Route {
        fields: &[
            (
                "schemas",
                r#"["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]"#,
            ),
            ("filter", r#""userName eq \"nobody@example.com\"""#),
            ("attributes", r#"["userName"]"#),
            ("excludedAttributes", r#"["emails"]"#),
            ("startIndex", "1"),
            ("count", "10"),
        ],
        ..page("POST", "/scim/.search")
    },
    Route {
        fields: &[
            (
                "schemas",
                r#"["urn:ietf:params:scim:schemas:core:2.0:User"]"#,
            ),
            ("userName", r#""not-an-address""#),
            ("name", r#"{"givenName": "Ada"}"#),
            ("active", "true"),
        ],
        ..page("POST", "/scim/Users")
    },
    Route {
        query: &["attributes", "excludedAttributes"],
        ..page("GET", "/scim/Users/{id}")
    },
    Route {
        fields: &[("userName", r#""not-an-address""#), ("active", "true")],
        ..page("PUT", "/scim/Users/{id}")
    },
    Route {
        fields: &[
            (
                "schemas",
                r#"["urn:ietf:params:scim:api:messages:2.0:PatchOp"]"#,
            ),
            (
                "Operations",
                r#"[{"op": "Replace", "path": "name.givenName", "value": "Ada"}]"#,
            ),
        ],
        ..page("PATCH", "/scim/Users/{id}")
    },
    page("DELETE", "/scim/Users/{id}"),
    page("GET", "/scim/Groups"),
    page("POST", "/scim/Groups"),
    page("GET", "/scim/Groups/{id}"),
    page("PUT", "/scim/Groups/{id}"),
    page("PATCH", "/scim/Groups/{id}"),
    page("DELETE", "/scim/Groups/{id}"),
    page("GET", "/scim/ServiceProviderConfig"),
    page("GET", "/scim/ResourceTypes"),
    page("GET", "/scim/ResourceTypes/{id}"),
    page("GET", "/scim/Schemas"),
    page("GET", "/scim/Schemas/{id}"),
    // The JSON API: fields hold raw JSON.
    page("GET", "/v4/user/me"),
    Route {
        query: &["limit", "offset"],
        ..page("GET", "/v4/user")
    },
    Route {
        fields: &[
            ("email", r#""not-an-address""#),
            ("givenName", r#""Ada""#),
            ("familyName", r#""Lovelace""#),
            ("role", r#""member""#),
        ],
        ..page("POST", "/v4/user")
    },
    Route {
        fields: &[("givenName", r#""Ada""#), ("familyName", r#""Lovelace""#)],
        ..page("PATCH", "/v4/user/{id}")
    },
    page("DELETE", "/v4/user/{id}"),
    page("GET", "/v4/meeting-type"),
    Route {
        fields: &[
            ("title", r#""Sweep""#),
            ("slug", r#""sweep""#),
            ("duration", "30"),
        ],
        ..page("POST", "/v4/meeting-type")
    },
    page("GET", "/v4/meeting-type/{id}"),
    Route {
        fields: &[
            ("title", r#""Sweep""#),
            ("slug", r#""sweep-2""#),
            ("duration", "45"),
        ],
        ..page("PATCH", "/v4/meeting-type/{id}")
    },
    Route {
        query: &["userId", "page", "limit"],
        ..page("GET", "/v4/appointment/paginated")
    },
    page("GET", "/v4/openapi.json"),
    page("GET", "/v4/user/{id}/export"),
    Route {
        fields: &[("credentials", r#"["rgo-not-a-token"]"#)],
        ..page("POST", "/v4/credentials/revoke")
    },
    // Settings → Webhooks.
    page("GET", "/settings/webhooks"),
    page("GET", "/settings/webhooks/new"),
    Route {
        fields: &[
            ("endpoint", "https://hooks.example.com/sweep"),
            ("description", "sweep"),
            ("event_types", "new_employee"),
        ],
        ..page("POST", "/settings/webhooks/new")
    },
    page("GET", "/settings/webhooks/{id}"),
    Route {
        fields: &[
            ("endpoint", "https://hooks.example.com/sweep"),
            ("description", "sweep"),
            ("event_types", "new_employee"),
        ],
        ..page("POST", "/settings/webhooks/{id}")
    },
    page("POST", "/settings/webhooks/{id}/enable"),
    page("POST", "/settings/webhooks/{id}/disable"),
    page("GET", "/settings/webhooks/{id}/delete"),
    page("POST", "/settings/webhooks/{id}/delete"),
    page("GET", "/settings/webhooks/{id}/rotate"),
    page("POST", "/settings/webhooks/{id}/rotate"),
    page("POST", "/settings/webhooks/{id}/test"),
    Route {
        query: &["page"],
        ..page("GET", "/settings/webhooks/{id}/deliveries")
    },
    page("POST", "/settings/webhooks/deliveries/{id}/redeliver"),
    // The webhooks API, under /v4 and at meetergo's unversioned paths.
    page("GET", "/v4/webhooks"),
    Route {
        fields: &[
            ("endpoint", r#""https://hooks.example.com/sweep""#),
            ("description", r#""sweep""#),
            ("eventTypes", r#"["new_employee"]"#),
        ],
        ..page("POST", "/v4/webhooks")
    },
    Route {
        fields: &[("description", r#""sweep""#), ("enabled", "true")],
        ..page("PATCH", "/v4/webhooks/{id}")
    },
    page("DELETE", "/v4/webhooks/{id}"),
    page("GET", "/webhooks"),
    Route {
        fields: &[
            ("endpoint", r#""https://hooks.example.com/sweep""#),
            ("description", r#""sweep""#),
            ("eventTypes", r#"["new_employee"]"#),
        ],
        ..page("POST", "/webhooks")
    },
    Route {
        fields: &[("description", r#""sweep""#), ("enabled", "true")],
        ..page("PATCH", "/webhooks/{id}")
    },
    page("DELETE", "/webhooks/{id}"),
    // Last: it deletes the meeting type the routes above use.
    page("DELETE", "/v4/meeting-type/{id}"),
];
