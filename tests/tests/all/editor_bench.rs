//! The rich-text editor's benchmark (ignored; not a timed test), in headless
//! Chromium: how long the editor takes to be ready on a 200 KB page, the
//! keystroke-to-paint time on a 1 MB page (real key events from WebDriver;
//! from `keydown` to the frame after it, p50/p99), how long writing the
//! 1 MB document back to storage format takes after an edit, and the
//! bundle's size, raw and gzipped. Run by name:
//!   /tmp/quicktest.sh . -- editor_bench --include-ignored --nocapture
//! Prints a table for BENCHMARKS.md ("Editor").

use std::io::Write;

use cairn_tests::browser::Driver;
use cairn_tests::TestNode;
use serde_json::{json, Value};

/// A storage-format body of about `bytes`: headings, paragraphs with
/// marks and links, lists, a table, code and info macros, tasks.
fn page_of(bytes: usize) -> String {
    let mut s = String::new();
    let mut i = 0;
    while s.len() < bytes {
        s.push_str(&format!(
            "<h2>Section {i}</h2>\
             <p>The <strong>deploy</strong> of service {i} goes through the <em>cluster</em> runbook; \
             see <ac:link><ri:page ri:content-title=\"Runbook {i}\" /></ac:link> and \
             <a href=\"https://example.com/{i}\">the dashboard</a>. Latency stays under {i} ms.</p>\
             <ul><li>Owner: team {i}</li><li>Pager: <code>oncall-{i}</code><ul><li>nested {i}</li></ul></li></ul>\
             <table><tbody><tr><th>Metric</th><th>Value</th></tr><tr><td>p99</td><td>{i} ms</td></tr></tbody></table>\
             <ac:structured-macro ac:name=\"code\"><ac:parameter ac:name=\"language\">bash</ac:parameter>\
             <ac:plain-text-body><![CDATA[kubectl rollout restart deploy/svc-{i}]]></ac:plain-text-body></ac:structured-macro>\
             <ac:structured-macro ac:name=\"info\"><ac:rich-text-body><p>Note {i}: drain first.</p></ac:rich-text-body></ac:structured-macro>\
             <ac:task-list><ac:task><ac:task-id>{i}</ac:task-id><ac:task-status>incomplete</ac:task-status>\
             <ac:task-body>Check service {i}</ac:task-body></ac:task></ac:task-list>\n"
        ));
        i += 1;
    }
    s
}

/// 120 real key events from WebDriver, 30 ms apart ("typing fast " ten
/// times), then a moment for the last frames.
async fn type_keys(d: &Driver) {
    for _ in 0..10 {
        let mut actions = Vec::new();
        for ch in "typing fast".chars().chain(std::iter::once(' ')) {
            actions.push(json!({"type": "keyDown", "value": ch.to_string()}));
            actions.push(json!({"type": "keyUp", "value": ch.to_string()}));
            actions.push(json!({"type": "pause", "duration": 30}));
        }
        d.cmd(
            reqwest::Method::POST,
            "/actions",
            json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]}),
        )
        .await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
}

