//! Verified API credentials (PATs, Platform API Keys) kept in memory, so that a request with a
//! credential seen a moment ago runs no database query at all.
//!
//! Never stale on purpose. The cache holds a *generation*; an entry carries the generation read
//! *before* its database lookup started, and a hit whose generation is not the current one is a
//! miss. Every write that can change a principal (audited kinds, see
//! `AuditKind::affects_principals`, and the few unaudited ones such as a cut-over) calls
//! [`principals_changed`] inside its transaction: that flags the database thread, and `Db::run`
//! bumps the generation once the closure (and so the commit) is done; a lookup that raced with
//! the write inserts under the old generation and is never served. On PostgreSQL the same call
//! sends `NOTIFY credential_cache`, delivered at commit to every instance's listener
//! ([`spawn_listener`]); while that listener is not connected the cache is bypassed, and when it
//! reconnects everything cached is dropped, since notifications may have been missed.
//! Expiry and cut-over are checked on every hit; an entry also lives at most the TTL.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use diesel::RunQueryDsl;

use crate::config::CredentialCacheSettings;
use crate::db::models::{PersonalAccessToken, PlatformApiKey, User};
use crate::db::DbConnection;
use crate::domain::UserId;
use crate::services::usage::Meter;
use crate::telemetry::metrics::Metrics;

/// The PostgreSQL channel every instance listens on.
pub const CHANNEL: &str = "credential_cache";

/// What the job running on a database thread changed (see [`principals_changed`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Changes {
    /// Principals changed: the instance's own cache is invalidated after the commit.
    pub changed: bool,
    /// The last NOTIFY the job sent (PostgreSQL): the caller waits to hear it back.
    pub echo: Option<Echo>,
}

/// One NOTIFY this process sent, known by its payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Echo(u64);

thread_local! {
    /// Set by [`principals_changed`] on the database thread running the current job.
    static CHANGES: Cell<Changes> = const {
        Cell::new(Changes { changed: false, echo: None })
    };
}

/// Tells this process's notifications from other processes': a random nonce per process.
static PROCESS: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| crate::auth::keys::random_hex(8));
static NEXT_ECHO: AtomicU64 = AtomicU64::new(1);

/// Call inside the transaction of any write that can change who a credential acts as (or
/// whether it still works). The instance's own cache is invalidated after the commit
/// (`Db::run`), every instance's through PostgreSQL's NOTIFY, delivered at commit; `Db::run`
/// then waits (briefly) until this instance's listener has heard that NOTIFY too, so the
/// response to a revoke leaves after every listening instance was told.
pub fn principals_changed(conn: &mut DbConnection) -> diesel::QueryResult<()> {
    let mut changes = Changes {
        changed: true,
        echo: None,
    };
    if let DbConnection::Postgres(pg) = conn {
        let echo = Echo(NEXT_ECHO.fetch_add(1, Ordering::Relaxed));
        diesel::sql_query("SELECT pg_notify('credential_cache', $1)")
            .bind::<diesel::sql_types::Text, _>(format!("{}:{}", *PROCESS, echo.0))
            .execute(pg)?;
        changes.echo = Some(echo);
    }
    CHANGES.with(|c| c.set(changes));
    Ok(())
}

/// What the job that just ran on this thread changed; clears it.
pub(crate) fn take_changes() -> Changes {
    CHANGES.with(|c| c.replace(Changes::default()))
}

/// The echo a notification's payload carries, if this process sent it.
fn own_echo(payload: &str) -> Option<Echo> {
    let (process, seq) = payload.split_once(':')?;
    (process == PROCESS.as_str())
        .then(|| seq.parse().ok().map(Echo))
        .flatten()
}

/// The NOTIFYs of this process its listener has heard and nobody has waited for yet.
#[derive(Debug, Default)]
struct Echoes {
    heard: std::sync::Mutex<std::collections::HashSet<u64>>,
    wake: tokio::sync::Notify,
}

impl Echoes {
    /// More than this many unclaimed (their waiter gave up): forget them all.
    const MOST: usize = 4096;

    fn heard(&self, echo: Echo) {
        let mut heard = self.heard.lock().unwrap_or_else(PoisonError::into_inner);
        if heard.len() >= Self::MOST {
            heard.clear();
        }
        heard.insert(echo.0);
        drop(heard);
        self.wake.notify_waiters();
    }

    fn claim(&self, echo: Echo) -> bool {
        self.heard
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&echo.0)
    }
}

