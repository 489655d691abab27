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

use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub use error::Error;
use ownership::{DirLock, ServiceUser};
use pid_file::ProcessState;
use tools::Tools;

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

/// Fast shutdown without pg_ctl or a runtime: SIGINT is what `pg_ctl stop -m fast` sends.
fn stop_now(data_dir: &Path, pid: i32) {
    let ours = |file: Option<pid_file::PidFile>| {
        file.is_some_and(|file| {
            file.pid == pid && pid_file::process_state(pid, data_dir) == ProcessState::Postgres
        })
    };
    if !ours(pid_file::read(data_dir).ok().flatten()) {
        return;
    }
    // SAFETY: plain syscall; the pid was just confirmed to be our postmaster.
    if unsafe { libc::kill(pid, libc::SIGINT) } != 0 {
        tracing::warn!(pid, error = %io::Error::last_os_error(), "could not signal the embedded PostgreSQL to stop");
        return;
    }
    let deadline = Instant::now() + DROP_STOP_TIMEOUT;
    while Instant::now() < deadline {
        // The postmaster removes its pid file shortly before it exits: wait
        // for the process itself, so "dropped" means "gone".
        if pid_file::process_state(pid, data_dir) != ProcessState::Postgres {
            tracing::info!(pid, "stopped the embedded PostgreSQL");
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    tracing::warn!(pid, data_dir = %data_dir.display(), "the embedded PostgreSQL did not stop within {}s", DROP_STOP_TIMEOUT.as_secs());
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

/// The major version in `PG_VERSION`, or `None` when there is no cluster yet.
fn read_pg_version(data_dir: &Path) -> Result<Option<String>, Error> {
    let path = data_dir.join("PG_VERSION");
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(Some(text.trim().to_owned())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("read", path, e)),
    }
}

fn is_initialised(data_dir: &Path) -> Result<bool, Error> {
    if read_pg_version(data_dir)?.is_some() {
        return Ok(true);
    }
    match std::fs::read_dir(data_dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(Error::io("list directory", data_dir, e)),
        Ok(mut entries) => {
            // An empty directory (made by hand, say) is fine to replace; anything else may
            // be someone's data.
            if entries.next().is_some() {
                return Err(Error::NotADataDir {
                    path: data_dir.to_path_buf(),
                });
            }
            std::fs::remove_dir(data_dir)
                .map_err(|e| Error::io("remove empty directory", data_dir, e))?;
            Ok(false)
        }
    }
}

async fn server_version(tools: &Tools) -> Result<String, Error> {
    let mut cmd = tools.command("pg_ctl", false);
    cmd.arg("--version");
    let outcome = tools
        .run(cmd, "pg_ctl --version", QUICK_TIMEOUT, None, false)
        .await?;
    match binaries::parse_major_version(&outcome.output) {
        Some(version) if outcome.status.success() => Ok(version),
        _ => Err(tools.failure("pg_ctl --version", &outcome, "")),
    }
}

async fn lock(layout: &Layout, user: Option<&ServiceUser>) -> Result<DirLock, Error> {
    let deadline = Instant::now() + LOCK_TIMEOUT;
    loop {
        if let Some(lock) = DirLock::try_acquire(&layout.lock)? {
            ownership::give_to(&layout.lock, user)?;
            return Ok(lock);
        }
        if Instant::now() >= deadline {
            return Err(Error::Locked {
                dir: layout.dir.clone(),
                lock: layout.lock.clone(),
                timeout: LOCK_TIMEOUT,
            });
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Creates `path` if missing and hands it to the service user, so that the whole directory
/// belongs to one account even when this process runs as root.
fn touch_owned(path: &Path, user: Option<&ServiceUser>) -> Result<(), Error> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| Error::io("create", path, e))?;
    ownership::give_to(path, user)
}

/// The postmaster from an earlier run, if it is alive: `(pid, port)` once it answers.
async fn find_running(layout: &Layout, tools: &Tools) -> Result<Option<(i32, u16)>, Error> {
    let pid_path = pid_file::path(&layout.data);
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        let Some(file) =
            pid_file::read(&layout.data).map_err(|e| Error::io("read", &pid_path, e))?
        else {
            return Ok(None);
        };
        match pid_file::process_state(file.pid, &layout.data) {
            // A crash's leftovers: PostgreSQL itself recognises the dead pid and recovers.
            ProcessState::Gone => return Ok(None),
            ProcessState::Reused | ProcessState::Zombie => {
                remove_stale_lock_files(layout, file.pid)?;
                return Ok(None);
            }
            ProcessState::Postgres => {
                // It may be starting up, recovering or shutting down; wait for it to settle.
                if let Some(port) = file.port {
                    if is_ready(tools, port).await? {
                        return Ok(Some((file.pid, port)));
                    }
                }
                if Instant::now() >= deadline {
                    return Err(Error::Unresponsive {
                        pid: file.pid,
                        data_dir: layout.data.clone(),
                        timeout: READY_TIMEOUT,
                    });
                }
                tokio::time::sleep(POLL).await;
            }
        }
    }
}

/// The pid in `postmaster.pid` names an unreaped zombie (a container init that does not
/// reap), or after a reboot or container restart another program; PostgreSQL would then
/// refuse to start ("lock file already exists"). Its own check of the old shared memory
/// segment still protects against orphaned backends of the dead server.
fn remove_stale_lock_files(layout: &Layout, pid: i32) -> Result<(), Error> {
    let pid_path = pid_file::path(&layout.data);
    tracing::warn!(pid, path = %pid_path.display(), "removing the lock files of a PostgreSQL that is gone (its pid is a zombie or another program)");
    remove_if_exists(&pid_path)?;
    let entries =
        std::fs::read_dir(&layout.dir).map_err(|e| Error::io("list directory", &layout.dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("list directory", &layout.dir, e))?;
        if entry.file_name().to_string_lossy().starts_with(".s.PGSQL.") {
            remove_if_exists(&entry.path())?;
        }
    }
    Ok(())
}

fn remove_if_exists(path: &Path) -> Result<(), Error> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(Error::io("remove", path, e)),
        _ => Ok(()),
    }
}

