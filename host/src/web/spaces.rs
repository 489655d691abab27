//! Dashboard, space directory, space creation, blog lists, space settings
//! and permissions, trash, and the lazy page-tree endpoint.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;

use super::notice::{self, Notice};
use super::{
    fmt_time, grid, see_other, IntoHtml, Layout, OnField, OrLogin, Posted, UiResult, WithNext,
};
use crate::content::{self, ContentType};
use crate::error::Error;
use crate::perms::{SpacePerm, Viewer};
use crate::urls::{enc, page_url};
use crate::users;
use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(dashboard))
        .route("/spaces", get(directory).post(create_space))
        .route("/spaces/create", get(create_space_form))
        .route("/spaces/{key}", get(space_home))
        .route("/spaces/{key}/blog", get(blog))
        .route("/spaces/{key}/settings", get(settings).post(settings_post))
        .route("/spaces/{key}/permissions", post(permissions_post))
        .route("/spaces/{key}/trash", get(trash))
        .route("/trash/{id}/restore", post(trash_restore))
        .route("/trash/{id}/purge", post(trash_purge))
}

pub(crate) struct Item {
    pub url: String,
    pub title: String,
    pub space: String,
    pub meta: String,
}

fn item(c: &content::Content) -> Item {
    Item {
        url: page_url(&c.space_key, c.id, &c.title),
        title: c.title.clone(),
        space: c.space_name.clone(),
        meta: format!("{} · {}", c.modifier.display_name, fmt_time(&c.modified_at)),
    }
}

