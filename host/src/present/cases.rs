//! The standard macros as a page renders them: through the first-party
//! plugins embedded in this binary (their only home), with the renderer's
//! contexts and expectations (moved from `host/render/tests/cases`).
//!
//! `plugins/cases/render/NAME.xml` renders to `NAME.html` (the HTML one block
//! per line, then the headings); `UPDATE_EXPECT=1` rewrites the expected
//! files (review the diff before committing).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::{render_blocking, resolve::Resolved, PluginPart};
use crate::perms::Viewer;
use crate::plugins::{OutputTarget, PageContext, Plugins, Registry};
use cairn_render::{AttachmentRef, PageRef};

#[allow(dead_code)]
#[path = "../../render/tests/all/inert.rs"]
mod inert;

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins/cases/render")
}

/// One engine and the embedded plugins, compiled once for the test process.
fn plugins() -> &'static (Plugins, Registry) {
    static P: OnceLock<(Plugins, Registry)> = OnceLock::new();
    P.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let _g = rt.enter();
        let pool = crate::db::pool("postgres://nobody@127.0.0.1:1/none", 1).unwrap();
        let plugins = Plugins::new(pool, &std::env::temp_dir().join("cairn-cases-shared"))
            .expect("the plugin engine");
        let registry = plugins.embedded_registry().expect("embedded plugins load");
        (plugins, registry)
    })
}

/// The renderer tests' context (`host/render/tests/all/ctx.rs`): "Home" and
/// "Design Notes" (DEV) exist, blog post "Launch" of 2024/01/15, attachment
/// "diagram.png" on the current page, user "u1", content 42, space DEV.
fn resolved() -> Resolved {
    let l = |u: &str, t: &str| (u.to_string(), t.to_string());
    let page = |space: Option<&str>, title: &str, day: Option<&str>| PageRef {
        space_key: space.map(str::to_string),
        title: title.to_string(),
        posting_day: day.map(str::to_string),
    };
    let mut r = Resolved {
        current_space: "DOC".into(),
        current_page: Some(1),
        ..Resolved::default()
    };
    for space in [None, Some("DOC")] {
        r.pages
            .insert(page(space, "Home", None), l("/spaces/DOC/pages/1", "Home"));
        r.pages.insert(
            page(space, "Launch", Some("2024/01/15")),
            l("/spaces/DOC/blog/2024/01/15/Launch", "Launch"),
        );
    }
    r.pages.insert(
        page(Some("DEV"), "Design Notes", None),
        l("/spaces/DEV/pages/7", "Design Notes"),
    );
    r.attachments.insert(
        AttachmentRef {
            filename: "diagram.png".into(),
            container: None,
        },
        l("/download/attachments/1/diagram.png", "diagram.png"),
    );
    r.users.insert("u1".into(), l("/people/u1", "Ada Lovelace"));
    r.contents.insert(42, l("/pages/42", "The Answer"));
    r.spaces
        .insert("DEV".into(), l("/spaces/DEV", "Development"));
    r
}

fn render(storage: &str) -> Result<cairn_render::Rendered, cairn_render::SyntaxError> {
    let (plugins, registry) = plugins();
    let page = PageContext {
        page_id: Some(1),
        title: "Case".into(),
        page_type: "page".into(),
        space_key: "DOC".into(),
        version: 1,
        target: OutputTarget::View,
    };
    let viewer = Viewer::anonymous();
    let with = PluginPart {
        plugins,
        registry,
        viewer: &viewer,
        page: &page,
        host: None,
    };
    render_blocking(storage, &resolved(), Some(with), None).map(|(r, _)| r)
}

fn actual(input: &str) -> String {
    match render(input) {
        Ok(r) => {
            let mut s = pretty(&r.html);
            s.push('\n');
            for h in r.headings {
                let _ = writeln!(s, "<!-- h{} #{} {} -->", h.level, h.anchor, h.text);
            }
            s
        }
        Err(e) => format!("ERROR {e}\n"),
    }
}

