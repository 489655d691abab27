//! The search page: its filters and suggestions, advanced CQL with the
//! error position, sorting, facets that count only what the viewer may see,
//! and the people and spaces whose names match.

use super::*;

#[tokio::test]
async fn search_page_filters_and_suggestions() {
    let node = TestNode::start().await;
    let c = node.login("admin").await;
    c.create_space("UI", "Ui Space").await;
    let id = c
        .create_page(
            "UI",
            "Capybara Handbook",
            "<p>All about the <em>capybara</em> habitat.</p>",
            None,
        )
        .await;
    c.post(&format!("/pages/{id}/labels"), &[("labels", "rodents")])
        .await;
    assert!(
        wait_until(Duration::from_secs(10), || async {
            total(&node, "admin", "label = rodents").await == 1
        })
        .await
    );
    let (s, html) = c
        .get_text("/search?q=capybara&space=UI&type=page&label=rodents&modified=1w")
        .await;
    assert_eq!(s, 200);
    assert!(
        html.contains("1 result</p>") && html.contains("Capybara Handbook"),
        "{html}"
    );
    assert!(html.contains("<b>capybara</b>"), "highlighted excerpt");
    // What the search box suggests for a prefix, the search page finds.
    let (_, prefix) = c.get_text("/search?q=capy").await;
    assert!(
        prefix.contains("1 result</p>") && prefix.contains("Capybara Handbook"),
        "{prefix}"
    );
    let (_, none) = c.get_text("/search?q=capybara&label=other").await;
    assert!(none.contains("0 results"));
    let (s, sug) = c.get_text("/ui/suggest?q=capy").await;
    assert_eq!(s, 200);
    let v: Value = serde_json::from_str(&sug).unwrap();
    assert_eq!(v[0]["title"], "Capybara Handbook");
    let (_, bad) = c.get_text("/search?q=%22").await;
    assert!(
        bad.contains("flash error") || bad.contains("results"),
        "a stray quote is handled: {bad}"
    );
}

#[tokio::test]
async fn search_page_takes_cql_sorts_and_counts_what_the_viewer_may_see() {
    let node = TestNode::start().await;
    let c = node.login("admin").await;
    node.user("bob", false).await;
    c.create_space("FONE", "Facet One").await;
    c.create_space("FTWO", "Facet Two").await;
    for (space, title) in [
        ("FONE", "Walrus one"),
        ("FONE", "Walrus two"),
        ("FONE", "Walrus three"),
        ("FTWO", "Walrus four"),
    ] {
        c.create_page(space, title, "<p>about the walrus</p>", None)
            .await;
    }
    let secret = c
        .create_page("FTWO", "Walrus secret", "<p>the walrus plan</p>", None)
        .await;
    assert!(c
        .restrict(secret, "read", "user", "admin")
        .await
        .status()
        .is_success());
    for title in ["Walrus one", "Walrus two", "Walrus secret"] {
        let (_, v) = node
            .rest(
                "admin",
                reqwest::Method::GET,
                &format!("/rest/api/content?title={}", title.replace(' ', "%20")),
                None,
            )
            .await;
        let id = v["results"][0]["id"].as_str().unwrap().to_owned();
        c.post(&format!("/pages/{id}/labels"), &[("labels", "arctic")])
            .await;
    }
    assert!(
        wait_until(Duration::from_secs(10), || async {
            total(&node, "admin", "text ~ walrus").await == 5
                && total(&node, "admin", "label = arctic").await == 3
        })
        .await
    );
    let bob = node.login("bob").await;

    // Facets count only what bob may see, and refine the search.
    let (s, html) = bob.get_text("/search?q=walrus").await;
    assert_eq!(s, 200, "{html}");
    assert!(html.contains("4 results</p>"), "{html}");
    let facet = |html: &str, id: &str| -> String {
        let start = html.find(&format!("id=\"{id}\"")).expect(id);
        html[start..start + html[start..].find("</div>").unwrap()].to_owned()
    };
    let spaces = facet(&html, "facet-space");
    assert!(
        spaces.contains("Facet One</a> <span class=\"count\">3</span>"),
        "{spaces}"
    );
    assert!(
        spaces.contains("Facet Two</a> <span class=\"count\">1</span>"),
        "{spaces}"
    );
    assert!(facet(&html, "facet-type").contains("Pages</a> <span class=\"count\">4</span>"));
    let labels = facet(&html, "facet-label");
    assert!(
        labels.contains("arctic</a> <span class=\"count\">2</span>"),
        "the secret page's label is not counted: {labels}"
    );
    assert!(facet(&html, "facet-contributor")
        .contains("admin Example</a> <span class=\"count\">4</span>"));
    let (_, refined) = bob.get_text("/search?q=walrus&space=FTWO").await;
    assert!(
        refined.contains("1 result</p>") && !refined.contains("Walrus secret"),
        "{refined}"
    );

    // Sorted by date: the page edited last comes first.
    let (_, v) = node
        .rest(
            "admin",
            reqwest::Method::GET,
            "/rest/api/content?title=Walrus%20one&spaceKey=FONE",
            None,
        )
        .await;
    let one = v["results"][0]["id"].as_str().unwrap().to_owned();
    let (s, v) = node
        .rest(
            "admin",
            reqwest::Method::PUT,
            &format!("/rest/api/content/{one}"),
            Some(serde_json::json!({"version": {"number": 2}, "title": "Walrus one", "type": "page",
                "body": {"storage": {"value": "<p>about the walrus, edited</p>", "representation": "storage"}}})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert!(
        wait_until(Duration::from_secs(10), || async {
            total(&node, "admin", "text ~ edited").await == 1
        })
        .await
    );
    let (_, html) = bob.get_text("/search?q=walrus&sort=modified").await;
    let first = html
        .find("class=\"result-title\">")
        .map(|i| &html[i..i + 60])
        .unwrap_or("");
    assert!(first.contains("Walrus one"), "newest first: {first}");

    // Advanced mode: CQL as typed, and a parse error says where.
    let (s, html) = bob
        .get_text(&format!(
            "/search?cql={}",
            cql("space = FONE AND text ~ walrus ORDER BY title ASC")
        ))
        .await;
    assert_eq!(s, 200);
    assert!(html.contains("3 results</p>"), "{html}");
    let (s, html) = bob
        .get_text(&format!(
            "/search?cql={}",
            cql("type = page AND (text ~ walrus")
        ))
        .await;
    assert_eq!(s, 400);
    assert!(
        html.contains("at position") && html.contains("class=\"cql-error\""),
        "{html}"
    );

    // People and spaces whose names match are offered too.
    let (_, html) = bob.get_text("/search?q=facet").await;
    assert!(
        html.contains("id=\"space-matches\"") && html.contains("href=\"/spaces/FONE\""),
        "{html}"
    );
    let (_, html) = bob.get_text("/search?q=admin").await;
    assert!(
        html.contains("id=\"people-matches\"") && html.contains("admin Example"),
        "{html}"
    );
}
