//! `/space`: list, read, create, update, delete spaces and list a space's content.
//!
//! Invariant: space reads and writes go through `content::spaces` with the caller's
//! permissions; a space the caller may not view is a 404.

use super::*;

#[utoipa::path(get, path = "/rest/api/space", params(("start" = Option<i64>, Query, description = "offset"), ("limit" = Option<i64>, Query, description = "page size (max 500)"), ("expand" = Option<String>, Query, description = "comma-separated expansions"), ("spaceKey" = Option<String>, Query)), responses((status = 200, description = "spaces", body = List<shapes::Space>)))]
pub(super) async fn spaces_list(call: Call) -> Api {
    let (app, viewer, p) = (&call.app, &call.viewer, &call.params);
    let ((start, limit), expand) = call.listing()?;
    let db = call.db().await?;
    let mut all = content::spaces(&db, viewer).await?;
    if let Some(keys) = p.nonempty("spaceKey") {
        let keys: Vec<String> = keys.split(',').map(|k| k.trim().to_uppercase()).collect();
        all.retain(|s| keys.contains(&s.key.to_uppercase()));
    }
    all.sort_by(|a, b| a.key.cmp(&b.key));
    let more = (all.len() as i64) > start + limit;
    let mut out = Vec::new();
    for s in all.iter().skip(start as usize).take(limit as usize) {
        out.push(json::space(&db, viewer, s, &expand, app).await?);
    }
    ok(paged(app, "/rest/api/space", p, out, (start, limit), more))
}

#[utoipa::path(get, path = "/rest/api/space/{key}", params(("key" = String, Path), ("expand" = Option<String>, Query)), responses((status = 200, description = "the space", body = shapes::Space)))]
pub(super) async fn space_get(on: On) -> Api {
    let expand = on.params.expand();
    let db = on.db().await?;
    let s = on.hint(content::space(&db, &on.viewer, &on.name).await)?;
    ok(json::space(&db, &on.viewer, &s, &expand, &on.app).await?)
}

#[utoipa::path(post, path = "/rest/api/space", request_body = inputs::SpaceInput, responses((status = 200, description = "the new space", body = shapes::Space)))]
pub(super) async fn space_create(call: Call, Body(b): Body) -> Api {
    let key =
        str_at(&b, "key")?.ok_or_else(|| Error::BadRequest("the space needs a key".into()))?;
    let name =
        str_at(&b, "name")?.ok_or_else(|| Error::BadRequest("the space needs a name".into()))?;
    let description = str_at(&b, "description.plain.value")?.unwrap_or("");
    let mut db = call.db().await?;
    let s = content::create_space(&mut db, &call.viewer, key, name, description).await?;
    // The creator is the new space's administrator: see it as they now are.
    let viewer = Viewer::load(&db, call.viewer.user.clone()).await?;
    let expand = Expand::parse("description.plain,homepage");
    ok(json::space(&db, &viewer, &s, &expand, &call.app).await?)
}

#[utoipa::path(put, path = "/rest/api/space/{key}", params(("key" = String, Path)), request_body = inputs::SpaceUpdateInput, responses((status = 200, description = "the updated space", body = shapes::Space)))]
pub(super) async fn space_update(on: On, Body(b): Body) -> Api {
    let (app, viewer) = (&on.app, &on.viewer);
    if !b.is_object() {
        return Err(Error::BadRequest(
            "the request body must be a JSON object".into(),
        ));
    }
    if let Some(k) = str_at(&b, "key")? {
        if !k.eq_ignore_ascii_case(&on.name) {
            return Err(Error::BadRequest(format!(
                "a space key cannot be changed ({} to {k})",
                on.name
            )));
        }
    }
    let name = str_at(&b, "name")?;
    let description = str_at(&b, "description.plain.value")?;
    let homepage = match pointer(&b, "homepage.id") {
        None | Some(Value::Null) => None,
        Some(v) => Some(id_value(v, "homepage.id")?),
    };
    let db = on.db().await?;
    let s = on.hint(content::space(&db, viewer, &on.name).await)?;
    content::update_space(
        &db,
        viewer,
        &s,
        name.unwrap_or(&s.name),
        description.unwrap_or(&s.description),
        homepage,
    )
    .await?;
    let s = content::space(&db, viewer, &s.key).await?;
    let expand = Expand::parse("description.plain,homepage");
    ok(json::space(&db, viewer, &s, &expand, app).await?)
}

#[utoipa::path(delete, path = "/rest/api/space/{key}", params(("key" = String, Path)), responses((status = 202, description = "the deletion, as a long task", body = LongTaskRef)))]
pub(super) async fn space_delete(on: On) -> Api {
    let id =
        on.hint(content::delete_space(&on.app.pool, &on.app.node_id, &on.viewer, &on.name).await)?;
    let r = LongTaskRef {
        id: id.to_string(),
        links: LongTaskLinks {
            status: format!("/rest/api/longtask/{id}"),
        },
    };
    Ok((StatusCode::ACCEPTED, Json(r)).into_response())
}

