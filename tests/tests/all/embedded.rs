//! The `cairn` binary without CAIRN_DATABASE_URL: it initialises and runs a
//! private PostgreSQL inside the local home, `cairn user create` works
//! against it, and stopping the node stops PostgreSQL.

use std::process::Stdio;
use std::time::Duration;

use cairn_tests::wait_until;
use tokio::io::AsyncWriteExt;

pub use cairn_tests::cluster::cairn_binary;

fn command(local: &std::path::Path) -> tokio::process::Command {
    let mut c = tokio::process::Command::new(cairn_binary());
    c.env_remove("CAIRN_DATABASE_URL")
        .env("CAIRN_LOCAL_HOME", local.join("local"))
        .env("CAIRN_SHARED_HOME", local.join("shared"))
        .env("CAIRN_LOG", "info")
        .env("RUST_BACKTRACE", "0")
        .kill_on_drop(true);
    c
}

#[tokio::test]
async fn embedded_postgres_starts_with_the_node_and_stops_with_it() {
    let home = std::env::temp_dir().join(format!("cairn-embedded-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    std::fs::create_dir_all(&home).unwrap();

    // `cairn user create` reads the password from stdin.
    let mut child = command(&home)
        .args([
            "user",
            "create",
            "alice",
            "--admin",
            "--display-name",
            "Alice A",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"alice-password\n")
        .await
        .unwrap();
    let out = tokio::time::timeout(Duration::from_secs(120), child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert!(
        out.status.success(),
        "user create failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("created user alice"));
    let pid_file = home.join("local/postgres/data/postmaster.pid");
    assert!(
        !pid_file.exists(),
        "the CLI stops the PostgreSQL it started"
    );

    // A short password is refused with a readable message.
    let mut child = command(&home)
        .args(["user", "create", "bob", "--password-stdin"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"short\n")
        .await
        .unwrap();
    let out = tokio::time::timeout(Duration::from_secs(120), child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 8 characters"));

    // `cairn serve`: a wiki on the embedded database.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut serve = command(&home)
        .arg("serve")
        .env("CAIRN_LISTEN", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let running = wait_until(Duration::from_secs(120), || {
        let u = format!("{base}/status");
        async move {
            match reqwest::get(u).await {
                Ok(r) => r.text().await.unwrap_or_default().contains("RUNNING"),
                Err(_) => false,
            }
        }
    })
    .await;
    assert!(running, "the node reached RUNNING on the embedded database");
    assert!(pid_file.exists(), "PostgreSQL runs inside the local home");
    let pg_port: u16 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .lines()
        .nth(3)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let c = cairn_tests::Client {
        http: reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        base: base.clone(),
        csrf: String::new(),
        cookie: String::new(),
    };
    let mut c = c;
    assert_eq!(c.login("alice", "alice-password").await.status(), 303);

    // Stopping the node stops PostgreSQL.
    let pid = serve.id().unwrap() as i32;
    // SAFETY: signalling a child process we own.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let status = tokio::time::timeout(Duration::from_secs(60), serve.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "serve exits cleanly on SIGTERM: {status}");
    assert!(!pid_file.exists(), "postmaster.pid is gone");
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", pg_port)).is_err(),
        "PostgreSQL no longer listens"
    );
    let _ = std::fs::remove_dir_all(&home);
}

#[tokio::test]
async fn bad_configuration_fails_at_start_naming_the_key() {
    let home = std::env::temp_dir().join(format!("cairn-badcfg-{}", std::process::id()));
    let out = command(&home)
        .arg("serve")
        .env("CAIRN_LISTEN", "not-an-address")
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("CAIRN_LISTEN"), "{err}");
}
