//! Every vector in `tests/xss/vectors.txt`, in every field that reaches HTML, must come
//! out inert.

use cairn_render::{render, sanitize, Context};

use crate::ctx::{HostileContext, TestContext};
use crate::inert::{assert_inert, cdata, esc, vectors};

/// Storage bodies with the vector in each field, labelled for failure messages.
fn bodies(v: &str) -> Vec<(&'static str, String)> {
    let e = esc(v);
    let c = cdata(v);
    let param = |macro_name: &str, p: &str| {
        format!(
            "<ac:structured-macro ac:name=\"{macro_name}\"><ac:parameter ac:name=\"{p}\">{e}</ac:parameter><ac:rich-text-body><p>b</p></ac:rich-text-body></ac:structured-macro>"
        )
    };
    vec![
        ("text", format!("<p>{e}</p>")),
        ("raw markup", format!("<p>{v}</p>")),
        ("href", format!("<p><a href=\"{e}\">x</a></p>")),
        ("style", format!("<p style=\"{e}\">x</p><span style=\"color: {e}\">y</span>")),
        ("title", format!("<p><a href=\"/x\" title=\"{e}\">x</a></p>")),
        ("class/id", format!("<p class=\"{e}\" id=\"{e}\">x</p>")),
        ("heading", format!("<h2>{e}</h2><ac:structured-macro ac:name=\"toc\"/>")),
        ("code title", param("code", "title")),
        ("code language", param("code", "language")),
        ("code default param", param("code", "")),
        ("info title", param("info", "title")),
        ("panel title", param("panel", "title")),
        ("panel bgColor", param("panel", "bgColor")),
        ("panel borderColor", param("panel", "borderColor")),
        ("panel titleColor", param("panel", "titleColor")),
        ("status colour", param("status", "colour")),
        ("status title", param("status", "title")),
        ("expand title", param("expand", "title")),
        ("anchor name", param("anchor", "")),
        ("toc params", param("toc", "maxLevel")),
        ("unknown macro name", format!("<ac:structured-macro ac:name=\"{e}\"/>")),
        (
            "code body",
            format!("<ac:structured-macro ac:name=\"code\"><ac:plain-text-body>{c}</ac:plain-text-body></ac:structured-macro>"),
        ),
        (
            "noformat body",
            format!("<ac:structured-macro ac:name=\"noformat\"><ac:plain-text-body>{c}</ac:plain-text-body></ac:structured-macro>"),
        ),
        (
            "plain link body",
            format!("<ac:link><ri:page ri:content-title=\"Home\"/><ac:plain-text-link-body>{c}</ac:plain-text-link-body></ac:link>"),
        ),
        (
            "rich link body",
            format!("<ac:link><ri:page ri:content-title=\"Home\"/><ac:link-body>{e}</ac:link-body></ac:link>"),
        ),
        ("page title", format!("<ac:link><ri:page ri:content-title=\"{e}\"/></ac:link>")),
        ("space key", format!("<ac:link><ri:page ri:space-key=\"{e}\" ri:content-title=\"Home\"/></ac:link>")),
        ("attachment filename", format!("<ac:link><ri:attachment ri:filename=\"{e}\"/></ac:link>")),
        ("url link", format!("<ac:link><ri:url ri:value=\"{e}\"/></ac:link>")),
        ("user key", format!("<ac:link><ri:user ri:userkey=\"{e}\"/></ac:link>")),
        ("anchor link", format!("<ac:link ac:anchor=\"{e}\"><ri:page ri:content-title=\"Home\"/></ac:link><ac:link ac:anchor=\"{e}\"/>")),
        ("shortcut", format!("<ac:link><ri:shortcut ri:key=\"{e}\" ri:parameter=\"{e}\"/></ac:link>")),
        ("emoticon name", format!("<ac:emoticon ac:name=\"{e}\"/>")),
        ("emoticon fallback", format!("<ac:emoticon ac:name=\"smile\" ac:emoji-fallback=\"{e}\"/>")),
        (
            "image attributes",
            format!("<ac:image ac:alt=\"{e}\" ac:title=\"{e}\" ac:width=\"{e}\" ac:align=\"{e}\" ac:layout=\"{e}\"><ri:attachment ri:filename=\"diagram.png\"/></ac:image>"),
        ),
        ("image url", format!("<ac:image><ri:url ri:value=\"{e}\"/></ac:image>")),
        ("image broken filename", format!("<ac:image><ri:attachment ri:filename=\"{e}\"/></ac:image>")),
        ("layout type", format!("<ac:layout><ac:layout-section ac:type=\"{e}\"><ac:layout-cell>{e}</ac:layout-cell></ac:layout-section></ac:layout>")),
        ("task body", format!("<ac:task-list><ac:task><ac:task-status>{e}</ac:task-status><ac:task-body>{e}</ac:task-body></ac:task></ac:task-list>")),
        ("host macro param", format!("<ac:structured-macro ac:name=\"host-greeting\"><ac:parameter ac:name=\"\">{e}</ac:parameter></ac:structured-macro>")),
    ]
}

