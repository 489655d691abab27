//! First-party plugin `cairn.toc`: the `toc` macro, built from the page's headings
//! (`context.headings`, in document order).
//!
//! The HTML is the one Cairn's former built-in renderer wrote: a nested
//! `<div class="toc"><ul><li><a href="#anchor">…</a>…</ul></div>`, or for `type=flat`
//! `<div class="toc toc-flat">` with the links in a row.

use cairn_plugin_sdk::*;

export_macros! {
    describe: specs(),
    render: |call, ctx| render(&call, &ctx.headings),
}

/// `style` values (CSS list-style-type names) the stylesheet knows.
const LIST_STYLES: &[&str] = &[
    "none",
    "disc",
    "circle",
    "square",
    "decimal",
    "decimal-leading-zero",
    "lower-alpha",
    "upper-alpha",
    "lower-latin",
    "upper-latin",
    "lower-roman",
    "upper-roman",
    "lower-greek",
];

fn specs() -> Vec<MacroSpec> {
    vec![MacroSpec::new("toc", "Table of contents")
        .description("Lists the headings of the page, linked to them")
        .cacheable(true)
        .param(
            ParamSpec::new("minLevel", "Highest heading level to list (1-6)")
                .of(ParamType::Int)
                .default("1"),
        )
        .param(
            ParamSpec::new("maxLevel", "Lowest heading level to list (1-6)")
                .of(ParamType::Int)
                .default("6"),
        )
        .param(
            ParamSpec::new("type", "A nested list or a flat row")
                .values(&["list", "flat"])
                .default("list"),
        )
        .param(
            ParamSpec::new("outline", "Number the entries (1, 1.1, 1.2 …)")
                .of(ParamType::Boolean)
                .default("false"),
        )
        .param(ParamSpec::new(
            "include",
            "Only headings matching this regular expression (or text)",
        ))
        .param(ParamSpec::new(
            "exclude",
            "Leave out headings matching this regular expression (or text)",
        ))
        .param(ParamSpec::new(
            "style",
            "List bullet style: none, disc, circle, square, decimal …",
        ))
        .param(ParamSpec::new(
            "indent",
            "Indentation of nested levels, e.g. 10px",
        ))
        .param(
            ParamSpec::new(
                "separator",
                "Between entries of a flat list: brackets, braces, parens, pipe, or any text",
            )
            .default("pipe"),
        )
        .param(ParamSpec::new(
            "class",
            "Extra CSS class of the table of contents",
        ))
        .param(
            ParamSpec::new("printable", "Accepted for compatibility; ignored")
                .of(ParamType::Boolean),
        )
        .param(
            ParamSpec::new("absoluteUrl", "Accepted for compatibility; ignored")
                .of(ParamType::Boolean),
        )]
}

/// A heading filter: a regular expression (case-insensitive, matching anywhere), or
/// plain text when the value is not a valid expression.
enum Filter {
    Re(regex_lite::Regex),
    Text(String),
}

impl Filter {
    fn new(pattern: &str) -> Filter {
        if pattern.len() <= 1000 {
            if let Ok(re) = regex_lite::RegexBuilder::new(pattern)
                .case_insensitive(true)
                .size_limit(1 << 20)
                .build()
            {
                return Filter::Re(re);
            }
        }
        Filter::Text(pattern.to_lowercase())
    }

    fn matches(&self, text: &str) -> bool {
        match self {
            Filter::Re(re) => re.is_match(text),
            Filter::Text(t) => text.to_lowercase().contains(t.as_str()),
        }
    }
}

fn level(call: &MacroCall, name: &str, default: u8) -> u8 {
    call.param_nonempty(name)
        .and_then(|v| v.parse::<i64>().ok())
        .map_or(default, |v| v.clamp(1, 6) as u8)
}

