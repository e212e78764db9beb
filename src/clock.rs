//! The console's clock. Every decision that depends on the time (has this invitation or token
//! expired?) asks it, so tests move time forward instead of rewriting rows.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use chrono::{NaiveDateTime, SubsecRound, Utc};

#[derive(Debug, Clone, Default)]
pub struct Clock {
    /// Seconds added to the system time; `None` for the real clock, which cannot be moved.
    shift: Option<Arc<AtomicI64>>,
}

impl Clock {
    /// The system's clock.
    pub fn system() -> Self {
        Self { shift: None }
    }

    /// A clock that starts at the system time and can be moved forward (tests, demos).
    pub fn adjustable() -> Self {
        Self {
            shift: Some(Arc::new(AtomicI64::new(0))),
        }
    }

    /// The current time in UTC, to the microsecond (what both databases store).
    pub fn now(&self) -> NaiveDateTime {
        let now = Utc::now().naive_utc().trunc_subsecs(6);
        match &self.shift {
            Some(shift) => now + chrono::Duration::seconds(shift.load(Ordering::Relaxed)),
            None => now,
        }
    }

    /// Moves an adjustable clock forward; false (and no change) for the system clock.
    pub fn advance(&self, by: chrono::Duration) -> bool {
        match &self.shift {
            Some(shift) => {
                shift.fetch_add(by.num_seconds(), Ordering::Relaxed);
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_adjustable_clock_moves() {
        let real = Clock::system();
        assert!(!real.advance(chrono::Duration::days(1)));
        assert!(real.now() < Utc::now().naive_utc() + chrono::Duration::hours(1));

        let test = Clock::adjustable();
        let copy = test.clone();
        assert!(test.advance(chrono::Duration::days(2)));
        let ahead = copy.now() - Utc::now().naive_utc();
        assert!(ahead > chrono::Duration::days(2) - chrono::Duration::minutes(1));
    }
}
