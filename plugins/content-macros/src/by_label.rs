//! `contentbylabel`: pages by labels, spaces and types, from the
//! macro's parameters or its `cql`.
//!
//! Invariant: a query the macro cannot express to the host is refused
//! with a message in the page, never widened.

use crate::*;

use cairn_plugin_sdk::content::ContentSummary;
use store::Store;

/// Labels of a `cql` parameter: the values of its `label` clauses, and whether they are
/// joined with AND; also its `space` and `type` values.
pub(super) struct CqlParts {
    pub(super) labels: Vec<String>,
    pub(super) and: bool,
    pub(super) spaces: Vec<String>,
    pub(super) types: Vec<String>,
}

pub(super) fn parse_cql(cql: &str) -> CqlParts {
    // Tokens: quoted strings, words, and the punctuation that matters.
    let mut toks: Vec<(String, bool)> = Vec::new();
    let mut chars = cql.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c == '"' || c == '\'' {
            chars.next();
            let mut v = String::new();
            while let Some(d) = chars.next() {
                if d == '\\' {
                    if let Some(e) = chars.next() {
                        v.push(e);
                    }
                } else if d == c {
                    break;
                } else {
                    v.push(d);
                }
            }
            toks.push((v, true));
        } else if c.is_whitespace() || c == ',' || c == '(' || c == ')' {
            chars.next();
        } else if c == '=' || c == '!' || c == '~' {
            let mut v = String::new();
            while let Some(&d) = chars.peek() {
                if d == '=' || d == '!' || d == '~' {
                    v.push(d);
                    chars.next();
                } else {
                    break;
                }
            }
            toks.push((v, false));
        } else {
            let mut v = String::new();
            while let Some(&d) = chars.peek() {
                if d.is_whitespace() || matches!(d, ',' | '(' | ')' | '=' | '!' | '~' | '"' | '\'')
                {
                    break;
                }
                v.push(d);
                chars.next();
            }
            toks.push((v, false));
        }
    }
    let mut parts = CqlParts {
        labels: Vec::new(),
        and: false,
        spaces: Vec::new(),
        types: Vec::new(),
    };
    let mut field: Option<String> = None;
    let mut last_join_and = false;
    let mut label_clauses = 0;
    for (t, quoted) in toks {
        let lower = t.to_ascii_lowercase();
        if !quoted && matches!(lower.as_str(), "and" | "or") {
            last_join_and = lower == "and";
            field = None;
            continue;
        }
        if !quoted && lower == "order" {
            break;
        }
        if !quoted
            && matches!(
                lower.as_str(),
                "label" | "labels" | "space" | "space.key" | "type"
            )
        {
            if lower.starts_with("label") {
                label_clauses += 1;
                if label_clauses > 1 && last_join_and {
                    parts.and = true;
                }
            }
            field = Some(lower);
            continue;
        }
        if !quoted && matches!(lower.as_str(), "=" | "in" | "not" | "!=" | "~") {
            if lower == "not" || lower == "!=" {
                field = None; // negated clauses are not supported: ignored
            }
            continue;
        }
        match field.as_deref() {
            Some(f) if f.starts_with("label") => parts.labels.push(t),
            Some("space") | Some("space.key") => parts.spaces.push(t),
            Some("type") => parts.types.push(t),
            _ => {}
        }
    }
    parts
}

