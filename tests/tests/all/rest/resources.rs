//! The rules of single resources: labels and metadata, attachments,
//! comments, restrictions, users, convert and search, bad input, trash and
//! move, and the rate limit.

use super::*;

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
async fn a_restore_with_a_bad_field_leaves_the_content_in_the_trash() {
    let (_n, api) = setup().await;
    let c = api.page("API", "C", "<p>kept</p>", None).await;
    let id = c["id"].as_str().unwrap();
    let r = api
        .req(reqwest::Method::DELETE, &format!("/rest/api/content/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let trashed = |api: &Api| {
        let path = format!("/rest/api/content/{id}?status=trashed&expand=version");
        let api = api.req(reqwest::Method::GET, &path);
        async move {
            let r = api.send().await.unwrap();
            let v: Value = r.json().await.unwrap();
            (
                v["status"].as_str().unwrap_or("").to_owned(),
                v["version"]["number"].as_i64().unwrap_or(0),
            )
        }
    };
    let (status, number) = trashed(&api).await;
    assert_eq!(status, "trashed");
    let path = format!("/rest/api/content/{id}");
    for (body, want) in [
        (
            json!({"version": {"number": number + 1}, "status": "current", "title": ""}),
            400,
        ),
        (
            json!({"version": {"number": number + 1}, "status": "current", "title": "C", "body": {"storage": {"value": "<p>unclosed"}}}),
            400,
        ),
        (
            json!({"version": {"number": number + 1}, "status": "current", "title": "C", "metadata": {"labels": [{"name": "no spaces allowed"}]}}),
            400,
        ),
        (
            json!({"version": {"number": number + 7}, "status": "current", "title": "C"}),
            409,
        ),
    ] {
        let (s, v) = api.put(&path, body.clone()).await;
        assert_eq!(s, want, "{body}: {v}");
        assert_envelope(&v, want);
        assert_eq!(
            trashed(&api).await.0,
            "trashed",
            "{body} restored the content"
        );
    }
    let (s, v) = api
        .put(
            &path,
            json!({"version": {"number": number + 1}, "status": "current", "title": "C"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["status"], "current");
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
