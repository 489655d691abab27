//! The running server: found from an earlier run, started with retries on a
//! free port, asked whether it is ready, stopped. Invariant: only a server
//! that answers on its port counts as running.

use crate::data_dir::{remove_stale_lock_files, write_settings};
use crate::pid_file::ProcessState;
use crate::tools::Tools;
use crate::{
    Error, Layout, DROP_STOP_TIMEOUT, MAX_SERVER_LOG, POLL, QUICK_TIMEOUT, READY_TIMEOUT,
    START_ATTEMPTS, START_TIMEOUT, SUPERUSER,
};
use std::io;
use std::path::Path;
use std::time::{Duration, Instant};

/// Fast shutdown without pg_ctl or a runtime: SIGINT is what `pg_ctl stop -m fast` sends.
pub(super) fn stop_now(data_dir: &Path, pid: i32) {
    let ours = |file: Option<crate::pid_file::PidFile>| {
        file.is_some_and(|file| {
            file.pid == pid
                && crate::pid_file::process_state(pid, data_dir) == ProcessState::Postgres
        })
    };
    if !ours(crate::pid_file::read(data_dir).ok().flatten()) {
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
        if crate::pid_file::process_state(pid, data_dir) != ProcessState::Postgres {
            tracing::info!(pid, "stopped the embedded PostgreSQL");
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    tracing::warn!(pid, data_dir = %data_dir.display(), "the embedded PostgreSQL did not stop within {}s", DROP_STOP_TIMEOUT.as_secs());
}

pub(super) async fn server_version(tools: &Tools) -> Result<String, Error> {
    let mut cmd = tools.command("pg_ctl", false);
    cmd.arg("--version");
    let outcome = tools
        .run(cmd, "pg_ctl --version", QUICK_TIMEOUT, None, false)
        .await?;
    match crate::binaries::parse_major_version(&outcome.output) {
        Some(version) if outcome.status.success() => Ok(version),
        _ => Err(tools.failure("pg_ctl --version", &outcome, "")),
    }
}

/// The postmaster from an earlier run, if it is alive: `(pid, port)` once it answers.
pub(super) async fn find_running(
    layout: &Layout,
    tools: &Tools,
) -> Result<Option<(i32, u16)>, Error> {
    let pid_path = crate::pid_file::path(&layout.data);
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        let Some(file) =
            crate::pid_file::read(&layout.data).map_err(|e| Error::io("read", &pid_path, e))?
        else {
            return Ok(None);
        };
        match crate::pid_file::process_state(file.pid, &layout.data) {
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

/// `pg_ctl start`, retried for the transient failures after a crash or a port race.
pub(super) async fn start_server(
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
        let log_start = crate::tools::file_len(&layout.server_log).await;
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
                if let Ok(Some(file)) = crate::pid_file::read(&layout.data) {
                    stop_now(&layout.data, file.pid);
                }
                return Err(Error::Timeout {
                    what,
                    timeout,
                    log: layout.server_log.clone(),
                    tail: crate::tools::tail(
                        &crate::tools::read_from(&layout.server_log, log_start).await,
                        20,
                    ),
                });
            }
            Err(e) => return Err(e),
        };
        let server_log = crate::tools::read_from(&layout.server_log, log_start).await;
        if outcome.status.success() {
            let pid = crate::pid_file::read(&layout.data)
                .map_err(|e| Error::io("read", crate::pid_file::path(&layout.data), e))?
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

pub(super) fn rotate_server_log(log: &Path) -> Result<(), Error> {
    match std::fs::metadata(log) {
        Ok(meta) if meta.len() > MAX_SERVER_LOG => {
            let old = log.with_extension("log.1");
            std::fs::rename(log, &old).map_err(|e| Error::io("set aside the server log", log, e))
        }
        _ => Ok(()),
    }
}

pub(super) fn choose_port(
    requested: Option<u16>,
    data_dir: &Path,
    taken: &[u16],
) -> Result<u16, Error> {
    if let Some(port) = requested {
        return if port_is_free(port) {
            Ok(port)
        } else {
            Err(Error::PortInUse { port })
        };
    }
    if let Some(port) = crate::settings::previous_port(data_dir) {
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

pub(super) fn port_is_free(port: u16) -> bool {
    std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
}

/// `pg_isready`: whether the server accepts connections. Only failing to run it is an error.
pub(super) async fn is_ready(tools: &Tools, port: u16) -> Result<bool, Error> {
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
