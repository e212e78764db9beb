//! Builds the application: database, keys, middleware and routes, bound to a socket.
//! Tests call `Application::build` with port 0 and talk HTTP to the real thing.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use actix_session::config::{BrowserSession, CookieContentSecurity, TtlExtensionPolicy};
use actix_session::SessionMiddleware;
use actix_web::cookie::SameSite;
use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::{from_fn, DefaultHeaders};
use actix_web::{web, App, HttpServer};
use anyhow::Context;
use tracing_actix_web::TracingLogger;

use crate::auth::credential_cache::{self, CredentialCache};
use crate::auth::keys::Keys;
use crate::auth::password::PasswordHasherPool;
use crate::auth::rate_limit::RateLimits;
use crate::auth::session_store::{self, DbSessionStore};
use crate::auth::{csrf, session};
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::{DatabaseUrl, Db};
use crate::error::AppError;
use crate::jobs::Jobs;
use crate::services::mail::Mailer;
use crate::services::usage::{self, UsageRecorder};
use crate::shutdown::{self, Draining};
use crate::state::AppState;
use crate::telemetry::metrics::Metrics;
use crate::webhooks::delivery::Deliverer;
use crate::{api, web as pages};

pub struct Application {
    server: Server,
    port: u16,
    db: Db,
    draining: Draining,
    drain: Duration,
    usage: Arc<UsageRecorder>,
    clock: Clock,
    jobs: Jobs,
    /// The `METRICS_ADDR` listener, started beside the server.
    metrics_server: Option<(Server, SocketAddr)>,
    /// PostgreSQL: the task listening for credential cache invalidations; ends with the server.
    cache_listener: Option<tokio::task::JoinHandle<()>>,
}

