//! The REST conventions of ../shared/reference/confluence-rest.md, one rule
//! per test, with plain HTTP, so a regression names the rule it broke.

use cairn_tests::{password_of, TestNode};
use serde_json::{json, Value};

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

#[tokio::test]
async fn root_context_latest_alias_and_string_ids() {
    let (_n, api) = setup().await;
    let p = api.page("API", "One", "<p>x</p>", None).await;
    assert!(p["id"].is_string(), "content ids are strings");
    assert_eq!(p["_links"]["context"], "");
    assert!(p["_links"]["webui"]
        .as_str()
        .unwrap()
        .starts_with("/spaces/API/pages/"));
    assert!(p["_links"]["tinyui"].is_string() && p["_links"]["base"].is_string());
    assert!(p["space"]["id"].is_number(), "space ids are numbers");
    let id = p["id"].as_str().unwrap();
    let (s, v) = api.get(&format!("/rest/api/latest/content/{id}")).await;
    assert_eq!(s, 200);
    assert_eq!(v["id"], id);
    assert!(
        v["_expandable"]["body"].is_string(),
        "unexpanded properties are listed: {v}"
    );
}

#[tokio::test]
async fn expand_embeds_and_unknown_expansions_are_400() {
    let (_n, api) = setup().await;
    let root = api.page("API", "Root", "<p>r</p>", None).await;
    let kid = api
        .page(
            "API",
            "Kid",
            "<h1>Hi</h1><p><strong>x</strong></p>",
            root["id"].as_str(),
        )
        .await;
    let id = kid["id"].as_str().unwrap();
    let (s, v) = api
        .get(&format!("/rest/api/content/{id}?expand=body.storage,body.view,version,space,ancestors,history,children.page,container,metadata.labels"))
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        v["body"]["storage"]["value"],
        "<h1>Hi</h1><p><strong>x</strong></p>"
    );
    assert!(v["body"]["view"]["value"]
        .as_str()
        .unwrap()
        .contains("<strong>x</strong>"));
    assert_eq!(v["ancestors"][0]["id"], root["id"], "root → parent");
    assert_eq!(
        v["version"]["message"], "",
        "message is a string, never null"
    );
    assert_eq!(v["space"]["key"], "API");
    assert!(v["children"]["page"]["results"].is_array());
    assert!(v["metadata"]["labels"]["results"].is_array());
    let (s, v) = api
        .get(&format!("/rest/api/content/{id}?expand=bogus"))
        .await;
    assert_eq!(s, 400);
    assert_envelope(&v, 400);
    assert!(v["message"].as_str().unwrap().contains("bogus"));
    let (_, r) = api
        .get(&format!(
            "/rest/api/content/{}?expand=ancestors",
            root["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(r["ancestors"], json!([]), "a root page has no ancestors");
}

#[tokio::test]
async fn pagination_next_only_when_more_and_carries_parameters() {
    let (_n, api) = setup().await;
    let root = api.page("API", "Parent", "", None).await;
    let rid = root["id"].as_str().unwrap().to_owned();
    for i in 0..5 {
        api.page("API", &format!("C{i}"), "", Some(&rid)).await;
    }
    let (_, v) = api
        .get(&format!(
            "/rest/api/content/{rid}/child/page?limit=2&expand=version"
        ))
        .await;
    assert_eq!(v["limit"], 2);
    assert_eq!(v["size"], 2);
    let next = v["_links"]["next"].as_str().unwrap();
    assert!(
        next.starts_with(&format!("/rest/api/content/{rid}/child/page?")),
        "relative to base: {next}"
    );
    assert!(
        next.contains("expand=version") && next.contains("start=2") && next.contains("limit=2"),
        "{next}"
    );
    let (_, v2) = api.get(next).await;
    assert_eq!(v2["results"][0]["title"], "C2");
    let (_, last) = api
        .get(&format!(
            "/rest/api/content/{rid}/child/page?limit=2&start=4"
        ))
        .await;
    assert_eq!(last["size"], 1);
    assert!(
        last["_links"].get("next").is_none(),
        "no next on the last page"
    );
    let (_, exact) = api
        .get(&format!("/rest/api/content/{rid}/child/page?limit=5"))
        .await;
    assert!(
        exact["_links"].get("next").is_none(),
        "no next when exactly everything fits"
    );
    let (_, capped) = api.get("/rest/api/content?limit=100000").await;
    assert_eq!(capped["limit"], 500, "the applied limit is echoed");
}

#[tokio::test]
async fn error_envelope_auth_and_401() {
    let (node, api) = setup().await;
    let anon = Api::new(&node, None);
    let r = anon
        .req(reqwest::Method::GET, "/rest/api/content")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.headers()["content-type"],
        "application/json;charset=UTF-8"
    );
    let v: Value = r.json().await.unwrap();
    assert_envelope(&v, 401);
    let (s, v) = api.get("/rest/api/content/999999").await;
    assert_eq!(s, 404);
    assert_envelope(&v, 404);
    assert!(v["message"].as_str().unwrap().contains("999999"));
    let (s, v) = api.get("/rest/api/content/not-a-number").await;
    assert_eq!(s, 404);
    assert_envelope(&v, 404);
    let (s, v) = api.get("/rest/api/content?spaceKey=NOPE").await;
    assert_eq!(s, 404, "unknown spaceKey is a 404, not an empty list");
    assert_envelope(&v, 404);
    let (s, _) = api.get("/rest/api/nothing/here").await;
    assert_eq!(s, 404);
    let bad = Api {
        auth: Some(("admin".into(), "wrong-password".into())),
        ..Api::new(&node, None)
    };
    let (s, v) = bad.get("/rest/api/space").await;
    assert_eq!(s, 401);
    assert_envelope(&v, 401);
    // Bearer tokens.
    let (s, t) = api
        .post(
            "/rest/pat/latest/tokens",
            json!({"name": "ci", "expirationDuration": 7}),
        )
        .await;
    assert_eq!(s, 201, "{t}");
    let raw = t["rawToken"].as_str().unwrap();
    assert!(t["id"].is_number() && t["createdAt"].is_string() && t["expiringAt"].is_string());
    let r = anon
        .req(reqwest::Method::GET, "/rest/api/user/current")
        .bearer_auth(raw)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let me: Value = r.json().await.unwrap();
    assert_eq!(me["username"], "admin");
    assert!(me["userKey"].is_string() && me["displayName"].is_string());
    let (_, list) = api.get("/rest/pat/latest/tokens").await;
    assert!(
        !list.to_string().contains(raw),
        "the raw token is returned once"
    );
}

#[tokio::test]
async fn xsrf_rule_for_form_like_bodies() {
    let (_n, api) = setup().await;
    let p = api.page("API", "Files", "", None).await;
    let id = p["id"].as_str().unwrap();
    let form = || {
        reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(b"hi".to_vec()).file_name("a.txt"),
        )
    };
    let url = format!("{}/rest/api/content/{id}/child/attachment", api.base);
    let r = api
        .http
        .post(&url)
        .basic_auth("admin", Some(password_of("admin")))
        .multipart(form())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["message"], "XSRF check failed");
    for token in ["no-check", "nocheck", "No-Check"] {
        let r = api
            .http
            .post(&url)
            .basic_auth("admin", Some(password_of("admin")))
            .header("X-Atlassian-Token", token)
            .query(&[("allowDuplicated", "true")])
            .multipart(form())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{token}");
    }
    let r = api
        .http
        .post(format!("{}/rest/api/content", api.base))
        .basic_auth("admin", Some(password_of("admin")))
        .header("Content-Type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "text/plain counts as form-like");
}

