//! Confluence wiki markup (bodies with `bodyType` 0, written before 4.0) to
//! storage format.
//!
//! Invariant: nothing is dropped. Constructs this converter knows become
//! their storage-format equivalent; a paragraph holding anything it does not
//! know is kept verbatim inside an `unmigrated-wiki-markup` macro (what
//! Confluence's own migration does) and named in the returned notes. The
//! output is always well-formed storage format.

use crate::content::xml_escape;

/// Block macros whose body is rich text and whose name Cairn renders.
const PANELS: &[&str] = &[
    "panel", "info", "note", "warning", "tip", "section", "column", "expand", "quote",
];

pub(crate) struct Converted {
    pub body: String,
    /// What could not be converted (kept as unmigrated wiki markup).
    pub notes: Vec<String>,
}

pub(crate) fn convert(src: &str) -> Converted {
    let mut out = String::with_capacity(src.len() + src.len() / 4);
    let mut notes = Vec::new();
    let lines: Vec<&str> = src.lines().collect();
    block(&lines, &mut out, &mut notes);
    Converted { body: out, notes }
}

fn cdata(s: &str) -> String {
    format!("<![CDATA[{}]]>", s.replace("]]>", "]]]]><![CDATA[>"))
}

fn unmigrated(text: &str, out: &mut String) {
    out.push_str("<ac:structured-macro ac:name=\"unmigrated-wiki-markup\"><ac:plain-text-body>");
    out.push_str(&cdata(text));
    out.push_str("</ac:plain-text-body></ac:structured-macro>");
}

/// `{name:params}` at the start of a line: (name, params).
fn macro_open(line: &str) -> Option<(&str, &str)> {
    let l = line.trim();
    let inner = l.strip_prefix('{')?.strip_suffix('}')?;
    let (name, params) = inner.split_once(':').unwrap_or((inner, ""));
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return None;
    }
    Some((name, params))
}

fn block(lines: &[&str], out: &mut String, notes: &mut Vec<String>) {
    let mut i = 0;
    let mut para: Vec<&str> = Vec::new();
    while i < lines.len() {
        let line = lines[i];
        let t = line.trim();
        if let Some((name, params)) = macro_open(t) {
            let close = format!("{{{name}}}");
            if let Some(end) = lines[i + 1..].iter().position(|l| l.trim() == close) {
                flush(&mut para, out, notes);
                let inner = &lines[i + 1..i + 1 + end];
                match name {
                    "code" | "noformat" => {
                        out.push_str(&format!("<ac:structured-macro ac:name=\"{name}\">"));
                        let lang = params.split('|').find(|p| !p.contains('=')).unwrap_or("");
                        if !lang.is_empty() && name == "code" {
                            out.push_str(&format!(
                                "<ac:parameter ac:name=\"language\">{}</ac:parameter>",
                                xml_escape(lang)
                            ));
                        }
                        out.push_str("<ac:plain-text-body>");
                        out.push_str(&cdata(&inner.join("\n")));
                        out.push_str("</ac:plain-text-body></ac:structured-macro>");
                    }
                    n if PANELS.contains(&n) => {
                        out.push_str(&format!("<ac:structured-macro ac:name=\"{n}\">"));
                        for p in params.split('|').filter(|p| !p.is_empty()) {
                            if let Some((k, v)) = p.split_once('=') {
                                out.push_str(&format!(
                                    "<ac:parameter ac:name=\"{}\">{}</ac:parameter>",
                                    xml_escape(k.trim()),
                                    xml_escape(v.trim())
                                ));
                            }
                        }
                        out.push_str("<ac:rich-text-body>");
                        block(inner, out, notes);
                        out.push_str("</ac:rich-text-body></ac:structured-macro>");
                    }
                    other => {
                        notes.push(format!("macro {{{other}}}"));
                        unmigrated(&lines[i..i + 2 + end].join("\n"), out);
                    }
                }
                i += end + 2;
                continue;
            }
        }
        if t.is_empty() {
            flush(&mut para, out, notes);
        } else if let Some((n, rest)) = heading(t) {
            flush(&mut para, out, notes);
            out.push_str(&format!("<h{n}>"));
            inline_or_keep(rest, out, notes);
            out.push_str(&format!("</h{n}>"));
        } else if t == "----" {
            flush(&mut para, out, notes);
            out.push_str("<hr />");
        } else if let Some(rest) = t.strip_prefix("bq. ") {
            flush(&mut para, out, notes);
            out.push_str("<blockquote><p>");
            inline_or_keep(rest, out, notes);
            out.push_str("</p></blockquote>");
        } else if is_list(t) {
            flush(&mut para, out, notes);
            let start = i;
            while i < lines.len() && is_list(lines[i].trim()) {
                i += 1;
            }
            list(&lines[start..i], out, notes);
            continue;
        } else if t.starts_with('|') {
            flush(&mut para, out, notes);
            let start = i;
            while i < lines.len() && lines[i].trim().starts_with('|') {
                i += 1;
            }
            table(&lines[start..i], out, notes);
            continue;
        } else {
            para.push(line);
        }
        i += 1;
    }
    flush(&mut para, out, notes);
}

