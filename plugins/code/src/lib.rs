//! First-party plugin `cairn.code`: the `code` macro (syntax highlighted, optional line
//! numbers, title and collapsing) and `noformat`.
//!
//! Output keeps the structure of Cairn's former built-in rendering, so the stylesheet
//! keeps applying: `<div class="code-block">[<div class="code-title">…</div>]<pre><code
//! class="language-x">…</code></pre></div>`. Highlighted tokens are
//! `<span class="tok-…">`; with line numbers every line is
//! `<span class="line"><span class="ln">N</span>…</span>`.

use cairn_plugin_sdk::*;

mod lexer;

/// Bodies larger than this are shown without highlighting (keeps calls fast).
const MAX_HIGHLIGHT_BYTES: usize = 256 * 1024;
/// The host refuses macro output over 1 MiB: past this size the block is written again
/// with less markup (no highlighting, then no line numbers).
const MAX_OUTPUT_BYTES: usize = 1000 * 1000;

export_macros! {
    describe: specs(),
    render: |call, _ctx| render(&call),
}

fn specs() -> Vec<MacroSpec> {
    vec![
        MacroSpec::new("code", "Code block")
            .description("Shows source code with syntax highlighting")
            .body(BodyKind::PlainText)
            .cacheable(true)
            .param(ParamSpec::new(
                "language",
                "Language to highlight: java, python, js, bash, sql, xml, json, yaml, text …",
            ))
            .param(ParamSpec::new(
                "",
                "The language, when given as the unnamed parameter",
            ))
            .param(ParamSpec::new("title", "Title shown above the code"))
            .param(
                ParamSpec::new("linenumbers", "Show line numbers")
                    .of(ParamType::Boolean)
                    .default("false"),
            )
            .param(
                ParamSpec::new("firstline", "Number of the first line")
                    .of(ParamType::Int)
                    .default("1"),
            )
            .param(
                ParamSpec::new("collapse", "Collapse the code (click to expand)")
                    .of(ParamType::Boolean)
                    .default("false"),
            )
            .param(ParamSpec::new(
                "theme",
                "Colour theme (accepted for compatibility; ignored)",
            )),
        MacroSpec::new("noformat", "No format")
            .description("Shows preformatted text as written")
            .body(BodyKind::PlainText)
            .cacheable(true)
            .param(
                ParamSpec::new("nopanel", "Without the panel around the text")
                    .of(ParamType::Boolean)
                    .default("false"),
            ),
    ]
}

fn render(call: &MacroCall) -> Result<String, RenderError> {
    match call.name.to_ascii_lowercase().as_str() {
        "code" => Ok(code(call)),
        "noformat" => Ok(noformat(call)),
        other => Err(fail(format!("the code plugin has no macro \"{other}\""))),
    }
}

fn code(call: &MacroCall) -> String {
    let text = body_text(call);
    let written = call
        .param_nonempty("language")
        .or_else(|| call.param_nonempty(""));
    let class = written
        .map(|l| class_token(&l.to_ascii_lowercase()))
        .filter(|l| !l.is_empty());
    let lang = written.and_then(lexer::lookup);
    let first = match call.int("firstline", 1) {
        Ok(n) if (-1_000_000_000..=1_000_000_000).contains(&n) => n,
        _ => 1,
    };
    let numbers = call.flag("linenumbers").then_some(first);
    let collapse = call.flag("collapse");
    let title = call.param_nonempty("title");
    let html = |lang: Option<lexer::Lang>, numbers: Option<i64>| {
        code_html(&text, class.as_deref(), lang, numbers, collapse, title)
    };
    let out = html(lang, numbers);
    if out.len() <= MAX_OUTPUT_BYTES {
        return out;
    }
    let out = html(None, numbers);
    if out.len() <= MAX_OUTPUT_BYTES {
        return out;
    }
    html(None, None)
}

fn code_html(
    text: &str,
    class: Option<&str>,
    lang: Option<lexer::Lang>,
    numbers: Option<i64>,
    collapse: bool,
    title: Option<&str>,
) -> String {
    let mut out = String::with_capacity(text.len() * 2 + 128);
    out.push_str("<div class=\"code-block\">");
    if collapse {
        out.push_str("<details class=\"code-collapse\"><summary class=\"code-title\">");
        escape_into(&mut out, title.unwrap_or("Expand source"));
        out.push_str("</summary>");
    } else if let Some(t) = title {
        out.push_str("<div class=\"code-title\">");
        escape_into(&mut out, t);
        out.push_str("</div>");
    }
    match class {
        Some(c) => {
            out.push_str("<pre><code class=\"language-");
            out.push_str(c);
            out.push_str("\">");
        }
        None => out.push_str("<pre><code>"),
    }
    let toks = match lang {
        Some(l) if text.len() <= MAX_HIGHLIGHT_BYTES => lexer::highlight(l, text),
        _ => vec![lexer::Token {
            class: None,
            start: 0,
            end: text.len(),
        }],
    };
    emit(&mut out, text, &toks, numbers);
    out.push_str("</code></pre>");
    if collapse {
        out.push_str("</details>");
    }
    out.push_str("</div>");
    out
}

