//! A private PostgreSQL for one Cairn node, run from the machine's own PostgreSQL binaries
//! inside the node's local home, so that `cairn serve` works without `CAIRN_DATABASE_URL`.
//!
//! [`EmbeddedPostgres::start`] creates the cluster on first use (`initdb`), starts it
//! listening on 127.0.0.1 only, reuses it if a previous run left it running, and creates
//! the database. [`EmbeddedPostgres::stop`] (or dropping the handle) shuts it down.
//!
//! Layout of [`Options::dir`]:
//!
//! | path           | what                                                          |
//! |----------------|---------------------------------------------------------------|
//! | `data/`        | the cluster (`PGDATA`); Cairn's settings in `data/cairn.conf` |
//! | `postgres.log` | the server's log                                              |
//! | `tools.log`    | output of every `initdb` / `pg_ctl` run                       |
//! | `.s.PGSQL.*`   | the server's Unix socket (only when the path is short enough) |
//! | `start.lock`   | serialises concurrent starts on the same directory            |
//!
//! PostgreSQL refuses to run as root. A node started as root therefore runs PostgreSQL as
//! the `postgres` system user: the directory is handed to that user and every ancestor
//! directory is made traversable by it (each change is logged).
//!
//! Authentication is `trust`, limited to the Unix socket and 127.0.0.1: any local user who
//! can reach the port can connect as the superuser `cairn`. That is the price of working
//! with no configuration; a shared machine should set `CAIRN_DATABASE_URL` instead.

mod binaries;
mod error;
mod ownership;
mod pid_file;
mod settings;
mod tools;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub use error::Error;
use pid_file::ProcessState;
use tools::Tools;

mod data_dir;
mod server;

use data_dir::{init_cluster, is_initialised, lock, read_pg_version, touch_owned};
use server::{find_running, is_ready, server_version, start_server, stop_now};

/// The superuser `initdb` creates, and the user in [`EmbeddedPostgres::url`].
pub const SUPERUSER: &str = "cairn";

const INITDB_TIMEOUT: Duration = Duration::from_secs(180);
/// Given to `pg_ctl start -t`; generous because it includes crash recovery after a kill.
const START_TIMEOUT: Duration = Duration::from_secs(120);
/// How long a running server may take to answer (it may be starting up or recovering).
const READY_TIMEOUT: Duration = Duration::from_secs(60);
const STOP_TIMEOUT: Duration = Duration::from_secs(60);
/// Drop cannot report errors and blocks its thread, so it waits less than `stop`.
const DROP_STOP_TIMEOUT: Duration = Duration::from_secs(30);
const LOCK_TIMEOUT: Duration = Duration::from_secs(120);
const QUICK_TIMEOUT: Duration = Duration::from_secs(30);
/// Start attempts: retried while a killed server's backends are still exiting, or when an
/// automatically chosen port was taken between choosing and binding.
const START_ATTEMPTS: usize = 8;
/// The server log is set aside (to `postgres.log.1`) when it grows beyond this.
const MAX_SERVER_LOG: u64 = 16 * 1024 * 1024;
const POLL: Duration = Duration::from_millis(100);

/// Where and how to run the embedded PostgreSQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The directory that holds everything (e.g. `<local_home>/postgres`); created if missing.
    pub dir: PathBuf,
    /// PostgreSQL's bin directory. `None`: the newest `/usr/lib/postgresql/*/bin` (the
    /// version that created an existing cluster if that is installed), else `pg_ctl` on `PATH`.
    pub bin_dir: Option<PathBuf>,
    /// TCP port on 127.0.0.1. `None`: the port of the previous start if it is still free,
    /// else any free port.
    pub port: Option<u16>,
    /// The database to create if missing, e.g. `cairn`.
    pub database: String,
}

impl Options {
    /// Options for `dir` with every other field at its default (database `cairn`).
    pub fn new(dir: impl Into<PathBuf>) -> Options {
        Options {
            dir: dir.into(),
            bin_dir: None,
            port: None,
            database: "cairn".to_owned(),
        }
    }
}

/// A running private PostgreSQL.
///
/// Dropping it without calling [`stop`](Self::stop) still shuts the server down (a
/// synchronous fast shutdown that blocks the dropping thread for up to 30 s), so a node
/// that exits does not leave PostgreSQL behind. A node killed with SIGKILL does leave it
/// running; the next [`start`](Self::start) on the same directory reuses it.
///
/// Every handle stops the server it points to, including a handle that reused a server
/// started by another handle or process.
#[derive(Debug)]
pub struct EmbeddedPostgres {
    data_dir: PathBuf,
    bin_dir: PathBuf,
    port: u16,
    database: String,
    /// The postmaster; Drop signals it only while `postmaster.pid` still names it.
    pid: i32,
    tools: Tools,
    stopped: bool,
}

