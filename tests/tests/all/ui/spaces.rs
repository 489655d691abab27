//! The spaces people live in: a personal space for everyone, made from the
//! profile and listed apart in the directory.

use super::*;

#[tokio::test]
async fn everyone_makes_a_personal_space_from_their_profile() {
    let node = TestNode::start().await;
    node.user("ann", false).await;
    node.user("bob", false).await;
    let ann = node.login("ann").await;
    let (_, html) = ann.get_text("/users/ann").await;
    assert!(html.contains("id=\"create-personal-space\""), "{html}");
    // No right to create spaces is needed; a second click finds the same one.
    for _ in 0..2 {
        let r = ann.post("/profile/space", &[]).await;
        assert_eq!(r.status(), 303);
        assert_eq!(cairn_tests::Client::location(&r), "/spaces/~ann");
    }
    let (s, home) = ann.get_text("/spaces/~ann").await;
    assert!(s == 200 || s == 303, "{s}");
    let (_, v) = node
        .rest("bob", reqwest::Method::GET, "/rest/api/space/~ann", None)
        .await;
    assert_eq!(v["type"], "personal", "{v} {home}");
    assert_eq!(v["name"], "ann Example");
    // Listed under "Personal spaces", linked from the profile; bob may read
    // and comment there but not write.
    let bob = node.login("bob").await;
    let (_, dir) = bob.get_text("/spaces").await;
    let personal = dir.split("id=\"personal-spaces\"").nth(1).unwrap();
    assert!(personal.contains("~ann"), "{dir}");
    assert!(!dir
        .split("id=\"personal-spaces\"")
        .next()
        .unwrap()
        .contains("~ann"));
    let (_, profile) = bob.get_text("/users/ann").await;
    assert!(profile.contains("id=\"personal-space\""), "{profile}");
    assert!(
        !profile.contains("create-personal-space"),
        "only on one's own profile"
    );
    let (s, _) = bob.get_text("/spaces/~ann/create").await;
    assert_eq!(s, 403);
    let (s, _) = node
        .rest(
            "ann",
            reqwest::Method::POST,
            "/rest/api/content",
            Some(
                serde_json::json!({"type": "page", "title": "My notes", "space": {"key": "~ann"},
                "body": {"storage": {"value": "<p>mine</p>", "representation": "storage"}}}),
            ),
        )
        .await;
    assert_eq!(s, 200);
}
