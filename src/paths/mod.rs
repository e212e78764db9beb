//! Every page's path, written once: routes register these, redirects and guards send people to
//! them, templates link to them (`{{ crate::paths::MEMBERS }}`). A path with a `{param}` has a
//! function that fills it in. `api` holds the `/v4` paths. A module of its own, below `web`,
//! `api` and `auth`, so the middleware can name paths without depending on the pages.

pub mod api;
pub mod scim;

use std::fmt::Display;

pub const HOME: &str = "/";
pub const LOGIN: &str = "/login";
pub const LOGOUT: &str = "/logout";
pub const SIGNUP: &str = "/signup";
pub const HEALTHZ: &str = "/healthz";
pub const READYZ: &str = "/readyz";
pub const STATIC: &str = "/static";
/// Served only on `METRICS_ADDR` (`telemetry::metrics::serve`), never on the public listener.
pub const METRICS: &str = "/metrics";

pub const INVITATION: &str = "/invite/{token}";
pub const PASSWORD_FORGOT: &str = "/password/forgot";
pub const PASSWORD_RESET: &str = "/password/reset/{token}";
pub const OIDC_START: &str = "/auth/oidc/{provider}/start";
pub const OIDC_CALLBACK: &str = "/auth/oidc/{provider}/callback";
pub const SSO_START: &str = "/sso/start";
pub const SAML_METADATA: &str = "/sso/saml/{slug}/metadata";
pub const SAML_ACS: &str = "/sso/saml/{slug}/acs";

pub const DASHBOARD: &str = "/dashboard";
pub const PROFILE: &str = "/profile";
pub const IDENTITY_UNLINK: &str = "/profile/identities/{id}/unlink";
pub const PROFILE_PASSWORD: &str = "/profile/password";
pub const PROFILE_EMAIL: &str = "/profile/email";
pub const PROFILE_EMAIL_RESEND: &str = "/profile/email/resend";
pub const VERIFY_EMAIL: &str = "/verify-email/{token}";
pub const PROFILE_NAME: &str = "/profile/name";
pub const PROFILE_TWO_FACTOR: &str = "/profile/two-factor";
pub const PROFILE_TWO_FACTOR_CONFIRM: &str = "/profile/two-factor/confirm";
pub const PROFILE_TWO_FACTOR_DISABLE: &str = "/profile/two-factor/disable";
pub const PROFILE_SESSIONS: &str = "/profile/sessions";
pub const PROFILE_SESSION_SIGN_OUT: &str = "/profile/sessions/sign-out";
pub const PROFILE_SESSIONS_SIGN_OUT_OTHERS: &str = "/profile/sessions/sign-out-others";
/// The second step of a password sign-in with two-factor on.
pub const LOGIN_TWO_FACTOR: &str = "/login/two-factor";

pub const INTEGRATIONS: &str = "/integrations";
pub const API_TOKENS: &str = "/integrations/api";
pub const API_TOKEN_CREATE: &str = "/integrations/api/tokens";
pub const API_TOKEN_REVOKE: &str = "/integrations/api/tokens/{id}/revoke";

pub const ADMIN_API_KEYS: &str = "/admin/api-keys";
pub const ADMIN_API_KEY_DEACTIVATE: &str = "/admin/api-keys/{id}/deactivate";
pub const ADMIN_API_KEY_ACTIVATE: &str = "/admin/api-keys/{id}/activate";
pub const ADMIN_API_KEY_REVOKE: &str = "/admin/api-keys/{id}/revoke";

