//! Inline comments: a comment anchored to text of its page by a marker
//! (`ac:inline-comment-marker ac:ref`), with a resolution (open, resolved,
//! reopened), as Confluence stores them — so imported pages keep theirs.
//!
//! Invariants: a comment is inline from its creation (the marker is written
//! in the comment's own transaction) and a reply to an inline comment is
//! inline with the same marker; resolving needs the comment permission of
//! the space, like commenting; reads go through the comment's visibility.

use super::*;

/// What an inline comment is created with.
#[derive(Debug, Clone)]
pub(crate) struct InlineProps {
    pub marker_ref: String,
    pub original_selection: String,
}

impl InlineProps {
    /// Checks the marker reference (Confluence uses a UUID; any 1–100
    /// letters, digits, `-` or `_` are accepted).
    pub(crate) fn validate(&self) -> Result<()> {
        let r = &self.marker_ref;
        if r.is_empty()
            || r.len() > 100
            || !r
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(Error::BadRequest(
                "extensions.inlineProperties.markerRef must be 1-100 letters, digits, - or _"
                    .into(),
            ));
        }
        if self.original_selection.chars().count() > 10_000 {
            return Err(Error::BadRequest(
                "extensions.inlineProperties.originalSelection is longer than 10000 characters"
                    .into(),
            ));
        }
        Ok(())
    }
}

/// An inline comment's anchor and state.
#[derive(Debug, Clone)]
pub(crate) struct Inline {
    pub marker_ref: String,
    pub original_selection: String,
    /// open, resolved or reopened.
    pub resolution: String,
    pub resolved_by: Option<Person>,
    pub resolved_at: Option<DateTime<Utc>>,
}

/// Comments on the text a reader selected: the page gets the marker around
/// it (a minor version by the commenter, as in Confluence the marker is part
/// of the body) and the comment is created with that marker, in one
/// transaction. Needs the comment permission only, like any comment;
/// retried when someone saves the page in between.
pub(crate) async fn add_inline_comment(
    db: &mut deadpool_postgres::Object,
    viewer: &Viewer,
    page_id: i64,
    selection: &Selection<'_>,
    body: &str,
    marker_ref: Option<&str>,
) -> Result<Content> {
    let user = viewer.require_user()?.clone();
    if body.trim().is_empty() {
        return Err(Error::BadRequest("a comment must not be empty".into()));
    }
    validate_body(body)?;
    let marker_ref = marker_ref.map(str::to_owned).unwrap_or_else(new_marker_ref);
    let props = InlineProps {
        marker_ref: marker_ref.clone(),
        original_selection: selection.text.trim().chars().take(10_000).collect(),
    };
    props.validate()?;
    for _ in 0..8 {
        let page = get(&*db, viewer, page_id).await?;
        if !matches!(page.content_type, ContentType::Page | ContentType::BlogPost) {
            return Err(Error::BadRequest(
                "inline comments belong to pages and blog posts".into(),
            ));
        }
        viewer
            .require_space_perm(&*db, page.space_id, SpacePerm::Comment)
            .await?;
        let marked = super::markers::wrap_selection(&page.body, selection, &marker_ref)
            .map_err(|e| Error::BadRequest(e.to_string()))?;
        validate_body(&marked)?;
        let tx = db.transaction().await?;
        let row = tx
            .query_opt(
                "UPDATE content SET version = version + 1, body = $3, modifier_id = $4, modified_at = now()
                 WHERE id = $1 AND version = $2 AND status = 'current' RETURNING version",
                &[&page_id, &page.version, &marked, &user.id],
            )
            .await?;
        let Some(row) = row else {
            // Saved in between: anchor in the new version instead.
            continue;
        };
        let version: i32 = row.get(0);
        tx.execute(
            "INSERT INTO content_versions (content_id, version, title, body, author_id, message, minor_edit)
             VALUES ($1, $2, $3, $4, $5, 'Inline comment added', true)",
            &[&page_id, &version, &page.title, &marked, &user.id],
        )
        .await?;
        journal(&tx, page_id, "updated").await?;
        let id =
            super::comments::insert_comment(&tx, &page, user.id, None, body, Some(&props)).await?;
        tx.commit().await?;
        return get(&*db, viewer, id).await;
    }
    Err(Error::Conflict(
        "the page is being changed by many people right now; retry".into(),
    ))
}

