//! Inline comments on the page: threads anchored to text (highlighted by
//! the page script, listed beside the page), their resolution, and the
//! "resolved comments" view; and the Share screen.
//!
//! Invariant: a thread is shown inline only while its text is still in the
//! page; one whose text was deleted is shown among the page comments,
//! saying so. Resolving needs what commenting needs (`content::inline`).

use super::*;

/// The comments of one anchor, in thread order.
pub(super) struct InlineThread {
    pub marker_ref: String,
    pub selection: String,
    pub resolved: bool,
    /// "Resolved by Ann Example" with the time, or empty.
    pub resolved_note: String,
    /// The first comment, which carries the resolution.
    pub first_id: i64,
    pub comments: Vec<CommentView>,
}

/// Splits the threaded comments of a page into page comments and inline
/// threads (open, resolved).
pub(super) fn split(
    comments: Vec<CommentView>,
    inline: &std::collections::HashMap<i64, content::Inline>,
    page_body: &str,
) -> (Vec<CommentView>, Vec<InlineThread>, Vec<InlineThread>) {
    let mut footer = Vec::new();
    let mut threads: Vec<InlineThread> = Vec::new();
    let mut detached_seen = std::collections::HashSet::new();
    for mut c in comments {
        let Some(i) = inline.get(&c.id) else {
            footer.push(c);
            continue;
        };
        if !content::anchored(page_body, &i.marker_ref) {
            if detached_seen.insert(i.marker_ref.clone()) {
                c.detached = i.original_selection.clone();
                if c.detached.is_empty() {
                    c.detached = "…".into();
                }
            }
            footer.push(c);
            continue;
        }
        match threads.iter_mut().find(|t| t.marker_ref == i.marker_ref) {
            Some(t) => {
                c.depth = c.depth.saturating_sub(t.comments[0].depth).max(1);
                t.comments.push(c);
            }
            None => {
                let resolved = i.resolution == "resolved";
                let resolved_note = match (&i.resolved_by, &i.resolved_at) {
                    (Some(p), Some(at)) if resolved => {
                        format!("Resolved by {} on {}", p.display_name, fmt_day(at))
                    }
                    _ if resolved => "Resolved".into(),
                    _ => String::new(),
                };
                threads.push(InlineThread {
                    marker_ref: i.marker_ref.clone(),
                    selection: i.original_selection.clone(),
                    resolved,
                    resolved_note,
                    first_id: c.id,
                    comments: vec![CommentView { depth: 0, ..c }],
                });
            }
        }
    }
    // Open threads in the order their text appears in the page.
    let pos = |t: &InlineThread| {
        page_body
            .find(&format!("ac:ref=\"{}\"", t.marker_ref))
            .unwrap_or(usize::MAX)
    };
    let (mut resolved, mut open): (Vec<_>, Vec<_>) = threads.into_iter().partition(|t| t.resolved);
    open.sort_by_key(pos);
    resolved.sort_by_key(pos);
    (footer, open, resolved)
}

fn fmt_day(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%b %-d, %Y").to_string()
}

/// A new inline comment on the text the reader selected.
pub(super) async fn inline_comment_post(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    Posted { viewer, form }: Posted,
) -> UiResult {
    let mut db = app.pool.get().await?;
    let body = comment_body(&db, &form).await?;
    let selection = content::Selection {
        text: form.text("selection"),
        before: form.text("before"),
        after: form.text("after"),
        occurrence: None,
    };
    let r = content::add_inline_comment(&mut db, &viewer, id, &selection, &body, None).await;
    let field = match &r {
        Err(Error::BadRequest(m))
            if m.contains("comment must not be empty") || m.contains("storage format") =>
        {
            "body"
        }
        Err(Error::TooLarge(_)) => "body",
        _ => "selection",
    };
    let c = r.on_field(field)?;
    Ok(see_other(&format!(
        "/pages/viewpage.action?pageId={id}#comment-{}",
        c.id
    )))
}

/// Resolve (`resolved=1`) or reopen a thread.
pub(super) async fn resolve_post(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    Posted { viewer, form }: Posted,
) -> UiResult {
    let mut db = app.pool.get().await?;
    let c = content::get(&db, &viewer, id).await?;
    let resolved = form.text("resolved") == "1";
    content::set_resolution(&mut db, &viewer, id, resolved).await?;
    let page = c.container_id.unwrap_or(c.id);
    Ok(see_other(&format!(
        "/pages/viewpage.action?pageId={page}#{}",
        if resolved {
            "inline-comments".to_string()
        } else {
            format!("comment-{id}")
        }
    )))
}

#[derive(Template)]
#[template(path = "share.html")]
pub(super) struct SharePage {
    layout: Layout,
    id: i64,
    title: String,
    page_url: String,
    message: String,
}

/// The Share screen: people (usernames or e-mail addresses) and a note.
pub(super) async fn share_form(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Query(n): Query<Notice>,
) -> UiResult {
    viewer.require_user().next(&format!("/pages/{id}/share"))?;
    let db = app.pool.get().await?;
    let c = content::get(&db, &viewer, id)
        .await
        .or_login(&viewer, &format!("/pages/{id}/share"))?;
    Ok(SharePage {
        layout: Layout::new(format!("Share - {}", c.title), &viewer)
            .of_content(&c, &viewer.space_perms(&db, c.space_id).await?),
        id,
        page_url: page_url(&c.space_key, c.id, &c.title),
        title: c.title,
        message: n.message(),
    }
    .into_html())
}

pub(super) async fn share_post(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    Posted { viewer, form }: Posted,
) -> UiResult {
    let db = app.pool.get().await?;
    let to = form.text("to");
    let r = crate::notify::share::share(&db, &viewer, id, to, form.text("note")).await;
    let field = match &r {
        Err(Error::BadRequest(m)) if m.contains("note") => "note",
        _ => "to",
    };
    let reached = r.on_field(field)?;
    Ok(notice::done_with(
        &format!("/pages/{id}/share"),
        "shared",
        &reached.join(", "),
        "",
    ))
}
