//! The UI benchmark (ignored; not a timed test): in headless Chromium, time
//! to first contentful paint and the bytes a page view, the dashboard and
//! search transfer, cold and warm; and how long the tree takes to open a
//! page with 5,000 children. Run by name:
//!   tests/run.sh -- ui_bench --ignored --nocapture
//! (or `/tmp/quicktest.sh . -- ui_bench --include-ignored --nocapture` with
//! an environment like tests/run.sh's). Prints a table for BENCHMARKS.md.

use std::time::Instant;

use cairn_tests::browser::Driver;
use cairn_tests::TestNode;
use serde_json::Value;

/// How many warm loads each figure is the median of.
const RUNS: usize = 7;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

/// (FCP ms, bytes of the document, bytes of everything) of the page just loaded.
async fn paint_and_bytes(d: &Driver) -> (f64, f64, f64) {
    let v: Value = d
        .js_async(
            "const done = arguments[arguments.length - 1];
             const finish = (fcp) => {
               const nav = performance.getEntriesByType('navigation')[0];
               const res = performance.getEntriesByType('resource');
               const total = nav.transferSize + res.reduce((s, r) => s + r.transferSize, 0);
               done([fcp, nav.transferSize, total]);
             };
             const seen = performance.getEntriesByName('first-contentful-paint')[0];
             if (seen) { finish(seen.startTime); } else {
               new PerformanceObserver((list) => {
                 const e = list.getEntriesByName('first-contentful-paint')[0];
                 if (e) finish(e.startTime);
               }).observe({type: 'paint', buffered: true});
               setTimeout(() => finish(-1), 3000);
             }",
        )
        .await;
    let n = |i: usize| v[i].as_f64().unwrap_or(-1.0);
    (n(0), n(1), n(2))
}