fn render(call: &MacroCall, headings: &[Heading]) -> Result<String, RenderError> {
    if !call.name.eq_ignore_ascii_case("toc") {
        return Err(fail(format!(
            "the toc plugin has no macro \"{}\"",
            call.name
        )));
    }
    let (mut min, mut max) = (level(call, "minLevel", 1), level(call, "maxLevel", 6));
    if min > max {
        std::mem::swap(&mut min, &mut max);
    }
    let include = call.param_nonempty("include").map(Filter::new);
    let exclude = call.param_nonempty("exclude").map(Filter::new);
    let items: Vec<&Heading> = headings
        .iter()
        .filter(|h| h.level >= min && h.level <= max)
        .filter(|h| include.as_ref().is_none_or(|f| f.matches(&h.text)))
        .filter(|h| !exclude.as_ref().is_some_and(|f| f.matches(&h.text)))
        .collect();
    let Some(base) = items.iter().map(|h| h.level).min() else {
        return Ok(String::new());
    };
    let numbers = call.flag("outline").then(|| outline_numbers(&items, base));
    let flat = call
        .param_nonempty("type")
        .is_some_and(|t| t.eq_ignore_ascii_case("flat"));

    let mut class = String::from(if flat { "toc toc-flat" } else { "toc" });
    if let Some(style) = call
        .param_nonempty("style")
        .map(str::to_ascii_lowercase)
        .filter(|s| LIST_STYLES.contains(&s.as_str()))
    {
        class.push_str(" toc-style-");
        class.push_str(&style);
    }
    if numbers.is_some() {
        class.push_str(" toc-outline");
    }
    for extra in call.param("class").unwrap_or_default().split_whitespace() {
        let token = class_token(extra);
        if !token.is_empty() {
            class.push(' ');
            class.push_str(&token);
        }
    }

    let entry = |out: &mut String, i: usize, h: &Heading| {
        if let Some(n) = &numbers {
            out.push_str("<span class=\"toc-number\">");
            out.push_str(&n[i]);
            out.push_str("</span> ");
        }
        out.push_str("<a href=\"#");
        escape_into(out, &h.anchor);
        out.push_str("\">");
        escape_into(out, &h.text);
        out.push_str("</a>");
    };

    let mut out = String::with_capacity(64 + items.len() * 64);
    out.push_str("<div class=\"");
    out.push_str(&class);
    out.push_str("\">");
    if flat {
        let (before, between, after) = separator(call.param("separator"));
        for (i, h) in items.iter().enumerate() {
            if i > 0 {
                out.push_str(&between);
            }
            out.push_str(before);
            entry(&mut out, i, h);
            out.push_str(after);
        }
        out.push_str("</div>");
        return Ok(out);
    }
    let nested_ul = match indent(call.param("indent")) {
        Some(px) => format!("<ul style=\"padding-left:{px};\">"),
        None => "<ul>".to_string(),
    };
    // The same nesting as the built-in renderer: a level skipped downwards gets an
    // item of its own holding the deeper list.
    out.push_str("<ul>");
    let mut current = base;
    let mut open_li = false;
    for (i, h) in items.iter().enumerate() {
        while current < h.level {
            if !open_li {
                out.push_str("<li>");
            }
            out.push_str(&nested_ul);
            current += 1;
            open_li = false;
        }
        while current > h.level {
            if open_li {
                out.push_str("</li>");
            }
            out.push_str("</ul>");
            current -= 1;
            open_li = true;
        }
        if open_li {
            out.push_str("</li>");
        }
        out.push_str("<li>");
        entry(&mut out, i, h);
        open_li = true;
    }
    if open_li {
        out.push_str("</li>");
    }
    while current > base {
        out.push_str("</ul></li>");
        current -= 1;
    }
    out.push_str("</ul></div>");
    Ok(out)
}

/// Text before each entry, between entries and after each entry of a flat list.
fn separator(v: Option<&str>) -> (&'static str, String, &'static str) {
    match v.map(str::trim).unwrap_or("").to_ascii_lowercase().as_str() {
        "" | "pipe" => ("", " | ".into(), ""),
        "brackets" => ("[ ", " ".into(), " ]"),
        "braces" => ("{ ", " ".into(), " }"),
        "parens" => ("( ", " ".into(), " )"),
        "comma" => ("", ", ".into(), ""),
        _ => ("", escape(v.unwrap_or_default()), ""),
    }
}

/// `indent` as a CSS length: digits with px/em (px when no unit), else None.
fn indent(v: Option<&str>) -> Option<String> {
    let v = v?.trim().to_ascii_lowercase();
    let (num, unit) = if let Some(n) = v.strip_suffix("px") {
        (n, "px")
    } else if let Some(n) = v.strip_suffix("em") {
        (n, "em")
    } else {
        (v.as_str(), "px")
    };
    let ok = !num.is_empty() && num.len() <= 3 && num.bytes().all(|b| b.is_ascii_digit());
    ok.then(|| format!("{num}{unit}"))
}

