//! The conventions every resource follows: root context and string ids,
//! expansions, pagination, the error envelope, XSRF and the version rule.

use super::*;

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
async fn expand_embeds_and_unknown_expansions_are_ignored() {
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
    // An expansion Cairn does not know is ignored, as Confluence ignores it.
    let (s, v) = api
        .get(&format!(
            "/rest/api/content/{id}?expand=bogus,version,body..x"
        ))
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["version"]["number"], 1);
    assert!(v.get("bogus").is_none() && v.get("body").is_none(), "{v}");
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
