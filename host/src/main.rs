use std::io::Read;
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
    /// Create an administrator (if missing) and the DEMO space (if missing).
    Demo {
        /// The administrator's username.
        #[arg(long, default_value = "admin")]
        admin: String,
        /// Where the administrator's password is kept: read if it exists,
        /// else generated and written there (mode 0600).
        #[arg(long)]
        password_file: PathBuf,
    },
    /// Search index operations.
    Index {
        #[command(subcommand)]
        command: IndexCommand,
    },
    /// Manage WebAssembly plugins (changes reach running nodes within a second).
    Plugin {
        #[command(subcommand)]
        command: PluginCommand,
    },
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
}

#[derive(Subcommand)]
enum IndexCommand {
    /// Re-index all content online: every node re-applies every row while
    /// searching continues.
    Rebuild,
    /// Show the journal head and each node's position and lag.
    Status,
}

#[derive(Subcommand)]
enum PluginCommand {
    /// Install or upgrade a plugin from its manifest (`cairn-plugin.toml`,
    /// whose `component` path is relative to it).
    Install {
        manifest: PathBuf,
        /// Capabilities to grant, comma-separated (log, content, kv, config);
        /// every capability the manifest requests must be granted.
        #[arg(long, value_delimiter = ',')]
        grant: Vec<String>,
    },
    /// List installed plugins.
    List,
    /// Enable a plugin.
    Enable { id: String },
    /// Disable a plugin (its macros show as unavailable).
    Disable { id: String },
    /// Remove a plugin and its data.
    Remove { id: String },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user; the password is read from standard input.
    Create {
        name: String,
        /// Make the user a system administrator.
        #[arg(long)]
        admin: bool,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        display_name: Option<String>,
        /// Read the password from standard input (required: passwords never go on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
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
            let (url, pg) = database(&config).await?;
            let n = cairn::db::migrate(&url).await?;
            tracing::info!(applied = n, "migrations done");
            stop_embedded(pg).await;
        }
        Command::Index { command } => {
            let (url, pg) = database(&config).await?;
            let r = index_command(&url, command).await;
            stop_embedded(pg).await;
            r?;
        }
        Command::User { command } => {
            let (url, pg) = database(&config).await?;
            let r = user_command(&url, command).await;
            stop_embedded(pg).await;
            r?;
        }
        Command::Plugin { command } => {
            let (url, pg) = database(&config).await?;
            let r = plugin_command(&url, &config, command).await;
            stop_embedded(pg).await;
            r?;
        }
        Command::Serve => serve(config).await?,
        Command::Demo {
            admin,
            password_file,
        } => {
            let (url, pg) = database(&config).await?;
            let r = demo(&url, &config, &admin, &password_file).await;
            stop_embedded(pg).await;
            r?;
        }
    }
    Ok(())
}

/// The database URL: the configured one, or a private PostgreSQL started
/// inside the local home.
async fn database(
    config: &Config,
) -> anyhow::Result<(String, Option<cairn_embedded_pg::EmbeddedPostgres>)> {
    if let Some(u) = &config.database_url {
        return Ok((u.clone(), None));
    }
    let dir = config.local_home.join("postgres");
    tracing::info!(dir = %dir.display(), "CAIRN_DATABASE_URL is not set: starting the embedded PostgreSQL");
    let pg = cairn_embedded_pg::EmbeddedPostgres::start(cairn_embedded_pg::Options::new(&dir))
        .await
        .context("cannot start the embedded PostgreSQL")?;
    Ok((pg.url(), Some(pg)))
}

async fn stop_embedded(pg: Option<cairn_embedded_pg::EmbeddedPostgres>) {
    if let Some(pg) = pg {
        if let Err(e) = pg.stop().await {
            tracing::warn!(error = %e, "stopping the embedded PostgreSQL failed");
        }
    }
}

