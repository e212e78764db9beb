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
        PatUpdated => "pat.updated",
        ApiKeyUpdated => "api_key.updated",
    }
}

impl AuditKind {
    /// Whether an event of this kind can change what a PAT or API key resolves to (revoked,
    /// expiry, the user's status, role, profile or company): the credential cache is then
    /// invalidated everywhere (`auth::credential_cache`). Exhaustive on purpose: a new kind
    /// must be classified. Only plainly harmless ones are `false`; when unsure, `true` costs
    /// a few lookups.
    pub fn affects_principals(self) -> bool {
        match self {
            Self::SignInSucceeded
            | Self::SignInFailed
            | Self::SignedOut
            | Self::SignedUp
            | Self::RateLimited
            | Self::PatCreated
            | Self::ApiKeyCreated
            | Self::InvitationSent
            | Self::InvitationResent
            | Self::InvitationRevoked
            | Self::SignInBreakGlass
            | Self::IdentityLinked
            | Self::IdentityUnlinked
            | Self::TwoFactorEnrolmentStarted
            | Self::TwoFactorEnabled
            | Self::TwoFactorDisabled
            | Self::TwoFactorSucceeded
            | Self::TwoFactorFailed
            | Self::TwoFactorRecoveryCodeUsed
            | Self::SessionEnded
            | Self::PasswordResetRequested
            | Self::DomainVerified
            | Self::CredentialUsedAfterRotation
            | Self::ScimSecretGenerated
            | Self::ScimSecretRevoked
            | Self::UserExported
            | Self::WebhookCreated
            | Self::WebhookUpdated
            | Self::WebhookDeleted
            | Self::WebhookSecretRotated
            | Self::WebhookTestSent
            | Self::WebhookRedelivered
            | Self::WebhookDisabled => false,
            Self::PatRevoked
            | Self::ApiKeyDeactivated
            | Self::ApiKeyActivated
            | Self::ApiKeyRevoked
            | Self::UserCreated
            | Self::UserUpdated
            | Self::MemberOffboarded
            | Self::SessionsEnded
            | Self::RoleChanged
            | Self::OwnershipTransferred
            | Self::InvitationAccepted
            | Self::SettingsChanged
            | Self::SsoConfigChanged
            | Self::ProfileUpdated
            | Self::PasswordReset
            | Self::PasswordChanged
            | Self::EmailVerified
            | Self::EmailChanged
            | Self::PatRegenerated
            | Self::ApiKeyRegenerated
            | Self::CredentialReportedLeaked
            | Self::CredentialPolicyChanged
            | Self::PatRevokedByAdmin
            | Self::ScimSettingsChanged
            | Self::UserReactivated
            // A new name or note resolves to the same principal, but a cached one carries the name.
            | Self::PatUpdated
            | Self::ApiKeyUpdated => true,
        }
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
