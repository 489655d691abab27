//! The editor: create and edit pages and blog posts (Markdown or storage format), the
//! live preview, and the conflict view.
//!
//! Invariant: a save that lost a race keeps the user's text and shows what changed;
//! nothing typed is dropped on an error.

use super::*;

#[derive(Template)]
#[template(path = "editor.html")]
pub(super) struct Editor {
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
    /// A new page's labels, comma separated (a template's or blueprint's).
    labels: String,
    /// The blueprint a new page comes from: saved under its index page.
    blueprint: String,
    /// The new page's draft this editor saves to (0: none yet).
    draft_id: i64,
    /// An unpublished draft of the viewer's to offer: Resume or Discard.
    offer: Option<DraftOffer>,
    /// The three-way merge of the conflict view (base, theirs, yours), when
    /// the changes did not overlap.
    merged: Option<String>,
    /// The conflict view's diff of the user's own changes (storage format).
    your_diff: String,
}

/// The banner offering the viewer's unpublished draft.
pub(super) struct DraftOffer {
    /// What Discard posts to.
    discard_url: String,
    resume_url: String,
    /// When it was saved, as `<time>` HTML.
    saved: String,
    /// The page changed since the draft started: publishing it shows the conflict view.
    stale: bool,
}

impl DraftOffer {
    fn of(d: &content::Draft, page_version: Option<i32>) -> DraftOffer {
        DraftOffer {
            discard_url: format!("/ui/drafts/{}/discard", d.content_id()),
            resume_url: super::super::drafts::resume_url(d),
            saved: time_html(&d.updated_at),
            stale: matches!((d.base_version, page_version), (Some(b), Some(v)) if b != v),
        }
    }
}

#[derive(Deserialize)]
pub(super) struct CreateQ {
    parent: Option<i64>,
    #[serde(rename = "type")]
    kind: Option<String>,
    /// A new page's draft to resume.
    draft: Option<i64>,
}

#[derive(Deserialize)]
pub(super) struct EditQ {
    /// `resume`: fill the editor with the viewer's draft of the page.
    draft: Option<String>,
}

impl Editor {
    /// An empty editor for a new page or blog post in space `s`.
    pub(super) fn new_content(
        viewer: &Viewer,
        s: &content::Space,
        perms: &[SpacePerm],
        is_blog: bool,
        parent: String,
    ) -> Editor {
        Editor {
            layout: Layout::new("Create", viewer).in_space(&s.key, &s.name, perms),
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
            // The rich-text editor writes storage format.
            format: "storage".into(),
            base_version: 0,
            parent,
            message: String::new(),
            minor: false,
            error: String::new(),
            conflict_diff: String::new(),
            cancel_url: format!("/spaces/{}", enc(&s.key)),
            is_blog,
            labels: String::new(),
            blueprint: String::new(),
            draft_id: 0,
            offer: None,
            merged: None,
            your_diff: String::new(),
        }
    }

    /// A new page filled in from a template or blueprint (storage format).
    pub(super) fn starting_with(
        mut self,
        title: String,
        body: String,
        labels: String,
        blueprint: String,
    ) -> Editor {
        self.title = title;
        self.source = body;
        self.format = "storage".into();
        self.labels = labels;
        self.blueprint = blueprint;
        self
    }

    /// The editor on page or blog post `c` as stored.
    fn existing(viewer: &Viewer, c: &content::Content, perms: &[SpacePerm]) -> Editor {
        Editor {
            layout: Layout::new(format!("Edit - {}", c.title), viewer).of_content(c, perms),
            action: format!("/pages/{}/edit", c.id),
            key: c.space_key.clone(),
            id: c.id,
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
            labels: String::new(),
            blueprint: String::new(),
            draft_id: 0,
            offer: None,
            merged: None,
            your_diff: String::new(),
        }
    }

    /// What the user submitted, kept exactly as they typed it.
    fn keeping(mut self, form: &FormData) -> Editor {
        self.title = form.text("title").into();
        self.source = form.text("body").into();
        self.format = form.text("format").into();
        self.message = form.text("message").into();
        self.minor = form.checked("minor");
        self.labels = form.text("labels").into();
        self.blueprint = form.text("blueprint").into();
        self.draft_id = form.opt_int("draft").ok().flatten().unwrap_or(0);
        self
    }

    /// The editor holding the viewer's draft `d` instead of what is stored;
    /// an existing page's draft keeps the version it started from, so
    /// publishing it over someone else's change shows the conflict view.
    fn resuming(mut self, d: &content::Draft) -> Editor {
        self.title = d.title.clone();
        self.source = d.body.clone();
        self.format = d.format.clone();
        match d.base_version {
            Some(b) => self.base_version = b,
            None => {
                self.draft_id = d.id;
                self.labels = d.labels.clone();
                if let Some(p) = d.parent_id {
                    self.parent = p.to_string();
                }
            }
        }
        self
    }

    /// The editor again, saying why the save was refused, with its status.
    fn refused(mut self, e: &Error) -> UiResult {
        if self.error.is_empty() {
            self.error = e.public_message();
        }
        let mut r = self.into_html();
        *r.status_mut() = e.status();
        Ok(r)
    }
}