#[tokio::test]
async fn version_rule_history_and_byte_for_byte_bodies() {
    let (_n, api) = setup().await;
    let body = "<p>caf&eacute;  &nbsp;<br/> </p>\n";
    let p = api.page("API", "Versioned", body, None).await;
    let id = p["id"].as_str().unwrap();
    let (_, v) = api
        .get(&format!("/rest/api/content/{id}?expand=body.storage"))
        .await;
    assert_eq!(
        v["body"]["storage"]["value"], body,
        "stored and returned byte for byte"
    );
    for n in [1, 3] {
        let (s, e) = api
            .put(
                &format!("/rest/api/content/{id}"),
                json!({"type": "page", "title": "Versioned", "version": {"number": n},
                 "body": {"storage": {"value": "<p>new</p>", "representation": "storage"}}}),
            )
            .await;
        assert_eq!(s, 409, "version {n}");
        assert_eq!(
            e["message"],
            "Version must be incremented on update. Current version is: 1"
        );
    }
    let (s, u) = api
        .put(&format!("/rest/api/content/{id}"), json!({"version": {"number": 2, "message": "m"}, "title": "Versioned",
             "type": "page", "body": {"storage": {"value": "<p>new</p>", "representation": "storage"}}}))
        .await;
    assert_eq!(s, 200, "{u}");
    assert_eq!(u["version"]["number"], 2);
    let (_, h) = api.get(&format!("/rest/api/content/{id}/history")).await;
    assert_eq!(h["lastUpdated"]["number"], 2);
    assert_eq!(h["lastUpdated"]["message"], "m");
    assert!(
        h["createdBy"]["username"].is_string()
            && h["createdDate"].is_string()
            && h["latest"] == true
    );
    let (_, old) = api
        .get(&format!(
            "/rest/api/content/{id}?version=1&expand=body.storage"
        ))
        .await;
    assert_eq!(old["body"]["storage"]["value"], body);
    let (_, vs) = api.get(&format!("/rest/api/content/{id}/version")).await;
    assert_eq!(vs["size"], 2);
}