/// Which user the request acts as, besides the credential itself.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ActsAs {
    /// A PAT: always its owner (the user header is checked on every hit).
    Owner,
    /// An API key with no user header, on an endpoint where it acts as the company owner.
    CompanyOwner,
    /// An API key naming this user in the header.
    User(UserId),
}

/// One resolved principal: the credential's HMAC digest (`Keys::credential_digest`) and whom
/// it acts as.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CacheKey {
    pub digest: [u8; 32],
    pub acts_as: ActsAs,
}

/// What the database answered, enough to answer again without it. The user is shared with
/// every request answered from it (`ActingUser`), never copied; so are its API body once made
/// (`shown`, see `ActingUser::shown`; an entry lives no longer than its user is unchanged) and
/// the credential's usage meter.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub credential: Row,
    /// Whom it acts as: a PAT's owner, or the user an API key names (or the company owner).
    pub user: Arc<User>,
    pub shown: Shown,
    pub meter: Arc<Meter>,
}

/// The credential's row.
#[derive(Debug, Clone)]
pub enum Row {
    Pat(PersonalAccessToken),
    ApiKey(PlatformApiKey),
}

/// The resolved user's public JSON body, made at most once per cache entry.
pub type Shown = Arc<std::sync::OnceLock<actix_web::web::Bytes>>;

#[derive(Debug)]
struct Entry {
    generation: u64,
    /// Served until then at most (`CREDENTIAL_CACHE_TTL_SECS` after it was cached).
    expires: std::time::Instant,
    resolved: Arc<Resolved>,
}

/// Where an invalidation came from (for the metrics).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invalidation {
    /// A write committed by this instance.
    Local,
    /// A NOTIFY from any instance (this one included).
    Notify,
    /// The listener (re)connected: what happened while it was away is unknown.
    Reconnect,
}

impl Invalidation {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Local => "local",
            Self::Notify => "notify",
            Self::Reconnect => "reconnect",
        }
    }
}

/// How a lookup went (for the metrics).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    Hit,
    Miss,
    /// The cache could not be trusted (PostgreSQL listener not connected): the database answered.
    Bypass,
}

impl Lookup {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hit => "hit",
            Self::Miss => "miss",
            Self::Bypass => "bypass",
        }
    }
}

/// The instance's credential cache. See the module documentation.
pub struct CredentialCache {
    /// `None`: `CREDENTIAL_CACHE=off`. Bounded in entries (`CREDENTIAL_CACHE_CAPACITY`), and so
    /// in memory: an entry is two database rows of bounded columns.
    entries: Option<quick_cache::sync::Cache<CacheKey, Arc<Entry>>>,
    ttl: Duration,
    generation: AtomicU64,
    /// False while nothing would tell this instance about another's writes (PostgreSQL
    /// listener not connected): the cache is bypassed.
    trusted: AtomicBool,
    echoes: Echoes,
    metrics: Metrics,
}

impl std::fmt::Debug for CredentialCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialCache")
            .field("enabled", &self.entries.is_some())
            .field("generation", &self.generation.load(Ordering::SeqCst))
            .field("trusted", &self.trusted.load(Ordering::SeqCst))
            .finish()
    }
}

/// A lookup's ticket: the generation read before the database was asked.
#[derive(Debug, Clone, Copy)]
pub struct Ticket(u64);

impl CredentialCache {
    /// `shared`: other instances may write to the same database (PostgreSQL), so the cache is
    /// only trusted once the listener is connected.
    pub fn new(settings: CredentialCacheSettings, shared: bool, metrics: Metrics) -> Self {
        let entries = settings.enabled.then(|| {
            quick_cache::sync::Cache::new(usize::try_from(settings.capacity).unwrap_or(usize::MAX))
        });
        Self {
            entries,
            ttl: settings.ttl,
            generation: AtomicU64::new(0),
            trusted: AtomicBool::new(!shared),
            echoes: Echoes::default(),
            metrics,
        }
    }

    /// The cache off: every lookup goes to the database.
    pub fn off() -> Self {
        let settings = CredentialCacheSettings {
            enabled: false,
            ..CredentialCacheSettings::default()
        };
        Self::new(settings, false, Metrics::default())
    }

    pub fn is_enabled(&self) -> bool {
        self.entries.is_some()
    }

    /// Read before the database lookup; `None` when the cache must not be used now.
    pub fn ticket(&self) -> Option<Ticket> {
        self.entries.as_ref()?;
        if !self.trusted.load(Ordering::SeqCst) {
            self.metrics.auth_cache(Lookup::Bypass);
            return None;
        }
        Some(Ticket(self.generation.load(Ordering::SeqCst)))
    }

