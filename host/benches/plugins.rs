//! Plugin call overhead and a page of plugin macros.
//!
//! Needs the first-party plugins built:
//!   (cd plugins && cargo build --release --target wasm32-wasip2)
//!   cargo bench -p cairn --bench plugins
//!
//! - `call/plugin-status`: one `status` macro call through the plugin — a fresh
//!   instance (pooling allocator, pre-linked) plus the call, output cache bypassed.
//! - `call/native-status`: the same macro rendered by `cairn-render`'s native
//!   built-in (a one-macro document: parse + render + sanitize).
//! - `page20/uncached`: a page with 20 plugin macro calls (info, status, code,
//!   expand, panel, excerpt, toc …) rendered through the host's two-pass
//!   plugin renderer with the output cache cleared before each iteration.
//! - `page20/cached`: the same page with the per-call output cache warm.
//! - `page20/native`: the same page with no plugins (the native built-ins).
//! - `page50code/uncached` and `/cached`: a page with 50 `code` macros (a
//!   dozen highlighted lines each) through the `code` plugin — the page-level
//!   plugin budget and single sanitizer pass are on this path.

use std::path::PathBuf;
use std::time::Duration;

use cairn::perms::Viewer;
use cairn::plugins::{Manifest, OutputTarget, PageContext, Plugins};
use criterion::{criterion_group, criterion_main, Criterion};

fn plugins_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../plugins")
}

fn load(plugins: &Plugins, krate: &str) -> std::sync::Arc<cairn::plugins::Registry> {
    let dir = plugins_dir().join(krate);
    let m =
        Manifest::parse(&std::fs::read_to_string(dir.join("cairn-plugin.toml")).unwrap()).unwrap();
    let bytes = std::fs::read(dir.join(m.component.as_ref().unwrap())).unwrap_or_else(|e| {
        panic!("{krate}: {e} — build the plugins first (see the file comment)")
    });
    plugins.standalone_registry(m, &bytes).unwrap()
}

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
    let plugins = Plugins::new(pool, &std::env::temp_dir().join("cairn-bench-shared"));
    let panels = load(&plugins, "panels");
    let toc = load(&plugins, "toc");
    let code = load(&plugins, "code");
    // One registry with both plugins' macros.
    let registry = {
        let reg = cairn::plugins::Registry::merged(&[&panels, &toc]);
        std::sync::Arc::new(reg)
    };
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
                .render_macro_with(&registry, &viewer, &page, &[], &call, false)
                .unwrap()
        })
    });
    g.bench_function("native-status", |b| {
        b.iter(|| cairn_render::render(status, &NoRefs).unwrap())
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
    g.bench_function("native", |b| {
        b.iter(|| cairn_render::render(&body, &NoRefs).unwrap())
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
            cairn::present::render_with_plugins(&body50, "BENCH", &plugins, &code, &viewer, &page)
                .unwrap()
        })
    });
    g.bench_function("cached", |b| {
        b.iter(|| {
            cairn::present::render_with_plugins(&body50, "BENCH", &plugins, &code, &viewer, &page)
                .unwrap()
        })
    });
    g.finish();
}

/// A context with nothing to resolve and no host macros.
struct NoRefs;
impl cairn_render::Context for NoRefs {
    fn current_space(&self) -> &str {
        "BENCH"
    }
    fn page(&self, _: &cairn_render::PageRef) -> Option<cairn_render::Link> {
        None
    }
    fn attachment(&self, _: &cairn_render::AttachmentRef) -> Option<cairn_render::Link> {
        None
    }
    fn user(&self, _: &str) -> Option<cairn_render::Link> {
        None
    }
    fn content(&self, _: i64) -> Option<cairn_render::Link> {
        None
    }
    fn space(&self, _: &str) -> Option<cairn_render::Link> {
        None
    }
    fn render_macro(&self, _: &cairn_render::MacroCall) -> Option<String> {
        None
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
