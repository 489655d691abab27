//! First-party plugin `cairn.panels`: the boxes and markers of Confluence pages — `info`,
//! `note`, `warning`, `tip`, `panel`, `expand`, `status`, `anchor` and `excerpt`.
//!
//! The HTML is the one Cairn's former built-in renderer wrote (the stylesheet targets it).
//! Rich bodies arrive rendered; they are inserted as they are (the host sanitizes the
//! result). Every parameter value is escaped; colours and border settings only reach a
//! `style` attribute after validation.

use cairn_plugin_sdk::*;

/// Lozenge colours of `status` (the first is the fallback).
const STATUS_COLOURS: [&str; 6] = ["grey", "red", "yellow", "green", "blue", "purple"];
const BORDER_STYLES: [&str; 5] = ["solid", "dashed", "dotted", "double", "none"];

export_macros! {
    describe: specs(),
    render: |call, _ctx| render(&call),
}

fn title_param() -> ParamSpec {
    ParamSpec::new("title", "Title")
}

fn specs() -> Vec<MacroSpec> {
    let mut v = Vec::new();
    for (name, title) in [
        ("info", "Info"),
        ("note", "Note"),
        ("warning", "Warning"),
        ("tip", "Tip"),
    ] {
        v.push(
            MacroSpec::new(name, title)
                .description("A coloured box around its content")
                .body(BodyKind::RichText)
                .cacheable(true)
                .param(title_param())
                .param(
                    ParamSpec::new("icon", "Show the icon (accepted; not shown)")
                        .of(ParamType::Boolean)
                        .default("true"),
                ),
        );
    }
    v.push(
        MacroSpec::new("panel", "Panel")
            .description("A box with a configurable border, background and title")
            .body(BodyKind::RichText)
            .cacheable(true)
            .param(title_param())
            .param(ParamSpec::new("borderStyle", "Border style").values(&BORDER_STYLES))
            .param(
                ParamSpec::new("borderColor", "Border colour (#rgb, #rrggbb or a name)")
                    .of(ParamType::Colour),
            )
            .param(ParamSpec::new("borderWidth", "Border width in pixels").of(ParamType::Int))
            .param(ParamSpec::new("bgColor", "Background colour").of(ParamType::Colour))
            .param(
                ParamSpec::new("titleBGColor", "Background colour of the title")
                    .of(ParamType::Colour),
            )
            .param(ParamSpec::new("titleColor", "Text colour of the title").of(ParamType::Colour)),
    );
    v.push(
        MacroSpec::new("expand", "Expand")
            .description("Content hidden until the reader clicks its title")
            .body(BodyKind::RichText)
            .cacheable(true)
            .param(ParamSpec::new(
                "title",
                "Text to click (default: Click here to expand...)",
            )),
    );
    v.push(
        MacroSpec::new("status", "Status")
            .description("A coloured lozenge")
            .inline()
            .cacheable(true)
            .param(
                ParamSpec::new("colour", "Colour")
                    .values(&["Grey", "Red", "Yellow", "Green", "Blue", "Purple"])
                    .default("Grey"),
            )
            .param(
                ParamSpec::new("color", "Colour (American spelling)")
                    .values(&["Grey", "Red", "Yellow", "Green", "Blue", "Purple"]),
            )
            .param(ParamSpec::new("title", "Text (default: the colour's name)"))
            .param(
                ParamSpec::new("subtle", "Outlined instead of filled")
                    .of(ParamType::Boolean)
                    .default("false"),
            ),
    );
    v.push(
        MacroSpec::new("anchor", "Anchor")
            .description("A target for links to #name")
            .inline()
            .cacheable(true)
            .param(ParamSpec::new("", "The anchor's name").required()),
    );
    v.push(
        MacroSpec::new("excerpt", "Excerpt")
            .description("Marks the part of the page that excerpt-include shows")
            .body(BodyKind::RichText)
            .cacheable(true)
            .param(
                ParamSpec::new("hidden", "Don't show the excerpt on this page")
                    .of(ParamType::Boolean)
                    .default("false"),
            )
            .param(
                ParamSpec::new("atlassian-macro-output-type", "BLOCK or INLINE")
                    .values(&["BLOCK", "INLINE"]),
            )
            .param(ParamSpec::new(
                "name",
                "Name of the excerpt (for pages with several)",
            )),
    );
    v
}