#[tokio::test]
#[ignore = "benchmark: run by name with --ignored --nocapture"]
async fn ui_bench() {
    let node = TestNode::start().await;
    let c = node.login("admin").await;
    c.create_space("UIB", "UI bench").await;
    // A realistic page: 2,000 words, a table, a code block, a panel.
    let words: String = (0..2000)
        .map(|i| {
            [
                "deploy", "service", "the", "cluster", "runbook", "latency", "owner", "and",
            ][i % 8]
        })
        .collect::<Vec<_>>()
        .join(" ");
    let body = format!(
        "<h2>Overview</h2><p>{words}</p><table><tbody>{}</tbody></table>\
         <ac:structured-macro ac:name=\"code\"><ac:parameter ac:name=\"language\">rust</ac:parameter>\
         <ac:plain-text-body><![CDATA[fn main() {{ println!(\"hello\"); }}]]></ac:plain-text-body></ac:structured-macro>\
         <ac:structured-macro ac:name=\"info\"><ac:rich-text-body><p>Note this.</p></ac:rich-text-body></ac:structured-macro>",
        (0..30)
            .map(|i| format!("<tr><td>row {i}</td><td>value {i}</td></tr>"))
            .collect::<String>()
    );
    let page = c.create_page("UIB", "Runbook", &body, None).await;
    for i in 0..20 {
        c.create_page(
            "UIB",
            &format!("Deploy note {i}"),
            "<p>deploy service notes</p>",
            Some(page),
        )
        .await;
    }
    // 5,000 children under one page, written through the service.
    let parent = c
        .create_page("UIB", "Big parent", "<p>many children</p>", None)
        .await;
    let started = Instant::now();
    {
        let admin = cairn::users::by_name(&node.sql().await, "admin")
            .await
            .unwrap()
            .unwrap();
        let viewer = node.viewer(Some(&admin)).await;
        let mut db = node.pool.get().await.unwrap();
        for i in 0..5000 {
            cairn::content::create(
                &mut db,
                &viewer,
                cairn::content::NewContent {
                    content_type: cairn::content::ContentType::Page,
                    space_key: "UIB",
                    title: &format!("Child {i:05}"),
                    body: "<p>x</p>",
                    parent_id: Some(parent),
                    message: "",
                    labels: &[],
                    posting_day: None,
                },
            )
            .await
            .unwrap();
        }
    }
    eprintln!(
        "5,000 children written in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let d = Driver::start().await;
    let base = node.base.clone();
    d.login(&base, "admin").await;
    let screens = [
        ("page view", format!("/pages/viewpage.action?pageId={page}")),
        ("dashboard", "/".to_owned()),
        ("search", "/search?q=deploy".to_owned()),
    ];
    println!(
        "| screen | FCP cold | FCP warm (median of {RUNS}) | document | total cold | total warm |"
    );
    println!("|---|---|---|---|---|---|");
    for (name, path) in &screens {
        // Cold: the first visit of this screen (the assets may already be
        // cached from the login page, as they are for a real first visit
        // after logging in).
        let sep = if path.contains('?') { '&' } else { '?' };
        d.goto(&format!("{base}{path}{sep}cold=1")).await;
        let cold = paint_and_bytes(&d).await;
        let mut fcp = Vec::new();
        let mut warm_total = 0.0;
        let mut doc = 0.0;
        for _ in 0..RUNS {
            d.goto(&format!("{base}{path}")).await;
            let w = paint_and_bytes(&d).await;
            fcp.push(w.0);
            doc = w.1;
            warm_total = w.2;
        }
        println!(
            "| {name} | {:.0} ms | {:.0} ms | {:.1} KB | {:.1} KB | {:.1} KB |",
            cold.0,
            median(fcp),
            doc / 1024.0,
            cold.2 / 1024.0,
            warm_total / 1024.0
        );
    }
    // The tree: open the parent's branch of 5,000 children (the first 200
    // load; the rest page in on demand).
    let mut opens = Vec::new();
    for _ in 0..RUNS {
        d.goto(&format!("{base}/spaces/UIB")).await;
        d.wait_for(
            "the tree",
            &format!(
                "return !!document.querySelector('.page-tree li[data-id=\"{parent}\"] > button')"
            ),
        )
        .await;
        let ms = d
            .js_async(&format!(
                "const done = arguments[arguments.length - 1];
                 const li = document.querySelector('.page-tree li[data-id=\"{parent}\"]');
                 const t0 = performance.now();
                 const check = () => {{
                   const n = li.querySelectorAll(':scope > ul > li').length;
                   if (n >= 200) done(performance.now() - t0); else requestAnimationFrame(check);
                 }};
                 li.querySelector(':scope > button').click();
                 requestAnimationFrame(check);"
            ))
            .await;
        opens.push(ms.as_f64().unwrap_or(-1.0));
    }
    println!();
    println!(
        "tree: a page with 5,000 children opens (first 200 shown) in {:.0} ms (median of {RUNS}; min {:.0}, max {:.0})",
        median(opens.clone()),
        opens.iter().cloned().fold(f64::MAX, f64::min),
        opens.iter().cloned().fold(0.0, f64::max)
    );
}

/// How many draft saves each figure of [`draft_save_bench`] summarises.
const SAVES: usize = 40;

/// The draft save round trip (issue 21), measured in Chromium: from the
/// editor page, the autosave's request (`POST /ui/drafts` with the form as
/// `drafts.js` sends it) until its JSON answer is read, for a small and a
/// large page. Run by name:
///   tests/run.sh -- draft_save_bench --ignored --nocapture
#[tokio::test]
#[ignore = "benchmark: run by name with --ignored --nocapture"]
async fn draft_save_bench() {
    let node = TestNode::start().await;
    let c = node.login("admin").await;
    c.create_space("DSB", "Draft bench").await;
    let d = Driver::start().await;
    d.login(&node.base, "admin").await;
    println!("| body | saves | median ms | p95 ms | max ms |");
    println!("|---|---|---|---|---|");
    for kb in [2usize, 20, 200] {
        let para = "<p>deploy the service to the cluster and read the runbook first.</p>";
        let body: String = para.repeat(kb * 1024 / para.len());
        let id = c
            .create_page("DSB", &format!("Draft bench {kb} KB"), &body, None)
            .await;
        d.goto(&format!("{}/pages/{id}/edit", node.base)).await;
        d.wait_for(
            "the editor",
            "return !!document.querySelector('form#editor')",
        )
        .await;
        let v: Value = d
            .js_async(&format!(
                "const done = arguments[arguments.length - 1];
                 const form = document.getElementById('editor');
                 const body = form.querySelector('#body');
                 const times = [];
                 (async () => {{
                   for (let i = 0; i < {SAVES}; i++) {{
                     body.value = body.value + ' ' + i;
                     const t0 = performance.now();
                     const r = await fetch('/ui/drafts', {{ method: 'POST', credentials: 'same-origin',
                       body: new URLSearchParams(new FormData(form)) }});
                     const j = await r.json();
                     if (j.state !== 'saved') {{ done('not saved: ' + JSON.stringify(j)); return; }}
                     times.push(performance.now() - t0);
                   }}
                   done(times);
                 }})();"
            ))
            .await;
        let mut t: Vec<f64> = v
            .as_array()
            .unwrap_or_else(|| panic!("draft saves failed: {v}"))
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        t.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let p95 = t[(t.len() * 95 / 100).min(t.len() - 1)];
        println!(
            "| {kb} KB | {SAVES} | {:.1} | {:.1} | {:.1} |",
            median(t.clone()),
            p95,
            t[t.len() - 1]
        );
    }
}
