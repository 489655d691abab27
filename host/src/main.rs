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
    /// Live settings, applied by every node within a second (stored in etcd
    /// in a cluster, in PostgreSQL standalone; every change is audited).
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// The cluster as etcd sees it.
    Cluster {
        #[command(subcommand)]
        command: ClusterCommand,
    },
    /// This (or another) node's membership.
    Node {
        #[command(subcommand)]
        command: NodeCommand,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Every setting: its value, whether it is set or a default, and what it means.
    List,
    /// One setting's value.
    Get { key: String },
    /// Change a setting (validated first; e.g. `cairn config set access_mode read-only`).
    Set { key: String, value: String },
    /// Return a setting to its default.
    Unset { key: String },
    /// Recent changes: who, when, old and new values.
    History {
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
}

#[derive(Subcommand)]
enum ClusterCommand {
    /// Nodes, their state and figures, and the leader.
    Status,
}

#[derive(Subcommand)]
enum NodeCommand {
    /// Drain a node: it reports MAINTENANCE so load balancers stop sending
    /// it work, finishes running requests, hands over leadership, leaves the
    /// cluster and exits. Waits until it has left.
    Drain {
        /// The node to drain (default: this configuration's CAIRN_NODE_ID).
        node: Option<String>,
        /// Give up waiting after this many seconds.
        #[arg(long, default_value_t = 60)]
        timeout: u64,
    },
}

#[derive(Subcommand)]
enum IndexCommand {
    /// Rebuild the search index online on every node: a new index is built
    /// from PostgreSQL beside the live one, swapped in atomically and
    /// snapshotted; searching never stops.
    Rebuild,
    /// Show the journal head and each node's position and lag.
    Status,
    /// Compare every document of this machine's index (CAIRN_LOCAL_HOME,
    /// read beside a running node) with PostgreSQL; exit status 1 when
    /// anything differs.
    Verify {
        /// Journal the differing documents, so every node re-applies them.
        #[arg(long)]
        repair: bool,
    },
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
        /// Accept the manifest's time and memory limits where they exceed
        /// the site defaults (refused otherwise).
        #[arg(long)]
        grant_limits: bool,
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

/// glibc's malloc, tuned for a long-running server: few arenas (one per
/// thread, as by default, keeps freed memory of every blocking thread), and
/// a fixed mmap threshold so large buffers (argon2's 19 MiB, request bodies,
/// index segments) go back to the system when freed instead of raising the
/// threshold and staying in the heap.
fn tune_malloc() {
    // SAFETY: mallopt only sets allocator parameters; called before any
    // other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1024 * 1024);
    }
}

fn main() -> anyhow::Result<()> {
    tune_malloc();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(async_main())
}

async fn async_main() -> anyhow::Result<()> {
    use tracing_subscriber::prelude::*;
    let (filter, log_reload) = tracing_subscriber::reload::Layer::new(
        tracing_subscriber::EnvFilter::try_from_env("CAIRN_LOG").unwrap_or_else(|_| "info".into()),
    );
    tracing_subscriber::registry()
        .with(filter)
        .with(tracing_subscriber::fmt::layer())
        .init();
    let set_log_level: Box<dyn Fn(&str) + Send + Sync> =
        Box::new(
            move |level: &str| match tracing_subscriber::EnvFilter::try_new(level) {
                Ok(f) => {
                    if log_reload.reload(f).is_ok() {
                        tracing::info!(level, "log level changed");
                    }
                }
                Err(e) => tracing::warn!(level, error = %e, "ignoring an invalid log level"),
            },
        );
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
            let r = index_command(&url, &config, command).await;
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
        Command::Serve => serve(config, set_log_level).await?,
        Command::Config { command } => config_command(&config, command).await?,
        Command::Cluster { command } => cluster_command(&config, command).await?,
        Command::Node { command } => node_command(&config, command).await?,
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

async fn index_command(url: &str, config: &Config, cmd: IndexCommand) -> anyhow::Result<()> {
    cairn::db::migrate(url).await?;
    let pool = cairn::db::pool(url, 2)?;
    let db = pool.get().await?;
    match cmd {
        IndexCommand::Rebuild => {
            db.batch_execute(&format!(
                "INSERT INTO index_journal (content_id) VALUES ({}); SELECT pg_notify('cairn_index', '')",
                cairn::search::REBUILD_MARKER
            ))
            .await?;
            println!(
                "rebuild requested: every node builds a new index beside its live one, swaps it in and \
                 snapshots it, while search keeps answering (progress: `cairn index status`, the log, /admin/search)"
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
            let epoch = db
                .query_opt("SELECT epoch, reason, changed_at FROM index_history", &[])
                .await?;
            if let Some(r) = epoch {
                let at: chrono::DateTime<chrono::Utc> = r.get(2);
                println!(
                    "history epoch: {} ({}, {at})",
                    r.get::<_, String>(0),
                    r.get::<_, String>(1)
                );
            }
        }
        IndexCommand::Verify { repair } => {
            let store = cairn::attach::Store::new(&config.shared_home, u64::MAX);
            let r = cairn::search::verify_dir(&config.local_home, &db, &store)
                .await
                .map_err(|e| anyhow::anyhow!("{}", e.public_message()))?;
            println!(
                "index at journal position {}: {} documents; PostgreSQL: {} current ({} ms)",
                r.position, r.indexed, r.current, r.ms
            );
            match &r.trusted {
                Ok(()) => println!("identity: matches this database's history"),
                Err(why) => {
                    println!("identity: NOT TRUSTED ({why}); a node opening it rebuilds it")
                }
            }
            let show = |v: &[i64]| {
                v.iter()
                    .take(20)
                    .map(|i| i.to_string())
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            println!(
                "missing from the index: {} {}",
                r.missing.len(),
                show(&r.missing)
            );
            println!(
                "ghosts (in the index, not in PostgreSQL): {} {}",
                r.ghosts.len(),
                show(&r.ghosts)
            );
            println!(
                "different content: {} {}",
                r.changed.len(),
                show(&r.changed)
            );
            if r.pending > 0 {
                println!("({} more differ only because the node has not applied their journal entries yet)", r.pending);
            }
            let differing = r.differing();
            if differing.is_empty() && r.trusted.is_ok() {
                println!("ok: the index agrees with PostgreSQL");
                return Ok(());
            }
            if repair && !differing.is_empty() {
                db.execute(
                    "INSERT INTO index_journal (content_id) SELECT unnest($1::bigint[]) ORDER BY 1",
                    &[&differing],
                )
                .await?;
                db.batch_execute("SELECT pg_notify('cairn_index', '')")
                    .await?;
                println!(
                    "repair: journaled {} documents; every node re-applies them",
                    differing.len()
                );
                return Ok(());
            }
            anyhow::bail!(
                "the index disagrees with PostgreSQL (use --repair to fix the documents)"
            );
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
        PluginCommand::Install {
            manifest,
            grant,
            grant_limits,
        } => {
            let mut caps = Vec::new();
            for g in grant.iter().filter(|g| !g.trim().is_empty()) {
                caps.push(Capability::parse(g).ok_or_else(|| {
                    anyhow::anyhow!("unknown capability {g:?} (known: log, content, kv, config)")
                })?);
            }
            let o = plugins
                .install_from_manifest(&admin, &manifest, Some(&caps), grant_limits, false)
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

async fn serve(
    config: Config,
    set_log_level: Box<dyn Fn(&str) + Send + Sync>,
) -> anyhow::Result<()> {
    for dir in [&config.local_home, &config.shared_home] {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let (url, pg) = database(&config).await?;
    let clustered = !config.etcd_endpoints.is_empty();
    // A clustered node's connections name it, so the database checks every
    // write it commits against its membership.
    let pool = cairn::db::pool_for_node(&url, 16, clustered.then_some(config.node_id.as_str()))?;
    let defaults = cairn::cluster::Defaults::from_config(&config);
    let readiness = cairn::status::Readiness::default();
    let cluster = if clustered {
        // Joining needs the cluster tables.
        cairn::db::migrate(&url).await?;
        cairn::cluster::Cluster::join(
            &config,
            pool.clone(),
            defaults,
            config.lease_ttl,
            readiness.clone(),
        )
        .await
        .context("cannot join the cluster")?
    } else {
        cairn::cluster::Cluster::standalone(
            &config.node_id,
            &config.base_url,
            pool.clone(),
            defaults,
            readiness.clone(),
        )
    };
    let mut state = cairn::AppState::new(pool.clone(), config.shared_home.clone());
    state.cluster = cluster.clone();
    state.readiness = readiness;
    // Opened now, trusted only once `settle` (after the migrations) has
    // checked it against the database.
    let search_index = cairn::search::SearchIndex::open(&config.local_home)
        .map_err(|e| anyhow::anyhow!("cannot open the search index: {e}"))?;
    state.search = Some(search_index.clone());
    let state_files = state.files.clone();
    state.files.set_max_size(config.max_attachment_size);
    state.base_url = config.base_url.clone();
    state.rate_limiter.set(config.rest_rate_limit);
    state.node_id = config.node_id.clone();
    state.plugins.set_local_home(&config.local_home);
    state.plugins.set_base_url(&config.base_url);
    state.spawn_settings_applier(Some(set_log_level));
    state.generation.spawn_listener(url.clone());
    search_index.set_generation(state.generation.clone());
    match std::env::var("CAIRN_RESPONSE_CACHE").as_deref() {
        Err(_) | Ok("on") => {}
        Ok("off") => state.generation.disable(),
        Ok(other) => anyhow::bail!("CAIRN_RESPONSE_CACHE must be on or off, not {other:?}"),
    }
    {
        let (index, plugins, pool) = (search_index.clone(), state.plugins.clone(), pool.clone());
        let head = std::sync::Arc::new(std::sync::atomic::AtomicI64::new(0));
        let head2 = head.clone();
        let pool2 = pool.clone();
        tokio::spawn(async move {
            loop {
                if let Ok(db) = pool2.get().await {
                    if let Ok(r) = db
                        .query_one("SELECT coalesce(max(seq), 0) FROM index_journal", &[])
                        .await
                    {
                        head2.store(r.get(0), std::sync::atomic::Ordering::Relaxed);
                    }
                }
                tokio::time::sleep(std::time::Duration::from_secs(2)).await;
            }
        });
        cluster.set_figures(std::sync::Arc::new(move || {
            let st = pool.status();
            let (rss, cpu) = cairn::metrics::process_figures();
            let pos = index.position();
            cairn::cluster::Figures {
                memory_rss_bytes: rss,
                cpu_seconds: cpu,
                load_average: cairn::metrics::load_average(),
                db_pool_size: st.size,
                db_pool_available: st.available,
                db_pool_max: st.max_size,
                index_docs: index.doc_count(),
                index_position: pos,
                index_lag: (head.load(std::sync::atomic::Ordering::Relaxed) - pos).max(0),
                index_degraded: index.degraded().unwrap_or_default(),
                index_drift: index
                    .health()
                    .last_check
                    .map(|c| format!("{} differed, {} repaired", c.differing, c.repaired))
                    .unwrap_or_default(),
                plugins: plugins
                    .registry()
                    .loaded
                    .iter()
                    .map(|(id, l)| (id.clone(), l.row.hash.clone()))
                    .collect(),
                ..Default::default()
            }
        }));
    }
    cluster.start();
    let plugins = state.plugins.clone();
    let builtin_plugins = config.builtin_plugins.clone();
    let readiness = state.readiness.clone();
    let job_ctx = cairn::cluster::jobs::JobContext {
        cluster: cluster.clone(),
        pool: pool.clone(),
        index: Some(search_index.clone()),
        plugins: plugins.clone(),
        shared_home: config.shared_home.clone(),
    };
    let app = cairn::router(state);
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    tracing::info!(listen = %config.listen, base_url = %config.base_url, node_id = %config.node_id, clustered, "cairn serving");
    let (index, pool2, files, node_id) = (
        search_index.clone(),
        pool.clone(),
        state_files,
        config.node_id.clone(),
    );
    let cluster2 = cluster.clone();
    let check_interval = config.index_check_interval;
    let migrate = tokio::spawn(async move {
        match cairn::db::migrate(&url).await {
            Ok(n) => tracing::info!(applied = n, "migrations done"),
            Err(e) => {
                tracing::error!(error = %e, "migrations failed; node stays STARTING");
                return;
            }
        }
        // Plugins: first-party ones (embedded in the binary, or a
        // developer's build with CAIRN_BUILTIN_PLUGINS) installed or
        // upgraded, the registry loaded, then watched.
        match &builtin_plugins {
            Some(dir) => {
                if let Err(e) = plugins.install_builtin(dir).await {
                    tracing::error!(error = %e, "first-party plugins not installed");
                }
            }
            None => {
                plugins.install_embedded().await;
            }
        }
        if let Err(e) = plugins.reload(true).await {
            tracing::error!(error = %e, "plugin registry not loaded; retrying in the background");
        }
        plugins.spawn_watcher();
        // The node serves once its index has caught up with the journal.
        let started = std::time::Instant::now();
        match pool2.get().await {
            Ok(db) => match async {
                // Keep, restore or rebuild: only an index of this
                // database's history is used (search/integrity.rs).
                let settled = index.settle(&pool2, &files).await?;
                tracing::info!(outcome = ?settled, "search index settled");
                if let Some(why) = index.degraded() {
                    return Ok(Err(why));
                }
                index.catch_up(&db, &files).await.map(Ok)
            }
            .await
            {
                Ok(Err(why)) => tracing::warn!(
                    reason = %why,
                    "serving with search degraded until the rebuild is swapped in (/status says searchDegraded)"
                ),
                Ok(Ok(n)) => tracing::info!(
                    applied = n,
                    docs = index.doc_count(),
                    position = index.position(),
                    ms = started.elapsed().as_millis() as u64,
                    "search index caught up"
                ),
                Err(e) => {
                    index.set_failing(true);
                    tracing::error!(error = %e, "search index catch-up failed; the tailer retries (status ERROR until it succeeds)")
                }
            },
            Err(e) => {
                index.set_failing(true);
                tracing::error!(error = %e, "no database connection for the index catch-up")
            }
        }
        index.spawn_drift_checker(pool2.clone(), files.clone(), check_interval);
        index.spawn_tailer(pool2.clone(), url, files, node_id);
        cairn::cluster::jobs::spawn(job_ctx);
        readiness.set_ready();
        cluster2.set_ready();
    });
    let cluster3 = cluster.clone();
    let shutdown = async move {
        tokio::select! {
            () = shutdown_signal() => {
                // Leave cleanly: members see us go at once instead of
                // after the lease TTL, and leadership moves on.
                if cluster3.is_clustered() && cluster3.state() != cairn::cluster::NodeState::Left {
                    cluster3.drain().await;
                }
            }
            () = cluster3.left() => tracing::info!("drained; exiting"),
        }
    };
    let result = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
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

/// Who a command-line change is audited as.
fn cli_actor() -> String {
    // SAFETY: getuid has no preconditions and cannot fail.
    let uid = unsafe { libc::getuid() };
    let from_passwd = || {
        std::fs::read_to_string("/etc/passwd").ok().and_then(|p| {
            p.lines().find_map(|l| {
                let f: Vec<&str> = l.split(':').collect();
                (f.get(2) == Some(&uid.to_string().as_str())).then(|| f[0].to_owned())
            })
        })
    };
    let name = std::env::var("SUDO_USER")
        .ok()
        .or_else(|| std::env::var("USER").ok())
        .or_else(from_passwd)
        .unwrap_or_else(|| format!("uid {uid}"));
    format!("cli:{name}")
}

async fn config_command(config: &Config, cmd: ConfigCommand) -> anyhow::Result<()> {
    use cairn::cluster::{settings, Settings, Store};
    let (url, pg) = database(config).await?;
    let r = async {
        cairn::db::migrate(&url).await?;
        let pool = cairn::db::pool(&url, 2)?;
        let store = if config.etcd_endpoints.is_empty() {
            Store::Pg(pool.clone())
        } else {
            Store::Etcd {
                client: Box::new(
                    cairn::cluster::connect(
                        &config.etcd_endpoints,
                        std::time::Duration::from_secs(5),
                    )
                    .await?,
                ),
                prefix: cairn::cluster::prefix_of(&config.cluster),
            }
        };
        let fail = |e: cairn::error::Error| anyhow::anyhow!("{}", e.public_message());
        let stored = store.load().await.map_err(fail)?;
        let effective = Settings::resolve(
            &cairn::cluster::Defaults::from_config(config),
            stored.clone(),
        );
        match cmd {
            ConfigCommand::List => {
                for d in settings::DEFS {
                    let origin = if stored.contains_key(d.key) {
                        "set"
                    } else {
                        "default"
                    };
                    println!(
                        "{} = {:?} ({origin})\n    {}",
                        d.key,
                        effective.text(d.key),
                        d.help
                    );
                }
            }
            ConfigCommand::Get { key } => {
                settings::def(&key).ok_or_else(|| {
                    anyhow::anyhow!("unknown setting {key:?}; `cairn config list` shows them all")
                })?;
                println!("{}", effective.text(&key));
            }
            ConfigCommand::Set { key, value } => {
                let (old, new) = store
                    .set(&pool, &key, Some(&value), &cli_actor(), &config.node_id)
                    .await
                    .map_err(fail)?;
                println!(
                    "{key}: {} -> {}; every node applies it within a second",
                    old.unwrap_or_else(|| "(default)".into()),
                    new.unwrap_or_default()
                );
            }
            ConfigCommand::Unset { key } => {
                let (old, _) = store
                    .set(&pool, &key, None, &cli_actor(), &config.node_id)
                    .await
                    .map_err(fail)?;
                println!(
                    "{key}: {} -> (default {:?})",
                    old.unwrap_or_else(|| "(default)".into()),
                    effective.defaults.get(&key).cloned().unwrap_or_default()
                );
            }
            ConfigCommand::History { limit } => {
                let db = pool.get().await?;
                for e in settings::audit_log(&db, limit).await.map_err(fail)? {
                    println!(
                        "{}\t{}\t{}: {} -> {}\t(on {})",
                        e.changed_at
                            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                        e.changed_by,
                        e.key,
                        e.old_value.unwrap_or_else(|| "(default)".into()),
                        e.new_value.unwrap_or_else(|| "(default)".into()),
                        e.node_id
                    );
                }
            }
        }
        Ok::<(), anyhow::Error>(())
    }
    .await;
    stop_embedded(pg).await;
    r
}

/// Reads the cluster's members and leader from etcd.
async fn read_members(
    config: &Config,
) -> anyhow::Result<(
    etcd_client::Client,
    Vec<cairn::cluster::MemberInfo>,
    Option<String>,
)> {
    if config.etcd_endpoints.is_empty() {
        bail!("this node is standalone (CAIRN_ETCD_ENDPOINTS is not set): there is no cluster to show");
    }
    let mut client =
        cairn::cluster::connect(&config.etcd_endpoints, std::time::Duration::from_secs(5)).await?;
    let prefix = cairn::cluster::prefix_of(&config.cluster);
    let resp = client
        .get(
            format!("{prefix}nodes/"),
            Some(etcd_client::GetOptions::new().with_prefix()),
        )
        .await?;
    let members = resp
        .kvs()
        .iter()
        .filter_map(|kv| serde_json::from_slice(kv.value()).ok())
        .collect();
    let leader = client
        .get(format!("{prefix}leader"), None)
        .await?
        .kvs()
        .first()
        .map(|kv| String::from_utf8_lossy(kv.value()).into_owned());
    Ok((client, members, leader))
}

async fn cluster_command(config: &Config, cmd: ClusterCommand) -> anyhow::Result<()> {
    match cmd {
        ClusterCommand::Status => {
            let (_, members, leader) = read_members(config).await?;
            println!(
                "cluster {:?}: {} node(s), leader {}",
                config.cluster,
                members.len(),
                leader.as_deref().unwrap_or("(none yet)")
            );
            let versions: std::collections::BTreeSet<&str> =
                members.iter().map(|m| m.version.as_str()).collect();
            if versions.len() > 1 {
                println!(
                    "MIXED versions: {}",
                    versions.into_iter().collect::<Vec<_>>().join(", ")
                );
            }
            for m in &members {
                let f = &m.figures;
                println!(
                    "{}{}\t{}\t{}\tv{}\tstarted {}\tlease age {} ms\trss {} MiB\tload {:.2}\t{:.1} req/s\tdb pool {}/{} in use\tindex lag {}, {} docs\tplugins {}",
                    m.id,
                    if leader.as_deref() == Some(m.id.as_str()) { " (leader)" } else { "" },
                    m.state,
                    m.address,
                    m.version,
                    m.started,
                    f.lease_age_ms,
                    f.memory_rss_bytes / (1024 * 1024),
                    f.load_average,
                    f.request_rate,
                    f.db_pool_size.saturating_sub(f.db_pool_available),
                    f.db_pool_max,
                    f.index_lag,
                    f.index_docs,
                    f.plugins.len()
                );
            }
            let diverging = cairn::cluster::plugin_divergence(&members);
            for (id, hashes) in diverging {
                println!("plugin {id} differs between nodes: {hashes}");
            }
        }
    }
    Ok(())
}

async fn node_command(config: &Config, cmd: NodeCommand) -> anyhow::Result<()> {
    match cmd {
        NodeCommand::Drain { node, timeout } => {
            let node = node.unwrap_or_else(|| config.node_id.clone());
            let (mut client, members, _) = read_members(config).await?;
            if !members.iter().any(|m| m.id == node) {
                bail!(
                    "node {node:?} is not a live member of cluster {:?} (members: {})",
                    config.cluster,
                    members
                        .iter()
                        .map(|m| m.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            let prefix = cairn::cluster::prefix_of(&config.cluster);
            client
                .put(format!("{prefix}drain/{node}"), cli_actor(), None)
                .await?;
            println!("draining {node}: it stops taking new work, finishes what runs, then leaves");
            let started = std::time::Instant::now();
            loop {
                tokio::time::sleep(std::time::Duration::from_millis(250)).await;
                let gone = client
                    .get(format!("{prefix}nodes/{node}"), None)
                    .await?
                    .kvs()
                    .is_empty();
                if gone {
                    println!(
                        "{node} has left the cluster ({:.1} s); it is safe to stop or upgrade it",
                        started.elapsed().as_secs_f64()
                    );
                    return Ok(());
                }
                if started.elapsed().as_secs() >= timeout {
                    let _ = client.delete(format!("{prefix}drain/{node}"), None).await;
                    bail!(
                        "{node} did not leave within {timeout} s; the drain request was withdrawn"
                    );
                }
            }
        }
    }
}
