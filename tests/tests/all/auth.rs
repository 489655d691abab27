//! Logins, sessions, CSRF, throttling, Basic auth and personal access tokens.

use base64::Engine;
use cairn_tests::{input_value, password_of, Client, TestNode};

fn basic(user: &str, pw: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pw}"))
    )
}

#[tokio::test]
async fn login_logout_and_sessions_are_server_side() {
    let node = TestNode::start().await;
    node.user("alice", false).await;
    let mut c = node.anon();
    let r = c.login("alice", "wrong-password").await;
    assert_eq!(r.status(), 401);
    assert!(r.text().await.unwrap().contains("incorrect"));
    let r = c.login("alice", &password_of("alice")).await;
    assert_eq!(r.status(), 303);
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("cairn_session="))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    assert!(r
        .headers()
        .get_all("set-cookie")
        .iter()
        .any(|v| v.to_str().unwrap().contains("HttpOnly")));
    assert_eq!(c.get("/").await.status(), 200);
    // Another node (a second server on the same database) accepts the same
    // session: nothing is node-local, so no sticky sessions.
    let other_node = cairn_tests::serve_state(
        cairn::AppState::new(node.pool.clone(), node.shared_home.clone())
            .expect("the node's state"),
    )
    .await;
    let r = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{other_node}/"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let db = node.sql().await;
    let n: i64 = db
        .query_one("SELECT count(*) FROM sessions", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
    let r = c.post("/logout", &[]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(c.get("/").await.status(), 303, "logged out");
    let n: i64 = db
        .query_one("SELECT count(*) FROM sessions", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 0);
}

#[tokio::test]
async fn repeated_failed_logins_are_throttled() {
    let node = TestNode::start().await;
    node.user("bob", false).await;
    let mut c = node.anon();
    for _ in 0..5 {
        assert_eq!(c.login("bob", "guess-guess").await.status(), 401);
    }
    let r = c.login("bob", &password_of("bob")).await;
    assert_eq!(r.status(), 429, "locked even with the right password");
    assert!(r.text().await.unwrap().contains("try again in"));
    // Basic auth shares the lock.
    let r = c
        .http
        .get(c.url("/"))
        .header("authorization", basic("bob", &password_of("bob")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    // Other users are unaffected.
    node.user("carol", false).await;
    assert_eq!(
        node.anon()
            .login("carol", &password_of("carol"))
            .await
            .status(),
        303
    );
}

#[tokio::test]
async fn forms_need_the_csrf_token() {
    let node = TestNode::start().await;
    let mut c = node.login("admin").await;
    let good = c.csrf.clone();
    c.csrf = "forged".into();
    let r = c.post("/spaces", &[("key", "X"), ("name", "X")]).await;
    assert_eq!(r.status(), 403);
    c.csrf.clear();
    assert_eq!(
        c.post("/spaces", &[("key", "X"), ("name", "X")])
            .await
            .status(),
        403
    );
    c.csrf = good;
    assert_eq!(
        c.post("/spaces", &[("key", "X"), ("name", "X")])
            .await
            .status(),
        303
    );
    // The login form itself is protected by a double-submit cookie.
    let fresh = node.anon();
    let r = fresh
        .http
        .post(fresh.url("/login"))
        .form(&[
            ("_csrf", "x"),
            ("username", "admin"),
            ("password", &password_of("admin")),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // Basic-authenticated requests cannot drive forms (no session token).
    let r = fresh
        .http
        .post(fresh.url("/spaces"))
        .header("authorization", basic("admin", &password_of("admin")))
        .form(&[("key", "Y"), ("name", "Y")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn login_redirects_stay_on_site() {
    let node = TestNode::start().await;
    let mut c = node.anon();
    let (_, page) = c.get_text("/login?next=//evil.example/x").await;
    assert_eq!(input_value(&page, "next").as_deref(), Some("/"));
    let (_, page) = c.get_text("/login?next=/spaces").await;
    assert_eq!(input_value(&page, "next").as_deref(), Some("/spaces"));
    let r = c.login("admin", &password_of("admin")).await;
    assert_eq!(Client::location(&r), "/");
}

#[tokio::test]
async fn basic_auth_and_its_cache_follow_password_changes() {
    let node = TestNode::start().await;
    let u = node.user("dave", false).await;
    let c = node.anon();
    let ok = basic("dave", &password_of("dave"));
    for _ in 0..3 {
        let r = c
            .http
            .get(c.url("/spaces"))
            .header("authorization", &ok)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let r = c
        .http
        .get(c.url("/spaces"))
        .header("authorization", basic("dave", "nope-nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["statusCode"], 401);
    assert!(v["message"].as_str().unwrap().contains("incorrect"));
    // Change the password: the cached credentials stop working at once.
    let db = node.sql().await;
    cairn::users::set_password(&db, u.id, "a-new-password")
        .await
        .unwrap();
    let r = c
        .http
        .get(c.url("/spaces"))
        .header("authorization", &ok)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = c
        .http
        .get(c.url("/spaces"))
        .header("authorization", basic("dave", "a-new-password"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Deactivated users are refused.
    cairn::users::set_active(&mut node.pool.get().await.unwrap(), u.id, false)
        .await
        .unwrap();
    let r = c
        .http
        .get(c.url("/spaces"))
        .header("authorization", basic("dave", "a-new-password"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn personal_access_tokens_are_shown_once_and_revocable() {
    let node = TestNode::start().await;
    node.user("erin", false).await;
    let c = node.login("erin").await;
    let r = c
        .submit("/profile/tokens", &[("name", "ci"), ("days", "30")])
        .await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    let start = html.find("id=\"new-token\">").unwrap() + "id=\"new-token\">".len();
    let token = html[start..].split('<').next().unwrap().to_owned();
    assert!(token.starts_with("cairn_"));
    let (_, later) = c.get_text("/profile/tokens").await;
    assert!(!later.contains(&token), "shown once");
    let db = node.sql().await;
    let stored: String = db
        .query_one("SELECT token_hash FROM api_tokens", &[])
        .await
        .unwrap()
        .get(0);
    assert_ne!(stored, token, "stored hashed");
    let anon = node.anon();
    let r = anon
        .http
        .get(anon.url("/spaces"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let id: i64 = db
        .query_one("SELECT id FROM api_tokens", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        c.post(&format!("/profile/tokens/{id}/revoke"), &[])
            .await
            .status(),
        303
    );
    let r = anon
        .http
        .get(anon.url("/spaces"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = c
        .submit("/profile/tokens", &[("name", ""), ("days", "")])
        .await;
    assert!(r.text().await.unwrap().contains("needs a name"));
}

#[tokio::test]
async fn admin_pages_manage_users_groups_and_global_permissions() {
    let node = TestNode::start().await;
    let c = node.login("admin").await;
    let r = c
        .post(
            "/admin/users",
            &[
                ("username", "frank"),
                ("display_name", "Frank F"),
                ("email", "f@example.com"),
                ("password", "frank-password"),
            ],
        )
        .await;
    // The new user, shown found in the list.
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/admin/users?q=frank");
    let (_, list) = c.get_text("/admin/users?q=frank").await;
    assert!(
        list.contains("/users/frank") && list.contains("1 user</p>"),
        "{list}"
    );
    let r = c
        .post(
            "/admin/users",
            &[("username", "frank"), ("password", "frank-password")],
        )
        .await;
    assert!(r.text().await.unwrap().contains("already exists"));
    let r = c
        .post(
            "/admin/users",
            &[("username", "bad name"), ("password", "x")],
        )
        .await;
    assert!(r.text().await.unwrap().contains("may only contain"));
    assert_eq!(
        node.anon().login("frank", "frank-password").await.status(),
        303
    );
    // Revoke 'create_space' from cairn-users: frank can no longer create spaces.
    let r = c
        .submit(
            "/admin/permissions",
            &[
                ("kind", "group"),
                ("name", "cairn-users"),
                ("permission", "create_space"),
                ("grant", "0"),
            ],
        )
        .await;
    assert_eq!(r.status(), 200);
    let f = node.login("frank").await;
    assert_eq!(
        f.post("/spaces", &[("key", "FR"), ("name", "Frank")])
            .await
            .status(),
        403
    );
    // Anonymous access: off by default, on when granted 'use'.
    assert_eq!(node.anon().get("/spaces").await.status(), 303);
    c.submit(
        "/admin/permissions",
        &[
            ("kind", "anonymous"),
            ("name", ""),
            ("permission", "use"),
            ("grant", "1"),
        ],
    )
    .await;
    assert_eq!(node.anon().get("/spaces").await.status(), 200);
}