    /// The principal cached under `key`, if it is of the current generation.
    pub fn get(&self, ticket: Ticket, key: &CacheKey) -> Option<Arc<Resolved>> {
        let entries = self.entries.as_ref()?;
        // Against the current generation too: an invalidation since the ticket was read
        // (a revoke that committed meanwhile) is seen by this request already.
        let current = self.generation.load(Ordering::SeqCst);
        let found = entries
            .get(key)
            .filter(|e| {
                e.generation == ticket.0
                    && ticket.0 == current
                    && std::time::Instant::now() < e.expires
            })
            .map(|e| Arc::clone(&e.resolved));
        let outcome = if found.is_some() {
            Lookup::Hit
        } else {
            Lookup::Miss
        };
        self.metrics.auth_cache(outcome);
        found
    }

    /// Keeps what the database answered, under the generation read before it was asked: if
    /// anything changed since, the entry is never served.
    pub fn insert(&self, ticket: Ticket, key: CacheKey, resolved: Arc<Resolved>) {
        if let Some(entries) = &self.entries {
            if ticket.0 == self.generation.load(Ordering::SeqCst) {
                entries.insert(
                    key,
                    Arc::new(Entry {
                        generation: ticket.0,
                        expires: std::time::Instant::now() + self.ttl,
                        resolved,
                    }),
                );
            }
        }
    }

    /// Everything cached so far is no longer served.
    pub fn invalidate(&self, source: Invalidation) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        if let Some(entries) = &self.entries {
            entries.clear();
        }
        self.metrics.auth_cache_invalidation(source);
    }

    /// Waits until this instance's listener has heard `echo` (a NOTIFY sent by a write that
    /// committed), at most `within`. Returns at once when nothing listens (cache off, or the
    /// listener down: the cache is bypassed then). False when it was not heard in time.
    pub async fn hear(&self, echo: Echo, within: Duration) -> bool {
        if self.entries.is_none() || !self.trusted.load(Ordering::SeqCst) {
            return true;
        }
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let notified = self.echoes.wake.notified();
            tokio::pin!(notified);
            // Registered before the check: a wake between the two is not lost.
            notified.as_mut().enable();
            if self.echoes.claim(echo) {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.echoes.claim(echo);
            }
        }
    }

    /// The listener is listening: drop what may have been missed, then trust the cache again.
    fn listener_connected(&self) {
        self.invalidate(Invalidation::Reconnect);
        self.trusted.store(true, Ordering::SeqCst);
    }

    /// The listener lost its connection: bypass the cache until it is back.
    fn listener_lost(&self) {
        self.trusted.store(false, Ordering::SeqCst);
        self.generation.fetch_add(1, Ordering::SeqCst);
    }
}

/// Listens for `NOTIFY credential_cache` on a connection of its own, reconnecting with backoff
/// (100 ms doubling to 2 s) for as long as the returned task runs; abort it to stop.
pub fn spawn_listener(url: String, cache: Arc<CredentialCache>) -> tokio::task::JoinHandle<()> {
    actix_web::rt::spawn(async move {
        const FIRST: Duration = Duration::from_millis(100);
        const MOST: Duration = Duration::from_secs(2);
        let mut backoff = FIRST;
        loop {
            let (connected, why) = listen(&url, &cache).await;
            cache.listener_lost();
            if connected {
                tracing::warn!(error = %why, "credential cache listener lost; cache bypassed until it reconnects");
                backoff = FIRST;
            } else {
                tracing::debug!(error = %why, "credential cache listener could not connect");
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MOST);
        }
    })
}

