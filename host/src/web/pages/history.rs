//! Page history, one version, diffs between versions, and restoring a version.
//!
//! Invariant: every screen checks view permission on the page (restore: edit);
//! restoring writes a new version.

use super::*;

pub(super) struct VersionRow {
    number: i32,
    author: String,
    when: String,
    message: String,
    minor: bool,
    current: bool,
}

#[derive(Template)]
#[template(path = "history.html")]
pub(super) struct HistoryPage {
    layout: Layout,
    id: i64,
    title: String,
    page_url: String,
    versions: Vec<VersionRow>,
    can_edit: bool,
    current: i32,
    /// (move id, from, to, by, when html, still current).
    moves: Vec<(i64, String, String, String, String, bool)>,
}

pub(super) async fn history(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> UiResult {
    let here = format!("/pages/{id}/history");
    let db = app.pool.get().await?;
    let c = content::get(&db, &viewer, id)
        .await
        .or_login(&viewer, &here)?;
    let versions = content::history(&db, &viewer, id).await?;
    let can_edit = viewer
        .has_space_perm(&db, c.space_id, SpacePerm::Edit)
        .await?
        && viewer.passes_update_restrictions(&db, c.id).await?;
    let moves = content::moves(&db, &viewer, id)
        .await?
        .into_iter()
        .map(|m| (m.id, m.from, m.to, m.by, super::time_html(&m.at), m.current))
        .collect();
    Ok(HistoryPage {
        moves,
        layout: Layout::new(format!("History - {}", c.title), &viewer)
            .of_content(&c, &viewer.space_perms(&db, c.space_id).await?),
        id,
        title: c.title.clone(),
        page_url: page_url(&c.space_key, c.id, &c.title),
        versions: versions
            .iter()
            .map(|v| VersionRow {
                number: v.number,
                author: v.author.display_name.clone(),
                when: super::time_html(&v.created_at),
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
pub(super) struct VersionPage {
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

pub(super) async fn version_view(
    State(app): State<AppState>,
    viewer: Viewer,
    Path((id, n)): Path<(i64, i32)>,
) -> UiResult {
    let db = app.pool.get().await?;
    let c = content::get(&db, &viewer, id)
        .await
        .or_login(&viewer, &format!("/pages/{id}/version/{n}"))?;
    let v = content::version(&db, &viewer, id, n).await?;
    let html = app
        .presenter
        .render_source(&db, &viewer, &c.space_key, Some(&c), &v.body)
        .await?
        .html;
    let can_edit = viewer
        .has_space_perm(&db, c.space_id, SpacePerm::Edit)
        .await?;
    Ok(VersionPage {
        layout: Layout::new(format!("{} (v. {n})", v.title), &viewer)
            .of_content(&c, &viewer.space_perms(&db, c.space_id).await?),
        id,
        title: v.title.clone(),
        number: n,
        current: c.version,
        author: v.author.display_name.clone(),
        when: super::time_html(&v.created_at),
        html,
        page_url: page_url(&c.space_key, c.id, &c.title),
        can_edit,
    }
    .into_html())
}

#[derive(Deserialize)]
pub(super) struct DiffQ {
    from: Option<i32>,
    to: Option<i32>,
    mode: Option<String>,
}

#[derive(Template)]
#[template(path = "diff.html")]
pub(super) struct DiffPage {
    layout: Layout,
    id: i64,
    title: String,
    from: i32,
    to: i32,
    from_title: String,
    to_title: String,
    /// rendered, side, source or source-side.
    mode: &'static str,
    diff: String,
    page_url: String,
}

pub(super) async fn diff(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Query(q): Query<DiffQ>,
) -> UiResult {
    let db = app.pool.get().await?;
    let c = content::get(&db, &viewer, id)
        .await
        .or_login(&viewer, &format!("/pages/{id}/diff"))?;
    let to = q.to.unwrap_or(c.version);
    let from = q.from.unwrap_or((to - 1).max(1));
    let a = content::version(&db, &viewer, id, from).await?;
    let b = content::version(&db, &viewer, id, to).await?;
    let mode: &'static str = match q.mode.as_deref() {
        Some("side") => "side",
        Some("source") => "source",
        Some("source-side") => "source-side",
        _ => "rendered",
    };
    let diff = if mode.starts_with("source") {
        let side = mode == "source-side";
        let (ab, bb) = (a.body.clone(), b.body.clone());
        tokio::task::spawn_blocking(move || {
            if side {
                cairn_render::diff_side_by_side_html(&ab, &bb)
            } else {
                cairn_render::diff_inline_html(&ab, &bb)
            }
        })
        .await
        .map_err(Error::internal)?
    } else {
        app.presenter
            .render_diff(&db, &viewer, &c, &a.body, &b.body, mode == "side")
            .await?
    };
    Ok(DiffPage {
        layout: Layout::new(format!("Compare - {}", c.title), &viewer)
            .of_content(&c, &viewer.space_perms(&db, c.space_id).await?),
        id,
        title: c.title.clone(),
        from,
        to,
        from_title: a.title,
        to_title: b.title,
        mode,
        diff,
        page_url: page_url(&c.space_key, c.id, &c.title),
    }
    .into_html())
}

pub(super) async fn restore(
    State(app): State<AppState>,
    Path((id, n)): Path<(i64, i32)>,
    Posted { viewer, form }: Posted,
) -> UiResult {
    let mut db = app.pool.get().await?;
    let base: i32 = form.int("base_version")?;
    match content::restore_version(&mut db, &viewer, id, n, base).await? {
        Saved::NewVersion(c) | Saved::Unchanged(c) => {
            Ok(see_other(&page_url(&c.space_key, c.id, &c.title)))
        }
    }
}

/// Undoes a move listed in the history: the page goes back where it was.
pub(super) async fn undo_move(
    State(app): State<AppState>,
    Path((id, move_id)): Path<(i64, i64)>,
    Posted { viewer, form: _ }: Posted,
) -> UiResult {
    let mut db = app.pool.get().await?;
    content::undo_move(&mut db, &viewer, id, move_id).await?;
    Ok(see_other(&format!("/pages/{id}/history#moves")))
}
