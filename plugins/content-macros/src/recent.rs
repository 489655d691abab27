//! `recently-updated` and `attachments`: lists the host answers for the
//! viewer, newest first.
//!
//! Invariant: what is listed is what the host returned for this viewer.

use crate::*;

use cairn_plugin_sdk::content::Attachment;
use store::Store;

pub(super) fn recently_updated(
    s: &impl Store,
    call: &MacroCall,
    ctx: &RenderContext,
) -> Result<String, RenderError> {
    let spaces = match call.param_nonempty("spaces") {
        Some(v) => space_list(v, ctx),
        None => vec![ctx.space_key.clone()],
    };
    let written_types: Vec<String> = call
        .param_nonempty("types")
        .or_else(|| call.param_nonempty("type"))
        .map(|t| split_list(t, true))
        .unwrap_or_default()
        .iter()
        .map(|t| normalize_type(t))
        .collect();
    let types: Vec<String> = written_types
        .iter()
        .filter(|t| matches!(t.as_str(), "page" | "blogpost" | "comment"))
        .cloned()
        .collect();
    let max = call.int("max", 15).unwrap_or(15).clamp(1, 100) as usize;
    let labels: Vec<String> = call
        .param_nonempty("labels")
        .map(|l| split_list(l, true))
        .unwrap_or_default()
        .iter()
        .map(|l| l.to_lowercase())
        .collect();

    let mut out = String::new();
    if !call.flag("hideHeading") {
        out.push_str("<div class=\"macro-heading\">Recently updated</div>");
    }
    // Only types Cairn does not have (e.g. attachment): nothing to list.
    let mut list = if !written_types.is_empty() && types.is_empty() {
        Vec::new()
    } else {
        let fetch = if labels.is_empty() {
            max
        } else {
            (max * 5).max(100)
        };
        s.recently_updated(&spaces, &types, fetch as u32)
    };
    list.sort_by_key(|c| std::cmp::Reverse(timestamp(&c.last_modified)));
    let mut items = Vec::new();
    for c in list {
        if items.len() >= max {
            break;
        }
        if !labels.is_empty() {
            let have = s.labels(c.id);
            if !labels
                .iter()
                .any(|l| have.iter().any(|h| h.eq_ignore_ascii_case(l)))
            {
                continue;
            }
        }
        items.push(c);
    }
    if items.is_empty() {
        out.push_str("<p class=\"macro-empty\">Nothing was updated recently.</p>");
        return Ok(out);
    }
    out.push_str("<ul class=\"recently-updated\">");
    for c in &items {
        out.push_str("<li>");
        link(&mut out, &c.url, &c.title);
        out.push_str(" <span class=\"meta\">");
        if let Some(u) = &c.last_modifier {
            escape_into(&mut out, &u.display_name);
            out.push_str(" · ");
        }
        escape_into(&mut out, day(&c.last_modified));
        out.push_str("</span></li>");
    }
    out.push_str("</ul>");
    Ok(out)
}

pub(super) fn attachments(
    s: &impl Store,
    call: &MacroCall,
    ctx: &RenderContext,
) -> Result<String, RenderError> {
    let Some(page) = target_page(s, call, ctx)? else {
        return Ok(no_files());
    };
    let mut list: Vec<Attachment> = s.attachments(page);
    if let Some(p) = call.param_nonempty("patterns") {
        let patterns: Vec<Pattern> = split_list(p, false)
            .iter()
            .map(|p| Pattern::new(p))
            .collect();
        if !patterns.is_empty() {
            list.retain(|a| patterns.iter().any(|p| p.matches(&a.filename)));
        }
    }
    let by = call
        .param_nonempty("sortBy")
        .map(|v| v.to_ascii_lowercase().replace([' ', '_', '-'], ""))
        .unwrap_or_else(|| "name".into());
    let descending = match call
        .param_nonempty("sortOrder")
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("descending") | Some("desc") => true,
        Some("ascending") | Some("asc") => false,
        _ => by != "name",
    };
    match by.as_str() {
        "size" => list.sort_by_key(|a| a.size),
        "date" | "createddate" | "created" | "modified" => {
            list.sort_by_key(|a| timestamp(&a.created))
        }
        _ => list.sort_by_cached_key(|a| a.filename.to_lowercase()),
    }
    if descending {
        list.reverse();
    }
    if list.is_empty() {
        return Ok(no_files());
    }
    let mut out = String::from("<table class=\"attachments-macro\"><thead><tr><th>File</th><th>Size</th><th>Modified</th></tr></thead><tbody>");
    for a in &list {
        out.push_str("<tr><td>");
        link(&mut out, &a.url, &a.filename);
        out.push_str("</td><td>");
        out.push_str(&human_size(a.size));
        out.push_str("</td><td>");
        escape_into(&mut out, &minute(&a.created));
        out.push_str("</td></tr>");
    }
    out.push_str("</tbody></table>");
    Ok(out)
}

pub(super) fn no_files() -> String {
    "<p class=\"macro-empty\">No files attached.</p>".into()
}
