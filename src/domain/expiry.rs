//! How close a credential is to its expiry, as every list, the dashboard and the inventory
//! show it: one rule for the days left and the warning level, so no two pages disagree.

use std::fmt;

use chrono::NaiveDateTime;

/// From how many days left a credential is shown with a warning (amber).
pub const WARN_DAYS: i64 = 14;
/// From how many days left the warning is urgent (red).
pub const URGENT_DAYS: i64 = 3;

/// A credential's expiry seen at one moment. Days count calendar days (UTC): a credential
/// expiring at the end of tomorrow has 1 day left, one expiring later today has 0 ("today").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    Never,
    In { days: i64 },
    Expired,
}

/// How loudly a badge speaks: the colour follows it, and the text always says the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ExpiryLevel {
    Neutral,
    Warning,
    Urgent,
    Expired,
}

impl ExpiryLevel {
    /// The CSS class suffix and the `data-level` of a badge.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Neutral => "neutral",
            Self::Warning => "warning",
            Self::Urgent => "urgent",
            Self::Expired => "expired",
        }
    }
}

impl Expiry {
    pub fn of(expires_at: Option<NaiveDateTime>, now: NaiveDateTime) -> Self {
        match expires_at {
            None => Self::Never,
            Some(at) if at <= now => Self::Expired,
            Some(at) => Self::In {
                days: (at.date() - now.date()).num_days().max(0),
            },
        }
    }

    /// Days left, when the credential still has some (today counts as 0).
    pub fn days_left(self) -> Option<i64> {
        match self {
            Self::In { days } => Some(days),
            _ => None,
        }
    }

    pub fn level(self) -> ExpiryLevel {
        match self {
            Self::Never => ExpiryLevel::Neutral,
            Self::Expired => ExpiryLevel::Expired,
            Self::In { days } if days <= URGENT_DAYS => ExpiryLevel::Urgent,
            Self::In { days } if days <= WARN_DAYS => ExpiryLevel::Warning,
            Self::In { .. } => ExpiryLevel::Neutral,
        }
    }

    /// True when the badge warns (amber or red): what the dashboard lists.
    pub fn is_soon(self) -> bool {
        matches!(self.level(), ExpiryLevel::Warning | ExpiryLevel::Urgent)
    }
}

impl fmt::Display for Expiry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Never => f.write_str("no expiry"),
            Self::Expired => f.write_str("expired"),
            Self::In { days: 0 } => f.write_str("expires today"),
            Self::In { days: 1 } => f.write_str("expires tomorrow"),
            Self::In { days } => write!(f, "expires in {days} days"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(day: u32, h: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 12, day)
            .and_then(|d| d.and_hms_opt(h, 0, 0))
            .unwrap_or_default()
    }

    #[test]
    fn no_expiry_is_neutral() {
        let e = Expiry::of(None, at(1, 12));
        assert_eq!(e, Expiry::Never);
        assert_eq!(e.level(), ExpiryLevel::Neutral);
        assert_eq!(e.to_string(), "no expiry");
        assert!(!e.is_soon());
    }

    #[test]
    fn days_are_calendar_days() {
        // Expiring at the end of the 11th, seen at noon on the 1st: 10 days.
        let end_of = |d| at(d, 23);
        assert_eq!(
            Expiry::of(Some(end_of(11)), at(1, 12)).days_left(),
            Some(10)
        );
        assert_eq!(
            Expiry::of(Some(end_of(1)), at(1, 12)).to_string(),
            "expires today"
        );
        assert_eq!(
            Expiry::of(Some(end_of(2)), at(1, 12)).to_string(),
            "expires tomorrow"
        );
        assert_eq!(
            Expiry::of(Some(end_of(5)), at(1, 12)).to_string(),
            "expires in 4 days"
        );
    }

    #[test]
    fn levels_follow_the_thresholds() {
        let now = at(1, 0);
        let level = |days: i64| Expiry::of(Some(now + chrono::Duration::days(days)), now).level();
        assert_eq!(level(30), ExpiryLevel::Neutral);
        assert_eq!(level(15), ExpiryLevel::Neutral);
        assert_eq!(level(14), ExpiryLevel::Warning);
        assert_eq!(level(10), ExpiryLevel::Warning);
        assert_eq!(level(4), ExpiryLevel::Warning);
        assert_eq!(level(3), ExpiryLevel::Urgent);
        assert_eq!(level(2), ExpiryLevel::Urgent);
        assert!(Expiry::of(Some(now + chrono::Duration::days(2)), now).is_soon());
    }

    #[test]
    fn the_expiry_moment_itself_is_expired() {
        let now = at(3, 12);
        assert_eq!(Expiry::of(Some(now), now), Expiry::Expired);
        assert_eq!(Expiry::of(Some(at(2, 23)), now).to_string(), "expired");
        assert_eq!(Expiry::Expired.level(), ExpiryLevel::Expired);
        assert!(!Expiry::Expired.is_soon());
    }
}