async fn numbers(d: &Driver, script: &str) -> Vec<f64> {
    d.js(script)
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn pct(v: &[f64], p: f64) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::test]
#[ignore = "benchmark: run by name with --ignored --nocapture"]
async fn editor_bench() {
    let node = TestNode::start().await;
    let c = node.login("admin").await;
    c.create_space("EB", "Editor bench").await;
    let small = page_of(200 * 1024);
    let big = page_of(1024 * 1024);
    let small_id = c.create_page("EB", "200 KB", &small, None).await;
    let big_id = c.create_page("EB", "1 MB", &big, None).await;
    let d = Driver::start().await;
    d.login(&node.base, "admin").await;

    // Ready: parse + first render of the editor (mount), and since navigation start.
    let mut mount = Vec::new();
    let mut since_nav = Vec::new();
    for _ in 0..7 {
        d.goto(&format!("{}/pages/{small_id}/edit", node.base))
            .await;
        d.wait_for(
            "the editor",
            "return !!(window.CairnEditor && CairnEditor.editor && CairnEditor.editor.readyMs)",
        )
        .await;
        let v = d
            .js("return [CairnEditor.editor.readyMs, CairnEditor.editor.readyAt]")
            .await;
        mount.push(v[0].as_f64().unwrap());
        since_nav.push(v[1].as_f64().unwrap());
        let same = d
            .js("CairnEditor.editor.flush(); return document.querySelector('#body').value.length")
            .await;
        assert_eq!(same, json!(small.len()), "the editor holds the page");
    }

    // Keystroke to paint on the 1 MB page.
    d.goto(&format!("{}/pages/{big_id}/edit", node.base)).await;
    d.wait_for(
        "the editor",
        "return !!(window.CairnEditor && CairnEditor.editor && CairnEditor.editor.readyMs)",
    )
    .await;
    let big_ready = d.js("return CairnEditor.editor.readyMs").await;
    d.js("const v = CairnEditor.editor.view; v.focus();
          window.__samples = []; window.__long = []; window.__handled = [];
          new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__long.push(Math.round(e.duration)); }).observe({type: 'longtask'});
          let k0 = 0;
          window.__script = [];
          const dispatch = v.dispatch.bind(v);
          v.dispatch = (tr) => { const t = performance.now(); dispatch(tr); if (tr.docChanged) window.__script.push(performance.now() - t); };
          document.addEventListener('keydown', () => { k0 = performance.now(); }, true);
          document.addEventListener('input', () => window.__handled.push(performance.now() - k0), true);
          document.addEventListener('keydown', () => {
            const t0 = performance.now();
            requestAnimationFrame(() => {
              const ch = new MessageChannel();
              ch.port1.onmessage = () => window.__samples.push(performance.now() - t0);
              ch.port2.postMessage(0);
            });
          }, true);")
        .await;
    type_keys(&d).await;
    let samples = numbers(&d, "return window.__samples").await;
    eprintln!(
        "long tasks: {}; keydown to input handled: {}",
        d.js("return JSON.stringify(window.__long)").await,
        d.js("return JSON.stringify(window.__handled.map(Math.round))")
            .await
    );
    let script = numbers(&d, "return window.__script").await;
    let handled = numbers(&d, "return window.__handled").await;
    let ser: Value = d
        .js("const v = CairnEditor.editor.view; const t = [];
             for (let i = 0; i < 9; i++) { v.dispatch(v.state.tr.insertText('y')); const t0 = performance.now(); CairnEditor.editor.flush(); t.push(performance.now() - t0); }
             t.sort((a, b) => a - b); return t[4];")
        .await;

    // The floor on this machine: the same keys, timed the same way, in a
    // bare contenteditable holding one line.
    d.goto("data:text/html,<div contenteditable id=ce><p>hello</p></div>")
        .await;
    d.js(
        "document.getElementById('ce').focus(); window.__samples = [];
          document.addEventListener('keydown', () => {
            const t0 = performance.now();
            requestAnimationFrame(() => {
              const ch = new MessageChannel();
              ch.port1.onmessage = () => window.__samples.push(performance.now() - t0);
              ch.port2.postMessage(0);
            });
          }, true);",
    )
    .await;
    type_keys(&d).await;
    let floor = numbers(&d, "return window.__samples").await;

    let js = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../host/assets/editor.js"
    ))
    .unwrap();
    let css = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../host/assets/editor.css"
    ))
    .unwrap();
    let gz = |b: &[u8]| {
        let mut p = std::process::Command::new("gzip")
            .arg("-9c")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("gzip");
        p.stdin.take().unwrap().write_all(b).unwrap();
        p.wait_with_output().unwrap().stdout.len()
    };
    println!("| figure | value | goal |");
    println!("|---|---|---|");
    println!(
        "| editor ready on a {} KB page: mount (parse + first render), median of 7 | {:.0} ms | ≤ 300 ms |",
        small.len() / 1024,
        pct(&mount, 0.5)
    );
    println!(
        "| same, from navigation start to editable, median of 7 | {:.0} ms | |",
        pct(&since_nav, 0.5)
    );
    println!(
        "| editor ready on a {} KB page (mount) | {:.0} ms | |",
        big.len() / 1024,
        big_ready.as_f64().unwrap_or(-1.0)
    );
    println!(
        "| keystroke to paint on the {} KB page, p50 / p99 of {} keys | {:.1} / {:.1} ms | p99 ≤ 16 ms |",
        big.len() / 1024,
        samples.len(),
        pct(&samples, 0.5),
        pct(&samples, 0.99)
    );
    println!(
        "| the same keys in a bare contenteditable (this machine's floor), p50 / p99 of {} | {:.1} / {:.1} ms | |",
        floor.len(),
        pct(&floor, 0.5),
        pct(&floor, 0.99)
    );
    println!(
        "| of which keydown to `input` (keydown handlers and Chromium's editing step), p50 / p99 | {:.1} / {:.1} ms | |",
        pct(&handled, 0.5),
        pct(&handled, 0.99)
    );
    println!(
        "| of which the editor's script per key (transaction, plugins, view update), p50 / p99 | {:.1} / {:.1} ms | |",
        pct(&script, 0.5),
        pct(&script, 0.99)
    );
    println!(
        "| load average (1 min) at the end | {} | |",
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split(' ')
            .next()
            .unwrap_or("?")
    );
    println!(
        "| writing the {} KB document back to storage after an edit (debounced, off the keystroke) | {:.1} ms | |",
        big.len() / 1024,
        ser.as_f64().unwrap_or(-1.0)
    );
    println!(
        "| bundle editor.js + editor.css, raw / gzip -9 | {} KB / {} KB | gzip ≤ 400 KB |",
        (js.len() + css.len()) / 1024,
        (gz(&js) + gz(&css)) / 1024
    );
}
