//! `/content`: list, read, create, update and delete pages and blog posts, and read
//! their history (Confluence's version-numbered optimistic concurrency; the
//! versions themselves are `versions.rs`).
//!
//! Invariant: an update names the version it replaces (409 otherwise) and never
//! writes partially; `expand` is honoured as Confluence does.

use super::*;

#[utoipa::path(get, path = "/rest/api/content", params(("spaceKey" = Option<String>, Query), ("title" = Option<String>, Query), ("type" = Option<String>, Query), ("status" = Option<String>, Query), ("postingDay" = Option<String>, Query), ("label" = Option<String>, Query), ("start" = Option<i64>, Query, description = "offset"), ("limit" = Option<i64>, Query, description = "page size (max 500)"), ("expand" = Option<String>, Query, description = "comma-separated expansions")), responses((status = 200, description = "content", body = List<shapes::Content>)))]
pub(super) async fn content_list(call: Call) -> Api {
    let (app, viewer, p) = (&call.app, &call.viewer, &call.params);
    let ((start, limit), expand) = call.listing()?;
    let db = call.db().await?;
    let space_id = match p.nonempty("spaceKey") {
        Some(k) => Some(content::space(&db, viewer, k).await?.id),
        None => None,
    };
    let types = match p.nonempty("type") {
        Some(t) => match parse_type(t)? {
            t @ (ContentType::Page | ContentType::BlogPost) => vec![t],
            _ => {
                return Err(Error::BadRequest(
                    "type must be page or blogpost here".into(),
                ))
            }
        },
        None => Vec::new(),
    };
    // Drafts are the caller's own (never in the content lists); Cairn has
    // no archived pages (Confluence 7.10+): valid and empty.
    if p.nonempty("status") == Some("draft") {
        let (drafts, more) =
            content::list_drafts(&db, viewer, space_id, &types, start, limit).await?;
        let rows: Vec<content::Content> = match viewer.user.as_ref() {
            Some(me) => drafts.iter().map(|d| d.as_content(me)).collect(),
            None => Vec::new(),
        };
        let res = json::contents(&db, viewer, &rows, &expand, app).await?;
        return ok(paged(
            app,
            "/rest/api/content",
            p,
            res,
            (start, limit),
            more,
        ));
    }
    let status = match p.nonempty("status") {
        None | Some("current") => Some(content::ListStatus::Current),
        Some("trashed") => Some(content::ListStatus::Trashed),
        Some("any") => Some(content::ListStatus::Any),
        Some("historical") => Some(content::ListStatus::Historical),
        Some("archived") => None,
        Some(s) => {
            return Err(Error::BadRequest(format!(
                "unknown status {s:?}; use current, trashed, draft, historical, archived or any"
            )))
        }
    };
    let posting_day = match p.nonempty("postingDay") {
        None => None,
        Some(d) => Some(
            chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
                Error::BadRequest(format!("postingDay must be yyyy-mm-dd, not {d:?}"))
            })?,
        ),
    };
    let f = ListFilter {
        space_id,
        types,
        title: p.nonempty("title"),
        posting_day,
        label: p.nonempty("label"),
        status: status.unwrap_or_default(),
        ..ListFilter::default()
    };
    let (rows, more) = match status {
        Some(_) => content::list(&db, viewer, &f, start, limit).await?,
        None => (Vec::new(), false),
    };
    let res = json::contents(&db, viewer, &rows, &expand, app).await?;
    ok(paged(
        app,
        "/rest/api/content",
        p,
        res,
        (start, limit),
        more,
    ))
}

/// The statuses content queries accept, as Confluence 7.10+ names them.
const STATUSES: [&str; 6] = [
    "current",
    "trashed",
    "draft",
    "historical",
    "archived",
    "any",
];

/// What `GET /content/{id}` expands when the client names nothing, as
/// Confluence's default expansion.
pub(super) const READ_EXPAND: &str = "space,history,version";

/// The expansions POST and PUT answer with (clients read them from there).
pub(super) const WRITE_EXPAND: &str =
    "space,history,version,ancestors,body.storage,container,metadata.labels";

/// The expansions a write answers with (the client's, or [`WRITE_EXPAND`]),
/// once its body is known to be an object.
fn write_expand(p: &Params, b: &Value) -> Result<Expand> {
    let expand = match p.get("expand") {
        Some(_) => p.expand(),
        None => Expand::parse(WRITE_EXPAND),
    };
    if !b.is_object() {
        return Err(Error::BadRequest(
            "the request body must be a JSON object".into(),
        ));
    }
    Ok(expand)
}

