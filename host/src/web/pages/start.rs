//! Where a new page starts: the Create screen (a blank page, a blog post,
//! the space's and the global templates, the space's blueprints; filtered
//! as the author types), the short form a template's variables or a
//! blueprint asks for, then the editor with the page filled in.
//!
//! Invariant: nothing is stored until the author saves in the editor; a
//! blueprint's index page is made then (`create` in `editor.rs`).

use super::*;
use crate::templates::{self, blueprints, VarKind};

#[derive(Deserialize, Default)]
pub(super) struct StartQ {
    parent: Option<i64>,
}

struct Choice {
    url: String,
    name: String,
    description: String,
    /// "Template", "Global template", "Blueprint"…
    kind: &'static str,
}

#[derive(Template)]
#[template(path = "create_start.html")]
pub(super) struct StartPage {
    layout: Layout,
    key: String,
    choices: Vec<Choice>,
    can_manage: bool,
}

fn with_parent(url: String, parent: Option<i64>) -> String {
    match parent {
        Some(p) => format!(
            "{url}{}parent={p}",
            if url.contains('?') { '&' } else { '?' }
        ),
        None => url,
    }
}

/// The Create screen.
pub(super) async fn start(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(key): Path<String>,
    Query(q): Query<StartQ>,
) -> UiResult {
    let here = format!("/spaces/{key}/new");
    let db = app.pool.get().await?;
    let s = content::space(&db, &viewer, &key)
        .await
        .or_login(&viewer, &here)?;
    viewer
        .require_space_perm(&db, s.id, SpacePerm::Edit)
        .await
        .next(&here)?;
    let k = enc(&s.key);
    let mut choices = vec![
        Choice {
            url: with_parent(format!("/spaces/{k}/create"), q.parent),
            name: "Blank page".into(),
            description: "Start from nothing".into(),
            kind: "Page",
        },
        Choice {
            url: format!("/spaces/{k}/create?type=blogpost"),
            name: "Blog post".into(),
            description: "Share news with the space".into(),
            kind: "Blog post",
        },
    ];
    for (b, on) in blueprints::enabled(&db, s.id).await? {
        if on {
            choices.push(Choice {
                url: with_parent(format!("/spaces/{k}/new/blueprint/{}", b.key), q.parent),
                name: b.name.into(),
                description: b.description.into(),
                kind: "Blueprint",
            });
        }
    }
    for t in templates::list(&db, &viewer, Some(&s.key)).await? {
        choices.push(Choice {
            url: with_parent(format!("/spaces/{k}/new/template/{}", t.id), q.parent),
            name: t.name,
            description: t.description,
            kind: if t.space_key.is_some() {
                "Space template"
            } else {
                "Global template"
            },
        });
    }
    let perms = viewer.space_perms(&db, s.id).await?;
    Ok(StartPage {
        layout: Layout::new("Create", &viewer).in_space(&s.key, &s.name, &perms),
        key: s.key,
        choices,
        can_manage: perms.contains(&SpacePerm::Admin),
    }
    .into_html())
}

/// One field of the short form.
struct Field {
    name: String,
    label: String,
    /// "text", "textarea", "list", "date", "people".
    kind: &'static str,
    options: Vec<String>,
    value: String,
}

#[derive(Template)]
#[template(path = "create_fill.html")]
pub(super) struct FillPage {
    layout: Layout,
    heading: String,
    action: String,
    description: String,
    ask_title: bool,
    title: String,
    fields: Vec<Field>,
    error: String,
    parent: String,
}

fn label_of(name: &str) -> String {
    let mut s = name.replace(['_', '-'], " ");
    if let Some(c) = s.get(..1) {
        s = c.to_uppercase() + &s[1..];
    }
    s
}

fn fields(vars: &[templates::Variable], form: Option<&FormData>, today: &str) -> Vec<Field> {
    vars.iter()
        .map(|v| {
            let (kind, options) = match (&v.kind, v.name.as_str()) {
                (_, "date") => ("date", Vec::new()),
                (_, "attendees") => ("people", Vec::new()),
                (VarKind::TextArea, _) => ("textarea", Vec::new()),
                (VarKind::List(o), _) => ("list", o.clone()),
                (VarKind::Text, _) => ("text", Vec::new()),
            };
            let value = form
                .and_then(|f| f.get(&format!("var-{}", v.name)))
                .map(str::to_owned)
                .unwrap_or_else(|| {
                    if kind == "date" {
                        today.to_owned()
                    } else {
                        String::new()
                    }
                });
            Field {
                label: label_of(&v.name),
                name: v.name.clone(),
                kind,
                options,
                value,
            }
        })
        .collect()
}

fn today() -> String {
    chrono::Utc::now().format("%Y-%m-%d").to_string()
}

async fn space_for_writing(
    db: &deadpool_postgres::Object,
    viewer: &Viewer,
    key: &str,
    here: &str,
) -> UiResult<content::Space> {
    let s = content::space(db, viewer, key)
        .await
        .or_login(viewer, here)?;
    viewer
        .require_space_perm(db, s.id, SpacePerm::Edit)
        .await
        .next(here)?;
    Ok(s)
}

