//! Page and blog post views, the editor (with live preview and conflict
//! handling), history, diffs, restore, move/copy/delete, labels, comments,
//! restrictions and attachments, plus Confluence's legacy URLs.

use askama::Template;
use axum::body::Body;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;

use super::spaces::login_if_anonymous;
use super::{fmt_time, see_other, FormData, IntoHtml, Layout, UiResult, WithNext};
use crate::attach;
use crate::content::{self, Content, ContentType, Saved};
use crate::error::Error;
use crate::perms::{SpacePerm, Viewer};
use crate::render::{download_url, enc, human_size, page_url, user_url};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/spaces/{key}/pages/{id}", get(view_by_id))
        .route("/spaces/{key}/pages/{id}/{title}", get(view))
        .route("/display/{key}/{title}", get(display))
        .route("/display/{key}/{y}/{m}/{d}/{title}", get(display_blog))
        .route("/pages/viewpage.action", get(viewpage_action))
        .route("/x/{tiny}", get(tiny))
        .route("/spaces/{key}/create", get(create_form).post(create))
        .route("/pages/{id}/edit", get(edit_form).post(edit))
        .route("/ui/preview", post(preview))
        .route("/pages/{id}/history", get(history))
        .route("/pages/{id}/version/{n}", get(version_view))
        .route("/pages/{id}/diff", get(diff))
        .route("/pages/{id}/restore/{n}", post(restore))
        .route("/pages/{id}/move", get(move_form).post(move_post))
        .route("/pages/{id}/copy", post(copy))
        .route("/pages/{id}/delete", post(delete))
        .route("/pages/{id}/labels", post(labels_post))
        .route("/pages/{id}/comments", post(comment_post))
        .route("/pages/{id}/like", post(like_post))
        .route("/comments/{id}/edit", post(comment_edit))
        .route("/comments/{id}/delete", post(comment_delete))
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
        .map_err(|e| login_if_anonymous(e, &viewer))
        .next(&here)?;
    let canonical = page_url(&c.space_key, c.id, &c.title);
    if !c.space_key.eq(&key)
        || (!title.is_empty()
            && crate::render::slug(&c.title) != crate::render::slug(&title.replace(' ', "+")))
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
        .renderer
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
        cacheable &= app.renderer.is_cacheable(c)?;
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
    let can_edit =
        perms.contains(&SpacePerm::Edit) && viewer.passes_update_restrictions(&db, c.id).await?;
    let restricted: bool = crate::db::query_one(
        &db,
        "SELECT EXISTS (SELECT 1 FROM content_restrictions WHERE content_id = ANY($1))",
        &[&c.restriction_chain()],
    )
    .await?
    .get(0);
    let likes = content::likes_of(&db, &viewer, &c).await?;
    let page = PageView {
        layout: Layout::new(&c.title, &viewer)
            .in_space(&c.space_key, &c.space_name)
            .at(c.id, &c.ancestors),
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
        created: fmt_time(&c.created_at),
        modified_by: c.modifier.display_name.clone(),
        modified_by_url: user_url(&c.modifier.username),
        modified: fmt_time(&c.modified_at),
        labels: content::labels(&db, c.id).await?,
        children,
        attachments,
        comments,
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
        resp.extensions_mut().insert(crate::changes::Cacheable);
    }
    Ok(resp)
}