#[utoipa::path(get, path = "/rest/api/content/{id}", params(("id" = String, Path, description = "content id (attachments: attNNN or NNN)"), ("expand" = Option<String>, Query), ("status" = Option<String>, Query), ("version" = Option<i64>, Query)), responses((status = 200, description = "the content", body = shapes::Content)))]
pub(super) async fn content_get(on: On) -> Api {
    let (app, viewer, p) = (&on.app, &on.viewer, &on.params);
    let id = on.id()?;
    let expand = match p.get("expand") {
        Some(_) => p.expand(),
        None => Expand::parse(READ_EXPAND),
    };
    let db = on.db().await?;
    // `status` may be repeated (`status=current&status=trashed`).
    let statuses: Vec<&str> = p
        .all("status")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    for s in &statuses {
        if !STATUSES.contains(s) {
            return Err(Error::BadRequest(format!(
                "unknown status {s:?}; use current, trashed, draft, historical, archived or any"
            )));
        }
    }
    let wants = |s: &str| (statuses.is_empty() && s == "current") || statuses.contains(&s);
    // The caller's own draft (another user's is "not found"); never kept
    // in the response cache.
    if wants("draft") {
        let draft = match viewer.user.as_ref() {
            Some(me) => content::draft(&db, viewer, id)
                .await
                .map(|d| d.as_content(me)),
            None => Err(content::draft_not_found(id)),
        };
        match draft {
            Ok(d) => return ok(json::content(&db, viewer, &d, &expand, app).await?),
            Err(e) if statuses.len() == 1 => return Err(auth_hint(e, viewer)),
            Err(_) => {}
        }
    }
    let c = on.hint(if wants("any") || wants("trashed") {
        content::get_any(&db, viewer, id).await
    } else if wants("current") || wants("historical") {
        content::get(&db, viewer, id).await
    } else {
        Err(content::not_found(id))
    })?;
    if let Some(v) = p.nonempty("version") {
        let n: i32 = v.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
            Error::BadRequest(format!("version must be a positive integer, not {v:?}"))
        })?;
        if n != c.version {
            let ver = content::version(&db, viewer, id, n).await?;
            return ok(json::historical(&db, viewer, &c, &ver, &expand, app).await?);
        }
    }
    // Like a page view, the answer may be kept in the response cache
    // (`http::response_cache::layer`: per viewer credentials and data generation) when
    // every macro it renders is cacheable; rendering below the top level
    // (children's or ancestors' views) is never kept.
    let (top, nested) = expand.renders();
    let cacheable = !nested
        && (!top || c.content_type == ContentType::Attachment || app.presenter.is_cacheable(&c)?);
    let mut resp = Json(json::content(&db, viewer, &c, &expand, app).await?).into_response();
    if cacheable {
        resp.extensions_mut()
            .insert(crate::http::response_cache::Cacheable);
    }
    Ok(resp)
}

pub(super) fn labels_of(b: &Value) -> Result<Option<Vec<String>>> {
    let v = match pointer(b, "metadata.labels") {
        None | Some(Value::Null) => return Ok(None),
        Some(v) => v,
    };
    let list = match v {
        Value::Array(a) => a.clone(),
        Value::Object(o) => match o.get("results") {
            Some(Value::Array(a)) => a.clone(),
            _ => {
                return Err(Error::BadRequest(
                    "metadata.labels must be a list of labels".into(),
                ))
            }
        },
        other => {
            return Err(Error::BadRequest(format!(
                "metadata.labels must be a list, not {}",
                kind(other)
            )))
        }
    };
    let mut out = Vec::new();
    for l in list {
        match str_at(&l, "name")? {
            Some(n) => out.push(n.to_owned()),
            None => return Err(Error::BadRequest("every label needs a name".into())),
        }
    }
    Ok(Some(out))
}

/// The storage body of a create/update, or None when absent.
pub(super) fn storage_body(b: &Value) -> Result<Option<String>> {
    let body = match b.get("body") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(o)) => o,
        Some(other) => {
            return Err(Error::BadRequest(format!(
                "body must be an object, not {}",
                kind(other)
            )))
        }
    };
    if let Some(s) = body.get("storage") {
        let rep = str_at(s, "representation")?.unwrap_or("storage");
        if rep != "storage" {
            return Err(Error::BadRequest(format!(
                "body.storage.representation must be storage, not {rep:?}"
            )));
        }
        return match s.get("value") {
            Some(Value::String(v)) => Ok(Some(v.clone())),
            Some(Value::Null) | None => {
                Err(Error::BadRequest("body.storage.value is missing".into()))
            }
            Some(other) => Err(Error::BadRequest(format!(
                "body.storage.value must be a string, not {}",
                kind(other)
            ))),
        };
    }
    if let Some((rep, _)) = body.iter().next() {
        return Err(Error::BadRequest(format!(
            "representation {rep:?} is not supported; send body.storage (Confluence storage format)"
        )));
    }
    Ok(None)
}