#[tokio::test]
async fn labels_metadata_and_one_or_many() {
    let (_n, api) = setup().await;
    let (s, p) = api
        .post("/rest/api/content", json!({"type": "page", "title": "Labelled", "space": {"key": "API"},
              "body": {"storage": {"value": "", "representation": "storage"}},
              "metadata": {"labels": [{"prefix": "global", "name": "Alpha"}],
                           "properties": {"content-appearance-published": {"value": "fixed-width"}}}}))
        .await;
    assert_eq!(s, 200, "{p}");
    assert_eq!(
        p["metadata"]["labels"]["results"][0]["name"], "alpha",
        "names are lower-case"
    );
    let id = p["id"].as_str().unwrap();
    let (_, l) = api
        .post(
            &format!("/rest/api/content/{id}/label"),
            json!({"prefix": "global", "name": "beta"}),
        )
        .await;
    assert_eq!(l["size"], 2);
    let (_, l) = api
        .post(
            &format!("/rest/api/content/{id}/label"),
            json!([{"name": "gamma"}, {"name": "delta"}]),
        )
        .await;
    assert_eq!(l["size"], 4);
    for lab in &l["results"].as_array().unwrap()[..] {
        assert!(lab["prefix"] == "global" && lab["id"].is_string() && lab["label"].is_string());
    }
    let r = api
        .req(
            reqwest::Method::DELETE,
            &format!("/rest/api/content/{id}/label?name=beta"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = api
        .req(
            reqwest::Method::DELETE,
            &format!("/rest/api/content/{id}/label/gamma"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    // PUT replaces the set, and the response carries it.
    let (s, u) = api
        .put(
            &format!("/rest/api/content/{id}"),
            json!({"version": {"number": 2}, "title": "Labelled", "type": "page",
             "metadata": {"labels": [{"name": "only"}]}}),
        )
        .await;
    assert_eq!(s, 200, "{u}");
    let names: Vec<&str> = u["metadata"]["labels"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["only"]);
}

#[tokio::test]
async fn attachments_both_id_forms_versions_and_downloads() {
    let (_n, api) = setup().await;
    let p = api.page("API", "Att", "", None).await;
    let id = p["id"].as_str().unwrap();
    let upload = |bytes: &'static [u8], q: &'static str| {
        let form = reqwest::multipart::Form::new()
            .part(
                "comment",
                reqwest::multipart::Part::text("c").file_name("comment.txt"),
            )
            .part(
                "file",
                reqwest::multipart::Part::bytes(bytes.to_vec())
                    .file_name("f.txt")
                    .mime_str("text/plain")
                    .unwrap(),
            );
        api.http
            .post(format!(
                "{}/rest/api/content/{id}/child/attachment{q}",
                api.base
            ))
            .basic_auth("admin", Some(password_of("admin")))
            .header("X-Atlassian-Token", "no-check")
            .multipart(form)
            .send()
    };
    let r = upload(b"one", "").await.unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    let att = v["results"][0].clone();
    let att_id = att["id"].as_str().unwrap().to_owned();
    assert!(att_id.starts_with("att"));
    assert_eq!(
        att["extensions"]["comment"], "c",
        "a text part with a filename is still text"
    );
    let r = upload(b"two", "").await.unwrap();
    assert_eq!(r.status(), 400);
    let e: Value = r.json().await.unwrap();
    assert_eq!(
        e["message"],
        "Cannot add a new attachment with same file name as an existing attachment: f.txt"
    );
    assert_eq!(
        upload(b"two", "?allowDuplicated=true")
            .await
            .unwrap()
            .status(),
        200
    );
    // …/data with either id form.
    let num = att_id.trim_start_matches("att");
    for aid in [att_id.as_str(), num] {
        let form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(b"three".to_vec()).file_name("f.txt"),
        );
        let r = api
            .http
            .post(format!(
                "{}/rest/api/content/{id}/child/attachment/{aid}/data",
                api.base
            ))
            .basic_auth("admin", Some(password_of("admin")))
            .header("X-Atlassian-Token", "no-check")
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{aid}");
        let one: Value = r.json().await.unwrap();
        assert_eq!(one["id"], att_id, "one object back");
    }
    let (_, list) = api
        .get(&format!(
            "/rest/api/content/{id}/child/attachment?filename=f.txt"
        ))
        .await;
    assert_eq!(list["size"], 1);
    let a = &list["results"][0];
    assert_eq!(a["version"]["number"], 4);
    assert_eq!(a["metadata"]["mediaType"], "text/plain");
    assert_eq!(a["extensions"]["fileSize"], 5);
    assert_eq!(a["container"]["id"], id);
    let dl = a["_links"]["download"].as_str().unwrap();
    let r = api.req(reqwest::Method::GET, dl).send().await.unwrap();
    assert_eq!(
        r.status(),
        200,
        "downloads tolerate Accept: application/json"
    );
    assert_eq!(r.bytes().await.unwrap().as_ref(), b"three");
    let r = api
        .req(
            reqwest::Method::GET,
            &format!("/download/attachments/{id}/f.txt?version=1"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.bytes().await.unwrap().as_ref(), b"one");
    let (s, _) = api.get(&format!("/rest/api/content/{num}")).await;
    assert_eq!(s, 200, "attachment content by numeric id");
}

#[tokio::test]
async fn comments_restrictions_users_convert_and_search() {
    let (node, api) = setup().await;
    let p = api.page("API", "Discussed", "", None).await;
    let id = p["id"].as_str().unwrap();
    let (s, c) = api
        .post(
            "/rest/api/content",
            json!({"type": "comment", "container": {"id": id, "type": "page"},
              "body": {"storage": {"value": "<p>first</p>", "representation": "storage"}}}),
        )
        .await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(c["container"]["id"], id);
    let (_, cs) = api
        .get(&format!(
            "/rest/api/content/{id}/child/comment?expand=body.storage"
        ))
        .await;
    assert_eq!(cs["results"][0]["body"]["storage"]["value"], "<p>first</p>");
    let (s, r) = api
        .get(&format!("/rest/api/content/{id}/restriction/byOperation"))
        .await;
    assert_eq!(s, 200);
    assert_eq!(r["read"]["operation"], "read");
    assert!(r["update"]["restrictions"]["user"]["results"].is_array());
    let (s, u) = api.get("/rest/api/user?username=admin").await;
    assert_eq!(s, 200);
    assert_eq!(u["type"], "known");
    let (s, _) = api.get("/rest/api/user?username=nobody").await;
    assert_eq!(s, 404);
    let (s, cv) = api
        .post(
            "/rest/api/contentbody/convert/view",
            json!({"value": "<p><em>x</em><script>1</script></p>", "representation": "storage"}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(cv["representation"], "view");
    assert!(
        cv["value"].as_str().unwrap().contains("<em>x</em>")
            && !cv["value"].as_str().unwrap().contains("script")
    );
    let (s, z) = api.get("/rest/zdu/cluster").await;
    assert_eq!(s, 200);
    assert_eq!(z["nodes"][0]["state"], "ACTIVE");
    assert_eq!(z["nodes"][0]["local"], true);
    let (s, e) = api.get("/rest/api/search?cql=type%3D").await;
    assert_eq!(s, 400, "invalid CQL is a 400 that says where");
    assert_envelope(&e, 400);
    assert!(e["message"].as_str().unwrap().contains("position"), "{e}");
    // A restricted page is invisible to others through REST.
    node.user("eve", false).await;
    let c = node.login("admin").await;
    c.restrict(id, "read", "user", "admin").await;
    let eve = Api::new(&node, Some("eve"));
    for path in [
        format!("/rest/api/content/{id}"),
        format!("/rest/api/content/{id}/history"),
        format!("/rest/api/content/{id}/child/comment"),
        format!("/rest/api/content/{id}/label"),
    ] {
        let (s, v) = eve.get(&path).await;
        assert_eq!(s, 404, "{path}");
        assert!(
            !v.to_string().contains("Discussed"),
            "{path} leaks the title"
        );
    }
    let (_, list) = eve
        .get("/rest/api/content?spaceKey=API&title=Discussed")
        .await;
    assert_eq!(list["size"], 0);
    let (_, list) = eve.get("/rest/api/space/API/content/page").await;
    assert!(!list.to_string().contains("Discussed"));
}

#[tokio::test]
async fn bad_input_is_a_4xx_that_says_what_and_writes_nothing() {
    let (_n, api) = setup().await;
    let p = api.page("API", "Stable", "<p>keep</p>", None).await;
    let id = p["id"].as_str().unwrap();
    let raw = |body: &'static str| {
        api.req(reqwest::Method::POST, "/rest/api/content")
            .body(body)
            .send()
    };
    let r = raw("{not json").await.unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert!(
        v["message"].as_str().unwrap().contains("not valid JSON"),
        "{v}"
    );
    for (body, needle) in [
        (
            json!({"type": "page", "title": 5, "space": {"key": "API"}}),
            "title must be a string",
        ),
        (
            json!({"type": "page", "space": {"key": "API"}}),
            "needs a title",
        ),
        (json!({"type": "page", "title": "x"}), "space.key"),
        (
            json!({"type": "widget", "title": "x", "space": {"key": "API"}}),
            "unknown content type",
        ),
        (
            json!({"type": "page", "title": "x", "space": {"key": "API"}, "body": {"wiki": {"value": "h1. x", "representation": "wiki"}}}),
            "not supported",
        ),
        (
            json!({"type": "page", "title": "x", "space": {"key": "API"}, "body": {"storage": {"value": "<p>", "representation": "storage"}}}),
            "well-formed",
        ),
        (
            json!({"type": "page", "title": "x", "space": {"key": "API"}, "ancestors": [{"id": "abc"}]}),
            "ancestors",
        ),
        (
            json!({"type": "page", "title": "x", "space": {"key": "API"}, "metadata": {"labels": "oops"}}),
            "labels",
        ),
    ] {
        let (s, v) = api.post("/rest/api/content", body.clone()).await;
        assert_eq!(s, 400, "{body}: {v}");
        assert!(
            v["message"].as_str().unwrap().contains(needle),
            "{body}: {v}"
        );
    }
    let (s, v) = api
        .post(
            "/rest/api/content",
            json!({"type": "page", "title": "Stable", "space": {"key": "API"}}),
        )
        .await;
    assert_eq!(s, 400);
    assert_eq!(v["message"], "A page with this title already exists: A page already exists with the title Stable in the space with key API");
    // A PUT with one bad field changes nothing (no partial write).
    let (s, v) = api
        .put(
            &format!("/rest/api/content/{id}"),
            json!({"version": {"number": 2}, "title": "Renamed", "type": "page",
             "metadata": {"labels": [{"name": "bad label!"}]}}),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    let (_, now) = api
        .get(&format!("/rest/api/content/{id}?expand=version"))
        .await;
    assert_eq!(now["title"], "Stable");
    assert_eq!(now["version"]["number"], 1);
    let (s, _) = api
        .put(&format!("/rest/api/content/{id}"), json!({"title": "x"}))
        .await;
    assert_eq!(s, 400, "version is required");
    let big = "x".repeat(9 * 1024 * 1024);
    let r = api
        .req(reqwest::Method::POST, "/rest/api/content")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let (s, _) = api.get("/rest/api/content?limit=-1").await;
    assert_eq!(s, 400);
    let (s, _) = api.get("/rest/api/content?type=widget").await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn delete_trash_and_purge_and_move_by_ancestors() {
    let (_n, api) = setup().await;
    let a = api.page("API", "A", "", None).await;
    let b = api.page("API", "B", "", None).await;
    let (aid, bid) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());
    let (s, m) = api
        .put(&format!("/rest/api/content/{bid}"), json!({"version": {"number": 2}, "title": "B", "type": "page", "ancestors": [{"id": aid.parse::<i64>().unwrap()}]}))
        .await;
    assert_eq!(s, 200, "{m}");
    assert_eq!(
        m["ancestors"][0]["id"], aid,
        "numeric ancestor ids accepted; the page moved"
    );
    let r = api
        .req(reqwest::Method::DELETE, &format!("/rest/api/content/{bid}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let (s, _) = api.get(&format!("/rest/api/content/{bid}")).await;
    assert_eq!(s, 404);
    let (s, t) = api
        .get(&format!("/rest/api/content/{bid}?status=trashed"))
        .await;
    assert_eq!(s, 200);
    assert_eq!(t["status"], "trashed");
    let r = api
        .req(
            reqwest::Method::DELETE,
            &format!("/rest/api/content/{bid}?status=trashed"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let (s, _) = api
        .get(&format!("/rest/api/content/{bid}?status=trashed"))
        .await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn rate_limit_token_bucket_per_user_with_exemptions() {
    let node = TestNode::start_with(|s| {
        s.rate_limiter.set(Some(cairn::ratelimit::Limits {
            rate: 0.5,
            burst: 3.0,
        }))
    })
    .await;
    node.user("bot", false).await;
    let bot = Api::new(&node, Some("bot"));
    for i in 0..3 {
        let r = bot
            .req(reqwest::Method::GET, "/rest/api/space")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "call {i}");
        assert_eq!(r.headers()["x-ratelimit-limit"], "3");
        assert_eq!(
            r.headers()["x-ratelimit-remaining"],
            (2 - i).to_string().as_str()
        );
        assert!(r.headers().contains_key("x-ratelimit-fillrate"));
    }
    let r = bot
        .req(reqwest::Method::GET, "/rest/api/space")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "2");
    assert_eq!(r.headers()["x-ratelimit-remaining"], "0");
    let v: Value = r.json().await.unwrap();
    assert_envelope(&v, 429);
    // Buckets are per user: admin is unaffected.
    let admin = Api::new(&node, Some("admin"));
    assert_eq!(admin.get("/rest/api/space").await.0, 200);
    // An exempt user is never limited.
    let ui = node.login("admin").await;
    let id: i64 = node
        .sql()
        .await
        .query_one("SELECT id FROM users WHERE username = 'bot'", &[])
        .await
        .unwrap()
        .get(0);
    let r = ui
        .post(&format!("/admin/users/{id}/ratelimit"), &[("exempt", "on")])
        .await;
    assert_eq!(r.status(), 303);
    for _ in 0..10 {
        let r = bot
            .req(reqwest::Method::GET, "/rest/api/space")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert!(!r.headers().contains_key("x-ratelimit-limit"));
    }
}
