//! Content properties (`/rest/api/content/{id}/property`) as Confluence
//! Data Center serves them: versions, conflicts, any JSON, limits,
//! permissions, `metadata.properties` and their life with the content.

use super::*;

async fn delete(api: &Api, path: &str) -> (u16, Value) {
    let r = api.req(reqwest::Method::DELETE, path).send().await.unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn properties_are_created_read_listed_updated_by_version_and_deleted() {
    let (_n, api) = setup().await;
    let p = api.page("API", "With properties", "", None).await;
    let id = p["id"].as_str().unwrap();
    let base = format!("/rest/api/content/{id}/property");
    let (s, v) = api.get(&base).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        (v["size"].clone(), v["start"].clone()),
        (json!(0), json!(0))
    );
    // Values of any shape, stored and answered as given.
    let values = [
        ("obj", json!({"a": [1, 2.5, {"b": null}], "ünï": "cödé"})),
        ("arr", json!([true, false, "x"])),
        ("num", json!(42)),
        ("str", json!("just a string")),
    ];
    for (key, value) in &values {
        let (s, c) = api.post(&base, json!({"key": key, "value": value})).await;
        assert_eq!(s, 200, "{c}");
        assert_eq!(c["key"], *key);
        assert_eq!(c["value"], *value);
        assert_eq!(c["version"]["number"], 1);
        assert_eq!(c["version"]["by"]["username"], "admin");
        assert!(c["id"].is_string(), "ids are strings: {c}");
        assert!(c["_links"]["self"]
            .as_str()
            .unwrap()
            .ends_with(&format!("{base}/{key}")));
        assert_eq!(
            c["_expandable"]["content"],
            format!("/rest/api/content/{id}")
        );
    }
    // A second create of the same key is a conflict.
    let (s, e) = api.post(&base, json!({"key": "obj", "value": 1})).await;
    assert_eq!(s, 409, "{e}");
    assert_envelope(&e, 409);
    // Listed by key, paged with Confluence's links.
    let (_, l) = api.get(&format!("{base}?limit=3")).await;
    let keys: Vec<&str> = l["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["arr", "num", "obj"]);
    assert!(l["_links"]["next"].as_str().unwrap().contains("start=3"));
    let (_, l) = api.get(&format!("{base}?limit=3&start=3")).await;
    assert_eq!(l["results"][0]["key"], "str");
    assert!(l["_links"].get("next").is_none(), "{l}");
    // Read one, with the content embedded on request.
    let (s, g) = api.get(&format!("{base}/obj?expand=content")).await;
    assert_eq!(s, 200, "{g}");
    assert_eq!(g["value"], values[0].1);
    assert_eq!(g["content"]["id"], id);
    // Update: the next version only; a stale version is a 409 naming the current one.
    let (s, u) = api
        .put(
            &format!("{base}/obj"),
            json!({"key": "obj", "value": {"v": 2}, "version": {"number": 2, "minorEdit": true}}),
        )
        .await;
    assert_eq!(s, 200, "{u}");
    assert_eq!(
        (u["version"]["number"].clone(), u["value"].clone()),
        (json!(2), json!({"v": 2}))
    );
    assert_eq!(u["version"]["minorEdit"], true);
    for stale in [2, 1, 5] {
        let (s, e) = api
            .put(
                &format!("{base}/obj"),
                json!({"value": {"v": 3}, "version": {"number": stale}}),
            )
            .await;
        assert_eq!(s, 409, "version {stale}: {e}");
        assert_envelope(&e, 409);
        assert!(
            e["message"]
                .as_str()
                .unwrap()
                .contains("Current version is: 2"),
            "{e}"
        );
    }
    let (_, g) = api.get(&format!("{base}/obj")).await;
    assert_eq!(
        g["value"],
        json!({"v": 2}),
        "a refused update changed nothing"
    );
    // PUT on a missing key creates it with version 1, and only then.
    let (s, e) = api
        .put(
            &format!("{base}/fresh"),
            json!({"value": 1, "version": {"number": 2}}),
        )
        .await;
    assert_eq!(s, 404, "{e}");
    let (s, c) = api
        .put(
            &format!("{base}/fresh"),
            json!({"value": [1], "version": {"number": 1}}),
        )
        .await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(c["version"]["number"], 1);
    // Delete: 204, then 404.
    let (s, _) = delete(&api, &format!("{base}/fresh")).await;
    assert_eq!(s, 204);
    let (s, e) = delete(&api, &format!("{base}/fresh")).await;
    assert_eq!(s, 404);
    assert_envelope(&e, 404);
    let (s, e) = api.get(&format!("{base}/fresh")).await;
    assert_eq!(s, 404);
    assert_envelope(&e, 404);
    // Keys with characters a path must encode.
    let (s, _) = api
        .post(&base, json!({"key": "with space/and.dot", "value": "x"}))
        .await;
    assert_eq!(s, 200);
    let (s, g) = api.get(&format!("{base}/with%20space%2Fand.dot")).await;
    assert_eq!((s, g["value"].clone()), (200, json!("x")), "{g}");
}

#[tokio::test]
async fn bad_property_input_is_a_4xx_envelope() {
    let (_n, api) = setup().await;
    let p = api.page("API", "Bad properties", "", None).await;
    let id = p["id"].as_str().unwrap();
    let base = format!("/rest/api/content/{id}/property");
    let long = "k".repeat(256);
    for (body, status) in [
        (json!({"value": 1}), 400),
        (json!({"key": "", "value": 1}), 400),
        (json!({"key": long, "value": 1}), 400),
        (json!({"key": 7, "value": 1}), 400),
        (json!({"key": "k"}), 400),
        (json!({"key": "k", "value": null}), 400),
        (json!({"key": "big", "value": "x".repeat(40 * 1024)}), 413),
    ] {
        let (s, e) = api.post(&base, body.clone()).await;
        assert_eq!(s, status, "{body}: {e}");
        assert_envelope(&e, status);
    }
    let (s, _) = api
        .post(&base, json!({"key": "k".repeat(255), "value": 1}))
        .await;
    assert_eq!(s, 200, "255 characters is a valid key");
    api.post(&base, json!({"key": "k", "value": 1})).await;
    for body in [
        json!({"value": 2}),
        json!({"value": 2, "version": {"number": "two"}}),
        json!({"value": 2, "version": {"number": 0}}),
        json!({"value": 2, "version": {"number": 2}, "key": "other"}),
        json!({"version": {"number": 2}}),
    ] {
        let (s, e) = api.put(&format!("{base}/k"), body.clone()).await;
        assert_eq!(s, 400, "{body}: {e}");
        assert_envelope(&e, 400);
    }
    let (s, e) = api
        .put(
            &format!("{base}/k"),
            json!({"value": "x".repeat(40 * 1024), "version": {"number": 2}}),
        )
        .await;
    assert_eq!(s, 413, "{e}");
    let (s, e) = api.get("/rest/api/content/99999999/property").await;
    assert_eq!(s, 404);
    assert_envelope(&e, 404);
    let (s, e) = api.post(&base, json!("not an object")).await;
    assert_eq!(s, 400, "{e}");
}

#[tokio::test]
async fn reading_needs_view_and_writing_needs_edit() {
    let (node, api) = setup().await;
    node.user("eve", false).await;
    let eve = Api::new(&node, Some("eve"));
    let anon = Api::new(&node, None);
    let p = api.page("API", "Guarded", "", None).await;
    let id = p["id"].as_str().unwrap();
    let base = format!("/rest/api/content/{id}/property");
    api.post(&base, json!({"key": "k", "value": 1})).await;
    // Eve may edit the space: she reads and writes.
    let (s, v) = eve
        .put(
            &format!("{base}/k"),
            json!({"value": 2, "version": {"number": 2}}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    // An edit restriction leaves her reading only.
    let c = node.login("admin").await;
    c.restrict(id, "update", "user", "admin").await;
    let (s, _) = eve.get(&format!("{base}/k")).await;
    assert_eq!(s, 200);
    let (s, e) = eve
        .put(
            &format!("{base}/k"),
            json!({"value": 3, "version": {"number": 3}}),
        )
        .await;
    assert_eq!(s, 403, "{e}");
    assert_envelope(&e, 403);
    let (s, _) = eve.post(&base, json!({"key": "new", "value": 1})).await;
    assert_eq!(s, 403);
    let (s, _) = delete(&eve, &format!("{base}/k")).await;
    assert_eq!(s, 403);
    // A read restriction hides the properties as it hides the page.
    c.restrict(id, "read", "user", "admin").await;
    for path in [base.clone(), format!("{base}/k")] {
        let (s, e) = eve.get(&path).await;
        assert_eq!(s, 404, "{path}: {e}");
    }
    let (s, _) = anon.get(&base).await;
    assert_eq!(s, 401);
}

#[tokio::test]
async fn metadata_properties_expand_and_properties_go_with_their_content() {
    let (node, api) = setup().await;
    let p = api.page("API", "Expanded", "", None).await;
    let id = p["id"].as_str().unwrap();
    let base = format!("/rest/api/content/{id}/property");
    api.post(&base, json!({"key": "one", "value": {"x": 1}}))
        .await;
    api.post(&base, json!({"key": "two", "value": [2]})).await;
    // Properties sent with a new page (`metadata.properties`) are stored.
    let (s, q) = api
        .post("/rest/api/content", json!({"type": "page", "title": "Born with one", "space": {"key": "API"},
              "body": {"storage": {"value": "", "representation": "storage"}},
              "metadata": {"properties": {"content-appearance-published": {"key": "content-appearance-published", "value": "fixed-width"}}}}))
        .await;
    assert_eq!(s, 200, "{q}");
    let (s, g) = api
        .get(&format!(
            "/rest/api/content/{}/property/content-appearance-published",
            q["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!((s, g["value"].clone()), (200, json!("fixed-width")), "{g}");
    let (s, e) = api
        .post(
            "/rest/api/content",
            json!({"type": "page", "title": "Bad one", "space": {"key": "API"},
              "metadata": {"properties": {"k": "no value object"}}}),
        )
        .await;
    assert_eq!(s, 400, "{e}");
    let (_, l) = api
        .get("/rest/api/content?title=Bad%20one&spaceKey=API")
        .await;
    assert_eq!(l["size"], 0, "a refused create writes nothing: {l}");
    let (s, v) = api
        .get(&format!(
            "/rest/api/content/{id}?expand=metadata.properties.one,metadata.properties.missing"
        ))
        .await;
    assert_eq!(s, 200, "{v}");
    let props = v["metadata"]["properties"].as_object().unwrap();
    assert_eq!(props.len(), 1, "{v}");
    assert_eq!(props["one"]["value"], json!({"x": 1}));
    assert_eq!(props["one"]["version"]["number"], 1);
    // A cached read shows the change at once.
    let (s, _) = api
        .put(
            &format!("{base}/one"),
            json!({"value": {"x": 2}, "version": {"number": 2}}),
        )
        .await;
    assert_eq!(s, 200);
    let (_, v) = api
        .get(&format!(
            "/rest/api/content/{id}?expand=metadata.properties.one,metadata.properties.missing"
        ))
        .await;
    assert_eq!(
        v["metadata"]["properties"]["one"]["value"],
        json!({"x": 2}),
        "{v}"
    );
    // Trashed: kept (the trash restores them); purged: gone.
    let (s, _) = delete(&api, &format!("/rest/api/content/{id}")).await;
    assert_eq!(s, 204);
    let (s, _) = api.get(&base).await;
    assert_eq!(s, 404, "a trashed page's properties are not listed");
    let count = |sql: &'static str| {
        let node = &node;
        async move {
            let n: i64 = node.sql().await.query_one(sql, &[]).await.unwrap().get(0);
            n
        }
    };
    let mine = "SELECT count(*) FROM content_properties WHERE key IN ('one', 'two')";
    assert_eq!(count(mine).await, 2);
    let (s, _) = delete(&api, &format!("/rest/api/content/{id}?status=trashed")).await;
    assert_eq!(s, 204);
    assert_eq!(count(mine).await, 0);
}
