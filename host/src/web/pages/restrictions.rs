//! The page restrictions screen.
//!
//! Invariant: only viewers with `restrict` on the space see or change it.

use super::*;

#[derive(Template)]
#[template(path = "restrictions.html")]
pub(super) struct RestrictionsPage {
    layout: Layout,
    id: i64,
    title: String,
    page_url: String,
    read: Vec<crate::users::Grant>,
    update: Vec<crate::users::Grant>,
    message: String,
}

pub(super) async fn restrictions_page(
    app: &AppState,
    viewer: &Viewer,
    id: i64,
    message: String,
) -> UiResult {
    let db = app.pool.get().await?;
    let c = content::get(&db, viewer, id)
        .await
        .or_login(viewer, &format!("/pages/{id}/restrictions"))?;
    let r = content::restrictions(&db, viewer, id).await?;
    Ok(RestrictionsPage {
        layout: Layout::new(format!("Restrictions - {}", c.title), viewer)
            .of_content(&c, &viewer.space_perms(&db, c.space_id).await?),
        id,
        title: c.title.clone(),
        page_url: page_url(&c.space_key, c.id, &c.title),
        read: r.read,
        update: r.update,
        message,
    }
    .into_html())
}

pub(super) async fn restrictions(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Query(n): Query<Notice>,
) -> UiResult {
    restrictions_page(&app, &viewer, id, n.message()).await
}

pub(super) async fn restrictions_post(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    Posted { viewer, form }: Posted,
) -> UiResult {
    let db = app.pool.get().await?;
    let op = form.text("operation");
    if form.text("action") == "clear" {
        content::clear_restrictions(&db, &viewer, id, op).await?;
    } else {
        let who = crate::users::parse_principal(&db, form.text("kind"), form.text("name").trim())
            .await
            .on_name("name")?;
        content::set_restriction(&db, &viewer, id, op, &who, form.text("action") != "remove")
            .await
            .on_field("name")?;
    }
    Ok(notice::done(
        &format!("/pages/{id}/restrictions"),
        "restrictions",
    ))
}
