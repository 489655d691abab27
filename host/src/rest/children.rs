//! `/content/{id}/child…` and `/descendant`: a page's child pages, comments and
//! attachments.
//!
//! Invariant: only children the caller may view are listed, and `size`/`_links.next`
//! count only those.

use super::*;

/// The children of one type (`path_suffix` `descendant/page`: all pages
/// below) of the content `on` names, paged.
pub(super) async fn children_of(
    on: &On,
    kind: ContentType,
    path_suffix: &str,
) -> Result<List<shapes::Content>> {
    let (app, viewer, p) = (&on.app, &on.viewer, &on.params);
    let id = on.id()?;
    let (start, limit) = if kind == ContentType::Attachment {
        (p.int("start", 0, i64::MAX / 2)?, p.int("limit", 50, 500)?)
    } else {
        p.paging()?
    };
    // Attachment lists carry version and container unless asked otherwise,
    // as in Data Center.
    let expand = if kind == ContentType::Attachment && p.get("expand").is_none() {
        Expand::parse("version,container")
    } else {
        p.expand()
    };
    let db = on.db().await?;
    let parent = on.visible(&db).await?;
    let mut f = ListFilter {
        types: vec![kind],
        ..ListFilter::default()
    };
    match kind {
        ContentType::Page if path_suffix == "descendant/page" => f.descendant_of = Some(parent.id),
        ContentType::Page => f.parent = Some(parent.id),
        _ => f.container = Some(parent.id),
    }
    if kind == ContentType::Comment {
        f.comment_location = match p.nonempty("location") {
            None => None,
            Some(l @ ("inline" | "footer" | "resolved")) => Some(l),
            Some(other) => {
                return Err(Error::BadRequest(format!(
                    "location must be inline, footer or resolved, not {other:?}"
                )))
            }
        };
    }
    if kind == ContentType::Attachment {
        f.title = p.nonempty("filename");
        f.media_type = p.nonempty("mediaType");
    }
    let (rows, more) = content::list(&db, viewer, &f, start, limit).await?;
    let res = json::contents(&db, viewer, &rows, &expand, app).await?;
    Ok(paged(
        app,
        &format!("/rest/api/content/{id}/{path_suffix}"),
        p,
        res,
        (start, limit),
        more,
    ))
}

#[utoipa::path(get, path = "/rest/api/content/{id}/child/page", params(("id" = String, Path, description = "content id (attachments: attNNN or NNN)"), ("start" = Option<i64>, Query, description = "offset"), ("limit" = Option<i64>, Query, description = "page size (max 500)"), ("expand" = Option<String>, Query, description = "comma-separated expansions")), responses((status = 200, description = "child pages", body = List<shapes::Content>)))]
pub(super) async fn child_pages(on: On) -> Api {
    ok(children_of(&on, ContentType::Page, "child/page").await?)
}

#[utoipa::path(get, path = "/rest/api/content/{id}/descendant/page", params(("id" = String, Path, description = "content id (attachments: attNNN or NNN)"), ("start" = Option<i64>, Query, description = "offset"), ("limit" = Option<i64>, Query, description = "page size (max 500)"), ("expand" = Option<String>, Query, description = "comma-separated expansions")), responses((status = 200, description = "descendant pages", body = List<shapes::Content>)))]
pub(super) async fn descendant_pages(on: On) -> Api {
    ok(children_of(&on, ContentType::Page, "descendant/page").await?)
}

#[utoipa::path(get, path = "/rest/api/content/{id}/child/comment", params(("id" = String, Path, description = "content id (attachments: attNNN or NNN)"), ("start" = Option<i64>, Query, description = "offset"), ("limit" = Option<i64>, Query, description = "page size (max 500)"), ("expand" = Option<String>, Query, description = "comma-separated expansions")), responses((status = 200, description = "comments", body = List<shapes::Content>)))]
pub(super) async fn child_comments(on: On) -> Api {
    ok(children_of(&on, ContentType::Comment, "child/comment").await?)
}

#[utoipa::path(get, path = "/rest/api/content/{id}/child/attachment", params(("id" = String, Path, description = "content id (attachments: attNNN or NNN)"), ("start" = Option<i64>, Query, description = "offset"), ("limit" = Option<i64>, Query, description = "page size (max 500)"), ("expand" = Option<String>, Query, description = "comma-separated expansions"), ("filename" = Option<String>, Query), ("mediaType" = Option<String>, Query)), responses((status = 200, description = "attachments", body = List<shapes::Content>)))]
pub(super) async fn child_attachments(on: On) -> Api {
    ok(children_of(&on, ContentType::Attachment, "child/attachment").await?)
}

#[utoipa::path(get, path = "/rest/api/content/{id}/child", params(("id" = String, Path, description = "content id (attachments: attNNN or NNN)"), ("expand" = Option<String>, Query)), responses((status = 200, description = "children by type", body = shapes::Children)))]
pub(super) async fn child_all(on: On) -> Api {
    let expand = on.params.expand();
    let mut out = shapes::Children::default();
    for (k, kind) in [
        ("page", ContentType::Page),
        ("comment", ContentType::Comment),
        ("attachment", ContentType::Attachment),
    ] {
        if expand.has(k) {
            *out.slot(k) = Some(children_of(&on, kind, &format!("child/{k}")).await?);
        }
    }
    on.visible(&on.db().await?).await?;
    let id = &on.name;
    let mut exp = shapes::Expandable::new();
    for k in ["page", "comment", "attachment"] {
        if out.slot(k).is_none() {
            exp.insert(k, format!("/rest/api/content/{id}/child/{k}"));
        }
    }
    out.expandable = Some(exp);
    out.links = Some(Links::base_and_self(
        &on.base(),
        format!("/rest/api/content/{id}/child"),
    ));
    ok(out)
}