fn attachment_view(page_id: i64, a: attach::Attachment) -> AttachmentView {
    AttachmentView {
        url: download_url(page_id, &a.content.title, None),
        name: a.content.title,
        size: human_size(a.size),
        media_type: a.media_type,
        version: a.content.version,
        when: fmt_time(&a.content.modified_at),
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
                .renderer
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
                when: fmt_time(&c.created_at),
                html,
                source: c.body.clone(),
                version: c.version,
                depth: depth.min(6),
                can_change: mine || is_admin,
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
    let db = app.pool.get().await?;
    let t = title.replace('+', " ");
    let c = content::by_title(&db, &viewer, &key, &t, ContentType::Page)
        .await?
        .ok_or_else(|| {
            login_if_anonymous(
                Error::NotFound(format!(
                    "no such page in space {key}, or you may not view it"
                )),
                &viewer,
            )
        })
        .next(&format!("/display/{key}/{title}"))?;
    Ok(see_other(&page_url(&c.space_key, c.id, &c.title)))
}

async fn display_blog(
    State(app): State<AppState>,
    viewer: Viewer,
    Path((key, _y, _m, _d, title)): Path<(String, String, String, String, String)>,
) -> UiResult {
    let db = app.pool.get().await?;
    let t = title.replace('+', " ");
    let c = content::by_title(&db, &viewer, &key, &t, ContentType::BlogPost)
        .await?
        .ok_or_else(|| {
            login_if_anonymous(
                Error::NotFound(format!(
                    "no such blog post in space {key}, or you may not view it"
                )),
                &viewer,
            )
        })
        .next(&format!("/display/{key}"))?;
    Ok(see_other(&page_url(&c.space_key, c.id, &c.title)))
}

async fn viewpage_action(
    State(app): State<AppState>,
    viewer: Viewer,
    Query(q): Query<ViewQ>,
) -> UiResult {
    let id = parse_id(q.page_id.as_deref().unwrap_or(""))?;
    let db = app.pool.get().await?;
    let c = content::get(&db, &viewer, id)
        .await
        .map_err(|e| login_if_anonymous(e, &viewer))
        .next(&format!("/pages/viewpage.action?pageId={id}"))?;
    Ok(see_other(&page_url(&c.space_key, c.id, &c.title)))
}

/// Short links `/x/ID36`.
async fn tiny(state: State<AppState>, viewer: Viewer, Path(t): Path<String>) -> UiResult {
    let id =
        i64::from_str_radix(&t, 36).map_err(|_| Error::NotFound(format!("no short link {t:?}")))?;
    viewpage_action(
        state,
        viewer,
        Query(ViewQ {
            page_id: Some(id.to_string()),
        }),
    )
    .await
}

// ---------------------------------------------------------------- editor

#[derive(Template)]
#[template(path = "editor.html")]
struct Editor {
    layout: Layout,
    action: String,
    key: String,
    id: i64,
    kind: &'static str,
    heading: String,
    title: String,
    source: String,
    format: String,
    base_version: i32,
    parent: String,
    message: String,
    minor: bool,
    error: String,
    conflict_diff: String,
    cancel_url: String,
    is_blog: bool,
}

#[derive(Deserialize)]
struct CreateQ {
    parent: Option<i64>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

async fn create_form(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(key): Path<String>,
    Query(q): Query<CreateQ>,
) -> UiResult {
    let db = app.pool.get().await?;
    let here = format!("/spaces/{key}/create");
    let s = content::space(&db, &viewer, &key)
        .await
        .map_err(|e| login_if_anonymous(e, &viewer))
        .next(&here)?;
    viewer
        .require_space_perm(&db, s.id, SpacePerm::Edit)
        .await
        .next(&here)?;
    let is_blog = q.kind.as_deref() == Some("blogpost");
    Ok(Editor {
        layout: Layout::new("Create", &viewer).in_space(&s.key, &s.name),
        action: format!("/spaces/{}/create", enc(&s.key)),
        key: s.key.clone(),
        id: 0,
        kind: if is_blog { "blog post" } else { "page" },
        heading: if is_blog {
            "New blog post".into()
        } else {
            "New page".into()
        },
        title: String::new(),
        source: String::new(),
        format: "markdown".into(),
        base_version: 0,
        parent: q.parent.map(|p| p.to_string()).unwrap_or_default(),
        message: String::new(),
        minor: false,
        error: String::new(),
        conflict_diff: String::new(),
        cancel_url: format!("/spaces/{}", enc(&s.key)),
        is_blog,
    }
    .into_html())
}

/// The body to store: Markdown is converted to storage format on save.
fn storage_of(form: &FormData) -> String {
    let src = form.text("body");
    if form.text("format") == "markdown" {
        cairn_render::markdown_to_storage(src)
    } else {
        src.to_owned()
    }
}

async fn create(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(key): Path<String>,
    form: FormData,
) -> UiResult {
    form.check_csrf(&viewer)?;
    let mut db = app.pool.get().await?;
    let is_blog = form.text("type") == "blogpost";
    let body = storage_of(&form);
    let labels: Vec<String> = form
        .text("labels")
        .split([',', ' '])
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect();
    let r = content::create(
        &mut db,
        &viewer,
        content::NewContent {
            content_type: if is_blog {
                ContentType::BlogPost
            } else {
                ContentType::Page
            },
            space_key: &key,
            title: form.text("title"),
            body: &body,
            parent_id: form.opt_int("parent")?,
            message: form.text("message"),
            labels: &labels,
            posting_day: None,
        },
    )
    .await;
    match r {
        Ok(c) => Ok(see_other(&page_url(&c.space_key, c.id, &c.title))),
        Err(e @ (Error::BadRequest(_) | Error::TooLarge(_))) => {
            let s = content::space(&db, &viewer, &key).await?;
            let mut r = Editor {
                layout: Layout::new("Create", &viewer).in_space(&s.key, &s.name),
                action: format!("/spaces/{}/create", enc(&s.key)),
                key: s.key.clone(),
                id: 0,
                kind: if is_blog { "blog post" } else { "page" },
                heading: if is_blog {
                    "New blog post".into()
                } else {
                    "New page".into()
                },
                title: form.text("title").into(),
                source: form.text("body").into(),
                format: form.text("format").into(),
                base_version: 0,
                parent: form.text("parent").into(),
                message: form.text("message").into(),
                minor: false,
                error: e.public_message(),
                conflict_diff: String::new(),
                cancel_url: format!("/spaces/{}", enc(&s.key)),
                is_blog,
            }
            .into_html();
            *r.status_mut() = e.status();
            Ok(r)
        }
        Err(e) => Err(e.into()),
    }
}

async fn edit_form(State(app): State<AppState>, viewer: Viewer, Path(id): Path<i64>) -> UiResult {
    let here = format!("/pages/{id}/edit");
    let db = app.pool.get().await?;
    let c = content::get(&db, &viewer, id)
        .await
        .map_err(|e| login_if_anonymous(e, &viewer))
        .next(&here)?;
    viewer
        .require_space_perm(&db, c.space_id, SpacePerm::Edit)
        .await
        .next(&here)?;
    if !viewer.passes_update_restrictions(&db, c.id).await? {
        return Err(Error::Forbidden(
            "this page has edit restrictions that do not include you".into(),
        )
        .into());
    }
    Ok(Editor {
        layout: Layout::new(format!("Edit - {}", c.title), &viewer)
            .in_space(&c.space_key, &c.space_name),
        action: format!("/pages/{id}/edit"),
        key: c.space_key.clone(),
        id,
        kind: kind_name(c.content_type),
        heading: format!("Edit {}", kind_name(c.content_type)),
        title: c.title.clone(),
        source: c.body.clone(),
        format: "storage".into(),
        base_version: c.version,
        parent: String::new(),
        message: String::new(),
        minor: false,
        error: String::new(),
        conflict_diff: String::new(),
        cancel_url: page_url(&c.space_key, c.id, &c.title),
        is_blog: c.content_type == ContentType::BlogPost,
    }
    .into_html())
}

async fn edit(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    form: FormData,
) -> UiResult {
    form.check_csrf(&viewer)?;
    let mut db = app.pool.get().await?;
    let body = storage_of(&form);
    let base: i32 = form.int("base_version")?;
    let r = content::update(
        &mut db,
        &viewer,
        id,
        content::Update {
            title: Some(form.text("title")),
            body: Some(&body),
            base_version: base,
            message: form.text("message"),
            minor_edit: form.checked("minor"),
        },
    )
    .await;
    match r {
        Ok(Saved::NewVersion(c) | Saved::Unchanged(c)) => {
            Ok(see_other(&page_url(&c.space_key, c.id, &c.title)))
        }
        Err(e @ (Error::BadRequest(_) | Error::TooLarge(_) | Error::Conflict(_))) => {
            let c = content::get(&db, &viewer, id).await?;
            // On a conflict, keep the user's text and show what others
            // changed since the version they started from; the next save
            // is based on the current version.
            let (conflict_diff, base_version, error) = if matches!(e, Error::Conflict(_)) {
                let old = content::version(&db, &viewer, id, base)
                    .await
                    .map(|v| v.body)
                    .unwrap_or_default();
                (
                    cairn_render::diff_inline_html(&old, &c.body),
                    c.version,
                    format!(
                        "Someone else saved this page while you were editing (now version {}). Your text is kept below; review their changes, then save again.",
                        c.version
                    ),
                )
            } else {
                (String::new(), base, e.public_message())
            };
            let mut r = Editor {
                layout: Layout::new(format!("Edit - {}", c.title), &viewer)
                    .in_space(&c.space_key, &c.space_name),
                action: format!("/pages/{id}/edit"),
                key: c.space_key.clone(),
                id,
                kind: kind_name(c.content_type),
                heading: format!("Edit {}", kind_name(c.content_type)),
                title: form.text("title").into(),
                source: form.text("body").into(),
                format: form.text("format").into(),
                base_version,
                parent: String::new(),
                message: form.text("message").into(),
                minor: form.checked("minor"),
                error,
                conflict_diff,
                cancel_url: page_url(&c.space_key, c.id, &c.title),
                is_blog: c.content_type == ContentType::BlogPost,
            }
            .into_html();
            *r.status_mut() = e.status();
            Ok(r)
        }
        Err(e) => Err(e.into()),
    }
}

/// Live preview for the editor: the sanitized HTML of the submitted source,
/// or the error (with its line and column) as a message.
async fn preview(State(app): State<AppState>, viewer: Viewer, form: FormData) -> Response {
    let r: Result<String, Error> = async {
        form.check_csrf(&viewer)?;
        let db = app.pool.get().await?;
        let key = form.text("space");
        content::space(&db, &viewer, key).await?;
        let page = match form.opt_int::<i64>("id")? {
            Some(id) if id > 0 => Some(content::get(&db, &viewer, id).await?),
            _ => None,
        };
        let body = storage_of(&form);
        content::validate_body(&body)?;
        Ok(app
            .renderer
            .render_source(&db, &viewer, key, page.as_ref(), &body)
            .await?
            .html)
    }
    .await;
    let html = match r {
        Ok(h) => h,
        Err(e) => format!(
            "<div class=\"preview-error\">{}</div>",
            content::xml_escape(&e.public_message())
        ),
    };
    let mut resp = html.into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    super::secure_headers(resp.headers_mut());
    resp
}

// ---------------------------------------------------------------- history

struct VersionRow {
    number: i32,
    author: String,
    when: String,
    message: String,
    minor: bool,
    current: bool,
}

#[derive(Template)]
#[template(path = "history.html")]
struct HistoryPage {
    layout: Layout,
    id: i64,
    title: String,
    page_url: String,
    versions: Vec<VersionRow>,
    can_edit: bool,
    current: i32,
}

async fn history(State(app): State<AppState>, viewer: Viewer, Path(id): Path<i64>) -> UiResult {
    let here = format!("/pages/{id}/history");
    let db = app.pool.get().await?;
    let c = content::get(&db, &viewer, id)
        .await
        .map_err(|e| login_if_anonymous(e, &viewer))
        .next(&here)?;
    let versions = content::history(&db, &viewer, id).await?;
    let can_edit = viewer
        .has_space_perm(&db, c.space_id, SpacePerm::Edit)
        .await?
        && viewer.passes_update_restrictions(&db, c.id).await?;
    Ok(HistoryPage {
        layout: Layout::new(format!("History - {}", c.title), &viewer)
            .in_space(&c.space_key, &c.space_name),
        id,
        title: c.title.clone(),
        page_url: page_url(&c.space_key, c.id, &c.title),
        versions: versions
            .iter()
            .map(|v| VersionRow {
                number: v.number,
                author: v.author.display_name.clone(),
                when: fmt_time(&v.created_at),
                message: v.message.clone(),
                minor: v.minor_edit,
                current: v.number == c.version,
            })
            .collect(),
        can_edit,
        current: c.version,
    }
    .into_html())
}

#[derive(Template)]
#[template(path = "version.html")]
struct VersionPage {
    layout: Layout,
    id: i64,
    title: String,
    number: i32,
    current: i32,
    author: String,
    when: String,
    html: String,
    page_url: String,
    can_edit: bool,
}

async fn version_view(
    State(app): State<AppState>,
    viewer: Viewer,
    Path((id, n)): Path<(i64, i32)>,
) -> UiResult {
    let db = app.pool.get().await?;
    let c = content::get(&db, &viewer, id)
        .await
        .map_err(|e| login_if_anonymous(e, &viewer))
        .next(&format!("/pages/{id}/version/{n}"))?;
    let v = content::version(&db, &viewer, id, n).await?;
    let html = app
        .renderer
        .render_source(&db, &viewer, &c.space_key, Some(&c), &v.body)
        .await?
        .html;
    let can_edit = viewer
        .has_space_perm(&db, c.space_id, SpacePerm::Edit)
        .await?;
    Ok(VersionPage {
        layout: Layout::new(format!("{} (v. {n})", v.title), &viewer)
            .in_space(&c.space_key, &c.space_name),
        id,
        title: v.title.clone(),
        number: n,
        current: c.version,
        author: v.author.display_name.clone(),
        when: fmt_time(&v.created_at),
        html,
        page_url: page_url(&c.space_key, c.id, &c.title),
        can_edit,
    }
    .into_html())
}

#[derive(Deserialize)]
struct DiffQ {
    from: Option<i32>,
    to: Option<i32>,
    mode: Option<String>,
}

#[derive(Template)]
#[template(path = "diff.html")]
struct DiffPage {
    layout: Layout,
    id: i64,
    title: String,
    from: i32,
    to: i32,
    from_title: String,
    to_title: String,
    side_by_side: bool,
    diff: String,
    page_url: String,
}

async fn diff(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Query(q): Query<DiffQ>,
) -> UiResult {
    let db = app.pool.get().await?;
    let c = content::get(&db, &viewer, id)
        .await
        .map_err(|e| login_if_anonymous(e, &viewer))
        .next(&format!("/pages/{id}/diff"))?;
    let to = q.to.unwrap_or(c.version);
    let from = q.from.unwrap_or((to - 1).max(1));
    let a = content::version(&db, &viewer, id, from).await?;
    let b = content::version(&db, &viewer, id, to).await?;
    let side = q.mode.as_deref() == Some("side");
    let (ab, bb) = (a.body.clone(), b.body.clone());
    let diff = tokio::task::spawn_blocking(move || {
        if side {
            cairn_render::diff_side_by_side_html(&ab, &bb)
        } else {
            cairn_render::diff_inline_html(&ab, &bb)
        }
    })
    .await
    .map_err(Error::internal)?;
    Ok(DiffPage {
        layout: Layout::new(format!("Compare - {}", c.title), &viewer)
            .in_space(&c.space_key, &c.space_name),
        id,
        title: c.title.clone(),
        from,
        to,
        from_title: a.title,
        to_title: b.title,
        side_by_side: side,
        diff,
        page_url: page_url(&c.space_key, c.id, &c.title),
    }
    .into_html())
}

async fn restore(
    State(app): State<AppState>,
    viewer: Viewer,
    Path((id, n)): Path<(i64, i32)>,
    form: FormData,
) -> UiResult {
    form.check_csrf(&viewer)?;
    let mut db = app.pool.get().await?;
    let base: i32 = form.int("base_version")?;
    match content::restore_version(&mut db, &viewer, id, n, base).await? {
        Saved::NewVersion(c) | Saved::Unchanged(c) => {
            Ok(see_other(&page_url(&c.space_key, c.id, &c.title)))
        }
    }
}

// ---------------------------------------------------------------- tree ops

#[derive(Template)]
#[template(path = "move.html")]
struct MovePage {
    layout: Layout,
    id: i64,
    title: String,
    key: String,
    page_url: String,
    spaces: Vec<(String, String)>,
    error: String,
}

async fn move_form(State(app): State<AppState>, viewer: Viewer, Path(id): Path<i64>) -> UiResult {
    let db = app.pool.get().await?;
    let c = content::get(&db, &viewer, id)
        .await
        .map_err(|e| login_if_anonymous(e, &viewer))
        .next(&format!("/pages/{id}/move"))?;
    let spaces = content::spaces(&db, &viewer).await?;
    Ok(MovePage {
        layout: Layout::new(format!("Move - {}", c.title), &viewer)
            .in_space(&c.space_key, &c.space_name),
        id,
        title: c.title.clone(),
        key: c.space_key.clone(),
        page_url: page_url(&c.space_key, c.id, &c.title),
        spaces: spaces.into_iter().map(|s| (s.key, s.name)).collect(),
        error: String::new(),
    }
    .into_html())
}

async fn move_post(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    form: FormData,
) -> UiResult {
    form.check_csrf(&viewer)?;
    let mut db = app.pool.get().await?;
    let key = form
        .get("space")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    // The parent may be given by id or by title (in the target space).
    let parent = match form.get("parent").map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(p) => match p.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                let c = content::get(&db, &viewer, id).await?;
                let k = key.clone().unwrap_or(c.space_key);
                Some(
                    content::by_title(&db, &viewer, &k, p, ContentType::Page)
                        .await?
                        .ok_or_else(|| {
                            Error::BadRequest(format!("no page titled {p:?} in space {k}"))
                        })?
                        .id,
                )
            }
        },
    };
    let c = content::move_page(
        &mut db,
        &viewer,
        id,
        key.as_deref(),
        parent,
        form.opt_int("position")?,
    )
    .await?;
    Ok(see_other(&page_url(&c.space_key, c.id, &c.title)))
}

