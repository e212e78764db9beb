//! Per-credential API usage, counted in memory and written in batches.
//!
//! The API hot path must not pay for it: `principal` leaves the credential's [`Meter`] in the
//! request's extensions (held by the credential cache's entry, so a cached request looks
//! nothing up), and the `/v4` middleware (`api::usage`) adds one to its tally under a short
//! lock once the response is known. No query runs per request. `flush` takes every tally and
//! adds the counts to the database in one transaction (every `USAGE_FLUSH_SECS`, and when the
//! server stops), so several instances sum up in one database.
//! A failed flush puts its counts back to be written next time.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use actix_web::http::StatusCode;
use chrono::{Datelike, NaiveDate, NaiveDateTime};

use crate::db::{models, Db, Tx};
use crate::error::AppError;

/// Daily counts are kept this long (and addresses not seen for this long are forgotten).
pub const RETENTION_DAYS: i64 = 90;

/// How a request ended, as the usage chart groups it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    Success,
    ClientError,
    RateLimited,
    ServerError,
}

impl Outcome {
    pub const ALL: [Outcome; 4] = [
        Self::Success,
        Self::ClientError,
        Self::RateLimited,
        Self::ServerError,
    ];

    pub fn of(status: StatusCode) -> Self {
        match status.as_u16() {
            429 => Self::RateLimited,
            500.. => Self::ServerError,
            400..=499 => Self::ClientError,
            _ => Self::Success,
        }
    }

    /// What the database stores and the pages show.
    pub fn label(self) -> &'static str {
        match self {
            Self::Success => "2xx",
            Self::ClientError => "4xx",
            Self::RateLimited => "429",
            Self::ServerError => "5xx",
        }
    }

    pub fn from_label(label: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.label() == label)
    }

    fn index(self) -> usize {
        match self {
            Self::Success => 0,
            Self::ClientError => 1,
            Self::RateLimited => 2,
            Self::ServerError => 3,
        }
    }
}

/// Left in a `/v4` request's extensions by `principal` once it knows which valid credential
/// the request came with (also when it then refuses it, for example with 429).
#[derive(Debug, Clone)]
pub struct IdentifiedCredential {
    pub meter: Arc<Meter>,
    pub ip: Option<IpAddr>,
    pub at: NaiveDateTime,
}

/// One credential's requests since the last flush.
#[derive(Debug, Default, Clone)]
struct Tally {
    /// Per UTC day: requests by `Outcome::index`. Rarely more than one day between flushes.
    days: Vec<(NaiveDate, [u32; 4])>,
    /// First and last time each address used it (`settle` first: see `latest`).
    ips: HashMap<IpAddr, (NaiveDateTime, NaiveDateTime)>,
    /// The address seen last, with its times, kept apart until another comes: a credential is
    /// mostly used from one address, and then a request updates it without hashing.
    latest: Option<(IpAddr, NaiveDateTime, NaiveDateTime)>,
}

impl Tally {
    fn add(&mut self, day: NaiveDate, outcome: Outcome, n: u32) {
        let counts = match self.days.iter_mut().find(|(d, _)| *d == day) {
            Some((_, counts)) => counts,
            None => {
                self.days.push((day, [0; 4]));
                match self.days.last_mut() {
                    Some((_, counts)) => counts,
                    None => return,
                }
            }
        };
        if let Some(c) = counts.get_mut(outcome.index()) {
            *c = c.saturating_add(n);
        }
    }

    fn seen(&mut self, ip: IpAddr, first: NaiveDateTime, last: NaiveDateTime) {
        if let Some((latest, f, l)) = &mut self.latest {
            if *latest == ip {
                *f = (*f).min(first);
                *l = (*l).max(last);
                return;
            }
        }
        if let Some((ip, first, last)) = self.latest.replace((ip, first, last)) {
            self.remember(ip, first, last);
        }
    }

    fn remember(&mut self, ip: IpAddr, first: NaiveDateTime, last: NaiveDateTime) {
        self.ips
            .entry(ip)
            .and_modify(|(f, l)| {
                *f = (*f).min(first);
                *l = (*l).max(last);
            })
            .or_insert((first, last));
    }

    fn is_empty(&self) -> bool {
        self.days.is_empty() && self.ips.is_empty() && self.latest.is_none()
    }

    /// Every address in `ips`, the latest included.
    fn settle(&mut self) {
        if let Some((ip, first, last)) = self.latest.take() {
            self.remember(ip, first, last);
        }
    }

    /// Adds `other`'s counts and addresses to these.
    fn absorb(&mut self, mut other: Tally) {
        other.settle();
        for (day, counts) in other.days {
            for outcome in Outcome::ALL {
                if let Some(&n) = counts.get(outcome.index()) {
                    if n > 0 {
                        self.add(day, outcome, n);
                    }
                }
            }
        }
        for (ip, (first, last)) in other.ips {
            self.seen(ip, first, last);
        }
    }
}

