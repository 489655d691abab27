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
