use cairn_tests::TestNode;

#[tokio::test]
async fn status_running_once_ready() {
    let node = TestNode::start().await;
    let r = reqwest::get(format!("{}/status", node.base)).await.unwrap();
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["state"], "RUNNING");
}