/// Runs initdb into a scratch directory and renames it into place, so an interrupted initdb
/// never leaves a half-made `data/` that later looks like a cluster.
async fn init_cluster(layout: &Layout, tools: &Tools) -> Result<(), Error> {
    let scratch = &layout.initdb_scratch;
    remove_scratch(scratch)?;
    tracing::info!(data_dir = %layout.data.display(), "creating the embedded PostgreSQL cluster (initdb)");
    // C.UTF-8 gives upper()/lower() and ILIKE that understand non-ASCII text; plain C is the
    // fallback for systems without that locale.
    for locale in ["C.UTF-8", "C"] {
        let mut cmd = tools.command("initdb", true);
        cmd.arg("-D")
            .arg(scratch)
            .args(["-U", SUPERUSER, "-A", "trust", "-E", "UTF8"])
            .arg(format!("--locale={locale}"));
        let outcome = tools.run(cmd, "initdb", INITDB_TIMEOUT, None, true).await?;
        if outcome.status.success() {
            break;
        }
        if locale != "C" && outcome.output.contains("invalid locale") {
            tracing::info!(
                locale,
                "locale unavailable; retrying initdb with the C locale"
            );
            remove_scratch(scratch)?;
            continue;
        }
        return Err(tools.failure("initdb", &outcome, ""));
    }
    let conf = scratch.join("postgresql.conf");
    let append = || -> io::Result<()> {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new().append(true).open(&conf)?;
        file.write_all(settings::INCLUDE_LINE.as_bytes())?;
        file.sync_all()
    };
    append().map_err(|e| Error::io("append to", &conf, e))?;
    std::fs::rename(scratch, &layout.data).map_err(|e| Error::io("move into place", scratch, e))
}

fn remove_scratch(scratch: &Path) -> Result<(), Error> {
    match std::fs::remove_dir_all(scratch) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(Error::io(
            "remove the leftovers of an interrupted initdb in",
            scratch,
            e,
        )),
        _ => Ok(()),
    }
}

