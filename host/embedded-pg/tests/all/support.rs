//! Test scaffolding: a temp directory that stops whatever server runs in it and removes
//! itself even when the test panics, plus `psql` and readiness probes.

use std::future::Future;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use cairn_embedded_pg::{EmbeddedPostgres, Options};

/// Upper bound for one test, so a hung server fails the test instead of the CI job.
const TEST_TIMEOUT: Duration = Duration::from_secs(300);

/// Runs a test body with [`TEST_TIMEOUT`].
pub async fn with_timeout<F: Future<Output = ()>>(body: F) {
    if tokio::time::timeout(TEST_TIMEOUT, body).await.is_err() {
        panic!("test did not finish within {}s", TEST_TIMEOUT.as_secs());
    }
}

/// A unique directory under /tmp. Mode 0700, so a test running as root also exercises
/// making the ancestors traversable for the postgres user.
pub struct TestDir {
    pub path: PathBuf,
}

impl TestDir {
    pub fn new(name: &str) -> TestDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let path = std::env::temp_dir().join(format!(
            "cairn-epg-{name}-{}-{}-{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir(&path).expect("create test dir");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700))
            .expect("chmod test dir");
        TestDir { path }
    }

    /// The embedded PostgreSQL directory (created by `start`, one level down so that its
    /// parent is an ancestor the crate has to open up).
    pub fn pg_dir(&self) -> PathBuf {
        self.path.join("home").join("postgres")
    }

    pub fn options(&self) -> Options {
        Options::new(self.pg_dir())
    }

    pub fn postmaster_pid(&self) -> Option<i32> {
        postmaster_pid(&self.pg_dir().join("data"))
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        // A failed assertion can leave a server running; never leak it into the next run.
        if let Some(pid) = self.postmaster_pid() {
            if alive(pid) {
                // SAFETY: plain syscalls on a pid read from our own data directory.
                unsafe { libc::kill(pid, libc::SIGINT) };
                let deadline = Instant::now() + Duration::from_secs(20);
                while alive(pid) && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(50));
                }
                if alive(pid) {
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                }
            }
        }
        if let Err(e) = std::fs::remove_dir_all(&self.path) {
            eprintln!("could not remove {}: {e}", self.path.display());
        }
    }
}

pub fn postmaster_pid(data_dir: &Path) -> Option<i32> {
    std::fs::read_to_string(data_dir.join("postmaster.pid"))
        .ok()?
        .lines()
        .next()?
        .trim()
        .parse()
        .ok()
}

/// Alive and not a zombie (a killed postmaster may never be reaped in a container).
pub fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with(['Z', 'X'])),
        Err(_) => false,
    }
}

/// Runs `sql` through `psql` connecting with the server's own URL; returns trimmed stdout.
pub fn psql(pg: &EmbeddedPostgres, sql: &str) -> Result<String, String> {
    let output = Command::new(pg.bin_dir().join("psql"))
        .env("PGCONNECT_TIMEOUT", "10")
        .args(["-X", "-At", "-v", "ON_ERROR_STOP=1", "-d"])
        .arg(pg.url())
        .args(["-c", sql])
        .output()
        .map_err(|e| format!("could not run psql: {e}"))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

/// Whether anything accepts connections on the port, by pg_isready and by plain TCP.
pub fn answers(bin_dir: &Path, port: u16) -> bool {
    let ready = Command::new(bin_dir.join("pg_isready"))
        .args(["-q", "-h", "127.0.0.1", "-t", "5", "-p"])
        .arg(port.to_string())
        .status()
        .is_ok_and(|status| status.success());
    let tcp = std::net::TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_secs(5),
    )
    .is_ok();
    ready || tcp
}
