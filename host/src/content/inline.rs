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

/// Resolves (`true`) or reopens an inline comment thread.
pub(crate) async fn set_resolution(
    db: &impl GenericClient,
    viewer: &Viewer,
    comment_id: i64,
    resolved: bool,
) -> Result<Inline> {
    let user = viewer.require_user()?.clone();
    let c = get(db, viewer, comment_id).await?;
    viewer
        .require_space_perm(db, c.space_id, SpacePerm::Comment)
        .await?;
    let n = crate::db::execute(
        db,
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
    inline_of(db, comment_id)
        .await?
        .ok_or_else(|| not_found(comment_id))
}
