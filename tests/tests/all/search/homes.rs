//! An index is bound to the history it indexes (issue 22): a snapshot or a
//! local home from another cluster is never taken as this cluster's.

use super::*;

#[tokio::test]
async fn a_snapshot_from_another_cluster_in_the_shared_home_is_not_restored() {
    let a = TestNode::start().await;
    let b = TestNode::start().await;
    let ca = a.login("admin").await;
    ca.create_space("OTH", "Other").await;
    for i in 0..6 {
        ca.create_page("OTH", &format!("Foreign page {i}"), "<p>yak</p>", None)
            .await;
    }
    let cb = b.login("admin").await;
    cb.create_space("MINE", "Mine").await;
    cb.create_page("MINE", "Home grown", "<p>llama</p>", None)
        .await;
    // Cluster A's index writes a snapshot into B's shared home (a reused
    // directory, a test environment cloned from production).
    let home_a = temp_home("other-a");
    let idx_a = settled_index(&a, &home_a).await;
    let seq = idx_a.snapshot(&b.shared_home).unwrap();
    let db_b = b.sql().await;
    let head_b: i64 = db_b
        .query_one("SELECT max(seq) FROM index_journal", &[])
        .await
        .unwrap()
        .get(0);
    assert!(
        seq > head_b,
        "the foreign snapshot is ahead ({seq} > {head_b}): the old code restored it"
    );
    // A new node of B: the foreign snapshot is refused, B's own journal used.
    let home_b = temp_home("other-b");
    let idx_b = cairn::search::SearchIndex::open(&home_b).unwrap();
    let settled = idx_b.settle(&b.pool, &b.state.files).await.unwrap();
    assert!(
        !matches!(settled, cairn::search::Settled::Restored(_)),
        "{settled:?}"
    );
    let why = idx_b
        .health()
        .last_distrust
        .map(|(_, w)| w)
        .unwrap_or_default();
    assert!(
        why.contains(&format!("snapshot-{seq} not used")) && why.contains("another history"),
        "{why}"
    );
    wait_healthy(&idx_b).await;
    idx_b.catch_up(&db_b, &b.state.files).await.unwrap();
    assert!(
        hit_ids(&b, &idx_b, "text ~ yak").await.is_empty(),
        "no foreign documents"
    );
    assert_eq!(hit_ids(&b, &idx_b, "text ~ llama").await.len(), 1);
    let _ = std::fs::remove_dir_all(&home_a);
    let _ = std::fs::remove_dir_all(&home_b);
}

#[tokio::test]
async fn a_local_home_copied_from_the_same_cluster_is_kept_and_from_another_is_rebuilt() {
    let a = TestNode::start().await;
    let b = TestNode::start().await;
    for (node, id) in [(&a, "cluster-a"), (&b, "cluster-b")] {
        node.sql()
            .await
            .execute(
                "INSERT INTO cluster_info (cluster_id, name) VALUES ($1, 'wiki')",
                &[&id],
            )
            .await
            .unwrap();
    }
    let ca = a.login("admin").await;
    ca.create_space("CPA", "Copy A").await;
    for i in 0..4 {
        ca.create_page("CPA", &format!("Alpha {i}"), "<p>ibex</p>", None)
            .await;
    }
    let cb = b.login("admin").await;
    cb.create_space("CPB", "Copy B").await;
    let beta = cb.create_page("CPB", "Beta", "<p>gazelle</p>", None).await;
    let home_a = temp_home("copy-a");
    let idx_a = settled_index(&a, &home_a).await;
    let pos = idx_a.position();
    assert_eq!(hit_ids(&a, &idx_a, "text ~ ibex").await.len(), 4);
    // Another node of the same cluster: reused as is.
    let home_a2 = temp_home("copy-a2");
    copy_index(&home_a, &home_a2);
    let idx_a2 = cairn::search::SearchIndex::open(&home_a2).unwrap();
    assert_eq!(
        idx_a2.settle(&a.pool, &a.state.files).await.unwrap(),
        cairn::search::Settled::Kept
    );
    assert_eq!(idx_a2.position(), pos);
    assert_eq!(hit_ids(&a, &idx_a2, "text ~ ibex").await.len(), 4);
    // A node of another cluster: rebuilt from its own database.
    let home_b = temp_home("copy-b");
    copy_index(&home_a, &home_b);
    let idx_b = cairn::search::SearchIndex::open(&home_b).unwrap();
    let settled = idx_b.settle(&b.pool, &b.state.files).await.unwrap();
    match &settled {
        cairn::search::Settled::Rebuilding(why) => {
            assert!(why.contains("cluster \"cluster-a\""), "{why}")
        }
        other => panic!("another cluster's index was not rebuilt: {other:?}"),
    }
    assert!(
        hit_ids(&b, &idx_b, "text ~ ibex").await.is_empty(),
        "the stand-in answers nothing foreign while rebuilding"
    );
    wait_healthy(&idx_b).await;
    assert!(hit_ids(&b, &idx_b, "text ~ ibex").await.is_empty());
    assert_eq!(hit_ids(&b, &idx_b, "text ~ gazelle").await, vec![beta]);
    assert_eq!(
        idx_b.payload().identity.unwrap().cluster,
        "cluster-b",
        "the rebuilt index carries its own identity"
    );
    for h in [&home_a, &home_a2, &home_b] {
        let _ = std::fs::remove_dir_all(h);
    }
}
