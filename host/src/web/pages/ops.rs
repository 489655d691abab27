//! Moving, copying and deleting pages, and setting labels from the page.
//!
//! Invariant: each form is CSRF-checked and goes through `content` with the viewer's
//! permissions.

use super::*;

#[derive(Template)]
#[template(path = "move.html")]
pub(super) struct MovePage {
    layout: Layout,
    id: i64,
    title: String,
    key: String,
    page_url: String,
    spaces: Vec<(String, String)>,
    error: String,
}

pub(super) async fn move_form(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> UiResult {
    let db = app.pool.get().await?;
    let c = content::get(&db, &viewer, id)
        .await
        .or_login(&viewer, &format!("/pages/{id}/move"))?;
    let spaces = content::spaces(&db, &viewer).await?;
    Ok(MovePage {
        layout: Layout::new(format!("Move - {}", c.title), &viewer)
            .of_content(&c, &viewer.space_perms(&db, c.space_id).await?),
        id,
        title: c.title.clone(),
        key: c.space_key.clone(),
        page_url: page_url(&c.space_key, c.id, &c.title),
        spaces: spaces.into_iter().map(|s| (s.key, s.name)).collect(),
        error: String::new(),
    }
    .into_html())
}

/// The parent page a Move or Copy form names (`parent`), by id or by title
/// in space `key` (the page's own when none); `None` when left empty.
async fn parent_named(
    db: &deadpool_postgres::Object,
    viewer: &Viewer,
    form: &FormData,
    page: i64,
    key: Option<&str>,
) -> Result<Option<i64>, Error> {
    let Some(p) = form.get("parent").map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    if let Ok(n) = p.parse::<i64>() {
        return Ok(Some(n));
    }
    let k = match key {
        Some(k) => k.to_owned(),
        None => content::get(db, viewer, page).await?.space_key,
    };
    let found = content::by_title(db, viewer, &k, p, ContentType::Page)
        .await?
        .ok_or_else(|| Error::BadRequest(format!("no page titled {p:?} in space {k}")))?;
    Ok(Some(found.id))
}

pub(super) async fn move_post(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    Posted { viewer, form }: Posted,
) -> UiResult {
    let mut db = app.pool.get().await?;
    let key = form
        .get("space")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    let parent = parent_named(&db, &viewer, &form, id, key.as_deref()).await?;
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

#[derive(Template)]
#[template(path = "copy.html")]
pub(super) struct CopyPage {
    layout: Layout,
    id: i64,
    title: String,
    key: String,
    page_url: String,
    spaces: Vec<(String, String)>,
    children: i64,
}

/// The copy screen: where to, what comes along, and whether the pages
/// under it come too.
pub(super) async fn copy_form(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> UiResult {
    let db = app.pool.get().await?;
    let c = content::get(&db, &viewer, id)
        .await
        .or_login(&viewer, &format!("/pages/{id}/copy"))?;
    let spaces = content::spaces(&db, &viewer).await?;
    let children = content::children(&db, &viewer, c.space_id, Some(c.id), 0, 1)
        .await?
        .len() as i64;
    Ok(CopyPage {
        layout: Layout::new(format!("Copy - {}", c.title), &viewer)
            .of_content(&c, &viewer.space_perms(&db, c.space_id).await?),
        id,
        title: c.title.clone(),
        key: c.space_key.clone(),
        page_url: page_url(&c.space_key, c.id, &c.title),
        spaces: spaces.into_iter().map(|s| (s.key, s.name)).collect(),
        children,
    }
    .into_html())
}

/// Copies the page now (alone), or starts a long task that copies it with
/// the pages under it and shows its progress. A form without the options
/// (the old one-click copy) copies the page alone with everything on it.
pub(super) async fn copy(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    Posted { viewer, form }: Posted,
) -> UiResult {
    let mut db = app.pool.get().await?;
    content::get(&db, &viewer, id).await?;
    let detailed = form.get("options").is_some();
    let key = form
        .get("space")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    let parent = parent_named(&db, &viewer, &form, id, key.as_deref())
        .await
        .on_field("parent")?;
    let opts = crate::copy::Options {
        title: form.text("title").to_owned(),
        space_key: key,
        parent,
        children: form.checked("children"),
        attachments: !detailed || form.checked("attachments"),
        labels: !detailed || form.checked("labels"),
        restrictions: !detailed || form.checked("restrictions"),
        properties: true,
        prefix: form.text("prefix").to_owned(),
        search: form.text("search").to_owned(),
        replace: form.text("replace").to_owned(),
    };
    if opts.children {
        let task = crate::copy::copy_tree(&app.pool, &app.node_id, &viewer, id, opts)
            .await
            .on_field("title")?;
        return Ok(see_other(&format!("/tasks/{task}")));
    }
    let n = crate::copy::copy_page(&mut db, &viewer, id, opts)
        .await
        .on_field("title")?;
    Ok(see_other(&page_url(&n.space_key, n.id, &n.title)))
}

pub(super) async fn delete(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    Posted { viewer, form: _ }: Posted,
) -> UiResult {
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

pub(super) async fn labels_post(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    Posted { viewer, form }: Posted,
) -> UiResult {
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
        content::add_labels(&db, &viewer, id, &names)
            .await
            .on_field("labels")?;
    }
    Ok(see_other(&format!(
        "/pages/viewpage.action?pageId={id}#labels"
    )))
}