/// `pg_ctl start`, retried for the transient failures after a crash or a port race.
async fn start_server(
    layout: &Layout,
    tools: &Tools,
    requested_port: Option<u16>,
) -> Result<(i32, u16), Error> {
    rotate_server_log(&layout.server_log)?;
    let mut taken_ports = Vec::new();
    let mut last_error = None;
    for _ in 0..START_ATTEMPTS {
        let port = choose_port(requested_port, &layout.data, &taken_ports)?;
        write_settings(layout, tools.user.as_ref(), port)?;
        let log_start = tools::file_len(&layout.server_log).await;
        let mut cmd = tools.command("pg_ctl", true);
        cmd.arg("start")
            .arg("-D")
            .arg(&layout.data)
            .arg("-l")
            .arg(&layout.server_log)
            .args(["-w", "-t"])
            .arg(START_TIMEOUT.as_secs().to_string());
        let outcome = match tools
            .run(
                cmd,
                "pg_ctl start",
                START_TIMEOUT + QUICK_TIMEOUT,
                None,
                true,
            )
            .await
        {
            Ok(outcome) => outcome,
            Err(Error::Timeout { what, timeout, .. }) => {
                // The server may still come up after we give up; do not leave it behind.
                if let Ok(Some(file)) = pid_file::read(&layout.data) {
                    stop_now(&layout.data, file.pid);
                }
                return Err(Error::Timeout {
                    what,
                    timeout,
                    log: layout.server_log.clone(),
                    tail: tools::tail(&tools::read_from(&layout.server_log, log_start).await, 20),
                });
            }
            Err(e) => return Err(e),
        };
        let server_log = tools::read_from(&layout.server_log, log_start).await;
        if outcome.status.success() {
            let pid = pid_file::read(&layout.data)
                .map_err(|e| Error::io("read", pid_file::path(&layout.data), e))?
                .map(|file| file.pid);
            return match pid {
                Some(pid) => Ok((pid, port)),
                None => Err(tools.failure(
                    "pg_ctl start (no postmaster.pid afterwards)",
                    &outcome,
                    &server_log,
                )),
            };
        }
        let error = tools.failure("pg_ctl start", &outcome, &server_log);
        if server_log.contains("pre-existing shared memory block")
            || server_log.contains("lock file")
        {
            // Backends of a killed postmaster are still exiting; PostgreSQL refuses to start
            // until the last one has let go of the old shared memory.
            tracing::info!("waiting for the processes of a crashed PostgreSQL to exit");
            tokio::time::sleep(Duration::from_secs(1)).await;
        } else if server_log.contains("could not bind")
            || server_log.contains("Address already in use")
        {
            if let Some(port) = requested_port {
                return Err(Error::PortInUse { port });
            }
            // Someone took the free port between choosing and binding; choose another.
            tracing::info!(port, "port was taken meanwhile; choosing another");
            taken_ports.push(port);
        } else {
            return Err(error);
        }
        last_error = Some(error);
    }
    Err(last_error.unwrap_or_else(|| Error::Timeout {
        what: "starting PostgreSQL".to_owned(),
        timeout: START_TIMEOUT,
        log: layout.server_log.clone(),
        tail: String::new(),
    }))
}

fn rotate_server_log(log: &Path) -> Result<(), Error> {
    match std::fs::metadata(log) {
        Ok(meta) if meta.len() > MAX_SERVER_LOG => {
            let old = log.with_extension("log.1");
            std::fs::rename(log, &old).map_err(|e| Error::io("set aside the server log", log, e))
        }
        _ => Ok(()),
    }
}

fn choose_port(requested: Option<u16>, data_dir: &Path, taken: &[u16]) -> Result<u16, Error> {
    if let Some(port) = requested {
        return if port_is_free(port) {
            Ok(port)
        } else {
            Err(Error::PortInUse { port })
        };
    }
    if let Some(port) = settings::previous_port(data_dir) {
        if !taken.contains(&port) && port_is_free(port) {
            return Ok(port);
        }
    }
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0))
        .map_err(|e| Error::io("find a free port on", "127.0.0.1", e))?;
    let port = listener
        .local_addr()
        .map_err(|e| Error::io("find a free port on", "127.0.0.1", e))?
        .port();
    Ok(port)
}

fn port_is_free(port: u16) -> bool {
    std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
}

/// Writes `cairn.conf` via a temporary file and rename, so a crash never leaves half a file
/// that would stop the server from starting.
fn write_settings(layout: &Layout, user: Option<&ServiceUser>, port: u16) -> Result<(), Error> {
    let socket_dir = if settings::socket_dir_fits(&layout.dir, port) {
        Some(layout.dir.as_path())
    } else {
        tracing::info!(dir = %layout.dir.display(), "path too long for a Unix socket; the embedded PostgreSQL listens on TCP only");
        None
    };
    let path = layout.data.join(settings::FILE);
    let tmp = layout.data.join(format!("{}.tmp", settings::FILE));
    let write = || -> io::Result<()> {
        use std::io::Write;
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(settings::render(port, socket_dir).as_bytes())?;
        file.sync_all()
    };
    write().map_err(|e| Error::io("write", &tmp, e))?;
    ownership::give_to(&tmp, user)?;
    std::fs::rename(&tmp, &path).map_err(|e| Error::io("move into place", &path, e))
}

/// `pg_isready`: whether the server accepts connections. Only failing to run it is an error.
async fn is_ready(tools: &Tools, port: u16) -> Result<bool, Error> {
    let mut cmd = tools.command("pg_isready", false);
    cmd.args(["-q", "-h", "127.0.0.1", "-p"])
        .arg(port.to_string())
        .args(["-U", SUPERUSER, "-d", "postgres", "-t", "5"]);
    match tools
        .run(cmd, "pg_isready", QUICK_TIMEOUT, None, false)
        .await
    {
        Ok(outcome) => Ok(outcome.status.success()),
        Err(Error::Timeout { .. }) => Ok(false),
        Err(e) => Err(e),
    }
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