fn heading(t: &str) -> Option<(u8, &str)> {
    let b = t.as_bytes();
    if b.len() >= 4 && b[0] == b'h' && (b'1'..=b'6').contains(&b[1]) && b[2] == b'.' && b[3] == b' '
    {
        Some((b[1] - b'0', &t[4..]))
    } else {
        None
    }
}

fn is_list(t: &str) -> bool {
    let marks = t
        .chars()
        .take_while(|c| *c == '*' || *c == '#' || *c == '-')
        .count();
    marks > 0 && t[marks..].starts_with(' ') && !(marks == 1 && t.starts_with('-') && t.len() < 3)
}

fn list(lines: &[&str], out: &mut String, notes: &mut Vec<String>) {
    let mut stack: Vec<char> = Vec::new();
    for l in lines {
        let t = l.trim();
        let marks: Vec<char> = t
            .chars()
            .take_while(|c| *c == '*' || *c == '#' || *c == '-')
            .collect();
        let text = &t[marks.len()..].trim_start();
        let want: Vec<char> = marks
            .iter()
            .map(|c| if *c == '#' { '#' } else { '*' })
            .collect();
        // Close lists deeper than this item or of another kind.
        let mut common = 0;
        while common < stack.len() && common < want.len() && stack[common] == want[common] {
            common += 1;
        }
        while stack.len() > common {
            let k = stack.pop().unwrap_or('*');
            out.push_str(if k == '#' { "</li></ol>" } else { "</li></ul>" });
        }
        if stack.len() == want.len() && !stack.is_empty() {
            out.push_str("</li>");
        }
        while stack.len() < want.len() {
            let k = want[stack.len()];
            out.push_str(if k == '#' { "<ol>" } else { "<ul>" });
            stack.push(k);
            if stack.len() < want.len() {
                out.push_str("<li>");
            }
        }
        out.push_str("<li>");
        inline_or_keep(text, out, notes);
    }
    while let Some(k) = stack.pop() {
        out.push_str(if k == '#' { "</li></ol>" } else { "</li></ul>" });
    }
}

