//! Page and blog post views, the editor (with live preview and conflict
//! handling), history, diffs, restore, move/copy/delete, labels, comments,
//! restrictions and attachments, plus Confluence's legacy URLs.

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;

use super::notice::{self, Notice};
use super::{login_if_anonymous, OnField, OrLogin};
use super::{see_other, time_html, FormData, IntoHtml, Layout, Posted, UiResult, WithNext};
use crate::attach;
use crate::content::{self, Content, ContentType, Saved};
use crate::error::Error;
use crate::perms::{SpacePerm, Viewer};
use crate::urls::{download_url, enc, human_size, page_url, user_url};
use crate::AppState;

mod attachments;
mod comments;
mod editor;
mod history;
mod inline;
mod ops;
mod restrictions;
mod start;
use attachments::*;
use comments::*;
use editor::*;
use history::*;
use inline::*;
use ops::*;
use restrictions::*;
use start::*;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/spaces/{key}/pages/{id}", get(view_by_id))
        .route("/spaces/{key}/pages/{id}/{title}", get(view))
        .route("/display/{key}/{title}", get(display))
        .route("/display/{key}/{y}/{m}/{d}/{title}", get(display_blog))
        .route("/pages/viewpage.action", get(viewpage_action))
        .route("/x/{tiny}", get(tiny))
        .route("/spaces/{key}/create", get(create_form).post(create))
        .route("/spaces/{key}/new", get(start))
        .route(
            "/spaces/{key}/new/template/{id}",
            get(from_template).post(from_template_post),
        )
        .route(
            "/spaces/{key}/new/blueprint/{bp}",
            get(from_blueprint).post(from_blueprint_post),
        )
        .route("/pages/{id}/edit", get(edit_form).post(edit))
        .route("/ui/preview", post(preview))
        .route("/pages/{id}/history", get(history))
        .route("/pages/{id}/version/{n}", get(version_view))
        .route("/pages/{id}/diff", get(diff))
        .route("/pages/{id}/restore/{n}", post(restore))
        .route("/pages/{id}/moves/{move_id}/undo", post(undo_move))
        .route("/pages/{id}/move", get(move_form).post(move_post))
        .route("/pages/{id}/copy", get(copy_form).post(copy))
        .route("/pages/{id}/delete", post(delete))
        .route("/pages/{id}/labels", post(labels_post))
        .route("/pages/{id}/comments", post(comment_post))
        .route("/pages/{id}/like", post(like_post))
        .route("/comments/{id}/edit", post(comment_edit))
        .route("/comments/{id}/delete", post(comment_delete))
        .route("/comments/{id}/resolve", post(resolve_post))
        .route("/pages/{id}/inline-comments", post(inline_comment_post))
        .route("/pages/{id}/share", get(share_form).post(share_post))
        .route(
            "/pages/{id}/restrictions",
            get(restrictions).post(restrictions_post),
        )
        .route(
            "/pages/{id}/attachments",
            get(attachments)
                .post(upload)
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/download/attachments/{page}/{filename}", get(download))
}

fn kind_name(t: ContentType) -> &'static str {
    match t {
        ContentType::BlogPost => "blog post",
        _ => "page",
    }
}

struct Crumb {
    url: String,
    title: String,
}

struct CommentView {
    id: i64,
    author: String,
    author_url: String,
    when: String,
    html: String,
    source: String,
    version: i32,
    depth: usize,
    can_change: bool,
    /// For an inline comment whose text was deleted: that text.
    detached: String,
}

struct AttachmentView {
    name: String,
    url: String,
    size: String,
    media_type: String,
    version: i32,
    when: String,
    by: String,
    comment: String,
    id: i64,
    /// An image the browser may show inline: the list shows a thumbnail.
    thumbnail: bool,
}