fn render(call: &MacroCall) -> Result<String, RenderError> {
    let name = call.name.to_ascii_lowercase();
    let mut out = String::with_capacity(call.body.len() + 128);
    match name.as_str() {
        "info" | "note" | "warning" | "tip" => {
            out.push_str("<div class=\"panel panel-");
            out.push_str(&name);
            out.push_str("\">");
            if let Some(t) = call.param_nonempty("title") {
                out.push_str("<div class=\"panel-title\">");
                escape_into(&mut out, t);
                out.push_str("</div>");
            }
            out.push_str("<div class=\"panel-body\">");
            out.push_str(&call.body);
            out.push_str("</div></div>");
        }
        "panel" => panel(&mut out, call),
        "expand" => {
            out.push_str("<details class=\"expand\"><summary>");
            escape_into(
                &mut out,
                call.param_nonempty("title")
                    .unwrap_or("Click here to expand..."),
            );
            out.push_str("</summary><div class=\"expand-body\">");
            out.push_str(&call.body);
            out.push_str("</div></details>");
        }
        "status" => {
            let written = call
                .param_nonempty("colour")
                .or_else(|| call.param_nonempty("color"));
            let colour = STATUS_COLOURS
                .iter()
                .find(|c| written.is_some_and(|w| w.eq_ignore_ascii_case(c)))
                .copied()
                .unwrap_or(STATUS_COLOURS[0]);
            out.push_str("<span class=\"status status-");
            out.push_str(colour);
            if call.flag("subtle") {
                out.push_str(" status-subtle");
            }
            out.push_str("\">");
            match call.param_nonempty("title") {
                Some(t) => escape_into(&mut out, t),
                None => out.push_str(&colour.to_ascii_uppercase()),
            }
            out.push_str("</span>");
        }
        "anchor" => {
            if let Some(id) = call.param_nonempty("") {
                out.push_str("<span class=\"anchor\" id=\"");
                escape_into(&mut out, id);
                out.push_str("\"></span>");
            }
        }
        "excerpt" => {
            if !call.flag("hidden") {
                let inline = match call.param_nonempty("atlassian-macro-output-type") {
                    Some(t) if t.eq_ignore_ascii_case("inline") => true,
                    Some(t) if t.eq_ignore_ascii_case("block") => false,
                    _ => call.is_inline(),
                };
                let tag = if inline { "span" } else { "div" };
                out.push('<');
                out.push_str(tag);
                out.push_str(" class=\"excerpt\">");
                out.push_str(&call.body);
                out.push_str("</");
                out.push_str(tag);
                out.push('>');
            }
        }
        other => return Err(fail(format!("the panels plugin has no macro \"{other}\""))),
    }
    Ok(out)
}

/// Colours accepted in panel parameters: `#rgb`/`#rrggbb` or a plain colour keyword.
/// Anything else is dropped (it never reaches the style attribute).
fn safe_colour(v: Option<&str>) -> Option<&str> {
    let v = v?.trim();
    let ok = match v.strip_prefix('#') {
        Some(hex) => matches!(hex.len(), 3 | 6) && hex.bytes().all(|b| b.is_ascii_hexdigit()),
        None => !v.is_empty() && v.len() <= 24 && v.bytes().all(|b| b.is_ascii_alphabetic()),
    };
    ok.then_some(v)
}

