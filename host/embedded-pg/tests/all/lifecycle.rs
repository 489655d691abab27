//! Start, stop, restart, reuse and crash recovery of a real server.

use std::os::unix::fs::{MetadataExt, PermissionsExt};

use cairn_embedded_pg::{EmbeddedPostgres, Options};

use crate::support::{alive, answers, psql, with_timeout, TestDir};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_stop_and_restart_keeps_the_data() {
    with_timeout(async {
        let dir = TestDir::new("restart");
        let pg = EmbeddedPostgres::start(dir.options())
            .await
            .expect("first start");
        let port = pg.port();
        assert_eq!(pg.url(), format!("postgres://cairn@127.0.0.1:{port}/cairn"));
        assert_eq!(psql(&pg, "select 1").as_deref(), Ok("1"));
        psql(
            &pg,
            "create table notes (body text); insert into notes values ('kept')",
        )
        .expect("create table");
        assert_eq!(
            psql(&pg, "select current_setting('server_encoding')").as_deref(),
            Ok("UTF8")
        );

        if unsafe { libc::geteuid() } == 0 {
            // Run as root: the data belongs to the postgres user, who can reach it.
            let postgres_uid = std::fs::metadata(pg.data_dir()).expect("stat data").uid();
            assert_ne!(postgres_uid, 0, "PostgreSQL's data must not belong to root");
            let test_dir_mode = std::fs::metadata(&dir.path)
                .expect("stat")
                .permissions()
                .mode();
            assert_eq!(
                test_dir_mode & 0o001,
                0o001,
                "ancestor not made traversable"
            );
        }

        let bin_dir = pg.bin_dir().to_path_buf();
        pg.stop().await.expect("stop");
        assert!(!answers(&bin_dir, port), "server still answers after stop");
        assert_eq!(dir.postmaster_pid(), None, "postmaster.pid left behind");

        let pg = EmbeddedPostgres::start(dir.options())
            .await
            .expect("second start");
        assert_eq!(pg.port(), port, "the port of the previous start is reused");
        assert_eq!(psql(&pg, "select body from notes").as_deref(), Ok("kept"));
        pg.stop().await.expect("second stop");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_start_reuses_the_running_server() {
    with_timeout(async {
        let dir = TestDir::new("reuse");
        let first = EmbeddedPostgres::start(dir.options())
            .await
            .expect("first start");
        let pid = dir.postmaster_pid().expect("postmaster.pid");

        let second = EmbeddedPostgres::start(Options {
            database: "other wiki".to_owned(),
            ..dir.options()
        })
        .await
        .expect("second start");
        assert_eq!(second.port(), first.port());
        assert_eq!(
            dir.postmaster_pid(),
            Some(pid),
            "a second server was started"
        );
        // The reusing start still creates its own database (a name that needs quoting).
        assert!(second.url().ends_with("/other%20wiki"), "{}", second.url());
        assert_eq!(
            psql(&second, "select current_database()").as_deref(),
            Ok("other wiki")
        );
        assert_eq!(psql(&first, "select 1").as_deref(), Ok("1"));

        let (bin_dir, port) = (second.bin_dir().to_path_buf(), second.port());
        second.stop().await.expect("stop");
        assert!(!answers(&bin_dir, port));
        // The first handle's server is gone already; stopping it again is fine.
        first.stop().await.expect("stop an already stopped server");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starts_again_after_the_postmaster_was_killed() {
    with_timeout(async {
        let dir = TestDir::new("kill9");
        let crashed = EmbeddedPostgres::start(dir.options())
            .await
            .expect("first start");
        psql(
            &crashed,
            "create table notes (body text); insert into notes values ('committed')",
        )
        .expect("create table");
        let pid = dir.postmaster_pid().expect("postmaster.pid");
        // SAFETY: plain syscall on the pid of the server this test started.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0);

        // Straight away: its backends may still be exiting, and postmaster.pid is stale.
        let pg = EmbeddedPostgres::start(dir.options())
            .await
            .expect("start after kill -9");
        assert_eq!(
            psql(&pg, "select body from notes").as_deref(),
            Ok("committed")
        );
        let new_pid = dir.postmaster_pid().expect("new postmaster.pid");
        assert_ne!(new_pid, pid);
        assert!(!alive(pid));

        // The crashed server's handle must not stop the new server when dropped.
        drop(crashed);
        assert_eq!(psql(&pg, "select 1").as_deref(), Ok("1"));
        pg.stop().await.expect("stop");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_handle_stops_the_server() {
    with_timeout(async {
        let dir = TestDir::new("drop");
        let pg = EmbeddedPostgres::start(dir.options()).await.expect("start");
        let (bin_dir, port) = (pg.bin_dir().to_path_buf(), pg.port());
        let pid = dir.postmaster_pid().expect("postmaster.pid");
        drop(pg);
        assert!(!alive(pid), "postmaster still alive after drop");
        assert!(!answers(&bin_dir, port));
    })
    .await;
}
