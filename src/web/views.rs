//! Small view models and formatting shared by pages.

use chrono::NaiveDateTime;

use crate::domain::Expiry;

/// One credential in a list: a PAT or a Platform API Key.
#[derive(Debug, Clone)]
pub struct CredentialRow {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub created_by: String,
    pub created: When,
    /// `None`: never expires (the macro says "never").
    pub expires: Option<When>,
    pub last_used: Option<When>,
    pub last_used_ip: String,
    pub status: &'static str,
    /// Regeneration: the successor's prefix and when this one stops at the latest, and the
    /// predecessor's prefix.
    pub replaced_by: Option<String>,
    pub works_until: Option<String>,
    pub replaces: Option<String>,
    /// What the expiry badge says, seen now.
    pub expiry: Expiry,
    pub expires_at: Option<NaiveDateTime>,
    /// The credential's detail page.
    pub detail_href: String,
    /// The owner's own words about it ("rotated by the CRM team"), empty when none.
    pub note: String,
}

impl CredentialRow {
    /// Neither revoked nor replaced: the expiry badge and the revoke control apply.
    pub fn is_live(&self) -> bool {
        self.status != "revoked" && self.status != "replaced"
    }
}

/// One preset of the expiry field, with the date it leads to ("30 days — until 1 Jan 2027"),
/// computed on the server so the page says it without JavaScript.
#[derive(Debug, Clone)]
pub struct ExpiryChoice {
    pub value: &'static str,
    pub label: String,
}

impl ExpiryChoice {
    /// `presets` are `(value, label)`: a number of days, "none" or "custom".
    pub fn list(presets: &[(&'static str, &'static str)], now: NaiveDateTime) -> Vec<Self> {
        presets
            .iter()
            .map(|&(value, label)| {
                let label = match value.parse::<i64>() {
                    Ok(days) => format!(
                        "{label} \u{2014} until {}",
                        (now.date() + chrono::Duration::days(days)).format("%-d %b %Y")
                    ),
                    Err(_) => label.to_owned(),
                };
                Self { value, label }
            })
            .collect()
    }
}

/// A credential list as the pages show it: the working ones (deactivated API keys included:
/// they are paused, not ended, and can be activated again) soonest expiry first and those
/// without expiry last; expired and revoked ones apart, for the collapsed "Inactive" section.
pub struct CredentialLists {
    pub active: Vec<CredentialRow>,
    pub inactive: Vec<CredentialRow>,
}

impl CredentialLists {
    pub fn split(rows: Vec<CredentialRow>) -> Self {
        let (mut active, inactive): (Vec<_>, Vec<_>) = rows
            .into_iter()
            .partition(|r| matches!(r.status, "active" | "deactivated"));
        // Stable: equal expiries keep the newest-first order they were loaded in.
        active.sort_by_key(|r| (r.expires_at.is_none(), r.expires_at));
        Self { active, inactive }
    }

    pub fn is_empty(&self) -> bool {
        self.active.is_empty() && self.inactive.is_empty()
    }

    pub fn active_count(&self) -> usize {
        self.active.iter().filter(|r| r.status == "active").count()
    }
}

/// A moment as a page shows it: in words relative to now ("in 3 days", "2 hours ago", or the
/// date when it is more than a month away), with the exact UTC time for the `<time>` element's
/// `datetime` and `title`. Render it with `m::when` from `partials/macros.html`, which also gives
/// the one wording for a moment that never was ("never").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct When {
    /// `2026-12-01T09:30:00Z`: the `datetime` attribute.
    pub iso: String,
    /// `2026-12-01 09:30 UTC`: the tooltip, and what copy-and-paste users want.
    pub exact: String,
    /// `in 3 days`, `2 hours ago`, `just now`, `on 14 Mar 2027`.
    pub words: String,
}

impl When {
    pub fn at(t: NaiveDateTime, now: NaiveDateTime) -> Self {
        Self {
            iso: t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            exact: t.format("%Y-%m-%d %H:%M UTC").to_string(),
            words: relative_words(t, now),
        }
    }

    /// `None` stays `None`: the macro says "never".
    pub fn of(t: Option<NaiveDateTime>, now: NaiveDateTime) -> Option<Self> {
        t.map(|t| Self::at(t, now))
    }
}

