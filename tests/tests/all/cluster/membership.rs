//! Membership and fencing: members join and leave, a killed leader is
//! replaced within the TTL, a node cut from etcd stops writing and the
//! database refuses its late writes, a paused etcd fences writes only, and a
//! live node id or a foreign database is refused at start.

use super::*;

/// A database connection with these server options, as a node's pool
/// would open it.
pub(super) async fn connect_as(url: &str, options: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(
        &format!(
            "{url}?options={}",
            options.replace(' ', "%20").replace('=', "%3D")
        ),
        tokio_postgres::NoTls,
    )
    .await
    .unwrap();
    tokio::spawn(conn);
    client
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_join_leave_and_a_killed_leader_is_replaced_within_the_ttl() {
    let etcd = Etcd::start();
    let spec = ClusterSpec::new(&etcd)
        .await
        .with_env("CAIRN_LEASE_TTL", "3")
        .with_env("CAIRN_INDEX_SNAPSHOT_INTERVAL", "10s");
    let mut nodes = vec![
        spec.node("n1").await,
        spec.node("n2").await,
        spec.node("n3").await,
    ];
    let all = vec!["n1".to_string(), "n2".into(), "n3".into()];
    for n in &nodes {
        within(
            Duration::from_secs(10),
            "every node sees three members",
            || async { n.members().await == all },
        )
        .await;
    }
    // One leader, the same on every node, and it ran the cluster jobs.
    within(Duration::from_secs(10), "a leader", || async {
        nodes[0].leader().await.is_some()
    })
    .await;
    let leader = nodes[0].leader().await.unwrap();
    for n in &nodes {
        assert_eq!(n.leader().await.as_deref(), Some(leader.as_str()));
    }
    within(
        Duration::from_secs(10),
        "zdu: three ACTIVE nodes, STABLE",
        || async {
            let (code, zdu) = nodes[1].get_json("/rest/zdu/cluster").await;
            code == 200
                && zdu["state"] == "STABLE"
                && zdu["nodes"]
                    .as_array()
                    .is_some_and(|a| a.len() == 3 && a.iter().all(|n| n["state"] == "ACTIVE"))
        },
    )
    .await;
    // A cluster job runs on the leader only; elsewhere 409 names the leader.
    let follower = nodes.iter().find(|n| n.id != leader).unwrap();
    let r = follower
        .rest(Method::POST, "/rest/cairn/1.0/cluster/jobs/trash-purge")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 409);
    assert!(r.text().await.unwrap().contains(&leader));

    // kill -9 the leader: it leaves every view within the TTL (plus the
    // watch), and another node takes over its jobs.
    let li = nodes.iter().position(|n| n.id == leader).unwrap();
    let mut dead = nodes.remove(li);
    dead.kill9();
    let killed = Instant::now();
    for n in &nodes {
        within(
            Duration::from_secs(15),
            "the killed node leaves the view",
            || async { !n.members().await.contains(&leader) },
        )
        .await;
    }
    let detected = killed.elapsed();
    within(Duration::from_secs(15), "a new leader", || async {
        nodes[0].leader().await.is_some_and(|l| l != leader)
    })
    .await;
    let failover = killed.elapsed();
    let new_leader = nodes[0].leader().await.unwrap();
    assert_eq!(
        nodes[1].leader().await.as_deref(),
        Some(new_leader.as_str())
    );
    eprintln!(
        "kill -9: detected in {detected:?}, new leader {new_leader} in {failover:?} (TTL 3 s)"
    );
    // The new leader runs the scheduled snapshot (10 s interval).
    let leader_node = nodes.iter().find(|n| n.id == new_leader).unwrap();
    within(
        Duration::from_secs(30),
        "the new leader runs the index snapshot",
        || async {
            let (_, v) = leader_node.get_json("/rest/cairn/1.0/cluster").await;
            v["jobs"].as_array().is_some_and(|jobs| {
                jobs.iter().any(|j| {
                    j["job"] == "index-snapshot"
                        && j["node_id"] == new_leader.as_str()
                        && j["ok"] == true
                })
            })
        },
    )
    .await;

    // A clean stop (SIGTERM) leaves at once, not after the TTL.
    let mut leaving = nodes.pop().unwrap();
    let stopped = Instant::now();
    let st = leaving.stop().await.expect("the node exits on SIGTERM");
    assert!(st.success(), "exit status {st:?}");
    within(
        Duration::from_secs(10),
        "the stopped node leaves",
        || async { !nodes[0].members().await.contains(&leaving.id) },
    )
    .await;
    eprintln!(
        "SIGTERM: exited and left the view {:?} after the signal",
        stopped.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_cut_from_etcd_stops_writing_and_its_late_writes_are_refused_by_the_database() {
    let etcd = Etcd::start();
    let spec = ClusterSpec::new(&etcd)
        .await
        .with_env("CAIRN_LEASE_TTL", "3");
    let proxy = Proxy::start(&etcd.endpoint).await;
    let cut_node = spec.node_via("cut", &proxy.endpoint).await;
    let other = spec.node("other").await;
    assert_eq!(cut_node.create_space("CUT").await, 200);
    let (code, _) = cut_node
        .create_page("CUT", "Before the cut", "<p>one</p>")
        .await;
    assert_eq!(code, 200);

    proxy.cut();
    let cut_at = Instant::now();
    let fenced = within(
        Duration::from_secs(6),
        "the cut node reports MAINTENANCE",
        || async { cut_node.status().await == (503, "MAINTENANCE".into()) },
    )
    .await;
    // How fast is measured by the benchmark; the guarantee that matters (no
    // late write is accepted) is checked against the database below.
    // It refuses writes with a clear 503 and keeps serving reads.
    let (code, body) = cut_node
        .create_page("CUT", "During the cut", "<p>x</p>")
        .await;
    assert_eq!(code, 503, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("lost contact"),
        "{body}"
    );
    let (code, _) = cut_node.get_json("/rest/api/content?spaceKey=CUT").await;
    assert_eq!(code, 200);
    let html = cut_node.get_text("/login").await;
    assert!(
        html.contains("lost contact with the cluster"),
        "the banner shows: {}",
        &html[..html.len().min(1500)]
    );
    // The database itself refuses the node's late writes: a connection that
    // identifies as the node (as all of its pool's do) cannot commit once
    // the lease it last wrote has run out. (The node fences itself as soon
    // as it loses etcd, which may be before that moment: the database's
    // guarantee is for every write after the lease.)
    let client = connect_as(&spec.db.url, "-c cairn.node_id=cut").await;
    within(
        Duration::from_secs(10),
        "the cut node's lease runs out in the database",
        || async {
            client
                .query_one(
                    "SELECT coalesce(bool_and(lease_until <= clock_timestamp()), true)
                     FROM cluster_fence WHERE node_id = 'cut'",
                    &[],
                )
                .await
                .map(|r| r.get::<_, bool>(0))
                .unwrap_or(false)
        },
    )
    .await;
    let err = client
        .execute(
            "UPDATE spaces SET name = 'late write' WHERE space_key = 'CUT'",
            &[],
        )
        .await
        .expect_err("a fenced node's write must fail");
    assert_eq!(err.code().map(|c| c.code()), Some("CR001"), "{err}");
    // The rest of the cluster goes on: the other node writes, and the cut
    // node leaves its view once its lease expires.
    let (code, _) = other
        .create_page("CUT", "Written elsewhere", "<p>two</p>")
        .await;
    assert_eq!(code, 200);
    within(
        Duration::from_secs(10),
        "the cut node leaves the other's view",
        || async { other.members().await == vec!["other".to_string()] },
    )
    .await;
    eprintln!(
        "cut from etcd: fenced after {fenced:?}; lease gone after {:?}",
        cut_at.elapsed()
    );

    // Healed: it rejoins by itself, writes again and catches up.
    proxy.heal();
    within(Duration::from_secs(20), "the cut node rejoins", || async {
        cut_node.status().await == (200, "RUNNING".into())
    })
    .await;
    let (code, _) = cut_node
        .create_page("CUT", "After the heal", "<p>three</p>")
        .await;
    assert_eq!(code, 200);
    within(
        Duration::from_secs(10),
        "the cut node finds the page written elsewhere",
        || async {
            cut_node
                .search_titles("title = \"Written elsewhere\"")
                .await
                == vec!["Written elsewhere".to_string()]
        },
    )
    .await;
    within(Duration::from_secs(10), "both members again", || async {
        other.members().await.len() == 2
    })
    .await;
    let titles = other.search_titles("space = CUT ORDER BY title").await;
    assert!(!titles.iter().any(|t| t == "During the cut"), "{titles:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_etcd_fences_every_node_for_writes_only_until_it_is_back() {
    let etcd = Etcd::start();
    let spec = ClusterSpec::new(&etcd)
        .await
        .with_env("CAIRN_LEASE_TTL", "3");
    let a = spec.node("a").await;
    let b = spec.node("b").await;
    assert_eq!(a.create_space("PAUSE").await, 200);
    let (code, page) = a.create_page("PAUSE", "Readable", "<p>r</p>").await;
    assert_eq!(code, 200);
    let id = page["id"].as_str().unwrap().to_owned();
    etcd.pause();
    for n in [&a, &b] {
        within(
            Duration::from_secs(8),
            "MAINTENANCE while etcd is paused",
            || async { n.status().await.1 == "MAINTENANCE" },
        )
        .await;
        let (code, _) = n
            .create_page("PAUSE", &format!("No {}", n.id), "<p/>")
            .await;
        assert_eq!(code, 503);
        let (code, v) = n.get_json(&format!("/rest/api/content/{id}")).await;
        assert_eq!((code, v["title"].as_str()), (200, Some("Readable")));
    }
    etcd.resume();
    for n in [&a, &b] {
        within(
            Duration::from_secs(20),
            "RUNNING once etcd is back",
            || async { n.status().await == (200, "RUNNING".into()) },
        )
        .await;
        let (code, _) = n
            .create_page("PAUSE", &format!("Yes {}", n.id), "<p/>")
            .await;
        assert_eq!(code, 200);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_node_id_and_a_foreign_database_are_refused_at_start() {
    let etcd = Etcd::start();
    let spec = ClusterSpec::new(&etcd).await;
    let _n1 = spec.node("n1").await;
    // Same id again.
    let (mut c, local) = spec.command("n1", cairn_tests::cluster::free_port(), &spec.etcd_endpoint);
    let st = c.status().await.unwrap();
    assert!(!st.success());
    let text = std::fs::read_to_string(local.join("node.err")).unwrap();
    assert!(text.contains("node id \"n1\" is already live"), "{text}");
    // Another process of n1 (say, one paused past its lease while n1 was
    // started again elsewhere) cannot write, even while n1's fence is
    // valid: the fence belongs to one process, not just to the node id.
    let client = connect_as(
        &spec.db.url,
        "-c cairn.node_id=n1 -c cairn.incarnation=stale",
    )
    .await;
    let live: bool = client
        .query_one(
            "SELECT lease_until > clock_timestamp() AND incarnation <> '' FROM cluster_fence WHERE node_id = 'n1'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(live, "n1's fence is valid and names its process");
    assert_eq!(_n1.create_space("INC").await, 200);
    let err = client
        .execute(
            "UPDATE spaces SET name = 'stale write' WHERE space_key = 'INC'",
            &[],
        )
        .await
        .expect_err("another process of the same node id must not write");
    assert_eq!(err.code().map(|c| c.code()), Some("CR001"), "{err}");
    let (code, _) = _n1.create_page("INC", "Still writes", "<p>n1</p>").await;
    assert_eq!(code, 200, "the live process itself still writes");
    // The same database under another cluster name.
    let mut other = ClusterSpec::new(&etcd).await;
    other.db = cairn_tests::TestDb {
        url: spec.db.url.clone(),
    };
    let (mut c, local) = other.command(
        "x1",
        cairn_tests::cluster::free_port(),
        &other.etcd_endpoint,
    );
    let st = c.status().await.unwrap();
    assert!(!st.success());
    let text = std::fs::read_to_string(local.join("node.err")).unwrap();
    assert!(text.contains("another cluster owns"), "{text}");
    // Another database under this cluster's etcd prefix.
    let mut foreign = ClusterSpec::new(&etcd).await;
    foreign.name = spec.name.clone();
    let (mut c, local) = foreign.command(
        "x2",
        cairn_tests::cluster::free_port(),
        &foreign.etcd_endpoint,
    );
    let st = c.status().await.unwrap();
    assert!(!st.success());
    let text = std::fs::read_to_string(local.join("node.err")).unwrap();
    assert!(text.contains("another cluster owns"), "{text}");
}
