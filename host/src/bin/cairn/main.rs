//! The `cairn` command line: `serve` runs a node (`cairn::node`); the other
//! commands act on its database, its index, its plugins, its users and its
//! cluster.
//!
//! Invariant: this binary parses and dispatches; every operation it runs is
//! a library function the web UI, REST or the node itself uses too.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use cairn::config::Config;

mod data;
mod operate;
use data::{demo, index_command, plugin_command, user_command};
use operate::{cluster_command, config_command, node_command};

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
    /// Import a Confluence XML space export or site backup (a zip).
    Import {
        file: PathBuf,
        /// Import the space under this key (its own key exists already).
        #[arg(long = "as")]
        as_key: Option<String>,
    },
    /// Recent imports (any node's), or one import's progress.
    Imports {
        /// One import's id.
        id: Option<i64>,
        /// Show the import's progress until it ends (wherever it runs).
        #[arg(long, requires = "id")]
        follow: bool,
    },
    /// Export a space as a Confluence XML space export (`cairn export KEY
    /// FILE.zip`), a space or page tree as static HTML (`--format html`, a
    /// zip), or a page or page tree as PDF (`--page ID --format pdf
    /// [--tree]`; needs Chromium). HTML and PDF render as `--user` sees
    /// the pages, through the installed plugins.
    Export {
        /// KEY FILE, or FILE with --page.
        #[arg(num_args = 1..=2, required = true)]
        args: Vec<String>,
        #[arg(long, value_enum, default_value_t = ExportFormat::Xml)]
        format: ExportFormat,
        /// A page (and with --tree the pages under it) instead of a space.
        #[arg(long)]
        page: Option<i64>,
        #[arg(long, requires = "page")]
        tree: bool,
        /// Whose view of the pages an HTML or PDF export shows.
        #[arg(long, default_value = "admin")]
        user: String,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ExportFormat {
    Xml,
    Html,
    Pdf,
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
        /// Capabilities to grant, comma-separated (log, content, kv, config, tasks);
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
    let cli = Cli::parse();
    let config = Config::load(cli.config.as_deref())?;
    let initial = tracing_subscriber::EnvFilter::try_new(&config.log);
    let bad_filter = initial.as_ref().err().map(ToString::to_string);
    let (filter, log_reload) =
        tracing_subscriber::reload::Layer::new(initial.unwrap_or_else(|_| "info".into()));
    tracing_subscriber::registry()
        .with(filter)
        .with(tracing_subscriber::fmt::layer())
        .init();
    if let Some(e) = bad_filter {
        tracing::warn!(filter = %config.log, error = %e, "CAIRN_LOG is not a valid filter; logging at info");
    }
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
    match cli.command {
        Command::Migrate => {
            let db = cairn::node::Database::open(&config).await?;
            let url = db.url().to_owned();
            let n = cairn::db::migrate(&url).await?;
            tracing::info!(applied = n, "migrations done");
            db.close().await;
        }
        Command::Index { command } => {
            let db = cairn::node::Database::open(&config).await?;
            let url = db.url().to_owned();
            let r = index_command(&url, &config, command).await;
            db.close().await;
            r?;
        }
        Command::User { command } => {
            let db = cairn::node::Database::open(&config).await?;
            let url = db.url().to_owned();
            let r = user_command(&url, command).await;
            db.close().await;
            r?;
        }
        Command::Plugin { command } => {
            let db = cairn::node::Database::open(&config).await?;
            let url = db.url().to_owned();
            let r = plugin_command(&url, &config, command).await;
            db.close().await;
            r?;
        }
        Command::Serve => cairn::node::serve(config, set_log_level).await?,
        Command::Config { command } => config_command(&config, command).await?,
        Command::Cluster { command } => cluster_command(&config, command).await?,
        Command::Node { command } => node_command(&config, command).await?,
        Command::Import { file, as_key } => {
            let db = cairn::node::Database::open(&config).await?;
            let r = cairn::import::cli(db.url(), &config, &file, as_key).await;
            db.close().await;
            println!("{}", r.map_err(|e| anyhow::anyhow!("import failed: {e}"))?);
        }
        Command::Imports { id, follow } => {
            let db = cairn::node::Database::open(&config).await?;
            let r = cairn::import::imports_cli(db.url(), id, follow).await;
            db.close().await;
            print!("{}", r.map_err(|e| anyhow::anyhow!("{e}"))?);
        }
        Command::Export {
            args,
            format,
            page,
            tree,
            user,
        } => {
            let (key, file) = match (page, args.as_slice()) {
                (None, [key, file]) => (key.clone(), PathBuf::from(file)),
                (Some(_), [file]) => (String::new(), PathBuf::from(file)),
                (None, _) => {
                    anyhow::bail!("cairn export KEY FILE: name the space and the file to write")
                }
                (Some(_), _) => {
                    anyhow::bail!("cairn export --page ID FILE: name only the file to write")
                }
            };
            let db = cairn::node::Database::open(&config).await?;
            let r = match format {
                ExportFormat::Xml if page.is_some() => Err(anyhow::anyhow!(
                    "an XML export is of a whole space: cairn export KEY FILE.zip"
                )),
                ExportFormat::Xml => cairn::import::export_cli(db.url(), &config, &key, &file)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}")),
                _ => static_export(&config, db.url(), format, &key, page, tree, &user, &file).await,
            };
            db.close().await;
            println!("{}", r.map_err(|e| anyhow::anyhow!("export failed: {e}"))?);
        }
        Command::Demo {
            admin,
            password_file,
        } => {
            let db = cairn::node::Database::open(&config).await?;
            let url = db.url().to_owned();
            let r = demo(&url, &config, &admin, &password_file).await;
            db.close().await;
            r?;
        }
    }
    Ok(())
}

