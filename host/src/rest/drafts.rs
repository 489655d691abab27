//! Drafts over `/content`, as Confluence answers them for their author:
//! `POST` and `PUT` with `status: draft` save one, and `PUT` with `status:
//! current` of a new page's draft publishes it with the draft's id
//! (`pages.rs` routes the requests here).
//!
//! Invariant: a draft is only ever read, saved or published as its author
//! (`content::drafts`); everyone else is answered "not found".

use super::*;

/// `POST /content` with `status: draft`: a new page's (or blog post's)
/// draft, with an id from the content sequence; nothing is published.
pub(super) async fn draft_create(
    call: &Call,
    b: &Value,
    kind: ContentType,
    expand: &Expand,
) -> Api {
    let viewer = &call.viewer;
    let me = viewer.require_user()?;
    let space = str_at(b, "space.key")?
        .ok_or_else(|| Error::BadRequest("the content needs space.key".into()))?;
    let body = storage_body(b)?.unwrap_or_default();
    let labels = labels_of(b)?.unwrap_or_default().join(",");
    let db = call.db().await?;
    let saved = content::save_draft(
        &db,
        viewer,
        &content::DraftInput {
            draft_id: None,
            page_id: None,
            space_key: space,
            content_type: kind,
            parent_id: if kind == ContentType::Page {
                first_ancestor(b)?
            } else {
                None
            },
            title: str_at(b, "title")?.unwrap_or(""),
            body: &body,
            format: "storage",
            base_version: None,
            labels: &labels,
        },
    )
    .await?;
    draft_answer(&db, call, me, saved, expand).await
}

/// `PUT /content/{id}` with `status: draft`: saves the caller's draft of
/// page `id` (started from its current version) or of the new page whose
/// draft `id` is; what the request leaves out is kept.
pub(super) async fn draft_update(on: &On, id: i64, b: &Value, expand: &Expand) -> Api {
    let viewer = &on.viewer;
    let me = viewer.require_user()?;
    let db = on.db().await?;
    let existing = content::draft(&db, viewer, id).await.ok();
    let page = match &existing {
        Some(d) if d.page_id.is_none() => None,
        _ => Some(on.visible(&db).await?),
    };
    let body = match storage_body(b)? {
        Some(v) => v,
        None => match (&existing, &page) {
            (Some(d), _) => d.storage_body(),
            (None, Some(p)) => p.body.clone(),
            (None, None) => String::new(),
        },
    };
    let title = match str_at(b, "title")? {
        Some(t) => t.to_owned(),
        None => match (&existing, &page) {
            (Some(d), _) => d.title.clone(),
            (None, Some(p)) => p.title.clone(),
            (None, None) => String::new(),
        },
    };
    let (kind, space_key, parent, labels) = match (&existing, &page) {
        (_, Some(p)) => (p.content_type, p.space_key.clone(), None, String::new()),
        (Some(d), None) => (
            d.content_type,
            d.space_key.clone(),
            first_ancestor(b)?.or(d.parent_id),
            labels_of(b)?
                .map(|l| l.join(","))
                .unwrap_or_else(|| d.labels.clone()),
        ),
        (None, None) => return Err(content::draft_not_found(id)),
    };
    let saved = content::save_draft(
        &db,
        viewer,
        &content::DraftInput {
            draft_id: page.is_none().then_some(id),
            page_id: page.as_ref().map(|p| p.id),
            space_key: &space_key,
            content_type: kind,
            parent_id: parent,
            title: &title,
            body: &body,
            format: "storage",
            base_version: None,
            labels: &labels,
        },
    )
    .await?;
    draft_answer(&db, on, me, saved, expand).await
}

/// The saved draft as content of status `draft`; a draft equal to the page
/// is no draft (the page is answered).
async fn draft_answer(
    db: &deadpool_postgres::Object,
    call: &Call,
    me: &crate::perms::User,
    saved: content::DraftSaved,
    expand: &Expand,
) -> Api {
    let c = match saved {
        content::DraftSaved::Saved(d) => d.as_content(me),
        content::DraftSaved::SameAsPage => {
            return Err(Error::BadRequest(
                "the draft equals the published page: there is nothing to save".into(),
            ))
        }
        content::DraftSaved::Published(id) => {
            return Err(Error::Conflict(format!(
                "the draft {id} has been published; update the page instead"
            )))
        }
    };
    ok(json::content(db, &call.viewer, &c, expand, &call.app).await?)
}

/// `PUT /content/{id}` publishing the caller's new-page draft `d`: the page
/// (version 1) gets the draft's id; the request's fields win over the draft's.
pub(super) async fn publish_new_draft(
    on: &On,
    db: &mut deadpool_postgres::Object,
    d: content::Draft,
    number: i32,
    b: &Value,
    expand: &Expand,
) -> Api {
    if number != 1 {
        return Err(Error::Conflict(format!(
            "Version must be incremented on update. Current version is: 0 (publish the draft {} as version 1)",
            d.id
        )));
    }
    let viewer = &on.viewer;
    let title = match str_at(b, "title")? {
        Some(t) => t.to_owned(),
        None => d.title.clone(),
    };
    let body = match storage_body(b)? {
        Some(v) => v,
        None => d.storage_body(),
    };
    let labels = match labels_of(b)? {
        Some(l) => l,
        None => d
            .labels
            .split([',', ' '])
            .filter(|l| !l.trim().is_empty())
            .map(str::to_owned)
            .collect(),
    };
    let space_key = match str_at(b, "space.key")? {
        Some(k) => k.to_owned(),
        None => d.space_key.clone(),
    };
    let parent = match d.content_type {
        ContentType::Page => first_ancestor(b)?.or(d.parent_id),
        _ => None,
    };
    let c = content::create_with(
        db,
        viewer,
        content::NewContent {
            content_type: d.content_type,
            space_key: &space_key,
            title: &title,
            body: &body,
            parent_id: parent,
            message: str_at(b, "version.message")?.unwrap_or(""),
            labels: &labels,
            posting_day: None,
        },
        Some(d.id),
    )
    .await?;
    ok(json::content(&*db, viewer, &c, expand, &on.app).await?)
}
