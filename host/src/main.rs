use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};

use cairn::config::Config;

#[derive(Parser)]
#[command(
    name = "cairn",
    version,
    about = "A clustered wiki with WebAssembly macros"
)]
struct Cli {
    /// TOML configuration file; CAIRN_* environment variables override it.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply migrations and serve the wiki.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CAIRN_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .init();
    let cli = Cli::parse();
    let config = Config::load(cli.config.as_deref())?;
    match cli.command {
        Command::Migrate => {
            let url = database_url(&config)?;
            let n = cairn::db::migrate(&url).await?;
            tracing::info!(applied = n, "migrations done");
        }
        Command::Serve => serve(config).await?,
    }
    Ok(())
}

fn database_url(config: &Config) -> anyhow::Result<String> {
    match &config.database_url {
        Some(u) => Ok(u.clone()),
        None => bail!(
            "CAIRN_DATABASE_URL is not set (the embedded PostgreSQL mode is not built yet): \
             point it at a PostgreSQL database"
        ),
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let url = database_url(&config)?;
    let pool = cairn::db::pool(&url, 16)?;
    let readiness = cairn::status::Readiness::default();
    let app = cairn::router(cairn::AppState {
        pool,
        readiness: readiness.clone(),
    });
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    tracing::info!(listen = %config.listen, node_id = %config.node_id, "cairn serving");
    let migrate = tokio::spawn(async move {
        match cairn::db::migrate(&url).await {
            Ok(n) => {
                tracing::info!(applied = n, "migrations done");
                readiness.set_ready();
            }
            Err(e) => tracing::error!(error = %e, "migrations failed; node stays STARTING"),
        }
    });
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    migrate.abort();
    Ok(())
}
