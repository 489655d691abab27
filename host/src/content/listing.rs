//! Filtered, paged lists of content (REST's `/content` and CQL-free listings).
//!
//! Invariant: the permission filter is part of the SQL, so `start` and `limit` count
//! only rows the viewer may see.

use super::*;

/// The statuses a list holds, as Confluence's `status` parameter names them.
#[derive(Default, Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum ListStatus {
    /// `current` (the default).
    #[default]
    Current,
    /// `trashed`.
    Trashed,
    /// `any`: current and trashed.
    Any,
    /// `historical`: every version but the latest of current content, as
    /// content objects of that version (status `historical`).
    Historical,
}

/// Every version but the latest, in [`CONTENT_SELECT`]'s columns: the
/// version's title, body, author and date over the content's row.
const HISTORICAL_SELECT: &str = "
SELECT c.id, c.content_type, c.space_id, s.space_key, s.name AS space_name, c.parent_id,
       c.container_id, c.ancestors, c.position, 'historical' AS status, v.title, v.version, v.body,
       cu.username AS c_user, cu.display_name AS c_name, cu.user_key AS c_key, c.created_at,
       mu.username AS m_user, mu.display_name AS m_name, mu.user_key AS m_key,
       v.created_at AS modified_at, c.posting_day, v.message AS v_message, v.minor_edit AS v_minor
FROM content c JOIN spaces s ON s.id = c.space_id
JOIN content_versions v ON v.content_id = c.id AND v.version < c.version
LEFT JOIN users cu ON cu.id = c.creator_id
LEFT JOIN users mu ON mu.id = v.author_id";

/// What [`list`] returns; every field narrows the result.
#[derive(Default)]
pub(crate) struct ListFilter<'a> {
    pub space_id: Option<i64>,
    /// Empty = pages and blog posts.
    pub types: Vec<ContentType>,
    /// Exact title (case-insensitive, as titles are unique that way).
    pub title: Option<&'a str>,
    pub posting_day: Option<NaiveDate>,
    /// Direct child pages of this page.
    pub parent: Option<i64>,
    /// Pages at the root of the space only.
    pub root_only: bool,
    /// Comments or attachments of this content.
    pub container: Option<i64>,
    /// Every page below this one.
    pub descendant_of: Option<i64>,
    pub label: Option<&'a str>,
    pub media_type: Option<&'a str>,
    /// Which statuses (Confluence's `status` parameter).
    pub status: ListStatus,
    /// Comments only: `inline`, `footer` (not inline) or `resolved`
    /// (inline and resolved), as Confluence's `location` parameter.
    pub comment_location: Option<&'a str>,
}

/// A page of content the viewer may view, filtered in SQL (so `start` and
/// `limit` count only visible rows). Returns the rows and whether more exist.
pub(crate) async fn list(
    db: &impl GenericClient,
    viewer: &Viewer,
    f: &ListFilter<'_>,
    start: i64,
    limit: i64,
) -> Result<(Vec<Content>, bool)> {
    use tokio_postgres::types::ToSql;
    let types: Vec<&str> = if f.types.is_empty() {
        vec!["page", "blogpost"]
    } else {
        f.types.iter().map(|t| t.as_str()).collect()
    };
    let title = f.title.map(str::to_lowercase);
    let mut params: Vec<Box<dyn ToSql + Sync + Send>> = vec![
        Box::new(viewer.user_id()),
        Box::new((*viewer.groups).clone()),
        Box::new((*viewer.view_spaces).clone()),
        Box::new(types),
        Box::new(match f.status {
            ListStatus::Current | ListStatus::Historical => vec!["current"],
            ListStatus::Trashed => vec!["trashed"],
            ListStatus::Any => vec!["current", "trashed"],
        }),
    ];
    let mut conds = vec![
        Viewer::content_filter(1, 2, 3),
        "c.content_type = ANY($4)".to_owned(),
        "c.status = ANY($5)".to_owned(),
    ];
    type Params = Vec<Box<dyn ToSql + Sync + Send>>;
    fn add(
        cond: &str,
        p: Box<dyn ToSql + Sync + Send>,
        params: &mut Params,
        conds: &mut Vec<String>,
    ) {
        params.push(p);
        conds.push(cond.replace('?', &format!("${}", params.len())));
    }
    if let Some(s) = f.space_id {
        add("c.space_id = ?", Box::new(s), &mut params, &mut conds);
    }
    if let Some(t) = title {
        add("lower(c.title) = ?", Box::new(t), &mut params, &mut conds);
    }
    if let Some(d) = f.posting_day {
        add("c.posting_day = ?", Box::new(d), &mut params, &mut conds);
    }
    if let Some(p) = f.parent {
        add("c.parent_id = ?", Box::new(p), &mut params, &mut conds);
    }
    if f.root_only {
        conds.push("c.parent_id IS NULL AND c.content_type = 'page'".into());
    }
    if let Some(p) = f.container {
        add("c.container_id = ?", Box::new(p), &mut params, &mut conds);
    }
    match f.comment_location {
        Some("inline") => conds.push(
            "EXISTS (SELECT 1 FROM inline_comments i WHERE i.comment_id = c.id)".into(),
        ),
        Some("footer") => conds.push(
            "NOT EXISTS (SELECT 1 FROM inline_comments i WHERE i.comment_id = c.id)".into(),
        ),
        Some("resolved") => conds.push(
            "EXISTS (SELECT 1 FROM inline_comments i WHERE i.comment_id = c.id AND i.resolution = 'resolved')"
                .into(),
        ),
        _ => {}
    }
    if let Some(p) = f.descendant_of {
        add(
            "? = ANY(c.ancestors) AND c.content_type = 'page'",
            Box::new(p),
            &mut params,
            &mut conds,
        );
    }
    if let Some(l) = f.label {
        add(
            "EXISTS (SELECT 1 FROM labels l WHERE l.content_id = c.id AND l.name = lower(?))",
            Box::new(l.to_owned()),
            &mut params,
            &mut conds,
        );
    }
    if let Some(m) = f.media_type {
        add(
            "EXISTS (SELECT 1 FROM content_versions v WHERE v.content_id = c.id AND v.version = c.version AND v.media_type = ?)",
            Box::new(m.to_owned()),
            &mut params,
            &mut conds,
        );
    }
    let order = if f.container.is_some() && f.types == [ContentType::Attachment] {
        "lower(c.title), c.id"
    } else if f.container.is_some() {
        "c.created_at, c.id"
    } else if f.parent.is_some() || f.root_only || f.descendant_of.is_some() {
        "c.position, lower(c.title), c.id"
    } else if f.status == ListStatus::Historical {
        "c.id, v.version DESC"
    } else {
        "c.id"
    };
    let select = if f.status == ListStatus::Historical {
        HISTORICAL_SELECT
    } else {
        CONTENT_SELECT
    };
    params.push(Box::new(start.max(0)));
    let off = params.len();
    params.push(Box::new(limit.max(0) + 1));
    let lim = params.len();
    let sql = format!(
        "{select} WHERE {} ORDER BY {order} OFFSET ${off} LIMIT ${lim}",
        conds.join(" AND ")
    );
    let refs: Vec<&(dyn ToSql + Sync)> =
        params.iter().map(|p| &**p as &(dyn ToSql + Sync)).collect();
    let rows = crate::db::query(db, &sql, &refs).await?;
    let mut out: Vec<Content> = rows.iter().map(content_from).collect();
    let more = out.len() as i64 > limit;
    out.truncate(limit.max(0) as usize);
    Ok((out, more))
}