#[derive(Template)]
#[template(path = "page.html")]
struct PageView {
    layout: Layout,
    id: i64,
    kind: &'static str,
    key: String,
    space_name: String,
    title: String,
    crumbs: Vec<Crumb>,
    html: String,
    version: i32,
    created_by: String,
    created_by_url: String,
    created: String,
    modified_by: String,
    modified_by_url: String,
    modified: String,
    labels: Vec<String>,
    children: Vec<Crumb>,
    attachments: Vec<AttachmentView>,
    comments: Vec<CommentView>,
    /// Inline comment threads whose text is in the page: open, resolved.
    inline_open: Vec<InlineThread>,
    inline_resolved: Vec<InlineThread>,
    can_edit: bool,
    can_comment: bool,
    can_delete: bool,
    can_restrict: bool,
    restricted: bool,
    is_page: bool,
    posting_day: String,
    likes: usize,
    liked: bool,
    /// Display names of who likes it, for the tooltip.
    likers: String,
    watching: bool,
    watching_space: bool,
    /// Saved for later; the space is a favourite.
    saved: bool,
    favourite_space: bool,
}

#[derive(Deserialize)]
struct ViewQ {
    #[serde(rename = "pageId")]
    page_id: Option<String>,
}

async fn view_by_id(
    state: State<AppState>,
    viewer: Viewer,
    Path((key, id)): Path<(String, String)>,
) -> UiResult {
    view(state, viewer, Path((key, id, String::new()))).await
}

fn parse_id(s: &str) -> Result<i64, Error> {
    s.trim()
        .parse()
        .map_err(|_| Error::NotFound(format!("{s:?} is not a content id")))
}