pub(super) async fn create_form(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(key): Path<String>,
    Query(q): Query<CreateQ>,
) -> UiResult {
    let db = app.pool.get().await?;
    let here = format!("/spaces/{key}/create");
    let s = content::space(&db, &viewer, &key)
        .await
        .or_login(&viewer, &here)?;
    viewer
        .require_space_perm(&db, s.id, SpacePerm::Edit)
        .await
        .next(&here)?;
    let is_blog = q.kind.as_deref() == Some("blogpost");
    let parent = q.parent.map(|p| p.to_string()).unwrap_or_default();
    let mut ed = Editor::new_content(
        &viewer,
        &s,
        &viewer.space_perms(&db, s.id).await?,
        is_blog,
        parent,
    );
    match q.draft {
        Some(id) => {
            let d = content::draft(&db, &viewer, id).await?;
            if d.page_id.is_some() || d.space_id != s.id {
                return Err(content::draft_not_found(id).into());
            }
            ed = ed.resuming(&d);
        }
        None => {
            let kind = if is_blog {
                ContentType::BlogPost
            } else {
                ContentType::Page
            };
            if let Some(d) = content::newest_new_draft(&db, &viewer, s.id, kind).await? {
                ed.offer = Some(DraftOffer::of(&d, None));
            }
        }
    }
    Ok(ed.into_html())
}

/// The body to store: Markdown is converted to storage format on save,
/// `@username` becoming a mention.
pub(super) async fn storage_of(
    db: &impl deadpool_postgres::GenericClient,
    form: &FormData,
) -> Result<String, Error> {
    let src = form.text("body");
    if form.text("format") == "markdown" {
        super::super::mentions::storage_from_markdown(db, src).await
    } else {
        Ok(src.to_owned())
    }
}

pub(super) async fn create(
    State(app): State<AppState>,
    Path(key): Path<String>,
    Posted { viewer, form }: Posted,
) -> UiResult {
    let mut db = app.pool.get().await?;
    let is_blog = form.text("type") == "blogpost";
    let body = storage_of(&db, &form).await?;
    let labels: Vec<String> = form
        .text("labels")
        .split([',', ' '])
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect();
    // A blueprint's page goes under its index page (made with the first).
    let mut parent_id = form.opt_int("parent")?;
    if parent_id.is_none() && !form.text("blueprint").is_empty() && !is_blog {
        let s = content::space(&db, &viewer, &key).await?;
        let b = crate::templates::blueprints::offered(&db, s.id, form.text("blueprint")).await?;
        parent_id = crate::templates::blueprints::index_page(&mut db, &viewer, &s, b).await?;
    }
    let draft = form.opt_int::<i64>("draft")?.filter(|d| *d > 0);
    let r = content::create_with(
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
            parent_id,
            message: form.text("message"),
            labels: &labels,
            posting_day: None,
        },
        draft,
    )
    .await;
    match r {
        Ok(c) => Ok(see_other(&page_url(&c.space_key, c.id, &c.title))),
        Err(e @ (Error::BadRequest(_) | Error::TooLarge(_))) => {
            let s = content::space(&db, &viewer, &key).await?;
            Editor::new_content(
                &viewer,
                &s,
                &viewer.space_perms(&db, s.id).await?,
                is_blog,
                form.text("parent").into(),
            )
            .keeping(&form)
            .refused(&e)
        }
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn edit_form(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Query(q): Query<EditQ>,
) -> UiResult {
    let here = format!("/pages/{id}/edit");
    let db = app.pool.get().await?;
    let c = content::get(&db, &viewer, id)
        .await
        .or_login(&viewer, &here)?;
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
    let mut ed = Editor::existing(&viewer, &c, &viewer.space_perms(&db, c.space_id).await?);
    if let Some(d) = content::draft_of_page(&db, &viewer, c.id).await? {
        if q.draft.as_deref() == Some("resume") {
            ed = ed.resuming(&d);
        } else {
            ed.offer = Some(DraftOffer::of(&d, Some(c.version)));
        }
    }
    Ok(ed.into_html())
}

pub(super) async fn edit(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    Posted { viewer, form }: Posted,
) -> UiResult {
    let mut db = app.pool.get().await?;
    let body = storage_of(&db, &form).await?;
    let base: i32 = form.int("base_version")?;
    let r = content::update_with(
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
        true,
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
            let mut merged = None;
            let mut your_diff = String::new();
            let (conflict_diff, base_version, error) = if matches!(e, Error::Conflict(_)) {
                let old = content::version(&db, &viewer, id, base)
                    .await
                    .map(|v| v.body)
                    .unwrap_or_default();
                // Yours, theirs and both merged (line by line, when the
                // changes do not overlap); the text area keeps yours.
                if form.text("format") != "markdown" {
                    merged = content::merge3(&old, &c.body, &body);
                    your_diff = cairn_render::diff_inline_html(&old, &body);
                }
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
            Editor {
                base_version,
                error,
                conflict_diff,
                merged,
                your_diff,
                ..Editor::existing(&viewer, &c, &viewer.space_perms(&db, c.space_id).await?)
            }
            .keeping(&form)
            .refused(&e)
        }
        Err(e) => Err(e.into()),
    }
}

/// Live preview for the editor: the sanitized HTML of the submitted source,
/// or the error (with its line and column) as a message.
pub(super) async fn preview(
    State(app): State<AppState>,
    viewer: Viewer,
    form: FormData,
) -> Response {
    let r: Result<String, Error> = async {
        form.check_csrf(&viewer)?;
        let db = app.pool.get().await?;
        let key = form.text("space");
        content::space(&db, &viewer, key).await?;
        let page = match form.opt_int::<i64>("id")? {
            Some(id) if id > 0 => Some(content::get(&db, &viewer, id).await?),
            _ => None,
        };
        let body = storage_of(&db, &form).await?;
        content::validate_body(&body)?;
        Ok(app
            .presenter
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
    crate::web::secure_headers(resp.headers_mut());
    resp
}