fn table(lines: &[&str], out: &mut String, notes: &mut Vec<String>) {
    out.push_str("<table><tbody>");
    for l in lines {
        let t = l.trim();
        out.push_str("<tr>");
        let header = t.starts_with("||");
        let sep = if header { "||" } else { "|" };
        let inner = t.trim_start_matches('|').trim_end_matches('|');
        for cell in inner.split(sep) {
            let tag = if header { "th" } else { "td" };
            out.push_str(&format!("<{tag}>"));
            inline_or_keep(cell.trim(), out, notes);
            out.push_str(&format!("</{tag}>"));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
}

fn flush(para: &mut Vec<&str>, out: &mut String, notes: &mut Vec<String>) {
    if para.is_empty() {
        return;
    }
    out.push_str("<p>");
    let text = para.join("\n");
    inline_or_keep(&text, out, notes);
    out.push_str("</p>");
    para.clear();
}

/// Inline markup, or the text kept verbatim when it holds something unknown.
fn inline_or_keep(text: &str, out: &mut String, notes: &mut Vec<String>) {
    match inline(text) {
        Ok(s) => out.push_str(&s),
        Err(what) => {
            notes.push(what);
            unmigrated(text, out);
        }
    }
}

fn inline(text: &str) -> Result<String, String> {
    let mut o = String::with_capacity(text.len() + 16);
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let mut open: Vec<char> = Vec::new();
    while i < chars.len() {
        let c = chars[i];
        let prev = if i > 0 { chars[i - 1] } else { ' ' };
        let next = chars.get(i + 1).copied().unwrap_or(' ');
        match c {
            '\\' if next == '\\' => {
                o.push_str("<br />");
                i += 2;
                continue;
            }
            '\\' if i + 1 < chars.len() => {
                o.push_str(&xml_escape(&next.to_string()));
                i += 2;
                continue;
            }
            '\n' => o.push_str("<br />"),
            '*' | '_' => {
                let tag = if c == '*' { "strong" } else { "em" };
                if open.last() == Some(&c) && !prev.is_whitespace() {
                    open.pop();
                    o.push_str(&format!("</{tag}>"));
                } else if !next.is_whitespace()
                    && !prev.is_alphanumeric()
                    && chars[i + 1..].contains(&c)
                {
                    open.push(c);
                    o.push_str(&format!("<{tag}>"));
                } else {
                    o.push(c);
                }
            }
            '{' if next == '{' => {
                let rest: String = chars[i + 2..].iter().collect();
                let end = rest.find("}}").ok_or("an unclosed {{monospace}}")?;
                o.push_str("<code>");
                o.push_str(&xml_escape(&rest[..end]));
                o.push_str("</code>");
                i += 2 + rest[..end].chars().count() + 2;
                continue;
            }
            '{' => {
                let rest: String = chars[i + 1..].iter().collect();
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                    .collect();
                return Err(format!("inline macro {{{name}}}"));
            }
            '[' => {
                let rest: String = chars[i + 1..].iter().collect();
                let end = rest.find(']').ok_or("an unclosed [link]")?;
                o.push_str(&link(&rest[..end])?);
                i += 1 + rest[..end].chars().count() + 1;
                continue;
            }
            '!' if next != ' ' && chars[i + 1..].contains(&'!') => {
                let rest: String = chars[i + 1..].iter().collect();
                let end = rest.find('!').unwrap_or(0);
                let target = &rest[..end];
                let name = target.split('|').next().unwrap_or("").trim();
                if name.is_empty() || name.contains(char::is_whitespace) {
                    o.push('!');
                } else if name.starts_with("http://") || name.starts_with("https://") {
                    o.push_str(&format!(
                        "<ac:image><ri:url ri:value=\"{}\" /></ac:image>",
                        xml_escape(name)
                    ));
                    i += 1 + end + 1;
                    continue;
                } else {
                    o.push_str(&format!(
                        "<ac:image><ri:attachment ri:filename=\"{}\" /></ac:image>",
                        xml_escape(name)
                    ));
                    i += 1 + end + 1;
                    continue;
                }
            }
            c => o.push_str(&xml_escape(&c.to_string())),
        }
        i += 1;
    }
    // Unbalanced emphasis: close what is open so the output stays well-formed.
    while let Some(c) = open.pop() {
        o.push_str(if c == '*' { "</strong>" } else { "</em>" });
    }
    Ok(o)
}

fn link(inner: &str) -> Result<String, String> {
    let (alias, target) = match inner.split_once('|') {
        Some((a, t)) => (Some(a.trim()), t.trim()),
        None => (None, inner.trim()),
    };
    let body = |default: &str| xml_escape(alias.unwrap_or(default));
    if target.starts_with("http://")
        || target.starts_with("https://")
        || target.starts_with("mailto:")
    {
        return Ok(format!(
            "<a href=\"{}\">{}</a>",
            xml_escape(target),
            body(target)
        ));
    }
    if target.starts_with('~')
        || target.starts_with('^')
        || target.starts_with('#')
        || target.is_empty()
    {
        return Err(format!("link [{inner}]"));
    }
    let (space, title) = match target.split_once(':') {
        Some((s, t)) if !s.contains(' ') => (Some(s), t),
        _ => (None, target),
    };
    let title = title.split('#').next().unwrap_or(title);
    let mut s = String::from("<ac:link><ri:page");
    if let Some(k) = space {
        s.push_str(&format!(" ri:space-key=\"{}\"", xml_escape(k)));
    }
    s.push_str(&format!(" ri:content-title=\"{}\" />", xml_escape(title)));
    if let Some(a) = alias {
        s.push_str(&format!(
            "<ac:plain-text-link-body>{}</ac:plain-text-link-body>",
            cdata(a)
        ));
    }
    s.push_str("</ac:link>");
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(src: &str, want: &str) {
        let c = convert(src);
        assert_eq!(c.body, want);
        cairn_render::check(&c.body).expect("well-formed");
    }

    #[test]
    fn converts_common_markup() {
        check("h1. Title\nSome *bold* and _it_ & {{x<y}}.", "<h1>Title</h1><p>Some <strong>bold</strong> and <em>it</em> &amp; <code>x&lt;y</code>.</p>");
        check(
            "* a\n** b\n* c",
            "<ul><li>a<ul><li>b</li></ul></li><li>c</li></ul>",
        );
        check("||h||i||\n|1|[Other Page]|", "<table><tbody><tr><th>h</th><th>i</th></tr><tr><td>1</td><td><ac:link><ri:page ri:content-title=\"Other Page\" /></ac:link></td></tr></tbody></table>");
        check("{code:java}\nint a = b[0]]>1;\n{code}", "<ac:structured-macro ac:name=\"code\"><ac:parameter ac:name=\"language\">java</ac:parameter><ac:plain-text-body><![CDATA[int a = b[0]]]]><![CDATA[>1;]]></ac:plain-text-body></ac:structured-macro>");
    }

    #[test]
    fn keeps_what_it_does_not_know() {
        let c = convert("before\n\n{jira:KEY-1} text");
        assert!(c.body.contains("unmigrated-wiki-markup"));
        assert!(c.body.contains("{jira:KEY-1} text"));
        assert_eq!(c.notes, vec!["inline macro {jira}".to_string()]);
        cairn_render::check(&c.body).expect("well-formed");
    }
}