pub(super) fn first_ancestor(b: &Value) -> Result<Option<i64>> {
    match b.get("ancestors") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(a)) if a.is_empty() => Ok(None),
        Some(Value::Array(a)) => {
            let last = &a[a.len() - 1];
            let id = last
                .get("id")
                .ok_or_else(|| Error::BadRequest("each ancestor needs an id".into()))?;
            Ok(Some(id_value(id, "ancestors[].id")?))
        }
        Some(other) => Err(Error::BadRequest(format!(
            "ancestors must be a list, not {}",
            kind(other)
        ))),
    }
}

#[utoipa::path(post, path = "/rest/api/content", params(("expand" = Option<String>, Query)), request_body = inputs::ContentInput, responses((status = 200, description = "the new content", body = shapes::Content)))]
pub(super) async fn content_create(call: Call, Body(b): Body) -> Api {
    let (app, viewer) = (&call.app, &call.viewer);
    let expand = write_expand(&call.params, &b)?;
    let kind = parse_type(str_at(&b, "type")?.unwrap_or("page"))?;
    match str_at(&b, "status")? {
        None | Some("current") => {}
        Some("draft") => return draft_create(&call, &b, kind, &expand).await,
        Some(s) => {
            return Err(Error::BadRequest(format!(
                "cannot create content with status {s:?}; use current or draft"
            )))
        }
    }
    let body = storage_body(&b)?.unwrap_or_default();
    let properties = properties_of(&b)?;
    // Properties need the edit permission, which a commenter may lack: refused
    // before anything is created rather than after the comment exists.
    if kind == ContentType::Comment && !properties.is_empty() {
        return Err(Error::BadRequest(
            "metadata.properties can be given when creating pages and blog posts; set a comment's properties with POST /rest/api/content/{id}/property".into(),
        ));
    }
    let mut db = call.db().await?;
    let c = match kind {
        ContentType::Page | ContentType::BlogPost => {
            let title = str_at(&b, "title")?
                .ok_or_else(|| Error::BadRequest("the content needs a title".into()))?;
            let space = match str_at(&b, "space.key")? {
                Some(k) => k.to_owned(),
                None => return Err(Error::BadRequest("the content needs space.key".into())),
            };
            let parent = if kind == ContentType::Page {
                first_ancestor(&b)?
            } else {
                None
            };
            let labels = labels_of(&b)?.unwrap_or_default();
            let message = str_at(&b, "version.message")?.unwrap_or("");
            content::create(
                &mut db,
                viewer,
                content::NewContent {
                    content_type: kind,
                    space_key: &space,
                    title,
                    body: &body,
                    parent_id: parent,
                    message,
                    labels: &labels,
                    posting_day: None,
                },
            )
            .await?
        }
        ContentType::Comment => {
            let container = match pointer(&b, "container.id") {
                Some(v) => id_value(v, "container.id")?,
                None => return Err(Error::BadRequest("a comment needs container.id".into())),
            };
            let reply_to = first_ancestor(&b)?;
            let inline = match str_at(&b, "extensions.location")? {
                None | Some("footer") => None,
                Some("inline") => Some(content::InlineProps {
                    marker_ref: str_at(&b, "extensions.inlineProperties.markerRef")?
                        .ok_or_else(|| {
                            Error::BadRequest(
                                "an inline comment needs extensions.inlineProperties.markerRef"
                                    .into(),
                            )
                        })?
                        .to_owned(),
                    original_selection: str_at(
                        &b,
                        "extensions.inlineProperties.originalSelection",
                    )?
                    .unwrap_or("")
                    .to_owned(),
                }),
                Some(other) => {
                    return Err(Error::BadRequest(format!(
                        "extensions.location must be inline or footer, not {other:?}"
                    )))
                }
            };
            // Confluence's editor writes the marker into the page; a client
            // that sends only the selection (and `matchIndex`) gets it
            // written here, as the UI does.
            let page_body = match &inline {
                Some(_) if reply_to.is_none() => {
                    Some(content::get(&db, viewer, container).await?.body)
                }
                _ => None,
            };
            match (&inline, page_body) {
                (Some(p), Some(page_body))
                    if !content::anchored(&page_body, &p.marker_ref)
                        && !p.original_selection.trim().is_empty() =>
                {
                    let occurrence = match pointer(&b, "extensions.inlineProperties.matchIndex") {
                        None | Some(Value::Null) => None,
                        Some(v) => Some(v.as_u64().ok_or_else(|| {
                            Error::BadRequest(
                                "extensions.inlineProperties.matchIndex must be a number from 0"
                                    .into(),
                            )
                        })? as usize),
                    };
                    let selection = content::Selection {
                        text: &p.original_selection,
                        before: "",
                        after: "",
                        occurrence: Some(occurrence.unwrap_or(0)),
                    };
                    content::add_inline_comment(
                        &mut db,
                        viewer,
                        container,
                        &selection,
                        &body,
                        Some(&p.marker_ref),
                    )
                    .await?
                }
                _ => {
                    content::add_comment_at(
                        &mut db,
                        viewer,
                        container,
                        reply_to,
                        &body,
                        inline.as_ref(),
                    )
                    .await?
                }
            }
        }
        ContentType::Attachment => {
            return Err(Error::BadRequest(
                "attachments are created with POST /rest/api/content/{id}/child/attachment".into(),
            ))
        }
    };
    for (key, value) in &properties {
        let change = content::PropertyChange {
            key,
            value,
            version: 1,
            message: "",
            minor_edit: false,
        };
        content::create_property(&db, viewer, c.id, &change).await?;
    }
    ok(json::content(&db, viewer, &c, &expand, app).await?)
}