/// A marker reference as Confluence makes them (a random UUID).
fn new_marker_ref() -> String {
    let b: [u8; 16] = rand::random();
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-4{}-a{}-{}",
        &h[..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

/// Whether the page body still holds the text an inline comment is on (a
/// comment whose text was deleted is shown among the page comments).
pub(crate) fn anchored(page_body: &str, marker_ref: &str) -> bool {
    page_body.contains(&format!("ac:ref=\"{marker_ref}\""))
}

/// Writes the inline row of a new comment (in its transaction): its own
/// props, or those of the inline comment it replies to.
pub(super) async fn record_inline(
    tx: &impl GenericClient,
    comment_id: i64,
    reply_to: Option<i64>,
    props: Option<&InlineProps>,
) -> Result<()> {
    match props {
        Some(p) => {
            crate::db::execute(
                tx,
                "INSERT INTO inline_comments (comment_id, marker_ref, original_selection) VALUES ($1, $2, $3)",
                &[&comment_id, &p.marker_ref, &p.original_selection],
            )
            .await?;
        }
        None => {
            crate::db::execute(
                tx,
                "INSERT INTO inline_comments (comment_id, marker_ref, original_selection)
                 SELECT $1, marker_ref, original_selection FROM inline_comments WHERE comment_id = $2",
                &[&comment_id, &reply_to],
            )
            .await?;
        }
    }
    Ok(())
}

/// The inline state of a comment, if it is inline (the caller has read the
/// comment as its viewer).
pub(crate) async fn inline_of(db: &impl GenericClient, comment_id: i64) -> Result<Option<Inline>> {
    Ok(crate::db::query_opt(
        db,
        "SELECT i.marker_ref, i.original_selection, i.resolution, i.resolved_at,
                u.username, u.display_name, u.user_key
         FROM inline_comments i LEFT JOIN users u ON u.id = i.resolved_by WHERE i.comment_id = $1",
        &[&comment_id],
    )
    .await?
    .map(|r| Inline {
        marker_ref: r.get(0),
        original_selection: r.get(1),
        resolution: r.get(2),
        resolved_at: r.get(3),
        resolved_by: r.get::<_, Option<String>>(4).map(|username| Person {
            username,
            display_name: r.get(5),
            user_key: r.get(6),
        }),
    }))
}

/// The inline state of each of `ids` that is inline (comments the caller
/// has read as its viewer), in one query.
pub(crate) async fn inline_states(
    db: &impl GenericClient,
    ids: &[i64],
) -> Result<std::collections::HashMap<i64, Inline>> {
    Ok(crate::db::query(
        db,
        "SELECT i.comment_id, i.marker_ref, i.original_selection, i.resolution, i.resolved_at,
                u.username, u.display_name, u.user_key
         FROM inline_comments i LEFT JOIN users u ON u.id = i.resolved_by WHERE i.comment_id = ANY($1)",
        &[&ids],
    )
    .await?
    .iter()
    .map(|r| {
        (
            r.get(0),
            Inline {
                marker_ref: r.get(1),
                original_selection: r.get(2),
                resolution: r.get(3),
                resolved_at: r.get(4),
                resolved_by: r.get::<_, Option<String>>(5).map(|username| Person {
                    username,
                    display_name: r.get(6),
                    user_key: r.get(7),
                }),
            },
        )
    })
    .collect())
}

/// Resolves (`true`) or reopens an inline comment thread.
pub(crate) async fn set_resolution(
    db: &mut deadpool_postgres::Object,
    viewer: &Viewer,
    comment_id: i64,
    resolved: bool,
) -> Result<Inline> {
    let user = viewer.require_user()?.clone();
    let c = get(&*db, viewer, comment_id).await?;
    viewer
        .require_space_perm(&*db, c.space_id, SpacePerm::Comment)
        .await?;
    let tx = db.transaction().await?;
    // Read under the row's lock: of two resolves at once, one sees it open.
    let was: Option<String> = crate::db::query_opt(
        &tx,
        "SELECT resolution FROM inline_comments WHERE comment_id = $1 FOR UPDATE",
        &[&comment_id],
    )
    .await?
    .map(|r| r.get(0));
    let n = crate::db::execute(
        &tx,
        "UPDATE inline_comments SET
             resolution = CASE WHEN $2 THEN 'resolved' ELSE 'reopened' END,
             resolved_by = CASE WHEN $2 THEN $3::bigint END,
             resolved_at = CASE WHEN $2 THEN now() END
         WHERE comment_id = $1",
        &[&comment_id, &resolved, &user.id],
    )
    .await?;
    if n == 0 {
        return Err(Error::BadRequest(format!(
            "comment {comment_id} is not an inline comment"
        )));
    }
    // The thread's people hear of a resolution (not of a reopening).
    if resolved && was.is_some_and(|w| w != "resolved") {
        crate::notify::outbox::record(
            &tx,
            &crate::notify::Event {
                kind: crate::notify::Kind::Resolved,
                page_id: c.container_id.unwrap_or(c.id),
                subject_id: Some(comment_id),
                version: c.version,
                actor_id: user.id,
                message: String::new(),
                minor_edit: false,
                reply_to: None,
            },
        )
        .await?;
    }
    tx.commit().await?;
    inline_of(&*db, comment_id)
        .await?
        .ok_or_else(|| not_found(comment_id))
}
