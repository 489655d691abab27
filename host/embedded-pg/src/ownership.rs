//! Who PostgreSQL runs as, and making the directory usable by that user. PostgreSQL's
//! `initdb` and `pg_ctl` refuse to run as root, so a node started as root hands the
//! directory to the `postgres` system user and runs those programs as it.
//!
//! Synchronous on purpose: the caller runs [`prepare_dir`] on a blocking thread.

use std::ffi::{CStr, CString};
use std::fs;
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::Error;

/// The system user PostgreSQL runs as when the node runs as root; Debian's package creates it.
pub(crate) const SERVICE_USER: &str = "postgres";

/// An unprivileged account to run PostgreSQL's programs as.
#[derive(Debug, Clone)]
pub(crate) struct ServiceUser {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: PathBuf,
}

pub(crate) fn running_as_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// `None` when not root: then PostgreSQL simply runs as the current user.
pub(crate) fn service_user() -> Result<Option<ServiceUser>, Error> {
    if !running_as_root() {
        return Ok(None);
    }
    match lookup_user(SERVICE_USER) {
        Ok(Some(user)) => Ok(Some(user)),
        Ok(None) => Err(Error::NoServiceUser {
            user: SERVICE_USER.to_owned(),
        }),
        Err(source) => Err(Error::io("look up the user", SERVICE_USER, source)),
    }
}

fn lookup_user(name: &str) -> io::Result<Option<ServiceUser>> {
    let c_name = CString::new(name).map_err(io::Error::other)?;
    let mut buf = vec![0u8; 4096];
    loop {
        // SAFETY: passwd is plain data; all-zero is a valid (empty) value that getpwnam_r fills.
        let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: every pointer is valid for the call and `buf.len()` is the buffer's size.
        let rc = unsafe {
            libc::getpwnam_r(
                c_name.as_ptr(),
                &mut pwd,
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut result,
            )
        };
        if rc == libc::ERANGE && buf.len() < (1 << 20) {
            buf.resize(buf.len() * 2, 0);
            continue;
        }
        if rc != 0 {
            return Err(io::Error::from_raw_os_error(rc));
        }
        if result.is_null() {
            return Ok(None);
        }
        let home = if pwd.pw_dir.is_null() {
            PathBuf::from("/")
        } else {
            // SAFETY: getpwnam_r succeeded, so pw_dir points to a NUL-terminated string in `buf`.
            let dir = unsafe { CStr::from_ptr(pwd.pw_dir) };
            PathBuf::from(dir.to_string_lossy().into_owned())
        };
        return Ok(Some(ServiceUser {
            name: name.to_owned(),
            uid: pwd.pw_uid,
            gid: pwd.pw_gid,
            home,
        }));
    }
}

/// Creates `dir` (mode 0700), returns its absolute path, and when a service user is given
/// makes the directory owned by it and every ancestor traversable by it.
pub(crate) fn prepare_dir(dir: &Path, user: Option<&ServiceUser>) -> Result<PathBuf, Error> {
    fs::create_dir_all(dir).map_err(|e| Error::io("create directory", dir, e))?;
    let dir = fs::canonicalize(dir).map_err(|e| Error::io("resolve directory", dir, e))?;
    if let Some(user) = user {
        let meta = fs::metadata(&dir).map_err(|e| Error::io("inspect directory", &dir, e))?;
        if meta.uid() != user.uid || meta.gid() != user.gid {
            // A directory made by the host (or by an earlier non-root run) must be handed over
            // whole: PostgreSQL refuses a data directory it does not own.
            tracing::info!(dir = %dir.display(), user = %user.name, "giving the embedded PostgreSQL directory to the PostgreSQL user");
            chown_tree(&dir, user)?;
        }
        for ancestor in dir.ancestors().skip(1) {
            make_traversable(ancestor, user)?;
        }
    }
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o700))
        .map_err(|e| Error::io("set permissions of", &dir, e))?;
    Ok(dir)
}

fn chown_tree(path: &Path, user: &ServiceUser) -> Result<(), Error> {
    let meta = fs::symlink_metadata(path).map_err(|e| Error::io("inspect", path, e))?;
    if meta.uid() != user.uid || meta.gid() != user.gid {
        std::os::unix::fs::lchown(path, Some(user.uid), Some(user.gid))
            .map_err(|e| Error::io("change the owner of", path, e))?;
    }
    if meta.is_dir() {
        let entries = fs::read_dir(path).map_err(|e| Error::io("list directory", path, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| Error::io("list directory", path, e))?;
            chown_tree(&entry.path(), user)?;
        }
    }
    Ok(())
}

/// The permission bit that lets `user` search `meta`'s directory (supplementary groups are
/// ignored, which at worst opens a directory that was already reachable).
fn can_traverse(meta: &fs::Metadata, user: &ServiceUser) -> bool {
    let mode = meta.mode();
    if meta.uid() == user.uid {
        mode & 0o100 != 0
    } else if meta.gid() == user.gid {
        mode & 0o010 != 0
    } else {
        mode & 0o001 != 0
    }
}

fn make_traversable(dir: &Path, user: &ServiceUser) -> Result<(), Error> {
    let meta = fs::metadata(dir).map_err(|e| Error::io("inspect directory", dir, e))?;
    if can_traverse(&meta, user) {
        return Ok(());
    }
    let mode = meta.mode() & 0o7777;
    fs::set_permissions(dir, fs::Permissions::from_mode(mode | 0o001))
        .map_err(|e| Error::io("make traversable", dir, e))?;
    tracing::warn!(
        dir = %dir.display(),
        old_mode = format_args!("{mode:o}"),
        new_mode = format_args!("{:o}", mode | 0o001),
        user = %user.name,
        "made directory traversable by other users (o+x) so the PostgreSQL user can reach its data directory"
    );
    Ok(())
}

/// Hands a file this process created inside the directory to the service user, so the whole
/// directory stays owned by one account.
pub(crate) fn give_to(path: &Path, user: Option<&ServiceUser>) -> Result<(), Error> {
    match user {
        Some(user) => std::os::unix::fs::chown(path, Some(user.uid), Some(user.gid))
            .map_err(|e| Error::io("change the owner of", path, e)),
        None => Ok(()),
    }
}

/// Holds an exclusive `flock` on a file; released when dropped (the file is closed).
pub(crate) struct DirLock {
    _file: fs::File,
}

impl DirLock {
    /// Tries once; `Ok(None)` when another process holds the lock.
    pub(crate) fn try_acquire(path: &Path) -> Result<Option<DirLock>, Error> {
        use std::os::fd::AsRawFd;
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(|e| Error::io("open lock file", path, e))?;
        // SAFETY: the fd is open for the duration of the call.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc == 0 {
            return Ok(Some(DirLock { _file: file }));
        }
        let err = io::Error::last_os_error();
        if err.raw_os_error() == Some(libc::EWOULDBLOCK) {
            Ok(None)
        } else {
            Err(Error::io("lock", path, err))
        }
    }
}