/// "in 5 minutes" / "5 minutes ago" up to 30 days either way; further away, the date itself.
fn relative_words(t: NaiveDateTime, now: NaiveDateTime) -> String {
    let secs = (t - now).num_seconds();
    let span = secs.unsigned_abs();
    let (n, unit) = match span {
        0..=59 => return "just now".into(),
        60..=3599 => (span / 60, "minute"),
        3600..=86_399 => (span / 3600, "hour"),
        86_400..=2_591_999 => (span / 86_400, "day"),
        _ => return format!("on {}", t.format("%-d %b %Y")),
    };
    let amount = format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    if secs > 0 {
        format!("in {amount}")
    } else {
        format!("{amount} ago")
    }
}

pub fn fmt_time(t: Option<NaiveDateTime>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| "never".into())
}

/// How long ago `then` was, in words: "just now", "5 minutes ago", "2 hours ago", "3 days ago".
pub fn fmt_ago(then: NaiveDateTime, now: NaiveDateTime) -> String {
    let secs = (now - then).num_seconds().max(0);
    let (n, unit) = match secs {
        0..=59 => return "just now".into(),
        60..=3599 => (secs / 60, "minute"),
        3600..=86_399 => (secs / 3600, "hour"),
        _ => (secs / 86_400, "day"),
    };
    format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" })
}

pub fn fmt_date(t: Option<NaiveDateTime>) -> String {
    t.map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| "never".into())
}

/// Which saved state a form was made from, sent back in a hidden field: a timestamp that moves
/// on with every change of that state (`updated_at`, an invitation's `expires_at`), or empty
/// for "nothing saved yet". A change is applied only over that same state, so a second click,
/// a second tab or a colleague's change meanwhile is a conflict, never a silent second change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Version(pub Option<NaiveDateTime>);

impl Version {
    /// Microseconds: what both databases keep of a timestamp (`models::now` rounds to them).
    const FORMAT: &'static str = "%Y-%m-%dT%H:%M:%S%.6f";

    pub fn parse(raw: &str) -> Result<Self, crate::error::AppError> {
        if raw.is_empty() {
            return Ok(Self(None));
        }
        NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S%.f")
            .map(|at| Self(Some(at)))
            .map_err(|_| {
                crate::error::AppError::BadRequest(
                    "The form is out of date. Reload the page and try again.".into(),
                )
            })
    }

    /// The timestamp for the state that replaces this one: now, but always later than it.
    pub fn next(&self) -> NaiveDateTime {
        let at = crate::db::models::now();
        match self.0 {
            Some(before) if at <= before => before + chrono::Duration::microseconds(1),
            _ => at,
        }
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(at) => write!(f, "{}", at.format(Self::FORMAT)),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_moment_reads_as_words_with_the_exact_time_beside_it() {
        let now = chrono::NaiveDate::from_ymd_opt(2026, 12, 1)
            .unwrap()
            .and_hms_opt(9, 30, 0)
            .unwrap();
        let words = |d: chrono::Duration| When::at(now + d, now).words;
        assert_eq!(words(chrono::Duration::seconds(20)), "just now");
        assert_eq!(words(chrono::Duration::minutes(-1)), "1 minute ago");
        assert_eq!(words(chrono::Duration::hours(2)), "in 2 hours");
        assert_eq!(words(chrono::Duration::days(-3)), "3 days ago");
        assert_eq!(words(chrono::Duration::days(3)), "in 3 days");
        assert_eq!(words(chrono::Duration::days(103)), "on 14 Mar 2027");
        let w = When::at(now, now);
        assert_eq!(w.iso, "2026-12-01T09:30:00Z");
        assert_eq!(w.exact, "2026-12-01 09:30 UTC");
        assert_eq!(When::of(None, now), None);
    }

    #[test]
    fn a_version_survives_the_round_trip_through_a_form() {
        let at = crate::db::models::now();
        let v = Version(Some(at));
        assert_eq!(Version::parse(&v.to_string()).ok(), Some(v));
        assert_eq!(Version::parse("").ok(), Some(Version(None)));
        assert_eq!(Version(None).to_string(), "");
        assert!(Version::parse("yesterday").is_err());
    }

    #[test]
    fn the_next_version_is_always_later() {
        let future = crate::db::models::now() + chrono::Duration::hours(1);
        assert!(Version(Some(future)).next() > future);
        let past = crate::db::models::now() - chrono::Duration::hours(1);
        assert!(Version(Some(past)).next() > past);
    }
}
