//! End-to-end test harness. `tests/run.sh` starts one PostgreSQL for the whole
//! run and exports `CAIRN_TEST_PG` (a superuser URL without a database name);
//! each test gets its own database, so tests run in parallel without sharing state.

use std::sync::atomic::{AtomicU32, Ordering};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A fresh, migrated database for one test; its URL is `url`.
pub struct TestDb {
    pub url: String,
}

fn server_url() -> String {
    std::env::var("CAIRN_TEST_PG").unwrap_or_else(|_| {
        panic!("CAIRN_TEST_PG is not set: run the suite with tests/run.sh, which starts PostgreSQL")
    })
}

impl TestDb {
    /// Creates `cairn_test_<pid>_<n>` and applies all migrations.
    pub async fn new() -> TestDb {
        let base = server_url();
        let name = format!(
            "cairn_test_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        let (client, conn) =
            tokio_postgres::connect(&format!("{base}/postgres"), tokio_postgres::NoTls)
                .await
                .expect("connect to test PostgreSQL");
        tokio::spawn(conn);
        for sql in [
            format!("DROP DATABASE IF EXISTS {name}"),
            format!("CREATE DATABASE {name}"),
        ] {
            client
                .batch_execute(&sql)
                .await
                .expect("create test database");
        }
        let url = format!("{base}/{name}");
        cairn::db::migrate(&url)
            .await
            .expect("migrate test database");
        TestDb { url }
    }
}

/// A node's HTTP surface served in-process on a free 127.0.0.1 port.
pub struct TestNode {
    pub base: String,
    pub db: TestDb,
}

impl TestNode {
    /// A ready node on a fresh database.
    pub async fn start() -> TestNode {
        let db = TestDb::new().await;
        let pool = cairn::db::pool(&db.url, 4).expect("pool");
        let base = serve(pool, true).await;
        TestNode { base, db }
    }
}

/// Serves the router over `pool` on a free 127.0.0.1 port; returns its base URL.
pub async fn serve(pool: cairn::db::Pool, ready: bool) -> String {
    let shared = std::env::temp_dir().join(format!(
        "cairn-test-shared-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    ));
    let state = cairn::AppState::new(pool, shared);
    if ready {
        state.readiness.set_ready();
    }
    let app = cairn::router(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(cairn::serve(listener, app));
    format!("http://{addr}")
}
