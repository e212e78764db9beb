//! Kinds stored in TEXT columns: what an audit event records, and what a pending SSO request
//! is for.

use super::text_enum::text_enum;

text_enum! {
    /// What an audit event records. The words are what the log shows and filters by.
    pub enum AuditKind {
        SignInSucceeded => "sign_in.succeeded",
        SignInFailed => "sign_in.failed",
        SignedOut => "sign_out",
        SignedUp => "sign_up",
        RateLimited => "rate_limit.hit",
        PatCreated => "pat.created",
        PatRevoked => "pat.revoked",
        ApiKeyCreated => "api_key.created",
        ApiKeyDeactivated => "api_key.deactivated",
        ApiKeyActivated => "api_key.activated",
        ApiKeyRevoked => "api_key.revoked",
        UserCreated => "user.created",
        UserUpdated => "user.updated",
        MemberOffboarded => "member.offboarded",
        SessionsEnded => "sessions.ended",
        RoleChanged => "role.changed",
        OwnershipTransferred => "ownership.transferred",
        InvitationSent => "invitation.sent",
        InvitationResent => "invitation.resent",
        InvitationAccepted => "invitation.accepted",
        InvitationRevoked => "invitation.revoked",
        SettingsChanged => "settings.changed",
        SignInBreakGlass => "sign_in.break_glass",
        IdentityLinked => "identity.linked",
        IdentityUnlinked => "identity.unlinked",
        SsoConfigChanged => "sso.config_changed",
        TwoFactorEnrolmentStarted => "two_factor.enrolment_started",
        TwoFactorEnabled => "two_factor.enabled",
        TwoFactorDisabled => "two_factor.disabled",
        TwoFactorSucceeded => "two_factor.succeeded",
        TwoFactorFailed => "two_factor.failed",
        TwoFactorRecoveryCodeUsed => "two_factor.recovery_code_used",
        SessionEnded => "session.ended",
        ProfileUpdated => "profile.updated",
        PasswordResetRequested => "password.reset_requested",
        PasswordReset => "password.reset",
        PasswordChanged => "password.changed",
        EmailVerified => "email.verified",
        EmailChanged => "email.changed",
        DomainVerified => "domain.verified",
        PatRegenerated => "pat.regenerated",
        ApiKeyRegenerated => "api_key.regenerated",
        CredentialUsedAfterRotation => "credential.used_after_rotation",
        CredentialReportedLeaked => "credential.reported_leaked",
        CredentialPolicyChanged => "credential_policy.changed",
        PatRevokedByAdmin => "pat.revoked_by_admin",
        ScimSettingsChanged => "scim.settings_changed",
        ScimSecretGenerated => "scim.secret_generated",
        ScimSecretRevoked => "scim.secret_revoked",
        UserReactivated => "user.reactivated",
        UserExported => "user.exported",
        WebhookCreated => "webhook.created",
        WebhookUpdated => "webhook.updated",
        WebhookDeleted => "webhook.deleted",
        WebhookSecretRotated => "webhook.secret_rotated",
        WebhookTestSent => "webhook.test_sent",
        WebhookRedelivered => "webhook.redelivered",
        WebhookDisabled => "webhook.disabled",
    }
}

text_enum! {
    /// The protocol of a pending single sign-on request.
    pub enum SsoKind {
        Oidc => "oidc",
        Saml => "saml",
    }
}

text_enum! {
    /// What a pending single sign-on request will do when it comes back.
    pub enum SsoPurpose {
        /// Sign in (or join) with the external identity.
        SignIn => "signin",
        /// Link the external identity to the account already signed in.
        Link => "link",
    }
}

text_enum! {
    /// Which of the two credentials a row names (their ids never collide: both are UUIDs).
    pub enum CredentialKind {
        Pat => "pat",
        ApiKey => "api_key",
    }
}
