//! Renders a realistic ~20 KB body 10,000 times and prints the mean time per render.
//! Run with `cargo run --release -p cairn-render --example render_bench`.

use std::time::Instant;

use cairn_render::{AttachmentRef, Context, Link, MacroCall, PageRef};

struct BenchContext;

impl Context for BenchContext {
    fn current_space(&self) -> &str {
        "DOC"
    }
    fn page(&self, r: &PageRef) -> Option<Link> {
        (r.title != "Runbook (old)").then(|| Link {
            url: format!("/spaces/DOC/pages/{}", r.title.len()),
            title: r.title.clone(),
        })
    }
    fn attachment(&self, r: &AttachmentRef) -> Option<Link> {
        (r.filename == "diagram.png").then(|| Link {
            url: "/download/attachments/1/diagram.png".into(),
            title: r.filename.clone(),
        })
    }
    fn user(&self, key: &str) -> Option<Link> {
        Some(Link {
            url: format!("/people/{key}"),
            title: "Ada Lovelace".into(),
        })
    }
    fn content(&self, id: i64) -> Option<Link> {
        Some(Link {
            url: format!("/pages/{id}"),
            title: "The Answer".into(),
        })
    }
    fn space(&self, key: &str) -> Option<Link> {
        Some(Link {
            url: format!("/spaces/{key}"),
            title: key.into(),
        })
    }
    fn render_macro(&self, _: &MacroCall) -> Option<String> {
        None
    }
}

fn main() {
    // The real-world test case (toc, panels, layout, tasks, code, table, links, images,
    // emoticons, entities), repeated with prose to about 20 KB.
    let section = include_str!("../tests/cases/real_world.xml");
    let prose = "<p>The deployment pipeline promotes a build through <strong>staging</strong> and \
                 <em>canary</em> before production&nbsp;&mdash; each step records its result in \
                 the <ac:link><ri:page ri:content-title=\"Release Log\"/></ac:link>.</p>";
    let mut body = String::new();
    while body.len() < 20_000 {
        body.push_str(section);
        body.push_str(prose);
        body.push_str(prose);
    }
    let ctx = BenchContext;
    let iterations = 10_000u32;
    let html_len = match cairn_render::render(&body, &ctx) {
        Ok(r) => r.html.len(),
        Err(e) => {
            eprintln!("benchmark body is ill-formed: {e}");
            std::process::exit(1);
        }
    };
    let start = Instant::now();
    for _ in 0..iterations {
        let r = cairn_render::render(std::hint::black_box(&body), &ctx);
        std::hint::black_box(r.ok());
    }
    let mean = start.elapsed() / iterations;
    // The sanitizer's share, measured on its own output (idempotent input).
    let html = cairn_render::render(&body, &ctx)
        .map(|r| r.html)
        .unwrap_or_default();
    let start = Instant::now();
    for _ in 0..iterations / 10 {
        std::hint::black_box(cairn_render::sanitize(std::hint::black_box(&html)));
    }
    let sanitize_mean = start.elapsed() / (iterations / 10);
    println!(
        "sanitize alone: mean {:.1} µs",
        sanitize_mean.as_secs_f64() * 1e6
    );
    println!(
        "render: {} bytes storage -> {html_len} bytes html, mean {:.1} µs over {iterations} runs",
        body.len(),
        mean.as_secs_f64() * 1e6
    );
}
