//! What a reader asks and gets over REST: CQL fields, permission filtering
//! inside the query, and ranking on a small realistic corpus.

use super::*;

#[tokio::test]
async fn edits_become_searchable_and_cql_fields_work() {
    let node = TestNode::start().await;
    let c = node.login("admin").await;
    c.create_space("SRCH", "Search Space").await;
    let parent = c
        .create_page(
            "SRCH",
            "Deployment Guide",
            "<p>How we deploy the payments service to production.</p>",
            None,
        )
        .await;
    let child = c
        .create_page("SRCH", "Rollback Steps", "<p>If deploying fails, roll back.</p><ac:structured-macro ac:name=\"code\"><ac:plain-text-body><![CDATA[kubectl rollout undo deploy/payments]]></ac:plain-text-body></ac:structured-macro>", Some(parent))
        .await;
    c.post(&format!("/pages/{child}/labels"), &[("labels", "ops")])
        .await;
    // The page and its label are two journal entries: wait for both.
    let found = wait_until(Duration::from_secs(10), || async {
        total(&node, "admin", "text ~ \"rollout\"").await == 1
            && total(&node, "admin", "label = ops").await == 1
    })
    .await;
    assert!(
        found,
        "macro plain bodies are indexed and searchable within seconds"
    );
    assert_eq!(
        total(&node, "admin", "text ~ deploying").await,
        2,
        "stemming: deploying ~ deploy"
    );
    assert_eq!(
        total(&node, "admin", "title = \"deployment guide\"").await,
        1
    );
    assert_eq!(total(&node, "admin", "title ~ \"roll*\"").await, 1);
    assert_eq!(total(&node, "admin", "label = ops").await, 1);
    assert_eq!(
        total(&node, "admin", &format!("ancestor = {parent}")).await,
        1
    );
    assert_eq!(
        total(
            &node,
            "admin",
            &format!("parent = {parent} AND space = \"SRCH\"")
        )
        .await,
        1
    );
    assert_eq!(
        total(
            &node,
            "admin",
            "type = page AND space = SRCH AND NOT title ~ rollback"
        )
        .await,
        2
    );
    assert_eq!(
        total(
            &node,
            "admin",
            "space = SRCH AND created >= startOfDay() AND creator = currentUser()"
        )
        .await,
        3
    );
    assert_eq!(
        total(
            &node,
            "admin",
            "space = SRCH AND lastmodified < \"2000-01-01\""
        )
        .await,
        0
    );
    // Exact title matches rank first.
    let (_, v) = get(
        &node,
        "admin",
        &format!(
            "/rest/api/search?cql={}",
            cql("text ~ \"deployment guide\"")
        ),
    )
    .await;
    assert_eq!(v["results"][0]["title"], "Deployment Guide");
    let r = &v["results"][0];
    assert_eq!(r["entityType"], "content");
    assert!(
        r["content"]["id"].is_string()
            && r["url"].is_string()
            && r["resultGlobalContainer"]["title"] == "Search Space"
    );
    assert!(
        r["excerpt"].as_str().unwrap().contains("<b>"),
        "highlighted excerpt: {r}"
    );
    assert!(v["cqlQuery"].is_string() && v["searchDuration"].is_number());
    // Excerpts are escaped text with <b> highlights, also when the match
    // lies deep in a long body (past the first window the excerpt is
    // looked for in).
    let filler = "ordinary filler words about nothing much. ".repeat(150);
    c.create_page(
        "SRCH",
        "Long Page",
        &format!("<p>{filler}&lt;script&gt;alert(1)&lt;/script&gt; the zebrafish swims</p>"),
        None,
    )
    .await;
    assert!(
        wait_until(Duration::from_secs(10), || async {
            total(&node, "admin", "text ~ zebrafish").await == 1
        })
        .await
    );
    let (_, v) = get(
        &node,
        "admin",
        &format!("/rest/api/search?cql={}", cql("text ~ zebrafish")),
    )
    .await;
    let ex = v["results"][0]["excerpt"].as_str().unwrap();
    assert!(
        ex.contains("<b>zebrafish</b>") && ex.contains("&lt;script&gt;") && !ex.contains("<script"),
        "escaped, highlighted excerpt from deep in the body: {ex}"
    );
    // An edit is searchable, the old text is gone.
    let r = c
        .post(
            &format!("/pages/{child}/edit"),
            &[
                ("title", "Rollback Steps"),
                ("body", "<p>Use the blue-green switch.</p>"),
                ("format", "storage"),
                ("base_version", "1"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert!(
        wait_until(Duration::from_secs(10), || async {
            total(&node, "admin", "text ~ \"blue-green\"").await == 1
        })
        .await
    );
    assert_eq!(total(&node, "admin", "text ~ rollout").await, 0);
    // Trash removes it from results.
    c.post(&format!("/pages/{child}/delete"), &[]).await;
    assert!(
        wait_until(Duration::from_secs(10), || async {
            total(&node, "admin", "title ~ rollback").await == 0
        })
        .await
    );
    // content/search: plain content objects, paging.
    let (s, v) = get(
        &node,
        "admin",
        &format!(
            "/rest/api/content/search?cql={}&limit=1",
            cql("space = SRCH")
        ),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(v["results"][0]["type"], "page");
    assert_eq!(v["size"], 1);
    assert!(v["_links"]["next"].is_string());
    // Invalid CQL says where.
    let (s, v) = get(
        &node,
        "admin",
        &format!("/rest/api/search?cql={}", cql("title = ")),
    )
    .await;
    assert_eq!(s, 400);
    assert!(v["message"].as_str().unwrap().contains("position"), "{v}");
}

#[tokio::test]
async fn search_never_shows_what_the_viewer_may_not_see() {
    let node = TestNode::start().await;
    node.user("eve", false).await;
    let c = node.login("admin").await;
    c.create_space("PRIV", "Private").await;
    let secret = c
        .create_page(
            "PRIV",
            "Zebra Protocol",
            "<p>the quokka launch codes</p>",
            None,
        )
        .await;
    let below = c
        .create_page("PRIV", "Under Zebra", "<p>quokka details</p>", Some(secret))
        .await;
    c.create_page("PRIV", "Public Note", "<p>a quokka in public</p>", None)
        .await;
    assert!(
        wait_until(Duration::from_secs(10), || async {
            total(&node, "admin", "text ~ quokka").await == 3
        })
        .await
    );
    c.restrict(secret, "read", "user", "admin").await;
    // The restriction reaches the index through the journal.
    assert!(
        wait_until(Duration::from_secs(10), || async {
            total(&node, "eve", "text ~ quokka").await == 1
        })
        .await
    );
    let (_, v) = get(
        &node,
        "eve",
        &format!(
            "/rest/api/search?cql={}",
            cql("text ~ quokka OR title ~ zebra OR id = {below}"
                .replace("{below}", &below.to_string())
                .as_str())
        ),
    )
    .await;
    assert_eq!(v["totalSize"], 1, "counts exclude hidden pages");
    let text = v.to_string();
    assert!(
        !text.contains("Zebra") && !text.contains("launch") && !text.contains("details"),
        "{text}"
    );
    assert_eq!(
        total(&node, "admin", "text ~ quokka").await,
        3,
        "the owner still finds everything"
    );
}

/// Relevance on a small realistic corpus: for each query, the page a
/// person would expect is at the top (or within the top `n`).
#[tokio::test]
async fn relevance_on_a_small_realistic_corpus() {
    let node = TestNode::start().await;
    let c = node.login("admin").await;
    c.create_space("ENG", "Engineering").await;
    c.create_space("HR", "People").await;
    let pages: &[(&str, &str, &str)] = &[
        ("ENG", "VPN Setup", "<p>Install the client, import the profile from IT and connect before you reach internal services.</p>"),
        ("ENG", "Network Troubleshooting", "<p>If the VPN drops, check the VPN client log. VPN timeouts usually mean the VPN gateway is overloaded; VPN split tunnelling is off.</p>"),
        ("ENG", "Deployment Checklist", "<p>Before deploying to production: freeze merges, tag the release, notify the on-call engineer.</p>"),
        ("ENG", "Rollback Runbook", "<p>When a release misbehaves on Kubernetes, roll back with <code>kubectl rollout undo</code> and page the owner.</p>"),
        ("ENG", "Release Notes 4.2", "<p>New search, faster page views, plugin limits.</p>"),
        ("ENG", "Release Notes 4.1", "<p>Attachments versioning and a new editor.</p>"),
        ("ENG", "Architecture Overview", "<p>Services talk over gRPC; releases go out weekly; see the deployment checklist for how a release is deployed.</p>"),
        ("ENG", "PostgreSQL Backups", "<p>Nightly base backups of postgres with WAL archiving; restore drills monthly.</p>"),
        ("ENG", "Database Style Guide", "<p>Name tables in the plural. Every postgres table has a primary key.</p>"),
        ("ENG", "On-Call Rotation", "<p>The on call engineer carries the pager for a week; handover on Mondays.</p>"),
        ("ENG", "Incident Review Template", "<p>Timeline, impact, what went well, what we will change. Invite whoever was on call.</p>"),
        ("HR", "New Hire Onboarding", "<p>Your first week: laptop, accounts, a buddy, and the team lunch.</p>"),
        ("HR", "Travel Policy", "<p>Book through the portal. Keep receipts for every expense; expenses above the limit need approval; report expenses monthly.</p>"),
        ("HR", "Submitting Expense Reports", "<p>Use the finance tool, attach receipts, submit by the fifth of the month.</p>"),
        ("HR", "Resetting Your Password", "<p>Use the self-service portal; a reset link arrives by email.</p>"),
        ("HR", "Security Awareness", "<p>Never share a password. Password managers are provided. Report phishing to security.</p>"),
        ("HR", "Holiday Calendar", "<p>Public holidays per office, and how to book leave.</p>"),
    ];
    for (space, title, body) in pages {
        c.create_page(space, title, body, None).await;
    }
    let db_page = c
        .create_page(
            "ENG",
            "Replica Lag Alerts",
            "<p>Alerts fire when a postgres replica falls behind.</p>",
            None,
        )
        .await;
    c.post(
        &format!("/pages/{db_page}/labels"),
        &[("labels", "database")],
    )
    .await;
    assert!(
        wait_until(Duration::from_secs(15), || async {
            total(&node, "admin", "label = database").await == 1
                && total(&node, "admin", "space in (ENG, HR) and type = page").await >= 20
        })
        .await
    );
    // (query, expected title, within the top n)
    let cases: &[(&str, &str, usize)] = &[
        ("text ~ \"vpn setup\"", "VPN Setup", 1),
        ("text ~ vpn", "VPN Setup", 2),
        ("text ~ onboarding", "New Hire Onboarding", 1),
        ("text ~ deploying", "Deployment Checklist", 2),
        ("text ~ \"expense report\"", "Submitting Expense Reports", 1),
        ("text ~ \"kubernetes rollback\"", "Rollback Runbook", 1),
        ("text ~ \"on call\"", "On-Call Rotation", 1),
        ("text ~ \"password reset\"", "Resetting Your Password", 1),
        (
            "text ~ postgres and label = database",
            "Replica Lag Alerts",
            1,
        ),
        ("title ~ \"release notes\"", "Release Notes 4.2", 2),
        ("title ~ \"release notes\"", "Release Notes 4.1", 2),
        ("text ~ backups", "PostgreSQL Backups", 1),
        ("text ~ holidays and space = HR", "Holiday Calendar", 1),
    ];
    let mut failures = Vec::new();
    for (q, want, n) in cases {
        let (s, v) = get(
            &node,
            "admin",
            &format!("/rest/api/search?cql={}&limit=10", cql(q)),
        )
        .await;
        assert_eq!(s, 200, "{q}: {v}");
        let titles: Vec<String> = v["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["title"].as_str().unwrap_or("").to_owned())
            .collect();
        if !titles.iter().take(*n).any(|t| t == want) {
            failures.push(format!(
                "{q}: expected {want:?} in the top {n}, got {titles:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "relevance:\n{}", failures.join("\n"));
}

/// `mention = user` finds pages that mention the user (written with their
/// user key, as Confluence does), and `currentUser()` works for it.
#[tokio::test]
async fn mention_finds_pages_that_mention_a_user() {
    let node = TestNode::start().await;
    let bob = node.user("bob", false).await;
    let c = node.login("admin").await;
    c.create_space("MEN", "Mentions").await;
    c.create_page(
        "MEN",
        "Review request",
        &format!(
            "<p>Please review, <ac:link><ri:user ri:userkey=\"{}\"/></ac:link>.</p>",
            bob.user_key
        ),
        None,
    )
    .await;
    c.create_page("MEN", "No mention", "<p>bob is just a word here</p>", None)
        .await;
    assert!(
        wait_until(Duration::from_secs(10), || async {
            total(&node, "admin", "space = MEN and type = page").await == 3
        })
        .await
    );
    let (_, v) = get(
        &node,
        "admin",
        &format!("/rest/api/search?cql={}", cql("mention = bob")),
    )
    .await;
    assert_eq!(v["totalSize"], 1, "{v}");
    assert_eq!(v["results"][0]["title"], "Review request");
    assert_eq!(total(&node, "bob", "mention = currentUser()").await, 1);
    assert_eq!(total(&node, "admin", "mention = currentUser()").await, 0);
}

/// A multi-word query is answered by a pruned pass (documents with a query
/// word in the title scored in full, the rest by block-max WAND over the
/// bare term intersection): its ranking, paging and counts must equal the
/// unpruned query's, for a viewer who sees everything and for one filtered
/// by space permissions and a read restriction. `AND id > 0` adds the same
/// constant to every score and is never pruned, so it is the reference.
#[tokio::test]
async fn pruned_multi_word_search_ranks_like_the_full_query() {
    let node = TestNode::start().await;
    node.user("eve", false).await;
    let c = node.login("admin").await;
    c.create_space("RANK", "Ranking").await;
    c.create_space("HIDE", "Hidden").await;
    for (kind, name, grant) in [("user", "admin", "1"), ("group", "cairn-users", "0")] {
        let r = c
            .submit(
                "/spaces/HIDE/permissions",
                &[
                    ("kind", kind),
                    ("name", name),
                    ("permission", "view"),
                    ("grant", grant),
                ],
            )
            .await;
        assert_eq!(r.status(), 200);
    }
    for i in 0..40 {
        let title = match i {
            i if i % 7 == 0 => format!("Alpha Beta notes {i}"),
            i if i % 5 == 0 => format!("Alpha {i}"),
            _ => format!("Page {i}"),
        };
        let body = format!(
            "<p>{}{}{}</p>",
            "alpha ".repeat(1 + i % 4),
            "beta ".repeat(1 + i % 3),
            "delta ".repeat(i)
        );
        c.create_page("RANK", &title, &body, None).await;
    }
    for i in 0..10 {
        c.create_page(
            "HIDE",
            &format!("Hidden {i}"),
            "<p>alpha beta alpha beta</p>",
            None,
        )
        .await;
    }
    let secret = c
        .create_page(
            "RANK",
            "Secret",
            "<p>alpha alpha alpha beta beta beta</p>",
            None,
        )
        .await;
    c.restrict(secret, "read", "user", "admin").await;
    assert!(
        wait_until(Duration::from_secs(20), || async {
            total(&node, "admin", "text ~ \"alpha beta\"").await == 51
                && total(&node, "eve", "text ~ \"alpha beta\"").await == 40
        })
        .await
    );
    let ids = |v: &Value| -> Vec<i64> {
        v["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["content"]["id"].as_str().unwrap().parse().unwrap())
            .collect()
    };
    for user in ["admin", "eve"] {
        for (start, limit) in [(0, 10), (5, 20), (30, 25)] {
            let page = |q: &str| {
                format!(
                    "/rest/api/search?cql={}&start={start}&limit={limit}",
                    cql(q)
                )
            };
            let (s, pruned) = get(&node, user, &page("text ~ \"alpha beta\"")).await;
            assert_eq!(s, 200, "{pruned}");
            let (s, full) = get(&node, user, &page("text ~ \"alpha beta\" AND id > 0")).await;
            assert_eq!(s, 200, "{full}");
            assert_eq!(ids(&pruned), ids(&full), "{user} start {start}");
            assert_eq!(pruned["totalSize"], full["totalSize"], "{user}");
            if user == "eve" {
                let text = pruned.to_string();
                assert!(
                    !text.contains("Hidden") && !text.contains("Secret"),
                    "{text}"
                );
            }
        }
    }
    // The title matches rank first.
    let (_, v) = get(
        &node,
        "eve",
        &format!(
            "/rest/api/search?cql={}&limit=6",
            cql("text ~ \"alpha beta\"")
        ),
    )
    .await;
    let titles: Vec<&str> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["title"].as_str().unwrap())
        .collect();
    assert!(
        titles.iter().all(|t| t.starts_with("Alpha Beta")),
        "{titles:?}"
    );
}