/// A body that asks the context for every kind of target, for the hostile context.
const ALL_TARGETS: &str = "<h1>t</h1><p><ac:link><ri:page ri:content-title=\"a\"/></ac:link><ac:link ac:anchor=\"x\"><ri:blog-post ri:content-title=\"b\" ri:posting-day=\"2024/01/01\"/></ac:link><ac:link><ri:attachment ri:filename=\"c\"/></ac:link><ac:link><ri:user ri:userkey=\"d\"/></ac:link><ac:link><ri:space ri:space-key=\"e\"/></ac:link><ac:link><ri:content-entity ri:content-id=\"1\"/></ac:link><ac:image><ri:attachment ri:filename=\"f\"/></ac:image></p><ac:structured-macro ac:name=\"hostile\"/><ac:structured-macro ac:name=\"toc\"/>";

fn check_render(storage: &str, ctx: &dyn Context, label: &str) {
    // Ill-formed input is refused, which is safe; what renders must be inert.
    if let Ok(r) = render(storage, ctx) {
        assert_inert(&r.html, label);
        for h in &r.headings {
            // Anchors are used in href="#..." by the toc: they must not break out.
            assert!(
                !h.anchor.contains(['"', '<', '>']),
                "{label}: anchor {:?}",
                h.anchor
            );
        }
    }
}

#[test]
fn vectors_in_every_field_render_inert() {
    let vectors = vectors();
    let mut count = 0;
    for v in &vectors {
        for (field, body) in bodies(v) {
            check_render(&body, &TestContext, &format!("{field} <- {v}"));
            count += 1;
        }
        check_render(
            ALL_TARGETS,
            &HostileContext(v.clone()),
            &format!("hostile context <- {v}"),
        );
    }
    assert!(count > 60 * 30);
}

#[test]
fn vectors_through_sanitize_are_inert() {
    for v in vectors() {
        assert_inert(&sanitize(&v), &format!("sanitize <- {v}"));
        assert_inert(
            &sanitize(&format!("<p title=\"{v}\">{v}</p>")),
            &format!("sanitize wrapped <- {v}"),
        );
        assert_inert(
            &sanitize(&format!("<a href=\"{v}\">{v}</a>")),
            &format!("sanitize href <- {v}"),
        );
    }
}

#[test]
fn safe_markup_survives_sanitize() {
    let html =
        "<p style=\"color: red\"><a href=\"https://x.example/\">a</a> <strong>b</strong></p>";
    assert_eq!(
        sanitize(html),
        "<p style=\"color:red\"><a href=\"https://x.example/\" rel=\"noopener noreferrer\">a</a> <strong>b</strong></p>"
    );
}

#[test]
fn the_scanner_catches_what_it_should() {
    let bad = [
        "<a href=\"javascript:alert(1)\">x</a>",
        "<a href=\"&#x6a;avascript:alert(1)\">x</a>",
        "<p onclick=\"x\">x</p>",
        "<img src=\"data:text/html,x\">",
        "<p style=\"width: expression(1)\">x</p>",
    ];
    for b in bad {
        let caught = std::panic::catch_unwind(|| assert_inert(b, "probe")).is_err();
        assert!(caught, "scanner missed {b}");
    }
}