fn noformat(call: &MacroCall) -> String {
    let text = body_text(call);
    let mut out = String::with_capacity(text.len() + 48);
    if call.flag("nopanel") {
        out.push_str("<pre class=\"noformat nopanel\">");
    } else {
        out.push_str("<pre class=\"noformat\">");
    }
    escape_into(&mut out, &text);
    out.push_str("</pre>");
    out
}

/// The body as text: a plain body as written (line ends normalised), a rich body (where a
/// plain one belongs) reduced to its text.
fn body_text(call: &MacroCall) -> String {
    let raw = match call.body_kind {
        BodyKind::RichText => html_text(&call.body),
        _ => call.body.clone(),
    };
    if raw.contains('\r') {
        raw.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        raw
    }
}

/// Text of an HTML fragment: tags dropped, `<br>` and block ends as line breaks, the
/// common entities decoded.
fn html_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(p) = rest.find(['<', '&']) {
        out.push_str(&rest[..p]);
        rest = &rest[p..];
        if rest.starts_with('<') {
            let end = rest.find('>').map_or(rest.len(), |e| e + 1);
            let tag = rest[1..end.saturating_sub(1).max(1)].to_ascii_lowercase();
            let name = tag
                .trim_start_matches('/')
                .split([' ', '/', '\t', '\n'])
                .next()
                .unwrap_or("");
            if name == "br"
                || (tag.starts_with('/')
                    && matches!(
                        name,
                        "p" | "div" | "li" | "pre" | "tr" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6"
                    ))
            {
                out.push('\n');
            }
            rest = &rest[end..];
        } else {
            let end = rest.find(';').filter(|&e| e <= 10);
            let decoded = end.and_then(|e| decode_entity(&rest[1..e]));
            match (end, decoded) {
                (Some(e), Some(c)) => {
                    out.push(c);
                    rest = &rest[e + 1..];
                }
                _ => {
                    out.push('&');
                    rest = &rest[1..];
                }
            }
        }
    }
    out.push_str(rest);
    out.trim_end_matches('\n').to_string()
}

fn decode_entity(name: &str) -> Option<char> {
    Some(match name {
        "lt" => '<',
        "gt" => '>',
        "amp" => '&',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => '\u{a0}',
        _ => {
            let num = name.strip_prefix('#')?;
            let code = match num.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => num.parse().ok()?,
            };
            char::from_u32(code).filter(|&c| c != '\0')?
        }
    })
}

