//! First-party plugin `cairn.page-properties`: `details` (page properties: a table of
//! keys and values in a page) and `detailssummary` (page properties report: the
//! properties of every page with a label, one row per page, one column per key).
//!
//! The report reads the pages through the `content` capability as the viewer, so a page
//! the viewer may not see never gives a row. Values are shown as text (with a status
//! lozenge's title and a date's value); every value is escaped. A third-party author could
//! write the same plugin: it needs nothing but `content.with-labels` and `content.get`.

use cairn_plugin_sdk::content::{self, ContentSummary};
use cairn_plugin_sdk::*;

mod parse;

use parse::{properties_of, PropertyTable};

export_macros! {
    describe: specs(),
    render: |call, ctx| render(&call, &ctx),
}

/// Most pages one report lists.
const MAX_PAGES: i64 = 200;

fn specs() -> Vec<MacroSpec> {
    vec![
        MacroSpec::new("details", "Page properties")
            .description("Key-value properties of this page (a two-column table), which a page properties report collects")
            .body(BodyKind::RichText)
            .cacheable(true)
            .param(ParamSpec::new("id", "Name this set of properties, for a report that reads only it"))
            .param(ParamSpec::new("hidden", "Hide the table on this page (reports still show it)").of(ParamType::Boolean).default("false")),
        MacroSpec::new("detailssummary", "Page properties report")
            .description("A table of the page properties of the pages with a label")
            .cacheable(true)
            .param(ParamSpec::new("label", "Pages with this label").of(ParamType::Label))
            .param(ParamSpec::new("labels", "Pages with any of these labels (comma separated)").of(ParamType::Label))
            .param(ParamSpec::new("spaces", "Space keys, comma separated; @self for this space, @all for all (default: this space)").of(ParamType::Space))
            .param(ParamSpec::new("cql", "A CQL query of label and space clauses, instead of labels and spaces"))
            .param(ParamSpec::new("firstcolumn", "Heading of the page column").default("Title"))
            .param(ParamSpec::new("headings", "The properties to show, comma separated (default: all)"))
            .param(ParamSpec::new("sortBy", "A property, or title, creation or modified (default: modified)"))
            .param(ParamSpec::new("reverseSort", "Reverse the order").of(ParamType::Boolean).default("false"))
            .param(ParamSpec::new("pageSize", "Most pages to list").of(ParamType::Int).default("30"))
            .param(ParamSpec::new("id", "Read only the page properties with this id")),
    ]
}

fn render(call: &MacroCall, ctx: &RenderContext) -> Result<String, RenderError> {
    match call.name.to_ascii_lowercase().as_str() {
        "details" => Ok(if call.flag("hidden") {
            String::new()
        } else {
            format!("<div class=\"page-properties\">{}</div>", call.body)
        }),
        "detailssummary" => report(call, ctx),
        other => Err(fail(format!(
            "the page-properties plugin has no macro \"{other}\""
        ))),
    }
}

