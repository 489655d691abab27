//! The real atlassian-python-api (4.0.x and 5.0.x, in virtualenvs that
//! tests/run.sh creates) against a node: tests/python/apa_client.py.

use std::path::PathBuf;

use cairn_tests::{password_of, TestNode};

async fn run_client(major: u32) {
    let node = TestNode::start().await;
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{}/rest/pat/latest/tokens", node.base))
        .basic_auth("admin", Some(password_of("admin")))
        .json(&serde_json::json!({"name": "python", "expirationDuration": 30}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let v: serde_json::Value = r.json().await.unwrap();
    let token = v["rawToken"].as_str().unwrap().to_owned();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("python/apa_client.py");
    let out = tokio::process::Command::new(cairn_tests::venv_tool(
        &format!("CAIRN_APA{major}_PYTHON"),
        &format!("venv-apa{major}/bin/python"),
    ))
    .arg(&script)
    .env("CAIRN_URL", &node.base)
    .env("CAIRN_USER", "admin")
    .env("CAIRN_PASSWORD", password_of("admin"))
    .env("CAIRN_TOKEN", token)
    .output()
    .await
    .expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("ALL OK"),
        "atlassian-python-api {major}.x failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
}

#[tokio::test]
async fn atlassian_python_api_4() {
    run_client(4).await;
}

#[tokio::test]
async fn atlassian_python_api_5() {
    run_client(5).await;
}