/// Paths inside [`Options::dir`].
struct Layout {
    dir: PathBuf,
    data: PathBuf,
    initdb_scratch: PathBuf,
    server_log: PathBuf,
    tool_log: PathBuf,
    lock: PathBuf,
}

impl Layout {
    fn new(dir: PathBuf) -> Layout {
        Layout {
            data: dir.join("data"),
            initdb_scratch: dir.join("data.initdb"),
            server_log: dir.join("postgres.log"),
            tool_log: dir.join("tools.log"),
            lock: dir.join("start.lock"),
            dir,
        }
    }
}

impl EmbeddedPostgres {
    /// Starts (or reuses) the private PostgreSQL in `opts.dir` and makes sure
    /// `opts.database` exists.
    ///
    /// On first use runs `initdb` (UTF8, trust authentication for local connections only,
    /// superuser [`SUPERUSER`]). If a server from an earlier run is still running on the
    /// directory and answers, it is reused. A server that crashed (even `kill -9`) leaves a
    /// stale `postmaster.pid`; PostgreSQL recovers from it on start.
    ///
    /// # Errors
    ///
    /// Every [`Error`] variant says what to do. The common ones: no PostgreSQL installed
    /// ([`Error::NoBinaries`], [`Error::BadBinDir`]), running as root without a `postgres`
    /// user ([`Error::NoServiceUser`]), a requested port taken ([`Error::PortInUse`]),
    /// `initdb`/`pg_ctl` failing ([`Error::CommandFailed`], with the tail of their output
    /// and of the server log).
    pub async fn start(opts: Options) -> Result<EmbeddedPostgres, Error> {
        validate_database_name(&opts.database)?;
        let Options {
            dir,
            bin_dir,
            port: requested_port,
            database,
        } = opts;

        let prepared = tokio::task::spawn_blocking(move || -> Result<_, Error> {
            let data_version = read_pg_version(&dir.join("data"))?;
            let bin_dir = binaries::locate(bin_dir.as_deref(), data_version.as_deref())?;
            let user = ownership::service_user()?;
            let dir = ownership::prepare_dir(&dir, user.as_ref())?;
            Ok((dir, bin_dir, user, data_version))
        })
        .await;
        let (dir, bin_dir, user, data_version) = match prepared {
            Ok(result) => result?,
            Err(join) => std::panic::resume_unwind(join.into_panic()),
        };

        let layout = Layout::new(dir);
        let tools = Tools {
            bin_dir: bin_dir.clone(),
            user: user.clone(),
            work_dir: layout.dir.clone(),
            log: layout.tool_log.clone(),
        };
        let bin_version = server_version(&tools).await?;
        if let Some(data_version) = data_version {
            if data_version != bin_version {
                return Err(Error::VersionMismatch {
                    data_dir: layout.data.clone(),
                    data_version,
                    bin_dir,
                    bin_version,
                });
            }
        }

        let _lock = lock(&layout, user.as_ref()).await?;
        touch_owned(&layout.tool_log, user.as_ref())?;

        let (pid, port) = match find_running(&layout, &tools).await? {
            Some((pid, port)) => {
                if requested_port.is_some_and(|wanted| wanted != port) {
                    tracing::warn!(port, requested_port, "the running embedded PostgreSQL listens on another port than configured; using it anyway (restart it to change the port)");
                }
                tracing::info!(pid, port, data_dir = %layout.data.display(), "reusing the embedded PostgreSQL that is already running");
                (pid, port)
            }
            None => {
                if !is_initialised(&layout.data)? {
                    init_cluster(&layout, &tools).await?;
                }
                let (pid, port) = start_server(&layout, &tools, requested_port).await?;
                tracing::info!(pid, port, version = %bin_version, data_dir = %layout.data.display(), "started the embedded PostgreSQL");
                (pid, port)
            }
        };

        let server = EmbeddedPostgres {
            data_dir: layout.data.clone(),
            bin_dir,
            port,
            database,
            pid,
            tools,
            stopped: false,
        };
        // From here on, an error drops `server`, which stops what was just started.
        server.wait_ready(&layout).await?;
        server.ensure_database().await?;
        Ok(server)
    }

    /// `postgres://cairn@127.0.0.1:PORT/DATABASE` (no password: trust authentication).
    pub fn url(&self) -> String {
        format!(
            "postgres://{SUPERUSER}@127.0.0.1:{}/{}",
            self.port,
            percent_encode(&self.database)
        )
    }

    /// The TCP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The cluster's data directory (`<dir>/data`).
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The PostgreSQL bin directory in use, e.g. for running `psql` against [`url`](Self::url).
    pub fn bin_dir(&self) -> &Path {
        &self.bin_dir
    }

