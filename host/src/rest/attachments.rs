//! Attachments over REST: multipart upload (new file or new version), data update,
//! download and the legacy `removeattachment.action`.
//!
//! Invariant: the attachment size limit is enforced while streaming; a refused
//! upload leaves nothing behind.

use super::*;

/// The multipart body of an upload.
async fn multipart(req: Request, app: &AppState) -> Result<axum::extract::Multipart> {
    axum::extract::Multipart::from_request(req, app)
        .await
        .map_err(|e| Error::BadRequest(format!("an upload must be multipart/form-data: {e}")))
}

/// Reads a multipart upload: text parts `comment`, `minorEdit`, `fileName`,
/// `contentType` (a part with a `filename=` header but a text name is still
/// text), and one or more `file` parts. Returns attachment objects.
pub(super) async fn upload(
    app: &AppState,
    viewer: &Viewer,
    page_id: i64,
    mut mp: axum::extract::Multipart,
    force_name: Option<String>,
    allow_duplicated: bool,
) -> Result<Vec<shapes::Content>> {
    {
        let db = app.pool.get().await?;
        attach::check_can_attach(&db, viewer, page_id).await?;
    }
    let mut comment = String::new();
    let mut minor = false;
    let mut given_name: Option<String> = None;
    let mut given_type: Option<String> = None;
    let mut out = Vec::new();
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                return Err(Error::BadRequest(format!(
                    "cannot read the multipart body: {e}"
                )))
            }
        };
        let name = field.name().unwrap_or("").to_owned();
        match name.as_str() {
            "comment" | "minorEdit" | "fileName" | "contentType" | "type" | "allowDuplicated" => {
                let v = field
                    .text()
                    .await
                    .map_err(|e| Error::BadRequest(format!("cannot read part {name}: {e}")))?;
                match name.as_str() {
                    "comment" => comment = v,
                    "minorEdit" => minor = v.trim().eq_ignore_ascii_case("true"),
                    "fileName" => given_name = Some(v).filter(|s| !s.trim().is_empty()),
                    "contentType" => given_type = Some(v).filter(|s| !s.trim().is_empty()),
                    _ => {}
                }
            }
            "file" => {
                let filename = force_name
                    .clone()
                    .or_else(|| {
                        field
                            .file_name()
                            .map(str::to_owned)
                            .filter(|s| !s.is_empty())
                    })
                    .or_else(|| given_name.clone())
                    .ok_or_else(|| Error::BadRequest("the file part needs a filename".into()))?;
                attach::validate_filename(&filename)?;
                let ct = given_type
                    .clone()
                    .or_else(|| field.content_type().map(str::to_owned))
                    .filter(|t| t != "application/binary");
                let stored = app.files.put(field).await?;
                let mut db = app.pool.get().await?;
                let a = attach::record(
                    &mut db,
                    viewer,
                    page_id,
                    NewFile {
                        filename: &filename,
                        media_type: ct.as_deref(),
                        comment: &comment,
                        minor_edit: minor,
                        stored,
                    },
                    allow_duplicated,
                )
                .await?;
                out.push(
                    json::content(
                        &db,
                        viewer,
                        &a.content,
                        &Expand::parse("version,container"),
                        app,
                    )
                    .await?,
                );
            }
            _ => {}
        }
    }
    if out.is_empty() {
        return Err(Error::BadRequest(
            "the upload has no part named file".into(),
        ));
    }
    Ok(out)
}

#[utoipa::path(post, path = "/rest/api/content/{id}/child/attachment", params(("id" = String, Path, description = "content id (attachments: attNNN or NNN)"), ("allowDuplicated" = Option<bool>, Query)), request_body(content = inputs::Upload, content_type = "multipart/form-data"), responses((status = 200, description = "the attachments", body = List<shapes::Content>)))]
pub(super) async fn attachment_create(on: On, req: Request) -> Api {
    let id = on.id()?;
    let allow = on
        .params
        .get("allowDuplicated")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let mp = multipart(req, &on.app).await?;
    let list = upload(&on.app, &on.viewer, id, mp, None, allow).await?;
    let n = list.len() as i64;
    ok(List::all(list, n).with_links(Links::base(&on.base())))
}

#[utoipa::path(post, path = "/rest/api/content/{id}/child/attachment/{att}/data", params(("id" = String, Path, description = "content id (attachments: attNNN or NNN)"), ("att" = String, Path)), request_body(content = inputs::Upload, content_type = "multipart/form-data"), responses((status = 200, description = "the attachment", body = shapes::Content)))]
pub(super) async fn attachment_data(
    call: Call,
    Path((id, att)): Path<(String, String)>,
    req: Request,
) -> Api {
    let (app, viewer) = (&call.app, &call.viewer);
    let id = parse_id(&id)?;
    let att = parse_id(&att)?;
    let db = call.db().await?;
    let a = attach::get(&db, viewer, att).await?;
    if a.content.container_id != Some(id) {
        return Err(Error::NotFound(format!(
            "attachment {att} is not on content {id}"
        )));
    }
    drop(db);
    let mp = multipart(req, app).await?;
    let mut list = upload(app, viewer, id, mp, Some(a.content.title.clone()), true).await?;
    ok(list.pop())
}

#[utoipa::path(get, path = "/rest/api/content/{id}/download", params(("id" = String, Path, description = "content id (attachments: attNNN or NNN)")), responses((status = 200, description = "the bytes", content_type = "*/*", body = Vec<u8>)))]
pub(super) async fn attachment_download(on: On) -> Api {
    let id = on.id()?;
    let db = on.db().await?;
    let a = on.hint(attach::get(&db, &on.viewer, id).await)?;
    drop(db);
    let bytes = on.app.files.read_verified(&a.sha256).await?;
    Ok(crate::http::download::file(
        bytes,
        &a.media_type,
        Some(&a.content.title),
        u64::try_from(a.size).ok(),
    ))
}

/// Confluence's legacy form action (both `fileName` and `filename`).
pub(super) async fn remove_attachment_action(call: Call) -> Api {
    let p = &call.params;
    let page: i64 = parse_id(p.nonempty("pageId").unwrap_or(""))?;
    let name = p
        .nonempty("fileName")
        .or_else(|| p.nonempty("filename"))
        .ok_or_else(|| Error::BadRequest("fileName is required".into()))?;
    let mut db = call.db().await?;
    let (a, _) = call.hint(attach::by_name(&db, &call.viewer, page, name, None).await)?;
    content::trash(&mut db, &call.viewer, a.content.id).await?;
    // Confluence answers the form action with an empty object.
    ok(serde_json::Map::new())
}