pub const SETTINGS: &str = "/settings";
pub const MEMBERS: &str = "/settings/members";
pub const MEMBER_INVITE: &str = "/settings/members/invite";
pub const MEMBER_ROLE: &str = "/settings/members/{id}/role";
pub const MEMBER_SIGN_OUT: &str = "/settings/members/{id}/sign-out";
pub const MEMBER_OFFBOARD: &str = "/settings/members/{id}/offboard";
pub const INVITATION_RESEND: &str = "/settings/invitations/{id}/resend";
pub const INVITATION_REVOKE: &str = "/settings/invitations/{id}/revoke";
pub const COMPANY: &str = "/settings/company";
pub const TRANSFER_OWNERSHIP: &str = "/settings/company/transfer-ownership";
pub const DOMAIN_VERIFY: &str = "/settings/company/domains/verify";
pub const COMPANY_TWO_FACTOR: &str = "/settings/company/two-factor";
pub const SSO_SETTINGS: &str = "/settings/sso";
pub const SSO_SETTINGS_REMOVE: &str = "/settings/sso/remove";
pub const AUDIT_LOG: &str = "/settings/audit";
pub const AUDIT_LOG_CSV: &str = "/settings/audit.csv";
/// A Personal Access Token's details and usage (its owner only).
pub const API_TOKEN: &str = "/integrations/api/tokens/{id}";
/// A Platform API Key's details and usage (owners and admins).
pub const ADMIN_API_KEY: &str = "/admin/api-keys/{id}";
pub const API_TOKEN_REGENERATE: &str = "/integrations/api/tokens/{id}/regenerate";
pub const ADMIN_API_KEY_REGENERATE: &str = "/admin/api-keys/{id}/regenerate";
/// Rename a credential or change its note (the form on its detail page).
pub const API_TOKEN_DESCRIBE: &str = "/integrations/api/tokens/{id}/details";
pub const ADMIN_API_KEY_DESCRIBE: &str = "/admin/api-keys/{id}/details";
pub const COMPANY_CREDENTIAL_POLICY: &str = "/settings/company/credential-policy";
pub const CREDENTIALS: &str = "/settings/credentials";
pub const CREDENTIALS_CSV: &str = "/settings/credentials.csv";
pub const CREDENTIAL_REVOKE: &str = "/settings/credentials/{id}/revoke";
/// Settings → Provisioning: SCIM on or off, its secret, the successor (owners and admins).
pub const PROVISIONING: &str = "/settings/provisioning";
pub const PROVISIONING_SECRET: &str = "/settings/provisioning/secret";
pub const PROVISIONING_SECRET_REVOKE: &str = "/settings/provisioning/secret/revoke";
/// "Download my data": the signed-in person's GDPR export (a JSON attachment).
pub const PROFILE_EXPORT: &str = "/profile/export";
/// An owner or admin downloads a member's GDPR export.
pub const MEMBER_EXPORT: &str = "/settings/members/{id}/export";

/// Settings → Webhooks (owners and admins): the list, adding one, one endpoint's edit page
/// and its actions, its delivery log, and redelivering one delivery.
pub const WEBHOOKS: &str = "/settings/webhooks";
pub const WEBHOOK_NEW: &str = "/settings/webhooks/new";
pub const WEBHOOK: &str = "/settings/webhooks/{id}";
pub const WEBHOOK_ENABLE: &str = "/settings/webhooks/{id}/enable";
pub const WEBHOOK_DISABLE: &str = "/settings/webhooks/{id}/disable";
pub const WEBHOOK_DELETE: &str = "/settings/webhooks/{id}/delete";
pub const WEBHOOK_ROTATE: &str = "/settings/webhooks/{id}/rotate";
pub const WEBHOOK_TEST: &str = "/settings/webhooks/{id}/test";
pub const WEBHOOK_DELIVERIES: &str = "/settings/webhooks/{id}/deliveries";
pub const WEBHOOK_REDELIVER: &str = "/settings/webhooks/deliveries/{id}/redeliver";

/// `pattern` with its one `{param}` segment replaced by `value`.
fn fill(pattern: &str, value: impl Display) -> String {
    let parts = pattern
        .split_once('{')
        .and_then(|(head, rest)| rest.split_once('}').map(|(_, tail)| (head, tail)));
    match parts {
        Some((head, tail)) => format!("{head}{value}{tail}"),
        None => pattern.to_owned(),
    }
}

pub fn invitation(token: impl Display) -> String {
    fill(INVITATION, token)
}

pub fn password_reset(token: impl Display) -> String {
    fill(PASSWORD_RESET, token)
}

pub fn oidc_start(provider: impl Display) -> String {
    fill(OIDC_START, provider)
}

pub fn oidc_callback(provider: impl Display) -> String {
    fill(OIDC_CALLBACK, provider)
}