pub(crate) struct SpaceItem {
    pub key: String,
    pub name: String,
    pub description: String,
    pub personal: bool,
    /// Shown in the space directory only.
    pub categories: Vec<String>,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct Dashboard {
    layout: Layout,
    spaces: Vec<SpaceItem>,
    recent: Vec<Item>,
    can_create_space: bool,
    /// "My tasks", for a signed-in viewer.
    my_tasks: Option<super::tasks::AssignedTasks>,
    /// Pages and blog posts saved for later.
    saved: Vec<Item>,
    /// How many of `spaces` (the first ones) are favourites.
    favourite_spaces: usize,
}

fn space_items(spaces: Vec<content::Space>) -> Vec<SpaceItem> {
    spaces
        .into_iter()
        .map(|s| SpaceItem {
            personal: s.space_type == "personal",
            key: s.key,
            name: s.name,
            description: s.description,
            categories: Vec::new(),
        })
        .collect()
}

async fn dashboard(
    State(app): State<AppState>,
    viewer: Viewer,
    axum::extract::Query(tq): axum::extract::Query<super::tasks::TasksQuery>,
) -> UiResult {
    if !viewer.can_use {
        return Err(Error::Unauthorized("log in to use the wiki".into())).next("/");
    }
    let db = app.pool.get().await?;
    let mut spaces = content::spaces(&db, &viewer).await?;
    let favourite = content::favourite_spaces(&db, &viewer).await?;
    // Favourite spaces first, in the order they were chosen.
    spaces.sort_by_key(|s| {
        favourite
            .iter()
            .position(|f| *f == s.id)
            .unwrap_or(usize::MAX)
    });
    let favourite_spaces = spaces.iter().filter(|s| favourite.contains(&s.id)).count();
    let recent = content::recently_updated(&db, &viewer, None, None, 20).await?;
    let my_tasks = match &viewer.user {
        Some(u) => Some(
            super::tasks::assigned_tasks(&db, &viewer, &u.user_key, "My tasks".into(), "/", &tq)
                .await?,
        ),
        None => None,
    };
    let saved = content::saved_for_later(&db, &viewer, 20).await?;
    let mut resp = Dashboard {
        layout: Layout::new("Dashboard", &viewer),
        spaces: space_items(spaces),
        recent: recent.iter().map(item).collect(),
        can_create_space: viewer.can_create_space,
        my_tasks,
        saved: saved.iter().map(item).collect(),
        favourite_spaces,
    }
    .into_html();
    // Only stored data and absolute times: cacheable until the data moves.
    resp.extensions_mut()
        .insert(crate::http::response_cache::Cacheable);
    Ok(resp)
}

#[derive(Template)]
#[template(path = "spaces.html")]
struct Directory {
    layout: Layout,
    spaces: Vec<SpaceItem>,
    can_create_space: bool,
    /// Every category of the visible spaces, with its number of spaces.
    categories: Vec<(String, i64)>,
    /// The category the list is filtered by ("" for none).
    category: String,
}

#[derive(Deserialize)]
struct DirectoryQ {
    category: Option<String>,
}

async fn directory(
    State(app): State<AppState>,
    viewer: Viewer,
    Query(q): Query<DirectoryQ>,
) -> UiResult {
    if !viewer.can_use {
        return Err(Error::Unauthorized("log in to use the wiki".into())).next("/spaces");
    }
    let db = app.pool.get().await?;
    let category = q.category.unwrap_or_default().trim().to_lowercase();
    let mut by_space = content::categories_by_space(&db, &viewer).await?;
    let mut spaces = Vec::new();
    for s in content::spaces(&db, &viewer).await? {
        let cats = by_space.remove(&s.id).unwrap_or_default();
        if !category.is_empty() && !cats.contains(&category) {
            continue;
        }
        let mut item = space_items(vec![s]).remove(0);
        item.categories = cats;
        spaces.push(item);
    }
    Ok(Directory {
        layout: Layout::new("Spaces", &viewer),
        spaces,
        can_create_space: viewer.can_create_space,
        categories: content::all_categories(&db, &viewer).await?,
        category,
    }
    .into_html())
}

#[derive(Template)]
#[template(path = "space_create.html")]
struct CreateSpace {
    layout: Layout,
    key: String,
    name: String,
    description: String,
    error: String,
}

async fn create_space_form(viewer: Viewer) -> UiResult {
    viewer.require_user().next("/spaces/create")?;
    Ok(CreateSpace {
        layout: Layout::new("Create space", &viewer),
        key: String::new(),
        name: String::new(),
        description: String::new(),
        error: String::new(),
    }
    .into_html())
}

async fn create_space(State(app): State<AppState>, Posted { viewer, form }: Posted) -> UiResult {
    let mut db = app.pool.get().await?;
    let key = form.text("key").trim().to_owned();
    match content::create_space(
        &mut db,
        &viewer,
        &key,
        form.text("name"),
        form.text("description"),
    )
    .await
    {
        Ok(s) => Ok(see_other(&format!("/spaces/{}", enc(&s.key)))),
        Err(Error::BadRequest(m)) => {
            let mut r = CreateSpace {
                layout: Layout::new("Create space", &viewer),
                key,
                name: form.text("name").into(),
                description: form.text("description").into(),
                error: m,
            }
            .into_html();
            *r.status_mut() = axum::http::StatusCode::BAD_REQUEST;
            Ok(r)
        }
        Err(e) => Err(e.into()),
    }
}

async fn space_home(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(key): Path<String>,
) -> UiResult {
    let db = app.pool.get().await?;
    let s = content::space(&db, &viewer, &key)
        .await
        .or_login(&viewer, &format!("/spaces/{key}"))?;
    if let Some(h) = s.homepage_id {
        if let Ok(c) = content::get(&db, &viewer, h).await {
            return Ok(see_other(&page_url(&c.space_key, c.id, &c.title)));
        }
    }
    Ok(see_other(&format!("/spaces/{}/blog", enc(&s.key))))
}

#[derive(Template)]
#[template(path = "blog.html")]
struct BlogPage {
    layout: Layout,
    key: String,
    posts: Vec<(Item, String)>,
    can_edit: bool,
    /// Whether the viewer watches the space, and its blog.
    watching: (bool, bool),
}

async fn blog(State(app): State<AppState>, viewer: Viewer, Path(key): Path<String>) -> UiResult {
    let db = app.pool.get().await?;
    let s = content::space(&db, &viewer, &key)
        .await
        .or_login(&viewer, &format!("/spaces/{key}/blog"))?;
    let posts = content::blog_posts(&db, &viewer, s.id, 0, 50).await?;
    let can_edit = viewer.has_space_perm(&db, s.id, SpacePerm::Edit).await?;
    let watching = crate::notify::watches::space_buttons(&db, &viewer, s.id).await?;
    Ok(BlogPage {
        watching,
        layout: Layout::new(format!("Blog - {}", s.name), &viewer).in_space(
            &s.key,
            &s.name,
            &viewer.space_perms(&db, s.id).await?,
        ),
        key: s.key.clone(),
        posts: posts
            .iter()
            .map(|c| {
                (
                    item(c),
                    c.posting_day
                        .map(|d| d.format("%B %-d, %Y").to_string())
                        .unwrap_or_default(),
                )
            })
            .collect(),
        can_edit,
    }
    .into_html())
}

#[derive(Template)]
#[template(path = "space_settings.html")]
struct SettingsPage {
    layout: Layout,
    key: String,
    name: String,
    description: String,
    grid_rows: Vec<grid::GridRow>,
    grid_perms: Vec<(&'static str, &'static str)>,
    grid_action: String,
    message: String,
    /// Pages that can be the home page (the root pages and their children),
    /// and the current one.
    pages: Vec<(i64, String)>,
    homepage: i64,
    /// The space's categories, comma separated.
    categories: String,
}

async fn settings_page(app: &AppState, viewer: &Viewer, key: &str, message: String) -> UiResult {
    let db = app.pool.get().await?;
    let s = content::space_for_admin(&db, viewer, key)
        .await
        .or_login(viewer, &format!("/spaces/{key}/settings"))?;
    Ok(SettingsPage {
        layout: Layout::new(format!("Space settings - {}", s.name), viewer).in_space(
            &s.key,
            &s.name,
            &viewer.space_perms(&db, s.id).await?,
        ),
        grid_rows: grid::rows(
            &content::space_grants(&db, s.id).await?,
            &SpacePerm::ALL.map(SpacePerm::as_str),
        ),
        grid_perms: SpacePerm::ALL
            .iter()
            .map(|p| (p.as_str(), p.label()))
            .collect(),
        grid_action: format!("/spaces/{}/permissions", crate::urls::enc(&s.key)),
        pages: home_choices(&db, viewer, s.id).await?,
        homepage: s.homepage_id.unwrap_or(0),
        categories: content::categories(&db, s.id).await?.join(", "),
        key: s.key,
        name: s.name,
        description: s.description,
        message,
    }
    .into_html())
}

async fn settings(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(key): Path<String>,
    Query(n): Query<Notice>,
) -> UiResult {
    settings_page(&app, &viewer, &key, n.message()).await
}

/// The pages a space's home can be: its root pages and their children (at
/// most 300), by tree order.
async fn home_choices(
    db: &deadpool_postgres::Object,
    viewer: &Viewer,
    space_id: i64,
) -> Result<Vec<(i64, String)>, Error> {
    let mut out = Vec::new();
    for root in content::children(db, viewer, space_id, None, 0, 100).await? {
        let kids = if root.has_children {
            content::children(db, viewer, space_id, Some(root.id), 0, 100).await?
        } else {
            Vec::new()
        };
        out.push((root.id, root.title));
        for k in kids {
            out.push((k.id, format!("– {}", k.title)));
        }
        if out.len() >= 300 {
            break;
        }
    }
    Ok(out)
}

fn settings_url(key: &str) -> String {
    format!("/spaces/{}/settings", crate::urls::enc(key))
}

async fn settings_post(
    State(app): State<AppState>,
    Path(key): Path<String>,
    Posted { viewer, form }: Posted,
) -> UiResult {
    let mut db = app.pool.get().await?;
    let s = content::space_for_admin(&db, &viewer, &key).await?;
    content::set_categories(&mut db, &viewer, &s, form.text("categories"))
        .await
        .on_field("categories")?;
    let r = content::update_space(
        &db,
        &viewer,
        &s,
        form.text("name"),
        form.text("description"),
        form.opt_int("homepage").on_field("homepage")?,
    )
    .await;
    if let Err(Error::BadRequest(m)) = r {
        let field = if m.to_lowercase().contains("home page") {
            "homepage"
        } else if m.to_lowercase().contains("description") {
            "description"
        } else {
            "name"
        };
        return Err(Error::BadRequest(m)).on_field(field);
    }
    r?;
    Ok(notice::done(&settings_url(&s.key), "saved"))
}

async fn permissions_post(
    State(app): State<AppState>,
    Path(key): Path<String>,
    Posted { viewer, form }: Posted,
) -> UiResult {
    let mut db = app.pool.get().await?;
    let s = content::space_for_admin(&db, &viewer, &key).await?;
    if form.text("action") == "grid" {
        let grants = content::space_grants(&db, s.id).await?;
        let mut changes = Vec::new();
        for (kind, name, perm, granted) in
            grid::changes(&form, &grants, &SpacePerm::ALL.map(SpacePerm::as_str))
                .on_field("new_name")?
        {
            let who = grid::principal(&db, &form, &kind, &name).await?;
            let perm = SpacePerm::parse(&perm)
                .ok_or_else(|| Error::BadRequest(format!("unknown space permission {perm:?}")))?;
            changes.push((who, perm, granted));
        }
        let n = changes.len();
        content::set_space_grants(&mut db, &viewer, s.id, &changes).await?;
        return Ok(grid::saved(&settings_url(&s.key), n));
    }
    let who = users::parse_principal(&db, form.text("kind"), form.text("name").trim())
        .await
        .on_name("name")?;
    let perm = SpacePerm::parse(form.text("permission")).ok_or_else(|| {
        Error::BadRequest(format!(
            "unknown space permission {:?}",
            form.text("permission")
        ))
    })?;
    content::set_space_grant(&db, &viewer, s.id, perm, &who, form.text("grant") == "1").await?;
    Ok(notice::done(&settings_url(&s.key), "permissions"))
}

struct TrashRow {
    id: i64,
    title: String,
    kind: &'static str,
    when: String,
    by: String,
    descendants: i64,
}

#[derive(Template)]
#[template(path = "trash.html")]
struct TrashPage {
    layout: Layout,
    key: String,
    items: Vec<TrashRow>,
}

async fn trash(State(app): State<AppState>, viewer: Viewer, Path(key): Path<String>) -> UiResult {
    let db = app.pool.get().await?;
    let s = content::space(&db, &viewer, &key)
        .await
        .or_login(&viewer, &format!("/spaces/{key}/trash"))?;
    let items = content::trash_list(&db, &viewer, s.id).await?;
    Ok(TrashPage {
        layout: Layout::new(format!("Trash - {}", s.name), &viewer).in_space(
            &s.key,
            &s.name,
            &viewer.space_perms(&db, s.id).await?,
        ),
        key: s.key.clone(),
        items: items
            .into_iter()
            .map(|t| TrashRow {
                id: t.id,
                title: t.title,
                kind: match t.content_type {
                    ContentType::BlogPost => "Blog post",
                    ContentType::Attachment => "Attachment",
                    _ => "Page",
                },
                when: super::time_html(&t.trashed_at),
                by: t.trashed_by,
                descendants: t.descendants,
            })
            .collect(),
    }
    .into_html())
}

async fn trash_restore(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    Posted { viewer, form: _ }: Posted,
) -> UiResult {
    let mut db = app.pool.get().await?;
    let c = content::restore_from_trash(&mut db, &viewer, id).await?;
    let to = match c.content_type {
        ContentType::Attachment => format!("/pages/{}/attachments", c.container_id.unwrap_or(c.id)),
        _ => page_url(&c.space_key, c.id, &c.title),
    };
    Ok(see_other(&to))
}

async fn trash_purge(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    Posted { viewer, form: _ }: Posted,
) -> UiResult {
    let db = app.pool.get().await?;
    let c = content::get_any(&db, &viewer, id).await?;
    content::purge(&db, &viewer, id).await?;
    Ok(see_other(&format!("/spaces/{}/trash", enc(&c.space_key))))
}