    /// Shuts the server down with `pg_ctl stop -m fast` (open sessions are rolled back) and
    /// waits until it has exited. Succeeds if it was already stopped.
    ///
    /// # Errors
    ///
    /// [`Error::CommandFailed`] or [`Error::Timeout`] when `pg_ctl stop` fails or hangs. The
    /// handle is dropped either way, and its Drop retries a fast shutdown.
    pub async fn stop(mut self) -> Result<(), Error> {
        let result = self.stop_with_pg_ctl().await;
        if result.is_ok() {
            self.stopped = true;
        }
        result
    }

    async fn stop_with_pg_ctl(&self) -> Result<(), Error> {
        if !self.still_ours()? {
            tracing::debug!(pid = self.pid, "embedded PostgreSQL was already stopped");
            return Ok(());
        }
        let mut cmd = self.tools.command("pg_ctl", true);
        cmd.arg("stop")
            .arg("-D")
            .arg(&self.data_dir)
            .args(["-m", "fast", "-w", "-t"])
            .arg(STOP_TIMEOUT.as_secs().to_string());
        let outcome = self
            .tools
            .run(cmd, "pg_ctl stop", STOP_TIMEOUT + QUICK_TIMEOUT, None, true)
            .await?;
        // Stopped by someone else meanwhile: pg_ctl fails, but the goal is reached.
        if !outcome.status.success() && self.still_ours()? {
            return Err(self.tools.failure("pg_ctl stop", &outcome, ""));
        }
        tracing::info!(
            pid = self.pid,
            port = self.port,
            "stopped the embedded PostgreSQL"
        );
        Ok(())
    }

    /// Whether `postmaster.pid` still names our postmaster and it is alive.
    fn still_ours(&self) -> Result<bool, Error> {
        let file = pid_file::read(&self.data_dir)
            .map_err(|e| Error::io("read", pid_file::path(&self.data_dir), e))?;
        Ok(file.is_some_and(|file| {
            file.pid == self.pid
                && pid_file::process_state(self.pid, &self.data_dir) == ProcessState::Postgres
        }))
    }

    async fn wait_ready(&self, layout: &Layout) -> Result<(), Error> {
        let deadline = Instant::now() + READY_TIMEOUT;
        while !is_ready(&self.tools, self.port).await? {
            if Instant::now() >= deadline {
                return Err(Error::Timeout {
                    what: format!(
                        "waiting for PostgreSQL to accept connections on port {}",
                        self.port
                    ),
                    timeout: READY_TIMEOUT,
                    log: layout.server_log.clone(),
                    tail: tools::tail(&tools::read_from(&layout.server_log, 0).await, 20),
                });
            }
            tokio::time::sleep(POLL).await;
        }
        Ok(())
    }

    async fn ensure_database(&self) -> Result<(), Error> {
        // \gexec runs the generated statement only when the database is missing; :'db' and
        // %I quote the name, so any valid name is safe.
        const SQL: &str = "select format('create database %I', :'db') \
                           where not exists (select from pg_database where datname = :'db') \\gexec\n";
        let mut cmd = self.tools.command("psql", false);
        cmd.env("PGCLIENTENCODING", "UTF8")
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p"])
            .arg(self.port.to_string())
            .args(["-U", SUPERUSER, "-d", "postgres", "-v"])
            .arg(format!("db={}", self.database))
            .args(["-f", "-"]);
        let what = format!("creating database {}", self.database);
        let outcome = self
            .tools
            .run(cmd, &what, QUICK_TIMEOUT, Some(SQL.as_bytes()), true)
            .await?;
        if !outcome.status.success() {
            return Err(self.tools.failure(&what, &outcome, ""));
        }
        Ok(())
    }
}

impl Drop for EmbeddedPostgres {
    fn drop(&mut self) {
        if !self.stopped {
            stop_now(&self.data_dir, self.pid);
        }
    }
}

fn validate_database_name(name: &str) -> Result<(), Error> {
    let reason = if name.is_empty() {
        "it is empty"
    } else if name.len() > 63 {
        "PostgreSQL names are at most 63 bytes long"
    } else if name.contains('\0') {
        "it contains a NUL character"
    } else {
        return Ok(());
    };
    Err(Error::InvalidDatabaseName {
        name: name.to_owned(),
        reason,
    })
}

/// Percent-encodes everything but RFC 3986 unreserved characters, for the URL's path.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_names() {
        assert!(validate_database_name("cairn").is_ok());
        assert!(validate_database_name("wiki test-ä").is_ok());
        assert!(validate_database_name("").is_err());
        assert!(validate_database_name(&"x".repeat(64)).is_err());
    }

    #[test]
    fn url_encoding() {
        assert_eq!(percent_encode("cairn_1"), "cairn_1");
        assert_eq!(percent_encode("a b/ä"), "a%20b%2F%C3%A4");
    }
}