/// One credential's requests since the last flush. Whoever holds it (the credential cache's
/// entry, a request in flight) counts without looking the credential up: a cached API request
/// locks only its own credential's tally.
#[derive(Debug)]
pub struct Meter {
    credential: String,
    tally: Mutex<Tally>,
}

impl Meter {
    /// The credential's id (the API limit is counted under it too).
    pub fn credential(&self) -> &str {
        &self.credential
    }

    fn tally(&self) -> MutexGuard<'_, Tally> {
        self.tally.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The in-memory counters of one instance (one per `AppState`): a meter per credential used
/// since the last flush, or still held by someone.
#[derive(Debug, Default)]
pub struct UsageRecorder {
    meters: Mutex<HashMap<String, Arc<Meter>>>,
    /// The day (days since the epoch) old rows were last purged on.
    purged_on: AtomicI64,
}

impl UsageRecorder {
    fn meters(&self) -> MutexGuard<'_, HashMap<String, Arc<Meter>>> {
        self.meters.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The meter `credential`'s requests are counted in: one per credential, so counts never
    /// split between two.
    pub fn meter(&self, credential: &str) -> Arc<Meter> {
        let mut meters = self.meters();
        if let Some(meter) = meters.get(credential) {
            return Arc::clone(meter);
        }
        let meter = Arc::new(Meter {
            credential: credential.to_owned(),
            tally: Mutex::default(),
        });
        meters.insert(credential.to_owned(), Arc::clone(&meter));
        meter
    }

    /// Counts one request of `mark`'s credential that ended with `status`.
    pub fn record(&self, mark: IdentifiedCredential, status: StatusCode) {
        let outcome = Outcome::of(status);
        let mut tally = mark.meter.tally();
        tally.add(mark.at.date(), outcome, 1);
        if let Some(ip) = mark.ip {
            tally.seen(ip, mark.at, mark.at);
        }
    }

    /// Requests counted and not yet written (for tests and diagnostics).
    pub fn pending_requests(&self) -> u64 {
        self.meters()
            .values()
            .map(|meter| {
                meter
                    .tally()
                    .days
                    .iter()
                    .flat_map(|(_, counts)| counts.iter())
                    .map(|&n| u64::from(n))
                    .sum::<u64>()
            })
            .sum()
    }

    /// Everything counted so far. A meter nobody else holds is forgotten: only the registry
    /// hands out new holds, under the same lock, so no request can be counting in it.
    fn take(&self) -> HashMap<String, Tally> {
        let mut batch = HashMap::new();
        self.meters().retain(|credential, meter| {
            let mut tally = std::mem::take(&mut *meter.tally());
            tally.settle();
            if !tally.is_empty() {
                batch.insert(credential.clone(), tally);
            }
            Arc::strong_count(meter) > 1
        });
        batch
    }

    /// Puts counts that could not be written back, to be written with the next flush.
    fn restore(&self, batch: HashMap<String, Tally>) {
        for (credential, tally) in batch {
            self.meter(&credential).tally().absorb(tally);
        }
    }