async fn view(
    State(app): State<AppState>,
    viewer: Viewer,
    Path((key, id, title)): Path<(String, String, String)>,
) -> UiResult {
    let here = format!("/spaces/{key}/pages/{id}");
    let id = parse_id(&id)?;
    let db = app.pool.get().await?;
    let c = content::get(&db, &viewer, id)
        .await
        .or_login(&viewer, &here)?;
    let canonical = page_url(&c.space_key, c.id, &c.title);
    if !c.space_key.eq(&key)
        || (!title.is_empty()
            && crate::urls::slug(&c.title) != crate::urls::slug(&title.replace(' ', "+")))
    {
        return Ok(see_other(&canonical));
    }
    match c.content_type {
        ContentType::Page | ContentType::BlogPost => {}
        ContentType::Comment | ContentType::Attachment => {
            let target = content::get(&db, &viewer, c.container_id.unwrap_or(c.id)).await?;
            return Ok(see_other(&page_url(
                &target.space_key,
                target.id,
                &target.title,
            )));
        }
    }
    // No connection is held while plugins render (a slow plugin must not
    // take the pool down with it).
    drop(db);
    let rendered = app
        .presenter
        .render_content_pooled(&app.pool, &viewer, &c)
        .await?;
    let db = app.pool.get().await?;
    let mut cacheable = rendered.cacheable;
    let crumbs = content::breadcrumbs(&db, &c)
        .await?
        .into_iter()
        .map(|(id, t)| Crumb {
            url: page_url(&c.space_key, id, &t),
            title: t,
        })
        .collect();
    let children = if c.content_type == ContentType::Page {
        content::children(&db, &viewer, c.space_id, Some(c.id), 0, 100)
            .await?
            .into_iter()
            .map(|n| Crumb {
                url: page_url(&c.space_key, n.id, &n.title),
                title: n.title,
            })
            .collect()
    } else {
        Vec::new()
    };
    let attachments = attach::list_of(&db, &viewer, &c)
        .await?
        .into_iter()
        .map(|a| attachment_view(c.id, a))
        .collect();
    let perms = viewer.space_perms(&db, c.space_id).await?;
    let is_space_admin = perms.contains(&SpacePerm::Admin);
    let comments_raw = content::comments_of(&db, &viewer, &c).await?;
    for c in &comments_raw {
        cacheable &= app.presenter.is_cacheable(c)?;
    }
    let mut comments = Vec::new();
    thread_comments(
        &app,
        &db,
        &viewer,
        &comments_raw,
        None,
        0,
        is_space_admin,
        &mut comments,
    )
    .await?;
    let ids: Vec<i64> = comments_raw.iter().map(|c| c.id).collect();
    let states = content::inline_states(&db, &ids).await?;
    let (comments, inline_open, inline_resolved) = inline::split(comments, &states, &c.body);
    let can_edit =
        perms.contains(&SpacePerm::Edit) && viewer.passes_update_restrictions(&db, c.id).await?;
    let restricted = content::is_restricted(&db, &c).await?;
    let likes = content::likes_of(&db, &viewer, &c).await?;
    let (watching, watching_space) = crate::notify::watches::page_buttons(&db, &viewer, &c).await?;
    let (saved, favourite_space) = content::is_favourite(&db, &viewer, &c).await?;
    let page = PageView {
        saved,
        favourite_space,
        watching,
        watching_space,
        layout: Layout::new(&c.title, &viewer).of_content(&c, &perms),
        id: c.id,
        kind: kind_name(c.content_type),
        key: c.space_key.clone(),
        space_name: c.space_name.clone(),
        title: c.title.clone(),
        crumbs,
        html: rendered.html.clone(),
        version: c.version,
        created_by: c.creator.display_name.clone(),
        created_by_url: user_url(&c.creator.username),
        created: time_html(&c.created_at),
        modified_by: c.modifier.display_name.clone(),
        modified_by_url: user_url(&c.modifier.username),
        modified: time_html(&c.modified_at),
        labels: content::labels(&db, c.id).await?,
        children,
        attachments,
        comments,
        inline_open,
        inline_resolved,
        can_edit,
        can_comment: perms.contains(&SpacePerm::Comment),
        can_delete: perms.contains(&SpacePerm::Delete),
        can_restrict: perms.contains(&SpacePerm::Restrict) || is_space_admin,
        restricted,
        is_page: c.content_type == ContentType::Page,
        posting_day: c
            .posting_day
            .map(|d| d.format("%B %-d, %Y").to_string())
            .unwrap_or_default(),
        likes: likes.users.len(),
        liked: likes.mine,
        likers: likes
            .users
            .iter()
            .map(|u| u.display_name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    };
    let mut resp = page.into_html();
    if cacheable {
        resp.extensions_mut()
            .insert(crate::http::response_cache::Cacheable);
    }
    Ok(resp)
}

fn attachment_view(page_id: i64, a: attach::Attachment) -> AttachmentView {
    let thumbnail = a.media_type.starts_with("image/") && attach::inline_safe(&a.media_type);
    AttachmentView {
        thumbnail,
        url: download_url(page_id, &a.content.title, None),
        name: a.content.title,
        size: human_size(a.size),
        media_type: a.media_type,
        version: a.content.version,
        when: time_html(&a.content.modified_at),
        by: a.content.modifier.display_name,
        comment: a.comment,
        id: a.content.id,
    }
}

#[allow(clippy::too_many_arguments)]
fn thread_comments<'a>(
    app: &'a AppState,
    db: &'a deadpool_postgres::Object,
    viewer: &'a Viewer,
    all: &'a [Content],
    parent: Option<i64>,
    depth: usize,
    is_admin: bool,
    out: &'a mut Vec<CommentView>,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), Error>> + Send + 'a>> {
    Box::pin(async move {
        let ids: std::collections::HashSet<i64> = all.iter().map(|c| c.id).collect();
        for c in all.iter().filter(|c| {
            // A reply whose parent is gone is shown at the top level.
            let p = c.parent_id.filter(|p| ids.contains(p));
            p == parent
        }) {
            let html = app
                .presenter
                .render_content(db, viewer, c)
                .await?
                .html
                .clone();
            let mine = viewer
                .user
                .as_ref()
                .is_some_and(|u| u.user_key == c.creator.user_key);
            out.push(CommentView {
                id: c.id,
                author: c.creator.display_name.clone(),
                author_url: user_url(&c.creator.username),
                when: time_html(&c.created_at),
                html,
                source: c.body.clone(),
                version: c.version,
                depth: depth.min(6),
                can_change: mine || is_admin,
                detached: String::new(),
            });
            thread_comments(app, db, viewer, all, Some(c.id), depth + 1, is_admin, out).await?;
        }
        Ok(())
    })
}

async fn display(
    State(app): State<AppState>,
    viewer: Viewer,
    Path((key, title)): Path<(String, String)>,
) -> UiResult {
    let here = format!("/display/{key}/{title}");
    by_title(&app, &viewer, &key, &title, ContentType::Page, &here).await
}

async fn display_blog(
    State(app): State<AppState>,
    viewer: Viewer,
    Path((key, _y, _m, _d, title)): Path<(String, String, String, String, String)>,
) -> UiResult {
    let here = format!("/display/{key}");
    by_title(&app, &viewer, &key, &title, ContentType::BlogPost, &here).await
}

/// Confluence's `/display/KEY/Title` URLs: a redirect to the page's own
/// URL, or a 404 that asks an anonymous viewer to log in (returning to
/// `here`).
async fn by_title(
    app: &AppState,
    viewer: &Viewer,
    key: &str,
    title: &str,
    kind: ContentType,
    here: &str,
) -> UiResult {
    let db = app.pool.get().await?;
    let t = title.replace('+', " ");
    let what = if kind == ContentType::BlogPost {
        "blog post"
    } else {
        "page"
    };
    let c = content::by_title(&db, viewer, key, &t, kind)
        .await?
        .ok_or_else(|| {
            login_if_anonymous(
                Error::NotFound(format!(
                    "no such {what} in space {key}, or you may not view it"
                )),
                viewer,
            )
        })
        .next(here)?;
    Ok(see_other(&page_url(&c.space_key, c.id, &c.title)))
}

async fn viewpage_action(
    State(app): State<AppState>,
    viewer: Viewer,
    Query(q): Query<ViewQ>,
) -> UiResult {
    let id = parse_id(q.page_id.as_deref().unwrap_or(""))?;
    let db = app.pool.get().await?;
    let c = match content::get(&db, &viewer, id).await {
        // Not a Cairn id: perhaps a Confluence id of imported content.
        Err(Error::NotFound(m)) => match crate::import::old_id_target(&db, id).await? {
            Some((cid, _)) => content::get(&db, &viewer, cid).await,
            None => Err(Error::NotFound(m)),
        },
        r => r,
    }
    .map_err(|e| login_if_anonymous(e, &viewer))
    .next(&format!("/pages/viewpage.action?pageId={id}"))?;
    Ok(see_other(&page_url(&c.space_key, c.id, &c.title)))
}

/// Short links `/x/ID36`, and Confluence's (`/x/` + base64 of an imported
/// page's old id) when no Cairn page has that id.
async fn tiny(state: State<AppState>, viewer: Viewer, Path(t): Path<String>) -> UiResult {
    let ours = i64::from_str_radix(&t, 36).ok();
    let exists = match ours {
        Some(id) => {
            let db = state.pool.get().await?;
            content::get(&db, &viewer, id).await.is_ok()
        }
        None => false,
    };
    let id = match (exists, ours, crate::import::decode_tiny(&t)) {
        (true, Some(id), _) | (false, Some(id), None) => id,
        (false, _, Some(old)) => old,
        _ => return Err(Error::NotFound(format!("no short link {t:?}")).into()),
    };
    viewpage_action(
        state,
        viewer,
        Query(ViewQ {
            page_id: Some(id.to_string()),
        }),
    )
    .await
}
