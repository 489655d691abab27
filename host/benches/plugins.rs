//! Plugin call overhead and pages of standard macros, which the first-party
//! plugins embedded in the binary render (their only home).
//!
//!   cargo bench -p cairn --bench plugins
//!
//! - `call/plugin-status`: one `status` macro call through the plugin — a fresh
//!   instance (pooling allocator, pre-linked) plus the call, output cache bypassed.
//! - `page20/uncached`: a page with 20 standard macro calls (info, status,
//!   expand, panel, excerpt, toc …) rendered through the host's two-pass
//!   plugin renderer with the output cache cleared before each iteration.
//! - `page20/cached`: the same page with the per-call output cache warm.
//! - `page50code/uncached` and `/cached`: a page with 50 `code` macros (a
//!   dozen highlighted lines each) through the `code` plugin — the page-level
//!   plugin budget and single sanitizer pass are on this path.
//!
//! Before the native built-ins were removed this bench also measured
//! `call/native-status` and `page20/native` (BENCHMARKS.md keeps the figures).

use std::time::Duration;

use cairn::perms::Viewer;
use cairn::plugins::{OutputTarget, PageContext, Plugins};
use criterion::{criterion_group, criterion_main, Criterion};

fn page_body() -> String {
    let mut b = String::from("<ac:structured-macro ac:name=\"toc\"/>");
    for i in 0..4 {
        b.push_str(&format!(
            "<h2>Section {i}</h2><ac:structured-macro ac:name=\"info\"><ac:parameter ac:name=\"title\">Note {i}</ac:parameter><ac:rich-text-body><p>Body text with <strong>markup</strong> {i}.</p></ac:rich-text-body></ac:structured-macro>\
             <p>Status <ac:structured-macro ac:name=\"status\"><ac:parameter ac:name=\"colour\">Green</ac:parameter><ac:parameter ac:name=\"title\">Done {i}</ac:parameter></ac:structured-macro></p>\
             <ac:structured-macro ac:name=\"expand\"><ac:parameter ac:name=\"title\">More {i}</ac:parameter><ac:rich-text-body><p>Hidden {i}</p></ac:rich-text-body></ac:structured-macro>\
             <ac:structured-macro ac:name=\"panel\"><ac:parameter ac:name=\"title\">Panel {i}</ac:parameter><ac:rich-text-body><p>P {i}</p></ac:rich-text-body></ac:structured-macro>"
        ));
    }
    // 1 toc + 4 × 4 above = 17; three more = 20.
    b.push_str("<ac:structured-macro ac:name=\"note\"><ac:rich-text-body><p>n</p></ac:rich-text-body></ac:structured-macro>");
    b.push_str("<ac:structured-macro ac:name=\"tip\"><ac:rich-text-body><p>t</p></ac:rich-text-body></ac:structured-macro>");
    b.push_str("<ac:structured-macro ac:name=\"excerpt\"><ac:rich-text-body><p>e</p></ac:rich-text-body></ac:structured-macro>");
    b
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let _guard = rt.enter();
    let pool = cairn::db::pool("postgres://nobody@127.0.0.1:1/none", 1).unwrap();
    let plugins = Plugins::new(pool, &std::env::temp_dir().join("cairn-bench-shared"))
        .expect("the plugin engine");
    // Every embedded first-party plugin, as a node installs them.
    let registry = std::sync::Arc::new(plugins.embedded_registry().unwrap());
    let viewer = Viewer::anonymous();
    let page = PageContext {
        page_id: Some(1),
        title: "Bench".into(),
        page_type: "page".into(),
        space_key: "BENCH".into(),
        version: 1,
        target: OutputTarget::View,
    };
    let status = "<ac:structured-macro ac:name=\"status\"><ac:parameter ac:name=\"colour\">Green</ac:parameter><ac:parameter ac:name=\"title\">Done</ac:parameter></ac:structured-macro>";
    let call = cairn_render::references(status).unwrap().macros.remove(0);

    let mut g = c.benchmark_group("call");
    g.measurement_time(Duration::from_secs(5));
    g.bench_function("plugin-status", |b| {
        b.iter(|| {
            plugins
                .render_macro(&registry, &viewer, &page, &[], &call, None, false)
                .unwrap()
        })
    });
    g.finish();

    let body = page_body();
    let mut g = c.benchmark_group("page20");
    g.measurement_time(Duration::from_secs(5));
    g.bench_function("uncached", |b| {
        b.iter(|| {
            plugins.clear_output_cache();
            cairn::present::render_with_plugins(&body, "BENCH", &plugins, &registry, &viewer, &page)
                .unwrap()
        })
    });
    g.bench_function("cached", |b| {
        b.iter(|| {
            cairn::present::render_with_plugins(&body, "BENCH", &plugins, &registry, &viewer, &page)
                .unwrap()
        })
    });
    g.finish();

    let snippet = "fn main() {\n    let xs = vec![1, 2, 3];\n    for x in &xs {\n        println!(\"{x}\");\n    }\n    // a comment\n    let s = \"text <b>&</b>\";\n    match xs.len() {\n        0 => {}\n        n => eprintln!(\"{n}\"),\n    }\n}\n";
    let body50: String = (0..50)
        .map(|i| {
            format!(
                "<p>Block {i}</p><ac:structured-macro ac:name=\"code\"><ac:parameter ac:name=\"language\">rust</ac:parameter><ac:plain-text-body><![CDATA[{snippet}]]></ac:plain-text-body></ac:structured-macro>"
            )
        })
        .collect();
    let mut g = c.benchmark_group("page50code");
    g.measurement_time(Duration::from_secs(8));
    g.sample_size(30);
    g.bench_function("uncached", |b| {
        b.iter(|| {
            plugins.clear_output_cache();
            cairn::present::render_with_plugins(
                &body50, "BENCH", &plugins, &registry, &viewer, &page,
            )
            .unwrap()
        })
    });
    g.bench_function("cached", |b| {
        b.iter(|| {
            cairn::present::render_with_plugins(
                &body50, "BENCH", &plugins, &registry, &viewer, &page,
            )
            .unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
