//! Macros the host renders from the database (children, include,
//! attachments, recently-updated, contentbylabel, pagetree).
//!
//! Invariant: each lists only what the viewer may view, in the order
//! Confluence lists it.

use super::{
    resolve::{boxed, resolve},
    Presenter, MAX_INCLUDE_DEPTH,
};
use crate::content::{self, Content, ContentType};
use crate::error::Result;
use crate::perms::Viewer;
use crate::urls::{download_url, human_size, page_url};
use cairn_render::{MacroBody, MacroCall, PageRef};
use deadpool_postgres::GenericClient;
use std::collections::{HashMap, HashSet};

/// Macros the host renders from the database; the rest are the renderer's
/// built-ins (or, later, plugins).
pub(super) const HOST_MACROS: &[&str] = &[
    "children",
    "include",
    "excerpt-include",
    "attachments",
    "recently-updated",
    "contentbylabel",
    "pagetree",
];

pub(super) fn esc(s: &str) -> String {
    content::xml_escape(s)
}

pub(super) fn param<'a>(m: &'a MacroCall, name: &str) -> Option<&'a str> {
    m.params
        .get(name)
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
}

pub(super) fn macro_error(name: &str, msg: &str) -> String {
    format!(
        "<div class=\"macro-error\">{}: {}</div>",
        esc(name),
        esc(msg)
    )
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn host_macro<D: GenericClient>(
    presenter: &Presenter,
    db: &D,
    viewer: &Viewer,
    space_key: &str,
    page: Option<&Content>,
    m: &MacroCall,
    pages: &HashMap<PageRef, Content>,
    visiting: &mut HashSet<i64>,
) -> Result<String> {
    let name = m.name.to_ascii_lowercase();
    // The page a macro is about: its page parameter, else the current page.
    let target: Option<Content> = match m.param_pages.get("page").or_else(|| m.param_pages.get(""))
    {
        Some(r) => pages.get(r).cloned(),
        None => match param(m, "page").or_else(|| param(m, "")) {
            Some(t) if name != "contentbylabel" && name != "recently-updated" => {
                content::by_title(db, viewer, space_key, t, ContentType::Page).await?
            }
            _ => page.cloned(),
        },
    };
    match name.as_str() {
        "children" | "pagetree" => {
            let Some(t) = target else {
                return Ok(macro_error(
                    &name,
                    "the page does not exist or you may not view it",
                ));
            };
            let depth: usize = if param(m, "all") == Some("true") {
                5
            } else {
                param(m, "depth")
                    .and_then(|d| d.parse().ok())
                    .unwrap_or(1)
                    .clamp(1, 5)
            };
            let mut out = String::new();
            children_list(db, viewer, &t, depth, &mut out).await?;
            if out.is_empty() {
                return Ok("<p class=\"macro-empty\">No child pages.</p>".into());
            }
            Ok(format!("<div class=\"children-macro\">{out}</div>"))
        }
        "attachments" => {
            let Some(t) = target else {
                return Ok(macro_error(
                    &name,
                    "the page does not exist or you may not view it",
                ));
            };
            let list = crate::attach::list(db, viewer, t.id).await?;
            if list.is_empty() {
                return Ok("<p class=\"macro-empty\">No files attached.</p>".into());
            }
            let mut out = String::from("<table class=\"attachments-macro\"><thead><tr><th>File</th><th>Size</th><th>Modified</th></tr></thead><tbody>");
            for a in list {
                out.push_str(&format!(
                    "<tr><td><a href=\"{}\">{}</a></td><td>{}</td><td>{}</td></tr>",
                    esc(&download_url(t.id, &a.content.title, None)),
                    esc(&a.content.title),
                    human_size(a.size),
                    a.content.modified_at.format("%Y-%m-%d %H:%M")
                ));
            }
            out.push_str("</tbody></table>");
            Ok(out)
        }
        "recently-updated" => {
            let max: i64 = param(m, "max")
                .and_then(|d| d.parse().ok())
                .unwrap_or(10)
                .clamp(1, 100);
            let space = content::space(db, viewer, space_key)
                .await
                .ok()
                .map(|s| s.id);
            let scope = match param(m, "spaces") {
                Some("@all") | Some("*") => None,
                _ => space,
            };
            let list = content::recently_updated(db, viewer, scope, None, max).await?;
            let mut out = String::from("<ul class=\"recently-updated\">");
            for c in list {
                out.push_str(&format!(
                    "<li><a href=\"{}\">{}</a> <span class=\"meta\">{} · {}</span></li>",
                    esc(&page_url(&c.space_key, c.id, &c.title)),
                    esc(&c.title),
                    esc(&c.modifier.display_name),
                    c.modified_at.format("%Y-%m-%d")
                ));
            }
            out.push_str("</ul>");
            Ok(out)
        }
        "contentbylabel" => {
            let labels: Vec<String> = param(m, "labels")
                .or_else(|| param(m, "cql").and_then(|c| c.split('"').nth(1)))
                .unwrap_or("")
                .split(',')
                .map(|l| l.trim().to_lowercase())
                .filter(|l| !l.is_empty())
                .collect();
            if labels.is_empty() {
                return Ok(macro_error(&name, "give a label (labels parameter)"));
            }
            let max: i64 = param(m, "max")
                .and_then(|d| d.parse().ok())
                .unwrap_or(20)
                .clamp(1, 100);
            let sql = format!(
                "SELECT c.id FROM content c WHERE c.status = 'current' AND c.content_type IN ('page', 'blogpost')
                 AND EXISTS (SELECT 1 FROM labels l WHERE l.content_id = c.id AND l.name = ANY($1))
                 AND {} ORDER BY c.modified_at DESC LIMIT $5",
                Viewer::content_filter(2, 3, 4)
            );
            let rows = crate::db::query(
                db,
                &sql,
                &[
                    &labels,
                    &viewer.user_id(),
                    &*viewer.groups,
                    &*viewer.view_spaces,
                    &max,
                ],
            )
            .await?;
            let ids: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
            let list = content::get_many_meta(db, viewer, &ids).await?;
            let mut out = String::from("<ul class=\"content-by-label\">");
            for c in list {
                out.push_str(&format!(
                    "<li><a href=\"{}\">{}</a></li>",
                    esc(&page_url(&c.space_key, c.id, &c.title)),
                    esc(&c.title)
                ));
            }
            out.push_str("</ul>");
            Ok(out)
        }
        "include" | "excerpt-include" => {
            let Some(t) =
                target.filter(|t| Some(t.id) != page.map(|p| p.id) || m.param_pages.is_empty())
            else {
                return Ok(macro_error(
                    &name,
                    "the included page does not exist or you may not view it",
                ));
            };
            if visiting.contains(&t.id) || visiting.len() > MAX_INCLUDE_DEPTH {
                return Ok(macro_error(
                    &name,
                    "the page includes itself (directly or through other pages)",
                ));
            }
            let body = if name == "excerpt-include" {
                let refs = presenter.references(&t)?;
                let want = param(m, "name");
                let ex = refs.macros.iter().find(|x| {
                    x.name.eq_ignore_ascii_case("excerpt")
                        && (want.is_none() || param(x, "name") == want)
                });
                match ex.map(|x| &x.body) {
                    Some(MacroBody::Rich(b)) => b.clone(),
                    _ => return Ok(macro_error(&name, "the page has no excerpt")),
                }
            } else {
                t.body.clone()
            };
            visiting.insert(t.id);
            let refs = cairn_render::references(&body).unwrap_or_default();
            let inner = resolve(
                presenter,
                db,
                viewer,
                &t.space_key,
                Some(&t),
                &refs,
                visiting,
                true,
            )
            .await;
            visiting.remove(&t.id);
            let inner = inner?;
            let out = cairn_render::render(&body, &inner)
                .map(|r| r.html)
                .unwrap_or_else(|e| macro_error(&name, &e.to_string()));
            Ok(format!("<div class=\"include\">{out}</div>"))
        }
        _ => Ok(macro_error(&name, "not available")),
    }
}

pub(super) fn children_list<'a, D: GenericClient>(
    db: &'a D,
    viewer: &'a Viewer,
    parent: &'a Content,
    depth: usize,
    out: &'a mut String,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<()>> + Send + 'a>> {
    boxed(async move {
        let kids = content::children(db, viewer, parent.space_id, Some(parent.id), 0, 200).await?;
        if kids.is_empty() {
            return Ok(());
        }
        out.push_str("<ul>");
        for k in kids {
            out.push_str(&format!(
                "<li><a href=\"{}\">{}</a>",
                esc(&page_url(&parent.space_key, k.id, &k.title)),
                esc(&k.title)
            ));
            if depth > 1 && k.has_children {
                let child = content::get(db, viewer, k.id).await?;
                children_list(db, viewer, &child, depth - 1, out).await?;
            }
            out.push_str("</li>");
        }
        out.push_str("</ul>");
        Ok(())
    })
}