/// Writes the tokens as escaped HTML, a span per classed token and line (tokens spanning
/// lines are split so every element closes on its line); with `numbers`, each line is a
/// `line` span starting with its number.
fn emit(out: &mut String, src: &str, toks: &[lexer::Token], numbers: Option<i64>) {
    let mut line_no = numbers.unwrap_or(0);
    let mut line_open = false;
    let open_line = |out: &mut String, line_open: &mut bool, n: i64| {
        if !*line_open {
            out.push_str("<span class=\"line\"><span class=\"ln\">");
            out.push_str(&n.to_string());
            out.push_str("</span>");
            *line_open = true;
        }
    };
    for t in toks {
        let text = &src[t.start..t.end];
        let mut first = true;
        for piece in text.split('\n') {
            if !first {
                // A line break ends the current line.
                if numbers.is_some() {
                    open_line(out, &mut line_open, line_no);
                    out.push_str("</span>");
                    line_open = false;
                    line_no += 1;
                }
                out.push('\n');
            }
            first = false;
            if piece.is_empty() {
                continue;
            }
            if numbers.is_some() {
                open_line(out, &mut line_open, line_no);
            }
            match t.class {
                Some(c) => {
                    out.push_str("<span class=\"");
                    out.push_str(c);
                    out.push_str("\">");
                    escape_into(out, piece);
                    out.push_str("</span>");
                }
                None => escape_into(out, piece),
            }
        }
    }
    if line_open {
        out.push_str("</span>");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(name: &str, params: &[(&str, &str)], body: &str) -> MacroCall {
        MacroCall::new(name, params, BodyKind::PlainText, body)
    }

    fn html(name: &str, params: &[(&str, &str)], body: &str) -> String {
        render(&call(name, params, body)).unwrap()
    }

    #[test]
    fn plain_code_block_like_the_builtin() {
        assert_eq!(
            html("code", &[], "a < b"),
            "<div class=\"code-block\"><pre><code>a &lt; b</code></pre></div>"
        );
        assert_eq!(
            html("code", &[("title", "T"), ("language", "Klingon")], "x"),
            "<div class=\"code-block\"><div class=\"code-title\">T</div><pre><code class=\"language-klingon\">x</code></pre></div>"
        );
        assert_eq!(
            html("code", &[("", "text")], "fn <x>"),
            "<div class=\"code-block\"><pre><code class=\"language-text\">fn &lt;x&gt;</code></pre></div>"
        );
    }

    #[test]
    fn highlighted() {
        let h = html("code", &[("language", "rust")], "fn main() {}");
        assert!(
            h.contains("<span class=\"tok-kw\">fn</span> <span class=\"tok-fn\">main</span>"),
            "{h}"
        );
        let h = html("code", &[("language", "js")], "let s = \"<script>\";");
        assert!(
            h.contains("<span class=\"tok-str\">&quot;&lt;script&gt;&quot;</span>"),
            "{h}"
        );
        assert!(!h.contains("<script"), "{h}");
    }

    #[test]
    fn line_numbers() {
        let h = html(
            "code",
            &[
                ("language", "python"),
                ("linenumbers", "true"),
                ("firstline", "10"),
            ],
            "x = '''a\nb'''\n\ny\n",
        );
        assert!(h.contains("<span class=\"line\"><span class=\"ln\">10</span>x <span class=\"tok-op\">=</span> <span class=\"tok-str\">&#39;&#39;&#39;a</span></span>\n<span class=\"line\"><span class=\"ln\">11</span><span class=\"tok-str\">b&#39;&#39;&#39;</span></span>\n<span class=\"line\"><span class=\"ln\">12</span></span>\n<span class=\"line\"><span class=\"ln\">13</span>y</span>\n</code>"), "{h}");
        assert!(!h.contains("\">14<"), "{h}");
        // A bad first line falls back to 1.
        let h = html(
            "code",
            &[("linenumbers", "true"), ("firstline", "abc")],
            "a",
        );
        assert!(h.contains("<span class=\"ln\">1</span>a"), "{h}");
    }

    #[test]
    fn collapse_and_hostile_values() {
        let h = html(
            "code",
            &[
                ("collapse", "true"),
                ("title", "<script>alert(1)</script>"),
                ("language", "\"><script>"),
            ],
            "x",
        );
        assert!(h.starts_with("<div class=\"code-block\"><details class=\"code-collapse\"><summary class=\"code-title\">&lt;script&gt;alert(1)&lt;/script&gt;</summary><pre><code class=\"language-script\">"), "{h}");
        assert!(!h.contains("<script"), "{h}");
        let h = html("code", &[("collapse", "true")], "x");
        assert!(
            h.contains("<summary class=\"code-title\">Expand source</summary>"),
            "{h}"
        );
    }

    #[test]
    fn noformat() {
        assert_eq!(
            html("noformat", &[], "<b>x</b>"),
            "<pre class=\"noformat\">&lt;b&gt;x&lt;/b&gt;</pre>"
        );
        assert_eq!(
            html("noformat", &[("nopanel", "true")], "x"),
            "<pre class=\"noformat nopanel\">x</pre>"
        );
    }

    #[test]
    fn rich_body_becomes_text() {
        let mut c = call("code", &[], "");
        c.body_kind = BodyKind::RichText;
        c.body = "<p>a &lt; b</p><p>c&amp;d&#33;</p>".into();
        assert_eq!(
            render(&c).unwrap(),
            "<div class=\"code-block\"><pre><code>a &lt; b\nc&amp;d!</code></pre></div>"
        );
    }

    #[test]
    fn crlf_and_unknown_macro() {
        let h = html("code", &[("linenumbers", "true")], "a\r\nb");
        assert!(h.contains("\">1</span>a</span>\n<span class=\"line\"><span class=\"ln\">2</span>b</span></code>"), "{h}");
        assert!(render(&call("nope", &[], "")).is_err());
    }

    #[test]
    fn describe_names() {
        let names: Vec<String> = specs().into_iter().map(|s| s.name).collect();
        assert_eq!(names, ["code", "noformat"]);
    }

    #[test]
    fn big_blocks_stay_under_the_output_limit() {
        let line = "let x = a + b * (c - d) / \"s\"; // comment\n";
        let body = line.repeat(120_000 / line.len());
        let start = std::time::Instant::now();
        let h = html(
            "code",
            &[("language", "js"), ("linenumbers", "true")],
            &body,
        );
        assert!(start.elapsed().as_millis() < 2000);
        assert!(h.len() <= MAX_OUTPUT_BYTES, "{}", h.len());
        assert!(h.contains("<span class=\"tok-kw\">let</span>"));
        let huge = line.repeat(600_000 / line.len());
        let h = html(
            "code",
            &[("language", "js"), ("linenumbers", "true")],
            &huge,
        );
        assert!(h.len() <= MAX_OUTPUT_BYTES, "{}", h.len());
        assert!(!h.contains("tok-kw") && !h.contains("class=\"ln\""));
    }

    #[test]
    fn manifest_matches_describe() {
        check_manifest(include_str!("../cairn-plugin.toml"), &specs()).unwrap();
    }
}
