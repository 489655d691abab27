//! Managing templates: a space's templates and blueprints (space
//! administrators, `/spaces/{key}/templates`) and the global templates
//! (site administrators, `/admin/templates`).
//!
//! Invariant: every change is checked by `templates` (who may, what is
//! valid); a refused form keeps what was typed (`data-inline-errors`) and
//! one that worked goes back to the list with a notice.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::Router;

use super::notice::{self, Notice};
use super::{IntoHtml, Layout, OnField, OrLogin, Posted, UiResult, WithNext};
use crate::content;
use crate::error::Error;
use crate::perms::{SpacePerm, Viewer};
use crate::templates::{self, blueprints, TemplateInput};
use crate::urls::enc;
use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/spaces/{key}/templates", get(space_list))
        .route(
            "/spaces/{key}/templates/new",
            get(space_new).post(space_create),
        )
        .route("/spaces/{key}/blueprints", post(blueprint_toggle))
        .route("/admin/templates", get(global_list))
        .route("/admin/templates/new", get(global_new).post(global_create))
        .route("/templates/{id}/edit", get(edit).post(edit_post))
        .route("/templates/{id}/delete", post(delete))
}

struct Row {
    id: i64,
    name: String,
    description: String,
    global: bool,
}

#[derive(Template)]
#[template(path = "templates_list.html")]
struct ListPage {
    layout: Layout,
    /// The space's key, or empty for the global list.
    key: String,
    rows: Vec<Row>,
    blueprints: Vec<(&'static str, &'static str, &'static str, bool)>,
    message: String,
    new_url: String,
}

async fn space_list(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(key): Path<String>,
    Query(n): Query<Notice>,
) -> UiResult {
    let here = format!("/spaces/{key}/templates");
    let db = app.pool.get().await?;
    let s = content::space(&db, &viewer, &key)
        .await
        .or_login(&viewer, &here)?;
    viewer
        .require_space_perm(&db, s.id, SpacePerm::Admin)
        .await
        .next(&here)?;
    let rows = templates::list(&db, &viewer, Some(&s.key))
        .await?
        .into_iter()
        .map(|t| Row {
            id: t.id,
            global: t.space_key.is_none(),
            name: t.name,
            description: t.description,
        })
        .collect();
    let blueprints = blueprints::enabled(&db, s.id)
        .await?
        .into_iter()
        .map(|(b, on)| (b.key, b.name, b.description, on))
        .collect();
    Ok(ListPage {
        layout: Layout::new(format!("Templates - {}", s.name), &viewer).in_space(
            &s.key,
            &s.name,
            &viewer.space_perms(&db, s.id).await?,
        ),
        new_url: format!("/spaces/{}/templates/new", enc(&s.key)),
        key: s.key,
        rows,
        blueprints,
        message: n.message(),
    }
    .into_html())
}

async fn global_list(
    State(app): State<AppState>,
    viewer: Viewer,
    Query(n): Query<Notice>,
) -> UiResult {
    viewer.require_admin().next("/admin/templates")?;
    let db = app.pool.get().await?;
    let rows = templates::list(&db, &viewer, None)
        .await?
        .into_iter()
        .map(|t| Row {
            id: t.id,
            global: true,
            name: t.name,
            description: t.description,
        })
        .collect();
    Ok(ListPage {
        layout: Layout::new("Templates", &viewer),
        key: String::new(),
        rows,
        blueprints: Vec::new(),
        message: n.message(),
        new_url: "/admin/templates/new".into(),
    }
    .into_html())
}

#[derive(Template)]
#[template(path = "template_edit.html")]
struct EditPage {
    layout: Layout,
    heading: String,
    action: String,
    back: String,
    name: String,
    description: String,
    labels: String,
    body: String,
    version: i32,
    admin_tabs: bool,
}

const STARTER: &str = "<at:declarations><at:string at:name=\"owner\" /></at:declarations>\n<p>Owner: <at:var at:name=\"owner\" /></p>\n<h2>Notes</h2>\n<p><ac:placeholder>Write here</ac:placeholder></p>";

async fn space_new(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(key): Path<String>,
) -> UiResult {
    let here = format!("/spaces/{key}/templates/new");
    let db = app.pool.get().await?;
    let s = content::space(&db, &viewer, &key)
        .await
        .or_login(&viewer, &here)?;
    viewer
        .require_space_perm(&db, s.id, SpacePerm::Admin)
        .await
        .next(&here)?;
    Ok(EditPage {
        layout: Layout::new("New template", &viewer).in_space(
            &s.key,
            &s.name,
            &viewer.space_perms(&db, s.id).await?,
        ),
        heading: format!("New template in {}", s.name),
        action: here,
        back: format!("/spaces/{}/templates", enc(&s.key)),
        name: String::new(),
        description: String::new(),
        labels: String::new(),
        body: STARTER.into(),
        version: 0,
        admin_tabs: false,
    }
    .into_html())
}

async fn global_new(viewer: Viewer) -> UiResult {
    viewer.require_admin().next("/admin/templates/new")?;
    Ok(EditPage {
        layout: Layout::new("Templates", &viewer),
        heading: "New global template".into(),
        action: "/admin/templates/new".into(),
        back: "/admin/templates".into(),
        name: String::new(),
        description: String::new(),
        labels: String::new(),
        body: STARTER.into(),
        version: 0,
        admin_tabs: true,
    }
    .into_html())
}

fn labels_of(form: &super::FormData) -> Vec<String> {
    form.text("labels")
        .split([',', ' '])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The field a refusal is about.
fn field_of(e: &Error) -> &'static str {
    let m = e.public_message().to_lowercase();
    if m.contains("name") {
        "name"
    } else if m.contains("label") {
        "labels"
    } else if m.contains("description") {
        "description"
    } else {
        "body"
    }
}

async fn save_new(
    app: &AppState,
    viewer: &Viewer,
    form: &super::FormData,
    space: Option<&str>,
    back: &str,
) -> UiResult {
    let db = app.pool.get().await?;
    let labels = labels_of(form);
    let input = TemplateInput {
        name: form.text("name"),
        description: form.text("description"),
        body: form.text("body"),
        labels: &labels,
    };
    let r = templates::create(&db, viewer, space, &input).await;
    if let Err(e) = &r {
        let f = field_of(e);
        return Err(r.unwrap_err()).on_field(f);
    }
    Ok(notice::done_with(
        back,
        "template-saved",
        form.text("name").trim(),
        "",
    ))
}

async fn space_create(
    State(app): State<AppState>,
    Path(key): Path<String>,
    Posted { viewer, form }: Posted,
) -> UiResult {
    let back = format!("/spaces/{}/templates", enc(&key));
    save_new(&app, &viewer, &form, Some(&key), &back).await
}

async fn global_create(State(app): State<AppState>, Posted { viewer, form }: Posted) -> UiResult {
    save_new(&app, &viewer, &form, None, "/admin/templates").await
}

fn list_url(t: &templates::Template) -> String {
    match &t.space_key {
        Some(k) => format!("/spaces/{}/templates", enc(k)),
        None => "/admin/templates".into(),
    }
}

async fn edit(State(app): State<AppState>, viewer: Viewer, Path(id): Path<i64>) -> UiResult {
    let here = format!("/templates/{id}/edit");
    let db = app.pool.get().await?;
    let t = templates::get(&db, &viewer, id)
        .await
        .or_login(&viewer, &here)?;
    let layout = match &t.space_key {
        Some(k) => {
            let s = content::space(&db, &viewer, k).await?;
            viewer
                .require_space_perm(&db, s.id, SpacePerm::Admin)
                .await
                .next(&here)?;
            Layout::new(format!("Edit template {}", t.name), &viewer).in_space(
                &s.key,
                &s.name,
                &viewer.space_perms(&db, s.id).await?,
            )
        }
        None => {
            viewer.require_admin().next(&here)?;
            Layout::new("Templates", &viewer)
        }
    };
    Ok(EditPage {
        layout,
        heading: format!("Edit template “{}”", t.name),
        action: here,
        back: list_url(&t),
        admin_tabs: t.space_key.is_none(),
        name: t.name,
        description: t.description,
        labels: t.labels.join(", "),
        body: t.body,
        version: t.version,
    }
    .into_html())
}

async fn edit_post(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    Posted { viewer, form }: Posted,
) -> UiResult {
    let db = app.pool.get().await?;
    let labels = labels_of(&form);
    let input = TemplateInput {
        name: form.text("name"),
        description: form.text("description"),
        body: form.text("body"),
        labels: &labels,
    };
    let version = form.opt_int::<i32>("version")?;
    let r = templates::update(&db, &viewer, id, version, &input).await;
    match r {
        Ok(t) => Ok(notice::done_with(
            &list_url(&t),
            "template-saved",
            &t.name,
            "",
        )),
        Err(e) => {
            let f = field_of(&e);
            Err(e).on_field(f)
        }
    }
}

async fn delete(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    Posted { viewer, form: _ }: Posted,
) -> UiResult {
    let db = app.pool.get().await?;
    let t = templates::get(&db, &viewer, id).await?;
    templates::delete(&db, &viewer, id).await?;
    Ok(notice::done_with(
        &list_url(&t),
        "template-deleted",
        &t.name,
        "",
    ))
}

async fn blueprint_toggle(
    State(app): State<AppState>,
    Path(key): Path<String>,
    Posted { viewer, form }: Posted,
) -> UiResult {
    let db = app.pool.get().await?;
    let s = content::space(&db, &viewer, &key).await?;
    let on = form.text("enabled") == "1";
    let bp = form.text("blueprint");
    blueprints::set_enabled(&db, &viewer, &s, bp, on).await?;
    let name = blueprints::by_key(bp)?.name;
    Ok(notice::done_with(
        &format!("/spaces/{}/templates", enc(&s.key)),
        if on { "blueprint-on" } else { "blueprint-off" },
        name,
        "",
    ))
}
