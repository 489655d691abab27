//! What existing scripts hit: the default expansion, every `status`
//! Confluence accepts, `siteSearch`, changing a space, restrictions written
//! over REST, and restoring and deleting versions.

use super::*;

async fn delete(api: &Api, path: &str) -> (u16, Value) {
    let r = api.req(reqwest::Method::DELETE, path).send().await.unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

async fn edit(api: &Api, id: &str, n: i64, title: &str, body: &str) {
    let (s, v) = api
        .put(
            &format!("/rest/api/content/{id}"),
            json!({"version": {"number": n}, "title": title, "type": "page",
                   "body": {"storage": {"value": body, "representation": "storage"}}}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
}

#[tokio::test]
async fn a_plain_get_expands_space_history_and_version_as_confluence_does() {
    let (_n, api) = setup().await;
    let p = api.page("API", "Defaults", "<p>x</p>", None).await;
    let id = p["id"].as_str().unwrap();
    let (s, v) = api.get(&format!("/rest/api/content/{id}")).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["space"]["key"], "API");
    assert_eq!(v["version"]["number"], 1);
    assert_eq!(v["history"]["createdBy"]["username"], "admin");
    assert!(v.get("body").is_none() && v["_expandable"]["body"].is_string());
    // Naming expansions replaces the defaults, as in Confluence.
    let (_, v) = api
        .get(&format!("/rest/api/content/{id}?expand=body.storage"))
        .await;
    assert!(
        v.get("space").is_none() && v.get("version").is_none(),
        "{v}"
    );
    assert_eq!(v["body"]["storage"]["value"], "<p>x</p>");
}

#[tokio::test]
async fn every_status_confluence_accepts_means_what_it_means_there() {
    let (_n, api) = setup().await;
    let kept = api.page("API", "Kept", "<p>1</p>", None).await;
    let kept = kept["id"].as_str().unwrap();
    edit(&api, kept, 2, "Kept", "<p>2</p>").await;
    let gone = api.page("API", "Gone", "", None).await;
    let gone = gone["id"].as_str().unwrap();
    assert_eq!(
        delete(&api, &format!("/rest/api/content/{gone}")).await.0,
        204
    );
    let titles = |v: &Value| -> Vec<(String, String)> {
        v["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["title"] != "Api Space Home")
            .map(|r| {
                (
                    r["title"].as_str().unwrap().to_owned(),
                    r["status"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let list = |status: &'static str| {
        let api = &api;
        async move {
            let (s, v) = api
                .get(&format!(
                    "/rest/api/content?spaceKey=API&type=page&status={status}&expand=version"
                ))
                .await;
            assert_eq!(s, 200, "{status}: {v}");
            v
        }
    };
    let t = |a: &str, b: &str| (a.to_owned(), b.to_owned());
    assert_eq!(titles(&list("current").await), [t("Kept", "current")]);
    assert_eq!(titles(&list("trashed").await), [t("Gone", "trashed")]);
    assert_eq!(
        titles(&list("any").await),
        [t("Kept", "current"), t("Gone", "trashed")]
    );
    let h = list("historical").await;
    assert_eq!(titles(&h), [t("Kept", "historical")]);
    assert_eq!(h["results"][0]["version"]["number"], 1);
    assert_eq!(titles(&list("draft").await), []);
    assert_eq!(titles(&list("archived").await), []);
    let (s, e) = api.get("/rest/api/content?status=bogus").await;
    assert_eq!(s, 400);
    assert_envelope(&e, 400);
    // One piece of content by status.
    for (path, status) in [
        (format!("/rest/api/content/{gone}?status=trashed"), 200),
        (format!("/rest/api/content/{gone}?status=any"), 200),
        (format!("/rest/api/content/{gone}"), 404),
        (
            format!("/rest/api/content/{gone}?status=current&status=trashed"),
            200,
        ),
        (format!("/rest/api/content/{kept}?status=historical"), 200),
        (format!("/rest/api/content/{kept}?status=archived"), 404),
        (format!("/rest/api/content/{kept}?status=draft"), 404),
        (format!("/rest/api/content/{kept}?status=nope"), 400),
    ] {
        let (s, v) = api.get(&path).await;
        assert_eq!(s, status, "{path}: {v}");
    }
}

#[tokio::test]
async fn site_search_ranks_title_then_labels_then_body() {
    let (node, api) = setup().await;
    let body = api
        .page("API", "Unrelated words", "<p>the zebrafish swims</p>", None)
        .await;
    let (s, labelled) = api
        .post("/rest/api/content", json!({"type": "page", "title": "Other words", "space": {"key": "API"},
              "body": {"storage": {"value": "<p>a zebrafish mention</p>", "representation": "storage"}},
              "metadata": {"labels": [{"name": "zebrafish"}]}}))
        .await;
    assert_eq!(s, 200, "{labelled}");
    let titled = api
        .page("API", "Zebrafish care", "<p>nothing else</p>", None)
        .await;
    api.page("API", "No match", "<p>fish</p>", None).await;
    let want: Vec<&Value> = vec![&titled["id"], &labelled["id"], &body["id"]];
    let ok = cairn_tests::wait_until(std::time::Duration::from_secs(20), || async {
        let (_, v) = api
            .get("/rest/api/content/search?cql=siteSearch%20~%20%22zebrafish%22")
            .await;
        v["results"]
            .as_array()
            .is_some_and(|r| r.iter().map(|c| &c["id"]).collect::<Vec<_>>() == want)
    })
    .await;
    let (_, v) = api
        .get("/rest/api/search?cql=siteSearch%20~%20%22zebrafish%22%20AND%20type%20%3D%20page")
        .await;
    assert!(ok, "title, then label, then body: {v}");
    assert_eq!(v["totalSize"], 3, "{v}");
    let (s, e) = api.get("/rest/api/search?cql=siteSearch%20%3D%20x").await;
    assert_eq!(s, 400, "{e}");
    drop(node);
}

#[tokio::test]
async fn a_space_is_changed_by_put() {
    let (node, api) = setup().await;
    let home = api.page("API", "New home", "", None).await;
    let (s, v) = api
        .put(
            "/rest/api/space/API",
            json!({"key": "API", "name": "Renamed", "description": {"plain": {"value": "About it", "representation": "plain"}},
                   "homepage": {"id": home["id"]}}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["name"], "Renamed");
    assert_eq!(v["description"]["plain"]["value"], "About it");
    assert_eq!(v["homepage"]["id"], home["id"]);
    // Fields not given stay.
    let (s, v) = api
        .put("/rest/api/space/API", json!({"name": "Again"}))
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["description"]["plain"]["value"], "About it");
    assert_eq!(v["homepage"]["id"], home["id"]);
    for (body, status) in [
        (json!({"key": "OTHER"}), 400),
        (json!({"name": ""}), 400),
        (json!({"name": 5}), 400),
        (json!({"homepage": {"id": "nope"}}), 400),
        (json!([1]), 400),
    ] {
        let (s, e) = api.put("/rest/api/space/API", body.clone()).await;
        assert_eq!(s, status, "{body}: {e}");
        assert_envelope(&e, status);
    }
    let (s, _) = api.put("/rest/api/space/NOPE", json!({"name": "x"})).await;
    assert_eq!(s, 404);
    node.user("eve", false).await;
    let (s, e) = Api::new(&node, Some("eve"))
        .put("/rest/api/space/API", json!({"name": "Mine"}))
        .await;
    assert_eq!(s, 403, "only space admins: {e}");
}

fn names(v: &Value, op: &str, kind: &str) -> Vec<String> {
    let field = if kind == "user" { "username" } else { "name" };
    let r = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["operation"] == op)
        .unwrap();
    r["restrictions"][kind]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u[field].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn restrictions_are_written_over_rest_with_the_ui_checks() {
    let (node, api) = setup().await;
    node.user("eve", false).await;
    node.user("bob", false).await;
    let eve = Api::new(&node, Some("eve"));
    let p = api.page("API", "Secret", "", None).await;
    let id = p["id"].as_str().unwrap();
    let base = format!("/rest/api/content/{id}/restriction");
    let (s, v) = api
        .put(
            &base,
            json!([{"operation": "read", "restrictions": {"user": [{"type": "known", "username": "bob"}], "group": []}},
                   {"operation": "update", "restrictions": {"user": {"results": [{"username": "admin"}]}}}]),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        names(&v, "read", "user"),
        ["admin", "bob"],
        "the writer stays inside"
    );
    assert_eq!(names(&v, "update", "user"), ["admin"]);
    let (s, _) = eve.get(&format!("/rest/api/content/{id}")).await;
    assert_eq!(s, 404, "the read restriction hides the page");
    // POST adds.
    let (s, v) = api
        .post(
            &base,
            json!([{"operation": "read", "restrictions": {"group": [{"type": "group", "name": "cairn-users"}]}}]),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(names(&v, "read", "group"), ["cairn-users"]);
    assert_eq!(names(&v, "read", "user"), ["admin", "bob"]);
    // One user of one operation: test, remove, add.
    let user = |op: &str, name: &str| format!("{base}/byOperation/{op}/user?userName={name}");
    assert_eq!(api.get(&user("read", "bob")).await.0, 200);
    assert_eq!(api.get(&user("update", "bob")).await.0, 404);
    assert_eq!(delete(&api, &user("read", "bob")).await.0, 200);
    assert_eq!(api.get(&user("read", "bob")).await.0, 404);
    let r = api
        .req(reqwest::Method::PUT, &user("update", "bob"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (_, one) = api.get(&format!("{base}/byOperation/update")).await;
    let users: Vec<&str> = one["restrictions"]["user"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(users, ["admin", "bob"]);
    // One group.
    let group = format!("{base}/byOperation/read/group/cairn-users");
    assert_eq!(api.get(&group).await.0, 200);
    assert_eq!(delete(&api, &group).await.0, 200);
    assert_eq!(api.get(&group).await.0, 404);
    // Without Restrict in the space: refused as the UI refuses it.
    let open = api.page("API", "Open", "", None).await;
    let open = open["id"].as_str().unwrap();
    let (s, e) = eve
        .put(
            &format!("/rest/api/content/{open}/restriction"),
            json!([{"operation": "read", "restrictions": {"user": [{"username": "eve"}]}}]),
        )
        .await;
    assert_eq!(s, 403, "{e}");
    assert_envelope(&e, 403);
    // Bad input names what is wrong and changes nothing.
    for (body, status) in [
        (json!([{"operation": "delete"}]), 400),
        (json!([{"restrictions": {}}]), 400),
        (
            json!([{"operation": "read", "restrictions": {"user": [{"username": "nobody"}]}}]),
            404,
        ),
        (
            json!([{"operation": "read", "restrictions": {"user": "bob"}}]),
            400,
        ),
        (
            json!([{"operation": "read", "restrictions": {"group": [{}]}}]),
            400,
        ),
        (json!("read"), 400),
    ] {
        let (s, e) = api.put(&base, body.clone()).await;
        assert_eq!(s, status, "{body}: {e}");
        assert_envelope(&e, status);
    }
    assert_eq!(api.get(&format!("{base}/byOperation/nope")).await.0, 400);
    assert_eq!(api.get(&user("read", "nobody")).await.0, 404);
    // DELETE lifts them all.
    let (s, v) = delete(&api, &base).await;
    assert_eq!(s, 200, "{v}");
    assert!(names(&v, "read", "user").is_empty() && names(&v, "update", "user").is_empty());
    assert_eq!(eve.get(&format!("/rest/api/content/{id}")).await.0, 200);
}

#[tokio::test]
async fn a_version_is_restored_and_a_historical_one_deleted() {
    let (node, api) = setup().await;
    let p = api.page("API", "Versioned", "<p>one</p>", None).await;
    let id = p["id"].as_str().unwrap();
    edit(&api, id, 2, "Versioned", "<p>two</p>").await;
    edit(&api, id, 3, "Versioned", "<p>three</p>").await;
    let vbase = format!("/rest/api/content/{id}/version");
    let (s, v) = api
        .post(
            &vbase,
            json!({"operationKey": "restore", "params": {"versionNumber": 1, "message": "back to one"}}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["number"], 4);
    assert_eq!(v["message"], "back to one");
    assert_eq!(v["content"]["id"], id);
    let (_, c) = api
        .get(&format!(
            "/rest/api/content/{id}?expand=body.storage,version"
        ))
        .await;
    assert_eq!(c["body"]["storage"]["value"], "<p>one</p>");
    assert_eq!(c["version"]["number"], 4);
    for (body, status) in [
        (
            json!({"operationKey": "restore", "params": {"versionNumber": 9}}),
            404,
        ),
        (
            json!({"operationKey": "restore", "params": {"versionNumber": 4}}),
            400,
        ),
        (json!({"operationKey": "restore", "params": {}}), 400),
        (
            json!({"operationKey": "restore", "params": {"versionNumber": "x"}}),
            400,
        ),
        (
            json!({"operationKey": "explode", "params": {"versionNumber": 1}}),
            400,
        ),
        (json!({}), 400),
    ] {
        let (s, e) = api.post(&vbase, body.clone()).await;
        assert_eq!(s, status, "{body}: {e}");
        assert_envelope(&e, status);
    }
    // Delete a historical version: gone from the list, the others keep their numbers.
    assert_eq!(delete(&api, &format!("{vbase}/2")).await.0, 204);
    let (_, l) = api.get(&vbase).await;
    let numbers: Vec<i64> = l["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["number"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, [4, 3, 1]);
    assert_eq!(api.get(&format!("{vbase}/2")).await.0, 404);
    for (n, status) in [("2", 404), ("4", 400), ("0", 400), ("x", 400)] {
        let (s, e) = delete(&api, &format!("{vbase}/{n}")).await;
        assert_eq!(s, status, "{n}: {e}");
        assert_envelope(&e, status);
    }
    node.user("eve", false).await;
    let eve = Api::new(&node, Some("eve"));
    let (s, _) = delete(&eve, &format!("{vbase}/1")).await;
    assert_eq!(s, 403, "deleting a version needs space administration");
    let (s, v) = eve
        .post(
            &vbase,
            json!({"operationKey": "restore", "params": {"versionNumber": 3}}),
        )
        .await;
    assert_eq!(s, 200, "an editor may restore: {v}");
}