/// A template's form (or, without variables, the editor at once).
pub(super) async fn from_template(
    State(app): State<AppState>,
    viewer: Viewer,
    Path((key, id)): Path<(String, i64)>,
    Query(q): Query<StartQ>,
) -> UiResult {
    let here = format!("/spaces/{key}/new/template/{id}");
    let db = app.pool.get().await?;
    let s = space_for_writing(&db, &viewer, &key, &here).await?;
    let t = templates::get(&db, &viewer, id).await?;
    let vars = templates::variables(&t.body)?;
    let parent = q.parent.map(|p| p.to_string()).unwrap_or_default();
    if vars.is_empty() {
        return template_editor(&db, &viewer, &s, &t, &FormData(Vec::new()), parent).await;
    }
    Ok(FillPage {
        layout: Layout::new(format!("Create from {}", t.name), &viewer).in_space(
            &s.key,
            &s.name,
            &viewer.space_perms(&db, s.id).await?,
        ),
        heading: format!("New page from “{}”", t.name),
        action: here,
        description: t.description.clone(),
        ask_title: false,
        title: String::new(),
        fields: fields(&vars, None, &today()),
        error: String::new(),
        parent,
    }
    .into_html())
}

async fn template_editor(
    db: &deadpool_postgres::Object,
    viewer: &Viewer,
    s: &content::Space,
    t: &templates::Template,
    form: &FormData,
    parent: String,
) -> UiResult {
    let body = templates::apply(&t.body, &|n| {
        form.get(&format!("var-{n}")).map(str::to_owned)
    })?;
    Ok(Editor::new_content(
        viewer,
        s,
        &viewer.space_perms(db, s.id).await?,
        false,
        parent,
    )
    .starting_with(String::new(), body, t.labels.join(", "), String::new())
    .into_html())
}

pub(super) async fn from_template_post(
    State(app): State<AppState>,
    Path((key, id)): Path<(String, i64)>,
    Posted { viewer, form }: Posted,
) -> UiResult {
    let here = format!("/spaces/{key}/new/template/{id}");
    let db = app.pool.get().await?;
    let s = space_for_writing(&db, &viewer, &key, &here).await?;
    let t = templates::get(&db, &viewer, id).await?;
    template_editor(&db, &viewer, &s, &t, &form, form.text("parent").to_owned()).await
}

/// A blueprint's form: the title when the author types it, and its
/// variables (the date defaults to today).
pub(super) async fn from_blueprint(
    State(app): State<AppState>,
    viewer: Viewer,
    Path((key, bp)): Path<(String, String)>,
    Query(q): Query<StartQ>,
) -> UiResult {
    let here = format!("/spaces/{key}/new/blueprint/{bp}");
    let db = app.pool.get().await?;
    let s = space_for_writing(&db, &viewer, &key, &here).await?;
    let b = blueprints::offered(&db, s.id, &bp).await?;
    fill_page(
        &db,
        &viewer,
        &s,
        b,
        None,
        String::new(),
        q.parent.map(|p| p.to_string()).unwrap_or_default(),
    )
    .await
}

async fn fill_page(
    db: &deadpool_postgres::Object,
    viewer: &Viewer,
    s: &content::Space,
    b: &blueprints::Blueprint,
    form: Option<&FormData>,
    error: String,
    parent: String,
) -> UiResult {
    let vars = templates::variables(b.body)?;
    let mut r = FillPage {
        layout: Layout::new(format!("Create {}", b.name), viewer).in_space(
            &s.key,
            &s.name,
            &viewer.space_perms(db, s.id).await?,
        ),
        heading: format!("New {}", b.name.to_lowercase()),
        action: format!("/spaces/{}/new/blueprint/{}", enc(&s.key), b.key),
        description: b.description.into(),
        ask_title: b.title.is_empty(),
        title: form.map(|f| f.text("title").to_owned()).unwrap_or_default(),
        fields: fields(&vars, form, &today()),
        error: error.clone(),
        parent,
    }
    .into_html();
    if !error.is_empty() {
        *r.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(r)
}

pub(super) async fn from_blueprint_post(
    State(app): State<AppState>,
    Path((key, bp)): Path<(String, String)>,
    Posted { viewer, form }: Posted,
) -> UiResult {
    let here = format!("/spaces/{key}/new/blueprint/{bp}");
    let db = app.pool.get().await?;
    let s = space_for_writing(&db, &viewer, &key, &here).await?;
    let b = blueprints::offered(&db, s.id, &bp).await?;
    let parent = form.text("parent").to_owned();
    let value = |n: &str| form.get(&format!("var-{n}")).map(str::to_owned);
    let title = b.title_for(&value("date").unwrap_or_else(today), form.text("title"));
    let body = match blueprints::fill(&db, b, &value).await {
        Ok(body) if !title.is_empty() => body,
        Ok(_) => {
            return fill_page(
                &db,
                &viewer,
                &s,
                b,
                Some(&form),
                "Give the page a title.".into(),
                parent,
            )
            .await
        }
        Err(Error::BadRequest(m)) => {
            return fill_page(
                &db,
                &viewer,
                &s,
                b,
                Some(&form),
                super::super::errors::sentence(&m),
                parent,
            )
            .await
        }
        Err(e) => return Err(e.into()),
    };
    Ok(Editor::new_content(
        &viewer,
        &s,
        &viewer.space_perms(&db, s.id).await?,
        false,
        parent,
    )
    .starting_with(title, body, b.label.to_owned(), b.key.to_owned())
    .into_html())
}