async fn copy(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    form: FormData,
) -> UiResult {
    form.check_csrf(&viewer)?;
    let mut db = app.pool.get().await?;
    let c = content::get(&db, &viewer, id).await?;
    let title = match form.get("title").map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => t.to_owned(),
        None => format!("Copy of {}", c.title),
    };
    let n = content::copy_page(&mut db, &viewer, id, &title, None).await?;
    Ok(see_other(&page_url(&n.space_key, n.id, &n.title)))
}

async fn delete(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    form: FormData,
) -> UiResult {
    form.check_csrf(&viewer)?;
    let mut db = app.pool.get().await?;
    let c = content::get(&db, &viewer, id).await?;
    content::trash(&mut db, &viewer, id).await?;
    let to = match (c.content_type, c.container_id, c.parent_id) {
        (ContentType::Attachment, Some(p), _) => format!("/pages/{p}/attachments"),
        (_, _, Some(p)) => format!("/pages/viewpage.action?pageId={p}"),
        _ => format!("/spaces/{}", enc(&c.space_key)),
    };
    Ok(see_other(&to))
}

async fn labels_post(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    form: FormData,
) -> UiResult {
    form.check_csrf(&viewer)?;
    let db = app.pool.get().await?;
    if let Some(name) = form.get("remove") {
        content::remove_label(&db, &viewer, id, name).await?;
    } else {
        let names: Vec<String> = form
            .text("labels")
            .split([',', ' '])
            .filter(|l| !l.trim().is_empty())
            .map(str::to_owned)
            .collect();
        content::add_labels(&db, &viewer, id, &names).await?;
    }
    Ok(see_other(&format!(
        "/pages/viewpage.action?pageId={id}#labels"
    )))
}

