//! The attachments screen: list, upload (streamed, size-limited) and download.
//!
//! Invariant: downloads are served with a safe content type and disposition and only
//! to viewers who may view the page.

use super::*;

#[derive(Template)]
#[template(path = "attachments.html")]
pub(super) struct AttachmentsPage {
    layout: Layout,
    id: i64,
    title: String,
    page_url: String,
    files: Vec<AttachmentView>,
    can_attach: bool,
    max_size: String,
    message: String,
}

pub(super) async fn attachments_page(
    app: &AppState,
    viewer: &Viewer,
    id: i64,
    message: String,
    status: StatusCode,
) -> UiResult {
    let db = app.pool.get().await?;
    let c = content::get(&db, viewer, id)
        .await
        .or_login(viewer, &format!("/pages/{id}/attachments"))?;
    let files = attach::list(&db, viewer, id)
        .await?
        .into_iter()
        .map(|a| attachment_view(id, a))
        .collect();
    let can_attach = attach::check_can_attach(&db, viewer, id).await.is_ok();
    let mut r = AttachmentsPage {
        layout: Layout::new(format!("Attachments - {}", c.title), viewer)
            .of_content(&c, &viewer.space_perms(&db, c.space_id).await?),
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

pub(super) async fn attachments(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> UiResult {
    attachments_page(&app, &viewer, id, String::new(), StatusCode::OK).await
}

/// Multipart upload from the attachments page: `_csrf`, `comment`, then
/// one or more `file` parts. A file with an existing name becomes its next
/// version.
pub(super) async fn upload(
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
                csrf_ok = crate::web::csrf_matches(&viewer, &v);
            }
            "comment" => comment = field.text().await.unwrap_or_default(),
            "file" => {
                if !csrf_ok {
                    return Err(crate::web::form_expired().into());
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
        return Err(crate::web::form_expired().into());
    }
    let msg = if done.is_empty() {
        "Choose a file to upload.".to_owned()
    } else {
        format!("Uploaded {}.", done.join(", "))
    };
    attachments_page(&app, &viewer, id, msg, StatusCode::OK).await
}

#[derive(Deserialize)]
pub(super) struct DownloadQ {
    version: Option<i32>,
}

/// Raw bytes of an attachment with its type. Active types (HTML, SVG, …)
/// are always downloaded, never shown inline, and sandboxed.
pub(super) async fn download(
    State(app): State<AppState>,
    viewer: Viewer,
    Path((page, filename)): Path<(String, String)>,
    Query(q): Query<DownloadQ>,
) -> Response {
    let r: Result<Response, Error> = async {
        let page = parse_id(&page)?;
        let db = app.pool.get().await?;
        let found = attach::by_name(&db, &viewer, page, &filename, q.version).await;
        // A page never saved: a file pasted into its draft, for its author.
        if let (Err(Error::NotFound(_)), None) = (&found, q.version) {
            if let Some(f) = crate::content::draft_file(&db, &viewer, page, &filename).await? {
                drop(db);
                let bytes = app.files.read_verified(&f.sha256).await?;
                return Ok(crate::http::download::file(
                    bytes,
                    &f.media_type,
                    Some(&f.name),
                    u64::try_from(f.size).ok(),
                ));
            }
        }
        let (_, v) = found.map_err(|e| login_if_anonymous(e, &viewer))?;
        drop(db);
        let sha = v.file_sha256.clone().unwrap_or_default();
        let bytes = app.files.read_verified(&sha).await?;
        Ok(crate::http::download::file(
            bytes,
            v.media_type.as_deref().unwrap_or(""),
            Some(&v.title),
            v.file_size.and_then(|s| u64::try_from(s).ok()),
        ))
    }
    .await;
    match r {
        Ok(r) => r,
        Err(Error::Unauthorized(_)) => see_other(&format!(
            "/login?next={}",
            enc(&format!("/download/attachments/{page}/{filename}"))
        )),
        Err(e) => crate::web::UiError::from(e).into_response(),
    }
}
