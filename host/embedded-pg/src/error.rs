//! The one error type of this crate. Every message says what went wrong and what the admin
//! can do about it, because these errors end up on the console of someone who just ran
//! `cairn serve` for the first time.

use std::path::PathBuf;
use std::time::Duration;

/// Why the embedded PostgreSQL could not be started or stopped.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No `bin_dir` was given and no PostgreSQL installation was found.
    #[error(
        "no PostgreSQL binaries found under {} or on PATH; install the postgresql package \
         or set CAIRN_DATABASE_URL",
        searched.display()
    )]
    NoBinaries {
        /// Where the newest `*/bin` was looked for.
        searched: PathBuf,
    },

    /// The bin directory lacks one of the programs this crate runs.
    #[error(
        "{} is not a usable PostgreSQL bin directory ({missing} is missing or not executable); \
         point the bin directory at one holding initdb, pg_ctl, pg_isready and psql, \
         or set CAIRN_DATABASE_URL",
        dir.display()
    )]
    BadBinDir {
        /// The directory that was tried.
        dir: PathBuf,
        /// The first program that was not found in it.
        missing: &'static str,
    },

    /// Running as root, but the unprivileged user PostgreSQL should run as does not exist.
    #[error(
        "running as root, but there is no `{user}` system user to run PostgreSQL as \
         (PostgreSQL refuses to run as root); create it (installing the postgresql package does) \
         or set CAIRN_DATABASE_URL"
    )]
    NoServiceUser {
        /// The user name that was looked up.
        user: String,
    },

    /// The data directory was made by a different PostgreSQL major version.
    #[error(
        "the data directory {} was created by PostgreSQL {data_version} but {} holds \
         PostgreSQL {bin_version}; point the bin directory at PostgreSQL {data_version} binaries, \
         or upgrade the data directory with pg_upgrade",
        data_dir.display(),
        bin_dir.display()
    )]
    VersionMismatch {
        /// The data directory.
        data_dir: PathBuf,
        /// Major version recorded in its `PG_VERSION`.
        data_version: String,
        /// The bin directory that was selected.
        bin_dir: PathBuf,
        /// Major version of those binaries.
        bin_version: String,
    },

    /// Something that is not a PostgreSQL cluster sits where the data directory belongs.
    #[error(
        "{} exists but is not a PostgreSQL data directory (it has no PG_VERSION); \
         move it away so that a fresh one can be created",
        path.display()
    )]
    NotADataDir {
        /// The offending directory.
        path: PathBuf,
    },

    /// `Options::database` cannot be a PostgreSQL database name.
    #[error("invalid database name {name:?}: {reason}")]
    InvalidDatabaseName {
        /// The name given.
        name: String,
        /// Why it was rejected.
        reason: &'static str,
    },

    /// The explicitly requested port is taken by another program.
    #[error(
        "port {port} on 127.0.0.1 is already in use; choose another port, \
         or leave it unset to pick a free one"
    )]
    PortInUse {
        /// The requested port.
        port: u16,
    },

    /// A file-system operation failed.
    #[error("could not {action} {}: {source}", path.display())]
    Io {
        /// What was being done, e.g. "create directory".
        action: &'static str,
        /// The path it was done to.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// A PostgreSQL program exited unsuccessfully.
    #[error("{what} failed ({status}); full output in {}; last lines:\n{tail}", log.display())]
    CommandFailed {
        /// What was run, e.g. "initdb".
        what: String,
        /// Exit status, or why the program could not be run.
        status: String,
        /// The log file that holds the full output.
        log: PathBuf,
        /// The last lines of the output (and of the server log, where relevant).
        tail: String,
    },

    /// A PostgreSQL program or the server did not finish in time.
    #[error(
        "{what} did not finish within {}s; full output in {}; last lines:\n{tail}",
        timeout.as_secs(),
        log.display()
    )]
    Timeout {
        /// What was waited for.
        what: String,
        /// How long it was waited for.
        timeout: Duration,
        /// The log file that holds the full output.
        log: PathBuf,
        /// The last lines of that log.
        tail: String,
    },

    /// Another process kept the start lock of this directory for too long.
    #[error(
        "another process is starting PostgreSQL in {} (it has held {} for over {}s); \
         wait for it to finish, or stop it",
        dir.display(),
        lock.display(),
        timeout.as_secs()
    )]
    Locked {
        /// The embedded PostgreSQL directory.
        dir: PathBuf,
        /// The lock file.
        lock: PathBuf,
        /// How long it was waited for.
        timeout: Duration,
    },

    /// A postgres process owns the data directory but never answered.
    #[error(
        "a postgres process (pid {pid}) holds {} but did not accept connections within {}s; \
         stop it (kill {pid}) and start again",
        data_dir.display(),
        timeout.as_secs()
    )]
    Unresponsive {
        /// Pid from `postmaster.pid`.
        pid: i32,
        /// The data directory.
        data_dir: PathBuf,
        /// How long it was waited for.
        timeout: Duration,
    },
}

impl Error {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