/// One listening session; returns whether it got as far as listening, and why it ended.
async fn listen(url: &str, cache: &CredentialCache) -> (bool, String) {
    use futures_util::StreamExt;
    use tokio_postgres::AsyncMessage;

    let (client, mut connection) = match tokio_postgres::connect(url, tokio_postgres::NoTls).await {
        Ok(pair) => pair,
        Err(e) => return (false, e.to_string()),
    };
    let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
    // The connection is driven by polling its messages, also while LISTEN is under way.
    {
        let listening = client.batch_execute("LISTEN credential_cache");
        tokio::pin!(listening);
        loop {
            tokio::select! {
                done = &mut listening => match done {
                    Ok(()) => break,
                    Err(e) => return (false, e.to_string()),
                },
                message = messages.next() => match message {
                    Some(Ok(_)) => {}
                    Some(Err(e)) => return (false, e.to_string()),
                    None => return (false, "connection closed".into()),
                },
            }
        }
    }
    cache.listener_connected();
    loop {
        match messages.next().await {
            Some(Ok(AsyncMessage::Notification(n))) if n.channel() == CHANNEL => {
                cache.invalidate(Invalidation::Notify);
                if let Some(echo) = own_echo(n.payload()) {
                    cache.echoes.heard(echo);
                }
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => return (true, e.to_string()),
            None => return (true, "connection closed".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache(shared: bool) -> CredentialCache {
        CredentialCache::new(
            CredentialCacheSettings::default(),
            shared,
            Metrics::default(),
        )
    }

    fn key() -> CacheKey {
        CacheKey {
            digest: [7; 32],
            acts_as: ActsAs::Owner,
        }
    }

    #[test]
    fn a_lookup_that_raced_with_an_invalidation_is_never_served() {
        let cache = cache(false);
        let ticket = cache.ticket();
        assert!(ticket.is_some());
        let Some(ticket) = ticket else { return };
        cache.invalidate(Invalidation::Local);
        // The stale insert: its ticket predates the invalidation.
        cache.insert(ticket, key(), Arc::new(sample()));
        let Some(now) = cache.ticket() else {
            panic!("trusted")
        };
        assert!(cache.get(now, &key()).is_none());
        cache.insert(now, key(), Arc::new(sample()));
        assert!(cache.get(now, &key()).is_some());
        cache.invalidate(Invalidation::Notify);
        let Some(after) = cache.ticket() else {
            panic!("trusted")
        };
        assert!(cache.get(after, &key()).is_none());
    }

    #[test]
    fn a_shared_cache_is_bypassed_until_its_listener_connects() {
        let cache = cache(true);
        assert!(cache.ticket().is_none());
        cache.listener_connected();
        assert!(cache.ticket().is_some());
        cache.listener_lost();
        assert!(cache.ticket().is_none());
    }

    #[test]
    fn an_entry_is_served_for_its_time_to_live_and_not_after() {
        let settings = CredentialCacheSettings {
            ttl: Duration::from_millis(50),
            ..CredentialCacheSettings::default()
        };
        let cache = CredentialCache::new(settings, false, Metrics::default());
        let Some(ticket) = cache.ticket() else {
            panic!("trusted")
        };
        cache.insert(ticket, key(), Arc::new(sample()));
        assert!(cache.get(ticket, &key()).is_some());
        std::thread::sleep(Duration::from_millis(80));
        assert!(cache.get(ticket, &key()).is_none(), "expired");
    }

    #[test]
    fn the_cache_holds_at_most_its_capacity() {
        let settings = CredentialCacheSettings {
            capacity: 50,
            ..CredentialCacheSettings::default()
        };
        let cache = CredentialCache::new(settings, false, Metrics::default());
        let Some(ticket) = cache.ticket() else {
            panic!("trusted")
        };
        for i in 0..1000u32 {
            let mut digest = [0; 32];
            digest[..4].copy_from_slice(&i.to_le_bytes());
            let key = CacheKey {
                digest,
                acts_as: ActsAs::Owner,
            };
            cache.insert(ticket, key, Arc::new(sample()));
        }
        let held = cache.entries.as_ref().map_or(0, |e| e.len());
        assert!(held > 0 && held <= 50, "{held} entries");
    }

    #[test]
    fn off_caches_nothing() {
        assert!(CredentialCache::off().ticket().is_none());
    }

    fn sample() -> Resolved {
        use crate::domain::{CompanyId, Role, TokenId, UserStatus};
        let at = chrono::NaiveDateTime::default();
        let owner = User {
            id: UserId::new(),
            company_id: CompanyId::new(),
            email: "a@example.com".into(),
            name: "A".into(),
            role: Role::Member,
            status: UserStatus::Active,
            password_hash: None,
            created_at: at,
            updated_at: at,
            last_sign_in_at: None,
            timezone: "UTC".into(),
            email_verified_at: None,
        };
        let token = PersonalAccessToken {
            id: TokenId::new(),
            user_id: owner.id.clone(),
            name: "t".into(),
            token_hash: "h".into(),
            prefix: "p".into(),
            created_at: at,
            expires_at: None,
            last_used_at: None,
            last_used_ip: None,
            revoked_at: None,
            replaces: None,
            replaced_by: None,
            superseded_at: None,
            rotation_alerted_at: None,
            note: None,
        };
        Resolved {
            meter: crate::services::usage::UsageRecorder::default().meter(token.id.as_str()),
            credential: Row::Pat(token),
            user: Arc::new(owner),
            shown: Shown::default(),
        }
    }
}