/// One block per line, as the renderer's case files are written.
fn pretty(html: &str) -> String {
    let mut s = html.to_owned();
    for end in [
        "</p>",
        "</div>",
        "</h1>",
        "</h2>",
        "</h3>",
        "</h4>",
        "</h5>",
        "</h6>",
        "</li>",
        "</tr>",
        "</table>",
        "</ul>",
        "</ol>",
        "</pre>",
        "</details>",
        "</blockquote>",
        "<hr>",
    ] {
        s = s.replace(end, &format!("{end}\n"));
    }
    s.trim_end().to_owned()
}

#[test]
fn standard_macros_render_through_the_embedded_plugins() {
    let update = std::env::var_os("UPDATE_EXPECT").is_some_and(|v| v == "1");
    let mut entries: Vec<_> = std::fs::read_dir(cases_dir())
        .expect("plugins/cases/render exists")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
        .collect();
    entries.sort();
    assert!(entries.len() >= 14, "found {} cases", entries.len());
    let mut failures = String::new();
    for input_path in &entries {
        let input = std::fs::read_to_string(input_path).expect("readable case");
        let expected_path = input_path.with_extension("html");
        let got = actual(&input);
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if got == expected {
            continue;
        }
        if update {
            std::fs::write(&expected_path, &got).expect("write expected");
        } else {
            let _ = writeln!(
                failures,
                "=== {}\n--- expected\n{expected}\n--- got\n{got}",
                input_path.display()
            );
        }
    }
    assert!(failures.is_empty(), "{failures}");
}

/// Every XSS vector in every parameter and body of the standard macros
/// renders inert through the plugins (moved from the renderer's XSS test).
#[test]
fn xss_vectors_in_standard_macro_fields_render_inert() {
    let fields: &[(&str, &str)] = &[
        ("code", "title"),
        ("code", "language"),
        ("code", ""),
        ("info", "title"),
        ("panel", "title"),
        ("panel", "bgColor"),
        ("panel", "borderColor"),
        ("panel", "titleColor"),
        ("status", "colour"),
        ("status", "title"),
        ("expand", "title"),
        ("anchor", ""),
        ("toc", "maxLevel"),
    ];
    let mut count = 0;
    for v in inert::vectors() {
        let e = inert::esc(&v);
        let c = inert::cdata(&v);
        let mut bodies: Vec<(String, String)> = fields
            .iter()
            .map(|(m, p)| {
                (
                    format!("{m} {p:?}"),
                    format!("<ac:structured-macro ac:name=\"{m}\"><ac:parameter ac:name=\"{p}\">{e}</ac:parameter><ac:rich-text-body><p>b</p></ac:rich-text-body></ac:structured-macro>"),
                )
            })
            .collect();
        bodies.push((
            "heading in a toc".into(),
            format!("<h2>{e}</h2><ac:structured-macro ac:name=\"toc\"/>"),
        ));
        for m in ["code", "noformat"] {
            bodies.push((
                format!("{m} body"),
                format!("<ac:structured-macro ac:name=\"{m}\"><ac:plain-text-body>{c}</ac:plain-text-body></ac:structured-macro>"),
            ));
        }
        for (field, body) in bodies {
            let label = format!("{field} <- {v}");
            if let Ok(r) = render(&body) {
                assert!(!r.html.contains("macro-error"), "{label}: {}", r.html);
                inert::assert_inert(&r.html, &label);
            }
            count += 1;
        }
    }
    assert!(count > 60 * 16);
}

/// Markdown's fenced code becomes a code macro the code plugin renders
/// (moved from the renderer's Markdown test).
#[test]
fn converted_markdown_code_renders_through_the_code_plugin() {
    let storage = cairn_render::markdown_to_storage("```rust\nfn main() {}\n```\n");
    let html = render(&storage).expect("renders").html;
    assert!(
        html.contains("<pre><code class=\"language-rust\"><span class=\"tok-kw\">fn</span>"),
        "{html}"
    );
}
