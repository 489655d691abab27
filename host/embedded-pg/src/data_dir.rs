//! The cluster's directory: created by initdb into a scratch directory and
//! renamed into place, locked against concurrent starts, owned by one account.
//! Invariant: `data/` is either absent or a whole cluster, and `cairn.conf`
//! is never half written.

use crate::ownership::{DirLock, ServiceUser};
use crate::tools::Tools;
use crate::{Error, Layout, INITDB_TIMEOUT, LOCK_TIMEOUT, POLL, SUPERUSER};
use std::io;
use std::path::Path;
use std::time::Instant;

/// The major version in `PG_VERSION`, or `None` when there is no cluster yet.
pub(super) fn read_pg_version(data_dir: &Path) -> Result<Option<String>, Error> {
    let path = data_dir.join("PG_VERSION");
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(Some(text.trim().to_owned())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("read", path, e)),
    }
}

pub(super) fn is_initialised(data_dir: &Path) -> Result<bool, Error> {
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

pub(super) async fn lock(layout: &Layout, user: Option<&ServiceUser>) -> Result<DirLock, Error> {
    let deadline = Instant::now() + LOCK_TIMEOUT;
    loop {
        if let Some(lock) = DirLock::try_acquire(&layout.lock)? {
            crate::ownership::give_to(&layout.lock, user)?;
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
pub(super) fn touch_owned(path: &Path, user: Option<&ServiceUser>) -> Result<(), Error> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| Error::io("create", path, e))?;
    crate::ownership::give_to(path, user)
}

/// The pid in `postmaster.pid` names an unreaped zombie (a container init that does not
/// reap), or after a reboot or container restart another program; PostgreSQL would then
/// refuse to start ("lock file already exists"). Its own check of the old shared memory
/// segment still protects against orphaned backends of the dead server.
pub(super) fn remove_stale_lock_files(layout: &Layout, pid: i32) -> Result<(), Error> {
    let pid_path = crate::pid_file::path(&layout.data);
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

pub(super) fn remove_if_exists(path: &Path) -> Result<(), Error> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(Error::io("remove", path, e)),
        _ => Ok(()),
    }
}

/// Runs initdb into a scratch directory and renames it into place, so an interrupted initdb
/// never leaves a half-made `data/` that later looks like a cluster.
pub(super) async fn init_cluster(layout: &Layout, tools: &Tools) -> Result<(), Error> {
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
        file.write_all(crate::settings::INCLUDE_LINE.as_bytes())?;
        file.sync_all()
    };
    append().map_err(|e| Error::io("append to", &conf, e))?;
    std::fs::rename(scratch, &layout.data).map_err(|e| Error::io("move into place", scratch, e))
}

pub(super) fn remove_scratch(scratch: &Path) -> Result<(), Error> {
    match std::fs::remove_dir_all(scratch) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(Error::io(
            "remove the leftovers of an interrupted initdb in",
            scratch,
            e,
        )),
        _ => Ok(()),
    }
}

/// Writes `cairn.conf` via a temporary file and rename, so a crash never leaves half a file
/// that would stop the server from starting.
pub(super) fn write_settings(
    layout: &Layout,
    user: Option<&ServiceUser>,
    port: u16,
) -> Result<(), Error> {
    let socket_dir = if crate::settings::socket_dir_fits(&layout.dir, port) {
        Some(layout.dir.as_path())
    } else {
        tracing::info!(dir = %layout.dir.display(), "path too long for a Unix socket; the embedded PostgreSQL listens on TCP only");
        None
    };
    let path = layout.data.join(crate::settings::FILE);
    let tmp = layout.data.join(format!("{}.tmp", crate::settings::FILE));
    let write = || -> io::Result<()> {
        use std::io::Write;
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(crate::settings::render(port, socket_dir).as_bytes())?;
        file.sync_all()
    };
    write().map_err(|e| Error::io("write", &tmp, e))?;
    crate::ownership::give_to(&tmp, user)?;
    std::fs::rename(&tmp, &path).map_err(|e| Error::io("move into place", &path, e))
}
