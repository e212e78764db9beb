//! What a provider says about the person: email, whether it verified that email, and name.
//!
//! Many providers (oidc-provider's defaults, Okta when it also issues an access token) put these
//! only in the userinfo response and leave the ID token with little more than `sub`. The ID token
//! is read first; userinfo is asked only for what it lacks, and only about the same `sub`.

use openidconnect::core::{CoreIdTokenClaims, CoreUserInfoClaims};
use openidconnect::{
    AccessToken, ClaimsVerificationError, EndUserEmail, EndUserName, LocalizedClaim,
    SubjectIdentifier, UserInfoError,
};

use super::{describe_request_error, DiscoveredClient, OidcError};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Person {
    /// Lowercased.
    pub email: Option<String>,
    /// `None` when the provider did not say.
    pub email_verified: Option<bool>,
    pub name: Option<String>,
}

impl Person {
    /// The ID token's claims; `microsoft_verified` is Microsoft's `xms_edov` (it sends no
    /// `email_verified`): either claim saying "verified" is enough.
    pub fn from_id_token(claims: &CoreIdTokenClaims, microsoft_verified: Option<bool>) -> Self {
        let email_verified = match (claims.email_verified(), microsoft_verified) {
            (Some(true), _) | (_, Some(true)) => Some(true),
            (said, microsoft) => said.or(microsoft),
        };
        Self {
            email: email_of(claims.email()),
            email_verified,
            name: name_of(claims.name()),
        }
    }

    fn from_userinfo(claims: &CoreUserInfoClaims) -> Self {
        Self {
            email: email_of(claims.email()),
            email_verified: claims.email_verified(),
            name: name_of(claims.name()),
        }
    }

    /// Whether the console still lacks the email or the word on its verification.
    pub fn lacks_email(&self) -> bool {
        self.email.is_none() || self.email_verified.is_none()
    }

    /// These claims, with what they lack taken from `userinfo`. What the ID token says always
    /// wins; userinfo's `email_verified` counts only for the very email that is used.
    pub fn completed_by(self, userinfo: Person) -> Self {
        let email = self.email.or(userinfo.email.clone());
        let email_verified = self.email_verified.or_else(|| {
            if email.is_some() && userinfo.email == email {
                userinfo.email_verified
            } else {
                None
            }
        });
        Self {
            email,
            email_verified,
            name: self.name.or(userinfo.name),
        }
    }
}

fn email_of(email: Option<&EndUserEmail>) -> Option<String> {
    email.map(|e| e.as_str().to_lowercase())
}

fn name_of(name: Option<&LocalizedClaim<EndUserName>>) -> Option<String> {
    name.and_then(|n| n.get(None))
        .map(|n| n.as_str().to_owned())
}

/// Asks the provider's userinfo endpoint about the person the ID token named (`subject`); an
/// answer about anybody else is refused. `require_issuer_match` applies to signed answers.
pub async fn from_userinfo(
    client: &DiscoveredClient,
    http: &openidconnect::reqwest::Client,
    access_token: AccessToken,
    subject: SubjectIdentifier,
    require_issuer_match: bool,
) -> Result<Person, OidcError> {
    let request = client
        .user_info(access_token, Some(subject))
        .map_err(|e| OidcError::UserInfo(e.to_string()))?
        .require_issuer_match(require_issuer_match);
    // The crate compares the answer's `sub` with `subject` (JSON and signed answers alike).
    let claims: CoreUserInfoClaims = request.request_async(http).await.map_err(|e| match &e {
        UserInfoError::ClaimsVerification(ClaimsVerificationError::InvalidSubject(detail)) => {
            OidcError::UserInfo(format!("its sub is not the ID token's sub: {detail}"))
        }
        _ => OidcError::UserInfo(describe_request_error(&e)),
    })?;
    Ok(Person::from_userinfo(&claims))
}

#[cfg(test)]
mod tests {
    use super::Person;

    fn person(email: Option<&str>, verified: Option<bool>, name: Option<&str>) -> Person {
        Person {
            email: email.map(str::to_owned),
            email_verified: verified,
            name: name.map(str::to_owned),
        }
    }

    #[test]
    fn userinfo_fills_only_what_the_id_token_lacks() {
        let id_token = person(None, None, None);
        let userinfo = person(Some("a@example.com"), Some(true), Some("A"));
        assert_eq!(id_token.completed_by(userinfo.clone()), userinfo);

        let id_token = person(Some("a@example.com"), Some(false), Some("From token"));
        let userinfo = person(Some("a@example.com"), Some(true), Some("From userinfo"));
        assert_eq!(
            id_token.clone().completed_by(userinfo),
            id_token,
            "the ID token wins where it speaks"
        );
    }

    #[test]
    fn userinfo_verifies_only_the_email_that_is_used() {
        let id_token = person(Some("a@example.com"), None, None);
        let same = person(Some("a@example.com"), Some(true), None);
        assert_eq!(
            id_token.clone().completed_by(same).email_verified,
            Some(true)
        );
        let other = person(Some("b@example.com"), Some(true), None);
        let done = id_token.completed_by(other);
        assert_eq!(done.email.as_deref(), Some("a@example.com"));
        assert_eq!(
            done.email_verified, None,
            "b's verification says nothing about a"
        );
        assert!(person(None, Some(true), None)
            .completed_by(person(None, Some(true), None))
            .lacks_email());
    }
}