/// `metadata.properties` of a create (`{"KEY": {"value": …}}`, as
/// Confluence's clients send them), each key and value checked.
fn properties_of(b: &Value) -> Result<Vec<(String, Value)>> {
    let map = match pointer(b, "metadata.properties") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Object(m)) => m,
        Some(other) => {
            return Err(Error::BadRequest(format!(
                "metadata.properties must be an object of properties by key, not {}",
                kind(other)
            )))
        }
    };
    let mut out = Vec::with_capacity(map.len());
    for (key, p) in map {
        let value = match p.get("value") {
            Some(v) if !v.is_null() => v,
            _ => {
                return Err(Error::BadRequest(format!(
                    "metadata.properties.{key} needs a value (any JSON but null)"
                )))
            }
        };
        content::validate_property_key(key)?;
        content::validate_property_value(key, value)?;
        out.push((key.clone(), value.clone()));
    }
    Ok(out)
}

#[utoipa::path(put, path = "/rest/api/content/{id}", params(("id" = String, Path, description = "content id (attachments: attNNN or NNN)"), ("expand" = Option<String>, Query)), request_body = inputs::ContentInput, responses((status = 200, description = "the updated content", body = shapes::Content)))]
pub(super) async fn content_update(on: On, req: Request) -> Api {
    let (app, viewer) = (&on.app, &on.viewer);
    let id = on.id()?;
    let is_multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if is_multipart {
        // atlassian-python-api 5.x uploads a new attachment version this way.
        let mp = axum::extract::Multipart::from_request(req, app)
            .await
            .map_err(|e| Error::BadRequest(format!("cannot read the multipart body: {e}")))?;
        let db = on.db().await?;
        let a = attach::get(&db, viewer, id).await?;
        drop(db);
        let page = a.content.container_id.unwrap_or(0);
        let mut list = upload(app, viewer, page, mp, Some(a.content.title.clone()), true).await?;
        return ok(list.pop());
    }
    let Body(b) = Body::from_request(req, &()).await?;
    let expand = write_expand(&on.params, &b)?;
    let status = str_at(&b, "status")?;
    if status == Some("draft") {
        return draft_update(&on, id, &b, &expand).await;
    }
    let number = match pointer(&b, "version.number") {
        Some(Value::Number(n)) => n
            .as_i64()
            .and_then(|n| i32::try_from(n).ok())
            .ok_or_else(|| Error::BadRequest("version.number must be an integer".into()))?,
        Some(Value::String(s)) => s.parse().map_err(|_| {
            Error::BadRequest(format!("version.number must be an integer, not {s:?}"))
        })?,
        Some(other) => {
            return Err(Error::BadRequest(format!(
                "version.number must be an integer, not {}",
                kind(other)
            )))
        }
        None => {
            return Err(Error::BadRequest(
                "an update needs version.number (the current version + 1)".into(),
            ))
        }
    };
    let mut db = on.db().await?;
    // A new page's draft of the caller's: publishing it creates the page
    // with the draft's id.
    if let Ok(d) = content::draft(&db, viewer, id).await {
        if d.page_id.is_none() {
            return publish_new_draft(&on, &mut db, d, number, &b, &expand).await;
        }
    }
    let current = on.any(&db).await?;
    if let Some(t) = str_at(&b, "type")? {
        if parse_type(t)? != current.content_type {
            return Err(Error::BadRequest(format!(
                "cannot change the type of content {id} from {} to {t}",
                current.content_type.as_str()
            )));
        }
    }
    let restoring = current.status == "trashed";
    if restoring && str_at(&b, "status")? != Some("current") {
        return Err(Error::Conflict(format!(
            "content {id} is in the trash; restore it with status current"
        )));
    }
    if number != current.version + 1 {
        return Err(Error::Conflict(format!(
            "Version must be incremented on update. Current version is: {}",
            current.version
        )));
    }
    let mut title = str_at(&b, "title")?;
    let mut body = storage_body(&b)?;
    // Publishing the caller's draft (`status: current`): what the request
    // leaves out comes from the draft, which must be based on the version
    // replaced — never a silent overwrite of someone else's change.
    let publishing = status == Some("current") && !restoring;
    let draft = if publishing {
        content::draft_of_page(&db, viewer, id).await?
    } else {
        None
    };
    if let Some(d) = &draft {
        if body.is_none() {
            if d.base_version != Some(current.version) {
                return Err(Error::Conflict(format!(
                    "Version must be incremented on update. Current version is: {} (the draft was based on version {})",
                    current.version,
                    d.base_version.unwrap_or(0)
                )));
            }
            body = Some(d.storage_body());
        }
    }
    if title.is_none() {
        title = draft
            .as_ref()
            .map(|d| d.title.as_str())
            .filter(|t| !t.trim().is_empty());
    }
    let labels = labels_of(&b)?;
    let parent = if current.content_type == ContentType::Page {
        first_ancestor(&b)?
    } else {
        None
    };
    let space_key = str_at(&b, "space.key")?.map(str::to_owned);
    // Validate everything before the first write, so a bad field never
    // leaves a half-applied update.
    if let Some(t) = title {
        content::validate_title(t)?;
    }
    if let Some(body) = &body {
        content::validate_body(body)?;
    }
    if let Some(l) = &labels {
        for n in l {
            content::normalize_label(n)?;
        }
    }
    if restoring {
        content::restore_from_trash(&mut db, viewer, id).await?;
    }
    let moving = current.content_type == ContentType::Page
        && ((parent.is_some() && parent != current.parent_id)
            || space_key
                .as_deref()
                .is_some_and(|k| !k.eq_ignore_ascii_case(&current.space_key)));
    if moving {
        content::move_page(
            &mut db,
            viewer,
            id,
            space_key.as_deref(),
            parent.or(current.parent_id),
            None,
        )
        .await?;
    }
    let saved = content::update_with(
        &mut db,
        viewer,
        id,
        content::Update {
            title,
            body: body.as_deref(),
            base_version: current.version,
            message: str_at(&b, "version.message")?.unwrap_or(""),
            minor_edit: bool_at(&b, "version.minorEdit")?.unwrap_or(false),
        },
        publishing,
    )
    .await?;
    let c = match saved {
        Saved::NewVersion(c) | Saved::Unchanged(c) => c,
    };
    if let Some(l) = labels {
        content::set_labels(&db, viewer, id, &l).await?;
    }
    ok(json::content(&db, viewer, &c, &expand, app).await?)
}

#[utoipa::path(delete, path = "/rest/api/content/{id}", params(("id" = String, Path, description = "content id (attachments: attNNN or NNN)"), ("status" = Option<String>, Query)), responses((status = 204, description = "trashed or purged")))]
pub(super) async fn content_delete(on: On) -> Api {
    let id = on.id()?;
    let mut db = on.db().await?;
    match on.params.nonempty("status") {
        Some("trashed") => on.hint(content::purge(&db, &on.viewer, id).await)?,
        None | Some("current") => {
            on.visible(&db).await?;
            content::trash(&mut db, &on.viewer, id).await?;
        }
        Some("draft") => {
            content::discard_draft(&db, &on.viewer, id).await?;
        }
        Some(s) => return Err(Error::BadRequest(format!("unknown status {s:?}"))),
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(get, path = "/rest/api/content/{id}/history", params(("id" = String, Path, description = "content id (attachments: attNNN or NNN)")), responses((status = 200, description = "history", body = shapes::History)))]
pub(super) async fn content_history(on: On) -> Api {
    let c = on.any(&on.db().await?).await?;
    ok(json::history(&c, &on.app))
}