/// `cairn export … --format html|pdf`: rendered here, as `user` sees the
/// pages, through the installed plugins.
#[allow(clippy::too_many_arguments)]
async fn static_export(
    config: &Config,
    url: &str,
    format: ExportFormat,
    key: &str,
    page: Option<i64>,
    tree: bool,
    user: &str,
    file: &std::path::Path,
) -> anyhow::Result<String> {
    use cairn::static_export::{self, Root};
    let state = cairn::node::offline_state(config, url).await?;
    let db = state.pool.get().await?;
    let who = cairn::users::by_name(&db, user).await?.ok_or_else(|| {
        anyhow::anyhow!("no user named {user:?} (choose whose view to export with --user)")
    })?;
    let viewer = cairn::perms::Viewer::load(&db, Some(who)).await?;
    drop(db);
    let root = match (page, tree) {
        (Some(id), true) => Root::Tree(id),
        (Some(id), false) if format == ExportFormat::Pdf => Root::Page(id),
        (Some(id), false) => Root::Tree(id),
        (None, _) if format == ExportFormat::Pdf => {
            anyhow::bail!(
                "a PDF export is of a page: cairn export --page ID FILE.pdf --format pdf [--tree]"
            )
        }
        (None, _) => Root::Space(key.to_owned()),
    };
    match format {
        ExportFormat::Pdf => {
            let bytes = static_export::pdf(&state, &viewer, root)
                .await
                .map_err(|e| anyhow::anyhow!("{}", e.public_message()))?;
            std::fs::write(file, &bytes)
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", file.display()))?;
            Ok(format!(
                "wrote {} ({} bytes of PDF)",
                file.display(),
                bytes.len()
            ))
        }
        _ => {
            let n = static_export::html_zip(&state, &viewer, root, file)
                .await
                .map_err(|e| anyhow::anyhow!("{}", e.public_message()))?;
            Ok(format!(
                "wrote {}: {n} pages as static HTML",
                file.display()
            ))
        }
    }
}