pub(super) fn content_by_label(
    s: &impl Store,
    call: &MacroCall,
    ctx: &RenderContext,
) -> Result<String, RenderError> {
    let cql = call.param_nonempty("cql").map(parse_cql);
    let written = call.param_nonempty("labels");
    let mut any: Vec<String> = Vec::new();
    let mut required: Vec<String> = Vec::new();
    let mut excluded: Vec<String> = Vec::new();
    let mut and = call
        .param_nonempty("operator")
        .is_some_and(|o| o.eq_ignore_ascii_case("and"));
    match (written, &cql) {
        (Some(w), _) => {
            for l in split_list(w, true) {
                if let Some(r) = l.strip_prefix('+') {
                    required.push(r.to_lowercase());
                } else if let Some(x) = l.strip_prefix('-') {
                    excluded.push(x.to_lowercase());
                } else {
                    any.push(l.to_lowercase());
                }
            }
        }
        (None, Some(c)) => {
            any = c
                .labels
                .iter()
                .map(|l| l.trim().to_lowercase())
                .filter(|l| !l.is_empty())
                .collect();
            and |= c.and;
        }
        (None, None) => {}
    }
    any.retain(|l| !l.is_empty());
    required.retain(|l| !l.is_empty());
    excluded.retain(|l| !l.is_empty());
    if any.is_empty() && required.is_empty() {
        return Err(RenderError::InvalidParameter((
            "labels".into(),
            "give at least one label (e.g. labels=meeting-notes)".into(),
        )));
    }
    if and {
        required.append(&mut any);
    }
    let mut spaces = match call.param_nonempty("spaces") {
        Some(v) => space_list(v, ctx),
        None => Vec::new(),
    };
    if spaces.is_empty() {
        if let Some(c) = &cql {
            spaces = c.spaces.iter().flat_map(|v| space_list(v, ctx)).collect();
        }
    }
    let mut types: Vec<String> = call
        .param_nonempty("type")
        .map(|t| split_list(t, true))
        .unwrap_or_default();
    if types.is_empty() {
        if let Some(c) = &cql {
            types = c.types.clone();
        }
    }
    let types: Vec<String> = types.iter().map(|t| normalize_type(t)).collect();
    let max = call.int("max", 20).unwrap_or(20).clamp(1, MAX_ITEMS) as usize;
    let fetch = 1000u32;

    // Candidates: pages carrying the required labels and (OR) any one of the others.
    let mut found: Vec<ContentSummary> = Vec::new();
    if any.is_empty() {
        found = s.with_labels(&required, &spaces, fetch);
    } else {
        for l in &any {
            let mut want = required.clone();
            want.push(l.clone());
            for c in s.with_labels(&want, &spaces, fetch) {
                if !found.iter().any(|f| f.id == c.id) {
                    found.push(c);
                }
            }
        }
    }
    found.retain(|c| types.is_empty() || types.iter().any(|t| t == &c.type_));
    let reverse = call.flag("reverse");
    let sort = sort_param(call, Sort::Modified);
    sort_summaries(
        &mut found,
        if sort == Sort::Natural {
            Sort::Modified
        } else {
            sort
        },
        reverse,
    );

    let show_labels = call.flag("showLabels");
    let mut items: Vec<(ContentSummary, Vec<String>)> = Vec::new();
    for c in found {
        if items.len() >= max {
            break;
        }
        let labels = if show_labels || !excluded.is_empty() {
            s.labels(c.id)
        } else {
            Vec::new()
        };
        if excluded
            .iter()
            .any(|x| labels.iter().any(|l| l.eq_ignore_ascii_case(x)))
        {
            continue;
        }
        items.push((c, labels));
    }

    let mut out = String::new();
    if let Some(t) = call.param_nonempty("title") {
        out.push_str("<div class=\"macro-heading\">");
        escape_into(&mut out, t);
        out.push_str("</div>");
    }
    if items.is_empty() {
        out.push_str("<p class=\"macro-empty\">No content found.</p>");
        return Ok(out);
    }
    let show_space = call.flag("showSpace");
    out.push_str("<ul class=\"content-by-label\">");
    for (c, labels) in &items {
        out.push_str("<li>");
        link(&mut out, &c.url, &c.title);
        if show_space {
            out.push_str(" <span class=\"meta\">");
            escape_into(&mut out, &c.space_key);
            out.push_str("</span>");
        }
        if show_labels && !labels.is_empty() {
            out.push_str(" <span class=\"item-labels\">");
            for l in labels {
                out.push_str("<span class=\"label\">");
                escape_into(&mut out, l);
                out.push_str("</span> ");
            }
            out.pop();
            out.push_str("</span>");
        }
        out.push_str("</li>");
    }
    out.push_str("</ul>");
    Ok(out)
}
