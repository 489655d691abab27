//! Nothing a macro outputs leaks to a viewer who may not read it: cached
//! macro output is per viewer where it reads content, list macros reuse
//! output only until what they list changes.

use super::*;

pub(super) fn peek(q: &str) -> String {
    format!("<ac:structured-macro ac:name=\"hostile-peek\"><ac:parameter ac:name=\"q\">{q}</ac:parameter></ac:structured-macro>")
}

/// Restricts viewing of `page` to user `name`.
pub(super) async fn restrict_to(admin: &cairn_tests::Client, page: i64, name: &str) {
    let r = admin.restrict(page, "read", "user", name).await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn cacheable_macros_that_read_content_never_show_it_to_another_viewer() {
    let node = TestNode::start().await;
    install_hostile(&node).await;
    node.user("eve", false).await;
    let admin = node.login("admin").await;
    let eve = node.login("eve").await;
    admin.create_space("LEAK", "Leak").await;
    let parent = admin
        .create_page("LEAK", "Open Parent", "<p>open</p>", None)
        .await;
    let secret = admin
        .create_page(
            "LEAK",
            "Zebra Secret Title",
            "<p>zebra-body</p><ac:structured-macro ac:name=\"excerpt\"><ac:rich-text-body><p>zebra-excerpt</p></ac:rich-text-body></ac:structured-macro>",
            Some(parent),
        )
        .await;
    restrict_to(&admin, secret, "admin").await;
    let r = admin
        .post(
            &format!("/pages/{secret}/labels"),
            &[("labels", "zebra-label")],
        )
        .await;
    assert!(r.status().is_success() || r.status().is_redirection());
    crate::perms::upload(&admin, secret, "zebra-file.txt", b"zebra bytes").await;
    let markers = [
        "Zebra Secret Title",
        "zebra-body",
        "zebra-excerpt",
        "zebra-label",
        "zebra-file.txt",
    ];
    // Every function of the content capability, each on a page of its own.
    let calls = [
        format!("get:{secret}"),
        "find:LEAK:Zebra Secret Title".to_string(),
        format!("children:{parent}"),
        format!("attachments:{secret}"),
        format!("labels:{secret}"),
        "with-labels:zebra-label".to_string(),
        format!("render-page:{secret}"),
        format!("render-excerpt:{secret}"),
        "recent:LEAK".to_string(),
    ];
    for (i, q) in calls.iter().enumerate() {
        let id = admin
            .create_page("LEAK", &format!("Peek {i}"), &peek(q), None)
            .await;
        // The admin first (so a viewer-less cache would hold the secret) …
        for _ in 0..2 {
            let (s, html) = try_view(&admin, id).await;
            assert_eq!(s, 200);
            assert!(
                markers.iter().any(|m| html.contains(m)),
                "{q}: the admin should see the secret: {html}"
            );
        }
        // … then someone who may not read it, twice.
        for _ in 0..2 {
            let (s, html) = try_view(&eve, id).await;
            assert_eq!(s, 200);
            for m in markers {
                assert!(!html.contains(m), "{q}: {m} leaked to eve: {html}");
            }
        }
    }
}

#[tokio::test]
async fn list_macro_output_is_reused_until_what_it_lists_changes() {
    use std::sync::atomic::Ordering::Relaxed;
    let node = TestNode::start().await;
    node.user("eve", false).await;
    let admin = node.login("admin").await;
    let eve = node.login("eve").await;
    admin.create_space("LIST", "Lists").await;
    let parent = admin
        .create_page(
            "LIST",
            "List Parent",
            "<ac:structured-macro ac:name=\"children\"/>",
            None,
        )
        .await;
    admin
        .create_page("LIST", "Koala First Child", "<p>1</p>", Some(parent))
        .await;
    let m = node.state.plugins.metrics("cairn.content-macros");
    let (calls, hits) = (|| m.calls.load(Relaxed), || m.cache_hits.load(Relaxed));

    // The first view calls the plugin; views after it reuse its output.
    assert!(admin.view_page(parent).await.contains("Koala First Child"));
    let (called, hit) = (calls(), hits());
    for _ in 0..2 {
        assert!(admin.view_page(parent).await.contains("Koala First Child"));
    }
    assert_eq!(
        calls(),
        called,
        "a view with nothing changed calls no plugin"
    );
    assert_eq!(hits(), hit + 2);
    // Another viewer to whom the list reads the same gets it too.
    assert!(eve.view_page(parent).await.contains("Koala First Child"));
    assert_eq!(calls(), called);

    // A new child changes what the macro lists: the plugin renders again.
    let second = admin
        .create_page("LIST", "Koala Second Child", "<p>2</p>", Some(parent))
        .await;
    let html = admin.view_page(parent).await;
    assert!(html.contains("Koala Second Child"), "{html}");
    assert_eq!(calls(), called + 1);
    // So does a renamed child.
    let r = admin
        .post(
            &format!("/pages/{second}/edit"),
            &[
                ("title", "Koala Renamed Child"),
                ("body", "<p>2</p>"),
                ("format", "storage"),
                ("base_version", "1"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap_or_default());
    let html = admin.view_page(parent).await;
    assert!(html.contains("Koala Renamed Child"), "{html}");
    assert!(!html.contains("Koala Second Child"), "{html}");
    assert_eq!(calls(), called + 2);
    // A child eve may not read: her list differs from the admin's, so the
    // admin's output is not hers.
    restrict_to(&admin, second, "admin").await;
    assert!(admin
        .view_page(parent)
        .await
        .contains("Koala Renamed Child"));
    let html = eve.view_page(parent).await;
    assert!(html.contains("Koala First Child"), "{html}");
    assert!(!html.contains("Koala Renamed Child"), "{html}");
    let before = calls();
    let html = eve.view_page(parent).await;
    assert!(!html.contains("Koala Renamed Child"), "{html}");
    assert_eq!(calls(), before, "eve's own list is reused for her");
}

/// A deterministic generator for the property test.
pub(super) struct Rng(u64);

impl Rng {
    pub(super) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub(super) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[tokio::test]
async fn nothing_a_macro_outputs_is_text_its_viewer_may_not_read() {
    let node = TestNode::start().await;
    install_hostile(&node).await;
    let users = ["ann", "bob"];
    for u in users {
        node.user(u, false).await;
    }
    let admin = node.login("admin").await;
    let mut clients = vec![("admin", node.login("admin").await)];
    for u in users {
        clients.push((u, node.login(u).await));
    }
    let mut rng = Rng(0x5eed_cafe_f00d_u64);
    for round in 0..3 {
        let key = format!("PROP{round}");
        admin.create_space(&key, "Property").await;
        // Random pages: random parents, random read restrictions (inherited
        // by children), each with words of its own.
        let mut pages: Vec<(i64, String, String)> = Vec::new();
        for i in 0..6 {
            let title = format!("Quokka{round}x{i}");
            let word = format!("wombat{round}x{i}");
            let parent = match rng.below(3) {
                0 if !pages.is_empty() => Some(pages[rng.below(pages.len())].0),
                _ => None,
            };
            let id = admin
                .create_page(
                    &key,
                    &title,
                    &format!("<p>{word}</p><ac:structured-macro ac:name=\"excerpt\"><ac:rich-text-body><p>{word}</p></ac:rich-text-body></ac:structured-macro>"),
                    parent,
                )
                .await;
            let r = admin
                .post(&format!("/pages/{id}/labels"), &[("labels", "prop")])
                .await;
            assert!(r.status().is_success() || r.status().is_redirection());
            match rng.below(3) {
                0 => restrict_to(&admin, id, users[rng.below(2)]).await,
                1 => restrict_to(&admin, id, "admin").await,
                _ => {}
            }
            pages.push((id, title, word));
        }
        // A page of random capability calls over those pages.
        let fns = [
            "get",
            "children",
            "attachments",
            "labels",
            "render-page",
            "render-excerpt",
        ];
        let mut body = String::new();
        for _ in 0..8 {
            let (id, title, _) = &pages[rng.below(pages.len())];
            let q = match rng.below(fns.len() + 3) {
                n if n < fns.len() => format!("{}:{id}", fns[n]),
                n if n == fns.len() => format!("find:{key}:{title}"),
                n if n == fns.len() + 1 => "with-labels:prop".to_string(),
                _ => format!("recent:{key}"),
            };
            body.push_str(&peek(&q));
        }
        let host = admin
            .create_page(&key, &format!("Host {round}"), &body, None)
            .await;
        // Viewers in a random order, each twice (the second from caches).
        let mut order: Vec<usize> = (0..clients.len()).chain(0..clients.len()).collect();
        for i in (1..order.len()).rev() {
            order.swap(i, rng.below(i + 1));
        }
        for v in order {
            let (who, c) = &clients[v];
            let (s, html) = try_view(c, host).await;
            assert_eq!(s, 200, "{who}");
            for (id, title, word) in &pages {
                let (s, _) = try_view(c, *id).await;
                if s == 200 {
                    continue;
                }
                assert!(
                    !html.contains(title.as_str()) && !html.contains(word.as_str()),
                    "round {round}: {who} may not read page {id} ({title}) but the macros show it"
                );
            }
        }
    }
}
