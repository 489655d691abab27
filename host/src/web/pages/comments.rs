//! Page comments (add, reply, edit, delete) and likes from the page.
//!
//! Invariant: each form is CSRF-checked; only a comment's author (or a space admin)
//! edits or deletes it (`content::comments`).

use super::*;

pub(super) async fn comment_post(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    Posted { viewer, form }: Posted,
) -> UiResult {
    let mut db = app.pool.get().await?;
    let body = comment_body(&db, &form).await?;
    let c = content::add_comment(&mut db, &viewer, id, form.opt_int("reply_to")?, &body)
        .await
        .on_field("body")?;
    Ok(see_other(&format!(
        "/pages/viewpage.action?pageId={id}#comment-{}",
        c.id
    )))
}

/// The storage format of a comment form's `body`: as written when `format`
/// is `storage` (the rich-text editor, the Source mode, an edit without the
/// script), else Markdown with `@username` mentions. The body is checked and
/// sanitised later as every body is (`content::validate_body` on save, the
/// renderer's allow-list on view).
pub(super) async fn comment_body(
    db: &impl deadpool_postgres::GenericClient,
    form: &FormData,
) -> Result<String, Error> {
    if form.text("format") == "storage" {
        Ok(form.text("body").to_owned())
    } else {
        super::super::mentions::storage_from_markdown(db, form.text("body")).await
    }
}

/// The Like button: `like=1` likes, anything else unlikes.
pub(super) async fn like_post(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    Posted { viewer, form }: Posted,
) -> UiResult {
    let db = app.pool.get().await?;
    content::set_like(&db, &viewer, id, form.text("like") == "1").await?;
    Ok(see_other(&format!(
        "/pages/viewpage.action?pageId={id}#likes"
    )))
}

pub(super) async fn comment_edit(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    Posted { viewer, form }: Posted,
) -> UiResult {
    let mut db = app.pool.get().await?;
    let body = comment_body(&db, &form).await?;
    let c = content::edit_comment(&mut db, &viewer, id, &body, form.int("version")?)
        .await
        .on_field("body")?;
    Ok(see_other(&format!(
        "/pages/viewpage.action?pageId={}#comment-{id}",
        c.container_id.unwrap_or(0)
    )))
}

pub(super) async fn comment_delete(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    Posted { viewer, form: _ }: Posted,
) -> UiResult {
    let db = app.pool.get().await?;
    let c = content::get(&db, &viewer, id).await?;
    content::delete_comment(&db, &viewer, id).await?;
    Ok(see_other(&format!(
        "/pages/viewpage.action?pageId={}#comments",
        c.container_id.unwrap_or(0)
    )))
}