// ---------------------------------------------------------------- comments

async fn comment_post(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    form: FormData,
) -> UiResult {
    form.check_csrf(&viewer)?;
    let mut db = app.pool.get().await?;
    let body = cairn_render::markdown_to_storage(form.text("body"));
    let c = content::add_comment(&mut db, &viewer, id, form.opt_int("reply_to")?, &body).await?;
    Ok(see_other(&format!(
        "/pages/viewpage.action?pageId={id}#comment-{}",
        c.id
    )))
}

/// The Like button: `like=1` likes, anything else unlikes.
async fn like_post(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    form: FormData,
) -> UiResult {
    form.check_csrf(&viewer)?;
    let db = app.pool.get().await?;
    content::set_like(&db, &viewer, id, form.text("like") == "1").await?;
    Ok(see_other(&format!(
        "/pages/viewpage.action?pageId={id}#likes"
    )))
}

async fn comment_edit(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    form: FormData,
) -> UiResult {
    form.check_csrf(&viewer)?;
    let mut db = app.pool.get().await?;
    let body = if form.text("format") == "storage" {
        form.text("body").to_owned()
    } else {
        cairn_render::markdown_to_storage(form.text("body"))
    };
    let c = content::edit_comment(&mut db, &viewer, id, &body, form.int("version")?).await?;
    Ok(see_other(&format!(
        "/pages/viewpage.action?pageId={}#comment-{id}",
        c.container_id.unwrap_or(0)
    )))
}

