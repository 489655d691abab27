//! The REST conventions of ../shared/reference/confluence-rest.md, one rule
//! per test, with plain HTTP, so a regression names the rule it broke.

use cairn_tests::{password_of, TestNode};
use serde_json::{json, Value};

mod conventions;
mod gaps;
mod properties;
mod resources;

struct Api {
    http: reqwest::Client,
    base: String,
    auth: Option<(String, String)>,
}

impl Api {
    fn new(node: &TestNode, user: Option<&str>) -> Api {
        Api {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: node.base.clone(),
            auth: user.map(|u| (u.to_owned(), password_of(u))),
        }
    }
    fn req(&self, m: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        // Real clients send these on every request, GET and DELETE included.
        let r = self
            .http
            .request(m, format!("{}{path}", self.base))
            .header("Content-Type", "application/json")
            .header("Accept", "application/json");
        match &self.auth {
            Some((u, p)) => r.basic_auth(u, Some(p)),
            None => r,
        }
    }
    async fn get(&self, path: &str) -> (u16, Value) {
        let r = self.req(reqwest::Method::GET, path).send().await.unwrap();
        let s = r.status().as_u16();
        (s, r.json().await.unwrap_or(Value::Null))
    }
    async fn send(&self, m: reqwest::Method, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .req(m, path)
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let s = r.status().as_u16();
        (s, r.json().await.unwrap_or(Value::Null))
    }
    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::POST, path, body).await
    }
    async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::PUT, path, body).await
    }
    async fn page(&self, space: &str, title: &str, body: &str, parent: Option<&str>) -> Value {
        let mut b = json!({"type": "page", "title": title, "space": {"key": space},
                           "body": {"storage": {"value": body, "representation": "storage"}}});
        if let Some(p) = parent {
            b["ancestors"] = json!([{"id": p}]);
        }
        let (s, v) = self.post("/rest/api/content", b).await;
        assert_eq!(s, 200, "{v}");
        v
    }
}

async fn setup() -> (TestNode, Api) {
    let node = TestNode::start().await;
    let api = Api::new(&node, Some("admin"));
    let (s, v) = api
        .post(
            "/rest/api/space",
            json!({"key": "API", "name": "Api Space"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    (node, api)
}

fn assert_envelope(v: &Value, status: u16) {
    assert_eq!(v["statusCode"], status, "{v}");
    assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
    assert!(
        v["reason"].is_string() && v["data"]["successful"] == false,
        "{v}"
    );
}
