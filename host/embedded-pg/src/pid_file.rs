//! Reading `postmaster.pid` and telling whether the process it names is still a live
//! postgres. Process liveness is checked through `/proc` on Linux because an exited
//! postmaster is reparented to init, and a container's init often never reaps it: the
//! zombie still answers `kill(pid, 0)`.

use std::io;
use std::path::Path;

/// What a running (or crashed) postmaster recorded in `<data>/postmaster.pid`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PidFile {
    pub pid: i32,
    pub port: Option<u16>,
}

pub(crate) fn path(data_dir: &Path) -> std::path::PathBuf {
    data_dir.join("postmaster.pid")
}

/// `Ok(None)` when there is no file, or it is still being written (no pid yet).
pub(crate) fn read(data_dir: &Path) -> io::Result<Option<PidFile>> {
    let text = match std::fs::read_to_string(path(data_dir)) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(parse(&text))
}

/// Line 1 is the pid, line 4 the port (see `LOCK_FILE_LINE_*` in PostgreSQL's miscadmin.h).
fn parse(text: &str) -> Option<PidFile> {
    let mut lines = text.lines();
    let pid: i32 = lines.next()?.trim().parse().ok()?;
    let port = lines.nth(2).and_then(|line| line.trim().parse().ok());
    (pid > 0).then_some(PidFile { pid, port })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub(crate) enum ProcessState {
    /// A live postgres process.
    Postgres,
    /// Exited and reaped.
    Gone,
    /// Exited but never reaped. PostgreSQL's own check (`kill(pid, 0)`) takes it for alive
    /// and refuses to start ("lock file already exists").
    Zombie,
    /// The pid now belongs to some other program: a stale file after a reboot or container
    /// restart. PostgreSQL itself would refuse to start ("lock file already exists").
    Reused,
}

/// The state of `pid`, expected to be the postmaster of `data_dir`.
#[cfg(target_os = "linux")]
pub(crate) fn process_state(pid: i32, data_dir: &Path) -> ProcessState {
    if pid <= 0 {
        return ProcessState::Gone;
    }
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return ProcessState::Gone;
    };
    // "pid (comm) S …": comm may itself contain ')' so split at the last one.
    let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
        return ProcessState::Gone;
    };
    let comm = &stat[open + 1..close];
    let state = stat[close + 1..].trim_start().chars().next();
    if matches!(state, Some('Z' | 'X' | 'x')) {
        return ProcessState::Zombie;
    }
    if !(comm.starts_with("postgres") || comm.starts_with("postmaster")) {
        return ProcessState::Reused;
    }
    // A postmaster works in its data directory; a postgres with another working directory
    // belongs to some other cluster. An unreadable link proves nothing either way.
    match std::fs::read_link(format!("/proc/{pid}/cwd")) {
        Ok(cwd) if cwd != data_dir => ProcessState::Reused,
        _ => ProcessState::Postgres,
    }
}

/// The state of `pid`, expected to be the postmaster of `_data_dir`.
#[cfg(not(target_os = "linux"))]
pub(crate) fn process_state(pid: i32, _data_dir: &Path) -> ProcessState {
    if pid <= 0 {
        return ProcessState::Gone;
    }
    // SAFETY: signal 0 only checks for existence and permission.
    let rc = unsafe { libc::kill(pid, 0) };
    if rc == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM) {
        ProcessState::Postgres
    } else {
        ProcessState::Gone
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_running_servers_file() {
        let text =
            "4242\n/tmp/x/data\n1700000000\n54321\n/tmp/x\n127.0.0.1\n  1234  5678\nready   \n";
        assert_eq!(
            parse(text),
            Some(PidFile {
                pid: 4242,
                port: Some(54321)
            })
        );
    }

    #[test]
    fn a_half_written_file_has_no_port() {
        assert_eq!(
            parse("4242\n/tmp/x/data\n"),
            Some(PidFile {
                pid: 4242,
                port: None
            })
        );
        assert_eq!(parse(""), None);
        assert_eq!(parse("-1\n"), None);
    }

    #[test]
    fn own_process_is_not_postgres() {
        let me = std::process::id() as i32;
        let here = std::env::current_dir().unwrap();
        assert_ne!(process_state(me, &here), ProcessState::Gone);
        assert_eq!(process_state(i32::MAX, &here), ProcessState::Gone);
    }
}