async fn comment_delete(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    form: FormData,
) -> UiResult {
    form.check_csrf(&viewer)?;
    let db = app.pool.get().await?;
    let c = content::get(&db, &viewer, id).await?;
    content::delete_comment(&db, &viewer, id).await?;
    Ok(see_other(&format!(
        "/pages/viewpage.action?pageId={}#comments",
        c.container_id.unwrap_or(0)
    )))
}

// ---------------------------------------------------------------- restrictions

#[derive(Template)]
#[template(path = "restrictions.html")]
struct RestrictionsPage {
    layout: Layout,
    id: i64,
    title: String,
    page_url: String,
    read: Vec<crate::users::Grant>,
    update: Vec<crate::users::Grant>,
    message: String,
}

async fn restrictions_page(app: &AppState, viewer: &Viewer, id: i64, message: String) -> UiResult {
    let db = app.pool.get().await?;
    let c = content::get(&db, viewer, id)
        .await
        .map_err(|e| login_if_anonymous(e, viewer))
        .next(&format!("/pages/{id}/restrictions"))?;
    let r = content::restrictions(&db, viewer, id).await?;
    Ok(RestrictionsPage {
        layout: Layout::new(format!("Restrictions - {}", c.title), viewer)
            .in_space(&c.space_key, &c.space_name),
        id,
        title: c.title.clone(),
        page_url: page_url(&c.space_key, c.id, &c.title),
        read: r.read,
        update: r.update,
        message,
    }
    .into_html())
}