    /// Writes everything counted so far, adding to what is stored, in one transaction; once
    /// a day also drops rows older than `RETENTION_DAYS`. Returns the requests written.
    pub async fn flush(&self, db: &Db, now: NaiveDateTime) -> Result<u64, AppError> {
        let batch = self.take();
        let today = i64::from(now.date().num_days_from_ce());
        let purge = self.purged_on.swap(today, Ordering::Relaxed) != today;
        if batch.is_empty() && !purge {
            return Ok(0);
        }
        let rows = batch.clone();
        let written = db
            .transaction(move |tx| write(tx, &rows, purge.then_some(now)))
            .await;
        match written {
            Ok(n) => Ok(n),
            Err(e) => {
                self.restore(batch);
                if purge {
                    self.purged_on.store(0, Ordering::Relaxed);
                }
                Err(e)
            }
        }
    }
}

/// Rows are written in key order, so two instances flushing at once into PostgreSQL take
/// their row locks in the same order and wait for each other instead of deadlocking.
fn write(
    tx: &mut Tx<'_>,
    batch: &HashMap<String, Tally>,
    purge_at: Option<NaiveDateTime>,
) -> Result<u64, AppError> {
    let mut credentials: Vec<(&String, &Tally)> = batch.iter().collect();
    credentials.sort_by(|a, b| a.0.cmp(b.0));
    let mut written = 0;
    for &(credential, tally) in &credentials {
        let mut days: Vec<&(NaiveDate, [u32; 4])> = tally.days.iter().collect();
        days.sort_by_key(|(day, _)| *day);
        for (day, counts) in days {
            let mut outcomes: Vec<Outcome> = Outcome::ALL.to_vec();
            outcomes.sort_by_key(|o| o.label());
            for outcome in outcomes {
                let n = counts.get(outcome.index()).copied().unwrap_or(0);
                if n > 0 {
                    models::add_requests(tx, credential, *day, outcome.label(), i64::from(n))?;
                    written += u64::from(n);
                }
            }
        }
    }
    for &(credential, tally) in &credentials {
        let mut ips: Vec<(String, &(NaiveDateTime, NaiveDateTime))> = tally
            .ips
            .iter()
            .map(|(ip, seen)| (ip.to_string(), seen))
            .collect();
        ips.sort_by(|a, b| a.0.cmp(&b.0));
        for (ip, (first, last)) in ips {
            models::ip_seen(tx, credential, &ip, *first, *last)?;
        }
    }
    if let Some(now) = purge_at {
        let cutoff = now - chrono::Duration::days(RETENTION_DAYS);
        models::purge_usage(tx, cutoff.date(), cutoff)?;
    }
    Ok(written)
}

/// The days a detail page charts, today included.
pub const CHART_DAYS: i64 = 30;
/// The distinct addresses a detail page lists.
pub const RECENT_IPS: i64 = 5;

/// What is stored about one credential's use: requests per day and outcome over the last
/// `CHART_DAYS` days, and the last `RECENT_IPS` addresses, latest first.
#[derive(Debug, Default)]
pub struct UsageReport {
    pub daily: Vec<(NaiveDate, Outcome, i64)>,
    pub ips: Vec<models::CredentialIp>,
}

/// Reads a credential's report (the caller has checked who may see it).
pub async fn report(
    db: &Db,
    credential: String,
    now: NaiveDateTime,
) -> Result<UsageReport, AppError> {
    let since = now.date() - chrono::Duration::days(CHART_DAYS - 1);
    db.run(move |conn| {
        let daily = models::daily_since(conn, &credential, since)?
            .into_iter()
            .filter_map(|(day, outcome, n)| Outcome::from_label(&outcome).map(|o| (day, o, n)))
            .collect();
        let ips = models::CredentialIp::recent(conn, &credential, RECENT_IPS)?;
        Ok::<_, AppError>(UsageReport { daily, ips })
    })
    .await
}

/// Flushes every `every` until the server stops (the last flush is `Application`'s).
pub fn spawn_periodic_flush(
    recorder: std::sync::Arc<UsageRecorder>,
    db: Db,
    clock: crate::clock::Clock,
    every: std::time::Duration,
) {
    actix_web::rt::spawn(async move {
        let mut tick = actix_web::rt::time::interval(every);
        // The first tick is immediate; nothing has been counted yet.
        tick.tick().await;
        loop {
            tick.tick().await;
            if let Err(e) = recorder.flush(&db, clock.now()).await {
                tracing::warn!(error = %e, "writing API usage failed; kept for the next try");
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(day: u32, hour: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 12, day)
            .and_then(|d| d.and_hms_opt(hour, 0, 0))
            .unwrap_or_default()
    }

    fn mark(
        r: &UsageRecorder,
        credential: &str,
        ip: &str,
        when: NaiveDateTime,
    ) -> IdentifiedCredential {
        IdentifiedCredential {
            meter: r.meter(credential),
            ip: ip.parse().ok(),
            at: when,
        }
    }

    #[test]
    fn statuses_fall_into_outcomes() {
        assert_eq!(Outcome::of(StatusCode::OK), Outcome::Success);
        assert_eq!(Outcome::of(StatusCode::CREATED), Outcome::Success);
        assert_eq!(Outcome::of(StatusCode::NOT_FOUND), Outcome::ClientError);
        assert_eq!(
            Outcome::of(StatusCode::TOO_MANY_REQUESTS),
            Outcome::RateLimited
        );
        assert_eq!(
            Outcome::of(StatusCode::INTERNAL_SERVER_ERROR),
            Outcome::ServerError
        );
        for o in Outcome::ALL {
            assert_eq!(Outcome::from_label(o.label()), Some(o));
        }
    }

    #[test]
    fn counts_per_credential_day_and_outcome_with_first_and_last_address() {
        let r = UsageRecorder::default();
        r.record(mark(&r, "a", "203.0.113.5", at(1, 10)), StatusCode::OK);
        r.record(mark(&r, "a", "203.0.113.5", at(1, 12)), StatusCode::OK);
        r.record(
            mark(&r, "a", "198.51.100.7", at(1, 11)),
            StatusCode::NOT_FOUND,
        );
        r.record(
            mark(&r, "a", "198.51.100.7", at(2, 1)),
            StatusCode::TOO_MANY_REQUESTS,
        );
        r.record(mark(&r, "b", "203.0.113.5", at(1, 9)), StatusCode::OK);
        assert_eq!(r.pending_requests(), 5);
        let batch = r.take();
        assert_eq!(r.pending_requests(), 0);
        let a = batch.get("a").cloned().unwrap_or_default();
        let day1 = a.days.iter().find(|(d, _)| *d == at(1, 0).date());
        assert_eq!(day1.map(|(_, c)| *c), Some([2, 1, 0, 0]));
        let day2 = a.days.iter().find(|(d, _)| *d == at(2, 0).date());
        assert_eq!(day2.map(|(_, c)| *c), Some([0, 0, 1, 0]));
        let ip = "198.51.100.7".parse::<IpAddr>().ok();
        assert_eq!(
            ip.and_then(|ip| a.ips.get(&ip).copied()),
            Some((at(1, 11), at(2, 1)))
        );
        assert_eq!(batch.get("b").map(|b| b.ips.len()), Some(1));
    }

    #[test]
    fn restored_counts_add_to_new_ones() {
        let r = UsageRecorder::default();
        r.record(mark(&r, "a", "203.0.113.5", at(1, 10)), StatusCode::OK);
        let batch = r.take();
        r.record(mark(&r, "a", "203.0.113.5", at(1, 8)), StatusCode::OK);
        r.restore(batch);
        assert_eq!(r.pending_requests(), 2);
        let a = r.take().remove("a").unwrap_or_default();
        let ip = "203.0.113.5".parse::<IpAddr>().ok();
        assert_eq!(
            ip.and_then(|ip| a.ips.get(&ip).copied()),
            Some((at(1, 8), at(1, 10)))
        );
    }

    /// Threads counting one credential at once lose nothing.
    #[test]
    fn counts_from_many_threads_add_up_in_one_batch() {
        let r = std::sync::Arc::new(UsageRecorder::default());
        let threads: Vec<_> = (0..6)
            .map(|t| {
                let r = std::sync::Arc::clone(&r);
                std::thread::spawn(move || {
                    for _ in 0..100 {
                        r.record(mark(&r, "a", "203.0.113.5", at(1, 10 + t)), StatusCode::OK);
                    }
                })
            })
            .collect();
        for t in threads {
            assert!(t.join().is_ok());
        }
        assert_eq!(r.pending_requests(), 600);
        let batch = r.take();
        assert_eq!(batch.len(), 1);
        let a = batch.get("a").cloned().unwrap_or_default();
        assert_eq!(a.days, vec![(at(1, 0).date(), [600, 0, 0, 0])]);
        let ip = "203.0.113.5".parse::<IpAddr>().ok();
        assert_eq!(
            ip.and_then(|ip| a.ips.get(&ip).copied()),
            Some((at(1, 10), at(1, 15)))
        );
        assert_eq!(r.pending_requests(), 0);
    }

    /// A meter held (by a cache entry) outlives a flush and its later counts are written with
    /// the next; one nobody holds is forgotten, and made again on its next use.
    #[test]
    fn a_held_meter_survives_the_flush_and_an_idle_one_is_forgotten() {
        let r = UsageRecorder::default();
        let held = r.meter("held");
        r.record(mark(&r, "held", "203.0.113.5", at(1, 10)), StatusCode::OK);
        r.record(mark(&r, "idle", "203.0.113.5", at(1, 10)), StatusCode::OK);
        let batch = r.take();
        assert_eq!(batch.len(), 2);
        assert_eq!(r.meters().len(), 1);
        assert!(Arc::ptr_eq(&held, &r.meter("held")));
        r.record(
            IdentifiedCredential {
                meter: Arc::clone(&held),
                ip: None,
                at: at(1, 11),
            },
            StatusCode::NOT_FOUND,
        );
        let next = r.take();
        let counts = next.get("held").map(|t| t.days.clone());
        assert_eq!(counts, Some(vec![(at(1, 0).date(), [0, 1, 0, 0])]));
    }

    /// An address that comes back after another keeps one entry, its first and last use.
    #[test]
    fn addresses_alternating_keep_their_first_and_last_use() {
        let (a, b) = (
            "203.0.113.5".parse::<IpAddr>().ok(),
            "2001:db8::1".parse::<IpAddr>().ok(),
        );
        let (Some(a), Some(b)) = (a, b) else {
            panic!("addresses parse");
        };
        let mut tally = Tally::default();
        for (ip, hour) in [(a, 9), (a, 10), (b, 11), (a, 12), (b, 8)] {
            tally.seen(ip, at(1, hour), at(1, hour));
        }
        tally.settle();
        assert_eq!(tally.latest, None);
        assert_eq!(tally.ips.len(), 2);
        assert_eq!(tally.ips.get(&a).copied(), Some((at(1, 9), at(1, 12))));
        assert_eq!(tally.ips.get(&b).copied(), Some((at(1, 8), at(1, 11))));
    }
}