pub fn saml_metadata(slug: impl Display) -> String {
    fill(SAML_METADATA, slug)
}

pub fn saml_acs(slug: impl Display) -> String {
    fill(SAML_ACS, slug)
}

pub fn verify_email(token: impl Display) -> String {
    fill(VERIFY_EMAIL, token)
}

pub fn identity_unlink(id: impl Display) -> String {
    fill(IDENTITY_UNLINK, id)
}

pub fn api_token_revoke(id: impl Display) -> String {
    fill(API_TOKEN_REVOKE, id)
}

pub fn admin_api_key_deactivate(id: impl Display) -> String {
    fill(ADMIN_API_KEY_DEACTIVATE, id)
}

pub fn admin_api_key_activate(id: impl Display) -> String {
    fill(ADMIN_API_KEY_ACTIVATE, id)
}

pub fn admin_api_key_revoke(id: impl Display) -> String {
    fill(ADMIN_API_KEY_REVOKE, id)
}

pub fn member_role(id: impl Display) -> String {
    fill(MEMBER_ROLE, id)
}

pub fn member_sign_out(id: impl Display) -> String {
    fill(MEMBER_SIGN_OUT, id)
}

pub fn member_offboard(id: impl Display) -> String {
    fill(MEMBER_OFFBOARD, id)
}

pub fn invitation_resend(id: impl Display) -> String {
    fill(INVITATION_RESEND, id)
}

pub fn invitation_revoke(id: impl Display) -> String {
    fill(INVITATION_REVOKE, id)
}

pub fn api_token(id: impl Display) -> String {
    fill(API_TOKEN, id)
}

pub fn admin_api_key(id: impl Display) -> String {
    fill(ADMIN_API_KEY, id)
}

pub fn api_token_regenerate(id: impl Display) -> String {
    fill(API_TOKEN_REGENERATE, id)
}

pub fn admin_api_key_regenerate(id: impl Display) -> String {
    fill(ADMIN_API_KEY_REGENERATE, id)
}

pub fn api_token_describe(id: impl Display) -> String {
    fill(API_TOKEN_DESCRIBE, id)
}

pub fn admin_api_key_describe(id: impl Display) -> String {
    fill(ADMIN_API_KEY_DESCRIBE, id)
}

pub fn credential_revoke(id: impl Display) -> String {
    fill(CREDENTIAL_REVOKE, id)
}

pub fn member_export(id: impl Display) -> String {
    fill(MEMBER_EXPORT, id)
}

pub fn webhook(id: impl Display) -> String {
    fill(WEBHOOK, id)
}

pub fn webhook_enable(id: impl Display) -> String {
    fill(WEBHOOK_ENABLE, id)
}

pub fn webhook_disable(id: impl Display) -> String {
    fill(WEBHOOK_DISABLE, id)
}

pub fn webhook_delete(id: impl Display) -> String {
    fill(WEBHOOK_DELETE, id)
}

pub fn webhook_rotate(id: impl Display) -> String {
    fill(WEBHOOK_ROTATE, id)
}

pub fn webhook_test(id: impl Display) -> String {
    fill(WEBHOOK_TEST, id)
}

pub fn webhook_deliveries(id: impl Display) -> String {
    fill(WEBHOOK_DELIVERIES, id)
}

pub fn webhook_redeliver(id: impl Display) -> String {
    fill(WEBHOOK_REDELIVER, id)
}

#[cfg(test)]
mod tests {
    use actix_web::http::{Method, StatusCode};
    use actix_web::test::{call_service, init_service, TestRequest};
    use actix_web::{web, App, HttpResponse};

    use super::*;

    /// No handler answers with this, so the test tells "no route" from a handler's refusal
    /// (without app data, handlers fail in their extractors; that still proves the route).
    const UNROUTED: StatusCode = StatusCode::IM_A_TEAPOT;

    #[test]
    fn fill_replaces_the_parameter() {
        assert_eq!(member_role("abc"), "/settings/members/abc/role");
        assert_eq!(invitation("t0k"), "/invite/t0k");
        assert_eq!(fill(MEMBERS, "x"), MEMBERS);
    }

