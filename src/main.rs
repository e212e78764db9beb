use clap::{Parser, Subcommand};

use meetergo_console::auth::keys::Keys;
use meetergo_console::clock::Clock;
use meetergo_console::config::Settings;
use meetergo_console::db::Db;
use meetergo_console::jobs::Jobs;
use meetergo_console::services::mail::Mailer;
use meetergo_console::startup::Application;
use meetergo_console::webhooks::delivery::Deliverer;
use meetergo_console::{demo, telemetry};

/// The request path allocates many small, short-lived values on each worker thread; glibc's
/// allocator was a visible share of an API request's CPU (`scripts/bench` under `perf`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The meetergo console: credentials and team settings for a scheduling workspace.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the console (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Fill an empty database with a demo company and print how to sign in.
    Demo,
    /// Run the jobs (purges, expiry reminders) against a migrated database: once with
    /// `--once` (for cron), otherwise every JOBS_INTERVAL_SECS until stopped.
    RunJobs {
        /// One round, then exit (non-zero if a job failed).
        #[arg(long)]
        once: bool,
    },
}

fn main() -> anyhow::Result<()> {
    telemetry::init();
    let cli = Cli::parse();
    let settings = Settings::from_env()?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => actix_web::rt::System::new().block_on(async move {
            let public_url = settings.public_url.clone();
            let backend = settings.database_url.backend_name();
            let app = Application::build(settings).await?;
            tracing::info!(backend, "meetergo-console listening");
            println!("meetergo-console is running at {public_url} (database: {backend}); Ctrl-C stops it.");
            app.run_until_signalled().await?;
            Ok(())
        }),
        Command::Migrate => {
            let db = Db::connect(&settings.database_url, 1)?;
            db.migrate()?;
            println!("migrations applied ({})", db.backend());
            Ok(())
        }
        Command::RunJobs { once } => actix_web::rt::System::new().block_on(async move {
            let db = Db::connect(&settings.database_url, 2)?;
            let mailer = Mailer::from_settings(
                settings.smtp_url(),
                &settings.mail_from,
                &settings.data_dir,
            )?;
            let keys = std::sync::Arc::new(Keys::derive(settings.secret_key_bytes()));
            let deliverer =
                Deliverer::new(db.clone(), mailer.clone(), keys, &settings, Clock::system())?;
            let jobs = Jobs::new(db, mailer, settings.public_url.clone(), Clock::system())
                .with_webhooks(deliverer);
            if once {
                let report = jobs.run_once().await;
                println!("{report}");
                if report.failures > 0 {
                    anyhow::bail!("{} jobs failed (see the log)", report.failures);
                }
                return Ok(());
            }
            let interval = settings
                .jobs_interval
                .unwrap_or(std::time::Duration::from_secs(60));
            let mut tick = actix_web::rt::time::interval(interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                jobs.run_once().await;
            }
        }),
        Command::Demo => {
            let db = Db::connect(&settings.database_url, 1)?;
            db.migrate()?;
            let report = demo::seed(&db)?;
            println!("{report}");
            Ok(())
        }
    }
}