async fn demo(
    url: &str,
    config: &Config,
    admin: &str,
    password_file: &std::path::Path,
) -> anyhow::Result<()> {
    cairn::db::migrate(url).await?;
    let pool = cairn::db::pool(url, 2)?;
    let password = match std::fs::read_to_string(password_file) {
        Ok(p) => p.trim().to_owned(),
        Err(_) => {
            let p = cairn::auth::random_token(12);
            if let Some(dir) = password_file.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(password_file, &p)
                .with_context(|| format!("cannot write {}", password_file.display()))?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(password_file, std::fs::Permissions::from_mode(0o600))?;
            }
            p
        }
    };
    {
        let mut db = pool.get().await?;
        if cairn::users::by_name(&db, admin).await?.is_none() {
            cairn::users::create(
                &mut db,
                cairn::users::NewUser {
                    username: admin,
                    display_name: Some("Demo Administrator"),
                    email: Some("admin@example.com"),
                    password: &password,
                    admin: true,
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!("cannot create {admin}: {}", e.public_message()))?;
        }
    }
    let state = cairn::AppState::new(pool, config.shared_home.clone());
    let created = cairn::demo::seed(&state, admin)
        .await
        .map_err(|e| anyhow::anyhow!("cannot create the demo content: {e}"))?;
    println!(
        "demo space {}; log in as {admin} with the password in {}",
        if created {
            "created"
        } else {
            "already present"
        },
        password_file.display()
    );
    Ok(())
}

async fn index_command(url: &str, cmd: IndexCommand) -> anyhow::Result<()> {
    cairn::db::migrate(url).await?;
    let pool = cairn::db::pool(url, 2)?;
    let db = pool.get().await?;
    match cmd {
        IndexCommand::Rebuild => {
            let n = db
                .execute(
                    "INSERT INTO index_journal (content_id) SELECT id FROM content ORDER BY id",
                    &[],
                )
                .await?;
            println!(
                "queued {n} content rows; every node re-indexes them while search keeps answering"
            );
        }
        IndexCommand::Status => {
            let head: Option<i64> = db
                .query_one("SELECT max(seq) FROM index_journal", &[])
                .await?
                .get(0);
            let head = head.unwrap_or(0);
            println!("journal head: {head}");
            for r in db
                .query("SELECT node_id, seq, doc_count, updated_at FROM index_positions ORDER BY node_id", &[])
                .await?
            {
                let seq: i64 = r.get(1);
                let docs: i64 = r.get(2);
                let at: chrono::DateTime<chrono::Utc> = r.get(3);
                println!("{}: position {seq}, lag {}, {docs} documents, updated {at}", r.get::<_, String>(0), (head - seq).max(0));
            }
        }
    }
    Ok(())
}

async fn plugin_command(url: &str, config: &Config, cmd: PluginCommand) -> anyhow::Result<()> {
    use cairn::plugins::{system_viewer, Capability, Plugins};
    cairn::db::migrate(url).await?;
    let pool = cairn::db::pool(url, 2)?;
    let plugins = Plugins::new(pool, &config.shared_home);
    plugins.set_local_home(&config.local_home);
    plugins
        .reload(true)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.public_message()))?;
    let admin = system_viewer();
    let err = |e: cairn::error::Error| anyhow::anyhow!("{}", e.public_message());
    match cmd {
        PluginCommand::Install { manifest, grant } => {
            let mut caps = Vec::new();
            for g in grant.iter().filter(|g| !g.trim().is_empty()) {
                caps.push(Capability::parse(g).ok_or_else(|| {
                    anyhow::anyhow!("unknown capability {g:?} (known: log, content, kv, config)")
                })?);
            }
            let o = plugins
                .install_from_manifest(&admin, &manifest, Some(&caps), false)
                .await
                .map_err(err)?;
            println!(
                "{} {} {}{} (macros: {})",
                o.action,
                o.id,
                o.version,
                o.previous_version
                    .filter(|p| *p != o.version)
                    .map(|p| format!(", was {p}"))
                    .unwrap_or_default(),
                if o.macros.is_empty() {
                    "none".to_string()
                } else {
                    o.macros.join(", ")
                }
            );
        }
        PluginCommand::List => {
            let reg = plugins.registry();
            if reg.rows.is_empty() {
                println!("no plugins installed");
            }
            for r in &reg.rows {
                let state = if !r.enabled {
                    "disabled".to_string()
                } else if let Some(e) = reg.failed.get(&r.id) {
                    format!("FAILED: {e}")
                } else {
                    "enabled".to_string()
                };
                let caps: Vec<&str> = r.capabilities.iter().map(|c| c.name()).collect();
                println!(
                    "{}\t{}\t{}\t{}\tcapabilities: {}\tmacros: {}",
                    r.id,
                    r.version,
                    state,
                    r.name,
                    if caps.is_empty() {
                        "none".to_string()
                    } else {
                        caps.join(",")
                    },
                    r.manifest
                        .macros
                        .iter()
                        .map(|m| m.name.as_str())
                        .collect::<Vec<_>>()
                        .join(",")
                );
            }
        }
        PluginCommand::Enable { id } => {
            plugins.set_enabled(&admin, &id, true).await.map_err(err)?;
            println!("enabled {id}");
        }
        PluginCommand::Disable { id } => {
            plugins.set_enabled(&admin, &id, false).await.map_err(err)?;
            println!("disabled {id}");
        }
        PluginCommand::Remove { id } => {
            plugins.remove(&admin, &id).await.map_err(err)?;
            println!("removed {id}");
        }
    }
    Ok(())
}

