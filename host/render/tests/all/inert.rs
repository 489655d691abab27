//! What "inert" means for rendered HTML, and the XSS corpus: shared by the
//! renderer's tests and the host's tests of the first-party macro plugins
//! (`host/src/present/cases.rs` includes this file).

/// The vectors of `tests/xss/vectors.txt`.
pub fn vectors() -> Vec<String> {
    let text = include_str!("../xss/vectors.txt");
    let v: Vec<String> = text
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    assert!(v.len() >= 60, "corpus too small: {}", v.len());
    v
}

/// XML-escapes a vector so it is a value, not markup, in the storage body.
pub fn esc(v: &str) -> String {
    v.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

pub fn cdata(v: &str) -> String {
    format!("<![CDATA[{}]]>", v.replace("]]>", "]]]]><![CDATA[>"))
}

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
pub fn assert_inert(html: &str, label: &str) {
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
