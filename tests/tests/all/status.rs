use cairn_tests::TestNode;

#[tokio::test]
async fn status_running_once_ready() {
    let node = TestNode::start().await;
    let r = reqwest::get(format!("{}/status", node.base)).await.unwrap();
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["state"], "RUNNING");
}

#[tokio::test]
async fn status_starting_until_ready() {
    let db = cairn_tests::TestDb::new().await;
    let base = cairn_tests::serve(cairn::db::pool(&db.url, 2).unwrap(), false).await;
    let r = reqwest::get(format!("{base}/status")).await.unwrap();
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["state"], "STARTING");
}

#[tokio::test]
async fn status_error_when_database_unreachable() {
    // Port 1 on loopback: nothing listens, connections are refused at once.
    let pool = cairn::db::pool("postgres://cairn@127.0.0.1:1/none", 2).unwrap();
    let base = cairn_tests::serve(pool, true).await;
    let r = reqwest::get(format!("{base}/status")).await.unwrap();
    assert_eq!(r.status(), 500);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["state"], "ERROR");
}

#[tokio::test]
async fn status_error_while_the_search_index_cannot_apply_the_journal() {
    let node = TestNode::start().await;
    let get = || async {
        let r = reqwest::get(format!("{}/status", node.base)).await.unwrap();
        let code = r.status().as_u16();
        let v: serde_json::Value = r.json().await.unwrap();
        (code, v["state"].as_str().unwrap_or_default().to_owned())
    };
    assert_eq!(get().await, (200, "RUNNING".to_string()));
    // What the journal tailer records when applying the journal fails.
    let index = node.state.search.clone().expect("search index");
    index.set_failing(true);
    assert_eq!(get().await, (500, "ERROR".to_string()));
    // And when the next attempt succeeds.
    index.set_failing(false);
    assert_eq!(get().await, (200, "RUNNING".to_string()));
}