async fn user_command(url: &str, cmd: UserCommand) -> anyhow::Result<()> {
    cairn::db::migrate(url).await?;
    let pool = cairn::db::pool(url, 2)?;
    match cmd {
        UserCommand::Create {
            name,
            admin,
            email,
            display_name,
            password_stdin: _,
        } => {
            let mut pw = String::new();
            std::io::stdin()
                .read_to_string(&mut pw)
                .context("cannot read the password from standard input")?;
            let pw = pw.trim_end_matches(['\n', '\r']);
            let mut db = pool.get().await?;
            let u = cairn::users::create(
                &mut db,
                cairn::users::NewUser {
                    username: &name,
                    display_name: display_name.as_deref(),
                    email: email.as_deref(),
                    password: pw,
                    admin,
                },
            )
            .await;
            match u {
                Ok(u) => println!(
                    "created user {}{}",
                    u.username,
                    if admin { " (administrator)" } else { "" }
                ),
                Err(e) => bail!("cannot create user {name}: {}", e.public_message()),
            }
        }
    }
    Ok(())
}

async fn serve(config: Config) -> anyhow::Result<()> {
    for dir in [&config.local_home, &config.shared_home] {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let (url, pg) = database(&config).await?;
    let pool = cairn::db::pool(&url, 16)?;
    let mut state = cairn::AppState::new(pool.clone(), config.shared_home.clone());
    let search_index =
        cairn::search::SearchIndex::open_or_restore(&config.local_home, &config.shared_home)
            .map_err(|e| anyhow::anyhow!("cannot open the search index: {e}"))?;
    state.search = Some(search_index.clone());
    let state_files = state.files.clone();
    state.files.max_size = config.max_attachment_size;
    state.base_url = config.base_url.clone();
    state.rate_limiter.set(config.rest_rate_limit);
    state.node_id = config.node_id.clone();
    state.plugins.set_local_home(&config.local_home);
    state.plugins.set_base_url(&config.base_url);
    let plugins = state.plugins.clone();
    let builtin_plugins = config.builtin_plugins.clone();
    let readiness = state.readiness.clone();
    let app = cairn::router(state);
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    tracing::info!(listen = %config.listen, base_url = %config.base_url, node_id = %config.node_id, "cairn serving");
    let (index, pool2, files, node_id) = (
        search_index.clone(),
        pool.clone(),
        state_files,
        config.node_id.clone(),
    );
    let (shared_home, snapshot_interval) =
        (config.shared_home.clone(), config.index_snapshot_interval);
    let migrate = tokio::spawn(async move {
        match cairn::db::migrate(&url).await {
            Ok(n) => tracing::info!(applied = n, "migrations done"),
            Err(e) => {
                tracing::error!(error = %e, "migrations failed; node stays STARTING");
                return;
            }
        }
        // Plugins: first-party ones installed or upgraded, the registry
        // loaded, then watched.
        if let Some(dir) = &builtin_plugins {
            if let Err(e) = plugins.install_builtin(dir).await {
                tracing::error!(error = %e, "first-party plugins not installed");
            }
        }
        if let Err(e) = plugins.reload(true).await {
            tracing::error!(error = %e, "plugin registry not loaded; retrying in the background");
        }
        plugins.spawn_watcher();
        plugins.spawn_event_dispatcher();
        // The node serves once its index has caught up with the journal.
        let started = std::time::Instant::now();
        match pool2.get().await {
            Ok(db) => match async {
                index.ensure_no_gap(&db).await?;
                index.catch_up(&db, &files).await
            }
            .await
            {
                Ok(n) => tracing::info!(
                    applied = n,
                    docs = index.doc_count(),
                    ms = started.elapsed().as_millis() as u64,
                    "search index caught up"
                ),
                Err(e) => {
                    tracing::error!(error = %e, "search index catch-up failed; the tailer retries")
                }
            },
            Err(e) => tracing::error!(error = %e, "no database connection for the index catch-up"),
        }
        index.spawn_tailer(pool2.clone(), url, files, node_id);
        index.spawn_snapshot_job(pool2, shared_home, snapshot_interval);
        readiness.set_ready();
    });
    let result = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await;
    migrate.abort();
    stop_embedded(pg).await;
    result?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