    #[actix_web::test]
    async fn every_page_path_reaches_a_handler() {
        let app = init_service(
            App::new()
                .configure(crate::web::health::routes)
                .configure(crate::web::sign_in::routes)
                .configure(crate::web::invitations::routes)
                .configure(crate::web::sso::public_routes)
                .configure(crate::web::dashboard::routes)
                .configure(crate::web::integrations::routes)
                .configure(crate::web::admin_api_keys::routes)
                .configure(crate::web::settings::routes)
                .configure(crate::web::sso::signed_in_routes)
                .configure(crate::web::account::email::public_routes)
                .configure(crate::web::account::email::signed_in_routes)
                .configure(crate::web::two_factor_sign_in::routes)
                .configure(crate::web::account::two_factor::routes)
                .configure(crate::web::account::sessions::routes)
                .configure(crate::web::account::export::routes)
                .default_service(web::to(|| async { HttpResponse::build(UNROUTED).finish() })),
        )
        .await;
        // STATIC is served by actix-files in startup.rs, not by a handler here.
        let every_page = [
            HOME,
            LOGIN,
            LOGOUT,
            SIGNUP,
            HEALTHZ,
            READYZ,
            INVITATION,
            OIDC_START,
            OIDC_CALLBACK,
            SSO_START,
            SAML_METADATA,
            SAML_ACS,
            DASHBOARD,
            PROFILE,
            IDENTITY_UNLINK,
            PROFILE_EMAIL,
            PROFILE_EMAIL_RESEND,
            VERIFY_EMAIL,
            PROFILE_NAME,
            PROFILE_TWO_FACTOR,
            PROFILE_TWO_FACTOR_CONFIRM,
            PROFILE_TWO_FACTOR_DISABLE,
            PROFILE_SESSIONS,
            PROFILE_SESSION_SIGN_OUT,
            PROFILE_SESSIONS_SIGN_OUT_OTHERS,
            LOGIN_TWO_FACTOR,
            COMPANY_TWO_FACTOR,
            INTEGRATIONS,
            API_TOKENS,
            API_TOKEN_CREATE,
            API_TOKEN_REVOKE,
            ADMIN_API_KEYS,
            ADMIN_API_KEY_DEACTIVATE,
            ADMIN_API_KEY_ACTIVATE,
            ADMIN_API_KEY_REVOKE,
            SETTINGS,
            MEMBERS,
            MEMBER_INVITE,
            MEMBER_ROLE,
            MEMBER_SIGN_OUT,
            MEMBER_OFFBOARD,
            INVITATION_RESEND,
            INVITATION_REVOKE,
            COMPANY,
            TRANSFER_OWNERSHIP,
            DOMAIN_VERIFY,
            SSO_SETTINGS,
            SSO_SETTINGS_REMOVE,
            AUDIT_LOG,
            AUDIT_LOG_CSV,
            API_TOKEN,
            ADMIN_API_KEY,
            API_TOKEN_REGENERATE,
            ADMIN_API_KEY_REGENERATE,
            API_TOKEN_DESCRIBE,
            ADMIN_API_KEY_DESCRIBE,
            COMPANY_CREDENTIAL_POLICY,
            CREDENTIALS,
            CREDENTIALS_CSV,
            CREDENTIAL_REVOKE,
            PROVISIONING,
            PROVISIONING_SECRET,
            PROVISIONING_SECRET_REVOKE,
            PROFILE_EXPORT,
            MEMBER_EXPORT,
            WEBHOOKS,
            WEBHOOK_NEW,
            WEBHOOK,
            WEBHOOK_ENABLE,
            WEBHOOK_DISABLE,
            WEBHOOK_DELETE,
            WEBHOOK_ROTATE,
            WEBHOOK_TEST,
            WEBHOOK_DELIVERIES,
            WEBHOOK_REDELIVER,
        ];
        for pattern in every_page {
            let path = fill(pattern, "00000000-0000-4000-8000-000000000000");
            let mut routed = false;
            for method in [Method::GET, Method::POST] {
                let request = TestRequest::default()
                    .method(method)
                    .uri(&path)
                    .to_request();
                routed |= call_service(&app, request).await.status() != UNROUTED;
            }
            assert!(routed, "{pattern} has no route");
        }
    }
}
