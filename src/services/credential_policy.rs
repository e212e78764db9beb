//! The company's credential policy: how long a personal access token may live, and whether
//! members may create them. Every path that issues a token (the form, regeneration) asks
//! `PatPolicy`, so the rule lives here once.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use diesel::prelude::*;

use crate::db::models::{Company, PersonalAccessToken};
use crate::db::{Db, Tx};
use crate::domain::FieldError;
use crate::error::{AppError, Refusal};
use crate::services::audit::{self, AuditKind};
use crate::services::mail::Mail;
use crate::services::team::{current_actor, denied, event};
use crate::services::Acting;

/// The choices of "Maximum PAT lifetime", in days (besides "no limit").
pub const MAX_LIFETIME_CHOICES: [i32; 5] = [7, 30, 60, 90, 365];

/// The last second of `date`: credentials expire at the end of their day.
pub fn end_of_day(date: NaiveDate) -> NaiveDateTime {
    date.and_time(NaiveTime::from_hms_opt(23, 59, 59).unwrap_or(NaiveTime::MIN))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PatPolicy {
    pub max_lifetime_days: Option<i32>,
    pub members_may_create: bool,
}

impl PatPolicy {
    pub fn of(company: &Company) -> Self {
        Self {
            max_lifetime_days: company.max_pat_lifetime_days,
            members_may_create: company.members_may_create_pats,
        }
    }

    /// The latest expiry a token may have when issued now; None without a limit.
    pub fn latest_expiry(&self, now: NaiveDateTime) -> Option<NaiveDateTime> {
        self.max_lifetime_days
            .map(|days| end_of_day(now.date() + chrono::Duration::days(i64::from(days))))
    }

    /// Refuses an expiry (None: never) the policy does not allow, beside `expires_at`.
    pub fn check(
        &self,
        expires_at: Option<NaiveDateTime>,
        now: NaiveDateTime,
    ) -> Result<(), Refusal> {
        let (Some(latest), Some(days)) = (self.latest_expiry(now), self.max_lifetime_days) else {
            return Ok(());
        };
        match expires_at {
            None => Err(Refusal::field(
                "expires_at",
                format!("Your company's tokens expire within {days} days: choose an expiry date."),
            )),
            Some(at) if at > latest => Err(Refusal::field(
                "expires_at",
                format!(
                    "Your company allows tokens of at most {days} days: choose {} or earlier.",
                    latest.date()
                ),
            )),
            Some(_) => Ok(()),
        }
    }

    /// `wanted` shortened to what the policy allows (a token without expiry gets the limit).
    pub fn cap(&self, wanted: Option<NaiveDateTime>, now: NaiveDateTime) -> Option<NaiveDateTime> {
        match (self.latest_expiry(now), wanted) {
            (None, wanted) => wanted,
            (Some(latest), None) => Some(latest),
            (Some(latest), Some(wanted)) => Some(wanted.min(latest)),
        }
    }
}

/// The form's "Maximum PAT lifetime": "" or "none" for no limit, else one of the choices.
pub fn parse_max_lifetime(raw: &str) -> Result<Option<i32>, FieldError> {
    match raw.trim() {
        "" | "none" => Ok(None),
        days => days
            .parse::<i32>()
            .ok()
            .filter(|d| MAX_LIFETIME_CHOICES.contains(d))
            .map(Some)
            .ok_or_else(|| {
                FieldError::new(
                    "max_pat_lifetime_days",
                    "Choose no limit, 7, 30, 60, 90 or 365 days.",
                )
            }),
    }
}

/// A token the new limit shortened, for the mail to its owner.
#[derive(Debug, Clone)]
pub struct Shortened {
    pub to: String,
    pub name: String,
    pub prefix: String,
    pub expires_at: NaiveDateTime,
}

/// What saving the policy changed.
#[derive(Debug, Clone)]
pub struct PolicySaved {
    pub shortened: Vec<Shortened>,
    /// Working tokens of members (role member) now: they keep working when creation is off.
    pub active_member_tokens: i64,
}

/// Owners: saves the policy. A limit shortens every working token that outlives it (or never
/// expires) to the limit from today, in the same transaction.
pub async fn save(db: &Db, by: Acting, policy: PatPolicy) -> Result<PolicySaved, AppError> {
    db.transaction(move |tx| save_in(tx, &by, policy)).await
}

fn save_in(tx: &mut Tx<'_>, by: &Acting, policy: PatPolicy) -> Result<PolicySaved, AppError> {
    use crate::db::schema::companies;
    let owner = current_actor(tx, &by.user)?;
    crate::authz::authorize(
        crate::authz::Actor::Member(&owner),
        crate::authz::Action::ManageCredentialPolicy,
    )
    .map_err(denied)?;
    let before = PatPolicy::of(&Company::find(tx, &owner.company_id)?);
    diesel::update(companies::table.find(&owner.company_id))
        .set((
            companies::max_pat_lifetime_days.eq(policy.max_lifetime_days),
            companies::members_may_create_pats.eq(policy.members_may_create),
        ))
        .execute(&mut **tx)?;
    let mut shortened = Vec::new();
    if let Some(limit) = policy.latest_expiry(by.now) {
        let outliving = PersonalAccessToken::outliving(tx, &owner.company_id, limit, by.now)?;
        let ids: Vec<_> = outliving.iter().map(|(t, _)| t.id.clone()).collect();
        PersonalAccessToken::set_expiry(tx, &ids, limit)?;
        shortened = outliving
            .into_iter()
            .map(|(t, user)| Shortened {
                to: user.email,
                name: t.name,
                prefix: t.prefix,
                expires_at: limit,
            })
            .collect();
    }
    let lifetime = |p: &PatPolicy| {
        p.max_lifetime_days
            .map_or_else(|| "no limit".to_owned(), |d| format!("{d} days"))
    };
    audit::record(
        tx,
        &by.origin,
        event(AuditKind::CredentialPolicyChanged, &owner).detail(format!(
            "max PAT lifetime: {} → {}; members may create PATs: {} → {}; {} token(s) shortened",
            lifetime(&before),
            lifetime(&policy),
            before.members_may_create,
            policy.members_may_create,
            shortened.len()
        )),
    )?;
    let active_member_tokens =
        PersonalAccessToken::count_active_of_members(tx, &owner.company_id, by.now)?;
    Ok(PolicySaved {
        shortened,
        active_member_tokens,
    })
}

/// Tells a token's owner that the company's limit shortened it. Never the secret.
pub fn shortened_mail(public_url: &str, s: &Shortened) -> Mail {
    Mail {
        to: s.to.clone(),
        subject: format!(
            "Your personal access token \u{201c}{}\u{201d} now expires on {}",
            s.name,
            s.expires_at.date()
        ),
        body: format!(
            "Your company's owner set a maximum lifetime for personal access tokens.\n\n\
             Your token \u{201c}{}\u{201d} ({}) now expires on {} at {} UTC.\n\n\
             Before then, regenerate it and update whatever uses it:\n{}{}\n",
            s.name,
            s.prefix,
            s.expires_at.date(),
            s.expires_at.time().format("%H:%M"),
            public_url,
            crate::paths::API_TOKENS
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap_or_default()
    }

    #[test]
    fn a_limit_refuses_longer_and_endless_tokens_and_caps_them() {
        let now = at("2026-12-01 10:00:00");
        let policy = PatPolicy {
            max_lifetime_days: Some(30),
            members_may_create: true,
        };
        assert_eq!(policy.latest_expiry(now), Some(at("2026-12-31 23:59:59")));
        assert!(policy.check(None, now).is_err());
        assert!(policy.check(Some(at("2026-12-31 23:59:59")), now).is_ok());
        assert!(policy.check(Some(at("2027-01-01 23:59:59")), now).is_err());
        assert_eq!(policy.cap(None, now), Some(at("2026-12-31 23:59:59")));
        assert_eq!(
            policy.cap(Some(at("2026-12-08 23:59:59")), now),
            Some(at("2026-12-08 23:59:59"))
        );
        let open = PatPolicy {
            max_lifetime_days: None,
            members_may_create: true,
        };
        assert!(open.check(None, now).is_ok());
        assert_eq!(open.cap(None, now), None);
    }

    #[test]
    fn only_the_offered_lifetimes_parse() {
        assert_eq!(parse_max_lifetime(""), Ok(None));
        assert_eq!(parse_max_lifetime("none"), Ok(None));
        assert_eq!(parse_max_lifetime("30"), Ok(Some(30)));
        assert!(parse_max_lifetime("31").is_err());
        assert!(parse_max_lifetime("-7").is_err());
    }
}
