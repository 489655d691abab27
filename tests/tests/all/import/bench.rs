//! The import benchmark (ignored; not a timed test). Build with
//! `cargo build -p cairn --bin cairn`, then
//!   tests/run.sh … -- import::bench::import_benchmark --ignored --nocapture
//! CAIRN_IMPORT_BENCH_PAGES (100000), _VERSIONS (5), _BODY (2000 bytes),
//! CAIRN_BIN (target/debug/cairn). Prints pages/s, versions/s, peak RSS.

use super::*;

pub(super) fn env_u64(k: &str, d: u64) -> u64 {
    std::env::var(k)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(d)
}

/// Runs `cmd` and returns (wall seconds, peak RSS in MiB) via wait4.
pub(super) fn run_measured(cmd: &mut std::process::Command) -> (f64, f64, bool) {
    let start = std::time::Instant::now();
    // wait4 reaps the child (and gives its peak RSS, which wait() does not).
    #[allow(clippy::zombie_processes)]
    let child = cmd.spawn().expect("spawn cairn");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our child; status and usage are valid out-pointers.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid, "wait4");
    let ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    (
        start.elapsed().as_secs_f64(),
        usage.ru_maxrss as f64 / 1024.0,
        ok,
    )
}

#[tokio::test]
#[ignore = "a benchmark: run on demand with --ignored --nocapture"]
async fn import_benchmark() {
    let shape = cairn_tests::confluence::Shape {
        pages: env_u64("CAIRN_IMPORT_BENCH_PAGES", 100_000),
        versions: env_u64("CAIRN_IMPORT_BENCH_VERSIONS", 5),
        body_bytes: env_u64("CAIRN_IMPORT_BENCH_BODY", 2000) as usize,
        attachment_every: env_u64("CAIRN_IMPORT_BENCH_ATTACH_EVERY", 100),
        attachment_bytes: env_u64("CAIRN_IMPORT_BENCH_ATTACH_BYTES", 256 * 1024) as usize,
    };
    let zip = tmp("bench.zip");
    let t = std::time::Instant::now();
    let (pages, versions, attachments) =
        cairn_tests::confluence::generate(&zip, "BENCH", &shape).expect("generate");
    let zip_mb = std::fs::metadata(&zip).expect("zip").len() as f64 / 1e6;
    println!(
        "generated {pages} pages, {versions} versions, {attachments} attachments: {zip_mb:.0} MB zip in {:.1}s",
        t.elapsed().as_secs_f64()
    );
    let db = cairn_tests::TestDb::new().await;
    let bin = std::env::var("CAIRN_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|_| cairn_tests::repo_root().join("target/debug/cairn"));
    let shared = tmp("shared");
    let (secs, rss, ok) = run_measured(
        std::process::Command::new(&bin)
            .arg("import")
            .arg(&zip)
            .env("CAIRN_DATABASE_URL", &db.url)
            .env("CAIRN_SHARED_HOME", &shared)
            .env("CAIRN_LOCAL_HOME", tmp("local"))
            .env(
                "CAIRN_LOG",
                std::env::var("CAIRN_IMPORT_BENCH_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdout(std::process::Stdio::inherit())
            .stderr(if std::env::var_os("CAIRN_IMPORT_BENCH_LOG").is_some() {
                std::process::Stdio::inherit()
            } else {
                std::process::Stdio::null()
            }),
    );
    assert!(ok, "the import failed");
    println!(
        "import: {secs:.1}s, {:.0} pages/s, {:.0} versions/s, {:.1} MB/s of zip, peak RSS {rss:.0} MiB ({})",
        pages as f64 / secs,
        versions as f64 / secs,
        zip_mb / secs,
        bin.display()
    );
    if std::env::var_os("CAIRN_IMPORT_BENCH_KEEP").is_some() {
        println!("kept {}", zip.display());
    } else {
        let _ = std::fs::remove_file(&zip);
    }
}