async fn restrictions(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> UiResult {
    restrictions_page(&app, &viewer, id, String::new()).await
}

async fn restrictions_post(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    form: FormData,
) -> UiResult {
    form.check_csrf(&viewer)?;
    let db = app.pool.get().await?;
    let op = form.text("operation");
    let r = async {
        if form.text("action") == "clear" {
            return content::clear_restrictions(&db, &viewer, id, op).await;
        }
        let who =
            crate::users::parse_principal(&db, form.text("kind"), form.text("name").trim()).await?;
        content::set_restriction(&db, &viewer, id, op, &who, form.text("action") != "remove").await
    }
    .await;
    drop(db);
    match r {
        Ok(()) => restrictions_page(&app, &viewer, id, "Restrictions saved.".into()).await,
        Err(Error::BadRequest(m)) => restrictions_page(&app, &viewer, id, m).await,
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------- attachments

#[derive(Template)]
#[template(path = "attachments.html")]
struct AttachmentsPage {
    layout: Layout,
    id: i64,
    title: String,
    page_url: String,
    files: Vec<AttachmentView>,
    can_attach: bool,
    max_size: String,
    message: String,
}

async fn attachments_page(
    app: &AppState,
    viewer: &Viewer,
    id: i64,
    message: String,
    status: StatusCode,
) -> UiResult {
    let db = app.pool.get().await?;
    let c = content::get(&db, viewer, id)
        .await
        .map_err(|e| login_if_anonymous(e, viewer))
        .next(&format!("/pages/{id}/attachments"))?;
    let files = attach::list(&db, viewer, id)
        .await?
        .into_iter()
        .map(|a| attachment_view(id, a))
        .collect();
    let can_attach = attach::check_can_attach(&db, viewer, id).await.is_ok();
    let mut r = AttachmentsPage {
        layout: Layout::new(format!("Attachments - {}", c.title), viewer)
            .in_space(&c.space_key, &c.space_name),
        id,
        title: c.title.clone(),
        page_url: page_url(&c.space_key, c.id, &c.title),
        files,
        can_attach,
        max_size: human_size(app.files.max_size() as i64),
        message,
    }
    .into_html();
    *r.status_mut() = status;
    Ok(r)
}

async fn attachments(State(app): State<AppState>, viewer: Viewer, Path(id): Path<i64>) -> UiResult {
    attachments_page(&app, &viewer, id, String::new(), StatusCode::OK).await
}

/// Multipart upload from the attachments page: `_csrf`, `comment`, then
/// one or more `file` parts. A file with an existing name becomes its next
/// version.
async fn upload(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    mut mp: Multipart,
) -> UiResult {
    {
        let db = app.pool.get().await?;
        attach::check_can_attach(&db, &viewer, id).await?;
    }
    let mut csrf_ok = false;
    let mut comment = String::new();
    let mut done = Vec::new();
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                return attachments_page(
                    &app,
                    &viewer,
                    id,
                    format!("The upload failed: {e}"),
                    StatusCode::BAD_REQUEST,
                )
                .await
            }
        };
        let name = field.name().unwrap_or("").to_owned();
        match name.as_str() {
            "_csrf" => {
                let v = field.text().await.unwrap_or_default();
                csrf_ok = viewer
                    .csrf
                    .as_deref()
                    .is_some_and(|t| crate::auth::same_secret(t, &v));
            }
            "comment" => comment = field.text().await.unwrap_or_default(),
            "file" => {
                if !csrf_ok {
                    return Err(Error::Forbidden("the form has expired or did not come from this site; reload the page and try again".into()).into());
                }
                let filename = field.file_name().unwrap_or("").to_owned();
                if filename.is_empty() {
                    continue;
                }
                let ct = field.content_type().map(str::to_owned);
                let stored = match app.files.put(field).await {
                    Ok(s) => s,
                    Err(e @ (Error::TooLarge(_) | Error::BadRequest(_))) => {
                        let status = e.status();
                        return attachments_page(
                            &app,
                            &viewer,
                            id,
                            format!("{filename}: {}", e.public_message()),
                            status,
                        )
                        .await;
                    }
                    Err(e) => return Err(e.into()),
                };
                let mut db = app.pool.get().await?;
                let r = attach::record(
                    &mut db,
                    &viewer,
                    id,
                    attach::NewFile {
                        filename: &filename,
                        media_type: ct.as_deref(),
                        comment: &comment,
                        minor_edit: false,
                        stored,
                    },
                    true,
                )
                .await;
                match r {
                    Ok(a) => done.push(a.content.title),
                    Err(Error::BadRequest(m)) => {
                        return attachments_page(&app, &viewer, id, m, StatusCode::BAD_REQUEST)
                            .await
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            _ => {}
        }
    }
    if !csrf_ok {
        return Err(Error::Forbidden(
            "the form has expired or did not come from this site; reload the page and try again"
                .into(),
        )
        .into());
    }
    let msg = if done.is_empty() {
        "Choose a file to upload.".to_owned()
    } else {
        format!("Uploaded {}.", done.join(", "))
    };
    attachments_page(&app, &viewer, id, msg, StatusCode::OK).await
}

#[derive(Deserialize)]
struct DownloadQ {
    version: Option<i32>,
}

/// Raw bytes of an attachment with its type. Active types (HTML, SVG, …)
/// are always downloaded, never shown inline, and sandboxed.
async fn download(
    State(app): State<AppState>,
    viewer: Viewer,
    Path((page, filename)): Path<(String, String)>,
    Query(q): Query<DownloadQ>,
) -> Response {
    let r: Result<Response, Error> = async {
        let page = parse_id(&page)?;
        let db = app.pool.get().await?;
        let (_, v) = attach::by_name(&db, &viewer, page, &filename, q.version)
            .await
            .map_err(|e| login_if_anonymous(e, &viewer))?;
        drop(db);
        let sha = v.file_sha256.clone().unwrap_or_default();
        let bytes = app.files.read_verified(&sha).await?;
        let mt = v
            .media_type
            .clone()
            .unwrap_or_else(|| "application/octet-stream".into());
        let disposition = if attach::inline_safe(&mt) {
            "inline"
        } else {
            "attachment"
        };
        let encoded = enc(&v.title);
        let mut resp = Response::new(Body::from(bytes));
        let h = resp.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_str(&mt)
                .unwrap_or(HeaderValue::from_static("application/octet-stream")),
        );
        if let Ok(d) = HeaderValue::from_str(&format!("{disposition}; filename*=UTF-8''{encoded}"))
        {
            h.insert(header::CONTENT_DISPOSITION, d);
        }
        h.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("sandbox; default-src 'none'"),
        );
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, max-age=0"),
        );
        if let Some(s) = v.file_size {
            h.insert(header::CONTENT_LENGTH, HeaderValue::from(s as u64));
        }
        Ok(resp)
    }
    .await;
    match r {
        Ok(r) => r,
        Err(Error::Unauthorized(_)) => see_other(&format!(
            "/login?next={}",
            enc(&format!("/download/attachments/{page}/{filename}"))
        )),
        Err(e) => super::UiError::from(e).into_response(),
    }
}