fn panel(out: &mut String, call: &MacroCall) {
    let p = |k: &str| call.param(k);
    let mut style = String::new();
    if let Some(c) = safe_colour(p("borderColor")) {
        style.push_str(&format!("border-color:{c};"));
    }
    if let Some(c) = safe_colour(p("bgColor")) {
        style.push_str(&format!("background-color:{c};"));
    }
    if let Some(s) = p("borderStyle")
        .map(str::trim)
        .and_then(|s| BORDER_STYLES.iter().find(|b| b.eq_ignore_ascii_case(s)))
    {
        style.push_str(&format!("border-style:{s};"));
    }
    if let Some(w) = p("borderWidth")
        .map(|w| w.trim().trim_end_matches("px"))
        .filter(|w| !w.is_empty() && w.len() <= 2 && w.bytes().all(|b| b.is_ascii_digit()))
    {
        style.push_str(&format!("border-width:{w}px;"));
    }
    out.push_str("<div class=\"panel panel-custom\"");
    if !style.is_empty() {
        out.push_str(" style=\"");
        escape_into(out, &style);
        out.push('"');
    }
    out.push('>');
    if let Some(t) = call.param_nonempty("title") {
        let mut tstyle = String::new();
        if let Some(c) = safe_colour(p("titleBGColor")) {
            tstyle.push_str(&format!("background-color:{c};"));
        }
        if let Some(c) = safe_colour(p("titleColor")) {
            tstyle.push_str(&format!("color:{c};"));
        }
        out.push_str("<div class=\"panel-title\"");
        if !tstyle.is_empty() {
            out.push_str(" style=\"");
            escape_into(out, &tstyle);
            out.push('"');
        }
        out.push('>');
        escape_into(out, t);
        out.push_str("</div>");
    }
    out.push_str("<div class=\"panel-body\">");
    out.push_str(&call.body);
    out.push_str("</div></div>");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(name: &str, params: &[(&str, &str)], body: &str) -> MacroCall {
        let kind = if body.is_empty() {
            BodyKind::None
        } else {
            BodyKind::RichText
        };
        MacroCall::new(name, params, kind, body)
    }

    fn html(name: &str, params: &[(&str, &str)], body: &str) -> String {
        render(&call(name, params, body)).unwrap()
    }

    #[test]
    fn boxes() {
        assert_eq!(
            html("info", &[("title", "T")], "<p>B</p>"),
            "<div class=\"panel panel-info\"><div class=\"panel-title\">T</div><div class=\"panel-body\"><p>B</p></div></div>"
        );
        assert_eq!(
            html("Warning", &[("title", " ")], "x"),
            "<div class=\"panel panel-warning\"><div class=\"panel-body\">x</div></div>"
        );
        assert!(html("tip", &[("title", "<script>x</script>")], "")
            .contains("&lt;script&gt;x&lt;/script&gt;"));
    }

    #[test]
    fn custom_panel() {
        assert_eq!(
            html(
                "panel",
                &[
                    ("title", "T"),
                    ("borderColor", "#ccc"),
                    ("bgColor", "red;position:fixed"),
                    ("borderStyle", "Dashed"),
                    ("borderWidth", "2px"),
                    ("titleBGColor", "#112233"),
                    ("titleColor", "url(x)"),
                ],
                "b"
            ),
            "<div class=\"panel panel-custom\" style=\"border-color:#ccc;border-style:dashed;border-width:2px;\"><div class=\"panel-title\" style=\"background-color:#112233;\">T</div><div class=\"panel-body\">b</div></div>"
        );
        assert_eq!(
            html("panel", &[], "b"),
            "<div class=\"panel panel-custom\"><div class=\"panel-body\">b</div></div>"
        );
    }

    #[test]
    fn expand_status_anchor() {
        assert_eq!(
            html("expand", &[], "b"),
            "<details class=\"expand\"><summary>Click here to expand...</summary><div class=\"expand-body\">b</div></details>"
        );
        assert_eq!(
            html("status", &[("colour", "Green"), ("title", "Done")], ""),
            "<span class=\"status status-green\">Done</span>"
        );
        assert_eq!(
            html("status", &[("color", "BLUE"), ("subtle", "true")], ""),
            "<span class=\"status status-blue status-subtle\">BLUE</span>"
        );
        assert_eq!(
            html("status", &[("colour", "Pink\"><script>")], ""),
            "<span class=\"status status-grey\">GREY</span>"
        );
        assert_eq!(
            html("anchor", &[("", "top\"x")], ""),
            "<span class=\"anchor\" id=\"top&quot;x\"></span>"
        );
        assert_eq!(html("anchor", &[], ""), "");
    }

    #[test]
    fn excerpt() {
        assert_eq!(
            html("excerpt", &[], "<p>x</p>"),
            "<div class=\"excerpt\"><p>x</p></div>"
        );
        assert_eq!(html("excerpt", &[("hidden", "true")], "<p>x</p>"), "");
        assert_eq!(
            html("excerpt", &[("atlassian-macro-output-type", "INLINE")], "x"),
            "<span class=\"excerpt\">x</span>"
        );
        let mut c = call("excerpt", &[], "x");
        c.output = OutputKind::Inline;
        assert_eq!(render(&c).unwrap(), "<span class=\"excerpt\">x</span>");
    }

    #[test]
    fn describe_names() {
        let names: Vec<String> = specs().into_iter().map(|s| s.name).collect();
        assert_eq!(
            names,
            ["info", "note", "warning", "tip", "panel", "expand", "status", "anchor", "excerpt"]
        );
    }

    #[test]
    fn manifest_matches_describe() {
        check_manifest(include_str!("../cairn-plugin.toml"), &specs()).unwrap();
    }
}