/// Content-Security-Policy: no inline scripts or styles, nothing from elsewhere, no framing.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        Self::build_with_clock(settings, Clock::system()).await
    }

    /// Tests and demos pass an adjustable clock and move it forward.
    pub async fn build_with_clock(mut settings: Settings, clock: Clock) -> anyhow::Result<Self> {
        let db = Db::connect(&settings.database_url, settings.db_pool_size)?;
        let migrate = db.clone();
        actix_web::rt::task::spawn_blocking(move || migrate.migrate()).await??;
        let listener = TcpListener::bind(settings.bind_addr)?;
        let port = listener.local_addr()?.port();
        if settings.public_url.is_empty() {
            settings.public_url = format!("http://{}", listener.local_addr()?);
        }
        let draining = Draining::default();
        let drain = settings.shutdown_drain;
        let usage = Arc::new(UsageRecorder::default());
        let metrics_listener = settings
            .metrics_addr
            .map(|addr| {
                TcpListener::bind(addr)
                    .with_context(|| format!("METRICS_ADDR {addr} cannot be bound"))
            })
            .transpose()?;
        let metrics = match metrics_listener {
            Some(_) => Metrics::on(),
            None => Metrics::default(),
        };
        // On PostgreSQL other instances write too: the cache is trusted only while listening.
        let shared = matches!(settings.database_url, DatabaseUrl::Postgres(_));
        let credential_cache = Arc::new(CredentialCache::new(
            settings.credential_cache,
            shared,
            metrics.clone(),
        ));
        let db = db.invalidating(Arc::clone(&credential_cache));
        let cache_listener = match &settings.database_url {
            DatabaseUrl::Postgres(url) if credential_cache.is_enabled() => Some(
                credential_cache::spawn_listener(url.clone(), Arc::clone(&credential_cache)),
            ),
            _ => None,
        };
        let (server, jobs) = serve(
            listener,
            settings,
            db.clone(),
            draining.clone(),
            clock.clone(),
            usage.clone(),
            metrics.clone(),
        )?;
        let metrics_server = match metrics_listener {
            Some(listener) => {
                let bound = listener.local_addr()?;
                let server = crate::telemetry::metrics::serve(listener, metrics, db.clone())?;
                Some((server, bound))
            }
            None => None,
        };
        Ok(Self {
            server,
            port,
            db,
            draining,
            drain,
            usage,
            clock,
            jobs,
            metrics_server,
            cache_listener,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Where `GET /metrics` is served (`METRICS_ADDR`, its port filled in), if anywhere.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_server.as_ref().map(|(_, addr)| *addr)
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The per-credential API usage counted by this instance (tests flush it themselves).
    pub fn usage(&self) -> Arc<UsageRecorder> {
        self.usage.clone()
    }

    /// The app's jobs, to run a round on demand (tests) beside the background loop.
    pub fn jobs(&self) -> Jobs {
        self.jobs.clone()
    }

    /// Stops the server from elsewhere (tests: a graceful stop, as a signal would).
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped through [`Self::handle`], then writes the usage counted last.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let metrics = start_beside(self.metrics_server);
        let served = self.server.await;
        stop(metrics).await;
        if let Some(listener) = self.cache_listener {
            listener.abort();
        }
        flush_usage_at_exit(&self.usage, &self.db, &self.clock).await;
        served
    }

    /// Serves until SIGTERM or SIGINT, then drains (see [`shutdown`]), stops, and writes
    /// the usage counted last.
    pub async fn run_until_signalled(self) -> std::io::Result<()> {
        let on_signal = shutdown::on_signal(self.server.handle(), self.draining, self.drain)?;
        actix_web::rt::spawn(on_signal);
        let metrics = start_beside(self.metrics_server);
        let served = self.server.await;
        stop(metrics).await;
        if let Some(listener) = self.cache_listener {
            listener.abort();
        }
        flush_usage_at_exit(&self.usage, &self.db, &self.clock).await;
        served
    }
}

/// The metrics listener runs for as long as the server does.
fn start_beside(metrics: Option<(Server, SocketAddr)>) -> Option<ServerHandle> {
    metrics.map(|(server, _)| {
        let handle = server.handle();
        actix_web::rt::spawn(server);
        handle
    })
}

async fn stop(metrics: Option<ServerHandle>) {
    if let Some(handle) = metrics {
        handle.stop(false).await;
    }
}

/// The requests counted since the last periodic flush would be lost with the process.
async fn flush_usage_at_exit(recorder: &UsageRecorder, db: &Db, clock: &Clock) {
    match recorder.flush(db, clock.now()).await {
        Ok(n) => tracing::info!(requests = n, "API usage written at shutdown"),
        Err(e) => tracing::error!(error = %e, "writing API usage at shutdown failed"),
    }
}

fn serve(
    listener: TcpListener,
    settings: Settings,
    db: Db,
    draining: Draining,
    clock: Clock,
    usage: Arc<UsageRecorder>,
    metrics: Metrics,
) -> anyhow::Result<(Server, Jobs)> {
    let credential_cache = db
        .credential_cache()
        .unwrap_or_else(|| Arc::new(CredentialCache::off()));
    let keys = web::Data::from(std::sync::Arc::new(Keys::derive(
        settings.secret_key_bytes(),
    )));
    let limits =
        web::Data::new(RateLimits::from_settings(&settings)?.with_metrics(metrics.clone()));
    if limits.is_shared() {
        tracing::info!("rate limits counted in Redis (REDIS_URL), shared by every instance");
    }
    let hasher = web::Data::new(PasswordHasherPool::new(
        settings.max_concurrent_password_hashes,
    )?);
    let draining = web::Data::new(draining);
    let oidc = web::Data::new(crate::auth::oidc::Oidc::new(
        settings.oidc_providers.clone(),
        &settings.public_url,
    )?);
    let mailer = web::Data::new(Mailer::from_settings(
        settings.smtp_url(),
        &settings.mail_from,
        &settings.data_dir,
    )?);
    usage::spawn_periodic_flush(
        usage.clone(),
        db.clone(),
        clock.clone(),
        settings.usage_flush,
    );
    let deliverer = Deliverer::new(
        db.clone(),
        mailer.get_ref().clone(),
        keys.clone().into_inner(),
        &settings,
        clock.clone(),
    )?
    .with_metrics(metrics.clone());
    if let Some(interval) = settings.webhook_poll_interval {
        deliverer.clone().spawn_loop(interval);
    }
    let jobs = Jobs::new(
        db.clone(),
        mailer.get_ref().clone(),
        settings.public_url.clone(),
        clock.clone(),
    )
    .with_metrics(metrics.clone())
    .with_webhooks(deliverer);
    if let Some(interval) = settings.jobs_interval {
        jobs.clone().spawn_loop(interval);
    }
    spawn_rate_limit_trimming(limits.get_ref().clone());
    let https = settings.is_https();
    let idle =
        actix_web::cookie::time::Duration::seconds(settings.session_idle_timeout.as_secs() as i64);
    let static_dir = settings.static_dir.clone();
    let settings = web::Data::new(settings);
    let db_data = web::Data::new(db.clone());
    let state = web::Data::new(AppState {
        db: db.clone(),
        settings: settings.clone(),
        keys: keys.clone().into_inner(),
        limits: limits.clone(),
        hasher: hasher.clone(),
        mailer: mailer.clone(),
        oidc: oidc.clone(),
        clock,
        dns: std::sync::Arc::new(crate::services::dns::DnsCheck::new(settings.dns_resolver)),
        usage,
        metrics,
        credential_cache,
    });

    let server = HttpServer::new(move || {
        let mut headers = DefaultHeaders::new()
            .add(("Content-Security-Policy", CSP))
            .add(("X-Content-Type-Options", "nosniff"))
            .add(("X-Frame-Options", "DENY"))
            .add(("Referrer-Policy", "same-origin"))
            .add(("Cross-Origin-Opener-Policy", "same-origin"))
            .add((
                "Permissions-Policy",
                "camera=(), microphone=(), geolocation=()",
            ));
        if https {
            headers = headers.add((
                "Strict-Transport-Security",
                "max-age=63072000; includeSubDomains",
            ));
        }
        let sessions =
            SessionMiddleware::builder(DbSessionStore::new(db.clone()), keys.cookie_key())
                .cookie_name(if https {
                    "__Host-session".into()
                } else {
                    "session".into()
                })
                .cookie_secure(https)
                .cookie_http_only(true)
                .cookie_same_site(SameSite::Lax)
                .cookie_path("/".into())
                .cookie_content_security(CookieContentSecurity::Private)
                .session_lifecycle(
                    BrowserSession::default()
                        .state_ttl(idle)
                        .state_ttl_extension_policy(TtlExtensionPolicy::OnEveryRequest),
                )
                .build();

        App::new()
            .app_data(state.clone())
            .app_data(settings.clone())
            .app_data(db_data.clone())
            .app_data(keys.clone())
            .app_data(limits.clone())
            .app_data(hasher.clone())
            .app_data(mailer.clone())
            .app_data(oidc.clone())
            .app_data(draining.clone())
            .app_data(web::FormConfig::default().limit(64 * 1024))
            // A path id that does not parse (`/settings/members/abc/role`) names nothing.
            .app_data(
                web::PathConfig::default()
                    .error_handler(|_, _| crate::error::AppError::NotFound.into()),
            )
            .wrap(from_fn(pages::page::clear_shown_flash))
            .wrap(from_fn(csrf::protect))
            .wrap(sessions)
            .wrap(from_fn(session_store::outage_is_unavailable))
            .wrap(from_fn(pages::input_guard::refuse_unreadable_input))
            .wrap(headers)
            .wrap(TracingLogger::<crate::telemetry::RedactedRootSpan>::new())
            .wrap(from_fn(shutdown::close_connections_while_draining))
            .wrap(from_fn(crate::telemetry::metrics::count_requests))
            // Outermost: the client's address is decided before anything else asks for it.
            .wrap(from_fn(crate::client_ip::remember))
            .configure(pages::health::routes)
            .configure(api::routes)
            .configure(crate::scim::routes)
            .service(
                actix_files::Files::new(crate::paths::STATIC, static_dir.clone()).prefer_utf8(true),
            )
            .configure(pages::sign_in::routes)
            .configure(pages::two_factor_sign_in::routes)
            .configure(pages::invitations::routes)
            .configure(pages::password_recovery::routes)
            .configure(pages::sso::public_routes)
            .configure(pages::account::email::public_routes)
            .service(
                web::scope("")
                    .wrap(from_fn(crate::error::error_pages_keep_the_shell))
                    .wrap(from_fn(session::require_sign_in))
                    .configure(pages::dashboard::routes)
                    .configure(pages::integrations::routes)
                    .configure(pages::admin_api_keys::routes)
                    .configure(pages::settings::routes)
                    .configure(pages::sso::signed_in_routes)
                    .configure(pages::account::two_factor::routes)
                    .configure(pages::account::sessions::routes)
                    .configure(pages::account::password::routes)
                    .configure(pages::account::email::signed_in_routes)
                    .configure(pages::account::export::routes)
                    .default_service(web::to(|| async {
                        Err::<actix_web::HttpResponse, _>(AppError::NotFound)
                    })),
            )
    })
    .listen(listener)?
    .shutdown_timeout(30)
    // Signals are ours (`Application::run_until_signalled`): actix would stop at once.
    .disable_signals()
    .run();
    Ok((server, jobs))
}

/// Every few minutes: forget idle rate-limit keys. In memory (the counts without Redis, or its
/// fallback), so each instance trims its own, whether or not it runs the jobs.
fn spawn_rate_limit_trimming(limits: RateLimits) {
    actix_web::rt::spawn(async move {
        let mut tick = actix_web::rt::time::interval(Duration::from_secs(300));
        loop {
            tick.tick().await;
            limits.shrink();
        }
    });
}
