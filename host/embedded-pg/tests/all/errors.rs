//! Misconfigurations fail with an error that tells the admin what to do.

use cairn_embedded_pg::{EmbeddedPostgres, Error, Options};

use crate::support::{with_timeout, TestDir};

#[tokio::test]
async fn a_bad_bin_dir_is_a_clear_error() {
    with_timeout(async {
        let dir = TestDir::new("badbin");
        for bin_dir in [dir.path.join("no-such-dir"), dir.path.clone()] {
            let err = EmbeddedPostgres::start(Options {
                bin_dir: Some(bin_dir.clone()),
                ..dir.options()
            })
            .await
            .expect_err("start with a bad bin_dir");
            assert!(matches!(err, Error::BadBinDir { .. }), "{err:?}");
            let message = err.to_string();
            assert!(
                message.contains(&bin_dir.display().to_string()),
                "{message}"
            );
            assert!(message.contains("initdb"), "{message}");
            assert!(message.contains("CAIRN_DATABASE_URL"), "{message}");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_port_is_a_clear_error() {
    with_timeout(async {
        let dir = TestDir::new("port");
        let taken = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("bind");
        let port = taken.local_addr().expect("addr").port();
        let err = EmbeddedPostgres::start(Options {
            port: Some(port),
            ..dir.options()
        })
        .await
        .expect_err("start on a taken port");
        assert!(
            matches!(err, Error::PortInUse { port: p } if p == port),
            "{err:?}"
        );
        assert!(err.to_string().contains("leave it unset"), "{err}");
    })
    .await;
}

#[tokio::test]
async fn an_invalid_database_name_is_a_clear_error() {
    let dir = TestDir::new("dbname");
    let err = EmbeddedPostgres::start(Options {
        database: String::new(),
        ..dir.options()
    })
    .await
    .expect_err("start with an empty database name");
    assert!(matches!(err, Error::InvalidDatabaseName { .. }), "{err:?}");
}