fn list(v: &str) -> Vec<String> {
    v.split(',')
        .map(|s| s.trim().trim_matches('"').to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Labels and spaces of a `cql` parameter: `label = "a"`, `label in ("a", "b")`,
/// `space = "X"`, `space in (…)`, `space = currentSpace()`, joined by AND or OR. Anything
/// else is refused, never widened.
fn parse_cql(cql: &str, ctx: &RenderContext) -> Result<(Vec<String>, Vec<String>), RenderError> {
    let mut labels = Vec::new();
    let mut spaces = Vec::new();
    let bad = |what: &str| {
        RenderError::InvalidParameter((
            "cql".into(),
            format!("the report understands only label and space clauses, not {what:?}"),
        ))
    };
    let text = cql.replace(['(', ')'], " ");
    let mut words = text.split_whitespace().peekable();
    while let Some(w) = words.next() {
        let field = w.to_ascii_lowercase();
        if field == "and" || field == "or" {
            continue;
        }
        if field != "label" && field != "space" && field != "labeltext" {
            return Err(bad(w));
        }
        let op = words.next().ok_or_else(|| bad(w))?.to_ascii_lowercase();
        let mut values = Vec::new();
        match op.as_str() {
            "=" => values.push(words.next().ok_or_else(|| bad(w))?.to_owned()),
            "in" => {
                while let Some(v) = words.peek() {
                    let lower = v.to_ascii_lowercase();
                    if lower == "and" || lower == "or" {
                        break;
                    }
                    values.extend(list(v));
                    words.next();
                }
            }
            other => return Err(bad(other)),
        }
        for v in values {
            let v = v.trim_matches(['"', '\'', ',']).to_owned();
            if v.is_empty() {
                continue;
            }
            if field == "space" {
                spaces.push(if v.eq_ignore_ascii_case("currentspace") {
                    ctx.space_key.clone()
                } else {
                    v
                });
            } else {
                labels.push(v.to_lowercase());
            }
        }
    }
    Ok((labels, spaces))
}

struct Row {
    page: ContentSummary,
    props: PropertyTable,
}

fn report(call: &MacroCall, ctx: &RenderContext) -> Result<String, RenderError> {
    let (mut labels, mut spaces) = match call.param_nonempty("cql") {
        Some(cql) => parse_cql(cql, ctx)?,
        None => (Vec::new(), Vec::new()),
    };
    for p in ["label", "labels"] {
        labels.extend(
            call.param(p)
                .map(list)
                .unwrap_or_default()
                .into_iter()
                .map(|l| l.to_lowercase()),
        );
    }
    if labels.is_empty() {
        return Err(RenderError::InvalidParameter((
            "label".into(),
            "name the label of the pages to report on".into(),
        )));
    }
    if call.param_nonempty("cql").is_none() || spaces.is_empty() {
        match call.param_nonempty("spaces").map(str::trim) {
            Some("@all") | Some("*") => spaces.clear(),
            None | Some("@self") | Some("currentSpace()") => spaces = vec![ctx.space_key.clone()],
            Some(v) => {
                spaces = list(v)
                    .into_iter()
                    .map(|s| {
                        if s == "@self" {
                            ctx.space_key.clone()
                        } else {
                            s
                        }
                    })
                    .collect()
            }
        }
    }
    let max = call.int("pageSize", 30)?.clamp(1, MAX_PAGES) as usize;
    let want_id = call.param_nonempty("id");
    let mut pages: Vec<ContentSummary> = Vec::new();
    for l in &labels {
        for p in content::with_labels(std::slice::from_ref(l), &spaces, MAX_PAGES as u32) {
            if Some(p.id) != ctx.page_id && !pages.iter().any(|q| q.id == p.id) {
                pages.push(p);
            }
        }
    }
    let mut rows: Vec<Row> = Vec::new();
    for p in pages {
        let Some(full) = content::get(p.id) else {
            continue;
        };
        let props = properties_of(&full.body, want_id);
        if props.is_empty() {
            continue;
        }
        rows.push(Row { page: p, props });
    }
    // The columns: the headings asked for, or every key in first-seen order.
    let columns: Vec<String> = match call.param_nonempty("headings") {
        Some(h) => list(h),
        None => {
            let mut keys: Vec<String> = Vec::new();
            for r in &rows {
                for (k, _) in &r.props {
                    if !keys.iter().any(|x| x.eq_ignore_ascii_case(k)) {
                        keys.push(k.clone());
                    }
                }
            }
            keys
        }
    };
    let value = |r: &Row, key: &str| -> String {
        r.props
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    match call.param_nonempty("sortBy").unwrap_or("modified") {
        s if s.eq_ignore_ascii_case("title") => rows.sort_by_key(|r| r.page.title.to_lowercase()),
        s if s.eq_ignore_ascii_case("creation") || s.eq_ignore_ascii_case("created") => {
            rows.sort_by(|a, b| b.page.created.cmp(&a.page.created))
        }
        s if s.eq_ignore_ascii_case("modified") => {
            rows.sort_by(|a, b| b.page.last_modified.cmp(&a.page.last_modified))
        }
        key => rows.sort_by_key(|r| value(r, key).to_lowercase()),
    }
    if call.flag("reverseSort") {
        rows.reverse();
    }
    rows.truncate(max);
    if rows.is_empty() {
        return Ok("<p class=\"macro-empty\">No pages with page properties match.</p>".into());
    }
    let mut out = String::from("<table class=\"details-summary sortable\"><thead><tr><th>");
    escape_into(
        &mut out,
        call.param_nonempty("firstcolumn").unwrap_or("Title"),
    );
    out.push_str("</th>");
    for c in &columns {
        out.push_str("<th>");
        escape_into(&mut out, c);
        out.push_str("</th>");
    }
    out.push_str("</tr></thead><tbody>");
    for r in &rows {
        out.push_str("<tr><td><a href=\"");
        escape_into(&mut out, &r.page.url);
        out.push_str("\">");
        escape_into(&mut out, &r.page.title);
        out.push_str("</a></td>");
        for c in &columns {
            out.push_str("<td>");
            escape_into(&mut out, &value(r, c));
            out.push_str("</td>");
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> RenderContext {
        RenderContext {
            page_id: Some(1),
            page_title: "Index".into(),
            page_type: "page".into(),
            space_key: "DEV".into(),
            page_version: 1,
            viewer: None,
            target: OutputTarget::View,
            headings: Vec::new(),
            base_url: String::new(),
        }
    }

    #[test]
    fn the_manifest_lists_what_describe_gives() {
        check_manifest(include_str!("../cairn-plugin.toml"), &specs()).unwrap();
    }

    #[test]
    fn cql_gives_labels_and_spaces_or_a_refusal() {
        let (l, s) = parse_cql("label = \"decisions\" and space = currentSpace()", &ctx()).unwrap();
        assert_eq!(
            (l, s),
            (vec!["decisions".to_string()], vec!["DEV".to_string()])
        );
        let (l, s) =
            parse_cql("label in (\"a\", \"b\") AND space in (\"X\",\"Y\")", &ctx()).unwrap();
        assert_eq!(l, ["a", "b"]);
        assert_eq!(s, ["X", "Y"]);
        assert!(parse_cql("creator = currentUser()", &ctx()).is_err());
        assert!(parse_cql("label ~ x", &ctx()).is_err());
    }

    #[test]
    fn a_hidden_table_shows_nothing_here() {
        let c = MacroCall::new(
            "details",
            &[("hidden", "true")],
            BodyKind::RichText,
            "<table/>",
        );
        assert_eq!(render(&c, &ctx()).unwrap(), "");
        let c = MacroCall::new("details", &[], BodyKind::RichText, "<table></table>");
        assert_eq!(
            render(&c, &ctx()).unwrap(),
            "<div class=\"page-properties\"><table></table></div>"
        );
    }
}