/// Outline numbers ("1", "1.1", "2" …) of the listed headings, following the nesting.
fn outline_numbers(items: &[&Heading], base: u8) -> Vec<String> {
    let mut counters: Vec<u32> = Vec::new();
    items
        .iter()
        .map(|h| {
            let depth = usize::from(h.level - base);
            if counters.len() <= depth {
                // Levels skipped on the way down count as one item each.
                counters.resize(depth, 1);
                counters.push(0);
            } else {
                counters.truncate(depth + 1);
            }
            counters[depth] += 1;
            counters
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(".")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(level: u8, text: &str) -> Heading {
        Heading {
            level,
            text: text.into(),
            anchor: text.replace(' ', "-"),
        }
    }

    fn call(params: &[(&str, &str)]) -> MacroCall {
        MacroCall::new("toc", params, BodyKind::None, "")
    }

    fn page() -> Vec<Heading> {
        vec![
            h(1, "Intro"),
            h(2, "Setup"),
            h(2, "Usage"),
            h(3, "Details"),
            h(1, "Appendix"),
        ]
    }

    #[test]
    fn nested_like_the_builtin() {
        assert_eq!(
            render(&call(&[]), &page()).unwrap(),
            "<div class=\"toc\"><ul><li><a href=\"#Intro\">Intro</a><ul><li><a href=\"#Setup\">Setup</a></li><li><a href=\"#Usage\">Usage</a><ul><li><a href=\"#Details\">Details</a></li></ul></li></ul></li><li><a href=\"#Appendix\">Appendix</a></li></ul></div>"
        );
    }

    #[test]
    fn levels_and_flat() {
        assert_eq!(
            render(&call(&[("minLevel", "2"), ("maxLevel", "2"), ("type", "flat")]), &page()).unwrap(),
            "<div class=\"toc toc-flat\"><a href=\"#Setup\">Setup</a> | <a href=\"#Usage\">Usage</a></div>"
        );
        assert_eq!(
            render(&call(&[("maxLevel", "1"), ("type", "flat"), ("separator", "brackets")]), &page()).unwrap(),
            "<div class=\"toc toc-flat\">[ <a href=\"#Intro\">Intro</a> ] [ <a href=\"#Appendix\">Appendix</a> ]</div>"
        );
        assert_eq!(
            render(&call(&[("maxLevel", "1"), ("type", "flat"), ("separator", " <b> ")]), &page()).unwrap(),
            "<div class=\"toc toc-flat\"><a href=\"#Intro\">Intro</a> &lt;b&gt; <a href=\"#Appendix\">Appendix</a></div>"
        );
        // Bad levels fall back; reversed levels are swapped.
        assert!(render(&call(&[("minLevel", "x")]), &page())
            .unwrap()
            .contains("Intro"));
        let r = render(&call(&[("minLevel", "3"), ("maxLevel", "2")]), &page()).unwrap();
        assert!(
            r.contains("Setup") && r.contains("Details") && !r.contains("Intro"),
            "{r}"
        );
        assert_eq!(render(&call(&[]), &[]).unwrap(), "");
    }

    #[test]
    fn filters() {
        let r = render(&call(&[("exclude", "^(setup|usage)$")]), &page()).unwrap();
        assert!(
            !r.contains("Setup") && !r.contains("Usage") && r.contains("Details"),
            "{r}"
        );
        let r = render(&call(&[("include", "app")]), &page()).unwrap();
        assert_eq!(
            r,
            "<div class=\"toc\"><ul><li><a href=\"#Appendix\">Appendix</a></li></ul></div>"
        );
        // Not a valid expression: plain text.
        let r = render(
            &call(&[("include", "Intro(")]),
            &[h(1, "Intro(duction"), h(1, "Other")],
        )
        .unwrap();
        assert!(r.contains("Intro(duction") && !r.contains("Other"), "{r}");
    }

    #[test]
    fn outline_style_class() {
        let r = render(
            &call(&[
                ("outline", "true"),
                ("style", "None"),
                ("class", "mine \"><x"),
                ("indent", "20px"),
            ]),
            &page(),
        )
        .unwrap();
        assert!(r.starts_with("<div class=\"toc toc-style-none toc-outline mine x\"><ul><li><span class=\"toc-number\">1</span> <a href=\"#Intro\">Intro</a><ul style=\"padding-left:20px;\"><li><span class=\"toc-number\">1.1</span>"), "{r}");
        assert!(
            r.contains("<span class=\"toc-number\">1.2.1</span> <a href=\"#Details\">"),
            "{r}"
        );
        assert!(
            r.contains("<span class=\"toc-number\">2</span> <a href=\"#Appendix\">"),
            "{r}"
        );
        let skipped = outline_numbers(&[&h(1, "a"), &h(3, "b"), &h(1, "c")], 1);
        assert_eq!(skipped, ["1", "1.1.1", "2"]);
    }

    #[test]
    fn hostile_heading_text() {
        let r = render(
            &call(&[]),
            &[Heading {
                level: 2,
                text: "<script>".into(),
                anchor: "a\"b".into(),
            }],
        )
        .unwrap();
        assert!(
            r.contains("<a href=\"#a&quot;b\">&lt;script&gt;</a>"),
            "{r}"
        );
    }

    #[test]
    fn manifest_matches_describe() {
        check_manifest(include_str!("../cairn-plugin.toml"), &specs()).unwrap();
    }
}