/// A long task just started (Confluence's answer to a space deletion).
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct LongTaskRef {
    pub id: String,
    pub links: LongTaskLinks,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct LongTaskLinks {
    /// Where the task's progress is.
    pub status: String,
}

/// A long task's progress, as Confluence's `/rest/api/longtask/{id}`.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LongTaskStatus {
    pub id: String,
    pub name: LongTaskName,
    pub elapsed_time: i64,
    pub percentage_complete: i64,
    pub successful: bool,
    pub finished: bool,
    pub messages: Vec<LongTaskMessage>,
    #[serde(rename = "_links")]
    pub links: Links,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct LongTaskName {
    pub key: String,
    pub args: Vec<String>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct LongTaskMessage {
    pub translation: String,
    pub args: Vec<String>,
}

fn task_status(base: &str, t: crate::longtask::LongTask) -> LongTaskStatus {
    let end = t.finished_at.unwrap_or_else(chrono::Utc::now);
    LongTaskStatus {
        links: Links::base_and_self(base, format!("/rest/api/longtask/{}", t.id)),
        id: t.id.to_string(),
        name: LongTaskName {
            key: format!("cairn.longtask.{}", t.kind),
            args: vec![t.name.clone()],
        },
        elapsed_time: (end - t.started_at).num_milliseconds(),
        percentage_complete: t.percent(),
        successful: t.status != "failed",
        finished: t.status != "running",
        messages: if t.message.is_empty() {
            Vec::new()
        } else {
            vec![LongTaskMessage {
                translation: t.message.clone(),
                args: Vec::new(),
            }]
        },
    }
}

#[utoipa::path(get, path = "/rest/api/longtask/{id}", params(("id" = String, Path)), responses((status = 200, description = "the task's progress", body = LongTaskStatus)))]
pub(super) async fn longtask_get(on: On) -> Api {
    let id: i64 = on
        .name
        .trim()
        .parse()
        .map_err(|_| Error::NotFound(format!("No long task with id {}", on.name)))?;
    let db = on.db().await?;
    let t = on.hint(crate::longtask::get(&db, &on.viewer, id).await)?;
    ok(task_status(&on.base(), t))
}

#[utoipa::path(get, path = "/rest/api/longtask", params(("start" = Option<i64>, Query), ("limit" = Option<i64>, Query)), responses((status = 200, description = "the caller's long tasks (everyone's for administrators), newest first", body = List<LongTaskStatus>)))]
pub(super) async fn longtask_list(call: Call) -> Api {
    let (start, limit) = call.params.paging()?;
    require_use(&call.viewer)?;
    let db = call.db().await?;
    let all = call.hint(crate::longtask::list(&db, &call.viewer, 500).await)?;
    let more = (all.len() as i64) > start + limit;
    let base = call.base();
    let out = all
        .into_iter()
        .skip(start as usize)
        .take(limit as usize)
        .map(|t| task_status(&base, t))
        .collect();
    ok(paged(
        &call.app,
        "/rest/api/longtask",
        &call.params,
        out,
        (start, limit),
        more,
    ))
}

#[utoipa::path(get, path = "/rest/api/space/{key}/content", params(("key" = String, Path), ("depth" = Option<String>, Query), ("start" = Option<i64>, Query, description = "offset"), ("limit" = Option<i64>, Query, description = "page size (max 500)"), ("expand" = Option<String>, Query, description = "comma-separated expansions")), responses((status = 200, description = "pages and blog posts", body = shapes::SpaceContent)))]
pub(super) async fn space_content(on: On) -> Api {
    space_content_of(&on, &on.name, None).await
}

#[utoipa::path(get, path = "/rest/api/space/{key}/content/{kind}", params(("key" = String, Path), ("kind" = String, Path), ("depth" = Option<String>, Query), ("start" = Option<i64>, Query, description = "offset"), ("limit" = Option<i64>, Query, description = "page size (max 500)"), ("expand" = Option<String>, Query, description = "comma-separated expansions")), responses((status = 200, description = "content of one type", body = List<shapes::Content>)))]
pub(super) async fn space_content_typed(
    call: Call,
    Path((key, kind)): Path<(String, String)>,
) -> Api {
    space_content_of(&call, &key, Some(&kind)).await
}

/// A space's pages and blog posts, or its content of one type.
async fn space_content_of(call: &Call, key: &str, kind: Option<&str>) -> Api {
    let (app, viewer, p) = (&call.app, &call.viewer, &call.params);
    let (start, limit) = p.paging()?;
    let expand = p.expand();
    let root = match p.nonempty("depth") {
        None | Some("all") => false,
        Some("root") => true,
        Some(d) => {
            return Err(Error::BadRequest(format!(
                "depth must be all or root, not {d:?}"
            )))
        }
    };
    let db = call.db().await?;
    let s = call.hint(content::space(&db, viewer, key).await)?;
    let list = |k: ContentType| {
        let (db, expand, s) = (&db, &expand, &s);
        async move {
            let f = ListFilter {
                space_id: Some(s.id),
                types: vec![k],
                root_only: root && k == ContentType::Page,
                ..ListFilter::default()
            };
            let (rows, more) = content::list(db, viewer, &f, start, limit).await?;
            let res = json::contents(db, viewer, &rows, expand, app).await?;
            let path = format!("/rest/api/space/{}/content/{}", s.key, k.as_str());
            Ok::<_, Error>(paged(app, &path, p, res, (start, limit), more))
        }
    };
    match kind {
        Some(k) => ok(list(parse_type(k)?).await?),
        None => ok(shapes::SpaceContent {
            page: Some(list(ContentType::Page).await?),
            blogpost: Some(list(ContentType::BlogPost).await?),
            links: Links::base(&call.base()),
        }),
    }
}

pub(super) fn parse_type(k: &str) -> Result<ContentType> {
    match k {
        "page" => Ok(ContentType::Page),
        "blogpost" => Ok(ContentType::BlogPost),
        "comment" => Ok(ContentType::Comment),
        "attachment" => Ok(ContentType::Attachment),
        other => Err(Error::BadRequest(format!(
            "unknown content type {other:?}; use page, blogpost, comment or attachment"
        ))),
    }
}
