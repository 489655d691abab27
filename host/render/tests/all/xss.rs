//! Every vector in `tests/xss/vectors.txt`, in every field that reaches HTML, must come
//! out inert.

use std::path::Path;

use cairn_render::{render, sanitize, Context};

use crate::ctx::{HostileContext, TestContext};

fn vectors() -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/xss/vectors.txt");
    let text = std::fs::read_to_string(path).expect("xss corpus");
    let v: Vec<String> = text
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    assert!(v.len() >= 60, "corpus too small: {}", v.len());
    v
}

/// XML-escapes a vector so it is a value, not markup, in the storage body.
fn esc(v: &str) -> String {
    v.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

fn cdata(v: &str) -> String {
    format!("<![CDATA[{}]]>", v.replace("]]>", "]]]]><![CDATA[>"))
}

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

/// Decodes the character references ammonia's serializer can produce.
fn decode(v: &str) -> String {
    let mut out = String::new();
    let mut rest = v;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest.find(';') else { break };
        let name = &rest[1..end];
        let decoded = if let Some(num) = name.strip_prefix("#x").or_else(|| name.strip_prefix("#X"))
        {
            u32::from_str_radix(num, 16)
                .ok()
                .and_then(char::from_u32)
                .map(String::from)
        } else if let Some(num) = name.strip_prefix('#') {
            num.parse().ok().and_then(char::from_u32).map(String::from)
        } else {
            let full = format!("&{name};");
            entities::ENTITIES
                .iter()
                .find(|e| e.entity == full)
                .map(|e| e.characters.to_owned())
        };
        match decoded {
            Some(d) => {
                out.push_str(&d);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Tags of `html` with their attributes (decoded), from a small HTML tag scanner.
fn tags(html: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut result = Vec::new();
    let bytes = html.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'<' {
            i += 1;
            continue;
        }
        i += 1;
        let start = i;
        while i < bytes.len()
            && !bytes[i].is_ascii_whitespace()
            && bytes[i] != b'>'
            && bytes[i] != b'/'
        {
            i += 1;
        }
        let name = html[start..i].to_ascii_lowercase();
        let mut attrs = Vec::new();
        loop {
            while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b'/') {
                i += 1;
            }
            if i >= bytes.len() || bytes[i] == b'>' {
                i += 1;
                break;
            }
            let s = i;
            while i < bytes.len()
                && !bytes[i].is_ascii_whitespace()
                && !matches!(bytes[i], b'=' | b'>')
            {
                i += 1;
            }
            let key = html[s..i].to_ascii_lowercase();
            let mut value = String::new();
            if i < bytes.len() && bytes[i] == b'=' {
                i += 1;
                let quote = bytes.get(i).copied();
                if matches!(quote, Some(b'"') | Some(b'\'')) {
                    i += 1;
                    let s = i;
                    while i < bytes.len() && Some(bytes[i]) != quote {
                        i += 1;
                    }
                    value = decode(&html[s..i.min(bytes.len())]);
                    i += 1;
                } else {
                    let s = i;
                    while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'>' {
                        i += 1;
                    }
                    value = decode(&html[s..i]);
                }
            }
            attrs.push((key, value));
        }
        result.push((name, attrs));
    }
    result
}

const FORBIDDEN_TAGS: &[&str] = &[
    "<script",
    "<iframe",
    "<object",
    "<embed",
    "<svg",
    "<math",
    "<style",
    "<form",
    "<base",
    "<meta",
    "<link",
    "<frame",
    "<applet",
    "<template",
    "<button",
    "<textarea",
    "<select",
];

/// Panics with `label` if `html` could run script or fetch something it should not.
fn assert_inert(html: &str, label: &str) {
    let lower = html.to_ascii_lowercase();
    for bad in FORBIDDEN_TAGS {
        assert!(!lower.contains(bad), "{label}: `{bad}` in output:\n{html}");
    }
    for (tag, attrs) in tags(html) {
        assert!(
            !FORBIDDEN_TAGS.iter().any(|f| f[1..] == *tag),
            "{label}: <{tag}> in output:\n{html}"
        );
        for (key, value) in attrs {
            assert!(
                !key.starts_with("on"),
                "{label}: event handler {key} in output:\n{html}"
            );
            let squashed: String = value
                .chars()
                .filter(|c| !c.is_whitespace() && !c.is_control())
                .collect::<String>()
                .to_ascii_lowercase();
            // Text-like attributes are never interpreted as URLs or CSS.
            if matches!(key.as_str(), "title" | "alt" | "id") {
                continue;
            }
            for bad in ["javascript:", "vbscript:"] {
                assert!(
                    !squashed.contains(bad),
                    "{label}: `{bad}` in {key}=\"{value}\":\n{html}"
                );
            }
            if key == "style" {
                for bad in ["expression(", "url(", "\\", "/*"] {
                    assert!(
                        !squashed.contains(bad),
                        "{label}: `{bad}` in style:\n{html}"
                    );
                }
            }
            if matches!(
                key.as_str(),
                "href" | "src" | "action" | "formaction" | "background"
            ) {
                assert!(
                    !squashed.starts_with("data:"),
                    "{label}: data: URL in {key}:\n{html}"
                );
            }
        }
    }
}

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
