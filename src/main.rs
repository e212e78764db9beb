use clap::{Parser, Subcommand};

use meetergo_console::config::Settings;
use meetergo_console::db::Db;
use meetergo_console::startup::Application;
use meetergo_console::{demo, telemetry};

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
        Command::Demo => {
            let db = Db::connect(&settings.database_url, 1)?;
            db.migrate()?;
            let report = demo::seed(&db)?;
            println!("{report}");
            Ok(())
        }
    }
}
