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
    /// The event in words, as the audit log shows it (filters and the CSV keep `as_str`).
    /// Exhaustive, so a new kind cannot reach the log without a name.
    pub fn label(self) -> &'static str {
        match self {
            Self::SignInSucceeded => "Signed in",
            Self::SignInFailed => "Failed sign-in",
            Self::SignedOut => "Signed out",
            Self::SignedUp => "Signed up",
            Self::RateLimited => "Too many attempts",
            Self::PatCreated => "Token created",
            Self::PatRevoked => "Token revoked",
            Self::PatUpdated => "Token renamed or noted",
            Self::ApiKeyCreated => "API key created",
            Self::ApiKeyDeactivated => "API key deactivated",
            Self::ApiKeyActivated => "API key activated",
            Self::ApiKeyRevoked => "API key revoked",
            Self::ApiKeyUpdated => "API key renamed or noted",
            Self::UserCreated => "Member created",
            Self::UserUpdated => "Member updated",
            Self::MemberOffboarded => "Member offboarded",
            Self::SessionsEnded => "Signed out everywhere",
            Self::RoleChanged => "Role changed",
            Self::OwnershipTransferred => "Ownership transferred",
            Self::InvitationSent => "Invitation sent",
            Self::InvitationResent => "Invitation sent again",
            Self::InvitationAccepted => "Invitation accepted",
            Self::InvitationRevoked => "Invitation revoked",
            Self::SettingsChanged => "Company settings changed",
            Self::SignInBreakGlass => "Emergency sign-in (SSO bypassed)",
            Self::IdentityLinked => "SSO identity linked",
            Self::IdentityUnlinked => "SSO identity unlinked",
            Self::SsoConfigChanged => "SSO settings changed",
            Self::TwoFactorEnrolmentStarted => "Two-factor setup started",
            Self::TwoFactorEnabled => "Two-factor turned on",
            Self::TwoFactorDisabled => "Two-factor turned off",
            Self::TwoFactorSucceeded => "Two-factor code accepted",
            Self::TwoFactorFailed => "Wrong two-factor code",
            Self::TwoFactorRecoveryCodeUsed => "Recovery code used",
            Self::SessionEnded => "Session ended",
            Self::ProfileUpdated => "Profile updated",
            Self::PasswordResetRequested => "Password reset requested",
            Self::PasswordReset => "Password reset",
            Self::PasswordChanged => "Password changed",
            Self::EmailVerified => "Email address confirmed",
            Self::EmailChanged => "Email address changed",
            Self::DomainVerified => "Domain verified",
            Self::PatRegenerated => "Token regenerated",
            Self::ApiKeyRegenerated => "API key regenerated",
            Self::CredentialUsedAfterRotation => "Replaced credential used",
            Self::CredentialReportedLeaked => "Credential reported leaked",
            Self::CredentialPolicyChanged => "Credential policy changed",
            Self::PatRevokedByAdmin => "Token revoked by an admin",
            Self::ScimSettingsChanged => "Provisioning settings changed",
            Self::ScimSecretGenerated => "Provisioning secret created",
            Self::ScimSecretRevoked => "Provisioning secret revoked",
            Self::UserReactivated => "Member reactivated",
            Self::UserExported => "Personal data exported",
            Self::WebhookCreated => "Webhook created",
            Self::WebhookUpdated => "Webhook changed",
            Self::WebhookDeleted => "Webhook deleted",
            Self::WebhookSecretRotated => "Webhook secret replaced",
            Self::WebhookTestSent => "Webhook test sent",
            Self::WebhookRedelivered => "Webhook delivery repeated",
            Self::WebhookDisabled => "Webhook turned off",
        }
    }

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

#[cfg(test)]
mod tests {
    use super::AuditKind;

    #[test]
    fn every_audit_kind_has_its_own_name_in_words() {
        let mut seen = std::collections::HashSet::new();
        for kind in AuditKind::ALL {
            let label = kind.label();
            assert!(seen.insert(label), "{label} named twice");
            assert!(!label.contains('.') && !label.contains('_'), "{label}");
            assert!(label.starts_with(char::is_uppercase), "{label}");
        }
        assert_eq!(AuditKind::SignInFailed.label(), "Failed sign-in");
    }
}
